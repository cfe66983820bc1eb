/*
 * The model layer's conductor: resolve a spec into a fallback chain of
 * backends, and for each completion check the budgets, call the current
 * backend with retries (exponential backoff with jitter, honouring
 * Retry-After), fall back along the chain, account tokens and cost, and
 * write the record. The wire formats live in one file per API.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/http.h"
#include "warden/interrupt.h"
#include "warden/ledger.h"
#include "provider.h"

#define DEFAULT_OPENAI_BASE    "https://api.openai.com/v1"
#define DEFAULT_ANTHROPIC_BASE "https://api.anthropic.com"
#define DEFAULT_RETRIES        4
#define DEFAULT_RETRY_BASE_MS  1000L
#define DEFAULT_RETRY_MAX_MS   60000L
#define DEFAULT_IDLE_MS        60000L
#define DEFAULT_CONNECT_MS     10000L
/* per attempt: a person waits two minutes for a reply, not five; a reply
 * that never comes costs at most two attempts of it (timeouts are retried
 * once) */
#define DEFAULT_TIMEOUT_MS     120000L
#define TIMEOUT_RETRIES        1
#define DEFAULT_MAX_REPLY      ((size_t)32 << 20)
#define MAX_CHAIN              16
#define MAX_NAME_DEPTH         4
#define TIMEOUT_MS_MAX         86400000L /* a day: any longer is a mistake */
#define RETRY_WAIT_MS_MAX      3600000L  /* an hour between two attempts at most */

struct chain {
	char *stage;          /* NULL for the main chain */
	wd_backend **b;
	size_t n, cap;
	size_t cur;           /* sticky: after a fallback, later calls start here */
};

struct wd_model {
	char *spec;
	wd_model_opts o;
	char *record_path;
	struct chain main;
	struct chain *routes; /* per-stage chains; n == 0 means "use the main chain" */
	size_t nroutes, routes_cap;
	wd_model_stats st;
	uint64_t t0;
};

int wd_model_cfg_get(char **out, const struct wd_config *cfg, const char *key)
{
	*out = NULL;
	if (!cfg)
		return WD_ENOTFOUND;
	return wd_config_get_string_trusted(out, cfg, key) == 0 && *out ? 0 : WD_ENOTFOUND;
}

static void backend_free(wd_backend *b)
{
	if (!b)
		return;
	free(b->spec);
	free(b->label);
	free(b->kind);
	free(b->model);
	free(b->base_url);
	free(b->api_key);
	free(b->key_source);
	wd_replay_free(b->replay);
	free(b);
}

