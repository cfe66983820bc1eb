#ifndef WARDEN_REPO_H
#define WARDEN_REPO_H

#include <git2.h>

#include "warden/buf.h"

/*
 * All git work, through libgit2 only.
 *
 * Layout under the cache dir:
 *   mirrors/<hash of source>.git   bare mirror of the source, fetched on each run
 *   runs/<run-id>/git              the run's repository: its own refs, index and
 *                                  new objects; the mirror's objects borrowed
 *                                  through objects/info/alternates. Never inside
 *                                  a tree a check can write.
 *   runs/<run-id>/base             the base commit's files, written by warden
 *                                  into a directory it has just made (never a
 *                                  path a check could have changed), with a
 *                                  ".git" file pointing at runs/<run-id>/git
 * The user's repository is only ever read, except by wd_repo_publish(), which
 * adds one new ref (never the checked-out branch, never overwriting).
 */
typedef struct wd_workspace wd_workspace;

typedef struct wd_repo_opts {
	unsigned version;
	const char *source;    /* local path or URL (file://, https://, ssh://) */
	const char *base;      /* ref, branch, tag or commit; NULL = the source's HEAD */
	const char *cache_dir; /* warden's cache root */
	const char *run_id;
	const char *branch;    /* work branch name to create */
	int lock_timeout_ms;   /* how long to wait for another run's mirror lock; 0 = 120 s */
} wd_repo_opts;

#define WD_REPO_OPTS_VERSION 1
#define WD_REPO_OPTS_INIT { WD_REPO_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, 0 }

/*
 * Mirror/fetch the source, make the run's repository, check out the base into
 * runs/<run-id>/base and point the new work branch at it.
 *
 * A source is a URL when it contains "://" (file://, https://, ssh://, git://)
 * or is scp-like ("git@host:path") and no such local path exists; otherwise a
 * local path: the top of a work tree or a bare repository (no upward search),
 * resolved to an absolute path. A local source is opened read-only; its base
 * is resolved in it (so "HEAD", "origin/main" or any revision the user's git
 * understands works) and the needed objects are copied into the mirror. A URL's
 * base is resolved in the mirror: a branch, tag or commit id (prefix), and the
 * remote's default branch when NULL.
 *
 * The checkout writes every file as `git checkout` would (the commit's
 * .gitattributes filters, modes, symlinks as symlinks, submodules as empty
 * directories) but never through a path: each directory is made and opened
 * by warden without following links and each file is created exclusively, so
 * a hostile tree (a symlink and a directory of one name, ".git" entries)
 * cannot make it write outside runs/<run-id>/base; such a tree is refused.
 * Every file's mtime is the base commit's time (at most now), so the build
 * products of an earlier build of the same commit count as up to date.
 *
 * Concurrent runs on one source serialise on mirrors/<hash>.git/warden.lock
 * (flock, so a crashed run never leaves a stale lock).
 *
 * Errors: WD_EUSAGE (missing option, invalid branch name), WD_EINPUT (not a
 * repository, no such base, empty repository, a malformed tree), WD_EEXISTS
 * (the work branch already exists in the source or mirror, or the run
 * directory exists), WD_ETIMEOUT (another warden run held the mirror lock too
 * long), WD_EINFRA (git, filesystem or network failures).
 */
int wd_repo_prepare(wd_workspace **out, const wd_repo_opts *opts);

/* What a prepared workspace is. Strings are owned by the workspace. */
git_repository *wd_workspace_repo(const wd_workspace *ws); /* opened bare: it has no work tree */
const git_oid *wd_workspace_base(const wd_workspace *ws);  /* the base commit */
const char *wd_workspace_branch(const wd_workspace *ws);   /* "warden/fix-add-1a2b3c4d" */
const char *wd_workspace_base_ref(const wd_workspace *ws); /* the base as given, or HEAD's branch */
const char *wd_workspace_source(const wd_workspace *ws);   /* REPO as the user gave it */
/* Absolute path of a local source repository; NULL for URLs. */
const char *wd_workspace_source_path(const wd_workspace *ws);
const char *wd_workspace_run_dir(const wd_workspace *ws);  /* runs/<run-id>, absolute */
const char *wd_workspace_git_dir(const wd_workspace *ws);  /* runs/<run-id>/git */
/* runs/<run-id>/base: the base checkout, for warden's own reading (context,
 * tools) and as the lowest, read-only layer of every check's tree. */
