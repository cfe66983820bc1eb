/*
 * The conversation sent to a model, its provider-independent hash, and the
 * small JSON helpers the wire formats share.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "provider.h"

#define TOOL_ID_MAX 256
#define TOOL_NAME_MAX 256

#define ERROR_SNIPPET_MAX 300

static wd_message *chat_slot(wd_chat *c)
{
	if (WD_ARRAY_RESERVE(c->msgs, c->cap, c->n + 1, 8) != 0)
		return NULL;
	memset(&c->msgs[c->n], 0, sizeof(c->msgs[0]));
	return &c->msgs[c->n];
}

int wd_chat_add(wd_chat *c, wd_role role, const char *content)
{
	wd_message *m;

	if ((unsigned)role > WD_ROLE_TOOL)
		return wd_error_set(WD_EUSAGE, "unknown chat role %d", (int)role);
	if (!(m = chat_slot(c)))
		return WD_ENOMEM;
	m->role = role;
	if (!(m->content = wd_strdup(content)))
		return WD_ENOMEM;
	c->n++;
	return 0;
}

void wd_tool_calls_free(wd_tool_call *calls, size_t n)
{
	for (size_t i = 0; calls && i < n; i++) {
		free(calls[i].id);
		free(calls[i].name);
		free(calls[i].args_text);
		json_decref(calls[i].args);
	}
	free(calls);
}

/* The arguments parsed, once: an object, or NULL (the tool says so). */
static json_t *parse_args(const char *text)
{
	json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	if (a && !json_is_object(a)) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

/* Call `i` of a reply from {id, name, arguments}: the one place a reply's
 * tool call is checked and parsed. */
static int tool_call_fill(wd_tool_call *c, size_t i, const json_t *tc)
{
	const char *id = wd_json_str(tc, "id"), *name = wd_json_str(tc, "name");
	const json_t *a = json_object_get(tc, "arguments");

	/* every call needs an id to pair its result with: one without is the
	 * model's fault (a malformed reply), not a usage error of warden's */
	if (!json_is_object(tc))
		return wd_error_set(WD_EINFRA, "malformed reply: tool call %zu is not an object", i);
	if (!id || !*id || strlen(id) > TOOL_ID_MAX)
		return wd_error_set(WD_EINFRA, "malformed reply: tool call %zu (%.64s) has %s id",
		                    i, name ? name : "?", id && *id ? "an overlong" : "no");
	if (name && strlen(name) > TOOL_NAME_MAX)
		return wd_error_set(WD_EINFRA, "malformed reply: tool call %zu has a name of %zu bytes",
		                    i, strlen(name));
	c->id = wd_strdup(id);
	c->name = wd_strdup(name ? name : "");
	if (json_is_string(a))
		c->args_text = wd_strdup(json_string_value(a));
	else if (a && !json_is_null(a))
		c->args_text = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
	else
		c->args_text = wd_strdup("{}");
	if (!c->id || !c->name || !c->args_text)
		return wd_error_set(WD_ENOMEM, "out of memory");
	c->args = parse_args(c->args_text);
	return 0;
}

static int tool_calls_from(wd_tool_call **out, size_t *n, const json_t *arr)
{
	size_t cnt = json_array_size(arr);
	wd_tool_call *v;
	int rc;

	*out = NULL;
	*n = 0;
	if (!cnt)
		return 0;
	if (!(v = calloc(cnt, sizeof(*v))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < cnt; i++) {
		if ((rc = tool_call_fill(&v[i], i, json_array_get(arr, i))) != 0) {
			wd_tool_calls_free(v, cnt);
			return rc;
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}

int wd_tool_calls_parse(wd_tool_call **out, size_t *n, const char *text)
{
	json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr)) {
		json_decref(arr);
		return wd_error_set(WD_EINPUT, "tool calls must be a JSON array of {id,name,arguments}");
	}
	rc = tool_calls_from(out, n, arr);
	json_decref(arr);
	return rc;
}

json_t *wd_tool_calls_json(const wd_tool_call *calls, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "id", calls[i].id ? calls[i].id : "",
		                      "name", calls[i].name ? calls[i].name : "",
		                      "arguments", calls[i].args_text ? calls[i].args_text : "{}");

		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* The calls as compact JSON text: what the request hash has always seen. */
static char *tool_calls_text(const wd_tool_call *calls, size_t n)
{
	json_t *arr = wd_tool_calls_json(calls, n);
	char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;

	json_decref(arr);
	return s;
}

int wd_chat_add_tool_calls(wd_chat *c, const char *content, const wd_tool_call *calls, size_t n)
{
	wd_tool_call *v;
	wd_message *m;

	if (!calls || !n)
		return wd_error_set(WD_EUSAGE, "an assistant turn with tool calls needs at least one");
	for (size_t i = 0; i < n; i++)
		if (!calls[i].id || !*calls[i].id)
			return wd_error_set(WD_EUSAGE, "tool call %zu has no id", i);
	if (!(v = calloc(n, sizeof(*v))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		v[i].id = wd_strdup(calls[i].id);
		v[i].name = wd_strdup(calls[i].name ? calls[i].name : "");
		v[i].args_text = wd_strdup(calls[i].args_text ? calls[i].args_text : "{}");
		v[i].args = calls[i].args ? json_deep_copy(calls[i].args) : NULL;
		if (!v[i].id || !v[i].name || !v[i].args_text || (calls[i].args && !v[i].args)) {
			wd_tool_calls_free(v, n);
			return wd_error_set(WD_ENOMEM, "out of memory");
		}
	}
	if (!(m = chat_slot(c))) {
		wd_tool_calls_free(v, n);
		return WD_ENOMEM;
	}
	m->role = WD_ROLE_ASSISTANT;
	if (!(m->content = wd_strdup(content))) {
		wd_tool_calls_free(v, n);
		return WD_ENOMEM;
	}
	m->tool_calls = v;
	m->ntool_calls = n;
	c->n++;
	return 0;
}

int wd_chat_add_tool_result(wd_chat *c, const char *tool_call_id, const char *content)
{
	wd_message *m;

	if (!tool_call_id || !*tool_call_id)
		return wd_error_set(WD_EUSAGE, "a tool result needs the id of the call it answers");
	if (!(m = chat_slot(c)))
		return WD_ENOMEM;
	m->role = WD_ROLE_TOOL;
	m->content = wd_strdup(content);
	m->tool_call_id = wd_strdup(tool_call_id);
	if (!m->content || !m->tool_call_id) {
		free(m->content);
		free(m->tool_call_id);
		return WD_ENOMEM;
	}
	c->n++;
	return 0;
}

void wd_chat_free(wd_chat *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->msgs[i].content);
		free(c->msgs[i].tool_call_id);
		wd_tool_calls_free(c->msgs[i].tool_calls, c->msgs[i].ntool_calls);
	}
	free(c->msgs);
	c->msgs = NULL;
	c->n = c->cap = 0;
}

int wd_chat_hash(char out[41], const wd_chat *chat, const json_t *tools)
{
	static const char *const roles[] = { "system", "user", "assistant", "tool" };
	json_t *root = json_pack("{s:[], s:O?}", "messages", "tools", tools);
	json_t *msgs;
	char *s = NULL;
	int rc = 0;

	if (!root)
		return wd_error_set(WD_ENOMEM, "out of memory");
	msgs = json_object_get(root, "messages");
	for (size_t i = 0; i < chat->n; i++) {
		const wd_message *m = &chat->msgs[i];
		char *calls = m->ntool_calls ? tool_calls_text(m->tool_calls, m->ntool_calls) : NULL;
		json_t *o = (!m->ntool_calls || calls)
		            ? json_pack("{s:s, s:s, s:s?, s:s?}", "role", roles[m->role],
		                        "content", m->content ? m->content : "",
		                        "tool_call_id", m->tool_call_id, "tool_calls", calls)
		            : NULL;

		free(calls);
		if (!o || json_array_append_new(msgs, o)) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
	}
	s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	rc = wd_hash_hex(out, s, strlen(s));
out:
	free(s);
	json_decref(root);
	return rc;
}

const char *wd_json_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int64_t wd_json_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_real(v)) {
		double d = json_real_value(v);

		/* converting a double outside int64_t's range is undefined */
		if (!(d == d))
			return 0;
		if (d >= 9.2e18)
			return INT64_MAX;
		if (d <= -9.2e18)
			return INT64_MIN;
		return (int64_t)d;
	}
	return 0;
}

