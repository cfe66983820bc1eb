#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/cli.h"
#include "warden/error.h"
#include "warden/run.h"
#include "warden/sandbox.h"

static const char run_usage[] =
	"usage: warden run --repo REPO --ticket TICKET [options]\n"
	"\n"
	"Take a ticket from clone to a gated commit: clone REPO into warden's cache,\n"
	"check out the base on a fresh work branch, ask the model for a scoped patch,\n"
	"apply it, run the checks in the sandbox (baseline first), repair up to N\n"
	"rounds, and only when every check passes commit and propose the branch.\n"
	"Your own checkout is never modified; on success the branch is added to a\n"
	"local REPO as a new ref.\n"
	"\n"
	"  --repo REPO          local path or URL (file://, https://, ssh://)\n"
	"  --ticket FILE        the ticket (Markdown with optional --- header, or JSON)\n"
	"  --base REF           branch, tag or commit to start from (default: REPO's HEAD)\n"
	"  --model SPEC         openai:MODEL, openai-responses:MODEL, anthropic:MODEL,\n"
	"                       compat:URL#MODEL, replay:FILE, a config name; a,b,c = fallback\n"
	"  --check CMD          a check command (repeatable; 'kind: cmd', kind = test|build|analyze)\n"
	"  --rounds N           model rounds including repairs (default: ticket, config, 3)\n"
	"  --check-timeout SEC  per-check wall-clock limit (default 600)\n"
	"  --work-dir DIR       cache and work trees (default $XDG_CACHE_HOME/warden)\n"
	"  --record FILE        record every model request and reply (replayable)\n"
	"  --sandbox POLICY     strict | best-effort | off (default: best-effort)\n"
	"  --max-cost USD, --max-tokens N, --max-calls N, --max-time SEC   run budgets\n"
	"  --keep-worktree      keep the run's work tree for inspection\n"
	"  --no-tools           do not offer the model read-only repository tools\n"
	"  --json               print one JSON object with the result on stdout\n"
	"  -q, --quiet          no progress on stderr\n"
	"\n"
	"exit codes: 0 proposed, 1 no passing patch, 2 usage or input error,\n"
	"            3 infrastructure error (git, network, model service),\n"
	"            4 a budget cap stopped the run\n";

struct progress {
	int quiet;
	int step;
};

static void on_progress(void *payload, const char *stage, int done, uint64_t ms, const char *msg)
{
	struct progress *p = payload;

	if (p->quiet)
		return;
	if (!done)
		return;
	fprintf(stderr, "warden: %-9s %6.2fs  %s\n", stage, (double)ms / 1000.0, msg ? msg : "");
}

