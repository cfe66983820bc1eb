#ifndef WARDEN_GATE_H
#define WARDEN_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "warden/buf.h"
#include "warden/sandbox.h"

/*
 * The gate: run the checks in the sandbox, read their results, compare the
 * patched run with the baseline, and write the short failure summary that a
 * repair round sends back to the model.
 */

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
} wd_check;

typedef struct wd_checklist {
	wd_check *v;
	size_t n;
	size_t cap;
} wd_checklist;

#define WD_CHECKLIST_INIT { NULL, 0, 0 }

/* Add a check; `spec` is "command" or "kind: command". Duplicate commands are ignored. */
int wd_checklist_add_spec(wd_checklist *l, const char *spec, unsigned timeout_sec);
int wd_checklist_add(wd_checklist *l, const char *name, wd_check_kind kind,
                     const char *command, unsigned timeout_sec);
void wd_checklist_free(wd_checklist *l);
const char *wd_check_kind_name(wd_check_kind k);

typedef struct wd_check_result {
	const wd_check *check;
	int passed;
	int exit_code;         /* 124 timeout, 128+signal */
	int timed_out;
	uint64_t wall_ms;
	size_t tests_passed;   /* per-test counts when the output tells them */
	size_t tests_failed;
	int counts_known;
	wd_buf output;         /* capped output */
	char digest[41];       /* hash of the full captured output */
} wd_check_result;

typedef struct wd_gate_result {
	wd_check_result *v;
	size_t n;
	int passed;            /* every check passed */
} wd_gate_result;

typedef struct wd_gate_opts {
	unsigned version;
	unsigned default_timeout_sec;  /* 0 = 600 */
	size_t output_cap;             /* 0 = sandbox default */
	int sandbox_policy;            /* enum wd_sandbox_policy */
} wd_gate_opts;

#define WD_GATE_OPTS_VERSION 1
#define WD_GATE_OPTS_INIT { WD_GATE_OPTS_VERSION, 0, 0, WD_POLICY_BEST_EFFORT }

/* Run every check in `workdir`. Returns 0 when all ran (pass or fail: see
 * out->passed), negative when a check could not be started. */
int wd_gate_run(wd_gate_result *out, const char *workdir, const wd_checklist *checks,
                const wd_gate_opts *opts);

/* A short, specific summary of what failed, for the repair prompt, at most
 * max_bytes long. `baseline` (may be NULL) lets it say which failures are new. */
int wd_gate_summary(wd_buf *out, const wd_gate_result *patched,
                    const wd_gate_result *baseline, size_t max_bytes);

/* "test=pass 12/12; build=pass" for the Warden-Checks trailer. */
int wd_gate_trailer(wd_buf *out, const wd_gate_result *r);

void wd_gate_result_free(wd_gate_result *r);

#endif
