/*
 * Resolution beneath a trusted root, and the calls that read, describe,
 * replace or remove one entry of a hostile tree (the contract is in
 * warden/beneath.h).
 *
 * Every path starts at the root's descriptor. The directories on the way
 * are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS) where the kernel has it, else one
 * openat(O_PATH | O_DIRECTORY | O_NOFOLLOW) per component; both refuse a
 * symbolic link anywhere, and `rel` never holds "..", so neither can leave
 * the root. The last component is looked at with fstatat(AT_SYMLINK_NOFOLLOW)
 * before anything opens it, so a FIFO or a device is never opened, and
 * whatever is opened is fstat'ed again. Removing a tree is beneath_rm.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "warden/beneath.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "beneath_int.h"

#define READ_DEFAULT_MAX ((size_t)64 << 20)
#define READ_CHUNK 65536
#define RESOLVE_FLAGS (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define TMP_TRIES 8


static atomic_int force_walk;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int have_openat2;

static void probe_openat2(void)
{
#ifdef SYS_openat2
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	/* missing (ENOSYS) or filtered (a seccomp policy's EPERM) alike */
	fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
	if (fd >= 0) {
		close((int)fd);
		have_openat2 = 1;
	}
#endif
}

void wd_beneath__force_walk(int on)
{
	atomic_store(&force_walk, on);
}

static int use_openat2(void)
{
	pthread_once(&probe_once, probe_openat2);
	return have_openat2 && !atomic_load(&force_walk);
}

/* The directory `dir` (well-formed, relative) beneath `root`, as O_PATH. */
static int openat2_dir(int root, const char *dir)
{
#ifdef SYS_openat2
	struct open_how how;
	long fd;
	int tries = 0;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	how.resolve = RESOLVE_FLAGS;
	do /* EAGAIN: a rename or mount raced the lookup; it is safe to retry */
		fd = syscall(SYS_openat2, root, dir, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 8);
	return (int)fd;
#else
	(void)root;
	(void)dir;
	errno = ENOSYS;
	return -1;
#endif
}

