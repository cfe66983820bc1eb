/* What `review show` presents: the diff against the base and the run's ledger, summarised. */
#include <ctype.h>
#include <string.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/repo.h"
#include "warden/review_show.h"

#define LEDGER_MAX (64u << 20)

int wd_review_diff(wd_buf *out, const wd_proposal *p)
{
	return wd_repo_diff_commits(out, p->repo, p->base, p->commit);
}

/* Append s cut to max bytes (at a UTF-8 boundary), each line indented. */
static int put_block(wd_buf *out, const char *s, size_t max)
{
	size_t len = strlen(s), n = len > max ? max : len;
	int rc = 0;

	while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	rc |= wd_buf_puts(out, "    | ");
	for (size_t i = 0; i < n && !rc; i++) {
		rc |= wd_buf_putc(out, s[i]);
		if (s[i] == '\n' && i + 1 < n)
			rc |= wd_buf_puts(out, "    | ");
	}
	if (n && s[n - 1] != '\n')
		rc |= wd_buf_putc(out, '\n');
	if (n < len)
		rc |= wd_buf_printf(out, "    | [... %zu more bytes]\n", len - n);
	return rc ? WD_ENOMEM : 0;
}

/* Fields that hold what the model was asked or said, shown in full (capped). */
static int is_text_field(const char *key)
{
	static const char *const keys[] = { "prompt", "system", "user", "request", "reply",
	                                    "response", "text", "content", "summary", "message",
	                                    "feedback", "reason", "repair", NULL };

	for (size_t i = 0; keys[i]; i++)
		if (!strcmp(key, keys[i]))
			return 1;
	return 0;
}

static int put_scalar(wd_buf *out, const char *key, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t len = strlen(s);

		if (len <= 60 && !strchr(s, '\n'))
			return wd_buf_printf(out, " %s=%s", key, s);
		return wd_buf_printf(out, " %s=[%zu bytes]", key, len);
	}
	case JSON_INTEGER: return wd_buf_printf(out, " %s=%lld", key, (long long)json_integer_value(v));
	case JSON_REAL: return wd_buf_printf(out, " %s=%g", key, json_real_value(v));
	case JSON_TRUE: return wd_buf_printf(out, " %s=true", key);
	case JSON_FALSE: return wd_buf_printf(out, " %s=false", key);
	case JSON_NULL: return 0;
	case JSON_ARRAY: return wd_buf_printf(out, " %s=[%zu items]", key, json_array_size(v));
	case JSON_OBJECT: return wd_buf_printf(out, " %s={...}", key);
	}
	return 0;
}

/* Messages arrays ({role, content}) show each message as a block. */
static int put_messages(wd_buf *out, const json_t *arr, size_t max_text)
{
	size_t i;
	const json_t *m;
	int rc = 0;

	json_array_foreach(arr, i, m) {
		const json_t *role = json_object_get(m, "role"), *content = json_object_get(m, "content");

		if (!json_is_string(content))
			continue;
		rc |= wd_buf_printf(out, "    %s:\n", json_is_string(role) ? json_string_value(role) : "?");
		rc |= put_block(out, json_string_value(content), max_text);
	}
	return rc ? WD_ENOMEM : 0;
}

static int summarise_event(wd_buf *out, const json_t *ev, size_t max_text)
{
	const json_t *type = json_object_get(ev, "type"), *seq = json_object_get(ev, "seq");
	const json_t *ts = json_object_get(ev, "ts"), *v;
	const char *key;
	int rc = 0;

	rc |= wd_buf_printf(out, "  %3lld %-12s %s", json_is_integer(seq) ? (long long)json_integer_value(seq) : 0LL,
	                    json_is_string(ts) ? json_string_value(ts) + (strlen(json_string_value(ts)) > 11 ? 11 : 0) : "",
	                    json_is_string(type) ? json_string_value(type) : "(no type)");
	json_object_foreach((json_t *)ev, key, v) {
		if (!strcmp(key, "type") || !strcmp(key, "seq") || !strcmp(key, "ts") || !strcmp(key, "run"))
			continue;
		if (json_is_string(v) && is_text_field(key) &&
		    (strlen(json_string_value(v)) > 60 || strchr(json_string_value(v), '\n')))
			continue; /* shown as a block below */
		if (json_is_array(v) && !strcmp(key, "messages"))
			continue;
		rc |= put_scalar(out, key, v);
	}
	rc |= wd_buf_putc(out, '\n');
	json_object_foreach((json_t *)ev, key, v) {
		if (json_is_array(v) && !strcmp(key, "messages")) {
			rc |= put_messages(out, v, max_text);
		} else if (json_is_string(v) && is_text_field(key) &&
		           (strlen(json_string_value(v)) > 60 || strchr(json_string_value(v), '\n'))) {
			rc |= wd_buf_printf(out, "    %s:\n", key);
			rc |= put_block(out, json_string_value(v), max_text);
		}
	}
	return rc ? WD_ENOMEM : 0;
}

int wd_review_ledger_summary(wd_buf *out, const char *ledger_path, size_t max_text)
{
	wd_buf text = WD_BUF_INIT;
	size_t lineno = 0, events = 0;
	char *line, *next;
	int rc;

	if (!max_text)
		max_text = 2000;
	if (!ledger_path || !*ledger_path)
		return wd_error_set(WD_ENOTFOUND, "the proposal names no ledger");
	if ((rc = wd_file_read(&text, ledger_path, LEDGER_MAX)) != 0)
		return rc;
	for (line = text.ptr; line && *line && !rc; line = next) {
		json_error_t jerr;
		json_t *ev;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		while (*line && isspace((unsigned char)*line))
			line++;
		if (!*line)
			continue;
		ev = json_loads(line, 0, &jerr);
		if (!json_is_object(ev)) {
			rc = wd_buf_printf(out, "  line %zu: not a JSON event (%s)\n", lineno,
			                   ev ? "not an object" : jerr.text);
			json_decref(ev);
			continue;
		}
		rc = summarise_event(out, ev, max_text);
		events++;
		json_decref(ev);
	}
	if (!rc && !events)
		rc = wd_buf_puts(out, "  (the ledger is empty)\n");
	wd_buf_free(&text);
	return rc;
}
