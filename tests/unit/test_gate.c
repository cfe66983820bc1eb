/* The gate running real commands through the sandbox, the check list, and
 * the summary and trailer built from the results. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "fixture.h"
#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/gate.h"
#include "warden/ledger.h"

START_TEST(spec_with_kind_prefix_sets_kind_and_name)
{
	wd_checklist l = WD_CHECKLIST_INIT;

	ck_assert_int_eq(wd_checklist_add_spec(&l, "make check", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "build: make -j2", 30), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "analyze:  cppcheck src", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "test: ./run-more-tests", 0), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_str_eq(l.v[0].name, "test");
	ck_assert_int_eq(l.v[0].kind, WD_CHECK_TEST);
	ck_assert_str_eq(l.v[0].command, "make check");
	ck_assert_str_eq(l.v[1].name, "build");
	ck_assert_int_eq(l.v[1].kind, WD_CHECK_BUILD);
	ck_assert_str_eq(l.v[1].command, "make -j2");
	ck_assert_uint_eq(l.v[1].timeout_sec, 30);
	ck_assert_str_eq(l.v[2].name, "analyze");
	ck_assert_str_eq(l.v[2].command, "cppcheck src");
	ck_assert_str_eq(l.v[3].name, "test-2");
	ck_assert_ptr_eq(wd_checklist_find(&l, "test-2"), &l.v[3]);
	ck_assert_ptr_null(wd_checklist_find(&l, "nope"));
	wd_checklist_free(&l);
}
END_TEST

START_TEST(duplicate_commands_are_ignored_and_empty_ones_refused)
{
	wd_checklist l = WD_CHECKLIST_INIT;

	ck_assert_int_eq(wd_checklist_add_spec(&l, "make check", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "test: make check", 0), 0);
	ck_assert_int_eq(wd_checklist_add(&l, "other", WD_CHECK_TEST, "make check", 0), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "build:   ", 0), WD_EINPUT);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "", 0), WD_EINPUT);
	ck_assert_int_eq(wd_checklist_add(&l, "test", WD_CHECK_BUILD, "make", 0), WD_EEXISTS);
	ck_assert_uint_eq(l.n, 1);
	/* a colon that is not a kind prefix belongs to the command */
	ck_assert_int_eq(wd_checklist_add_spec(&l, "echo a:b", 0), 0);
	ck_assert_str_eq(l.v[1].command, "echo a:b");
	wd_checklist_free(&l);
}
END_TEST

START_TEST(kind_names_round_trip)
{
	wd_check_kind k;

	for (int i = 0; i <= WD_CHECK_ANALYZE; i++) {
		ck_assert_int_eq(wd_check_kind_parse(&k, wd_check_kind_name((wd_check_kind)i)), 0);
		ck_assert_int_eq(k, i);
	}
	ck_assert_int_eq(wd_check_kind_parse(&k, "deploy"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "deploy"));
}
END_TEST

START_TEST(definition_hash_changes_with_any_part)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	char h[4][41];

	ck_assert_int_eq(wd_checklist_add(&l, "t", WD_CHECK_TEST, "make check", 0), 0);
	ck_assert_int_eq(wd_checklist_add(&l, "u", WD_CHECK_TEST, "make check2", 0), 0);
	ck_assert_int_eq(wd_check_def_hash(h[0], &l.v[0]), 0);
	ck_assert_int_eq(wd_check_def_hash(h[1], &l.v[1]), 0);
	l.v[0].timeout_sec = 5;
	ck_assert_int_eq(wd_check_def_hash(h[2], &l.v[0]), 0);
	l.v[0].timeout_sec = 0;
	ck_assert_int_eq(wd_check_def_hash(h[3], &l.v[0]), 0);
	ck_assert_str_ne(h[0], h[1]);
	ck_assert_str_ne(h[0], h[2]);
	ck_assert_str_eq(h[0], h[3]);
	wd_checklist_free(&l);
}
END_TEST

static void run_gate(wd_gate_result *r, wd_checklist *l)
{
	wd_gate_opts o = WD_GATE_OPTS_INIT;

	ck_assert_msg(wd_gate_run(r, fx_dir, l, &o) == 0, "%s", wd_error_last());
}

