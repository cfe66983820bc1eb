/* The verdict (baseline vs patched, SWE-bench's rule, diff-aware findings),
 * the baseline cache, the repair summary and the verdict trailer. */
#include <check.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "fixture.h"
#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/gate.h"

/* A gate result with one entry per check of l, outputs given in order (n
 * of them, one per check: fake() counts the array it is given). */
static void fake_n(wd_gate_result *r, const wd_checklist *l, const int *exits,
                   const char *const *outputs, size_t n)
{
	ck_assert_uint_eq(n, l->n);
	memset(r, 0, sizeof(*r));
	r->v = calloc(l->n, sizeof(*r->v));
	ck_assert_ptr_nonnull(r->v);
	r->n = l->n;
	r->passed = 1;
	for (size_t i = 0; i < n; i++) {
		wd_check_result *cr = &r->v[i];
		const char *o = outputs[i];

		cr->check = &l->v[i];
		cr->exit_code = exits[i];
		cr->timed_out = exits[i] == 124;
		cr->passed = exits[i] == 0;
		r->passed &= cr->passed;
		ck_assert_int_eq(wd_buf_puts(&cr->output, o), 0);
		if (l->v[i].kind == WD_CHECK_ANALYZE) {
			ck_assert_int_eq(wd_findings_parse(&cr->findings, o, strlen(o)), 0);
		} else {
			ck_assert_int_eq(wd_results_parse(&cr->tests, o, strlen(o)), 0);
			if (cr->tests.counts_known) {
				cr->counts_known = 1;
				cr->tests_passed = cr->tests.passed;
				cr->tests_failed = cr->tests.failed;
			}
		}
	}
}
#define fake(r, l, exits, outputs) \
	fake_n(r, l, exits, outputs, sizeof(outputs) / sizeof((outputs)[0]))

static const wd_test_change *change(const wd_verdict *v, const char *test)
{
	for (size_t i = 0; i < v->ntests; i++)
		if (!strcmp(v->tests[i].test, test))
			return &v->tests[i];
	ck_abort_msg("no classification for %s", test);
	return NULL;
}

static int has_reason(const wd_verdict *v, const char *needle)
{
	for (size_t i = 0; i < v->reasons.n; i++)
		if (strstr(v->reasons.v[i], needle))
			return 1;
	return 0;
}

#define TAP_BASE "1..4\nok 1 - a\nnot ok 2 - b\nok 3 - c\nnot ok 4 - d\n"

