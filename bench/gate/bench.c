/*
 * What the gate costs on large inputs, in process: parsing per-test results
 * and analyzer findings, the verdict against a baseline, the bounded failure
 * summary, redaction, and fsync'd ledger appends. Prints the median of N runs
 * of each, in ms.
 *
 *   make BUILD=build-gate build-gate/libwarden.a
 *   cc -D_GNU_SOURCE -Iinclude -O2 -o /tmp/bench-gate bench/gate/bench.c build-gate/libwarden.a \
 *      $(pkg-config --libs libgit2 libcurl jansson tree-sitter libseccomp) -lm -pthread
 *   /tmp/bench-gate [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "warden/buf.h"
#include "warden/fs.h"
#include "warden/gate.h"
#include "warden/ledger.h"

#define TESTS 40000
#define FINDINGS 20000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, uint64_t *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_u64);
	printf("%-58s %6llu ms (min %llu, max %llu)\n", what, (unsigned long long)t[n / 2],
	       (unsigned long long)t[0], (unsigned long long)t[n - 1]);
}

/* Check's verbose output for TESTS tests, 1% failing, with a compiler line each. */
static void check_output(wd_buf *out)
{
	for (int i = 0; i < TESTS; i++)
		wd_buf_printf(out, "compiling unit %d with -Wall -Werror\ntests/t.c:%d:%c:core:test_%d:0: %s\n",
		              i, i, i % 100 ? 'P' : 'F', i,
		              i % 100 ? "Passed" : "Assertion 'x == y' failed");
	wd_buf_printf(out, "99%%: Checks: %d, Failures: %d, Errors: 0\n", TESTS, TESTS / 100);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	uint64_t *t = calloc((size_t)(n > 0 ? n : 1), sizeof(*t)), t0;
	wd_check tc = { "test", WD_CHECK_TEST, "make check", 0, NULL };
	wd_check ac = { "analyze", WD_CHECK_ANALYZE, "cppcheck src", 0, NULL };
	wd_buf out = WD_BUF_INIT, warn = WD_BUF_INIT, s = WD_BUF_INIT;
	char dir[] = "/tmp/bench-gate-XXXXXX", path[64];

	if (n < 1 || !t || !mkdtemp(dir))
		return 2;
	git_libgit2_init();
	check_output(&out);
	for (int i = 0; i < FINDINGS; i++)
		wd_buf_printf(&warn, "src/f%d.c:%d:5: warning: unused variable 'v%d' [-Wunused-variable]\n",
		              i % 50, i, i);
	printf("inputs: Check output %zu bytes (%d tests), gcc output %zu bytes (%d warnings)\n\n",
	       out.len, TESTS, warn.len, FINDINGS);

	for (int k = 0; k < n; k++) {
		wd_test_report r = WD_TEST_REPORT_INIT;

		t0 = wd_now_ms();
		wd_results_parse(&r, out.ptr, out.len);
		t[k] = wd_now_ms() - t0;
		wd_test_report_free(&r);
	}
	report("parse per-test results (Check, 40000 tests)", t, n);

	for (int k = 0; k < n; k++) {
		wd_findings f = WD_FINDINGS_INIT;

		t0 = wd_now_ms();
		wd_findings_parse(&f, warn.ptr, warn.len);
		t[k] = wd_now_ms() - t0;
		wd_findings_free(&f);
	}
	report("parse analyzer findings (gcc, 20000 warnings)", t, n);

	{
		wd_check_result cr, ar;
		wd_gate_result tr = { &cr, 1, 0 }, arr = { &ar, 1, 1 }, empty = { NULL, 0, 1 };
		wd_touched touched = WD_TOUCHED_INIT;
		wd_verdict v;

		memset(&cr, 0, sizeof(cr));
		memset(&ar, 0, sizeof(ar));
		cr.check = &tc;
		cr.exit_code = 1;
		cr.output = out;
		wd_results_parse(&cr.tests, out.ptr, out.len);
		cr.counts_known = 1;
		cr.tests_passed = cr.tests.passed;
		cr.tests_failed = cr.tests.failed;
		ar.check = &ac;
		ar.passed = 1;
		wd_findings_parse(&ar.findings, warn.ptr, warn.len);
		for (unsigned i = 0; i < 50; i++)
			wd_touched_add(&touched, "src/f1.c", i * 100 + 1, i * 100 + 5);

		for (int k = 0; k < n; k++) {
			t0 = wd_now_ms();
			wd_gate_verdict(&v, &tr, &tr, NULL, NULL);
			t[k] = wd_now_ms() - t0;
			wd_verdict_free(&v);
		}
		report("verdict, 40000 tests against their baseline", t, n);
		for (int k = 0; k < n; k++) {
			t0 = wd_now_ms();
			wd_gate_verdict(&v, &arr, &arr, NULL, &touched);
			t[k] = wd_now_ms() - t0;
			wd_verdict_free(&v);
		}
		report("verdict, 20000 findings against their baseline", t, n);
		for (int k = 0; k < n; k++) {
			t0 = wd_now_ms();
			wd_gate_verdict(&v, &empty, &arr, NULL, &touched);
			t[k] = wd_now_ms() - t0;
			wd_verdict_free(&v);
		}
		report("verdict, 20000 new findings, 50 touched ranges", t, n);
		for (int k = 0; k < n; k++) {
			t0 = wd_now_ms();
			wd_gate_summary(&s, &tr, &tr, 4000);
			t[k] = wd_now_ms() - t0;
		}
		report("failure summary of the Check output, 4 KB budget", t, n);
		printf("  (summary: %zu bytes)\n", s.len);
		cr.output.ptr = NULL;
		wd_test_report_free(&cr.tests);
		wd_findings_free(&ar.findings);
		wd_touched_free(&touched);
	}

	wd_redact_register("sk-proj-0123456789abcdefghij");
	for (int k = 0; k < n; k++) {
		char *red;

		t0 = wd_now_ms();
		red = wd_redact(out.ptr);
		t[k] = wd_now_ms() - t0;
		free(red);
	}
	report("redact the Check output (3.3 MB)", t, n);

	snprintf(path, sizeof(path), "%s/ledger.jsonl", dir);
	for (int k = 0; k < n; k++) {
		wd_ledger *l;

		unlink(path);
		wd_ledger_open(&l, path, "bench");
		t0 = wd_now_ms();
		for (int i = 0; i < 100; i++)
			wd_ledger_add(l, "check", json_pack("{s:s, s:i, s:s}", "name", "test", "i", i,
			                                    "note", "with sk-proj-0123456789abcdefghij inside"));
		t[k] = wd_now_ms() - t0;
		wd_ledger_close(l);
	}
	report("ledger: 100 events, each fdatasync'd", t, n);

	unlink(path);
	rmdir(dir);
	wd_buf_free(&out);
	wd_buf_free(&warn);
	wd_buf_free(&s);
	free(t);
	return 0;
}
