/*
 * wd_sandbox_probe: what this machine supports, learnt the honest way: the
 * static facts (kernel features, sysctls) plus one real best-effort run of
 * /bin/true through every layer, and one in an overlay work tree; and
 * wd_sandbox_overlay_available, that overlay trial run once per process.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/sandbox.h"
#include "sbx.h"

static const char *find_missing(const wd_sandbox_result *r, const char *layer)
{
	size_t n = strlen(layer);

	for (size_t i = 0; i < r->missing.n; i++)
		if (!strncmp(r->missing.v[i], layer, n) && r->missing.v[i][n] == ':')
			return r->missing.v[i] + n + 2;
	return NULL;
}

static const char *find_layer(const wd_sandbox_result *r, const char *layer)
{
	size_t n = strlen(layer);

	for (size_t i = 0; i < r->layers.n; i++)
		if (!strncmp(r->layers.v[i], layer, n) &&
		    (r->layers.v[i][n] == '\0' || r->layers.v[i][n] == ':'))
			return r->layers.v[i];
	return NULL;
}

static int cgroup_line(wd_buf *out)
{
	sbx_cgroup cg;
	wd_buf why = WD_BUF_INIT;
	int rc;

	if (sbx_cgroup_setup(&cg, (uint64_t)64 << 20, 64, &why) == 0) {
		rc = wd_buf_printf(out, "cgroup: yes (cgroup:v%d: pids%s)\n", cg.version,
		                   cg.has_memory ? ", memory" : "");
		sbx_cgroup_cleanup(&cg);
	} else {
		rc = wd_buf_printf(out, "cgroup: no (%s; rlimits are used)\n", why.ptr);
	}
	wd_buf_free(&why);
	return rc;
}

int wd_sandbox_probe(wd_buf *out)
{
	static const char *const argv[] = { "/bin/true", NULL };
	static const char *const order[] = { "userns", "mntns", "pidns", "netns",
	                                     "landlock", "seccomp", "limits", NULL };
	wd_sandbox_opts o = WD_SANDBOX_OPTS_INIT;
	wd_sandbox_result r;
	char tmp[] = "/tmp/warden-probe-XXXXXX";
	int rc;

	if (!mkdtemp(tmp))
		return wd_error_errno(WD_EINFRA, "probe: mkdtemp");
	o.argv = argv;
	o.workdir = tmp;
	o.timeout_sec = 10;
	o.policy = WD_POLICY_BEST_EFFORT;
	o.net = WD_NET_LOOPBACK;
	rc = wd_sandbox_run(&r, &o);
	rmdir(tmp);
	if (rc)
		return rc;
	for (size_t i = 0; order[i]; i++) {
		const char *have = find_layer(&r, order[i]);
		const char *why = find_missing(&r, order[i]);

		if (have && !why)
			rc = wd_buf_printf(out, "%s: yes (%s)\n", order[i], have);
		else
			rc = wd_buf_printf(out, "%s: no (%s)\n", order[i], why ? why : "not applied");
		if (rc)
			break;
	}
	if (!rc)
		rc = cgroup_line(out);
	if (!rc) {
		wd_buf why = WD_BUF_INIT;

		if (wd_sandbox_overlay_available(&why))
			rc = wd_buf_puts(out, "overlay: yes (overlayfs with userxattr in a user namespace)\n");
		else
			rc = wd_buf_printf(out, "overlay: no (%s)\n", why.ptr ? why.ptr : "unknown");
		wd_buf_free(&why);
	}
	if (!rc) {
		/* what a command can read: the mount namespace's view, or Landlock's
		 * alone, or (neither) the whole host */
		const char *how = find_layer(&r, "mntns:allowlist") ? "mntns:allowlist" :
		                  find_layer(&r, "landlock") ? "landlock only" : NULL;

		if (how) {
			rc = wd_buf_printf(out, "reads: %s (", how);
			if (!rc)
				rc = sbx_view_describe(out);
			if (!rc)
				rc = wd_buf_puts(out, ")\n");
		} else {
			rc = wd_buf_puts(out, "reads: the whole host (neither a mount namespace nor "
			                      "Landlock; only the file permissions)\n");
		}
	}
	if (!rc)
		rc = wd_buf_printf(out, "user: %s (uid %u)\n", getuid() == 0 ? "root" : "unprivileged",
		                   (unsigned)getuid());
	if (!rc && r.exit_code != 0)
		rc = wd_buf_printf(out, "trial: /bin/true exited %d\n", r.exit_code);
	wd_sandbox_result_free(&r);
	return rc;
}

/* ------------------------------------------------ the overlay, tried once */

static pthread_once_t avail_once = PTHREAD_ONCE_INIT;
static int avail;
static char avail_why[256];

static int make_layers(char *base, size_t size)
{
	static const char *const dirs[] = { "lower", "lower/d", "upper", "work", NULL };
	char p[PATH_MAX];

	snprintf(base, size, "/var/tmp/warden-ovl-XXXXXX");
	if (!mkdtemp(base)) {
		snprintf(base, size, "/tmp/warden-ovl-XXXXXX");
		if (!mkdtemp(base)) {
			base[0] = '\0';
			return -1;
		}
	}
	for (size_t i = 0; dirs[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", base, dirs[i]);
		if (mkdir(p, 0755) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/lower/d/f", base);
	return wd_file_write_atomic(p, "x\n", 2, 0644) == 0 ? 0 : -1;
}

/* One real run: write, and remove a lower directory (the EIO case). */
static void try_overlay(void)
{
	static const char *const argv[] = { "/bin/sh", "-c",
		                            "echo new > n && rm -r d && test ! -e d && cat n", NULL };
	char base[64], lower[PATH_MAX], upper[PATH_MAX], work[PATH_MAX];
	const char *lowers[] = { lower, NULL };
	wd_sandbox_opts o = WD_SANDBOX_OPTS_INIT;
	wd_sandbox_result r;
	int rc;

	if (make_layers(base, sizeof(base)) < 0) {
		snprintf(avail_why, sizeof(avail_why), "cannot make a trial directory: %s",
		         strerror(errno));
		if (base[0])
			wd_rm_rf(base);
		return;
	}
	snprintf(lower, sizeof(lower), "%s/lower", base);
	snprintf(upper, sizeof(upper), "%s/upper", base);
	snprintf(work, sizeof(work), "%s/work", base);
	o.argv = argv;
	o.workdir_inside = lower;
	o.overlay_lower = lowers;
	o.overlay_upper = upper;
	o.overlay_work = work;
	o.policy = WD_POLICY_BEST_EFFORT;
	o.net = WD_NET_NONE;
	o.timeout_sec = 10;
	rc = wd_sandbox_run(&r, &o);
	if (rc) {
		snprintf(avail_why, sizeof(avail_why), "%s", wd_error_last());
	} else {
		if (!wd_strvec_contains(&r.layers, "overlay"))
			snprintf(avail_why, sizeof(avail_why), "the trial ran without an overlay");
		else if (r.exit_code != 0)
			snprintf(avail_why, sizeof(avail_why), "a trial in an overlay failed (exit %d): %.160s",
			         r.exit_code, wd_buf_cstr(&r.output));
		else
			avail = 1;
		wd_sandbox_result_free(&r);
	}
	wd_error_clear();
	wd_rm_rf(base);
}

int wd_sandbox_overlay_available(wd_buf *why)
{
	pthread_once(&avail_once, try_overlay);
	if (!avail && why)
		(void)wd_buf_puts(why, avail_why);
	return avail;
}
