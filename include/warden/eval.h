#ifndef WARDEN_EVAL_H
#define WARDEN_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "warden/buf.h"

struct wd_gate_result;

/*
 * Eval: a dataset of tickets run through the normal `warden run` pipeline and
 * graded as SWE-bench grades, sliced into shards for a CI matrix, merged and
 * compared. A dataset is JSONL, one instance per line, with SWE-bench's fields
 * (instance_id, repo, base_commit, problem_statement, patch, test_patch,
 * FAIL_TO_PASS, PASS_TO_PASS) and warden's own (build, test, scope). The
 * dataset, the repositories and the results files are all untrusted input.
 */

/* ---------------------------------------------------------------- dataset */
typedef struct wd_eval_instance {
	char *id;             /* instance_id */
	char *repo;           /* URL or path (a relative path is taken from the dataset's dir) */
	char *base_commit;
	char *problem;        /* problem_statement */
	char *patch;          /* the gold fix, or NULL */
	char *test_patch;     /* or NULL */
	wd_strvec f2p;        /* FAIL_TO_PASS */
	wd_strvec p2p;        /* PASS_TO_PASS */
	char *build;          /* build command, or NULL */
	char *test;           /* test command */
	wd_strvec scope;      /* path globs the patch may touch (may be empty) */
	size_t line;          /* 1-based line in the dataset */
	size_t index;         /* 0-based position among the instances */
} wd_eval_instance;

typedef struct wd_eval_dataset {
	wd_eval_instance *v;
	size_t n, cap;
	char sha1[41];        /* of the dataset's bytes: shards of one dataset share it */
} wd_eval_dataset;

#define WD_EVAL_DATASET_INIT { NULL, 0, 0, { 0 } }

/* Parse a dataset. `name` is used in messages ("NAME:LINE: what is wrong").
 * FAIL_TO_PASS and PASS_TO_PASS are a JSON list of strings or a string that
 * holds one (as the published datasets have them); scope a list or a
 * comma-separated string. Required: instance_id, repo, base_commit,
 * problem_statement, test. Blank lines are skipped. WD_EINPUT for a line
 * that is not such an object, a duplicate instance_id, or no instance at all. */
int wd_eval_dataset_parse(wd_eval_dataset *out, const char *name, const char *text, size_t len);
/* Read and parse the file at `path`; relative local repos become relative to its directory. */
int wd_eval_dataset_load(wd_eval_dataset *out, const char *path);
void wd_eval_dataset_free(wd_eval_dataset *d);

/* "I/N" (1 <= I <= N <= 10000) into *index (1-based) and *count. WD_EUSAGE otherwise. */
int wd_eval_shard_parse(unsigned *index, unsigned *count, const char *s);
/* Whether the instance at 0-based position `pos` belongs to shard index/count:
 * round robin over the dataset's order, so every instance is in exactly one. */
int wd_eval_in_shard(size_t pos, unsigned index, unsigned count);

/* ---------------------------------------------------------------- grading */
typedef enum wd_eval_status {
	WD_EVAL_RESOLVED = 0, /* every FAIL_TO_PASS passes and every PASS_TO_PASS still passes */
	WD_EVAL_PARTIAL,      /* some but not all FAIL_TO_PASS pass; PASS_TO_PASS all pass */
	WD_EVAL_UNRESOLVED,
	WD_EVAL_ERROR         /* the instance (or the harness) is broken: reason says why */
} wd_eval_status;

const char *wd_eval_status_name(wd_eval_status s);
/* "resolved", "partial", "unresolved", "error" to the status; -1 otherwise. */
int wd_eval_status_parse(const char *s);

typedef struct wd_eval_grade {
	wd_eval_status status;
	size_t f2p_passed, p2p_passed;
	wd_strvec failing;    /* FAIL_TO_PASS and PASS_TO_PASS tests that do not pass */
} wd_eval_grade;

/* Is the base (with the test patch) a valid starting point? 0 when it is;
 * WD_EINPUT with the reason when a build check failed or timed out, a
 * FAIL_TO_PASS test already passes, a PASS_TO_PASS test fails or is not
 * reported, or there is no FAIL_TO_PASS test to grade on. */
