/*
 * Resource limits, set in the child just before exec (child code: system
 * calls only). Limits only ever go down: a hard limit lower than what was
 * asked is kept, so warden never needs (or tries) to raise one.
 *
 * RLIMIT_NPROC counts the processes of the real uid. Inside our user
 * namespace that count covers the sandbox's processes only, so the limit is
 * set there; without the namespace it would count every process of the
 * user. Root (kuid 0) is exempt from it even inside a user namespace, so
 * for root the process count needs the pids cgroup (cgroup.c); the parent
 * reports it as missing when there is none.
 */
#include <errno.h>
#include <sys/resource.h>

#include "sbx.h"

static int lower(int res, uint64_t v)
{
	struct rlimit r;

	if (getrlimit(res, &r) < 0)
		return errno;
	if (r.rlim_max != RLIM_INFINITY && v > r.rlim_max)
		v = r.rlim_max;
	r.rlim_cur = (rlim_t)v;
	r.rlim_max = (rlim_t)v;
	return setrlimit(res, &r) < 0 ? errno : 0;
}

int sbx_limits_apply(const sbx_plan *p, int userns, int in_cgroup, const char **what)
{
	int e;

	*what = NULL;
	if ((e = lower(RLIMIT_CORE, 0)) != 0) {
		*what = "cannot turn core dumps off";
		return e;
	}
	/* a memory cgroup limits what the tree really uses; the address space
	 * limit (which also trips sanitizers and runtimes that reserve large
	 * ranges) is the fallback */
	if (p->as_bytes && !(in_cgroup && p->cg_memory) &&
	    (e = lower(RLIMIT_AS, p->as_bytes)) != 0) {
		*what = "cannot limit the address space";
		return e;
	}
	if (p->cpu_sec && (e = lower(RLIMIT_CPU, p->cpu_sec)) != 0) {
		*what = "cannot limit CPU time";
		return e;
	}
	if (p->fsize_bytes && (e = lower(RLIMIT_FSIZE, p->fsize_bytes)) != 0) {
		*what = "cannot limit file size";
		return e;
	}
	if (p->nofile && (e = lower(RLIMIT_NOFILE, p->nofile)) != 0) {
		*what = "cannot limit open files";
		return e;
	}
	if (p->nproc && userns && (e = lower(RLIMIT_NPROC, p->nproc)) != 0) {
		*what = "cannot limit the process count";
		return e;
	}
	if (p->nproc && !userns && !(in_cgroup && p->cg_pids) && !p->nproc_reported) {
		*what = "the process count is not enforced without a user namespace";
		return EPERM;
	}
	return 0;
}
