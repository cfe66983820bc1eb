#ifndef WARDEN_RUN_H
#define WARDEN_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * The conductor: one ticket, from clone to a gated commit on a review branch.
 * Calls the modules in order (repo, ticket, context, model, patch, gate,
 * ledger, review) and owns the repair loop. It never prints: progress goes
 * through the callback, the outcome through wd_run_result. It never decides
 * a module's question itself: whether a patch passes is the verdict's
 * (verdict.h), which model and sandbox policy the config's getters',
 * whether a step may go ahead review's policy.
 */

typedef enum wd_run_status {
	WD_RUN_PROPOSED = 0, /* every check passed; committed and published */
	WD_RUN_NO_PATCH,     /* no edit passed within the rounds */
	WD_RUN_ERROR,        /* could not run: input, git, model service, budget */
	WD_RUN_INTERRUPTED,  /* SIGINT/SIGTERM stopped it (see warden/interrupt.h) */
	WD_RUN_ESCALATED,    /* a person must decide: `question` says what (exit 5) */
	WD_RUN_DRY_RUN       /* --dry-run: `dry_run` says what would be sent; nothing was */
} wd_run_status;

/* Called at the start and end of each stage: `done` is 0 at the start, 1 at
 * the end; `msg` says what happened. */
typedef void (*wd_run_progress_fn)(void *payload, const char *stage, int done,
                                   uint64_t elapsed_ms, const char *msg);

struct wd_gate_result;

/* Called after the baseline (`what` = "baseline") and after each round's
 * checks ("checks") with their results; a nonzero return ends the run with
 * that error (its message set with wd_error_set). */
typedef int (*wd_run_checks_fn)(void *payload, const char *what,
                                const struct wd_gate_result *g);

typedef struct wd_run_opts {
	unsigned version;
	const char *repo;            /* --repo: local path or URL */
	const char *ticket;          /* --ticket: path */
	const char *base;            /* --base, NULL = the source's HEAD */
	const char *model;           /* --model spec; NULL = config model.default / $WARDEN_MODEL */
	const char *const *checks;   /* --check commands, NULL-terminated (may be NULL) */
	int rounds;                  /* --rounds; 0 = ticket, config run.rounds, or 3 */
	const char *work_dir;        /* --work-dir; NULL = the cache dir */
	const char *record;          /* --record FILE for model traffic */
	unsigned check_timeout_sec;  /* --check-timeout; 0 = 600 */
	int sandbox_policy;          /* enum wd_sandbox_policy; -1 = config or default */
	int keep_worktree;           /* keep runs/<id> (its last tree in runs/<id>/tree) */
	const char *const *allow_read; /* --allow-read: more paths checks may read (NULL-terminated) */
	int no_tools;                /* do not offer the read-only repository tools */
	int dry_run;                 /* stop before the first model call: report what it would carry */
	double max_cost_usd;         /* 0 = no cap */
	int64_t max_tokens;
	int max_calls;
	uint64_t max_time_ms;
	wd_run_progress_fn progress;
	void *payload;
	/* The check being run and its output as it comes (unredacted: redact
	 * before showing); both get `payload`. May be NULL. */
	void (*on_check)(void *payload, const char *name, const char *command, int done);
	void (*on_output)(void *payload, const char *data, size_t len);
	/* For eval (warden/eval.h): */
	const char *base_patch;      /* a patch applied to the base before anything reads it
	                                (a dataset's test_patch): base + patch is the run's base */
	wd_run_checks_fn on_checks;  /* sees every gate result; payload as above */
	uint64_t check_memory_mb;    /* each check's memory limit (eval --jobs); 0 = default */
	int no_publish;              /* commit the passing patch in warden's cache only: no
	                                branch in the source, no proposal to review */
} wd_run_opts;

#define WD_RUN_OPTS_VERSION 1
#define WD_RUN_OPTS_INIT { .version = WD_RUN_OPTS_VERSION, .sandbox_policy = -1 }

typedef struct wd_run_result {
	wd_run_status status;
	int error;             /* the wd_error_code when status is ERROR */
	char run_id[17];
	char *repo;            /* repository holding the branch */
	char *branch;
	char base[41];         /* full hex ids, "" when not known */
	char commit[41];
	int rounds;            /* rounds used */
	char *reason;          /* why no patch / what failed; NULL when proposed */
	char *question;        /* ESCALATED: what a person must answer, in plain words */
	char *ledger;          /* path of the run's ledger */
	char *cache_dir;       /* warden's cache the run used (proposals, mirrors) */
	char *workdir;         /* the run's last checked tree when kept (--keep-worktree), else NULL */
	int64_t input_tokens;
	int64_t output_tokens;
	double cost_usd;
	json_t *stages;        /* [{stage, ms}] */
	json_t *alerts;        /* [{kind, message}]: what looked wrong (warden/alerts.h) */
	json_t *dry_run;       /* DRY_RUN: {model, messages [{role, bytes, content}], files
	                          [{path, reason, bytes}], tools, denied_paths, redactions, bytes,
	                          estimated_input_tokens, price_in_per_million,
	                          estimated_input_cost_usd, baseline} */
} wd_run_result;

/* Run it. Returns 0 when the run reached an outcome (proposed or no patch:
 * see out->status), negative with wd_error_last() set when it could not;
 * WD_EUSAGE before anything else when opts is NULL or opts->version is not
 * WD_RUN_OPTS_VERSION (start from WD_RUN_OPTS_INIT). */
int wd_run(wd_run_result *out, const wd_run_opts *opts);

/* The result as the JSON object `warden run --json` prints. */
json_t *wd_run_result_json(const wd_run_result *r);

void wd_run_result_free(wd_run_result *r);

#endif
