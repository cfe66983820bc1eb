/*
 * The outbound gate: the data policy and the secret scan of everything sent
 * to a model. First the policy on its own, then the attack end to end: a
 * repository holding planted secrets (a private key file, an .env, a token in
 * a source file in scope, a file .wardenignore keeps back, a link to the
 * .env, a test that prints the .env when it fails, a rejection reason that
 * quotes a password) run through `warden run` against a loopback model that
 * records every request and asks for the secrets with its tools. None of them
 * may reach it. The control shows each secret is really there to be sent.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "e2e.h"
#include "fixture.h"
#include "mockhttp.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/outbound.h"

static char *tmp;

static void setup(void)
{
	git_libgit2_init();
	ck_assert_int_eq(fx_tmpdir(&tmp), 0);
}

static void teardown(void)
{
	fx_rm_rf(tmp);
	free(tmp);
	git_libgit2_shutdown();
}

/* ------------------------------------------------------------------ the policy */

static wd_outbound *policy(const char *user_config, const char *spec, const char *ignore)
{
	char path[600];
	wd_config *cfg = NULL;
	wd_outbound *ob = NULL;
	wd_outbound_opts o = { 0 };

	snprintf(path, sizeof(path), "%s/config", tmp);
	ck_assert_int_eq(fx_write_file(path, user_config ? user_config : ""), 0);
	setenv("WARDEN_CONFIG", path, 1);
	ck_assert_int_eq(wd_config_open(&cfg, NULL), 0);
	o.cfg = cfg;
	o.model_spec = spec;
	o.ignore_text = ignore;
	o.ignore_len = ignore ? strlen(ignore) : 0;
	ck_assert_msg(wd_outbound_new(&ob, &o) == 0, "%s", wd_error_last());
	wd_config_free(cfg);
	return ob;
}

static int allowed(wd_outbound *ob, const char *path)
{
	return wd_outbound_path_allowed(ob, path, NULL);
}

START_TEST(the_default_policy_keeps_keys_and_env_files)
{
	wd_outbound *ob = policy(NULL, "openai:gpt-4o-mini", NULL);
	const char *rule = NULL;

	ck_assert(!allowed(ob, ".env"));
	ck_assert(!allowed(ob, "deploy/.env.production"));
	ck_assert(!allowed(ob, "certs/server.pem"));
	ck_assert(!allowed(ob, "tls.key"));
	ck_assert(!allowed(ob, "home/.ssh/id_ed25519"));
	ck_assert(!allowed(ob, "store.p12"));
	ck_assert(!allowed(ob, "secrets/prod.yaml"));
	ck_assert(!allowed(ob, "app/secrets/prod.yaml"));
	ck_assert(!allowed(ob, ".git/config"));
	/* spelled to slip past: the path is judged as the tools would read it */
	ck_assert(!allowed(ob, "./src/../.env"));
	ck_assert(!allowed(ob, "src//.env"));
	ck_assert(!allowed(ob, "../outside.c"));
	ck_assert(allowed(ob, "src/main.c"));
	ck_assert(allowed(ob, "src/keyboard.c"));
	ck_assert(allowed(ob, "docs/environment.md"));
	ck_assert_int_eq(wd_outbound_path_allowed(ob, "a/.env", &rule), 0);
	ck_assert_str_eq(rule, ".env* (default)");
	wd_outbound_free(ob);
}
END_TEST

START_TEST(user_deny_wardenignore_and_per_model_allowances)
{
	const char *cfg = "[data]\n\tdeny = *.sqlite\n\tdeny = /internal/**\n"
	                  "[data \"openai\"]\n\tallow = src/**\n\tallow = README.md\n"
	                  "[data \"compat:http://127.0.0.1:8080/v1#local\"]\n\tallow = **\n";
	const char *ignore = "# kept here\n\ncustomers/\n/top.txt\n!src/main.c\n  *.csv  \n\\#odd\n";
	wd_outbound *hosted = policy(cfg, "openai:gpt-4o-mini", ignore);
	wd_outbound *local = policy(cfg, "compat:http://127.0.0.1:8080/v1#local", ignore);
	wd_outbound *chain = policy(cfg, "compat:http://127.0.0.1:8080/v1#local,openai:gpt-4o", NULL);
	const char *rule = NULL;

	ck_assert(allowed(hosted, "src/main.c"));
	ck_assert(allowed(hosted, "README.md"));
	ck_assert_int_eq(wd_outbound_path_allowed(hosted, "tests/t.c", &rule), 0);
	ck_assert_str_eq(rule, "not in data \"openai:gpt-4o-mini\" allow");
	ck_assert(!allowed(hosted, "src/db.sqlite"));
	ck_assert(allowed(local, "tests/t.c"));
	ck_assert(!allowed(local, "internal/plan.md"));
	ck_assert(allowed(local, "src/internal/plan.md")); /* "/internal" is anchored */
	ck_assert_int_eq(wd_outbound_path_allowed(local, "customers/list.txt", &rule), 0);
	ck_assert_str_eq(rule, "customers/** (.wardenignore)");
	ck_assert(!allowed(local, "top.txt"));
	ck_assert(allowed(local, "sub/top.txt"));
	ck_assert(!allowed(local, "data/x.csv"));
	ck_assert(!allowed(local, "#odd"));
	ck_assert(!allowed(local, ".env")); /* '!' lines cannot take anything back */
	/* a fallback chain: any of its models may get the request */
	ck_assert(!allowed(chain, "tests/t.c"));
	ck_assert(allowed(chain, "src/a.c"));
	wd_outbound_free(hosted);
	wd_outbound_free(local);
	wd_outbound_free(chain);
}
END_TEST

