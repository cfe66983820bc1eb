/*
 * The map's name index: every definition and reference of a name, in two
 * flat arrays (one slice per name, in file order) rather than millions of
 * small lists (the kernel has 3.5 million definitions), names numbered in
 * the order of their first definition. And its cache: building it was a
 * fifth of a warm map of git/git (14 ms, hashing and looking up 90,000
 * names), so a build with a cache saves it beside the tag pack and the next
 * one reads it (names, hashes and slices, checked) when it describes the
 * files' tags exactly, patches it in place when a few files changed but not
 * their names (below), or updates it when a few files changed, gone or came:
 * their slices drop out, their new tags go in where a whole build would put
 * them, and the names are put back in the order of their first definition.
 * A file that defines a name the saved index does not hold (whose
 * references in unchanged files it never kept) rebuilds it.
 *
 * The caller (map.c) maps the file (private, read-only) and writes what this
 * file gives it to save: a whole index, or the ranges of the mapping a patch
 * changed (this file makes those pages writable).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "warden/error.h"

#include "map_int.h"

/* More files changed, gone or new than this: a build costs less than an update. */
#define UPDATE_MAX 64

/*
 * The saved index, native byte order (a cache of this machine), after a
 * header of eight 64-bit words:
 *   files:  nfiles x idx_file   (every file of the map, in its order)
 *   names:  nnames x idx_name   (in id order; slices follow one another)
 *   defs:   ndefs x occ, refs: nrefs x occ
 *   strs:   strs_len bytes: NUL-terminated paths and names, zero-padded to 8
 * `sum` checks everything after the header. A file's tags are the same when
 * its path, blob id and counts are: a file without tags has no blob id here.
 */
static const char IDX_MAGIC[8] = { 'w', 'd', 'i', 'n', 'd', 'e', 'x', '1' };

struct idx_head {
	char magic[8];
	uint64_t nfiles, nnames, ndefs, nrefs, strs_len, sum, spare;
};

struct idx_file {
	uint32_t path;          /* offset in strs */
	uint32_t ndefs, nrefs;
	unsigned char oid[20];  /* the blob its tags are of; zeros when it has none */
};

struct idx_name {
	uint32_t str;           /* offset in strs */
	uint32_t hash;          /* its wd_strtab_hash */
	uint32_t ndefs, nrefs;  /* its slices' lengths */
};

/* The saved index, checked: every offset and occurrence within bounds. */
struct idx_view {
	const struct idx_file *files;
	const struct idx_name *names;
	const struct occ *defs, *refs;
	const char *strs;
	size_t nfiles, nnames, ndefs, nrefs, strs_len;
};

/* Damage, not tampering: a torn or cut file, a flipped bit. */
static uint64_t checksum(const char *p, size_t len)
{
	uint64_t a = 0x9e3779b97f4a7c15ull, b = 0xc2b2ae3d27d4eb4full, w;
	size_t i = 0;

	for (; i + 16 <= len; i += 16) {
		memcpy(&w, p + i, 8);
		a = (a ^ w) * 0x100000001b3ull;
		memcpy(&w, p + i + 8, 8);
		b = (b ^ w) * 0x100000001b3ull;
	}
	for (; i < len; i++)
		a = (a ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return a ^ (b >> 1) ^ len;
}

void wd_map__index_seal(char *p, size_t len)
{
	uint64_t sum;

	if (len < sizeof(struct idx_head))
		return;
	sum = checksum(p + sizeof(struct idx_head), len - sizeof(struct idx_head));
	memcpy(p + offsetof(struct idx_head, sum), &sum, sizeof(sum));
}

/* Is every definition of every file in exactly one name's slice? The
 * ranking and rendering count on it (one pick per definition). */
static int defs_once(const struct idx_view *v)
{
	size_t *base = malloc((v->nfiles + 1) * sizeof(*base));
	unsigned char *seen = calloc(v->ndefs ? v->ndefs : 1, 1);
	uint64_t total = 0;
	int rc = -1;

	if (!base || !seen)
		goto out;
	for (size_t i = 0; i < v->nfiles; i++) {
		base[i] = (size_t)total;
		total += v->files[i].ndefs;
	}
	if (total != v->ndefs)
		goto out;
	for (size_t i = 0; i < v->ndefs; i++) {
		const struct occ *o = &v->defs[i];
		size_t at;

		if (o->file >= v->nfiles || o->val >= v->files[o->file].ndefs)
			goto out;
		at = base[o->file] + o->val;
		if (seen[at])
			goto out;
		seen[at] = 1;
	}
	rc = 0;
out:
	free(base);
	free(seen);
	return rc;
}

/* Check the saved index p[0..len) and set v; -1 when it is damaged. */
static int view_open(struct idx_view *v, const char *p, size_t len)
{
	struct idx_head h;
	uint64_t body, nd = 0, nr = 0;
	const char *at;

	if (!p || len < sizeof(h))
		return -1;
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, IDX_MAGIC, sizeof(h.magic)) != 0 || h.nfiles > UINT32_MAX ||
	    h.nnames > UINT32_MAX || h.ndefs > UINT32_MAX || h.nrefs > UINT32_MAX ||
	    h.strs_len > UINT32_MAX || h.strs_len < 8 || h.strs_len % 8)
		return -1;
	body = h.nfiles * sizeof(struct idx_file) + h.nnames * sizeof(struct idx_name) +
	       (h.ndefs + h.nrefs) * sizeof(struct occ) + h.strs_len;
	if (body != len - sizeof(h) || checksum(p + sizeof(h), len - sizeof(h)) != h.sum)
		return -1;
	/* every section starts 8-aligned in a page-aligned mapping: the sizes above are 8s */
	at = p + sizeof(h);
	v->files = (const struct idx_file *)(const void *)at;
	at += h.nfiles * sizeof(struct idx_file);
	v->names = (const struct idx_name *)(const void *)at;
	at += h.nnames * sizeof(struct idx_name);
	v->defs = (const struct occ *)(const void *)at;
	at += h.ndefs * sizeof(struct occ);
	v->refs = (const struct occ *)(const void *)at;
	at += h.nrefs * sizeof(struct occ);
	v->strs = at;
	v->nfiles = (size_t)h.nfiles;
	v->nnames = (size_t)h.nnames;
	v->ndefs = (size_t)h.ndefs;
	v->nrefs = (size_t)h.nrefs;
	v->strs_len = (size_t)h.strs_len;
	/* every string ends within strs: its last byte is a NUL */
	if (v->strs[v->strs_len - 1] != '\0')
		return -1;
	for (size_t i = 0; i < v->nfiles; i++)
		if (v->files[i].path >= v->strs_len)
			return -1;
	for (size_t i = 0; i < v->nnames; i++) {
		const struct idx_name *n = &v->names[i];

		if (n->str >= v->strs_len || !n->ndefs)
			return -1;
		nd += n->ndefs;
		nr += n->nrefs;
	}
	if (nd != v->ndefs || nr != v->nrefs)
		return -1;
	for (size_t i = 0; i < v->nrefs; i++)
		if (v->refs[i].file >= v->nfiles)
			return -1;
	return defs_once(v);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The saved key of f: its counts, and its blob id when it has tags (the
 * zeros of "no tags" when its id is not one). */
