/*
 * Ranking the map (after Aider's repo map): a graph whose nodes are files,
 * with an edge A -> B for each name A references and B defines, weighted by
 * sqrt(number of references) and by how telling the name is; PageRank over it
 * personalised toward the focus; each file's rank then flows along its edges
 * to the definitions it points at. Rendering takes the best definitions that
 * fit the token budget and prints them grouped by file.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"

#include "map_int.h"

#define DAMPING 0.85
#define ITERATIONS 20
#define MAX_DEF_FILES 50     /* a name defined in more files links nothing useful */
#define MAX_EDGES_PER_NAME 200000

struct edge {
	uint32_t src, dst;
	uint32_t name;
	float w;        /* weight; divided by the source's total once collected */
};

/* How much a reference to `name` tells: long snake_case/camelCase names are
 * specific, _private and widely defined names are not. */
static double name_weight(const wd_map *m, const char *name, const struct nameinfo *ni,
                          size_t def_files)
{
	double mul = 1.0;
	size_t len = strlen(name);
	int snake = strchr(name, '_') != NULL, camel = 0;

	for (size_t i = 1; i < len; i++)
		if (name[i] >= 'A' && name[i] <= 'Z' && name[i - 1] >= 'a' && name[i - 1] <= 'z')
			camel = 1;
	if (ni->focus)
		mul *= 10.0;
	if (len >= 8 && (snake || camel))
		mul *= 10.0;
	if (name[0] == '_' || len <= 2)
		mul *= 0.1;
	if (def_files > 5)
		mul *= 0.1;
	(void)m;
	return mul;
}

static size_t distinct_def_files(const struct nameinfo *ni)
{
	size_t n = 0;

	/* defs are pushed in file order, so equal files are adjacent */
	for (size_t i = 0; i < ni->defs.n; i++)
		if (i == 0 || ni->defs.v[i].file != ni->defs.v[i - 1].file)
			n++;
	return n;
}

static int only_variables(const wd_map *m, const struct nameinfo *ni)
{
	for (size_t i = 0; i < ni->defs.n; i++)
		if (m->files[ni->defs.v[i].file].tags.defs[ni->defs.v[i].val].kind != WD_TAG_VARIABLE)
			return 0;
	return 1;
}

static int focus_matches_path(const char *focus, const char *path)
{
	size_t n = strlen(focus);

	while (n > 1 && focus[n - 1] == '/')
		n--;
	return !strncmp(focus, path, n) && (path[n] == '\0' || path[n] == '/');
}

/* Does the focus take file i into the ranking? */
static int takes_part(const wd_map *m, size_t i)
{
	return !m->files[i].vendored || m->files[i].focused;
}

/* One identifier of the focus: its defining files, the vendored ones only
 * when nothing else defines it. */
static void focus_name(wd_map *m, double *pers, struct nameinfo *ni)
{
	int own = 0;

	ni->focus = 1;
	for (size_t i = 0; i < ni->defs.n; i++)
		own |= !m->files[ni->defs.v[i].file].vendored;
	for (size_t i = 0; i < ni->defs.n; i++) {
		struct mfile *f = &m->files[ni->defs.v[i].file];

		if (own && f->vendored)
			continue;
		f->focused |= f->vendored;
		pers[ni->defs.v[i].file] += 1.0;
	}
}

static int set_personalisation(wd_map *m, double *pers, const char *const *focus)
{
	double total = 0;
	size_t parts = 0;

	for (size_t i = 0; i < m->names.n; i++)
		m->info[i].focus = 0;
	for (size_t i = 0; i < m->nfiles; i++)
		m->files[i].focused = 0;
	wd_strvec_free(&m->unmatched);
	for (size_t k = 0; focus && focus[k]; k++) {
		int64_t id = wd_strtab_find(&m->names, focus[k], strlen(focus[k]));
		int fi = wd_map_file_index(m, focus[k]), matched = 0;

		if (fi >= 0) {
			pers[fi] += 1.0;
			m->files[fi].focused = 1;
			matched = 1;
		} else if (strchr(focus[k], '/') || strchr(focus[k], '.')) {
			for (size_t i = 0; i < m->nfiles; i++)
				if (focus_matches_path(focus[k], m->files[i].path)) {
					pers[i] += 1.0;
					m->files[i].focused = 1;
					matched = 1;
				}
		}
		if (id >= 0 && m->info[id].defs.n) {
			focus_name(m, pers, &m->info[id]);
			matched = 1;
		} else if (id >= 0) {
			m->info[id].focus = 1; /* referenced only: its uses still weigh more */
		}
		if (!matched && wd_strvec_push(&m->unmatched, focus[k]) != 0)
			return WD_ENOMEM;
	}
	for (size_t i = 0; i < m->nfiles; i++) {
		if (!takes_part(m, i))
			pers[i] = 0;
		total += pers[i];
		parts += takes_part(m, i);
	}
	if (total == 0) {
		for (size_t i = 0; i < m->nfiles; i++)
			pers[i] = !parts ? 1.0 / (double)m->nfiles
			          : takes_part(m, i) ? 1.0 / (double)parts : 0;
		return 0;
	}
	for (size_t i = 0; i < m->nfiles; i++)
		pers[i] /= total;
	return 0;
}

