/*
 * The tolerant matcher: applies the hunks of one file to its current text
 * when the strict path could not. Each hunk is looked for with growing
 * tolerance, and the first tolerance that finds it decides:
 *
 *   0 exact      the hunk's old lines, byte for byte
 *   1 whitespace leading/trailing blanks ignored, inner runs of blanks equal
 *   2 trimmed    as 1, with up to 3 leading/trailing context lines dropped
 *
 * Header numbers are only a hint: the hint (corrected by how far earlier
 * hunks moved) breaks a tie, and hunks of a diff must come in file order. A
 * match that is not unique and not at the hint is refused: applying in the
 * wrong place is worse than not applying. Context lines of the result come
 * from the file, so whitespace damage in the patch's context is not copied.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "patch_int.h"

#define MAX_CANDS 64
#define MAX_TRIM 3
#define SHOW_LINES 8
#define SHOW_COLS 200
#define CLOSEST_MAX_WORK 50000000u

enum { LVL_EXACT = 0, LVL_WS = 1, LVL_TRIM = 2 };

static const char *const level_names[] = { "exact", "whitespace", "trimmed_context" };

typedef struct img_line {
	const char *p;
	size_t len;
	unsigned char no_eol;
} img_line;

typedef struct image {
	img_line *v;
	size_t n, cap;
} image;

static int img_push(image *im, const char *p, size_t len, int no_eol)
{
	if (WD_ARRAY_RESERVE(im->v, im->cap, im->n + 1, 64) != 0)
		return WD_ENOMEM;
	im->v[im->n].p = p;
	im->v[im->n].len = len;
	im->v[im->n].no_eol = (unsigned char)no_eol;
	im->n++;
	return 0;
}

static int img_load(image *im, const char *text, size_t len, int *crlf)
{
	size_t pos = 0, cr = 0;
	int rc;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (end > pos && text[end - 1] == '\r')
			cr++;
		if ((rc = img_push(im, text + pos, end - pos, nl == NULL)) != 0)
			return rc;
		pos = nl ? end + 1 : len;
	}
	*crlf = im->n && cr * 2 > im->n;
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Equal up to whitespace: ends trimmed, inner runs of blanks equal. */
static int eq_ws(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i = 0, j = 0;

	while (al && is_blank(a[al - 1]))
		al--;
	while (bl && is_blank(b[bl - 1]))
		bl--;
	while (i < al && is_blank(a[i]))
		i++;
	while (j < bl && is_blank(b[j]))
		j++;
	while (i < al && j < bl) {
		if (is_blank(a[i]) && is_blank(b[j])) {
			while (i < al && is_blank(a[i]))
				i++;
			while (j < bl && is_blank(b[j]))
				j++;
			continue;
		}
		if (a[i] != b[j])
			return 0;
		i++;
		j++;
	}
	return i == al && j == bl;
}

static int line_eq(int level, const char *a, size_t al, const img_line *l)
{
	if (level == LVL_EXACT)
		return al == l->len && !memcmp(a, l->p, al);
	return eq_ws(a, al, l->p, l->len);
}

/* The old side of a hunk ("pre": context and '-' lines) or the new side. */
typedef struct side {
	size_t *idx; /* patch line indexes */
	size_t n;
} side;

static int side_build(side *s, const struct wd_patch *p, const wd_hunk *h, char skip)
{
	s->n = 0;
	s->idx = malloc((h->n ? h->n : 1) * sizeof(*s->idx));
	if (!s->idx)
		return wd_patch__oom();
	for (size_t k = h->first; k < h->first + h->n; k++)
		if (p->lines[k].op != skip)
			s->idx[s->n++] = k;
	return 0;
}

static int matches_at(const struct wd_patch *p, const side *s, size_t lo, size_t hi,
                      const image *im, size_t pos, int level)
{
	if (pos + (hi - lo) > im->n)
		return 0;
	for (size_t i = lo; i < hi; i++) {
		size_t k = s->idx[i];

		if (!line_eq(level, wd_patch__ltext(p, k), p->lines[k].len, &im->v[pos + i - lo]))
			return 0;
	}
	return 1;
}

/* Every position where s[lo, hi) matches; returns the count (positions
 * beyond MAX_CANDS are counted, not stored). */
static size_t find_all(size_t *cands, const struct wd_patch *p, const side *s, size_t lo,
                       size_t hi, const image *im, int level)
{
	size_t n = 0, m = hi - lo;

	if (m > im->n)
		return 0;
	for (size_t pos = 0; pos + m <= im->n; pos++) {
		if (!matches_at(p, s, lo, hi, im, pos, level))
			continue;
		if (n < MAX_CANDS)
			cands[n] = pos;
		n++;
	}
	return n;
}

/* Where the hunk's old side best overlaps the file, for the diagnostics. */
static size_t closest(size_t *score, const struct wd_patch *p, const side *s, const image *im,
                      long hint)
{
	size_t best = 0, best_score = 0;
	long best_dist = -1;

	for (size_t pos = 0; pos < im->n; pos++) {
		size_t sc = 0;
		long dist;

		for (size_t i = 0; i < s->n && pos + i < im->n; i++) {
			size_t k = s->idx[i];

			sc += eq_ws(wd_patch__ltext(p, k), p->lines[k].len, im->v[pos + i].p,
			            im->v[pos + i].len) && p->lines[k].len > 0;
		}
		dist = hint >= 0 ? labs((long)pos - hint) : (long)pos;
		if (sc > best_score || (sc == best_score && sc > 0 && dist < best_dist)) {
			best = pos;
			best_score = sc;
			best_dist = dist;
		}
	}
	*score = best_score;
	return best;
}

static int show_lines(wd_buf *b, const image *im, size_t pos, size_t n, json_t *arr)
{
	int rc = 0;

	for (size_t i = pos; i < im->n && i < pos + n && i < pos + SHOW_LINES && !rc; i++) {
		size_t len = im->v[i].len < SHOW_COLS ? im->v[i].len : SHOW_COLS;

		rc = wd_buf_printf(b, "    %5zu| %.*s\n", i + 1, (int)len, im->v[i].p);
		if (!rc && json_array_append_new(arr, wd_patch__jstr(im->v[i].p, len)))
			rc = WD_ENOMEM;
	}
	return rc;
}

static int show_patch_side(wd_buf *b, const struct wd_patch *p, const side *s)
{
	int rc = 0;

	for (size_t i = 0; i < s->n && i < SHOW_LINES && !rc; i++) {
		size_t k = s->idx[i];
		size_t len = p->lines[k].len < SHOW_COLS ? p->lines[k].len : SHOW_COLS;

		rc = wd_buf_printf(b, "         %.*s\n", (int)len, wd_patch__ltext(p, k));
	}
	if (!rc && s->n > SHOW_LINES)
		rc = wd_buf_printf(b, "         ... (%zu more lines)\n", s->n - SHOW_LINES);
	return rc;
}

typedef struct hunk_ctx {
	const struct wd_patch *p;
	const wd_pfile *f;
	const wd_hunk *h;
	size_t num;            /* 1-based hunk number */
	size_t total;
	const char *path;
	long hint;             /* expected position in the current image, -1 unknown */
	side pre, post;
	size_t refused_line;   /* the patch line whose indentation did not map, or SIZE_MAX */
	wd_ind_evidence *ev;   /* the file's indentation evidence, from every block */
} hunk_ctx;

