#ifndef WARDEN_CONTEXT_INT_H
#define WARDEN_CONTEXT_INT_H

/* Helpers shared by the files of src/context/; not part of the public API. */

#include "warden/buf.h"

/* Append the files of `workdir` (relative paths, sorted): a copy of `files`
 * when it is not NULL; else the regular files git tracks when `workdir` is
 * the root of a git work tree; else every regular file under it (.git and
 * symlinks skipped). */
int wd_ctx_list_files(wd_strvec *out, const char *workdir, const char *const *files);
void wd_ctx_sort_paths(wd_strvec *sv);

/* 1 when `path` matches the glob (see files.c for the rules). */
int wd_ctx_glob_match(const char *glob, const char *path);

/* 1 when `path` is allowed by a ticket scope (some entry matches and no
 * "!glob" does); *denied is set when a deny entry matched. */
int wd_ctx_scope_match(const wd_strvec *scope, const char *path, int *denied);

/* Append to `out` the listed files that `text` names (exact path, or by
 * basename when unambiguous enough). */
int wd_ctx_mentioned_paths(wd_strvec *out, const char *text, const wd_strvec *files);

/* vendored.c: is `path` vendored by its directories or the `exclude`
 * globs (NULL-terminated, may be NULL)? .gitattributes is the map's part. */
int wd_ctx_path_vendored(const char *path, const char *const *exclude);

/* Read a regular file of at most `max` bytes without following a symlink
 * at its last component (WD_ENOTFOUND when missing, WD_EINPUT otherwise). */
int wd_ctx_read_regular(wd_buf *out, const char *path, size_t max);

#endif