static void chain_free(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		backend_free(c->b[i]);
	free(c->b);
	free(c->stage);
	memset(c, 0, sizeof(*c));
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int set_base_url(wd_backend *b, const char *url, const char *origin)
{
	size_t len = strlen(url);

	const char *host = strstr(url, "://");
	size_t hlen;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return wd_error_set(WD_EUSAGE, "%s is not an http:// or https:// URL", origin);
	/* credentials in a URL would travel into specs, trailers and messages */
	host += 3;
	hlen = strcspn(host, "/?#");
	if (memchr(host, '@', hlen))
		return wd_error_set(WD_EUSAGE, "%s carries credentials: put the key in the environment "
		                    "(OPENAI_API_KEY, ANTHROPIC_API_KEY, COMPAT_API_KEY) or in "
		                    "[model \"NAME\"] api-key instead", origin);
	while (len && url[len - 1] == '/')
		len--;
	b->base_url = wd_strndup(url, len);
	return b->base_url ? 0 : WD_ENOMEM;
}

/* Fill kind/api/model/base_url/key of one "provider:rest" spec. `name` is the
 * config section it came from (NULL when given directly); its api-key and
 * base-url override the environment. */
static int resolve_provider(wd_backend *b, const char *spec, const char *name,
                            const wd_model_opts *o)
{
	const char *colon = strchr(spec, ':');
	const char *rest = colon ? colon + 1 : "";
	const char *key_env = NULL, *url_env = NULL, *url_default = NULL;
	char key[300], *cfg_key = NULL, *cfg_url = NULL;
	int rc = 0;

	if (!colon || !*rest)
		return wd_error_set(WD_EUSAGE, "model spec '%s' has no model after the ':'", spec);
	if (!(b->kind = wd_strndup(spec, (size_t)(colon - spec))))
		return WD_ENOMEM;
	if (strcmp(b->kind, "replay") == 0) {
		if ((rc = wd_replay_open(&b->replay, rest)) != 0)
			return rc;
		return (b->model = wd_strdup("replay")) ? 0 : WD_ENOMEM;
	}
	if (strcmp(b->kind, "openai") == 0 || strcmp(b->kind, "openai-responses") == 0) {
		b->api = strcmp(b->kind, "openai") == 0 ? &wd_api_openai_chat : &wd_api_openai_responses;
		key_env = "OPENAI_API_KEY";
		url_env = "OPENAI_BASE_URL";
		url_default = DEFAULT_OPENAI_BASE;
		b->model = wd_strdup(rest);
	} else if (strcmp(b->kind, "anthropic") == 0) {
		b->api = &wd_api_anthropic;
		key_env = "ANTHROPIC_API_KEY";
		url_env = "ANTHROPIC_BASE_URL";
		url_default = DEFAULT_ANTHROPIC_BASE;
		b->model = wd_strdup(rest);
	} else if (strcmp(b->kind, "compat") == 0) {
		const char *hash = strrchr(rest, '#');

		if (!hash || hash == rest || !hash[1])
			return wd_error_set(WD_EUSAGE, "model spec '%s': expected compat:BASE_URL#MODEL", spec);
		b->api = &wd_api_openai_chat;
		b->compat = 1;
		key_env = "COMPAT_API_KEY";
		b->model = wd_strdup(hash + 1);
		if (!b->model)
			return WD_ENOMEM;
		{
			char *url = wd_strndup(rest, (size_t)(hash - rest));

			if (!url)
				return WD_ENOMEM;
			rc = set_base_url(b, url, "compat base URL");
			free(url);
			if (rc)
				return rc;
		}
	} else {
		return wd_error_set(WD_EUSAGE, "unknown model provider '%s' in '%s' (expected openai, "
		                    "openai-responses, anthropic, compat or replay)", b->kind, spec);
	}
	if (!b->model)
		return WD_ENOMEM;
	if (name) {
		snprintf(key, sizeof(key), "model.%s.api-key", name);
		if (wd_model_cfg_get(&cfg_key, o->config, key) == 0 &&
		    !(b->key_source = wd_strdup(key)))
			rc = WD_ENOMEM;
		snprintf(key, sizeof(key), "model.%s.base-url", name);
		if (!rc && wd_model_cfg_get(&cfg_url, o->config, key) == 0)
			rc = set_base_url(b, cfg_url, key);
	}
	if (!rc && !b->base_url)
		rc = set_base_url(b, env_nonempty(url_env) ? env_nonempty(url_env) : url_default,
		                  url_env);
	if (!rc && cfg_key) {
		b->api_key = cfg_key;
		cfg_key = NULL;
	} else if (!rc && env_nonempty(key_env)) {
		b->api_key = wd_strdup(env_nonempty(key_env));
		b->key_source = wd_strdup(key_env);
		if (!b->api_key || !b->key_source)
			rc = WD_ENOMEM;
	} else if (!rc && !b->compat) {
		rc = wd_error_set(WD_EUSAGE, "%s is not set: the model %s needs an API key%s%s%s",
		                  key_env, spec, name ? " (or set model." : "", name ? name : "",
		                  name ? ".api-key in your config)" : "");
	}
	if (!rc && b->api_key)
		wd_redact_register(b->api_key);
	free(cfg_key);
	free(cfg_url);
	return rc;
}

static int is_provider_spec(const char *s)
{
	static const char *const prefixes[] = { "openai:", "openai-responses:", "anthropic:",
	                                        "compat:", "replay:" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

static int chain_push(struct chain *c, wd_backend *b)
{
	if (c->n >= MAX_CHAIN) {
		backend_free(b);
		return wd_error_set(WD_EUSAGE, "a model chain may have at most %d members", MAX_CHAIN);
	}
	if (WD_ARRAY_RESERVE(c->b, c->cap, c->n + 1, 4) != 0) {
		backend_free(b);
		return WD_ENOMEM;
	}
	c->b[c->n++] = b;
	return 0;
}

static int parse_chain(struct chain *c, const char *spec, const char *name,
                       const wd_model_opts *o, int depth);

static int add_member(struct chain *c, const char *item, const char *name,
                      const wd_model_opts *o, int depth)
{
	wd_backend *b;
	char key[300], *named = NULL;
	int rc;

	if (!is_provider_spec(item)) {
		if (strchr(item, ':'))
			return wd_error_set(WD_EUSAGE, "unknown model provider in '%s' (expected openai:, "
			                    "openai-responses:, anthropic:, compat: or replay:)", item);
		if (depth >= MAX_NAME_DEPTH)
			return wd_error_set(WD_EUSAGE, "model '%s': named models nest too deeply", item);
		snprintf(key, sizeof(key), "model.%s.spec", item);
		if (strlen(item) > 200 || wd_model_cfg_get(&named, o->config, key) != 0)
			return wd_error_set(WD_EUSAGE, "unknown model '%s': use openai:MODEL, "
			                    "openai-responses:MODEL, anthropic:MODEL, compat:BASE_URL#MODEL, "
			                    "replay:FILE, or define [model \"%s\"] spec = ... in your config",
			                    item, item);
		rc = parse_chain(c, named, item, o, depth + 1);
		free(named);
		return rc;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return wd_error_set(WD_ENOMEM, "out of memory");
	b->spec = wd_strdup(item);
	b->label = wd_strdup(name ? name : item);
	if (!b->spec || !b->label) {
		backend_free(b);
		return WD_ENOMEM;
	}
	if ((rc = resolve_provider(b, item, name, o)) != 0) {
		backend_free(b);
		return rc;
	}
	/* a named section's price wins, then the model id's */
	rc = WD_ENOTFOUND;
	if (name)
		rc = wd_model_price(&b->price_in, &b->price_out, &b->price_cached, o->config, name);
	if (rc == WD_ENOTFOUND && !b->replay)
		rc = wd_model_price(&b->price_in, &b->price_out, &b->price_cached, o->config, b->model);
	b->have_price = rc == 0;
	if (rc && rc != WD_ENOTFOUND) {
		backend_free(b);
		return rc;
	}
	return chain_push(c, b);
}

static int parse_chain(struct chain *c, const char *spec, const char *name,
                       const wd_model_opts *o, int depth)
{
	const char *p = spec;
	int rc = 0;

	if (!spec || !*spec)
		return wd_error_set(WD_EUSAGE, "empty model spec");
	while (!rc) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *item;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0)
			return wd_error_set(WD_EUSAGE, "model spec '%s' has an empty member", spec);
		if (!(item = wd_strndup(p, len)))
			return WD_ENOMEM;
		rc = add_member(c, item, name, o, depth);
		free(item);
		if (!comma)
			break;
		p = comma + 1;
	}
	return rc;
}

/* Settings the caller left at their defaults may come from the user's config
 * (model.* is trusted-only: a repository cannot change them). A malformed
 * value is an error rather than silently ignored. */
static int config_defaults(wd_model_opts *o)
{
	static const struct {
		const char *key;
		size_t off;
	} longs[] = {
		{ "model.timeout-ms", offsetof(wd_model_opts, timeout_ms) },
		{ "model.connect-timeout-ms", offsetof(wd_model_opts, connect_timeout_ms) },
		{ "model.idle-timeout-ms", offsetof(wd_model_opts, idle_timeout_ms) },
	};
	long v;
	int b, rc;

	if (!o->config)
		return 0;
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		long *field = (long *)((char *)o + longs[i].off);

		if (*field > 0)
			continue;
		rc = wd_config_get_range(&v, o->config, longs[i].key, 1, TIMEOUT_MS_MAX);
		if (rc == 0)
			*field = v;
		else if (rc != 0 && rc != WD_ENOTFOUND)
			return rc;
	}
	if (o->retry_max_wait_ms <= 0) {
		rc = wd_config_get_range(&v, o->config, "model.retry-max-wait-ms", 1, RETRY_WAIT_MS_MAX);
		if (rc == 0)
			o->retry_max_wait_ms = v;
		else if (rc != WD_ENOTFOUND)
			return rc;
	}
	if (o->max_retries < 0) {
		rc = wd_config_get_range(&v, o->config, "model.max-retries", 0, 100);
		if (rc == 0)
			o->max_retries = (int)v;
		else if (rc != 0 && rc != WD_ENOTFOUND)
			return rc;
	}
	if (o->stream == 0) {
		rc = wd_config_get_bool(&b, o->config, "model.stream");
		if (rc == 0)
			o->stream = b ? 1 : 0;
		else if (rc != WD_ENOTFOUND)
			return rc;
	}
	return 0;
}

int wd_model_open(wd_model **out, const char *spec, const wd_model_opts *opts)
{
	wd_model_opts defaults = WD_MODEL_OPTS_INIT;
	wd_model *m;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != WD_MODEL_OPTS_VERSION)
		return wd_error_set(WD_EUSAGE, "wd_model_opts version %u is not %u", opts->version,
		                    WD_MODEL_OPTS_VERSION);
	m = calloc(1, sizeof(*m));
	if (!m)
		return wd_error_set(WD_ENOMEM, "out of memory");
	m->o = *opts;
	m->t0 = wd_now_ms();
	if (!(m->spec = wd_strdup(spec ? spec : "")) ||
	    (opts->record_path && !(m->record_path = wd_strdup(opts->record_path)))) {
		rc = WD_ENOMEM;
		goto fail;
	}
	m->o.record_path = m->record_path;
	if ((rc = config_defaults(&m->o)) != 0)
		goto fail;
	if (m->o.max_retries < 0)
		m->o.max_retries = DEFAULT_RETRIES;
	/* every default resolved here, so wd_model_settings tells what is in effect */
	if (m->o.timeout_ms <= 0)
		m->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (m->o.connect_timeout_ms <= 0)
		m->o.connect_timeout_ms = DEFAULT_CONNECT_MS;
	if (m->o.idle_timeout_ms <= 0)
		m->o.idle_timeout_ms = DEFAULT_IDLE_MS;
	if (m->o.retry_base_ms <= 0)
		m->o.retry_base_ms = DEFAULT_RETRY_BASE_MS;
	if (m->o.retry_max_wait_ms <= 0)
		m->o.retry_max_wait_ms = DEFAULT_RETRY_MAX_MS;
	if (m->o.max_reply_bytes == 0)
		m->o.max_reply_bytes = DEFAULT_MAX_REPLY;
	if ((rc = parse_chain(&m->main, spec, NULL, &m->o, 0)) != 0)
		goto fail;
	*out = m;
	return 0;
fail:
	wd_model_free(m);
	return rc;
}

