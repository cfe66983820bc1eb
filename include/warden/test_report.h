#ifndef WARDEN_TEST_REPORT_H
#define WARDEN_TEST_REPORT_H

/*
 * Per-test results read from what a check printed or wrote: JUnit XML, TAP,
 * pytest, go test, cargo, unittest, CTest, Check and plain "ok NAME" lines.
 *
 * Owns the parsers and the report they fill. The text is untrusted: every
 * parser is bounded and fuzzed. Never runs a check and never judges one
 * (verdict.h does).
 */
#include <stddef.h>

typedef enum wd_test_status { WD_TEST_PASS = 0, WD_TEST_FAIL, WD_TEST_SKIP } wd_test_status;

typedef struct wd_test_case {
	char *name;            /* stable identity: "tcase:test_fn", "file.py::test_x", "Class.name" */
	wd_test_status status;
	char *detail;          /* failure message, first lines (bounded), or NULL */
} wd_test_case;

typedef struct wd_test_report {
	wd_test_case *v;
	size_t n, cap;
	size_t passed, failed, skipped; /* totals (from the summary when given) */
	int counts_known;      /* the output said how many passed and failed */
	int complete;          /* v lists the passing tests too, not only failures */
	const char *format;    /* static: "junit", "tap", "pytest", "go", "cargo", "unittest",
	                        * "ctest", "check", "simple", "counts", or NULL when
	                        * nothing was recognised */
} wd_test_report;

#define WD_TEST_REPORT_INIT { NULL, 0, 0, 0, 0, 0, 0, 0, NULL }

/* Whether the test `full` is the one a ticket calls `want`: the same name,
 * or `want` is its tail after ':', '.', '/' or ' ' ("test_x" names
 * "core:test_x", "tests/a.py::test_x", "pkg.Class.test_x"). */
int wd_test_name_matches(const char *full, const char *want);

/* Read per-test results from a check's output or results file, and fold
 * them into `out` (empty, or the results of another file of the same run:
 * cases are merged by name, totals added). Recognised,
 * most specific first: JUnit XML, TAP, pytest (summary, -v lines, FAILED
 * lines), go test, cargo test, Python unittest, CTest, Check (summaries and
 * per-test lines), hand-rolled "ok NAME" / "FAIL NAME: why" lines, and a
 * bare "N passed, N failed". Finding
 * nothing is not an error (out is left as it was). */
int wd_results_parse(wd_test_report *out, const char *text, size_t len);
const wd_test_case *wd_test_report_find(const wd_test_report *r, const char *name);
void wd_test_report_free(wd_test_report *r);
const char *wd_test_status_name(wd_test_status s);

#endif
