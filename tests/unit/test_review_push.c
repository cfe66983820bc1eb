/* Push through libgit2 (file:// and a real smart-HTTP server on loopback) and
 * pull requests against a loopback mock of the GitHub API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>
#include <git2.h>
#include <jansson.h>

#include "warden/error.h"
#include "warden/ledger.h"
#include "warden/review.h"
#include "fixture.h"
#include "githttp.h"
#include "mockhttp.h"

#define TOKEN "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
#define BRANCH "warden/fix-add-1a2b3c4d"

static char *tmp;
static char src[4096], srv[4096], remote[4096];
static char commit_hex[41];

static int git_cli(char **out, const char *const *argv)
{
	int st = -1;

	ck_assert_int_eq(fx_run(out, &st, argv, NULL, NULL), 0);
	return st;
}

/* The id refs/heads/<branch> has in the bare repository, "" when absent. */
static void remote_ref(char out[41], const char *branch)
{
	char ref[512], *o = NULL;
	const char *const argv[] = { "git", "--git-dir", remote, "rev-parse", "--verify", "-q", ref, NULL };

	snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
	out[0] = '\0';
	if (git_cli(&o, argv) == 0 && o && strlen(o) >= 40) {
		memcpy(out, o, 40);
		out[40] = '\0';
	}
	free(o);
}

static void setup(void)
{
	static const char *const files[] = { "calc.c", "int add(int a, int b) { return a - b; }\n", NULL };
	static const char *const fix[] = { "calc.c", "int add(int a, int b) { return a + b; }\n", NULL };
	const char *const init[] = { "git", "init", "-q", "--bare", remote, NULL };
	git_repository *repo;
	git_reference *ref;
	git_oid id;

	git_libgit2_init();
	unsetenv("GITHUB_TOKEN");
	unsetenv("WARDEN_GIT_TOKEN");
	unsetenv("GITHUB_API_URL");
	ck_assert_int_eq(fx_tmpdir(&tmp), 0);
	snprintf(src, sizeof(src), "%s/src", tmp);
	snprintf(srv, sizeof(srv), "%s/srv", tmp);
	snprintf(remote, sizeof(remote), "%s/srv/remote.git", tmp);
	ck_assert_int_eq(fx_repo_create(src, files, "initial"), 0);
	ck_assert_int_eq(fx_repo_commit_files(src, fix, "fix add"), 0);
	ck_assert_int_eq(fx_repo_rev(commit_hex, src, "main"), 0);
	/* the proposal branch at the fix */
	ck_assert_int_eq(git_repository_open(&repo, src), 0);
	ck_assert_int_eq(git_oid_fromstr(&id, commit_hex), 0);
	ck_assert_int_eq(git_reference_create(&ref, repo, "refs/heads/" BRANCH, &id, 0, NULL), 0);
	git_reference_free(ref);
	git_repository_free(repo);
	ck_assert_int_eq(git_cli(NULL, init), 0);
}

static void teardown(void)
{
	fx_rm_rf(tmp);
	free(tmp);
	tmp = NULL;
	wd_redact_reset();
	git_libgit2_shutdown();
}

/* ---- push ------------------------------------------------------------ */

/* A token goes over https, or plain http to this machine only; a URL that
 * merely looks local (a userinfo, a host named 127.example) does not qualify. */
START_TEST(tokens_go_over_https_or_to_loopback_only)
{
	ck_assert(wd_repo_token_may_go_to("https://github.com/o/r.git"));
	ck_assert(wd_repo_token_may_go_to("HTTPS://ghe.example/api/v3"));
	ck_assert(wd_repo_token_may_go_to("http://127.0.0.1:8080/r.git"));
	ck_assert(wd_repo_token_may_go_to("http://localhost/r.git"));
	ck_assert(wd_repo_token_may_go_to("http://[::1]:99/"));
	ck_assert(wd_repo_token_may_go_to("http://user:pw@127.0.0.1/x"));
	ck_assert(!wd_repo_token_may_go_to("http://github.com/o/r.git"));
	ck_assert(!wd_repo_token_may_go_to("http://127.example.com/r.git"));
	ck_assert(!wd_repo_token_may_go_to("http://localhost.evil.com/"));
	ck_assert(!wd_repo_token_may_go_to("http://127.0.0.1@evil.com/"));
	ck_assert(!wd_repo_token_may_go_to("ssh://git@github.com/o/r.git"));
	ck_assert(!wd_repo_token_may_go_to("git@github.com:o/r.git"));
	ck_assert(!wd_repo_token_may_go_to(NULL));
}
END_TEST

