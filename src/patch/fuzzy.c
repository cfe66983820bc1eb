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
 * from the file, so whitespace damage in the patch's context is not copied;
 * the new lines of a whitespace match take the file's indentation
 * (reindent.c).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/fnv.h"
#include "fuzzy_int.h"

#define MAX_CANDS 64
#define MAX_TRIM 3
#define SHOW_LINES 8
#define SHOW_COLS 200
#define CLOSEST_MAX_WORK 50000000u

enum { LVL_EXACT = 0, LVL_WS = 1, LVL_TRIM = 2 };

static const char *const level_names[] = { "exact", "whitespace", "trimmed_context" };

/* A hash of s[0..len) that lines equal up to whitespace (eq_ws) share: the
 * text with its ends trimmed and each inner run of blanks as one space
 * (FNV-1a). Matching with whitespace ignored compares these first, so a
 * block is not compared character by character at every line of the file. */
static unsigned long long ws_hash(const char *s, size_t len)
{
	uint64_t h = WD_FNV1A64_INIT;
	size_t i = 0;

	while (len && wd_patch__is_blank(s[len - 1]))
		len--;
	while (i < len && wd_patch__is_blank(s[i]))
		i++;
	while (i < len) {
		unsigned char c = (unsigned char)s[i++];

		if (wd_patch__is_blank((char)c)) {
			while (i < len && wd_patch__is_blank(s[i]))
				i++;
			c = ' ';
		}
		h = wd_fnv1a64_byte(h, c);
	}
	return h;
}

static int img_push(image *im, const char *p, size_t len, int no_eol)
{
	if (WD_ARRAY_RESERVE(im->v, im->cap, im->n + 1, 64) != 0)
		return WD_ENOMEM;
	im->v[im->n].p = p;
	im->v[im->n].len = len;
	im->v[im->n].wsh = ws_hash(p, len);
	im->v[im->n].no_eol = (unsigned char)no_eol;
	im->n++;
	return 0;
}

