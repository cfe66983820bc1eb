/*
 * Namespace set-up, run in the child right after it was cloned into new
 * user, mount, pid, network, ipc and uts namespaces (child code: system
 * calls only).
 *
 * The file system the command sees is built from nothing: a small tmpfs
 * becomes the root (pivot_root), the host's root stays reachable beneath
 * OLD_ROOT while the parent's plan of mounts is carried out (view.c: the
 * system roots read-only, /sys, private /tmp and /var/tmp, the allowed
 * paths, the masks, the work tree or the overlay last), then a minimal /dev
 * and a fresh /proc are added, the host's root is detached, and the new
 * root, /dev and the masks turn read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* "ID ID 1": the one id mapped to itself, written to a uid_map or gid_map. */
static int write_id_map(const char *path, unsigned long id)
{
	char map[64], n[24];

	sbx_utoa(n, sizeof(n), id);
	sbx_strlcpy(map, n, sizeof(map));
	sbx_strlcat(map, " ", sizeof(map));
	sbx_strlcat(map, n, sizeof(map));
	sbx_strlcat(map, " 1\n", sizeof(map));
	return write_file(path, map);
}

int sbx_ns_setup_ids(const sbx_plan *p, const char **why)
{
	/* the invoking uid and gid are mapped to themselves: files the command
	 * creates in the work tree belong to the user who ran warden */
	if (write_id_map("/proc/self/uid_map", (unsigned long)p->uid) != 0) {
		*why = "cannot write /proc/self/uid_map";
		return -1;
	}
	if (write_file("/proc/self/setgroups", "deny") != 0) {
		*why = "cannot write /proc/self/setgroups";
		return -1;
	}
	if (write_id_map("/proc/self/gid_map", (unsigned long)p->gid) != 0) {
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

/* Where the host's root stays while the new one is built. */
#define OLD_ROOT "/.warden-host-root"

/* Why something failed, for the report: "WHAT PATH (ENAME)". The child is a
 * single-threaded copy of warden, so a static buffer is its own. */
static char why_buf[192];

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ELOOP: return "ELOOP";
	case ENOSYS: return "ENOSYS";
	case EXDEV: return "EXDEV";
	default: return "errno";
	}
}

static const char *failed(const char *what, const char *path)
{
	int e = errno;
	char n[16];

	sbx_strlcpy(why_buf, what, sizeof(why_buf));
	if (path) {
		sbx_strlcat(why_buf, " ", sizeof(why_buf));
		sbx_strlcat(why_buf, path, sizeof(why_buf));
	}
	sbx_strlcat(why_buf, " (", sizeof(why_buf));
	sbx_strlcat(why_buf, errname(e), sizeof(why_buf));
	if (!strcmp(errname(e), "errno")) {
		sbx_utoa(n, sizeof(n), (unsigned long)e);
		sbx_strlcat(why_buf, " ", sizeof(why_buf));
		sbx_strlcat(why_buf, n, sizeof(why_buf));
	}
	sbx_strlcat(why_buf, ")", sizeof(why_buf));
	return why_buf;
}