START_TEST(tool_calls_for_denied_paths_are_answered_denied)
{
	wd_outbound *ob = policy(NULL, NULL, NULL);
	wd_buf answer = WD_BUF_INIT, text = WD_BUF_INIT;
	size_t found = 0;

	ck_assert_int_eq(wd_outbound_tool_call(ob, &answer, "read_file", "{\"path\": \"./.env\"}"),
	                 WD_EREFUSED);
	ck_assert_str_eq(answer.ptr, "denied by policy: ./.env may not be sent to the model\n");
	ck_assert_int_eq(wd_outbound_tool_call(ob, &answer, "read_file", "{\"path\": \"src/a.c\"}"), 0);
	ck_assert_int_eq(wd_outbound_tool_call(ob, &answer, "list_files", "not json"), 0);
	ck_assert_uint_eq(wd_outbound_denied_count(ob), 1);
	ck_assert_int_eq(wd_buf_puts(&text, "ok\ntoken = ghp_Q1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKk\n"), 0);
	ck_assert_int_eq(wd_outbound_text(ob, &text, "task", &found), 0);
	ck_assert_uint_eq(found, 1);
	ck_assert_str_eq(text.ptr, "ok\ntoken = [REDACTED:github-token]\n");
	wd_buf_free(&answer);
	wd_buf_free(&text);
	wd_outbound_free(ob);
}
END_TEST

/* ------------------------------------------------------------------ end to end */

#define ENV_SECRET "Pl4nted-env-password-77"
#define KEY_SECRET "b3BlbnNzaC1rZXktdjEAAAAAPLANTEDKEY0001"
#define SRC_SECRET "ghp_Pl4nted0Token1Inside2Source3File4xx"
#define NOTE_SECRET "planted-private-note-55"
#define REASON_SECRET "Pl4nted-reason-pass-9"
#define ENTROPY_SECRET "Qm9x7Lp2Vd8Rk4Tz1Nc6Hy3W"

static const char *const secrets[] = { ENV_SECRET, KEY_SECRET, SRC_SECRET, NOTE_SECRET,
                                       REASON_SECRET, NULL };

static const char test_sh[] =
	"cat .env\n"
	"if grep -q '^answer = 42$' value.txt; then echo 'ok answer'; exit 0; fi\n"
	"echo \"FAIL answer: expected 42, got $(cat value.txt)\"\n"
	"exit 1\n";

static const char *const planted_files[] = {
	"value.txt", "answer = 41\n",
	"test.sh", test_sh,
	".env", "DB_PASSWORD=" ENV_SECRET "\n",
	"id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\n" KEY_SECRET "\n-----END OPENSSH PRIVATE KEY-----\n",
	"src/settings.py", "DEBUG = True\nGITHUB_TOKEN = \"" SRC_SECRET "\"\nSTRIPE_KEY = \""
	ENTROPY_SECRET "\"\n",
	"private/notes.txt", NOTE_SECRET "\n",
	".wardenignore", "private/\n",
	NULL
};

/* A committed symbolic link src/link.txt -> ../.env (libgit2 only). */
static void commit_link(const char *repo_dir)
{
	git_repository *repo = NULL;
	git_index *idx = NULL;
	git_oid tree_id, commit_id, head;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_signature *sig = NULL;
	char path[700];

	snprintf(path, sizeof(path), "%s/src/link.txt", repo_dir);
	ck_assert_int_eq(symlink("../.env", path), 0);
	ck_assert_int_eq(git_repository_open(&repo, repo_dir), 0);
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "src/link.txt"), 0);
	ck_assert_int_eq(git_index_write(idx), 0);
	ck_assert_int_eq(git_index_write_tree(&tree_id, idx), 0);
	ck_assert_int_eq(git_tree_lookup(&tree, repo, &tree_id), 0);
	ck_assert_int_eq(git_reference_name_to_id(&head, repo, "HEAD"), 0);
	ck_assert_int_eq(git_commit_lookup(&parent, repo, &head), 0);
	ck_assert_int_eq(git_signature_new(&sig, "Fixture", "fixture@example.com", 1700000000, 0), 0);
	ck_assert_int_eq(git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL, "link", tree,
	                                     1, parent), 0);
	git_signature_free(sig);
	git_commit_free(parent);
	git_tree_free(tree);
	git_index_free(idx);
	git_repository_free(repo);
}

