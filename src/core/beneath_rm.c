/*
 * Removing a hostile tree: shared by wd_beneath_remove and wd_rm_rf.
 *
 * Nothing but directories is ever opened (O_NOFOLLOW | O_DIRECTORY), so a
 * symbolic link is unlinked itself and a FIFO never blocks; a directory
 * without u+rwx is given it by descriptor before it is listed. Recursion and
 * open descriptors are bounded (RM_DEPTH levels): a directory deeper than
 * that is renamed up into the top directory, and the top is listed again
 * until a pass moves nothing, so nesting of any depth goes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "beneath_int.h"

/* Directory levels held open at once while removing. */
#define RM_DEPTH 16

/* fchmodat2(2) (Linux 6.6) takes AT_EMPTY_PATH, so it can chmod an O_PATH
 * descriptor; older headers do not name it. */
#if !defined(SYS_fchmodat2) && (defined(__x86_64__) || defined(__aarch64__))
#define SYS_fchmodat2 452
#endif

/* chmod the entry `name` of `parent`, open as the O_PATH descriptor `pfd`.
 * fchmod refuses O_PATH descriptors, so: fchmodat2 on the descriptor itself
 * (Linux 6.6), else the descriptor's /proc/self/fd link (which names that
 * very inode), else, with neither, by name after checking the name is still
 * that inode and no symbolic link. 0 or -1 with errno. */
int wd_beneath__set_mode(int pfd, int parent, const char *name, mode_t mode)
{
	char proc[40];
	struct stat a, b;

#ifdef SYS_fchmodat2
	if (syscall(SYS_fchmodat2, pfd, "", mode, AT_EMPTY_PATH) == 0)
		return 0;
#endif
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	if (chmod(proc, mode) == 0)
		return 0;
	if (errno == EPERM) /* not the owner: nothing else will do better */
		return -1;
	if (fstat(pfd, &a) < 0 || fstatat(parent, name, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino || S_ISLNK(b.st_mode)) {
		errno = ESTALE;
		return -1;
	}
	return fchmodat(parent, name, mode, 0);
}

typedef struct rm_ctx {
	int top;            /* the directory being emptied; deep ones move up into it */
	unsigned long seq;  /* names for the moved ones */
	size_t moved;       /* moved during this pass: another pass is needed */
	char *failed;       /* PATH_MAX bytes or NULL */
} rm_ctx;

static int rm_fail(rm_ctx *c, const char *name)
{
	int e = errno;

	if (c->failed)
		snprintf(c->failed, PATH_MAX, "%s", name);
	errno = e;
	return -1;
}

/* Open the directory `name` in `parent` for listing and unlinking, giving
 * it u+rwx first when it lacks any of them (by descriptor). */
static int open_dir_rw(int parent, const char *name)
{
	struct stat st, now;
	int pfd, fd = -1, e;

	pfd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	if (fstat(pfd, &st) < 0)
		goto out;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto out;
	}
	/* a failure here shows as EACCES just below */
	if ((st.st_mode & 0700) != 0700)
		(void)wd_beneath__set_mode(pfd, parent, name, (st.st_mode & 07777) | 0700);
	fd = wd_beneath__open_dir(parent, name);
	if (fd >= 0 && (fstat(fd, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino)) {
		close(fd);
		fd = -1;
		errno = ESTALE;
	}
out:
	e = errno;
	close(pfd);
	errno = e;
	return fd;
}

static int rm_entry(rm_ctx *c, int dir, const char *name, unsigned char type, int depth);

/* Remove everything in the directory open as `fd` (`depth` levels below
 * the top); this closes `fd`. One descriptor per level. */
static int rm_contents(rm_ctx *c, int fd, int depth)
{
	struct dirent *ent;
	int rc = 0, e;
	DIR *d;

	if (!(d = fdopendir(fd))) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	for (;;) {
		errno = 0;
		if (!(ent = readdir(d))) {
			rc = errno ? -1 : 0;
			break;
		}
		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
			continue;
		if ((rc = rm_entry(c, dirfd(d), ent->d_name, ent->d_type, depth)) != 0)
			break;
	}
	e = errno;
	closedir(d);
	errno = e;
	return rc;
}

static int rm_dir(rm_ctx *c, int parent, const char *name, int depth)
{
	int fd = open_dir_rw(parent, name);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR && (unlinkat(parent, name, 0) == 0 || errno == ENOENT))
			return 0;
		return rm_fail(c, name);
	}
	if (rm_contents(c, fd, depth) < 0)
		return -1;
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return rm_fail(c, name);
	return 0;
}

/* Too deep to hold open: move the directory up into the top one, where the
 * next pass takes it (a directory needs u+w to change its "..": give it). */
static int rm_move_up(rm_ctx *c, int parent, const char *name)
{
	char to[40];
	struct stat st;
	int pfd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (pfd < 0)
		return errno == ENOENT ? 0 : rm_fail(c, name);
	if (fstat(pfd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0700) != 0700)
		(void)wd_beneath__set_mode(pfd, parent, name, (st.st_mode & 07777) | 0700);
	close(pfd);
	for (int tries = 0; tries < 64; tries++) {
		snprintf(to, sizeof(to), ".wd-rm-%lu", c->seq++);
		/* replacing an empty directory of that name is fine: it goes too */
		if (renameat(parent, name, c->top, to) == 0) {
			c->moved++;
			return 0;
		}
		if (errno != EEXIST && errno != ENOTEMPTY && errno != ENOTDIR && errno != EISDIR)
			break;
	}
	return rm_fail(c, name);
}

static int rm_entry(rm_ctx *c, int dir, const char *name, unsigned char type, int depth)
{
	if (type == DT_UNKNOWN) {
		struct stat st;

		if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? 0 : rm_fail(c, name);
		type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
	}
	if (type != DT_DIR) {
		if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
			return 0;
		if (errno != EISDIR)
			return rm_fail(c, name);
	}
	if (depth + 1 < RM_DEPTH)
		return rm_dir(c, dir, name, depth + 1);
	return rm_move_up(c, dir, name);
}

int wd_beneath__remove_at(int parent, const char *name, char *failed)
{
	rm_ctx c;
	struct stat st;
	int rc;

	memset(&c, 0, sizeof(c));
	c.failed = failed;
	if (failed)
		failed[0] = '\0';
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : rm_fail(&c, name);
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0) == 0 || errno == ENOENT ? 0 : rm_fail(&c, name);
	if ((c.top = open_dir_rw(parent, name)) < 0)
		return errno == ENOENT ? 0 : rm_fail(&c, name);
	do { /* a fresh listing each pass: the last one must see what moved up */
		int fd = openat(c.top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		c.moved = 0;
		rc = fd < 0 ? rm_fail(&c, name) : rm_contents(&c, fd, 0);
	} while (rc == 0 && c.moved);
	close(c.top);
	if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = rm_fail(&c, name);
	return rc;
}