static void file_key(struct idx_file *k, const struct mfile *f)
{
	memset(k, 0, sizeof(*k));
	if (!f->tags.ndefs && !f->tags.nrefs)
		return;
	k->ndefs = (uint32_t)f->tags.ndefs;
	k->nrefs = (uint32_t)f->tags.nrefs;
	for (int i = 0; i < 20; i++) {
		int hi = hexval(f->oid[2 * i]), lo = hi < 0 ? -1 : hexval(f->oid[2 * i + 1]);

		if (lo < 0) {
			memset(k->oid, 0, sizeof(k->oid));
			return;
		}
		k->oid[i] = (unsigned char)(hi << 4 | lo);
	}
}

/* Are f's tags those the saved file entry s was indexed with? */
static int same_tags(const struct idx_file *s, const struct mfile *f)
{
	struct idx_file k;
	static const unsigned char none[20];

	file_key(&k, f);
	if (k.ndefs != s->ndefs || k.nrefs != s->nrefs || memcmp(k.oid, s->oid, sizeof(k.oid)))
		return 0;
	/* tags whose blob id could not be read are never taken for saved ones */
	return (!k.ndefs && !k.nrefs) || memcmp(k.oid, none, sizeof(none)) != 0;
}

/* info[] and the slices over def_occ and ref_occ for the counts in info[].defs.n
 * and info[].refs.n; the counts are zeroed for the caller to fill again. */
static void lay_slices(wd_map *m)
{
	size_t doff = 0, roff = 0;

	for (size_t id = 0; id < m->names.n; id++) {
		m->info[id].defs.v = m->def_occ + doff;
		m->info[id].refs.v = m->ref_occ + roff;
		doff += m->info[id].defs.n;
		roff += m->info[id].refs.n;
		m->info[id].defs.n = 0;
		m->info[id].refs.n = 0;
	}
}

