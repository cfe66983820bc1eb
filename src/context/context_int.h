#ifndef WARDEN_CONTEXT_INT_H
#define WARDEN_CONTEXT_INT_H

/* Helpers shared by the files of src/context/; not part of the public API. */

#include <jansson.h>

#include "warden/buf.h"
#include "warden/context.h"
#include "warden/map.h"

/* A built context: only context.c fills it (and the module's own tests read
 * it); everyone else uses the accessors of context.h. */
struct wd_context {
	wd_buf listing;   /* file listing (possibly cut to fit, saying so) */
	wd_buf map;       /* repository map slice; empty with WD_CONTEXT_NO_MAP or when the
	                   * map could not be built (the rest of the context stands) */
	wd_buf files;     /* chosen files, each under a "=== path ===" header */
	wd_buf agents;    /* AGENTS.md, capped */
	wd_strvec chosen; /* paths of the files included */
	json_t *why;      /* [{path, reason, bytes[, cut]}] for the ledger; skipped files
	                   * appear with reason "skipped: ..." and bytes 0 */
	size_t bytes;     /* total size of what will be sent */
};

/* Append the files of `workdir` (relative paths, sorted): a copy of `files`
 * when it is not NULL; else the regular files git tracks when `workdir` is
 * the root of a git work tree (*from_index set, when not NULL); else every
 * regular file under it (.git and symlinks skipped). */
int wd_ctx_list_files(wd_strvec *out, const char *workdir, const char *const *files,
                      int *from_index);
/* Has `workdir` a .git entry (a directory or a gitlink file)? Without one,
 * listing it needs no libgit2. */
int wd_ctx_has_git_entry(const char *workdir);
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

/* map.c (the map owns wd_map_range; context.c uses it too): sort line
 * ranges by their first line and merge those that overlap or touch, in
 * place; returns how many are left. */
size_t wd_ctx_ranges_merge(wd_map_range *r, size_t n);

/* Read a regular file of at most `max` bytes without following a symlink
 * at its last component (WD_ENOTFOUND when missing, WD_EINPUT otherwise). */
int wd_ctx_read_regular(wd_buf *out, const char *path, size_t max);

/* retrieve.c: one definition of the map as a retrieval unit, scored
 * against a ticket's words (see retrieve.c for how). */
typedef struct wd_ctx_unit {
	const char *path;       /* the map's strings */
	const char *name;
	const char *signature;
	int kind;               /* wd_tag_kind */
	size_t start_line, end_line; /* the whole definition (a container: members too); a
	                              * function nested in another: the outermost one around it */
	size_t bytes;           /* of those lines */
	size_t head_end;        /* a container: the line before its first member (else end_line) */
	size_t head_bytes;      /* of start_line..head_end */
	double rank;            /* the map's PageRank of the definition */
	double lexical;         /* BM25 of the definition alone */
	double score;           /* lexical + a share of its file's BM25 and of its rank,
	                         * + a share of the definition it calls (tests) */
	size_t file;            /* index among the scanned files */
	size_t len;             /* terms counted */
	int test;               /* in a test file */
	const char *calls;      /* a test: the best-scored definition it calls, or NULL */
	const char *within;     /* a nested function: the one whose lines it is sent with */
	const char *called_by;  /* called by one of the best matches (that one's name), or NULL */
	const char *tests_file; /* a test file named after one of the best files: that file */
	int tail;               /* one of a test file's last top-level definitions: where a
	                         * fix's new test usually goes */
	int named;              /* set by the caller: a definition the ticket names */
	char words[96];         /* the ticket's terms it matched, best first */
} wd_ctx_unit;

/* Read a work-tree file (relative path) into `out`; nonzero = leave it out. */
typedef int (*wd_ctx_reader)(void *arg, const char *path, wd_buf *out);

/* Every definition of the map's non-vendored files, scored against the
 * ticket's title and body, best first (*out allocated, caller frees). */
int wd_ctx_retrieve(wd_ctx_unit **out, size_t *n, const wd_map *m, const char *title,
                    const char *body, wd_ctx_reader rd, void *arg);

/* Best score first (then smaller, then path and line): qsort's order. */
int wd_ctx_unit_cmp(const void *a, const void *b);

/* A test file: a path segment starting with "test", or a name ending in
 * _test, _spec or -tests. */
int wd_ctx_path_is_test(const char *path);

#endif