const char *wd_workspace_checkout(const wd_workspace *ws);
const char *wd_workspace_mirror_path(const wd_workspace *ws);
/* The directories a check needs to read for git to work inside its tree (the
 * run's git directory and the mirror's objects), appended to `out`. */
int wd_workspace_git_read_paths(wd_strvec *out, const wd_workspace *ws);

/* The base commit's tree. */
int wd_repo_base_tree(git_oid *out, const wd_workspace *ws);

/* Commit `tree` (a tree oid, e.g. from the patch engine) on the work branch
 * with parent = base; the branch is moved to the new commit (a second call
 * replaces the first commit) and the run's index is set to `tree`. Author and
 * committer from the arguments, time now (NULL = warden's default identity
 * "warden <warden@localhost>").
 *
 * `expect` (NULL-terminated, may be NULL to skip the check) is the list of
 * paths the patch changed: the paths that differ between the base tree and
 * `tree` must be exactly these, else nothing is written and WD_EINTEGRITY
 * names the difference (a proposal is the base plus the patch, nothing else).
 * Errors: WD_EUSAGE (no message), WD_EINPUT (bad identity, no such tree),
 * WD_EINTEGRITY, WD_EINFRA. */
int wd_repo_commit(git_oid *out, wd_workspace *ws, const git_oid *tree,
                   const char *message, const char *name, const char *email,
                   const char *const *expect);

/* The paths that differ between the base tree and `tree` (both sides of a
 * rename), sorted, appended to `out`. */
int wd_repo_changed_paths(wd_strvec *out, wd_workspace *ws, const git_oid *tree);

/* Make the work branch visible to the user: create refs/heads/<branch> at the
 * work branch's tip in the local source repository (the missing objects are
 * copied with the odb API; its work tree, index, HEAD and other refs are left
 * alone) and in the mirror. `out_repo` receives the path of the repository
 * that holds the branch (the source for local sources, the mirror otherwise).
 * Refuses to overwrite an existing ref in either (WD_EEXISTS; nothing is
 * written then) and to create the branch an unborn HEAD points at (WD_EREFUSED). */
int wd_repo_publish(wd_buf *out_repo, wd_workspace *ws);

/* Unified diff (git format, a/ b/ prefixes) between the base tree and `tree`,
 * appended to `out`. */
int wd_repo_diff_trees(wd_buf *out, wd_workspace *ws, const git_oid *tree);

/* Sorted (strcmp) list of the files in the base commit's tree: regular files
 * and symlinks, "dir/file" paths; submodules are left out. Appends to `out`. */
int wd_repo_list_files(wd_strvec *out, wd_workspace *ws);

/* Path of the mirror warden keeps for `source` under `cache_dir`
 * ("<cache_dir>/mirrors/<sha1 of the absolute path or URL>.git"). */
int wd_repo_mirror_path(wd_buf *out, const char *cache_dir, const char *source);

/* Remove runs/<run-id> whole (the mirror and published branches stay),
 * never following a link inside it; the repository is closed first. */
int wd_workspace_remove(wd_workspace *ws);

void wd_workspace_free(wd_workspace *ws);

/* libgit2 credentials callback (git_credential_acquire_cb) for fetch and push:
 * the ssh-agent for SSH, a token from $WARDEN_GIT_TOKEN, else $GITHUB_TOKEN,
 * over HTTPS (user "x-access-token"). `payload` points to an unsigned int set
 * to 0 before the operation; each method is tried once, so a wrong key ends in
 * an authentication error rather than a loop. */
int wd_repo_cred_cb(git_credential **out, const char *url, const char *username_from_url,
                    unsigned int allowed_types, void *payload);

#endif
