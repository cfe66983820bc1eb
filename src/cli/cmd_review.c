/* warden review: list, show, approve or reject the proposals `warden run` made. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "warden/cli.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "warden/repo.h"
#include "warden/review.h"
#include "warden/story.h"
#include "warden/text.h"
#include "warden/ticket.h"

#include "runs_cli.h"

#define TICKET_SHOW_MAX 4000

static const char usage_text[] =
	"usage: warden review list [--all] [--json]\n"
	"       warden review show ID [--json] [--no-diff]\n"
	"       warden review approve ID [--push REMOTE] [--force] [--yes | --ci]\n"
	"       warden review reject ID --reason TEXT\n"
	"       warden review publish ID --push REMOTE [--open-pr [--repo OWNER/REPO] [--draft]] [--yes]\n"
	"\n"
	"Proposals are the commits `warden run` made after every check passed. ID is a\n"
	"run id or an unambiguous prefix of one.\n"
	"\n"
	"  list            open proposals: id, age, ticket, checks, cost (--all: every status)\n"
	"  show ID         the record, the check evidence, what approving would do, the\n"
	"                  ticket the model was given, the run's ledger, and the diff\n"
	"  approve ID      merge the proposal into its target branch in the repository that\n"
	"                  holds it: fast-forward when possible, else a merge commit. Stops,\n"
	"                  changing nothing, on a conflict, on uncommitted changes where the\n"
	"                  target is checked out, on untracked or ignored files there that\n"
	"                  the merge would overwrite (named), and when the target moved since\n"
	"                  the run's base (the merged result was never checked: run the\n"
	"                  ticket again, or pass --force)\n"
	"  reject ID       delete the proposal branch and keep the record with the reason;\n"
	"                  the next run of the same ticket hands the reason to the model\n"
	"  publish ID      push the proposal's checked commit (not merged) to its branch on\n"
	"                  REMOTE, and with --open-pr open a GitHub pull request for it: title =\n"
	"                  ticket, body = ticket, checks, evidence and cost (token:\n"
	"                  WARDEN_GIT_TOKEN, else GITHUB_TOKEN; API: github.apiUrl in your\n"
	"                  config, else $GITHUB_API_URL, else api.github.com). Refused when the\n"
	"                  local branch has moved away from the checked commit\n"
	"\n"
	"options:\n"
	"  --push REMOTE   approve: after merging, push the target branch to REMOTE; publish:\n"
	"                  push the proposal branch (a remote name, URL or path; token from\n"
	"                  WARDEN_GIT_TOKEN/GITHUB_TOKEN over HTTPS, ssh-agent over SSH)\n"
	"  --open-pr       publish: open a pull request after pushing\n"
	"  --repo O/R      publish: the GitHub repository (default: from the remote's URL)\n"
	"  --draft         publish: open the pull request as a draft\n"
	"  --force         approve even though the target moved since the base\n"
	"  --yes, --ci     do not ask before merging, pushing or opening a pull request\n"
	"                  (required without a terminal, unless your config allows the step;\n"
	"                  an explicit false in your config wins over both)\n"
	"  --reason TEXT   why the proposal is rejected (required for reject)\n"
	"  --all           list every proposal, not only open ones\n"
	"  --json          machine-readable output on stdout\n"
	"  --no-diff       show: leave out the diff\n"
	"  --work-dir DIR  warden's cache (default $WARDEN_CACHE_DIR, $XDG_CACHE_HOME/warden)\n"
	"\n"
	"policy (user config ~/.config/warden/config only, never the repository's):\n"
	"  review.autoApprove = true|false  approve without asking | always ask on a\n"
	"                               terminal (--yes and --ci do not override false)\n"
	"  push.allowed = true|false    push (and open pull requests) without asking | never,\n"
	"                               even with --yes or --ci\n"
	"  review.separateDuties = true the user who made a run cannot approve it\n"
	"                               (the user is $WARDEN_USER, else the login name)\n"
	"\n"
	"exit codes: 0 done, 1 refused (conflict, moved target, dirty work tree, policy),\n"
	"            2 usage or unknown proposal, 3 git or network failure\n";

struct review_args {
	const char *work_dir;
	const char *push;
	const char *reason;
	const char *repo;
	int all, json, no_diff, force, yes, ci, open_pr, draft;
	int help;
};

static int parse_args(struct review_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "work-dir", required_argument, NULL, 'w' }, { "push", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },   { "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },           { "no-diff", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },          { "yes", no_argument, NULL, 'y' },
		{ "ci", no_argument, NULL, 'c' },             { "help", no_argument, NULL, 'h' },
		{ "open-pr", no_argument, NULL, 'o' },        { "repo", required_argument, NULL, 'R' },
		{ "draft", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': a->work_dir = optarg; break;
		case 'p': a->push = optarg; break;
		case 'r': a->reason = optarg; break;
		case 'a': a->all = 1; break;
		case 'j': a->json = 1; break;
		case 'n': a->no_diff = 1; break;
		case 'f': a->force = 1; break;
		case 'y': a->yes = 1; break;
		case 'c': a->ci = 1; break;
		case 'h': a->help = 1; break;
		case 'o': a->open_pr = 1; break;
		case 'R': a->repo = optarg; break;
		case 'd': a->draft = 1; break;
		default:
			wd_cli_error("review: unknown or incomplete option '%s'; see 'warden review --help'",
			             argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

static int cache_dir(wd_buf *out, const struct review_args *a)
{
	if (a->work_dir && *a->work_dir)
		return wd_buf_sets(out, a->work_dir);
	return wd_cache_dir(out);
}

static int fail(int rc)
{
	wd_cli_error("%s", wd_error_last());
	return wd_exit_code_for(rc);
}

static wd_review_flags flags_of(const struct review_args *a)
{
	wd_review_flags f = { a->yes, a->ci, wd_cli_interactive() };

	return f;
}

/* Seconds since an ISO 8601 UTC time; -1 when it does not parse. */
static long long age_seconds(const char *iso)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	return (long long)(time(NULL) - timegm(&tm));
}

