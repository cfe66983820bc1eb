/* `warden run --dry-run`: the first request as text. */
#include <stdio.h>

#include <jansson.h>

#include "warden/cli.h"

/* A string member ("" when absent); `key` NULL: the value itself. */
static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(key ? json_object_get(o, key) : o);

	return s ? s : "";
}

void wd_cli_print_dry_run(FILE *f, const json_t *report)
{
	json_t *msgs = json_object_get(report, "messages"), *files = json_object_get(report, "files");
	json_t *tools = json_object_get(report, "tools"), *e, *cost;
	size_t i;

	fprintf(f, "dry run: the first request to %s, as it would be sent (nothing was)\n\n",
	        str(report, "model"));
	json_array_foreach(msgs, i, e) {
		fprintf(f, "=== message %zu: %s (%lld bytes) ===\n%s\n\n", i + 1,
		        str(e, "role"),
		        (long long)json_integer_value(json_object_get(e, "bytes")),
		        str(e, "content"));
	}
	fprintf(f, "=== files in the context ===\n");
	json_array_foreach(files, i, e) {
		fprintf(f, "  %-40s %8lld bytes  %s\n", str(e, "path"),
		        (long long)json_integer_value(json_object_get(e, "bytes")),
		        str(e, "reason"));
	}
	fprintf(f, "=== tools ===\n ");
	json_array_foreach(tools, i, e) {
		fprintf(f, " %s", str(e, NULL));
	}
	fprintf(f, "%s\n", json_array_size(tools) ? "" : " (none)");
	fprintf(f, "=== policy ===\n  %lld path(s) kept back by the data policy, %lld secret(s) "
	        "redacted\n", (long long)json_integer_value(json_object_get(report, "denied_paths")),
	        (long long)json_integer_value(json_object_get(report, "redactions")));
	cost = json_object_get(report, "estimated_input_cost_usd");
	fprintf(f, "=== estimate ===\n  %lld bytes, about %lld input tokens",
	        (long long)json_integer_value(json_object_get(report, "bytes")),
	        (long long)json_integer_value(json_object_get(report, "estimated_input_tokens")));
	if (json_is_number(cost))
		fprintf(f, ", about $%.6f for the first call's input\n", json_number_value(cost));
	else
		fprintf(f, "; no price known for this model\n");
	fprintf(f, "  %s\n", str(report, "baseline"));
}
