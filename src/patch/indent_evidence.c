/*
 * Indentation evidence for a whitespace-tolerant match: what the model's
 * quote of the file did to its indentation, learnt from the quoted lines
 * that matched, and used to give a new line back the file's own bytes.
 *
 * A model that re-indents a file (4 spaces per tab, 2 per space) loses
 * information: a tab and 2 spaces and two tabs both come back as 8 spaces.
 * Widths alone cannot undo that. But such damage is a function of the
 * characters: every matched line (of this block, and of the other blocks of
 * the reply for the same file) pairs the model's width with the file's count
 * of tabs and spaces, which pins down the columns a tab and a space became.
 * Only then, in a file that indents with tabs, a new line's width is undone:
 *
 *   - when one count of tabs and spaces alone makes the width (0; or 2
 *     columns under 2 per space, one space), that count;
 *   - else, for a line that does not continue the one above, when the
 *     matched lines showed that width, always for the same blanks, and
 *     those are the one string that starts a line of the file with that
 *     damaged width (and a whole number of tabs of that width, a new level
 *     of depth, is among the file's strings or is that string).
 *
 * Evidence that fits no damage or several that disagree, a quote indented
 * with tabs, two strings of the file for the width, or none: the caller
 * falls back to its width rules. The evidence never guesses; and when the
 * quote never showed a tab, it vetoes a width-rule answer that another
 * string starting a line of the file could be read as (ev_rivals). The
 * matcher also asks whether one column past an open bracket of the line
 * above fits the damage (ev_fits_alone) for a continuation line.
 */
#include <stdlib.h>
#include <string.h>

#include "patch_int.h"

/* Above this many distinct indentation strings in one file the evidence is
 * not used (a hostile file cannot make the lookup quadratic). */
#define EV_VOCAB_MAX 512

/* The damages considered: a tab became `tab` columns, a space `space`. A
 * quote at 8 columns a tab showed the file at its own tab width, and then a
 * space is one column: no model halves a tab and doubles a space at once. */
typedef struct ev_damage {
	size_t tab, space;
} ev_damage;

static const ev_damage ev_damages[] = { { 2, 1 }, { 2, 2 }, { 4, 1 }, { 4, 2 }, { 8, 1 } };
#define EV_NDAMAGES (sizeof(ev_damages) / sizeof(*ev_damages))

static void count_blanks(const char *s, size_t len, size_t *tabs, size_t *spaces)
{
	*tabs = *spaces = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\t')
			(*tabs)++;
		else
			(*spaces)++;
	}
}

static int only_spaces(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ')
			return 0;
	return 1;
}

int wd_patch__ev_vocab_add(wd_ind_evidence *ev, const char *line, size_t len, int start)
{
	size_t il = wd_patch__indent_len(line, len), tabs, spaces;
	int rc;

	if (ev->off || il == len)
		return 0; /* blank lines say nothing about depth */
	for (size_t i = 0; i < ev->nvocab; i++) {
		if (ev->vocab[i].len == il && !memcmp(ev->vocab[i].s, line, il)) {
			ev->vocab[i].start |= start;
			ev->vocab[i].n++;
			return 0;
		}
	}
	if (ev->nvocab == EV_VOCAB_MAX) {
		ev->off = 1;
		return 0;
	}
	if ((rc = WD_ARRAY_RESERVE(ev->vocab, ev->vcap, ev->nvocab + 1, 16)) != 0)
		return rc;
	count_blanks(line, il, &tabs, &spaces);
	ev->tabs |= tabs != 0;
	ev->vocab[ev->nvocab].s = line;
	ev->vocab[ev->nvocab].len = il;
	ev->vocab[ev->nvocab].tabs = tabs;
	ev->vocab[ev->nvocab].spaces = spaces;
	ev->vocab[ev->nvocab].start = start;
	ev->vocab[ev->nvocab].n = 1;
	ev->vocab[ev->nvocab].col = wd_patch__indent_width(line, il);
	ev->vocab[ev->nvocab].tabs_first = wd_patch__tabs_first(line, il);
	ev->nvocab++;
	return 0;
}

