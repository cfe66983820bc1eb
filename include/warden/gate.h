#ifndef WARDEN_GATE_H
#define WARDEN_GATE_H

/*
 * The gate: run the checks in the sandbox, read their results, keep the
 * baseline (the same checks on the base commit, cached), and write the
 * short failure summary a repair round sends back to the model.
 *
 * Owns running checks (one wd_check_result each), the baseline cache and the
 * one JSON form of a check's result (wd_check_result_json). Never decides
 * whether a patch passes (verdict.h), never prints, and never runs a command
 * outside wd_sandbox_run.
 *
 * Everything a check prints (and every results file it writes) is untrusted
 * input: the parsers (test_report.h, findings.h) are bounded and fuzzed.
 * This header also brings in verdict.h and touched.h for the callers that
 * include the gate for its verdict.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/check.h"
#include "warden/findings.h"
#include "warden/sandbox.h"
#include "warden/test_report.h"

struct wd_ledger;

typedef struct wd_check_result {
	const wd_check *check;
	int passed;            /* exit 0 and not timed out */
	int exit_code;         /* 124 timeout, 128+signal */
	int timed_out;
	uint64_t wall_ms;
	size_t tests_passed;   /* per-test counts when the output tells them */
	size_t tests_failed;
	int counts_known;
	wd_buf output;         /* capped output */
	char digest[41];       /* hash of the captured output */
	size_t output_total;   /* bytes the command wrote in all */
	int output_truncated;
	int from_cache;        /* a cached baseline result */
	int skipped;           /* not run: a build check before it failed (see keep_going) */
	wd_test_report tests;  /* per-test results (test checks) */
	wd_findings findings;  /* analyzer findings (analyze checks) */
	wd_strvec layers;      /* sandbox layers applied ("userns", "landlock:abi=7", ...);
	                          empty for a cached baseline result */
	wd_strvec missing;     /* layers that could not be applied, "layer: why" */
} wd_check_result;

typedef struct wd_gate_result {
	wd_check_result *v;
	size_t n;
	int passed;            /* every check passed */
} wd_gate_result;

#define WD_GATE_RESULT_INIT { NULL, 0, 0 }

typedef struct wd_gate_opts {
	unsigned version;
	unsigned default_timeout_sec;  /* 0 = 600 */
	size_t output_cap;             /* 0 = sandbox default */
	int sandbox_policy;            /* enum wd_sandbox_policy */
	const char *cache_dir;         /* baseline cache root; NULL = wd_cache_dir() */
	struct wd_ledger *ledger;      /* when set, one "check" event per check run */
	int keep_going;                /* wd_gate_run: run every check even after a build
	                                * check failed (default: skip the rest, marked skipped) */
	const char *const *deny_read;  /* extra paths checks may not read (the sandbox's
	                                  deny_read_extra), e.g. warden's own cache; may be NULL */
	const char *const *allow_read; /* extra paths checks may read (the sandbox's
	                                  allow_read), e.g. the run's git directory; may be NULL */
	/* The checks' tree when it is more than the `workdir` argument: */
	const char *inside;            /* where the checks see it (and start); NULL = workdir */
	const char *const *overlay_lower; /* an overlay: read-only layers, topmost first... */
	const char *overlay_upper;     /* ...under this writable layer, where every write of a
	                                  check lands; results files are read from here only */
	const char *overlay_work;      /* overlayfs's scratch directory, beside overlay_upper */
	int baseline_cache;            /* wd_gate_baseline: enum wd_baseline_cache */
	/* Progress (may be NULL): on_check before (done 0) and after (done 1)
	 * each check that runs; on_output with its output as it comes, NOT yet
	 * redacted: whoever shows it must redact it first. */
	void (*on_check)(void *ctx, const char *name, const char *command, int done);
	void (*on_output)(void *ctx, const char *data, size_t len);
	void *progress_ctx;
	uint64_t memory_mb;            /* each check's memory limit; 0 = the sandbox's default */
} wd_gate_opts;

