/* Reading and retiring a proposal branch in the repository that holds it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/repo.h"
#include "repo_int.h"

int wd_repo_branch_tip(char out[41], const char *repo_path, const char *branch)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL, *resolved = NULL;
	int rc = 0;

	out[0] = '\0';
	if (git_repository_open(&repo, repo_path) < 0)
		return wd_error_git(WD_ENOTFOUND, repo_path);
	if (git_branch_lookup(&ref, repo, branch, GIT_BRANCH_LOCAL) < 0 ||
	    git_reference_resolve(&resolved, ref) < 0)
		rc = wd_error_set(WD_ENOTFOUND, "no branch '%s' in %s", branch, repo_path);
	else
		git_oid_tostr(out, GIT_OID_HEXSZ + 1, git_reference_target(resolved));
	git_reference_free(resolved);
	git_reference_free(ref);
	git_repository_free(repo);
	return rc;
}

int wd_repo_branch_delete(const char *repo_path, const char *branch, const char *expect_hex,
                          char moved_to[41])
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	char hex[GIT_OID_HEXSZ + 1] = "";
	int rc = 0, err;

	if (moved_to)
		moved_to[0] = '\0';
	if (git_repository_open(&repo, repo_path) < 0)
		return 0; /* the repository is gone, and its branch with it */
	err = git_branch_lookup(&ref, repo, branch, GIT_BRANCH_LOCAL);
	if (err == GIT_ENOTFOUND)
		goto out;
	if (err < 0) {
		rc = wd_error_git(WD_EINFRA, "looking up the branch");
		goto out;
	}
	if (git_reference_type(ref) == GIT_REFERENCE_DIRECT)
		git_oid_tostr(hex, sizeof(hex), git_reference_target(ref));
	if (strcmp(hex, expect_hex) != 0) {
		if (moved_to)
			memcpy(moved_to, hex, sizeof(hex));
		rc = wd_error_set(WD_ECONFLICT, "branch '%s' moved to %.12s (expected %.12s)", branch,
		                  hex[0] ? hex : "a symbolic ref", expect_hex);
		goto out;
	}
	if (git_branch_is_checked_out(ref) == 1) {
		rc = wd_error_set(WD_EREFUSED, "branch '%s' is checked out; switch away from it first",
		                  branch);
		goto out;
	}
	if (git_branch_delete(ref) < 0)
		rc = wd_error_git(WD_EINFRA, "deleting the branch");
out:
	git_reference_free(ref);
	git_repository_free(repo);
	return rc;
}

int wd_repo_unpublish(const char *repo_path, const char *mirror_path, const char *branch,
                      const char *expect_hex, char moved_to[41])
{
	struct stat st;
	int lock = -1, rc;

	if ((rc = wd_repo_branch_delete(repo_path, branch, expect_hex, moved_to)) != 0)
		return rc;
	/* no mirror (the cache was cleared): nothing to lock, nothing left there */
	if (!mirror_path || !strcmp(mirror_path, repo_path) || stat(mirror_path, &st) != 0)
		return 0;
	if ((rc = wd_repo__lock(&lock, mirror_path, 0)) != 0)
		return rc;
	rc = wd_repo_branch_delete(mirror_path, branch, expect_hex, NULL);
	wd_repo__unlock(lock);
	/* moved in the mirror: not the proposal's commit, so not ours to delete */
	return rc == WD_ECONFLICT ? 0 : rc;
}

