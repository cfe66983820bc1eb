#ifndef WARDEN_MODEL_PROVIDER_H
#define WARDEN_MODEL_PROVIDER_H

/*
 * Internal interface between the model layer (model.c: chains, retries,
 * budgets) and the wire formats (one file per API). An API knows how to turn a
 * chat into a request body, which headers to send, and how to read a reply,
 * whole or streamed; it knows nothing of retries, keys' origins or budgets.
 */
#include <jansson.h>

#include "warden/buf.h"
#include "warden/model.h"

struct wd_stream;
struct wd_backend;

typedef struct wd_api {
	const char *name;   /* "openai", "openai-responses", "anthropic" */
	const char *path;   /* appended to the base URL: "/chat/completions" */
	/* The request body. `stream` asks for SSE. */
	int (*build)(json_t **out, const struct wd_backend *b, const wd_chat *chat,
	             const wd_model_call *call, int stream);
	/* Auth and version headers ("Name: value"), besides Content-Type. */
	int (*headers)(wd_strvec *out, const struct wd_backend *b);
	/* A whole (non-streamed) reply. WD_EINPUT when it is not the expected shape. */
	int (*parse)(wd_model_reply *out, const json_t *root);
	/* One SSE event, its data parsed by the stream (sse.c) as a JSON object
	 * `o`; `type` is its "type" field, else the SSE event name, else "".
	 * WD_EINPUT on nonsense, WD_EINFRA for an error the service reports
	 * inside the stream. */
	int (*event)(struct wd_stream *st, const char *type, const json_t *o);
	/* The data that ends the stream in place of an event ("[DONE]"), or NULL. */
	const char *done;
} wd_api;

extern const wd_api wd_api_openai_chat;
extern const wd_api wd_api_openai_responses;
extern const wd_api wd_api_anthropic;

struct wd_replay;

/* One member of a fallback chain, resolved. */
typedef struct wd_backend {
	char *spec;            /* as resolved ("openai:gpt-4o", "replay:demo.jsonl") */
	char *label;           /* as the user wrote it (a config name, or the spec) */
	char *kind;            /* "openai", "openai-responses", "anthropic", "compat", "replay" */
	const wd_api *api;     /* NULL for replay */
	char *model;
	char *base_url;        /* without a trailing slash */
	char *api_key;         /* may be NULL (compat); never printed */
	char *key_source;      /* "OPENAI_API_KEY", "model.fast.api-key", ... */
	int compat;            /* OpenAI-compatible server: older field names */
	double price_in, price_out, price_cached; /* USD per million tokens */
	int have_price;
	struct wd_replay *replay;
} wd_backend;

/* A streamed reply as it builds up. */
typedef struct wd_tool_acc {
	long key;              /* the API's index for this call */
	char *id;
	char *name;
	wd_buf args;
} wd_tool_acc;

typedef struct wd_stream {
	const wd_api *api;
	wd_buf text;
	wd_tool_acc *tools;
	size_t ntools, tools_cap;
	char *model;
	char *finish;
	wd_model_usage usage;
	int done;              /* the API's end marker arrived */
	json_t *final;         /* Responses: the full response object from response.completed */
	/* SSE framing */
	wd_buf ev_name;
	wd_buf ev_data;
	int ev_has_data;
} wd_stream;

/* sse.c */
void wd_stream_init(wd_stream *st, const wd_api *api);
/* Feed one line (no newline); dispatches an event at each blank line. */
int wd_stream_line(wd_stream *st, const char *line, size_t len);
/* End of input: dispatch a pending event, then require the API's end marker. */
int wd_stream_end(wd_stream *st);
/* Move the accumulated reply into out. */
int wd_stream_reply(wd_model_reply *out, wd_stream *st);
void wd_stream_free(wd_stream *st);
/* The accumulator for tool call `key`, created on first use; NULL on ENOMEM. */
wd_tool_acc *wd_stream_tool(wd_stream *st, long key);
/* Replace a string field (free the old one). */
int wd_stream_set(char **field, const char *v);