START_TEST(push_to_a_file_url_creates_the_branch)
{
	char url[4200], got[41];

	snprintf(url, sizeof(url), "file://%s", remote);
	ck_assert_msg(wd_repo_push(src, commit_hex, BRANCH, url) == 0, "%s", wd_error_last());
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, commit_hex);
	remote_ref(got, "main"); /* only the branch asked for */
	ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(push_to_a_named_remote)
{
	git_repository *repo;
	git_remote *r;
	char got[41];

	ck_assert_int_eq(git_repository_open(&repo, src), 0);
	ck_assert_int_eq(git_remote_create(&r, repo, "origin", remote), 0);
	git_remote_free(r);
	git_repository_free(repo);
	ck_assert_msg(wd_repo_push(src, commit_hex, BRANCH, "origin") == 0, "%s", wd_error_last());
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, commit_hex);
}
END_TEST

START_TEST(push_names_what_is_missing)
{
	ck_assert_int_eq(wd_repo_push(src, commit_hex, BRANCH, "upstream"), WD_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "no remote named 'upstream'"));
	ck_assert_int_eq(wd_repo_push(src, commit_hex, "warden/none", remote), WD_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "no branch 'warden/none'"));
	ck_assert_int_eq(wd_repo_push(srv, commit_hex, BRANCH, remote), WD_ENOTFOUND);
}
END_TEST

START_TEST(push_that_is_not_a_fast_forward_is_refused)
{
	const char *const deny[] = { "git", "--git-dir", remote, "config", "receive.denyNonFastForwards",
	                             "true", NULL };
	char url[4200], got[41], other_hex[41];
	git_repository *repo;
	git_reference *ref;
	git_oid id;

	snprintf(url, sizeof(url), "file://%s", remote);
	ck_assert_int_eq(git_cli(NULL, deny), 0);
	ck_assert_int_eq(wd_repo_push(src, commit_hex, BRANCH, url), 0);
	/* rewind the branch to the base: the remote must refuse it */
	ck_assert_int_eq(fx_repo_rev(other_hex, src, "main~1"), 0);
	ck_assert_int_eq(git_repository_open(&repo, src), 0);
	ck_assert_int_eq(git_oid_fromstr(&id, other_hex), 0);
	ck_assert_int_eq(git_reference_create(&ref, repo, "refs/heads/" BRANCH, &id, 1, NULL), 0);
	git_reference_free(ref);
	git_repository_free(repo);
	ck_assert_int_eq(wd_repo_push(src, other_hex, BRANCH, url), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "not a fast-forward"));
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, commit_hex);
}
END_TEST

START_TEST(push_declined_by_the_remote_is_refused_with_its_reason)
{
	githttp_server *s = NULL;
	char hook[4200], url[4200], got[41];

	/* hooks run in receive-pack, i.e. behind a server (libgit2 pushes to
	 * file:// URLs by writing the objects itself) */
	snprintf(hook, sizeof(hook), "%s/hooks/pre-receive", remote);
	ck_assert_int_eq(fx_write_file(hook, "#!/bin/sh\necho 'branch protected' >&2\nexit 1\n"), 0);
	ck_assert_int_eq(chmod(hook, 0755), 0);
	ck_assert_int_eq(githttp_start(&s, srv, NULL, NULL), 0);
	snprintf(url, sizeof(url), "%s/remote.git", githttp_url(s));
	ck_assert_int_eq(wd_repo_push(src, commit_hex, BRANCH, url), WD_EREFUSED);
	githttp_stop(s);
	ck_assert_msg(strstr(wd_error_last(), "refs/heads/" BRANCH ": pre-receive hook declined"),
	              "%s", wd_error_last());
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(push_over_smart_http_to_a_real_git_server)
{
	githttp_server *s = NULL;
	char url[256], got[41];

	ck_assert_int_eq(githttp_start(&s, srv, NULL, NULL), 0);
	snprintf(url, sizeof(url), "%s/remote.git", githttp_url(s));
	ck_assert_msg(wd_repo_push(src, commit_hex, BRANCH, url) == 0, "%s", wd_error_last());
	ck_assert_uint_ge(githttp_requests(s), 2); /* info/refs, then git-receive-pack */
	githttp_stop(s);
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, commit_hex);
}
END_TEST

