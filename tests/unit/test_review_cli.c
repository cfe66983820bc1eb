/* `warden review` as a user runs it: the built binary, its output and exit codes. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <git2.h>
#include <jansson.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/review.h"
#include "fixture.h"
#include "githttp.h"
#include "mockhttp.h"

#define RUN_ID "1a2b3c4d5e6f7a8b"
#define BRANCH "warden/fix-add-1a2b3c4d"

static char warden[PATH_MAX + 16];
static char *tmp;
static char cache[4096], src[4096], cfg[4200], env_cache[4300], env_cfg[4300];
static char supp[4200], env_lsan[4300];
static char base_hex[41], commit_hex[41];

/* The binary of the same build: $WARDEN_BIN, else <build>/warden beside <build>/tests/. */
static void find_warden(void)
{
	const char *env = getenv("WARDEN_BIN");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(warden, sizeof(warden), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	slash = strrchr(self, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = '\0';
	snprintf(warden, sizeof(warden), "%s/../warden", self);
	ck_assert_msg(access(warden, X_OK) == 0, "no warden binary at %s (make tests builds it)", warden);
}

/* Run warden with args (NULL-terminated) and extra "K=V" settings (up to
 * 4, NULL-terminated, may be NULL); output in *out (may be NULL). */
static int wdv(char **out, const char *const *extra, const char *const *args)
{
	const char *argv[16];
	const char *env[10] = { env_cache, env_cfg, env_lsan, "WARDEN_USER=bob", NULL };
	size_t n = 0, e = 4;
	int st = -1;

	for (size_t i = 0; extra && extra[i] && e < 9; i++)
		env[e++] = extra[i];
	env[e] = NULL;

	argv[n++] = warden;
	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_eq(fx_run(out, &st, argv, env, NULL), 0);
	return st;
}

static int wd(char **out, const char *extra_env, const char *const *args)
{
	const char *extra[] = { extra_env, NULL };

	return wdv(out, extra, args);
}

static void setup(void)
{
	static const char *const files[] = { "calc.c", "int add(int a, int b) { return a - b; }\n", NULL };
	static const char *const fix[] = { "calc.c", "int add(int a, int b) { return a + b; }\n", NULL };
	char ticket[4200], ledger[4200];
	const char *const co[] = { "git", "-C", src, "checkout", "-q", "-b", BRANCH, NULL };
	const char *const back[] = { "git", "-C", src, "checkout", "-q", "main", NULL };
	wd_proposal *p = NULL;
	int st;

	git_libgit2_init();
	find_warden();
	ck_assert_int_eq(fx_tmpdir(&tmp), 0);
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	snprintf(src, sizeof(src), "%s/src", tmp);
	snprintf(cfg, sizeof(cfg), "%s/warden.config", tmp);
	snprintf(env_cache, sizeof(env_cache), "WARDEN_CACHE_DIR=%s", cache);
	snprintf(env_cfg, sizeof(env_cfg), "WARDEN_CONFIG=%s", cfg);
	ck_assert_int_eq(fx_write_file(cfg, ""), 0); /* WARDEN_CONFIG must name a file */
	/* under ASan, the binary meets libgit2 1.5.1's pcre2 leak too (see fixture.c) */
	snprintf(supp, sizeof(supp), "%s/lsan.supp", tmp);
	snprintf(env_lsan, sizeof(env_lsan), "LSAN_OPTIONS=suppressions=%s:print_suppressions=0", supp);
	ck_assert_int_eq(fx_write_file(supp, "leak:libpcre2-8.so\n"), 0);
	ck_assert_int_eq(fx_repo_create(src, files, "initial"), 0);
	ck_assert_int_eq(fx_repo_rev(base_hex, src, "main"), 0);
	ck_assert_int_eq(fx_run(NULL, &st, co, NULL, NULL), 0);
	ck_assert_int_eq(fx_repo_commit_files(src, fix, "Fix add"), 0);
	ck_assert_int_eq(fx_repo_rev(commit_hex, src, BRANCH), 0);
	ck_assert_int_eq(fx_run(NULL, &st, back, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);

	snprintf(ticket, sizeof(ticket), "%s/fix-add.md", tmp);
	ck_assert_int_eq(fx_write_file(ticket, "# Fix add()\n\nadd() subtracts; make it add.\n"), 0);
	snprintf(ledger, sizeof(ledger), "%s/ledger.jsonl", tmp);
	ck_assert_int_eq(fx_write_file(ledger,
		"{\"seq\":0,\"ts\":\"2026-11-25T08:00:00.000Z\",\"run\":\"" RUN_ID "\",\"type\":\"run.start\"}\n"
		"{\"seq\":1,\"ts\":\"2026-11-25T08:00:02.000Z\",\"run\":\"" RUN_ID "\",\"type\":\"model.call\","
		"\"round\":1,\"reply\":\"The bug is the minus sign;\\nhere is the diff.\"}\n"), 0);

	ck_assert_int_eq(wd_proposal_new(&p), 0);
	p->id = strdup(RUN_ID);
	p->ticket_title = strdup("Fix add()");
	p->ticket_id = strdup("ticket-1");
	p->ticket_path = strdup(ticket);
	p->repo = strdup(src);
	p->branch = strdup(BRANCH);
	p->target = strdup("main");
	memcpy(p->base, base_hex, 41);
	memcpy(p->commit, commit_hex, 41);
	p->model = strdup("replay:fix.txt");
	p->checks = strdup("test=pass 3/3");
	p->evidence = strdup("{\"checks\":[{\"name\":\"test\",\"command\":\"make test\",\"exit\":0,"
	                     "\"passed\":true,\"ms\":41}]}");
	p->ledger_path = strdup(ledger);
	free(p->user);
	p->user = strdup("alice");
	p->cost_usd = 0.0125;
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	wd_proposal_free(p);
}

static void teardown(void)
{
	fx_rm_rf(tmp);
	free(tmp);
	tmp = NULL;
	git_libgit2_shutdown();
}

static void assert_has(const char *out, const char *want)
{
	ck_assert_msg(out && strstr(out, want), "output lacks '%s':\n%s", want, out ? out : "(null)");
}

static void main_is(const char *want)
{
	char now[41];

	ck_assert_int_eq(fx_repo_rev(now, src, "main"), 0);
	ck_assert_str_eq(now, want);
}

START_TEST(list_shows_open_proposals_with_ticket_checks_and_cost)
{
	static const char *const list[] = { "review", "list", NULL };
	static const char *const json[] = { "review", "list", "--json", NULL };
	char *out = NULL;
	json_t *arr;

	ck_assert_int_eq(wd(&out, NULL, list), WD_EXIT_OK);
	assert_has(out, RUN_ID);
	assert_has(out, "Fix add()");
	assert_has(out, "test=pass 3/3");
	assert_has(out, "$0.0125");
	assert_has(out, "open");
	free(out);
	ck_assert_int_eq(wd(&out, NULL, json), WD_EXIT_OK);
	arr = json_loads(out, 0, NULL);
	ck_assert_msg(json_is_array(arr), "%s", out);
	ck_assert_uint_eq(json_array_size(arr), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "id")), RUN_ID);
	ck_assert(json_is_integer(json_object_get(json_array_get(arr, 0), "age_seconds")));
	json_decref(arr);
	free(out);
}
END_TEST

START_TEST(show_prints_evidence_plan_ticket_ledger_and_diff)
{
	static const char *const show[] = { "review", "show", "1a2b", NULL };
	static const char *const json[] = { "review", "show", RUN_ID, "--json", NULL };
	char *out = NULL;
	json_t *o;

	ck_assert_int_eq(wd(&out, NULL, show), WD_EXIT_OK);
	assert_has(out, "proposal " RUN_ID "  (open)");
	assert_has(out, "pass test");
	assert_has(out, "make test");
	assert_has(out, "fast-forward 'main'");
	assert_has(out, "add() subtracts; make it add.");
	assert_has(out, "| The bug is the minus sign;\n    | here is the diff.");
	assert_has(out, "+int add(int a, int b) { return a + b; }");
	free(out);
	ck_assert_int_eq(wd(&out, NULL, json), WD_EXIT_OK);
	o = json_loads(out, 0, NULL);
	ck_assert_msg(json_is_object(o), "%s", out);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "proposal"), "commit")),
	                 commit_hex);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "plan"), "kind")),
	                 "fast-forward");
	ck_assert(json_is_array(json_object_get(json_object_get(o, "evidence"), "checks")));
	assert_has(json_string_value(json_object_get(o, "diff")), "calc.c");
	json_decref(o);
	free(out);
}
END_TEST