static void assert_no_secret(const char *where, const char *text)
{
	for (size_t i = 0; secrets[i]; i++)
		ck_assert_msg(strstr(text, secrets[i]) == NULL, "%s carries %s:\n%.3000s", where,
		              secrets[i], text);
}

/* An OpenAI reply that calls read_file on each of `paths`. */
static char *tool_reply(const char *const *paths)
{
	json_t *calls = json_array(), *o;
	char *s;

	for (size_t i = 0; paths[i]; i++) {
		char id[32], args[200];

		snprintf(id, sizeof(id), "call_%zu", i);
		snprintf(args, sizeof(args), "{\"path\": \"%s\"}", paths[i]);
		json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", id, "type",
		                                       "function", "function", "name", "read_file",
		                                       "arguments", args));
	}
	o = json_pack("{s:s, s:s, s:s, s:[{s:i, s:{s:s, s:n, s:o}, s:s}], s:{s:i, s:i, s:i}}",
	              "id", "chatcmpl-tools", "object", "chat.completion", "model", "gpt-4o-mini",
	              "choices", "index", 0, "message", "role", "assistant", "content",
	              "tool_calls", calls, "finish_reason", "tool_calls",
	              "usage", "prompt_tokens", 100, "completion_tokens", 10, "total_tokens", 110);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

