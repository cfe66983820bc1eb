/*
 * Ticket loading: sniff the format, validate the bytes, hand off to the
 * Markdown or JSON reader, then derive slug and id. The format readers live
 * in ticket_md.c and ticket_json.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/text.h"
#include "warden/ticket.h"
#include "ticket_int.h"

size_t wd_ticket__line_at(const char *text, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

static int check_bytes(const char *name, const char *text, size_t len)
{
	size_t i = 0;

	if (len > WD_TICKET_MAX_BYTES)
		return wd_error_set(WD_EINPUT, "%s:1: ticket is %zu bytes; the limit is 1 MiB",
		                    name, len);
	while (i < len) {
		unsigned cp;
		size_t n;

		if (text[i] == '\0')
			return wd_error_set(WD_EINPUT, "%s:%zu: NUL byte in ticket (binary file?)",
			                    name, wd_ticket__line_at(text, i));
		n = wd_utf8_decode((const unsigned char *)text + i, len - i, &cp);
		if (n == 0)
			return wd_error_set(WD_EINPUT, "%s:%zu: invalid UTF-8 (byte 0x%02x at offset %zu)",
			                    name, wd_ticket__line_at(text, i),
			                    (unsigned char)text[i], i);
		i += n;
	}
	return 0;
}

static int is_blank(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n\f\v", text[i]))
			return 0;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The identity of a ticket without an explicit one: its title, slugified
 * (case, punctuation and spacing do not count), and its scope, sorted. The
 * body is left out on purpose: "Fix" reworded as "Please fix" is the same
 * ticket, and keeps what reviewers said about it. */
