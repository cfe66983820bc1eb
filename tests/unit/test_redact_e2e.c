/*
 * Credentials a check prints never leave warden. A check's output is
 * untrusted: a test can print a private key, a token from a file in the
 * repository, a password from a config. The gate redacts it before anything
 * reads it, so the model's requests, the ledger, the --json result and the
 * terminal carry markers instead. Here: the gate on its own, then `warden
 * run` end to end on the OpenAI path through a loopback server that records
 * every request, with a control that the same check run directly prints
 * every secret.
 */
#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "fixture.h"
#include "mockhttp.h"
#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/gate.h"
#include "warden/ledger.h"

/* The environment variable the user names in redact.env, and one that is
 * secret by its name (*_TOKEN). The sandbox gives checks a clean
 * environment, so the check prints their values from secrets.txt. */
#define DSN_VAR "WD_E2E_DSN"
#define DSN_VALUE "e2e-dsn-postgres-hunter-77"
#define TOKEN_VAR "WD_E2E_DEPLOY_TOKEN"
#define TOKEN_VALUE "e2e-deploy-token-value-42"

/* One planted credential per shape: the line the check prints, and the part
 * of it that must never leave warden. */
static const struct planted {
	const char *line;
	const char *secret;
} planted[] = {
	{ "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n"
	  "-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE" },
	{ "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG\n"
	  "-----END ENCRYPTED PRIVATE KEY-----", "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG" },
	{ "aws id AKIAZ7QX3MPLE4KEY5ID", "AKIAZ7QX3MPLE4KEY5ID" },
	{ "aws_secret_access_key = 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", "Zk9yR2V0TWVOb3QvS2V5c0FyZUhhcmQrMTIzNDU2" },
	{ "github ghp_Q1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKk", "ghp_Q1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKk" },
	{ "fine-grained github_pat_11AAQ2Z3Y0abcdefGHIJKL_mnopQRSTuvwxYZ0123456789abcdefGHIJ",
	  "github_pat_11AAQ2Z3Y0abcdefGHIJKL_mnopQRSTuvwxYZ0123456789abcdefGHIJ" },
	{ "gitlab glpat-Zz9Yy8Xx7Ww6Vv5Uu4Tt", "glpat-Zz9Yy8Xx7Ww6Vv5Uu4Tt" },
	{ "npm npm_Pp0Oo9Ii8Uu7Yy6Tt5Rr4Ee3Ww2Qq1Aa2Ss3D", "npm_Pp0Oo9Ii8Uu7Yy6Tt5Rr4Ee3Ww2Qq1Aa2Ss3D" },
	{ "slack xoxb-220011223344-5566778899001-QwErTyUiOpAsDfGhJkLzXcVb",
	  "xoxb-220011223344-5566778899001-QwErTyUiOpAsDfGhJkLzXcVb" },
	{ "google AIzaSyQ-7xK2mP9vL4nR8tW1qE6yU3iO0aS5dFg", "AIzaSyQ-7xK2mP9vL4nR8tW1qE6yU3iO0aS5dFg" },
	{ "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtdXNlciJ9.Xq3v9Lm2Kp7Rt5Wn8Yb1Zc4Hd6Jf0Gs",
	  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtdXNlciJ9.Xq3v9Lm2Kp7Rt5Wn8Yb1Zc4Hd6Jf0Gs" },
	{ "db password=Tr0ub4dor-and-3", "Tr0ub4dor-and-3" },
	{ "config api_key: \"cfg-Api-K3y-5678\"", "cfg-Api-K3y-5678" },
	{ "remote https://deploy:gitcred-S3cret-99@git.example.com/o/r.git", "gitcred-S3cret-99" },
	{ "openai sk-proj-E2eTest0123456789AbCdEfGh", "sk-proj-E2eTest0123456789AbCdEfGh" },
	{ "header Authorization: Bearer e2e.bearer-Tok3n_value", "e2e.bearer-Tok3n_value" },
	{ "dsn " DSN_VALUE, DSN_VALUE },
	{ "deploy " TOKEN_VALUE, TOKEN_VALUE },
};

#define NPLANTED (sizeof(planted) / sizeof(planted[0]))

static char *tmp;

static void setup(void)
{
	git_libgit2_init();
	ck_assert_int_eq(fx_tmpdir(&tmp), 0);
	wd_redact_reset();
}

static void teardown(void)
{
	fx_rm_rf(tmp);
	free(tmp);
	wd_redact_reset();
	git_libgit2_shutdown();
}

/* secrets.txt: every planted line, each flagged so that a failure summary
 * would quote it ("error:" is one of the lines the summary keeps). */
static char *secrets_file(void)
{
	wd_buf b = WD_BUF_INIT;

	for (size_t i = 0; i < NPLANTED; i++)
		ck_assert_int_eq(wd_buf_printf(&b, "error: leaked %s\n", planted[i].line), 0);
	return wd_buf_detach(&b);
}

static void assert_free_of_secrets(const char *where, const char *text)
{
	for (size_t i = 0; i < NPLANTED; i++) {
		const char *at = strstr(text, planted[i].secret);
		size_t before = at && at - text > 80 ? 80 : at ? (size_t)(at - text) : 0;

		/* the message shows the leak in context, not the whole text */
		ck_assert_msg(at == NULL, "%.200s carries '%s': …%.*s…", where, planted[i].secret,
		              (int)(before + strlen(planted[i].secret) + 40), at ? at - before : "");
	}
}

/* ------------------------------------------------------------------ the gate */

START_TEST(check_output_is_redacted_before_the_digest_and_the_parsers)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_opts o = WD_GATE_OPTS_INIT;
	wd_gate_result r;
	wd_buf path = WD_BUF_INIT, summary = WD_BUF_INIT, raw = WD_BUF_INIT;
	wd_ledger *ledger = NULL;
	char *secrets = secrets_file(), expect[41];

	setenv(TOKEN_VAR, TOKEN_VALUE, 1);
	setenv(DSN_VAR, DSN_VALUE, 1);
	wd_redact_register_env();
	wd_redact_register_env_names(DSN_VAR);
	ck_assert_int_eq(wd_buf_printf(&path, "%s/secrets.txt", tmp), 0);
	ck_assert_int_eq(fx_write_file(path.ptr, secrets), 0);
	/* a TAP test whose name and diagnostics carry a secret */
	wd_buf_clear(&path);
	ck_assert_int_eq(wd_buf_printf(&path, "%s/tap.txt", tmp), 0);
	ck_assert_int_eq(fx_write_file(path.ptr, "not ok 1 - login password=Tr0ub4dor-and-3\n"
	                                         "# got ghp_Q1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKk\n"
	                                         "1..1\n"), 0);
	wd_buf_clear(&path);
	ck_assert_int_eq(wd_buf_printf(&path, "%s/ledger.jsonl", tmp), 0);
	ck_assert_int_eq(wd_ledger_open(&ledger, path.ptr, "g1"), 0);
	ck_assert_int_eq(wd_checklist_add(&l, "unit", WD_CHECK_TEST,
	                                  "cat tap.txt secrets.txt; exit 1", 0), 0);
	o.ledger = ledger;
	ck_assert_msg(wd_gate_run(&r, tmp, &l, &o) == 0, "%s", wd_error_last());
	wd_ledger_close(ledger);
	ck_assert_int_eq(r.v[0].passed, 0);
	assert_free_of_secrets("the captured output", r.v[0].output.ptr);
	ck_assert_ptr_nonnull(strstr(r.v[0].output.ptr, "error: leaked [REDACTED:private-key]"));
	ck_assert_ptr_nonnull(strstr(r.v[0].output.ptr, "dsn [REDACTED:known-secret]"));
	ck_assert_ptr_nonnull(strstr(r.v[0].output.ptr, "deploy [REDACTED:known-secret]"));
	/* the digest is of what was kept */
	ck_assert_int_eq(wd_hash_hex(expect, r.v[0].output.ptr, r.v[0].output.len), 0);
	ck_assert_str_eq(r.v[0].digest, expect);
	/* the parsers saw the redacted text: the test's name has the marker */
	ck_assert_str_eq(r.v[0].tests.format, "tap");
	ck_assert_uint_eq(r.v[0].tests.n, 1);
	ck_assert_str_eq(r.v[0].tests.v[0].name, "login password=[REDACTED:assignment]");
	ck_assert_int_eq(wd_gate_summary(&summary, &r, NULL, 6000), 0);
	assert_free_of_secrets("the repair summary", summary.ptr);
	ck_assert_ptr_nonnull(strstr(summary.ptr, "[REDACTED:github-token]"));
	ck_assert_int_eq(wd_file_read(&raw, path.ptr, 0), 0);
	assert_free_of_secrets("the ledger", raw.ptr);
	wd_buf_free(&raw);
	wd_buf_free(&summary);
	wd_buf_free(&path);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
	free(secrets);
}
END_TEST

