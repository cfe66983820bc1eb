#ifndef WARDEN_GATE_H
#define WARDEN_GATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/sandbox.h"

struct wd_config;
struct wd_ledger;

/*
 * The gate: run the checks in the sandbox, read their results, compare the
 * patched run with the baseline, and write the short failure summary that a
 * repair round sends back to the model.
 *
 * Everything a check prints (and every results file it writes) is untrusted
 * input: the parsers below are bounded and fuzzed.
 */

/* ------------------------------------------------------------------ checks */

typedef enum wd_check_kind {
	WD_CHECK_TEST = 0,
	WD_CHECK_BUILD,
	WD_CHECK_ANALYZE
} wd_check_kind;

typedef struct wd_check {
	char *name;            /* "test", or the [check "NAME"] name */
	wd_check_kind kind;
	char *command;         /* run with /bin/sh -c in the work tree */
	unsigned timeout_sec;  /* 0 = the gate's default */
	char *results_file;    /* optional: JUnit XML / TAP / SARIF file(s) the command
	                        * writes, relative to the work tree, glob patterns
	                        * allowed ("build/test-results/TEST-*.xml"); NULL = output */
} wd_check;

typedef struct wd_checklist {
	wd_check *v;
	size_t n;
	size_t cap;
} wd_checklist;

#define WD_CHECKLIST_INIT { NULL, 0, 0 }

/* Add a check; `spec` is "command" or "kind: command" (kind = test|build|analyze;
 * a bare command is a test). The name is the kind, suffixed "-2", "-3"… when
 * taken. Duplicate commands are ignored. WD_EINPUT for an empty command. */
int wd_checklist_add_spec(wd_checklist *l, const char *spec, unsigned timeout_sec);
/* Add a check by its parts. WD_EEXISTS when the name is taken; a duplicate
 * command is ignored (returns 0). */
int wd_checklist_add(wd_checklist *l, const char *name, wd_check_kind kind,
                     const char *command, unsigned timeout_sec);
/* Add every [check "NAME"] of the configuration, in name order:
 *   command = …        (required)
 *   kind = test|build|analyze   (default test)
 *   timeout = N        (seconds, 1..86400)
 *   results = PATH     (optional results file or glob, relative, no "..")
 * WD_EINPUT naming the check and key when a value is invalid (the checks
 * before it stay added). */
int wd_checklist_from_config(wd_checklist *l, const struct wd_config *cfg);
/* The check named `name`, or NULL. */
const wd_check *wd_checklist_find(const wd_checklist *l, const char *name);
void wd_checklist_free(wd_checklist *l);
const char *wd_check_kind_name(wd_check_kind k);
/* "test"/"build"/"analyze" (also "tests", "lint") to a kind; WD_EINPUT otherwise. */
int wd_check_kind_parse(wd_check_kind *out, const char *s);
/* Hash of everything that defines a check (name, kind, command, timeout,
 * results file): the baseline cache key. out is 41 bytes. */
int wd_check_def_hash(char out[41], const wd_check *c);

/* ------------------------------------------------------- per-test results */

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

/* ------------------------------------------------------- analyzer findings */

typedef struct wd_finding {
	char *file;            /* relative to the work tree when it was under it */
	unsigned line, col;    /* 1-based; 0 = unknown */
	char *severity;        /* "error", "warning", "style", "note"… */
	char *rule;            /* "-Wunused-variable", "nullPointer", "bugprone-…", or NULL */
	char *message;
	char *tool;            /* SARIF's driver name, or NULL */
	char *check;           /* the check that reported it (set by the gate), or NULL */
} wd_finding;

typedef struct wd_findings {
	wd_finding *v;
	size_t n, cap;
} wd_findings;

#define WD_FINDINGS_INIT { NULL, 0, 0 }

/* Parse analyzer output: SARIF 2.1 JSON when the text is a JSON object,
 * otherwise gcc/clang/clang-tidy/cppcheck lines ("file:line[:col]: severity:
 * message [rule]", cppcheck's "[file:line]: (severity) message"). Notes,
 * cppcheck's "information" lines and lines that are not findings are
 * skipped. Appends to `out`. */
int wd_findings_parse(wd_findings *out, const char *text, size_t len);
/* SARIF 2.1 only; WD_EINPUT when it is not SARIF. */
int wd_findings_parse_sarif(wd_findings *out, const char *text, size_t len);
/* Make paths relative to `workdir` (absolute ones under it, "./" prefixes). */
int wd_findings_normalize(wd_findings *f, const char *workdir);
int wd_findings_push(wd_findings *f, const char *file, unsigned line, unsigned col,
                     const char *severity, const char *rule, const char *message,
                     const char *tool);
void wd_findings_free(wd_findings *f);

/* ----------------------------------------------------------- touched lines */

typedef struct wd_line_range {
	char *file;            /* path in the patched tree */
	unsigned start, end;   /* inclusive, 1-based */
} wd_line_range;

typedef struct wd_touched {
	wd_line_range *v;
	size_t n, cap;
} wd_touched;

#define WD_TOUCHED_INIT { NULL, 0, 0 }

/* The lines of the new side a unified diff adds or changes: every '+' line,
 * and for pure deletions the lines either side of the cut. Accepts git
 * ("diff --git", "a/" "b/" prefixes) and plain diffs. Deleted files add nothing. */
int wd_touched_from_diff(wd_touched *out, const char *diff, size_t len);
int wd_touched_add(wd_touched *t, const char *file, unsigned start, unsigned end);
int wd_touched_contains(const wd_touched *t, const char *file, unsigned line);
void wd_touched_free(wd_touched *t);

/* -------------------------------------------------------------- gate runs */

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

/* ----------------------------------------------------------------- verdict */

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
