/* Commit evidence as a git note under refs/notes/warden. */
#include <string.h>

#include "warden/error.h"
#include "warden/review.h"

int wd_review_add_note(git_repository *repo, const git_oid *commit, const char *json_evidence)
{
	git_signature *sig = NULL;
	git_commit *c = NULL;
	git_oid note_id;
	json_error_t jerr;
	json_t *check;
	int rc = 0;

	if (!json_evidence)
		return wd_error_set(WD_EUSAGE, "no evidence given for the note");
	/* The note is read back by tools; keep it machine-readable. */
	check = json_loads(json_evidence, JSON_DECODE_ANY, &jerr);
	if (!check)
		return wd_error_set(WD_EINPUT, "check evidence is not JSON: %s", jerr.text);
	json_decref(check);
	if (git_commit_lookup(&c, repo, commit) < 0) {
		rc = wd_error_git(WD_ENOTFOUND, "note: looking up the commit");
		goto out;
	}
	if (git_signature_now(&sig, "warden", "warden@localhost") < 0) {
		rc = wd_error_git(WD_EINFRA, "note: signature");
		goto out;
	}
	if (git_note_create(&note_id, repo, WD_NOTES_REF, sig, sig, commit, json_evidence, 1) < 0)
		rc = wd_error_git(WD_EINFRA, "writing the evidence note");
out:
	git_signature_free(sig);
	git_commit_free(c);
	return rc;
}

int wd_review_read_note(wd_buf *out, git_repository *repo, const git_oid *commit)
{
	git_note *note = NULL;
	int err = git_note_read(&note, repo, WD_NOTES_REF, commit);

	if (err == GIT_ENOTFOUND) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), commit);
		return wd_error_set(WD_ENOTFOUND, "commit %s has no warden note", hex);
	}
	if (err < 0)
		return wd_error_git(WD_EINFRA, "reading the evidence note");
	err = wd_buf_puts(out, git_note_message(note));
	git_note_free(note);
	return err;
}