/* Record why hunk `hc` did not apply, with what the model needs to fix it. */
static int refuse_hunk(wd_patch_report *r, hunk_ctx *hc, const image *im, const size_t *cands,
                       size_t ncands, int level, int *already)
{
	wd_buf msg = WD_BUF_INIT;
	json_t *extra = json_object(), *near = json_array(), *where = json_array();
	size_t score = 0, pos, post_cands[MAX_CANDS], npost = 0;
	const char *kind;
	int rc = WD_ENOMEM;

	if (!extra || !near || !where)
		goto out;
	*already = 0;
	if (ncands > 1) {
		kind = "ambiguous";
		if (wd_buf_printf(&msg, "%s: hunk %zu of %zu is ambiguous: its old lines match %zu places "
		                  "equally well (%s match) at lines", hc->path, hc->num, hc->total,
		                  ncands, level_names[level]))
			goto out;
		for (size_t i = 0; i < ncands && i < MAX_CANDS; i++) {
			if (wd_buf_printf(&msg, "%s %zu", i ? "," : "", cands[i] + 1) ||
			    json_array_append_new(where, json_integer((json_int_t)cands[i] + 1)))
				goto out;
		}
		if (wd_buf_puts(&msg, ". Add more unchanged context lines so that it matches one "
		                "place only.\n"))
			goto out;
	} else {
		/* already applied? the new side is present and the old side is not */
		if (hc->post.n)
			npost = find_all(post_cands, hc->p, &hc->post, 0, hc->post.n, im, LVL_WS);
		if (npost >= 1 && hc->post.n != hc->pre.n) {
			*already = 1;
		} else if (npost >= 1) {
			/* same length: make sure the sides really differ */
			for (size_t i = 0; i < hc->pre.n; i++) {
				size_t a = hc->pre.idx[i], b = hc->post.idx[i];

				if (!eq_ws(wd_patch__ltext(hc->p, a), hc->p->lines[a].len,
				           wd_patch__ltext(hc->p, b), hc->p->lines[b].len))
					*already = 1;
			}
		}
		kind = *already ? "already_applied" : "no_match";
		if (*already) {
			if (wd_buf_printf(&msg, "%s: hunk %zu of %zu is already applied: its new lines are "
			                  "present at line %zu and its old lines are not. Drop this hunk.\n",
			                  hc->path, hc->num, hc->total, post_cands[0] + 1) ||
			    json_array_append_new(where, json_integer((json_int_t)post_cands[0] + 1)))
				goto out;
		} else if (wd_buf_printf(&msg, "%s: hunk %zu of %zu does not apply: these old lines "
		                         "(context and '-' lines) were not found%s:\n", hc->path, hc->num,
		                         hc->total, hc->hint >= 0 ? " near the hinted line" : "") ||
		           show_patch_side(&msg, hc->p, &hc->pre)) {
			goto out;
		}
	}
	/* the closest-text scan is O(file x hunk): skip it for huge inputs */
	if (im->n * hc->pre.n <= CLOSEST_MAX_WORK)
		pos = closest(&score, hc->p, &hc->pre, im, hc->hint);
	else
		pos = 0;
	if (!*already && ncands <= 1 && score > 0) {
		if (wd_buf_printf(&msg, "  closest text in the file, at line %zu (%zu of %zu lines "
		                  "match):\n", pos + 1, score, hc->pre.n) ||
		    show_lines(&msg, im, pos, hc->pre.n, near))
			goto out;
	} else if (!*already && ncands <= 1) {
		if (wd_buf_puts(&msg, "  no similar text in the file; check the file name and its "
		                "current content.\n"))
			goto out;
	}
	if (json_object_set_new(extra, "ambiguous", json_boolean(ncands > 1)) ||
	    json_object_set_new(extra, "already_applied", json_boolean(*already)) ||
	    json_object_set_new(extra, "candidates", where) ||
	    json_object_set_new(extra, "closest_line", json_integer(score ? (json_int_t)pos + 1 : 0)) ||
	    json_object_set_new(extra, "closest_matched", json_integer((json_int_t)score)) ||
	    json_object_set_new(extra, "old_lines", json_integer((json_int_t)hc->pre.n)) ||
	    json_object_set_new(extra, "closest_text", near)) {
		where = near = NULL;
		goto out;
	}
	where = near = NULL;
	if (hc->h->has_numbers &&
	    json_object_set_new(extra, "hinted_line", json_integer((json_int_t)hc->h->old_start)))
		goto out;
	rc = wd_patch__refuse(r, hc->path, hc->num, kind, extra, "%s", msg.ptr);
	extra = NULL;
out:
	json_decref(extra);
	json_decref(near);
	json_decref(where);
	wd_buf_free(&msg);
	if (rc == WD_ENOMEM)
		wd_error_set(WD_ENOMEM, "out of memory");
	return rc;
}

/*
 * Re-indentation for a whitespace-tolerant match: the model's lines may sit
 * at another depth or use another indentation unit than the file (a block
 * written with 4 spaces for a 2-space file). The matched old lines pair the
 * model's indentation widths with the file's; a new line's width is mapped
 * through them: a width seen in a pair takes that file line's indentation
 * bytes, any other is placed on the line through the smallest and largest
 * pairs (one distinct width: a plain shift), so relative indentation is kept.
 */
typedef struct ind_pair {
	size_t pw, fw;         /* indentation widths (tab stops of 8) */
	const char *fs;        /* the file line's indentation */
	size_t fslen;
	const char *ps;        /* the model line's indentation */
	size_t pslen;
	int aligned;           /* the file line continues the one above it, aligned with
	                        * spaces after its tabs */
} ind_pair;

typedef struct ind_map {
	ind_pair *v;
	size_t n;
	int tabs;              /* the file indents with tabs */
	int identity;          /* every pair has the same bytes on both sides */
	int model_tabs;        /* the model's old lines indent with tabs / spaces */
	int model_spaces;
	int linear;            /* every pair lies on the line through the extreme ones */
	int one_width;         /* the pairs show one width, indented differently on each side */
	int crossed;           /* a deeper model line is no deeper in the file, or one model
	                        * width is two file widths: widths do not map */
	int file_mixed;        /* the file's lines indent with tabs here, spaces only there */
	int scale;             /* ... and the steps say it is a change of unit, not a shift */
	const wd_ind_evidence *ev; /* the file's and this block's evidence, or NULL */
	const img_line *above_file; /* the file's line for the last non-blank line above
	                             * the new one, or NULL */
	wd_ind_witness wit;    /* what else has bytes the model indented alike */
} ind_map;

static size_t indent_width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++)
		w = s[i] == '\t' ? (w / 8 + 1) * 8 : w + 1;
	return w;
}

static int only_blanks(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_blank(s[i]))
			return 0;
	return 1;
}

/* The file width the pairs' line gives model width `pw`. */
static long ind_predict(const ind_map *m, size_t pw)
{
	const ind_pair *lo = NULL, *hi = NULL;
	long den;

	for (size_t i = 0; i < m->n; i++) {
		if (!lo || m->v[i].pw < lo->pw)
			lo = &m->v[i];
		if (!hi || m->v[i].pw > hi->pw)
			hi = &m->v[i];
	}
	if (lo && lo->pw == hi->pw && m->scale)
		return (long)(pw * lo->fw / lo->pw);
	if (!lo || lo->pw == hi->pw)
		return lo ? (long)pw + (long)lo->fw - (long)lo->pw : (long)pw;
	den = (long)hi->pw - (long)lo->pw;
	return den ? (long)lo->fw + ((long)pw - (long)lo->pw) * ((long)hi->fw - (long)lo->fw) / den
	           : (long)pw + (long)lo->fw - (long)lo->pw;
}

static int cmp_pair(const void *a, const void *b)
{
	const ind_pair *x = a, *y = b;

	if (x->pw != y->pw)
		return x->pw < y->pw ? -1 : 1;
	return x->fw < y->fw ? -1 : x->fw > y->fw;
}

/* Do the pairs keep the model's order of depth (and one file width per model
 * width)? A file mixing tabs and spaces can pair the model's 4 with a tab
 * and its 8 with 4 spaces: then a new line at 8 may be meant at two tabs. */
static int ind_crossed(const ind_map *m)
{
	ind_pair *v;
	int crossed = 0;

	if (m->n < 2)
		return 0;
	if (!(v = malloc(m->n * sizeof(*v))))
		return 1; /* out of memory: refuse rather than guess */
	memcpy(v, m->v, m->n * sizeof(*v));
	qsort(v, m->n, sizeof(*v), cmp_pair);
	for (size_t i = 1; i < m->n && !crossed; i++)
		crossed = v[i].pw == v[i - 1].pw ? v[i].fw != v[i - 1].fw : v[i].fw <= v[i - 1].fw;
	free(v);
	return crossed;
}

static void ind_map_check(ind_map *m)
{
	int one_width = 1;

	m->crossed = ind_crossed(m);

	m->linear = 1;
	for (size_t i = 0; i < m->n; i++) {
		if (ind_predict(m, m->v[i].pw) != (long)m->v[i].fw)
			m->linear = 0;
		one_width &= m->v[i].pw == m->v[0].pw;
	}
	/* a file line aligned with tabs then spaces, which the model indented
	 * otherwise: its columns come from two units at once (tabs for depth,
	 * spaces for alignment), so no line through the pairs maps a width */
	for (size_t i = 0; i < m->n; i++) {
		const char *t = memchr(m->v[i].fs, '\t', m->v[i].fslen);

		if (t && memchr(t, ' ', m->v[i].fslen - (size_t)(t - m->v[i].fs)) &&
		    (m->v[i].pslen != m->v[i].fslen || memcmp(m->v[i].ps, m->v[i].fs, m->v[i].fslen)))
			m->linear = 0;
	}
	/* one width, indented on both sides but differently (8 for 4): a shift
	 * and a change of unit fit it alike, and disagree on every other width;
	 * ind_map_steps may tell them apart */
	if (m->n && one_width && m->v[0].pw && m->v[0].fw && m->v[0].pw != m->v[0].fw) {
		m->linear = 0;
		m->one_width = 1;
	}
}

/*
 * The indentation step of some lines: the commonest nonzero difference of
 * width between consecutive non-blank lines (a tie goes to the smaller).
 */
#define STEP_MAX 32

typedef struct steps {
	size_t count[STEP_MAX + 1];
	size_t prev;
	int have;
} steps;

static void step_add(steps *st, const char *s, size_t len)
{
	size_t w, d;

	if (only_blanks(s, len))
		return;
	w = indent_width(s, wd_patch__indent_len(s, len));
	d = w > st->prev ? w - st->prev : st->prev - w;
	if (st->have && d && d <= STEP_MAX)
		st->count[d]++;
	st->prev = w;
	st->have = 1;
}

static size_t step_mode(const steps *st)
{
	size_t best = 0;

	for (size_t d = 1; d <= STEP_MAX; d++)
		if (st->count[d] > st->count[best])
			best = d;
	return st->count[best] ? best : 0;
}

static size_t side_step(const struct wd_patch *p, const side *s)
{
	steps st;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < s->n; i++)
		step_add(&st, wd_patch__ltext(p, s->idx[i]), p->lines[s->idx[i]].len);
	return step_mode(&st);
}

/*
 * The pairs show one width only (8 for the file's 4). The steps decide: the
 * model's own lines step by its unit (8 between `if` and its body), the
 * file's by the file's (4). The same step is a shift of the whole block; a
 * step in the ratio of the pair (8:4 for 8 -> 4) is a change of unit. Any
 * other evidence, or none, leaves the map refusing new widths.
 */
static void ind_map_steps(ind_map *m, const struct wd_patch *p, const side *pre, const side *post,
                          const image *im)
{
	size_t ms, fs, pw = m->v[0].pw, fw = m->v[0].fw;
	steps st;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < im->n; i++)
		step_add(&st, im->v[i].p, im->v[i].len);
	fs = step_mode(&st);
	ms = side_step(p, post);
	if (!ms)
		ms = side_step(p, pre);
	if (!ms || !fs)
		return;
	if (ms == fs) {
		m->linear = 1;
	} else if (ms * fw == fs * pw) {
		m->linear = 1;
		m->scale = 1;
	}
}