static int cut_at_limit(const char *finish_reason)
{
	static const char *const cut[] = { "length", "max_tokens", "max_output_tokens",
		                           "model_context_window_exceeded" };

	if (!finish_reason)
		return 0;
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
		if (!strcmp(finish_reason, cut[i]))
			return 1;
	return 0;
}

int wd_model_reply_truncated(const wd_model_reply *r)
{
	return r && cut_at_limit(r->finish_reason);
}

const char *wd_model_finish_incomplete(const char *finish_reason)
{
	/* the reasons that end a whole reply; anything else did not finish */
	static const char *const whole[] = { "stop", "end_turn", "tool_calls", "tool_use",
		                             "stop_sequence", "function_call", "completed" };
	static const struct {
		const char *reason, *why;
	} known[] = {
		{ "content_filter", "stopped by the provider's content filter" },
		{ "refusal", "stopped as a refusal" },
		{ "pause_turn", "paused mid-turn by the service" },
		{ "incomplete", "marked incomplete by the service" },
	};

	if (!finish_reason || !*finish_reason)
		return NULL;
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (!strcasecmp(finish_reason, whole[i]))
			return NULL;
	if (cut_at_limit(finish_reason))
		return "cut off at its output limit";
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(finish_reason, known[i].reason))
			return known[i].why;
	return "stopped for a reason that does not end a whole reply";
}

