/*
 * Namespace set-up, run in the child right after it was cloned into new
 * user, mount, pid, network, ipc and uts namespaces (child code: system
 * calls only).
 *
 * The file system the command sees: the host root, recursively read-only;
 * the work tree (and any extra writable path) writable at its own path; a
 * private tmpfs on /tmp; a fresh /proc for the new pid namespace; a minimal
 * /dev of bind-mounted null, zero, full, random, urandom and tty, a private
 * /dev/shm and /dev/pts; /run hidden; and the secret paths masked by empty
 * read-only mounts.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbx.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static int write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(data);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, data, len);
	if (n < 0) {
		int e = errno;

		close(fd);
		return e;
	}
	close(fd);
	return (size_t)n == len ? 0 : EIO;
}

int sbx_ns_setup_ids(const sbx_plan *p, const char **why)
{
	char map[64], n[24];

	/* the invoking uid and gid are mapped to themselves: files the command
	 * creates in the work tree belong to the user who ran warden */
	sbx_utoa(n, sizeof(n), (unsigned long)p->uid);
	sbx_strlcpy(map, n, sizeof(map));
	sbx_strlcat(map, " ", sizeof(map));
	sbx_strlcat(map, n, sizeof(map));
	sbx_strlcat(map, " 1\n", sizeof(map));
	if (write_file("/proc/self/uid_map", map) != 0) {
		*why = "cannot write /proc/self/uid_map";
		return -1;
	}
	if (write_file("/proc/self/setgroups", "deny") != 0) {
		*why = "cannot write /proc/self/setgroups";
		return -1;
	}
	sbx_utoa(n, sizeof(n), (unsigned long)p->gid);
	sbx_strlcpy(map, n, sizeof(map));
	sbx_strlcat(map, " ", sizeof(map));
	sbx_strlcat(map, n, sizeof(map));
	sbx_strlcat(map, " 1\n", sizeof(map));
	if (write_file("/proc/self/gid_map", map) != 0) {
		*why = "cannot write /proc/self/gid_map";
		return -1;
	}
	return 0;
}

int sbx_ns_setup_net(const sbx_plan *p, const char **why)
{
	struct ifreq ifr;
	int fd;

	if (p->net != WD_NET_LOOPBACK)
		return 0;  /* a fresh network namespace: loopback exists but is down */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = "cannot open a socket to raise loopback";
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	sbx_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
		close(fd);
		*why = "cannot bring loopback up";
		return -1;
	}
	close(fd);
	return 0;
}

/* mkdir -p inside the child, with a fixed-size buffer. */
static int mkdirs(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t len = sbx_strlcpy(tmp, path, sizeof(tmp));

	if (len >= sizeof(tmp))
		return ENAMETOOLONG;
	for (char *s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return errno;
		*s = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return errno;
	return 0;
}

static int clone_tree(const char *path, int recursive)
{
	return open_tree(AT_FDCWD, path,
	                 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
}

static int set_attr(int fd, const char *path, unsigned flags, uint64_t set, uint64_t clr)
{
	struct mount_attr a;

	memset(&a, 0, sizeof(a));
	a.attr_set = set;
	a.attr_clr = clr;
	return mount_setattr(fd, path, flags, &a, sizeof(a));
}

/* Attach a detached tree at `path`, creating the mount point (in the
 * private /tmp, or an existing path elsewhere). */
static int attach(int fd, const char *path, int is_dir)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		char parent[4096];
		char *slash;

		sbx_strlcpy(parent, path, sizeof(parent));
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			if (mkdirs(parent, 0755) != 0)
				return -1;
		}
		if (is_dir) {
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return -1;
		} else {
			int f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

			if (f < 0)
				return -1;
			close(f);
		}
	}
	return move_mount(fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH);
}

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
#define NDEV (sizeof(dev_nodes) / sizeof(dev_nodes[0]))

static int setup_dev(const char **why)
{
	int fds[NDEV];
	char path[64];
	int rc = -1;

	for (size_t i = 0; i < NDEV; i++) {
		sbx_strlcpy(path, "/dev/", sizeof(path));
		sbx_strlcat(path, dev_nodes[i], sizeof(path));
		fds[i] = clone_tree(path, 0);
	}
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0) {
		*why = "cannot mount a tmpfs on /dev";
		goto out;
	}
	for (size_t i = 0; i < NDEV; i++) {
		if (fds[i] < 0)
			continue;  /* the host lacks it (a container without a tty) */
		sbx_strlcpy(path, "/dev/", sizeof(path));
		sbx_strlcat(path, dev_nodes[i], sizeof(path));
		if (attach(fds[i], path, 0) < 0) {
			*why = "cannot bind a device into /dev";
			goto out;
		}
	}
	if (symlink("/proc/self/fd", "/dev/fd") < 0 || symlink("/proc/self/fd/0", "/dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", "/dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", "/dev/stderr") < 0 || mkdir("/dev/shm", 01777) < 0 ||
	    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0) {
		*why = "cannot populate /dev";
		goto out;
	}
	/* a private pty instance, for test suites that need a terminal; not a
	 * security layer, so a kernel that refuses it only loses ptys */
	if (mkdir("/dev/pts", 0755) == 0 &&
	    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	          "newinstance,ptmxmode=0666,mode=0620") == 0)
		symlink("pts/ptmx", "/dev/ptmx");
	if (set_attr(AT_FDCWD, "/dev", 0, MOUNT_ATTR_RDONLY, 0) < 0) {
		*why = "cannot make /dev read-only";
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < NDEV; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

static int path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strncmp(path, dir, n) != 0)
		return 0;
	return path[n] == '\0' || path[n] == '/' || (n == 1 && dir[0] == '/');
}