static int open_line(const char *s, size_t len);

/* Does file line i continue the non-blank line above it, aligned by spaces
 * after tabs? */
static int file_aligned(const image *im, size_t i, const char *fs, size_t fslen)
{
	const char *t = memchr(fs, '\t', fslen);

	if (!t || !memchr(t, ' ', fslen - (size_t)(t - fs)))
		return 0;
	while (i-- > 0)
		if (!only_blanks(im->v[i].p, im->v[i].len))
			return open_line(im->v[i].p, im->v[i].len);
	return 0;
}

static int ind_map_build(ind_map *m, const struct wd_patch *p, const side *pre,
                         const side *post, size_t lo, size_t hi, const image *im, size_t pos)
{
	int mixed = 0;

	memset(m, 0, sizeof(*m));
	m->identity = 1;
	m->v = malloc((hi > lo ? hi - lo : 1) * sizeof(*m->v));
	if (!m->v)
		return wd_patch__oom();
	for (size_t i = lo; i < hi && pos + i - lo < im->n; i++) {
		size_t k = pre->idx[i];
		const char *pl = wd_patch__ltext(p, k);
		const img_line *fl = &im->v[pos + i - lo];
		size_t pil = wd_patch__indent_len(pl, p->lines[k].len);
		size_t fil = wd_patch__indent_len(fl->p, fl->len);

		if (only_blanks(pl, p->lines[k].len) || only_blanks(fl->p, fl->len))
			continue;
		if (pil != fil || memcmp(pl, fl->p, pil))
			m->identity = 0;
		m->model_tabs |= memchr(pl, '\t', pil) != NULL;
		m->model_spaces |= memchr(pl, ' ', pil) != NULL;
		if (memchr(fl->p, '\t', fil))
			m->tabs = 1;
		m->v[m->n].pw = indent_width(pl, pil);
		m->v[m->n].fw = indent_width(fl->p, fil);
		m->v[m->n].fs = fl->p;
		m->v[m->n].fslen = fil;
		m->v[m->n].ps = pl;
		m->v[m->n].pslen = pil;
		m->v[m->n].aligned = file_aligned(im, pos + i - lo, fl->p, fil);
		if (fil)
			mixed |= memchr(fl->p, '\t', fil) ? 1 : 2;
		m->n++;
	}
	m->file_mixed = mixed == 3;
	ind_map_check(m);
	if (m->one_width)
		ind_map_steps(m, p, pre, post, im);
	return 0;
}

/* Is a new line indented the way the model indented its old lines? One
 * indented with a character the old lines never used (a tab among a
 * space-indented quote of the file) was written for the file as it is, and
 * is kept as written. */
static int ind_native(const ind_map *m, const char *s, size_t len)
{
	size_t il = wd_patch__indent_len(s, len);

	if (memchr(s, '\t', il) && !m->model_tabs)
		return 0;
	if (memchr(s, ' ', il) && !m->model_spaces && m->model_tabs)
		return 0;
	return 1;
}

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Is width `pw` off the grid of the model's widths in a change of unit? The
 * pairs step by the model's unit (4, 8, 12 for one tab each); a width between
 * (14: alignment spaces after the depth) scales by a ratio the spaces may not
 * share, so it is not mapped, in a file that indents with tabs. A plain shift
 * keeps alignment as it is. */
static int off_grid(const ind_map *m, size_t pw)
{
	size_t lo = SIZE_MAX, g = 0;
	int shift = 1;

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].pw < lo)
			lo = m->v[i].pw;
	for (size_t i = 0; i < m->n; i++) {
		g = gcd(g, m->v[i].pw - lo);
		shift &= m->v[i].fw - m->v[0].fw == m->v[i].pw - m->v[0].pw;
	}
	if (m->scale)
		shift = 0;
	/* only a tab file aligns with spaces after its depth; a spaces-only file's
	 * widths interpolate (0 and 16 put 24 at 12, whatever the unit) */
	if (shift || !g || !m->tabs)
		return 0;
	return (pw > lo ? pw - lo : lo - pw) % g != 0;
}

/* Why a new line may be alignment rather than depth (see push_reindented). */
enum { JUMP_OPEN = 1, JUMP_DEEP = 2 };

/* Is the bracket at a[off] left open by the rest of the line? */
static int bracket_open(const char *a, size_t len, size_t off)
{
	long depth = 0;

	for (size_t i = off; i < len; i++) {
		if (a[i] == '(' || a[i] == '[')
			depth++;
		else if (a[i] == ')' || a[i] == ']')
			depth--;
	}
	return depth > 0;
}

static int buf_same(const wd_buf *a, const wd_buf *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->ptr, b->ptr, a->len));
}

/* The blanks of file column `col` as the file aligns: tabs as far as they go
 * then spaces (`keep` 0), or the line above's indentation then spaces. */
static int align_blanks(wd_buf *b, const img_line *above, size_t col, int keep)
{
	size_t il = wd_patch__indent_len(above->p, above->len), w = indent_width(above->p, il);

	if (!keep) {
		for (size_t i = 0; i < col / 8 + col % 8; i++)
			if (wd_buf_putc(b, i < col / 8 ? '\t' : ' '))
				return WD_ENOMEM;
		return 0;
	}
	if (wd_buf_put(b, above->p, il))
		return WD_ENOMEM;
	for (; w < col; w++)
		if (wd_buf_putc(b, ' '))
			return WD_ENOMEM;
	return 0;
}

/*
 * A continuation line that the file may align one column past an open
 * bracket of the line above (`foo(a,` then `    b)`). The line above is
 * the file's to the byte, so each open bracket gives a column of the file,
 * written as the file may write alignment (tabs as far as they go, or the
 * line above's indentation, then spaces). The one such string that the
 * evidence's damage takes to the model's width is taken, unless a level or
 * two of depth in tabs (a continuation indented, not aligned) would be
 * damaged to that width too. 1 written, 0 no one string, WD_ENOMEM;
 * WD_EREFUSED when such a column and such tabs are both damaged to the width
 * under some damage the evidence allows: which one the author took cannot be
 * told, and no width rule may choose (`$(cmd |` then a tab and 2 spaces,
 * or two tabs, are both 8 columns at 4 a tab and 2 a space).
 */
static int ind_align(wd_buf *b, const ind_map *m, size_t pw)
{
	const img_line *fl = m->above_file;
	wd_buf cand[2] = { WD_BUF_INIT, WD_BUF_INIT };
	size_t fil, fw, depth = 0;
	int rc = 0, found = 0, tabs_reach, collide = 0;

	if (!fl || !m->ev || !m->ev->tabs)
		return 0;
	fil = wd_patch__indent_len(fl->p, fl->len);
	fw = indent_width(fl->p, fil);
	while (depth < fil && fl->p[depth] == '\t')
		depth++;
	tabs_reach = wd_patch__ev_tabs_reach(m->ev, pw, depth + 2);
	for (size_t off = 0; off < fl->len - fil && !rc && found >= 0; off++) {
		const char *t = fl->p + fil;
		int fits[2] = { 0, 0 }, keep;

		if ((t[off] != '(' && t[off] != '[') || memchr(t, '\t', off) ||
		    !bracket_open(t, fl->len - fil, off))
			continue;
		for (keep = 0; keep < 2 && !rc; keep++) {
			wd_buf_clear(&cand[keep]);
			if ((rc = align_blanks(&cand[keep], fl, fw + off + 1, keep)) != 0)
				break;
			if (!wd_patch__ev_fits_alone(m->ev, wd_buf_cstr(&cand[keep]), cand[keep].len, pw,
			                             depth + 2)) {
				collide |= tabs_reach && wd_patch__ev_fits_some(m->ev, wd_buf_cstr(&cand[keep]),
				                                                cand[keep].len, pw);
				continue;
			}
			fits[keep] = 1;
		}
		if (rc || (!fits[0] && !fits[1]))
			continue;
		/* the column written two ways that the damage reads alike (tabs as far
		 * as they go, or the line above's blanks then spaces): the one that
		 * starts a line of the file, if only one does */
		keep = fits[0] ? 0 : 1;
		if (fits[0] && fits[1] && !buf_same(&cand[0], &cand[1])) {
			int has0 = wd_patch__ev_has(m->ev, wd_buf_cstr(&cand[0]), cand[0].len);
			int has1 = wd_patch__ev_has(m->ev, wd_buf_cstr(&cand[1]), cand[1].len);

			/* neither: tabs as far as they go, unless the file starts some
			 * line 8 columns deep or more with spaces only */
			if (!has0 && !has1 && !wd_patch__ev_spaces_deep(m->ev))
				has0 = 1;
			if (has0 == has1) {
				found = -1;
				break;
			}
			keep = has1;
		}
		if (found && !buf_same(&cand[keep], b))
			found = -1; /* two columns fit the model's width */
		else if (!found && (rc = wd_buf_put(b, cand[keep].ptr, cand[keep].len)) == 0)
			found = 1;
	}
	wd_buf_free(&cand[0]);
	wd_buf_free(&cand[1]);
	if (found < 0)
		wd_buf_clear(b);
	if (rc)
		return WD_ENOMEM;
	return found > 0 ? 1 : collide ? WD_EREFUSED : 0;
}

/* The file's indentation for a model line indented with ps[0..pslen) (width
 * `pw`): the file bytes of old lines the model indented exactly so, when they
 * agree; else by width. WD_EREFUSED when the pairs follow no one rule and
 * none has that width, or cross where the file itself mixes tabs and spaces:
 * a guess could put the line at the wrong depth. */
