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
 * Owns every libgit2 call (no other module opens a repository for writing,
 * and nothing shells out to git). Never decides whether a merge or push may
 * happen (review's policy) and never reads settings.
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

/* Make `tree` (a tree oid in the run's repository, e.g. from the patch
 * engine on the base) the run's new base: a commit whose parent is the old
 * base, with `message`, identity "warden <warden@localhost>" and the old
 * base's commit time (so the same tree on the same base is the same commit
 * every time). The work branch moves to it and runs/<run-id>/base is written
 * afresh. For an eval instance's test_patch, before anything reads the tree.
 * Errors: WD_EUSAGE, WD_EINPUT (no such tree), WD_EINFRA. */
int wd_repo_advance_base(wd_workspace *ws, const git_oid *tree, const char *message);

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

/* ======================================================================
 * Proposals after the run: evidence notes, diffs, merges, pushes and
 * credentials. review, run and cli call these; only src/repo talks to
 * libgit2. Repositories are named by path and commits by 40-hex ids, so
 * callers need no libgit2 types.
 * ==================================================================== */

/* libgit2's global state, for main(): init before any other call (0 or
 * WD_EINFRA), shutdown once at exit. */
int wd_repo_global_init(void);
void wd_repo_global_shutdown(void);

/* Open the repository that contains `dir`, searching upward as git does
 * (callers hand it to wd_patch_apply). WD_EINPUT with libgit2's reason when
 * there is none. Close with wd_repo_close (NULL is a no-op). */
int wd_repo_open_discover(git_repository **out, const char *dir);
void wd_repo_close(git_repository *repo);

/* Append what libgit2 wrote into `gb` (a diff, a filtered blob) to `out`;
 * an empty git_buf may have no storage. The caller still disposes `gb`.
 * 0 or WD_ENOMEM. */
int wd_buf_put_git(wd_buf *out, const git_buf *gb);

/* 40-hex (+ NUL) form of `id`. */
void wd_repo_oid_hex(char out[41], const git_oid *id);

/* The tree id of commit `commit` in `repo`. WD_EINFRA when it is not there. */
int wd_repo_commit_tree(git_oid *out, git_repository *repo, const git_oid *commit);

/* Append the content of file `path` in tree `tree` of `repo` to `out`;
 * *found = 0 (and `out` untouched) when the tree has no blob there. */
int wd_repo_tree_file(wd_buf *out, int *found, git_repository *repo, const git_oid *tree,
                      const char *path);

/* 1 when `source` (REPO as given to `warden run`) is a URL, 0 for a local
 * path (see wd_repo_prepare for the rule). */
int wd_repo_source_is_url(const char *source);

/* 1 when `repo_path` is where warden keeps `source`'s branches itself: the
 * source is a URL (its proposals only ever live in warden's mirror) or
 * `repo_path` is the mirror wd_repo_mirror_path(cache_dir, source) names.
 * A merge there alone would be undone by the next fetch. */
int wd_repo_is_mirror(const char *cache_dir, const char *source, const char *repo_path);

/* The 40-hex id refs/heads/<branch> points at. WD_ENOTFOUND when the
 * repository or the branch does not exist. */
int wd_repo_branch_tip(char out[41], const char *repo_path, const char *branch);

/* Delete refs/heads/<branch> when it still points at `expect_hex`. Gone
 * already (or the repository gone) is success. WD_ECONFLICT when it points
 * elsewhere (`moved_to` receives the 40-hex tip, may be NULL), WD_EREFUSED
 * when it is checked out in some work tree; nothing changes then. */
int wd_repo_branch_delete(const char *repo_path, const char *branch, const char *expect_hex,
                          char moved_to[41]);

/* Take back what wd_repo_publish made: refs/heads/<branch> in `repo_path` as
 * wd_repo_branch_delete does (same results; nothing else changes when it
 * fails), then the copy in warden's mirror `mirror_path` (NULL, the same
 * path or a mirror that does not exist: none), under the mirror's lock, when
 * it still points at `expect_hex` (one that moved there is left alone). */
int wd_repo_unpublish(const char *repo_path, const char *mirror_path, const char *branch,
                      const char *expect_hex, char moved_to[41]);

/* Append the refs/heads/warden/... branches of the repository at `repo_path`
 * to `names` ("warden/fix-add-1a2b3c4d") and each one's 40-hex tip to `tips`
 * ("" for a symbolic ref), in the same order. WD_ENOTFOUND when there is no
 * repository at `repo_path` itself (no search upwards). Used by `warden gc`
 * to find branches no proposal record names. */
int wd_repo_warden_branches(wd_strvec *names, wd_strvec *tips, const char *repo_path);

/* Append to `branches` the branch each leftover lock file under
 * refs/heads/warden/ of the repository at `repo_path` locks ("warden/x" for
 * refs/heads/warden/x.lock): libgit2 writes <ref>.lock and moves it into
 * place, so a kill -9 between the two leaves the lock. Only regular files
 * untouched for `min_age` seconds or more are listed (a live writer holds
 * its lock for milliseconds); nothing behind a symbolic link is read.
 * WD_ENOTFOUND when there is no repository at `repo_path` itself. */
int wd_repo_warden_ref_locks(wd_strvec *branches, const char *repo_path, unsigned min_age);

/* Remove refs/heads/<branch>.lock of the repository at `repo_path` when it is
 * still such a leftover (a regular file untouched for `min_age` seconds).
 * Gone already is success; WD_ECONFLICT when it is younger or not a file. */
int wd_repo_ref_lock_remove(const char *repo_path, const char *branch, unsigned min_age);

/* ---- evidence notes ---- */

/* Attach `text` to commit `commit_hex` as a note under `notes_ref`,
 * replacing an earlier note (author and committer "warden"). */
int wd_repo_note_write(const char *repo_path, const char *notes_ref, const char *commit_hex,
                       const char *text);
/* Append the note's text to `out`; WD_ENOTFOUND when the commit has none. */
int wd_repo_note_read(wd_buf *out, const char *repo_path, const char *notes_ref,
                      const char *commit_hex);

/* ---- diffs ---- */

/* Append the diffstat (with summary) and the unified diff (a/ b/ prefixes,
 * renames found) of commit `to_hex` against commit `from_hex`. */
int wd_repo_diff_commits(wd_buf *out, const char *repo_path, const char *from_hex,
                         const char *to_hex);

/* ---- merging a checked commit into its target ---- */

typedef enum wd_merge_kind {
	WD_MERGE_UP_TO_DATE = 0, /* the target already contains the commit */
	WD_MERGE_FASTFORWARD,    /* the target moves to the commit */
	WD_MERGE_COMMIT          /* a merge commit with parents (target, commit) */
} wd_merge_kind;

/* What to merge where. */
typedef struct wd_merge_spec {
	const char *repo;      /* path of the repository holding commit and target */
	const char *commit;    /* 40-hex: the commit to land (the one the checks passed) */
	const char *base;      /* 40-hex: the commit the checks ran on */
	const char *target;    /* branch to merge into ("main" or "refs/heads/main") */
	const char *branch;    /* the proposal branch, for branch_moved; may be NULL */
} wd_merge_spec;

/* What merging would do now, computed without writing anything. */
typedef struct wd_merge_plan {
	wd_merge_kind kind;
	char target_tip[41];   /* the target branch's current tip */
	int target_moved;      /* target_tip != base: the checks ran on another base */
	int branch_moved;      /* the branch no longer points at the commit */
	char *workdir;         /* work tree where the target is checked out, NULL when none */
	int workdir_dirty;     /* that work tree has uncommitted changes to tracked files */
	wd_strvec conflicts;   /* paths that conflict; non-empty means it cannot merge */
	wd_strvec collisions;  /* paths the update would write in `workdir` where an untracked
	                          or ignored file (or directory, or symlink) already is */
} wd_merge_plan;

/* Fill `out` (free with wd_repo_merge_plan_free, also after an error).
 * Errors: WD_EINPUT (bad ids), WD_ENOTFOUND (repository, commit or target
 * missing, naming which), WD_EINFRA. */
int wd_repo_merge_plan(wd_merge_plan *out, const wd_merge_spec *spec);
void wd_repo_merge_plan_free(wd_merge_plan *plan);

/*
 * Land spec->commit on the target: nothing for up-to-date, a fast-forward,
 * or a merge commit with `message` (author: the repository's user.name and
 * user.email, else "warden <warden@localhost>"). When the target is checked
 * out, its work tree and index follow (safe checkout: never overwriting a
 * local change, an untracked or an ignored file). The target ref moves by
 * compare-and-swap from `expect_tip` (the plan's target_tip); `reflog` is the
 * ref log message. The plan is recomputed first and nothing changes when:
 * the target is no longer at expect_tip, or the merge conflicts
 * (WD_ECONFLICT); the work tree is dirty or an untracked or ignored file is
 * in the way (WD_EREFUSED, the paths named). `out_tip` (may be NULL)
 * receives the target's new tip.
 */
int wd_repo_merge(char out_tip[41], const wd_merge_spec *spec, const char *expect_tip,
                  const char *message, const char *reflog);

/* ---- pushing ---- */

/*
 * Push commit `commit_hex` to refs/heads/<branch> on `remote` (a configured
 * remote's name, or a URL or path), never forcing. Exactly that commit is
 * pushed, whatever the local branch does meanwhile, and only while the
 * local refs/heads/<branch> still points at it: a branch someone moved
 * since is refused (WD_ECONFLICT, nothing pushed). The user's repository is
 * only read (the push runs from a scratch repository sharing its objects, so
 * no ref of the user's changes). Credentials: wd_repo_cred_cb. A token never
 * appears in a message, nor user info of a URL. Errors: WD_ENOTFOUND (no such
 * repository, branch or remote), WD_ECONFLICT (the branch moved),
 * WD_EREFUSED (the remote refused: not a fast-forward, a hook declined, with
 * the remote's reason), WD_EUSAGE (HTTPS without a token: names the
 * variables), WD_EINFRA (network, authentication, git).
 */
int wd_repo_push(const char *repo_path, const char *commit_hex, const char *branch,
                 const char *remote);

/* The URL of remote `name` of the repository at `repo_path` (its push URL
 * when set), else `name` itself; *out is malloc'd. */
int wd_repo_remote_url(char **out, const char *repo_path, const char *name);

/* ---- credentials ---- */

/* Whether a token may be sent to `url`: HTTPS anywhere, plain HTTP only to
 * this machine (localhost, 127.x, [::1]); never SSH or anything else. */
int wd_repo_token_may_go_to(const char *url);

/* The token for git over HTTPS and for the GitHub API, in this order:
 * $WARDEN_GIT_TOKEN, then $GITHUB_TOKEN (empty counts as unset). NULL when
 * neither is set. `var` (may be NULL) receives the variable's name. */
const char *wd_repo_token(const char **var);

/* Bits wd_repo_cred_cb sets in its `unsigned int` payload, so the caller
 * can say what happened after an authentication failure. */
#define WD_REPO_CRED_SSH      1u  /* an ssh-agent key was offered */
#define WD_REPO_CRED_TOKEN    2u  /* the token was offered */
#define WD_REPO_CRED_NO_TOKEN 4u  /* HTTP(S) asked for a password and no token is set (the
                                     token is only ever offered to HTTP(S) URLs) */
#define WD_REPO_CRED_REFUSED  8u  /* a credential already offered was asked for again */
#define WD_REPO_CRED_USERNAME 16u /* a bare user name was offered (SSH) */

#endif