const char *wd_model_reply_incomplete(const wd_model_reply *r)
{
	return r ? wd_model_finish_incomplete(r->finish_reason) : NULL;
}

int64_t wd_usage_sum(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

int wd_usage_check(wd_model_usage *u)
{
	if (u->input_tokens < 0 || u->output_tokens < 0 || u->cached_tokens < 0)
		return wd_error_set(WD_EINFRA, "malformed reply: negative token usage (%lld in, "
		                    "%lld out, %lld cached)",
		                    (long long)u->input_tokens, (long long)u->output_tokens,
		                    (long long)u->cached_tokens);
	/* an absurd count is kept as the largest believable one, so a budget
	 * still trips on it and no sum can overflow */
	if (u->input_tokens > WD_USAGE_REPLY_MAX)
		u->input_tokens = WD_USAGE_REPLY_MAX;
	if (u->output_tokens > WD_USAGE_REPLY_MAX)
		u->output_tokens = WD_USAGE_REPLY_MAX;
	if (u->cached_tokens > u->input_tokens)
		u->cached_tokens = u->input_tokens;
	return 0;
}

char *wd_api_error_message(const char *body, size_t len)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	const json_t *err = json_object_get(o, "error");
	const char *msg = NULL;
	char *clean = NULL, *cut;

	if (json_is_object(err))
		msg = wd_json_str(err, "message");
	else if (json_is_string(err))
		msg = json_string_value(err);
	if (!msg)
		msg = wd_json_str(o, "message");
	if (!msg && !o && len) {
		/* not JSON (a proxy's HTML page): its first bytes are still a clue */
		cut = wd_strndup(body, len < 120 ? len : 120);
		if (cut) {
			for (char *p = cut; *p; p++)
				if (*p == '\n' || *p == '\r' || (unsigned char)*p < 0x20)
					*p = ' ';
			clean = wd_redact(cut);
			free(cut);
		}
		return clean;
	}
	if (msg) {
		cut = wd_strndup(msg, strlen(msg) > ERROR_SNIPPET_MAX ? ERROR_SNIPPET_MAX : strlen(msg));
		if (cut)
			clean = wd_redact(cut);
		free(cut);
	}
	json_decref(o);
	return clean;
}

int wd_tool_calls_set(wd_model_reply *out, json_t *arr)
{
	wd_tool_call *v;
	size_t n;
	int rc;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return 0;
	if ((rc = tool_calls_from(&v, &n, arr)) != 0)
		return rc;
	wd_tool_calls_free(out->tool_calls, out->ntool_calls);
	out->tool_calls = v;
	out->ntool_calls = n;
	return 0;
}

