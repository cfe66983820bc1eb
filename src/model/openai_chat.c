/*
 * OpenAI Chat Completions (POST {base}/chat/completions), also spoken by
 * OpenAI-compatible servers (llama.cpp, vLLM, Ollama): the compat flag only
 * swaps max_completion_tokens for the older max_tokens they all accept.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "provider.h"

static int add_tool_calls(json_t *msg, const wd_message *m)
{
	json_t *out = json_array();

	for (size_t i = 0; out && i < m->ntool_calls; i++) {
		const wd_tool_call *c = &m->tool_calls[i];
		json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", c->id, "type", "function",
		                      "function", "name", c->name, "arguments", c->args_text);

		if (!o || json_array_append_new(out, o)) {
			json_decref(out);
			out = NULL;
		}
	}
	if (!out || json_object_set_new(msg, "tool_calls", out))
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

static json_t *message_json(const wd_message *m)
{
	static const char *const roles[] = { "system", "user", "assistant", "tool" };
	json_t *o = json_pack("{s:s}", "role", roles[m->role]);

	if (!o)
		return NULL;
	if (m->role == WD_ROLE_ASSISTANT && m->ntool_calls && (!m->content || !*m->content)) {
		if (json_object_set_new(o, "content", json_null()))
			goto fail;
	} else if (json_object_set_new(o, "content", json_string(m->content ? m->content : ""))) {
		goto fail;
	}
	if (m->role == WD_ROLE_ASSISTANT && m->ntool_calls && add_tool_calls(o, m))
		goto fail;
	if (m->role == WD_ROLE_TOOL &&
	    json_object_set_new(o, "tool_call_id", json_string(m->tool_call_id ? m->tool_call_id : "")))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *tool_shape(const char *name, const char *desc, json_t *params)
{
	return json_pack("{s:s, s:{s:s, s:s, s:o}}", "type", "function", "function", "name", name,
	                 "description", desc, "parameters", params);
}

static int add_messages(json_t *body, const wd_chat *chat)
{
	json_t *msgs = json_object_get(body, "messages");

	for (size_t i = 0; i < chat->n; i++) {
		json_t *m = message_json(&chat->msgs[i]);

		if (!m || json_array_append_new(msgs, m))
			return wd_error_last_code() ? wd_error_last_code() : WD_ENOMEM;
	}
	return 0;
}

static int add_tools(json_t *body, const wd_model_call *call)
{
	return wd_tools_attach(body, call, tool_shape);
}

static int build(json_t **out, const wd_backend *b, const wd_chat *chat,
                 const wd_model_call *call, int stream)
{
	const wd_body_parts parts = { add_messages, NULL, add_tools,
		                      b->compat ? "max_tokens" : "max_completion_tokens", 1 };

	return wd_body_build(out, json_pack("{s:s, s:[]}", "model", b->model, "messages"), chat,
	                     call, &parts, stream);
}

static int headers(wd_strvec *out, const wd_backend *b)
{
	const char *org = getenv("OPENAI_ORG_ID");
	const char *project = getenv("OPENAI_PROJECT_ID");
	wd_buf h = WD_BUF_INIT;
	int rc = 0;

	if (b->api_key && *b->api_key)
		rc = wd_buf_printf(&h, "Authorization: Bearer %s", b->api_key);
	if (!rc && h.len)
		rc = wd_strvec_push_owned(out, wd_buf_detach(&h));
	if (!rc && !b->compat && org && *org && !wd_buf_printf(&h, "OpenAI-Organization: %s", org))
		rc = wd_strvec_push_owned(out, wd_buf_detach(&h));
	if (!rc && !b->compat && project && *project &&
	    !wd_buf_printf(&h, "OpenAI-Project: %s", project))
		rc = wd_strvec_push_owned(out, wd_buf_detach(&h));
	wd_buf_free(&h);
	return rc;
}

static int parse_tool_calls(wd_model_reply *out, const json_t *arr)
{
	json_t *list = json_array();
	size_t i;
	json_t *tc;
	int rc = 0;

	if (!list)
		return wd_error_set(WD_ENOMEM, "out of memory");
	json_array_foreach(arr, i, tc) {
		const json_t *fn = json_object_get(tc, "function");
		json_t *o;

		if (!json_is_object(fn) || !wd_json_str(fn, "name")) {
			rc = wd_error_set(WD_EINPUT, "tool call %zu has no function name", i);
			break;
		}
		o = json_pack("{s:s, s:s, s:s}", "id", wd_json_str(tc, "id") ? wd_json_str(tc, "id") : "",
		              "name", wd_json_str(fn, "name"), "arguments",
		              wd_json_str(fn, "arguments") ? wd_json_str(fn, "arguments") : "{}");
		if (!o || json_array_append_new(list, o)) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			break;
		}
	}
	if (!rc)
		rc = wd_tool_calls_set(out, list);
	json_decref(list);
	return rc;
}

static void read_usage(wd_model_usage *u, const json_t *usage)
{
	if (!json_is_object(usage))
		return;
	u->input_tokens = wd_json_int(usage, "prompt_tokens");
	u->output_tokens = wd_json_int(usage, "completion_tokens");
	u->cached_tokens = wd_json_int(json_object_get(usage, "prompt_tokens_details"), "cached_tokens");
}

static int parse(wd_model_reply *out, const json_t *root)
{
	const json_t *choices = json_object_get(root, "choices");
	const json_t *msg, *content, *tcs;

	if (!json_is_object(root))
		return wd_error_set(WD_EINPUT, "the reply is not a JSON object");
	if (!json_is_array(choices) || json_array_size(choices) == 0)
		return wd_error_set(WD_EINPUT, "the reply has no choices");
	msg = json_object_get(json_array_get(choices, 0), "message");
	if (!json_is_object(msg))
		return wd_error_set(WD_EINPUT, "the reply's first choice has no message");
	content = json_object_get(msg, "content");
	if (content && !json_is_string(content) && !json_is_null(content))
		return wd_error_set(WD_EINPUT, "the reply's content is not a string");
	out->text = wd_strdup(json_is_string(content) ? json_string_value(content) : "");
	if (!out->text)
		return WD_ENOMEM;
	if (wd_json_str(root, "model") && wd_stream_set(&out->model, wd_json_str(root, "model")))
		return WD_ENOMEM;
	if (wd_json_str(json_array_get(choices, 0), "finish_reason") &&
	    wd_stream_set(&out->finish_reason, wd_json_str(json_array_get(choices, 0), "finish_reason")))
		return WD_ENOMEM;
	read_usage(&out->usage, json_object_get(root, "usage"));
	tcs = json_object_get(msg, "tool_calls");
	if (json_is_array(tcs) && json_array_size(tcs))
		return parse_tool_calls(out, tcs);
	return 0;
}

static int stream_tool_delta(wd_stream *st, const json_t *arr)
{
	size_t i;
	json_t *d;

	json_array_foreach(arr, i, d) {
		const json_t *fn = json_object_get(d, "function");
		json_t *jidx = json_object_get(d, "index");
		wd_tool_acc *t = wd_stream_tool(st, json_is_integer(jidx) ? (long)json_integer_value(jidx)
		                                                        : (long)i);
		const char *args = wd_json_str(fn, "arguments");

		if (!t)
			return wd_error_last_code();
		if (wd_json_str(d, "id") && wd_stream_set(&t->id, wd_json_str(d, "id")))
			return WD_ENOMEM;
		if (wd_json_str(fn, "name") && wd_stream_set(&t->name, wd_json_str(fn, "name")))
			return WD_ENOMEM;
		if (args && wd_buf_puts(&t->args, args))
			return WD_ENOMEM;
	}
	return 0;
}

static int event(wd_stream *st, const char *type, const json_t *o)
{
	const json_t *choice, *delta, *err = json_object_get(o, "error");
	int rc;

	if (err) {
		const char *m = json_is_object(err) ? wd_json_str(err, "message") : json_string_value(err);

		return wd_error_set(WD_EINFRA, "the service reported an error mid-stream: %.300s",
		                    m ? m : "(no message)");
	}
	if (wd_json_str(o, "model") && !st->model &&
	    (rc = wd_stream_set(&st->model, wd_json_str(o, "model"))) != 0)
		return rc;
	if (json_is_object(json_object_get(o, "usage")))
		read_usage(&st->usage, json_object_get(o, "usage"));
	choice = json_array_get(json_object_get(o, "choices"), 0);
	if (!choice)
		return 0;
	delta = json_object_get(choice, "delta");
	if (wd_json_str(delta, "content") &&
	    (rc = wd_buf_puts(&st->text, wd_json_str(delta, "content"))) != 0)
		return rc;
	if (json_is_array(json_object_get(delta, "tool_calls")) &&
	    (rc = stream_tool_delta(st, json_object_get(delta, "tool_calls"))) != 0)
		return rc;
	if (!wd_json_str(choice, "finish_reason"))
		return 0;
	rc = wd_stream_set(&st->finish, wd_json_str(choice, "finish_reason"));
	st->done = 1;
	return rc;
}

const wd_api wd_api_openai_chat = {
	"openai", "/chat/completions", build, headers, parse, event, "[DONE]"
};
