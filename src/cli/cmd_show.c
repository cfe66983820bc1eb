/* warden show RUN: any run, failed or not, told from its ledger. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/json.h"
#include "warden/story.h"

#include "runs_cli.h"

static const char show_usage[] =
	"usage: warden show RUN [--json] [--messages] [--work-dir DIR]\n"
	"\n"
	"Tell one run from its ledger, failed or not: the ticket, the context chosen and\n"
	"why, each round's model calls (tokens, cost, latency, retries), tool calls with\n"
	"the model's words, the patch and its refusal or its checks with the failing\n"
	"tests and the end of their output, why each round failed, the proposal and\n"
	"the decision. RUN is a run id or a unique prefix of one (see 'warden log').\n"
	"\n"
	"  --json         one JSON object on stdout (docs/ledger.md describes it)\n"
	"  --messages     with every model request's messages and reply (JSON only)\n"
	"  --lines N      lines of each check's output to show (default 12)\n"
	"  --work-dir DIR warden's cache (default $XDG_CACHE_HOME/warden)\n"
	"\n"
	"exit codes: 0 shown, 2 usage error or no such run, 3 the ledger could not be read\n";

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

static void print_story(FILE *f, const json_t *st)
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
		fputs("\ndiff\n", f);
		block(f, "  ", json_string_value(v));
	}
}

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "messages", no_argument, NULL, 'm' },
		{ "lines", required_argument, NULL, 'n' },
		{ "work-dir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	wd_story_opts so = WD_STORY_OPTS_INIT;
	const char *work_dir = NULL;
	int json = 0, c, rc;
	wd_buf cache = WD_BUF_INIT;
	wd_index *ix = NULL;
	char *id = NULL, *ledger = NULL;
	json_t *st = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'm': so.with_messages = 1; break;
		case 'n': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v > 10000) {
				wd_cli_error("show: --lines wants a number up to 10000, not '%s'", optarg);
				return WD_EXIT_USAGE;
			}
			so.excerpt_lines = (unsigned)v;
			break;
		}
		case 'w': work_dir = optarg; break;
		case 'h': fputs(show_usage, stdout); return WD_EXIT_OK;
		default: fputs(show_usage, stderr); return WD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		wd_cli_error("show: exactly one RUN is required");
		fputs(show_usage, stderr);
		return WD_EXIT_USAGE;
	}
	if ((rc = wd_runs_cache(&cache, work_dir)) != 0 ||
	    (rc = wd_runs_index(&ix, cache.ptr, 0)) != 0 ||
	    (rc = wd_runs_find(&id, &ledger, ix, argv[optind])) != 0 ||
	    (rc = wd_story_build(&st, ledger, &so)) != 0)
		goto out;
	if (json) {
		char *text = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER | WD_JSON_REALS);

		if (!text) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
		printf("%s\n", text);
		free(text);
	} else {
		print_story(stdout, st);
	}
out:
	json_decref(st);
	free(id);
	free(ledger);
	wd_index_close(ix);
	wd_buf_free(&cache);
	if (rc) {
		wd_cli_error("show: %s", wd_error_last());
		return rc == WD_ENOTFOUND ? WD_EXIT_USAGE : wd_exit_code_for(rc);
	}
	return WD_EXIT_OK;
}