int wd_patch__ev_count_add(wd_ind_evidence *ev, size_t width, size_t tabs, size_t spaces)
{
	int rc;

	if ((rc = WD_ARRAY_RESERVE(ev->pairs, ev->pcap, ev->npairs + 1, 16)) != 0)
		return rc;
	ev->pairs[ev->npairs].width = width;
	ev->pairs[ev->npairs].tabs = tabs;
	ev->pairs[ev->npairs].spaces = spaces;
	ev->npairs++;
	return 0;
}

int wd_patch__ev_pair_add(wd_ind_evidence *ev, const char *ps, size_t pslen, const char *fs,
                          size_t fslen)
{
	size_t tabs, spaces;

	/* a quote indented with tabs was not re-indented per character: the
	 * damage is not one this evidence describes */
	if (!only_spaces(ps, pslen)) {
		ev->off = 1;
		return 0;
	}
	count_blanks(fs, fslen, &tabs, &spaces);
	return wd_patch__ev_count_add(ev, pslen, tabs, spaces);
}

/* The width damage d gives blanks of `tabs` tabs and `spaces` spaces. */
static size_t ev_width(const ev_damage *d, size_t tabs, size_t spaces)
{
	return tabs * d->tab + spaces * d->space;
}

/* Does every pair fit damage d? */
static int ev_fits(const wd_ind_evidence *ev, const ev_damage *d)
{
	if (ev->odd && d->space != 1)
		return 0;
	for (size_t i = 0; i < ev->npairs; i++)
		if (ev_width(d, ev->pairs[i].tabs, ev->pairs[i].spaces) != ev->pairs[i].width)
			return 0;
	return 1;
}

/* The damages every pair fits, into out[]; how many. */
static size_t ev_fitting(const wd_ind_evidence *ev, ev_damage out[EV_NDAMAGES])
{
	size_t n = 0;

	for (size_t d = 0; d < EV_NDAMAGES; d++)
		if ((!ev->narrow || (ev->narrow & 1u << d)) && ev_fits(ev, &ev_damages[d]))
			out[n++] = ev_damages[d];
	return n;
}

/* The damages ev's own pairs fit, cut to those the pool's pairs (and odd
 * widths) fit too, when that leaves some: a bit per ev_damages[] entry. */
void wd_patch__ev_pool_narrow(wd_ind_evidence *ev, const wd_ind_pool *pool)
{
	unsigned mine = 0, all = 0;

	if (!pool || pool->off || ev->off || !ev->npairs)
		return;
	for (size_t d = 0; d < EV_NDAMAGES; d++) {
		size_t i = 0;

		if (!ev_fits(ev, &ev_damages[d]))
			continue;
		mine |= 1u << d;
		while (i < pool->n &&
		       ev_width(&ev_damages[d], pool->v[i].tabs, pool->v[i].spaces) == pool->v[i].width)
			i++;
		if (i == pool->n && (!pool->odd || ev_damages[d].space == 1))
			all |= 1u << d;
	}
	/* a reply whose files disagree says nothing of this one */
	if (all && all != mine)
		ev->narrow = all;
}

/* The one string that starts a statement in the file with damaged width
 * `w`, or -1 (none or several). In a file indenting with tabs, w tabs' worth
 * of depth is a candidate even where the file has no line that deep yet: a
 * new nesting level must not be taken for some aligned line of the same
 * width. (Strings seen only on lines continuing another are alignment, not
 * where a statement starts.) */
static long ev_original(const wd_ind_evidence *ev, size_t tab, size_t space, size_t w)
{
	long found = -1;
	int depth = ev->tabs && w && w % tab == 0, depth_seen = 0;

	for (size_t i = 0; i < ev->nvocab; i++) {
		if (!ev->vocab[i].start || ev->vocab[i].tabs * tab + ev->vocab[i].spaces * space != w)
			continue;
		if (found >= 0)
			return -1;
		found = (long)i;
		depth_seen = ev->vocab[i].tabs * tab == w;
	}
	return depth && !depth_seen ? -1 : found;
}

