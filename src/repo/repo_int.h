#ifndef WARDEN_REPO_INT_H
#define WARDEN_REPO_INT_H

/* Internal to src/repo: mirror management, locking and object copying. */

#include <git2.h>

#include "warden/buf.h"

#define WD_REPO_LOCK_TIMEOUT_MS 120000

/* A prepared run (see wd_repo_prepare); opaque outside src/repo. */
struct wd_workspace {
	git_repository *repo;  /* the run's repository, opened bare; NULL after remove */
	char *run_dir;         /* runs/<run-id>, absolute */
	char *git_dir;         /* runs/<run-id>/git */
	char *checkout;        /* runs/<run-id>/base */
	char *source;          /* REPO as given by the user */
	char *source_path;     /* absolute path of a local source repository, NULL for URLs */
	char *branch;          /* the work branch, e.g. "warden/fix-add-1a2b3c4d" */
	char *base_ref;        /* the base as given, or the remote HEAD's branch name */
	git_oid base;          /* the base commit */
	char *mirror_path;     /* mirrors/<hash>.git, absolute */
	int lock_timeout_ms;   /* from the options; used again by wd_repo_publish */
};

/* Write the files of `commit`'s tree into the directory `dir`, which must not
 * exist yet (it is created 0755): see wd_repo_prepare() for the rules. */
int wd_repo__checkout(git_repository *repo, const git_oid *commit, const char *dir);

/* Point the work branch (made, or moved when `force`) at ws->base, HEAD at
 * the branch, and write the base's files into ws->checkout (which must not
 * exist), the run's index and the checkout's ".git" file. */
int wd_repo__checkout_branch(struct wd_workspace *ws, int force);

/* Hold an exclusive flock on <mirror>/warden.lock (the directory is created).
 * *out_fd is the lock, released by wd_repo__unlock (or by process exit).
 * WD_ETIMEOUT with "another warden run holds the lock" after timeout_ms. */
int wd_repo__lock(int *out_fd, const char *mirror, int timeout_ms);
void wd_repo__unlock(int fd);

/* Open the bare mirror at `path`, creating it when missing, and fetch
 * branches and tags from `url` into refs/heads/ and refs/tags/ (same names). When
 * out_default is non-NULL it gets the remote's default branch ref
 * ("refs/heads/main"; caller frees), or NULL when the remote has none, and
 * the mirror's HEAD is pointed there. Call with the lock held. */
int wd_repo__mirror_update(git_repository **out, const char *path, const char *url,
                           char **out_default);

/* Copy `commit` and everything it reaches that `dst` lacks from src to dst. */
int wd_repo__copy_commit(git_repository *dst, git_repository *src, const git_oid *commit);
/* Same for any object: a tag (and what it points at), commit, tree or blob. */
int wd_repo__copy_object(git_repository *dst, git_repository *src, const git_oid *id);

/* Update the mirror at `path` (created when missing) from a local repository
 * without a transport: copy its object files, then set refs/heads/ and
 * refs/tags/ to the source's. Call with the lock held. */
int wd_repo__mirror_update_local(git_repository **out, const char *path,
                                 git_repository *source);

/* Copy an objects directory: subdirectories and regular files from src into
 * the existing dir dst, skipping files dst already has, temporaries, locks,
 * the top-level info/ and multi-pack indexes. */
int wd_repo__copy_dir(const char *src, const char *dst);

/* The source is a URL (not a local path); see wd_repo_prepare(). */
int wd_repo__is_url(const char *source);

#endif