static void format_age(char *out, size_t n, long long s)
{
	if (s < 0)
		snprintf(out, n, "?");
	else if (s < 120)
		snprintf(out, n, "%llds", s);
	else if (s < 7200)
		snprintf(out, n, "%lldm", s / 60);
	else if (s < 172800)
		snprintf(out, n, "%lldh", s / 3600);
	else
		snprintf(out, n, "%lldd", s / 86400);
}

static int print_json(json_t *v)
{
	int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : -1;

	fputc('\n', stdout);
	json_decref(v);
	return rc;
}

/* ---- list ------------------------------------------------------------ */

static int review_list(const struct review_args *a, const char *cache)
{
	wd_proposal_list l = WD_PROPOSAL_LIST_INIT;
	int rc;

	if ((rc = wd_proposal_list_load(&l, cache, a->all ? -1 : WD_PROPOSAL_OPEN)) != 0)
		return fail(rc);
	for (size_t i = 0; i < l.skipped.n; i++)
		wd_cli_error("skipping an unreadable proposal: %s", l.skipped.v[i]);
	if (a->json) {
		json_t *arr = json_array();

		for (size_t i = 0; arr && i < l.n; i++) {
			json_t *o = wd_proposal_to_json(l.v[i]);

			if (o)
				json_object_set_new(o, "age_seconds", json_integer(age_seconds(l.v[i]->created)));
			json_array_append_new(arr, o);
		}
		wd_proposal_list_free(&l);
		return arr && print_json(arr) == 0 ? WD_EXIT_OK : WD_EXIT_INFRA;
	}
	if (!l.n) {
		printf(a->all ? "no proposals\n" : "no open proposals (see --all)\n");
		wd_proposal_list_free(&l);
		return WD_EXIT_OK;
	}
	printf("%-16s  %5s  %-8s  %-32s  %-24s  %9s\n", "ID", "AGE", "STATUS", "TICKET", "CHECKS", "COST");
	for (size_t i = 0; i < l.n; i++) {
		const wd_proposal *p = l.v[i];
		char age[32], cost[32];
		/* a title is the ticket's text: no escape sequence reaches the terminal */
		char *title = wd_text_clean_line(p->ticket_title ? p->ticket_title : "?");

		format_age(age, sizeof(age), age_seconds(p->created));
		snprintf(cost, sizeof(cost), "$%.4f", p->cost_usd);
		printf("%-16.16s  %5s  %-8s  %-32.32s  %-24.24s  %9s\n", p->id, age,
		       wd_proposal_status_name(p->status), title ? title : "?",
		       p->checks ? p->checks : "-", cost);
		free(title);
	}
	wd_proposal_list_free(&l);
	return WD_EXIT_OK;
}

/* ---- show ------------------------------------------------------------ */