static int parse_uint(const char *s, const char *flag, long max, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0 || v > max) {
		wd_cli_error("%s expects a whole number from 0 to %ld, not '%s'", flag, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

enum { OPT_CHECK_TIMEOUT = 256, OPT_WORK_DIR, OPT_RECORD, OPT_SANDBOX, OPT_MAX_COST,
       OPT_MAX_TOKENS, OPT_MAX_CALLS, OPT_MAX_TIME, OPT_KEEP, OPT_JSON, OPT_BASE,
       OPT_NO_TOOLS };

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "ticket", required_argument, NULL, 't' },
		{ "base", required_argument, NULL, OPT_BASE },
		{ "model", required_argument, NULL, 'm' },
		{ "check", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "check-timeout", required_argument, NULL, OPT_CHECK_TIMEOUT },
		{ "work-dir", required_argument, NULL, OPT_WORK_DIR },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
		{ "max-cost", required_argument, NULL, OPT_MAX_COST },
		{ "max-tokens", required_argument, NULL, OPT_MAX_TOKENS },
		{ "max-calls", required_argument, NULL, OPT_MAX_CALLS },
		{ "max-time", required_argument, NULL, OPT_MAX_TIME },
		{ "keep-worktree", no_argument, NULL, OPT_KEEP },
		{ "no-tools", no_argument, NULL, OPT_NO_TOOLS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	wd_run_opts opts = WD_RUN_OPTS_INIT;
	wd_run_result res;
	wd_strvec checks = WD_STRVEC_INIT;
	struct progress prog = { 0, 0 };
	int json = 0, c, rc, exit_code;
	long v;
	char *end;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "r:t:m:c:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': opts.repo = optarg; break;
		case 't': opts.ticket = optarg; break;
		case OPT_BASE: opts.base = optarg; break;
		case 'm': opts.model = optarg; break;
		case 'c':
			if (wd_strvec_push(&checks, optarg)) {
				wd_cli_error("%s", wd_error_last());
				return WD_EXIT_INFRA;
			}
			break;
		case 'n':
			if (parse_uint(optarg, "--rounds", 20, &v))
				goto usage;
			if (v < 1) {
				wd_cli_error("--rounds must be at least 1");
				goto usage;
			}
			opts.rounds = (int)v;
			break;
		case OPT_CHECK_TIMEOUT:
			if (parse_uint(optarg, "--check-timeout", 86400, &v))
				goto usage;
			opts.check_timeout_sec = (unsigned)v;
			break;
		case OPT_WORK_DIR: opts.work_dir = optarg; break;
		case OPT_RECORD: opts.record = optarg; break;
		case OPT_SANDBOX:
			if (!strcmp(optarg, "strict"))
				opts.sandbox_policy = WD_POLICY_STRICT;
			else if (!strcmp(optarg, "best-effort"))
				opts.sandbox_policy = WD_POLICY_BEST_EFFORT;
			else if (!strcmp(optarg, "off"))
				opts.sandbox_policy = WD_POLICY_OFF;
			else {
				wd_cli_error("--sandbox takes strict, best-effort or off, not '%s'", optarg);
				goto usage;
			}
			break;
		case OPT_MAX_COST:
			opts.max_cost_usd = strtod(optarg, &end);
			if (!*optarg || *end || opts.max_cost_usd <= 0) {
				wd_cli_error("--max-cost expects a positive amount in USD, not '%s'", optarg);
				goto usage;
			}
			break;
		case OPT_MAX_TOKENS:
			if (parse_uint(optarg, "--max-tokens", 1000000000L, &v))
				goto usage;
			opts.max_tokens = v;
			break;
		case OPT_MAX_CALLS:
			if (parse_uint(optarg, "--max-calls", 100000, &v))
				goto usage;
			opts.max_calls = (int)v;
			break;
		case OPT_MAX_TIME:
			if (parse_uint(optarg, "--max-time", 604800, &v))
				goto usage;
			opts.max_time_ms = (uint64_t)v * 1000u;
			break;
		case OPT_KEEP: opts.keep_worktree = 1; break;
		case OPT_NO_TOOLS: opts.no_tools = 1; break;
		case OPT_JSON: json = 1; break;
		case 'q': prog.quiet = 1; break;
		case 'h':
			fputs(run_usage, stdout);
			wd_strvec_free(&checks);
			return WD_EXIT_OK;
		default:
			wd_cli_error("run: unknown or incomplete option '%s'", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind < argc) {
		wd_cli_error("run: unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (!opts.repo || !opts.ticket) {
		wd_cli_error("run: --repo and --ticket are required");
		goto usage;
	}
	opts.checks = (const char *const *)checks.v;
	opts.progress = on_progress;
	opts.payload = &prog;

	rc = wd_run(&res, &opts);
	exit_code = res.status == WD_RUN_PROPOSED ? WD_EXIT_OK
	          : res.status == WD_RUN_NO_PATCH ? WD_EXIT_NO
	          : wd_exit_code_for(rc ? rc : res.error);
	if (!prog.quiet) {
		if (res.status == WD_RUN_PROPOSED)
			fprintf(stderr, "warden: proposed %s (commit %.12s) in %s after %d round(s)\n",
			        res.branch, res.commit, res.repo, res.rounds);
		else if (res.status == WD_RUN_NO_PATCH)
			fprintf(stderr, "warden: no passing patch after %d round(s): %s\n", res.rounds,
			        res.reason ? res.reason : "");
		if (res.ledger)
			fprintf(stderr, "warden: ledger %s\n", res.ledger);
	}
	if (res.status == WD_RUN_ERROR)
		wd_cli_error("%s", res.reason ? res.reason : wd_error_last());
	if (json) {
		json_t *o = wd_run_result_json(&res);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	wd_run_result_free(&res);
	wd_strvec_free(&checks);
	return exit_code;
usage:
	fputs("\n", stderr);
	fputs(run_usage, stderr);
	wd_strvec_free(&checks);
	return WD_EXIT_USAGE;
}