/* A results file is read apart from the output; what the model gets from it
 * (failure messages) is redacted in the summary. */
START_TEST(results_file_messages_are_redacted_in_the_summary)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_opts o = WD_GATE_OPTS_INIT;
	wd_gate_result r;
	wd_buf summary = WD_BUF_INIT, xml = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_printf(&xml, "%s/junit-src.xml", tmp), 0);
	ck_assert_int_eq(fx_write_file(xml.ptr, "<testsuite><testcase classname=\"m\" name=\"a\">"
	                                        "<failure message=\"db password=Tr0ub4dor-and-3 via "
	                                        "glpat-Zz9Yy8Xx7Ww6Vv5Uu4Tt\"/></testcase></testsuite>"), 0);
	ck_assert_int_eq(wd_checklist_add(&l, "junit", WD_CHECK_TEST,
		"mkdir -p out && cp junit-src.xml out/junit.xml; exit 1", 0), 0);
	l.v[0].results_file = strdup("out/junit.xml");
	ck_assert_msg(wd_gate_run(&r, tmp, &l, &o) == 0, "%s", wd_error_last());
	ck_assert_str_eq(r.v[0].tests.format, "junit");
	ck_assert_int_eq(wd_gate_summary(&summary, &r, NULL, 6000), 0);
	assert_free_of_secrets("the summary", summary.ptr);
	ck_assert_ptr_nonnull(strstr(summary.ptr, "password=[REDACTED:assignment] via "
	                                          "[REDACTED:gitlab-token]"));
	wd_buf_free(&summary);
	wd_buf_free(&xml);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

