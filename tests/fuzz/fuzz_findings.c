/*
 * libFuzzer target for analyzer output (gcc/clang, clang-tidy, cppcheck,
 * flake8, SARIF JSON) and for the touched-lines reader of unified diffs,
 * then the diff-aware verdict over both. All of it is untrusted input.
 * Input: "DIFF\n%%%%\nANALYZER OUTPUT", or analyzer output alone.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/buf.h"
#include "warden/error.h"
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
	const char *text = (const char *)data, *sep;
	size_t len = size, dlen = 0;
	wd_check check = { "analyze", WD_CHECK_ANALYZE, "cppcheck src", 0, NULL };
	wd_check_result cr;
	wd_gate_result r = { &cr, 1, 0 }, empty = { NULL, 0, 1 };
	wd_touched t = WD_TOUCHED_INIT;
	wd_findings sarif = WD_FINDINGS_INIT;
	wd_verdict v;
	wd_buf s = WD_BUF_INIT;

	sep = memmem(data, size, "\n%%%%\n", 6);
	if (sep) {
		dlen = (size_t)(sep - text);
		text = sep + 6;
		len = size - dlen - 6;
		if (wd_touched_from_diff(&t, (const char *)data, dlen) != 0)
			abort();
		for (size_t i = 0; i < t.n; i++)
			if (t.v[i].start == 0 || t.v[i].end < t.v[i].start)
				abort();
	}
	memset(&cr, 0, sizeof(cr));
	cr.check = &check;
	cr.exit_code = 1;
	if (wd_buf_put(&cr.output, text, len) != 0)
		return 0;
	if (wd_findings_parse(&cr.findings, text, len) != 0)
		abort();
	if (wd_findings_parse_sarif(&sarif, text, len) != 0 && wd_error_last_code() != WD_EINPUT)
		abort();
	if (wd_findings_normalize(&cr.findings, "/work/tree") != 0)
		abort();
	for (size_t i = 0; i < cr.findings.n; i++)
		if (!cr.findings.v[i].file || !cr.findings.v[i].message || !cr.findings.v[i].severity)
			abort();
	if (wd_gate_verdict(&v, &empty, &r, NULL, sep ? &t : NULL) == 0) {
		if (wd_gate_repair_summary(&s, &v, &r, NULL, 300) != 0 || s.len > 300)
			abort();
		wd_verdict_free(&v);
	}
	wd_buf_free(&s);
	wd_buf_free(&cr.output);
	wd_findings_free(&cr.findings);
	wd_findings_free(&sarif);
	wd_touched_free(&t);
	return 0;
}