static int ind_width_rules(wd_buf *b, const ind_map *m, size_t pw, const char *ps, size_t pslen,
                           int cont);

static int ind_map_decide(wd_buf *b, const ind_map *m, size_t pw, const char *ps, size_t pslen,
                          int cont, int *sure);

/* Blanks no file that indents with tabs writes unless it has them already:
 * a tab, then 8 spaces or more (a tab's worth of columns as spaces). */
static int odd_blanks(const ind_map *m, const char *fs, size_t fslen)
{
	const char *t = memchr(fs, '\t', fslen);
	size_t n = 0, i;

	if (!t)
		return 0;
	for (i = fslen; i > 0 && fs[i - 1] == ' '; i--)
		n++;
	return n >= 8 && !wd_patch__ev_has(m->ev, fs, fslen);
}

/*
 * Is an answer that is not sure (see ind_map_decide) one the quote cannot
 * have been written from, in a file that indents with tabs (where a quote
 * re-indented per character loses what a shift or a change of unit keeps)?
 * Either no damage the evidence allows takes its blanks to the model's
 * width (4 spaces for a line the quote indents by 2 columns, where it wrote
 * a tab as 4 and a space as 1 or 2); or, for a line
 * that starts a statement under a line indented with tabs only, it puts the
 * line on the other side of that line from where the model put it: deeper
 * in the quote but no deeper in the file (two tabs and 4 spaces, column 20,
 * for the body of an `if` at three tabs that the quote puts a level deeper),
 * or the reverse. Whole tabs keep their order under any damage; only
 * alignment spaces (which a statement does not start with) can cross them.
 * The damage is lossy, and a width seen elsewhere in the block is a
 * coincidence there, not a rule.
 */
static int ind_contradicts(const ind_map *m, size_t pw, int cont, const char *fs, size_t fslen)
{
	size_t apw, afw, fw, ail;

	if (!m->ev || !m->ev->tabs)
		return 0;
	if (!wd_patch__ev_fits_some(m->ev, fs, fslen, pw) || odd_blanks(m, fs, fslen))
		return 1;
	if (cont || !m->above_file || !m->wit.above_ps)
		return 0;
	ail = wd_patch__indent_len(m->above_file->p, m->above_file->len);
	if (memchr(m->above_file->p, ' ', ail))
		return 0;
	apw = indent_width(m->wit.above_ps, m->wit.above_pslen);
	afw = indent_width(m->above_file->p, ail);
	fw = indent_width(fs, fslen);
	return (pw > apw && fw <= afw) || (pw < apw && fw >= afw);
}

/*
 * A block comment's next line (text starting with `*`) under the line that
 * opens it (slash-star, at the file's bytes) or under one of its ` * ` lines: C
 * puts the star one column past the opening line's `/`, so its blanks are
 * that line's and a space (or the ` * ` line's own). Taken when some damage
 * the evidence allows makes those blanks the model's width: a tab and a
 * space quoted as 6 under a tab and slash-star is ` * `'s place, not 3
 * spaces. 1 written, 0 not such a line, WD_ENOMEM.
 */
static int ind_comment(wd_buf *b, const ind_map *m, size_t pw, const char *text, size_t tlen)
{
	const img_line *a = m->above_file;
	size_t d[8][2], ail, alen, at = b->len;
	const char *t;
	int opens;

	/* the evidence must name the damage: with none, every string fits */
	if (!a || !m->ev || !m->ev->tabs || !tlen || text[0] != '*' ||
	    !wd_patch__ev_damages(m->ev, d, 8))
		return 0;
	ail = wd_patch__indent_len(a->p, a->len);
	t = a->p + ail;
	alen = a->len - ail;
	if (alen >= 2 && t[0] == '/' && t[1] == '*')
		opens = 1;
	else if (alen >= 1 && t[0] == '*')
		opens = 0;
	else
		return 0;
	/* the comment must still be open after the line above */
	for (size_t i = 1; i < alen; i++)
		if (t[i - 1] == '*' && t[i] == '/' && (i >= 2 || opens == 0))
			return 0;
	if (wd_buf_put(b, a->p, ail) || (opens && wd_buf_putc(b, ' ')))
		return WD_ENOMEM;
	if (wd_patch__ev_fits_some(m->ev, wd_buf_cstr(b) + at, b->len - at, pw))
		return 1;
	wd_buf_truncate(b, at);
	return 0;
}

/*
 * A quote that kept every column (its tabs expanded to stops of 8, its
 * spaces kept: the one damage the evidence allows) names the new line's
 * column; only how the file writes it is open (wd_patch__ev_column). For a
 * line deeper than the line above, a column no line of the file starts at
 * may still be written tabs first (alignment under the line above, or a new
 * depth); but where the file has the line above's blanks followed by spaces
 * to that column, it aligns so at times (`\t` and 14 spaces under
 * `\tmy @args = qw/`), and which way this line took cannot be told. So too
 * for a line at the column of a line above written other than tabs first
 * (two tabs and 8 spaces): the next line may copy its blanks or not. 1
 * written, 0 no answer, WD_ENOMEM.
 */
static int ind_column(wd_buf *b, const ind_map *m, size_t pw)
{
	const img_line *a = m->above_file;
	size_t at = b->len;
	int fresh = pw % 8 == 0;

	if (!m->ev || !wd_patch__ev_keeps_columns(m->ev))
		return 0;
	if (a) {
		size_t ail = wd_patch__indent_len(a->p, a->len), aw = indent_width(a->p, ail);
		int aligned;

		if (pw >= aw) {
			fresh |= pw > aw;
			if (wd_buf_put(b, a->p, ail))
				return WD_ENOMEM;
			for (size_t i = aw; i < pw; i++)
				if (wd_buf_putc(b, ' '))
					return WD_ENOMEM;
			aligned = !wd_patch__tabs_first(wd_buf_cstr(b) + at, b->len - at) &&
			          wd_patch__ev_has(m->ev, wd_buf_cstr(b) + at, b->len - at);
			wd_buf_truncate(b, at);
			if (aligned)
				return 0;
		}
	}
	return wd_patch__ev_column(m->ev, pw, fresh, b);
}

/* As ind_map_decide; where it finds no one answer, lines the model indented
 * alike whose bytes are known (indent_witness.c), then the file's habits
 * after the line above (indent_habit.c), then, for a quote that kept every
 * column, the file's way of writing the line's column (ind_column), may. `text`: the line after its
 * blanks. */
static int ind_map_render(wd_buf *b, const ind_map *m, size_t pw, const char *ps, size_t pslen,
                          int cont, const char *text, size_t tlen)
{
	size_t at = b->len;
	int sure = 0, rc = ind_map_decide(b, m, pw, ps, pslen, cont, &sure), hb;

	if (rc != WD_EREFUSED && rc != 0)
		return rc;
	/* an answer that stands against the line above where the file does not
	 * put a line after one like it, or that the quote contradicts, is no
	 * answer; the witnesses and the habits may give one */
	if (rc == 0) {
		if (sure || !m->ev || !m->above_file)
			return 0;
		hb = wd_patch__habit_veto(m->ev, m->above_file->p, m->above_file->len, ps, pslen,
		                          wd_buf_cstr(b) + at, b->len - at);
		if (!hb && ind_contradicts(m, pw, cont, wd_buf_cstr(b) + at, b->len - at))
			hb = 1;
		if (!hb)
			return 0;
		wd_buf_truncate(b, at);
		if ((rc = ind_comment(b, m, pw, text, tlen)) != 0 ||
		    (rc = wd_patch__witness(m->ev, &m->wit, ps, pslen, text, tlen, b)) != 0)
			return rc > 0 ? 0 : rc;
		if (hb == WD_HB_UNDECIDABLE)
			return WD_EREFUSED;
	} else {
		wd_buf_truncate(b, at);
		if ((rc = ind_comment(b, m, pw, text, tlen)) != 0 ||
		    (rc = wd_patch__witness(m->ev, &m->wit, ps, pslen, text, tlen, b)) != 0)
			return rc > 0 ? 0 : rc;
	}
	if (!m->ev || !m->above_file)
		return WD_EREFUSED;
	hb = wd_patch__habit_pick(m->ev, m->above_file->p, m->above_file->len, ps, pslen, b);
	/* the habits count a line ending with `)` among statement ends: a body
	 * under an `if (...)` they would put at the `if`'s column is no answer */
	if (hb > 0 && ind_contradicts(m, pw, cont, wd_buf_cstr(b) + at, b->len - at)) {
		wd_buf_truncate(b, at);
		return WD_EREFUSED;
	}
	if (hb < 0)
		return hb;
	if (!hb && (hb = ind_column(b, m, pw)) < 0)
		return hb;
	return hb > 0 ? 0 : WD_EREFUSED;
}

/* Do the old lines the model quoted without indentation (one at least)
 * all start the line in the file too? */
static int ind_flush_left(const ind_map *m)
{
	int seen = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].pslen)
			continue;
		if (m->v[i].fslen)
			return 0;
		seen = 1;
	}
	return seen;
}