START_TEST(planted_secrets_never_reach_the_model)
{
	struct e2e_world w;
	mock_server *srv = NULL;
	char url[300], cfg_env[700], cfg[600], first_id[32], *out = NULL, *ledger = NULL;
	char *file = NULL;
	const char *env[] = { url, cfg_env, "OPENAI_API_KEY=sk-test-outbound-0123456789", NULL };
	const char *paths[] = { ".env", "src/link.txt", "private/notes.txt", "id_rsa",
	                        "src/../.env", "src/settings.py", NULL };
	char *first = mock_openai_chat_body("42.\n```diff\n" E2E_DIFF_TO(42) "```\n", 100, 10);
	char *tools = tool_reply(paths);
	char *b43 = mock_openai_chat_body("43.\n```diff\n" E2E_DIFF_TO(43) "```\n", 100, 10);
	char *b42 = mock_openai_chat_body("42.\n```diff\n" E2E_DIFF_TO(42) "```\n", 100, 10);
	const char *reject[] = { e2e_warden_bin(), "review", "reject", NULL, "--work-dir", NULL,
	                         "--reason", "the deploy password=" REASON_SECRET " must not be "
	                         "hardcoded", NULL };
	const char *scan[] = { e2e_warden_bin(), "scan", "--repo", NULL, "--json", NULL };
	int status;

	e2e_world_init(&w, planted_files, "scope: value.txt, src/**\nchecks: sh test.sh\n");
	commit_link(w.src);
	snprintf(cfg, sizeof(cfg), "%s/user-config", w.tmp);
	ck_assert_int_eq(fx_write_file(cfg, ""), 0);
	snprintf(cfg_env, sizeof(cfg_env), "WARDEN_CONFIG=%s", cfg);
	ck_assert_int_eq(mock_start(&srv), 0);
	snprintf(url, sizeof(url), "OPENAI_BASE_URL=%s/v1", mock_url(srv));

	/* a first run is proposed, and rejected with a reason that quotes a password */
	mock_push_json(srv, 200, first);
	e2e_run(&w, env, "--model", "openai:gpt-4o-mini", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	snprintf(first_id, sizeof(first_id), "%s", e2e_str(&w, "run_id"));
	reject[3] = first_id;
	reject[5] = w.cache;
	ck_assert_int_eq(fx_run(&out, &status, reject, env, w.tmp), 0);
	ck_assert_msg(status == 0, "reject: %s", out);
	free(out);
	out = NULL;

	/* the ticket again, reworded; the model asks for every secret with its
	 * tools, then fails once (the test prints the .env), then passes */
	ck_assert_int_eq(fx_write_file(w.ticket, "---\nscope: src/**, value.txt\nchecks: sh test.sh\n"
	                                         "---\n# Make the answer right\n\nPlease make value.txt "
	                                         "say 42, thank you.\n"), 0);
	mock_push_json(srv, 200, tools);
	mock_push_json(srv, 200, b43);
	mock_push_json(srv, 200, b42);
	e2e_run(&w, env, "--model", "openai:gpt-4o-mini", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_uint_eq(mock_request_count(srv), 4);
	for (size_t i = 0; i < mock_request_count(srv); i++)
		assert_no_secret("a model request", mock_request_body(srv, i));
	/* what did go: the reason (reworded ticket, same identity), redacted */
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 1), "the deploy password=[REDACTED:"));
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 1), "must not be hardcoded"));
	/* with the change that was rejected */
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 1), "The change that was rejected:"));
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 1), "+answer = 42"));
	/* the file in scope, with its token replaced */
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 1), "DEBUG = True"));
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 1), "[REDACTED:github-token]"));
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 1), "STRIPE_KEY = \\\"[REDACTED:high-entropy]"));
	/* the tools' answers */
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 2), "denied by policy: .env may not"));
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 2), "denied by policy: src/link.txt"));
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 2), "denied by policy: private/notes.txt"));
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 2), "denied by policy: id_rsa"));
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 2), "denied by policy: src/../.env"));
	/* the failing test's output, with the .env's password replaced */
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 3), "DB_PASSWORD=[REDACTED:"));
	/* the ledger lists each decision, never the secret */
	ck_assert_int_eq(fx_read_file(&ledger, e2e_str(&w, "ledger")), 0);
	assert_no_secret("the ledger", ledger);
	ck_assert_ptr_nonnull(strstr(ledger, "\"type\":\"outbound.denied\""));
	ck_assert_ptr_nonnull(strstr(ledger, "\"path\":\"src/link.txt\",\"rule\":\".env* (default)\""));
	ck_assert_ptr_nonnull(strstr(ledger, "\"rule\":\"github-token\""));
	/* and which earlier decision the run used */
	{
		char used[200];

		snprintf(used, sizeof(used), "\"type\":\"feedback.used\",\"identity\":\"title:make-"
		         "the-answer-right scope:src/**,value.txt\",\"proposals\":[\"%s\"]", reject[3]);
		ck_assert_msg(strstr(ledger, used) != NULL, "no %s in the ledger", used);
	}

	/* warden scan lists each of them, without a model */
	scan[3] = w.src;
	ck_assert_int_eq(fx_run(&out, &status, scan, env, w.tmp), 0);
	ck_assert_msg(status == 0, "scan: %s", out);
	assert_no_secret("warden scan", out);
	ck_assert_ptr_nonnull(strstr(out, "{\"path\":\".env\",\"rule\":\".env* (default)\"}"));
	ck_assert_ptr_nonnull(strstr(out, "{\"path\":\"id_rsa\",\"rule\":\"id_* (default)\"}"));
	ck_assert_ptr_nonnull(strstr(out, "{\"path\":\"private/notes.txt\",\"rule\":\"private/** "
	                                  "(.wardenignore)\"}"));
	ck_assert_ptr_nonnull(strstr(out, "{\"path\":\"src/link.txt\""));
	ck_assert_ptr_nonnull(strstr(out, "{\"path\":\"src/settings.py\",\"line\":2,\"rule\":"
	                                  "\"github-token\"}"));
	ck_assert_ptr_nonnull(strstr(out, "{\"path\":\"src/settings.py\",\"line\":3,\"rule\":"
	                                  "\"high-entropy\"}"));
	ck_assert_uint_eq(mock_request_count(srv), 4);

	/* the control: every secret is in the repository to be sent */
	{
		const char *const where[] = { ".env", "id_rsa", "src/settings.py", "private/notes.txt",
		                              "src/link.txt", NULL };
		char p[700];

		for (size_t i = 0; where[i]; i++) {
			snprintf(p, sizeof(p), "%s/%s", w.src, where[i]);
			ck_assert_int_eq(fx_read_file(&file, p), 0);
			ck_assert_msg(strstr(file, "Pl4nted") || strstr(file, "PLANTED") ||
			              strstr(file, "planted") || strstr(file, ENTROPY_SECRET),
			              "%s holds no planted secret", where[i]);
			free(file);
			file = NULL;
		}
	}
	free(out);
	free(ledger);
	free(first);
	free(tools);
	free(b43);
	free(b42);
	mock_stop(srv);
	e2e_world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("outbound");
	TCase *pol = tcase_create("policy"), *run = tcase_create("run");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(pol, setup, teardown);
	tcase_add_test(pol, the_default_policy_keeps_keys_and_env_files);
	tcase_add_test(pol, user_deny_wardenignore_and_per_model_allowances);
	tcase_add_test(pol, tool_calls_for_denied_paths_are_answered_denied);
	suite_add_tcase(s, pol);
	tcase_set_timeout(run, 180);
	tcase_add_test(run, planted_secrets_never_reach_the_model);
	suite_add_tcase(s, run);
	git_libgit2_init();
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	git_libgit2_shutdown();
	return failed ? 1 : 0;
}
