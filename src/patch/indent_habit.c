/*
 * The file's habits of indentation, for the new lines that a lossy quote
 * leaves ambiguous.
 *
 * A model that re-indents a tab file (4 spaces per tab, 2 per space) writes
 * two tabs and a tab plus 2 spaces both as 8 spaces. The evidence
 * (indent_evidence.c) names the damage; it cannot say which of the strings
 * that the damage takes to a width the author meant. The file can: every
 * line of it stands somewhere against the non-blank line above it (at the
 * same column; one column past the bracket the line above left open; a tab
 * deeper; under a word of it; ...), and the file repeats its habits: git's C
 * aligns a call's arguments under its bracket and indents a line after `=`
 * by one tab; its shell tests keep `&&` chains at one column.
 *
 * So the file's lines are counted by what ends the line above (its kind) and
 * by where they stand against it (the relation). For a new line, each string
 * that the damage allows is a column; each column has a relation to the line
 * above it in the new text (the file's bytes or an earlier new line already
 * placed); the file's count for that kind and relation scores it. One string
 * must score at least HB_MIN_SEEN and HB_MARGIN times any other, else there
 * is no answer (the caller refuses). The habits decide only where the
 * evidence and the width rules give no answer; they take an answer back
 * (a veto) in three cases, which can only turn a line into a refusal or
 * into the habits' own pick:
 *   - it stands nowhere in particular against the line above (no relation
 *     but "elsewhere"), where the file does so after under 1 in 20 lines of
 *     that kind;
 *   - it starts with 8 spaces where the file writes nearly every line that
 *     deep with a tab first;
 *   - it gives whole tabs of depth to a line continuing an open bracket,
 *     where the file aligns such lines one column past the bracket far more
 *     often and the damage reads that column as the same width: then the
 *     line is refused outright (files do both, and which one a given line
 *     took cannot be told).
 * Lines whose author broke the file's own convention (4 spaces in a tab
 * file) are beyond it: nothing in a damaged quote tells them.
 */
#include <string.h>

#include "patch_int.h"

/* A habit must have been seen this often, and this many times more than the
 * rival's, to decide. */
#define HB_MIN_SEEN 3
#define HB_MARGIN 4
/* A habit seen in under one in HB_VETO_SHARE of at least HB_VETO_SEEN lines
 * after a line of the same kind vetoes an answer. */
#define HB_VETO_SEEN 8
#define HB_VETO_SHARE 20
/* Brackets deeper than this on one line are not tracked. */
#define HB_DEPTH 32
/* Longest indentation tried for a new line, in tabs or spaces. */
#define HB_MAX_BLANKS 64

static size_t col_after(size_t col, char c)
{
	return c == '\t' ? (col / 8 + 1) * 8 : col + 1;
}

/* What the line above is, for the line after it. */
typedef struct hb_above {
	size_t col;                /* its indentation's column */
	size_t open_col;           /* column of its innermost bracket left open */
	int open;                  /* it leaves a bracket open */
	int kind;                  /* HB_K_* */
	char last;                 /* what its code ends with (0: nothing) */
	size_t tokens[16];         /* columns where its later words start */
	size_t ntokens;
} hb_above;

static int ends_with_word(const char *s, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && !memcmp(s + len - n, w, n) &&
	       (len == n || s[len - n - 1] == ' ' || s[len - n - 1] == '\t' || s[len - n - 1] == ';');
}

