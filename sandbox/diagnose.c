/*
 * Saying what happened in words a user can act on: why a layer is missing,
 * which limit stopped the command, where a command the sandbox hides lies.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "run_int.h"

/* The command's PATH, for the hints below and for the plan. */
const char *sbx_env_path(const sbx_ctx *c)
{
	for (size_t i = 0; i < c->env.n; i++)
		if (!strncmp(c->env.v[i], "PATH=", 5))
			return c->env.v[i] + 5;
	return NULL;
}

static int read_sysctl(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, out, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	return 0;
}

int sbx_userns_why(wd_buf *out, int err)
{
	char v[32];

	if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone", v, sizeof(v)) == 0 &&
	    !strcmp(v, "0") && getuid() != 0)
		return wd_buf_puts(out, "user namespaces are disabled by kernel.unprivileged_userns_clone=0");
	if (read_sysctl("/proc/sys/user/max_user_namespaces", v, sizeof(v)) == 0 && !strcmp(v, "0"))
		return wd_buf_puts(out, "user namespaces are disabled by user.max_user_namespaces=0");
	if (read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", v, sizeof(v)) == 0 &&
	    !strcmp(v, "1") && getuid() != 0)
		return wd_buf_puts(out, "AppArmor restricts unprivileged user namespaces "
		                        "(kernel.apparmor_restrict_unprivileged_userns=1)");
	if (err == EPERM && access("/.dockerenv", F_OK) == 0)
		return wd_buf_puts(out, "cannot create namespaces: Operation not permitted (in a "
		                        "container, its seccomp profile usually forbids them)");
	return wd_buf_printf(out, "cannot create namespaces: %s", strerror(err));
}

int sbx_landlock_why(wd_buf *out, int abi)
{
	if (abi == -ENOSYS)
		return wd_buf_puts(out, "this kernel has no Landlock (needs Linux 5.13+)");
	if (abi == -EOPNOTSUPP)
		return wd_buf_puts(out, "Landlock is built in but disabled (add landlock to the lsm= boot parameter)");
	return wd_buf_printf(out, "unavailable: %s", strerror(-abi));
}

/* A layer this machine cannot apply: an error under the strict policy,
 * else a line in the result's missing list. */
int sbx_missing(wd_sandbox_result *out, int strict, int layer, const char *why)
{
	wd_buf b = WD_BUF_INIT;
	int rc;

	if (strict)
		return wd_error_set(WD_EINFRA, "sandbox (strict policy): %s: %s", sbx_layer_name(layer),
		                    why);
	rc = wd_buf_printf(&b, "%s: %s", sbx_layer_name(layer), why);
	if (!rc)
		rc = wd_strvec_push_owned(&out->missing, wd_buf_detach(&b));
	wd_buf_free(&b);
	return rc;
}

/* Say in the output when the cgroup's limits stopped something: a bare
 * "Killed" or "fork: Resource temporarily unavailable" leaves a reader (or
 * the model in a repair round) guessing. */
/* A line of warden's own at the end of the output, shown live as well. */
int sbx_add_note(sbx_capture *cap, const wd_sandbox_opts *opts, const char *msg, int len)
{
	if (len <= 0)
		return 0;
	if (opts->on_output)
		opts->on_output(opts->on_output_ctx, msg, (size_t)len);
	return sbx_capture_add(cap, msg, (size_t)len) != 0 ? WD_ENOMEM : 0;
}

int sbx_note_limits(sbx_ctx *c, sbx_capture *cap, const wd_sandbox_opts *opts, int sig)
{
	unsigned long ooms = 0, forks = 0;
	char msg[256];
	int k;

	if (sig == SIGXCPU || sig == SIGXFSZ) {
		k = snprintf(msg, sizeof(msg), "%swarden-sandbox: the %s was reached\n",
		             cap->last == '\n' ? "" : "\n",
		             sig == SIGXCPU ? "CPU time limit" : "file size limit (1 GiB)");
		if (sbx_add_note(cap, opts, msg, k) != 0)
			return WD_ENOMEM;
	}
	if (c->cg.version == 0)
		return 0;
	sbx_cgroup_events(&c->cg, &ooms, &forks);
	if (ooms) {
		k = snprintf(msg, sizeof(msg), "%swarden-sandbox: the memory limit (%llu MiB) was reached; "
		             "the kernel killed %lu process%s\n", cap->last == '\n' ? "" : "\n",
		             (unsigned long long)(c->plan.memory_bytes >> 20), ooms, ooms == 1 ? "" : "es");
		if (sbx_add_note(cap, opts, msg, k) != 0)
			return WD_ENOMEM;
	}
	if (forks) {
		k = snprintf(msg, sizeof(msg), "%swarden-sandbox: the process limit (%lu) was reached; "
		             "%lu fork%s refused\n", cap->last == '\n' ? "" : "\n", c->plan.nproc, forks,
		             forks == 1 ? " was" : "s were");
		if (sbx_add_note(cap, opts, msg, k) != 0)
			return WD_ENOMEM;
	}
	return 0;
}

/* Not found (127): say so when the command lies where the sandbox hides
 * it, e.g. a toolchain under $HOME. */
int sbx_note_hidden(sbx_ctx *c, wd_sandbox_result *out, const wd_sandbox_opts *opts)
{
	const char *host_path = getenv("PATH");
	wd_buf note = WD_BUF_INIT;
	int rc;

	rc = sbx_view_hint(&c->plan, sbx_env_path(c), out->output.ptr ? out->output.ptr : "",
	                   out->output.len, c->hidden_hit, &note);
	/* the caller may have given the command a PATH of its own: the
	 * toolchain may still be on warden's */
	if (!rc && !note.len && host_path && (!sbx_env_path(c) || strcmp(sbx_env_path(c), host_path)))
		rc = sbx_view_hint(&c->plan, host_path, out->output.ptr ? out->output.ptr : "",
		                   out->output.len, NULL, &note);
	if (!rc && note.len) {
		if (out->output.ptr && out->output.len && out->output.ptr[out->output.len - 1] != '\n')
			rc = wd_buf_putc(&out->output, '\n');
		if (!rc)
			rc = wd_buf_put(&out->output, note.ptr, note.len);
		if (!rc && opts->on_output)
			opts->on_output(opts->on_output_ctx, note.ptr, note.len);
		out->output_total += note.len;
	}
	wd_buf_free(&note);
	return rc;
}
