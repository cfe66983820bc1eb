/*
 * The run view: one run's story (warden/story.h) in words, as `warden show`
 * prints it and `warden review show` prints it under the proposal. One
 * renderer, so the two never tell a run differently.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "runs_cli.h"

static const char *s_(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static long long i_(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* Print text indented, every line prefixed; control bytes but \n and \t shown as '?'. */
static void block(FILE *f, const char *prefix, const char *text)
{
	int bol = 1;

	for (const char *p = text; p && *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (bol)
			fputs(prefix, f);
		bol = c == '\n';
		fputc(c == '\n' || c == '\t' || c >= 0x20 ? (c == 0x7f ? '?' : c) : '?', f);
	}
	if (!bol)
		fputc('\n', f);
}

/* One line: control bytes as spaces. */
static void line(FILE *f, const char *text)
{
	for (const char *p = text; p && *p; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
}

static void print_check(FILE *f, const json_t *c, const char *indent)
{
	size_t i;
	json_t *t;
	char dur[24];

	wd_runs_duration(dur, sizeof(dur), i_(c, "ms"));
	fprintf(f, "%scheck ", indent);
	line(f, s_(c, "name"));
	fputs(" (", f);
	line(f, s_(c, "command"));
	fprintf(f, "): %s", json_is_true(json_object_get(c, "passed")) ? "passed"
	                    : json_is_true(json_object_get(c, "timed_out")) ? "timed out" : "failed");
	if (!json_is_true(json_object_get(c, "passed")))
		fprintf(f, ", exit %lld", i_(c, "exit"));
	fprintf(f, ", %s%s\n", dur, json_is_true(json_object_get(c, "cached")) ? " (cached)" : "");
	json_array_foreach(json_object_get(c, "failing"), i, t) {
		fprintf(f, "%s  failing: ", indent);
		line(f, s_(t, "name"));
		fputc('\n', f);
	}
	if (!json_is_true(json_object_get(c, "passed")) && json_is_string(json_object_get(c, "excerpt"))) {
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "%s  | ", indent);
		block(f, prefix, s_(c, "excerpt"));
	}
}

