/*
 * Markdown tickets: an optional `---` header block of `key: value` lines,
 * then the first level-1 heading is the title and the rest is the body.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/text.h"
#include "ticket_int.h"

/* One line of the text: [s, s+n) without the newline and a trailing '\r'. */
struct line {
	const char *s;
	size_t n;
	size_t no;    /* 1-based line number */
	size_t start; /* offset of the line in the text */
	size_t next;  /* offset of the following line */
};

struct cursor {
	const char *text;
	size_t len;
	size_t pos;
	size_t no;
};

static int next_line(struct cursor *c, struct line *l)
{
	const char *nl;

	if (c->pos >= c->len)
		return 0;
	l->start = c->pos;
	l->s = c->text + c->pos;
	nl = memchr(l->s, '\n', c->len - c->pos);
	l->n = nl ? (size_t)(nl - l->s) : c->len - c->pos;
	l->next = c->pos + l->n + (nl ? 1 : 0);
	if (l->n && l->s[l->n - 1] == '\r')
		l->n--;
	l->no = ++c->no;
	c->pos = l->next;
	return 1;
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static int line_blank(const struct line *l)
{
	const char *s = l->s;
	size_t n = l->n;

	trim(&s, &n);
	return n == 0;
}

/* The line, trimmed, equals `word`. */
static int line_is(const struct line *l, const char *word)
{
	const char *s = l->s;
	size_t n = l->n;

	trim(&s, &n);
	return n == strlen(word) && !memcmp(s, word, n);
}

int wd_ticket__add_item(wd_strvec *sv, const char *s, size_t n)
{
	trim(&s, &n);
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
		s++;
		n -= 2;
		trim(&s, &n);
	}
	if (n == 0)
		return 0;
	return wd_strvec_push_owned(sv, wd_strndup(s, n));
}

int wd_ticket__add_list(wd_strvec *sv, const char *s, size_t n, int split_commas)
{
	int rc;

	trim(&s, &n);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		split_commas = 1;
	}
	if (!split_commas)
		return wd_ticket__add_item(sv, s, n);
	while (n) {
		const char *comma = memchr(s, ',', n);
		size_t k = comma ? (size_t)(comma - s) : n;

		if ((rc = wd_ticket__add_item(sv, s, k)) != 0)
			return rc;
		if (!comma)
			break;
		s += k + 1;
		n -= k + 1;
	}
	return 0;
}

enum hkey { K_SCOPE, K_CHECKS, K_ROUNDS, K_F2P, K_ID, K_NKEYS };

static const char *const key_names[K_NKEYS] = { "scope", "checks", "rounds", "fail-to-pass",
                                                "id" };

static int unknown_key(const char *name, size_t no, const char *key)
{
	size_t best = 99;
	int which = -1;

	for (int k = 0; k < K_NKEYS; k++) {
		size_t d = wd_edit_distance(key, strlen(key), key_names[k]);

		if (d < best) {
			best = d;
			which = k;
		}
	}
	if (which >= 0 && best <= 2)
		return wd_error_set(WD_EINPUT, "%s:%zu: unknown header key '%s' (did you mean '%s'?)",
		                    name, no, key, key_names[which]);
	return wd_error_set(WD_EINPUT, "%s:%zu: unknown header key '%s' (known keys: scope, "
	                    "checks, rounds, fail-to-pass, id)", name, no, key);
}

static int parse_rounds(wd_ticket *t, const char *name, size_t no, const char *s, size_t n)
{
	long v = 0;

	trim(&s, &n);
	if (t->rounds)
		return wd_error_set(WD_EINPUT, "%s:%zu: 'rounds' is given twice", name, no);
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]) || v > 1000) {
			v = -1;
			break;
		}
		v = v * 10 + (s[i] - '0');
	}
	if (n == 0 || v < WD_TICKET_ROUNDS_MIN || v > WD_TICKET_ROUNDS_MAX)
		return wd_error_set(WD_EINPUT, "%s:%zu: rounds must be a whole number from %d to %d, "
		                    "got '%.*s'", name, no, WD_TICKET_ROUNDS_MIN,
		                    WD_TICKET_ROUNDS_MAX, (int)(n > 40 ? 40 : n), s);
	t->rounds = (int)v;
	return 0;
}

static wd_strvec *list_for(wd_ticket *t, int key)
{
	switch (key) {
	case K_SCOPE: return &t->scope;
	case K_CHECKS: return &t->checks;
	case K_F2P: return &t->fail_to_pass;
	default: return NULL;
	}
}

/* A value's comment: from a '#' after a blank, outside quotes, to the end
 * ("lib.c  # the parser"). Without this the comment became part of the
 * glob, and a scope that matched nothing was paid for in model rounds. */