/* Visit every (referencing file, defining file, weight) of a name. */
typedef int (*edge_fn)(void *ctx, uint32_t name, uint32_t src, uint32_t dst, double w);

static int for_each_edge(const wd_map *m, edge_fn fn, void *ctx)
{
	int rc;

	for (uint32_t id = 0; id < m->names.n; id++) {
		const struct nameinfo *ni = &m->info[id];
		size_t dfiles;
		double mul;

		if (!ni->defs.n || !ni->refs.n)
			continue;
		dfiles = distinct_def_files(ni);
		if (dfiles > MAX_DEF_FILES || dfiles * ni->refs.n > MAX_EDGES_PER_NAME)
			continue;
		/* a variable name defined in several files is a file-local (len, buf, ...):
		 * its uses elsewhere are other variables */
		if (dfiles > 1 && only_variables(m, ni))
			continue;
		mul = name_weight(m, m->names.strs[id], ni, dfiles);
		for (size_t r = 0; r < ni->refs.n; r++) {
			uint32_t src = ni->refs.v[r].file;
			double w = mul * sqrt((double)ni->refs.v[r].val);

			for (size_t d = 0; d < ni->defs.n; d++) {
				uint32_t dst = ni->defs.v[d].file;

				/* one edge per defining file; a file's own names are no link, nor
				 * is a name shared across languages (a Python `hlist_node` is not C's) */
				if ((d > 0 && dst == ni->defs.v[d - 1].file) || dst == src ||
				    m->files[dst].lang != m->files[src].lang || !takes_part(m, src) ||
				    !takes_part(m, dst))
					continue;
				if ((rc = fn(ctx, id, src, dst, w)) != 0)
					return rc;
			}
		}
	}
	return 0;
}

struct graph {
	struct edge *e;
	size_t n, cap;
	double *out;   /* total outgoing weight per file */
};

static int collect_edge(void *ctx, uint32_t name, uint32_t src, uint32_t dst, double w)
{
	struct graph *g = ctx;

	if (WD_ARRAY_RESERVE(g->e, g->cap, g->n + 1, 4096) != 0)
		return WD_ENOMEM;
	g->e[g->n].src = src;
	g->e[g->n].dst = dst;
	g->e[g->n].name = name;
	g->e[g->n].w = (float)w;
	g->n++;
	g->out[src] += w;
	return 0;
}

/* A file's rank flows along each edge to the definitions of that name in the
 * destination file, split among them. */
static void spread(wd_map *m, const struct edge *e)
{
	const struct nameinfo *ni = &m->info[e->name];
	double share = m->frank[e->src] * e->w;
	size_t k = 0;

	for (size_t d = 0; d < ni->defs.n; d++)
		k += ni->defs.v[d].file == e->dst;
	for (size_t d = 0; d < ni->defs.n; d++)
		if (ni->defs.v[d].file == e->dst)
			m->files[e->dst].drank[ni->defs.v[d].val] += share / (double)k;
}

/* One edge as its destination sees it. */
struct inflow {
	uint32_t src;
	float w;
};

