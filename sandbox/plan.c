/*
 * Planning a sandboxed run, in the parent before it forks: resolve the
 * command, the work tree and every path the view allows or hides, and decide
 * which layers to try (and say which are missing).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "run_int.h"

/* Reads are an allow-list (mount namespace or Landlock): the host file
 * `path` may not be there for the command. */
int sbx_allowlisted(const sbx_ctx *c)
{
	return (c->plan.want & ((1u << SBX_MNTNS) | (1u << SBX_LANDLOCK))) != 0;
}

static int visible(const sbx_ctx *c, const char *path)
{
	char *real;
	int v;

	if (path[0] != '/' || !sbx_allowlisted(c))
		return 1;
	real = wd_realpath(path);
	wd_error_clear();
	v = !real || sbx_view_visible(&c->plan, real);
	free(real);
	return v;
}

/* argv[0] is looked up in the command's PATH (not warden's), among what the
 * command will see, like execvp would inside the sandbox. One found only in
 * a hidden directory is remembered, to say so if the command is then not
 * found. */
int sbx_resolve_path(sbx_ctx *c, const char *cmd)
{
	const char *pathvar = sbx_env_path(c);
	wd_buf b = WD_BUF_INIT;

	if (strchr(cmd, '/')) {
		if (cmd[0] == '/' && access(cmd, X_OK) == 0 && !visible(c, cmd) &&
		    !(c->hidden_hit = wd_strdup(cmd)))
			return WD_ENOMEM;
		c->path = wd_strdup(cmd);
		return c->path ? 0 : WD_ENOMEM;
	}
	while (pathvar && *pathvar) {
		const char *end = strchr(pathvar, ':');
		size_t n = end ? (size_t)(end - pathvar) : strlen(pathvar);
		struct stat st;

		wd_buf_clear(&b);
		if (wd_buf_put(&b, n ? pathvar : ".", n ? n : 1) || wd_buf_putc(&b, '/') ||
		    wd_buf_puts(&b, cmd)) {
			wd_buf_free(&b);
			return WD_ENOMEM;
		}
		if (stat(b.ptr, &st) == 0 && S_ISREG(st.st_mode) && access(b.ptr, X_OK) == 0) {
			if (visible(c, b.ptr)) {
				c->path = wd_buf_detach(&b);
				return 0;
			}
			if (!c->hidden_hit && !(c->hidden_hit = wd_strdup(b.ptr))) {
				wd_buf_free(&b);
				return WD_ENOMEM;
			}
		}
		pathvar = end ? end + 1 : NULL;
	}
	wd_buf_free(&b);
	/* not found: let execve fail in the child and report it like a shell */
	c->path = wd_strdup(cmd);
	return c->path ? 0 : WD_ENOMEM;
}

/* An absolute path with no empty, "." or ".." part: a place to mount on. */
static int inside_ok(const char *path)
{
	if (path[0] != '/' || path[1] == '\0' || strlen(path) >= PATH_MAX - 64)
		return 0;
	for (const char *s = path; *s; s++) {
		if (*s != '/')
			continue;
		if (s[1] == '/' || s[1] == '\0')
			return 0;
		if (s[1] == '.' && (s[2] == '/' || s[2] == '\0'))
			return 0;
		if (s[1] == '.' && s[2] == '.' && (s[3] == '/' || s[3] == '\0'))
			return 0;
	}
	return 1;
}

/* The work tree: a directory bound where the command sees it, or an
 * overlay of layers there. */
