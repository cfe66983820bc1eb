#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/cli.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/interrupt.h"
#include "warden/json.h"
#include "warden/ledger.h"
#include "warden/prompt.h"
#include "warden/review.h"
#include "warden/ticket.h"
#include "warden/run.h"
#include "warden/sandbox.h"

#include "progress.h"

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
	"  --prompts DIR        warden's prompt templates (default $WARDEN_PROMPTS, else the\n"
	"                       installed share/warden/prompts found from the executable;\n"
	"                       never the current directory)\n"
	"  --sandbox POLICY     strict | best-effort | off (default: sandbox.policy, else\n"
	"                       strict: a layer that cannot be applied stops the run)\n"
	"  --max-cost USD, --max-tokens N, --max-calls N, --max-time SEC   run budgets\n"
	"  --keep-worktree      keep the run's directory; its last checked tree is copied\n"
	"                       to runs/<id>/tree for inspection\n"
	"  --allow-read PATH    let the checks read PATH too (repeatable; also\n"
	"                       sandbox.allow-read in your config); they see only the\n"
	"                       system's toolchain paths and their own tree otherwise\n"
	"  --no-tools           do not offer the model read-only repository tools\n"
	"  --dry-run            stop before the first model call and print exactly what it\n"
	"                       would carry (messages, files with sizes, tools, redactions,\n"
	"                       estimated tokens and cost); nothing is sent, no check runs\n"
	"  --json               print one JSON object with the result on stdout\n"
	"  --ci                 non-interactive: never prompt, print the JSON result\n"
	"  --push REMOTE        push the proposal's checked commit to its branch on REMOTE\n"
	"                       (a remote name or URL; token WARDEN_GIT_TOKEN, else GITHUB_TOKEN)\n"
	"  --open-pr            open a GitHub pull request for the pushed branch (the same\n"
	"                       token; --pr-repo OWNER/NAME or github.repo in config;\n"
	"                       GITHUB_API_URL or github.apiUrl for GitHub Enterprise)\n"
	"  --pr-base BRANCH     the pull request's base (default: the run's base branch)\n"
	"  -y, --yes            approve the irreversible steps (push, pull request) up front\n"
	"  -q, --quiet          no progress on stderr\n"
	"  -v, --verbose        more progress: every stage as it starts and, without a\n"
	"                       terminal, the checks' output as it comes\n"
	"\n"
	"On a terminal the stage, the check being run, its elapsed time and the last\n"
	"lines of its output update in place (colour unless NO_COLOR is set). SIGINT or\n"
	"SIGTERM stops the running check, ends the ledger with status 'interrupted',\n"
	"removes the work tree (unless --keep-worktree) and exits 128+N.\n"
	"\n"
	"Pushing and opening a pull request are irreversible: push.allowed = false in\n"
	"your config refuses them, even with --yes or --ci; push.allowed = true allows\n"
	"them; unset, --yes or --ci allows, a terminal asks, and otherwise they are\n"
	"refused. The proposal itself stays in any case.\n"
	"\n"
	"exit codes: 0 proposed, 1 no passing patch (or a push refused by your config or\n"
	"            because the branch moved), 2 usage or input error,\n"
	"            3 infrastructure error (git, network, model service, push),\n"
	"            4 a budget cap stopped the run, 5 escalated: a person must decide\n"
	"            (the question is printed and in the JSON result's \"question\")\n";

struct progress {
	int quiet;
	int verbose;
};

/* What to do with a proposal beyond the local branch. */
struct remote_steps {
	const char *push;      /* remote name or URL */
	int open_pr;
	const char *pr_repo;   /* OWNER/NAME */
	const char *pr_base;
	int ci;
	int yes;
};