int wd_map_rank(wd_map *m, const char *const *focus)
{
	struct graph g;
	struct inflow *in = NULL;
	size_t *in_off = NULL, *fill = NULL;
	double *pers = NULL, *next = NULL;
	uint64_t t0 = wd_now_ms();
	int rc;

	memset(&g, 0, sizeof(g));
	free(m->frank);
	m->frank = NULL;
	m->ranked = 0;
	if (!m->nfiles) {
		m->ranked = 1;
		return 0;
	}
	if (!(pers = calloc(m->nfiles, sizeof(double))) || !(next = calloc(m->nfiles, sizeof(double))) ||
	    !(g.out = calloc(m->nfiles, sizeof(double))) ||
	    !(m->frank = calloc(m->nfiles, sizeof(double)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = set_personalisation(m, pers, focus)) != 0 ||
	    (rc = for_each_edge(m, collect_edge, &g)) != 0)
		goto out;
	for (size_t k = 0; k < g.n; k++)
		g.e[k].w = (float)(g.e[k].w / g.out[g.e[k].src]);
	/* the edges by destination (a stable counting sort: each file's sum adds the
	 * same terms in the same order as a pass over the edges would), so an
	 * iteration sums each file's inflow in a register instead of through memory */
	if (!(in_off = calloc(m->nfiles + 1, sizeof(*in_off))) ||
	    !(fill = malloc(m->nfiles * sizeof(*fill))) || (g.n && !(in = calloc(g.n, sizeof(*in))))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < g.n; k++)
		in_off[g.e[k].dst + 1]++;
	for (size_t i = 0; i < m->nfiles; i++)
		in_off[i + 1] += in_off[i];
	memcpy(fill, in_off, m->nfiles * sizeof(*fill));
	for (size_t k = 0; k < g.n; k++)
		in[fill[g.e[k].dst]++] = (struct inflow){ g.e[k].src, g.e[k].w };
	memcpy(m->frank, pers, m->nfiles * sizeof(double));
	for (int it = 0; it < ITERATIONS; it++) {
		double dangling = 0, delta = 0;

		for (size_t i = 0; i < m->nfiles; i++) {
			double sum = 0;

			if (g.out[i] == 0)
				dangling += m->frank[i];
			for (size_t k = in_off[i]; k < in_off[i + 1]; k++)
				sum += m->frank[in[k].src] * in[k].w;
			next[i] = sum;
		}
		for (size_t i = 0; i < m->nfiles; i++) {
			double v = (1 - DAMPING) * pers[i] + DAMPING * (next[i] + dangling * pers[i]);

			delta += fabs(v - m->frank[i]);
			next[i] = v;
		}
		memcpy(m->frank, next, m->nfiles * sizeof(double));
		/* the order of the ranks settles long before their digits */
		if (delta < 1e-5)
			break;
	}
	for (size_t i = 0; i < m->nfiles; i++) {
		struct mfile *f = &m->files[i];

		free(f->drank);
		f->drank = NULL;
		if (!f->tags.ndefs)
			continue;
		if (!(f->drank = calloc(f->tags.ndefs, sizeof(double)))) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
		/* a small share of the file's own rank orders definitions nobody references */
		for (size_t d = 0; d < f->tags.ndefs; d++)
			f->drank[d] = 1e-3 * m->frank[i] / (double)f->tags.ndefs;
	}
	for (size_t k = 0; k < g.n; k++)
		spread(m, &g.e[k]);
	/* definitions the focus names come first, then the focused files' own */
	for (uint32_t id = 0; id < m->names.n; id++) {
		const struct nameinfo *ni = &m->info[id];

		if (!ni->focus)
			continue;
		for (size_t d = 0; d < ni->defs.n; d++)
			if (takes_part(m, ni->defs.v[d].file))
				m->files[ni->defs.v[d].file].drank[ni->defs.v[d].val] += 2.0;
	}
	for (size_t i = 0; i < m->nfiles; i++)
		for (size_t d = 0; m->files[i].focused && d < m->files[i].tags.ndefs; d++)
			m->files[i].drank[d] += 1.0;
	m->ranked = 1;
	m->stats.rank_ms = wd_now_ms() - t0;
out:
	free(pers);
	free(next);
	free(in);
	free(in_off);
	free(fill);
	free(g.e);
	free(g.out);
	return rc;
}

/* --- selection and rendering --- */

struct pick {
	uint32_t file, def;
	double rank;
};

static int cmp_pick_rank(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? 1 : -1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->def < y->def ? -1 : x->def > y->def;
}

/* Sort key within the output: file by its best rank (first seen), then line. */
struct placed {
	uint32_t order, file, def, line;
};

static int cmp_placed(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void sift_down(struct pick *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		struct pick t;

		/* the heap's top is the worst pick kept so far */
		if (l < n && cmp_pick_rank(&h[l], &h[w]) > 0)
			w = l;
		if (r < n && cmp_pick_rank(&h[r], &h[w]) > 0)
			w = r;
		if (w == i)
			return;
		t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

/* The best `limit` definitions (all when limit is 0), best first. A heap
 * keeps the selection O(n log limit): the kernel has millions of definitions
 * and a budget shows a few hundred. */
static int ranked_picks(struct pick **out, size_t *n, const wd_map *m, size_t limit)
{
	struct pick *p;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!m->ranked)
		return wd_error_set(WD_EUSAGE, "the map must be ranked before it is rendered");
	if (!m->stats.definitions)
		return 0;
	/* calloc: every pick is written below (stats.definitions is the sum of the
	 * files' ndefs), but zeroed memory keeps a broken count from reading garbage */
	if (!(p = calloc(m->stats.definitions, sizeof(*p))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->nfiles; i++)
		for (size_t d = 0; takes_part(m, i) && d < m->files[i].tags.ndefs; d++) {
			p[k].file = (uint32_t)i;
			p[k].def = (uint32_t)d;
			p[k].rank = m->files[i].drank[d];
			k++;
		}
	if (limit && limit < k) {
		for (size_t i = limit / 2 + 1; i-- > 0;)
			sift_down(p, limit, i);
		for (size_t i = limit; i < k; i++)
			if (cmp_pick_rank(&p[i], &p[0]) < 0) {
				p[0] = p[i];
				sift_down(p, limit, 0);
			}
		k = limit;
	}
	qsort(p, k, sizeof(*p), cmp_pick_rank);
	*out = p;
	*n = k;
	return 0;
}

/* How many picks a budget could ever show: no definition line is shorter than 8 bytes. */
static size_t pick_limit(size_t budget_tokens)
{
	return budget_tokens ? budget_tokens * 4 / 8 + 1 : 0;
}

/* The first `k` picks in output order. */
static int place(struct placed **out, const wd_map *m, const struct pick *p, size_t k)
{
	struct placed *v;
	uint32_t *order;
	uint32_t next = 0;

	*out = NULL;
	if (!k)
		return 0;
	if (!(v = malloc(k * sizeof(*v))) || !(order = malloc(m->nfiles * sizeof(*order)))) {
		free(v);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m->nfiles; i++)
		order[i] = UINT32_MAX;
	for (size_t i = 0; i < k; i++) {
		if (order[p[i].file] == UINT32_MAX)
			order[p[i].file] = next++;
		v[i].order = order[p[i].file];
		v[i].file = p[i].file;
		v[i].def = p[i].def;
		v[i].line = m->files[p[i].file].tags.defs[p[i].def].start;
	}
	qsort(v, k, sizeof(*v), cmp_placed);
	free(order);
	*out = v;
	return 0;
}

/* A signature's preprocessor lines go on lines of their own, indented. */
static int put_sig(wd_buf *out, const char *sig)
{
	int rc = 0;

	for (const char *c = sig; *c && !rc; c++)
		rc = *c == '\n' ? wd_buf_puts(out, "\n    ") : wd_buf_putc(out, *c);
	return rc ? rc : wd_buf_putc(out, '\n');
}

static int render_k(wd_buf *out, const wd_map *m, const struct pick *p, size_t k, unsigned flags)
{
	struct placed *v = NULL;
	int rc;

	/* v is NULL when there is nothing to place (k == 0) */
	if ((rc = place(&v, m, p, k)) != 0 || !v)
		return rc;
	for (size_t i = 0; i < k; i++) {
		const struct mfile *f = &m->files[v[i].file];
		const wd_tag *t = &f->tags.defs[v[i].def];

		if ((i == 0 || v[i].file != v[i - 1].file) &&
		    (rc = wd_buf_printf(out, "%s:\n", f->path)) != 0)
			break;
		/* `typedef struct x {...} x;` is two definitions on one range: show it once */
		if (i > 0 && v[i].file == v[i - 1].file && v[i].line == v[i - 1].line &&
		    t->end == f->tags.defs[v[i - 1].def].end)
			continue;
		if ((flags & WD_MAP_RENDER_LINES) && t->end != t->start)
			rc = wd_buf_printf(out, "  %u-%u ", t->start, t->end);
		else if (flags & WD_MAP_RENDER_LINES)
			rc = wd_buf_printf(out, "  %u ", t->start);
		else
			rc = wd_buf_puts(out, "  ");
		if (rc || (rc = put_sig(out, t->sig)) != 0)
			break;
	}
	free(v);
	return rc;
}

static size_t count_files(const struct pick *p, size_t k, size_t nfiles, unsigned char *seen)
{
	size_t n = 0;

	memset(seen, 0, nfiles);
	for (size_t i = 0; i < k; i++)
		if (!seen[p[i].file]) {
			seen[p[i].file] = 1;
			n++;
		}
	return n;
}

static int header(wd_buf *out, const wd_map *m, size_t k, size_t files, size_t tokens,
                  size_t budget)
{
	int rc = wd_buf_printf(out,
	                       "# repository map: %zu of %zu definitions in %zu of %zu files, most "
	                       "relevant first; ~%zu tokens (estimated as bytes/4)",
	                       k, m->stats.definitions, files, m->nfiles, tokens);

	if (!rc && budget)
		rc = wd_buf_printf(out, " of a %zu-token budget", budget);
	return rc ? rc : wd_buf_putc(out, '\n');
}

/* How many of the best definitions fit (binary search on the rendered size). */
static int fit(size_t *k_out, const wd_map *m, const struct pick *p, size_t n, size_t budget,
               unsigned flags, unsigned char *seen)
{
	size_t lo = 0, hi = n;
	wd_buf tmp = WD_BUF_INIT;
	int rc = 0;

	if (!budget) {
		*k_out = n;
		return 0;
	}
	if (hi > budget * 4 / 8)
		hi = budget * 4 / 8; /* no definition line is shorter than 8 bytes */
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		wd_buf_clear(&tmp);
		if ((rc = header(&tmp, m, mid, count_files(p, mid, m->nfiles, seen), budget, budget)) != 0 ||
		    (rc = render_k(&tmp, m, p, mid, flags)) != 0)
			break;
		if ((tmp.len + 3) / 4 + 8 <= budget)
			lo = mid;
		else
			hi = mid - 1;
	}
	wd_buf_free(&tmp);
	*k_out = lo;
	return rc;
}

/*
 * The ranked picks, how many of them fit the budget (*k) and their text: one
 * selection for the text form and the JSON, so both say the same thing.
 * *p and *seen (a scratch byte per file) are the caller's to free, on
 * failure too.
 */
static int select_fitting(struct pick **p, size_t *k, unsigned char **seen, wd_buf *text,
                          const wd_map *m, size_t budget_tokens, unsigned flags)
{
	size_t n;
	int rc;

	*seen = NULL;
	*k = 0;
	if ((rc = ranked_picks(p, &n, m, pick_limit(budget_tokens))) != 0)
		return rc;
	if (m->nfiles && !(*seen = malloc(m->nfiles)))
		return wd_error_set(WD_ENOMEM, "out of memory");
	if ((rc = fit(k, m, *p, n, budget_tokens, flags, *seen)) != 0)
		return rc;
	return render_k(text, m, *p, *k, flags);
}

int wd_map_render(wd_buf *out, const wd_map *m, size_t budget_tokens, unsigned flags)
{
	struct pick *p = NULL;
	unsigned char *seen = NULL;
	wd_buf body = WD_BUF_INIT;
	size_t k;
	int rc;

	if ((rc = select_fitting(&p, &k, &seen, &body, m, budget_tokens, flags)) != 0 ||
	    (rc = header(out, m, k, m->nfiles ? count_files(p, k, m->nfiles, seen) : 0,
	                 (body.len + 3) / 4 + 30, budget_tokens)) != 0)
		goto out;
	rc = wd_buf_put(out, body.ptr, body.len); /* NULL when empty: wd_buf_put copies nothing */
out:
	wd_buf_free(&body);
	free(seen);
	free(p);
	return rc;
}

static json_t *referenced_by(const wd_map *m, const char *name, size_t max)
{
	const struct nameinfo *ni = wd_map_name(m, name);
	json_t *a = json_array();
	unsigned char *taken;

	if (!a || !ni || !ni->refs.n)
		return a;
	if (!(taken = calloc(ni->refs.n, 1)))
		return a;
	/* the `max` files that reference it most, most first */
	for (size_t k = 0; k < max && k < ni->refs.n; k++) {
		size_t best = SIZE_MAX;

		for (size_t i = 0; i < ni->refs.n; i++)
			if (!taken[i] && (best == SIZE_MAX || ni->refs.v[i].val > ni->refs.v[best].val))
				best = i;
		if (best == SIZE_MAX)
			break;
		taken[best] = 1;
		json_array_append_new(a, json_string(m->files[ni->refs.v[best].file].path));
	}
	free(taken);
	return a;
}

const char *const *wd_map_unmatched_focus(const wd_map *m, size_t *n)
{
	static const char *const none[] = { NULL };

	*n = m->unmatched.n;
	return m->unmatched.n ? (const char *const *)m->unmatched.v : none;
}

/* "focus_near": {unmatched focus: the path or name it may have meant} */
static int focus_near_json(json_t *root, const wd_map *m)
{
	json_t *o = json_object();
	wd_buf near = WD_BUF_INIT;
	int rc = o ? 0 : wd_error_set(WD_ENOMEM, "out of memory");

	for (size_t i = 0; !rc && i < m->unmatched.n; i++)
		if ((rc = wd_map_focus_near(&near, m, m->unmatched.v[i])) == 0 && near.len &&
		    json_object_set_new(o, m->unmatched.v[i], json_string(near.ptr)) < 0)
			rc = wd_error_set(WD_ENOMEM, "out of memory");
	wd_buf_free(&near);
	if (!rc && json_object_size(o)) {
		if (json_object_set_new(root, "focus_near", o) < 0)
			rc = wd_error_set(WD_ENOMEM, "out of memory");
		o = NULL;
	}
	json_decref(o);
	return rc;
}

int wd_map_to_json(json_t **out, const wd_map *m, size_t budget_tokens)
{
	struct pick *p = NULL;
	struct placed *v = NULL;
	unsigned char *seen = NULL;
	wd_buf text = WD_BUF_INIT;
	json_t *root = NULL, *files, *cur = NULL;
	size_t k;
	int rc;

	*out = NULL;
	if ((rc = select_fitting(&p, &k, &seen, &text, m, budget_tokens, WD_MAP_RENDER_LINES)) != 0 ||
	    (rc = place(&v, m, p, k)) != 0)
		goto out;
	root = json_pack("{s:I, s:I, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:[]}",
	                 "budget_tokens", (json_int_t)budget_tokens,
	                 "tokens_estimate", (json_int_t)((text.len + 3) / 4),
	                 "token_estimate", "bytes/4",
	                 "stats", "files", (json_int_t)m->stats.files,
	                 "parsed", (json_int_t)m->stats.parsed, "cached", (json_int_t)m->stats.cached,
	                 "definitions", (json_int_t)m->stats.definitions,
	                 "references", (json_int_t)m->stats.references,
	                 "build_ms", (json_int_t)m->stats.build_ms,
	                 "files");
	if (!root) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	files = json_object_get(root, "files");
	if (m->unmatched.n) {
		json_t *um = json_array();

		for (size_t i = 0; um && i < m->unmatched.n; i++)
			if (json_array_append_new(um, json_string(m->unmatched.v[i])) < 0) {
				json_decref(um);
				um = NULL;
			}
		if (!um || json_object_set_new(root, "unmatched_focus", um) < 0) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = focus_near_json(root, m)) != 0)
			goto out;
	}
	for (size_t i = 0; i < k; i++) {
		const struct mfile *f = &m->files[v[i].file];
		const wd_tag *t = &f->tags.defs[v[i].def];
		json_t *d;

		if (i == 0 || v[i].file != v[i - 1].file) {
			cur = json_pack("{s:s, s:s, s:f, s:b, s:[]}", "path", f->path, "language",
			                wd_lang_for_path(f->path) ? wd_lang_for_path(f->path) : "",
			                "rank", m->frank[v[i].file], "vendored", f->vendored,
			                "definitions");
			if (!cur || json_array_append_new(files, cur) < 0) {
				rc = wd_error_set(WD_ENOMEM, "out of memory");
				goto out;
			}
		}
		d = json_pack("{s:s, s:s, s:I, s:I, s:s, s:f, s:o}", "name", t->name, "kind",
		              wd_tag_kind_name((wd_tag_kind)t->kind), "line", (json_int_t)t->start,
		              "end_line", (json_int_t)t->end, "signature", t->sig, "rank",
		              f->drank[v[i].def], "referenced_by", referenced_by(m, t->name, 10));
		if (!d || json_array_append_new(json_object_get(cur, "definitions"), d) < 0) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = root;
	root = NULL;
out:
	json_decref(root);
	wd_buf_free(&text);
	free(v);
	free(seen);
	free(p);
	return rc;
}
