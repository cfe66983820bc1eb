/*
 * Map queries that resolve what a ticket says to what the map holds: a
 * name the ticket writes without its prefix or suffix (`setbytes` for
 * m_setbytes), and every definition of one file with its rank.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "warden/error.h"

#include "map_int.h"

/* Is `tok` a whole '_'-separated part at the start or the end of `name`, or
 * `name` itself but for case (`SetBytes` for setbytes)? */
static int name_like(const char *name, const char *tok, size_t tl)
{
	size_t nl = strlen(name);

	if (nl == tl)
		return !strcasecmp(name, tok);
	if (nl <= tl + 1)
		return 0;
	if (name[nl - tl - 1] == '_' && !memcmp(name + nl - tl, tok, tl))
		return 1;
	return name[tl] == '_' && !memcmp(name, tok, tl);
}

/* Is some definition of name `id` outside vendored code? */
static int defined_outside_vendored(const wd_map *m, size_t id)
{
	const struct nameinfo *ni = &m->info[id];

	for (size_t i = 0; i < ni->defs.n; i++)
		if (!m->files[ni->defs.v[i].file].vendored)
			return 1;
	return 0;
}

int wd_map_names_like(wd_strvec *out, const wd_map *m, const char *token, size_t max)
{
	size_t tl = strlen(token), found = 0;
	int rc;

	if (tl < 3)
		return 0;
	for (size_t id = 0; id < m->names.n && found < max; id++) {
		const char *name = m->names.strs[id];

		if (!m->info[id].defs.n || !strcmp(name, token) || !name_like(name, token, tl) ||
		    !defined_outside_vendored(m, id))
			continue;
		if (wd_strvec_contains(out, name))
			continue;
		if ((rc = wd_strvec_push(out, name)) != 0)
			return rc;
		found++;
	}
	return 0;
}

static const wd_map *sort_map; /* qsort has no context argument */

static int cmp_file_rank(const void *a, const void *b)
{
	double x = sort_map->frank[*(const uint32_t *)a], y = sort_map->frank[*(const uint32_t *)b];

	if (x != y)
		return x < y ? 1 : -1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

int wd_map_ranked_files(wd_strvec *out, const wd_map *m, size_t max)
{
	uint32_t *idx;
	size_t k = 0;
	int rc = 0;

	if (!m->ranked || !m->frank || !m->nfiles)
		return 0;
	if (!(idx = malloc(m->nfiles * sizeof(*idx))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->nfiles; i++)
		if (m->files[i].tags.ndefs && !m->files[i].vendored)
			idx[k++] = (uint32_t)i;
	/* one map ranks at a time in a process: the map is built and ranked by one caller */
	sort_map = m;
	qsort(idx, k, sizeof(*idx), cmp_file_rank);
	sort_map = NULL;
	for (size_t i = 0; i < k && i < max && !rc; i++)
		rc = wd_strvec_push(out, m->files[idx[i]].path);
	free(idx);
	return rc;
}

int wd_map_file_definitions(wd_map_def **out, size_t *n, const wd_map *m, const char *path)
{
	int fi = wd_map_file_index(m, path);
	const struct mfile *f;

	*out = NULL;
	*n = 0;
	if (fi < 0 || !m->files[fi].tags.ndefs)
		return 0;
	f = &m->files[fi];
	if (!(*out = calloc(f->tags.ndefs, sizeof(**out))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t d = 0; d < f->tags.ndefs; d++)
		wd_map_def_fill(&(*out)[d], m, (uint32_t)fi, (uint32_t)d);
	*n = f->tags.ndefs;
	return 0;
}