static int ind_map_decide(wd_buf *b, const ind_map *m, size_t pw, const char *ps, size_t pslen,
                          int cont, int *sure)
{
	size_t at = b->len;
	int rc;

	/* what the evidence says the quote did to the file's indentation leaves
	 * one count of tabs and spaces for this width (0 is 0, whatever the
	 * file mixes): the one answer that is sure */
	if (m->ev && (rc = wd_patch__ev_lookup(m->ev, ps, pslen, 1, b)) != 0) {
		*sure = rc > 0;
		return rc > 0 ? 0 : rc;
	}
	/* a line the model did not indent, where every old line it did not
	 * indent has no indentation in the file either, has none */
	if (!pslen && ind_flush_left(m)) {
		*sure = 1;
		return 0;
	}
	if (m->crossed && m->file_mixed)
		return WD_EREFUSED;
	/* the evidence names one string of the file, or the line is aligned
	 * under a bracket above it: no width rule is needed */
	if ((cont && (rc = ind_align(b, m, pw)) != 0) ||
	    (m->ev && (rc = wd_patch__ev_lookup(m->ev, ps, pslen, cont & JUMP_OPEN, b)) != 0))
		return rc > 0 ? 0 : rc;
	rc = ind_width_rules(b, m, pw, ps, pslen, cont);
	/* the widths gave an answer, but under what the quote did to the file
	 * another string that starts a line of the file reads as this width too */
	if (!rc && m->ev && wd_patch__ev_rivals(m->ev, ps, pslen, wd_buf_cstr(b) + at, b->len - at))
		return WD_EREFUSED;
	return rc;
}

/* The width rules, when the evidence does not decide (see ind_map_render). */
static int ind_width_rules(wd_buf *b, const ind_map *m, size_t pw, const char *ps, size_t pslen,
                           int cont)
{
	const ind_pair *same = NULL;
	long fw;

	for (size_t i = 0; i < m->n; i++) {
		const ind_pair *q = &m->v[i];

		/* an aligned line's blanks name no depth for a statement */
		if (q->pslen != pslen || memcmp(q->ps, ps, pslen) || (!cont && q->aligned))
			continue;
		if (same && (same->fslen != q->fslen || memcmp(same->fs, q->fs, q->fslen)))
			return WD_EREFUSED; /* the same model bytes at two file depths */
		same = q;
	}
	if (same)
		return wd_buf_put(b, same->fs, same->fslen);
	if (m->crossed)
		return WD_EREFUSED;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].pw == pw && (cont || !m->v[i].aligned))
			return wd_buf_put(b, m->v[i].fs, m->v[i].fslen);
	if (!m->linear || (m->scale && pw * m->v[0].fw % m->v[0].pw) || off_grid(m, pw))
		return WD_EREFUSED; /* no rule, or a unit change that lands between columns */
	/* a width no old line shows, on a line that continues the one above, in
	 * a file indenting with tabs (in the block's old lines, or anywhere: a
	 * header's block may quote only comments): the file may align it with
	 * spaces after its tabs (a tab and 2 spaces), which the model's columns
	 * do not tell from depth (2 tabs) */
	if (cont && (m->tabs || (m->ev && m->ev->tabs)))
		return WD_EREFUSED;
	fw = ind_predict(m, pw);
	if (fw < 0)
		fw = 0;
	for (; m->tabs && fw >= 8; fw -= 8)
		if (wd_buf_putc(b, '\t'))
			return WD_ENOMEM;
	for (; fw > 0; fw--)
		if (wd_buf_putc(b, ' '))
			return WD_ENOMEM;
	return 0;
}

/* For each line of the new side, the old-side line with the same text in a
 * longest common subsequence of the two (SIZE_MAX for none): a line the model
 * repeated unchanged (as SEARCH/REPLACE blocks do) keeps the file's bytes. */
#define LCS_MAX_CELLS 4000000u

static int same_lines(size_t **out, const struct wd_patch *p, const side *pre, const side *post)
{
	size_t n = pre->n, m = post->n, *match = malloc((m ? m : 1) * sizeof(*match));
	unsigned *t;

	if (!match)
		return wd_patch__oom();
	for (size_t j = 0; j < m; j++)
		match[j] = SIZE_MAX;
	*out = match;
	if (!n || !m || (n + 1) * (m + 1) > LCS_MAX_CELLS)
		return 0;
	t = calloc((n + 1) * (m + 1), sizeof(*t));
	if (!t)
		return wd_patch__oom();
	for (size_t i = n; i-- > 0;) {
		for (size_t j = m; j-- > 0;) {
			size_t a = pre->idx[i], b = post->idx[j];

			if (p->lines[a].len == p->lines[b].len &&
			    !memcmp(wd_patch__ltext(p, a), wd_patch__ltext(p, b), p->lines[a].len))
				t[i * (m + 1) + j] = t[(i + 1) * (m + 1) + j + 1] + 1;
			else
				t[i * (m + 1) + j] = t[(i + 1) * (m + 1) + j] > t[i * (m + 1) + j + 1]
				                     ? t[(i + 1) * (m + 1) + j] : t[i * (m + 1) + j + 1];
		}
	}
	for (size_t i = 0, j = 0; i < n && j < m;) {
		size_t a = pre->idx[i], b = post->idx[j];

		if (p->lines[a].len == p->lines[b].len &&
		    !memcmp(wd_patch__ltext(p, a), wd_patch__ltext(p, b), p->lines[a].len)) {
			match[j++] = i++;
		} else if (t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) {
			i++;
		} else {
			j++;
		}
	}
	free(t);
	return 0;
}

/* The model's step of depth among the pairs: the gcd of their widths'
 * differences, else the one width they show (0: none). */
static size_t model_unit(const ind_map *m)
{
	size_t lo = SIZE_MAX, g = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].pw && m->v[i].pw < lo)
			lo = m->v[i].pw;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].pw)
			g = gcd(g, m->v[i].pw - lo);
	return g ? g : lo == SIZE_MAX ? 0 : lo;
}

/* Does line s[0..len) leave its statement open, so the next line may be
 * aligned under it rather than nested: a backslash, an operator or a comma
 * at its end, or more brackets opened than closed. */
static int open_line(const char *s, size_t len)
{
	long depth = 0;
	char q = 0;

	while (len && (is_blank(s[len - 1]) || s[len - 1] == '\r'))
		len--;
	if (!len || (len >= 2 && s[len - 2] == '*' && s[len - 1] == '/'))
		return 0; /* a comment's end, not a division */
	{
		size_t il = wd_patch__indent_len(s, len);

		/* a bracket alone on its line opens a block (a shell subshell), with
		 * nothing to align under */
		if (len - il == 1 && (s[il] == '(' || s[il] == '['))
			return 0;
	}
	if (strchr("\\|&,+-*/=?<>.([", s[len - 1]))
		return 1;
	for (size_t i = 0; i < len; i++) {
		if (q) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'' || s[i] == '`') {
			q = s[i];
		} else if (s[i] == '(' || s[i] == '[') {
			depth++;
		} else if (s[i] == ')' || s[i] == ']') {
			depth--;
		}
	}
	return depth > 0;
}

/* A new line at the file's indentation; pushed to `out`, owned by `owned`.
 * `jump`: the line continues the one above it (open_line: JUMP_OPEN), or
 * sits more than one of the model's steps deeper (JUMP_DEEP): it may be
 * alignment, not depth. */
static int push_reindented(image *out, wd_strvec *owned, const ind_map *m, const char *s,
                           size_t len, int no_eol, int crlf, int jump)
{
	wd_buf b = WD_BUF_INIT;
	size_t il = wd_patch__indent_len(s, len);
	int rc = 0;

	if (!only_blanks(s, len)) {
		rc = ind_map_render(&b, m, indent_width(s, il), s, il, jump, s + il, len - il);
	} else {
		/* a blank line's blanks are indentation too, mapped when they can be */
		if (il && ind_map_render(&b, m, indent_width(s, il), s, il, 0, s + il, 0) != 0)
			wd_buf_clear(&b);
		il = len;
	}
	if (!rc)
		rc = wd_buf_put(&b, s + il, len - il);
	if (!rc && crlf && (len == 0 || s[len - 1] != '\r'))
		rc = wd_buf_putc(&b, '\r');
	if (!rc && !b.ptr)
		rc = wd_buf_grow(&b, 0);
	if (rc) {
		wd_buf_free(&b);
		return rc == WD_EREFUSED ? rc : WD_ENOMEM;
	}
	len = b.len;
	s = wd_buf_detach(&b);
	if ((rc = wd_strvec_push_owned(owned, (char *)s)) != 0)
		return rc;
	return img_push(out, s, len, no_eol);
}

/* A '+' line as the model wrote it (with the '\r' a CRLF file needs). */
static int push_new_line(image *out, wd_strvec *owned, const struct wd_patch *p, size_t k,
                         int crlf)
{
	const wd_pline *l = &p->lines[k];
	char *s;
	int rc;

	if (!crlf || (l->len && wd_patch__ltext(p, k)[l->len - 1] == '\r'))
		return img_push(out, wd_patch__ltext(p, k), l->len, l->no_eol);
	s = malloc(l->len + 2);
	if (!s)
		return wd_patch__oom();
	memcpy(s, wd_patch__ltext(p, k), l->len);
	s[l->len] = '\r';
	s[l->len + 1] = '\0';
	if ((rc = wd_strvec_push_owned(owned, s)) != 0)
		return rc;
	return img_push(out, s, l->len + 1, l->no_eol);
}

/* Whether every indented line the hunk removes is the file's line byte for
 * byte (and there is one): the model then reproduced the file's indentation
 * where it changed code, so its new lines were written for the file too,
 * and only its context was quoted loosely (a unified diff whose context lost
 * its tabs). */
static int removed_lines_exact(const hunk_ctx *hc, const image *im, size_t pos, size_t lo,
                               size_t hi)
{
	const struct wd_patch *p = hc->p;
	size_t pi = 0;
	int seen = 0;

	for (size_t k = hc->h->first; k < hc->h->first + hc->h->n; k++) {
		const wd_pline *l = &p->lines[k];
		const char *t = wd_patch__ltext(p, k);
		size_t at = pos + pi - lo;

		if (l->op == WD_PL_ADD)
			continue;
		if (l->op == WD_PL_DEL && wd_patch__indent_len(t, l->len) && !only_blanks(t, l->len)) {
			if (pi < lo || pi >= hi || at >= im->n || im->v[at].len != l->len ||
			    memcmp(im->v[at].p, t, l->len) != 0)
				return 0;
			seen = 1;
		}
		pi++;
	}
	return seen;
}

