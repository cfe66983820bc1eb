#ifndef WARDEN_MODEL_H
#define WARDEN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "warden/buf.h"

struct wd_ledger;
struct wd_config;

/*
 * One interface over every model provider. A spec names the provider:
 *   openai:MODEL            OpenAI Chat Completions  (OPENAI_API_KEY, OPENAI_BASE_URL)
 *   openai-responses:MODEL  OpenAI Responses API
 *   anthropic:MODEL         Anthropic Messages       (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL)
 *   compat:BASE_URL#MODEL   any OpenAI-compatible server (llama.cpp, vLLM, Ollama)
 *   replay:FILE             recorded replies served back in order
 *   NAME                    a [model "NAME"] section of the config
 * and "a,b,c" is a fallback chain. docs/model.md has the whole picture
 * (config keys, retries, budgets, the record format).
 */

typedef enum wd_role {
	WD_ROLE_SYSTEM = 0,
	WD_ROLE_USER,
	WD_ROLE_ASSISTANT,
	WD_ROLE_TOOL
} wd_role;

/*
 * One tool call of a reply, parsed once, where the provider's reply is read
 * (wd_model_parse_reply and every provider, replay included): the run, the
 * tools and the next request use these fields and never parse the text again.
 * A call without an id is a malformed reply (the model's fault, WD_EINFRA):
 * its result could not be paired with it.
 */
typedef struct wd_tool_call {
	char *id;        /* the provider's id, 1 to 256 bytes */
	char *name;      /* the tool's name as the model gave it, at most 256 bytes ("" if none) */
	char *args_text; /* the arguments as the model sent them (JSON text; "{}" when absent) */
	json_t *args;    /* args_text parsed: a JSON object, or NULL when it is not one */
} wd_tool_call;

/* Tool calls from JSON text, an array of {id, name, arguments} (arguments a
 * JSON string or object), with the same checks as a provider's reply: for
 * replay files and tests. *out is NULL and *n 0 for an empty array.
 * WD_EINPUT when the text is not such an array, WD_EINFRA for a call
 * without an id (as in a reply). Free with wd_tool_calls_free. */
int wd_tool_calls_parse(wd_tool_call **out, size_t *n, const char *text);

/* The calls as a new JSON array of {id, name, arguments (the text)}: for the
 * ledger, the record file and the request hash. NULL on ENOMEM. */
json_t *wd_tool_calls_json(const wd_tool_call *calls, size_t n);

void wd_tool_calls_free(wd_tool_call *calls, size_t n);

typedef struct wd_message {
	wd_role role;
	char *content;
	char *tool_call_id;       /* WD_ROLE_TOOL: the call this answers */
	wd_tool_call *tool_calls; /* WD_ROLE_ASSISTANT: the calls it made (owned copies) */
	size_t ntool_calls;
} wd_message;

typedef struct wd_chat {
	wd_message *msgs;
	size_t n;
	size_t cap;
} wd_chat;

#define WD_CHAT_INIT { NULL, 0, 0 }

/* Append a message (content copied; NULL = ""). */
int wd_chat_add(wd_chat *c, wd_role role, const char *content);
/* Append an assistant turn that called tools (the calls are copied).
 * WD_EUSAGE when there is none or one has no id. */
int wd_chat_add_tool_calls(wd_chat *c, const char *content, const wd_tool_call *calls, size_t n);
/* Append a tool result answering call `tool_call_id`. */
int wd_chat_add_tool_result(wd_chat *c, const char *tool_call_id, const char *content);
void wd_chat_free(wd_chat *c);

/* Canonical hash of a request: messages (role, content, tool fields) and the
 * tool definitions, as compact sorted JSON, independent of the provider's wire
 * format. This is the "request_hash" of a record/replay line and the
 * reply's prompt_hash, so a replayed run notices when a prompt or the context changed. */
int wd_chat_hash(char out[41], const wd_chat *chat, const json_t *tools);

typedef struct wd_model_usage {
	int64_t input_tokens;  /* all prompt tokens, cached ones included */
	int64_t output_tokens;
	int64_t cached_tokens; /* prompt tokens served from the provider's cache */
	double cost_usd;       /* from the price table; 0 when unknown */
} wd_model_usage;