START_TEST(approve_without_a_terminal_needs_yes_and_changes_nothing)
{
	static const char *const approve[] = { "review", "approve", RUN_ID, NULL };
	char *out = NULL;

	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_USAGE);
	assert_has(out, "--yes");
	main_is(base_hex);
	free(out);
}
END_TEST

/* Answer `answer` to warden's question on a terminal: script(1) gives the
 * command a pty and forwards our stdin to it. */
static int on_terminal(char **out, const char *answer, const char *args)
{
	char cmd[8192];
	const char *argv[] = { "sh", "-c", cmd, NULL };
	const char *env[] = { env_cache, env_cfg, env_lsan, "WARDEN_USER=bob", NULL };
	int st = -1;

	snprintf(cmd, sizeof(cmd), "printf '%s\\n' | script -qec '%s %s' /dev/null", answer, warden, args);
	ck_assert_int_eq(fx_run(out, &st, argv, env, NULL), 0);
	return st;
}

START_TEST(approve_on_a_terminal_asks_and_respects_the_answer)
{
	char *out = NULL;

	ck_assert_int_eq(on_terminal(&out, "n", "review approve " RUN_ID), WD_EXIT_NO);
	assert_has(out, "merge into 'main'? [y/N]");
	assert_has(out, "not approved; nothing was changed");
	main_is(base_hex);
	free(out);
	ck_assert_int_eq(on_terminal(&out, "y", "review approve " RUN_ID), WD_EXIT_OK);
	assert_has(out, "approved " RUN_ID);
	main_is(commit_hex);
	free(out);
}
END_TEST