START_TEST(passing_check_passes_with_counts_and_digest)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf t = WD_BUF_INIT;
	char expect[41];

	
	ck_assert_int_eq(wd_checklist_add_spec(&l, "test: printf 'ok 1 - a\\nok 2 - b\\n1..2\\n'", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "build: test -d . && echo built", 0), 0);
	run_gate(&r, &l);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(r.passed, 1);
	ck_assert_int_eq(r.v[0].passed, 1);
	ck_assert_int_eq(r.v[0].exit_code, 0);
	ck_assert_int_eq(r.v[0].counts_known, 1);
	ck_assert_uint_eq(r.v[0].tests_passed, 2);
	ck_assert_uint_eq(r.v[0].tests_failed, 0);
	ck_assert_str_eq(r.v[0].tests.format, "tap");
	ck_assert_str_eq(r.v[1].output.ptr, "built\n");
	ck_assert_int_eq(wd_hash_hex(expect, "built\n", 6), 0);
	ck_assert_str_eq(r.v[1].digest, expect);
	ck_assert_int_eq(wd_gate_trailer(&t, &r), 0);
	ck_assert_str_eq(t.ptr, "test=pass 2/2; build=pass");
	ck_assert_int_eq(wd_gate_summary(&t, &r, NULL, 1000), 0);
	ck_assert_str_eq(t.ptr, "All checks passed.\n");
	wd_buf_free(&t);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(checks_run_in_the_work_tree)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf p = WD_BUF_INIT;

	ck_assert_int_eq(wd_path_join(&p, fx_dir, "marker"), 0);
	ck_assert_int_eq(fx_write_file(p.ptr, "here\n"), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "cat marker && touch made-by-check", 0), 0);
	run_gate(&r, &l);
	ck_assert_int_eq(r.passed, 1);
	ck_assert_str_eq(r.v[0].output.ptr, "here\n");
	ck_assert_int_eq(wd_path_join(&p, fx_dir, "made-by-check"), 0);
	ck_assert_int_eq(wd_path_exists(p.ptr), 1);
	wd_buf_free(&p);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(failing_check_fails_and_summary_shows_the_relevant_lines)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf s = WD_BUF_INIT, t = WD_BUF_INIT;
	const char *script =
		"i=0; while [ $i -lt 200 ]; do echo \"noise line $i\"; i=$((i+1)); done; "
		"echo 'tests/unit/test_sum.c:12:F:core:test_sum_negative:0: Assertion '\"'\"'sum(-1,1) == 0'\"'\"' failed'; "
		"echo 'more noise'; echo '50%: Checks: 2, Failures: 1, Errors: 0'; exit 2";

	ck_assert_int_eq(wd_checklist_add(&l, "unit", WD_CHECK_TEST, script, 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "build: true", 0), 0);
	run_gate(&r, &l);
	ck_assert_int_eq(r.passed, 0);
	ck_assert_int_eq(r.v[0].passed, 0);
	ck_assert_int_eq(r.v[0].exit_code, 2);
	ck_assert_uint_eq(r.v[0].tests_passed, 1);
	ck_assert_uint_eq(r.v[0].tests_failed, 1);
	ck_assert_ptr_nonnull(wd_test_report_find(&r.v[0].tests, "core:test_sum_negative"));
	ck_assert_int_eq(r.v[1].passed, 1);

	ck_assert_int_eq(wd_gate_summary(&s, &r, NULL, 2000), 0);
	ck_assert_uint_le(s.len, 2000);
	ck_assert_ptr_nonnull(strstr(s.ptr, "1 of 2 checks failed"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "unit check"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "exit 2"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "core:test_sum_negative: Assertion 'sum(-1,1) == 0' failed"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "Checks: 2, Failures: 1"));
	/* the noise right before the failure is context; the rest is not shown */
	ck_assert_ptr_nonnull(strstr(s.ptr, "noise line 199"));
	ck_assert_ptr_null(strstr(s.ptr, "noise line 10\n"));
	ck_assert_ptr_null(strstr(s.ptr, "build check"));

	ck_assert_int_eq(wd_gate_trailer(&t, &r), 0);
	ck_assert_str_eq(t.ptr, "unit=fail 1/2; build=pass");
	wd_buf_free(&s);
	wd_buf_free(&t);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(summary_stays_within_its_budget)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf s = WD_BUF_INIT;
	static const size_t budgets[] = { 0, 10, 40, 300, 1500 };

	ck_assert_int_eq(wd_checklist_add_spec(&l,
		"i=0; while [ $i -lt 500 ]; do echo \"FAIL: case $i went wrong\"; i=$((i+1)); done; exit 1", 0), 0);
	run_gate(&r, &l);
	for (size_t i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++) {
		ck_assert_int_eq(wd_gate_summary(&s, &r, NULL, budgets[i]), 0);
		ck_assert_msg(s.len <= budgets[i], "budget %zu, got %zu", budgets[i], s.len);
	}
	ck_assert_ptr_nonnull(strstr(s.ptr, "FAIL: case 0 went wrong"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "more lines omitted"));
	wd_buf_free(&s);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(summary_without_markers_shows_the_last_lines)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf s = WD_BUF_INIT;

	ck_assert_int_eq(wd_checklist_add_spec(&l,
		"i=0; while [ $i -lt 40 ]; do echo \"line $i\"; i=$((i+1)); done; exit 3", 0), 0);
	run_gate(&r, &l);
	ck_assert_int_eq(wd_gate_summary(&s, &r, NULL, 4000), 0);
	ck_assert_ptr_nonnull(strstr(s.ptr, "line 39"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "line 28"));
	ck_assert_ptr_null(strstr(s.ptr, "line 27\n"));
	wd_buf_free(&s);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(check_that_hangs_is_killed_at_its_timeout)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf s = WD_BUF_INIT, t = WD_BUF_INIT;

	ck_assert_int_eq(wd_checklist_add_spec(&l, "echo started; sleep 60 & sleep 60; echo never", 1), 0);
	run_gate(&r, &l);
	ck_assert_int_eq(r.passed, 0);
	ck_assert_int_eq(r.v[0].timed_out, 1);
	ck_assert_int_eq(r.v[0].exit_code, 124);
	ck_assert_ptr_nonnull(strstr(r.v[0].output.ptr, "started"));
	ck_assert_ptr_null(strstr(r.v[0].output.ptr, "never"));
	ck_assert_int_eq(wd_gate_trailer(&t, &r), 0);
	ck_assert_str_eq(t.ptr, "test=fail (timeout)");
	ck_assert_int_eq(wd_gate_summary(&s, &r, NULL, 1000), 0);
	ck_assert_ptr_nonnull(strstr(s.ptr, "timed out"));
	wd_buf_free(&s);
	wd_buf_free(&t);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(default_timeout_comes_from_the_options)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_opts o = WD_GATE_OPTS_INIT;
	wd_gate_result r;

	o.default_timeout_sec = 1;
	ck_assert_int_eq(wd_checklist_add_spec(&l, "sleep 30", 0), 0);
	ck_assert_int_eq(wd_gate_run(&r, fx_dir, &l, &o), 0);
	ck_assert_int_eq(r.v[0].timed_out, 1);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(analyze_check_collects_findings_relative_to_the_work_tree)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf cmd = WD_BUF_INIT, t = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_printf(&cmd, "echo '%s/src/a.c:3:9: warning: unused variable "
	                               "'\"'\"'x'\"'\"' [-Wunused-variable]'; "
	                               "echo './src/b.c:7:1: error: Null pointer dereference: p [nullPointer]'",
	                               fx_dir), 0);
	ck_assert_int_eq(wd_checklist_add(&l, "lint", WD_CHECK_ANALYZE, cmd.ptr, 0), 0);
	run_gate(&r, &l);
	ck_assert_uint_eq(r.v[0].findings.n, 2);
	ck_assert_str_eq(r.v[0].findings.v[0].file, "src/a.c");
	ck_assert_uint_eq(r.v[0].findings.v[0].line, 3);
	ck_assert_str_eq(r.v[0].findings.v[0].rule, "-Wunused-variable");
	ck_assert_str_eq(r.v[0].findings.v[0].check, "lint");
	ck_assert_str_eq(r.v[0].findings.v[1].file, "src/b.c");
	ck_assert_int_eq(wd_gate_trailer(&t, &r), 0);
	ck_assert_str_eq(t.ptr, "lint=pass 2 findings");
	wd_buf_free(&t);
	wd_buf_free(&cmd);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(results_file_is_preferred_over_output)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;

	ck_assert_int_eq(wd_checklist_add(&l, "junit", WD_CHECK_TEST,
		"mkdir -p out && printf '<testsuite><testcase classname=\"m\" name=\"a\"/>"
		"<testcase classname=\"m\" name=\"b\"><failure message=\"boom\"/></testcase></testsuite>' "
		"> out/junit.xml; echo '7 passed, 0 failed'; exit 1", 0), 0);
	l.v[0].results_file = strdup("out/junit.xml");
	run_gate(&r, &l);
	ck_assert_str_eq(r.v[0].tests.format, "junit");
	ck_assert_uint_eq(r.v[0].tests_passed, 1);
	ck_assert_uint_eq(r.v[0].tests_failed, 1);
	ck_assert_str_eq(wd_test_report_find(&r.v[0].tests, "m.b")->detail, "boom");
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(missing_results_file_falls_back_to_output)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;

	ck_assert_int_eq(wd_checklist_add(&l, "t", WD_CHECK_TEST, "echo '7 passed, 1 failed'", 0), 0);
	l.v[0].results_file = strdup("nowhere.xml");
	run_gate(&r, &l);
	ck_assert_str_eq(r.v[0].tests.format, "counts");
	ck_assert_uint_eq(r.v[0].tests_passed, 7);
	ck_assert_uint_eq(r.v[0].tests_failed, 1);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(each_check_is_recorded_in_the_ledger)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_opts o = WD_GATE_OPTS_INIT;
	wd_gate_result r;
	wd_buf p = WD_BUF_INIT, raw = WD_BUF_INIT;
	wd_ledger *led;

	ck_assert_int_eq(wd_path_join(&p, fx_dir, "ledger.jsonl"), 0);
	ck_assert_int_eq(wd_ledger_open(&led, p.ptr, "run1"), 0);
	o.ledger = led;
	ck_assert_int_eq(wd_checklist_add_spec(&l, "echo hi", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "build: exit 4", 0), 0);
	ck_assert_int_eq(wd_gate_run(&r, fx_dir, &l, &o), 0);
	wd_ledger_close(led);
	ck_assert_int_eq(wd_file_read(&raw, p.ptr, 0), 0);
	ck_assert_ptr_nonnull(strstr(raw.ptr, "\"type\":\"check\",\"name\":\"test\",\"kind\":\"test\",\"command\":\"echo hi\",\"passed\":true,\"exit_code\":0"));
	ck_assert_ptr_nonnull(strstr(raw.ptr, "\"name\":\"build\",\"kind\":\"build\",\"command\":\"exit 4\",\"passed\":false,\"exit_code\":4"));
	wd_buf_free(&raw);
	wd_buf_free(&p);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(empty_checklist_passes_and_bad_arguments_are_refused)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf t = WD_BUF_INIT;

	ck_assert_int_eq(wd_gate_run(&r, fx_dir, &l, NULL), 0);
	ck_assert_int_eq(r.passed, 1);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(wd_gate_trailer(&t, &r), 0);
	ck_assert_str_eq(wd_buf_cstr(&t), "");
	wd_gate_result_free(&r);
	ck_assert_int_eq(wd_gate_run(&r, NULL, &l, NULL), WD_EUSAGE);
	wd_buf_free(&t);
}
END_TEST


