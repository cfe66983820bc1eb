/*
 * sbx_nons CMD [ARG...]: run CMD where namespaces cannot be created (as in
 * a container whose seccomp profile forbids them, or a kernel with user
 * namespaces disabled), so the tests can check the sandbox's strict error
 * and its best-effort fallback.
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx;

	if (argc < 2) {
		fprintf(stderr, "usage: sbx_nons CMD [ARG...]\n");
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0) < 0 ||
	    /* ENOSYS, as container runtimes do: the C library falls back to clone */
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
	                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)) < 0 ||
	    seccomp_load(ctx) < 0) {
		fprintf(stderr, "sbx_nons: cannot install the filter\n");
		return 2;
	}
	seccomp_release(ctx);
	execvp(argv[1], argv + 1);
	perror("sbx_nons: exec");
	return 127;
}