/* The evidence: the git note on the commit, else the copy in the record. */
static json_t *load_evidence(const wd_proposal *p)
{
	wd_buf note = WD_BUF_INIT;
	json_t *ev = NULL;

	if (wd_review_read_note(&note, p->repo, p->commit) == 0)
		ev = json_loads(note.ptr, 0, NULL);
	if (!ev && p->evidence)
		ev = json_loads(p->evidence, 0, NULL);
	wd_buf_free(&note);
	return ev;
}

static void print_evidence(const json_t *ev)
{
	const json_t *checks = json_object_get(ev, "checks"), *c;
	size_t i;

	if (!json_is_array(checks) || !json_array_size(checks)) {
		printf("  (no per-check evidence recorded)\n");
		return;
	}
	json_array_foreach(checks, i, c) {
		const json_t *tp = json_object_get(c, "tests_passed"), *tf = json_object_get(c, "tests_failed");
		/* notes written before the one check schema say exit, ms, output_digest */
		const json_t *ex = json_object_get(c, json_object_get(c, "exit_code") ? "exit_code" : "exit");
		const json_t *ms = json_object_get(c, json_object_get(c, "wall_ms") ? "wall_ms" : "ms");
		const json_t *dg = json_object_get(c, json_object_get(c, "digest") ? "digest" : "output_digest");

		printf("  %-4s %-10s exit %-3lld %6lld ms  %s\n",
		       json_is_true(json_object_get(c, "passed")) ? "pass" : "FAIL",
		       json_string_value(json_object_get(c, "name")) ? json_string_value(json_object_get(c, "name")) : "?",
		       (long long)json_integer_value(ex), (long long)json_integer_value(ms),
		       json_string_value(json_object_get(c, "command")) ? json_string_value(json_object_get(c, "command")) : "");
		if (json_is_integer(tp))
			printf("       tests: %lld passed, %lld failed\n", (long long)json_integer_value(tp),
			       (long long)json_integer_value(tf));
		if (json_is_string(dg))
			printf("       output digest %s\n", json_string_value(dg));
	}
}

static const char *kind_name(wd_merge_kind k)
{
	switch (k) {
	case WD_MERGE_UP_TO_DATE: return "up-to-date";
	case WD_MERGE_FASTFORWARD: return "fast-forward";
	case WD_MERGE_COMMIT: return "merge-commit";
	}
	return "?";
}

/* One line (or a few) saying what approving would do now. */
static void describe_plan(FILE *f, const char *in, const wd_proposal *p, const wd_review_plan *plan)
{
	char tip[13];

	snprintf(tip, sizeof(tip), "%.12s", plan->target_tip);
	switch (plan->kind) {
	case WD_MERGE_UP_TO_DATE:
		fprintf(f, "%s'%s' already contains this commit: approving only records it\n", in, p->target);
		break;
	case WD_MERGE_FASTFORWARD:
		fprintf(f, "%sfast-forward '%s' from %s to %.12s in %s\n", in, p->target, tip, p->commit, p->repo);
		break;
	case WD_MERGE_COMMIT:
		if (plan->conflicts.n) {
			fprintf(f, "%sCONFLICT: merging into '%s' (now %s) conflicts in", in, p->target, tip);
			for (size_t i = 0; i < plan->conflicts.n; i++)
				fprintf(f, " %s", plan->conflicts.v[i]);
			fprintf(f, "; approve will refuse\n");
		} else {
			fprintf(f, "%smerge commit on '%s' (now %s) in %s\n", in, p->target, tip, p->repo);
		}
		if (plan->target_moved)
			fprintf(f, "%snote: '%s' moved since the run's base %.12s: the merged result was never "
			           "checked (approve refuses without --force)\n", in, p->target, p->base);
		break;
	}
	if (plan->workdir)
		fprintf(f, "%s'%s' is checked out in %s%s\n", in, p->target, plan->workdir,
		        plan->workdir_dirty ? " WITH UNCOMMITTED CHANGES (approve will refuse)"
		                            : "; its work tree will follow");
	if (plan->collisions.n) {
		fprintf(f, "%sWOULD OVERWRITE untracked or ignored file(s) there:", in);
		for (size_t i = 0; i < plan->collisions.n; i++)
			fprintf(f, " %s", plan->collisions.v[i]);
		fprintf(f, " (approve will refuse)\n");
	}
	if (plan->branch_moved)
		fprintf(f, "%snote: branch '%s' no longer points at the proposal's commit; the reviewed "
		           "commit %.12s is what gets merged\n", in, p->branch, p->commit);
}