void wd_model_free(wd_model *m)
{
	if (!m)
		return;
	chain_free(&m->main);
	for (size_t i = 0; i < m->nroutes; i++)
		chain_free(&m->routes[i]);
	free(m->routes);
	free(m->spec);
	free(m->record_path);
	free(m);
}

const char *wd_model_spec(const wd_model *m)
{
	return m->spec;
}

void wd_model_settings(wd_model_opts *out, const wd_model *m)
{
	*out = m->o;
}

void wd_model_totals(wd_model_stats *out, const wd_model *m)
{
	*out = m->st;
	out->elapsed_ms = wd_now_ms() - m->t0;
}

void wd_model_reply_free(wd_model_reply *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->model);
	free(r->provider);
	free(r->spec);
	free(r->finish_reason);
	wd_tool_calls_free(r->tool_calls, r->ntool_calls);
	memset(r, 0, sizeof(*r));
}

/* ---- budgets ---- */

static int budget_fail(wd_model *m, const char *cap, double used, double limit)
{
	wd_ledger_add(m->o.ledger, "model.budget",
	              json_pack("{s:s, s:f, s:f}", "cap", cap, "used", used, "limit", limit));
	if (strcmp(cap, "calls") == 0)
		return wd_error_set(WD_EBUDGET, "model call budget exhausted: %.0f calls made, "
		                    "--max-calls is %.0f", used, limit);
	if (strcmp(cap, "tokens") == 0)
		return wd_error_set(WD_EBUDGET, "token budget exhausted: %.0f tokens used, "
		                    "--max-tokens is %.0f", used, limit);
	if (strcmp(cap, "cost") == 0)
		return wd_error_set(WD_EBUDGET, "cost budget exhausted: $%.4f spent, --max-cost is $%.4f",
		                    used, limit);
	return wd_error_set(WD_EBUDGET, "time budget exhausted: %.1f s elapsed, --max-time is %.1f s",
	                    used / 1000.0, limit / 1000.0);
}

