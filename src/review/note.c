/* Commit evidence as a git note under refs/notes/warden. */
#include <jansson.h>

#include "warden/error.h"
#include "warden/note.h"
#include "warden/repo.h"

int wd_review_add_note(const char *repo_path, const char *commit_hex, const char *json_evidence)
{
	json_error_t jerr;
	json_t *check;

	if (!json_evidence)
		return wd_error_set(WD_EUSAGE, "no evidence given for the note");
	/* The note is read back by tools; keep it machine-readable. */
	check = json_loads(json_evidence, JSON_DECODE_ANY, &jerr);
	if (!check)
		return wd_error_set(WD_EINPUT, "check evidence is not JSON: %s", jerr.text);
	json_decref(check);
	return wd_repo_note_write(repo_path, WD_NOTES_REF, commit_hex, json_evidence);
}

int wd_review_read_note(wd_buf *out, const char *repo_path, const char *commit_hex)
{
	return wd_repo_note_read(out, repo_path, WD_NOTES_REF, commit_hex);
}
