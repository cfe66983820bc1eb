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
#include "warden/text.h"

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

/* --- "did you mean" for a focus that matched nothing --- */

struct near {
	const char *s;   /* what to suggest: a path, a directory (a prefix of a path) or a name */
	size_t len;
	size_t dist;
};

/* Is c[0..cl) nearer to the focus than the best so far? Then suggest r[0..rl). */
static void near_try(struct near *b, const char *focus, size_t fl, const char *c, size_t cl,
                     const char *r, size_t rl)
{
	size_t d;

	/* lengths further apart than the best distance cannot beat it */
	if ((cl > fl ? cl - fl : fl - cl) > b->dist || cl >= 64)
		return;
	d = wd_edit_distance(c, cl, focus);
	/* on a tie the shorter one: dif.c is diff.c rather than builtin/diff.c */
	if (d > 0 && (d < b->dist || (d == b->dist && (!b->s || rl < b->len)))) {
		b->s = r;
		b->len = rl;
		b->dist = d;
	}
}

int wd_map_focus_near(wd_buf *out, const wd_map *m, const char *focus)
{
	size_t fl = strlen(focus);
	char f[64];
	int pathlike = strchr(focus, '/') || strchr(focus, '.');
	struct near b = { NULL, 0, 0 };

	wd_buf_clear(out);
	while (fl > 1 && focus[fl - 1] == '/')
		fl--; /* "src/contxt/" is the directory src/contxt */
	if (!fl || fl >= sizeof(f))
		return 0;
	memcpy(f, focus, fl);
	f[fl] = '\0';
	/* a plausible typo: at most 2 + len/4 edits, len counted in the last part of a
	 * path (src/nope.c is no typo of src/main.c, however much of the path they share) */
	b.dist = 2 + (fl - (strrchr(f, '/') ? (size_t)(strrchr(f, '/') + 1 - f) : 0)) / 4;
	for (size_t i = 0; i < m->nfiles; i++) {
		const char *p = m->files[i].path, *base = strrchr(p, '/');
		size_t pl = strlen(p);

		near_try(&b, f, fl, p, pl, p, pl);
		/* every directory of the path */
		for (const char *s = strchr(p, '/'); s; s = strchr(s + 1, '/'))
			near_try(&b, f, fl, p, (size_t)(s - p), p, (size_t)(s - p));
		/* a bare file name is any file of that base name: suggest its whole path */
		if (!strchr(f, '/') && base)
			near_try(&b, f, fl, base + 1, strlen(base + 1), p, pl);
	}
	/* an identifier: the defined names (a path wins a tie: it was looked at first);
	 * a focus with a '.' is a name only where names have dots (Python's a.b) */
	for (size_t id = 0; !strchr(f, '/') && id < m->names.n; id++) {
		const char *nm = m->names.strs[id];

		if (m->info[id].defs.n && (!pathlike || strchr(nm, '.')))
			near_try(&b, f, fl, nm, strlen(nm), nm, strlen(nm));
	}
	return b.s ? wd_buf_put(out, b.s, b.len) : 0;
}