static int budget_check(wd_model *m)
{
	const wd_model_opts *o = &m->o;
	const wd_model_stats *s = &m->st;
	int64_t tokens = wd_usage_sum(s->usage.input_tokens, s->usage.output_tokens);
	uint64_t elapsed = wd_now_ms() - m->t0;

	if (o->max_calls > 0 && s->calls >= o->max_calls)
		return budget_fail(m, "calls", (double)s->calls, o->max_calls);
	if (o->max_tokens > 0 && tokens >= o->max_tokens)
		return budget_fail(m, "tokens", (double)tokens, (double)o->max_tokens);
	if (o->max_cost_usd > 0 && s->usage.cost_usd >= o->max_cost_usd)
		return budget_fail(m, "cost", s->usage.cost_usd, o->max_cost_usd);
	if (o->max_time_ms > 0 && elapsed >= (uint64_t)o->max_time_ms)
		return budget_fail(m, "time", (double)elapsed, (double)o->max_time_ms);
	return 0;
}

/* Milliseconds left under the time cap; LONG_MAX-ish when uncapped. */
static long time_left(const wd_model *m)
{
	uint64_t elapsed = wd_now_ms() - m->t0;

	if (m->o.max_time_ms <= 0)
		return 1L << 30;
	return elapsed >= (uint64_t)m->o.max_time_ms ? 0 : m->o.max_time_ms - (long)elapsed;
}