int wd_tool_fields(const json_t *tool, const char **name, const char **desc, json_t **params)
{
	const json_t *p = json_object_get(tool, "parameters");

	*params = NULL;
	*name = wd_json_str(tool, "name");
	*desc = wd_json_str(tool, "description");
	if (!json_is_object(tool) || !*name || !**name)
		return wd_error_set(WD_EUSAGE, "a tool definition has no name");
	if (!*desc)
		*desc = "";
	if (p && !json_is_object(p))
		return wd_error_set(WD_EUSAGE, "tool %s: parameters must be a JSON Schema object", *name);
	/* an absent schema means "no arguments" */
	*params = p ? json_deep_copy(p) : json_pack("{s:s, s:{}}", "type", "object", "properties");
	if (!*params)
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

int wd_tools_array(json_t **out, const wd_model_call *call, wd_tool_shape_fn shape)
{
	json_t *arr = json_array();
	size_t i;
	json_t *t;

	*out = NULL;
	if (!arr)
		return wd_error_set(WD_ENOMEM, "out of memory");
	json_array_foreach(call->tools, i, t) {
		const char *name, *desc;
		json_t *params, *o;

		if (wd_tool_fields(t, &name, &desc, &params)) {
			json_decref(arr);
			return WD_EUSAGE;
		}
		o = shape(name, desc, params);
		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return wd_error_set(WD_ENOMEM, "out of memory");
		}
	}
	*out = arr;
	return 0;
}

int wd_tools_attach(json_t *body, const wd_model_call *call, wd_tool_shape_fn shape)
{
	const char *choice = call->tool_choice ? call->tool_choice : "auto";
	json_t *arr;
	int rc;

	if (strcmp(choice, "auto") && strcmp(choice, "none") && strcmp(choice, "required"))
		return wd_error_set(WD_EUSAGE, "tool_choice '%s' is not auto, none or required", choice);
	if ((rc = wd_tools_array(&arr, call, shape)) != 0)
		return rc;
	if (json_object_set_new(body, "tools", arr) ||
	    json_object_set_new(body, "tool_choice", json_string(choice)))
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

/* The system messages as one top-level field, for the APIs that want them so. */
static int add_system(json_t *body, const wd_chat *chat, const char *key)
{
	wd_buf text = WD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < chat->n && !rc; i++) {
		const char *s = chat->msgs[i].content ? chat->msgs[i].content : "";

		if (chat->msgs[i].role == WD_ROLE_SYSTEM &&
		    ((text.len && wd_buf_puts(&text, "\n\n")) || wd_buf_puts(&text, s)))
			rc = WD_ENOMEM;
	}
	if (!rc && text.len && json_object_set_new(body, key, json_string(text.ptr)))
		rc = wd_error_set(WD_ENOMEM, "out of memory");
	wd_buf_free(&text);
	return rc;
}

/* The call's sampling fields, in the order every API has always sent them. */
static int add_options(json_t *body, const wd_model_call *call, const wd_body_parts *parts,
                       int stream)
{
	if ((parts->max_key && call->max_output_tokens > 0 &&
	     json_object_set_new(body, parts->max_key, json_integer(call->max_output_tokens))) ||
	    (call->temperature >= 0 &&
	     json_object_set_new(body, "temperature", json_real(call->temperature))) ||
	    (stream && json_object_set_new(body, "stream", json_true())) ||
	    (stream && parts->stream_usage &&
	     json_object_set_new(body, "stream_options", json_pack("{s:b}", "include_usage", 1))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

int wd_body_build(json_t **out, json_t *body, const wd_chat *chat, const wd_model_call *call,
                  const wd_body_parts *parts, int stream)
{
	int rc;

	*out = NULL;
	if (!body)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if ((rc = parts->messages(body, chat)) != 0 ||
	    (parts->system_key && (rc = add_system(body, chat, parts->system_key)) != 0) ||
	    (call->tools && json_array_size(call->tools) && (rc = parts->tools(body, call)) != 0) ||
	    (rc = add_options(body, call, parts, stream)) != 0) {
		json_decref(body);
		return rc;
	}
	*out = body;
	return 0;
}