START_TEST(tests_are_classified_fixed_still_failing_regressed_new_missing)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	const char *bo[] = { TAP_BASE }, *no[] = { "1..4\nnot ok 1 - a\nok 2 - b\nnot ok 4 - d\nok 5 - e\nnot ok 6 - f\n" };
	int be[] = { 1 }, ne[] = { 1 };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "prove", 0), 0);
	fake(&base, &l, be, bo);
	fake(&now, &l, ne, no);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert_int_eq(change(&v, "a")->cls, WD_CLASS_REGRESSED);
	ck_assert_int_eq(change(&v, "b")->cls, WD_CLASS_FIXED);
	ck_assert_int_eq(change(&v, "c")->cls, WD_CLASS_MISSING);
	ck_assert_int_eq(change(&v, "d")->cls, WD_CLASS_STILL_FAILING);
	ck_assert_int_eq(change(&v, "e")->cls, WD_CLASS_NEW_PASSING);
	ck_assert_int_eq(change(&v, "f")->cls, WD_CLASS_NEW_FAILING);
	ck_assert_uint_eq(v.counts[WD_CLASS_REGRESSED], 1);
	ck_assert_uint_eq(v.counts[WD_CLASS_FIXED], 1);
	ck_assert(has_reason(&v, "test: 1 regressed (passed before the patch, fail now): a"));
	ck_assert(has_reason(&v, "test: 1 new and failing: f"));
	ck_assert(has_reason(&v, "test: 1 missing (passed before the patch, no longer reported): c"));
	ck_assert_str_eq(v.failed_checks.v[0], "test");
	wd_verdict_free(&v);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(preexisting_failures_alone_do_not_block)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	const char *bo[] = { TAP_BASE }, *no[] = { "1..4\nok 1 - a\nok 2 - b\nok 3 - c\nnot ok 4 - d\n" };
	int be[] = { 1 }, ne[] = { 1 };
	const char *f2p[] = { "b", NULL };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "prove", 0), 0);
	fake(&base, &l, be, bo);
	fake(&now, &l, ne, no);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, f2p, NULL), 0);
	ck_assert_msg(v.passed, "%s", v.reasons.n ? v.reasons.v[0] : "");
	ck_assert_int_eq(change(&v, "d")->cls, WD_CLASS_STILL_FAILING);
	ck_assert_uint_eq(v.reasons.n, 0);
	wd_verdict_free(&v);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(fail_to_pass_must_pass)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	const char *bo[] = { "t.c:1:F:core:test_sum:0: Assertion 'x' failed\n50%: Checks: 2, Failures: 1, Errors: 0\n" };
	const char *no[] = { "t.c:1:F:core:test_sum:0: Assertion 'y' failed\n50%: Checks: 2, Failures: 1, Errors: 0\n" };
	int be[] = { 1 }, ne[] = { 1 };
	const char *f2p[] = { "test_sum", "test_absent", NULL };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "make check", 0), 0);
	fake(&base, &l, be, bo);
	fake(&now, &l, ne, no);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, f2p, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert_uint_eq(v.f2p_unmet.n, 1);
	ck_assert_str_eq(v.f2p_unmet.v[0], "test_sum");
	ck_assert(has_reason(&v, "FAIL_TO_PASS test_sum: still failing"));
	/* Check lists only failures: test_absent was not among them, so it passed */
	wd_verdict_free(&v);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(fail_to_pass_unknown_when_failures_are_only_counted)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result now;
	wd_verdict v;
	const char *no[] = { "7 passed, 2 failed\n" };
	int ne[] = { 1 };
	const char *f2p[] = { "median_even", NULL };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "make test", 0), 0);
	fake(&now, &l, ne, no);
	ck_assert_int_eq(wd_gate_verdict(&v, NULL, &now, f2p, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert_uint_eq(v.f2p_unmet.n, 1);
	ck_assert(has_reason(&v, "FAIL_TO_PASS median_even: not seen passing"));
	wd_verdict_free(&v);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(fail_to_pass_met_by_a_full_listing)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	const char *bo[] = { "tests/t.py::test_neg FAILED\ntests/t.py::test_add PASSED\n1 failed, 1 passed in 0.1s\n" };
	const char *no[] = { "tests/t.py::test_neg PASSED\ntests/t.py::test_add PASSED\n2 passed in 0.1s\n" };
	int be[] = { 1 }, ne[] = { 0 };
	const char *f2p[] = { "tests/t.py::test_neg", NULL }, *f2p_missing[] = { "test_other", NULL };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "pytest -v", 0), 0);
	fake(&base, &l, be, bo);
	fake(&now, &l, ne, no);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, f2p, NULL), 0);
	ck_assert_int_eq(v.passed, 1);
	ck_assert_int_eq(change(&v, "tests/t.py::test_neg")->cls, WD_CLASS_FIXED);
	ck_assert_int_eq(change(&v, "tests/t.py::test_add")->cls, WD_CLASS_PASSING);
	wd_verdict_free(&v);
	/* with a full listing, a FAIL_TO_PASS test that never ran is not met */
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, f2p_missing, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert(has_reason(&v, "FAIL_TO_PASS test_other: not seen passing"));
	wd_verdict_free(&v);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(exit_code_decides_without_per_test_results)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	const char *o[] = { "something broke\n", "built\n" };
	int pass[] = { 0, 0 }, fail_test[] = { 1, 0 }, fail_build[] = { 0, 2 };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "./run-tests", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "build: make", 0), 0);
	/* passed on base, fails now */
	fake(&base, &l, pass, o);
	fake(&now, &l, fail_test, o);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert(has_reason(&v, "test: failed (exit 1) but passed on the base commit"));
	wd_verdict_free(&v);
	/* failed on base too: without per-test results it still must pass */
	ck_assert_int_eq(wd_gate_verdict(&v, &now, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert(has_reason(&v, "without per-test results"));
	wd_verdict_free(&v);
	/* no baseline at all */
	ck_assert_int_eq(wd_gate_verdict(&v, NULL, &now, NULL, NULL), 0);
	ck_assert(has_reason(&v, "test: failed (exit 1)"));
	wd_verdict_free(&v);
	wd_gate_result_free(&now);
	/* a build must pass even when it failed on base */
	fake(&now, &l, fail_build, o);
	ck_assert_int_eq(wd_gate_verdict(&v, &now, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert(has_reason(&v, "build: build failed (exit 2)"));
	ck_assert_uint_eq(v.failed_checks.n, 1);
	wd_verdict_free(&v);
	wd_gate_result_free(&now);
	/* everything passing passes */
	fake(&now, &l, pass, o);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 1);
	wd_verdict_free(&v);
	wd_gate_result_free(&now);
	wd_gate_result_free(&base);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(more_failures_than_base_without_names_block)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	const char *bo[] = { "10 passed, 1 failed\n" }, *no[] = { "8 passed, 3 failed\n" }, *same[] = { "10 passed, 1 failed\n" };
	int e[] = { 1 };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "./t", 0), 0);
	fake(&base, &l, e, bo);
	fake(&now, &l, e, no);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert(has_reason(&v, "test: 3 tests fail, 1 failed on the base commit"));
	wd_verdict_free(&v);
	wd_gate_result_free(&now);
	fake(&now, &l, e, same);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 1);
	wd_verdict_free(&v);
	wd_gate_result_free(&now);
	wd_gate_result_free(&base);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(timeout_always_blocks)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result now;
	wd_verdict v;
	wd_buf t = WD_BUF_INIT;
	const char *o[] = { "" };
	int e[] = { 124 };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "sleep 1000", 0), 0);
	fake(&now, &l, e, o);
	ck_assert_int_eq(wd_gate_verdict(&v, &now, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert(has_reason(&v, "timed out"));
	ck_assert_int_eq(wd_verdict_trailer(&t, &v, &now), 0);
	ck_assert_str_eq(t.ptr, "test=fail (timeout)");
	wd_buf_free(&t);
	wd_verdict_free(&v);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(only_new_findings_on_touched_lines_block)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	wd_touched touched = WD_TOUCHED_INIT;
	wd_buf t = WD_BUF_INIT;
	const char *bo[] = {
		"src/a.c:10:5: warning: unused variable 'old' [-Wunused-variable]\n"
		"src/a.c:40:1: style: The function 'f' is never used. [unusedFunction]\n" };
	const char *no[] = {
		/* same finding, moved down 3 lines by the patch: not new */
		"src/a.c:13:5: warning: unused variable 'old' [-Wunused-variable]\n"
		"src/a.c:43:1: style: The function 'f' is never used. [unusedFunction]\n"
		/* new, on a touched line: blocks */
		"src/a.c:11:9: warning: unused variable 'tmp' [-Wunused-variable]\n"
		/* new, elsewhere: reported only */
		"src/b.c:99:1: error: Null pointer dereference: p [nullPointer]\n" };
	int e[] = { 1 };

	ck_assert_int_eq(wd_checklist_add(&l, "analyze", WD_CHECK_ANALYZE, "cppcheck --error-exitcode=1 src", 0), 0);
	ck_assert_int_eq(wd_touched_add(&touched, "src/a.c", 10, 12), 0);
	fake(&base, &l, e, bo);
	fake(&now, &l, e, no);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, &touched), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert_uint_eq(v.new_findings.n, 1);
	ck_assert_str_eq(v.new_findings.v[0].message, "unused variable 'tmp'");
	ck_assert_str_eq(v.new_findings.v[0].check, "analyze");
	ck_assert_uint_eq(v.findings_elsewhere, 1);
	ck_assert(has_reason(&v, "analyze: 1 new finding on lines this patch changed"));
	ck_assert_int_eq(wd_verdict_trailer(&t, &v, &now), 0);
	ck_assert_str_eq(t.ptr, "analyze=fail 1 new");
	wd_verdict_free(&v);
	/* without touched lines every new finding counts */
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, NULL), 0);
	ck_assert_uint_eq(v.new_findings.n, 2);
	wd_verdict_free(&v);
	/* against itself nothing is new: the analyzer's exit status alone does not block */
	ck_assert_int_eq(wd_gate_verdict(&v, &now, &now, NULL, &touched), 0);
	ck_assert_int_eq(v.passed, 1);
	ck_assert_int_eq(wd_verdict_trailer(&t, &v, &now), 0);
	ck_assert_str_eq(t.ptr, "analyze=pass 0 new");
	wd_verdict_free(&v);
	wd_buf_free(&t);
	wd_touched_free(&touched);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(duplicate_findings_are_matched_one_to_one)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	const char *bo[] = { "a.c:5:1: warning: w [r]\n" };
	const char *no[] = { "a.c:5:1: warning: w [r]\na.c:20:1: warning: w [r]\n" };
	int e[] = { 0 };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "analyze: lint", 0), 0);
	fake(&base, &l, e, bo);
	fake(&now, &l, e, no);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, NULL), 0);
	ck_assert_uint_eq(v.new_findings.n, 1);
	ck_assert_uint_eq(v.new_findings.v[0].line, 20);
	wd_verdict_free(&v);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(analyzer_failing_without_findings_blocks_unless_it_failed_on_base)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	const char *o[] = { "cppcheck: unrecognized option\n" };
	int ok[] = { 0 }, bad[] = { 1 };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "analyze: cppcheck --bogus", 0), 0);
	fake(&base, &l, ok, o);
	fake(&now, &l, bad, o);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert(has_reason(&v, "analyzer failed (exit 1) without findings"));
	wd_verdict_free(&v);
	ck_assert_int_eq(wd_gate_verdict(&v, &now, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 1);
	wd_verdict_free(&v);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(repair_summary_names_tests_findings_and_code)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_verdict v;
	wd_buf s = WD_BUF_INIT, p = WD_BUF_INIT;
	const char *bo[] = { "66%: Checks: 3, Failures: 1, Errors: 0\nt.c:9:F:core:old_bug:0: Assertion 'z' failed\n", "" };
	const char *no[] = {
		"building...\nrunning\nt.c:4:F:core:test_sum:0: Assertion 'sum(2, 2) == 4' failed: sum(2, 2) == 5\n"
		"t.c:9:F:core:old_bug:0: Assertion 'z' failed\n33%: Checks: 3, Failures: 2, Errors: 0\n",
		"src/sum.c:3:9: warning: unused variable 'tmp' [-Wunused-variable]\n" };
	int be[] = { 1, 0 }, ne[] = { 1, 0 };

	ck_assert_int_eq(wd_path_join(&p, fx_dir, "src/sum.c"), 0);
	ck_assert_int_eq(fx_write_file(p.ptr, "#include \"sum.h\"\nint sum(int a, int b) {\n\tint tmp;\n\treturn a + b + 1;\n}\n"), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "make check", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l, "analyze: cc -Wall -fsyntax-only src/sum.c", 0), 0);
	fake(&base, &l, be, bo);
	fake(&now, &l, ne, no);
	ck_assert_int_eq(wd_gate_verdict(&v, &base, &now, NULL, NULL), 0);
	ck_assert_int_eq(v.passed, 0);
	ck_assert_int_eq(wd_gate_repair_summary(&s, &v, &now, &(wd_gate_source){ wd_gate_source_dir, (void *)fx_dir }, 4096), 0);
	ck_assert_uint_le(s.len, 4096);
	ck_assert_ptr_nonnull(strstr(s.ptr, "test: 1 regressed (passed before the patch, fail now): core:test_sum"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "src/sum.c:3:9: warning: unused variable 'tmp' [-Wunused-variable]"));
	ck_assert_ptr_nonnull(strstr(s.ptr, ">    3 | \tint tmp;"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "    2 | int sum(int a, int b) {"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "Assertion 'sum(2, 2) == 4' failed"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "- core:old_bug (already failing before the patch)"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "- core:test_sum: Assertion"));
	ck_assert_ptr_null(strstr(s.ptr, "building..."));
	/* and it stays short when asked to */
	ck_assert_int_eq(wd_gate_repair_summary(&s, &v, &now, &(wd_gate_source){ wd_gate_source_dir, (void *)fx_dir }, 200), 0);
	ck_assert_uint_le(s.len, 200);
	ck_assert_ptr_nonnull(strstr(s.ptr, "The gate refused this patch"));
	wd_buf_free(&s);
	wd_buf_free(&p);
	wd_verdict_free(&v);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(summary_with_baseline_tells_old_failures_from_new)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_result base, now;
	wd_buf s = WD_BUF_INIT;
	const char *bo[] = { "t.c:9:F:core:old_bug:0: Assertion 'z' failed\n50%: Checks: 2, Failures: 1, Errors: 0\n" };
	const char *no[] = { "t.c:9:F:core:old_bug:0: Assertion 'z' failed\n"
	                     "t.c:4:F:core:test_sum:0: Assertion 'sum' failed\n0%: Checks: 2, Failures: 2, Errors: 0\n" };
	int e[] = { 1 };

	ck_assert_int_eq(wd_checklist_add_spec(&l, "make check", 0), 0);
	fake(&base, &l, e, bo);
	fake(&now, &l, e, no);
	ck_assert_int_eq(wd_gate_summary(&s, &now, &base, 3000), 0);
	ck_assert_ptr_nonnull(strstr(s.ptr, "(this check also failed on the base commit, exit 1)"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "- core:old_bug (already failing before the patch): Assertion 'z' failed"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "- core:test_sum: Assertion 'sum' failed"));
	ck_assert_ptr_nonnull(strstr(s.ptr, "0 passed, 2 failed"));
	wd_buf_free(&s);
	wd_gate_result_free(&base);
	wd_gate_result_free(&now);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(baseline_is_cached_per_commit_and_definition)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_opts o = WD_GATE_OPTS_INIT;
	wd_gate_result r1, r2, r3;
	wd_buf cache = WD_BUF_INIT, work = WD_BUF_INIT, counter = WD_BUF_INIT;
	char *count = NULL;
	size_t hits;
	const char *base = "0123456789abcdef0123456789abcdef01234567";

	ck_assert_int_eq(wd_path_join(&cache, fx_dir, "cache"), 0);
	ck_assert_int_eq(wd_path_join(&work, fx_dir, "work"), 0);
	ck_assert_int_eq(wd_mkdir_p(work.ptr, 0), 0);
	ck_assert_int_eq(wd_path_join(&counter, work.ptr, "runs"), 0);
	o.cache_dir = cache.ptr;
	ck_assert_int_eq(wd_checklist_add_spec(&l,
		"echo x >> runs; echo '1..2'; echo 'ok 1 - a'; echo 'not ok 2 - b \xc3('; exit 1", 0), 0);
	ck_assert_int_eq(wd_checklist_add_spec(&l,
		"analyze: echo 'src/a.c:1:1: warning: w [r]'", 0), 0);

	ck_assert_int_eq(wd_gate_baseline(&r1, &hits, work.ptr, base, &l, &o), 0);
	ck_assert_uint_eq(hits, 0);
	ck_assert_int_eq(r1.passed, 0);
	ck_assert_int_eq(wd_gate_baseline(&r2, &hits, work.ptr, base, &l, &o), 0);
	ck_assert_uint_eq(hits, 2);
	ck_assert_int_eq(fx_read_file(&count, counter.ptr), 0);
	ck_assert_str_eq(count, "x\n"); /* the command ran once */
	ck_assert_int_eq(r2.v[0].from_cache, 1);
	ck_assert_int_eq(r2.v[0].exit_code, 1);
	ck_assert_str_eq(r2.v[0].digest, r1.v[0].digest);
	ck_assert_str_eq(r2.v[0].tests.format, "tap");
	ck_assert_uint_eq(r2.v[0].tests.n, 2);
	ck_assert_uint_eq(r2.v[0].tests_failed, 1);
	ck_assert_int_eq(wd_test_report_find(&r2.v[0].tests, "a")->status, WD_TEST_PASS);
	ck_assert_uint_eq(r2.v[1].findings.n, 1);
	ck_assert_str_eq(r2.v[1].findings.v[0].rule, "r");
	ck_assert_str_eq(r2.v[1].findings.v[0].check, "analyze");
	ck_assert_ptr_eq(r2.v[0].check, &l.v[0]);

	/* another base commit, or a changed definition, runs again */
	ck_assert_int_eq(wd_gate_baseline(&r3, &hits, work.ptr, "fedcba9876543210fedcba9876543210fedcba98", &l, &o), 0);
	ck_assert_uint_eq(hits, 0);
	wd_gate_result_free(&r3);
	l.v[1].timeout_sec = 77;
	ck_assert_int_eq(wd_gate_baseline(&r3, &hits, work.ptr, base, &l, &o), 0);
	ck_assert_uint_eq(hits, 1);
	wd_gate_result_free(&r3);

	ck_assert_int_eq(wd_gate_baseline(&r3, NULL, work.ptr, "../../etc", &l, &o), WD_EUSAGE);
	free(count);
	wd_buf_free(&cache);
	wd_buf_free(&work);
	wd_buf_free(&counter);
	wd_gate_result_free(&r1);
	wd_gate_result_free(&r2);
	wd_checklist_free(&l);
}
END_TEST