typedef struct wd_model_reply {
	char *text;            /* the assistant's text ("" when it only called tools) */
	char *model;           /* model name the service reports */
	char *provider;        /* "openai", "openai-responses", "anthropic", "compat", "replay" */
	char *spec;            /* the chain member that answered ("openai:gpt-4o-mini") */
	char *finish_reason;   /* as the API says it ("stop", "end_turn", "tool_calls", ...) */
	wd_tool_call *tool_calls; /* the tool calls, parsed once (see wd_tool_call) */
	size_t ntool_calls;    /* 0 when it called none */
	wd_model_usage usage;
	int attempts;          /* HTTP attempts including retries, over all chain members */
	uint64_t latency_ms;
	char prompt_hash[41];  /* wd_chat_hash of the request (provider-independent) */
} wd_model_reply;

/*
 * Settings for a model handle. Every zero/NULL field means "the default".
 * The handle owns the run's budgets: each cap is checked before a call (a
 * call that would start past a cap fails with WD_EBUDGET naming the cap) and
 * the time cap also bounds each HTTP attempt. A call that crosses a cap
 * still returns its reply; the next one is refused.
 */
typedef struct wd_model_opts {
	unsigned version;
	const struct wd_config *config; /* named models, prices, keys; may be NULL */
	struct wd_ledger *ledger;       /* retries, fallbacks recorded here; may be NULL */
	const char *record_path;        /* --record FILE, may be NULL */
	long connect_timeout_ms;        /* 0 = default 10 s */
	long timeout_ms;                /* total per attempt; 0 = default 120 s */
	int max_retries;                /* -1 = default 4 (so 5 attempts); 0 = no retry */
	/* budgets (0 = no cap) */
	double max_cost_usd;            /* --max-cost */
	int64_t max_tokens;             /* --max-tokens: input + output over all calls */
	int max_calls;                  /* --max-calls: completions (not HTTP attempts) */
	long max_time_ms;               /* --max-time: wall time since wd_model_open */
	/* transport */
	int stream;                     /* 1 = stream replies (SSE) on HTTP providers */
	long idle_timeout_ms;           /* streaming: no byte for this long fails; 0 = 60 s */
	size_t max_reply_bytes;         /* response body cap; 0 = 32 MiB */
	long retry_base_ms;             /* first backoff step; 0 = 1000 ms (doubles each retry) */
	long retry_max_wait_ms;         /* cap on one wait, Retry-After included; 0 = 60 s
	                                   (a longer Retry-After is waited this long, and
	                                   the reason told says what it asked for) */
	/* told before each wait between attempts, so that no wait is silent;
	   may be NULL. `reason` is why the last attempt failed. */
	void (*on_retry)(void *payload, const char *spec, int attempt, long wait_ms,
	                 const char *reason);
	void *retry_payload;
} wd_model_opts;

#define WD_MODEL_OPTS_VERSION 1
#define WD_MODEL_OPTS_INIT { WD_MODEL_OPTS_VERSION, NULL, NULL, NULL, 0, 0, -1, \
                             0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL }

/* Per-call options for wd_model_complete_ex. */
typedef struct wd_model_call {
	unsigned version;
	const json_t *tools;        /* array of {name, description, parameters (JSON Schema)};
	                               NULL = no tools. Not stolen. */
	const char *tool_choice;    /* NULL/"auto", "none", "required" */
	long max_output_tokens;     /* 0 = provider default (Anthropic needs one: 8192) */
	double temperature;         /* < 0 = provider default */
	const char *stage;          /* "patch", "context", ...: route.<stage> in config picks the
	                               chain for it (see wd_model_open); NULL = the main chain */
} wd_model_call;

#define WD_MODEL_CALL_VERSION 1
#define WD_MODEL_CALL_INIT { WD_MODEL_CALL_VERSION, NULL, NULL, 0, -1.0, NULL }

/* Running totals of a handle, over all calls and chain members. */
typedef struct wd_model_stats {
	int64_t calls;           /* completions started (what --max-calls counts) */
	int64_t attempts;        /* HTTP attempts, retries included */
	int64_t retries;
	int64_t fallbacks;       /* switches to a later chain member */
	wd_model_usage usage;    /* summed tokens and cost */
	uint64_t elapsed_ms;     /* wall time since wd_model_open */
} wd_model_stats;