static size_t hb_trim(const char *s, size_t len, size_t il)
{
	while (len > il && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	return len;
}

/* The length of the line's code: a comment that ends it (`/ * ... * /` closed
 * on the line, or `//` after a blank) and trailing blanks are not what the
 * line ends with. A line that is only a comment stays whole. */
static size_t hb_code_len(const char *s, size_t len, size_t il)
{
	len = hb_trim(s, len, il);
	if (len >= il + 4 && s[len - 1] == '/' && s[len - 2] == '*') {
		for (size_t i = len - 2; i-- > il + 1;) {
			if (s[i] == '*' && s[i - 1] == '/') {
				if (i - 1 > il)
					len = hb_trim(s, i - 1, il);
				break;
			}
		}
	}
	for (size_t i = il + 1; i + 1 < len; i++) {
		if (s[i] == '/' && s[i + 1] == '/' && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
			len = hb_trim(s, i, il);
			break;
		}
	}
	return len;
}

/* Does the code t[0..len) start with a control keyword (after a `}`), so that
 * a `)` ending it closes a condition whose body may follow on the next line
 * (`if (x)`, `} else if (x)`, `for (...)`, `while (x)`)? */
static int hb_control(const char *t, size_t len)
{
	static const char *const words[] = { "if", "for", "while", "switch", "else", "elif",
		                             "elsif", "unless", "until", "foreach" };
	size_t i = len && t[0] == '}', w;

	while (i < len && (t[i] == ' ' || t[i] == '\t'))
		i++;
	for (w = i; w < len && t[w] >= 'a' && t[w] <= 'z'; w++)
		;
	if (w == i || (w < len && ((t[w] >= 'A' && t[w] <= 'Z') || (t[w] >= '0' && t[w] <= '9') ||
	                           t[w] == '_')))
		return 0;
	for (size_t k = 0; k < sizeof(words) / sizeof(*words); k++)
		if (strlen(words[k]) == w - i && !memcmp(t + i, words[k], w - i))
			return 1;
	return 0;
}

static void hb_read_above(hb_above *a, const char *s, size_t len)
{
	size_t stack[HB_DEPTH], depth = 0, col = 0, il = wd_patch__indent_len(s, len), qat = 0;
	char q = 0, last;

	memset(a, 0, sizeof(*a));
	len = hb_code_len(s, len, il);
	for (size_t i = 0; i < il; i++)
		col = col_after(col, s[i]);
	a->col = col;
	for (size_t i = il; i < len; i++) {
		char c = s[i];

		if (q) {
			if (c == '\\' && i + 1 < len) {
				col = col_after(col, c);
				c = s[++i];
			} else if (c == q) {
				q = 0;
			}
		} else if (c == '"' || c == '\'' || c == '`') {
			q = c;
			qat = i;
		} else if (c == '(' || c == '[') {
			if (depth < HB_DEPTH)
				stack[depth] = col;
			depth++;
		} else if ((c == ')' || c == ']') && depth) {
			depth--;
		}
		if (i > il && c != ' ' && c != '\t' &&
		    (s[i - 1] == ' ' || s[i - 1] == '\t') && a->ntokens < 16)
			a->tokens[a->ntokens++] = col;
		col = col_after(col, c);
	}
	if (depth && depth <= HB_DEPTH) {
		a->open = 1;
		a->open_col = stack[depth - 1];
	}
	last = a->last = len > il ? s[len - 1] : 0;
	if (a->open)
		a->kind = HB_K_OPEN;
	else if (len > il + 1 && (!memcmp(s + il, "/*", 2) || (s[il] == '*' && s[il + 1] != '/')))
		a->kind = HB_K_COMMENT;
	else if (q && qat > il && qat + 1 == len)
		a->kind = HB_K_QUOTE;
	else if (last == '{' || last == ':' || ends_with_word(s + il, len - il, "then") ||
	         ends_with_word(s + il, len - il, "do") || ends_with_word(s + il, len - il, "else"))
		a->kind = HB_K_BLOCK;
	else if (last == ',')
		a->kind = HB_K_COMMA;
	else if (last == '=')
		a->kind = HB_K_ASSIGN;
	else if (last == '\\')
		a->kind = HB_K_BACKSLASH;
	else if (last && strchr("&|+-*/?<>.%^!~", last))
		a->kind = HB_K_OP;
	else if (last == ')' && hb_control(s + il, len - il))
		a->kind = HB_K_HEADER;
	else if (last == ';' || last == '}' || last == ')')
		a->kind = HB_K_END;
	else
		a->kind = HB_K_PLAIN;
}

int wd_patch__habit_header(const char *s, size_t len)
{
	hb_above a;

	hb_read_above(&a, s, len);
	return a.kind == HB_K_HEADER;
}

/* Where a line at column `col` stands against the line above. */
static int hb_relation(const hb_above *a, size_t col)
{
	if (col == a->col)
		return HB_R_SAME;
	if (a->open && col == a->open_col + 1)
		return HB_R_ALIGN;
	if (col == a->col + 1)
		return HB_R_ONE;
	if (col == a->col + 2)
		return HB_R_STEP2;
	if (col == a->col + 4)
		return HB_R_STEP4;
	if (col == a->col + 8)
		return HB_R_STEP8;
	if (col == a->col + 16)
		return HB_R_STEP16;
	for (size_t i = 0; i < a->ntokens; i++)
		if (a->tokens[i] == col)
			return HB_R_TOKEN;
	if (col < a->col)
		return col + 8 == a->col ? HB_R_BACK8 : col + 4 == a->col ? HB_R_BACK4 : HB_R_BACK;
	return HB_R_OTHER;
}

/* A line il blanks long, k columns past the line above: where that line's
 * blanks then k spaces are not tabs as far as they go, which of the two the
 * line's blanks are. */
static void hb_learn_bytes(wd_ind_habit *h, const char *above, size_t alen, const char *line,
                           size_t il, size_t k)
{
	size_t ail = wd_patch__indent_len(above, alen), sp = 0, i;

	if (ail == alen)
		return;
	while (sp < ail && above[ail - 1 - sp] == ' ')
		sp++;
	if (wd_patch__tabs_first(above, ail) && sp + k < 8)
		return; /* the two are one string */
	if (wd_patch__tabs_first(line, il)) {
		h->tabs_first++;
		return;
	}
	for (i = ail; i < il && line[i] == ' '; i++)
		;
	h->copied += il == ail + k && i == il && !memcmp(line, above, ail);
}

int wd_patch__habit_tabs_first(const wd_ind_habit *h)
{
	/* as rare as a veto's habit: git-svn.perl copies the line above's
	 * blanks once in 7 (183 to 1116), and its authors did so in a new line */
	return h->tabs_first >= HB_VETO_SEEN && h->copied * HB_VETO_SHARE < h->tabs_first;
}

void wd_patch__habit_learn(wd_ind_habit *h, const char *above, size_t alen, const char *line,
                           size_t len)
{
	hb_above a;
	size_t il = wd_patch__indent_len(line, len), col = 0;

	if (il == len)
		return;
	for (size_t i = 0; i < il; i++)
		col = col_after(col, line[i]);
	if (col >= 8) {
		h->deep_tab += line[0] == '\t';
		h->deep_spaces += line[0] == ' ' && wd_patch__indent_len(line, 8) == 8 &&
		                  !memchr(line, '\t', 8);
	}
	hb_read_above(&a, above, alen);
	h->n[a.kind][hb_relation(&a, col)]++;
	if (above && col >= a.col)
		hb_learn_bytes(h, above, alen, line, il, col - a.col);
}

/* Does the file write nearly every line 8 columns deep or more with a tab
 * first? */
static int hb_tabs_deep(const wd_ind_habit *h)
{
	return h->deep_tab >= HB_VETO_SEEN && h->deep_spaces * HB_VETO_SHARE < h->deep_tab;
}

int wd_patch__habit_body_tab(const wd_ind_habit *h, const char *above, size_t alen)
{
	hb_above a;
	unsigned one, two;

	hb_read_above(&a, above, alen);
	one = h->n[a.kind][HB_R_STEP8];
	two = h->n[a.kind][HB_R_STEP16];
	/* a brace, not a colon: prose ends sentences with one (the rival
	 * reading of the model's width is two tabs of half as wide); or a
	 * quote the line's last character opens, after something (alone on
	 * its line, it ends a shell test's body) */
	return ((a.kind == HB_K_BLOCK && a.last == '{') || a.kind == HB_K_QUOTE) && !a.col &&
	       hb_tabs_deep(h) && one >= HB_MIN_SEEN && one >= HB_MARGIN * two;
}

/* The score of the string at column `col` among those damage (tab, space)
 * takes to pw: where the file puts a line after one like `a`, and how often.
 * The strings of 8 leading spaces in a file that writes such depths with a
 * tab are not the file's (0). */
static unsigned hb_score(const wd_ind_habit *h, const hb_above *a, size_t t, size_t s)
{
	int rel;

	if (t == 0 && s >= 8 && hb_tabs_deep(h))
		return 0;
	rel = hb_relation(a, t * 8 + s);
	/* "somewhere else" and "somewhere to the left" are no habit */
	return rel == HB_R_OTHER || rel == HB_R_BACK ? 0 : h->n[a->kind][rel];
}

/* Does damage (tab, space) take some string of tabs then spaces at file
 * column `col` to width pw? */
static int hb_reaches(size_t tab, size_t space, size_t pw, size_t col)
{
	for (size_t t = 0; t * 8 <= col; t++)
		if (t * tab + (col - t * 8) * space == pw)
			return 1;
	return 0;
}

/* Every string of tabs then spaces that damage (tab, space) takes to width
 * pw, scored by the habit; the best one's counts into *best_t, *best_s.
 * 1 one string stands out, 0 none (or a tie). */
static int hb_best(const wd_ind_habit *h, const hb_above *a, size_t tab, size_t space, size_t pw,
                   size_t *best_t, size_t *best_s)
{
	unsigned best = 0, second = 0;

	for (size_t t = 0; t * tab <= pw && t <= HB_MAX_BLANKS; t++) {
		size_t s = (pw - t * tab) / space;
		unsigned score;

		if ((pw - t * tab) % space || s > HB_MAX_BLANKS)
			continue;
		score = hb_score(h, a, t, s);
		if (score > best) {
			second = best;
			best = score;
			*best_t = t;
			*best_s = s;
		} else if (score > second) {
			second = score;
		}
	}
	return best >= HB_MIN_SEEN && best >= HB_MARGIN * second && best > second;
}

/* What both the pick and the veto start from: the damages the evidence
 * allows into dm (how many) and the line above read into *a; 0 when the
 * model's blanks ps were not a quote damaged per character (a tab in them,
 * none at all) or nothing is known. */
static size_t hb_begin(const wd_ind_evidence *ev, const char *above, size_t alen, const char *ps,
                       size_t pslen, size_t dm[8][2], hb_above *a)
{
	size_t n;

	for (size_t i = 0; i < pslen; i++)
		if (ps[i] != ' ')
			return 0;
	if (!above || !pslen || (n = wd_patch__ev_damages(ev, dm, 8)) == 0)
		return 0;
	hb_read_above(a, above, alen);
	return n;
}

int wd_patch__habit_pick(const wd_ind_evidence *ev, const char *above, size_t alen,
                         const char *ps, size_t pslen, wd_buf *out)
{
	size_t dm[8][2], n, tabs = 0, spaces = 0;
	hb_above a;

	if ((n = hb_begin(ev, above, alen, ps, pslen, dm, &a)) == 0)
		return 0;
	for (size_t d = 0; d < n; d++) {
		size_t t = 0, s = 0;

		/* every damage the evidence allows must give the same blanks */
		if (!hb_best(&ev->habit, &a, dm[d][0], dm[d][1], pslen, &t, &s) ||
		    (d && (t != tabs || s != spaces)))
			return 0;
		tabs = t;
		spaces = s;
	}
	for (size_t i = 0; i < tabs + spaces; i++)
		if (wd_buf_putc(out, i < tabs ? '\t' : ' '))
			return WD_ENOMEM;
	return 1;
}

int wd_patch__habit_veto(const wd_ind_evidence *ev, const char *above, size_t alen,
                         const char *ps, size_t pslen, const char *fs, size_t fslen)
{
	size_t dm[8][2], col = 0, n;
	unsigned seen = 0, score;
	hb_above a;
	int rel;

	if ((n = hb_begin(ev, above, alen, ps, pslen, dm, &a)) == 0)
		return 0;
	for (size_t r = 0; r < HB_RELS; r++)
		seen += ev->habit.n[a.kind][r];
	for (size_t i = 0; i < fslen; i++)
		col = col_after(col, fs[i]);
	/* 8 leading spaces where the file writes nearly every indent that deep
	 * with a tab */
	if (fslen >= 8 && !memchr(fs, '\t', 8) && hb_tabs_deep(&ev->habit))
		return 1;
	rel = hb_relation(&a, col);
	score = rel == HB_R_OTHER || rel == HB_R_BACK ? 0 : ev->habit.n[a.kind][rel];
	if (rel == HB_R_OTHER && seen >= HB_VETO_SEEN && ev->habit.n[a.kind][rel] * HB_VETO_SHARE < seen)
		return 1;
	/* a line continuing an open bracket, given whole tabs of depth, where
	 * the file aligns such lines one column past the bracket far more often
	 * and the damage takes that column to the same width: the two cannot be
	 * told, and the width rules' answer is no better than the habit */
	if (a.kind == HB_K_OPEN && fslen && !memchr(fs, ' ', fslen)) {
		unsigned align = ev->habit.n[HB_K_OPEN][HB_R_ALIGN];

		for (size_t d = 0; d < n; d++)
			if (hb_reaches(dm[d][0], dm[d][1], pslen, a.open_col + 1) &&
			    align >= HB_MIN_SEEN && align >= HB_MARGIN * score)
				return WD_HB_UNDECIDABLE;
	}
	return 0;
}