int wd_eval_validate_base(const wd_eval_instance *inst, const struct wd_gate_result *base);
/* Grade the checks of a patched tree. `out` is reset first. */
int wd_eval_grade_checks(wd_eval_grade *out, const wd_eval_instance *inst,
                         const struct wd_gate_result *g);
void wd_eval_grade_free(wd_eval_grade *g);

/* ---------------------------------------------------------------- running */
typedef struct wd_eval_opts {
	unsigned version;
	const char *model;         /* "oracle", "replay:FILE|DIR" (DIR/<instance_id>.jsonl), or any run spec */
	const char *work_dir;      /* warden's cache; NULL = the default */
	int rounds;                /* 0 = the run's default (oracle: 1) */
	unsigned check_timeout_sec;
	int sandbox_policy;        /* -1 = config/default */
	uint64_t check_memory_mb;  /* each check's memory limit; 0 = the sandbox default */
	unsigned jobs;             /* instances at once, each in its own process (0 = 1) */
	double max_cost_usd;       /* per instance; 0 = none */
	const char *shard;         /* "I/N" recorded in each result, or NULL for "1/1" */
	size_t shard_size;         /* instances in this shard (recorded for merge) */
	/* called once per finished instance with its result line, in the parent */
	int (*on_result)(void *payload, json_t *result);
	void *payload;
} wd_eval_opts;

#define WD_EVAL_OPTS_VERSION 1
#define WD_EVAL_OPTS_INIT { .version = WD_EVAL_OPTS_VERSION, .sandbox_policy = -1, .jobs = 1 }

/* Run one instance and grade it; *out is its result object (see docs/eval.md).
 * Returns 0 whenever a result was made, the instance's errors included. */
int wd_eval_run_instance(json_t **out, const wd_eval_instance *inst, const wd_eval_dataset *ds,
                         const wd_eval_opts *opts);

/* Remove the files wd_eval_run_instance() keeps for `inst` while it runs in
 * process `pid` (its ticket and model replay), for a worker that died before
 * it could. The run's own work tree is left to `warden gc`. */
int wd_eval_instance_cleanup(const wd_eval_instance *inst, const wd_eval_dataset *ds,
                             const wd_eval_opts *opts, pid_t pid);

/* Run the instances `todo` (positions in ds, n of them) with opts->jobs at
 * once, each in its own process pinned to a share of the CPUs, calling
 * opts->on_result as each finishes. A worker that dies becomes an error
 * result. Negative only when no worker could be started or on_result failed. */
int wd_eval_run(const wd_eval_dataset *ds, const size_t *todo, size_t n, const wd_eval_opts *opts);

/* ---------------------------------------------------------------- results */
typedef struct wd_eval_results {
	json_t *items;        /* array of result objects, in file order */
} wd_eval_results;

/* Read a results file (JSONL of result objects). Missing file = empty when
 * `missing_ok`. A torn last line (an interrupted write) is dropped; any other
 * malformed line is WD_EINPUT "FILE:LINE: ...". */
int wd_eval_results_load(wd_eval_results *out, const char *path, int missing_ok);
void wd_eval_results_free(wd_eval_results *r);

/* Totals over result objects: counts per status, tokens, cost, wall time,
 * and the resolution rate with its 95% Wilson interval. */
json_t *wd_eval_summary(const json_t *items);
/* 95% Wilson score interval of k successes in n trials (0,0 when n = 0). */
void wd_eval_wilson(double *lo, double *hi, size_t k, size_t n);
/* Two-sided exact McNemar p-value for b and c discordant pairs. */
double wd_eval_mcnemar(size_t b, size_t c);

/* Combine the results of several shards of one dataset, sorted by the
 * dataset's order. Refuses (WD_EINPUT naming it) results of different
 * datasets or shard counts, an instance in two inputs (overlap), a shard
 * given twice or missing, a shard with fewer results than it had instances (gap). */
int wd_eval_merge(json_t **out, const wd_eval_results *const *inputs, const char *const *names,
                  size_t n);

/* Per-instance differences between two evals over their shared instances:
 * newly resolved, newly failing, cost and time deltas, and McNemar's test. */
json_t *wd_eval_compare(const json_t *a, const json_t *b);

#endif
