/* The gate's parsers for untrusted check output: per-test results (JUnit,
 * TAP, pytest, CTest, Check, "N passed, N failed"), analyzer findings
 * (gcc/clang, clang-tidy, cppcheck, flake8, SARIF) and touched lines. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/gate.h"

static void parse(wd_test_report *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(wd_results_parse(r, text, strlen(text)), 0);
}

static wd_test_status status_of(const wd_test_report *r, const char *name)
{
	const wd_test_case *c = wd_test_report_find(r, name);

	ck_assert_msg(c != NULL, "no test named '%s'", name);
	return c->status;
}

START_TEST(junit_xml_gives_every_case_with_failure_messages)
{
	wd_test_report r;

	parse(&r,
	      "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"s\" tests=\"4\">\n"
	      "  <testcase classname=\"calc.Sum\" name=\"adds\" time=\"0.01\"/>\n"
	      "  <testcase classname=\"calc.Sum\" name=\"negatives\">\n"
	      "    <failure message=\"expected 0 but was &lt;2&gt;\" type=\"AssertionError\">trace</failure>\n"
	      "  </testcase>\n"
	      "  <testcase name='crash' classname='calc.Div'><error>division by zero</error></testcase>\n"
	      "  <testcase classname=\"calc.Div\" name=\"later\"><skipped/></testcase>\n"
	      "</testsuite></testsuites>\n");
	ck_assert_str_eq(r.format, "junit");
	ck_assert_int_eq(r.complete, 1);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_uint_eq(r.passed, 1);
	ck_assert_uint_eq(r.failed, 2);
	ck_assert_uint_eq(r.skipped, 1);
	ck_assert_int_eq(status_of(&r, "calc.Sum.adds"), WD_TEST_PASS);
	ck_assert_int_eq(status_of(&r, "calc.Sum.negatives"), WD_TEST_FAIL);
	ck_assert_str_eq(wd_test_report_find(&r, "calc.Sum.negatives")->detail, "expected 0 but was <2>");
	ck_assert_str_eq(wd_test_report_find(&r, "calc.Div.crash")->detail, "division by zero");
	ck_assert_int_eq(status_of(&r, "calc.Div.later"), WD_TEST_SKIP);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(junit_quoted_brackets_and_cdata)
{
	wd_test_report r;

	parse(&r,
	      "<testsuite><testcase classname=\"k\" name=\"a>b\">"
	      "<failure type=\"x > y\"><![CDATA[expected <1> got <2>]]></failure></testcase>"
	      "<testcase classname=\"k\" name=\"ok\"></testcase></testsuite>");
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(status_of(&r, "k.a>b"), WD_TEST_FAIL);
	ck_assert_str_eq(wd_test_report_find(&r, "k.a>b")->detail, "expected <1> got <2>");
	ck_assert_int_eq(status_of(&r, "k.ok"), WD_TEST_PASS);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(tap_with_plan_directives_and_diagnostics)
{
	wd_test_report r;

	parse(&r,
	      "TAP version 13\n1..5\nok 1 - sums two numbers\n"
	      "not ok 2 - sums negatives\n  ---\n  message: 'got 2, expected 0'\n  ...\n"
	      "ok 3 - skipped one # SKIP no network\n"
	      "not ok 4 - known bug # TODO fix later\n"
	      "ok 5\n");
	ck_assert_str_eq(r.format, "tap");
	ck_assert_uint_eq(r.passed, 2);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_uint_eq(r.skipped, 2);
	ck_assert_int_eq(status_of(&r, "sums two numbers"), WD_TEST_PASS);
	ck_assert_int_eq(status_of(&r, "sums negatives"), WD_TEST_FAIL);
	ck_assert_ptr_nonnull(strstr(wd_test_report_find(&r, "sums negatives")->detail, "got 2, expected 0"));
	ck_assert_int_eq(status_of(&r, "skipped one"), WD_TEST_SKIP);
	ck_assert_int_eq(status_of(&r, "known bug"), WD_TEST_SKIP);
	ck_assert_int_eq(status_of(&r, "#5"), WD_TEST_PASS);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(tap_that_stops_short_of_its_plan_fails)
{
	wd_test_report r;

	parse(&r, "1..3\nok 1 - a\nok 2 - b\n");
	ck_assert_str_eq(r.format, "tap");
	ck_assert_uint_eq(r.passed, 2);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_int_eq(status_of(&r, "planned 3 tests, ran 2"), WD_TEST_FAIL);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(stray_ok_lines_are_not_tap)
{
	wd_test_report r;

	parse(&r, "checking things\nok\nok so far\nall done\n");
	ck_assert_ptr_null(r.format);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(r.counts_known, 0);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(pytest_verbose_and_short_summary)
{
	wd_test_report r;

	parse(&r,
	      "============================= test session starts ==============================\n"
	      "collected 4 items\n\n"
	      "tests/test_calc.py::test_add PASSED                                      [ 25%]\n"
	      "tests/test_calc.py::test_neg FAILED                                      [ 50%]\n"
	      "tests/test_calc.py::test_div[0] SKIPPED (no zero)                         [ 75%]\n"
	      "tests/test_calc.py::test_mul PASSED                                      [100%]\n\n"
	      "=================================== FAILURES ===================================\n"
	      "___________________________________ test_neg ___________________________________\n"
	      ">       assert add(-1, 1) == 0\nE       assert 2 == 0\n"
	      "=========================== short test summary info ============================\n"
	      "FAILED tests/test_calc.py::test_neg - assert 2 == 0\n"
	      "=================== 1 failed, 2 passed, 1 skipped in 0.12s ====================\n");
	ck_assert_str_eq(r.format, "pytest");
	ck_assert_int_eq(r.complete, 1);
	ck_assert_uint_eq(r.passed, 2);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_uint_eq(r.skipped, 1);
	ck_assert_int_eq(status_of(&r, "tests/test_calc.py::test_add"), WD_TEST_PASS);
	ck_assert_int_eq(status_of(&r, "tests/test_calc.py::test_neg"), WD_TEST_FAIL);
	ck_assert_str_eq(wd_test_report_find(&r, "tests/test_calc.py::test_neg")->detail, "assert 2 == 0");
	ck_assert_int_eq(status_of(&r, "tests/test_calc.py::test_div[0]"), WD_TEST_SKIP);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(pytest_quiet_summary_with_colours)
{
	wd_test_report r;

	parse(&r, "..F.\n\x1b[31mFAILED\x1b[0m t.py::test_x - ValueError\n"
	          "\x1b[31m1 failed\x1b[0m, \x1b[32m3 passed\x1b[0m, 2 warnings in 1.05s\n");
	ck_assert_str_eq(r.format, "pytest");
	ck_assert_int_eq(r.complete, 0);
	ck_assert_uint_eq(r.passed, 3);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_int_eq(status_of(&r, "t.py::test_x"), WD_TEST_FAIL);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(ctest_summary_and_per_test_lines)
{
	wd_test_report r;

	parse(&r,
	      "Test project /w/build\n"
	      "    Start 1: unit_sum\n1/3 Test #1: unit_sum .........................   Passed    0.01 sec\n"
	      "    Start 2: unit_div\n2/3 Test #2: unit_div .........................***Failed    0.02 sec\n"
	      "    Start 3: unit_io\n3/3 Test #3: unit_io ..........................***Exception: SegFault  0.01 sec\n\n"
	      "33% tests passed, 2 tests failed out of 3\n\nTotal Test time (real) =   0.05 sec\n\n"
	      "The following tests FAILED:\n\t  2 - unit_div (Failed)\n\t  3 - unit_io (SEGFAULT)\n");
	ck_assert_str_eq(r.format, "ctest");
	ck_assert_uint_eq(r.passed, 1);
	ck_assert_uint_eq(r.failed, 2);
	ck_assert_int_eq(status_of(&r, "unit_sum"), WD_TEST_PASS);
	ck_assert_int_eq(status_of(&r, "unit_div"), WD_TEST_FAIL);
	ck_assert_int_eq(status_of(&r, "unit_io"), WD_TEST_FAIL);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(check_summaries_are_summed_and_failures_named)
{
	wd_test_report r;

	parse(&r,
	      "Running suite(s): sum\n"
	      "66%: Checks: 3, Failures: 1, Errors: 0\n"
	      "tests/unit/test_sum.c:41:F:core:sum_negatives:0: Assertion 'sum(-1, 1) == 0' failed: sum(-1, 1) == 2, 0 == 0\n"
	      "Running suite(s): io\n"
	      "50%: Checks: 2, Failures: 0, Errors: 1\n"
	      "tests/unit/test_io.c:12:E:files:reads_missing:0: (after this point) Received signal 11 (Segmentation fault)\n");
	ck_assert_str_eq(r.format, "check");
	ck_assert_int_eq(r.counts_known, 1);
	ck_assert_int_eq(r.complete, 0);
	ck_assert_uint_eq(r.passed, 3);
	ck_assert_uint_eq(r.failed, 2);
	ck_assert_int_eq(status_of(&r, "core:sum_negatives"), WD_TEST_FAIL);
	ck_assert_ptr_nonnull(strstr(wd_test_report_find(&r, "core:sum_negatives")->detail,
	                             "Assertion 'sum(-1, 1) == 0' failed"));
	ck_assert_int_eq(status_of(&r, "files:reads_missing"), WD_TEST_FAIL);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(check_verbose_lines_list_passing_tests)
{
	wd_test_report r;

	parse(&r, "t.c:10:P:core:adds:0: Passed\nt.c:20:F:core:subs:0: Assertion 'x' failed\n"
	          "50%: Checks: 2, Failures: 1, Errors: 0\n");
	ck_assert_int_eq(r.complete, 1);
	ck_assert_int_eq(status_of(&r, "core:adds"), WD_TEST_PASS);
	ck_assert_int_eq(status_of(&r, "core:subs"), WD_TEST_FAIL);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(go_test_verbose_with_subtests_and_messages)
{
	wd_test_report r;

	parse(&r,
	      "=== RUN   TestAdd\n--- PASS: TestAdd (0.00s)\n=== RUN   TestDiv\n"
	      "=== RUN   TestDiv/by_zero\n    div_test.go:14: expected error, got 0\n"
	      "    --- FAIL: TestDiv/by_zero (0.00s)\n--- FAIL: TestDiv (0.00s)\n"
	      "--- SKIP: TestSlow (0.00s)\nFAIL\nFAIL\texample.com/calc\t0.005s\n");
	ck_assert_str_eq(r.format, "go");
	ck_assert_int_eq(r.complete, 1);
	ck_assert_uint_eq(r.passed, 1);
	ck_assert_uint_eq(r.failed, 2);
	ck_assert_int_eq(status_of(&r, "TestAdd"), WD_TEST_PASS);
	ck_assert_int_eq(status_of(&r, "TestDiv/by_zero"), WD_TEST_FAIL);
	ck_assert_int_eq(status_of(&r, "TestSlow"), WD_TEST_SKIP);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(cargo_test_lines_and_summaries)
{
	wd_test_report r;

	parse(&r,
	      "running 3 tests\ntest tests::adds ... ok\ntest tests::negs ... FAILED\n"
	      "test tests::slow ... ignored\n\nfailures:\n\n"
	      "test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\n"
	      "running 1 test\ntest it_works ... ok\n"
	      "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n");
	ck_assert_str_eq(r.format, "cargo");
	ck_assert_uint_eq(r.passed, 2);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_uint_eq(r.skipped, 1);
	ck_assert_int_eq(status_of(&r, "tests::negs"), WD_TEST_FAIL);
	ck_assert_int_eq(status_of(&r, "it_works"), WD_TEST_PASS);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(python_unittest_verbose_and_plain)
{
	wd_test_report r;

	parse(&r,
	      "test_add (tests.test_calc.CalcTest.test_add) ... ok\n"
	      "test_neg (tests.test_calc.CalcTest) ... FAIL\n"
	      "test_slow (tests.test_calc.CalcTest.test_slow) ... skipped 'slow'\n\n"
	      "======================================================================\n"
	      "FAIL: test_neg (tests.test_calc.CalcTest)\n"
	      "----------------------------------------------------------------------\n"
	      "AssertionError: 2 != 0\n\nRan 3 tests in 0.001s\n\nFAILED (failures=1, skipped=1)\n");
	ck_assert_str_eq(r.format, "unittest");
	ck_assert_int_eq(r.complete, 1);
	ck_assert_uint_eq(r.passed, 1);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_int_eq(status_of(&r, "tests.test_calc.CalcTest.test_add"), WD_TEST_PASS);
	ck_assert_int_eq(status_of(&r, "tests.test_calc.CalcTest.test_neg"), WD_TEST_FAIL);
	wd_test_report_free(&r);
	parse(&r, "F.E\nERROR: test_io (m.T.test_io)\nFAIL: test_x (m.T.test_x)\nRan 3 tests in 0.1s\nFAILED (failures=1, errors=1)\n");
	ck_assert_str_eq(r.format, "unittest");
	ck_assert_int_eq(r.complete, 0);
	ck_assert_uint_eq(r.passed, 1);
	ck_assert_uint_eq(r.failed, 2);
	ck_assert_int_eq(status_of(&r, "m.T.test_io"), WD_TEST_FAIL);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(hand_rolled_ok_and_fail_lines)
{
	wd_test_report r;

	/* the bundled example project's own harness */
	parse(&r,
	      "cc -std=c99 -O1 -Wall -Wextra -Werror -Isrc -o test_stats src/stats.c tests/test_stats.c -lm\n"
	      "./test_stats\nok   mean\nok   median_odd\nFAIL median_even: got 3, want 2.5\n"
	      "PASS: range_rc\nSKIP slow_one\n3 passed, 1 failed\nmake: *** [Makefile:8: test] Error 1\n");
	ck_assert_str_eq(r.format, "simple");
	ck_assert_int_eq(r.complete, 1);
	ck_assert_uint_eq(r.passed, 3);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_int_eq(status_of(&r, "mean"), WD_TEST_PASS);
	ck_assert_int_eq(status_of(&r, "median_even"), WD_TEST_FAIL);
	ck_assert_str_eq(wd_test_report_find(&r, "median_even")->detail, "got 3, want 2.5");
	ck_assert_int_eq(status_of(&r, "range_rc"), WD_TEST_PASS);
	ck_assert_int_eq(status_of(&r, "slow_one"), WD_TEST_SKIP);
	wd_test_report_free(&r);
	/* prose and lone FAIL lines are not results */
	parse(&r, "FAIL the build because of reasons\nok so that was it\nFAIL x\n");
	ck_assert_ptr_null(r.format);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(bare_counts_line_is_read)
{
	wd_test_report r;

	parse(&r, "lots of output\n212 passed, 3 failed\n");
	ck_assert_str_eq(r.format, "counts");
	ck_assert_uint_eq(r.passed, 212);
	ck_assert_uint_eq(r.failed, 3);
	ck_assert_uint_eq(r.n, 0);
	wd_test_report_free(&r);
	parse(&r, "summary: 0 failed, 17 passed\n");
	ck_assert_uint_eq(r.passed, 17);
	ck_assert_uint_eq(r.failed, 0);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(several_outputs_fold_into_one_report)
{
	wd_test_report r;
	const char *a = "1..2\nok 1 - a\nnot ok 2 - b\n", *b = "1..2\nok 1 - c\nok 2 - b\n", *none = "no results here\n";

	parse(&r, a);
	ck_assert_int_eq(wd_results_parse(&r, b, strlen(b)), 0);
	ck_assert_int_eq(wd_results_parse(&r, none, strlen(none)), 0);
	ck_assert_str_eq(r.format, "tap");
	ck_assert_uint_eq(r.n, 3);
	/* b passed in one file and failed in the other: it failed */
	ck_assert_int_eq(status_of(&r, "b"), WD_TEST_FAIL);
	ck_assert_uint_eq(r.passed, 2);
	ck_assert_uint_eq(r.failed, 1);
	wd_test_report_free(&r);
	/* totals add up when both sides give them */
	parse(&r, "3 passed, 1 failed\n");
	ck_assert_int_eq(wd_results_parse(&r, "5 passed, 0 failed\n", 19), 0);
	ck_assert_uint_eq(r.passed, 8);
	ck_assert_uint_eq(r.failed, 1);
	wd_test_report_free(&r);
}
END_TEST

START_TEST(output_without_results_leaves_the_report_empty)
{
	wd_test_report r;

	parse(&r, "make: Entering directory\ncc -o x x.c\nall good\n");
	ck_assert_ptr_null(r.format);
	ck_assert_int_eq(r.counts_known, 0);
	wd_test_report_free(&r);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(wd_results_parse(&r, NULL, 0), 0);
	ck_assert_ptr_null(r.format);
}
END_TEST

START_TEST(hostile_names_are_bounded_and_printable)
{
	wd_test_report r;
	wd_buf b = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_puts(&b, "1..1\nnot ok 1 - "), 0);
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(wd_buf_puts(&b, "x\x01"), 0);
	ck_assert_int_eq(wd_buf_puts(&b, "\n"), 0);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(wd_results_parse(&r, b.ptr, b.len), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_le(strlen(r.v[0].name), 512);
	ck_assert_ptr_null(strchr(r.v[0].name, '\x01'));
	wd_test_report_free(&r);
	wd_buf_free(&b);
}
END_TEST

/* ------------------------------------------------------------ findings */

static void fparse(wd_findings *f, const char *text)
{
	memset(f, 0, sizeof(*f));
	ck_assert_msg(wd_findings_parse(f, text, strlen(text)) == 0, "%s", wd_error_last());
}

START_TEST(gcc_and_clang_warnings)
{
	wd_findings f;

	fparse(&f,
	       "src/sum.c: In function 'sum':\n"
	       "src/sum.c:12:9: warning: unused variable 'tmp' [-Wunused-variable]\n"
	       "   12 |     int tmp;\n      |         ^~~\n"
	       "src/sum.c:20:5: error: implicit declaration of function 'foo' [-Werror=implicit-function-declaration]\n"
	       "src/sum.c:3:10: note: declared here\n"
	       "src/x.c:7: warning: no column here\n"
	       "include/y.h:2:1: fatal error: z.h: No such file or directory\n"
	       "cc1: all warnings being treated as errors\n"
	       "make: *** [Makefile:87: x.o] Error 1\n");
	ck_assert_uint_eq(f.n, 4);
	ck_assert_str_eq(f.v[0].file, "src/sum.c");
	ck_assert_uint_eq(f.v[0].line, 12);
	ck_assert_uint_eq(f.v[0].col, 9);
	ck_assert_str_eq(f.v[0].severity, "warning");
	ck_assert_str_eq(f.v[0].message, "unused variable 'tmp'");
	ck_assert_str_eq(f.v[0].rule, "-Wunused-variable");
	ck_assert_str_eq(f.v[1].severity, "error");
	ck_assert_str_eq(f.v[1].rule, "-Wimplicit-function-declaration");
	ck_assert_str_eq(f.v[2].file, "src/x.c");
	ck_assert_uint_eq(f.v[2].col, 0);
	ck_assert_ptr_null(f.v[2].rule);
	ck_assert_str_eq(f.v[3].severity, "error");
	ck_assert_str_eq(f.v[3].message, "z.h: No such file or directory");
	wd_findings_free(&f);
}
END_TEST

START_TEST(clang_tidy_findings_with_rule_lists)
{
	wd_findings f;

	fparse(&f,
	       "/w/src/a.c:5:3: warning: Call to 'malloc' has an allocation size of 0 bytes "
	       "[clang-analyzer-unix.Malloc]\n"
	       "/w/src/a.c:9:10: error: narrowing conversion [bugprone-narrowing-conversions,-warnings-as-errors]\n"
	       "    int x = y;\n          ^\n"
	       "2 warnings generated.\n");
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(f.v[0].rule, "clang-analyzer-unix.Malloc");
	ck_assert_str_eq(f.v[1].rule, "bugprone-narrowing-conversions");
	ck_assert_str_eq(f.v[1].message, "narrowing conversion");
	ck_assert_int_eq(wd_findings_normalize(&f, "/w/"), 0);
	ck_assert_str_eq(f.v[0].file, "src/a.c");
	wd_findings_free(&f);
}
END_TEST

START_TEST(cppcheck_default_gcc_and_legacy_templates)
{
	wd_findings f;

	fparse(&f,
	       "Checking src/a.c ...\n"
	       "src/a.c:14:6: error: Null pointer dereference: p [nullPointer]\n"
	       "    *p = 1;\n     ^\n"
	       "src/a.c:8:12: note: Assignment 'p=0', assigned value is 0\n"
	       "src/b.c:3:0: style: The function 'unused' is never used. [unusedFunction]\n"
	       "[src/c.c:22]: (warning) Uninitialized variable: n\n"
	       "nofile:0:0: information: Active checkers: 106/592 [checkersReport]\n");
	ck_assert_uint_eq(f.n, 3);
	ck_assert_str_eq(f.v[0].rule, "nullPointer");
	ck_assert_str_eq(f.v[0].message, "Null pointer dereference: p");
	ck_assert_str_eq(f.v[1].severity, "style");
	ck_assert_str_eq(f.v[1].rule, "unusedFunction");
	ck_assert_str_eq(f.v[2].file, "src/c.c");
	ck_assert_uint_eq(f.v[2].line, 22);
	ck_assert_str_eq(f.v[2].severity, "warning");
	ck_assert_str_eq(f.v[2].message, "Uninitialized variable: n");
	wd_findings_free(&f);
}
END_TEST

START_TEST(flake8_style_codes)
{
	wd_findings f;

	fparse(&f, "./pkg/mod.py:3:1: F401 'os' imported but unused\npkg/mod.py:10:80: E501 line too long (88 > 79 characters)\n");
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(f.v[0].rule, "F401");
	ck_assert_str_eq(f.v[0].message, "'os' imported but unused");
	ck_assert_int_eq(wd_findings_normalize(&f, NULL), 0);
	ck_assert_str_eq(f.v[0].file, "pkg/mod.py");
	wd_findings_free(&f);
}
END_TEST

START_TEST(normalizing_never_leaves_an_empty_path)
{
	wd_findings f;
	wd_verdict v;
	wd_check c = { "lint", WD_CHECK_ANALYZE, "x", 0, NULL };
	wd_check_result cr;
	wd_gate_result r = { &cr, 1, 0 };

	fparse(&f, "./:1:1: error: odd [r]\n/w/:2:1: error: odder [r]\n");
	ck_assert_int_eq(wd_findings_normalize(&f, "/w"), 0);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(f.v[0].file, "./");
	ck_assert_str_eq(f.v[1].file, "/w/");
	memset(&cr, 0, sizeof(cr));
	cr.check = &c;
	cr.findings = f;
	ck_assert_int_eq(wd_gate_verdict(&v, NULL, &r, NULL, NULL), 0);
	ck_assert_uint_eq(v.new_findings.n, 2);
	ck_assert_str_eq(v.new_findings.v[1].check, "lint");
	wd_verdict_free(&v);
	wd_findings_free(&cr.findings);
}
END_TEST

static const char sarif_doc[] =
	"{\"version\":\"2.1.0\",\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
	"\"runs\":[{\"tool\":{\"driver\":{\"name\":\"cppcheck\",\"rules\":[{\"id\":\"nullPointer\"},{\"id\":\"uninitvar\"}]}},"
	"\"results\":["
	"{\"ruleId\":\"nullPointer\",\"level\":\"error\",\"message\":{\"text\":\"Null pointer dereference\"},"
	"\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":\"src/a%20b.c\"},"
	"\"region\":{\"startLine\":14,\"startColumn\":6}}}]},"
	"{\"ruleIndex\":1,\"message\":{\"text\":\"Uninitialized variable: n\"},"
	"\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":\"file:///w/src/c.c\"},"
	"\"region\":{\"startLine\":22}}}]},"
	"{\"ruleId\":\"noLocation\",\"message\":{\"text\":\"skipped\"}},"
	"{\"ruleId\":\"off\",\"level\":\"none\",\"message\":{\"text\":\"x\"},"
	"\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":\"a.c\"}}}]}"
	"]}]}";

START_TEST(sarif_results_with_rules_levels_and_uris)
{
	wd_findings f;

	fparse(&f, sarif_doc);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(f.v[0].file, "src/a b.c");
	ck_assert_uint_eq(f.v[0].line, 14);
	ck_assert_uint_eq(f.v[0].col, 6);
	ck_assert_str_eq(f.v[0].severity, "error");
	ck_assert_str_eq(f.v[0].rule, "nullPointer");
	ck_assert_str_eq(f.v[0].tool, "cppcheck");
	ck_assert_str_eq(f.v[1].file, "/w/src/c.c");
	ck_assert_str_eq(f.v[1].rule, "uninitvar");
	ck_assert_str_eq(f.v[1].severity, "warning");
	ck_assert_int_eq(wd_findings_normalize(&f, "/w"), 0);
	ck_assert_str_eq(f.v[1].file, "src/c.c");
	wd_findings_free(&f);
}
END_TEST

START_TEST(malformed_sarif_is_refused_by_the_sarif_parser)
{
	wd_findings f = WD_FINDINGS_INIT;

	ck_assert_int_eq(wd_findings_parse_sarif(&f, "{\"runs\": 3}", 11), WD_EINPUT);
	ck_assert_int_eq(wd_findings_parse_sarif(&f, "{\"runs\": [", 10), WD_EINPUT);
	ck_assert_int_eq(wd_findings_parse_sarif(&f, "[]", 2), WD_EINPUT);
	ck_assert_uint_eq(f.n, 0);
	/* the auto-detecting parser falls back to text lines */
	fparse(&f, "{ not json\na.c:1:1: warning: w\n");
	ck_assert_uint_eq(f.n, 1);
	wd_findings_free(&f);
}
END_TEST

/* --------------------------------------------------------- touched lines */

START_TEST(git_diff_touches_added_lines_and_deletion_points)
{
	wd_touched t = WD_TOUCHED_INIT;
	const char *diff =
		"diff --git a/src/sum.c b/src/sum.c\nindex 1111111..2222222 100644\n"
		"--- a/src/sum.c\n+++ b/src/sum.c\n"
		"@@ -10,6 +10,7 @@ int sum(int a, int b)\n"
		" {\n"
		"-\treturn a - b;\n"
		"+\tint r = a + b;\n"
		"+\treturn r;\n"
		" }\n"
		" \n"
		" int mul(int a, int b)\n"
		"@@ -30,3 +31,2 @@\n"
		" x\n"
		"-y\n"
		" z\n"
		"diff --git a/old.c b/old.c\ndeleted file mode 100644\n--- a/old.c\n+++ /dev/null\n"
		"@@ -1,2 +0,0 @@\n-a\n-b\n"
		"diff --git a/new.c b/new.c\nnew file mode 100644\n--- /dev/null\n+++ b/new.c\n"
		"@@ -0,0 +1,2 @@\n+one\n+two\n";

	ck_assert_int_eq(wd_touched_from_diff(&t, diff, strlen(diff)), 0);
	ck_assert_int_eq(wd_touched_contains(&t, "src/sum.c", 11), 1);
	ck_assert_int_eq(wd_touched_contains(&t, "src/sum.c", 12), 1);
	ck_assert_int_eq(wd_touched_contains(&t, "src/sum.c", 10), 1); /* before the removed line */
	ck_assert_int_eq(wd_touched_contains(&t, "src/sum.c", 13), 0);
	ck_assert_int_eq(wd_touched_contains(&t, "src/sum.c", 9), 0);
	ck_assert_int_eq(wd_touched_contains(&t, "src/sum.c", 31), 1);
	ck_assert_int_eq(wd_touched_contains(&t, "src/sum.c", 32), 1);
	ck_assert_int_eq(wd_touched_contains(&t, "src/sum.c", 33), 0);
	ck_assert_int_eq(wd_touched_contains(&t, "old.c", 1), 0);
	ck_assert_int_eq(wd_touched_contains(&t, "new.c", 1), 1);
	ck_assert_int_eq(wd_touched_contains(&t, "new.c", 2), 1);
	ck_assert_int_eq(wd_touched_contains(&t, "new.c", 3), 0);
	ck_assert_int_eq(wd_touched_contains(&t, "new.c", 0), 1);
	ck_assert_int_eq(wd_touched_contains(&t, "b/new.c", 1), 0);
	wd_touched_free(&t);
}
END_TEST

START_TEST(plain_diff_headers_with_timestamps)
{
	wd_touched t = WD_TOUCHED_INIT;
	const char *diff =
		"--- lib/a.c\t2026-01-01 00:00:00\n+++ lib/a.c\t2026-01-02 00:00:00\n"
		"@@ -1 +1 @@\n-old\n+new\n"
		"--- b.c.orig\n+++ b.c\n@@ -5,2 +5,3 @@\n ctx\n+--- not a header\n ctx\n";

	ck_assert_int_eq(wd_touched_from_diff(&t, diff, strlen(diff)), 0);
	ck_assert_int_eq(wd_touched_contains(&t, "lib/a.c", 1), 1);
	ck_assert_int_eq(wd_touched_contains(&t, "b.c", 6), 1);
	ck_assert_int_eq(wd_touched_contains(&t, "b.c", 5), 0);
	ck_assert_int_eq(wd_touched_contains(&t, "b.c", 7), 0);
	wd_touched_free(&t);
}
END_TEST

START_TEST(touched_ranges_merge)
{
	wd_touched t = WD_TOUCHED_INIT;

	ck_assert_int_eq(wd_touched_add(&t, "a.c", 3, 5), 0);
	ck_assert_int_eq(wd_touched_add(&t, "a.c", 6, 6), 0);
	ck_assert_int_eq(wd_touched_add(&t, "a.c", 2, 2), 0);
	ck_assert_int_eq(wd_touched_add(&t, "a.c", 0, 4), 0);  /* invalid: ignored */
	ck_assert_int_eq(wd_touched_add(&t, "b.c", 1, 1), 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_uint_eq(t.v[0].start, 2);
	ck_assert_uint_eq(t.v[0].end, 6);
	wd_touched_free(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gate_parse");
	TCase *res = tcase_create("results"), *fin = tcase_create("findings"), *tou = tcase_create("touched");
	SRunner *sr;
	int failed;

	tcase_add_test(res, junit_xml_gives_every_case_with_failure_messages);
	tcase_add_test(res, junit_quoted_brackets_and_cdata);
	tcase_add_test(res, tap_with_plan_directives_and_diagnostics);
	tcase_add_test(res, tap_that_stops_short_of_its_plan_fails);
	tcase_add_test(res, stray_ok_lines_are_not_tap);
	tcase_add_test(res, pytest_verbose_and_short_summary);
	tcase_add_test(res, pytest_quiet_summary_with_colours);
	tcase_add_test(res, ctest_summary_and_per_test_lines);
	tcase_add_test(res, check_summaries_are_summed_and_failures_named);
	tcase_add_test(res, check_verbose_lines_list_passing_tests);
	tcase_add_test(res, go_test_verbose_with_subtests_and_messages);
	tcase_add_test(res, cargo_test_lines_and_summaries);
	tcase_add_test(res, python_unittest_verbose_and_plain);
	tcase_add_test(res, hand_rolled_ok_and_fail_lines);
	tcase_add_test(res, bare_counts_line_is_read);
	tcase_add_test(res, several_outputs_fold_into_one_report);
	tcase_add_test(res, output_without_results_leaves_the_report_empty);
	tcase_add_test(res, hostile_names_are_bounded_and_printable);
	suite_add_tcase(s, res);
	tcase_add_test(fin, gcc_and_clang_warnings);
	tcase_add_test(fin, clang_tidy_findings_with_rule_lists);
	tcase_add_test(fin, cppcheck_default_gcc_and_legacy_templates);
	tcase_add_test(fin, flake8_style_codes);
	tcase_add_test(fin, normalizing_never_leaves_an_empty_path);
	tcase_add_test(fin, sarif_results_with_rules_levels_and_uris);
	tcase_add_test(fin, malformed_sarif_is_refused_by_the_sarif_parser);
	suite_add_tcase(s, fin);
	tcase_add_test(tou, git_diff_touches_added_lines_and_deletion_points);
	tcase_add_test(tou, plain_diff_headers_with_timestamps);
	tcase_add_test(tou, touched_ranges_merge);
	suite_add_tcase(s, tou);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