/* A result depends on what the check was given to run with: under another
 * memory limit, policy or CPU share (eval --jobs pins each worker to one) the
 * cached baseline does not stand in, and the check runs again. */
START_TEST(baseline_is_cached_per_resources)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_opts o = WD_GATE_OPTS_INIT;
	wd_gate_result r;
	wd_buf cache = WD_BUF_INIT;
	cpu_set_t all, one;
	size_t hits = 9;
	const char *base = "abcdef01";

	ck_assert_int_eq(wd_path_join(&cache, fx_dir, "cache"), 0);
	o.cache_dir = cache.ptr;
	ck_assert_int_eq(wd_checklist_add_spec(&l, "nproc", 0), 0);
	ck_assert_int_eq(wd_gate_baseline(&r, &hits, fx_dir, base, &l, &o), 0);
	ck_assert_uint_eq(hits, 0);
	wd_gate_result_free(&r);
	ck_assert_int_eq(wd_gate_baseline(&r, &hits, fx_dir, base, &l, &o), 0);
	ck_assert_uint_eq(hits, 1); /* the control: the same resources reuse it */
	wd_gate_result_free(&r);
	o.memory_mb = 512;
	ck_assert_int_eq(wd_gate_baseline(&r, &hits, fx_dir, base, &l, &o), 0);
	ck_assert_uint_eq(hits, 0);
	wd_gate_result_free(&r);
	ck_assert_int_eq(wd_gate_baseline(&r, &hits, fx_dir, base, &l, &o), 0);
	ck_assert_uint_eq(hits, 1);
	wd_gate_result_free(&r);
	/* one CPU of several, as an eval worker has (Check forks: this test's own) */
	ck_assert_int_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	if (CPU_COUNT(&all) > 1) {
		CPU_ZERO(&one);
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &all)) {
				CPU_SET(c, &one);
				break;
			}
		ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
		ck_assert_int_eq(wd_gate_baseline(&r, &hits, fx_dir, base, &l, &o), 0);
		ck_assert_uint_eq(hits, 0);
		ck_assert_str_eq(r.v[0].output.ptr, "1\n"); /* what the check saw differed */
		wd_gate_result_free(&r);
		ck_assert_int_eq(sched_setaffinity(0, sizeof(all), &all), 0);
	}
	wd_buf_free(&cache);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(corrupt_cache_entries_are_rerun)
{
	wd_checklist l = WD_CHECKLIST_INIT;
	wd_gate_opts o = WD_GATE_OPTS_INIT;
	wd_gate_result r;
	wd_buf cache = WD_BUF_INIT, entry = WD_BUF_INIT;
	char def[41];
	size_t hits = 9;
	const char *base = "abcdef0";

	ck_assert_int_eq(wd_path_join(&cache, fx_dir, "cache"), 0);
	o.cache_dir = cache.ptr;
	ck_assert_int_eq(wd_checklist_add_spec(&l, "echo hi", 0), 0);
	ck_assert_int_eq(wd_check_def_hash(def, &l.v[0]), 0);
	ck_assert_int_eq(wd_buf_printf(&entry, "%s/baseline/%s/%s.json", cache.ptr, base, def), 0);
	ck_assert_int_eq(fx_write_file(entry.ptr, "{\"version\": 1, \"def\": \"nope\"}"), 0);
	ck_assert_int_eq(wd_gate_baseline(&r, &hits, fx_dir, base, &l, &o), 0);
	ck_assert_uint_eq(hits, 0);
	ck_assert_int_eq(r.passed, 1);
	ck_assert_str_eq(r.v[0].output.ptr, "hi\n");
	wd_gate_result_free(&r);
	ck_assert_int_eq(wd_gate_baseline(&r, &hits, fx_dir, base, &l, &o), 0);
	ck_assert_uint_eq(hits, 1);
	wd_gate_result_free(&r);
	wd_buf_free(&cache);
	wd_buf_free(&entry);
	wd_checklist_free(&l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gate_verdict");
	TCase *tc = tcase_create("verdict"), *bl = tcase_create("baseline");

	tcase_add_checked_fixture(tc, fx_dir_setup, fx_dir_teardown);
	tcase_add_test(tc, tests_are_classified_fixed_still_failing_regressed_new_missing);
	tcase_add_test(tc, preexisting_failures_alone_do_not_block);
	tcase_add_test(tc, fail_to_pass_must_pass);
	tcase_add_test(tc, fail_to_pass_unknown_when_failures_are_only_counted);
	tcase_add_test(tc, fail_to_pass_met_by_a_full_listing);
	tcase_add_test(tc, exit_code_decides_without_per_test_results);
	tcase_add_test(tc, more_failures_than_base_without_names_block);
	tcase_add_test(tc, timeout_always_blocks);
	tcase_add_test(tc, only_new_findings_on_touched_lines_block);
	tcase_add_test(tc, duplicate_findings_are_matched_one_to_one);
	tcase_add_test(tc, analyzer_failing_without_findings_blocks_unless_it_failed_on_base);
	tcase_add_test(tc, repair_summary_names_tests_findings_and_code);
	tcase_add_test(tc, summary_with_baseline_tells_old_failures_from_new);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(bl, fx_dir_setup, fx_dir_teardown);
	tcase_set_timeout(bl, 60);
	tcase_add_test(bl, baseline_is_cached_per_commit_and_definition);
	tcase_add_test(bl, corrupt_cache_entries_are_rerun);
	tcase_add_test(bl, baseline_is_cached_per_resources);
	suite_add_tcase(s, bl);
	return fx_suite_main(s);
}