/* ------------------------------------------------------------------ warden run */

static const char *warden_bin(void)
{
	const char *b = getenv("WARDEN_BIN");

	return b && *b ? b : "./build/warden";
}

#define DIFF_TO(n) \
	"--- a/value.txt\n+++ b/value.txt\n@@ -1 +1 @@\n-answer = 41\n+answer = " #n "\n"

static const char test_sh[] =
	"#!/bin/sh\n"
	"cat secrets.txt\n"
	"if grep -q '^answer = 42$' value.txt; then echo 'ok answer'; exit 0; fi\n"
	"echo \"FAIL answer: expected 42, got $(cat value.txt)\"\n"
	"exit 1\n";

/* The user's repository: the check prints secrets.txt, then fails until
 * value.txt says 42. Neither the ticket nor its scope names secrets.txt, so
 * its content reaches the model only through the check's output. */
static void make_repo(const char *src, const char *secrets)
{
	const char *files[] = { "value.txt", "answer = 41\n", "secrets.txt", secrets,
	                        "test.sh", test_sh, NULL };

	ck_assert_int_eq(fx_repo_create(src, files, "initial"), 0);
}

/* Every regular file under dir, except in the subdirectories named in skip,
 * must be free of the planted secrets. Returns how many files were read. */
static size_t assert_tree_free_of_secrets(const char *dir, const char *const *skip)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char path[1024];
		struct stat st;
		int skipped = 0;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (size_t i = 0; skip && skip[i]; i++)
			skipped |= !strcmp(e->d_name, skip[i]);
		if (skipped)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ck_assert_int_eq(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			n += assert_tree_free_of_secrets(path, NULL);
		} else if (S_ISREG(st.st_mode)) {
			char *text = NULL;

			ck_assert_int_eq(fx_read_file(&text, path), 0);
			assert_free_of_secrets(path, text);
			free(text);
			n++;
		}
	}
	closedir(d);
	return n;
}