/* Diff-aware analysis end to end: a real compiler as the analyzer, a base
 * tree with a warning already in it, and patches that move it, add one on a
 * changed line, or add one elsewhere in an untouched file. */
static void write_in(const char *sub, const char *name, const char *content)
{
	wd_buf p = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_printf(&p, "%s/%s/%s", fx_dir, sub, name), 0);
	ck_assert_int_eq(fx_write_file(p.ptr, content), 0);
	wd_buf_free(&p);
}

START_TEST(compiler_warnings_block_only_when_new_and_on_touched_lines)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	wd_touched t = WD_TOUCHED_INIT;
	wd_buf bdir = WD_BUF_INIT, pdir = WD_BUF_INIT, trailer = WD_BUF_INIT, sum = WD_BUF_INIT;
	const char *diff =
		"diff --git a/src/m.c b/src/m.c\n--- a/src/m.c\n+++ b/src/m.c\n"
		"@@ -1,3 +1,8 @@\n+static int helper(void)\n+{\n+\tint unused_new;\n+\treturn 1;\n+}\n"
		" int f(void)\n {\n \tint unused_old;\n";

	ck_assert_int_eq(wd_checklist_add(&l, "warnings", WD_CHECK_ANALYZE,
		"cc -Wall -Wextra -fsyntax-only src/m.c src/other.c", 0), 0);
	write_in("base", "src/m.c", "int f(void)\n{\n\tint unused_old;\n\treturn 0;\n}\n");
	write_in("base", "src/other.c", "int g(void)\n{\n\treturn 0;\n}\n");
	write_in("patched", "src/m.c",
		"static int helper(void)\n{\n\tint unused_new;\n\treturn 1;\n}\n"
		"int f(void)\n{\n\tint unused_old;\n\treturn helper();\n}\n");
	/* a new warning in a file the patch did not touch is not the patch's */
	write_in("patched", "src/other.c", "int g(void)\n{\n\tint elsewhere;\n\treturn 0;\n}\n");
	ck_assert_int_eq(wd_buf_printf(&bdir, "%s/base", fx_dir), 0);
	ck_assert_int_eq(wd_buf_printf(&pdir, "%s/patched", fx_dir), 0);
	ck_assert_int_eq(wd_gate_run(&base, bdir.ptr, &l, NULL), 0);
	ck_assert_int_eq(wd_gate_run(&now, pdir.ptr, &l, NULL), 0);
	ck_assert_uint_eq(base.v[0].findings.n, 1);
	ck_assert_uint_eq(now.v[0].findings.n, 3);
	ck_assert_int_eq(wd_touched_from_diff(&t, diff, strlen(diff)), 0);

	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, &t), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert_uint_eq(v.new_findings.n, 1);
	ck_assert_str_eq(v.new_findings.v[0].file, "src/m.c");
	ck_assert_uint_eq(v.new_findings.v[0].line, 3);
	ck_assert_str_eq(v.new_findings.v[0].rule, "-Wunused-variable");
	ck_assert_uint_eq(v.findings_elsewhere, 1);
	ck_assert_int_eq(wd_verdict_trailer(&trailer, &v, &now), 0);
	ck_assert_str_eq(trailer.ptr, "warnings=fail 1 new");
	ck_assert_int_eq(wd_gate_repair_summary(&sum, &v, &now, &(wd_gate_source){ wd_gate_source_dir, (void *)pdir.ptr }, 1500), 0);
	ck_assert_ptr_nonnull(strstr(sum.ptr, "src/m.c:3:"));
	ck_assert_ptr_nonnull(strstr(sum.ptr, ">    3 | \tint unused_new;"));
	ck_assert_ptr_null(strstr(sum.ptr, "unused_old"));
	wd_verdict_free(&v);

	/* the same patch without the new variable passes, though the old warning moved */
	wd_gate_result_free(&now);
	write_in("patched", "src/m.c",
		"static int helper(void)\n{\n\treturn 1;\n}\n\n"
		"int f(void)\n{\n\tint unused_old;\n\treturn helper();\n}\n");
	ck_assert_int_eq(wd_gate_run(&now, pdir.ptr, &l, NULL), 0);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, &t), 0);
	ck_assert_msg(v.passed, "%s", v.reasons.n ? v.reasons.v[0] : "");
	ck_assert_int_eq(wd_verdict_trailer(&trailer, &v, &now), 0);
	ck_assert_str_eq(trailer.ptr, "warnings=pass 0 new");
	wd_verdict_free(&v);

	wd_buf_free(&bdir);
	wd_buf_free(&pdir);
	wd_buf_free(&trailer);
	wd_buf_free(&sum);
	wd_touched_free(&t);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(results_files_are_fresh_and_stay_inside_the_work_tree)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf p = WD_BUF_INIT, outside = WD_BUF_INIT;

	/* a stale results file from an earlier run is removed before the check runs */
	ck_assert_int_eq(wd_path_join(&p, fx_dir, "junit.xml"), 0);
	ck_assert_int_eq(fx_write_file(p.ptr, "<testsuite><testcase classname=\"s\" name=\"stale\"/></testsuite>"), 0);
	ck_assert_int_eq(wd_checklist_add(&l, "t", WD_CHECK_TEST, "echo crashed before writing; exit 139", 0), 0);
	l.v[0].results_file = strdup("junit.xml");
	run_gate(&r, &l);
	ck_assert_ptr_null(r.v[0].tests.format);
	ck_assert_int_eq(wd_path_exists(p.ptr), 0);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);

	/* a results file that is a symlink out of the tree is not read */
	ck_assert_int_eq(wd_buf_printf(&outside, "%s-outside.xml", fx_dir), 0);
	ck_assert_int_eq(fx_write_file(outside.ptr, "<testsuite><testcase classname=\"secret\" name=\"x\"/></testsuite>"), 0);
	ck_assert_int_eq(wd_checklist_add(&l, "t", WD_CHECK_TEST, "", 0), WD_EINPUT);
	{
		wd_buf cmd = WD_BUF_INIT;

		ck_assert_int_eq(wd_buf_printf(&cmd, "ln -s '%s' res.xml; echo '3 passed, 0 failed'", outside.ptr), 0);
		ck_assert_int_eq(wd_checklist_add(&l, "t", WD_CHECK_TEST, cmd.ptr, 0), 0);
		wd_buf_free(&cmd);
	}
	l.v[0].results_file = strdup("res.xml");
	run_gate(&r, &l);
	ck_assert_str_eq(r.v[0].tests.format, "counts");
	ck_assert_ptr_null(wd_test_report_find(&r.v[0].tests, "secret.x"));
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
	unlink(outside.ptr);

	/* a results path that climbs out is refused before anything runs */
	ck_assert_int_eq(wd_checklist_add(&l, "t", WD_CHECK_TEST, "true", 0), 0);
	l.v[0].results_file = strdup("../x.xml");
	ck_assert_int_eq(wd_gate_run(&r, fx_dir, &l, NULL), WD_EREFUSED);
	wd_checklist_free(&l);
	wd_buf_free(&p);
	wd_buf_free(&outside);
}
END_TEST