START_TEST(push_over_http_authenticates_with_the_token_from_env)
{
	githttp_server *s = NULL;
	char url[256], got[41];

	ck_assert_int_eq(githttp_start(&s, srv, "x-access-token", TOKEN), 0);
	snprintf(url, sizeof(url), "%s/remote.git", githttp_url(s));
	setenv("GITHUB_TOKEN", TOKEN, 1);
	ck_assert_msg(wd_repo_push(src, commit_hex, BRANCH, url) == 0, "%s", wd_error_last());
	ck_assert_uint_ge(githttp_auth_refusals(s), 1); /* the challenge came first */
	githttp_stop(s);
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, commit_hex);
}
END_TEST

START_TEST(warden_git_token_wins_over_github_token)
{
	githttp_server *s = NULL;
	char url[256], got[41];

	ck_assert_int_eq(githttp_start(&s, srv, "x-access-token", TOKEN), 0);
	snprintf(url, sizeof(url), "%s/remote.git", githttp_url(s));
	setenv("GITHUB_TOKEN", "ghp_wrongwrongwrongwrongwrongwrong00", 1);
	setenv("WARDEN_GIT_TOKEN", TOKEN, 1);
	ck_assert_msg(wd_repo_push(src, commit_hex, BRANCH, url) == 0, "%s", wd_error_last());
	githttp_stop(s);
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, commit_hex);
}
END_TEST

START_TEST(a_refused_token_fails_clearly_without_showing_it)
{
	githttp_server *s = NULL;
	char url[256], got[41];
	const char *bad = "ghp_thisisnotthetokenthisisnotthetoken";

	ck_assert_int_eq(githttp_start(&s, srv, "x-access-token", TOKEN), 0);
	snprintf(url, sizeof(url), "%s/remote.git", githttp_url(s));
	setenv("GITHUB_TOKEN", bad, 1);
	ck_assert_int_eq(wd_repo_push(src, commit_hex, BRANCH, url), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "authentication failed"));
	ck_assert_ptr_null(strstr(wd_error_last(), bad));
	ck_assert_ptr_null(strstr(wd_error_last(), TOKEN));
	githttp_stop(s);
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(http_push_without_a_token_says_which_variable_to_set)
{
	githttp_server *s = NULL;
	char url[256];

	ck_assert_int_eq(githttp_start(&s, srv, "x-access-token", TOKEN), 0);
	snprintf(url, sizeof(url), "%s/remote.git", githttp_url(s));
	ck_assert_int_eq(wd_repo_push(src, commit_hex, BRANCH, url), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "GITHUB_TOKEN"));
	githttp_stop(s);
}
END_TEST

START_TEST(credentials_in_a_url_never_reach_the_message)
{
	char url[256];

	/* nothing listens there: the error names the host, not the secret */
	snprintf(url, sizeof(url), "http://user:%s@%s/remote.git", TOKEN,
	         mock_refused_url() + strlen("http://"));
	ck_assert_int_ne(wd_repo_push(src, commit_hex, BRANCH, url), 0);
	ck_assert_ptr_null(strstr(wd_error_last(), TOKEN));
}
END_TEST