/* ---- one HTTP backend ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && !wd_interrupt_signal())
		;
}

static long backoff_ms(const wd_model *m, int attempt, long retry_after)
{
	long base = m->o.retry_base_ms > 0 ? m->o.retry_base_ms : DEFAULT_RETRY_BASE_MS;
	long cap = m->o.retry_max_wait_ms > 0 ? m->o.retry_max_wait_ms : DEFAULT_RETRY_MAX_MS;
	long d = base;
	char hex[9];

	if (retry_after >= 0)
		return retry_after < cap ? retry_after : cap;
	for (int i = 0; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* "equal jitter": half fixed, half random, so clients that failed together spread out */
	if (wd_random_hex(hex, 4) == 0)
		d = d / 2 + (long)(strtoul(hex, NULL, 16) % (unsigned long)(d / 2 + 1));
	return d;
}

struct attempt {
	wd_http_response res;
	wd_stream st;
	int streaming;
};

static int on_stream_line(void *ctx, const char *line, size_t len)
{
	struct attempt *a = ctx;

	return wd_stream_line(&a->st, line, len);
}

static int is_sse(const wd_http_response *res)
{
	const char *ct = wd_http_header(res, "content-type");

	return ct && strstr(ct, "text/event-stream") != NULL;
}

/* Turn the result of one attempt into a reply or an error; *retry says
 * whether another attempt could help. */
static int outcome(wd_model_reply *out, const wd_backend *b, int hrc, struct attempt *a,
                   int *retry)
{
	const wd_http_response *res = &a->res;
	const char *url = b->base_url;
	char *msg = NULL;
	int rc;

	*retry = 0;
	if (hrc) {
		switch (res->fail) {
		case WD_HTTP_FAIL_CONNECT:
			*retry = 1;
			return wd_error_wrap(WD_EINFRA, "model service at %s unreachable", url);
		case WD_HTTP_FAIL_TIMEOUT:
			*retry = 1;
			return wd_error_wrap(WD_ETIMEOUT, "model service at %s did not answer in time", url);
		case WD_HTTP_FAIL_IDLE:
			*retry = 1;
			return wd_error_wrap(WD_ETIMEOUT, "the reply stream from %s stalled", url);
		case WD_HTTP_FAIL_TOO_BIG:
			return wd_error_wrap(WD_EINFRA, "refusing the reply from %s", url);
		case WD_HTTP_FAIL_ABORTED:
			if (hrc == WD_ENOMEM)
				return hrc;
			*retry = 1;
			return wd_error_wrap(WD_EINFRA, "bad reply stream from %s", url);
		default:
			*retry = 1;
			return wd_error_wrap(WD_EINFRA, "the reply from %s was cut off", url);
		}
	}
	if (res->status >= 200 && res->status < 300) {
		if (a->streaming && is_sse(res)) {
			rc = wd_stream_end(&a->st);
			if (!rc)
				rc = wd_stream_reply(out, &a->st);
		} else {
			json_error_t je;
			json_t *root = json_loadb(res->body.ptr, res->body.len, 0, &je);

			if (!root) {
				*retry = 1;
				return wd_error_set(WD_EINFRA, "malformed reply from %s: not JSON (%s at line %d)",
				                    url, je.text, je.line);
			}
			rc = b->api->parse(out, root);
			json_decref(root);
		}
		if (rc == WD_ENOMEM)
			return rc;
		if (rc) {
			*retry = 1;
			return wd_error_wrap(WD_EINFRA, "malformed reply from %s", url);
		}
		return 0;
	}
	msg = wd_api_error_message(res->body.ptr, res->body.len);
	switch (res->status) {
	case 401:
		/* never echo the service's text here: it may quote part of the key */
		rc = wd_error_set(WD_EINPUT, "the API key was rejected (401) by %s — check %s", url,
		                  b->key_source ? b->key_source : "the API key");
		break;
	case 403:
		rc = wd_error_set(WD_EINPUT, "access denied (403) by %s: %s", url, msg ? msg : "forbidden");
		break;
	case 404:
		rc = wd_error_set(WD_EINPUT, "not found (404) at %s%s: %s — check the model name '%s' "
		                  "and the base URL", url, b->api->path, msg ? msg : "no such resource",
		                  b->model);
		break;
	case 408:
	case 409:
	case 429:
		*retry = 1;
		rc = wd_error_set(WD_EINFRA, "%s (%ld) from %s: %s",
		                  res->status == 429 ? "rate limited" : "temporary refusal", res->status,
		                  url, msg ? msg : "try again later");
		break;
	default:
		if (res->status >= 500) {
			*retry = 1;
			rc = wd_error_set(WD_EINFRA, "model service at %s failed with %ld: %s", url,
			                  res->status, msg ? msg : "server error");
		} else if (res->status >= 400) {
			rc = wd_error_set(WD_EINPUT, "the request was rejected (%ld) by %s: %s", res->status,
			                  url, msg ? msg : "bad request");
		} else {
			rc = wd_error_set(WD_EINFRA, "unexpected HTTP status %ld from %s", res->status, url);
		}
	}
	free(msg);
	return rc;
}