/* json helpers (model.c) */
const char *wd_json_str(const json_t *o, const char *key);
int64_t wd_json_int(const json_t *o, const char *key);
/* a + b, saturating at INT64_MAX / INT64_MIN instead of overflowing. */
int64_t wd_usage_sum(int64_t a, int64_t b);
/* Token counts a reply may claim: negative ones are WD_EINPUT (the model's
 * fault), counts over WD_USAGE_REPLY_MAX are clamped to it, cached tokens to
 * the input tokens. */
#define WD_USAGE_REPLY_MAX ((int64_t)1000000000)
int wd_usage_check(wd_model_usage *u);
/* A copy of the service's error message inside body, redacted and cut to a
 * sensible length; NULL when there is none. */
char *wd_api_error_message(const char *body, size_t len);
/* The reply's tool calls from an array of {id, name, arguments} that a
 * provider read: checked (an id of 1 to 256 bytes, else a malformed reply,
 * WD_EINFRA) and parsed once into out->tool_calls. Nothing for an empty array. */
int wd_tool_calls_set(wd_model_reply *out, json_t *arr);
/* A tool definition's fields, checked; *params is a new reference (the
 * JSON Schema, or an empty object schema when absent) the caller owns. */
int wd_tool_fields(const json_t *tool, const char **name, const char **desc, json_t **params);
/* A provider's shape of one tool definition; steals `params`. NULL on ENOMEM. */
typedef json_t *(*wd_tool_shape_fn)(const char *name, const char *desc, json_t *params);
/* The tool definitions of `call` as a new JSON array, each entry built by
 * `shape` from the checked fields (the loop and its errors, once for all
 * providers). WD_EUSAGE for a malformed definition, WD_ENOMEM. */
int wd_tools_array(json_t **out, const wd_model_call *call, wd_tool_shape_fn shape);
/* The OpenAI APIs' tools: body.tools from wd_tools_array with `shape`, and
 * body.tool_choice the call's ("auto" when NULL; anything but auto, none or
 * required is WD_EUSAGE). One builder for Chat Completions and Responses. */
int wd_tools_attach(json_t *body, const wd_model_call *call, wd_tool_shape_fn shape);
/* What one API puts into a request body: its messages, the field that
 * holds the system messages joined by blank lines (NULL: they stay
 * messages, and `messages` skips them otherwise), its tools (called only
 * when the call has some), the name of its reply cap (NULL: the API wrote
 * the cap itself) and whether a stream asks for usage. */
typedef struct wd_body_parts {
	int (*messages)(json_t *body, const wd_chat *chat);
	const char *system_key;
	int (*tools)(json_t *body, const wd_model_call *call);
	const char *max_key;
	int stream_usage;
} wd_body_parts;
/* The request body every API builds the same way: `body` (stolen; NULL is
 * WD_ENOMEM) with the messages, system field and tools `parts` adds, then the reply cap,
 * "temperature" when the call sets one and "stream" (with "stream_options"
 * when parts->stream_usage). *out is the body, or NULL on failure. */
int wd_body_build(json_t **out, json_t *body, const wd_chat *chat, const wd_model_call *call,
                  const wd_body_parts *parts, int stream);
/* model.c: a trusted (user-level) config string; WD_ENOTFOUND when unset or cfg is NULL. */
struct wd_config;
int wd_model_cfg_get(char **out, const struct wd_config *cfg, const char *key);

/* replay.c */
int wd_replay_open(struct wd_replay **out, const char *path);
int wd_replay_next(wd_model_reply *out, struct wd_replay *r, const char *request_hash);
void wd_replay_free(struct wd_replay *r);
/* One record line for --record: request (redacted), its hash, the reply. */
int wd_record_append(const char *path, const char *spec, const json_t *request,
                     const char *request_hash, const wd_model_reply *reply);

#endif