START_TEST(push_sends_the_given_commit_only_while_the_branch_is_there)
{
	char url[4200], got[41], other_hex[41];
	git_repository *repo;
	git_reference *ref;
	git_oid id;

	snprintf(url, sizeof(url), "file://%s", remote);
	ck_assert_int_eq(fx_repo_rev(other_hex, src, "main~1"), 0);
	ck_assert_int_eq(git_repository_open(&repo, src), 0);
	ck_assert_int_eq(git_oid_fromstr(&id, other_hex), 0);
	ck_assert_int_eq(git_reference_create(&ref, repo, "refs/heads/" BRANCH, &id, 1, NULL), 0);
	git_reference_free(ref);
	git_repository_free(repo);
	ck_assert_int_eq(wd_repo_push(src, commit_hex, BRANCH, url), WD_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "moved"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "nothing was pushed"));
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(push_writes_nothing_into_the_users_repository)
{
	git_repository *repo;
	git_remote *r;
	char *before = NULL, *after = NULL, got[41];

	ck_assert_int_eq(git_repository_open(&repo, src), 0);
	ck_assert_int_eq(git_remote_create(&r, repo, "origin", remote), 0);
	git_remote_free(r);
	git_repository_free(repo);
	ck_assert_int_eq(fx_snapshot(&before, src), 0);
	ck_assert_msg(wd_repo_push(src, commit_hex, BRANCH, "origin") == 0, "%s", wd_error_last());
	ck_assert_int_eq(fx_snapshot(&after, src), 0);
	ck_assert_str_eq(before, after); /* no temporary ref, no tracking ref, no objects */
	remote_ref(got, BRANCH);
	ck_assert_str_eq(got, commit_hex);
	free(before);
	free(after);
}
END_TEST

/* One callback for fetch and push: the token goes to HTTP(S) servers only,
 * WARDEN_GIT_TOKEN first, each method once. */
START_TEST(the_credential_callback_never_hands_a_token_to_ssh)
{
	git_credential *cred = NULL;
	unsigned st = 0;
	const char *var = NULL;

	setenv("GITHUB_TOKEN", "ghp_second", 1);
	setenv("WARDEN_GIT_TOKEN", TOKEN, 1);
	ck_assert_str_eq(wd_repo_token(&var), TOKEN);
	ck_assert_str_eq(var, "WARDEN_GIT_TOKEN");
	/* an SSH server that also takes passwords gets no token */
	ck_assert_int_eq(wd_repo_cred_cb(&cred, "ssh://git@example.com/o/r.git", "git",
	                                 GIT_CREDENTIAL_USERPASS_PLAINTEXT, &st), GIT_PASSTHROUGH);
	ck_assert_ptr_null(cred);
	ck_assert_uint_eq(st & WD_REPO_CRED_TOKEN, 0);
	/* an HTTPS server gets it, once */
	ck_assert_int_eq(wd_repo_cred_cb(&cred, "https://example.com/o/r.git", NULL,
	                                 GIT_CREDENTIAL_USERPASS_PLAINTEXT, &st), 0);
	ck_assert_ptr_nonnull(cred);
	git_credential_free(cred);
	cred = NULL;
	ck_assert_int_eq(wd_repo_cred_cb(&cred, "https://example.com/o/r.git", NULL,
	                                 GIT_CREDENTIAL_USERPASS_PLAINTEXT, &st), GIT_PASSTHROUGH);
	ck_assert_uint_ne(st & WD_REPO_CRED_REFUSED, 0);
	unsetenv("WARDEN_GIT_TOKEN");
	ck_assert_str_eq(wd_repo_token(&var), "ghp_second");
	ck_assert_str_eq(var, "GITHUB_TOKEN");
}
END_TEST

/* ---- pull requests --------------------------------------------------- */

static wd_pr_opts pr_opts(const mock_server *m)
{
	wd_pr_opts o = WD_PR_OPTS_INIT;

	o.api_url = mock_url(m);
	o.token = TOKEN;
	o.owner = "acme";
	o.repo = "calc";
	o.head = BRANCH;
	o.base = "main";
	o.title = "Fix add()";
	o.body = "## Fix add()\n\nchecks: test=pass 3/3\n";
	return o;
}

