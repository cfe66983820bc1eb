/*
 * Re-indentation of a hunk's new lines, for a whitespace-tolerant match
 * (fuzzy.c): the width rules over the matched pairs, the evidence of what
 * the quote did to the file's tabs (indent_evidence.c), bracket alignment,
 * the witnesses (indent_witness.c), the file's habits (indent_habit.c), and
 * the checks that take back an answer the quote contradicts. docs/patch.md,
 * "Application", says what each rule does and why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzy_int.h"

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
	if (lo && lo->pw == hi->pw && m->scale && lo->pw)
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

	if (wd_patch__only_blanks(s, len))
		return;
	w = wd_patch__indent_width(s, wd_patch__indent_len(s, len));
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

/* Does file line i continue the non-blank line above it, aligned by spaces
 * after tabs? */
static int file_aligned(const image *im, size_t i, const char *fs, size_t fslen)
{
	const char *t = memchr(fs, '\t', fslen);

	if (!t || !memchr(t, ' ', fslen - (size_t)(t - fs)))
		return 0;
	while (i-- > 0)
		if (!wd_patch__only_blanks(im->v[i].p, im->v[i].len))
			return wd_patch__open_line(im->v[i].p, im->v[i].len);
	return 0;
}

int wd_patch__ind_map_build(ind_map *m, const struct wd_patch *p, const side *pre,
                            const side *post, size_t lo, size_t hi, const image *im, size_t pos)
{
	int mixed = 0;

	memset(m, 0, sizeof(*m));
	m->identity = 1;
	m->v = calloc(hi > lo ? hi - lo : 1, sizeof(*m->v));
	if (!m->v)
		return wd_patch__oom();
	for (size_t i = lo; i < hi && pos + i - lo < im->n; i++) {
		size_t k = pre->idx[i];
		const char *pl = wd_patch__ltext(p, k);
		const img_line *fl = &im->v[pos + i - lo];
		size_t pil = wd_patch__indent_len(pl, p->lines[k].len);
		size_t fil = wd_patch__indent_len(fl->p, fl->len);

		if (wd_patch__only_blanks(pl, p->lines[k].len) || wd_patch__only_blanks(fl->p, fl->len))
			continue;
		if (pil != fil || memcmp(pl, fl->p, pil))
			m->identity = 0;
		m->model_tabs |= memchr(pl, '\t', pil) != NULL;
		m->model_spaces |= memchr(pl, ' ', pil) != NULL;
		if (memchr(fl->p, '\t', fil))
			m->tabs = 1;
		m->v[m->n].pw = wd_patch__indent_width(pl, pil);
		m->v[m->n].fw = wd_patch__indent_width(fl->p, fil);
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
int wd_patch__ind_native(const ind_map *m, const char *s, size_t len)
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
	size_t il = wd_patch__indent_len(above->p, above->len), w = wd_patch__indent_width(above->p, il);

	if (!keep)
		return wd_patch__put_tabs_first(b, col);
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
	fw = wd_patch__indent_width(fl->p, fil);
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
	apw = wd_patch__indent_width(m->wit.above_ps, m->wit.above_pslen);
	afw = wd_patch__indent_width(m->above_file->p, ail);
	fw = wd_patch__indent_width(fs, fslen);
	return (pw > apw && fw <= afw) || (pw < apw && fw >= afw);
}

/*
 * Does an answer that is not sure put the line at another column of the
 * file than the line above, where the quote put the two at one width? In a
 * file indenting with tabs, the damage reads some columns alike (a tab and
 * 4 spaces, two tabs: 8 at 4 columns a tab); the line above's own blanks
 * are always among those the quote's width allows. For a line that
 * continues the line above (a `&&` chain keeps its column) the caller takes
 * such an answer back for the witnesses and the habits: it is the first
 * string the evidence names, not the file's way. (Not for a statement: the
 * body of an `if` whose condition wrapped stands at the width of the
 * condition's last line and is a tab deeper.)
 */
static int ind_leaves_column(const ind_map *m, size_t pw, const char *fs, size_t fslen)
{
	size_t ail;

	if (!m->ev || !m->ev->tabs || !m->above_file || !m->wit.above_ps ||
	    wd_patch__indent_width(m->wit.above_ps, m->wit.above_pslen) != pw)
		return 0;
	ail = wd_patch__indent_len(m->above_file->p, m->above_file->len);
	return wd_patch__indent_width(m->above_file->p, ail) != wd_patch__indent_width(fs, fslen);
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
 * (two tabs and 8 spaces): the next line may copy its blanks or not.
 * Except in a file that nearly never copies the line above's blanks
 * (wd_patch__habit_tabs_first): there a line at or past the column of a line
 * written tabs first is written so too, at any column. 1 written, 0 no
 * answer, WD_ENOMEM.
 */
static int ind_column(wd_buf *b, const ind_map *m, size_t pw)
{
	const img_line *a = m->above_file;
	size_t at = b->len;
	int fresh = pw % 8 == 0, tf, rc;

	if (!m->ev || !wd_patch__ev_keeps_columns(m->ev))
		return 0;
	/* a line at or past the column of a line written tabs first, in a file
	 * that writes such lines tabs first */
	tf = wd_patch__habit_tabs_first(&m->ev->habit);
	if (a) {
		size_t ail = wd_patch__indent_len(a->p, a->len), aw = wd_patch__indent_width(a->p, ail);
		int aligned;

		tf &= pw >= aw && wd_patch__tabs_first(a->p, ail);
		if (pw >= aw) {
			fresh |= pw > aw;
			if (align_blanks(b, a, pw, 1))
				return WD_ENOMEM;
			aligned = !wd_patch__tabs_first(wd_buf_cstr(b) + at, b->len - at) &&
			          wd_patch__ev_has(m->ev, wd_buf_cstr(b) + at, b->len - at);
			wd_buf_truncate(b, at);
			/* (all spaces, under an unindented line: a block's own
			 * old lines may show those, splice keeps them) */
			if (aligned && (!tf || !aw))
				return 0;
		}
	}
	if ((rc = wd_patch__ev_column(m->ev, pw, fresh, b)) != 0 || !tf)
		return rc;
	return wd_patch__put_tabs_first(b, pw) ? WD_ENOMEM : 1;
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
		if (!hb && (ind_contradicts(m, pw, cont, wd_buf_cstr(b) + at, b->len - at) ||
		            (cont && ind_leaves_column(m, pw, wd_buf_cstr(b) + at, b->len - at))))
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
	if (!rc && m->ev &&
	    wd_patch__ev_rivals(m->ev, ps, pslen, wd_buf_cstr(b) + at, b->len - at, m->exact))
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
	/* (a change of unit is only ever found for one width, indented on both
	 * sides: m->v[0].pw is not 0) */
	if (!m->linear || (m->scale && (!m->v[0].pw || pw * m->v[0].fw % m->v[0].pw)) ||
	    off_grid(m, pw))
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

int wd_patch__same_lines(size_t **out, const struct wd_patch *p, const side *pre,
                         const side *post)
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
size_t wd_patch__model_unit(const ind_map *m, int depth_only)
{
	size_t lo = SIZE_MAX, g = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].pw && (!depth_only || !m->v[i].aligned) && m->v[i].pw < lo)
			lo = m->v[i].pw;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].pw && (!depth_only || !m->v[i].aligned))
			g = gcd(g, m->v[i].pw - lo);
	return g ? g : lo == SIZE_MAX ? 0 : lo;
}

/* Does line s[0..len) leave its statement open, so the next line may be
 * aligned under it rather than nested: a backslash, an operator or a comma
 * at its end, or more brackets opened than closed. */
int wd_patch__open_line(const char *s, size_t len)
{
	long depth = 0;
	char q = 0;

	while (len && (wd_patch__is_blank(s[len - 1]) || s[len - 1] == '\r'))
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

int wd_patch__reindent_line(wd_buf *b, const ind_map *m, const char *s, size_t len, int jump)
{
	size_t il = wd_patch__indent_len(s, len);
	int rc = 0;

	if (!wd_patch__only_blanks(s, len)) {
		rc = ind_map_render(b, m, wd_patch__indent_width(s, il), s, il, jump, s + il, len - il);
	} else {
		/* a blank line's blanks are indentation too, mapped when they can be */
		if (il && ind_map_render(b, m, wd_patch__indent_width(s, il), s, il, 0, s + il, 0) != 0)
			wd_buf_clear(b);
		il = len;
	}
	if (!rc)
		rc = wd_buf_put(b, s + il, len - il);
	return rc;
}
