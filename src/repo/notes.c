/* Evidence as git notes: text attached to a commit under a notes ref. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/repo.h"

/*
 * libgit2 moves a ref by writing <ref>.lock and renaming it over the ref. A
 * kill -9 between the two leaves the lock in the user's repository, and
 * every later note write (warden's or `git notes`) fails on it. So writers
 * of a notes ref hold a flock on the repository's git directory (advisory:
 * nothing in the repository changes), and while holding it a lock file that
 * is still there once it is STALE_LOCK_MS old is a dead writer's leftover
 * and is removed. A live git holds its lock for milliseconds.
 */
#define STALE_LOCK_MS 1000
#define NOTE_LOCK_WAIT_MS 30000

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int lock_gitdir(int *out_fd, git_repository *repo)
{
	const char *dir = git_repository_commondir(repo);
	uint64_t deadline = wd_now_ms() + NOTE_LOCK_WAIT_MS;
	int fd;

	*out_fd = -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return wd_error_errno(WD_EINFRA, dir);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return wd_error_errno(WD_EINFRA, dir);
		}
		if (wd_now_ms() >= deadline) {
			close(fd);
			return wd_error_set(WD_ETIMEOUT, "another warden run is writing notes in %s "
			                    "(waited %d ms)", dir, NOTE_LOCK_WAIT_MS);
		}
		nap_ms(50);
	}
	*out_fd = fd;
	return 0;
}

/* With the git directory locked: wait out or remove a leftover <ref>.lock. */
static int clear_stale_ref_lock(git_repository *repo, const char *ref)
{
	wd_buf path = WD_BUF_INIT;
	int rc;

	if ((rc = wd_buf_printf(&path, "%s%s.lock", git_repository_commondir(repo), ref)) != 0)
		return rc;
	for (;;) {
		struct timespec now;
		struct stat st;
		long long age_ms;

		if (lstat(path.ptr, &st) != 0 || !S_ISREG(st.st_mode))
			break; /* none (or not a lock file: libgit2 reports it) */
		clock_gettime(CLOCK_REALTIME, &now);
		age_ms = (long long)(now.tv_sec - st.st_mtim.tv_sec) * 1000 +
		         (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
		if (age_ms >= STALE_LOCK_MS) {
			if (unlink(path.ptr) != 0 && errno != ENOENT)
				rc = wd_error_errno(WD_EINFRA, path.ptr);
			break;
		}
		nap_ms(50);
	}
	wd_buf_free(&path);
	return rc;
}

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
	int lock = -1, rc;

	if ((rc = open_at(&repo, &id, repo_path, commit_hex)) != 0)
		return rc;
	if ((rc = lock_gitdir(&lock, repo)) != 0 || (rc = clear_stale_ref_lock(repo, notes_ref)) != 0)
		goto out;
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
	if (lock >= 0) {
		flock(lock, LOCK_UN);
		close(lock);
	}
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
