#ifndef WARDEN_NOTE_H
#define WARDEN_NOTE_H

/*
 * The evidence note: a proposed commit's check evidence (the one check
 * schema, docs/ledger.md) as a git note under refs/notes/warden.
 *
 * Owns writing and reading that note. Never writes the evidence itself
 * (wd_check_result_json in gate.h does) and never another notes ref.
 */
#include "warden/buf.h"

#define WD_NOTES_REF "refs/notes/warden"

/* Attach `json_evidence` (must parse as JSON: commands, exit codes, durations,
 * log digests) to commit `commit_hex` as a git note under refs/notes/warden,
 * replacing an earlier note. Call it on the repository that holds the branch
 * (the path wd_repo_publish returns) so that `review show` and `git log
 * --notes=warden` find it. WD_EINPUT when the evidence is not JSON. */
int wd_review_add_note(const char *repo_path, const char *commit_hex, const char *json_evidence);

/* The note's text; WD_ENOTFOUND when the commit has none. */
int wd_review_read_note(wd_buf *out, const char *repo_path, const char *commit_hex);

#endif