static void strip_comment(const char *s, size_t *n)
{
	char q = 0;

	for (size_t i = 0; i < *n; i++) {
		if (q) {
			if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			q = s[i];
		} else if (s[i] == '#' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
			*n = i;
			return;
		}
	}
}

static int parse_id(wd_ticket *t, const char *name, size_t no, const char *s, size_t n)
{
	trim(&s, &n);
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
		s++;
		n -= 2;
	}
	if (t->explicit_id)
		return wd_error_set(WD_EINPUT, "%s:%zu: 'id' is given twice", name, no);
	if (n == 0 || n > 200)
		return wd_error_set(WD_EINPUT, "%s:%zu: id must be 1 to 200 characters", name, no);
	t->explicit_id = wd_strndup(s, n);
	return t->explicit_id ? 0 : WD_ENOMEM;
}

/* One header line: "key: value", "- item" (under the last list key), or a comment. */
static int header_line(wd_ticket *t, const char *name, const struct line *l, int *cur)
{
	const char *s = l->s, *colon;
	size_t n = l->n, klen;
	char key[32];
	int k;

	trim(&s, &n);
	if (n == 0 || s[0] == '#')
		return 0;
	strip_comment(s, &n);
	trim(&s, &n);
	if (s[0] == '-' && (n == 1 || isspace((unsigned char)s[1]))) {
		if (*cur < 0 || !list_for(t, *cur))
			return wd_error_set(WD_EINPUT, "%s:%zu: list item '%.*s' is not under a list key "
			                    "(scope:, checks: or fail-to-pass:)", name, l->no,
			                    (int)(n > 60 ? 60 : n), s);
		return wd_ticket__add_item(list_for(t, *cur), s + 1, n - 1);
	}
	colon = memchr(s, ':', n);
	klen = colon ? (size_t)(colon - s) : 0;
	for (size_t i = 0; i < klen; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			klen = 0;
	if (klen == 0 || klen >= sizeof(key))
		return wd_error_set(WD_EINPUT, "%s:%zu: expected 'key: value' or '- item' in the "
		                    "header, got '%.*s'", name, l->no, (int)(n > 60 ? 60 : n), s);
	for (size_t i = 0; i < klen; i++)
		key[i] = s[i] == '_' ? '-' : (char)tolower((unsigned char)s[i]);
	key[klen] = '\0';
	for (k = 0; k < K_NKEYS; k++)
		if (!strcmp(key, key_names[k]))
			break;
	if (k == K_NKEYS) {
		memcpy(key, s, klen); /* name it as the user wrote it */
		return unknown_key(name, l->no, key);
	}
	*cur = k;
	n -= (size_t)(colon + 1 - s);
	s = colon + 1;
	if (k == K_ROUNDS)
		return parse_rounds(t, name, l->no, s, n);
	if (k == K_ID)
		return parse_id(t, name, l->no, s, n);
	/* a command may contain commas; globs and test names may not */
	return wd_ticket__add_list(list_for(t, k), s, n, k != K_CHECKS);
}

static int atx_level(const struct line *l, const char **title, size_t *tlen);

/* Parse the header if the first non-blank line is "---"; *body_at is where
 * the Markdown proper starts. */
static int parse_header(wd_ticket *t, const char *name, struct cursor *c, size_t *body_at,
                        size_t *heading_at)
{
	struct line l, open;
	int cur = -1, rc;

	*body_at = c->pos;
	while (next_line(c, &l) && line_blank(&l))
		;
	if (c->no == 0 || !line_is(&l, "---")) {
		c->pos = *body_at;
		c->no = 0;
		return 0;
	}
	open = l;
	/* look for the closing fence first: without one, every later line would
	 * be misread as a bad header line, and the missing fence is the real error */
	{
		struct cursor probe = *c;
		int closed = 0;

		while (!closed && next_line(&probe, &l))
			closed = line_is(&l, "---") || line_is(&l, "...");
		if (!closed)
			return wd_error_set(WD_EINPUT, "%s:%zu: header block opened with '---' is "
			                    "never closed (add a '---' line before the title)",
			                    name, open.no);
	}
	while (next_line(c, &l) && !line_is(&l, "---") && !line_is(&l, "...")) {
		const char *hs;
		size_t hn;

		/* a comment to the header, but remember it for a clearer "no title" */
		if (!*heading_at && atx_level(&l, &hs, &hn) == 1)
			*heading_at = l.no;
		if ((rc = header_line(t, name, &l, &cur)) != 0)
			return rc;
	}
	*body_at = c->pos;
	return 0;
}

/* ATX heading level (1..6) of the line, 0 if it is not one. */
static int atx_level(const struct line *l, const char **title, size_t *tlen)
{
	const char *s = l->s;
	size_t n = l->n, i = 0, lvl = 0, k;

	while (i < 3 && i < n && s[i] == ' ')
		i++;
	while (i < n && s[i] == '#' && lvl < 7) {
		i++;
		lvl++;
	}
	if (lvl == 0 || lvl > 6 || (i < n && s[i] != ' ' && s[i] != '\t'))
		return 0;
	s += i;
	n -= i;
	trim(&s, &n);
	/* optional closing sequence: "# Title ##" (but "# C#" keeps its '#') */
	k = n;
	while (k && s[k - 1] == '#')
		k--;
	if (k == 0 || isspace((unsigned char)s[k - 1]))
		n = k;
	trim(&s, &n);
	*title = s;
	*tlen = n;
	return (int)lvl;
}

static int is_fence(const struct line *l)
{
	size_t i = 0;

	while (i < 3 && i < l->n && l->s[i] == ' ')
		i++;
	return l->n - i >= 3 && (!memcmp(l->s + i, "```", 3) || !memcmp(l->s + i, "~~~", 3));
}

static int is_setext_rule(const struct line *l)
{
	const char *s = l->s;
	size_t n = l->n;

	trim(&s, &n);
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '=')
			return 0;
	return 1;
}