static int alloc_index(wd_map *m, size_t nnames, size_t ndefs, size_t nrefs)
{
	if (!(m->info = calloc(nnames ? nnames : 1, sizeof(*m->info))) ||
	    !(m->def_occ = malloc((ndefs ? ndefs : 1) * sizeof(struct occ))) ||
	    !(m->ref_occ = malloc((nrefs ? nrefs : 1) * sizeof(struct occ))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	m->ncap = nnames;
	return 0;
}

static void index_reset(wd_map *m);

/* --- a whole build --- */

struct index_job {
	wd_map *m;
	int64_t *ref_id;     /* per reference (all files, in order): name id or -1 */
	size_t *ref_base;    /* per file: index of its first reference in ref_id */
	size_t from, to;     /* files of this thread */
};

/* Look up the references of files [from, to): the table is only read. */
static void *find_refs(void *arg)
{
	struct index_job *ij = arg;
	const wd_map *m = ij->m;

	for (size_t fi = ij->from; fi < ij->to; fi++) {
		const struct mfile *f = &m->files[fi];

		for (size_t r = 0; r < f->tags.nrefs; r++) {
			const char *nm = f->tags.refs[r].name;

			ij->ref_id[ij->ref_base[fi] + r] = wd_strtab_find(&m->names, nm, strlen(nm));
		}
	}
	return NULL;
}

static int index_build(wd_map *m, unsigned nthreads)
{
	uint32_t *def_id = NULL;
	int64_t *ref_id = NULL;
	size_t *ref_base = NULL, ndefs = 0, nrefs = 0, k;
	struct index_job jobs[2];
	pthread_t th;
	int rc = 0, threaded = 0;

	for (size_t fi = 0; fi < m->nfiles; fi++) {
		ndefs += m->files[fi].tags.ndefs;
		nrefs += m->files[fi].tags.nrefs;
	}
	/* one element at least, never NULL, and zeroed (calloc: fresh pages at
	 * this size, free): the static analyser sees neither that the sums are
	 * the per-file counts added up nor the loops below filling them */
	if (!(def_id = calloc(ndefs ? ndefs : 1, sizeof(*def_id))) ||
	    !(ref_id = calloc(nrefs ? nrefs : 1, sizeof(*ref_id))) ||
	    !(ref_base = calloc(m->nfiles ? m->nfiles : 1, sizeof(*ref_base)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	/* definitions first: they make the names */
	k = 0;
	for (size_t fi = 0; fi < m->nfiles; fi++) {
		const struct mfile *f = &m->files[fi];

		for (size_t d = 0; d < f->tags.ndefs; d++, k++) {
			const char *nm = f->tags.defs[d].name;

			if ((rc = wd_strtab_intern(&m->names, nm, strlen(nm), &def_id[k])) != 0)
				goto out;
		}
	}
	/* then the references to names something defines (locals, fields and library
	 * names link no files), looked up on two threads when there are many */
	k = 0;
	for (size_t fi = 0; fi < m->nfiles; fi++) {
		ref_base[fi] = k;
		k += m->files[fi].tags.nrefs;
	}
	jobs[0] = (struct index_job){ m, ref_id, ref_base, 0, m->nfiles / 2 };
	jobs[1] = (struct index_job){ m, ref_id, ref_base, m->nfiles / 2, m->nfiles };
	if (nthreads > 1 && nrefs > 100000 && pthread_create(&th, NULL, find_refs, &jobs[1]) == 0)
		threaded = 1;
	find_refs(&jobs[0]);
	if (threaded)
		pthread_join(th, NULL);
	else
		find_refs(&jobs[1]);
	/* counts, then one slice per name in each flat array */
	if ((rc = alloc_index(m, m->names.n, ndefs, nrefs)) != 0)
		goto out;
	for (k = 0; k < ndefs; k++)
		m->info[def_id[k]].defs.n++;
	for (k = 0; k < nrefs; k++)
		if (ref_id[k] >= 0)
			m->info[ref_id[k]].refs.n++;
	lay_slices(m);
	k = 0;
	for (size_t fi = 0; fi < m->nfiles; fi++) {
		const struct mfile *f = &m->files[fi];

		for (size_t d = 0; d < f->tags.ndefs; d++, k++) {
			struct occlist *l = &m->info[def_id[k]].defs;

			l->v[l->n].file = (uint32_t)fi;
			l->v[l->n].val = (uint32_t)d;
			l->n++;
		}
		for (size_t r = 0; r < f->tags.nrefs; r++) {
			int64_t id = ref_id[ref_base[fi] + r];
			struct occlist *l;

			if (id < 0)
				continue;
			l = &m->info[id].refs;
			l->v[l->n].file = (uint32_t)fi;
			l->v[l->n].val = f->tags.refs[r].count;
			l->n++;
			m->stats.references++;
		}
	}
	m->stats.definitions = ndefs;
out:
	free(def_id);
	free(ref_id);
	free(ref_base);
	return rc;
}

/* --- the saved index, as it is --- */

/* The saved names, in their order, into the map's (borrowing) table. */
static int names_from_view(wd_strtab *t, const struct idx_view *v)
{
	int rc;

	if ((rc = wd_strtab_reserve(t, v->nnames)) != 0)
		return rc;
	for (size_t i = 0; i < v->nnames; i++)
		if ((rc = wd_strtab_add_hashed(t, v->strs + v->names[i].str, v->names[i].hash)) != 0)
			return rc;
	return 0;
}

/* Does the saved index describe m's files' tags exactly? */
static int view_current(const struct idx_view *v, const wd_map *m)
{
	if (v->nfiles != m->nfiles)
		return 0;
	for (size_t i = 0; i < m->nfiles; i++)
		if (!same_tags(&v->files[i], &m->files[i]) ||
		    strcmp(v->strs + v->files[i].path, m->files[i].path) != 0)
			return 0;
	return 1;
}

/* The index of the saved one: the occurrences stay in the mapping. */
static int index_take(wd_map *m, const struct idx_view *v)
{
	int rc;

	if ((rc = names_from_view(&m->names, v)) != 0)
		return rc;
	if (!(m->info = calloc(v->nnames ? v->nnames : 1, sizeof(*m->info))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	m->ncap = v->nnames;
	m->def_occ = (struct occ *)v->defs;
	m->ref_occ = (struct occ *)v->refs;
	m->occ_borrowed = 1;
	for (size_t id = 0, doff = 0, roff = 0; id < v->nnames; id++) {
		struct nameinfo *ni = &m->info[id];

		ni->defs.v = m->def_occ + doff;
		ni->defs.n = v->names[id].ndefs;
		ni->refs.v = m->ref_occ + roff;
		ni->refs.n = v->names[id].nrefs;
		doff += ni->defs.n;
		roff += ni->refs.n;
	}
	m->stats.definitions = v->ndefs;
	m->stats.references = v->nrefs;
	return 0;
}

/* --- the saved index, updated for the files that changed --- */

#define GONE UINT32_MAX

/* An occurrence of a saved name in a file that changed or came. */
struct fresh {
	uint32_t name;          /* saved name id */
	uint32_t file, val;     /* in the map */
};

static int cmp_fresh(const void *a, const void *b)
{
	const struct fresh *x = a, *y = b;

	if (x->name != y->name)
		return x->name < y->name ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->val < y->val ? -1 : x->val > y->val;
}

/* Where a definition stands in the order of names. */
static uint64_t def_key(uint32_t file, uint32_t d)
{
	return (uint64_t)file << 32 | d;
}

struct update {
	const struct idx_view *v;
	uint32_t *fmap;         /* saved file -> the map's, or GONE (gone or changed) */
	uint32_t *changed;      /* the map's files not in the saved index as they are */
	size_t nchanged;
	struct fresh *fd, *fr;  /* their definitions and references, by (name, file) */
	size_t nfd, nfr;
	size_t *fd0, *fr0;      /* per saved name: its first in fd, fr (nnames + 1) */
	uint64_t *key;          /* per saved name: its first definition now, or UINT64_MAX */
	uint32_t *order;        /* the names kept, in their new order */
	size_t nkept;
};

/* The saved files matched to the map's by path (both sorted): fmap and
 * `changed`. WD_ENOTFOUND when too many differ. */
static int match_files(struct update *u, const wd_map *m)
{
	const struct idx_view *v = u->v;
	size_t i = 0, j = 0, differ = 0;

	if (!(u->fmap = malloc((v->nfiles ? v->nfiles : 1) * sizeof(*u->fmap))) ||
	    !(u->changed = malloc((UPDATE_MAX + 1) * sizeof(*u->changed))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	while (i < v->nfiles || j < m->nfiles) {
		int c = i == v->nfiles ? 1 : j == m->nfiles ? -1
		        : strcmp(v->strs + v->files[i].path, m->files[j].path);

		if (c < 0) {
			u->fmap[i++] = GONE;
			differ++;
		} else if (c > 0 || !same_tags(&v->files[i], &m->files[j])) {
			if (c == 0)
				u->fmap[i++] = GONE;
			if (m->files[j].tags.ndefs || m->files[j].tags.nrefs)
				u->changed[u->nchanged++] = (uint32_t)j;
			j++;
			differ++;
		} else {
			u->fmap[i++] = (uint32_t)j++;
		}
		if (differ > UPDATE_MAX)
			return WD_ENOTFOUND;
	}
	return 0;
}

/* The changed files' definitions and references of saved names, grouped by
 * name. WD_ENOTFOUND when one defines a name the index does not hold. */
static int collect_fresh(struct update *u, const wd_map *m, const wd_strtab *saved)
{
	size_t nd = 0, nr = 0;

	for (size_t k = 0; k < u->nchanged; k++) {
		nd += m->files[u->changed[k]].tags.ndefs;
		nr += m->files[u->changed[k]].tags.nrefs;
	}
	if (!(u->fd = malloc((nd ? nd : 1) * sizeof(*u->fd))) ||
	    !(u->fr = malloc((nr ? nr : 1) * sizeof(*u->fr))) ||
	    !(u->fd0 = calloc(u->v->nnames + 1, sizeof(*u->fd0))) ||
	    !(u->fr0 = calloc(u->v->nnames + 1, sizeof(*u->fr0))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t k = 0; k < u->nchanged; k++) {
		uint32_t fi = u->changed[k];
		const wd_tagset *t = &m->files[fi].tags;

		for (size_t d = 0; d < t->ndefs; d++) {
			int64_t id = wd_strtab_find(saved, t->defs[d].name, strlen(t->defs[d].name));

			if (id < 0)
				return WD_ENOTFOUND;
			u->fd[u->nfd++] = (struct fresh){ (uint32_t)id, fi, (uint32_t)d };
		}
		for (size_t r = 0; r < t->nrefs; r++) {
			int64_t id = wd_strtab_find(saved, t->refs[r].name, strlen(t->refs[r].name));

			if (id >= 0)
				u->fr[u->nfr++] = (struct fresh){ (uint32_t)id, fi, t->refs[r].count };
		}
	}
	qsort(u->fd, u->nfd, sizeof(*u->fd), cmp_fresh);
	qsort(u->fr, u->nfr, sizeof(*u->fr), cmp_fresh);
	/* per name, where its run starts (counts, then running sums) */
	for (size_t k = 0; k < u->nfd; k++)
		u->fd0[u->fd[k].name + 1]++;
	for (size_t k = 0; k < u->nfr; k++)
		u->fr0[u->fr[k].name + 1]++;
	for (size_t id = 0; id < u->v->nnames; id++) {
		u->fd0[id + 1] += u->fd0[id];
		u->fr0[id + 1] += u->fr0[id];
	}
	return 0;
}

static const uint64_t *sort_keys; /* qsort has no context argument */
static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

static int cmp_by_key(const void *a, const void *b)
{
	uint64_t x = sort_keys[*(const uint32_t *)a], y = sort_keys[*(const uint32_t *)b];

	return x < y ? -1 : x > y;
}

/* Each saved name's first definition now, and the names that keep one in
 * that order: those whose saved first definition stays first keep their
 * order among themselves (the files keep theirs); the others are sorted
 * and merged in. */
static int order_names(struct update *u)
{
	const struct idx_view *v = u->v;
	uint32_t *moved = NULL;
	size_t nmoved = 0, nstay = 0, off = 0;

	if (!(u->key = malloc((v->nnames ? v->nnames : 1) * sizeof(*u->key))) ||
	    !(u->order = malloc((v->nnames ? v->nnames : 1) * sizeof(*u->order))) ||
	    !(moved = malloc((v->nnames ? v->nnames : 1) * sizeof(*moved))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t id = 0; id < v->nnames; id++) {
		const struct occ *d = v->defs + off;
		uint64_t first = UINT64_MAX, fresh = UINT64_MAX;
		int stays = 0;

		for (size_t k = 0; k < v->names[id].ndefs; k++)
			if (u->fmap[d[k].file] != GONE) {
				first = def_key(u->fmap[d[k].file], d[k].val);
				stays = k == 0;
				break;
			}
		off += v->names[id].ndefs;
		if (u->fd0[id] < u->fd0[id + 1])
			fresh = def_key(u->fd[u->fd0[id]].file, u->fd[u->fd0[id]].val);
		if (fresh < first) {
			first = fresh;
			stays = 0;
		}
		u->key[id] = first;
		if (first == UINT64_MAX)
			continue; /* defined nowhere now: out of the index */
		if (stays)
			u->order[nstay++] = (uint32_t)id;
		else
			moved[nmoved++] = (uint32_t)id;
	}
	pthread_mutex_lock(&sort_lock);
	sort_keys = u->key;
	qsort(moved, nmoved, sizeof(*moved), cmp_by_key);
	sort_keys = NULL;
	pthread_mutex_unlock(&sort_lock);
	/* merge from the back, in place: order[0..nstay) and moved[] into order[] */
	u->nkept = nstay + nmoved;
	for (size_t w = u->nkept, a = nstay, b = nmoved; b > 0; w--) {
		if (a > 0 && u->key[u->order[a - 1]] > u->key[moved[b - 1]])
			u->order[w - 1] = u->order[--a];
		else
			u->order[w - 1] = moved[--b];
	}
	free(moved);
	return 0;
}

/* Merge a saved slice (its files mapped, the gone left out) and a fresh run
 * (other files) into `out`, by file then value. */
static size_t merge_occ(struct occ *out, const struct occ *s, size_t ns, const uint32_t *fmap,
                        const struct fresh *f, size_t nf)
{
	size_t n = 0, i = 0, k = 0;

	for (;;) {
		while (i < ns && fmap[s[i].file] == GONE)
			i++;
		if (i == ns && k == nf)
			return n;
		if (k == nf || (i < ns && def_key(fmap[s[i].file], s[i].val) <
		                          def_key(f[k].file, f[k].val))) {
			out[n++] = (struct occ){ fmap[s[i].file], s[i].val };
			i++;
		} else {
			out[n++] = (struct occ){ f[k].file, f[k].val };
			k++;
		}
	}
}

/* The new index from the saved one and the fresh occurrences. */
static int index_merge(wd_map *m, const struct update *u)
{
	const struct idx_view *v = u->v;
	size_t *doff, *roff, nd = 0, nr = 0, sd = 0, sr = 0;
	int rc = 0;

	/* the saved slices' starts, and an upper bound of the new arrays' sizes */
	if (!(doff = malloc((v->nnames + 1) * sizeof(*doff))) ||
	    !(roff = malloc((v->nnames + 1) * sizeof(*roff)))) {
		free(doff);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	for (size_t id = 0; id < v->nnames; id++) {
		doff[id] = sd;
		roff[id] = sr;
		sd += v->names[id].ndefs;
		sr += v->names[id].nrefs;
	}
	doff[v->nnames] = sd;
	roff[v->nnames] = sr;
	if ((rc = alloc_index(m, u->nkept, sd + u->nfd, sr + u->nfr)) != 0 ||
	    (rc = wd_strtab_reserve(&m->names, u->nkept)) != 0)
		goto out;
	for (size_t k = 0; k < u->nkept; k++) {
		uint32_t id = u->order[k];
		struct nameinfo *ni = &m->info[k];

		if ((rc = wd_strtab_add_hashed(&m->names, v->strs + v->names[id].str,
		                               v->names[id].hash)) != 0)
			goto out;
		ni->defs.v = m->def_occ + nd;
		ni->defs.n = merge_occ(ni->defs.v, v->defs + doff[id], v->names[id].ndefs, u->fmap,
		                       u->fd + u->fd0[id], u->fd0[id + 1] - u->fd0[id]);
		ni->refs.v = m->ref_occ + nr;
		ni->refs.n = merge_occ(ni->refs.v, v->refs + roff[id], v->names[id].nrefs, u->fmap,
		                       u->fr + u->fr0[id], u->fr0[id + 1] - u->fr0[id]);
		nd += ni->defs.n;
		nr += ni->refs.n;
	}
	m->stats.definitions = nd;
	m->stats.references = nr;
out:
	free(doff);
	free(roff);
	return rc;
}

static void update_free(struct update *u)
{
	free(u->fmap);
	free(u->changed);
	free(u->fd);
	free(u->fr);
	free(u->fd0);
	free(u->fr0);
	free(u->key);
	free(u->order);
}

/* The saved index brought up to date; WD_ENOTFOUND when it cannot be. */
static int index_update(wd_map *m, const struct idx_view *v)
{
	struct update u;
	wd_strtab saved = WD_STRTAB_INIT;
	int rc;

	memset(&u, 0, sizeof(u));
	u.v = v;
	saved.borrow = 1;
	if ((rc = match_files(&u, m)) == 0 && (rc = names_from_view(&saved, v)) == 0 &&
	    (rc = collect_fresh(&u, m, &saved)) == 0 && (rc = order_names(&u)) == 0)
		rc = index_merge(m, &u);
	wd_strtab_free(&saved);
	update_free(&u);
	return rc;
}

/* --- the saved index, patched in place: files changed, names did not --- */

/*
 * The usual warm map after an edit: the same files, a few of them changed
 * where no definition or reference to a defined name came or went (a
 * comment, a function's body, a call more to a name the file already
 * calls). The index is then the saved one but for those files' blob ids
 * and reference counts: it is taken as it is, patched in the mapping (the
 * pages written are copied, the rest stays shared), and only the bytes
 * patched are written back, not the whole file.
 */

/* One patch: m->idx[off..off+len) was changed and is to be written back. */
static int patch_note(struct idx_patch *p, size_t off, size_t len)
{
	if (WD_ARRAY_RESERVE(p->v, p->cap, p->n + 1, 16) != 0)
		return WD_ENOMEM;
	p->v[p->n].off = off;
	p->v[p->n].len = len;
	p->n++;
	return 0;
}

/* Make m->idx[off..off+len) writable (its pages are copied when written). */
static int idx_writable(wd_map *m, size_t off, size_t len)
{
	uintptr_t a = (uintptr_t)(m->idx + off) & ~(uintptr_t)4095, e = (uintptr_t)(m->idx + off + len);

	return mprotect((void *)a, e - a, PROT_READ | PROT_WRITE) == 0 ? 0 : -1;
}

/* The saved definitions and references in the changed files, by file. */
struct shape {
	int32_t *slot;          /* per map file: its changed-file number, or -1 */
	size_t *def0;           /* per changed file: its first in def_name (nchanged + 1) */
	uint32_t *def_name;     /* the saved name of each of their definitions */
	struct sref {
		uint32_t name;
		uint32_t at;    /* index in the saved references */
		int seen;
	} *refs;                /* their saved references, by file then name */
	size_t *ref0;           /* per changed file: its first in refs (nchanged + 1) */
};

static int cmp_sref(const void *a, const void *b)
{
	const struct sref *x = a, *y = b;

	return x->name < y->name ? -1 : x->name > y->name;
}

static void shape_free(struct shape *sh)
{
	free(sh->slot);
	free(sh->def0);
	free(sh->def_name);
	free(sh->refs);
	free(sh->ref0);
}

/* Gather sh from the saved index (m's index is now its occurrences). */
static int shape_of(struct shape *sh, const wd_map *m, const struct idx_view *v,
                    const uint32_t *changed, size_t nchanged)
{
	size_t nd = 0, nr = 0;

	if (!(sh->slot = malloc((m->nfiles ? m->nfiles : 1) * sizeof(*sh->slot))) ||
	    !(sh->def0 = calloc(nchanged + 1, sizeof(*sh->def0))) ||
	    !(sh->ref0 = calloc(nchanged + 2, sizeof(*sh->ref0))))
		return WD_ENOMEM;
	for (size_t i = 0; i < m->nfiles; i++)
		sh->slot[i] = -1;
	for (size_t k = 0; k < nchanged; k++) {
		sh->slot[changed[k]] = (int32_t)k;
		sh->def0[k] = nd;
		nd += v->files[changed[k]].ndefs;
	}
	sh->def0[nchanged] = nd;
	/* counted, then placed (a counting sort by changed file) */
	for (size_t i = 0; i < v->nrefs; i++)
		if (sh->slot[v->refs[i].file] >= 0)
			sh->ref0[sh->slot[v->refs[i].file] + 2]++;
	for (size_t k = 0; k < nchanged; k++)
		sh->ref0[k + 2] += sh->ref0[k + 1];
	nr = sh->ref0[nchanged + 1];
	if (!(sh->def_name = calloc(nd ? nd : 1, sizeof(*sh->def_name))) ||
	    !(sh->refs = malloc((nr ? nr : 1) * sizeof(*sh->refs))))
		return WD_ENOMEM;
	for (size_t id = 0; id < m->names.n; id++) {
		const struct nameinfo *ni = &m->info[id];

		/* every definition is in one slice (defs_once): each is set once */
		for (size_t k = 0; k < ni->defs.n; k++)
			if (sh->slot[ni->defs.v[k].file] >= 0)
				sh->def_name[sh->def0[sh->slot[ni->defs.v[k].file]] + ni->defs.v[k].val] =
					(uint32_t)id;
		for (size_t k = 0; k < ni->refs.n; k++) {
			int32_t s = sh->slot[ni->refs.v[k].file];

			if (s >= 0)
				sh->refs[sh->ref0[s + 1]++] = (struct sref){
					(uint32_t)id, (uint32_t)(ni->refs.v + k - m->ref_occ), 0 };
		}
	}
	/* ref0[k + 1] is now the end of file k's: ref0[k] its start */
	for (size_t k = 0; k < nchanged; k++)
		qsort(sh->refs + sh->ref0[k], sh->ref0[k + 1] - sh->ref0[k], sizeof(*sh->refs), cmp_sref);
	return 0;
}

/* A reference count to change in the saved index. */
struct count_fix {
	uint32_t at;            /* index in the saved references */
	uint32_t val;
};

/* Do file fi's tags (changed file k) give the saved occurrences but for
 * reference counts? The counts that differ go to *fix. */
static int same_shape(wd_map *m, const struct shape *sh, size_t k, uint32_t fi,
                      struct count_fix **fix, size_t *nfix, size_t *capfix)
{
	const wd_tagset *t = &m->files[fi].tags;
	size_t seen = 0;

	for (size_t d = 0; d < t->ndefs; d++)
		if (strcmp(t->defs[d].name, m->names.strs[sh->def_name[sh->def0[k] + d]]) != 0)
			return 0;
	for (size_t r = 0; r < t->nrefs; r++) {
		int64_t id = wd_strtab_find(&m->names, t->refs[r].name, strlen(t->refs[r].name));
		struct sref key = { 0, 0, 0 }, *s;

		if (id < 0)
			continue;
		key.name = (uint32_t)id;
		s = bsearch(&key, sh->refs + sh->ref0[k], sh->ref0[k + 1] - sh->ref0[k],
		            sizeof(*sh->refs), cmp_sref);
		if (!s || s->seen)
			return 0;
		s->seen = 1;
		seen++;
		if (m->ref_occ[s->at].val == t->refs[r].count)
			continue;
		if (WD_ARRAY_RESERVE(*fix, *capfix, *nfix + 1, 16) != 0)
			return 0;
		(*fix)[(*nfix)++] = (struct count_fix){ s->at, t->refs[r].count };
	}
	return seen == sh->ref0[k + 1] - sh->ref0[k];
}

/* Write `len` bytes at m->idx + at, and note them to be written back. */
static int idx_put(wd_map *m, struct idx_patch *p, size_t at, const void *bytes, size_t len)
{
	if (idx_writable(m, at, len) != 0 || patch_note(p, at, len) != 0)
		return -1;
	memcpy(m->idx + at, bytes, len);
	return 0;
}

/* The saved index taken and patched for the changed files; WD_ENOTFOUND
 * (the mapping as it was) when their names changed: the caller updates or
 * builds the index instead. */
static int index_patch(wd_map *m, const struct idx_view *v, struct idx_patch *p)
{
	uint32_t changed[UPDATE_MAX];
	size_t nchanged = 0, nfix = 0, capfix = 0;
	struct count_fix *fix = NULL;
	struct shape sh;
	int rc;

	if (v->nfiles != m->nfiles)
		return WD_ENOTFOUND;
	for (size_t i = 0; i < m->nfiles; i++) {
		if (strcmp(v->strs + v->files[i].path, m->files[i].path) != 0)
			return WD_ENOTFOUND;
		if (same_tags(&v->files[i], &m->files[i]))
			continue;
		if (nchanged == UPDATE_MAX || m->files[i].tags.ndefs != v->files[i].ndefs)
			return WD_ENOTFOUND;
		changed[nchanged++] = (uint32_t)i;
	}
	memset(&sh, 0, sizeof(sh));
	if ((rc = index_take(m, v)) != 0 || (rc = shape_of(&sh, m, v, changed, nchanged)) != 0)
		goto out;
	for (size_t k = 0; k < nchanged; k++)
		if (!same_shape(m, &sh, k, changed[k], &fix, &nfix, &capfix)) {
			rc = WD_ENOTFOUND;
			goto out;
		}
	/* the counts, the files' keys, then the checksum of it all (written last);
	 * from here a failure leaves the mapping changed in part */
	rc = WD_EINFRA;
	for (size_t i = 0; i < nfix; i++) {
		size_t at = (size_t)((const char *)&m->ref_occ[fix[i].at].val - m->idx);

		if (idx_put(m, p, at, &fix[i].val, sizeof(fix[i].val)) != 0)
			goto out;
	}
	for (size_t k = 0; k < nchanged; k++) {
		size_t at = (size_t)((const char *)&v->files[changed[k]] - m->idx);
		struct idx_file key;

		file_key(&key, &m->files[changed[k]]);
		key.path = v->files[changed[k]].path;
		if (idx_put(m, p, at, &key, sizeof(key)) != 0)
			goto out;
	}
	if (idx_writable(m, 0, sizeof(struct idx_head)) != 0)
		goto out;
	wd_map__index_seal(m->idx, m->idx_len);
	rc = patch_note(p, 0, sizeof(struct idx_head)) ? WD_EINFRA : 0;
out:
	shape_free(&sh);
	free(fix);
	return rc;
}

/* --- saving --- */

/* The index to save: every file's key, then the names and their slices. */
static int index_dump(wd_buf *out, const wd_map *m)
{
	struct idx_head h;
	uint32_t *hash = NULL;
	size_t strs = 0, files_at, names_at, occ_at, strs_at, ndefs = 0, nrefs = 0;
	int rc = 0;

	for (size_t i = 0; i < m->nfiles; i++)
		strs += strlen(m->files[i].path) + 1;
	for (size_t id = 0; id < m->names.n; id++) {
		strs += strlen(m->names.strs[id]) + 1;
		ndefs += m->info[id].defs.n;
		nrefs += m->info[id].refs.n;
	}
	strs = (strs + 8) / 8 * 8; /* padded, and a NUL last */
	if (strs > UINT32_MAX)
		return wd_error_set(WD_EINPUT, "the name index is too large to save");
	if (!(hash = calloc(m->names.n ? m->names.n : 1, sizeof(*hash))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t s = 0; s < m->names.nslots; s++)
		if (m->names.slots[s])
			hash[m->names.slots[s] - 1] = m->names.hashes[s];
	files_at = sizeof(h);
	names_at = files_at + m->nfiles * sizeof(struct idx_file);
	occ_at = names_at + m->names.n * sizeof(struct idx_name);
	strs_at = occ_at + (ndefs + nrefs) * sizeof(struct occ);
	wd_buf_clear(out);
	if ((rc = wd_buf_grow(out, strs_at + strs)) != 0)
		goto out;
	memset(out->ptr, 0, strs_at + strs);
	{
		char *b = out->ptr, *s = b + strs_at;
		size_t so = 0, o = occ_at;

		for (size_t i = 0; i < m->nfiles; i++) {
			struct idx_file k;
			size_t l = strlen(m->files[i].path) + 1;

			file_key(&k, &m->files[i]);
			k.path = (uint32_t)so;
			memcpy(b + files_at + i * sizeof(k), &k, sizeof(k));
			memcpy(s + so, m->files[i].path, l);
			so += l;
		}
		for (size_t id = 0; id < m->names.n; id++) {
			const struct nameinfo *ni = &m->info[id];
			struct idx_name n = { (uint32_t)so, hash[id], (uint32_t)ni->defs.n,
				              (uint32_t)ni->refs.n };
			size_t l = strlen(m->names.strs[id]) + 1;

			memcpy(b + names_at + id * sizeof(n), &n, sizeof(n));
			memcpy(s + so, m->names.strs[id], l);
			so += l;
			memcpy(b + o, ni->defs.v, ni->defs.n * sizeof(struct occ));
			o += ni->defs.n * sizeof(struct occ);
		}
		for (size_t id = 0; id < m->names.n; id++) {
			const struct nameinfo *ni = &m->info[id];

			memcpy(b + o, ni->refs.v, ni->refs.n * sizeof(struct occ));
			o += ni->refs.n * sizeof(struct occ);
		}
		memset(&h, 0, sizeof(h));
		memcpy(h.magic, IDX_MAGIC, sizeof(h.magic));
		h.nfiles = m->nfiles;
		h.nnames = m->names.n;
		h.ndefs = ndefs;
		h.nrefs = nrefs;
		h.strs_len = strs;
		h.sum = checksum(b + sizeof(h), strs_at + strs - sizeof(h));
		memcpy(b, &h, sizeof(h));
		out->len = strs_at + strs;
		out->ptr[out->len] = '\0';
	}
out:
	free(hash);
	return rc;
}

/* Start again from nothing: an update that could not be done may have
 * filled part of the index. */
static void index_reset(wd_map *m)
{
	int borrow = m->names.borrow;

	wd_strtab_free(&m->names);
	m->names.borrow = borrow;
	free(m->info);
	m->info = NULL;
	if (!m->occ_borrowed) {
		free(m->def_occ);
		free(m->ref_occ);
	}
	m->def_occ = m->ref_occ = NULL;
	m->occ_borrowed = 0;
	m->stats.definitions = m->stats.references = 0;
}

int wd_map__index(wd_map *m, unsigned nthreads, wd_buf *save, struct idx_patch *patch)
{
	struct idx_view v;
	int rc = WD_ENOTFOUND;

	if (save)
		wd_buf_clear(save);
	m->stats.index_cache = WD_MAP_INDEX_BUILT;
	if (m->idx && view_open(&v, m->idx, m->idx_len) == 0) {
		if (view_current(&v, m)) {
			if ((rc = index_take(m, &v)) == 0) {
				m->stats.index_cache = WD_MAP_INDEX_READ;
				return 0;
			}
		} else {
			if (patch && (rc = index_patch(m, &v, patch)) == 0) {
				m->stats.index_cache = WD_MAP_INDEX_PATCHED;
				return 0;
			}
			if (patch)
				patch->n = 0;
			index_reset(m);
			/* names changed (the mapping as it was): an update; a patch that
			 * failed half done: a build */
			if ((!patch || rc == WD_ENOTFOUND) && (rc = index_update(m, &v)) == 0)
				m->stats.index_cache = WD_MAP_INDEX_UPDATED;
			else if (rc == WD_ENOMEM)
				return rc;
		}
		wd_error_clear();
	}
	if (rc) {
		index_reset(m);
		if ((rc = index_build(m, nthreads)) != 0)
			return rc;
	}
	if (save && index_dump(save, m) != 0) {
		wd_error_clear(); /* not saved: the next build builds it again */
		wd_buf_clear(save);
	}
	return 0;
}