START_TEST(pull_request_is_posted_field_by_field)
{
	mock_server *m = NULL;
	wd_pr_opts o;
	char *url = NULL;
	json_t *body;

	ck_assert_int_eq(mock_start(&m), 0);
	mock_push_json(m, 201, "{\"number\":7,\"html_url\":\"https://github.com/acme/calc/pull/7\"}");
	o = pr_opts(m);
	ck_assert_msg(wd_review_open_pr(&url, &o) == 0, "%s", wd_error_last());
	ck_assert_str_eq(url, "https://github.com/acme/calc/pull/7");
	ck_assert_uint_eq(mock_request_count(m), 1);
	ck_assert_str_eq(mock_request_method(m, 0), "POST");
	ck_assert_str_eq(mock_request_path(m, 0), "/repos/acme/calc/pulls");
	ck_assert_str_eq(mock_request_header(m, 0, "Authorization"), "Bearer " TOKEN);
	ck_assert_str_eq(mock_request_header(m, 0, "Accept"), "application/vnd.github+json");
	ck_assert_str_eq(mock_request_header(m, 0, "X-GitHub-Api-Version"), "2022-11-28");
	ck_assert_ptr_nonnull(strstr(mock_request_header(m, 0, "User-Agent"), "warden/"));
	ck_assert_str_eq(mock_request_header(m, 0, "Content-Type"), "application/json");
	body = json_loads(mock_request_body(m, 0), 0, NULL);
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(json_string_value(json_object_get(body, "title")), "Fix add()");
	ck_assert_str_eq(json_string_value(json_object_get(body, "head")), BRANCH);
	ck_assert_str_eq(json_string_value(json_object_get(body, "base")), "main");
	ck_assert_str_eq(json_string_value(json_object_get(body, "body")),
	                 "## Fix add()\n\nchecks: test=pass 3/3\n");
	ck_assert(json_is_false(json_object_get(body, "draft")));
	ck_assert_uint_eq(json_object_size(body), 5);
	json_decref(body);
	free(url);
	mock_stop(m);
}
END_TEST

START_TEST(pull_request_base_url_and_token_come_from_env)
{
	mock_server *m = NULL;
	wd_pr_opts o;
	char *url = NULL, api[256];

	ck_assert_int_eq(mock_start(&m), 0);
	mock_push_json(m, 201, "{\"html_url\":\"https://ghe.example/acme/calc/pull/1\"}");
	o = pr_opts(m);
	o.api_url = NULL;
	o.token = NULL;
	snprintf(api, sizeof(api), "%s/api/v3/", mock_url(m)); /* GitHub Enterprise shape */
	setenv("GITHUB_API_URL", api, 1);
	setenv("GITHUB_TOKEN", TOKEN, 1);
	ck_assert_msg(wd_review_open_pr(&url, &o) == 0, "%s", wd_error_last());
	ck_assert_str_eq(mock_request_path(m, 0), "/api/v3/repos/acme/calc/pulls");
	ck_assert_str_eq(mock_request_header(m, 0, "Authorization"), "Bearer " TOKEN);
	free(url);
	mock_stop(m);
}
END_TEST

/* The pull request takes the token git takes, in the same order. */
START_TEST(pull_request_token_order_is_the_same_as_git)
{
	mock_server *m = NULL;
	wd_pr_opts o;
	char *url = NULL;

	ck_assert_int_eq(mock_start(&m), 0);
	mock_push_json(m, 201, "{\"html_url\":\"https://github.com/acme/calc/pull/1\"}");
	o = pr_opts(m);
	o.token = NULL;
	setenv("GITHUB_TOKEN", "ghp_wrongwrongwrongwrongwrongwrong00", 1);
	setenv("WARDEN_GIT_TOKEN", TOKEN, 1);
	ck_assert_msg(wd_review_open_pr(&url, &o) == 0, "%s", wd_error_last());
	ck_assert_str_eq(mock_request_header(m, 0, "Authorization"), "Bearer " TOKEN);
	ck_assert_str_eq(wd_repo_token(NULL), TOKEN);
	free(url);
	mock_stop(m);
}
END_TEST

