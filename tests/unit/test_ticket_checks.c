/*
 * Issue 12, the ticket's side: header comments, an explicit id, a GitHub
 * issue's identity, and a reworded ticket keeping its identity.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <git2.h>

#include "e2e.h"
#include "fixture.h"
#include "mockhttp.h"
#include "warden/error.h"
#include "warden/gate.h"
#include "warden/ticket.h"

#include "../../src/ticket/ticket_int.h" /* the module's own test reads its fields */

static wd_ticket *parse_ok(const char *name, const char *text)
{
	wd_ticket *t = NULL;
	int rc = wd_ticket_parse(&t, name, text, strlen(text));

	ck_assert_msg(rc == 0, "parse failed: %s", wd_error_last());
	return t;
}

START_TEST(a_trailing_comment_is_not_part_of_the_value)
{
	wd_ticket *t = parse_ok("t.md", "---\nscope: src/*.c  # the parser, not the lexer\n"
	                                 "checks: make test # the whole suite\n"
	                                 "fail-to-pass: test_a, test_b\t# two of them\n"
	                                 "rounds: 2 # enough\n"
	                                 "checks: grep -q ' #x' f.txt  # quoted '#' stays\n"
	                                 "scope:\n  - lib/a#b.c\n  - lib/c.c # a list item too\n"
	                                 "---\n# T\n");

	ck_assert_uint_eq(t->scope.n, 3);
	ck_assert_str_eq(t->scope.v[0], "src/*.c");
	ck_assert_str_eq(t->scope.v[1], "lib/a#b.c"); /* no blank before '#': part of the name */
	ck_assert_str_eq(t->scope.v[2], "lib/c.c");
	ck_assert_uint_eq(t->checks.n, 2);
	ck_assert_str_eq(t->checks.v[0], "make test");
	ck_assert_str_eq(t->checks.v[1], "grep -q ' #x' f.txt");
	ck_assert_uint_eq(t->fail_to_pass.n, 2);
	ck_assert_str_eq(t->fail_to_pass.v[1], "test_b");
	ck_assert_int_eq(t->rounds, 2);
	wd_ticket_free(t);
}
END_TEST

START_TEST(an_explicit_id_is_the_identity)
{
	wd_ticket *a = parse_ok("a.md", "---\nid: PROJ-12  # from the tracker\n---\n# Fix it\nbody\n");
	wd_ticket *b = parse_ok("b.md", "---\nid: PROJ-12\nscope: x.c\n---\n# Please fix the thing\n");
	wd_ticket *c = parse_ok("c.json", "{\"id\": \"PROJ-12\", \"title\": \"Other\"}");
	wd_ticket *t = NULL;

	ck_assert_str_eq(a->identity, "id:PROJ-12");
	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_eq(a->id, c->id);
	ck_assert_uint_eq(strlen(a->id), 40);
	{
		const char *twice = "---\nid: a\nid: b\n---\n# T\n";

		ck_assert_int_eq(wd_ticket_parse(&t, "d.md", twice, strlen(twice)), WD_EINPUT);
	}
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "'id' is given twice"));
	wd_ticket_free(a);
	wd_ticket_free(b);
	wd_ticket_free(c);
}
END_TEST

START_TEST(a_github_issue_is_its_repository_and_number)
{
	wd_ticket *rest = parse_ok("i.json", "{\"id\": 99887766, \"number\": 7, \"title\": \"Crash\","
	                                     " \"body\": \"it crashes\", \"repository_url\": "
	                                     "\"https://api.github.com/repos/acme/tool\"}");
	wd_ticket *hook = parse_ok("h.json", "{\"action\": \"opened\", \"issue\": {\"number\": 7, "
	                                     "\"title\": \"Crash on start\", \"body\": null}, "
	                                     "\"repository\": {\"full_name\": \"acme/tool\"}}");

	ck_assert_str_eq(rest->identity, "github:acme/tool#7");
	ck_assert_str_eq(rest->id, hook->id); /* retitled, same issue */
	wd_ticket_free(rest);
	wd_ticket_free(hook);
}
END_TEST

