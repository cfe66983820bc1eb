#ifndef WARDEN_REVIEW_H
#define WARDEN_REVIEW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/config.h"
#include "warden/repo.h"

/*
 * Review: what happens to a run's commit after the gate passed it.
 *
 * A proposal is the record `warden run` writes on success. It lives in one
 * JSON file per proposal, <cache>/proposals/<id>.json, written atomically, so
 * a reader never sees half a record and a crash never loses an earlier one.
 * Its life: open -> approved (merged into the target branch, optionally
 * pushed) or open -> rejected (branch deleted, record and reason kept; the
 * reason is handed to the model the next time the same ticket runs).
 *
 * Nothing here prints or asks: the cli shows the plan (wd_review_plan), asks
 * wd_review_policy_decide() whether each irreversible step (merge, push,
 * pull request) may go ahead, and asks on the terminal when it says so.
 * The git work itself is the repo module's (wd_repo_*).
 */

typedef enum wd_proposal_status {
	WD_PROPOSAL_OPEN = 0,
	WD_PROPOSAL_APPROVED,
	WD_PROPOSAL_REJECTED
} wd_proposal_status;

/*
 * One proposal. Every string is owned (free with wd_proposal_free) and may be
 * NULL when unknown, except id, repo, branch, target, base and commit, which
 * wd_proposal_save requires.
 */
typedef struct wd_proposal {
	char *id;              /* the run id; also the record's file name */
	char *ticket_title;
	char *ticket_id;       /* wd_ticket.id: links reruns of the same ticket */
	char *ticket_path;     /* the ticket file as given to `warden run` */
	char *source;          /* REPO as the user gave it (path or URL), for display */
	char *repo;            /* path of the repository that holds the branch */
	char *branch;          /* the proposal branch, e.g. "warden/fix-add-1a2b3c4d" */
	char *target;          /* branch the proposal merges into (the run's base ref) */
	char base[41];         /* hex id of the commit the run started from */
	char commit[41];       /* hex id of the proposed commit (tip of branch) */
	char *model;           /* model spec used */
	char *checks;          /* check summary, e.g. "test=pass 12/12; build=pass" */
	char *evidence;        /* check evidence as JSON text (the git note's content) */
	char *ledger_path;     /* the run's ledger (JSONL) */
	char *user;            /* who made the run (see wd_review_current_user) */
	int rounds;
	int64_t input_tokens;
	int64_t output_tokens;
	double cost_usd;
	char created[32];      /* ISO 8601 UTC */
	wd_proposal_status status;
	char *reason;          /* rejection reason */
	char *decided_by;      /* who approved or rejected */
	char decided[32];      /* when, ISO 8601 UTC; "" while open */
	char merged[41];       /* approved: the target's new tip; "" otherwise */
	char *pushed_to;       /* the remote the target (approved) or the branch went to */
	char *pr_url;          /* the pull request opened for it, if any */
} wd_proposal;

/* A zeroed, open proposal with created = now and user = the current user. */
int wd_proposal_new(wd_proposal **out);

void wd_proposal_free(wd_proposal *p);

/* Write <cache_dir>/proposals/<p->id>.json atomically (creating the directory,
 * mode 0700). Replaces an earlier record of the same id. A relative
 * ticket_path or ledger_path naming an existing file is stored absolute (review
 * commands run from anywhere). Errors: WD_EINPUT
 * when a required field is missing or the id is not [A-Za-z0-9._-]+. */
int wd_proposal_save(const wd_proposal *p, const char *cache_dir);

/* Load proposal `id`. An unambiguous prefix of an id also names it (as with
 * git's short hashes). Errors: WD_ENOTFOUND, WD_EUSAGE (ambiguous prefix),
 * WD_EINPUT (a malformed record, naming the file). */
int wd_proposal_load(wd_proposal **out, const char *cache_dir, const char *id);

/* The record as a JSON object (the same shape as the file). NULL on ENOMEM. */
json_t *wd_proposal_to_json(const wd_proposal *p);
/* Fill a proposal from such an object; `name` is used in error messages. */
int wd_proposal_from_json(wd_proposal **out, const json_t *obj, const char *name);

/* "open", "approved", "rejected". */
const char *wd_proposal_status_name(wd_proposal_status s);

typedef struct wd_proposal_list {
	wd_proposal **v;       /* oldest first (by created, then id) */
	size_t n;
	wd_strvec skipped;     /* records that could not be read: "FILE: why" */
} wd_proposal_list;

#define WD_PROPOSAL_LIST_INIT { NULL, 0, WD_STRVEC_INIT }

/* Every proposal in the store, or only those with status `status` when it is
 * >= 0. A missing store is an empty list. Unreadable records are skipped and
 * named in out->skipped rather than hiding the others. */
int wd_proposal_list_load(wd_proposal_list *out, const char *cache_dir, int status);

void wd_proposal_list_free(wd_proposal_list *l);

/* The rejection reasons of earlier runs of ticket `ticket_id`, oldest first
 * (appended to `out`). No earlier rejection is success with nothing added. */
