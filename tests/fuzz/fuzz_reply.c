/*
 * Fuzz the parsing of model replies: the body a provider sends back is
 * untrusted input. The first byte picks the API and whether the body is a
 * whole JSON reply or an SSE stream; the rest is the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "warden/model.h"

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
	}
	wd_model_reply_free(&r);
	return 0;
}
