/*
 * A real run whose first round fails a check that names a function: the
 * repair prompt carries that function's code (from the base), and the
 * ledger says why (`context.repair`); the first request has no such part.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <jansson.h>

#include "e2e.h"
#include "warden/buf.h"
#include "warden/ledger.h"

/* the failing check names check_answer_range; its code lives in rules/answer.py */
static const char *const files[] = {
	"value.txt", "answer = 41\n",
	"rules/answer.py",
	"def check_answer_range(value):\n"
	"    \"\"\"The answer must be exactly forty-two.\"\"\"\n"
	"    return value == 42\n"
	"\n\n"
	"def unrelated_helper(x):\n"
	"    return x * 2\n",
	"test.sh",
	"#!/bin/sh\n"
	"if grep -q '^answer = 42$' value.txt; then echo 'ok answer'; exit 0; fi\n"
	"echo \"FAIL check_answer_range: expected 42, got $(cat value.txt)\"\n"
	"exit 1\n",
	NULL
};

static json_t *find_event(json_t *evs, const char *type, int nth)
{
	size_t i;
	json_t *ev;

	json_array_foreach(evs, i, ev) {
		const char *t = json_string_value(json_object_get(ev, "type"));

		if (t && !strcmp(t, type) && nth-- == 0)
			return ev;
	}
	return NULL;
}

static char *blob(struct e2e_world *w, const char *hex)
{
	wd_buf b = WD_BUF_INIT;

	ck_assert_msg(hex && wd_ledger_blob_hex_ok(hex), "not a blob id: %s", hex ? hex : "(null)");
	ck_assert_int_eq(wd_ledger_blob_read(&b, e2e_str(w, "ledger"), hex, 0), 0);
	if (!b.ptr)
		ck_assert_int_eq(wd_buf_puts(&b, ""), 0);
	return wd_buf_detach(&b);
}

START_TEST(the_repair_prompt_carries_the_code_the_failure_names)
{
	struct e2e_world w;
	char spec[600], *s, *at;
	json_t *evs = NULL, *ev;

	e2e_world_init(&w, files, "scope: value.txt\nchecks: sh test.sh\n");
	e2e_write_replay(&w, "Set it to 43.\n```diff\n" E2E_DIFF_TO(43) "```\n",
	                 "Oops, 42.\n```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w.replay);
	e2e_run(&w, NULL, "--model", spec, (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_int_eq(wd_ledger_read(&evs, e2e_str(&w, "ledger"), 0), 0);

	/* control: the first request has no repair context */
	ev = find_event(evs, "prompt", 0);
	s = blob(&w, json_string_value(json_object_get(ev, "task_blob")));
	ck_assert_ptr_null(strstr(s, "The code the failing output points at"));
	free(s);

	/* round 1 failed; the repair prompt names the failure, then shows the code */
	ev = find_event(evs, "round.end", 0);
	ck_assert(json_is_false(json_object_get(ev, "passed")));
	s = blob(&w, json_string_value(json_object_get(ev, "feedback_blob")));
	ck_assert_ptr_nonnull(strstr(s, "FAIL check_answer_range: expected 42"));
	at = strstr(s, "The code the failing output points at");
	ck_assert_ptr_nonnull(at);
	ck_assert_ptr_nonnull(strstr(at, "=== rules/answer.py"));
	ck_assert_ptr_nonnull(strstr(at, "def check_answer_range(value):\n"
	                                 "    \"\"\"The answer must be exactly forty-two.\"\"\"\n"
	                                 "    return value == 42\n"));
	free(s);

	/* the ledger says why */
	ev = find_event(evs, "context.repair", 0);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "round")), 1);
	s = json_dumps(json_object_get(ev, "files"), JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(s, "rules/answer.py"));
	ck_assert_ptr_nonnull(strstr(s, "defines an identifier the ticket names"));
	free(s);
	/* the passing round needs none */
	ck_assert_ptr_null(find_event(evs, "context.repair", 1));
	json_decref(evs);
	e2e_world_free(&w);
}
END_TEST

static Suite *repair_suite(void)
{
	Suite *s = suite_create("context_repair_e2e");
	TCase *tc = tcase_create("run");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_repair_prompt_carries_the_code_the_failure_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	git_libgit2_init();
	sr = srunner_create(repair_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	git_libgit2_shutdown();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