/* Did the matched lines show width w, always for these blanks? */
static int ev_seen(const wd_ind_evidence *ev, size_t w, size_t tabs, size_t spaces)
{
	int seen = 0;

	for (size_t i = 0; i < ev->npairs; i++) {
		if (ev->pairs[i].width != w)
			continue;
		if (ev->pairs[i].tabs != tabs || ev->pairs[i].spaces != spaces)
			return 0;
		seen = 1;
	}
	return seen;
}

/*
 * The file's blanks (tabs, spaces) for damaged width `w` under one damage:
 * 1 found, 0 none can be told, -1 no count of tabs and spaces makes w (an
 * odd width where a space became 2 columns: that damage is not the one the
 * line went through).
 * When only one count of tabs and spaces makes w (2 columns under 4 per tab
 * and 2 per space: one space), that is the answer, whatever the file holds.
 * When several do (8: two tabs, a tab and 2 spaces, 4 spaces), the file's
 * own strings decide, with the matched lines showing that width, but not
 * for a line continuing the one above: alignment there may be a string the
 * file never had.
 */
static int ev_answer(const wd_ind_evidence *ev, size_t tab, size_t space, size_t w, int cont,
                     size_t *tabs, size_t *spaces)
{
	size_t n = 0;
	long o;

	for (size_t k = 0; k * tab <= w; k++) {
		if ((w - k * tab) % space)
			continue;
		*tabs = k;
		*spaces = (w - k * tab) / space;
		n++;
	}
	if (n <= 1)
		return n ? 1 : -1;
	if (cont || (o = ev_original(ev, tab, space, w)) < 0 ||
	    !ev_seen(ev, w, ev->vocab[o].tabs, ev->vocab[o].spaces))
		return 0;
	*tabs = ev->vocab[o].tabs;
	*spaces = ev->vocab[o].spaces;
	return 1;
}

/* Write the blanks: the file's own string with these counts when it has
 * exactly one (its order of tabs and spaces), else tabs then spaces. */
static int ev_render(const wd_ind_evidence *ev, size_t tabs, size_t spaces, wd_buf *out)
{
	long found = -1;

	for (size_t i = 0; i < ev->nvocab; i++) {
		if (ev->vocab[i].tabs != tabs || ev->vocab[i].spaces != spaces)
			continue;
		if (found >= 0)
			return 0;
		found = (long)i;
	}
	if (found >= 0)
		return wd_buf_put(out, ev->vocab[found].s, ev->vocab[found].len) ? WD_ENOMEM : 1;
	for (size_t i = 0; i < tabs + spaces; i++)
		if (wd_buf_putc(out, i < tabs ? '\t' : ' '))
			return WD_ENOMEM;
	return 1;
}

int wd_patch__ev_lookup(const wd_ind_evidence *ev, const char *ps, size_t pslen, int cont,
                        wd_buf *out)
{
	ev_damage dm[EV_NDAMAGES];
	size_t tabs = 0, spaces = 0, n;
	int any = 0;

	if (ev->off || !ev->tabs || !ev->npairs || !only_spaces(ps, pslen) ||
	    !(n = ev_fitting(ev, dm)))
		return 0;
	for (size_t d = 0; d < n; d++) {
		size_t k = 0, j = 0;
		int rc = ev_answer(ev, dm[d].tab, dm[d].space, pslen, cont, &k, &j);

		/* every damage the evidence allows that can make this width must
		 * give the same blanks (one that cannot, 2 columns a space for an
		 * odd width, was not this line's) */
		if (rc < 0)
			continue;
		if (!rc || (any && (k != tabs || j != spaces)))
			return 0;
		tabs = k;
		spaces = j;
		any = 1;
	}
	return any ? ev_render(ev, tabs, spaces, out) : 0;
}

/* Did the matched lines show tabs but never a space, so that the damages
 * differ only in what a space became? */