START_TEST(auto_approve_policy_merges_without_asking)
{
	static const char *const approve[] = { "review", "approve", RUN_ID, NULL };
	char *out = NULL;

	ck_assert_int_eq(fx_write_file(cfg, "[review]\n\tautoApprove = true\n"), 0);
	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_OK);
	assert_has(out, "approved " RUN_ID);
	main_is(commit_hex);
	free(out);
}
END_TEST

START_TEST(approve_yes_push_merges_and_pushes_the_target)
{
	char remote[4200], *out = NULL, got[41];
	const char *const init[] = { "git", "init", "-q", "--bare", remote, NULL };
	const char *const approve[] = { "review", "approve", RUN_ID, "--yes", "--push", remote, "--json", NULL };
	wd_proposal *p = NULL;
	json_t *o;
	int st;

	snprintf(remote, sizeof(remote), "%s/remote.git", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, init, NULL, NULL), 0);
	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_OK);
	o = json_loads(out, 0, NULL);
	ck_assert_msg(o != NULL, "%s", out);
	ck_assert_str_eq(json_string_value(json_object_get(o, "merged")), commit_hex);
	json_decref(o);
	main_is(commit_hex);
	ck_assert_int_eq(fx_repo_rev(got, remote, "main"), 0);
	ck_assert_str_eq(got, commit_hex);
	ck_assert_int_eq(wd_proposal_load(&p, cache, RUN_ID), 0);
	ck_assert_int_eq(p->status, WD_PROPOSAL_APPROVED);
	ck_assert_str_eq(p->pushed_to, remote);
	wd_proposal_free(p);
	free(out);
}
END_TEST

START_TEST(push_allowed_false_refuses_before_merging)
{
	const char *const approve[] = { "review", "approve", RUN_ID, "--yes", "--push", "/nowhere.git", NULL };
	char *out = NULL;

	ck_assert_int_eq(fx_write_file(cfg, "[push]\n\tallowed = false\n"), 0);
	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_NO);
	assert_has(out, "push.allowed = false");
	main_is(base_hex);
	free(out);
}
END_TEST

START_TEST(a_policy_that_is_not_a_boolean_is_an_error)
{
	static const char *const approve[] = { "review", "approve", RUN_ID, "--yes", NULL };
	char *out = NULL;

	ck_assert_int_eq(fx_write_file(cfg, "[review]\n\tseparateDuties = maybe\n"), 0);
	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_USAGE);
	assert_has(out, "review.separateDuties: failed to parse 'maybe'");
	main_is(base_hex);
	free(out);
}
END_TEST

START_TEST(separate_duties_policy_refuses_the_runs_author)
{
	static const char *const approve[] = { "review", "approve", RUN_ID, "--yes", NULL };
	char *out = NULL;

	ck_assert_int_eq(fx_write_file(cfg, "[review]\n\tseparateDuties = true\n"), 0);
	ck_assert_int_eq(wd(&out, "WARDEN_USER=alice", approve), WD_EXIT_NO);
	assert_has(out, "separation of duties");
	main_is(base_hex);
	free(out);
	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_OK); /* bob may */
	main_is(commit_hex);
	free(out);
}
END_TEST

