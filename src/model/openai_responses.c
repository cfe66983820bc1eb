/*
 * OpenAI Responses API (POST {base}/responses). System text goes in
 * "instructions"; the conversation is a list of input items where tool calls
 * and their results are items of their own (function_call,
 * function_call_output). Replies are an "output" list of items. Nothing is
 * stored server-side (store: false): each request carries the whole chat.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "provider.h"

static int add_call_items(json_t *input, const wd_message *m)
{
	for (size_t i = 0; i < m->ntool_calls; i++) {
		const wd_tool_call *c = &m->tool_calls[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "type", "function_call", "call_id", c->id,
		                      "name", c->name, "arguments", c->args_text);

		if (!o || json_array_append_new(input, o))
			return wd_error_set(WD_ENOMEM, "out of memory");
	}
	return 0;
}

static int add_input(json_t *body, const wd_chat *chat)
{
	json_t *input = json_object_get(body, "input");
	int rc = 0;

	for (size_t i = 0; i < chat->n && !rc; i++) {
		const wd_message *m = &chat->msgs[i];
		const char *text = m->content ? m->content : "";
		json_t *o = NULL;

		switch (m->role) {
		case WD_ROLE_SYSTEM:
			continue;  /* the "instructions" field (wd_body_build) */
		case WD_ROLE_TOOL:
			o = json_pack("{s:s, s:s, s:s}", "type", "function_call_output", "call_id",
			              m->tool_call_id ? m->tool_call_id : "", "output", text);
			break;
		case WD_ROLE_ASSISTANT:
			if (m->ntool_calls) {
				if (*text && json_array_append_new(input, json_pack("{s:s, s:s}", "role",
				                                                    "assistant", "content", text)))
					rc = wd_error_set(WD_ENOMEM, "out of memory");
				if (!rc)
					rc = add_call_items(input, m);
				continue;
			}
			o = json_pack("{s:s, s:s}", "role", "assistant", "content", text);
			break;
		default:
			o = json_pack("{s:s, s:s}", "role", "user", "content", text);
		}
		if (!o || json_array_append_new(input, o))
			rc = wd_error_set(WD_ENOMEM, "out of memory");
	}
	return rc;
}

static json_t *tool_shape(const char *name, const char *desc, json_t *params)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "type", "function", "name", name, "description",
	                 desc, "parameters", params);
}

static int add_tools(json_t *body, const wd_model_call *call)
{
	return wd_tools_attach(body, call, tool_shape);
}

static int build(json_t **out, const wd_backend *b, const wd_chat *chat,
                 const wd_model_call *call, int stream)
{
	static const wd_body_parts parts = { add_input, "instructions", add_tools, "max_output_tokens", 0 };

	return wd_body_build(out, json_pack("{s:s, s:[], s:b}", "model", b->model, "input", "store", 0),
	                     chat, call, &parts, stream);
}

static int headers(wd_strvec *out, const wd_backend *b)
{
	/* the same credentials and optional org/project headers as Chat Completions */
	return wd_api_openai_chat.headers(out, b);
}

static int parse_output(wd_buf *text, json_t *tools, const json_t *output)
{
	size_t i, k;
	json_t *item, *part;

	json_array_foreach(output, i, item) {
		const char *type = wd_json_str(item, "type");

		if (type && strcmp(type, "message") == 0) {
			json_array_foreach(json_object_get(item, "content"), k, part) {
				const char *pt = wd_json_str(part, "type");

				if (pt && strcmp(pt, "output_text") == 0 && wd_json_str(part, "text") &&
				    wd_buf_puts(text, wd_json_str(part, "text")))
					return WD_ENOMEM;
			}
		} else if (type && strcmp(type, "function_call") == 0) {
			json_t *o = json_pack("{s:s, s:s, s:s}",
			                      "id", wd_json_str(item, "call_id") ? wd_json_str(item, "call_id") : "",
			                      "name", wd_json_str(item, "name") ? wd_json_str(item, "name") : "",
			                      "arguments", wd_json_str(item, "arguments") ? wd_json_str(item, "arguments") : "{}");

			if (!o || json_array_append_new(tools, o))
				return wd_error_set(WD_ENOMEM, "out of memory");
		}
	}
	return 0;
}

static int parse(wd_model_reply *out, const json_t *root)
{
	const json_t *output = json_object_get(root, "output");
	const json_t *usage = json_object_get(root, "usage");
	const char *status = wd_json_str(root, "status");
	const char *why = wd_json_str(json_object_get(root, "incomplete_details"), "reason");
	wd_buf text = WD_BUF_INIT;
	json_t *tools = json_array();
	int rc;

	if (!tools)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (status && strcmp(status, "failed") == 0) {
		const char *m = wd_json_str(json_object_get(root, "error"), "message");

		rc = wd_error_set(WD_EINPUT, "the response failed: %.300s", m ? m : "(no message)");
		goto out;
	}
	if (!json_is_object(root) || !json_is_array(output)) {
		rc = wd_error_set(WD_EINPUT, "the reply has no output array");
		goto out;
	}
	if ((rc = parse_output(&text, tools, output)) != 0)
		goto out;
	if (!(out->text = wd_buf_detach(&text))) {
		rc = WD_ENOMEM;
		goto out;
	}
	/* a status other than "completed" is incomplete whatever reason it
	 * gives ("incomplete" with reason "stop" is still incomplete): the
	 * reason is kept only when it says so itself */
	if (status && strcmp(status, "completed") != 0 && !(why && wd_model_finish_incomplete(why)))
		why = NULL;
	if ((wd_json_str(root, "model") && wd_stream_set(&out->model, wd_json_str(root, "model"))) ||
	    ((why || status) && wd_stream_set(&out->finish_reason, why ? why : status))) {
		rc = WD_ENOMEM;
		goto out;
	}
	if (json_is_object(usage)) {
		out->usage.input_tokens = wd_json_int(usage, "input_tokens");
		out->usage.output_tokens = wd_json_int(usage, "output_tokens");
		out->usage.cached_tokens =
			wd_json_int(json_object_get(usage, "input_tokens_details"), "cached_tokens");
	}
	rc = wd_tool_calls_set(out, tools);
out:
	wd_buf_free(&text);
	json_decref(tools);
	return rc;
}

static int event(wd_stream *st, const char *type, const json_t *o)
{
	int rc = 0;

	if (strcmp(type, "response.output_text.delta") == 0) {
		if (wd_json_str(o, "delta"))
			rc = wd_buf_puts(&st->text, wd_json_str(o, "delta"));
	} else if (strcmp(type, "response.completed") == 0 || strcmp(type, "response.incomplete") == 0) {
		json_t *resp = json_object_get(o, "response");

		if (!json_is_object(resp)) {
			rc = wd_error_set(WD_EINPUT, "%s without a response object", type);
		} else {
			json_decref(st->final);
			st->final = json_incref(resp);
			st->done = 1;
		}
	} else if (strcmp(type, "response.failed") == 0 || strcmp(type, "error") == 0) {
		const json_t *err = json_object_get(json_object_get(o, "response"), "error");
		const char *m = err ? wd_json_str(err, "message") : wd_json_str(o, "message");

		rc = wd_error_set(WD_EINFRA, "the service reported an error mid-stream: %.300s",
		                  m ? m : "(no message)");
	}
	return rc;
}

const wd_api wd_api_openai_responses = {
	"openai-responses", "/responses", build, headers, parse, event, NULL
};