static void pr_fails(int status, const char *reply, int want_rc, const char *want_msg)
{
	mock_server *m = NULL;
	wd_pr_opts o;
	char *url = NULL;

	ck_assert_int_eq(mock_start(&m), 0);
	mock_push_json(m, status, reply);
	o = pr_opts(m);
	ck_assert_int_eq(wd_review_open_pr(&url, &o), want_rc);
	ck_assert_ptr_null(url);
	ck_assert_msg(strstr(wd_error_last(), want_msg), "'%s' lacks '%s'", wd_error_last(), want_msg);
	ck_assert_ptr_null(strstr(wd_error_last(), TOKEN));
	mock_stop(m);
}

START_TEST(pull_request_errors_are_clear)
{
	pr_fails(401, "{\"message\":\"Bad credentials\"}", WD_EREFUSED, "401 Bad credentials");
	pr_fails(403, "{\"message\":\"Resource not accessible by integration\"}", WD_EREFUSED,
	         "lack pull-request write access to acme/calc");
	pr_fails(422, "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"PullRequest\","
	              "\"code\":\"custom\",\"message\":\"A pull request already exists for acme:" BRANCH
	              ".\"}]}", WD_EREFUSED, "422 Validation Failed: A pull request already exists");
	pr_fails(422, "{\"message\":\"Validation Failed\",\"errors\":[{\"field\":\"head\",\"code\":"
	              "\"invalid\"}]}", WD_EREFUSED, "head invalid");
	pr_fails(404, "{\"message\":\"Not Found\"}", WD_ENOTFOUND, "acme/calc");
	pr_fails(502, "bad gateway", WD_EINFRA, "HTTP 502");
	pr_fails(201, "{\"number\":1}", WD_EINFRA, "no html_url");
}
END_TEST

START_TEST(pull_request_needs_a_token_and_fields)
{
	wd_pr_opts o = WD_PR_OPTS_INIT;
	char *url = NULL;

	o.owner = "acme";
	o.repo = "calc";
	o.head = BRANCH;
	o.base = "main";
	o.title = "t";
	ck_assert_int_eq(wd_review_open_pr(&url, &o), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "GITHUB_TOKEN"));
	o.token = TOKEN;
	o.repo = "../x";
	ck_assert_int_eq(wd_review_open_pr(&url, &o), WD_EUSAGE);
	o.repo = "calc";
	o.base = NULL;
	ck_assert_int_eq(wd_review_open_pr(&url, &o), WD_EUSAGE);
}
END_TEST

START_TEST(pull_request_to_a_dead_server_is_an_infra_error)
{
	wd_pr_opts o = WD_PR_OPTS_INIT;
	char *url = NULL;

	o.api_url = mock_refused_url();
	o.token = TOKEN;
	o.owner = "acme";
	o.repo = "calc";
	o.head = BRANCH;
	o.base = "main";
	o.title = "t";
	ck_assert_int_eq(wd_review_open_pr(&url, &o), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "opening a pull request"));
}
END_TEST