int wd_review_feedback_for_ticket(wd_strvec *out, const char *cache_dir, const char *ticket_id);

/* Who is acting: $WARDEN_USER, else the login name of the effective uid. */
int wd_review_current_user(wd_buf *out);

/* ---- commit evidence ------------------------------------------------- */

#define WD_NOTES_REF "refs/notes/warden"

/* Attach `json_evidence` (must parse as JSON: commands, exit codes, durations,
 * log digests) to commit `commit_hex` as a git note under refs/notes/warden,
 * replacing an earlier note. Call it on the repository that holds the branch
 * (the path wd_repo_publish returns) so that `review show` and `git log
 * --notes=warden` find it. WD_EINPUT when the evidence is not JSON. */
int wd_review_add_note(const char *repo_path, const char *commit_hex, const char *json_evidence);

/* The note's text; WD_ENOTFOUND when the commit has none. */
int wd_review_read_note(wd_buf *out, const char *repo_path, const char *commit_hex);

/* ---- show ------------------------------------------------------------ */

/* Stat summary and unified diff of the proposal's commit against its base,
 * read from the repository that holds it. */
int wd_review_diff(wd_buf *out, const wd_proposal *p);

/* Read the run's ledger (JSONL) and summarise it for a human: each event on
 * one line, and what the model was asked and what it said, each cut to
 * `max_text` bytes (0 = 2000). A line that is not JSON is reported, not fatal. */
int wd_review_ledger_summary(wd_buf *out, const char *ledger_path, size_t max_text);

/* ---- approve / reject ------------------------------------------------ */

/* What approving would do, computed without changing anything: the repo
 * module's merge plan of the proposal's recorded commit into its target
 * (kind, target_tip, target_moved, branch_moved, workdir, workdir_dirty,
 * conflicts, and collisions: untracked or ignored files in the checkout the
 * merge would overwrite, which make approve refuse). */
typedef wd_merge_plan wd_review_plan;

/* Fill `out` (free with wd_review_plan_free, also after an error) with what
 * approving `p` would do now. Errors: WD_ENOTFOUND (repository, commit or
 * target missing), WD_EINFRA (git). */
int wd_review_plan_make(wd_review_plan *out, const wd_proposal *p);
void wd_review_plan_free(wd_review_plan *plan);

typedef struct wd_approve_opts {
	unsigned version;
	int force;             /* merge even though the target moved since the proposal's base */
	int separate_duties;   /* refuse when the approver made the run (as does
	                        * review.separateDuties = true in `config`) */
	const char *user;      /* the approver; NULL = wd_review_current_user() */
	const wd_config *config; /* the user's settings (review.separateDuties); NULL = none */
	int then_push;         /* the caller pushes the merged target right after, so a
	                        * proposal that lives in warden's mirror may be approved */
} wd_approve_opts;

#define WD_APPROVE_OPTS_VERSION 1
#define WD_APPROVE_OPTS_INIT { WD_APPROVE_OPTS_VERSION, 0, 0, NULL, NULL, 0 }

/*
 * The rules for approving `p` that do not depend on the state of its
 * repository, checked by wd_review_approve and available to a caller that
 * wants to refuse before it asks a person:
 *   WD_EUSAGE    the proposal lives in warden's mirror of a source and the
 *                caller does not push right after (a merge there would be
 *                undone by the next fetch)
 *   WD_EREFUSED  separation of duties (opts->separate_duties, or
 *                review.separateDuties = true in opts->config): the approver
 *                made the run
 *   WD_EINPUT    review.separateDuties is not a boolean
 */
int wd_review_approve_allowed(const char *cache_dir, const wd_proposal *p,
                              const wd_approve_opts *opts);

/*
 * Merge open proposal `id` into its target branch in the repository that
 * holds it: a fast-forward when the target has not moved, else a merge
 * commit (author: the repository's user.name/user.email, else warden's
 * default identity). When the target is checked out in a non-bare work tree,
 * the work tree and index follow, and only when they are clean. The ref
 * moves with compare-and-swap, so a concurrent update is never lost. What
 * is merged is the recorded commit (the one the checks passed and `review
 * show` displays), even if someone has moved the branch since.
 * A fast-forward is allowed after the target moved (the result is exactly
 * the checked tree); a merge commit onto a moved target is not, unless forced.
 * On success the record says approved, by whom, when, and the new tip
 * (`out_tip`, 40-hex, may be NULL). Nothing changes on any error (no ref,
 * no index entry, no file of the work tree, no record):
 *   WD_ENOTFOUND  no such proposal, or its commit or target branch is gone
 *   WD_EEXISTS    it was already approved or rejected
 *   WD_EREFUSED   separation of duties; the checked-out work tree is dirty, or
 *                 updating it would overwrite an untracked or ignored file
 *                 (a `.env`, say: the paths are named)
 *   WD_ECONFLICT  the merge conflicts (paths named); or the target moved since
 *                 the base and opts->force is not set (checks must re-run)
 */
int wd_review_approve(char out_tip[41], const char *cache_dir, const char *id,
                      const wd_approve_opts *opts);