/* mkdir -p inside the child, with a fixed-size buffer. */
static int mkdirs(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t len = sbx_strlcpy(tmp, path, sizeof(tmp));
	struct stat st;

	if (len >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (stat(tmp, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
	for (char *s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* An empty directory or file to mount on, unless something is there. */
static int make_mount_point(const char *path, int is_dir)
{
	char parent[4096];
	struct stat st;
	char *slash;
	int f;

	if (lstat(path, &st) == 0)
		return 0;
	if (is_dir)
		return mkdirs(path, 0755);
	sbx_strlcpy(parent, path, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdirs(parent, 0755) < 0)
			return -1;
	}
	f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (f < 0)
		return -1;
	close(f);
	return 0;
}

static int set_attr(int fd, const char *path, unsigned flags, uint64_t set, uint64_t clr)
{
	struct mount_attr a;

	memset(&a, 0, sizeof(a));
	a.attr_set = set;
	a.attr_clr = clr;
	return mount_setattr(fd, path, flags, &a, sizeof(a));
}

/* Attach a detached tree at `path`, creating the mount point. */
static int attach(int fd, const char *path, int is_dir)
{
	if (make_mount_point(path, is_dir) < 0)
		return -1;
	return move_mount(fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH);
}

/* The host's `path` (reached beneath OLD_ROOT) at `path` in the new root,
 * with its submounts, and `attrs` set on all of them. A path that has
 * vanished since the parent planned is skipped. */
static int bind_host(const char *host, const char *path, int is_dir, uint64_t attrs)
{
	char src[4096];
	int fd, rc;

	sbx_strlcpy(src, OLD_ROOT, sizeof(src));
	if (sbx_strlcat(src, host, sizeof(src)) >= sizeof(src)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	rc = set_attr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, attrs, 0);
	if (rc == 0)
		rc = attach(fd, path, is_dir);
	close(fd);
	return rc;
}

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
#define NDEV (sizeof(dev_nodes) / sizeof(dev_nodes[0]))

static int setup_dev(const char **why)
{
	char path[64];

	if (mkdir("/dev", 0755) < 0 ||
	    mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0) {
		*why = failed("cannot mount a tmpfs on", "/dev");
		return -1;
	}
	for (size_t i = 0; i < NDEV; i++) {
		sbx_strlcpy(path, "/dev/", sizeof(path));
		sbx_strlcat(path, dev_nodes[i], sizeof(path));
		/* a node the host lacks (a container without a tty) is skipped */
		if (bind_host(path, path, 0, 0) < 0) {
			*why = failed("cannot bind", path);
			return -1;
		}
	}
	if (symlink("/proc/self/fd", "/dev/fd") < 0 || symlink("/proc/self/fd/0", "/dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", "/dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", "/dev/stderr") < 0 || mkdir("/dev/shm", 01777) < 0 ||
	    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0) {
		*why = failed("cannot populate", "/dev");
		return -1;
	}
	/* a private pty instance, for test suites that need a terminal; not a
	 * security layer, so a kernel that refuses it only loses ptys */
	if (mkdir("/dev/pts", 0755) == 0 &&
	    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	          "newinstance,ptmxmode=0666,mode=0620") == 0)
		symlink("pts/ptmx", "/dev/ptmx");
	return 0;
}

/* Hide what is visible at `path`: an empty directory, or an empty file.
 * Read-only at once unless later mounts go beneath it (`open_below`: the
 * run's tree inside a denied cache, say); then it turns read-only before
 * the work tree is attached, and it can be passed through (mode 0111) but
 * not listed, so that the tree beneath is reachable by its absolute path.
 * 1 when masked, 0 when there was nothing to hide. */
static int mask(const char *path, int open_below)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -1;
	if (S_ISLNK(st.st_mode))
		return 0;  /* resolved by the parent: the target is masked itself */
	if (S_ISDIR(st.st_mode))
		return mount("tmpfs", path, "tmpfs",
		             MS_NOSUID | MS_NODEV | MS_NOEXEC | (open_below ? 0 : MS_RDONLY),
		             open_below ? "mode=0111,size=4k" : "mode=000,size=4k") < 0 ? -1 : 1;
	return mount("/dev/null", path, NULL, MS_BIND, NULL) < 0 ? -1 : 1;
}

static int private_tmpfs(const sbx_plan *p, const char *path)
{
	char opts[64], n[24];

	sbx_strlcpy(opts, "mode=1777,size=", sizeof(opts));
	sbx_utoa(n, sizeof(n), p->tmpfs_mb ? p->tmpfs_mb : 1024);
	sbx_strlcat(opts, n, sizeof(opts));
	sbx_strlcat(opts, "m", sizeof(opts));
	if (mkdirs(path, 0755) < 0)
		return -1;
	return mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts);
}

static int make_link(const char *path, const char *target)
{
	char parent[4096];
	char *slash;

	sbx_strlcpy(parent, path, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdirs(parent, 0755) < 0)
			return -1;
	}
	return symlink(target, path) < 0 && errno != EEXIST ? -1 : 0;
}

/* The masks that stayed writable for mounts beneath them turn read-only. */
static int seal_masks(const sbx_plan *p, const unsigned char *done, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p->ops[i].kind == SBX_OP_MASK && done[i] && p->ops[i].open_below &&
		    set_attr(AT_FDCWD, p->ops[i].path, 0, MOUNT_ATTR_RDONLY, 0) < 0)
			return -1;
	return 0;
}