START_TEST(a_reworded_body_keeps_the_identity)
{
	wd_ticket *a = parse_ok("a.md", "---\nscope: b.c, a.c\n---\n# Fix the parser\n\nFix it.\n");
	wd_ticket *b = parse_ok("b.md", "---\nscope: a.c,b.c\n---\n# fix the   parser!\n\nPlease fix "
	                                "it, thanks.\n");
	wd_ticket *c = parse_ok("c.md", "---\nscope: a.c\n---\n# Fix the parser\n\nFix it.\n");

	ck_assert_str_eq(a->identity, "title:fix-the-parser scope:a.c,b.c");
	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_ne(a->id, c->id); /* a different scope is a different ticket */
	wd_ticket_free(a);
	wd_ticket_free(b);
	wd_ticket_free(c);
}
END_TEST

START_TEST(check_kinds_are_known_or_refused_with_the_fix)
{
	wd_checklist l = WD_CHECKLIST_INIT;

	ck_assert_int_eq(wd_checklist_add_spec(&l, "tests: make check", 0), 0);
	ck_assert_int_eq(l.v[0].kind, WD_CHECK_TEST);
	ck_assert_str_eq(l.v[0].command, "make check");
	ck_assert_int_eq(wd_checklist_add_spec(&l, "lint: cppcheck .", 0), 0);
	ck_assert_int_eq(l.v[1].kind, WD_CHECK_ANALYZE);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "build:make", 0), 0);
	ck_assert_str_eq(l.v[2].command, "make");
	/* commands with a colon that is no kind */
	ck_assert_int_eq(wd_checklist_add_spec(&l, "echo a:b", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "curl http://127.0.0.1:9/", 0), 0);
	ck_assert_str_eq(l.v[4].command, "curl http://127.0.0.1:9/");
	ck_assert_int_eq(wd_checklist_add_spec(&l, "biuld: make", 0), WD_EINPUT);
	ck_assert_str_eq(wd_error_last(), "check 'biuld: make': unknown kind 'biuld' (did you mean "
	                                  "'build: make'?); kinds are test, build and analyze");
	ck_assert_int_eq(wd_checklist_add_spec(&l, "unit: make -C t", 0), WD_EINPUT);
	ck_assert_str_eq(wd_error_last(), "check 'unit: make -C t': unknown kind 'unit'; kinds are "
	                                  "test, build and analyze (write 'test: make -C t')");
	ck_assert_uint_eq(l.n, 5);
	wd_checklist_free(&l);
}
END_TEST

/* ------------------------------------------------------------ before the model */

/* A loopback model that would answer every request (with a passing diff):
 * the tests below show that it is never asked. */
struct model {
	mock_server *srv;
	char url[300];
	const char *env[3];
};

static void model_start(struct model *m)
{
	char *body = mock_openai_chat_body("Fixed.\n```diff\n" E2E_DIFF_TO(42) "```\n", 100, 10);
	mock_reply r = { 200, NULL, NULL, body, 0, 0, 0, 0, 0 };

	ck_assert_int_eq(mock_start(&m->srv), 0);
	mock_set_default(m->srv, &r);
	free(body);
	snprintf(m->url, sizeof(m->url), "OPENAI_BASE_URL=%s/v1", mock_url(m->srv));
	m->env[0] = m->url;
	m->env[1] = "OPENAI_API_KEY=sk-test-precheck-0123456789";
	m->env[2] = NULL;
}

static void run_with_model(struct e2e_world *w, struct model *m, const char *extra)
{
	if (extra)
		e2e_run(w, m->env, "--model", "openai:gpt-4o-mini", extra, (char *)NULL);
	else
		e2e_run(w, m->env, "--model", "openai:gpt-4o-mini", (char *)NULL);
}

static void assert_refused(struct e2e_world *w, struct model *m, int status, const char *msg)
{
	ck_assert_msg(w->status == status, "exit %d, not %d:\n%s", w->status, status, w->output);
	ck_assert_msg(strstr(w->output, msg) != NULL, "no '%s' in:\n%s", msg, w->output);
	ck_assert_msg(mock_request_count(m->srv) == 0, "the model was asked %zu time(s)",
	              mock_request_count(m->srv));
	e2e_assert_user_repo_unchanged(w, 0);
}

static void write_ticket(struct e2e_world *w, const char *text)
{
	ck_assert_int_eq(fx_write_file(w->ticket, text), 0);
}