enum wd_baseline_cache {
	WD_BASELINE_CACHE_USE = 0,     /* reuse each check's cached result, run the others */
	WD_BASELINE_CACHE_REFRESH,     /* run every check, store the results */
	WD_BASELINE_CACHE_ONLY         /* every result from the cache, or WD_ENOTFOUND
	                                  without running anything */
};

#define WD_GATE_OPTS_VERSION 1
#define WD_GATE_OPTS_INIT { .version = WD_GATE_OPTS_VERSION, .sandbox_policy = WD_POLICY_BEST_EFFORT }

/* Run every check in `workdir` (through wd_sandbox_run, argv {"/bin/sh",
 * "-c", command}), in order; with opts->overlay_upper, `workdir` may be NULL
 * and the checks run in the overlay at opts->inside instead. Results files are
 * read from the directory the checks wrote (workdir, or overlay_upper), never
 * through a symbolic link and never blocking on a FIFO (warden/beneath.h); a
 * results file left there before the check ran is removed first. Once a build check fails the remaining checks
 * are not run (their results say skipped) unless opts->keep_going. Returns 0
 * when all ran (pass or fail: see out->passed), negative when a check could
 * not be started. */
int wd_gate_run(wd_gate_result *out, const char *workdir, const wd_checklist *checks,
                const wd_gate_opts *opts);

/* Fill in `so` the tree a command of the gate runs on (`workdir`, or the
 * overlay of opts: inside, overlay_lower/upper/work) and what it may read
 * (opts->allow_read, deny_read, sandbox_policy): the checks' view, which
 * whatever else runs on their tree (copying it out) must share. The caller
 * adds argv, limits, network and write access. */
void wd_gate_sandbox_tree(wd_sandbox_opts *so, const char *workdir, const wd_gate_opts *opts);

/* Run the checks on the base tree at `workdir` (whose HEAD is `base_commit`),
 * every one of them (keep_going is implied),
 * reusing cached results per (base commit, check definition hash) under
 * <cache>/baseline/. *from_cache (may be NULL) counts the checks reused.
 * Results refer to `checks`, which must outlive them. */
int wd_gate_baseline(wd_gate_result *out, size_t *from_cache, const char *workdir,
                     const char *base_commit, const wd_checklist *checks,
                     const wd_gate_opts *opts);

/* Where the tree a baseline built is kept beside its cached results, so a
 * later run on the same base can start its rounds from it: a directory under
 * <cache>/baseline/<base_commit>/ named by the checks' definitions (in order)
 * and `inside`, the path at which the checks saw the tree (build products
 * name it). Computes the path only. */
int wd_gate_baseline_layer(wd_buf *out, const char *cache_dir, const char *base_commit,
                           const wd_checklist *checks, const char *inside);

/* A short, specific summary of what failed, for the repair prompt, at most
 * max_bytes long: each failing check with the relevant lines of its output
 * (around "FAIL", "error", "Assertion", failing test names), not raw logs.
 * `baseline` (may be NULL) lets it say which failures were already there. */
int wd_gate_summary(wd_buf *out, const wd_gate_result *patched,
                    const wd_gate_result *baseline, size_t max_bytes);

/* "test=pass 12/12; build=pass" for the Warden-Checks trailer ("name=skip"
 * for a check that was not run). */
int wd_gate_trailer(wd_buf *out, const wd_gate_result *r);

void wd_gate_result_free(wd_gate_result *r);

/* A check's result as a new JSON object, the one schema every record of a
 * check starts from (the ledger's "check" event, the evidence note, the
 * baseline cache; docs/ledger.md): name, kind, command, passed, exit_code,
 * timed_out, wall_ms, digest, output_bytes, cached, skipped, tests_passed and
 * tests_failed (when known), findings (analyze checks: how many), sandbox,
 * sandbox_missing. Strings that are not UTF-8 are cleaned. NULL with the
 * error set (WD_ENOMEM). */
json_t *wd_check_result_json(const wd_check_result *cr);

/* the concepts that build on the gate, for callers that include only it */
#include "warden/touched.h"
#include "warden/verdict.h"

#endif