static int prepare_work_tree(sbx_ctx *c, const wd_sandbox_opts *opts)
{
	sbx_plan *p = &c->plan;
	int ovl = opts->overlay_upper != NULL;

	if (ovl && !opts->workdir_inside)
		return wd_error_set(WD_EUSAGE, "sandbox: an overlay needs workdir_inside, the path "
		                               "where the command sees it");
	if (ovl && (!opts->overlay_lower || !opts->overlay_lower[0]))
		return wd_error_set(WD_EUSAGE, "sandbox: an overlay needs at least one lower layer");
	if (ovl && !opts->overlay_work)
		return wd_error_set(WD_EUSAGE, "sandbox: an overlay needs overlay_work, an empty "
		                               "directory beside the upper layer");
	c->base = wd_realpath(opts->workdir ? opts->workdir : ".");
	if (!c->base)
		return wd_error_set(WD_ENOTFOUND, "sandbox: work directory '%s' does not exist",
		                    opts->workdir ? opts->workdir : ".");
	if (!wd_path_is_dir(c->base))
		return wd_error_set(WD_EUSAGE, "sandbox: '%s' is not a directory", c->base);
	if (opts->workdir_inside) {
		if (!inside_ok(opts->workdir_inside))
			return wd_error_set(WD_EUSAGE, "sandbox: workdir_inside '%s' must be an absolute "
			                               "path other than / without '.' or '..' parts",
			                    opts->workdir_inside);
		if (!(c->inside = wd_strdup(opts->workdir_inside)))
			return WD_ENOMEM;
	}
	p->workdir = ovl ? NULL : c->base;
	p->cwd = c->inside ? c->inside : c->base;
	p->need_mntns = ovl || strcmp(p->cwd, c->base) != 0;
	if (p->need_mntns && opts->policy == WD_POLICY_OFF)
		return wd_error_set(WD_EINFRA, "sandbox: %s needs the mount namespace, which the "
		                               "policy 'off' does not make",
		                    ovl ? "an overlay work tree" : "a work tree shown at another path");
	if (!ovl)
		return 0;
	for (size_t i = 0; opts->overlay_lower[i]; i++) {
		char *real;

		if (i >= SBX_MAX_LAYERS)
			return wd_error_set(WD_EUSAGE, "sandbox: more than %d overlay layers",
			                    SBX_MAX_LAYERS);
		real = wd_realpath(opts->overlay_lower[i]);
		if (!real || !wd_path_is_dir(real)) {
			free(real);
			return wd_error_set(WD_ENOTFOUND, "sandbox: overlay layer '%s' is not a directory",
			                    opts->overlay_lower[i]);
		}
		if (wd_strvec_push_owned(&c->owned, real) != 0)
			return WD_ENOMEM;
		p->ovl_lower[p->novl_lower++] = real;
	}
	for (int k = 0; k < 2; k++) {
		const char *dir = k ? opts->overlay_work : opts->overlay_upper;
		char *real = wd_realpath(dir);

		if (!real || !wd_path_is_dir(real)) {
			free(real);
			return wd_error_set(WD_ENOTFOUND, "sandbox: overlay %s '%s' is not a directory",
			                    k ? "work directory" : "upper layer", dir);
		}
		if (wd_strvec_push_owned(&c->owned, real) != 0)
			return WD_ENOMEM;
		if (k)
			p->ovl_work = real;
		else
			p->ovl_upper = real;
	}
	return 0;
}

int sbx_prepare(sbx_ctx *c, const wd_sandbox_opts *opts)
{
	char rnd[17];
	int rc;

	if (!opts->argv || !opts->argv[0] || !opts->argv[0][0])
		return wd_error_set(WD_EUSAGE, "sandbox: no command to run");
	if ((rc = prepare_work_tree(c, opts)) != 0)
		return rc;
	if ((rc = wd_random_hex(rnd, 8)) != 0)
		return rc;
	/* always under /tmp, whatever the caller's TMPDIR: with the mount
	 * namespace it lives in the private tmpfs there, and the rest of the
	 * file system is read-only */
	snprintf(c->host_tmp, sizeof(c->host_tmp), "/tmp/warden-sbx-%s", rnd);
	for (size_t i = 0; opts->argv[i]; i++)
		if ((rc = wd_strvec_push(&c->argv, opts->argv[i])) != 0)
			return rc;
	{
		wd_buf home = WD_BUF_INIT, tdir = WD_BUF_INIT;

		rc = wd_buf_printf(&home, "%s/home", c->host_tmp);
		if (!rc)
			rc = wd_buf_printf(&tdir, "%s/tmp", c->host_tmp);
		if (!rc)
			rc = sbx_env_build(&c->env, opts, home.ptr, tdir.ptr, c->plan.cwd);
		wd_buf_free(&home);
		wd_buf_free(&tdir);
		if (rc)
			return rc;
	}
	if ((rc = sbx_open_pipes(c, opts->stdin_data)) != 0)
		return rc;

	c->plan.argv = c->argv.v;
	c->plan.envp = c->env.v;
	c->plan.stdin_fd = c->in_fd;
	c->plan.out_fd = c->out_w;
	c->plan.report_fd = c->rep_w;
	c->plan.host_tmp = c->host_tmp;
	c->plan.strict = opts->policy == WD_POLICY_STRICT;
	c->plan.net = opts->net;
	c->plan.uid = getuid();
	c->plan.gid = getgid();
	return 0;
}