START_TEST(repair_summary_never_shows_files_outside_the_work_tree)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_verdict v;
	wd_buf s = WD_BUF_INIT, secret = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_printf(&secret, "%s-secret.txt", fx_dir), 0);
	ck_assert_int_eq(fx_write_file(secret.ptr, "line1\nTOP-SECRET-CONTENT\nline3\n"), 0);
	{
		wd_buf cmd = WD_BUF_INIT;

		ck_assert_int_eq(wd_buf_printf(&cmd, "ln -s '%s' link.c; echo 'link.c:2:1: warning: bad [r]'; "
		                               "echo '%s:2:1: warning: abs [r]'; echo '../x.c:2:1: warning: up [r]'",
		                               secret.ptr, secret.ptr), 0);
		ck_assert_int_eq(wd_checklist_add(&l, "lint", WD_CHECK_ANALYZE, cmd.ptr, 0), 0);
		wd_buf_free(&cmd);
	}
	run_gate(&r, &l);
	ck_assert_uint_eq(r.v[0].findings.n, 3);
	ck_assert_int_eq(wd_gate_verdict(&v, NULL, &r, NULL, NULL), 0);
	ck_assert_uint_eq(v.new_findings.n, 3);
	ck_assert_int_eq(wd_gate_repair_summary(&s, &v, &r, &(wd_gate_source){ wd_gate_source_dir, (void *)fx_dir }, 4000), 0);
	ck_assert_ptr_nonnull(strstr(s.ptr, "link.c:2:1: warning: bad [r]"));
	ck_assert_ptr_null(strstr(s.ptr, "TOP-SECRET"));
	wd_buf_free(&s);
	wd_verdict_free(&v);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
	unlink(secret.ptr);
	wd_buf_free(&secret);
}
END_TEST

