/*
 * JSON tickets: {"title", "body", "scope", "checks", "rounds", "fail_to_pass"}.
 * Other fields are ignored, so a GitHub issue (REST object, or a webhook
 * payload with the issue under "issue") works as is.
 */
#include <string.h>

#include <jansson.h>

#include "warden/error.h"
#include "ticket_int.h"

/* Line of the first `"key"` in the text: jansson reports positions only for
 * syntax errors, and a line number beats none for a type error. */
static size_t key_line(const char *text, size_t len, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i + klen + 2 <= len; i++)
		if (text[i] == '"' && !memcmp(text + i + 1, key, klen) && text[i + 1 + klen] == '"')
			return wd_ticket__line_at(text, i);
	return 1;
}

struct jctx {
	const char *name;
	const char *text;
	size_t len;
};

static int type_error(const struct jctx *x, const char *key, const char *want)
{
	return wd_error_set(WD_EINPUT, "%s:%zu: \"%s\" must be %s", x->name,
	                    key_line(x->text, x->len, key), key, want);
}

/* A list field: an array of strings, or one string. */
static int get_list(wd_strvec *out, const struct jctx *x, json_t *obj, const char *key,
                    const char *alt, int split_commas)
{
	json_t *v = json_object_get(obj, key);
	size_t i;
	json_t *item;
	int rc;

	if (!v && alt) {
		v = json_object_get(obj, alt);
		key = alt;
	}
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v))
		return wd_ticket__add_list(out, json_string_value(v), json_string_length(v),
		                           split_commas);
	if (!json_is_array(v))
		return type_error(x, key, "an array of strings");
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			return type_error(x, key, "an array of strings");
		if ((rc = wd_ticket__add_item(out, json_string_value(item),
		                              json_string_length(item))) != 0)
			return rc;
	}
	return 0;
}

/* Copy a JSON string with "\r\n" folded to "\n" and blank edges trimmed. */
static char *clean_text(const char *s, size_t n)
{
	wd_buf b = WD_BUF_INIT;

	while (n && strchr(" \t\r\n", *s)) {
		s++;
		n--;
	}
	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	if (wd_buf_grow(&b, n) != 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			b.ptr[b.len++] = s[i];
	b.ptr[b.len] = '\0';
	return wd_buf_detach(&b);
}

/* The ticket's identity: a string "id" is explicit; a GitHub issue's is its
 * repository and number (REST: repository_url; webhook: repository.full_name
 * beside "issue"). A numeric "id" (GitHub's global one) is not used. */
static int get_identity(wd_ticket *t, const struct jctx *x, json_t *obj, json_t *top)
{
	json_t *id = json_object_get(obj, "id"), *num = json_object_get(obj, "number");
	const char *repo = NULL, *url = json_string_value(json_object_get(obj, "repository_url"));
	wd_buf b = WD_BUF_INIT;
	int rc = 0;

	if (json_is_string(id)) {
		if (!(t->explicit_id = wd_strdup(json_string_value(id))))
			return WD_ENOMEM;
		if (!t->explicit_id[0] || strlen(t->explicit_id) > 200) {
			return wd_error_set(WD_EINPUT, "%s:%zu: \"id\" must be 1 to 200 characters",
			                    x->name, key_line(x->text, x->len, "id"));
		}
		return 0;
	}
	if (!json_is_integer(num) || json_integer_value(num) <= 0)
		return 0;
	if (url && strstr(url, "/repos/"))
		repo = strstr(url, "/repos/") + 7;
	else if (top != obj)
		repo = json_string_value(json_object_get(json_object_get(top, "repository"),
		                                         "full_name"));
	if (!repo || !*repo)
		return 0;
	if ((rc = wd_buf_printf(&b, "github:%s#%lld", repo, (long long)json_integer_value(num))) == 0 &&
	    !(t->identity = wd_buf_detach(&b)))
		rc = WD_ENOMEM;
	wd_buf_free(&b);
	return rc;
}

static int get_fields(wd_ticket *t, const struct jctx *x, json_t *obj, json_t *top)
{
	json_t *title = json_object_get(obj, "title");
	json_t *body = json_object_get(obj, "body");
	json_t *rounds = json_object_get(obj, "rounds");
	int rc;

	if (!title)
		return wd_error_set(WD_EINPUT, "%s:1: no title: the JSON object needs a \"title\"",
		                    x->name);
	if (!json_is_string(title))
		return type_error(x, "title", "a string");
	if (body && !json_is_null(body) && !json_is_string(body))
		return type_error(x, "body", "a string");
	if (!(t->title = clean_text(json_string_value(title), json_string_length(title))))
		return WD_ENOMEM;
	if (!t->title[0])
		return wd_error_set(WD_EINPUT, "%s:%zu: no title: \"title\" is empty", x->name,
		                    key_line(x->text, x->len, "title"));
	if (json_is_string(body))
		t->body = clean_text(json_string_value(body), json_string_length(body));
	else
		t->body = wd_strdup("");
	if (!t->body)
		return WD_ENOMEM;
	if (rounds && !json_is_null(rounds)) {
		json_int_t r = json_is_integer(rounds) ? json_integer_value(rounds) : 0;

		if (r < WD_TICKET_ROUNDS_MIN || r > WD_TICKET_ROUNDS_MAX)
			return wd_error_set(WD_EINPUT, "%s:%zu: \"rounds\" must be a whole number "
			                    "from %d to %d", x->name, key_line(x->text, x->len, "rounds"),
			                    WD_TICKET_ROUNDS_MIN, WD_TICKET_ROUNDS_MAX);
		t->rounds = (int)r;
	}
	if ((rc = get_identity(t, x, obj, top)) != 0 ||
	    (rc = get_list(&t->scope, x, obj, "scope", NULL, 1)) != 0 ||
	    (rc = get_list(&t->checks, x, obj, "checks", NULL, 0)) != 0 ||
	    (rc = get_list(&t->fail_to_pass, x, obj, "fail_to_pass", "fail-to-pass", 1)) != 0)
		return rc;
	return 0;
}

int wd_ticket__parse_json(wd_ticket *t, const char *name, const char *text, size_t len)
{
	struct jctx x = { name, text, len };
	json_error_t err;
	json_t *root, *obj;
	int rc;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return wd_error_set(WD_EINPUT, "%s:%d: bad JSON: %s", name,
		                    err.line > 0 ? err.line : 1, err.text);
	obj = root;
	/* `gh issue list --json title,body --limit 1` prints a one-item array */
	if (json_is_array(obj) && json_array_size(obj) == 1)
		obj = json_array_get(obj, 0);
	if (json_is_array(obj)) {
		rc = wd_error_set(WD_EINPUT, "%s:1: a JSON ticket must be an object with \"title\" "
		                  "(or an array of exactly one); got an array of %zu items", name,
		                  json_array_size(obj));
		goto out;
	}
	if (!json_is_object(obj)) {
		rc = wd_error_set(WD_EINPUT, "%s:1: a JSON ticket must be an object with \"title\"",
		                  name);
		goto out;
	}
	/* a GitHub webhook payload carries the issue one level down */
	if (!json_object_get(obj, "title") && json_is_object(json_object_get(obj, "issue")))
		obj = json_object_get(obj, "issue");
	rc = get_fields(t, &x, obj, root);
out:
	json_decref(root);
	return rc;
}