static int open_pull_request(const struct remote_steps *st, const wd_config *cfg,
                             const wd_run_opts *opts, const wd_run_result *res, char **url)
{
	wd_pr_opts pr = WD_PR_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_buf owner = WD_BUF_INIT;
	char *cfg_repo = NULL, *api = NULL;
	const char *repo_name = NULL;
	int rc;

	if ((rc = wd_ticket_load(&t, opts->ticket)) != 0)
		goto out;
	/* OWNER/NAME: the flag, then github.repo; else the review module reads the remote's URL */
	if (st->pr_repo || wd_config_get_string_trusted(&cfg_repo, cfg, "github.repo") == 0) {
		const char *spec = st->pr_repo ? st->pr_repo : cfg_repo;
		const char *slash = strchr(spec, '/');

		if (!slash || slash == spec || !slash[1] || strchr(slash + 1, '/')) {
			rc = wd_error_set(WD_EUSAGE, "the pull request's repository must be OWNER/NAME, "
			                             "not '%s'", spec);
			goto out;
		}
		if ((rc = wd_buf_put(&owner, spec, (size_t)(slash - spec))) != 0)
			goto out;
		pr.owner = owner.ptr;
		repo_name = slash + 1;
		pr.repo = repo_name;
	}
	wd_config_get_string_trusted(&api, cfg, "github.apiUrl");
	pr.api_url = api;
	rc = wd_review_open_pr_for(url, res->cache_dir, res->run_id, st->push, wd_ticket_body(t), &pr);
out:
	free(cfg_repo);
	free(api);
	wd_buf_free(&owner);
	wd_ticket_free(t);
	return rc;
}

/* May the push (and the pull request) go ahead? The one policy of `run` and
 * `review` decides; returns 0 to go ahead, else the exit code, with
 * *status ("refused", "not_confirmed") for the JSON result. */
static int remote_steps_allowed(const struct remote_steps *st, const wd_config *cfg,
                                const wd_run_result *res, const char **status)
{
	wd_review_flags f = { st->yes, st->ci, wd_cli_interactive() };
	wd_review_decision push, pr;
	const wd_review_decision *deny = NULL;
	wd_buf q = WD_BUF_INIT;
	int yes;

	memset(&pr, 0, sizeof(pr));
	if (wd_review_policy_decide(&push, cfg, WD_STEP_PUSH, &f) != 0 ||
	    (st->open_pr && wd_review_policy_decide(&pr, cfg, WD_STEP_PULL_REQUEST, &f) != 0)) {
		wd_cli_error("not pushing %s: %s", res->branch, wd_error_last());
		*status = "refused";
		return WD_EXIT_USAGE;
	}
	if (push.verdict == WD_REVIEW_DENY)
		deny = &push;
	else if (st->open_pr && pr.verdict == WD_REVIEW_DENY)
		deny = &pr;
	if (deny) {
		wd_cli_error("not pushing %s: %s; the proposal stays local", res->branch, deny->reason);
		*status = deny->code == WD_EREFUSED ? "refused" : "not_confirmed";
		return deny->code == WD_EREFUSED ? WD_EXIT_NO : WD_EXIT_USAGE;
	}
	if (push.verdict != WD_REVIEW_ASK && !(st->open_pr && pr.verdict == WD_REVIEW_ASK))
		return 0;
	wd_buf_printf(&q, "push %s to %s%s?", res->branch, st->push,
	              st->open_pr ? " and open a pull request" : "");
	yes = wd_cli_confirm(wd_buf_cstr(&q));
	wd_buf_free(&q);
	if (yes == 1)
		return 0;
	wd_cli_error("not pushing %s: pushing is irreversible and it was not confirmed; pass --yes "
	             "or --ci, or set push.allowed = true in your config", res->branch);
	*status = "not_confirmed";
	return WD_EXIT_USAGE;
}

/* Push the proposal's checked commit and maybe open a pull request; returns
 * an exit code (0 = done) and fills *extra with what the JSON result should add. */
