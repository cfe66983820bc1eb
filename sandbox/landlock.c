/*
 * Landlock (child code: system calls only). The ABI is read at run time and
 * every right the kernel knows is handled, so anything not granted below is
 * denied:
 *
 *   - read, list and execute: only beneath the allow-list the mount
 *     namespace shows (view.c): the system roots, /sys, allow_read, the
 *     work tree, the private tmp, /proc and the minimal /dev. Without the
 *     mount namespace this is the only read allow-list, and the masked
 *     paths must be left out of it: Landlock can only grant, so "all of
 *     /etc but /etc/shadow" is built by granting each sibling along the
 *     path down to every masked path, and nothing on the path itself.
 *     Symbolic links are skipped: Landlock judges the resolved file.
 *   - write (create, remove, truncate, ...): the work tree, the private tmp,
 *     the extra writable paths, and the harmless character devices.
 *   - TCP bind and connect (ABI 4+): none when the network is off.
 *   - signals and abstract unix sockets (ABI 6+): only within the sandbox.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sbx.h"

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
#define FS_REMOVE_DIR (1ULL << 4)
#define FS_REMOVE_FILE (1ULL << 5)
#define FS_MAKE_CHAR (1ULL << 6)
#define FS_MAKE_DIR (1ULL << 7)
#define FS_MAKE_REG (1ULL << 8)
#define FS_MAKE_SOCK (1ULL << 9)
#define FS_MAKE_FIFO (1ULL << 10)
#define FS_MAKE_BLOCK (1ULL << 11)
#define FS_MAKE_SYM (1ULL << 12)
#define FS_REFER (1ULL << 13)       /* ABI 2 */
#define FS_TRUNCATE (1ULL << 14)    /* ABI 3 */
#define FS_IOCTL_DEV (1ULL << 15)   /* ABI 5 */
#define NET_BIND_TCP (1ULL << 0)    /* ABI 4 */
#define NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#define SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ULL << 1)        /* ABI 6 */

#define FS_FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)
#define FS_READ (FS_EXECUTE | FS_READ_FILE | FS_READ_DIR)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int sbx_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	return abi < 0 ? -errno : (int)abi;
}

static uint64_t fs_handled(int abi)
{
	uint64_t r = (FS_MAKE_SYM << 1) - 1;  /* ABI 1: bits 0..12 */

	if (abi >= 2)
		r |= FS_REFER;
	if (abi >= 3)
		r |= FS_TRUNCATE;
	if (abi >= 5)
		r |= FS_IOCTL_DEV;
	return r;
}

typedef struct ll_ctx {
	int ruleset;
	uint64_t handled;
	const sbx_plan *plan;
} ll_ctx;

/* Grant `access` beneath `path`; a missing path is not an error. */
static int grant(ll_ctx *c, const char *path, uint64_t access)
{
	struct ll_path_beneath pb;
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return errno == ENOENT || errno == EACCES || errno == ENOTDIR ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	access &= c->handled;
	if (!S_ISDIR(st.st_mode))
		access &= FS_FILE_RIGHTS;
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (access && syscall(SYS_landlock_add_rule, c->ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
		rc = -1;
	close(fd);
	return rc;
}

/* 1 when `path` is a deny path, 2 when it lies on the way to one, else 0 */
static int deny_relation(const sbx_plan *p, const char *path)
{
	size_t n = strlen(path);
	int rel = 0;

	for (size_t i = 0; i < p->ndeny; i++) {
		const char *d = p->deny[i];

		if (!strcmp(d, path))
			return 1;
		if (!strncmp(d, path, n) && (d[n] == '/' || (n == 1 && path[0] == '/')))
			rel = 2;
	}
	return rel;
}

/* Grant `access` beneath `dir` except beneath the deny paths. */
static int grant_except(ll_ctx *c, const char *dir, uint64_t access, int depth)
{
	char buf[8192];
	char path[4096];
	int fd, rc = 0;

	if (depth > 32)
		return 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;  /* unreadable already: nothing to grant */
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *e = (struct linux_dirent64 *)(buf + off);
			int rel;

			off += e->d_reclen;
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (e->d_type == DT_LNK)
				continue;
			sbx_strlcpy(path, dir, sizeof(path));
			if (strcmp(dir, "/") != 0)
				sbx_strlcat(path, "/", sizeof(path));
			if (sbx_strlcat(path, e->d_name, sizeof(path)) >= sizeof(path))
				continue;
			rel = deny_relation(c->plan, path);
			if (rel == 1)
				continue;
			if (rel == 2) {
				if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)
					rc |= grant_except(c, path, access, depth + 1);
				continue;
			}
			if (grant(c, path, access) < 0)
				rc = -1;
		}
	}
	close(fd);
	return rc;
}

