/*
 * Copying a hostile tree (a layer a check wrote) into a fresh directory of
 * warden's: everything is reached through descriptors from the two roots,
 * no symbolic link is followed, nothing but directories and regular files
 * (after lstat said so) is opened, and the metadata build tools compare
 * (modes, nanosecond times) comes along.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "warden/beneath.h"
#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "beneath_int.h"

#define COPY_DEPTH 256
#define COPY_CHUNK 65536

typedef struct copy_ctx {
	wd_copy_stats *st;
	wd_buf path; /* the entry being copied, for messages */
	char *buf;   /* COPY_CHUNK bytes for read/write */
} copy_ctx;

/* An error about the current entry (c->path), errno's reason. */
static int copy_fail(copy_ctx *c, const char *what)
{
	return wd_error_set(WD_EINFRA, "copying %s: %s: %s", wd_buf_cstr(&c->path), what,
	                    strerror(errno));
}

/* Whether an error on the source side means "cannot read it, skip it". */
static int unreadable(int e)
{
	return e == EACCES || e == EPERM;
}

static void times_of(struct timespec t[2], const struct stat *st)
{
	t[0] = st->st_atim;
	t[1] = st->st_mtim;
}

/* copy_file_range could not do it: fall back to read and write. */
static int no_range(int e)
{
	return e == EXDEV || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP || e == EBADF ||
	       e == EPERM;
}

/* Copy the bytes of `in` (`size` of them by its fstat) to `out`:
 * copy_file_range where the kernel and the file systems can, then read and
 * write from wherever that stopped, to the end. */
static int copy_bytes(copy_ctx *c, int in, int out, off_t size)
{
	off_t done = 0;

	while (done < size) {
		off_t left = size - done;
		ssize_t n = copy_file_range(in, NULL, out, NULL,
		                            left > (1 << 30) ? (size_t)1 << 30 : (size_t)left, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && !no_range(errno))
			return -1;
		if (n <= 0)
			break;
		done += n;
	}
	for (;;) {
		ssize_t n = read(in, c->buf, COPY_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		if (wd_write_all(out, c->buf, (size_t)n) < 0)
			return -1;
	}
}

static int copy_file(copy_ctx *c, int sdir, int ddir, const char *name)
{
	struct timespec t[2];
	struct stat st;
	int in, out, rc = 0;

	in = openat(sdir, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (in < 0 && (errno == ENOENT || unreadable(errno))) {
		c->st->skipped += errno != ENOENT;
		return 0;
	}
	if (in < 0)
		return copy_fail(c, "open");
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(in);
		c->st->skipped++;
		return 0;
	}
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = copy_fail(c, "create");
		close(in);
		return rc;
	}
	if (ioctl(out, FICLONE, in) == 0)
		c->st->reflinked++;
	else if (copy_bytes(c, in, out, st.st_size) < 0)
		rc = copy_fail(c, "copy");
	times_of(t, &st);
	if (!rc && (fchmod(out, st.st_mode & 01777) < 0 || futimens(out, t) < 0))
		rc = copy_fail(c, "set mode and times");
	if (close(out) < 0 && !rc)
		rc = copy_fail(c, "close");
	close(in);
	if (!rc) {
		c->st->files++;
		c->st->bytes += (uint64_t)st.st_size;
	}
	return rc;
}