static int build_headers(wd_strvec *h, const wd_backend *b, int stream)
{
	int rc = wd_strvec_push(h, "Content-Type: application/json");

	if (!rc)
		rc = wd_strvec_push(h, stream ? "Accept: text/event-stream" : "Accept: application/json");
	if (!rc)
		rc = b->api->headers(h, b);
	return rc;
}

static int http_complete(wd_model_reply *out, wd_model *m, wd_backend *b, const wd_chat *chat,
                         const wd_model_call *call, json_t **request)
{
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	struct attempt a = { WD_HTTP_RESPONSE_INIT, { 0 }, 0 };
	wd_strvec hdrs = WD_STRVEC_INIT;
	wd_buf url = WD_BUF_INIT;
	char *body = NULL;
	int stream = m->o.stream > 0, rc, retry = 0, attempts = 0, timeouts = 0;

	if ((rc = b->api->build(request, b, chat, call, stream)) != 0)
		goto out;
	if (!(body = json_dumps(*request, JSON_COMPACT))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = build_headers(&hdrs, b, stream)) != 0 ||
	    (rc = wd_buf_printf(&url, "%s%s", b->base_url, b->api->path)) != 0)
		goto out;
	req.method = "POST";
	req.url = url.ptr;
	req.headers = (const char *const *)hdrs.v;
	req.body = body;
	req.connect_timeout_ms = m->o.connect_timeout_ms;
	req.max_body = m->o.max_reply_bytes ? m->o.max_reply_bytes : DEFAULT_MAX_REPLY;
	if (stream) {
		req.on_line = on_stream_line;
		req.ctx = &a;
		req.idle_timeout_ms = m->o.idle_timeout_ms > 0 ? m->o.idle_timeout_ms : DEFAULT_IDLE_MS;
	}
	for (int attempt = 0;; attempt++) {
		long left = time_left(m), wait;
		int hrc;

		if (left <= 0) {
			rc = budget_fail(m, "time", (double)(wd_now_ms() - m->t0), (double)m->o.max_time_ms);
			goto out;
		}
		req.timeout_ms = m->o.timeout_ms > 0 ? m->o.timeout_ms : DEFAULT_TIMEOUT_MS;
		if (req.timeout_ms > left)
			req.timeout_ms = left;
		wd_stream_free(&a.st);
		wd_stream_init(&a.st, b->api);
		a.streaming = stream;
		wd_model_reply_free(out);
		hrc = wd_http_perform(&a.res, &req);
		m->st.attempts++;
		attempts++;
		rc = outcome(out, b, hrc, &a, &retry);
		if (rc == 0 || rc == WD_ENOMEM)
			break;
		if (hrc && a.res.fail == WD_HTTP_FAIL_TIMEOUT && time_left(m) <= 0) {
			rc = budget_fail(m, "time", (double)(wd_now_ms() - m->t0), (double)m->o.max_time_ms);
			break;
		}
		if (!retry || attempt >= m->o.max_retries || wd_interrupt_signal())
			break;
		if (rc == WD_ETIMEOUT && ++timeouts > TIMEOUT_RETRIES)
			break;
		wait = backoff_ms(m, attempt, a.res.status ? a.res.retry_after_ms : -1);
		if (a.res.status && a.res.retry_after_ms > wait) {
			char why[700];

			snprintf(why, sizeof(why), "%s", wd_error_last());
			wd_error_set(rc, "%s; it asked to wait %.0f s (Retry-After), capped at %.1f s", why,
			             (double)a.res.retry_after_ms / 1000.0, (double)wait / 1000.0);
		}
		if (m->o.max_time_ms > 0 && wait >= time_left(m)) {
			wd_ledger_add(m->o.ledger, "model.retry",
			              json_pack("{s:s, s:i, s:I, s:s, s:I, s:b}", "spec", b->spec,
			                        "attempt", attempt + 1, "status", (json_int_t)a.res.status,
			                        "reason", wd_error_last(), "wait_ms", (json_int_t)wait,
			                        "abandoned", 1));
			rc = budget_fail(m, "time", (double)(wd_now_ms() - m->t0), (double)m->o.max_time_ms);
			break;
		}
		wd_ledger_add(m->o.ledger, "model.retry",
		              json_pack("{s:s, s:i, s:I, s:s, s:I}", "spec", b->spec, "attempt", attempt + 1,
		                        "status", (json_int_t)a.res.status, "reason", wd_error_last(),
		                        "wait_ms", (json_int_t)wait));
		m->st.retries++;
		if (m->o.on_retry)
			m->o.on_retry(m->o.retry_payload, b->spec, attempt + 2, wait, wd_error_last());
		sleep_ms(wait);
	}
	if (rc && rc != WD_EBUDGET && rc != WD_ENOMEM && attempts > 1) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", wd_error_last());
		wd_error_set(rc, "%s (gave up after %d attempts)", msg, attempts);
	}