/* Line l of another image, its hash kept; with `no_eol`. */
static int img_copy(image *im, const img_line *l, int no_eol)
{
	if (WD_ARRAY_RESERVE(im->v, im->cap, im->n + 1, 64) != 0)
		return WD_ENOMEM;
	im->v[im->n] = *l;
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

/* Equal up to whitespace: ends trimmed, inner runs of blanks equal. */
static int eq_ws(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i = 0, j = 0;

	while (al && wd_patch__is_blank(a[al - 1]))
		al--;
	while (bl && wd_patch__is_blank(b[bl - 1]))
		bl--;
	while (i < al && wd_patch__is_blank(a[i]))
		i++;
	while (j < bl && wd_patch__is_blank(b[j]))
		j++;
	while (i < al && j < bl) {
		if (wd_patch__is_blank(a[i]) && wd_patch__is_blank(b[j])) {
			while (i < al && wd_patch__is_blank(a[i]))
				i++;
			while (j < bl && wd_patch__is_blank(b[j]))
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

/* `ah`: a's ws_hash, for a whitespace match. */
static int line_eq(int level, const char *a, size_t al, unsigned long long ah, const img_line *l)
{
	if (level == LVL_EXACT)
		return al == l->len && !memcmp(a, l->p, al);
	return ah == l->wsh && eq_ws(a, al, l->p, l->len);
}

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

/* `h`: the ws_hash of s's lines lo..hi-1, for a whitespace match (else
 * NULL: they are computed here). */
static int matches_at(const struct wd_patch *p, const side *s, size_t lo, size_t hi,
                      const image *im, size_t pos, int level, const unsigned long long *h)
{
	if (pos + (hi - lo) > im->n)
		return 0;
	for (size_t i = lo; i < hi; i++) {
		size_t k = s->idx[i];
		const char *t = wd_patch__ltext(p, k);
		unsigned long long th = level == LVL_EXACT ? 0
		                        : h ? h[i - lo] : ws_hash(t, p->lines[k].len);

		if (!line_eq(level, t, p->lines[k].len, th, &im->v[pos + i - lo]))
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
	unsigned long long *h = NULL;

	if (m > im->n)
		return 0;
	/* without memory for the hashes, each comparison computes its own */
	if (level != LVL_EXACT && m && (h = malloc(m * sizeof(*h))) != NULL)
		for (size_t i = lo; i < hi; i++)
			h[i - lo] = ws_hash(wd_patch__ltext(p, s->idx[i]), p->lines[s->idx[i]].len);
	for (size_t pos = 0; pos + m <= im->n; pos++) {
		if (!matches_at(p, s, lo, hi, im, pos, level, h))
			continue;
		if (n < MAX_CANDS)
			cands[n] = pos;
		n++;
	}
	free(h);
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

/* A new line at the file's indentation (wd_patch__reindent_line), with the
 * '\r' a CRLF file needs; pushed to `out`, owned by `owned`. */
static int push_reindented(image *out, wd_strvec *owned, const ind_map *m, const char *s,
                           size_t len, int no_eol, int crlf, int jump)
{
	wd_buf b = WD_BUF_INIT;
	int rc = wd_patch__reindent_line(&b, m, s, len, jump);

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
		if (l->op == WD_PL_DEL && wd_patch__indent_len(t, l->len) && !wd_patch__only_blanks(t, l->len)) {
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

		if (p->lines[k].op != WD_PL_DEL || wd_patch__only_blanks(pl, p->lines[k].len))
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

/* Is some line of the hunk, old or new, indented with a tab? */
static int hunk_has_tab(const hunk_ctx *hc)
{
	const struct wd_patch *p = hc->p;

	for (size_t k = hc->h->first; k < hc->h->first + hc->h->n; k++)
		if (memchr(wd_patch__ltext(p, k), '\t',
		           wd_patch__indent_len(wd_patch__ltext(p, k), p->lines[k].len)))
			return 1;
	return 0;
}

/* How deep the line's leading spaces are, as a tab's expansion could be:
 * 4 (exactly: one tab of 4 columns; 5 to 7 spaces are an alignment) or 8
 * (8 and more), else 0. */
static size_t space_depth(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[n] == ' ')
		n++;
	return n < 4 || wd_patch__only_blanks(s, len) ? 0 : n >= 8 ? 8 : n == 4 ? 4 : 0;
}

/*
 * Would a new line's leading spaces (exactly 4: a tab of 4 columns; or 8 and
 * more) be the model's expansion of the file's tabs? The file starts lines with
 * tabs and never with as many spaces (`depth`: 4 or 8, space_depth), and no
 * line of the hunk (as the model wrote it) is indented with a tab: nothing
 * says the model writes the file's tabs as tabs. Such a line is not kept as
 * written, even where the quote matched the file byte for byte (a block that
 * quotes only unindented lines and comments).
 */
static int tabs_expanded(const hunk_ctx *hc, const image *im, size_t depth)
{
	int tabs = 0;

	for (size_t i = 0; i < im->n; i++) {
		size_t d = space_depth(im->v[i].p, im->v[i].len);

		if (d && d >= depth)
			return 0;
		tabs |= im->v[i].len && im->v[i].p[0] == '\t';
	}
	if (!tabs)
		return 0;
	/* a tab anywhere in the hunk's indentation, old or new, shows how the
	 * model writes one */
	return !hunk_has_tab(hc);
}

/*
 * A block that matched the file byte for byte, in a file where the reply's
 * other blocks show what its quotes did to the file's tabs (they became a
 * number of spaces, the same under every damage that fits:
 * wd_patch__ev_tab_width): its new lines indented with spaces went through
 * the same damage (the block quoted nothing the damage changes), and are
 * re-indented as the others' are, when one of them stands where the file
 * writes tabs: a whole number of tabs deep, which the file starts lines
 * with EXPANDED_MARGIN times as often as with the line's spaces (a file
 * indented with 4 spaces and a few tabs keeps a new line's 4 spaces; gitk
 * writes 8 columns as a tab 1735 times and as 8 spaces 14); or, where the
 * quotes kept every column (tabs to stops of 8), 8 columns deep or more,
 * since the column rule then weighs the file's ways of writing each column
 * line by line. A tab anywhere in the hunk's indentation says the model
 * kept this block's tabs.
 */
#define EXPANDED_MARGIN 4

/* Bodies read by opener_width, at most (each is looked for among the
 * block's old lines). */
#define OPENER_MAX 8

/* Is s an old line of the block, blanks and all? */
static int quoted_line(const hunk_ctx *hc, const char *s, size_t len)
{
	for (size_t i = 0; i < hc->pre.n; i++)
		if (hc->p->lines[hc->pre.idx[i]].len == len &&
		    !memcmp(wd_patch__ltext(hc->p, hc->pre.idx[i]), s, len))
			return 1;
	return 0;
}

/*
 * Where no quote of the reply showed what a tab became, the block's own new
 * lines may: the first line of a body under an unindented line that opens a
 * block (`struct x {`, `... || {`, `/re/ {`) or a quote at its end (a shell
 * test's `test_expect_success 'x' '`), in a file that puts such a
 * body one tab deep and writes its deep lines with tabs (indent_habit.c),
 * is one tab written by the model, as wide as its spaces. The width (4 or
 * 8: two spaces are an author's indent as often as a tab) when every such
 * new line of the block says the same and the file starts lines with a tab
 * EXPANDED_MARGIN times as often as with those spaces, else 0.
 */
static size_t opener_width(const hunk_ctx *hc)
{
	const struct wd_patch *p = hc->p;
	const char *above = NULL;
	size_t alen = 0, width = 0, seen = 0;

	for (size_t k = hc->h->first; k < hc->h->first + hc->h->n && seen < OPENER_MAX; k++) {
		const char *t = wd_patch__ltext(p, k);
		size_t len = p->lines[k].len, il = wd_patch__indent_len(t, len);

		if (p->lines[k].op == WD_PL_DEL || wd_patch__only_blanks(t, len))
			continue;
		if (above && p->lines[k].op == WD_PL_ADD &&
		    wd_patch__habit_body_tab(&hc->ev->habit, above, alen)) {
			/* a body the model repeated as the block quotes it is the
			 * file's own, spaces and all (the block matched byte for
			 * byte); one it re-indented is new */
			if (quoted_line(hc, t, len) || (il != 4 && il != 8) || (width && width != il))
				return 0;
			width = il;
			seen++;
		}
		above = t;
		alen = len;
	}
	/* the file writes a level with a tab, not with these spaces */
	if (width && wd_patch__ev_tab_lines(hc->ev, 1) <
	                     EXPANDED_MARGIN * wd_patch__ev_lines(hc->ev, "        ", width))
		return 0;
	return width;
}

static int exact_expanded(const hunk_ctx *hc)
{
	const struct wd_patch *p = hc->p;
	size_t tab = hc->ev && !hc->ev->native ? wd_patch__ev_tab_width(hc->ev) : 0;
	size_t body;
	int changed = 0, columns;

	if (hunk_has_tab(hc))
		return 0;
	/* nothing else in the reply tells: the block's own bodies may, when the
	 * other pairs fit them (their pair is the block's, dropped with its
	 * others when it is spliced) */
	if (!tab && hc->ev && !hc->ev->native && !hc->ev->off && hc->ev->tabs &&
	    (body = opener_width(hc)) != 0) {
		if (wd_patch__ev_count_add(hc->ev, body, 1, 0))
			return WD_ENOMEM;
		tab = wd_patch__ev_tab_width(hc->ev);
	}
	if (tab < 2)
		return 0;
	columns = wd_patch__ev_keeps_columns(hc->ev);
	for (size_t k = hc->h->first; k < hc->h->first + hc->h->n; k++) {
		const char *t = wd_patch__ltext(p, k);
		size_t il = wd_patch__indent_len(t, p->lines[k].len);

		if (p->lines[k].op != WD_PL_ADD || wd_patch__only_blanks(t, p->lines[k].len))
			continue;
		changed |= (columns && il >= 8) ||
		           (il && il % tab == 0 && wd_patch__ev_tab_lines(hc->ev, il / tab) >=
		                                   EXPANDED_MARGIN * wd_patch__ev_lines(hc->ev, t, il));
	}
	return changed;
}

/* Does an old line of the block start with exactly the blanks of s? */
static int quoted_blanks(const hunk_ctx *hc, const char *s, size_t len)
{
	size_t il = wd_patch__indent_len(s, len);

	for (size_t i = 0; i < hc->pre.n; i++) {
		const char *t = wd_patch__ltext(hc->p, hc->pre.idx[i]);
		size_t tlen = hc->p->lines[hc->pre.idx[i]].len;

		if (!wd_patch__only_blanks(t, tlen) && wd_patch__indent_len(t, tlen) == il &&
		    !memcmp(t, s, il))
			return 1;
	}
	return 0;
}

static int splice(image *im, hunk_ctx *hc, size_t pos, size_t lo, size_t hi, int level,
                  int crlf, wd_strvec *owned, size_t *new_len)
{
	const struct wd_patch *p = hc->p;
	image out = { 0 };
	ind_map map = { 0 };
	size_t pi = 0, qi = 0, *same = NULL, unit = 0, depth_unit = 0, prev_w = 0;
	size_t ev_mark = hc->ev ? hc->ev->npairs : 0, above = SIZE_MAX, above_plen = 0;
	const char *above_ps = NULL;
	wd_ind_removed *del = NULL;
	int rc = 0, reindent = level > LVL_EXACT, native_side = 0, lost_tabs = 0, prev_open = 0;
	int prev_header = 0;
	int have_prev = 0, expanded[2] = { -1, -1 }; /* tabs_expanded at 4 and 8, asked once */
	int damaged = level == LVL_EXACT ? exact_expanded(hc) : 0;

	if (damaged < 0) {
		rc = damaged;
		goto out;
	}
	reindent |= damaged;
	if (reindent &&
	    ((rc = wd_patch__ind_map_build(&map, p, &hc->pre, &hc->post, lo, hi, im, pos)) != 0 ||
	     (rc = wd_patch__same_lines(&same, p, &hc->pre, &hc->post)) != 0))
		goto out;
	for (size_t i = 0; reindent && hc->ev && i < map.n && !rc; i++)
		rc = wd_patch__ev_pair_add(hc->ev, map.v[i].ps, map.v[i].pslen, map.v[i].fs,
		                           map.v[i].fslen);
	if (rc)
		goto out;
	map.ev = hc->ev;
	if (damaged) {
		map.identity = 0; /* the quote showed nothing the damage changes */
		map.exact = 1;
	}
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
		    (!wd_patch__ind_native(&map, t, p->lines[k].len) ||
		     (lost_tabs && memchr(t, '\t', wd_patch__indent_len(t, p->lines[k].len)))))
			native_side = 1;
	}
	if (reindent && !damaged && !native_side &&
	    ((hc->ev && hc->ev->native) || removed_lines_exact(hc, im, pos, lo, hi)))
		native_side = 1;
	if (reindent) {
		unit = wd_patch__model_unit(&map, 0);
		depth_unit = wd_patch__model_unit(&map, 1);
		if ((rc = removed_collect(&del, &map.wit.ndel, hc, im, pos, lo, hi)) != 0)
			goto out;
		map.wit.del = del;
	}
	for (size_t i = 0; i < pos && i < im->n && !rc; i++)
		rc = img_copy(&out, &im->v[i], 0);
	for (size_t k = hc->h->first; k < hc->h->first + hc->h->n && !rc; k++) {
		const wd_pline *l = &p->lines[k];
		const char *lt = wd_patch__ltext(p, k);
		size_t sd;
		size_t lw = wd_patch__indent_width(lt, wd_patch__indent_len(lt, l->len));
		/* (the body of a condition the line above closes is a jump only
		 * past a step of depth: aligned pairs, two tabs and 5 spaces among
		 * 4, 8, 12, make the step 2 and every new level a jump) */
		size_t step = prev_header ? depth_unit : unit;
		int jump = !have_prev ? 0 : prev_open ? JUMP_OPEN
		           : step && lw > prev_w + step ? JUMP_DEEP : 0;

		if (l->op != WD_PL_DEL && !wd_patch__only_blanks(lt, l->len)) {
			prev_open = wd_patch__open_line(lt, l->len);
			prev_header = reindent && wd_patch__habit_header(lt, l->len);
			prev_w = lw;
			have_prev = 1;
		}

		if (l->op == WD_PL_CTX) {
			size_t at = pos + pi - lo;

			if (pi >= lo && pi < hi && at < im->n)
				rc = img_copy(&out, &im->v[at], im->v[at].no_eol);
			pi++;
			qi++;
		} else if (l->op == WD_PL_DEL) {
			pi++;
		} else if (reindent && qi < hc->post.n && same[qi] != SIZE_MAX && same[qi] >= lo &&
		           same[qi] < hi &&
		           pos + same[qi] - lo < im->n) {
			const img_line *fl = &im->v[pos + same[qi] - lo];

			rc = img_copy(&out, fl, l->no_eol);
			qi++;
		} else if (reindent && !map.identity && !native_side &&
		           wd_patch__ind_native(&map, wd_patch__ltext(p, k), l->len)) {
			map.above_file = above != SIZE_MAX ? &out.v[above] : NULL;
			map.wit.above_ps = map.above_file ? above_ps : NULL;
			map.wit.above_pslen = wd_patch__indent_len(above_ps, above_plen);
			map.wit.above_fs = map.above_file ? map.above_file->p : NULL;
			map.wit.above_fslen = map.above_file ? wd_patch__indent_len(map.above_file->p,
			                                                             map.above_file->len)
			                      : 0;
			rc = push_reindented(&out, owned, &map, lt, l->len, l->no_eol, crlf, jump);
			/* in a block that matched byte for byte, blanks the quote
			 * showed on one of its old lines are the file's own there */
			if (rc == WD_EREFUSED && damaged && quoted_blanks(hc, lt, l->len))
				rc = push_new_line(&out, owned, p, k, crlf);
			if (rc == WD_EREFUSED)
				hc->refused_line = k;
			qi++;
		} else if ((sd = space_depth(lt, l->len)) != 0 && !(hc->ev && hc->ev->native) &&
		           (expanded[sd == 8] < 0 ? (expanded[sd == 8] = tabs_expanded(hc, im, sd))
		                                  : expanded[sd == 8])) {
			/* spaces where the file has a tab (for 8 columns, or for 4:
			 * exactly 4 spaces), from a quote that never showed how it
			 * writes a tab: refused, not written into the file */
			hc->refused_line = k;
			rc = WD_EREFUSED;
		} else {
			rc = push_new_line(&out, owned, p, k, crlf);
			qi++;
		}
		if (!rc && l->op != WD_PL_DEL && !wd_patch__only_blanks(lt, l->len) && out.n) {
			above = out.n - 1;
			above_ps = lt;
			above_plen = l->len;
		}
	}
	/* a format that cannot say "no newline at end of file" (SEARCH/REPLACE,
	 * the codex patch): a block whose old lines run to the end of a file
	 * that has none, and that changes its last line, leaves none, as
	 * commits do (git's, jansson's and libgit2's: 530 of 542); one that
	 * writes the last line again as it was ends it, as an editor does (2
	 * commits in 3). A
	 * unified diff says it itself, with its marker. */
	if (!rc && (hc->f->sr || hc->f->codex) && im->n && pos + (hi - lo) == im->n &&
	    im->v[im->n - 1].no_eol && out.n > pos &&
	    (out.v[out.n - 1].len != im->v[im->n - 1].len ||
	     memcmp(out.v[out.n - 1].p, im->v[im->n - 1].p, im->v[im->n - 1].len)))
		out.v[out.n - 1].no_eol = 1;
	*new_len = out.n - pos;
	for (size_t i = pos + (hi - lo); i < im->n && !rc; i++)
		rc = img_copy(&out, &im->v[i], im->v[i].no_eol);
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
		while (len && wd_patch__is_blank(l->p[len - 1]))
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

	while (s < e && wd_patch__is_blank(l->p[s]))
		s++;
	while (e > s && (wd_patch__is_blank(l->p[e - 1]) || l->p[e - 1] == '\r'))
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
static int evidence_block(wd_ind_evidence *ev, const struct wd_patch *p, const wd_hunk *h,
                          const side *pre, const image *im)
{
	size_t cands[MAX_CANDS];
	int rc = 0, lost = 0;

	if (!im->n || find_all(cands, p, pre, 0, pre->n, im, LVL_EXACT) != 0 ||
	    find_all(cands, p, pre, 0, pre->n, im, LVL_WS) != 1)
		return 0;
	/* the quote lost the file's tabs (an old line the file indents with a
	 * tab quoted without one) while a new line is indented with a tab: the
	 * new lines were written for the file, in this block and the others */
	for (size_t i = 0; i < pre->n; i++) {
		const char *pl = wd_patch__ltext(p, pre->idx[i]);
		const img_line *fl = &im->v[cands[0] + i];

		lost |= !memchr(pl, '\t', wd_patch__indent_len(pl, p->lines[pre->idx[i]].len)) &&
		        memchr(fl->p, '\t', wd_patch__indent_len(fl->p, fl->len)) != NULL;
	}
	for (size_t k = h->first; k < h->first + h->n; k++) {
		const char *t = wd_patch__ltext(p, k);
		size_t il = wd_patch__indent_len(t, p->lines[k].len);

		if (lost && p->lines[k].op == WD_PL_ADD && memchr(t, '\t', il))
			ev->native = 1;
		/* damage that doubles a space (or halves a tab to 2) leaves
		 * every width even: an odd one, on a line with text, says a
		 * space stayed one column */
		if (il % 2 && il < p->lines[k].len && !memchr(t, '\t', il))
			ev->odd = 1;
	}
	for (size_t i = 0; i < pre->n && !rc && !ev->off; i++) {
		const char *pl = wd_patch__ltext(p, pre->idx[i]);
		size_t plen = p->lines[pre->idx[i]].len;
		const img_line *fl = &im->v[cands[0] + i];

		if (!wd_patch__only_blanks(pl, plen) && !wd_patch__only_blanks(fl->p, fl->len))
			rc = wd_patch__ev_pair_add(ev, pl, wd_patch__indent_len(pl, plen), fl->p,
			                           wd_patch__indent_len(fl->p, fl->len));
	}
	return rc;
}

/* The pairs of the blocks of file f (the image im), into ev; `native`: and
 * ev->native, for which blocks are read on past unusable pairs. */
static int evidence_blocks(wd_ind_evidence *ev, const struct wd_patch *p, const wd_pfile *f,
                           const image *im, int native)
{
	int rc = 0;

	for (size_t h = 0; h < f->nhunks && !rc && !(ev->off && (ev->native || !native)); h++) {
		side pre;

		if ((rc = side_build(&pre, p, &f->hunks[h], WD_PL_ADD)) != 0)
			break;
		if (pre.n)
			rc = evidence_block(ev, p, &f->hunks[h], &pre, im);
		free(pre.idx);
	}
	return rc;
}

/* The file's indentation strings, and the evidence of every block of the
 * reply for this file: one block may show the depth another block's new
 * line needs. */
static int evidence_gather(wd_ind_evidence *ev, const struct wd_patch *p, const wd_pfile *f,
                           const image *im, const wd_ind_evidence *mine)
{
	const img_line *above = NULL;
	int rc = 0;

	if ((rc = wd_patch__echo_init(&ev->echo, im->n)) != 0)
		return rc;
	for (size_t i = 0; i < im->n && !rc; i++) {
		rc = wd_patch__ev_vocab_add(ev, im->v[i].p, im->v[i].len,
		                            !above || !wd_patch__open_line(above->p, above->len));
		if (!rc)
			rc = wd_patch__echo_add(&ev->echo, im->v[i].p, im->v[i].len);
		if (wd_patch__only_blanks(im->v[i].p, im->v[i].len))
			continue;
		if (above)
			wd_patch__habit_learn(&ev->habit, above->p, above->len, im->v[i].p,
			                      im->v[i].len);
		above = &im->v[i];
	}
	if (rc || !mine)
		return rc ? rc : evidence_blocks(ev, p, f, im, 1);
	/* the blocks were searched once, by wd_patch__pool_add: their pairs
	 * as evidence_blocks adds them (none past the file's own `off`) */
	for (size_t i = 0; i < mine->npairs && !ev->off && !rc; i++)
		rc = wd_patch__ev_count_add(ev, mine->pairs[i].width, mine->pairs[i].tabs,
		                            mine->pairs[i].spaces);
	ev->off |= mine->off;
	ev->native = mine->native;
	ev->odd = mine->odd;
	return rc;
}

int wd_patch__pool_add(wd_ind_pool *pool, wd_ind_evidence *mine, const struct wd_patch *p,
                       const wd_pfile *f, const char *orig, size_t orig_len)
{
	image im = { 0 };
	int crlf = 0, rc;

	if ((rc = img_load(&im, orig, orig_len, &crlf)) != 0 ||
	    (rc = evidence_blocks(mine, p, f, &im, 1)) != 0 || pool->off)
		goto out;
	pool->off = mine->off;
	pool->odd |= mine->odd;
	for (size_t i = 0; i < mine->npairs && !pool->off; i++) {
		size_t k = 0;

		while (k < pool->n && (pool->v[k].width != mine->pairs[i].width ||
		                       pool->v[k].tabs != mine->pairs[i].tabs ||
		                       pool->v[k].spaces != mine->pairs[i].spaces))
			k++;
		if (k < pool->n)
			continue;
		if (pool->n == WD_POOL_MAX) {
			pool->off = 1;
			break;
		}
		pool->v[pool->n].width = mine->pairs[i].width;
		pool->v[pool->n].tabs = mine->pairs[i].tabs;
		pool->v[pool->n].spaces = mine->pairs[i].spaces;
		pool->n++;
	}
out:
	free(im.v);
	return rc;
}

int wd_patch__fuzzy_apply(wd_buf *out, wd_fuzzy_result *res, wd_patch_report *r,
                          const struct wd_patch *p, const wd_pfile *f, const char *display_path,
                          const char *orig, size_t orig_len, json_t *jhunks,
                          const wd_ind_pool *pool, const wd_ind_evidence *mine)
{
	image im = { 0 };
	wd_strvec owned = WD_STRVEC_INIT;
	wd_ind_evidence ev = { 0 };
	size_t min_pos = 0;
	long delta = 0, drift = 0;
	int crlf = 0, rc, all_already = 1;

	memset(res, 0, sizeof(*res));
	if ((rc = img_load(&im, orig, orig_len, &crlf)) != 0 ||
	    (rc = evidence_gather(&ev, p, f, &im, mine)) != 0)
		goto out;
	/* blocks that all matched byte for byte show nothing of the damage; the
	 * reply's other files may */
	if (!ev.npairs && !ev.off && pool && !pool->off) {
		for (size_t i = 0; i < pool->n && !rc; i++)
			rc = wd_patch__ev_count_add(&ev, pool->v[i].width, pool->v[i].tabs,
			                            pool->v[i].spaces);
		if (rc)
			goto out;
	}
	wd_patch__ev_pool_narrow(&ev, pool);
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

				/* an exact match is refused for spaces that may be the
				 * file's tabs expanded (exact_expanded, tabs_expanded) */
				rc = wd_patch__refuse(r, display_path, hc.num, "indentation", NULL,
				                      "%s: hunk %zu of %zu matches line %ld%s, and its new "
				                      "lines' indentation cannot be mapped to the file's "
				                      "(%s%s).%s%.*s%s Copy the old lines with the file's "
				                      "exact indentation, and indent the new ones as the "
				                      "file does.\n", display_path, hc.num, hc.total, at + 1,
				                      fd.level == LVL_EXACT ? ""
				                      : " only when whitespace is ignored",
				                      fd.level == LVL_EXACT
				                      ? "it indents with spaces where the file indents with "
				                        "tabs, which the reply writes as spaces elsewhere or "
				                        "shows no way of writing"
				                      : "its lines are indented unlike the file's, by no one "
				                        "rule",
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