START_TEST(a_scope_that_matches_no_file_stops_before_the_model)
{
	struct e2e_world w;
	struct model m;

	e2e_world_init(&w, NULL, "scope: src/*.txt\nchecks: sh test.sh\n");
	model_start(&m);
	run_with_model(&w, &m, NULL);
	assert_refused(&w, &m, 2, "scope 'src/*.txt' matches no file in the base");
	ck_assert_str_eq(e2e_str(&w, "status"), "error");
	/* a literal path says how to let the patch create it */
	write_ticket(&w, "---\nscope: value.txtt\nchecks: sh test.sh\n---\n# T\n\nbody\n");
	run_with_model(&w, &m, NULL);
	assert_refused(&w, &m, 2, "scope 'value.txtt' matches no file in the base (to let the patch "
	                          "create it, scope its directory: 'dir/')");
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

/* The control: the same ticket with a comment after its scope now runs (the
 * comment was part of the glob before, and every round was refused). */
START_TEST(a_comment_after_the_scope_is_not_part_of_it)
{
	struct e2e_world w;
	struct model m;

	e2e_world_init(&w, NULL, "scope: value.txt   # the answer lives here\n"
	                         "checks: sh test.sh # the only check\n");
	model_start(&m);
	run_with_model(&w, &m, NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_str_eq(e2e_str(&w, "status"), "proposed");
	ck_assert_uint_eq(mock_request_count(m.srv), 1);
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

static const char *const c_files[] = {
	"calc.c", "int add(int a, int b)\n{\n\treturn a + b;\n}\n",
	"value.txt", "answer = 41\n",
	"test.sh", "grep -q '^answer = 42$' value.txt\n",
	NULL
};

START_TEST(a_symbol_the_file_does_not_define_stops_before_the_model)
{
	struct e2e_world w;
	struct model m;

	e2e_world_init(&w, c_files, "scope: value.txt, calc.c:ad\nchecks: sh test.sh\n");
	model_start(&m);
	run_with_model(&w, &m, NULL);
	assert_refused(&w, &m, 2, "scope 'calc.c:ad': calc.c does not define 'ad' (did you mean "
	                          "'add'?)");
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

START_TEST(a_check_of_an_unknown_kind_stops_before_the_model)
{
	struct e2e_world w;
	struct model m;

	e2e_world_init(&w, NULL, "scope: value.txt\nchecks: tset: sh test.sh\n");
	model_start(&m);
	run_with_model(&w, &m, NULL);
	assert_refused(&w, &m, 2, "check 'tset: sh test.sh': unknown kind 'tset' (did you mean "
	                          "'test: sh test.sh'?)");
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

START_TEST(names_in_the_body_that_do_not_exist_escalate)
{
	struct e2e_world w;
	struct model m;

	e2e_world_init(&w, NULL, NULL);
	write_ticket(&w, "---\nscope: value.txt\nchecks: sh test.sh\n---\n# Make the answer right\n\n"
	                 "The answer in `value.txt` comes from `lib/answer.c`; `compute_answer()` "
	                 "gets it wrong. Add `new_helper()` if needed; run `make test`.\n");
	model_start(&m);
	run_with_model(&w, &m, NULL);
	assert_refused(&w, &m, 5, "a person must decide: The ticket names `lib/answer.c`, "
	                          "`compute_answer()`, which do not exist in the base");
	ck_assert_str_eq(e2e_str(&w, "status"), "escalated");
	ck_assert_ptr_nonnull(strstr(e2e_str(&w, "question"), "`lib/answer.c`, `compute_answer()`"));
	/* what the ticket asks to add is not looked for */
	ck_assert_ptr_null(strstr(e2e_str(&w, "question"), "new_helper"));
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

/* TAP: "sums" passes, "answer" fails until value.txt says 42. */
static const char tap_test[] =
	"echo 'ok 1 - sums'\n"
	"if grep -q '^answer = 42$' value.txt; then echo 'ok 2 - answer'; else echo 'not ok 2 - answer'; fi\n"
	"echo '1..2'\n"
	"grep -q '^answer = 42$' value.txt\n";

static const char *const tap_files[] = {
	"value.txt", "answer = 41\n", "other.txt", "left alone\n", "test.sh", tap_test, NULL
};

START_TEST(a_fail_to_pass_the_base_never_reports_stops_before_the_model)
{
	struct e2e_world w;
	struct model m;

	e2e_world_init(&w, tap_files, "scope: value.txt\nchecks: sh test.sh\nfail-to-pass: answr\n");
	model_start(&m);
	run_with_model(&w, &m, NULL);
	assert_refused(&w, &m, 2, "fail-to-pass answr: the base's checks report no such test, so it "
	                          "could never be judged fixed; the base reports: answer, sums");
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

START_TEST(a_baseline_that_timed_out_stops_before_the_model)
{
	struct e2e_world w;
	struct model m;

	e2e_world_init(&w, NULL, "scope: value.txt\nchecks: sleep 30\n");
	model_start(&m);
	run_with_model(&w, &m, "--check-timeout=1");
	assert_refused(&w, &m, 2, "the check 'test' (sleep 30) timed out on the base");
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

START_TEST(a_failing_base_without_fail_to_pass_escalates_before_the_first_call)
{
	struct e2e_world w;
	struct model m;

	e2e_world_init(&w, tap_files, "scope: value.txt\nchecks: sh test.sh\n");
	write_ticket(&w, "---\nscope: value.txt\nchecks: sh test.sh\n---\n# Tidy value.txt\n\n"
	                 "Reformat it.\n");
	model_start(&m);
	run_with_model(&w, &m, NULL);
	assert_refused(&w, &m, 5, "the base already fails answer: name the tests this ticket must "
	                          "fix (`fail-to-pass:`), or fix the base first.");
	ck_assert_str_eq(e2e_str(&w, "status"), "escalated");
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

START_TEST(a_failing_test_the_ticket_names_becomes_its_fail_to_pass)
{
	struct e2e_world w;
	struct model m;
	char *ledger = NULL;

	e2e_world_init(&w, tap_files, "scope: value.txt\nchecks: sh test.sh\n");
	write_ticket(&w, "---\nscope: value.txt\nchecks: sh test.sh\n---\n# Fix the answer test\n\n"
	                 "The test `answer` fails: value.txt must say 42.\n");
	model_start(&m);
	run_with_model(&w, &m, NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_uint_eq(mock_request_count(m.srv), 1);
	ck_assert_int_eq(fx_read_file(&ledger, e2e_str(&w, "ledger")), 0);
	ck_assert_msg(strstr(ledger, "\"type\":\"fail_to_pass.inferred\",\"tests\":[\"answer\"]") ||
	              strstr(ledger, "\"tests\":[\"answer\"]"), "%s", ledger);
	ck_assert_ptr_nonnull(strstr(ledger, "fail_to_pass.inferred"));
	free(ledger);
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

START_TEST(a_dry_run_shows_the_first_request_and_sends_nothing)
{
	struct e2e_world w;
	struct model m;
	json_t *dr, *msgs, *files;

	e2e_world_init(&w, NULL, NULL);
	model_start(&m);
	run_with_model(&w, &m, "--dry-run");
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_uint_eq(mock_request_count(m.srv), 0);
	ck_assert_str_eq(e2e_str(&w, "status"), "dry_run");
	dr = json_object_get(w.result, "dry_run");
	msgs = json_object_get(dr, "messages");
	ck_assert_uint_eq(json_array_size(msgs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(msgs, 0), "role")), "system");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(msgs, 1),
	                                                               "content")),
	                             "value.txt must say 42."));
	files = json_object_get(dr, "files");
	ck_assert_uint_ge(json_array_size(files), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 0), "path")),
	                 "value.txt");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(files, 0), "bytes")), 12);
	ck_assert_uint_eq(json_array_size(json_object_get(dr, "tools")), 5);
	ck_assert_int_gt(json_integer_value(json_object_get(dr, "estimated_input_tokens")), 100);
	ck_assert(json_is_real(json_object_get(dr, "estimated_input_cost_usd")));
	/* no check ran, no branch was made */
	ck_assert_ptr_null(strstr(w.output, "warden: baseline"));
	ck_assert_int_eq(e2e_count_warden_refs(w.src), 0);
	e2e_assert_user_repo_unchanged(&w, 0);
	/* without --json: the same as text */
	{
		char *out = NULL;
		int status = -1;
		const char *argv[] = { e2e_warden_bin(), "run", "--repo", w.src, "--ticket", w.ticket,
		                       "--work-dir", w.cache, "--model", "openai:gpt-4o-mini",
		                       "--dry-run", "-q", NULL };

		ck_assert_int_eq(fx_run(&out, &status, argv, m.env, w.tmp), 0);
		ck_assert_int_eq(status, 0);
		ck_assert_ptr_nonnull(strstr(out, "dry run: the first request to openai:gpt-4o-mini"));
		ck_assert_ptr_nonnull(strstr(out, "=== message 2: user ("));
		ck_assert_ptr_nonnull(strstr(out, "about $"));
		free(out);
	}
	ck_assert_uint_eq(mock_request_count(m.srv), 0);
	mock_stop(m.srv);
	e2e_world_free(&w);
}
END_TEST

