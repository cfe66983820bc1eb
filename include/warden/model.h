#ifndef WARDEN_MODEL_H
#define WARDEN_MODEL_H

#include <stddef.h>
#include <stdint.h>

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
 * and "a,b,c" is a fallback chain.
 */

typedef enum wd_role {
	WD_ROLE_SYSTEM = 0,
	WD_ROLE_USER,
	WD_ROLE_ASSISTANT,
	WD_ROLE_TOOL
} wd_role;

typedef struct wd_message {
	wd_role role;
	char *content;
	char *tool_call_id;    /* WD_ROLE_TOOL: the call this answers */
	char *tool_calls_json; /* WD_ROLE_ASSISTANT: JSON array of {id,name,arguments} */
} wd_message;

typedef struct wd_chat {
	wd_message *msgs;
	size_t n;
	size_t cap;
} wd_chat;

#define WD_CHAT_INIT { NULL, 0, 0 }

int wd_chat_add(wd_chat *c, wd_role role, const char *content);
void wd_chat_free(wd_chat *c);

typedef struct wd_model_usage {
	int64_t input_tokens;
	int64_t output_tokens;
	int64_t cached_tokens;
	double cost_usd;       /* from the price table; 0 when unknown */
} wd_model_usage;

typedef struct wd_model_reply {
	char *text;            /* the assistant's text */
	char *model;           /* model name the service reports */
	char *provider;        /* "openai", "anthropic", "replay", ... */
	char *finish_reason;
	char *tool_calls_json; /* JSON array of {id,name,arguments}, NULL when none */
	wd_model_usage usage;
	int attempts;          /* HTTP attempts including retries */
	uint64_t latency_ms;
	char prompt_hash[41];  /* hash of the request body sent */
} wd_model_reply;

typedef struct wd_model_opts {
	unsigned version;
	const struct wd_config *config; /* may be NULL */
	struct wd_ledger *ledger;       /* retries, fallbacks recorded here; may be NULL */
	const char *record_path;        /* --record FILE, may be NULL */
	long connect_timeout_ms;        /* 0 = default 10 s */
	long timeout_ms;                /* total per attempt; 0 = default 300 s */
	int max_retries;                /* -1 = default 4 */
} wd_model_opts;

#define WD_MODEL_OPTS_VERSION 1
#define WD_MODEL_OPTS_INIT { WD_MODEL_OPTS_VERSION, NULL, NULL, NULL, 0, 0, -1 }

typedef struct wd_model wd_model;

/* Parse the spec and set up the provider(s). Errors: WD_EUSAGE (bad spec),
 * WD_EINPUT (replay file unreadable/malformed), WD_EINFRA. A missing API key
 * is reported here, naming the variable, never the value. */
int wd_model_open(wd_model **out, const char *spec, const wd_model_opts *opts);

/* One completion. Retries transient failures inside. Errors: WD_EINFRA
 * (service down, 5xx after retries, malformed reply), WD_EINPUT (4xx such as a
 * wrong key: the message says so), WD_ETIMEOUT, WD_EBUDGET. */
int wd_model_complete(wd_model_reply *out, wd_model *m, const wd_chat *chat);

/* The spec as given ("openai:gpt-4o-mini"), for trailers and the ledger. */
const char *wd_model_spec(const wd_model *m);

void wd_model_reply_free(wd_model_reply *r);
void wd_model_free(wd_model *m);

#endif
