#ifndef WARDEN_REVIEW_PUSH_H
#define WARDEN_REVIEW_PUSH_H

/*
 * Pushing a proposal: its recorded commit, or the target branch at the tip
 * approve recorded, never "whatever the branch points at now".
 *
 * Owns choosing what is pushed. Never decides whether a push may happen
 * (review_policy.h) and never talks to a remote itself (wd_repo_push does).
 */


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

#endif
