/* Evidence as git notes: text attached to a commit under a notes ref. */
#include "warden/error.h"
#include "warden/repo.h"

static int open_at(git_repository **repo, git_oid *id, const char *repo_path, const char *hex)
{
	if (!hex || git_oid_fromstr(id, hex) < 0)
		return wd_error_set(WD_EUSAGE, "'%s' is not a commit id", hex ? hex : "(null)");
	if (git_repository_open(repo, repo_path) < 0)
		return wd_error_git(WD_ENOTFOUND, repo_path);
	return 0;
}

int wd_repo_note_write(const char *repo_path, const char *notes_ref, const char *commit_hex,
                       const char *text)
{
	git_repository *repo = NULL;
	git_signature *sig = NULL;
	git_commit *c = NULL;
	git_oid id, note_id;
	int rc;

	if ((rc = open_at(&repo, &id, repo_path, commit_hex)) != 0)
		return rc;
	if (git_commit_lookup(&c, repo, &id) < 0) {
		rc = wd_error_git(WD_ENOTFOUND, "note: looking up the commit");
		goto out;
	}
	if (git_signature_now(&sig, "warden", "warden@localhost") < 0) {
		rc = wd_error_git(WD_EINFRA, "note: signature");
		goto out;
	}
	if (git_note_create(&note_id, repo, notes_ref, sig, sig, &id, text, 1) < 0)
		rc = wd_error_git(WD_EINFRA, "writing the note");
out:
	git_signature_free(sig);
	git_commit_free(c);
	git_repository_free(repo);
	return rc;
}

int wd_repo_note_read(wd_buf *out, const char *repo_path, const char *notes_ref,
                      const char *commit_hex)
{
	git_repository *repo = NULL;
	git_note *note = NULL;
	git_oid id;
	int rc, err;

	if ((rc = open_at(&repo, &id, repo_path, commit_hex)) != 0)
		return rc;
	err = git_note_read(&note, repo, notes_ref, &id);
	if (err == GIT_ENOTFOUND)
		rc = wd_error_set(WD_ENOTFOUND, "commit %s has no note under %s", commit_hex, notes_ref);
	else if (err < 0)
		rc = wd_error_git(WD_EINFRA, "reading the note");
	else
		rc = wd_buf_puts(out, git_note_message(note));
	git_note_free(note);
	git_repository_free(repo);
	return rc;
}