static int remote_steps_run(const struct remote_steps *st, const wd_run_opts *opts,
                            const wd_run_result *res, int quiet, json_t **extra)
{
	wd_config *cfg = NULL;
	const char *status = NULL;
	char *url = NULL;
	int rc, code;

	*extra = json_object();
	if (wd_config_open(&cfg, NULL) != 0) {
		wd_cli_error("not pushing %s: %s", res->branch, wd_error_last());
		json_object_set_new(*extra, "push", json_pack("{s:s, s:s}", "remote", st->push,
		                                              "status", "refused"));
		return WD_EXIT_USAGE;
	}
	if ((code = remote_steps_allowed(st, cfg, res, &status)) != 0) {
		json_object_set_new(*extra, "push", json_pack("{s:s, s:s}", "remote", st->push,
		                                              "status", status));
		goto out;
	}
	/* exactly the commit the checks passed (res->commit, as recorded) */
	rc = wd_review_push_proposal(res->cache_dir, res->run_id, st->push);
	if (rc) {
		wd_cli_error("push to %s failed: %s", st->push, wd_error_last());
		json_object_set_new(*extra, "push", json_pack("{s:s, s:s, s:s}", "remote", st->push,
		                                              "status", "failed", "error",
		                                              wd_error_last()));
		code = rc == WD_ECONFLICT ? WD_EXIT_NO
		     : wd_exit_code_for(rc) == WD_EXIT_USAGE ? WD_EXIT_USAGE : WD_EXIT_INFRA;
		goto out;
	}
	json_object_set_new(*extra, "push", json_pack("{s:s, s:s}", "remote", st->push,
	                                              "status", "pushed"));
	wd_review_mark_pushed(res->cache_dir, res->run_id, st->push);
	if (!quiet)
		fprintf(stderr, "warden: pushed %s to %s\n", res->branch, st->push);
	if (!st->open_pr)
		goto out;
	rc = open_pull_request(st, cfg, opts, res, &url);
	if (rc) {
		wd_cli_error("opening the pull request failed: %s", wd_error_last());
		json_object_set_new(*extra, "pull_request", json_pack("{s:s, s:s}", "status", "failed",
		                                                      "error", wd_error_last()));
		code = rc == WD_EUSAGE ? WD_EXIT_USAGE : WD_EXIT_INFRA;
		goto out;
	}
	if (!quiet)
		fprintf(stderr, "warden: opened %s\n", url);
	json_object_set_new(*extra, "pull_request", json_pack("{s:s, s:s}", "status", "opened",
	                                                      "url", url));
	free(url);
out:
	wd_config_free(cfg);
	return code;
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
       OPT_NO_TOOLS, OPT_CI, OPT_PUSH, OPT_OPEN_PR, OPT_PR_REPO, OPT_PR_BASE, OPT_PROMPTS,
       OPT_ALLOW_READ, OPT_DRY_RUN };


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
		{ "prompts", required_argument, NULL, OPT_PROMPTS },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
		{ "max-cost", required_argument, NULL, OPT_MAX_COST },
		{ "max-tokens", required_argument, NULL, OPT_MAX_TOKENS },
		{ "max-calls", required_argument, NULL, OPT_MAX_CALLS },
		{ "max-time", required_argument, NULL, OPT_MAX_TIME },
		{ "keep-worktree", no_argument, NULL, OPT_KEEP },
		{ "allow-read", required_argument, NULL, OPT_ALLOW_READ },
		{ "no-tools", no_argument, NULL, OPT_NO_TOOLS },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "ci", no_argument, NULL, OPT_CI },
		{ "push", required_argument, NULL, OPT_PUSH },
		{ "open-pr", no_argument, NULL, OPT_OPEN_PR },
		{ "pr-repo", required_argument, NULL, OPT_PR_REPO },
		{ "pr-base", required_argument, NULL, OPT_PR_BASE },
		{ "yes", no_argument, NULL, 'y' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	wd_run_opts opts = WD_RUN_OPTS_INIT;
	wd_run_result res;
	wd_strvec checks = WD_STRVEC_INIT, reads = WD_STRVEC_INIT;
	struct progress prog = { 0, 0 };
	wd_progress *live = NULL;
	uint64_t t0;
	struct remote_steps steps = { 0 };
	json_t *extra = NULL;
	int json = 0, c, rc, exit_code;
	long v;
	char *end;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "r:t:m:c:n:qvyh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': opts.repo = optarg; break;
		case 't': opts.ticket = optarg; break;
		case OPT_BASE: opts.base = optarg; break;
		case 'm': opts.model = optarg; break;
		case OPT_ALLOW_READ:
			if (wd_strvec_push(&reads, optarg)) {
				wd_cli_error("%s", wd_error_last());
				return WD_EXIT_INFRA;
			}
			break;
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
		case OPT_PROMPTS: {
			/* absolute, so the ledger says which templates were used */
			char *abs = wd_path_is_dir(optarg) ? wd_realpath(optarg) : NULL;

			if (!abs) {
				wd_cli_error("--prompts %s: no such directory", optarg);
				goto usage;
			}
			rc = wd_prompt_set_dir(abs);
			free(abs);
			if (rc != 0) {
				wd_cli_error("--prompts: %s", wd_error_last());
				goto usage;
			}
			break;
		}
		case OPT_SANDBOX:
			if (wd_sandbox_policy_parse(&opts.sandbox_policy, optarg) != 0) {
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
		case OPT_DRY_RUN: opts.dry_run = 1; break;
		case OPT_CI: steps.ci = 1; json = 1; break;
		case OPT_PUSH: steps.push = optarg; break;
		case OPT_OPEN_PR: steps.open_pr = 1; break;
		case OPT_PR_REPO: steps.pr_repo = optarg; break;
		case OPT_PR_BASE: steps.pr_base = optarg; break;
		case 'y': steps.yes = 1; break;
		case OPT_JSON: json = 1; break;
		case 'q': prog.quiet = 1; break;
		case 'v': prog.verbose = 1; break;
		case 'h':
			fputs(run_usage, stdout);
			wd_strvec_free(&checks);
			wd_strvec_free(&reads);
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
	if (steps.open_pr && !steps.push) {
		wd_cli_error("run: --open-pr needs --push REMOTE (the pull request's head must be pushed)");
		goto usage;
	}
	opts.checks = (const char *const *)checks.v;
	opts.allow_read = (const char *const *)reads.v;
	live = wd_progress_new(prog.quiet ? WD_PROGRESS_QUIET
	                       : prog.verbose ? WD_PROGRESS_VERBOSE : WD_PROGRESS_NORMAL);
	wd_progress_attach(live, &opts);
	wd_interrupt_install();
	t0 = wd_now_ms();

	rc = wd_run(&res, &opts);
	if (res.reason) {
		/* the reason quotes the checks and errors: printed and in the JSON */
		char *clean = wd_redact(res.reason);

		free(res.reason);
		res.reason = clean; /* NULL (out of memory) rather than unredacted */
	}
	exit_code = res.status == WD_RUN_PROPOSED || res.status == WD_RUN_DRY_RUN ? WD_EXIT_OK
	          : res.status == WD_RUN_NO_PATCH ? WD_EXIT_NO
	          : res.status == WD_RUN_INTERRUPTED ? 128 + wd_interrupt_signal()
	          : res.status == WD_RUN_ESCALATED ? WD_EXIT_ESCALATED
	          : wd_exit_code_for(rc ? rc : res.error);
	wd_progress_summary(live, &res, wd_now_ms() - t0);
	wd_progress_free(live);
	live = NULL;
	if (!prog.quiet) {
		if (res.status == WD_RUN_PROPOSED)
			fprintf(stderr, "warden: proposed %s (commit %.12s) in %s after %d round(s)\n",
			        res.branch, res.commit, res.repo, res.rounds);
		else if (res.status == WD_RUN_NO_PATCH)
			fprintf(stderr, "warden: no passing patch after %d round(s): %s\n", res.rounds,
			        res.reason ? res.reason : "");
		else if (res.status == WD_RUN_ESCALATED)
			fprintf(stderr, "warden: a person must decide: %s\n",
			        res.reason ? res.reason : "");
	}
	if (res.status == WD_RUN_ERROR)
		wd_cli_error("%s", res.reason ? res.reason : wd_error_last());
	if (res.status == WD_RUN_INTERRUPTED)
		wd_cli_error("%s: the check was stopped, the run ended in the ledger%s",
		             res.reason ? res.reason : "interrupted",
		             opts.keep_worktree ? "; the work tree is kept" : " and its work tree removed");
	for (size_t i = 0; i < json_array_size(res.alerts); i++)
		wd_cli_error("alert: %s", json_string_value(json_object_get(json_array_get(res.alerts, i),
		                                                            "message")));
	if (!prog.quiet && res.ledger)
		fprintf(stderr, "warden: ledger %s\n", res.ledger);
	if (!prog.quiet && res.workdir)
		fprintf(stderr, "warden: the last round's tree is kept in %s\n", res.workdir);
	if (res.status == WD_RUN_PROPOSED && steps.push) {
		int src = remote_steps_run(&steps, &opts, &res, prog.quiet, &extra);

		if (src)
			exit_code = src;
	}
	if (res.status == WD_RUN_DRY_RUN && !json)
		wd_cli_print_dry_run(stdout, res.dry_run);
	if (json) {
		json_t *o = wd_run_result_json(&res);

		if (o && extra)
			json_object_update(o, extra);
		wd_redact_json(o);
		char *s = o ? json_dumps(o, JSON_COMPACT | WD_JSON_REALS) : NULL;

		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	json_decref(extra);
	wd_run_result_free(&res);
	wd_strvec_free(&checks);
	wd_strvec_free(&reads);
	return exit_code;
usage:
	fputs("\n", stderr);
	fputs(run_usage, stderr);
	wd_strvec_free(&checks);
	wd_strvec_free(&reads);
	return WD_EXIT_USAGE;
}
