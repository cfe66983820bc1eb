/*
 * --dry-run: what the first request would carry, exactly as the outbound gate
 * let it through, and what it would cost; nothing is sent.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/model.h"
#include "warden/outbound.h"

#include "run_internal.h"

static const char *role_name(wd_role r)
{
	switch (r) {
	case WD_ROLE_SYSTEM: return "system";
	case WD_ROLE_USER: return "user";
	case WD_ROLE_ASSISTANT: return "assistant";
	default: return "tool";
	}
}

/* The model name prices are kept under: the first of a chain, without its
 * provider ("openai:gpt-4o" -> "gpt-4o", "compat:URL#m" -> "m"); a config
 * name as it is. */
static char *price_name(const char *spec)
{
	size_t n = strcspn(spec, ",");
	const char *colon = memchr(spec, ':', n), *hash;

	if (colon) {
		hash = memchr(colon, '#', n - (size_t)(colon - spec));
		if (hash)
			return wd_strndup(hash + 1, n - (size_t)(hash + 1 - spec));
		return wd_strndup(colon + 1, n - (size_t)(colon + 1 - spec));
	}
	return wd_strndup(spec, n);
}

json_t *wd_run_dry_run_report(const wd_chat *chat, const wd_context *ctx, json_t *tool_defs,
                              const char *spec, const struct wd_config *cfg,
                              const wd_outbound *ob)
{
	json_t *o = json_object(), *msgs = json_array(), *files = json_array(), *tools = json_array();
	size_t bytes = 0, i;
	double in_m = 0, out_m = 0, cached_m = 0;
	char *name = spec ? price_name(spec) : NULL;
	json_t *e;
	int priced;

	if (!o || !msgs || !files || !tools) {
		json_decref(o);
		json_decref(msgs);
		json_decref(files);
		json_decref(tools);
		free(name);
		return NULL;
	}
	for (i = 0; i < chat->n; i++) {
		const char *c = chat->msgs[i].content ? chat->msgs[i].content : "";

		bytes += strlen(c);
		json_array_append_new(msgs, json_pack("{s:s, s:I, s:s}", "role",
		                                      role_name(chat->msgs[i].role), "bytes",
		                                      (json_int_t)strlen(c), "content", c));
	}
	json_array_foreach(wd_context_why(ctx), i, e) {
		const char *reason = json_string_value(json_object_get(e, "reason"));

		if (reason && !strncmp(reason, "skipped", 7))
			continue;
		json_array_append(files, e);
	}
	json_array_foreach(tool_defs, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		json_t *fn = json_object_get(e, "function");
		char *s = json_dumps(e, JSON_COMPACT);

		if (!n && fn)
			n = json_string_value(json_object_get(fn, "name"));
		json_array_append_new(tools, json_string(n ? n : "?"));
		bytes += s ? strlen(s) : 0;
		free(s);
	}
	priced = name && wd_model_price(&in_m, &out_m, &cached_m, cfg, name) == 0;
	wd_error_clear();
	json_object_set_new(o, "model", json_string(spec ? spec : ""));
	json_object_set_new(o, "messages", msgs);
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "tools", tools);
	json_object_set_new(o, "denied_paths", json_integer((json_int_t)wd_outbound_denied_count(ob)));
	json_object_set_new(o, "redactions", json_integer((json_int_t)wd_outbound_redacted_count(ob)));
	json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
	/* tokens are estimated as bytes/4, as everywhere in warden */
	json_object_set_new(o, "estimated_input_tokens", json_integer((json_int_t)(bytes + 3) / 4));
	json_object_set_new(o, "price_in_per_million", priced ? json_real(in_m) : json_null());
	json_object_set_new(o, "estimated_input_cost_usd",
	                    priced ? json_real((double)((bytes + 3) / 4) * in_m / 1e6) : json_null());
	json_object_set_new(o, "baseline", json_string("not run: a dry run runs no check"));
	free(name);
	return o;
}