static json_t *plan_json(const wd_review_plan *plan)
{
	json_t *conf = json_array(), *coll = json_array(), *o;

	for (size_t i = 0; conf && i < plan->conflicts.n; i++)
		json_array_append_new(conf, json_string(plan->conflicts.v[i]));
	for (size_t i = 0; coll && i < plan->collisions.n; i++)
		json_array_append_new(coll, json_string(plan->collisions.v[i]));
	o = json_pack("{s:s, s:s, s:b, s:b, s:s?, s:b, s:o, s:o}", "kind", kind_name(plan->kind),
	              "target_tip", plan->target_tip, "target_moved", plan->target_moved,
	              "branch_moved", plan->branch_moved, "workdir", plan->workdir, "workdir_dirty",
	              plan->workdir_dirty, "conflicts", conf ? conf : json_array(), "collisions",
	              coll ? coll : json_array());
	return o;
}

static void print_record(const wd_proposal *p)
{
	char age[32];
	char *title = wd_text_clean_line(p->ticket_title ? p->ticket_title : "?");

	format_age(age, sizeof(age), age_seconds(p->created));
	printf("proposal %s  (%s)\n", p->id, wd_proposal_status_name(p->status));
	printf("ticket:   %s%s%s%s\n", title ? title : "?",
	       p->ticket_path ? "  (" : "", p->ticket_path ? p->ticket_path : "", p->ticket_path ? ")" : "");
	free(title);
	printf("repo:     %s\n", p->repo);
	if (p->source && strcmp(p->source, p->repo) != 0)
		printf("source:   %s\n", p->source);
	printf("branch:   %s\n", p->branch);
	printf("target:   %s  (base %s)\n", p->target, p->base);
	printf("commit:   %s\n", p->commit);
	printf("model:    %s, %d round(s), %lld in / %lld out tokens, $%.4f\n", p->model ? p->model : "?",
	       p->rounds, (long long)p->input_tokens, (long long)p->output_tokens, p->cost_usd);
	printf("created:  %s (%s ago) by %s\n", p->created, age, p->user ? p->user : "?");
	if (p->status != WD_PROPOSAL_OPEN)
		printf("decided:  %s by %s\n", p->decided, p->decided_by ? p->decided_by : "?");
	if (p->reason)
		printf("reason:   %s\n", p->reason);
	if (p->merged[0])
		printf("merged:   %s is now %s\n", p->target, p->merged);
	if (p->pushed_to)
		printf("pushed:   %s\n", p->pushed_to);
	printf("checks:   %s\n", p->checks ? p->checks : "(none recorded)");
}

/* The ticket file as the model was given it, when it is still readable. */
static int read_ticket(wd_buf *out, const wd_proposal *p)
{
	if (!p->ticket_path || wd_file_read(out, p->ticket_path, 1u << 20) != 0)
		return -1;
	return 0;
}

static void set_if_empty(json_t *o, const char *key, const char *value)
{
	const char *v = json_string_value(json_object_get(o, key));

	if ((!v || !*v) && value)
		json_object_set_new(o, key, json_string(value));
}

/* The proposal's run as `warden show` tells it (one renderer for both). What
 * its ledger lacks (the ticket's text in a ledger from before tickets were
 * kept, or no readable ledger at all) comes from the proposal. The diff is
 * left out: review show prints the proposal's commit against its base. */
static json_t *run_story(const wd_proposal *p, const wd_buf *ticket)
{
	json_t *st = NULL, *t;

	if (!p->ledger_path || wd_story_build(&st, p->ledger_path, NULL) != 0) {
		wd_buf why = WD_BUF_INIT;

		wd_buf_printf(&why, "no readable ledger (%s)",
		              p->ledger_path ? wd_error_last() : "the proposal names none");
		st = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:[], s:[], s:[], s:[]}", "run", p->id,
		               "status", wd_proposal_status_name(p->status), "reason", why.ptr,
		               "repo", p->repo, "model", p->model, "baseline", "rounds",
		               "decisions", "alerts");
		wd_buf_free(&why);
		if (!st)
			return NULL;
	}
	if (!json_is_object(t = json_object_get(st, "ticket"))) {
		t = json_object();
		if (!t || json_object_set_new(st, "ticket", t) != 0) {
			json_decref(st);
			return NULL;
		}
	}
	set_if_empty(t, "id", p->ticket_id);
	set_if_empty(t, "title", p->ticket_title);
	set_if_empty(t, "path", p->ticket_path);
	if (ticket->len && !*(json_string_value(json_object_get(t, "body")) ?
	                      json_string_value(json_object_get(t, "body")) : "")) {
		wd_buf body = WD_BUF_INIT;
		size_t n = ticket->len > TICKET_SHOW_MAX ? TICKET_SHOW_MAX : ticket->len;

		/* the file as it is now, redacted as the ledger would have it */
		if (wd_buf_put(&body, ticket->ptr, n) == 0 &&
		    (n == ticket->len || wd_buf_printf(&body, "\n[... %zu more bytes]",
		                                       ticket->len - n) == 0) &&
		    wd_redact_buf(&body) == 0)
			json_object_set_new(t, "body", json_string(wd_buf_cstr(&body)));
		wd_buf_free(&body);
	}
	json_object_del(st, "diff");
	return st;
}

