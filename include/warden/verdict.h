#ifndef WARDEN_VERDICT_H
#define WARDEN_VERDICT_H

/*
 * The verdict: whether a patched run passes, relative to the baseline, and
 * what goes back to the model when it does not.
 *
 * Owns the pass/fail policy, the only place it is decided (docs/gate.md,
 * "Verdict"): wd_verdict.passed is SWE-bench's rule and wd_verdict.accepted
 * the decision a run acts on. Never runs a check (gate.h) and never reads
 * the work tree itself (a wd_gate_source does).
 */
#include <stddef.h>

#include "warden/buf.h"
#include "warden/findings.h"
#include "warden/gate.h"
#include "warden/touched.h"

typedef enum wd_test_class {
	WD_CLASS_PASSING = 0,  /* passed on base, passes now */
	WD_CLASS_FIXED,        /* failed on base, passes now */
	WD_CLASS_STILL_FAILING,/* failed on base, fails now (not blamed on the patch) */
	WD_CLASS_REGRESSED,    /* passed on base (or not failing there), fails now */
	WD_CLASS_NEW_PASSING,  /* not on base, passes now */
	WD_CLASS_NEW_FAILING,  /* not on base, fails now */
	WD_CLASS_MISSING,      /* passed on base, absent now */
	WD_CLASS_COUNT
} wd_test_class;

typedef struct wd_test_change {
	char *check;
	char *test;
	wd_test_class cls;
	char *detail;          /* failure message now, or NULL */
} wd_test_change;

typedef struct wd_verdict {
	int passed;              /* the rules below (SWE-bench's) hold */
	int accepted;            /* the patch may be proposed: passed, and when no
	                          * FAIL_TO_PASS name was given, every build and test
	                          * check also passed outright (see below) */
	wd_test_change *tests;   /* every classified test */
	size_t ntests, tests_cap;
	size_t counts[WD_CLASS_COUNT];
	wd_findings new_findings;  /* new vs base AND on touched lines: these block */
	size_t findings_elsewhere; /* new vs base on untouched lines: reported only */
	wd_strvec f2p_unmet;       /* FAIL_TO_PASS tests not seen passing */
	wd_strvec reasons;         /* one line per blocking reason */
	wd_strvec failed_checks;   /* names of the checks that block */
} wd_verdict;

/*
 * Decide whether the patched run passes the gate, relative to `base` (may be
 * NULL: then every check must simply pass). The rules (SWE-bench's, per check
 * matched by name):
 *  - a build check, and a check that timed out, must pass;
 *  - a test check that passed on base must pass now (exit code);
 *  - a test check that failed on base may fail now only with the same
 *    failures: no failing test that did not fail on base, none missing that
 *    passed there (needs per-test results on both sides; else it must pass);
 *  - every FAIL_TO_PASS name (matched exactly or as the tail after "::",
 *    ":", "." "/" or " ") must be seen passing, and nowhere failing, in the
 *    test checks; when no check lists its passing tests (Check without
 *    CK_VERBOSE, pytest -q), a name not listed as failing counts as passing
 *    provided every test check either exited 0 or named all its failures
 *    (a bare "7 passed, 2 failed" names none);
 *  - analyzer findings block only when new relative to base (same file, rule
 *    and message; a moved line still matches) and on a line in `touched`
 *    (NULL = every line); an analyzer that fails without findings must pass
 *    unless it failed on base too.
 * out->reasons says why it failed. out->accepted is the decision a run acts
 * on: without FAIL_TO_PASS names nothing tells a failure that was already
 * there from the one the ticket is about, so then every build and test check
 * must pass outright as well ("only when every check passes"); only
 * analyzers stay judged relative to the base. With FAIL_TO_PASS names,
 * accepted is passed. 0, or WD_ENOMEM.
 */
int wd_gate_verdict(wd_verdict *out, const wd_gate_result *base, const wd_gate_result *patched,
                    const char *const *fail_to_pass, const wd_touched *touched);
void wd_verdict_free(wd_verdict *v);
const char *wd_test_class_name(wd_test_class c);

/* Where the repair summary reads the lines around a finding: `read` puts the
 * patched version of the relative `path` into `out` and returns 0, or
 * returns nonzero when it has none (a generated file, a path outside). */
typedef struct wd_gate_source {
	int (*read)(void *ctx, const char *path, wd_buf *out);
	void *ctx;
} wd_gate_source;

/* A wd_gate_source.read that reads the files from the directory `ctx` (a
 * const char *), never through a symbolic link, regular files only. */
int wd_gate_source_dir(void *ctx, const char *path, wd_buf *out);

/* The repair prompt's failure summary, at most max_bytes: the blocking
 * reasons, failing tests with their relevant log lines, and the new findings
 * with the code lines around them (from `src`, may be NULL: no code lines). */
int wd_gate_repair_summary(wd_buf *out, const wd_verdict *v, const wd_gate_result *patched,
                           const wd_gate_source *src, size_t max_bytes);

/* "test=pass 12/12; build=pass; analyze=pass 0 new" judged by the verdict. */
int wd_verdict_trailer(wd_buf *out, const wd_verdict *v, const wd_gate_result *patched);

#endif