static const char *const dev_files[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", NULL
};

/* `access` beneath `path`, minus the deny paths beneath it (needed only
 * without the mount namespace: with it they are masked by mounts). */
static int grant_allowed(ll_ctx *c, const char *path, uint64_t access, int mounted)
{
	int rel = mounted ? 0 : deny_relation(c->plan, path);

	if (rel == 1)
		return 0;
	if (rel == 2)
		return grant(c, path, access & FS_READ_DIR) < 0 ? -1 : grant_except(c, path, access, 0);
	return grant(c, path, access);
}

/* What the view shows (view.c), at the paths the command sees. */
static int grant_view(ll_ctx *c, int mounted, uint64_t all_fs)
{
	const sbx_plan *p = c->plan;

	/* listing the new root: it holds only mount points and links */
	if (mounted && grant(c, "/", FS_READ_DIR) < 0)
		return -1;
	for (size_t i = 0; i < p->nops; i++) {
		const sbx_op *o = &p->ops[i];
		int rc = 0;

		if (o->kind == SBX_OP_BIND_RO)
			rc = grant_allowed(c, o->path, FS_READ, mounted);
		else if (o->kind == SBX_OP_BIND_RW)
			rc = grant_allowed(c, o->path, all_fs, mounted);
		else if (o->kind == SBX_OP_TMPFS && mounted)
			rc = grant(c, o->path, all_fs);
		if (rc < 0)
			return -1;
	}
	/* the work tree (at the path the command sees it) */
	if (grant(c, p->cwd, all_fs) < 0)
		return -1;
	if (grant(c, "/proc", FS_READ) < 0 || grant(c, "/dev", FS_READ_DIR) < 0)
		return -1;
	return 0;
}

int sbx_landlock_apply(const sbx_plan *p, int mounted, const char **why)
{
	struct ll_ruleset_attr attr;
	uint64_t all_fs;
	ll_ctx c;
	int rc = -1;

	memset(&attr, 0, sizeof(attr));
	all_fs = fs_handled(p->landlock_abi);
	attr.handled_access_fs = all_fs;
	/* no TCP when the network is off, and also when it should have been a
	 * private loopback but the network namespace is missing */
	if (p->landlock_abi >= 4 && p->net != WD_NET_HOST &&
	    (p->net == WD_NET_NONE || !(p->want & (1u << SBX_NETNS))))
		attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
	if (p->landlock_abi >= 6)
		attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
	c.plan = p;
	c.handled = all_fs;
	c.ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr,
	                         p->landlock_abi >= 6 ? sizeof(attr) :
	                         p->landlock_abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t),
	                         0);
	if (c.ruleset < 0) {
		*why = "cannot create a ruleset";
		return -1;
	}
	*why = "cannot add a rule";
	if (grant_view(&c, mounted, all_fs) < 0)
		goto out;
	/* the private tmp: /tmp and /var/tmp are the view's own tmpfs */
	if (!mounted && grant(&c, p->host_tmp, all_fs) < 0)
		goto out;
	if (mounted && (grant(&c, "/dev/shm", all_fs) < 0 ||
	                grant(&c, "/dev/pts", FS_READ | FS_WRITE_FILE | FS_IOCTL_DEV) < 0))
		goto out;
	for (size_t i = 0; dev_files[i]; i++)
		if (grant(&c, dev_files[i], FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV) < 0)
			goto out;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*why = "cannot set no_new_privs";
		goto out;
	}
	if (syscall(SYS_landlock_restrict_self, c.ruleset, 0) < 0) {
		*why = "landlock_restrict_self failed";
		goto out;
	}
	*why = NULL;
	rc = 0;
out:
	close(c.ruleset);
	return rc;
}