static int copy_link(copy_ctx *c, int sdir, int ddir, const char *name, const struct stat *st)
{
	char target[PATH_MAX];
	struct timespec t[2];
	ssize_t n = readlinkat(sdir, name, target, sizeof(target));

	if (n < 0 && errno == ENOENT)
		return 0;
	if (n < 0 || (size_t)n >= sizeof(target)) {
		c->st->skipped++;
		return 0;
	}
	target[n] = '\0';
	times_of(t, st);
	if (symlinkat(target, ddir, name) < 0 ||
	    utimensat(ddir, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_fail(c, "symbolic link");
	c->st->links++;
	return 0;
}

static int copy_whiteout(copy_ctx *c, int ddir, const char *name, const struct stat *st)
{
	struct timespec t[2];

	times_of(t, st);
	if (mknodat(ddir, name, S_IFCHR | 0000, makedev(0, 0)) < 0 ||
	    utimensat(ddir, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_fail(c, "whiteout");
	c->st->files++;
	return 0;
}

/* overlayfs marks a directory that hides the lower layers' one as opaque;
 * without the mark the copy would show them again. */
static int copy_opaque(copy_ctx *c, int s, int d)
{
	static const char *const names[] = { "user.overlay.opaque", "trusted.overlay.opaque" };

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		char v[8];
		ssize_t n = fgetxattr(s, names[i], v, sizeof(v));

		if (n < 0)
			continue; /* none, or not ours to read */
		if (fsetxattr(d, names[i], v, (size_t)n, 0) < 0 && !(i == 1 && errno == EPERM))
			return copy_fail(c, names[i]);
	}
	return 0;
}

static int copy_entries(copy_ctx *c, int sdir, int ddir, int depth);

static int copy_dir(copy_ctx *c, int sdir, int ddir, const char *name, int depth)
{
	struct timespec t[2];
	struct stat st;
	int s, d, rc;

	if (depth > COPY_DEPTH) {
		c->st->skipped++;
		return 0;
	}
	s = wd_beneath__open_dir(sdir, name);
	if (s < 0 && (errno == ENOENT || unreadable(errno))) {
		c->st->skipped += errno != ENOENT;
		return 0;
	}
	if (s < 0)
		return copy_fail(c, "open");
	if (fstat(s, &st) < 0) {
		rc = copy_fail(c, "stat");
		close(s);
		return rc;
	}
	/* 0700 until filled: the source's mode may not let warden write */
	if (mkdirat(ddir, name, 0700) < 0 || (d = wd_beneath__open_dir(ddir, name)) < 0) {
		rc = copy_fail(c, "mkdir");
		close(s);
		return rc;
	}
	rc = copy_opaque(c, s, d);
	if (!rc)
		rc = copy_entries(c, s, d, depth); /* takes s */
	else
		close(s);
	times_of(t, &st);
	/* after the entries, whose creation moved the mtime */
	if (!rc && (fchmod(d, st.st_mode & 01777) < 0 || futimens(d, t) < 0))
		rc = copy_fail(c, "set mode and times");
	close(d);
	if (!rc)
		c->st->dirs++;
	return rc;
}

static int copy_one(copy_ctx *c, int sdir, int ddir, const char *name, int depth)
{
	struct stat st;

	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return copy_fail(c, "stat");
	}
	if (S_ISDIR(st.st_mode))
		return copy_dir(c, sdir, ddir, name, depth + 1);
	if (S_ISREG(st.st_mode))
		return copy_file(c, sdir, ddir, name);
	if (S_ISLNK(st.st_mode))
		return copy_link(c, sdir, ddir, name, &st);
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		return copy_whiteout(c, ddir, name, &st);
	c->st->skipped++; /* FIFO, socket, device: never opened */
	return 0;
}

/* Copy the entries of the source directory `sdir` (open for reading; this
 * closes it) into `ddir`. Two descriptors per level, 512 at the deepest. */
static int copy_entries(copy_ctx *c, int sdir, int ddir, int depth)
{
	struct dirent *e;
	int rc = 0;
	DIR *d;

	if (!(d = fdopendir(sdir))) {
		rc = copy_fail(c, "list");
		close(sdir);
		return rc;
	}
	sdir = dirfd(d);
	while (!rc) {
		size_t mark = c->path.len;

		errno = 0;
		if (!(e = readdir(d))) {
			if (errno)
				rc = copy_fail(c, "list");
			break;
		}
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((mark && wd_buf_putc(&c->path, '/')) || wd_buf_puts(&c->path, e->d_name))
			rc = wd_error_set(WD_ENOMEM, "copy: out of memory");
		else
			rc = copy_one(c, sdir, ddir, e->d_name, depth);
		wd_buf_truncate(&c->path, mark);
	}
	closedir(d);
	return rc;
}

int wd_beneath_copy(wd_copy_stats *st, int src_root, int dst_root)
{
	wd_copy_stats local = { 0 };
	copy_ctx c;
	int s, rc;

	memset(&c, 0, sizeof(c));
	c.st = st ? st : &local;
	memset(c.st, 0, sizeof(*c.st));
	if (!(c.buf = malloc(COPY_CHUNK)))
		return wd_error_set(WD_ENOMEM, "copy: out of memory");
	if ((s = wd_beneath__open_dir(src_root, ".")) < 0) {
		free(c.buf);
		return wd_error_errno(WD_EINFRA, "copy: opening the source root");
	}
	rc = copy_entries(&c, s, dst_root, 0); /* takes s */
	wd_buf_free(&c.path);
	free(c.buf);
	return rc;
}