/* Replace the matched old lines at `pos` (pre[lo, hi) matched) by the new
 * side. After a whitespace-tolerant match (`level` > exact) new lines are
 * re-indented to the file's and lines the model repeated unchanged keep the
 * file's bytes. */
/* The lines the hunk removes, with the model's blanks and text and the
 * file's blanks: witnesses for a new line that changes one of them. */
static int removed_collect(wd_ind_removed **out, size_t *n, const hunk_ctx *hc, const image *im,
                           size_t pos, size_t lo, size_t hi)
{
	const struct wd_patch *p = hc->p;
	wd_ind_removed *v;

	*n = 0;
	*out = NULL;
	if (hi <= lo)
		return 0;
	if (!(v = malloc((hi - lo) * sizeof(*v))))
		return wd_patch__oom();
	for (size_t i = lo; i < hi && pos + i - lo < im->n; i++) {
		size_t k = hc->pre.idx[i], pil, fil;
		const char *pl = wd_patch__ltext(p, k);
		const img_line *fl = &im->v[pos + i - lo];

		if (p->lines[k].op != WD_PL_DEL || only_blanks(pl, p->lines[k].len))
			continue;
		pil = wd_patch__indent_len(pl, p->lines[k].len);
		fil = wd_patch__indent_len(fl->p, fl->len);
		v[*n] = (wd_ind_removed){ .ps = pl, .pslen = pil, .text = pl + pil,
		                          .tlen = p->lines[k].len - pil, .fs = fl->p, .fslen = fil };
		(*n)++;
	}
	*out = v;
	return 0;
}

/* Is the line indented 8 columns deep or more with spaces only? */
static int deep_spaces(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[n] == ' ')
		n++;
	return n >= 8 && !only_blanks(s, len);
}

/*
 * Would a new line's 8 or more leading spaces be the model's expansion of
 * the file's tabs? The file starts lines with tabs and never with 8 spaces
 * or more, and no line of the hunk (as the model wrote it) is indented with a
 * tab: nothing says the model writes the file's tabs as tabs. Such a line is not
 * kept as written, even where the quote matched the file byte for byte (a
 * block that quotes only unindented lines and comments).
 */
static int tabs_expanded(const hunk_ctx *hc, const image *im)
{
	const struct wd_patch *p = hc->p;
	int tabs = 0;

	for (size_t i = 0; i < im->n; i++) {
		if (deep_spaces(im->v[i].p, im->v[i].len))
			return 0;
		tabs |= im->v[i].len && im->v[i].p[0] == '\t';
	}
	if (!tabs)
		return 0;
	/* a tab anywhere in the hunk's indentation, old or new, shows how the
	 * model writes one */
	for (size_t k = hc->h->first; k < hc->h->first + hc->h->n; k++)
		if (memchr(wd_patch__ltext(p, k), '\t',
		           wd_patch__indent_len(wd_patch__ltext(p, k), p->lines[k].len)))
			return 0;
	return 1;
}

static int splice(image *im, hunk_ctx *hc, size_t pos, size_t lo, size_t hi, int level,
                  int crlf, wd_strvec *owned, size_t *new_len)
{
	const struct wd_patch *p = hc->p;
	image out = { 0 };
	ind_map map = { 0 };
	size_t pi = 0, qi = 0, *same = NULL, unit = 0, prev_w = 0;
	size_t ev_mark = hc->ev ? hc->ev->npairs : 0, above = SIZE_MAX, above_plen = 0;
	const char *above_ps = NULL;
	wd_ind_removed *del = NULL;
	int rc = 0, reindent = level > LVL_EXACT, native_side = 0, lost_tabs = 0, prev_open = 0;
	int have_prev = 0, expanded = -1; /* tabs_expanded, asked once if needed */

	if (reindent && ((rc = ind_map_build(&map, p, &hc->pre, &hc->post, lo, hi, im, pos)) != 0 ||
	                 (rc = same_lines(&same, p, &hc->pre, &hc->post)) != 0))
		goto out;
	for (size_t i = 0; reindent && hc->ev && i < map.n && !rc; i++)
		rc = wd_patch__ev_pair_add(hc->ev, map.v[i].ps, map.v[i].pslen, map.v[i].fs,
		                           map.v[i].fslen);
	if (rc)
		goto out;
	map.ev = hc->ev;
	/* a new line indented with a character the old lines never use, or with
	 * a tab where the model's quote of the file lost the file's tabs (only the
	 * context was re-indented), says the new lines were written for the file:
	 * all are kept as written */
	for (size_t i = 0; reindent && i < map.n; i++)
		lost_tabs |= memchr(map.v[i].fs, '\t', map.v[i].fslen) &&
		             !memchr(map.v[i].ps, '\t', map.v[i].pslen);
	for (size_t k = hc->h->first; reindent && !map.identity && k < hc->h->first + hc->h->n; k++) {
		const char *t = wd_patch__ltext(p, k);

		if (p->lines[k].op == WD_PL_ADD &&
		    (!ind_native(&map, t, p->lines[k].len) ||
		     (lost_tabs && memchr(t, '\t', wd_patch__indent_len(t, p->lines[k].len)))))
			native_side = 1;
	}
	if (reindent && !native_side && removed_lines_exact(hc, im, pos, lo, hi))
		native_side = 1;
	if (reindent) {
		unit = model_unit(&map);
		if ((rc = removed_collect(&del, &map.wit.ndel, hc, im, pos, lo, hi)) != 0)
			goto out;
		map.wit.del = del;
	}
	for (size_t i = 0; i < pos && i < im->n && !rc; i++)
		rc = img_push(&out, im->v[i].p, im->v[i].len, 0);
	for (size_t k = hc->h->first; k < hc->h->first + hc->h->n && !rc; k++) {
		const wd_pline *l = &p->lines[k];
		const char *lt = wd_patch__ltext(p, k);
		size_t lw = indent_width(lt, wd_patch__indent_len(lt, l->len));
		int jump = !have_prev ? 0 : prev_open ? JUMP_OPEN
		           : unit && lw > prev_w + unit ? JUMP_DEEP : 0;

		if (l->op != WD_PL_DEL && !only_blanks(lt, l->len)) {
			prev_open = open_line(lt, l->len);
			prev_w = lw;
			have_prev = 1;
		}

		if (l->op == WD_PL_CTX) {
			size_t at = pos + pi - lo;

			if (pi >= lo && pi < hi && at < im->n)
				rc = img_push(&out, im->v[at].p, im->v[at].len, im->v[at].no_eol);
			pi++;
			qi++;
		} else if (l->op == WD_PL_DEL) {
			pi++;
		} else if (reindent && qi < hc->post.n && same[qi] != SIZE_MAX && same[qi] >= lo &&
		           same[qi] < hi &&
		           pos + same[qi] - lo < im->n) {
			const img_line *fl = &im->v[pos + same[qi] - lo];

			rc = img_push(&out, fl->p, fl->len, l->no_eol);
			qi++;
		} else if (reindent && !map.identity && !native_side &&
		           ind_native(&map, wd_patch__ltext(p, k), l->len)) {
			map.above_file = above != SIZE_MAX ? &out.v[above] : NULL;
			map.wit.above_ps = map.above_file ? above_ps : NULL;
			map.wit.above_pslen = wd_patch__indent_len(above_ps, above_plen);
			map.wit.above_fs = map.above_file ? map.above_file->p : NULL;
			map.wit.above_fslen = map.above_file ? wd_patch__indent_len(map.above_file->p,
			                                                             map.above_file->len)
			                      : 0;
			rc = push_reindented(&out, owned, &map, lt, l->len, l->no_eol, crlf, jump);
			if (rc == WD_EREFUSED)
				hc->refused_line = k;
			qi++;
		} else if (deep_spaces(lt, l->len) &&
		           (expanded < 0 ? (expanded = tabs_expanded(hc, im)) : expanded)) {
			/* spaces where the file has a tab for every 8 columns, from a
			 * quote that never showed how it writes a tab: refused, not
			 * written into the file */
			hc->refused_line = k;
			rc = WD_EREFUSED;
		} else {
			rc = push_new_line(&out, owned, p, k, crlf);
			qi++;
		}
		if (!rc && l->op != WD_PL_DEL && !only_blanks(lt, l->len) && out.n) {
			above = out.n - 1;
			above_ps = lt;
			above_plen = l->len;
		}
	}
	*new_len = out.n - pos;
	for (size_t i = pos + (hi - lo); i < im->n && !rc; i++)
		rc = img_push(&out, im->v[i].p, im->v[i].len, im->v[i].no_eol);
out:
	if (hc->ev)
		hc->ev->npairs = ev_mark; /* this block's pairs were for this block */
	free(map.v);
	free(same);
	free(del);
	if (rc) {
		free(out.v);
		return rc;
	}
	free(im->v);
	*im = out;
	return 0;
}

static size_t leading_ctx(const struct wd_patch *p, const side *s)
{
	size_t n = 0;

	while (n < s->n && p->lines[s->idx[n]].op == WD_PL_CTX)
		n++;
	return n;
}

static size_t trailing_ctx(const struct wd_patch *p, const side *s)
{
	size_t n = 0;

	while (n < s->n && p->lines[s->idx[s->n - 1 - n]].op == WD_PL_CTX)
		n++;
	return n;
}