START_TEST(checks_after_a_failed_build_are_skipped_unless_keep_going)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_opts o = WD_GATE_OPTS_INIT;
	wd_gate_result r;
	wd_verdict v;
	wd_buf t = WD_BUF_INIT, s = WD_BUF_INIT;

	ck_assert_int_eq(wd_checklist_add_spec(&l, "build: echo 'src/a.c:3:1: error: expected ;'; exit 2", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "test: touch tests-ran", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "analyze: true", 0), 0);
	ck_assert_int_eq(wd_gate_run(&r, fx_dir, &l, &o), 0);
	ck_assert_int_eq(r.passed, 0);
	ck_assert_int_eq(r.v[1].skipped, 1);
	ck_assert_int_eq(r.v[1].passed, 0);
	ck_assert_int_eq(r.v[2].skipped, 1);
	ck_assert_int_eq(wd_path_join(&t, fx_dir, "tests-ran"), 0);
	ck_assert_int_eq(wd_path_exists(t.ptr), 0);
	ck_assert_int_eq(wd_gate_trailer(&t, &r), 0);
	ck_assert_str_eq(t.ptr, "build=fail; test=skip; analyze=skip");
	ck_assert_int_eq(wd_gate_summary(&s, &r, NULL, 2000), 0);
	ck_assert_ptr_nonnull(strstr(s.ptr, "1 of 3 checks failed"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "Not run because a build check failed: test, analyze"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "error: expected ;"));
	ck_assert_int_eq(wd_gate_verdict(&v, NULL, &r, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert_uint_eq(v.reasons.n, 1);
	ck_assert_int_eq(wd_verdict_trailer(&t, &v, &r), 0);
	ck_assert_str_eq(t.ptr, "build=fail; test=skip; analyze=skip");
	ck_assert_int_eq(wd_gate_repair_summary(&s, &v, &r, &(wd_gate_source){ wd_gate_source_dir, (void *)fx_dir }, 2000), 0);
	ck_assert_ptr_nonnull(strstr(s.ptr, "build: build failed (exit 2)"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "error: expected ;"));
	wd_verdict_free(&v);
	wd_gate_result_free(&r);

	o.keep_going = 1;
	ck_assert_int_eq(wd_gate_run(&r, fx_dir, &l, &o), 0);
	ck_assert_int_eq(r.v[1].skipped, 0);
	ck_assert_int_eq(r.v[1].passed, 1);
	ck_assert_int_eq(wd_path_join(&t, fx_dir, "tests-ran"), 0);
	ck_assert_int_eq(wd_path_exists(t.ptr), 1);
	ck_assert_int_eq(wd_gate_trailer(&t, &r), 0);
	ck_assert_str_eq(t.ptr, "build=fail; test=pass; analyze=pass 0 findings");
	wd_gate_result_free(&r);
	wd_buf_free(&t);
	wd_buf_free(&s);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(results_glob_merges_every_file_and_clears_old_ones)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;
	wd_buf p = WD_BUF_INIT;

	ck_assert_int_eq(wd_path_join(&p, fx_dir, "out/TEST-old.xml"), 0);
	ck_assert_int_eq(fx_write_file(p.ptr, "<testsuite><testcase classname=\"old\" name=\"gone\"/></testsuite>"), 0);
	ck_assert_int_eq(wd_checklist_add(&l, "t", WD_CHECK_TEST,
		"printf '<testsuite><testcase classname=\"a\" name=\"x\"/>"
		"<testcase classname=\"a\" name=\"y\"><failure message=\"bad\"/></testcase></testsuite>' > out/TEST-a.xml; "
		"printf '<testsuite><testcase classname=\"b\" name=\"z\"/></testsuite>' > out/TEST-b.xml; exit 1", 0), 0);
	l.v[0].results_file = strdup("out/TEST-*.xml");
	run_gate(&r, &l);
	ck_assert_str_eq(r.v[0].tests.format, "junit");
	ck_assert_uint_eq(r.v[0].tests.n, 3);
	ck_assert_uint_eq(r.v[0].tests_passed, 2);
	ck_assert_uint_eq(r.v[0].tests_failed, 1);
	ck_assert_int_eq(r.v[0].tests.complete, 1);
	ck_assert_ptr_null(wd_test_report_find(&r.v[0].tests, "old.gone"));
	ck_assert_int_eq(wd_path_exists(p.ptr), 0);
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
	wd_buf_free(&p);
}
END_TEST

START_TEST(analyze_check_reads_a_sarif_results_file)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result r;

	ck_assert_int_eq(wd_checklist_add(&l, "sarif", WD_CHECK_ANALYZE,
		"echo 'progress: 100%'; printf '{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"demo\"}},"
		"\"results\":[{\"ruleId\":\"R1\",\"level\":\"error\",\"message\":{\"text\":\"boom\"},"
		"\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":\"src/x.c\"},"
		"\"region\":{\"startLine\":4}}}]}]}]}' > report.sarif", 0), 0);
	l.v[0].results_file = strdup("report.sarif");
	run_gate(&r, &l);
	ck_assert_uint_eq(r.v[0].findings.n, 1);
	ck_assert_str_eq(r.v[0].findings.v[0].file, "src/x.c");
	ck_assert_str_eq(r.v[0].findings.v[0].rule, "R1");
	ck_assert_str_eq(r.v[0].findings.v[0].tool, "demo");
	ck_assert_str_eq(r.v[0].findings.v[0].check, "sarif");
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(output_is_capped_but_its_size_is_known)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_opts o = WD_GATE_OPTS_INIT;
	wd_gate_result r;

	o.output_cap = 4096;
	ck_assert_int_eq(wd_checklist_add_spec(&l,
		"i=0; while [ $i -lt 5000 ]; do echo \"line $i of noise\"; i=$((i+1)); done; echo 'FAIL: the end'; exit 1", 0), 0);
	ck_assert_int_eq(wd_gate_run(&r, fx_dir, &l, &o), 0);
	ck_assert_uint_le(r.v[0].output.len, 4096 + 256); /* the cap, plus the sandbox's marker */
	ck_assert_uint_gt(r.v[0].output_total, 80000);
	ck_assert_int_eq(r.v[0].output_truncated, 1);
	/* the tail is kept: the end of a log is where failures are */
	ck_assert_ptr_nonnull(strstr(r.v[0].output.ptr, "FAIL: the end"));
	wd_gate_result_free(&r);
	wd_checklist_free(&l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gate");
	TCase *tc = tcase_create("checklist");
	TCase *run = tcase_create("run");

	tcase_add_checked_fixture(tc, fx_dir_setup, fx_dir_teardown);
	tcase_add_test(tc, spec_with_kind_prefix_sets_kind_and_name);
	tcase_add_test(tc, duplicate_commands_are_ignored_and_empty_ones_refused);
	tcase_add_test(tc, kind_names_round_trip);
	tcase_add_test(tc, definition_hash_changes_with_any_part);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(run, fx_dir_setup, fx_dir_teardown);
	tcase_set_timeout(run, 60);
	tcase_add_test(run, passing_check_passes_with_counts_and_digest);
	tcase_add_test(run, checks_run_in_the_work_tree);
	tcase_add_test(run, failing_check_fails_and_summary_shows_the_relevant_lines);
	tcase_add_test(run, summary_stays_within_its_budget);
	tcase_add_test(run, summary_without_markers_shows_the_last_lines);
	tcase_add_test(run, check_that_hangs_is_killed_at_its_timeout);
	tcase_add_test(run, default_timeout_comes_from_the_options);
	tcase_add_test(run, analyze_check_collects_findings_relative_to_the_work_tree);
	tcase_add_test(run, results_file_is_preferred_over_output);
	tcase_add_test(run, missing_results_file_falls_back_to_output);
	tcase_add_test(run, each_check_is_recorded_in_the_ledger);
	tcase_add_test(run, empty_checklist_passes_and_bad_arguments_are_refused);
	tcase_add_test(run, compiler_warnings_block_only_when_new_and_on_touched_lines);
	tcase_add_test(run, results_files_are_fresh_and_stay_inside_the_work_tree);
	tcase_add_test(run, repair_summary_never_shows_files_outside_the_work_tree);
	tcase_add_test(run, checks_after_a_failed_build_are_skipped_unless_keep_going);
	tcase_add_test(run, results_glob_merges_every_file_and_clears_old_ones);
	tcase_add_test(run, analyze_check_reads_a_sarif_results_file);
	tcase_add_test(run, output_is_capped_but_its_size_is_known);
	suite_add_tcase(s, run);
	return fx_suite_main(s);
}