static int review_show(const struct review_args *a, const char *cache, const char *id)
{
	wd_proposal *p = NULL;
	wd_review_plan plan;
	wd_buf diff = WD_BUF_INIT, ticket = WD_BUF_INIT;
	json_t *ev, *story = NULL;
	int rc, have_plan = 0, have_diff = 0;

	memset(&plan, 0, sizeof(plan));
	if ((rc = wd_proposal_load(&p, cache, id)) != 0)
		return fail(rc);
	ev = load_evidence(p);
	if (p->status == WD_PROPOSAL_OPEN)
		have_plan = wd_review_plan_make(&plan, p) == 0;
	if (!a->no_diff)
		have_diff = wd_review_diff(&diff, p) == 0;
	if (!have_diff && !a->no_diff)
		wd_buf_printf(&diff, "(no diff: %s)\n", wd_error_last());
	read_ticket(&ticket, p);
	if (!(story = run_story(p, &ticket))) {
		rc = fail(wd_error_set(WD_ENOMEM, "out of memory"));
		goto out;
	}
	if (a->json) {
		json_t *o = json_object();

		json_object_set_new(o, "proposal", wd_proposal_to_json(p));
		json_object_set_new(o, "evidence", ev ? json_incref(ev) : json_null());
		json_object_set_new(o, "plan", have_plan ? plan_json(&plan) : json_null());
		json_object_set_new(o, "ticket", ticket.len ? json_string(ticket.ptr) : json_null());
		json_object_set_new(o, "run", json_incref(story));
		if (!a->no_diff)
			json_object_set_new(o, "diff", have_diff ? json_string(diff.ptr) : json_null());
		rc = print_json(o) == 0 ? WD_EXIT_OK : WD_EXIT_INFRA;
		goto out;
	}
	print_record(p);
	printf("\n== evidence\n");
	if (ev)
		print_evidence(ev);
	else
		printf("  (none recorded)\n");
	if (have_plan) {
		printf("\n== approving would\n");
		describe_plan(stdout, "  ", p, &plan);
	}
	printf("\n== run (as 'warden show %s' tells it)\n", p->id);
	wd_runs_print_story(stdout, story);
	if (!a->no_diff)
		printf("\n== diff %.12s..%.12s\n%s", p->base, p->commit, wd_buf_cstr(&diff));
	rc = WD_EXIT_OK;
out:
	json_decref(ev);
	json_decref(story);
	if (have_plan)
		wd_review_plan_free(&plan);
	wd_buf_free(&diff);
	wd_buf_free(&ticket);
	wd_proposal_free(p);
	return rc;
}

/* ---- approve / reject ------------------------------------------------ */

/* The branch name of the target, for pushing it. */
static const char *target_branch(const wd_proposal *p)
{
	return strncmp(p->target, "refs/heads/", 11) == 0 ? p->target + 11 : p->target;
}

/* Apply a DENY: say why and map to the exit code (1 when the user's config
 * forbids the step, 2 when nothing allowed it and no terminal could ask). */
static int denied(const char *what, const wd_review_decision *d, const char *after)
{
	wd_cli_error("%s: %s; %s", what, d->reason, after);
	return d->code == WD_EREFUSED ? WD_EXIT_NO : WD_EXIT_USAGE;
}

/* The user's config and proposal `id` for approve and publish; neither on
 * failure. */
static int open_proposal(wd_config **cfg, wd_proposal **p, const char *cache, const char *id)
{
	int rc;

	*p = NULL;
	if ((rc = wd_config_open(cfg, NULL)) != 0)
		return rc;
	if ((rc = wd_proposal_load(p, cache, id)) != 0) {
		wd_config_free(*cfg);
		*cfg = NULL;
	}
	return rc;
}