struct title_pos {
	size_t start, next; /* the title's lines [start, next) in the text */
	const char *s;
	size_t n;
	int level;          /* 1 for "# x" or "x\n===", 2..6 for "## x" ... */
};

/* The first level-1 heading outside code fences, else the first heading of any level. */
static void find_title(struct cursor *c, struct title_pos *best)
{
	struct line l, prev = { 0 };
	int in_fence = 0, have_prev = 0;

	best->level = 0;
	while (next_line(c, &l)) {
		const char *s;
		size_t n;
		int lvl;

		if (is_fence(&l)) {
			in_fence = !in_fence;
			have_prev = 0;
			continue;
		}
		if (in_fence)
			continue;
		if (have_prev && is_setext_rule(&l)) {
			best->start = prev.start;
			best->next = l.next;
			best->s = prev.s;
			best->n = prev.n;
			trim(&best->s, &best->n);
			best->level = 1;
			return;
		}
		lvl = atx_level(&l, &s, &n);
		if (lvl && n && (best->level == 0 || lvl < best->level)) {
			best->start = l.start;
			best->next = l.next;
			best->s = s;
			best->n = n;
			best->level = lvl;
			if (lvl == 1)
				return;
		}
		/* a paragraph line that a "===" underline would turn into a heading */
		have_prev = !lvl && !line_blank(&l);
		prev = l;
	}
}

/* Append text[a, b) with blank edges trimmed and "\r\n" folded to "\n". */
static int put_part(wd_buf *out, const char *text, size_t a, size_t b)
{
	const char *s = text + a;
	size_t n = b - a;
	int rc = 0;

	/* drop leading blank lines, keep the first line's indentation */
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			s += i + 1;
			n -= i + 1;
			i = (size_t)-1;
		} else if (!isspace((unsigned char)s[i])) {
			break;
		}
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return 0;
	if (out->len)
		rc = wd_buf_puts(out, "\n\n");
	for (size_t i = 0; i < n && !rc; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			rc = wd_buf_putc(out, s[i]);
	return rc;
}

int wd_ticket__parse_md(wd_ticket *t, const char *name, const char *text, size_t len)
{
	struct cursor c = { text, len, 0, 0 };
	struct title_pos tp;
	wd_buf body = WD_BUF_INIT;
	size_t body_at, first_line, heading_at = 0;
	int rc;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		c.pos = 3;
	if ((rc = parse_header(t, name, &c, &body_at, &heading_at)) != 0)
		return rc;
	first_line = c.no + 1;
	c.pos = body_at;
	find_title(&c, &tp);
	if (tp.level == 0 && heading_at)
		return wd_error_set(WD_EINPUT, "%s:%zu: no title: the heading on line %zu is inside "
		                    "the '---' header block (close the block before it)", name,
		                    first_line, heading_at);
	if (tp.level == 0)
		return wd_error_set(WD_EINPUT, "%s:%zu: no title: the ticket needs a '# Title' "
		                    "heading", name, first_line);
	if (!(t->title = wd_strndup(tp.s, tp.n)))
		return WD_ENOMEM;
	/* text between header and title (rare) and after the title, joined */
	if ((rc = put_part(&body, text, body_at, tp.start)) != 0 ||
	    (rc = put_part(&body, text, tp.next, len)) != 0)
		goto out;
	if (!(t->body = wd_buf_detach(&body)))
		rc = WD_ENOMEM;
out:
	wd_buf_free(&body);
	return rc;
}
