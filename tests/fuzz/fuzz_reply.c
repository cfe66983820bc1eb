/*
 * Fuzz the parsing of model replies: the body a provider sends back is
 * untrusted input. The first byte picks the API and whether the body is a
 * whole JSON reply or an SSE stream; the rest is the body. Invariants of a
 * parsed reply: text set; tool calls a JSON array whose every call has an
 * id; usage figures between 0 and WD_USAGE_REPLY_MAX (negative, absurd or
 * overflowing ones refused or clamped); a finish reason of "length",
 * "max_tokens" or "max_output_tokens", and only those, marks it truncated.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "warden/model.h"
#include "../../src/model/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const apis[] = { "openai", "openai-responses", "anthropic" };
	wd_model_reply r;
	unsigned sel;

	if (size < 1)
		return 0;
	sel = data[0] % 6;
	if (wd_model_parse_reply(&r, apis[sel / 2], (const char *)data + 1, size - 1, sel % 2) == 0) {
		/* a parsed reply is always usable: text set, tool calls valid JSON when present */
		if (!r.text)
			__builtin_trap();
		if (r.tool_calls_json && r.tool_calls_json[0] != '[')
			__builtin_trap();
		if (r.tool_calls_json) {
			json_t *arr = json_loads(r.tool_calls_json, 0, NULL);
			size_t i;
			json_t *tc;

			if (!json_is_array(arr))
				__builtin_trap();
			json_array_foreach(arr, i, tc) {
				const char *id = json_string_value(json_object_get(tc, "id"));

				if (!id || !*id)
					__builtin_trap();
			}
			json_decref(arr);
		}
		if (r.usage.input_tokens < 0 || r.usage.output_tokens < 0 || r.usage.cached_tokens < 0 ||
		    r.usage.input_tokens > WD_USAGE_REPLY_MAX || r.usage.output_tokens > WD_USAGE_REPLY_MAX ||
		    r.usage.cached_tokens > r.usage.input_tokens)
			__builtin_trap();
		if (wd_model_reply_truncated(&r) !=
		    (r.finish_reason && (!strcmp(r.finish_reason, "length") ||
		                         !strcmp(r.finish_reason, "max_tokens") ||
		                         !strcmp(r.finish_reason, "max_output_tokens"))))
			__builtin_trap();
	}
	wd_model_reply_free(&r);
	return 0;
}