int wd_beneath__check_rel(const char *rel)
{
	const char *s = rel;
	size_t len;

	if (!rel || !*rel)
		return wd_error_set(WD_EINPUT, "empty path");
	len = strnlen(rel, PATH_MAX);
	if (len >= PATH_MAX)
		return wd_error_set(WD_EINPUT, "%.80s...: path longer than %d bytes", rel, PATH_MAX - 1);
	if (*rel == '/')
		return wd_error_set(WD_EINPUT, "%s: absolute path", rel);
	for (;;) {
		size_t n = strcspn(s, "/");

		if (n == 0)
			return wd_error_set(WD_EINPUT, "%s: empty path component", rel);
		if (n > NAME_MAX)
			return wd_error_set(WD_EINPUT, "%s: a component longer than %d bytes", rel,
			                    NAME_MAX);
		if (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')))
			return wd_error_set(WD_EINPUT, "%s: '.' or '..' component", rel);
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

static int resolve_error(int e, const char *rel)
{
	switch (e) {
	case ELOOP:
		return wd_error_set(WD_EREFUSED, "%s: a symbolic link on the way", rel);
	case EXDEV:
		return wd_error_set(WD_EREFUSED, "%s: leaves the root", rel);
	case ENOENT:
	case ENOTDIR:
		return wd_error_set(WD_ENOTFOUND, "%s: no such file", rel);
	case ENOMEM:
		return wd_error_set(WD_ENOMEM, "%s: out of memory", rel);
	default:
		return wd_error_set(WD_EINFRA, "%s: %s", rel, strerror(e));
	}
}

static int is_symlink(int dir, const char *name)
{
	struct stat st;

	return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

/* Make `name` in `parent` a directory and return it as O_PATH: a new one
 * gets exactly `mode`; an existing directory is kept (and given `mode` when
 * `set_existing`); anything else there is unlinked first. -1 with errno. */
static int make_dir(int parent, const char *name, mode_t mode, int set_existing)
{
	for (int tries = 0; tries < 4; tries++) {
		int made = mkdirat(parent, name, 0700) == 0, fd;

		if (!made && errno != EEXIST)
			return -1;
		fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			if ((made || set_existing) && wd_beneath__set_mode(fd, parent, name, mode) < 0) {
				int e = errno;

				close(fd);
				errno = e;
				return -1;
			}
			return fd;
		}
		if (errno == ENOENT)
			continue;
		if (errno != ENOTDIR && errno != ELOOP)
			return -1;
		/* a symbolic link, a file, a FIFO: unlinked, never opened or followed */
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}

/*
 * Open the directory `dir` ("a/b", well-formed) beneath `root` by walking
 * it one component at a time, never following a symbolic link. With
 * `create`, a missing component is made (0755) and one that is not a
 * directory is replaced by one. `rel` is for messages.
 */
static int walk(int *out, int root, char *dir, int create, const char *rel)
{
	int cur = fcntl(root, F_DUPFD_CLOEXEC, 0);
	char *s = dir;

	if (cur < 0)
		return resolve_error(errno, rel);
	for (;;) {
		char *slash = strchr(s, '/');
		int fd, e;

		if (slash)
			*slash = '\0';
		fd = openat(cur, s, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		e = errno;
		if (fd < 0 && create && (e == ENOENT || e == ENOTDIR || e == ELOOP)) {
			fd = make_dir(cur, s, 0755, 0);
			e = errno;
		} else if (fd < 0 && e == ENOTDIR && is_symlink(cur, s)) {
			e = ELOOP; /* O_DIRECTORY says ENOTDIR for a link; it is the link we refuse */
		}
		close(cur);
		if (fd < 0)
			return resolve_error(e, rel);
		cur = fd;
		if (!slash)
			break;
		*slash = '/';
		s = slash + 1;
	}
	*out = cur;
	return 0;
}

/*
 * Open the directory that holds `rel`'s last component (which *leaf then
 * points at), resolved beneath `root`. With `create`, missing or non-directory
 * parents are made into directories. Checks `rel` first.
 */
static int open_parent(int *out, int root, const char *rel, const char **leaf, int create)
{
	char dir[PATH_MAX];
	const char *slash;
	int rc, fd;

	*out = -1;
	if ((rc = wd_beneath__check_rel(rel)) != 0)
		return rc;
	slash = strrchr(rel, '/');
	*leaf = slash ? slash + 1 : rel;
	if (!slash) {
		if ((*out = fcntl(root, F_DUPFD_CLOEXEC, 0)) < 0)
			return resolve_error(errno, rel);
		return 0;
	}
	memcpy(dir, rel, (size_t)(slash - rel));
	dir[slash - rel] = '\0';
	if (use_openat2()) {
		fd = openat2_dir(root, dir);
		if (fd >= 0) {
			*out = fd;
			return 0;
		}
		/* a missing or wrong parent is what the walk below replaces */
		if (!create || (errno != ENOENT && errno != ENOTDIR && errno != ELOOP))
			return resolve_error(errno, rel);
	}
	return walk(out, root, dir, create, rel);
}

int wd_root_open(int *out_fd, const char *path)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	*out_fd = -1;
	if (fd < 0) {
		if (errno == ENOENT)
			return wd_error_set(WD_ENOTFOUND, "%s: no such directory", path);
		return wd_error_set(WD_EINFRA, "%s: %s", path, strerror(errno));
	}
	*out_fd = fd;
	return 0;
}

int wd_beneath__open_dir(int parent, const char *name)
{
	return openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

static const char *kind_name(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file";
}

/* Read the open regular file `fd` (st_size `size`) into `out`, at most `max` bytes. */
static int read_capped(wd_buf *out, int fd, off_t size, size_t max, const char *rel)
{
	size_t total = 0;

	if (size > 0 && (uint64_t)size > max)
		return wd_error_set(WD_EINPUT, "%s: larger than %zu bytes", rel, max);
	if (wd_buf_grow(out, (size_t)size) != 0)
		return WD_ENOMEM;
	for (;;) {
		/* ask for one byte past max, so that a file grown since fstat is caught */
		size_t want = max + 1 - total;
		ssize_t n;

		if (want > READ_CHUNK)
			want = READ_CHUNK;
		if (wd_buf_grow(out, want) != 0)
			return WD_ENOMEM;
		n = read(fd, out->ptr + out->len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wd_error_set(WD_EINFRA, "%s: %s", rel, strerror(errno));
		if (n == 0)
			return 0;
		total += (size_t)n;
		if (total > max)
			return wd_error_set(WD_EINPUT, "%s: larger than %zu bytes", rel, max);
		out->len += (size_t)n;
		out->ptr[out->len] = '\0';
	}
}

int wd_beneath_read(wd_buf *out, int root, const char *rel, size_t max)
{
	const char *leaf;
	struct stat st;
	size_t start = out->len;
	int dir, fd = -1, rc;

	if ((rc = open_parent(&dir, root, rel, &leaf, 0)) != 0)
		return rc;
	if (!max)
		max = READ_DEFAULT_MAX;
	if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = resolve_error(errno, rel);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = wd_error_set(WD_EREFUSED, "%s: %s, not a regular file", rel, kind_name(st.st_mode));
		goto out;
	}
	fd = openat(dir, leaf, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		rc = resolve_error(errno, rel);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = wd_error_set(WD_EINFRA, "%s: %s", rel, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = wd_error_set(WD_EREFUSED, "%s: %s, not a regular file", rel, kind_name(st.st_mode));
		goto out;
	}
	rc = read_capped(out, fd, st.st_size, max, rel);
out:
	if (fd >= 0)
		close(fd);
	close(dir);
	if (rc)
		wd_buf_truncate(out, start);
	else if (!out->ptr)
		rc = wd_buf_grow(out, 0);
	return rc;
}

int wd_beneath_lstat(struct stat *st, int root, const char *rel)
{
	const char *leaf;
	int dir, rc;

	if ((rc = open_parent(&dir, root, rel, &leaf, 0)) != 0)
		return rc;
	if (fstatat(dir, leaf, st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = resolve_error(errno, rel);
	close(dir);
	return rc;
}

int wd_beneath_readlink(wd_buf *out, int root, const char *rel)
{
	char target[PATH_MAX];
	const char *leaf;
	ssize_t n;
	int dir, rc;

	if ((rc = open_parent(&dir, root, rel, &leaf, 0)) != 0)
		return rc;
	n = readlinkat(dir, leaf, target, sizeof(target));
	if (n < 0)
		rc = errno == EINVAL ? wd_error_set(WD_EINPUT, "%s: not a symbolic link", rel)
		                     : resolve_error(errno, rel);
	else if ((size_t)n >= sizeof(target))
		rc = wd_error_set(WD_EINPUT, "%s: link target too long", rel);
	else
		rc = wd_buf_put(out, target, (size_t)n);
	close(dir);
	return rc;
}

/* ------------------------------------------------------------ replacing */

static int check_mode(unsigned mode, const char *rel)
{
	if (mode & 07000)
		return wd_error_set(WD_EREFUSED, "%s: mode %04o: setuid, setgid or sticky bit", rel,
		                    mode & 07777);
	return 0;
}

/* How one kind of entry is made under a temporary name: 0 or -1 with errno
 * (EEXIST: try another name). */
typedef int (*make_fn)(int dir, const char *tmp, const void *arg);

struct file_arg {
	const void *data;
	size_t len;
	mode_t mode;
};

static int make_file(int dir, const char *tmp, const void *arg)
{
	const struct file_arg *a = arg;
	int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int e;

	if (fd < 0)
		return -1;
	if (wd_write_all(fd, a->data, a->len) == 0 && fchmod(fd, a->mode) == 0) {
		if (close(fd) == 0)
			return 0;
		e = errno;
	} else {
		e = errno;
		close(fd);
	}
	unlinkat(dir, tmp, 0);
	errno = e == EEXIST ? EIO : e; /* EEXIST means "another name" to the caller */
	return -1;
}

static int make_symlink(int dir, const char *tmp, const void *arg)
{
	return symlinkat((const char *)arg, dir, tmp);
}

static int make_whiteout(int dir, const char *tmp, const void *arg)
{
	(void)arg;
	return mknodat(dir, tmp, S_IFCHR | 0000, makedev(0, 0));
}

/* Rename `tmp` over `leaf`; a directory there (rename will not replace one
 * with a non-directory) is removed first. */
static int place(int dir, const char *tmp, const char *leaf)
{
	for (int tries = 0; tries < 4; tries++) {
		if (renameat(dir, tmp, dir, leaf) == 0)
			return 0;
		if (errno != EISDIR && errno != ENOTEMPTY && errno != EEXIST)
			return -1;
		if (wd_beneath__remove_at(dir, leaf, NULL) < 0)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}

static int replace_with(int root, const char *rel, make_fn make, const void *arg)
{
	char tmp[24], rnd[17];
	const char *leaf;
	int dir, rc, made = -1;

	if ((rc = open_parent(&dir, root, rel, &leaf, 1)) != 0)
		return rc;
	for (int tries = 0; tries < TMP_TRIES && made < 0; tries++) {
		if ((rc = wd_random_hex(rnd, 8)) != 0)
			goto out;
		snprintf(tmp, sizeof(tmp), ".wd-%s", rnd);
		made = make(dir, tmp, arg);
		if (made < 0 && errno != EEXIST)
			break;
	}
	if (made < 0) {
		rc = wd_error_set(WD_EINFRA, "%s: %s", rel, strerror(errno));
		goto out;
	}
	if (place(dir, tmp, leaf) < 0) {
		rc = wd_error_set(WD_EINFRA, "%s: %s", rel, strerror(errno));
		unlinkat(dir, tmp, 0);
	}
out:
	close(dir);
	return rc;
}

int wd_beneath_write(int root, const char *rel, const void *data, size_t len, unsigned mode)
{
	struct file_arg a;
	int rc;

	if ((rc = check_mode(mode, rel)) != 0)
		return rc;
	a.data = data;
	a.len = len;
	a.mode = (mode_t)(mode & 0777);
	return replace_with(root, rel, make_file, &a);
}

int wd_beneath_symlink(int root, const char *rel, const char *target)
{
	if (!target || !*target || strnlen(target, PATH_MAX) >= PATH_MAX)
		return wd_error_set(WD_EINPUT, "%s: empty or overlong link target", rel ? rel : "");
	return replace_with(root, rel, make_symlink, target);
}

int wd_beneath_whiteout(int root, const char *rel)
{
	return replace_with(root, rel, make_whiteout, NULL);
}

int wd_beneath_mkdir(int root, const char *rel, unsigned mode)
{
	const char *leaf;
	int dir, fd, rc;

	if ((rc = check_mode(mode, rel)) != 0 || (rc = open_parent(&dir, root, rel, &leaf, 1)) != 0)
		return rc;
	fd = make_dir(dir, leaf, (mode_t)(mode & 0777), 1);
	if (fd < 0)
		rc = wd_error_set(WD_EINFRA, "%s: %s", rel, strerror(errno));
	else
		close(fd);
	close(dir);
	return rc;
}

/* ------------------------------------------------------------- removing */

int wd_beneath_remove(int root, const char *rel)
{
	char failed[PATH_MAX];
	const char *leaf;
	int dir, rc;

	rc = open_parent(&dir, root, rel, &leaf, 0);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	if (wd_beneath__remove_at(dir, leaf, failed) < 0)
		rc = wd_error_set(WD_EINFRA, "%s: cannot remove %s: %s", rel, failed, strerror(errno));
	close(dir);
	return rc;
}