START_TEST(pull_request_for_a_stored_proposal_is_recorded)
{
	mock_server *m = NULL;
	wd_proposal *p = NULL;
	git_repository *repo;
	git_remote *r;
	char cache[4200], base[41], *url = NULL;
	wd_pr_opts o = WD_PR_OPTS_INIT;
	json_t *body;

	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	ck_assert_int_eq(fx_repo_rev(base, src, "main~1"), 0);
	ck_assert_int_eq(wd_proposal_new(&p), 0);
	p->id = strdup("run1");
	p->ticket_title = strdup("Fix add()");
	p->repo = strdup(src);
	p->branch = strdup(BRANCH);
	p->target = strdup("refs/heads/main");
	memcpy(p->base, base, 41);
	memcpy(p->commit, commit_hex, 41);
	p->checks = strdup("test=pass 3/3");
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	wd_proposal_free(p);
	ck_assert_int_eq(git_repository_open(&repo, src), 0);
	ck_assert_int_eq(git_remote_create(&r, repo, "origin", "git@github.com:acme/calc.git"), 0);
	git_remote_free(r);
	git_repository_free(repo);

	ck_assert_int_eq(mock_start(&m), 0);
	mock_push_json(m, 201, "{\"html_url\":\"https://github.com/acme/calc/pull/9\"}");
	o.api_url = mock_url(m);
	o.token = TOKEN;
	o.draft = 1;
	ck_assert_msg(wd_review_open_pr_for(&url, cache, "run1", "origin", "add() subtracts.", &o) == 0,
	              "%s", wd_error_last());
	ck_assert_str_eq(url, "https://github.com/acme/calc/pull/9");
	ck_assert_str_eq(mock_request_path(m, 0), "/repos/acme/calc/pulls");
	body = json_loads(mock_request_body(m, 0), 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(body, "title")), "Fix add()");
	ck_assert_str_eq(json_string_value(json_object_get(body, "base")), "main");
	ck_assert(json_is_true(json_object_get(body, "draft")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(body, "body")), "add() subtracts."));
	json_decref(body);
	ck_assert_int_eq(wd_proposal_load(&p, cache, "run1"), 0);
	ck_assert_str_eq(p->pr_url, url);
	wd_proposal_free(p);
	free(url);

	/* owner/repo given: the remote is not needed */
	mock_push_json(m, 201, "{\"html_url\":\"https://ghe.example/fork/calc/pull/1\"}");
	o.owner = "fork";
	o.repo = "calc";
	ck_assert_int_eq(wd_review_open_pr_for(&url, cache, "run1", NULL, NULL, &o), 0);
	ck_assert_str_eq(mock_request_path(m, 1), "/repos/fork/calc/pulls");
	free(url);
	/* neither: a usage error */
	ck_assert_int_eq(wd_review_open_pr_for(&url, cache, "run1", NULL, NULL, NULL), WD_EUSAGE);
	/* a remote that is no GitHub URL */
	ck_assert_int_eq(wd_review_open_pr_for(&url, cache, "run1", "/srv/calc", NULL, NULL), WD_EINPUT);
	mock_stop(m);
}
END_TEST

START_TEST(github_owner_and_repo_come_from_remote_urls)
{
	static const char *const urls[] = {
		"https://github.com/acme/calc.git", "https://github.com/acme/calc",
		"git@github.com:acme/calc.git", "ssh://git@github.com/acme/calc.git",
		"https://ghe.example.com/acme/calc/", NULL
	};
	char *owner, *repo;

	for (size_t i = 0; urls[i]; i++) {
		ck_assert_msg(wd_review_github_repo(&owner, &repo, urls[i]) == 0, "%s", urls[i]);
		ck_assert_str_eq(owner, "acme");
		ck_assert_str_eq(repo, "calc");
		free(owner);
		free(repo);
	}
	ck_assert_int_eq(wd_review_github_repo(&owner, &repo, "/srv/calc.git"), WD_EINPUT);
	ck_assert_int_eq(wd_review_github_repo(&owner, &repo, "https://github.com/calc"), WD_EINPUT);
	ck_assert_ptr_null(owner);
}
END_TEST

START_TEST(pr_body_carries_ticket_checks_and_cost)
{
	wd_proposal p;
	wd_buf b = WD_BUF_INIT;

	memset(&p, 0, sizeof(p));
	p.id = "1a2b3c4d5e6f7a8b";
	p.ticket_title = "Fix add()";
	p.branch = BRANCH;
	p.checks = "test=pass 3/3";
	p.evidence = "{\"exit\":0}";
	p.model = "openai:gpt-4o-mini";
	p.rounds = 2;
	p.input_tokens = 1200;
	p.output_tokens = 300;
	p.cost_usd = 0.0125;
	snprintf(p.base, sizeof(p.base), "%s", "1111111111111111111111111111111111111111");
	snprintf(p.commit, sizeof(p.commit), "%s", commit_hex);
	ck_assert_int_eq(wd_review_pr_body(&b, &p, "add() subtracts."), 0);
	ck_assert_ptr_nonnull(strstr(b.ptr, "## Fix add()\n\n"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "### Ticket\n\nadd() subtracts.\n"));
	/* a readable checks table; the raw evidence stays in the git note */
	ck_assert_ptr_nonnull(strstr(b.ptr, "| Check | Result |\n|---|---|\n| test | pass 3/3 |\n"));
	ck_assert_ptr_null(strstr(b.ptr, "{\"exit\":0}"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "git notes --ref=warden show"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "| Cost | $0.0125 |"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "| Tokens | 1200 in / 300 out |"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "openai:gpt-4o-mini"));
	wd_buf_free(&b);
}
END_TEST