typedef struct found {
	size_t pos, lo, hi;
	int level;
	size_t ncands;
	size_t cands[MAX_CANDS];
} found;

/* git's hunk header ends with the nearest line above the hunk that starts
 * with a letter, '_' or '$' (the function it is in): does candidate `start`
 * (the hunk's first old line) sit under that same line? */
static int section_matches(const hunk_ctx *hc, const image *im, size_t start)
{
	const char *sec = hc->p->src + hc->h->sec_off;
	size_t slen = hc->h->sec_len;

	for (size_t i = start; i > 0; i--) {
		const img_line *l = &im->v[i - 1];
		size_t len = l->len;
		char c = len ? l->p[0] : ' ';

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$'))
			continue;
		while (len && is_blank(l->p[len - 1]))
			len--;
		return slen <= len && !memcmp(l->p, sec, slen);
	}
	return 0;
}

/* Is line l the anchor of a '*** Begin Patch' hunk (its "@@" text), blanks
 * aside? A long anchor may be a git function line cut short: a prefix. */
static int anchor_line(const img_line *l, const char *a, size_t alen)
{
	size_t s = 0, e = l->len;

	while (s < e && is_blank(l->p[s]))
		s++;
	while (e > s && (is_blank(l->p[e - 1]) || l->p[e - 1] == '\r'))
		e--;
	return e - s == alen ? !memcmp(l->p + s, a, alen)
	                     : alen >= 40 && e - s > alen && !memcmp(l->p + s, a, alen);
}

/* The format's meaning of an anchor: the hunk is the first place its old
 * lines match at or after a line that is the anchor (itself after a line
 * that is the outer anchor, when there is one). Keep the candidates that
 * are: the nearest anchor line at or above each has no other candidate
 * between the two, and an outer anchor line above it. One pass over the
 * lines up to the last candidate (candidates are in file order). */
static void anchor_narrow(found *fd, const hunk_ctx *hc, const image *im, int *keep)
{
	const wd_hunk *h = hc->h;
	const char *a = hc->p->src + h->sec_off, *o = hc->p->src + h->outer_off;
	size_t prev = SIZE_MAX, anchor = SIZE_MAX, outer = SIZE_MAX, line = 0;
	int anchor_outer = 0;  /* an outer anchor line lies above `anchor` */

	for (size_t i = 0; i < fd->ncands; i++) {
		size_t start = fd->cands[i] >= fd->lo ? fd->cands[i] - fd->lo : 0;

		for (; line <= start && line < im->n; line++) {
			if (anchor_line(&im->v[line], a, h->sec_len)) {
				anchor = line;
				anchor_outer = outer != SIZE_MAX;
			}
			if (h->outer_len && anchor_line(&im->v[line], o, h->outer_len))
				outer = line;
		}
		keep[i] = anchor != SIZE_MAX && (prev == SIZE_MAX || prev < anchor) &&
		          (!h->outer_len || anchor_outer);
		prev = start;
	}
}

/* Where the later hunks of the file can go (exact, else whitespace match);
 * n = 0 leaves a hunk unconstrained (no match, too many, or no old lines). */
typedef struct later {
	size_t cands[MAX_CANDS];
	size_t n, len;
} later;