static int ev_spaces_unknown(const wd_ind_evidence *ev)
{
	int tabs = 0;

	for (size_t i = 0; i < ev->npairs; i++) {
		if (ev->pairs[i].spaces)
			return 0;
		tabs |= ev->pairs[i].tabs != 0;
	}
	return tabs;
}

int wd_patch__ev_fits_alone(const wd_ind_evidence *ev, const char *fs, size_t fslen, size_t pw,
                            size_t max_tabs)
{
	ev_damage dm[EV_NDAMAGES];
	size_t tabs, spaces, n, fit = 0;

	if (ev->off || !ev->npairs || !(n = ev_fitting(ev, dm)))
		return 0;
	count_blanks(fs, fslen, &tabs, &spaces);
	for (size_t d = 0; d < n; d++) {
		/* a whole number of tabs (a level or two of depth) would be
		 * damaged to the same width: the two cannot be told */
		if (pw % dm[d].tab == 0 && pw / dm[d].tab <= max_tabs)
			return 0;
		fit += ev_width(&dm[d], tabs, spaces) == pw;
	}
	/* where the quote never showed a space, a space may have become 1 or 2
	 * columns: the column fits when some such damage takes it to the width */
	return fit == n || (fit && ev_spaces_unknown(ev));
}

int wd_patch__ev_fits_some(const wd_ind_evidence *ev, const char *fs, size_t fslen, size_t pw)
{
	ev_damage dm[EV_NDAMAGES];
	size_t tabs, spaces, n;

	if (ev->off || !ev->npairs || !(n = ev_fitting(ev, dm)))
		return 1;
	count_blanks(fs, fslen, &tabs, &spaces);
	for (size_t d = 0; d < n; d++)
		if (ev_width(&dm[d], tabs, spaces) == pw)
			return 1;
	return 0;
}

size_t wd_patch__ev_lines(const wd_ind_evidence *ev, const char *s, size_t len)
{
	for (size_t i = 0; i < ev->nvocab; i++)
		if (ev->vocab[i].len == len && !memcmp(ev->vocab[i].s, s, len))
			return ev->vocab[i].n;
	return 0;
}

int wd_patch__ev_has(const wd_ind_evidence *ev, const char *s, size_t len)
{
	return wd_patch__ev_lines(ev, s, len) != 0;
}

size_t wd_patch__ev_tab_lines(const wd_ind_evidence *ev, size_t tabs)
{
	for (size_t i = 0; i < ev->nvocab; i++)
		if (ev->vocab[i].tabs == tabs && !ev->vocab[i].spaces)
			return ev->vocab[i].n;
	return 0;
}

int wd_patch__ev_spaces_deep(const wd_ind_evidence *ev)
{
	for (size_t i = 0; i < ev->nvocab; i++)
		if (!ev->vocab[i].tabs && ev->vocab[i].spaces >= 8)
			return 1;
	return 0;
}

int wd_patch__ev_tabs_reach(const wd_ind_evidence *ev, size_t pw, size_t max_tabs)
{
	ev_damage dm[EV_NDAMAGES];
	size_t n;

	if (ev->off || !ev->npairs || !(n = ev_fitting(ev, dm)))
		return 0;
	for (size_t d = 0; d < n; d++)
		if (pw % dm[d].tab == 0 && pw / dm[d].tab <= max_tabs)
			return 1;
	return 0;
}

int wd_patch__ev_rivals(const wd_ind_evidence *ev, const char *ps, size_t pslen, const char *fs,
                        size_t fslen, int blind)
{
	ev_damage dm[EV_NDAMAGES];
	size_t tabs, spaces, n;

	if (ev->off || !ev->tabs || !ev->npairs || !only_spaces(ps, pslen))
		return 0;
	/* the quote showed how it wrote a tab: the width rules had that too
	 * (unless the caller's block showed none) */
	for (size_t i = 0; i < ev->npairs && !blind; i++)
		if (ev->pairs[i].tabs)
			return 0;
	n = ev_fitting(ev, dm);
	count_blanks(fs, fslen, &tabs, &spaces);
	for (size_t d = 0; d < n; d++)
		for (size_t i = 0; i < ev->nvocab; i++)
			if (ev->vocab[i].start &&
			    ev_width(&dm[d], ev->vocab[i].tabs, ev->vocab[i].spaces) == pslen &&
			    (ev->vocab[i].tabs != tabs || ev->vocab[i].spaces != spaces))
				return 1;
	return 0;
}

