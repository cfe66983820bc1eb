#ifndef WARDEN_REPO_H
#define WARDEN_REPO_H

#include <git2.h>

#include "warden/buf.h"

/*
 * All git work, through libgit2 only.
 *
 * Layout under the cache dir:
 *   mirrors/<hash of source>.git   bare mirror of the source, fetched on each run
 *   runs/<run-id>/work             the run's own clone of the mirror (non-bare),
 *                                  checked out at the base on the work branch
 * The user's repository is only ever read, except by wd_repo_publish(), which
 * adds one new ref (never the checked-out branch, never overwriting).
 */
typedef struct wd_workspace {
	git_repository *repo;  /* the run's repository (has a work tree) */
	char *workdir;         /* its work tree, absolute, no trailing slash */
	char *run_dir;         /* runs/<run-id> */
	char *source;          /* REPO as given by the user */
	char *source_path;     /* absolute path of a local source repository, NULL for URLs */
	char *branch;          /* the work branch, e.g. "warden/fix-add-1a2b3c4d" */
	char *base_ref;        /* the base as given, or the remote HEAD's branch name */
	git_oid base;          /* the base commit */
} wd_workspace;

typedef struct wd_repo_opts {
	unsigned version;
	const char *source;    /* local path or URL (file://, https://, ssh://) */
	const char *base;      /* ref, branch, tag or commit; NULL = the source's HEAD */
	const char *cache_dir; /* warden's cache root */
	const char *run_id;
	const char *branch;    /* work branch name to create */
} wd_repo_opts;

#define WD_REPO_OPTS_VERSION 1
#define WD_REPO_OPTS_INIT { WD_REPO_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL }

/* Mirror/fetch the source, clone the run's repository, check out the base on
 * a new work branch. Errors: WD_EINPUT (no such repo/base), WD_EINFRA (git). */
int wd_repo_prepare(wd_workspace **out, const wd_repo_opts *opts);

/* Put the work tree back at the base commit exactly: tracked files restored,
 * untracked and ignored files removed (build products of a previous round). */
int wd_repo_reset(wd_workspace *ws);

/* Commit `tree` (a tree oid, e.g. from the patch engine) on the work branch
 * with parent = base. Author/committer from the arguments (NULL = warden's
 * default identity "warden <warden@localhost>"). */
int wd_repo_commit(git_oid *out, wd_workspace *ws, const git_oid *tree,
                   const char *message, const char *name, const char *email);

/* Make the work branch visible to the user: create refs/heads/<branch> in the
 * local source repository (objects copied through a libgit2 local push) and in
 * the mirror. `out_repo` receives the path of the repository that holds the
 * branch (the source for local sources, the mirror otherwise). Refuses to
 * overwrite an existing ref (WD_EEXISTS). */
int wd_repo_publish(wd_buf *out_repo, wd_workspace *ws);

/* Unified diff between the base tree and `tree`. */
int wd_repo_diff_trees(wd_buf *out, wd_workspace *ws, const git_oid *tree);

/* Sorted list of the work tree's tracked files (index of the base). */
int wd_repo_list_files(wd_strvec *out, wd_workspace *ws);

/* Remove the run's work tree (keeps the mirror and published branches). */
int wd_workspace_remove(wd_workspace *ws);

void wd_workspace_free(wd_workspace *ws);

#endif
