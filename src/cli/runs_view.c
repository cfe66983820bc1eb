/*
 * The run view: one run's story (warden/story.h) in words, as `warden show`
 * prints it and `warden review show` prints it under the proposal. One
 * renderer, so the two never tell a run differently.
 */
#include <stdarg.h>
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

/* fmt as it is, but for every %s: the next argument, an untrusted string
 * (NULL is ""), printed as line() does. Only %s is understood. */
static void say(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			line(f, va_arg(ap, const char *));
			p++;
		} else {
			fputc(*p, f);
		}
	}
	va_end(ap);
}

static void print_check(FILE *f, const json_t *c, const char *indent)
{
	size_t i;
	json_t *t;
	char dur[24];

	wd_runs_duration(dur, sizeof(dur), i_(c, "ms"));
	say(f, "%scheck %s (%s)", indent, s_(c, "name"), s_(c, "command"));
	fprintf(f, ": %s", json_is_true(json_object_get(c, "passed")) ? "passed"
	                    : json_is_true(json_object_get(c, "timed_out")) ? "timed out" : "failed");
	if (!json_is_true(json_object_get(c, "passed")))
		fprintf(f, ", exit %lld", i_(c, "exit"));
	fprintf(f, ", %s%s\n", dur, json_is_true(json_object_get(c, "cached")) ? " (cached)" : "");
	json_array_foreach(json_object_get(c, "failing"), i, t) {
		say(f, "%s  failing: %s\n", indent, s_(t, "name"));
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
	if (*s_(st, "reason"))
		say(f, "reason: %s\n", s_(st, "reason"));
	say(f, "started: %s\nrepo: %s", s_(st, "started"), s_(st, "repo"));
	if (*s_(st, "base"))
		fprintf(f, " at %.12s", s_(st, "base"));
	say(f, "\nmodel: %s\n\nticket: ", s_(st, "model"));
	if (strlen(s_(t, "id")) == 40 && strspn(s_(t, "id"), "0123456789abcdef") == 40)
		fprintf(f, "%.12s", s_(t, "id"));  /* a ticket without an id: its content hash */
	else
		line(f, s_(t, "id"));
	say(f, " %s (%s)\n", s_(t, "title"), s_(t, "path"));
	if (*s_(t, "body"))
		block(f, "  > ", s_(t, "body"));
	if (json_is_object(ctx)) {
		fprintf(f, "\ncontext: %lld bytes\n", i_(ctx, "bytes"));
		json_array_foreach(json_object_get(ctx, "files"), i, x) {
			say(f, "  %s: %s\n", s_(x, "path"), s_(x, "reason"));
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
			say(f, "  model %s", *s_(x, "model") ? s_(x, "model") : s_(x, "spec"));
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
			say(f, "  tool %s %s%s\n", s_(x, "name"), s_(x, "arguments"),
			    json_is_true(json_object_get(x, "refused")) ? "  (refused)" : "");
			if (*s_(x, "reason"))
				say(f, "    because: %s\n", s_(x, "reason"));
		}
		if (json_is_object(p)) {
			if (json_is_true(json_object_get(p, "applied"))) {
				fputs("  patch applied to", f);
				json_array_foreach(json_object_get(p, "files"), j, x) {
					say(f, " %s", json_string_value(x));
				}
				fputc('\n', f);
			} else {
				json_array_foreach(json_object_get(p, "refusals"), j, x) {
					say(f, "  patch refused: %s\n", json_string_value(x));
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
		else if (*s_(r, "reason"))
			say(f, "  => %s\n", s_(r, "reason"));
	}
	if (json_is_object(v = json_object_get(st, "proposal"))) {
		say(f, "\nproposal: %s", s_(v, "branch"));
		fprintf(f, " (commit %.12s) in ", s_(v, "commit"));
		say(f, "%s\n", s_(v, "repo"));
	}
	json_array_foreach(json_object_get(st, "decisions"), i, x) {
		say(f, "decision: %s", s_(x, "decision"));
		if (*s_(x, "by"))
			say(f, " by %s", s_(x, "by"));
		if (*s_(x, "reason"))
			say(f, ": %s", s_(x, "reason"));
		fputc('\n', f);
	}
	json_array_foreach(json_object_get(st, "alerts"), i, x) {
		say(f, "alert: %s: %s\n", s_(x, "kind"), s_(x, "message"));
	}
	if (json_is_string(v = json_object_get(st, "diff"))) {
		/* a run that proposed nothing still shows what its last round tried */
		fputs(json_is_object(json_object_get(st, "proposal")) ? "\ndiff\n"
		      : "\ndiff of the last round (not committed)\n", f);
		block(f, "  ", json_string_value(v));
	}
}

