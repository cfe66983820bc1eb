/*
 * Anthropic Messages API (POST {base}/v1/messages, x-api-key,
 * anthropic-version: 2023-06-01). The system prompt is a top-level field,
 * tool calls are content blocks (tool_use / tool_result), and max_tokens is
 * required.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "provider.h"

#define ANTHROPIC_VERSION "2023-06-01"
#define DEFAULT_MAX_TOKENS 8192

static json_t *tool_use_blocks(const wd_message *m)
{
	json_t *blocks = json_array();

	if (!blocks)
		return NULL;
	if (m->content && *m->content &&
	    json_array_append_new(blocks, json_pack("{s:s, s:s}", "type", "text", "text", m->content)))
		goto fail;
	for (size_t i = 0; i < m->ntool_calls; i++) {
		const wd_tool_call *c = &m->tool_calls[i];
		/* the API wants an object; arguments that were never one become {} */
		json_t *input = c->args ? json_deep_copy(c->args) : json_object();

		if (json_array_append_new(blocks, json_pack("{s:s, s:s, s:s, s:o}", "type", "tool_use",
		                                            "id", c->id, "name", c->name, "input", input)))
			goto fail;
	}
	return blocks;
fail:
	json_decref(blocks);
	return NULL;
}

static int add_messages(json_t *body, const wd_chat *chat)
{
	json_t *msgs = json_object_get(body, "messages");
	json_t *results = NULL; /* the open user turn collecting tool results */
	int rc = 0;

	for (size_t i = 0; i < chat->n && !rc; i++) {
		const wd_message *m = &chat->msgs[i];
		const char *text = m->content ? m->content : "";
		json_t *o = NULL;

		if (m->role == WD_ROLE_SYSTEM)
			continue;  /* the "system" field (wd_body_build) */
		if (m->role == WD_ROLE_TOOL) {
			json_t *blk = json_pack("{s:s, s:s, s:s}", "type", "tool_result", "tool_use_id",
			                        m->tool_call_id ? m->tool_call_id : "", "content", text);

			if (!results) {
				o = json_pack("{s:s, s:[]}", "role", "user", "content");
				if (!o || json_array_append_new(msgs, o)) {
					json_decref(blk);
					rc = wd_error_set(WD_ENOMEM, "out of memory");
					break;
				}
				results = json_object_get(o, "content");
			}
			if (!blk || json_array_append_new(results, blk))
				rc = wd_error_set(WD_ENOMEM, "out of memory");
			continue;
		}
		results = NULL;
		if (m->role == WD_ROLE_ASSISTANT && m->ntool_calls) {
			json_t *blocks = tool_use_blocks(m);

			o = blocks ? json_pack("{s:s, s:o}", "role", "assistant", "content", blocks) : NULL;
			if (!blocks)
				rc = wd_error_set(WD_ENOMEM, "out of memory");
		} else {
			/* the API refuses empty text content with a 400 */
			o = json_pack("{s:s, s:s}", "role", m->role == WD_ROLE_USER ? "user" : "assistant",
			              "content", *text ? text : "(empty)");
		}
		if (!rc && (!o || json_array_append_new(msgs, o)))
			rc = wd_error_set(WD_ENOMEM, "out of memory");
	}
	return rc;
}

static json_t *tool_shape(const char *name, const char *desc, json_t *params)
{
	return json_pack("{s:s, s:s, s:o}", "name", name, "description", desc, "input_schema", params);
}

