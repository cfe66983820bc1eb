/*
 * Record and replay. A record file is JSONL, one call per line:
 *   {"spec": "...", "request_hash": "<hex>", "request": {...wire body, redacted...},
 *    "reply": {"content": "...", "model": "...", "finish_reason": "...",
 *              "tool_calls": [{"id","name","arguments"}],
 *              "usage": {"input_tokens": N, "output_tokens": N, "cached_tokens": N}}}
 * and replay:FILE serves the "reply" objects back in order. Only "reply" (with
 * "content" or "tool_calls") is required, so a file can be written by hand;
 * when "request_hash" is present it must match the current request, which
 * turns a recorded run into a regression test of prompts and context.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "provider.h"

#define REPLAY_MAX_FILE ((size_t)256 << 20)

struct wd_replay {
	char *path;
	json_t *items; /* array of the line objects */
	size_t next;
};

void wd_replay_free(struct wd_replay *r)
{
	if (!r)
		return;
	free(r->path);
	json_decref(r->items);
	free(r);
}

static int check_line(const json_t *o, const char *path, size_t lineno)
{
	const json_t *reply = json_object_get(o, "reply");
	const json_t *content = json_object_get(reply, "content");
	const json_t *tools = json_object_get(reply, "tool_calls");
	const json_t *hash = json_object_get(o, "request_hash");

	if (!json_is_object(o))
		return wd_error_set(WD_EINPUT, "replay %s line %zu: not a JSON object", path, lineno);
	if (!json_is_object(reply))
		return wd_error_set(WD_EINPUT, "replay %s line %zu: no \"reply\" object", path, lineno);
	if (content && !json_is_string(content) && !json_is_null(content))
		return wd_error_set(WD_EINPUT, "replay %s line %zu: \"reply.content\" is not a string",
		                    path, lineno);
	if (!json_is_string(content) && !json_is_array(tools))
		return wd_error_set(WD_EINPUT, "replay %s line %zu: the reply has neither \"content\" "
		                    "nor \"tool_calls\"", path, lineno);
	if (tools && !json_is_array(tools))
		return wd_error_set(WD_EINPUT, "replay %s line %zu: \"reply.tool_calls\" is not an array",
		                    path, lineno);
	if (hash && !json_is_string(hash))
		return wd_error_set(WD_EINPUT, "replay %s line %zu: \"request_hash\" is not a string",
		                    path, lineno);
	return 0;
}

int wd_replay_open(struct wd_replay **out, const char *path)
{
	wd_buf data = WD_BUF_INIT;
	struct wd_replay *r = NULL;
	size_t lineno = 0, pos = 0;
	int rc;

	*out = NULL;
	rc = wd_file_read(&data, path, REPLAY_MAX_FILE);
	if (rc) {
		rc = wd_error_wrap(WD_EINPUT, "cannot read replay file");
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = wd_strdup(path)) || !(r->items = json_array())) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	while (pos < data.len) {
		const char *line = data.ptr + pos;
		const char *nl = memchr(line, '\n', data.len - pos);
		size_t len = nl ? (size_t)(nl - line) : data.len - pos;
		json_error_t je;
		json_t *o;
		size_t k = 0;

		lineno++;
		pos += len + (nl ? 1 : 0);
		while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
			k++;
		if (k == len)
			continue;
		o = json_loadb(line, len, 0, &je);
		if (!o) {
			rc = wd_error_set(WD_EINPUT, "replay %s line %zu: %s", path, lineno, je.text);
			goto out;
		}
		if ((rc = check_line(o, path, lineno)) != 0 || json_array_append_new(r->items, o)) {
			if (!rc)
				rc = wd_error_set(WD_ENOMEM, "out of memory");
			else
				json_decref(o);
			goto out;
		}
	}
	*out = r;
	r = NULL;
out:
	wd_replay_free(r);
	wd_buf_free(&data);
	return rc;
}

int wd_replay_next(wd_model_reply *out, struct wd_replay *r, const char *request_hash)
{
	size_t call = r->next + 1;
	const json_t *o, *reply, *usage, *tools;
	const char *want;

	if (r->next >= json_array_size(r->items))
		return wd_error_set(WD_EINFRA, "replay %s has no reply for call %zu", r->path, call);
	o = json_array_get(r->items, r->next++);
	want = wd_json_str(o, "request_hash");
	if (want && request_hash && strcmp(want, request_hash) != 0)
		return wd_error_set(WD_EINPUT, "replay %s: call %zu no longer matches the recording "
		                    "(request hash %.12s, recorded %.12s): the prompt or context changed; "
		                    "record the run again with --record", r->path, call,
		                    request_hash, want);
	reply = json_object_get(o, "reply");
	out->text = wd_strdup(wd_json_str(reply, "content") ? wd_json_str(reply, "content") : "");
	if (!out->text)
		return WD_ENOMEM;
	if (wd_json_str(reply, "model") && wd_stream_set(&out->model, wd_json_str(reply, "model")))
		return WD_ENOMEM;
	if (wd_json_str(reply, "finish_reason") &&
	    wd_stream_set(&out->finish_reason, wd_json_str(reply, "finish_reason")))
		return WD_ENOMEM;
	usage = json_object_get(reply, "usage");
	out->usage.input_tokens = wd_json_int(usage, "input_tokens");
	out->usage.output_tokens = wd_json_int(usage, "output_tokens");
	out->usage.cached_tokens = wd_json_int(usage, "cached_tokens");
	tools = json_object_get(reply, "tool_calls");
	if (json_is_array(tools) && json_array_size(tools))
		return wd_tool_calls_set(out, (json_t *)tools);
	return 0;
}

static json_t *reply_json(const wd_model_reply *reply)
{
	json_t *o = json_pack("{s:s, s:s?, s:s?, s:{s:I, s:I, s:I}}",
	                      "content", reply->text ? reply->text : "",
	                      "model", reply->model, "finish_reason", reply->finish_reason,
	                      "usage", "input_tokens", (json_int_t)reply->usage.input_tokens,
	                      "output_tokens", (json_int_t)reply->usage.output_tokens,
	                      "cached_tokens", (json_int_t)reply->usage.cached_tokens);

	if (o && reply->ntool_calls) {
		json_t *tc = wd_tool_calls_json(reply->tool_calls, reply->ntool_calls);

		if (!tc || json_object_set_new(o, "tool_calls", tc)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int wd_record_append(const char *path, const char *spec, const json_t *request,
                     const char *request_hash, const wd_model_reply *reply)
{
	json_t *o = json_pack("{s:s, s:s, s:O?, s:o}", "spec", spec, "request_hash", request_hash,
	                      "request", request, "reply", reply_json(reply));
	char *line = NULL;
	int rc;

	if (!o)
		return wd_error_set(WD_ENOMEM, "out of memory writing the record");
	/* the hash is ours and must survive redaction untouched */
	json_object_del(o, "request_hash");
	wd_redact_json(o);
	if (json_object_set_new(o, "request_hash", json_string(request_hash)) ||
	    !(line = json_dumps(o, JSON_COMPACT))) {
		json_decref(o);
		return wd_error_set(WD_ENOMEM, "out of memory writing the record");
	}
	rc = wd_file_append(path, line, strlen(line), 1);
	if (rc)
		rc = wd_error_wrap(rc, "writing the record");
	free(line);
	json_decref(o);
	return rc;
}