/* ------------------------------------------------------------ handing it back */

START_TEST(the_model_can_hand_the_ticket_back_to_a_person)
{
	struct e2e_world w;
	mock_server *srv = NULL;
	char url[300];
	const char *env[] = { url, "OPENAI_API_KEY=sk-test-escalate-0123456789", NULL };
	char *b = mock_openai_chat_body("I looked at value.txt.\n\n**ESCALATE:** Should the answer "
	                                "be 42, as the ticket says,\nor 43, as the comment in "
	                                "value.txt says?\n", 100, 20);

	e2e_world_init(&w, NULL, NULL);
	ck_assert_int_eq(mock_start(&srv), 0);
	mock_push_json(srv, 200, b);
	snprintf(url, sizeof(url), "OPENAI_BASE_URL=%s/v1", mock_url(srv));
	e2e_run(&w, env, "--model", "openai:gpt-4o-mini", (char *)NULL);
	ck_assert_msg(w.status == 5, "exit %d:\n%s", w.status, w.output);
	ck_assert_str_eq(e2e_str(&w, "status"), "escalated");
	ck_assert_str_eq(e2e_str(&w, "question"), "Should the answer be 42, as the ticket says, or "
	                                          "43, as the comment in value.txt says?");
	ck_assert_ptr_nonnull(strstr(w.output, "warden: a person must decide: Should the answer"));
	ck_assert_uint_eq(mock_request_count(srv), 1);
	/* the prompt defines the form */
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 0), "ESCALATE: "));
	ck_assert_int_eq(e2e_count_warden_refs(w.src), 0);
	e2e_assert_user_repo_unchanged(&w, 0);
	mock_stop(srv);
	free(b);
	e2e_world_free(&w);
}
END_TEST

