/*
 * Server-sent events framing (the WHATWG event-stream rules the providers
 * follow) and the accumulator a streamed reply builds up in. The API-specific
 * meaning of each event lives in the provider files.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "provider.h"

/* A single event's data larger than this is not a model reply we want. */
#define SSE_MAX_EVENT ((size_t)8 << 20)

void wd_stream_init(wd_stream *st, const wd_api *api)
{
	memset(st, 0, sizeof(*st));
	st->api = api;
}

int wd_stream_set(char **field, const char *v)
{
	char *p = wd_strdup(v);

	if (!p)
		return WD_ENOMEM;
	free(*field);
	*field = p;
	return 0;
}

wd_tool_acc *wd_stream_tool(wd_stream *st, long key)
{
	wd_tool_acc *v;

	for (size_t i = 0; i < st->ntools; i++)
		if (st->tools[i].key == key)
			return &st->tools[i];
	if (st->ntools >= 1024) {
		wd_error_set(WD_EINPUT, "the reply stream opened more than 1024 tool calls");
		return NULL;
	}
	if (WD_ARRAY_RESERVE(st->tools, st->tools_cap, st->ntools + 1, 4) != 0)
		return NULL;
	v = st->tools;
	memset(&v[st->ntools], 0, sizeof(v[0]));
	v[st->ntools].key = key;
	return &v[st->ntools++];
}

/* One event's data as a JSON object (a new reference in *out) and its type:
 * the "type" field, else the SSE event name, else "". WD_EINPUT when the
 * data is not a JSON object. */
static int event_json(json_t **out, const char **type, const char *name, const char *data,
                      size_t len)
{
	json_error_t je;
	json_t *o = json_loadb(data, len, 0, &je);

	*out = NULL;
	if (!json_is_object(o)) {
		json_decref(o);
		return wd_error_set(WD_EINPUT, "a reply stream event is not JSON: %s", je.text);
	}
	*type = wd_json_str(o, "type");
	if (!*type)
		*type = name ? name : "";
	*out = o;
	return 0;
}

/* The API's end-of-stream data, or the event parsed and handed to the API. */
static int deliver(wd_stream *st, const char *name, const char *data, size_t len)
{
	const char *done = st->api->done, *type;
	json_t *o;
	int rc;

	if (done && len == strlen(done) && memcmp(data, done, len) == 0) {
		st->done = 1;
		return 0;
	}
	if ((rc = event_json(&o, &type, name, data, len)) != 0)
		return rc;
	rc = st->api->event(st, type, o);
	json_decref(o);
	return rc;
}

static int dispatch(wd_stream *st)
{
	int rc = 0;

	if (st->ev_has_data)
		rc = deliver(st, st->ev_name.len ? st->ev_name.ptr : NULL, wd_buf_cstr(&st->ev_data),
		             st->ev_data.len);
	wd_buf_clear(&st->ev_name);
	wd_buf_clear(&st->ev_data);
	st->ev_has_data = 0;
	return rc;
}

int wd_stream_line(wd_stream *st, const char *line, size_t len)
{
	const char *colon, *val;
	size_t flen, vlen;

	if (len == 0)
		return dispatch(st);
	if (line[0] == ':')
		return 0; /* comment / keep-alive */
	colon = memchr(line, ':', len);
	flen = colon ? (size_t)(colon - line) : len;
	val = colon ? colon + 1 : line + len;
	vlen = colon ? len - flen - 1 : 0;
	if (vlen && *val == ' ') {
		val++;
		vlen--;
	}
	if (flen == 4 && memcmp(line, "data", 4) == 0) {
		if (st->ev_data.len + vlen + 1 > SSE_MAX_EVENT)
			return wd_error_set(WD_EINPUT, "an event in the reply stream is larger than %zu bytes",
			                    SSE_MAX_EVENT);
		if ((st->ev_has_data && wd_buf_putc(&st->ev_data, '\n')) ||
		    wd_buf_put(&st->ev_data, val, vlen))
			return WD_ENOMEM;
		st->ev_has_data = 1;
	} else if (flen == 5 && memcmp(line, "event", 5) == 0) {
		wd_buf_clear(&st->ev_name);
		if (vlen > 256)
			vlen = 256;
		if (wd_buf_put(&st->ev_name, val, vlen))
			return WD_ENOMEM;
	}
	/* id:, retry: and unknown fields are ignored, as the spec says */
	return 0;
}

int wd_stream_end(wd_stream *st)
{
	int rc = dispatch(st);

	if (rc)
		return rc;
	if (!st->done)
		return wd_error_set(WD_EINFRA, "the reply stream ended before the reply was complete");
	return 0;
}

int wd_stream_reply(wd_model_reply *out, wd_stream *st)
{
	json_t *arr;
	int rc = 0;

	if (st->final)
		return st->api->parse(out, st->final);
	out->text = wd_buf_detach(&st->text);
	if (!out->text)
		return WD_ENOMEM;
	out->model = st->model;
	st->model = NULL;
	out->finish_reason = st->finish;
	st->finish = NULL;
	out->usage = st->usage;
	if (st->ntools == 0)
		return 0;
	arr = json_array();
	if (!arr)
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < st->ntools && !rc; i++) {
		wd_tool_acc *t = &st->tools[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "id", t->id ? t->id : "",
		                      "name", t->name ? t->name : "",
		                      "arguments", t->args.len ? t->args.ptr : "{}");

		if (!o || json_array_append_new(arr, o))
			rc = wd_error_set(WD_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = wd_tool_calls_set(out, arr);
	json_decref(arr);
	return rc;
}

void wd_stream_free(wd_stream *st)
{
	wd_buf_free(&st->text);
	for (size_t i = 0; i < st->ntools; i++) {
		free(st->tools[i].id);
		free(st->tools[i].name);
		wd_buf_free(&st->tools[i].args);
	}
	free(st->tools);
	free(st->model);
	free(st->finish);
	json_decref(st->final);
	wd_buf_free(&st->ev_name);
	wd_buf_free(&st->ev_data);
	memset(st, 0, sizeof(*st));
}
