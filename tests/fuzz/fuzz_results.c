/*
 * libFuzzer target for the per-test result parsers (JUnit, TAP, pytest,
 * CTest, Check, counts) and the failure summary built on them: check output
 * is untrusted. Invariants checked: the parse never fails on any input
 * except for memory, counts are consistent, and the summary respects its
 * byte budget.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/buf.h"
#include "warden/gate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wd_check check = { "test", WD_CHECK_TEST, "make check", 0, NULL };
	wd_check_result cr;
	wd_gate_result r = { &cr, 1, 0 };
	wd_verdict v;
	wd_buf s = WD_BUF_INIT;
	const char *f2p[] = { "test_sum", NULL };
	size_t budget = size ? data[0] * 8u : 100;

	memset(&cr, 0, sizeof(cr));
	cr.check = &check;
	cr.exit_code = 1;
	if (wd_buf_put(&cr.output, data, size) != 0)
		return 0;
	if (wd_results_parse(&cr.tests, (const char *)data, size) != 0)
		abort();
	for (size_t i = 0; i < cr.tests.n; i++)
		if (!cr.tests.v[i].name || strlen(cr.tests.v[i].name) > 512)
			abort();
	cr.counts_known = cr.tests.counts_known;
	cr.tests_passed = cr.tests.passed;
	cr.tests_failed = cr.tests.failed;
	if (wd_gate_summary(&s, &r, &r, budget) != 0 || s.len > budget)
		abort();
	if (wd_gate_verdict(&v, &r, &r, f2p, NULL) == 0) {
		if (wd_gate_repair_summary(&s, &v, &r, NULL, budget) != 0 || s.len > budget)
			abort();
		wd_verdict_free(&v);
	}
	wd_buf_free(&s);
	wd_buf_free(&cr.output);
	wd_test_report_free(&cr.tests);
	return 0;
}