START_TEST(exhausted_rounds_say_what_each_round_tried)
{
	struct e2e_world w;

	e2e_world_init(&w, NULL, NULL);
	e2e_write_replay(&w, "Set it to 43.\n```diff\n" E2E_DIFF_TO(43) "```\n",
	                 "No diff this time.\n", (char *)NULL);
	{
		char spec[600];

		snprintf(spec, sizeof(spec), "replay:%s", w.replay);
		e2e_run(&w, NULL, "--model", spec, "--rounds", "2", (char *)NULL);
	}
	ck_assert_msg(w.status == 1, "exit %d:\n%s", w.status, w.output);
	ck_assert_ptr_nonnull(strstr(e2e_str(&w, "reason"), "what was tried:\nround 1: "));
	ck_assert_ptr_nonnull(strstr(e2e_str(&w, "reason"), "\nround 2: The reply contained no "
	                                                   "edit."));
	e2e_world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ticket_checks");
	TCase *tc = tcase_create("header");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, a_trailing_comment_is_not_part_of_the_value);
	tcase_add_test(tc, an_explicit_id_is_the_identity);
	tcase_add_test(tc, a_github_issue_is_its_repository_and_number);
	tcase_add_test(tc, a_reworded_body_keeps_the_identity);
	tcase_add_test(tc, check_kinds_are_known_or_refused_with_the_fix);
	suite_add_tcase(s, tc);
	tc = tcase_create("before-the-model");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_scope_that_matches_no_file_stops_before_the_model);
	tcase_add_test(tc, a_comment_after_the_scope_is_not_part_of_it);
	tcase_add_test(tc, a_symbol_the_file_does_not_define_stops_before_the_model);
	tcase_add_test(tc, a_check_of_an_unknown_kind_stops_before_the_model);
	tcase_add_test(tc, names_in_the_body_that_do_not_exist_escalate);
	tcase_add_test(tc, a_fail_to_pass_the_base_never_reports_stops_before_the_model);
	tcase_add_test(tc, a_baseline_that_timed_out_stops_before_the_model);
	tcase_add_test(tc, a_failing_base_without_fail_to_pass_escalates_before_the_first_call);
	tcase_add_test(tc, a_failing_test_the_ticket_names_becomes_its_fail_to_pass);
	tcase_add_test(tc, a_dry_run_shows_the_first_request_and_sends_nothing);
	tcase_add_test(tc, the_model_can_hand_the_ticket_back_to_a_person);
	tcase_add_test(tc, exhausted_rounds_say_what_each_round_tried);
	suite_add_tcase(s, tc);
	git_libgit2_init();
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	git_libgit2_shutdown();
	return failed ? 1 : 0;
}