/* A person's yes to `question`: WD_EXIT_OK to go on, else the exit code
 * once `no_terminal` (nobody to ask) or `declined` (a no) is said. */
static int confirm(const char *question, const char *no_terminal, const char *declined)
{
	int yes = wd_cli_confirm(question);

	if (yes < 0) {
		wd_cli_error("%s", no_terminal);
		return WD_EXIT_USAGE;
	}
	if (!yes) {
		fprintf(stderr, "%s\n", declined);
		return WD_EXIT_NO;
	}
	return WD_EXIT_OK;
}

/* The push is done: the record says so, or the user hears that it could not. */
static void mark_pushed(const char *cache, const char *id, const char *remote)
{
	if (wd_review_mark_pushed(cache, id, remote) != 0)
		wd_cli_error("pushed, but the record could not say so: %s", wd_error_last());
}

/* Can the plan go ahead? (Otherwise approve itself says why not; asking
 * first would only waste the user's answer.) */
static int plan_can_proceed(const wd_review_plan *plan, int force)
{
	if (plan->conflicts.n)
		return 0;
	if (plan->kind == WD_MERGE_UP_TO_DATE)
		return 1;
	if (plan->kind == WD_MERGE_COMMIT && plan->target_moved && !force)
		return 0;
	return !(plan->workdir && (plan->workdir_dirty || plan->collisions.n));
}

static int review_approve(const struct review_args *a, const char *cache, const char *id)
{
	wd_approve_opts o = WD_APPROVE_OPTS_INIT;
	wd_review_flags flags = flags_of(a);
	wd_review_decision merge, push;
	wd_config *cfg = NULL;
	wd_proposal *p = NULL;
	wd_review_plan plan;
	wd_buf q = WD_BUF_INIT;
	int rc, ask_merge, ask_push, have_plan = 0;
	char tip_hex[41];

	memset(&plan, 0, sizeof(plan));
	memset(&push, 0, sizeof(push));
	if ((rc = open_proposal(&cfg, &p, cache, id)) != 0)
		return fail(rc);
	if ((rc = wd_review_policy_decide(&merge, cfg, WD_STEP_MERGE, &flags)) != 0 ||
	    (a->push && (rc = wd_review_policy_decide(&push, cfg, WD_STEP_PUSH, &flags)) != 0)) {
		rc = fail(rc);
		goto out;
	}
	/* The user's config said no: refuse before anything changes. */
	if (a->push && push.verdict == WD_REVIEW_DENY && push.code == WD_EREFUSED) {
		rc = denied("approve", &push, "nothing was changed");
		goto out;
	}
	if (merge.verdict == WD_REVIEW_DENY && merge.code == WD_EREFUSED) {
		rc = denied("approve", &merge, "nothing was changed");
		goto out;
	}
	o.force = a->force;
	o.config = cfg;
	o.then_push = a->push != NULL;
	/* the mirror and separation-of-duties rules are approve's; ask them before a person */
	if ((rc = wd_review_approve_allowed(cache, p, &o)) != 0) {
		rc = fail(rc);
		goto out;
	}
	if (p->status == WD_PROPOSAL_OPEN && wd_review_plan_make(&plan, p) == 0) {
		have_plan = 1;
		if (!a->json) {
			fprintf(stderr, "approving %s (%s):\n", p->id, p->ticket_title ? p->ticket_title : p->branch);
			describe_plan(stderr, "  ", p, &plan);
		}
	}
	/* Ask only when approving can go ahead; otherwise let it say why not.
	 * An open proposal without a plan is asked about all the same. */
	if (p->status == WD_PROPOSAL_OPEN && (!have_plan || plan_can_proceed(&plan, a->force))) {
		if (merge.verdict == WD_REVIEW_DENY) {
			rc = denied("approve", &merge, "nothing was changed");
			goto out;
		}
		if (a->push && push.verdict == WD_REVIEW_DENY) {
			rc = denied("approve", &push, "nothing was changed");
			goto out;
		}
		ask_merge = merge.verdict == WD_REVIEW_ASK;
		ask_push = a->push && push.verdict == WD_REVIEW_ASK;
		if (ask_merge || ask_push) {
			wd_buf_printf(&q, "%s%s%s%s?", ask_merge ? "merge into '" : "",
			              ask_merge ? p->target : "", ask_merge ? "'" : "",
			              ask_push ? (ask_merge ? " and push it" : "push after merging") : "");
			if (ask_push)
				wd_buf_printf(&q, " to %s", a->push);
			rc = confirm(q.ptr, a->push ? "approve: merging and pushing is irreversible and "
			                              "there is no terminal to ask; pass --yes (or --ci)"
			                            : "approve: merging is irreversible and there is no "
			                              "terminal to ask; pass --yes (or --ci)",
			             "not approved; nothing was changed");
			if (rc != WD_EXIT_OK)
				goto out;
		}
	}
	if ((rc = wd_review_approve(tip_hex, cache, p->id, &o)) != 0) {
		rc = fail(rc);
		goto out;
	}
	if (!a->json)
		fprintf(stderr, "approved %s: '%s' is now %s\n", p->id, p->target, tip_hex);
	if (a->push) {
		/* exactly the tip approve recorded, not what the branch says by now */
		if ((rc = wd_review_push_merged(cache, p->id, a->push)) != 0) {
			wd_cli_error("merged, but pushing '%s' to %s failed: %s", target_branch(p), a->push,
			             wd_error_last());
			rc = wd_exit_code_for(rc);
			goto out;
		}
		mark_pushed(cache, p->id, a->push);
		if (!a->json)
			fprintf(stderr, "pushed '%s' to %s\n", target_branch(p), a->push);
	}
	if (a->json)
		print_json(json_pack("{s:s, s:s, s:s, s:s, s:s?}", "status", "approved", "id", p->id,
		                     "target", p->target, "merged", tip_hex, "pushed_to", a->push));
	rc = WD_EXIT_OK;
out:
	if (have_plan)
		wd_review_plan_free(&plan);
	wd_buf_free(&q);
	wd_proposal_free(p);
	wd_config_free(cfg);
	return rc;
}