static int attach_work(const sbx_plan *p, const sbx_op *o, int ovl, const char **why)
{
	int fd = ovl, rc;

	if (ovl < 0) {
		char src[4096];

		sbx_strlcpy(src, OLD_ROOT, sizeof(src));
		sbx_strlcat(src, p->workdir, sizeof(src));
		fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		if (fd < 0 || set_attr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_NOSUID, 0) < 0) {
			*why = failed("cannot bind the work tree", p->workdir);
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	rc = move_mount(fd, "", AT_FDCWD, o->path, MOVE_MOUNT_F_EMPTY_PATH);
	if (rc < 0)
		*why = failed(ovl >= 0 ? "cannot attach the overlay at" : "cannot mount the work tree at",
		              o->path);
	if (ovl < 0)
		close(fd);
	return rc;
}

/* Carry out the parent's plan on the new root. */
static int build_view(const sbx_plan *p, int ovl, const char **why)
{
	unsigned char done[SBX_MAX_OPS];
	size_t work = p->nops;

	memset(done, 0, sizeof(done));
	for (size_t i = 0; i < p->nops; i++) {
		const sbx_op *o = &p->ops[i];
		int r = 0;

		switch (o->kind) {
		case SBX_OP_BIND_RO:
			if (bind_host(o->path, o->path, o->is_dir, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID) < 0) {
				*why = failed("cannot bind read-only", o->path);
				return -1;
			}
			break;
		case SBX_OP_BIND_RW:
			if (bind_host(o->path, o->path, o->is_dir, MOUNT_ATTR_NOSUID) < 0) {
				*why = failed("cannot bind writable", o->path);
				return -1;
			}
			break;
		case SBX_OP_LINK:
			if (make_link(o->path, o->target) < 0) {
				*why = failed("cannot make the link", o->path);
				return -1;
			}
			break;
		case SBX_OP_TMPFS:
			if (private_tmpfs(p, o->path) < 0) {
				*why = failed("cannot mount a private tmpfs on", o->path);
				return -1;
			}
			break;
		case SBX_OP_MASK:
			r = mask(o->path, o->open_below);
			if (r < 0) {
				*why = failed("cannot mask", o->path);
				return -1;
			}
			done[i] = r == 1;
			break;
		case SBX_OP_WORK:
			work = i;
			if (make_mount_point(o->path, 1) < 0) {
				*why = failed("cannot make the work tree's mount point", o->path);
				return -1;
			}
			if (seal_masks(p, done, 0, i) < 0) {
				*why = failed("cannot make a mask read-only", NULL);
				return -1;
			}
			if (attach_work(p, o, ovl, why) < 0)
				return -1;
			break;
		default:
			break;
		}
	}
	if (seal_masks(p, done, work, p->nops) < 0) {
		*why = failed("cannot make a mask read-only", NULL);
		return -1;
	}
	return 0;
}

/* A small tmpfs becomes the root; the host's stays beneath OLD_ROOT. It is
 * mounted on /tmp, which the new root replaces anyway (and pivot_root moves
 * it away, so the host's /tmp shows again beneath OLD_ROOT). */
static int enter_new_root(const char **why)
{
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=1m") < 0) {
		*why = failed("cannot mount the new root's tmpfs on", "/tmp");
		return -1;
	}
	if (mkdir("/tmp" OLD_ROOT, 0700) < 0 ||
	    syscall(SYS_pivot_root, "/tmp", "/tmp" OLD_ROOT) < 0) {
		*why = failed("cannot enter the new root (pivot_root)", NULL);
		/* nothing changed yet: give the host's /tmp back */
		(void)umount2("/tmp", MNT_DETACH);
		return -1;
	}
	if (chdir("/") < 0) {
		*why = failed("cannot enter the new root", NULL);
		return -2;
	}
	return 0;
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

/* A proc that shows only this pid namespace. The kernel allows it only
 * while a full proc is visible in the mount namespace: the host's, beneath
 * OLD_ROOT, so this comes before that goes. */
static int setup_proc(const char **why)
{
	if (mkdir("/proc", 0555) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		*why = failed("cannot mount a fresh", "/proc");
		return -1;
	}
	/* kernel knobs stay read-only even for a root-mapped command without
	 * Landlock (uid 0 passes the owner check on most of /proc/sys) */
	if (make_ro("/proc/sys") < 0 || make_ro("/proc/sysrq-trigger") < 0 ||
	    make_ro("/proc/irq") < 0 || make_ro("/proc/bus") < 0) {
		*why = failed("cannot make /proc/sys read-only", NULL);
		return -1;
	}
	return 0;
}

int sbx_ns_setup_mounts(const sbx_plan *p, int proc, const char **why, const char **proc_why)
{
	int ovl = -1, rc = -1;

	*proc_why = NULL;
	/* nothing mounted here may leak back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		*why = failed("cannot make the mounts private", NULL);
		return -1;
	}
	/* the overlay's layers are opened by their host paths */
	if (p->ovl_upper && (ovl = sbx_overlay_mount(p, why)) < 0)
		return -1;
	if ((rc = enter_new_root(why)) < 0)
		goto out;
	/* from here on there is no way back to the host's root: a failure
	 * leaves a half-built view, which no policy may run a command in */
	rc = -2;
	if (setup_dev(why) < 0 || build_view(p, ovl, why) < 0)
		goto out;
	if (sbx_make_private_tmp(p) != 0) {
		*why = failed("cannot create the private home in", "/tmp");
		goto out;
	}
	/* a failure here is the pid namespace's to report; the view stands */
	if (proc)
		(void)setup_proc(proc_why);
	if (umount2(OLD_ROOT, MNT_DETACH) < 0 || rmdir(OLD_ROOT) < 0) {
		*why = failed("cannot detach the host's root", NULL);
		goto out;
	}
	if (set_attr(AT_FDCWD, "/dev", 0, MOUNT_ATTR_RDONLY, 0) < 0 ||
	    set_attr(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY, 0) < 0) {
		*why = failed("cannot make the new root read-only", NULL);
		goto out;
	}
	rc = 0;
out:
	if (ovl >= 0)
		close(ovl);
	return rc;
}