typedef struct wd_model wd_model;

/* Parse the spec and set up the provider(s). Errors: WD_EUSAGE (bad spec),
 * WD_EINPUT (replay file unreadable/malformed), WD_EINFRA. A missing API key
 * is reported here, naming the variable, never the value.
 *
 * Keys and URLs: OPENAI_API_KEY / OPENAI_BASE_URL (default
 * https://api.openai.com/v1), ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL (default
 * https://api.anthropic.com); a [model "NAME"] section may set spec,
 * api-key, base-url, price-in, price-out, price-cached (USD per million
 * tokens) and is read from the trusted (user) config level only. compat:
 * servers take COMPAT_API_KEY when set and need none otherwise.
 * Per-stage routes: route.<stage> = SPEC in config. Options left at their
 * defaults may be set in the user's config: model.stream (bool),
 * model.timeout-ms, model.connect-timeout-ms, model.idle-timeout-ms
 * (1 ms to a day), model.retry-max-wait-ms (1 ms to an hour),
 * model.max-retries (0 to 100). */
int wd_model_open(wd_model **out, const char *spec, const wd_model_opts *opts);

/* One completion. Retries transient failures inside (429, 5xx, transport
 * errors, honouring Retry-After), then falls back along the chain. Errors:
 * WD_EINFRA (service down, 5xx after retries, malformed or truncated reply),
 * WD_EINPUT (4xx such as a wrong key: the message says so; a replay that no
 * longer matches), WD_ETIMEOUT, WD_EBUDGET (the message names the cap). */
int wd_model_complete(wd_model_reply *out, wd_model *m, const wd_chat *chat);

/* Same with per-call options (tools, output cap, stage); call may be NULL. */
int wd_model_complete_ex(wd_model_reply *out, wd_model *m, const wd_chat *chat,
                         const wd_model_call *call);

/* The spec as given ("openai:gpt-4o-mini"), for trailers and the ledger. */
const char *wd_model_spec(const wd_model *m);

/* The settings in effect: the options given, then the user's config, then
 * the defaults (every zero of the timeouts, waits and caps resolved), so a
 * caller can say what a run will wait. */
void wd_model_settings(wd_model_opts *out, const wd_model *m);

/* Totals so far. */
void wd_model_totals(wd_model_stats *out, const wd_model *m);

/* Price per million tokens for a model name: config [model "NAME"] first,
 * then the built-in table (longest matching prefix). 0 when found, else WD_ENOTFOUND. */
int wd_model_price(double *in_per_m, double *out_per_m, double *cached_per_m,
                   const struct wd_config *cfg, const char *model);

/* Parse one provider reply body into `out` ("openai", "openai-responses",
 * "anthropic"; "compat" = "openai"). `sse` != 0: body is a whole SSE stream.
 * WD_EINPUT on a malformed reply. Used by the providers, tests and fuzzing. */
int wd_model_parse_reply(wd_model_reply *out, const char *api, const char *body, size_t len,
                         int sse);

/* Whether the reply stopped at its output limit (OpenAI "length", Anthropic
 * "max_tokens" or "model_context_window_exceeded", Responses
 * "max_output_tokens"): asking again for a shorter edit may help. */
int wd_model_reply_truncated(const wd_model_reply *r);

/* Why a reply with this finish reason is incomplete, as a phrase ("cut off
 * at its output limit", "stopped by the provider's content filter", ...), or
 * NULL when it is whole. Whole is a reason known to end a whole reply
 * ("stop", "end_turn", "tool_calls", "tool_use", "stop_sequence",
 * "function_call", "completed"; any case) or none at all. Every other one
 * (OpenAI "content_filter", Anthropic "refusal" and "pause_turn", a
 * Responses reply whose status is not "completed", a reason no API
 * documents) is incomplete: an edit in it may end mid-hunk, so it is never
 * applied. */
const char *wd_model_finish_incomplete(const char *finish_reason);
/* wd_model_finish_incomplete(r->finish_reason); NULL for NULL. */
const char *wd_model_reply_incomplete(const wd_model_reply *r);

void wd_model_reply_free(wd_model_reply *r);
void wd_model_free(wd_model *m);

#endif
