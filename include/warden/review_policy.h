#ifndef WARDEN_REVIEW_POLICY_H
#define WARDEN_REVIEW_POLICY_H

/*
 * The one rule for irreversible steps (merge, push, pull request): the
 * user's review.autoApprove and push.allowed against --yes, --ci and
 * whether a terminal can be asked.
 *
 * Owns that decision. Never asks (the cli does) and never reads the
 * repository's own config (those keys are trusted-only, see config.h).
 */
#include "warden/config.h"

typedef enum wd_review_step {
	WD_STEP_MERGE = 0,     /* approve: merge into the target (key review.autoApprove) */
	WD_STEP_PUSH,          /* push a branch (key push.allowed) */
	WD_STEP_PULL_REQUEST   /* open a pull request (key push.allowed) */
} wd_review_step;

typedef enum wd_review_verdict {
	WD_REVIEW_ALLOW = 0,   /* go ahead without asking */
	WD_REVIEW_ASK,         /* ask on the terminal; go ahead only on yes */
	WD_REVIEW_DENY         /* do not; `code` and `reason` say why */
} wd_review_verdict;

/* What the user said on the command line, and whether a terminal can be
 * asked (stdin and stderr are TTYs; the cli knows). */
typedef struct wd_review_flags {
	int yes;               /* --yes */
	int ci;                /* --ci */
	int interactive;
} wd_review_flags;

typedef struct wd_review_decision {
	wd_review_verdict verdict;
	int code;              /* DENY: WD_EREFUSED when the user's config forbids the step,
	                          WD_EUSAGE when nothing allows it and no terminal can be asked */
	const char *key;       /* the config key that applies ("push.allowed", ...) */
	int setting;           /* its value in the user's config: 1, 0, or -1 when unset */
	char reason[320];      /* one sentence for the message, naming the key or the flags */
} wd_review_decision;

/*
 * The one rule for every irreversible step of `warden run` and `warden
 * review` (merge, push, pull request). The key is read from the user's own
 * config only (never the repository's .warden/config, see config.h):
 *   - an explicit false wins over --yes and --ci: push.allowed = false denies
 *     pushes and pull requests (WD_EREFUSED); review.autoApprove = false
 *     means a human confirms every approval, so it asks on a terminal and
 *     denies (WD_EREFUSED) without one;
 *   - an explicit true allows;
 *   - unset: --yes or --ci allows, a terminal asks, anything else is denied
 *     (WD_EUSAGE: say --yes, or set the key).
 * Returns 0 with `out` filled, or WD_EINPUT when the key's value is not a
 * boolean (a typo never becomes a silent default).
 */
int wd_review_policy_decide(wd_review_decision *out, const wd_config *cfg, wd_review_step step,
                            const wd_review_flags *flags);

/* "merge", "push", "pull request". */
const char *wd_review_step_name(wd_review_step step);

#endif