/*
 * Reject open proposal `id`: delete its branch from the repository that holds
 * it (already gone is fine) and keep the record with status rejected, the
 * reason (required), who and when. Refuses (WD_ECONFLICT, nothing changed)
 * when the branch was moved to another commit since, so no one's work is
 * destroyed; WD_EREFUSED when it is checked out. `user` NULL = current user.
 */
int wd_review_reject(const char *cache_dir, const char *id, const char *reason, const char *user);

/* Counts over the whole store, for `warden stats`: a rejection is a
 * correction (a human said the gated change was still wrong). Approve and
 * reject also append a "review.approve" / "review.reject" event (with
 * "correction": true on rejections) to the run's ledger when it exists. */
typedef struct wd_review_stats {
	size_t open;
	size_t approved;
	size_t rejected;       /* corrections */
	size_t unreadable;     /* records that could not be read */
	double cost_usd;       /* model cost of every proposal in the store */
} wd_review_stats;

int wd_review_stats_load(wd_review_stats *out, const char *cache_dir);

/* Record a push of approved proposal `id` to `remote` in its record. */
int wd_review_mark_pushed(const char *cache_dir, const char *id, const char *remote);

/* ---- push ------------------------------------------------------------ */

/*
 * Push open proposal `id`: its recorded commit (the one the checks passed)
 * to refs/heads/<branch> on `remote` (a remote name of the proposal's
 * repository, a URL or a path), through wd_repo_push: never forcing, never
 * "whatever the branch points at now". When the local branch has moved away
 * from the recorded commit it refuses (WD_ECONFLICT, nothing pushed). Other
 * errors as wd_repo_push. Does not touch the record (wd_review_mark_pushed).
 */
int wd_review_push_proposal(const char *cache_dir, const char *id, const char *remote);

/* Push approved proposal `id`'s target branch at the tip approve recorded
 * (`merged`) to `remote`; refuses (WD_ECONFLICT) when the local target has
 * moved since, WD_EUSAGE when the proposal is not approved. */
int wd_review_push_merged(const char *cache_dir, const char *id, const char *remote);

/* ---- pull requests --------------------------------------------------- */

typedef struct wd_pr_opts {
	unsigned version;
	const char *api_url;   /* NULL = $GITHUB_API_URL, else https://api.github.com */
	const char *token;     /* NULL = wd_repo_token(): $WARDEN_GIT_TOKEN, else $GITHUB_TOKEN */
	const char *owner;     /* the repository on GitHub */
	const char *repo;
	const char *head;      /* the branch with the change ("branch" or "owner:branch") */
	const char *base;      /* the branch to merge into */
	const char *title;
	const char *body;      /* Markdown; may be NULL */
	int draft;
	long timeout_ms;       /* 0 = 30 s */
} wd_pr_opts;

#define WD_PR_OPTS_VERSION 1
#define WD_PR_OPTS_INIT { .version = WD_PR_OPTS_VERSION }

/*
 * Open a pull request: POST {api}/repos/{owner}/{repo}/pulls with a JSON
 * {title, head, base, body, draft}. `out_url` receives the PR's html_url.
 * Errors: WD_EUSAGE (no token, missing field), WD_EREFUSED (401 bad token,
 * 403 no permission or rate limit, 422 validation: the message carries
 * GitHub's reason, e.g. "a pull request already exists"), WD_EINFRA (network,
 * 5xx, a reply without html_url).
 */
int wd_review_open_pr(char **out_url, const wd_pr_opts *opts);

/* The PR body for a proposal: the ticket's title, the commit's summary (its
 * message between the subject and the ticket reference, read from p->repo),
 * `ticket_body` (may be NULL), the checks as a table, where the evidence is
 * (the git note: raw JSON stays there), the model, rounds, tokens and cost. */
int wd_review_pr_body(wd_buf *out, const wd_proposal *p, const char *ticket_body);

/*
 * Open a pull request for stored proposal `id`: head = its branch (already
 * pushed to `remote`), base = its target, title = the ticket's title, body =
 * wd_review_pr_body(). owner/repo come from `opts` when set, else from the
 * remote's URL (`remote` is a remote name of the proposal's repository, or a
 * URL). api_url, token and draft are taken from `opts` (may be NULL; its
 * head, base, title and body are ignored). The PR's URL is kept in the
 * record (pr_url) and the run's ledger ("review.pr"). Errors as
 * wd_review_open_pr, plus WD_EINPUT when owner/repo cannot be found.
 */
int wd_review_open_pr_for(char **out_url, const char *cache_dir, const char *id, const char *remote,
                          const char *ticket_body, const wd_pr_opts *opts);

/* owner and repo of a GitHub remote URL: https://host/OWNER/REPO(.git),
 * ssh://git@host/OWNER/REPO(.git) or git@host:OWNER/REPO(.git).
 * WD_EINPUT when the URL has no such shape. */
int wd_review_github_repo(char **owner, char **repo, const char *url);

/* ---- policy: may an irreversible step go ahead? ---------------------- */

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