START_TEST(pr_body_has_the_commit_summary_not_its_trailers)
{
	static const char *const files[] = { "calc.c", "int add(int a, int b) { return b + a; }\n",
		                             NULL };
	wd_proposal p;
	wd_buf b = WD_BUF_INIT;
	char hex[41];

	ck_assert_int_eq(fx_repo_commit_files(src, files, "Fix add()\n\nadd() now adds its "
	                                      "operands.\n\nTicket: t.md (0123456789ab)\n\n"
	                                      "Warden-Run: r1\nWarden-Model: m\n"), 0);
	ck_assert_int_eq(fx_repo_rev(hex, src, "main"), 0);
	memset(&p, 0, sizeof(p));
	p.id = "r1";
	p.ticket_title = "Fix add()";
	p.branch = BRANCH;
	p.repo = src;
	p.checks = "build=pass; test=pass 3/3";
	snprintf(p.commit, sizeof(p.commit), "%s", hex);
	ck_assert_int_eq(wd_review_pr_body(&b, &p, NULL), 0);
	ck_assert_ptr_nonnull(strstr(b.ptr, "## Fix add()\n\nadd() now adds its operands.\n\n"
	                                    "### Checks\n\n| Check | Result |\n|---|---|\n"
	                                    "| build | pass |\n| test | pass 3/3 |\n"));
	ck_assert_ptr_null(strstr(b.ptr, "Warden-Run"));
	wd_buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("review_push");
	TCase *push = tcase_create("push"), *pr = tcase_create("pr");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(push, setup, teardown);
	tcase_add_test(push, tokens_go_over_https_or_to_loopback_only);
	tcase_add_test(push, push_to_a_file_url_creates_the_branch);
	tcase_add_test(push, push_to_a_named_remote);
	tcase_add_test(push, push_names_what_is_missing);
	tcase_add_test(push, push_that_is_not_a_fast_forward_is_refused);
	tcase_add_test(push, push_declined_by_the_remote_is_refused_with_its_reason);
	tcase_add_test(push, push_over_smart_http_to_a_real_git_server);
	tcase_add_test(push, push_over_http_authenticates_with_the_token_from_env);
	tcase_add_test(push, warden_git_token_wins_over_github_token);
	tcase_add_test(push, a_refused_token_fails_clearly_without_showing_it);
	tcase_add_test(push, http_push_without_a_token_says_which_variable_to_set);
	tcase_add_test(push, credentials_in_a_url_never_reach_the_message);
	tcase_add_test(push, push_sends_the_given_commit_only_while_the_branch_is_there);
	tcase_add_test(push, push_writes_nothing_into_the_users_repository);
	tcase_add_test(push, the_credential_callback_never_hands_a_token_to_ssh);
	suite_add_tcase(s, push);

	tcase_add_checked_fixture(pr, setup, teardown);
	tcase_add_test(pr, pull_request_is_posted_field_by_field);
	tcase_add_test(pr, pull_request_base_url_and_token_come_from_env);
	tcase_add_test(pr, pull_request_token_order_is_the_same_as_git);
	tcase_add_test(pr, pull_request_errors_are_clear);
	tcase_add_test(pr, pull_request_needs_a_token_and_fields);
	tcase_add_test(pr, pull_request_to_a_dead_server_is_an_infra_error);
	tcase_add_test(pr, pull_request_for_a_stored_proposal_is_recorded);
	tcase_add_test(pr, github_owner_and_repo_come_from_remote_urls);
	tcase_add_test(pr, pr_body_carries_ticket_checks_and_cost);
	tcase_add_test(pr, pr_body_has_the_commit_summary_not_its_trailers);
	suite_add_tcase(s, pr);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