START_TEST(approve_on_a_moved_target_exits_1_and_says_checks_must_rerun)
{
	static const char *const other[] = { "README", "docs\n", NULL };
	static const char *const approve[] = { "review", "approve", RUN_ID, "--yes", NULL };
	static const char *const forced[] = { "review", "approve", RUN_ID, "--yes", "--force", NULL };
	char moved[41], *out = NULL;

	ck_assert_int_eq(fx_repo_commit_files(src, other, "docs"), 0);
	ck_assert_int_eq(fx_repo_rev(moved, src, "main"), 0);
	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_NO);
	assert_has(out, "checks must re-run");
	main_is(moved);
	free(out);
	ck_assert_int_eq(wd(&out, NULL, forced), WD_EXIT_OK);
	free(out);
	ck_assert_int_eq(fx_repo_rev(moved, src, "main^2"), 0); /* a merge commit */
	ck_assert_str_eq(moved, commit_hex);
}
END_TEST

START_TEST(reject_needs_a_reason_then_deletes_the_branch)
{
	static const char *const bare[] = { "review", "reject", RUN_ID, NULL };
	static const char *const reject[] = { "review", "reject", RUN_ID, "--reason", "wrong function", NULL };
	static const char *const all[] = { "review", "list", "--all", NULL };
	static const char *const open[] = { "review", "list", NULL };
	char *out = NULL, tip[41];

	ck_assert_int_eq(wd(&out, NULL, bare), WD_EXIT_USAGE);
	assert_has(out, "--reason");
	free(out);
	ck_assert_int_eq(wd(&out, NULL, reject), WD_EXIT_OK);
	assert_has(out, "rejected " RUN_ID);
	free(out);
	ck_assert_int_ne(fx_repo_rev(tip, src, BRANCH), 0);
	ck_assert_int_eq(wd(&out, NULL, open), WD_EXIT_OK);
	assert_has(out, "no open proposals");
	free(out);
	ck_assert_int_eq(wd(&out, NULL, all), WD_EXIT_OK);
	assert_has(out, "rejected");
	free(out);
}
END_TEST

START_TEST(publish_pushes_the_branch_and_opens_a_pull_request)
{
	githttp_server *g = NULL;
	mock_server *m = NULL;
	char srv[4200], bare[4200], remote[512], api[300], *out = NULL, got[41];
	const char *init[] = { "git", "init", "-q", "--bare", bare, NULL };
	const char *args[] = { "review", "publish", RUN_ID, "--push", remote, "--open-pr", "--yes", NULL };
	const char *extra[] = { api, "GITHUB_TOKEN=ghp_0123456789abcdefghij0123456789abcdef", NULL };
	wd_proposal *p = NULL;
	json_t *body;
	int st;

	snprintf(srv, sizeof(srv), "%s/srv", tmp);
	snprintf(bare, sizeof(bare), "%s/srv/acme/calc.git", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, init, NULL, NULL), 0);
	ck_assert_int_eq(githttp_start(&g, srv, NULL, NULL), 0);
	ck_assert_int_eq(mock_start(&m), 0);
	mock_push_json(m, 201, "{\"number\":3,\"html_url\":\"https://github.com/acme/calc/pull/3\"}");
	snprintf(remote, sizeof(remote), "%s/acme/calc.git", githttp_url(g));
	snprintf(api, sizeof(api), "GITHUB_API_URL=%s", mock_url(m));

	ck_assert_int_eq(wdv(&out, extra, args), WD_EXIT_OK);
	assert_has(out, "https://github.com/acme/calc/pull/3");
	ck_assert_int_eq(fx_repo_rev(got, bare, BRANCH), 0);
	ck_assert_str_eq(got, commit_hex);
	main_is(base_hex); /* publishing merges nothing */
	ck_assert_uint_eq(mock_request_count(m), 1);
	ck_assert_str_eq(mock_request_path(m, 0), "/repos/acme/calc/pulls");
	body = json_loads(mock_request_body(m, 0), 0, NULL);
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(json_string_value(json_object_get(body, "title")), "Fix add()");
	ck_assert_str_eq(json_string_value(json_object_get(body, "head")), BRANCH);
	ck_assert_str_eq(json_string_value(json_object_get(body, "base")), "main");
	assert_has(json_string_value(json_object_get(body, "body")), "add() subtracts; make it add.");
	assert_has(json_string_value(json_object_get(body, "body")), "| test | pass 3/3 |");
	assert_has(json_string_value(json_object_get(body, "body")), "| Cost | $0.0125 |");
	json_decref(body);
	ck_assert_int_eq(wd_proposal_load(&p, cache, RUN_ID), 0);
	ck_assert_str_eq(p->pr_url, "https://github.com/acme/calc/pull/3");
	ck_assert_str_eq(p->pushed_to, remote);
	ck_assert_int_eq(p->status, WD_PROPOSAL_OPEN);
	wd_proposal_free(p);
	free(out);
	mock_stop(m);
	githttp_stop(g);
}
END_TEST

