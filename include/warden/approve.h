#ifndef WARDEN_APPROVE_H
#define WARDEN_APPROVE_H

/*
 * Approving and rejecting a proposal: the merge plan, the rules an approval
 * must pass (separation of duties, warden's mirror), the merge itself and
 * the rejection.
 *
 * Owns those decisions and the record's change. Never asks a person (the cli
 * does, when review_policy.h says so) and never does git work itself (the
 * repo module's wd_repo_merge_* do).
 */
#include "warden/buf.h"
#include "warden/config.h"
#include "warden/proposal.h"
#include "warden/repo.h"

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
 *                made the run (asked of an open proposal only)
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

#endif
