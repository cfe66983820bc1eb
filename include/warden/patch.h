#ifndef WARDEN_PATCH_H
#define WARDEN_PATCH_H

#include <stddef.h>

#include <git2.h>
#include <jansson.h>

#include "warden/buf.h"

/*
 * The patch engine: parse a model reply into file edits, check them against
 * policy, and apply them all-or-nothing. The patched files are built in memory
 * as libgit2 blobs and a tree; the work tree is written only when every hunk
 * of every file applies.
 */

typedef struct wd_patch wd_patch;

/* Extract every edit from a model reply (bare diff, ```diff fences, git-style
 * or plain ---/+++ headers, SEARCH/REPLACE blocks, "*** Begin Patch"
 * sections, and, in a reply with none of those, whole-file blocks: a fence
 * whose info string or preceding line names the path). WD_ENOTFOUND when the
 * reply holds no edit; WD_EINPUT when it holds a malformed one. */
int wd_patch_parse(wd_patch **out, const char *text, size_t len);

size_t wd_patch_file_count(const wd_patch *p);
/* New path of file i (old path for deletions). */
const char *wd_patch_file_path(const wd_patch *p, size_t i);
/* Hash identifying the edit's content (to detect a repeated patch). */
const char *wd_patch_hash(const wd_patch *p);

void wd_patch_free(wd_patch *p);

/*
 * Scope globs are anchored at the repository root: '*' and '?' stay inside one
 * directory, "**" spans directories, a trailing "/" or a
 * plain directory name covers everything below it, "path:symbol" counts as
 * "path", and "!glob" denies (a deny wins over any allow). With no allow
 * entries everything not denied is in scope.
 */
typedef struct wd_patch_policy {
	unsigned version;
	const char *const *scope;  /* NULL-terminated globs; "!glob" denies; NULL = everything */
	size_t max_files;          /* 0 = default 50 */
	size_t max_lines;          /* changed lines; 0 = default 5000 */
	int allow_mode_change;
	int allow_binary;
	size_t max_whole_bytes;    /* largest whole-file replacement; 0 = default 64 KiB */
} wd_patch_policy;

#define WD_PATCH_POLICY_VERSION 1
#define WD_PATCH_POLICY_INIT { WD_PATCH_POLICY_VERSION, NULL, 0, 0, 0, 0, 0 }

enum wd_patch_flags {
	WD_PATCH_CHECK_ONLY = 1u << 0 /* validate and build the tree, write nothing */
};

/*
 * report->json:
 *   { "applied": bool, "check_only": bool, "patch_hash": hex, "tree": hex (when applied),
 *     "files": [ { "path", "old_path" (renames), "status": modified|added|deleted|renamed,
 *                  "method": libgit2|fuzzy|whole, "match": exact|whitespace|trimmed_context,
 *                  "hunks": [ { "hunk", "status", "line", "match", "offset" } ] } ],
 *     "refusals": [ { "file", "hunk" (0 = whole file), "kind", "message",
 *                     and for hunks: "ambiguous", "already_applied", "candidates" (lines),
 *                     "closest_line", "closest_matched", "old_lines", "closest_text",
 *                     "hinted_line" } ] }
 * kinds: unsafe_path, out_of_scope, binary, copy, mode, too_many_files,
 * too_many_lines, too_large (a whole-file replacement over max_whole_bytes), symlink, not_a_file, not_a_directory, submodule, missing,
 * exists, no_match, ambiguous, already_applied, no_context, delete_leaves_content,
 * indentation (a whitespace-tolerant match whose new lines' depth cannot be mapped).
 */
/* One path of an applied patch as a work tree must show it (tree mode). */
typedef struct wd_patch_out {
	char *path;
	int deleted;          /* the patch removes it (a rename's old name too) */
	unsigned mode;        /* 0644 or 0755 when not deleted */
	wd_buf content;       /* work-tree form: what a checkout of report->tree writes */
} wd_patch_out;

typedef struct wd_patch_report {
	int applied;          /* 1 when written (or would be, with CHECK_ONLY) */
	git_oid tree;         /* the resulting tree (base tree + patch), valid when applied */
	wd_strvec files;      /* paths changed (both names of a rename) */
	wd_patch_out *out;    /* tree mode, when applied: every path of `files`, in order */
	size_t nout;
	wd_buf reasons;       /* refusal reasons, written for the model to act on */
	json_t *json;         /* structured report (above); always set, even on refusal */
} wd_patch_report;

/* Apply `p` to the work tree of `repo`. Each file's current content is read
 * from the work tree (for a run that is the base checkout; local edits are
 * respected); the patched blobs and report->tree (HEAD's tree with the patched
 * paths replaced, added or removed) are built in memory, and the work tree is
 * written (atomically per file, rolled back on a write failure) only when
 * policy passes and every hunk of every file applies. Returns 0 when applied,
 * WD_EREFUSED when policy or a hunk refused (nothing written; reasons and
 * json filled), other negatives on errors. Free `out` with
 * wd_patch_report_free() in every case. */
int wd_patch_apply(wd_patch_report *out, git_repository *repo, const wd_patch *p,
                   const wd_patch_policy *policy, unsigned flags);

/* Apply `p` to the tree of `base_commit` in `repo`, in memory only: nothing
 * is read from or written to any directory, so no file a check left behind
 * can influence what is proposed. Each file's current content is its blob in
 * that tree in work-tree form (the filters the commit's own .gitattributes
 * select, as a checkout writes it); the same policy, refusals and matching as
 * wd_patch_apply. When applied, report->tree is the base tree with the
 * patched files stored as `git add` would store them (the same filters,
 * to the object database), and report->out lists each changed path with the
 * content and mode a work tree of that tree must show. Returns 0, WD_EREFUSED
 * (reasons and json filled), or another negative error. */
int wd_patch_apply_tree(wd_patch_report *out, git_repository *repo, const git_oid *base_commit,
                        const wd_patch *p, const wd_patch_policy *policy);

void wd_patch_report_free(wd_patch_report *r);

/* Does `path` match the scope list (same rules as the policy)? */
int wd_patch_path_in_scope(const char *path, const char *const *scope);

#endif