START_TEST(planted_secrets_never_leave_warden)
{
	char src[512], ticket[512], cache[512], config[512], env_url[300], env_config[600];
	char *secrets = secrets_file(), *output = NULL, *ledger = NULL, *line;
	char *b1 = mock_openai_chat_body("Set it to 43.\n```diff\n" DIFF_TO(43) "```\n", 500, 40);
	char *b2 = mock_openai_chat_body("Now 42.\n```diff\n" DIFF_TO(42) "```\n", 700, 30);
	const char *env[] = { env_url, env_config, "OPENAI_API_KEY=sk-e2e-redact-0123456789abcdef",
	                      DSN_VAR "=" DSN_VALUE, TOKEN_VAR "=" TOKEN_VALUE, NULL };
	const char *argv[] = { warden_bin(), "run", "--repo", src, "--ticket", ticket, "--work-dir",
	                       cache, "--model", "openai:gpt-4o-mini", "--json", NULL };
	const char *const cache_skip[] = { "mirrors", "runs", NULL };
	mock_server *srv = NULL;
	json_t *result;
	int status = -1;

	snprintf(src, sizeof(src), "%s/src", tmp);
	snprintf(ticket, sizeof(ticket), "%s/ticket.md", tmp);
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	snprintf(config, sizeof(config), "%s/user-config", tmp);
	make_repo(src, secrets);
	ck_assert_int_eq(fx_write_file(ticket, "---\nscope: value.txt\nchecks: sh test.sh\n---\n"
	                                       "# Make the answer right\n\nvalue.txt must say 42.\n"), 0);
	/* the user's own config names a variable whose value is a secret */
	ck_assert_int_eq(fx_write_file(config, "[redact]\n\tenv = " DSN_VAR "\n"), 0);
	snprintf(env_config, sizeof(env_config), "WARDEN_CONFIG=%s", config);
	ck_assert_int_eq(mock_start(&srv), 0);
	mock_push_json(srv, 200, b1);
	mock_push_json(srv, 200, b2);
	snprintf(env_url, sizeof(env_url), "OPENAI_BASE_URL=%s/v1", mock_url(srv));

	ck_assert_int_eq(fx_run(&output, &status, argv, env, tmp), 0);
	ck_assert_msg(status == 0, "exit %d:\n%.2000s", status, output);

	/* round 1 failed, round 2 passed: two requests, the second with the repair */
	ck_assert_uint_eq(mock_request_count(srv), 2);
	for (size_t i = 0; i < mock_request_count(srv); i++)
		assert_free_of_secrets("a model request", mock_request_body(srv, i));
	/* the check's lines did reach the model, as markers */
	line = strstr(mock_request_body(srv, 1), "FAIL answer: expected 42, got answer = 43");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 1), "error: leaked [REDACTED:private-key]"));
	for (size_t i = 0; i < 13; i++) {
		static const char *const rules[] = {
			"aws-key-id", "aws-secret", "github-token", "gitlab-token", "npm-token",
			"slack-token", "google-api-key", "jwt", "assignment", "url-password", "api-key",
			"bearer", "known-secret"
		};
		char marker[64];

		snprintf(marker, sizeof(marker), "[REDACTED:%s]", rules[i]);
		ck_assert_msg(strstr(mock_request_body(srv, 1), marker) != NULL, "no '%s' in:\n%.3000s",
		              marker, mock_request_body(srv, 1));
	}
	/* stdout (the --json result) and stderr */
	assert_free_of_secrets("warden's output", output);
	line = strstr(output, "\n{");
	line = line ? line + 1 : (output[0] == '{' ? output : NULL);
	ck_assert_ptr_nonnull(line);
	result = json_loadb(line, strcspn(line, "\n"), 0, NULL);
	ck_assert_ptr_nonnull(result);
	ck_assert_str_eq(json_string_value(json_object_get(result, "status")), "proposed");
	ck_assert_int_eq(json_integer_value(json_object_get(result, "rounds")), 2);
	/* the ledger, and everything else warden keeps in its cache */
	ck_assert_int_eq(fx_read_file(&ledger, json_string_value(json_object_get(result, "ledger"))), 0);
	assert_free_of_secrets("the ledger", ledger);
	ck_assert_ptr_nonnull(strstr(ledger, "\"type\":\"check\""));
	ck_assert_uint_ge(assert_tree_free_of_secrets(cache, cache_skip), 2);

	json_decref(result);
	free(ledger);
	free(output);
	mock_stop(srv);
	free(b1);
	free(b2);
	free(secrets);
}
END_TEST