out:
	out->attempts = attempts;
	wd_stream_free(&a.st);
	wd_http_response_free(&a.res);
	wd_strvec_free(&hdrs);
	wd_buf_free(&url);
	free(body);
	return rc;
}

static void price_reply(wd_model_reply *r, const wd_backend *b, const wd_model *m)
{
	double pin = b->price_in, pout = b->price_out, pc = b->price_cached;
	int have = b->have_price;
	int64_t fresh;

	/* a replay is priced as the model it recorded */
	if (b->replay && r->model)
		have = wd_model_price(&pin, &pout, &pc, m->o.config, r->model) == 0;
	if (!have)
		return;
	fresh = r->usage.input_tokens - r->usage.cached_tokens;
	if (fresh < 0)
		fresh = 0;
	r->usage.cost_usd = ((double)fresh * pin + (double)r->usage.cached_tokens * pc +
	                     (double)r->usage.output_tokens * pout) / 1e6;
}

static int backend_complete(wd_model_reply *out, wd_model *m, wd_backend *b, const wd_chat *chat,
                            const wd_model_call *call, const char *hash)
{
	json_t *request = NULL;
	int rc;

	if (b->replay) {
		wd_model_reply_free(out);
		rc = wd_replay_next(out, b->replay, hash);
		out->attempts = 1;
		m->st.attempts++;
	} else {
		rc = http_complete(out, m, b, chat, call, &request);
	}
	if (!rc)
		rc = wd_usage_check(&out->usage);
	if (!rc) {
		price_reply(out, b, m);
		if (!(out->provider = wd_strdup(b->kind)) || !(out->spec = wd_strdup(b->spec)))
			rc = WD_ENOMEM;
	}
	if (!rc && m->record_path)
		rc = wd_record_append(m->record_path, b->spec, request, hash, out);
	json_decref(request);
	return rc;
}

/* ---- chains, routes, the public call ---- */

static int chain_for(struct chain **out, wd_model *m, const char *stage)
{
	char key[300], *spec = NULL;
	struct chain *c;
	int rc = 0;

	*out = &m->main;
	if (!stage || !*stage)
		return 0;
	for (size_t i = 0; i < m->nroutes; i++) {
		if (strcmp(m->routes[i].stage, stage) == 0) {
			if (m->routes[i].n)
				*out = &m->routes[i];
			return 0;
		}
	}
	if (WD_ARRAY_RESERVE(m->routes, m->routes_cap, m->nroutes + 1, 4) != 0)
		return WD_ENOMEM;
	c = &m->routes[m->nroutes];
	memset(c, 0, sizeof(*c));
	if (!(c->stage = wd_strdup(stage)))
		return WD_ENOMEM;
	m->nroutes++;
	snprintf(key, sizeof(key), "route.%s", stage);
	if (strlen(stage) < 200 && wd_model_cfg_get(&spec, m->o.config, key) == 0) {
		rc = parse_chain(c, spec, NULL, &m->o, 0);
		if (rc) {
			wd_error_wrap(rc, "config %s", key);
			chain_free(c);
			m->nroutes--;
		} else {
			*out = c;
		}
	}
	free(spec);
	return rc;
}