static int title_identity(wd_buf *out, const wd_ticket *t)
{
	const char **v = NULL;
	int rc;

	if ((rc = wd_buf_puts(out, "title:")) != 0 ||
	    (rc = wd_slugify(out, t->title, 200)) != 0)
		return rc;
	if (t->scope.n == 0)
		return 0;
	if (!(v = malloc(t->scope.n * sizeof(*v))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->scope.n; i++)
		v[i] = t->scope.v[i];
	qsort(v, t->scope.n, sizeof(*v), cmp_str);
	rc = wd_buf_puts(out, " scope:");
	for (size_t i = 0; i < t->scope.n && !rc; i++)
		rc = wd_buf_printf(out, "%s%s", i ? "," : "", v[i]);
	free(v);
	return rc;
}

/* Whether text (at a '[') opens a JSON array rather than a Markdown line
 * such as "[WIP] ...": what follows the '[' is a JSON value or its end. */
static int json_array_start(const char *text, size_t len)
{
	size_t i = 1;

	if (!len || text[0] != '[')
		return 0;
	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	return i == len || strchr("[{]\"-0123456789", text[i]) != NULL;
}

/* A scope names what may change: one made only of exclusions ("!x") names
 * nothing, and the patch engine would refuse every path of it. Said when the
 * ticket is loaded, before any model call is paid for. */
static int check_scope(const wd_ticket *t, const char *name)
{
	for (size_t i = 0; i < t->scope.n; i++)
		if (t->scope.v[i][0] != '!')
			return 0;
	if (t->scope.n == 0)
		return 0;
	return wd_error_set(WD_EINPUT, "%s: the scope has no path that may change, only "
	                    "exclusions ('!%s'); add what may change, e.g. 'src/**'", name,
	                    t->scope.v[0] + 1);
}

/* Replace *field with a copy of `s`. */
static int set_str(char **field, const char *s)
{
	char *copy = wd_strdup(s);

	if (!copy)
		return wd_error_set(WD_ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

/* The title reaches terminals (review list) and commit subjects: no escape
 * sequences, no bidi controls. */
static int clean_title(wd_ticket *t)
{
	char *clean = wd_text_clean_line(t->title ? t->title : "");

	if (!clean)
		return wd_error_set(WD_ENOMEM, "out of memory");
	free(t->title);
	t->title = clean;
	return 0;
}

/* (Re)derive identity and id from what the ticket says. */
static int derive_id(wd_ticket *t)
{
	wd_buf b = WD_BUF_INIT;
	char hex[41];
	int rc;

	if (t->explicit_id)
		rc = wd_buf_printf(&b, "id:%s", t->explicit_id);
	else if (t->identity && strncmp(t->identity, "title:", 6) != 0)
		rc = wd_buf_puts(&b, t->identity); /* a GitHub issue's, set by the JSON reader */
	else
		rc = title_identity(&b, t);
	if (!rc && !(rc = set_str(&t->identity, b.ptr)) && !(rc = wd_hash_hex(hex, b.ptr, b.len)))
		rc = set_str(&t->id, hex);
	wd_buf_free(&b);
	return rc;
}

/* Fill slug, identity and id once the fields are known. */
static int finish(wd_ticket *t)
{
	wd_buf b = WD_BUF_INIT;
	int rc;

	if ((rc = clean_title(t)) != 0)
		return rc;
	if (!t->title[0])
		return wd_error_set(WD_EINPUT, "%s:1: no title: the title holds only control "
		                    "characters", t->source);
	if ((rc = wd_slugify(&b, t->title, WD_TICKET_SLUG_MAX)) == 0)
		rc = set_str(&t->slug, b.ptr);
	wd_buf_free(&b);
	return rc ? rc : derive_id(t);
}

int wd_ticket_parse(wd_ticket **out, const char *name, const char *text, size_t len)
{
	wd_ticket *t;
	size_t skip = 0;
	int rc;

	*out = NULL;
	if (!name)
		name = "<ticket>";
	if (!text)
		len = 0;
	if ((rc = check_bytes(name, text, len)) != 0)
		return rc;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		skip = 3; /* a BOM from an editor is not content */
	if (is_blank(text + skip, len - skip))
		return wd_error_set(WD_EINPUT, "%s:1: empty ticket: expected a '# Title' heading "
		                    "(Markdown) or a JSON object with \"title\"", name);
	t = calloc(1, sizeof(*t));
	if (!t)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (!(t->source = wd_strdup(name))) {
		rc = WD_ENOMEM;
		goto out;
	}
	while (skip < len && strchr(" \t\r\n", text[skip]))
		skip++;
	/* '[' too: an array, or JSON nested too deeply, is told what is wrong
	 * with it as JSON, not that it lacks a Markdown heading */
	if (skip < len && (text[skip] == '{' || json_array_start(text + skip, len - skip)))
		rc = wd_ticket__parse_json(t, name, text, len);
	else
		rc = wd_ticket__parse_md(t, name, text, len);
	if (!rc)
		rc = check_scope(t, name);
	if (!rc)
		rc = finish(t);
out:
	if (rc) {
		wd_ticket_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int wd_ticket_load(wd_ticket **out, const char *path)
{
	wd_buf text = WD_BUF_INIT;
	struct stat st;
	int rc;

	*out = NULL;
	if (!strcmp(path, "-")) {
		/* `--ticket -`: from a pipe, e.g. `gh issue view 7 --json title,body | warden run` */
		rc = wd_file_read(&text, "/dev/stdin", WD_TICKET_MAX_BYTES);
		if (rc == WD_EINPUT && strstr(wd_error_last(), "larger than"))
			rc = wd_error_set(WD_EINPUT, "<stdin>:1: ticket is larger than 1 MiB");
		if (!rc)
			rc = wd_ticket_parse(out, "<stdin>", text.ptr, text.len);
		wd_buf_free(&text);
		return rc;
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return wd_error_set(WD_EINPUT, "%s: is a directory, not a ticket file", path);
		if (S_ISREG(st.st_mode) && (size_t)st.st_size > WD_TICKET_MAX_BYTES)
			return wd_error_set(WD_EINPUT, "%s:1: ticket is %lld bytes; the limit is 1 MiB",
			                    path, (long long)st.st_size);
	}
	rc = wd_file_read(&text, path, WD_TICKET_MAX_BYTES);
	if (rc == WD_ENOTFOUND)
		rc = wd_error_set(WD_ENOTFOUND, "%s: no such ticket file", path);
	if (!rc)
		rc = wd_ticket_parse(out, path, text.ptr, text.len);
	wd_buf_free(&text);
	return rc;
}

int wd_ticket_new(wd_ticket **out, const char *title, const char *body)
{
	wd_buf b = WD_BUF_INIT;
	wd_ticket *t;
	int rc;

	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	if ((rc = set_str(&t->source, "")) != 0 || (rc = set_str(&t->title, title ? title : "")) ||
	    (rc = set_str(&t->body, body ? body : "")) || (rc = clean_title(t)) ||
	    (rc = wd_slugify(&b, t->title, WD_TICKET_SLUG_MAX)) || (rc = set_str(&t->slug, b.ptr)) ||
	    (rc = derive_id(t))) {
		wd_buf_free(&b);
		wd_ticket_free(t);
		return rc;
	}
	wd_buf_free(&b);
	*out = t;
	return 0;
}

int wd_ticket_add_scope(wd_ticket *t, const char *entry)
{
	int rc = wd_strvec_push(&t->scope, entry);

	return rc ? rc : derive_id(t);
}

int wd_ticket_add_fail_to_pass(wd_ticket *t, const char *name)
{
	return wd_strvec_push(&t->fail_to_pass, name);
}

const char *wd_ticket_source(const wd_ticket *t) { return t->source; }
const char *wd_ticket_title(const wd_ticket *t) { return t->title; }
const char *wd_ticket_body(const wd_ticket *t) { return t->body; }
const char *wd_ticket_slug(const wd_ticket *t) { return t->slug; }
const char *wd_ticket_id(const wd_ticket *t) { return t->id; }
const char *wd_ticket_identity(const wd_ticket *t) { return t->identity; }
const wd_strvec *wd_ticket_scope(const wd_ticket *t) { return &t->scope; }
const wd_strvec *wd_ticket_checks(const wd_ticket *t) { return &t->checks; }
const wd_strvec *wd_ticket_fail_to_pass(const wd_ticket *t) { return &t->fail_to_pass; }
int wd_ticket_rounds(const wd_ticket *t) { return t->rounds; }

void wd_ticket_free(wd_ticket *t)
{
	if (!t)
		return;
	free(t->source);
	free(t->title);
	free(t->body);
	free(t->slug);
	free(t->id);
	free(t->identity);
	free(t->explicit_id);
	wd_strvec_free(&t->scope);
	wd_strvec_free(&t->checks);
	wd_strvec_free(&t->fail_to_pass);
	free(t);
}

/* Latin-1 letters fold to their base letter so "Fix café" -> "fix-cafe". */
static char fold_latin1(unsigned cp)
{
	static const char map[] =
		"aaaaaaaceeeeiiiidnooooo-ouuuuyts"  /* U+00C0..U+00DF */
		"aaaaaaaceeeeiiiidnooooo-ouuuuyty"; /* U+00E0..U+00FF */

	if (cp >= 0xc0 && cp <= 0xff)
		return map[cp - 0xc0];
	return '-';
}

int wd_slugify(wd_buf *out, const char *title, size_t max)
{
	const unsigned char *s = (const unsigned char *)(title ? title : "");
	size_t start = out->len;
	int rc = 0;

	if (max == 0)
		max = WD_TICKET_SLUG_MAX;
	if ((rc = wd_buf_grow(out, max)) != 0)
		return rc;
	while (*s && out->len - start < max) {
		char c = '-';

		if (*s >= 'A' && *s <= 'Z')
			c = (char)(*s - 'A' + 'a');
		else if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
			c = (char)*s;
		else if (*s >= 0xc2 && *s <= 0xc3 && (s[1] & 0xc0) == 0x80)
			c = fold_latin1((unsigned)((*s & 0x1f) << 6 | (s[1] & 0x3f)));
		/* skip the continuation bytes of any multi-byte character */
		if (*s >= 0xc0)
			while ((s[1] & 0xc0) == 0x80)
				s++;
		s++;
		if (c == '-' && (out->len == start || out->ptr[out->len - 1] == '-'))
			continue;
		if ((rc = wd_buf_putc(out, c)) != 0)
			return rc;
	}
	while (out->len > start && out->ptr[out->len - 1] == '-')
		out->len--;
	out->ptr[out->len] = '\0';
	if (out->len == start) {
		size_t n = max < 6 ? max : 6;

		return wd_buf_put(out, "ticket", n);
	}
	return 0;
}