size_t wd_patch__ev_tab_width(const wd_ind_evidence *ev)
{
	ev_damage dm[EV_NDAMAGES];
	size_t n;

	if (ev->off || !ev->tabs || !ev->npairs || !(n = ev_fitting(ev, dm)))
		return 0;
	for (size_t d = 1; d < n; d++)
		if (dm[d].tab != dm[0].tab)
			return 0;
	return dm[0].tab;
}

int wd_patch__ev_keeps_columns(const wd_ind_evidence *ev)
{
	ev_damage dm[EV_NDAMAGES];

	if (ev->off || !ev->tabs || !ev->npairs)
		return 0;
	return ev_fitting(ev, dm) == 1 && dm[0].tab == 8 && dm[0].space == 1;
}

int wd_patch__put_tabs_first(wd_buf *b, size_t col)
{
	for (size_t i = 0; i < col / 8 + col % 8; i++)
		if (wd_buf_putc(b, i < col / 8 ? '\t' : ' '))
			return WD_ENOMEM;
	return 0;
}

int wd_patch__tabs_first(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == '\t')
		i++;
	return len - i < 8 && !memchr(s + i, '\t', len - i);
}

/*
 * How the file writes column `col`, for a quote that kept every column
 * (ev_keeps_columns), where only the bytes are open: the one string that
 * starts a line of the file at that column; where several do, tabs as far
 * as they go when the file writes the column so EV_COLUMN_MARGIN times as
 * often as in any other way (git-svn.perl writes column 22 both as a tab
 * and 14 spaces and as two tabs and 6); where none does, tabs as far as
 * they go when every string of the file is written so and the caller says
 * the column may be new (`fresh`: a new depth, or deeper than the line
 * above). A line that dedents to a column no line of the file has (`fi` at
 * 12 under a `then` written as a tab and 4 spaces) follows no habit of the
 * file's.
 */
#define EV_COLUMN_MARGIN 4

int wd_patch__ev_column(const wd_ind_evidence *ev, size_t col, int fresh, wd_buf *out)
{
	long one = -1, canon = -1;
	size_t at = 0, all_canon = 1, rival = 0;

	for (size_t i = 0; i < ev->nvocab; i++) {
		int c = ev->vocab[i].tabs_first;

		all_canon &= (size_t)c;
		if (ev->vocab[i].col != col)
			continue;
		at++;
		one = (long)i;
		if (c)
			canon = (long)i;
		else if (ev->vocab[i].n > rival)
			rival = ev->vocab[i].n;
	}
	if (at == 1)
		return wd_buf_put(out, ev->vocab[one].s, ev->vocab[one].len) ? WD_ENOMEM : 1;
	if (at > 1 && (canon < 0 || ev->vocab[canon].n < EV_COLUMN_MARGIN * rival))
		return 0;
	if (!at && (!all_canon || !fresh))
		return 0;
	return wd_patch__put_tabs_first(out, col) ? WD_ENOMEM : 1;
}

size_t wd_patch__ev_damages(const wd_ind_evidence *ev, size_t out[][2], size_t max)
{
	ev_damage dm[EV_NDAMAGES];
	size_t n;

	if (ev->off || !ev->tabs || !ev->npairs)
		return 0;
	n = ev_fitting(ev, dm);
	for (size_t i = 0; i < n && i < max; i++) {
		out[i][0] = dm[i].tab;
		out[i][1] = dm[i].space;
	}
	return n < max ? n : max;
}

void wd_patch__ev_free(wd_ind_evidence *ev)
{
	free(ev->pairs);
	free(ev->vocab);
	memset(ev, 0, sizeof(*ev));
}