static int later_build(later **out, const hunk_ctx *hc, const image *im)
{
	size_t first = hc->num, total = hc->f->nhunks;
	later *v = calloc(total > first ? total - first : 1, sizeof(*v));
	int rc = 0;

	if (!v)
		return wd_patch__oom();
	for (size_t j = first; j < total && !rc; j++) {
		side pre;
		later *lt = &v[j - first];

		if ((rc = side_build(&pre, hc->p, &hc->f->hunks[j], WD_PL_ADD)) != 0)
			break;
		if (pre.n) {
			lt->n = find_all(lt->cands, hc->p, &pre, 0, pre.n, im, LVL_EXACT);
			if (lt->n == 0)
				lt->n = find_all(lt->cands, hc->p, &pre, 0, pre.n, im, LVL_WS);
			if (lt->n > MAX_CANDS)
				lt->n = 0;
		}
		lt->len = pre.n;
		free(pre.idx);
	}
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* Can every later hunk still be placed, in order, after `end`? */
static int later_fit(const later *v, size_t count, size_t end)
{
	for (size_t j = 0; j < count; j++) {
		size_t k = 0;

		if (v[j].n == 0)
			continue;
		while (k < v[j].n && v[j].cands[k] < end)
			k++;
		if (k == v[j].n)
			return 0;
		end = v[j].cands[k] + v[j].len;
	}
	return 1;
}

/* Keep the candidates for which keep[i] is set, when that leaves some. */
static void narrow(found *fd, const int *keep)
{
	size_t nk = 0;

	for (size_t i = 0; i < fd->ncands; i++)
		nk += keep[i] != 0;
	if (nk == 0 || nk == fd->ncands)
		return;
	nk = 0;
	for (size_t i = 0; i < fd->ncands; i++)
		if (keep[i])
			fd->cands[nk++] = fd->cands[i];
	fd->ncands = nk;
}

/*
 * Choose among candidates, using only evidence in the patch: the order of a
 * diff's hunks (after the previous hunk, and leaving room for the later
 * ones), the header's exact line, and the function named after "@@". 1
 * chosen, 0 still ambiguous, <0 error.
 */
static int choose(found *fd, const hunk_ctx *hc, const image *im, size_t min_pos, int ordered)
{
	size_t lo = fd->lo, span = fd->hi - fd->lo;
	int keep[MAX_CANDS];
	later *lv = NULL;
	int rc;

	if (fd->ncands > MAX_CANDS)
		return 0;
	if (ordered) {
		for (size_t i = 0; i < fd->ncands; i++)
			keep[i] = fd->cands[i] >= min_pos + lo;
		narrow(fd, keep);
	}
	/* one of n identical edits: only when its old lines match exactly as
	 * many separate places as the group has edits left, the first of them
	 * (the earlier edits took theirs); else not at all */
	if (hc->h->rep_n > 1) {
		size_t i = 1;

		if (fd->ncands != hc->h->rep_n - hc->h->rep_i)
			return 0;
		while (i < fd->ncands && fd->cands[i] >= fd->cands[i - 1] + span)
			i++;
		if (i == fd->ncands)
			goto chosen;
		return 0;
	}
	if (fd->ncands == 1)
		goto chosen;
	if (hc->h->at_eof && fd->hi == hc->pre.n) {
		for (size_t i = 0; i < fd->ncands; i++)
			keep[i] = fd->cands[i] + span == im->n;
		narrow(fd, keep);
		if (fd->ncands == 1)
			goto chosen;
	}
	for (size_t i = 0; hc->hint >= 0 && i < fd->ncands; i++) {
		if ((long)fd->cands[i] == hc->hint + (long)lo) {
			fd->cands[0] = fd->cands[i];
			fd->ncands = 1;
			goto chosen;
		}
	}
	/* git computes that line from the hunk's first line; trust it only when
	 * the hunk still starts with git's three lines of context (a trimmed
	 * hunk starts lower, under another line) */
	if (hc->h->sec_len && hc->h->sec_anchor) {
		anchor_narrow(fd, hc, im, keep);
		narrow(fd, keep);
		if (fd->ncands == 1)
			goto chosen;
	} else if (hc->h->sec_len && leading_ctx(hc->p, &hc->pre) >= 3) {
		for (size_t i = 0; i < fd->ncands; i++)
			keep[i] = section_matches(hc, im, fd->cands[i] >= lo ? fd->cands[i] - lo : 0);
		narrow(fd, keep);
		if (fd->ncands == 1)
			goto chosen;
	}
	if (ordered && hc->num < hc->f->nhunks) {
		if ((rc = later_build(&lv, hc, im)) != 0)
			return rc;
		for (size_t i = 0; i < fd->ncands; i++)
			keep[i] = later_fit(lv, hc->f->nhunks - hc->num, fd->cands[i] + span);
		free(lv);
		narrow(fd, keep);
		if (fd->ncands == 1)
			goto chosen;
	}
	return 0;
chosen:
	fd->pos = fd->cands[0];
	return 1;
}

/* Look for the hunk's old side: 1 found (fd->pos/lo/hi), 0 not found,
 * -1 ambiguous (fd->cands), other negatives are errors. */
static int locate(found *fd, hunk_ctx *hc, const image *im, size_t min_pos)
{
	const struct wd_patch *p = hc->p;
	size_t lead = leading_ctx(p, &hc->pre), trail = trailing_ctx(p, &hc->pre);
	int rc;

	for (int level = LVL_EXACT; level <= LVL_TRIM; level++) {
		size_t tmax = level == LVL_TRIM ? MAX_TRIM : 0;

		for (size_t t = level == LVL_TRIM ? 1 : 0; t <= tmax; t++) {
			size_t lo = t < lead ? t : lead, hi = hc->pre.n - (t < trail ? t : trail);

			if (level == LVL_TRIM && (lo == 0 && hi == hc->pre.n))
				continue;
			if (hi <= lo)
				break;
			fd->level = level;
			fd->lo = lo;
			fd->hi = hi;
			fd->ncands = find_all(fd->cands, p, &hc->pre, lo, hi, im, level == LVL_EXACT ?
			                      LVL_EXACT : LVL_WS);
			if (fd->ncands == 0)
				continue;
			rc = choose(fd, hc, im, min_pos, !hc->f->sr);
			return rc < 0 ? rc : rc ? 1 : -1;
		}
	}
	return 0;
}

static int json_hunk(json_t *jhunks, size_t num, const char *status, const found *fd, long hint)
{
	json_t *o = json_object();

	if (!o || json_object_set_new(o, "hunk", json_integer((json_int_t)num)) ||
	    json_object_set_new(o, "status", json_string(status)))
		goto fail;
	if (fd) {
		long at = (long)fd->pos - (long)fd->lo;

		if (json_object_set_new(o, "line", json_integer((json_int_t)(at < 0 ? 0 : at) + 1)) ||
		    json_object_set_new(o, "match", json_string(level_names[fd->level])) ||
		    (hint >= 0 && json_object_set_new(o, "offset",
		                                      json_integer((json_int_t)(at - hint)))))
			goto fail;
	}
	if (json_array_append_new(jhunks, o))
		return wd_patch__oom();
	return 0;
fail:
	json_decref(o);
	return wd_patch__oom();
}

/* 0-based position of the hunk's first old line per its header; a hunk
 * without old lines inserts after line old_start. */
static long header_pos(const wd_hunk *h, size_t pre_n)
{
	if (!h->has_numbers)
		return -1;
	if (pre_n == 0)
		return h->old_start;
	return h->old_start > 0 ? h->old_start - 1 : 0;
}

/* A hunk with no old lines: only into an empty file, or at the end when the
 * header says so. */
static int place_empty(found *fd, const hunk_ctx *hc, const image *im)
{
	memset(fd, 0, sizeof(*fd));
	if (im->n == 0 || hc->h->at_eof || (hc->hint >= 0 && (size_t)hc->hint == im->n)) {
		fd->pos = im->n;
		return 1;
	}
	return 0;
}

/* The pairs of a block found in one place only, and only with whitespace
 * ignored: how the model's quote re-indented the file. */
static int evidence_block(wd_ind_evidence *ev, const struct wd_patch *p, const side *pre,
                          const image *im)
{
	size_t cands[MAX_CANDS];
	int rc = 0;

	if (!im->n || find_all(cands, p, pre, 0, pre->n, im, LVL_EXACT) != 0 ||
	    find_all(cands, p, pre, 0, pre->n, im, LVL_WS) != 1)
		return 0;
	for (size_t i = 0; i < pre->n && !rc; i++) {
		const char *pl = wd_patch__ltext(p, pre->idx[i]);
		size_t plen = p->lines[pre->idx[i]].len;
		const img_line *fl = &im->v[cands[0] + i];

		if (!only_blanks(pl, plen) && !only_blanks(fl->p, fl->len))
			rc = wd_patch__ev_pair_add(ev, pl, wd_patch__indent_len(pl, plen), fl->p,
			                           wd_patch__indent_len(fl->p, fl->len));
	}
	return rc;
}

/* The file's indentation strings, and the evidence of every block of the
 * reply for this file: one block may show the depth another block's new
 * line needs. */
static int evidence_gather(wd_ind_evidence *ev, const struct wd_patch *p, const wd_pfile *f,
                           const image *im)
{
	const img_line *above = NULL;
	int rc = 0;

	if ((rc = wd_patch__echo_init(&ev->echo, im->n)) != 0)
		return rc;
	for (size_t i = 0; i < im->n && !rc; i++) {
		rc = wd_patch__ev_vocab_add(ev, im->v[i].p, im->v[i].len,
		                            !above || !open_line(above->p, above->len));
		if (!rc)
			rc = wd_patch__echo_add(&ev->echo, im->v[i].p, im->v[i].len);
		if (only_blanks(im->v[i].p, im->v[i].len))
			continue;
		if (above)
			wd_patch__habit_learn(&ev->habit, above->p, above->len, im->v[i].p,
			                      im->v[i].len);
		above = &im->v[i];
	}
	for (size_t h = 0; h < f->nhunks && !rc && !ev->off; h++) {
		side pre;

		if ((rc = side_build(&pre, p, &f->hunks[h], WD_PL_ADD)) != 0)
			break;
		if (pre.n)
			rc = evidence_block(ev, p, &pre, im);
		free(pre.idx);
	}
	return rc;
}

int wd_patch__fuzzy_apply(wd_buf *out, wd_fuzzy_result *res, wd_patch_report *r,
                          const struct wd_patch *p, const wd_pfile *f, const char *display_path,
                          const char *orig, size_t orig_len, json_t *jhunks)
{
	image im = { 0 };
	wd_strvec owned = WD_STRVEC_INIT;
	wd_ind_evidence ev = { 0 };
	size_t min_pos = 0;
	long delta = 0, drift = 0;
	int crlf = 0, rc, all_already = 1;

	memset(res, 0, sizeof(*res));
	if ((rc = img_load(&im, orig, orig_len, &crlf)) != 0 ||
	    (rc = evidence_gather(&ev, p, f, &im)) != 0)
		goto out;
	for (size_t h = 0; h < f->nhunks; h++) {
		hunk_ctx hc = { p, f, &f->hunks[h], h + 1, f->nhunks, display_path, -1, { 0 }, { 0 },
		                SIZE_MAX, &ev };
		found fd;
		long base;
		int st, already = 0;
		size_t new_len = 0;

		if ((rc = side_build(&hc.pre, p, hc.h, WD_PL_ADD)) != 0 ||
		    (rc = side_build(&hc.post, p, hc.h, WD_PL_DEL)) != 0) {
			free(hc.pre.idx);
			goto out;
		}
		base = header_pos(hc.h, hc.pre.n);
		if (base >= 0)
			hc.hint = base + delta + drift;
		if (hc.hint < 0 && base >= 0)
			hc.hint = 0;
		if (hc.pre.n == 0)
			st = place_empty(&fd, &hc, &im);
		else
			st = locate(&fd, &hc, &im, min_pos);
		if (st < -1) {
			rc = st;
			free(hc.pre.idx);
			free(hc.post.idx);
			goto out;
		}
		if (st == 1) {
			long at = (long)fd.pos - (long)fd.lo;

			if (fd.level > res->level_max)
				res->level_max = fd.level;
			rc = splice(&im, &hc, fd.pos, fd.lo, fd.hi, fd.level, crlf, &owned, &new_len);
			if (rc == WD_EREFUSED) {
				res->refused = 1;
				all_already = 0;
				const char *bl = hc.refused_line != SIZE_MAX
				                 ? wd_patch__ltext(p, hc.refused_line) : "";
				int bll = hc.refused_line != SIZE_MAX
				          ? (int)p->lines[hc.refused_line].len : 0;

				rc = wd_patch__refuse(r, display_path, hc.num, "indentation", NULL,
				                      "%s: hunk %zu of %zu matches line %ld only when "
				                      "whitespace is ignored, and its new lines' indentation "
				                      "cannot be mapped to the file's (its lines are indented "
				                      "unlike the file's, by no one rule%s).%s%.*s%s Copy the "
				                      "old lines with the file's exact indentation, and indent "
				                      "the new ones as the file does.\n", display_path,
				                      hc.num, hc.total, at + 1,
				                      bll ? "; or a new line that continues the one above "
				                            "or jumps deeper, which the file may align with "
				                            "spaces after its tabs" : "",
				                      bll ? " Ambiguous line: `" : "", bll, bl,
				                      bll ? "`." : "");
				if (!rc)
					rc = json_hunk(jhunks, hc.num, "refused", NULL, -1);
				free(hc.pre.idx);
				free(hc.post.idx);
				if (rc)
					goto out;
				continue;
			}
			if (!rc)
				rc = json_hunk(jhunks, hc.num, "applied", &fd, hc.hint);
			if (!rc) {
				if (base >= 0)
					drift = at - (base + delta);
				delta += (long)hc.post.n - (long)hc.pre.n;
				min_pos = fd.pos + new_len;
			}
		} else {
			res->refused = 1;
			if (hc.h->rep_n > 1 && st < 0) {
				rc = wd_patch__refuse(r, display_path, hc.num, "repeated", NULL,
				                      "%s: hunk %zu of %zu is one of %zu identical edits, "
				                      "but its old lines match %zu place%s when %zu %s "
				                      "left: send each change once, or one edit for "
				                      "each place", display_path, hc.num, hc.total,
				                      hc.h->rep_n, fd.ncands, fd.ncands == 1 ? "" : "s",
				                      hc.h->rep_n - hc.h->rep_i,
				                      hc.h->rep_n - hc.h->rep_i == 1 ? "is" : "are");
			} else if (hc.pre.n == 0) {
				rc = wd_patch__refuse(r, display_path, hc.num, "no_context", NULL,
				                      "%s: hunk %zu of %zu only adds lines and has no context "
				                      "lines to place it; include 3 unchanged lines before and "
				                      "after the change", display_path, hc.num, hc.total);
			} else {
				rc = refuse_hunk(r, &hc, &im, fd.cands, st < 0 ? fd.ncands : 0,
				                 st < 0 ? fd.level : 0, &already);
			}
			if (!already)
				all_already = 0;
			if (!rc)
				rc = json_hunk(jhunks, hc.num, already ? "already_applied" :
				               st < 0 ? "ambiguous" : "refused", NULL, -1);
		}
		free(hc.pre.idx);
		free(hc.post.idx);
		if (rc)
			goto out;
	}
	res->already = res->refused && all_already;
	if (res->refused) {
		rc = WD_EREFUSED;
		goto out;
	}
	wd_buf_clear(out);
	for (size_t i = 0; i < im.n && !rc; i++) {
		rc = wd_buf_put(out, im.v[i].p, im.v[i].len);
		if (!rc && (i + 1 < im.n || !im.v[i].no_eol))
			rc = wd_buf_putc(out, '\n');
	}
	if (!rc && !out->ptr)
		rc = wd_buf_grow(out, 0);
out:
	free(im.v);
	wd_strvec_free(&owned);
	wd_patch__echo_free(&ev.echo);
	wd_patch__ev_free(&ev);
	return rc;
}
