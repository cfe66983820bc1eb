/*
 * Starting the child: its pipes and stdin, then clone3 into fresh
 * namespaces (and the cgroup) or a plain fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "run_int.h"

/* Keep our descriptors away from 0..2, so the child's dup2 onto stdio can
 * never clobber one of them when warden itself runs with stdio closed. */
static int high_fd(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int make_pipe(int *r, int *w)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return wd_error_errno(WD_EINFRA, "sandbox: pipe");
	*r = high_fd(p[0]);
	*w = high_fd(p[1]);
	if (*r < 0 || *w < 0)
		return wd_error_errno(WD_EINFRA, "sandbox: pipe");
	return 0;
}

static int open_stdin(sbx_ctx *c, const char *data)
{
	size_t len;

	if (!data) {
		c->in_fd = high_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
		if (c->in_fd < 0)
			return wd_error_errno(WD_EINFRA, "sandbox: /dev/null");
		return 0;
	}
	/* a sealed-off memory file: no writer to block and no SIGPIPE */
	c->in_fd = high_fd((int)syscall(SYS_memfd_create, "warden-stdin", MFD_CLOEXEC));
	if (c->in_fd < 0)
		return wd_error_errno(WD_EINFRA, "sandbox: memfd for stdin");
	len = strlen(data);
	while (len) {
		ssize_t n = write(c->in_fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wd_error_errno(WD_EINFRA, "sandbox: writing stdin");
		data += n;
		len -= (size_t)n;
	}
	if (lseek(c->in_fd, 0, SEEK_SET) < 0)
		return wd_error_errno(WD_EINFRA, "sandbox: stdin");
	return 0;
}

#define CLONE_INTO_CGROUP_FLAG 0x200000000ULL

struct sbx_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
	    set_tid, set_tid_size, cgroup;
};

/* The child's output and report pipes, and its stdin. */
int sbx_open_pipes(sbx_ctx *c, const char *stdin_data)
{
	int rc;

	if ((rc = make_pipe(&c->out_r, &c->out_w)) != 0 ||
	    (rc = make_pipe(&c->rep_r, &c->rep_w)) != 0)
		return rc;
	return open_stdin(c, stdin_data);
}

/* Start the child: into fresh namespaces when the plan wants them (with
 * clone3, which also hands back a pidfd), else with a plain fork. */
pid_t sbx_spawn(sbx_ctx *c, wd_sandbox_result *out, int *pidfd)
{
	sbx_plan *p = &c->plan;
	unsigned ns = (1u << SBX_USERNS) | (1u << SBX_MNTNS) | (1u << SBX_PIDNS) | (1u << SBX_NETNS);
	pid_t pid;

	*pidfd = -1;
	if (p->want & ns) {
		struct sbx_clone_args a;
		int fd = -1;

		memset(&a, 0, sizeof(a));
		a.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
		          CLONE_NEWCGROUP | CLONE_PIDFD;
		if (p->want & (1u << SBX_NETNS))
			a.flags |= CLONE_NEWNET;
		a.pidfd = (uint64_t)(uintptr_t)&fd;
		a.exit_signal = SIGCHLD;
		if (p->cg_dir_fd >= 0) {
			/* straight into the cgroup v2 group: no migration afterwards */
			a.flags |= CLONE_INTO_CGROUP_FLAG;
			a.cgroup = (uint64_t)p->cg_dir_fd;
			p->cg_by_clone = 1;
			pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
			if (pid == 0)
				sbx_child_main(p);
			if (pid > 0) {
				*pidfd = fd;
				return pid;
			}
			a.flags &= ~CLONE_INTO_CGROUP_FLAG;
			a.cgroup = 0;
			p->cg_by_clone = 0;
		}
		pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
		if (pid == 0)
			sbx_child_main(p);
		if (pid > 0) {
			*pidfd = fd;
			return pid;
		}
		if (errno == ENOSYS) {
			/* an old kernel, or a container filter hiding clone3 */
			pid = (pid_t)syscall(SYS_clone, (unsigned long)((a.flags & ~(uint64_t)CLONE_PIDFD) |
			                                                SIGCHLD), 0UL, 0UL, 0UL, 0UL);
			if (pid == 0)
				sbx_child_main(p);
			if (pid > 0) {
				*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
				return pid;
			}
		}
		{
			wd_buf why = WD_BUF_INIT;
			int err = errno, rc = sbx_userns_why(&why, err);

			if (!rc && p->need_mntns) {
				/* whatever the policy: there is no work tree to run in */
				wd_error_set(WD_EINFRA, "sandbox: %s needs a mount namespace: %s",
				             p->ovl_upper ? "an overlay work tree" :
				                            "a work tree shown at another path", why.ptr);
				wd_buf_free(&why);
				return -1;
			}
			for (int l = SBX_USERNS; !rc && l <= SBX_NETNS; l++)
				if (p->want & (1u << l))
					rc = sbx_missing(out, p->strict, l, why.ptr);
			wd_buf_free(&why);
			if (rc)
				return -1;
		}
		p->want &= ~ns;
	}
	pid = fork();
	if (pid == 0)
		sbx_child_main(p);
	if (pid > 0)
		*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	else
		wd_error_errno(WD_EINFRA, "sandbox: cannot start the command");
	return pid;
}