static int mask_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -1;
	if (S_ISDIR(st.st_mode))
		return mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		             "mode=000,size=4k");
	if (S_ISLNK(st.st_mode))
		return 0;  /* resolved by the parent: the target is masked itself */
	return mount("/dev/null", path, NULL, MS_BIND, NULL);
}

static int mask_run(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;  /* missing, or /var/run -> /run */
	return mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=1m");
}

int sbx_make_private_tmp(const sbx_plan *p)
{
	char path[4096];

	if (mkdirs(p->host_tmp, 0700) != 0)
		return -1;
	sbx_strlcpy(path, p->host_tmp, sizeof(path));
	sbx_strlcat(path, "/home", sizeof(path));
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	sbx_strlcpy(path, p->host_tmp, sizeof(path));
	sbx_strlcat(path, "/tmp", sizeof(path));
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int sbx_ns_setup_mounts(const sbx_plan *p, const char **why)
{
	int work = -1, extra[SBX_MAX_PATHS], rd[SBX_MAX_PATHS];
	char opts[64], n[24];
	int rc = -1;

	for (size_t i = 0; i < SBX_MAX_PATHS; i++)
		extra[i] = rd[i] = -1;
	/* nothing mounted here may leak back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		*why = "cannot make the mounts private";
		return -1;
	}
	/* take copies of the writable trees before the root turns read-only */
	work = clone_tree(p->workdir, 1);
	if (work < 0) {
		*why = "cannot bind the work tree (open_tree)";
		goto out;
	}
	for (size_t i = 0; i < p->nallow_write; i++)
		extra[i] = clone_tree(p->allow_write[i], 1);
	for (size_t i = 0; i < p->nallow_read; i++)
		if (path_under(p->allow_read[i], "/tmp"))
			rd[i] = clone_tree(p->allow_read[i], 1);

	if (set_attr(AT_FDCWD, "/", AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0) < 0) {
		*why = "cannot make the host root read-only (mount_setattr)";
		goto out;
	}
	sbx_strlcpy(opts, "mode=1777,size=", sizeof(opts));
	sbx_utoa(n, sizeof(n), p->tmpfs_mb ? p->tmpfs_mb : 1024);
	sbx_strlcat(opts, n, sizeof(opts));
	sbx_strlcat(opts, "m", sizeof(opts));
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
		*why = "cannot mount a private tmpfs on /tmp";
		goto out;
	}
	if (setup_dev(why) < 0)
		goto out;
	/* /run holds the host's service sockets (docker, dbus, postgres) and the
	 * user's agents (/run/user/UID: ssh-agent, gpg-agent, session bus);
	 * connecting to a socket needs no write access, so hide them all */
	if (mask_run("/run") < 0 || mask_run("/var/run") < 0) {
		*why = "cannot hide /run";
		goto out;
	}
	if (attach(work, p->workdir, 1) < 0) {
		*why = "cannot mount the work tree writable";
		goto out;
	}
	for (size_t i = 0; i < p->nallow_write; i++) {
		if (extra[i] < 0)
			continue;  /* a missing extra path is not an error */
		if (attach(extra[i], p->allow_write[i], 1) < 0) {
			*why = "cannot mount an extra writable path";
			goto out;
		}
	}
	for (size_t i = 0; i < p->nallow_read; i++) {
		if (rd[i] < 0)
			continue;
		if (set_attr(rd[i], "", AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0) < 0 ||
		    attach(rd[i], p->allow_read[i], 1) < 0) {
			*why = "cannot mount an extra readable path";
			goto out;
		}
	}
	for (size_t i = 0; i < p->ndeny; i++) {
		if (mask_path(p->deny[i]) < 0) {
			*why = "cannot mask a secret path";
			goto out;
		}
	}
	if (sbx_make_private_tmp(p) != 0) {
		*why = "cannot create the private home in /tmp";
		goto out;
	}
	rc = 0;
out:
	if (work >= 0)
		close(work);
	for (size_t i = 0; i < SBX_MAX_PATHS; i++) {
		if (extra[i] >= 0)
			close(extra[i]);
		if (rd[i] >= 0)
			close(rd[i]);
	}
	return rc;
}

/* Bind `path` onto itself read-only (a missing path is fine). */
static int make_ro(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return set_attr(AT_FDCWD, path, AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0);
}

int sbx_ns_setup_proc(const sbx_plan *p, const char **why)
{
	(void)p;
	/* a proc that shows only this pid namespace */
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		*why = "cannot mount a fresh /proc";
		return -1;
	}
	/* kernel knobs stay read-only even for a root-mapped command without
	 * Landlock (uid 0 passes the owner check on most of /proc/sys) */
	if (make_ro("/proc/sys") < 0 || make_ro("/proc/sysrq-trigger") < 0 ||
	    make_ro("/proc/irq") < 0 || make_ro("/proc/bus") < 0) {
		*why = "cannot make /proc/sys read-only";
		return -1;
	}
	return 0;
}