void wd_runs_print_story(FILE *f, const json_t *st)
{
	const json_t *t = json_object_get(st, "ticket"), *u = json_object_get(st, "usage");
	const json_t *ctx = json_object_get(st, "context"), *v;
	size_t i, j;
	json_t *r, *x;
	char dur[24];

	wd_runs_duration(dur, sizeof(dur), json_is_integer(json_object_get(st, "ms"))
	                                   ? i_(st, "ms") : -1);
	fprintf(f, "run %s  %s  %zu round(s)  %lld in / %lld out tokens  $%.6f  %s\n",
	        s_(st, "run"), s_(st, "status"), json_array_size(json_object_get(st, "rounds")),
	        i_(u, "input_tokens"), i_(u, "output_tokens"),
	        json_number_value(json_object_get(u, "cost_usd")), dur);
	if (*s_(st, "reason")) {
		fputs("reason: ", f);
		line(f, s_(st, "reason"));
		fputc('\n', f);
	}
	fputs("started: ", f);
	line(f, s_(st, "started"));
	fputs("\nrepo: ", f);
	line(f, s_(st, "repo"));
	if (*s_(st, "base"))
		fprintf(f, " at %.12s", s_(st, "base"));
	fputs("\nmodel: ", f);
	line(f, s_(st, "model"));
	fputs("\n\nticket: ", f);
	if (strlen(s_(t, "id")) == 40 && strspn(s_(t, "id"), "0123456789abcdef") == 40)
		fprintf(f, "%.12s", s_(t, "id"));  /* a ticket without an id: its content hash */
	else
		line(f, s_(t, "id"));
	fputs(" ", f);
	line(f, s_(t, "title"));
	fputs(" (", f);
	line(f, s_(t, "path"));
	fputs(")\n", f);
	if (*s_(t, "body"))
		block(f, "  > ", s_(t, "body"));
	if (json_is_object(ctx)) {
		fprintf(f, "\ncontext: %lld bytes\n", i_(ctx, "bytes"));
		json_array_foreach(json_object_get(ctx, "files"), i, x) {
			fputs("  ", f);
			line(f, s_(x, "path"));
			fputs(": ", f);
			line(f, s_(x, "reason"));
			fputc('\n', f);
		}
	}
	if (json_array_size(json_object_get(st, "baseline"))) {
		fputs("\nbaseline\n", f);
		json_array_foreach(json_object_get(st, "baseline"), i, x) {
			print_check(f, x, "  ");
		}
	}
	json_array_foreach(json_object_get(st, "rounds"), i, r) {
		const json_t *p = json_object_get(r, "patch");

		fprintf(f, "\nround %lld\n", i_(r, "round"));
		json_array_foreach(json_object_get(r, "model_calls"), j, x) {
			wd_runs_duration(dur, sizeof(dur), i_(x, "ms"));
			fputs("  model ", f);
			line(f, *s_(x, "model") ? s_(x, "model") : s_(x, "spec"));
			fprintf(f, ": %lld in / %lld out tokens, $%.6f, %s", i_(x, "input_tokens"),
			        i_(x, "output_tokens"), json_number_value(json_object_get(x, "cost_usd")),
			        dur);
			if (i_(x, "retries"))
				fprintf(f, ", %lld retr%s", i_(x, "retries"), i_(x, "retries") == 1 ? "y" : "ies");
			fputc('\n', f);
			if (*s_(x, "said"))
				block(f, "    | ", s_(x, "said"));
		}
		json_array_foreach(json_object_get(r, "tool_calls"), j, x) {
			fputs("  tool ", f);
			line(f, s_(x, "name"));
			fputc(' ', f);
			line(f, s_(x, "arguments"));
			if (json_is_true(json_object_get(x, "refused")))
				fputs("  (refused)", f);
			fputc('\n', f);
			if (*s_(x, "reason")) {
				fputs("    because: ", f);
				line(f, s_(x, "reason"));
				fputc('\n', f);
			}
		}
		if (json_is_object(p)) {
			if (json_is_true(json_object_get(p, "applied"))) {
				fputs("  patch applied to", f);
				json_array_foreach(json_object_get(p, "files"), j, x) {
					fputc(' ', f);
					line(f, json_string_value(x));
				}
				fputc('\n', f);
			} else {
				json_array_foreach(json_object_get(p, "refusals"), j, x) {
					fputs("  patch refused: ", f);
					line(f, json_string_value(x));
					fputc('\n', f);
				}
			}
			if (json_is_string(v = json_object_get(p, "gate")))
				block(f, "  gate: ", json_string_value(v));
		}
		json_array_foreach(json_object_get(r, "checks"), j, x) {
			print_check(f, x, "  ");
		}
		if (json_is_true(json_object_get(r, "passed")))
			fputs("  => passed\n", f);
		else if (*s_(r, "reason")) {
			fputs("  => ", f);
			line(f, s_(r, "reason"));
			fputc('\n', f);
		}
	}
	if (json_is_object(v = json_object_get(st, "proposal"))) {
		fputs("\nproposal: ", f);
		line(f, s_(v, "branch"));
		fprintf(f, " (commit %.12s) in ", s_(v, "commit"));
		line(f, s_(v, "repo"));
		fputc('\n', f);
	}
	json_array_foreach(json_object_get(st, "decisions"), i, x) {
		fputs("decision: ", f);
		line(f, s_(x, "decision"));
		if (*s_(x, "by")) {
			fputs(" by ", f);
			line(f, s_(x, "by"));
		}
		if (*s_(x, "reason")) {
			fputs(": ", f);
			line(f, s_(x, "reason"));
		}
		fputc('\n', f);
	}
	json_array_foreach(json_object_get(st, "alerts"), i, x) {
		fputs("alert: ", f);
		line(f, s_(x, "kind"));
		fputs(": ", f);
		line(f, s_(x, "message"));
		fputc('\n', f);
	}
	if (json_is_string(v = json_object_get(st, "diff"))) {
		/* a run that proposed nothing still shows what its last round tried */
		fputs(json_is_object(json_object_get(st, "proposal")) ? "\ndiff\n"
		      : "\ndiff of the last round (not committed)\n", f);
		block(f, "  ", json_string_value(v));
	}
}