static const char *const default_deny[] = {
	".ssh", ".gnupg", ".aws", ".config/warden", ".netrc", ".docker", NULL
};

/* Resolve a path for the plan (absolute, symlinks resolved); "~/" is the
 * invoking user's home. Missing paths are dropped: there is nothing to
 * read there, and the sandbox cannot create them. */
static int add_path(sbx_ctx *c, const char **slots, size_t *n, const char *path)
{
	const char *home = getenv("HOME");
	wd_buf b = WD_BUF_INIT;
	char *real;
	int rc = 0;

	if (*n >= SBX_MAX_PATHS)
		return wd_error_set(WD_EUSAGE, "sandbox: more than %d paths in one list", SBX_MAX_PATHS);
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
		if (!home || home[0] != '/')
			return 0;
		rc = wd_buf_printf(&b, "%s%s", home, path + 1);
	} else if (path[0] != '/') {
		rc = wd_buf_printf(&b, "%s/%s", c->base, path);
	} else {
		rc = wd_buf_puts(&b, path);
	}
	if (rc)
		goto out;
	real = wd_realpath(b.ptr);
	wd_error_clear();
	if (!real)
		goto out;
	if ((rc = wd_strvec_push_owned(&c->owned, real)) != 0)
		goto out;
	slots[(*n)++] = real;
out:
	wd_buf_free(&b);
	return rc;
}

static int plan_paths(sbx_ctx *c, const wd_sandbox_opts *opts)
{
	sbx_plan *p = &c->plan;
	int rc;

	if (opts->deny_read) {
		for (size_t i = 0; opts->deny_read[i]; i++)
			if ((rc = add_path(c, p->deny, &p->ndeny, opts->deny_read[i])) != 0)
				return rc;
	} else {
		wd_buf b = WD_BUF_INIT;

		for (size_t i = 0; default_deny[i]; i++) {
			wd_buf_clear(&b);
			if ((rc = wd_buf_printf(&b, "~/%s", default_deny[i])) != 0 ||
			    (rc = add_path(c, p->deny, &p->ndeny, b.ptr)) != 0) {
				wd_buf_free(&b);
				return rc;
			}
		}
		wd_buf_free(&b);
	}
	for (size_t i = 0; opts->deny_read_extra && opts->deny_read_extra[i]; i++)
		if ((rc = add_path(c, p->deny, &p->ndeny, opts->deny_read_extra[i])) != 0)
			return rc;
	for (size_t i = 0; opts->allow_read && opts->allow_read[i]; i++)
		if ((rc = add_path(c, p->allow_read, &p->nallow_read, opts->allow_read[i])) != 0)
			return rc;
	for (size_t i = 0; opts->allow_write && opts->allow_write[i]; i++)
		if ((rc = add_path(c, p->allow_write, &p->nallow_write, opts->allow_write[i])) != 0)
			return rc;
	return sbx_view_plan(p, &c->owned);
}