int wd_repo_warden_branches(wd_strvec *names, wd_strvec *tips, const char *repo_path)
{
	git_repository *repo = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref;
	char hex[GIT_OID_HEXSZ + 1];
	int rc = 0, err;

	if (git_repository_open_ext(&repo, repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return wd_error_git(WD_ENOTFOUND, repo_path);
	if (git_reference_iterator_glob_new(&it, repo, "refs/heads/warden/*") < 0) {
		rc = wd_error_git(WD_EINFRA, "listing the branches");
		goto out;
	}
	while (!rc && (err = git_reference_next(&ref, it)) == 0) {
		hex[0] = '\0';
		/* a symbolic warden/ ref is not one warden made: its tip stays "" */
		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT)
			git_oid_tostr(hex, sizeof(hex), git_reference_target(ref));
		if ((rc = wd_strvec_push(names, git_reference_shorthand(ref))) == 0)
			rc = wd_strvec_push(tips, hex);
		git_reference_free(ref);
	}
	if (!rc && err != GIT_ITEROVER)
		rc = wd_error_git(WD_EINFRA, "listing the branches");
out:
	git_reference_iterator_free(it);
	git_repository_free(repo);
	return rc;
}

/* The directory refs/heads/warden of the repository at `repo_path`, opened
 * one component at a time without following a link: a fd, or -1 with
 * *rc set (0 when the repository has no such directory). */
static int open_warden_refs(const char *repo_path, int *rc)
{
	static const char *const parts[] = { "refs", "heads", "warden" };
	git_repository *repo = NULL;
	int fd;

	*rc = 0;
	if (git_repository_open_ext(&repo, repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		*rc = wd_error_git(WD_ENOTFOUND, repo_path);
		return -1;
	}
	fd = open(git_repository_commondir(repo), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	git_repository_free(repo);
	for (size_t i = 0; fd >= 0 && i < sizeof(parts) / sizeof(parts[0]); i++) {
		int next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		close(fd);
		fd = next;
	}
	if (fd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
		*rc = wd_error_set(WD_EINFRA, "%s: refs/heads/warden: %s", repo_path, strerror(errno));
	return fd;
}

/* Whether `name` in `dir` is a leftover lock: a regular file named *.lock,
 * untouched for `min_age` seconds. */
static int is_stale_lock(int dir, const char *name, unsigned min_age)
{
	size_t len = strlen(name);
	struct stat st;

	if (len <= 5 || strcmp(name + len - 5, ".lock") != 0 ||
	    fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return time(NULL) - st.st_mtime >= (time_t)min_age;
}

int wd_repo_warden_ref_locks(wd_strvec *branches, const char *repo_path, unsigned min_age)
{
	struct dirent *e;
	DIR *d;
	int rc, fd = open_warden_refs(repo_path, &rc);

	if (fd < 0)
		return rc;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return wd_error_set(WD_EINFRA, "%s: refs/heads/warden: %s", repo_path, strerror(errno));
	}
	while (!rc && (e = readdir(d)) != NULL) {
		if (is_stale_lock(dirfd(d), e->d_name, min_age)) {
			char *b = wd_strndup(e->d_name, strlen(e->d_name) - 5);
			wd_buf name = WD_BUF_INIT;

			rc = b ? wd_buf_printf(&name, "warden/%s", b) : WD_ENOMEM;
			if (!rc)
				rc = wd_strvec_push(branches, name.ptr);
			wd_buf_free(&name);
			free(b);
		}
	}
	closedir(d);
	return rc;
}

int wd_repo_ref_lock_remove(const char *repo_path, const char *branch, unsigned min_age)
{
	wd_buf leaf = WD_BUF_INIT;
	int rc, fd;

	if (strncmp(branch, "warden/", 7) != 0 || strchr(branch + 7, '/') || !branch[7] ||
	    branch[7] == '.')
		return wd_error_set(WD_EINPUT, "%s: not a warden/ branch name", branch);
	if ((fd = open_warden_refs(repo_path, &rc)) < 0)
		return rc;
	if ((rc = wd_buf_printf(&leaf, "%s.lock", branch + 7)) == 0) {
		if (!is_stale_lock(fd, leaf.ptr, min_age)) {
			struct stat st;

			if (fstatat(fd, leaf.ptr, &st, AT_SYMLINK_NOFOLLOW) == 0)
				rc = wd_error_set(WD_ECONFLICT, "refs/heads/%s.lock: in use or not a lock "
				                  "file; left alone", branch);
		} else if (unlinkat(fd, leaf.ptr, 0) < 0 && errno != ENOENT) {
			rc = wd_error_set(WD_EINFRA, "refs/heads/%s.lock: %s", branch, strerror(errno));
		}
	}
	wd_buf_free(&leaf);
	close(fd);
	return rc;
}