START_TEST(publish_that_github_refuses_says_why_after_pushing)
{
	mock_server *m = NULL;
	char bare[4200], api[300], *out = NULL;
	const char *init[] = { "git", "init", "-q", "--bare", bare, NULL };
	const char *args[] = { "review", "publish", RUN_ID, "--push", bare, "--open-pr", "--repo",
	                       "acme/calc", "--ci", NULL };
	const char *extra[] = { api, "GITHUB_TOKEN=ghp_0123456789abcdefghij0123456789abcdef", NULL };
	int st;

	snprintf(bare, sizeof(bare), "%s/remote.git", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, init, NULL, NULL), 0);
	ck_assert_int_eq(mock_start(&m), 0);
	mock_push_json(m, 401, "{\"message\":\"Bad credentials\"}");
	snprintf(api, sizeof(api), "GITHUB_API_URL=%s", mock_url(m));
	ck_assert_int_eq(wdv(&out, extra, args), WD_EXIT_NO);
	assert_has(out, "pushed, but opening the pull request failed");
	assert_has(out, "401 Bad credentials");
	ck_assert_ptr_null(strstr(out, "ghp_0123456789"));
	free(out);
	mock_stop(m);
}
END_TEST

START_TEST(approving_in_warden_mirror_needs_a_push)
{
	char mirror[4200], remote[4200], got[41], *out = NULL;
	const char *const clone[] = { "git", "clone", "-q", "--bare", src, mirror, NULL };
	const char *const clone2[] = { "git", "clone", "-q", "--bare", src, remote, NULL };
	const char *const approve[] = { "review", "approve", RUN_ID, "--yes", NULL };
	const char *const pushed[] = { "review", "approve", RUN_ID, "--yes", "--push", remote, NULL };
	wd_proposal *p = NULL;
	int st;

	snprintf(mirror, sizeof(mirror), "%s/mirrors/abc.git", cache);
	snprintf(remote, sizeof(remote), "%s/upstream.git", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, clone, NULL, NULL), 0);
	ck_assert_int_eq(fx_run(NULL, &st, clone2, NULL, NULL), 0);
	ck_assert_int_eq(wd_proposal_load(&p, cache, RUN_ID), 0);
	free(p->repo);
	p->repo = strdup(mirror);
	free(p->source);
	p->source = strdup("https://example.com/acme/calc.git");
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	wd_proposal_free(p);

	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_USAGE);
	assert_has(out, "warden's mirror of https://example.com/acme/calc.git");
	free(out);
	ck_assert_int_eq(fx_repo_rev(got, mirror, "main"), 0);
	ck_assert_str_eq(got, base_hex);
	ck_assert_int_eq(wd(&out, NULL, pushed), WD_EXIT_OK);
	free(out);
	ck_assert_int_eq(fx_repo_rev(got, remote, "main"), 0);
	ck_assert_str_eq(got, commit_hex);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	static const char *const none[] = { "review", "show", "ffff", NULL };
	static const char *const bad[] = { "review", "merge", RUN_ID, NULL };
	static const char *const noid[] = { "review", "approve", NULL };
	static const char *const flag[] = { "review", "list", "--bogus", NULL };
	static const char *const help[] = { "review", "--help", NULL };
	static const char *const nopush[] = { "review", "publish", RUN_ID, "--yes", NULL };
	char *out = NULL;

	ck_assert_int_eq(wd(&out, NULL, none), WD_EXIT_USAGE);
	assert_has(out, "no proposal 'ffff'");
	free(out);
	ck_assert_int_eq(wd(&out, NULL, bad), WD_EXIT_USAGE);
	free(out);
	ck_assert_int_eq(wd(&out, NULL, noid), WD_EXIT_USAGE);
	free(out);
	ck_assert_int_eq(wd(&out, NULL, flag), WD_EXIT_USAGE);
	free(out);
	ck_assert_int_eq(wd(&out, NULL, nopush), WD_EXIT_USAGE);
	assert_has(out, "--push REMOTE");
	free(out);
	ck_assert_int_eq(wd(&out, NULL, help), WD_EXIT_OK);
	assert_has(out, "review.separateDuties");
	free(out);
}
END_TEST

/* ---- the pushed commit is the checked one ------------------------------ */