static int review_reject(const struct review_args *a, const char *cache, const char *id)
{
	wd_proposal *p = NULL;
	int rc;

	if (!a->reason || !*a->reason) {
		wd_cli_error("reject needs --reason TEXT: the model is given it on the next run of the ticket");
		return WD_EXIT_USAGE;
	}
	/* load first so the messages can use the full id */
	if ((rc = wd_proposal_load(&p, cache, id)) != 0 ||
	    (rc = wd_review_reject(cache, p->id, a->reason, NULL)) != 0) {
		wd_proposal_free(p);
		return fail(rc);
	}
	if (a->json)
		print_json(json_pack("{s:s, s:s, s:s, s:s}", "status", "rejected", "id", p->id, "branch",
		                     p->branch, "reason", a->reason));
	else
		fprintf(stderr, "rejected %s: deleted branch '%s'; the reason is kept for the next run of "
		                "this ticket\n", p->id, p->branch);
	wd_proposal_free(p);
	return WD_EXIT_OK;
}

/* The ticket's body for the PR, when the ticket file is still readable. */
static char *ticket_body(const wd_proposal *p)
{
	wd_ticket *t = NULL;
	char *body = NULL;

	if (p->ticket_path && wd_ticket_load(&t, p->ticket_path) == 0)
		body = wd_strdup(wd_ticket_body(t));
	wd_ticket_free(t);
	return body;
}

