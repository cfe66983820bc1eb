#ifndef WARDEN_TEST_FIXTURE_H
#define WARDEN_TEST_FIXTURE_H

#include "warden/buf.h"

/*
 * Shared helpers for warden's tests (unit, integration and tools). Every
 * function returns 0 on success and -1 on failure, with a reason on stderr
 * (tests are the one place where printing is right: the Check log shows it).
 * Strings handed out are malloc'd; the caller frees them.
 */

/* Make a fresh private directory under $TMPDIR (or /tmp), absolute and
 * symlink-resolved, named warden-test-XXXXXX. Remove it with fx_rm_rf(). */
int fx_tmpdir(char **out);

/* Create (or overwrite) `path` with `content`, making missing parent directories. */
int fx_write_file(const char *path, const char *content);

/* Append s to the string in dst[0..cap): 0, or -1 (dst unchanged) when it
 * would not fit. */
int fx_append(char *dst, size_t cap, const char *s);

/* Read a whole file as a string (NUL-terminated; -1 when missing). */
int fx_read_file(char **out, const char *path);

/* The same under a root: `root`/`rel` written (parents made), or read; a
 * missing file reads as NULL, silently (tests ask "is it gone?"). */
int fx_put_file(const char *root, const char *rel, const char *content);
char *fx_get_file(const char *root, const char *rel);
/* As fx_put_file, written as a new file (atomically: a new inode), so a
 * cache keyed by stat data always sees the change. */
int fx_put_file_new(const char *root, const char *rel, const char *content);
/* The path of the one entry of `dir` whose name ends with `suffix` (`with`
 * 1), or of the one entry not ending so and not starting with '.' (`with`
 * 0), into out; -1 when there is not exactly one. */
int fx_one_entry(wd_buf *out, const char *dir, const char *suffix, int with);

/* The first entry for `path` in a built context's record of why each file
 * was considered (wd_context_why), or NULL; borrowed from the context. */
struct json_t;
struct wd_context;
struct json_t *fx_context_why(const struct wd_context *c, const char *path);

/*
 * For a Check test case that needs libgit2 and a fresh private directory:
 * tcase_add_checked_fixture(tc, fx_dir_setup, fx_dir_teardown). Before each
 * test fx_dir is a new fx_tmpdir() (on failure the reason goes to stderr
 * and the test aborts, which Check reports as an error); after it the
 * directory is removed and fx_dir is NULL again.
 */
extern char *fx_dir;
void fx_dir_setup(void);
void fx_dir_teardown(void);

/* The main of a unit test binary: run suite `s` (the runner takes it over)
 * and return 1 when a test failed, else 0. */
struct Suite;
int fx_suite_main(struct Suite *s);

/* rm -rf; never follows symlinks out of `dir`. Silent when it is missing. */
void fx_rm_rf(const char *dir);

/*
 * Make `dir` (created when missing) a non-bare git repository with one commit
 * on branch `main` holding `files`: a NULL-terminated list of path, content
 * pairs ({"src/a.c", "int a;\n", "README", "hi\n", NULL}); parent directories
 * are created. The commit is by "Fixture <fixture@example.com>" at a fixed
 * time, with `message` (NULL = "initial"). HEAD -> refs/heads/main, the index
 * matches the tree and the work tree is clean. Uses libgit2 only.
 */
int fx_repo_create(const char *dir, const char *const *files, const char *message);

/* Add a commit on the checked-out branch of the repository at `dir`: write
 * each path/content pair (content NULL = delete that file), stage them and
 * commit with `message`. The work tree stays clean for the named paths. */
int fx_repo_commit_files(const char *dir, const char *const *files, const char *message);

/* Stage every file of the work tree of `repo` (links as links) and commit
 * it on HEAD (its first commit, or a child of HEAD's) with `message`, by
 * "t <t@example.com>" at a fixed time. */
struct git_repository;
int fx_repo_commit_all(struct git_repository *repo, const char *message);

/* Resolve `spec` (anything git_revparse_single accepts: "HEAD", "main~1",
 * a tag) in the repository at `dir` to a commit's 40-hex id in `out`. */
int fx_repo_rev(char out[41], const char *dir, const char *spec);

/*
 * A string describing every entry under `dir` — including .git — one line
 * each, sorted by path: "<mode octal> <sha1 of content | symlink target | dir> <path>".
 * Two snapshots compare equal (strcmp) iff no file was added, removed,
 * changed in content or mode. Use it to prove a user's checkout unchanged.
 */
int fx_snapshot(char **out, const char *dir);

/* The same, leaving out every entry whose path (relative to dir) starts with
 * one of the NULL-terminated `skip` prefixes. */
int fx_snapshot_except(char **out, const char *dir, const char *const *skip);

/* What publishing a proposal into a local repository may add, for
 * fx_snapshot_except(): new objects, and the ref and reflog of the branch
 * (under warden/) and of the evidence notes (refs/notes/warden). Everything
 * else — work tree, index, HEAD, config, other refs — must stay identical. */
extern const char *const fx_publish_paths[];

/*
 * Run argv[0] (searched in PATH when it has no '/') with argv, in `cwd`
 * (NULL = current), with the current environment plus `env` ("K=V" strings,
 * NULL-terminated, or NULL; "K=" sets K empty, "K" alone unsets K). stdout and
 * stderr are captured together into *out_output (may be NULL to discard).
 * *out_status is the exit code, or 128+signal when the program was killed.
 * Returns -1 only when the program could not be started at all.
 */
int fx_run(char **out_output, int *out_status, const char *const *argv,
           const char *const *env, const char *cwd);

#endif
