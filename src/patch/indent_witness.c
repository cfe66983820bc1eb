/*
 * Witnesses for one new line's indentation, where the evidence, the width
 * rules and the vetoes leave it undecided: lines that the same damage took
 * to the same blanks the model wrote, and whose own bytes are known.
 *
 *   - the line above it in the new text, when the model indented both with
 *     the same blanks (a continuation line under the one before it: a
 *     second argument under the first);
 *   - the lines of the file with the same text (blanks and trailing blanks
 *     aside) that the evidence's damage takes to the new line's width: a
 *     line the reply moves, or writes again where the file already has it;
 *   - the lines the hunk removes that the model indented with the same
 *     blanks and that start with the same word: a changed line keeps its
 *     place (`work_tree);` becoming `work_tree, strerror(errno));`).
 *
 * Each witness that speaks names one string, or none (two lines of the
 * file with the same text at two depths the damage confuses); every witness
 * that speaks must name the same one. A witness is only asked when every
 * other rule refused, so it turns refusals into answers and nothing else.
 * A new line that breaks its file's own convention is beyond it, as it is
 * beyond every rule.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warden/fnv.h"
#include "patch_int.h"

/* Probes into the table before a text is given up on (a hostile file of
 * colliding lines cannot make the build quadratic). */
#define WT_PROBES 32

static size_t wt_trim(const char *s, size_t len)
{
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	return len;
}

int wd_patch__echo_init(wd_ind_echo *e, size_t lines)
{
	size_t cap = 16;

	while (cap < lines * 2 && cap < ((size_t)1 << 26))
		cap *= 2;
	e->v = calloc(cap, sizeof(*e->v));
	if (!e->v)
		return wd_patch__oom();
	e->cap = cap;
	return 0;
}

int wd_patch__echo_add(wd_ind_echo *e, const char *line, size_t len)
{
	size_t il = wd_patch__indent_len(line, len), tl;
	const char *t = line + il;
	uint64_t h;

	if (!e->v || il == len)
		return 0;
	tl = wt_trim(t, len - il);
	h = wd_fnv1a64(t, tl);
	for (size_t p = 0; p < WT_PROBES; p++) {
		wd_echo_entry *x = &e->v[(h + p) & (e->cap - 1)];

		if (!x->text) {
			x->text = t;
			x->tlen = tl;
			x->hash = h;
		} else if (x->hash != h || x->tlen != tl || memcmp(x->text, t, tl)) {
			continue;
		}
		for (size_t i = 0; i < x->nblanks; i++)
			if (x->blanks[i].len == il && !memcmp(x->blanks[i].s, line, il))
				return 0;
		if (x->nblanks == WD_ECHO_BLANKS) {
			x->full = 1;
			return 0;
		}
		x->blanks[x->nblanks].s = line;
		x->blanks[x->nblanks++].len = il;
		return 0;
	}
	return 0;
}

static const wd_echo_entry *echo_find(const wd_ind_echo *e, const char *t, size_t tl)
{
	uint64_t h = wd_fnv1a64(t, tl);

	if (!e->v)
		return NULL;
	for (size_t p = 0; p < WT_PROBES; p++) {
		const wd_echo_entry *x = &e->v[(h + p) & (e->cap - 1)];

		if (!x->text)
			return NULL;
		if (x->hash == h && x->tlen == tl && !memcmp(x->text, t, tl))
			return x;
	}
	return NULL;
}

void wd_patch__echo_free(wd_ind_echo *e)
{
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* What one witness said: nothing yet, one string, or two that disagree. */
typedef struct wt_verdict {
	const char *s;
	size_t len;
	int state;             /* 0 silent, 1 one string, -1 a conflict */
} wt_verdict;

static void wt_say(wt_verdict *v, const char *s, size_t len)
{
	if (v->state == 0) {
		v->s = s;
		v->len = len;
		v->state = 1;
	} else if (v->state == 1 && (v->len != len || memcmp(v->s, s, len))) {
		v->state = -1;
	}
}

/* Does damage (tab, space) take blanks s[0..len) to pw columns? */
static int wt_damages_to(const char *s, size_t len, size_t tab, size_t space, size_t pw)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++)
		w += s[i] == '\t' ? tab : space;
	return w == pw;
}

/* The file's lines with this text that every damage the evidence allows
 * takes to pw: one string, or a conflict. */
static void wt_echo(wt_verdict *v, const wd_ind_evidence *ev, const char *text, size_t tlen,
                    size_t pslen)
{
	size_t dm[8][2], n = wd_patch__ev_damages(ev, dm, 8);
	const wd_echo_entry *x;

	if (!n || !(x = echo_find(&ev->echo, text, tlen)))
		return;
	if (x->full) {
		v->state = -1; /* too many depths to say which */
		return;
	}
	for (size_t i = 0; i < x->nblanks; i++) {
		size_t reached = 0;

		for (size_t d = 0; d < n; d++)
			reached += wt_damages_to(x->blanks[i].s, x->blanks[i].len, dm[d][0], dm[d][1],
			                         pslen);
		if (reached == n)
			wt_say(v, x->blanks[i].s, x->blanks[i].len);
		else if (reached)
			v->state = -1; /* the damages disagree about this string */
	}
}

/* The text up to the end of its first word (a run of letters, digits and
 * '_'), with what comes before it; 0 when it has none in its first 64
 * bytes. */
static size_t wt_word(const char *t, size_t len)
{
	size_t i = 0;

	while (i < len && i < 64 && !(t[i] == '_' || (t[i] >= 'a' && t[i] <= 'z') ||
	                              (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9')))
		i++;
	if (i == len || i == 64)
		return 0;
	while (i < len && (t[i] == '_' || (t[i] >= 'a' && t[i] <= 'z') ||
	                   (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9')))
		i++;
	return i;
}

int wd_patch__witness(const wd_ind_evidence *ev, const wd_ind_witness *w, const char *ps,
                      size_t pslen, const char *text, size_t tlen, wd_buf *out)
{
	wt_verdict v = { 0 };
	size_t wl;

	tlen = wt_trim(text, tlen);
	if (!tlen || !pslen)
		return 0;
	if (w->above_ps && w->above_pslen == pslen && !memcmp(w->above_ps, ps, pslen))
		wt_say(&v, w->above_fs, w->above_fslen);
	if (ev)
		wt_echo(&v, ev, text, tlen, pslen);
	if ((wl = wt_word(text, tlen)) != 0) {
		for (size_t i = 0; i < w->ndel; i++) {
			const wd_ind_removed *r = &w->del[i];

			if (r->pslen == pslen && !memcmp(r->ps, ps, pslen) && r->tlen >= wl &&
			    !memcmp(r->text, text, wl) && wt_word(r->text, r->tlen) == wl)
				wt_say(&v, r->fs, r->fslen);
		}
	}
	if (v.state != 1)
		return 0;
	return wd_buf_put(out, v.s, v.len) ? WD_ENOMEM : 1;
}