static void account(wd_model *m, const wd_model_reply *r)
{
	m->st.usage.input_tokens = wd_usage_sum(m->st.usage.input_tokens, r->usage.input_tokens);
	m->st.usage.output_tokens = wd_usage_sum(m->st.usage.output_tokens, r->usage.output_tokens);
	m->st.usage.cached_tokens = wd_usage_sum(m->st.usage.cached_tokens, r->usage.cached_tokens);
	m->st.usage.cost_usd += r->usage.cost_usd;
}

int wd_model_complete_ex(wd_model_reply *out, wd_model *m, const wd_chat *chat,
                         const wd_model_call *call)
{
	wd_model_call defaults = WD_MODEL_CALL_INIT, capped;
	struct chain *c;
	char hash[41];
	uint64_t t0 = wd_now_ms();
	int rc = 0, attempts = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!call)
		call = &defaults;
	if (call->tools && !json_is_array(call->tools))
		return wd_error_set(WD_EUSAGE, "tools must be a JSON array");
	if ((rc = budget_check(m)) != 0 || (rc = chain_for(&c, m, call->stage)) != 0 ||
	    (rc = wd_chat_hash(hash, chat, call->tools)) != 0)
		return rc;
	if (m->o.max_tokens > 0) {
		/* never ask for more output than the token budget has left */
		int64_t left = m->o.max_tokens -
		               wd_usage_sum(m->st.usage.input_tokens, m->st.usage.output_tokens);

		capped = *call;
		if (capped.max_output_tokens <= 0 || capped.max_output_tokens > left)
			capped.max_output_tokens = (long)left;
		call = &capped;
	}
	m->st.calls++;
	for (i = c->cur; i < c->n; i++) {
		rc = backend_complete(out, m, c->b[i], chat, call, hash);
		attempts += out->attempts;
		if (rc == 0 || rc == WD_EBUDGET || rc == WD_ENOMEM || rc == WD_EUSAGE)
			break;
		if (i + 1 < c->n) {
			wd_ledger_add(m->o.ledger, "model.fallback",
			              json_pack("{s:s, s:s, s:s, s:s, s:s?}", "from", c->b[i]->label,
			                        "to", c->b[i + 1]->label, "reason", wd_error_last(),
			                        "error", wd_error_name(rc), "stage", call->stage));
			m->st.fallbacks++;
			c->cur = i + 1;
		}
	}
	if (rc) {
		if (c->n > 1 && i >= c->n) {
			c->cur = 0; /* every member failed: next time start from the top again */
			wd_error_wrap(rc, "every model in the chain failed; the last, %s", c->b[c->n - 1]->label);
		}
		wd_model_reply_free(out);
		return rc;
	}
	out->attempts = attempts;
	out->latency_ms = wd_now_ms() - t0;
	memcpy(out->prompt_hash, hash, sizeof(hash));
	account(m, out);
	return 0;
}

int wd_model_complete(wd_model_reply *out, wd_model *m, const wd_chat *chat)
{
	return wd_model_complete_ex(out, m, chat, NULL);
}

static const wd_api *api_by_name(const char *api)
{
	if (!api)
		return NULL;
	if (strcmp(api, "openai") == 0 || strcmp(api, "compat") == 0)
		return &wd_api_openai_chat;
	if (strcmp(api, "openai-responses") == 0)
		return &wd_api_openai_responses;
	if (strcmp(api, "anthropic") == 0)
		return &wd_api_anthropic;
	return NULL;
}

int wd_model_parse_reply(wd_model_reply *out, const char *api, const char *body, size_t len,
                         int sse)
{
	const wd_api *a = api_by_name(api);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!a)
		return wd_error_set(WD_EUSAGE, "unknown API '%s'", api ? api : "(null)");
	if (sse) {
		wd_stream st;
		size_t pos = 0;

		wd_stream_init(&st, a);
		while (!rc && pos < len) {
			const char *nl = memchr(body + pos, '\n', len - pos);
			size_t k = nl ? (size_t)(nl - (body + pos)) : len - pos;

			rc = wd_stream_line(&st, body + pos, k && body[pos + k - 1] == '\r' ? k - 1 : k);
			pos += k + (nl ? 1 : 0);
		}
		if (!rc)
			rc = wd_stream_end(&st);
		if (!rc)
			rc = wd_stream_reply(out, &st);
		wd_stream_free(&st);
	} else {
		json_error_t je;
		json_t *root = json_loadb(body, len, 0, &je);

		if (!root)
			rc = wd_error_set(WD_EINPUT, "the reply is not JSON: %s at line %d", je.text, je.line);
		else
			rc = a->parse(out, root);
		json_decref(root);
	}
	if (!rc)
		rc = wd_usage_check(&out->usage);
	if (rc)
		wd_model_reply_free(out);
	return rc;
}