/* The control: the same check, run directly, prints every secret, so the
 * test above would catch a leak on any path. */
START_TEST(control_the_same_check_run_directly_prints_every_secret)
{
	char src[512], *secrets = secrets_file(), *output = NULL;
	const char *argv[] = { "sh", "test.sh", NULL };
	int status = -1;

	snprintf(src, sizeof(src), "%s/src", tmp);
	make_repo(src, secrets);
	ck_assert_int_eq(fx_run(&output, &status, argv, NULL, src), 0);
	ck_assert_int_eq(status, 1);
	for (size_t i = 0; i < NPLANTED; i++)
		ck_assert_msg(strstr(output, planted[i].secret) != NULL, "the check did not print '%s'",
		              planted[i].secret);
	/* and every planted line but the registered values is a shape the redactor knows */
	for (size_t i = 0; i < NPLANTED; i++) {
		char *r;

		if (strstr(planted[i].secret, "e2e-"))
			continue; /* registered values: only once registered */
		r = wd_redact(planted[i].line);
		ck_assert_msg(strstr(r, planted[i].secret) == NULL, "shape not known: %s", planted[i].line);
		free(r);
	}
	free(output);
	free(secrets);
}
END_TEST

/* Text warden prints that did not come through a check is redacted too: an
 * error quoting the source's URL, in the --json reason and on stderr. */
START_TEST(errors_warden_prints_are_redacted)
{
	char ticket[512], cache[512], *output = NULL;
	const char *argv[] = { warden_bin(), "run", "--repo",
	                       "https://deploy:gitcred-S3cret-99@127.0.0.1:9/o/r.git", "--ticket",
	                       ticket, "--work-dir", cache, "--model", "replay:/dev/null", "--json",
	                       NULL };
	int status = -1;

	snprintf(ticket, sizeof(ticket), "%s/ticket.md", tmp);
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	ck_assert_int_eq(fx_write_file(ticket, "---\nchecks: true\n---\n# T\n\nbody\n"), 0);
	ck_assert_int_eq(fx_run(&output, &status, argv, NULL, tmp), 0);
	ck_assert_msg(status == 3, "exit %d:\n%.2000s", status, output);
	assert_free_of_secrets("warden's output", output);
	/* once in the JSON reason, once on stderr */
	ck_assert_ptr_nonnull(strstr(output, "\"reason\":\"updating the mirror of "
	                                     "https://deploy:[REDACTED:url-password]@127.0.0.1:9"));
	ck_assert_ptr_nonnull(strstr(output, "warden: updating the mirror of "
	                                     "https://deploy:[REDACTED:url-password]@127.0.0.1:9"));
	free(output);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redact_e2e");
	TCase *gate = tcase_create("gate"), *run = tcase_create("run");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(gate, setup, teardown);
	tcase_set_timeout(gate, 60);
	tcase_add_test(gate, check_output_is_redacted_before_the_digest_and_the_parsers);
	tcase_add_test(gate, results_file_messages_are_redacted_in_the_summary);
	suite_add_tcase(s, gate);
	tcase_add_checked_fixture(run, setup, teardown);
	tcase_set_timeout(run, 120);
	tcase_add_test(run, planted_secrets_never_leave_warden);
	tcase_add_test(run, control_the_same_check_run_directly_prints_every_secret);
	tcase_add_test(run, errors_warden_prints_are_redacted);
	suite_add_tcase(s, run);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
