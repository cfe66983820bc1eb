#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "beneath_int.h"

int wd_file_read(wd_buf *out, const char *path, size_t max)
{
	char chunk[65536];
	size_t total = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return wd_error_set(WD_ENOTFOUND, "%s: no such file", path);
		return wd_error_set(WD_EINPUT, "%s: %s", path, strerror(errno));
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = wd_error_set(WD_EINPUT, "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (max && total > max) {
			rc = wd_error_set(WD_EINPUT, "%s: larger than %zu bytes", path, max);
			break;
		}
		if ((rc = wd_buf_put(out, chunk, (size_t)n)) != 0)
			break;
	}
	close(fd);
	if (!rc && !out->ptr)
		rc = wd_buf_grow(out, 0);
	return rc;
}

int wd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int wd_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	wd_buf tmp = WD_BUF_INIT;
	char rnd[17];
	int fd, rc = 0;

	if ((rc = wd_random_hex(rnd, 8)) != 0 ||
	    (rc = wd_buf_printf(&tmp, "%s.tmp-%s", path, rnd)) != 0)
		goto out;
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = wd_error_set(WD_EINFRA, "%s: %s", tmp.ptr, strerror(errno));
		goto out;
	}
	if (wd_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		rc = wd_error_set(WD_EINFRA, "%s: %s", tmp.ptr, strerror(errno));
		close(fd);
		unlink(tmp.ptr);
		goto out;
	}
	close(fd);
	if (rename(tmp.ptr, path) < 0) {
		rc = wd_error_set(WD_EINFRA, "%s: %s", path, strerror(errno));
		unlink(tmp.ptr);
	}
out:
	wd_buf_free(&tmp);
	return rc;
}

int wd_file_append(const char *path, const void *data, size_t len, int sync)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return wd_error_set(WD_EINFRA, "%s: %s", path, strerror(errno));
	if (wd_write_all(fd, data, len) < 0 || wd_write_all(fd, "\n", 1) < 0 ||
	    (sync && fdatasync(fd) < 0))
		rc = wd_error_set(WD_EINFRA, "%s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int wd_mkdir_p(const char *path, int private_dir)
{
	char tmp[PATH_MAX];
	mode_t mode = private_dir ? 0700 : 0755;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return wd_error_set(WD_EINPUT, "bad directory path '%s'", path);
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return wd_error_set(WD_EINFRA, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return wd_error_set(WD_EINFRA, "mkdir %s: %s", tmp, strerror(errno));
	if (!wd_path_is_dir(tmp))
		return wd_error_set(WD_EINFRA, "%s exists and is not a directory", tmp);
	return 0;
}

/* The tree walk is wd_beneath__remove_at's: it never follows a symbolic link,
 * never opens anything but directories, chmods u+rwx the directories that
 * lack it, and holds a bounded number of descriptors at any depth. */
int wd_rm_rf(const char *path)
{
	char buf[PATH_MAX], failed[PATH_MAX];
	const char *name = buf, *parent = ".";
	size_t len = strlen(path);
	char *slash;
	int pfd, rc = 0;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len == 0 || len >= sizeof(buf))
		return wd_error_set(WD_EUSAGE, "rm -rf: bad path '%s'", path);
	memcpy(buf, path, len);
	buf[len] = '\0';
	if ((slash = strrchr(buf, '/')) != NULL) {
		*slash = '\0';
		name = slash + 1;
		parent = slash == buf ? "/" : buf;
	}
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return wd_error_set(WD_EUSAGE, "rm -rf: refusing to remove '%s'", path);
	/* the path up to the last component is the caller's, and trusted */
	pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : wd_error_errno(WD_EINFRA, path);
	if (wd_beneath__remove_at(pfd, name, failed) < 0)
		rc = wd_error_set(WD_EINFRA, "removing %s: %s%s%s", path, failed, *failed ? ": " : "",
		                  strerror(errno));
	close(pfd);
	return rc;
}

int wd_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int wd_path_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int wd_path_rel_inside(const char *rel)
{
	const char *s = rel;

	if (!*rel || *rel == '/')
		return 0;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return 0;
		s += n;
		if (*s == '/')
			s++;
	}
	return 1;
}

int wd_path_join(wd_buf *out, const char *a, const char *b)
{
	size_t alen = strlen(a);

	wd_buf_clear(out);
	if (alen && a[alen - 1] == '/')
		alen--;
	if (wd_buf_put(out, a, alen) || wd_buf_putc(out, '/') || wd_buf_puts(out, b))
		return WD_ENOMEM;
	return 0;
}

char *wd_realpath(const char *path)
{
	char *p = realpath(path, NULL);

	if (!p)
		wd_error_set(errno == ENOENT ? WD_ENOTFOUND : WD_EINPUT, "%s: %s", path, strerror(errno));
	return p;
}

int wd_cache_dir(wd_buf *out)
{
	const char *v;

	wd_buf_clear(out);
	if ((v = getenv("WARDEN_CACHE_DIR")) && *v)
		return wd_buf_puts(out, v);
	if ((v = getenv("XDG_CACHE_HOME")) && *v)
		return wd_buf_printf(out, "%s/warden", v);
	if ((v = getenv("HOME")) && *v)
		return wd_buf_printf(out, "%s/.cache/warden", v);
	return wd_error_set(WD_EUSAGE, "no cache directory: set XDG_CACHE_HOME or HOME, or pass --work-dir");
}

uint64_t wd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void wd_now_iso(char out[32])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
	         (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
	         tm.tm_sec % 100, (int)(ts.tv_nsec / 1000000L) % 1000);
}


int wd_random_hex(char *out, size_t n)
{
	unsigned char raw[64];
	static const char hex[] = "0123456789abcdef";

	if (n > sizeof(raw))
		return wd_error_set(WD_ERROR, "random: %zu bytes is too many", n);
	if (getrandom(raw, n, 0) != (ssize_t)n)
		return wd_error_errno(WD_EINFRA, "getrandom");
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}