static void plan_limits(sbx_ctx *c, const wd_sandbox_opts *opts)
{
	sbx_plan *p = &c->plan;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t mb = opts->memory_mb ? opts->memory_mb : SBX_DEFAULT_MEMORY_MB;

	if (ncpu < 1)
		ncpu = 1;
	p->memory_bytes = mb >= (UINT64_MAX >> 20) ? 0 : mb << 20;
	/* Without a memory cgroup only the address space can be limited, and
	 * that breaks sanitizer builds and runtimes that reserve large ranges
	 * (ASan maps terabytes of shadow): so only an explicit limit becomes
	 * RLIMIT_AS, the default does not. */
	p->as_bytes = opts->memory_mb ? p->memory_bytes : 0;
	p->nproc = opts->pids ? opts->pids : SBX_DEFAULT_PIDS;
	/* a process cannot burn more CPU than the wall clock times the cores */
	p->cpu_sec = opts->timeout_sec ? (uint64_t)opts->timeout_sec * (uint64_t)ncpu + 1 : 0;
	p->fsize_bytes = (uint64_t)SBX_DEFAULT_FSIZE_MB << 20;
	p->nofile = SBX_DEFAULT_NOFILE;
	p->tmpfs_mb = 1024;
}

/* A cgroup when one can be made; for root it is the only way to bound the
 * process count, so its absence is then a missing layer. */
static int plan_cgroup(sbx_ctx *c, wd_sandbox_result *out)
{
	sbx_plan *p = &c->plan;
	wd_buf why = WD_BUF_INIT;
	int rc = 0;

	if (sbx_cgroup_setup(&c->cg, p->memory_bytes, p->nproc, &why) == 0) {
		p->cg_procs_fd[0] = c->cg.procs_fd[0];
		p->cg_procs_fd[1] = c->cg.procs_fd[1];
		p->cg_dir_fd = c->cg.version == 2 ? c->cg.dir_fd : -1;
		p->cg_pids = c->cg.has_pids;
		p->cg_memory = c->cg.has_memory;
		rc = wd_strvec_push(&out->layers, c->cg.version == 2 ? "cgroup:v2" : "cgroup:v1");
	} else if (p->uid == 0) {
		wd_buf msg = WD_BUF_INIT;

		rc = wd_buf_printf(&msg, "the process count is not enforced for root (the kernel "
		                         "exempts uid 0 from RLIMIT_NPROC) and %s", why.ptr);
		if (!rc)
			rc = sbx_missing(out, p->strict, SBX_LIMITS, msg.ptr);
		p->nproc_reported = 1;
		wd_buf_free(&msg);
	}
	wd_buf_free(&why);
	return rc;
}

/* Decide which layers to attempt; record those this machine cannot do. */
int sbx_plan_layers(sbx_ctx *c, const wd_sandbox_opts *opts, wd_sandbox_result *out)
{
	sbx_plan *p = &c->plan;
	int rc, abi;

	if (opts->policy == WD_POLICY_OFF)
		return 0;
	if ((rc = plan_paths(c, opts)) != 0)
		return rc;
	plan_limits(c, opts);
	if ((rc = plan_cgroup(c, out)) != 0)
		return rc;
	p->want = (1u << SBX_USERNS) | (1u << SBX_MNTNS) | (1u << SBX_PIDNS) | (1u << SBX_LIMITS);
	if (opts->net != WD_NET_HOST)
		p->want |= 1u << SBX_NETNS;

	abi = sbx_landlock_abi();
	if (abi >= 1) {
		p->landlock_abi = abi;
		p->want |= 1u << SBX_LANDLOCK;
	} else {
		wd_buf why = WD_BUF_INIT;

		rc = sbx_landlock_why(&why, abi);
		if (!rc)
			rc = sbx_missing(out, p->strict, SBX_LANDLOCK, why.ptr);
		wd_buf_free(&why);
		if (rc)
			return rc;
	}
	if (sbx_seccomp_build(&c->seccomp_prog) == 0) {
		p->seccomp_prog = c->seccomp_prog;
		p->want |= 1u << SBX_SECCOMP;
	} else if ((rc = sbx_missing(out, p->strict, SBX_SECCOMP, wd_error_last())) != 0) {
		return rc;
	}
	return 0;
}

const char *const wd_sandbox_policy_names[] = { "strict", "best-effort", "off", NULL };

int wd_sandbox_policy_parse(int *out, const char *name)
{
	for (int i = 0; name && wd_sandbox_policy_names[i]; i++)
		if (!strcmp(name, wd_sandbox_policy_names[i])) {
			*out = i;
			return 0;
		}
	return WD_EINPUT;
}