static int review_publish(const struct review_args *a, const char *cache, const char *id)
{
	wd_pr_opts po = WD_PR_OPTS_INIT;
	wd_review_flags flags = flags_of(a);
	wd_review_decision push, pr;
	wd_config *cfg = NULL;
	wd_proposal *p = NULL;
	wd_buf q = WD_BUF_INIT;
	char *api = NULL, *owner = NULL, *body = NULL, *url = NULL;
	int rc;

	memset(&pr, 0, sizeof(pr));
	if (!a->push || !*a->push) {
		wd_cli_error("publish needs --push REMOTE; see 'warden review --help'");
		return WD_EXIT_USAGE;
	}
	if (a->repo && (!strchr(a->repo, '/') || strchr(a->repo, '/') != strrchr(a->repo, '/'))) {
		wd_cli_error("--repo wants OWNER/REPO, not '%s'", a->repo);
		return WD_EXIT_USAGE;
	}
	if ((rc = open_proposal(&cfg, &p, cache, id)) != 0)
		return fail(rc);
	if ((rc = wd_review_policy_decide(&push, cfg, WD_STEP_PUSH, &flags)) != 0 ||
	    (a->open_pr && (rc = wd_review_policy_decide(&pr, cfg, WD_STEP_PULL_REQUEST, &flags)) != 0)) {
		rc = fail(rc);
		goto out;
	}
	if (p->status != WD_PROPOSAL_OPEN) {
		wd_cli_error("proposal %s is %s; only open proposals are published", p->id,
		             wd_proposal_status_name(p->status));
		rc = WD_EXIT_NO;
		goto out;
	}
	if (push.verdict == WD_REVIEW_DENY || (a->open_pr && pr.verdict == WD_REVIEW_DENY)) {
		rc = denied("publish", push.verdict == WD_REVIEW_DENY ? &push : &pr, "nothing was pushed");
		goto out;
	}
	if (push.verdict == WD_REVIEW_ASK || (a->open_pr && pr.verdict == WD_REVIEW_ASK)) {
		wd_buf_printf(&q, "push '%s' to %s%s?", p->branch, a->push,
		              a->open_pr ? " and open a pull request" : "");
		rc = confirm(q.ptr, "publish: pushing is irreversible and there is no terminal to ask; "
		                    "pass --yes (or --ci), or set push.allowed = true in your config",
		             "not published; nothing was pushed");
		if (rc != WD_EXIT_OK)
			goto out;
	}
	/* the recorded commit, refused when the branch has moved away from it */
	if ((rc = wd_review_push_proposal(cache, p->id, a->push)) != 0) {
		rc = fail(rc);
		goto out;
	}
	mark_pushed(cache, p->id, a->push);
	if (!a->json)
		fprintf(stderr, "pushed '%s' (%.12s) to %s\n", p->branch, p->commit, a->push);
	if (a->open_pr) {
		if (wd_config_get_string(&api, cfg, "github.apiUrl") != 0)
			api = NULL;
		if (a->repo) {
			owner = wd_strndup(a->repo, (size_t)(strchr(a->repo, '/') - a->repo));
			po.owner = owner;
			po.repo = strchr(a->repo, '/') + 1;
		}
		po.api_url = api;
		po.draft = a->draft;
		body = ticket_body(p);
		if ((rc = wd_review_open_pr_for(&url, cache, p->id, a->push, body, &po)) != 0) {
			wd_cli_error("pushed, but opening the pull request failed: %s", wd_error_last());
			rc = wd_exit_code_for(rc);
			goto out;
		}
		if (!a->json)
			fprintf(stderr, "opened %s\n", url);
	}
	if (a->json)
		print_json(json_pack("{s:s, s:s, s:s, s:s, s:s?}", "status", "published", "id", p->id,
		                     "branch", p->branch, "pushed_to", a->push, "pr_url", url));
	else if (url)
		printf("%s\n", url);
	rc = WD_EXIT_OK;
out:
	free(api);
	free(owner);
	free(body);
	free(url);
	wd_buf_free(&q);
	wd_proposal_free(p);
	wd_config_free(cfg);
	return rc;
}

int cmd_review(int argc, char **argv)
{
	struct review_args a;
	wd_buf cache = WD_BUF_INIT;
	const char *sub, *id = NULL;
	int rc, nargs;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return WD_EXIT_USAGE;
	}
	sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		fputs(usage_text, stdout);
		return WD_EXIT_OK;
	}
	if (parse_args(&a, argc - 1, argv + 1) < 0)
		return WD_EXIT_USAGE;
	if (a.help) {
		fputs(usage_text, stdout);
		return WD_EXIT_OK;
	}
	nargs = argc - 1 - optind;
	if (nargs > 0)
		id = argv[1 + optind];
	if (strcmp(sub, "list") != 0 && nargs != 1) {
		wd_cli_error("review %s needs exactly one proposal ID; see 'warden review --help'", sub);
		return WD_EXIT_USAGE;
	}
	if (!strcmp(sub, "list") && nargs != 0) {
		wd_cli_error("review list takes no arguments; see 'warden review --help'");
		return WD_EXIT_USAGE;
	}
	if ((rc = cache_dir(&cache, &a)) != 0)
		return fail(rc);
	if (!strcmp(sub, "list"))
		rc = review_list(&a, cache.ptr);
	else if (!strcmp(sub, "show"))
		rc = review_show(&a, cache.ptr, id);
	else if (!strcmp(sub, "approve"))
		rc = review_approve(&a, cache.ptr, id);
	else if (!strcmp(sub, "reject"))
		rc = review_reject(&a, cache.ptr, id);
	else if (!strcmp(sub, "publish"))
		rc = review_publish(&a, cache.ptr, id);
	else {
		wd_cli_error("'%s' is not a review command (list, show, approve, reject, publish)", sub);
		rc = WD_EXIT_USAGE;
	}
	wd_buf_free(&cache);
	return rc;
}
