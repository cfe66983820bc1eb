/*
 * The seccomp filter: everything is allowed except the system calls that
 * reach past the sandbox (namespaces, mounts, tracing, kernel keyrings,
 * BPF, modules, kexec, reboot, swap) or that need none of a build's
 * business (io_uring, userfaultfd, open_by_handle_at). Denied calls fail
 * with EPERM rather than killing the process, so a test that probes for a
 * feature sees an ordinary error.
 *
 * The filter is built with libseccomp in the parent (it allocates) and
 * exported as a raw BPF program that the child installs with one prctl.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "warden/error.h"
#include "sbx.h"

static const char *const denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount", "umount2",
	"pivot_root", "chroot", "unshare", "setns", "fsopen", "fsconfig", "fsmount", "fspick",
	"open_tree", "move_mount", "mount_setattr", "keyctl", "add_key", "request_key", "bpf",
	"perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "reboot", "swapon", "swapoff", "open_by_handle_at", "name_to_handle_at",
	"userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "acct",
	"settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "iopl", "ioperm",
	"quotactl", "quotactl_fd", "lookup_dcookie", "syslog", "uselib", "vhangup", "nfsservctl",
	"personality", NULL
};

typedef struct sbx_bpf {
	struct sock_fprog prog;
	struct sock_filter insns[];
} sbx_bpf;

static int add_denials(scmp_filter_ctx ctx)
{
	static const unsigned long ns_flags[] = {
		CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
		CLONE_NEWUTS, CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */
	};

	for (size_t i = 0; denied[i]; i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;  /* not a system call on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) < 0)
			return -1;
	}
	/* clone may not make namespaces; clone3 hides its flags behind a
	 * pointer, so it reports ENOSYS and the C library falls back to clone */
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		                     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i])) < 0)
			return -1;
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0)
		return -1;
	/* typing into the controlling terminal of whoever runs warden */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
	                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
	                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX)) < 0)
		return -1;
	return 0;
}

int sbx_seccomp_build(void **out_prog)
{
	scmp_filter_ctx ctx;
	sbx_bpf *bpf = NULL;
	int fd = -1, rc = 0;
	off_t size;

	*out_prog = NULL;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return wd_error_set(WD_EINFRA, "seccomp: cannot initialise libseccomp");
	if (add_denials(ctx) < 0) {
		rc = wd_error_set(WD_EINFRA, "seccomp: cannot add a rule");
		goto out;
	}
	/* the child sets no_new_privs itself, just before installing */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	fd = (int)syscall(SYS_memfd_create, "warden-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		rc = wd_error_errno(WD_EINFRA, "seccomp: memfd");
		goto out;
	}
	if (seccomp_export_bpf(ctx, fd) < 0 || (size = lseek(fd, 0, SEEK_END)) <= 0 ||
	    size % (off_t)sizeof(struct sock_filter) != 0 || lseek(fd, 0, SEEK_SET) < 0) {
		rc = wd_error_set(WD_EINFRA, "seccomp: cannot export the filter");
		goto out;
	}
	bpf = malloc(sizeof(*bpf) + (size_t)size);
	if (!bpf) {
		rc = wd_error_set(WD_ENOMEM, "seccomp: out of memory");
		goto out;
	}
	if (read(fd, bpf->insns, (size_t)size) != (ssize_t)size) {
		rc = wd_error_set(WD_EINFRA, "seccomp: cannot read the exported filter");
		goto out;
	}
	bpf->prog.len = (unsigned short)((size_t)size / sizeof(struct sock_filter));
	bpf->prog.filter = bpf->insns;
	*out_prog = bpf;
	bpf = NULL;
out:
	free(bpf);
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return rc;
}

void sbx_seccomp_free(void *prog)
{
	free(prog);
}

int sbx_seccomp_apply(const sbx_plan *p)
{
	const sbx_bpf *bpf = p->seccomp_prog;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errno;
	if (!bpf)
		return EINVAL;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &bpf->prog, 0, 0) < 0)
		return errno;
	return 0;
}
