#ifndef WARDEN_CONTEXT_H
#define WARDEN_CONTEXT_H

#include <stddef.h>

#include <git2.h>
#include <jansson.h>

#include "warden/buf.h"

struct wd_ticket;

/*
 * The context engine: what the model sees for a ticket, within a byte budget:
 *  - listing: the work tree's files (at most an eighth of the budget);
 *  - agents:  the repo's AGENTS.md (at most an eighth of the budget, 16 KiB);
 *  - map:     a slice of the ranked repository map (see map.h), personalised
 *             toward the ticket: the files it names and the identifiers it
 *             mentions that the map knows as definitions (at most a sixteenth);
 *  - files:   the files the ticket names, then those its scope covers, then
 *             those defining the identifiers it names: whole when they fit,
 *             else cut to the definitions the ticket names (or head and tail),
 *             saying so in their "=== path (cut: ...) ===" header; then, to
 *             fill the budget, the definitions whose words best match the
 *             ticket's (BM25 with the map's PageRank, see retrieve.c), whole,
 *             and the tests that call the best of them.
 * wd_context_why() records every file considered: {path, reason, bytes[, cut]}.
 * Files are read beneath the work tree without following a symbolic link
 * (warden/beneath.h): links, wherever they point, and binary files are never sent.
 */

enum wd_context_flags {
	WD_CONTEXT_NO_MAP = 1u << 0,   /* skip the tree-sitter map (listing + files only) */
	WD_CONTEXT_CODE_ONLY = 1u << 1 /* the files alone: no AGENTS.md, map slice or listing
	                                * (a repair round's context for the failing output) */
};

typedef struct wd_context_opts {
	unsigned version;
	size_t budget_bytes;    /* 0 = default 96 KiB; less than 2 KiB counts as 2 KiB */
	const char *cache_dir;  /* for the tag cache; may be NULL */
	const char *const *files; /* tracked files of the work tree (NULL-terminated); NULL = the
	                           * git index's files when workdir is a work tree root, else walk */
	const char *const *focus; /* extra focus for the map (paths or identifiers), NULL-terminated;
	                           * may be NULL: the ticket's named files and identifiers always count */
	unsigned flags;         /* enum wd_context_flags */
	const char *const *exclude; /* map.exclude globs: vendored/generated files besides the
	                           * built-in ones (see wd_map_opts); NULL-terminated, may be NULL */
} wd_context_opts;

#define WD_CONTEXT_OPTS_VERSION 1
#define WD_CONTEXT_OPTS_INIT { WD_CONTEXT_OPTS_VERSION, 0, NULL, NULL, NULL, 0, NULL }

/* A built context: opaque; read it through the accessors below. */
typedef struct wd_context wd_context;

/*
 * Build the context of ticket `t` over the work tree `workdir` (its root).
 * `out` receives a new context (free with wd_context_free); `t` may be NULL
 * (listing, AGENTS.md and an unfocused map only); `opts` may be NULL for the
 * defaults. wd_context_bytes() never exceeds the budget. Returns 0,
 * WD_ENOTFOUND when workdir does not exist, WD_EUSAGE for a wrong opts
 * version, WD_ENOMEM.
 */
int wd_context_build(wd_context **out, const char *workdir, const struct wd_ticket *t,
                     const wd_context_opts *opts);
void wd_context_free(wd_context *c);

/*
 * The parts of a built context, owned by it (valid until wd_context_free);
 * the strings are never NULL ("" when the part is empty).
 */
const char *wd_context_listing(const wd_context *c); /* file listing (cut to fit, saying so) */
const char *wd_context_agents(const wd_context *c);  /* AGENTS.md, capped */
/* The repository map slice; "" with WD_CONTEXT_NO_MAP or when the map could
 * not be built (the rest of the context stands). */
const char *wd_context_map(const wd_context *c);
const char *wd_context_files(const wd_context *c);   /* chosen files, each under "=== path ===" */
const wd_strvec *wd_context_chosen(const wd_context *c); /* paths of the files included */
/* [{path, reason, bytes[, cut]}] for the ledger (borrowed: json_incref to
 * keep it); skipped files appear with reason "skipped: ..." and bytes 0. */
json_t *wd_context_why(const wd_context *c);
size_t wd_context_bytes(const wd_context *c);        /* total size of what will be sent */

/*
 * The syntax gate: a patch must not make a file's syntax worse. For each file
 * in a language warden has a grammar for, the base and patched contents are
 * parsed; a file whose patched version has ERROR or MISSING nodes that its
 * base did not (more of them, or on lines with new text) is refused.
 */
typedef struct wd_syntax_file {
	const char *path;     /* relative path; the language comes from its extension */
	const char *base;     /* content before the patch; NULL for a new file */
	size_t base_len;
	const char *patched;  /* content after the patch; NULL for a deleted file (not checked) */
	size_t patched_len;
} wd_syntax_file;

/* Check `n` files. Returns 0 when none got worse; WD_EREFUSED when one did,
 * with one line per new problem appended to `out` for the model
 * ("path:line:col: syntax error near 'text'" / "path:line:col: syntax error:
 * missing ';'", at most 10 per file, then a count); other negatives on errors. */
int wd_syntax_check(wd_buf *out, const wd_syntax_file *files, size_t n);

/* The same for a patch as trees: each of `paths` (NULL-terminated,
 * relative) before, from `base_tree`, and after, from `new_tree` (absent
 * there = deleted), both read from `repo`'s objects; no file system. */
int wd_syntax_check_trees(wd_buf *out, git_repository *repo, const git_oid *base_tree,
                          const git_oid *new_tree, const char *const *paths);

/*
 * Symbol scope: ticket scope entries "path:symbol" (the path may be a glob)
 * let a patch change, in the files they match, only the lines of the named
 * definitions as they are in the base version (an insertion counts as inside
 * when it lands between a definition's first and last line). A file matched
 * by a plain path entry as well is not limited; a file no symbol entry
 * matches is not this check's business (the patch policy checks paths).
 *
 * `path` is the file's relative path, `base`/`base_len` its content before
 * the patch (NULL for a new file, which is refused when symbols limit it),
 * `patched`/`patched_len` after (NULL for a deletion, refused likewise),
 * `scope` the ticket's scope entries (NULL-terminated; "!glob" entries are
 * ignored here). Returns 0 when allowed; WD_EREFUSED with one line per
 * offending change appended to `out` ("path:LINE: lines A-B changed, outside
 * parse_number, the only definitions the scope lets this patch change");
 * other negatives on errors.
 */
int wd_symbol_scope_check(wd_buf *out, const char *path, const char *base, size_t base_len,
                          const char *patched, size_t patched_len, const char *const *scope);

/* Whether `path` (its content src[0..len)) defines `symbol`: *found = 1
 * yes, 0 no (then `near`, when non-NULL, gets the closest defined name if one
 * is plausibly a typo of it), -1 when warden has no grammar for the file. */
int wd_file_defines(int *found, wd_buf *near, const char *path, const char *src, size_t len,
                    const char *symbol);

/* The same for every one of `paths` (NULL-terminated, relative) of a patch
 * given as trees: bases from `base_tree`, new contents from `new_tree`
 * (absent there = deleted), both from `repo`'s objects. Every offending file
 * is reported in `out`; WD_EREFUSED when any was. */
int wd_symbol_scope_check_trees(wd_buf *out, git_repository *repo, const git_oid *base_tree,
                                const git_oid *new_tree, const char *const *paths,
                                const char *const *scope);

#endif