/* Move BRANCH in the user's repository to a new, unchecked commit on top. */
static void move_branch_to_unchecked_commit(char out[41])
{
	const char *const co[] = { "git", "-C", src, "checkout", "-q", BRANCH, NULL };
	const char *const back[] = { "git", "-C", src, "checkout", "-q", "main", NULL };
	static const char *const evil[] = { "calc.c", "int add(int a, int b) { return a + b; } /* + backdoor */\n",
		                            NULL };
	int st;

	ck_assert_int_eq(fx_run(NULL, &st, co, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(fx_repo_commit_files(src, evil, "not checked"), 0);
	ck_assert_int_eq(fx_repo_rev(out, src, BRANCH), 0);
	ck_assert_int_eq(fx_run(NULL, &st, back, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_str_ne(out, commit_hex);
}

START_TEST(publish_pushes_the_checked_commit_never_a_moved_branch)
{
	char moved[41], bare[4200], plain[4200], got[41], *out = NULL;
	const char *const init[] = { "git", "init", "-q", "--bare", bare, NULL };
	const char *const init2[] = { "git", "init", "-q", "--bare", plain, NULL };
	const char *const git_push[] = { "git", "-C", src, "push", "-q", plain, BRANCH, NULL };
	const char *const args[] = { "review", "publish", RUN_ID, "--push", bare, "--yes", NULL };
	const char *reset[] = { "git", "-C", src, "update-ref", "refs/heads/" BRANCH, commit_hex, NULL };
	int st;

	snprintf(bare, sizeof(bare), "%s/remote.git", tmp);
	snprintf(plain, sizeof(plain), "%s/plain.git", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, init, NULL, NULL), 0);
	ck_assert_int_eq(fx_run(NULL, &st, init2, NULL, NULL), 0);
	move_branch_to_unchecked_commit(moved);

	/* control, the unprotected path: pushing "the branch" sends the unchecked commit */
	ck_assert_int_eq(fx_run(NULL, &st, git_push, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(fx_repo_rev(got, plain, BRANCH), 0);
	ck_assert_str_eq(got, moved);

	/* warden refuses: the branch no longer points at what the checks passed */
	ck_assert_int_eq(wd(&out, NULL, args), WD_EXIT_NO);
	assert_has(out, "moved");
	assert_has(out, "nothing was pushed");
	ck_assert_int_ne(fx_repo_rev(got, bare, BRANCH), 0);
	free(out);

	/* with the branch back at the checked commit, that commit is what goes out */
	ck_assert_int_eq(fx_run(NULL, &st, reset, NULL, NULL), 0);
	ck_assert_int_eq(wd(&out, NULL, args), WD_EXIT_OK);
	ck_assert_int_eq(fx_repo_rev(got, bare, BRANCH), 0);
	ck_assert_str_eq(got, commit_hex);
	free(out);
}
END_TEST

/* ---- approve never overwrites the user's untracked or ignored files ---- */

#define ENV_ID "5e5e5e5e5e5e5e5e"
#define ENV_BRANCH "warden/add-env-5e5e5e5e"

/* main ignores .env; a proposal adds one (as a model's patch could). */
static void propose_an_env_file(char proposal_hex[41])
{
	static const char *const ignore[] = { ".gitignore", ".env\n", NULL };
	const char *const co[] = { "git", "-C", src, "checkout", "-q", "-b", ENV_BRANCH, NULL };
	const char *const add[] = { "git", "-C", src, "add", "-f", ".env", NULL };
	const char *const commit[] = { "git", "-C", src, "-c", "user.name=m", "-c", "user.email=m@x",
	                               "commit", "-q", "-m", "add .env", NULL };
	const char *const back[] = { "git", "-C", src, "checkout", "-q", "main", NULL };
	char env_path[4200], main_hex[41];
	wd_proposal *p = NULL;
	int st;

	ck_assert_int_eq(fx_repo_commit_files(src, ignore, "ignore .env"), 0);
	ck_assert_int_eq(fx_repo_rev(main_hex, src, "main"), 0);
	ck_assert_int_eq(fx_run(NULL, &st, co, NULL, NULL), 0);
	snprintf(env_path, sizeof(env_path), "%s/.env", src);
	ck_assert_int_eq(fx_write_file(env_path, "API_KEY=from-the-model\n"), 0);
	ck_assert_int_eq(fx_run(NULL, &st, add, NULL, NULL), 0);
	ck_assert_int_eq(fx_run(NULL, &st, commit, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(fx_repo_rev(proposal_hex, src, ENV_BRANCH), 0);
	ck_assert_int_eq(fx_run(NULL, &st, back, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(wd_proposal_load(&p, cache, RUN_ID), 0);
	free(p->id);
	p->id = strdup(ENV_ID);
	free(p->branch);
	p->branch = strdup(ENV_BRANCH);
	memcpy(p->base, main_hex, 41);
	memcpy(p->commit, proposal_hex, 41);
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	wd_proposal_free(p);
}

START_TEST(approve_refuses_to_overwrite_an_ignored_file_and_changes_nothing)
{
	static const char *const approve[] = { "review", "approve", ENV_ID, "--yes", NULL };
	char proposal[41], main_before[41], env_path[4200], copy[4200];
	char *before = NULL, *after = NULL, *out = NULL, *text = NULL;
	const char *const cp[] = { "cp", "-a", src, copy, NULL };
	git_repository *r = NULL;
	git_object *c = NULL;
	git_checkout_options co;
	int st;

	propose_an_env_file(proposal);
	ck_assert_int_eq(fx_repo_rev(main_before, src, "main"), 0);
	snprintf(env_path, sizeof(env_path), "%s/.env", src);
	ck_assert_int_eq(fx_write_file(env_path, "API_KEY=the-users-real-secret\n"), 0);
	ck_assert_int_eq(fx_snapshot(&before, src), 0);

	/* control, the unprotected path: a plain safe checkout (what approve
	 * did) replaces the ignored file without a word */
	snprintf(copy, sizeof(copy), "%s/copy", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, cp, NULL, NULL), 0);
	ck_assert_int_eq(git_repository_open(&r, copy), 0);
	ck_assert_int_eq(git_revparse_single(&c, r, ENV_BRANCH), 0);
	ck_assert_int_eq(git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION), 0);
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	ck_assert_int_eq(git_checkout_tree(r, c, &co), 0);
	git_object_free(c);
	git_repository_free(r);
	snprintf(copy, sizeof(copy), "%s/copy/.env", tmp);
	ck_assert_int_eq(fx_read_file(&text, copy), 0);
	ck_assert_str_eq(text, "API_KEY=from-the-model\n");
	free(text);

	/* warden names the collision and stops: branch, index, work tree as before */
	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_NO);
	assert_has(out, ".env");
	assert_has(out, "nothing was changed");
	ck_assert_int_eq(fx_snapshot(&after, src), 0);
	ck_assert_str_eq(before, after);
	main_is(main_before);
	ck_assert_int_eq(fx_read_file(&text, env_path), 0);
	ck_assert_str_eq(text, "API_KEY=the-users-real-secret\n");
	free(text);
	free(out);
	free(after);

	/* show says so before anyone approves */
	{
		static const char *const show[] = { "review", "show", ENV_ID, "--no-diff", NULL };

		ck_assert_int_eq(wd(&out, NULL, show), WD_EXIT_OK);
		assert_has(out, "WOULD OVERWRITE");
		free(out);
	}
	/* with the user's file moved away, the same approval goes through */
	ck_assert_int_eq(unlink(env_path), 0);
	ck_assert_int_eq(wd(&out, NULL, approve), WD_EXIT_OK);
	main_is(proposal);
	free(out);
	free(before);
}
END_TEST

/* ---- one policy: an explicit false wins over --yes and --ci ----------- */

START_TEST(push_allowed_false_refuses_publish_and_pull_request_even_with_yes_or_ci)
{
	static const char *const flags[] = { "--yes", "--ci" };
	mock_server *m = NULL;
	char bare[4200], api[300], got[41], *out = NULL;
	const char *init[] = { "git", "init", "-q", "--bare", bare, NULL };
	const char *extra[] = { api, "GITHUB_TOKEN=ghp_0123456789abcdefghij0123456789abcdef", NULL };
	int st;

	snprintf(bare, sizeof(bare), "%s/remote.git", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, init, NULL, NULL), 0);
	ck_assert_int_eq(mock_start(&m), 0);
	snprintf(api, sizeof(api), "GITHUB_API_URL=%s", mock_url(m));
	ck_assert_int_eq(fx_write_file(cfg, "[push]\n\tallowed = false\n"), 0);
	for (size_t i = 0; i < 2; i++) {
		const char *push[] = { "review", "publish", RUN_ID, "--push", bare, flags[i], NULL };
		const char *pr[] = { "review", "publish", RUN_ID, "--push", bare, "--open-pr", "--repo",
		                     "acme/calc", flags[i], NULL };
		const char *merge_push[] = { "review", "approve", RUN_ID, "--push", bare, flags[i], NULL };

		ck_assert_int_eq(wdv(&out, extra, push), WD_EXIT_NO);
		assert_has(out, "push.allowed = false");
		free(out);
		ck_assert_int_eq(wdv(&out, extra, pr), WD_EXIT_NO);
		free(out);
		ck_assert_int_eq(wdv(&out, extra, merge_push), WD_EXIT_NO);
		free(out);
	}
	ck_assert_int_ne(fx_repo_rev(got, bare, BRANCH), 0);
	ck_assert_int_ne(fx_repo_rev(got, bare, "main"), 0);
	ck_assert_uint_eq(mock_request_count(m), 0);
	main_is(base_hex);
	mock_stop(m);
}
END_TEST

START_TEST(auto_approve_false_wins_over_yes_and_ci)
{
	static const char *const yes[] = { "review", "approve", RUN_ID, "--yes", NULL };
	static const char *const ci[] = { "review", "approve", RUN_ID, "--ci", NULL };
	char *out = NULL;

	ck_assert_int_eq(fx_write_file(cfg, "[review]\n\tautoApprove = false\n"), 0);
	ck_assert_int_eq(wd(&out, NULL, yes), WD_EXIT_NO);
	assert_has(out, "review.autoApprove = false");
	free(out);
	ck_assert_int_eq(wd(&out, NULL, ci), WD_EXIT_NO);
	free(out);
	main_is(base_hex);
	/* a person at a terminal still can */
	ck_assert_int_eq(on_terminal(&out, "y", "review approve " RUN_ID " --yes"), WD_EXIT_OK);
	assert_has(out, "merge into 'main'? [y/N]");
	main_is(commit_hex);
	free(out);
}
END_TEST

START_TEST(push_allowed_true_publishes_without_a_terminal_and_unset_needs_one)
{
	char bare[4200], got[41], *out = NULL;
	const char *init[] = { "git", "init", "-q", "--bare", bare, NULL };
	const char *plain[] = { "review", "publish", RUN_ID, "--push", bare, NULL };
	const char *ci[] = { "review", "publish", RUN_ID, "--push", bare, "--ci", NULL };
	int st;

	snprintf(bare, sizeof(bare), "%s/remote.git", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, init, NULL, NULL), 0);
	/* unset, no flag, no terminal: refused */
	ck_assert_int_eq(wd(&out, NULL, plain), WD_EXIT_USAGE);
	assert_has(out, "no terminal");
	ck_assert_int_ne(fx_repo_rev(got, bare, BRANCH), 0);
	free(out);
	/* unset with --ci: allowed */
	ck_assert_int_eq(wd(&out, NULL, ci), WD_EXIT_OK);
	ck_assert_int_eq(fx_repo_rev(got, bare, BRANCH), 0);
	free(out);
	/* true: allowed without a flag (a second push of the same commit is a no-op) */
	ck_assert_int_eq(fx_write_file(cfg, "[push]\n\tallowed = true\n"), 0);
	ck_assert_int_eq(wd(&out, NULL, plain), WD_EXIT_OK);
	ck_assert_int_eq(fx_repo_rev(got, bare, BRANCH), 0);
	ck_assert_str_eq(got, commit_hex);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("review_cli");
	TCase *tc = tcase_create("cli");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, list_shows_open_proposals_with_ticket_checks_and_cost);
	tcase_add_test(tc, show_prints_evidence_plan_ticket_ledger_and_diff);
	tcase_add_test(tc, approve_without_a_terminal_needs_yes_and_changes_nothing);
	tcase_add_test(tc, approve_on_a_terminal_asks_and_respects_the_answer);
	tcase_add_test(tc, auto_approve_policy_merges_without_asking);
	tcase_add_test(tc, approve_yes_push_merges_and_pushes_the_target);
	tcase_add_test(tc, push_allowed_false_refuses_before_merging);
	tcase_add_test(tc, separate_duties_policy_refuses_the_runs_author);
	tcase_add_test(tc, a_policy_that_is_not_a_boolean_is_an_error);
	tcase_add_test(tc, approve_on_a_moved_target_exits_1_and_says_checks_must_rerun);
	tcase_add_test(tc, reject_needs_a_reason_then_deletes_the_branch);
	tcase_add_test(tc, publish_pushes_the_branch_and_opens_a_pull_request);
	tcase_add_test(tc, publish_that_github_refuses_says_why_after_pushing);
	tcase_add_test(tc, approving_in_warden_mirror_needs_a_push);
	tcase_add_test(tc, usage_errors_exit_2);
	tcase_add_test(tc, publish_pushes_the_checked_commit_never_a_moved_branch);
	tcase_add_test(tc, approve_refuses_to_overwrite_an_ignored_file_and_changes_nothing);
	tcase_add_test(tc, push_allowed_false_refuses_publish_and_pull_request_even_with_yes_or_ci);
	tcase_add_test(tc, auto_approve_false_wins_over_yes_and_ci);
	tcase_add_test(tc, push_allowed_true_publishes_without_a_terminal_and_unset_needs_one);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