static int add_tools(json_t *body, const wd_model_call *call)
{
	const char *choice = call->tool_choice ? call->tool_choice : "auto";
	json_t *arr;
	int rc = wd_tools_array(&arr, call, tool_shape);

	if (rc)
		return rc;
	if (strcmp(choice, "required") == 0)
		choice = "any";
	if (json_object_set_new(body, "tools", arr) ||
	    json_object_set_new(body, "tool_choice", json_pack("{s:s}", "type", choice)))
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

static int build(json_t **out, const wd_backend *b, const wd_chat *chat,
                 const wd_model_call *call, int stream)
{
	/* max_tokens is required here: the pack writes it, with a default */
	static const wd_body_parts parts = { add_messages, "system", add_tools, NULL, 0 };
	long max = call->max_output_tokens > 0 ? call->max_output_tokens : DEFAULT_MAX_TOKENS;

	return wd_body_build(out, json_pack("{s:s, s:I, s:[]}", "model", b->model, "max_tokens",
	                                    (json_int_t)max, "messages"),
	                     chat, call, &parts, stream);
}

static int headers(wd_strvec *out, const wd_backend *b)
{
	wd_buf h = WD_BUF_INIT;
	int rc = 0;

	if (b->api_key && *b->api_key && !(rc = wd_buf_printf(&h, "x-api-key: %s", b->api_key)))
		rc = wd_strvec_push_owned(out, wd_buf_detach(&h));
	if (!rc)
		rc = wd_strvec_push(out, "anthropic-version: " ANTHROPIC_VERSION);
	wd_buf_free(&h);
	return rc;
}

static void read_usage(wd_model_usage *u, const json_t *usage)
{
	int64_t read, created;

	if (!json_is_object(usage))
		return;
	read = wd_json_int(usage, "cache_read_input_tokens");
	created = wd_json_int(usage, "cache_creation_input_tokens");
	/* Anthropic counts cache reads and writes apart from input_tokens; warden's
	 * input_tokens is every prompt token, cached_tokens the ones read from cache */
	if (json_object_get(usage, "input_tokens"))
		u->input_tokens = wd_usage_sum(wd_usage_sum(wd_json_int(usage, "input_tokens"), read),
		                               created);
	if (json_object_get(usage, "cache_read_input_tokens"))
		u->cached_tokens = read;
	if (json_object_get(usage, "output_tokens"))
		u->output_tokens = wd_json_int(usage, "output_tokens");
}

static int parse(wd_model_reply *out, const json_t *root)
{
	const json_t *content = json_object_get(root, "content");
	wd_buf text = WD_BUF_INIT;
	json_t *tools = json_array();
	size_t i;
	json_t *blk;
	int rc = 0;

	if (!tools)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (!json_is_object(root) || !json_is_array(content)) {
		rc = wd_error_set(WD_EINPUT, "the reply has no content array");
		goto out;
	}
	json_array_foreach(content, i, blk) {
		const char *type = wd_json_str(blk, "type");

		if (type && strcmp(type, "text") == 0 && wd_json_str(blk, "text")) {
			if ((rc = wd_buf_puts(&text, wd_json_str(blk, "text"))) != 0)
				goto out;
		} else if (type && strcmp(type, "tool_use") == 0) {
			char *args = json_dumps(json_object_get(blk, "input"), JSON_COMPACT | JSON_ENCODE_ANY);
			json_t *o = json_pack("{s:s, s:s, s:s}", "id",
			                      wd_json_str(blk, "id") ? wd_json_str(blk, "id") : "",
			                      "name", wd_json_str(blk, "name") ? wd_json_str(blk, "name") : "",
			                      "arguments", args ? args : "{}");

			free(args);
			if (!o || json_array_append_new(tools, o)) {
				rc = wd_error_set(WD_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (!(out->text = wd_buf_detach(&text))) {
		rc = WD_ENOMEM;
		goto out;
	}
	if ((wd_json_str(root, "model") && wd_stream_set(&out->model, wd_json_str(root, "model"))) ||
	    (wd_json_str(root, "stop_reason") &&
	     wd_stream_set(&out->finish_reason, wd_json_str(root, "stop_reason")))) {
		rc = WD_ENOMEM;
		goto out;
	}
	read_usage(&out->usage, json_object_get(root, "usage"));
	rc = wd_tool_calls_set(out, tools);
out:
	wd_buf_free(&text);
	json_decref(tools);
	return rc;
}

static int on_block_start(wd_stream *st, const json_t *o)
{
	const json_t *blk = json_object_get(o, "content_block");
	const char *type = wd_json_str(blk, "type");
	wd_tool_acc *t;

	if (type && strcmp(type, "text") == 0 && wd_json_str(blk, "text"))
		return wd_buf_puts(&st->text, wd_json_str(blk, "text"));
	if (!type || strcmp(type, "tool_use") != 0)
		return 0;
	if (!(t = wd_stream_tool(st, (long)wd_json_int(o, "index"))))
		return wd_error_last_code();
	if ((wd_json_str(blk, "id") && wd_stream_set(&t->id, wd_json_str(blk, "id"))) ||
	    (wd_json_str(blk, "name") && wd_stream_set(&t->name, wd_json_str(blk, "name"))))
		return WD_ENOMEM;
	return 0;
}

static int on_block_delta(wd_stream *st, const json_t *o)
{
	const json_t *d = json_object_get(o, "delta");
	const char *type = wd_json_str(d, "type");
	wd_tool_acc *t;

	if (!type)
		return wd_error_set(WD_EINPUT, "a content_block_delta without a type");
	if (strcmp(type, "text_delta") == 0)
		return wd_json_str(d, "text") ? wd_buf_puts(&st->text, wd_json_str(d, "text")) : 0;
	if (strcmp(type, "input_json_delta") != 0)
		return 0; /* thinking, signatures, citations: not part of the reply text */
	if (!(t = wd_stream_tool(st, (long)wd_json_int(o, "index"))))
		return wd_error_last_code();
	return wd_json_str(d, "partial_json") ? wd_buf_puts(&t->args, wd_json_str(d, "partial_json")) : 0;
}

static int event(wd_stream *st, const char *type, const json_t *o)
{
	int rc = 0;

	if (strcmp(type, "message_start") == 0) {
		const json_t *msg = json_object_get(o, "message");

		if (wd_json_str(msg, "model"))
			rc = wd_stream_set(&st->model, wd_json_str(msg, "model"));
		read_usage(&st->usage, json_object_get(msg, "usage"));
	} else if (strcmp(type, "content_block_start") == 0) {
		rc = on_block_start(st, o);
	} else if (strcmp(type, "content_block_delta") == 0) {
		rc = on_block_delta(st, o);
	} else if (strcmp(type, "message_delta") == 0) {
		const char *stop = wd_json_str(json_object_get(o, "delta"), "stop_reason");

		if (stop)
			rc = wd_stream_set(&st->finish, stop);
		read_usage(&st->usage, json_object_get(o, "usage"));
	} else if (strcmp(type, "message_stop") == 0) {
		st->done = 1;
	} else if (strcmp(type, "error") == 0) {
		const json_t *err = json_object_get(o, "error");
		const char *m = wd_json_str(err, "message");

		rc = wd_error_set(WD_EINFRA, "the service reported an error mid-stream: %s: %.300s",
		                  wd_json_str(err, "type") ? wd_json_str(err, "type") : "error",
		                  m ? m : "(no message)");
	}
	return rc;
}

const wd_api wd_api_anthropic = {
	"anthropic", "/v1/messages", build, headers, parse, event, NULL
};
