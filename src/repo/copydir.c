/*
 * Copying object directories: a local source's objects into the mirror, the
 * mirror's into a run's repository. A copy, not hardlinks: the checks run
 * with write access to the work tree's .git, and a hostile test script must
 * not be able to reach the mirror's (or the user's) files.
 *
 * Object files are immutable and named by their content, so a file that
 * already exists in the destination is skipped: the second copy into a
 * mirror only moves what is new. Each file is written under a temporary name
 * and renamed, so a reader never sees half a pack.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/error.h"
#include "repo_int.h"

static int copy_fd(int in, int out, off_t size)
{
	char buf[65536];

	/* copy_file_range shares extents on filesystems that can (btrfs, xfs) */
	while (size > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)size, 0);

		if (n <= 0)
			break;
		size -= n;
	}
	if (size <= 0)
		return 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf)), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno != EINTR)
				return -1;
			w += k > 0 ? k : 0;
		}
	}
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st)
{
	char tmp[300];
	int in, out, rc = 0;

	if (faccessat(ddir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "tmp_warden_%s", name) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? 0 : -1; /* gone meanwhile (a repack): fine */
	out = openat(ddir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	             (st->st_mode & 0777) | 0200);
	if (out < 0) {
		close(in);
		return -1;
	}
	if (copy_fd(in, out, st->st_size) < 0)
		rc = -1;
	close(in);
	if (fchmod(out, st->st_mode & 0777) < 0 || close(out) < 0)
		rc = -1;
	if (rc == 0 && renameat(ddir, tmp, ddir, name) < 0)
		rc = -1;
	if (rc < 0)
		unlinkat(ddir, tmp, 0);
	return rc;
}

/* Not object data, or not safe to copy as is: temporary files of a git
 * writing concurrently, locks, and indexes over the source's own pack set. */
static int skip_name(const char *name, int top)
{
	size_t n = strlen(name);

	return (top && !strcmp(name, "info")) || !strncmp(name, "tmp_", 4) ||
	       !strncmp(name, "multi-pack-index", 16) ||
	       (n > 5 && !strcmp(name + n - 5, ".lock"));
}

static int copy_at(int sdir, int ddir, int top)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	d = fdopendir(sdir);
	if (!d) {
		close(sdir);
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || skip_name(e->d_name, top))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			int s, t;

			if (mkdirat(ddir, e->d_name, st.st_mode & 0777) < 0 && errno != EEXIST)
				rc = -1;
			else if ((s = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY |
			                     O_NOFOLLOW | O_CLOEXEC)) < 0)
				rc = -1;
			else if ((t = openat(ddir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			                     O_CLOEXEC)) < 0) {
				close(s);
				rc = -1;
			} else {
				rc = copy_at(s, t, 0); /* takes s */
				close(t);
			}
		} else if (S_ISREG(st.st_mode)) {
			rc = copy_file(dirfd(d), ddir, e->d_name, &st);
		} /* anything else has no place in an object store */
	}
	closedir(d);
	return rc;
}

int wd_repo__copy_dir(const char *src, const char *dst)
{
	int s, d, rc;

	s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s < 0)
		return wd_error_errno(WD_EINFRA, src);
	d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0) {
		close(s);
		return wd_error_errno(WD_EINFRA, dst);
	}
	rc = copy_at(s, d, 1);
	close(d);
	if (rc < 0)
		return wd_error_set(WD_EINFRA, "copying %s to %s: %s", src, dst, strerror(errno));
	return 0;
}
