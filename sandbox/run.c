/*
 * wd_sandbox_run: prepare a plan, fork the child into its namespaces, then
 * supervise it: capture its output, enforce the wall clock, collect what
 * each layer reported, and turn the end into a shell-style exit code.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/interrupt.h"
#include "sbx.h"

#define DRAIN_MS 500

const char *sbx_layer_name(int layer)
{
	static const char *const names[SBX_NLAYERS] = {
		"userns", "mntns", "pidns", "netns", "landlock", "seccomp", "limits"
	};

	if (layer < 0 || layer >= SBX_NLAYERS)
		return "sandbox";
	return names[layer];
}

typedef struct run_ctx {
	sbx_plan plan;
	wd_strvec argv;
	wd_strvec env;
	wd_strvec owned;          /* storage for paths the plan points at */
	char *base;               /* workdir resolved (or "."): relative paths start here */
	char *inside;             /* workdir_inside, when given */
	char *path;
	char *hidden_hit;         /* argv[0] exists, but only where the sandbox hides it */
	char host_tmp[PATH_MAX];
	void *seccomp_prog;
	sbx_cgroup cg;
	int out_r, out_w, rep_r, rep_w, in_fd;
} run_ctx;

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

static int open_stdin(run_ctx *c, const char *data)
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

static const char *env_path(const run_ctx *c)
{
	for (size_t i = 0; i < c->env.n; i++)
		if (!strncmp(c->env.v[i], "PATH=", 5))
			return c->env.v[i] + 5;
	return NULL;
}

/* Reads are an allow-list (mount namespace or Landlock): the host file
 * `path` may not be there for the command. */
static int allowlisted(const run_ctx *c)
{
	return (c->plan.want & ((1u << SBX_MNTNS) | (1u << SBX_LANDLOCK))) != 0;
}

static int visible(const run_ctx *c, const char *path)
{
	char *real;
	int v;

	if (path[0] != '/' || !allowlisted(c))
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
static int resolve_path(run_ctx *c, const char *cmd)
{
	const char *pathvar = env_path(c);
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
static int prepare_work_tree(run_ctx *c, const wd_sandbox_opts *opts)
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

static int prepare(run_ctx *c, const wd_sandbox_opts *opts)
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
	if ((rc = make_pipe(&c->out_r, &c->out_w)) != 0 ||
	    (rc = make_pipe(&c->rep_r, &c->rep_w)) != 0 ||
	    (rc = open_stdin(c, opts->stdin_data)) != 0)
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

/* overlayfs leaves its scratch directory work/work at mode 000: as root
 * that is nothing, but an ordinary user could no longer remove the
 * caller's overlay_work (nor could warden remove a round's tree). The
 * directory is the caller's, and nothing the command can reach. */
static void overlay_work_removable(const sbx_plan *p)
{
	wd_buf b = WD_BUF_INIT;
	struct stat st;

	if (!p->ovl_work || wd_buf_printf(&b, "%s/work", p->ovl_work) != 0) {
		wd_buf_free(&b);
		return;
	}
	if (lstat(b.ptr, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0700) != 0700)
		(void)chmod(b.ptr, 0700);
	wd_buf_free(&b);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void ctx_free(run_ctx *c)
{
	close_fd(&c->out_r);
	close_fd(&c->out_w);
	close_fd(&c->rep_r);
	close_fd(&c->rep_w);
	close_fd(&c->in_fd);
	wd_strvec_free(&c->argv);
	wd_strvec_free(&c->env);
	wd_strvec_free(&c->owned);
	free(c->base);
	free(c->inside);
	free(c->path);
	free(c->hidden_hit);
	if (c->seccomp_prog)
		sbx_seccomp_free(c->seccomp_prog);
	sbx_cgroup_cleanup(&c->cg);
	if (c->host_tmp[0])
		wd_rm_rf(c->host_tmp);
}

typedef struct supervise {
	pid_t pid;
	int pidfd;
	int status;            /* wait status of the direct child */
	int exited;
	int cmd_status;        /* from the pid-namespace init, when it said */
	int have_cmd_status;
	int timed_out;
	int fatal;
	int exec_errno;
	wd_buf fatal_msg;
	sbx_msg partial;
	size_t partial_len;
} supervise;

static int take_msg(supervise *s, wd_sandbox_result *out, const sbx_msg *m)
{
	switch (m->type) {
	case SBX_MSG_APPLIED:
		return wd_strvec_push(&out->layers, m->text);
	case SBX_MSG_MISSING:
		return wd_strvec_push(&out->missing, m->text);
	case SBX_MSG_FATAL:
		s->fatal = m->layer >= 0 ? 2 : 1;
		wd_buf_clear(&s->fatal_msg);
		if (m->err)
			return wd_buf_printf(&s->fatal_msg, "%s: %s", m->text, strerror(m->err));
		return wd_buf_puts(&s->fatal_msg, m->text);
	case SBX_MSG_EXECFAIL:
		s->exec_errno = m->err ? m->err : ENOENT;
		return 0;
	case SBX_MSG_EXIT:
		s->cmd_status = m->err;
		s->have_cmd_status = 1;
		return 0;
	default:
		return 0;
	}
}

static int read_reports(supervise *s, wd_sandbox_result *out, int *fd)
{
	char buf[SBX_QUEUE * sizeof(sbx_msg)];
	ssize_t n = read(*fd, buf, sizeof(buf));
	const char *p = buf;
	int rc;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : wd_error_errno(WD_EINFRA, "sandbox: report pipe");
	if (n == 0) {
		close_fd(fd);
		return 0;
	}
	while (n > 0) {
		size_t k = sizeof(s->partial) - s->partial_len;

		if ((size_t)n < k)
			k = (size_t)n;
		memcpy((char *)&s->partial + s->partial_len, p, k);
		s->partial_len += k;
		p += k;
		n -= (ssize_t)k;
		if (s->partial_len < sizeof(s->partial))
			break;
		s->partial_len = 0;
		if ((rc = take_msg(s, out, &s->partial)) != 0)
			return rc;
	}
	return 0;
}

static int read_output(sbx_capture *cap, int *fd, const wd_sandbox_opts *opts)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : wd_error_errno(WD_EINFRA, "sandbox: output pipe");
	if (n == 0) {
		close_fd(fd);
		return 0;
	}
	if (opts->on_output)
		opts->on_output(opts->on_output_ctx, chunk, (size_t)n);
	return sbx_capture_add(cap, chunk, (size_t)n);
}

static void reap(supervise *s)
{
	/* the group still exists while the leader is a zombie: take the
	 * stragglers (background jobs) down before reaping frees the pid */
	kill(-s->pid, SIGKILL);
	wd_interrupt_watch(0);  /* before the pid stops being ours */
	while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
		;
	s->exited = 1;
}

static int loop(run_ctx *c, supervise *s, sbx_capture *cap, wd_sandbox_result *out,
                const wd_sandbox_opts *opts, uint64_t start)
{
	unsigned timeout_sec = opts->timeout_sec;
	uint64_t deadline = timeout_sec ? start + (uint64_t)timeout_sec * 1000 : 0;
	uint64_t kill_at = 0, drain_until = 0;
	int rc = 0;

	for (;;) {
		struct pollfd pf[3];
		nfds_t n = 0;
		int iout = -1, irep = -1, ipid = -1;
		uint64_t now = wd_now_ms(), wake = 0;
		int wait_ms;

		if (s->exited && ((c->out_r < 0 && c->rep_r < 0) || now >= drain_until))
			break;
		if (!s->exited && deadline && !s->timed_out && now >= deadline) {
			s->timed_out = 1;
			kill(-s->pid, SIGTERM);
			kill(s->pid, SIGTERM);
			kill_at = now + SBX_TERM_GRACE_MS;
		}
		if (!s->exited && kill_at && now >= kill_at) {
			kill(-s->pid, SIGKILL);
			kill(s->pid, SIGKILL);
			kill_at = 0;
		}
		if (c->out_r >= 0) {
			pf[n] = (struct pollfd){ .fd = c->out_r, .events = POLLIN };
			iout = (int)n++;
		}
		if (c->rep_r >= 0) {
			pf[n] = (struct pollfd){ .fd = c->rep_r, .events = POLLIN };
			irep = (int)n++;
		}
		if (!s->exited && s->pidfd >= 0) {
			pf[n] = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
			ipid = (int)n++;
		}
		if (!s->exited && deadline && !s->timed_out)
			wake = deadline;
		if (kill_at && (!wake || kill_at < wake))
			wake = kill_at;
		if (s->exited && (!wake || drain_until < wake))
			wake = drain_until;
		wait_ms = wake ? (wake > now ? (int)(wake - now) : 0) : -1;
		if (!s->exited && s->pidfd < 0 && (wait_ms < 0 || wait_ms > 20))
			wait_ms = 20;  /* no pidfd: poll for the exit */
		if (poll(pf, n, wait_ms) < 0 && errno != EINTR)
			return wd_error_errno(WD_EINFRA, "sandbox: poll");
		if (iout >= 0 && (pf[iout].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (rc = read_output(cap, &c->out_r, opts)) != 0)
			return rc;
		if (irep >= 0 && (pf[irep].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (rc = read_reports(s, out, &c->rep_r)) != 0)
			return rc;
		if (!s->exited) {
			int done = 0;

			if (ipid >= 0) {
				done = (pf[ipid].revents & POLLIN) != 0;
			} else {
				/* look without reaping: the pid must stay ours until
				 * reap() has killed its group */
				siginfo_t si;

				memset(&si, 0, sizeof(si));
				done = waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
				       si.si_pid == s->pid;
			}
			if (done) {
				reap(s);
				drain_until = wd_now_ms() + DRAIN_MS;
			}
		}
	}
	return 0;
}

static void fill_exit(wd_sandbox_result *out, const supervise *s)
{
	int st = s->have_cmd_status ? s->cmd_status : s->status;

	if (s->timed_out) {
		out->timed_out = 1;
		out->exit_code = 124;
		out->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	} else if (WIFEXITED(st)) {
		out->exit_code = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		out->signal = WTERMSIG(st);
		out->exit_code = 128 + out->signal;
	} else {
		out->exit_code = 255;
	}
}

static const char *const default_deny[] = {
	".ssh", ".gnupg", ".aws", ".config/warden", ".netrc", ".docker", NULL
};

/* Resolve a path for the plan (absolute, symlinks resolved); "~/" is the
 * invoking user's home. Missing paths are dropped: there is nothing to
 * read there, and the sandbox cannot create them. */
static int add_path(run_ctx *c, const char **slots, size_t *n, const char *path)
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

static int plan_paths(run_ctx *c, const wd_sandbox_opts *opts)
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

static void plan_limits(run_ctx *c, const wd_sandbox_opts *opts)
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
static int missing(wd_sandbox_result *out, int strict, int layer, const char *why)
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

/* A cgroup when one can be made; for root it is the only way to bound the
 * process count, so its absence is then a missing layer. */
static int plan_cgroup(run_ctx *c, wd_sandbox_result *out)
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
			rc = missing(out, p->strict, SBX_LIMITS, msg.ptr);
		p->nproc_reported = 1;
		wd_buf_free(&msg);
	}
	wd_buf_free(&why);
	return rc;
}

/* Decide which layers to attempt; record those this machine cannot do. */
static int plan_layers(run_ctx *c, const wd_sandbox_opts *opts, wd_sandbox_result *out)
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
			rc = missing(out, p->strict, SBX_LANDLOCK, why.ptr);
		wd_buf_free(&why);
		if (rc)
			return rc;
	}
	if (sbx_seccomp_build(&c->seccomp_prog) == 0) {
		p->seccomp_prog = c->seccomp_prog;
		p->want |= 1u << SBX_SECCOMP;
	} else if ((rc = missing(out, p->strict, SBX_SECCOMP, wd_error_last())) != 0) {
		return rc;
	}
	return 0;
}

#define CLONE_INTO_CGROUP_FLAG 0x200000000ULL

struct sbx_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
	    set_tid, set_tid_size, cgroup;
};

/* Start the child: into fresh namespaces when the plan wants them (with
 * clone3, which also hands back a pidfd), else with a plain fork. */
static pid_t spawn(run_ctx *c, wd_sandbox_result *out, int *pidfd)
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
					rc = missing(out, p->strict, l, why.ptr);
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

/* Say in the output when the cgroup's limits stopped something: a bare
 * "Killed" or "fork: Resource temporarily unavailable" leaves a reader (or
 * the model in a repair round) guessing. */
/* A line of warden's own at the end of the output, shown live as well. */
static int add_note(sbx_capture *cap, const wd_sandbox_opts *opts, const char *msg, int len)
{
	if (len <= 0)
		return 0;
	if (opts->on_output)
		opts->on_output(opts->on_output_ctx, msg, (size_t)len);
	return sbx_capture_add(cap, msg, (size_t)len) != 0 ? WD_ENOMEM : 0;
}

static int note_limits(run_ctx *c, sbx_capture *cap, const wd_sandbox_opts *opts, int sig)
{
	unsigned long ooms = 0, forks = 0;
	char msg[256];
	int k;

	if (sig == SIGXCPU || sig == SIGXFSZ) {
		k = snprintf(msg, sizeof(msg), "%swarden-sandbox: the %s was reached\n",
		             cap->last == '\n' ? "" : "\n",
		             sig == SIGXCPU ? "CPU time limit" : "file size limit (1 GiB)");
		if (add_note(cap, opts, msg, k) != 0)
			return WD_ENOMEM;
	}
	if (c->cg.version == 0)
		return 0;
	sbx_cgroup_events(&c->cg, &ooms, &forks);
	if (ooms) {
		k = snprintf(msg, sizeof(msg), "%swarden-sandbox: the memory limit (%llu MiB) was reached; "
		             "the kernel killed %lu process%s\n", cap->last == '\n' ? "" : "\n",
		             (unsigned long long)(c->plan.memory_bytes >> 20), ooms, ooms == 1 ? "" : "es");
		if (add_note(cap, opts, msg, k) != 0)
			return WD_ENOMEM;
	}
	if (forks) {
		k = snprintf(msg, sizeof(msg), "%swarden-sandbox: the process limit (%lu) was reached; "
		             "%lu fork%s refused\n", cap->last == '\n' ? "" : "\n", c->plan.nproc, forks,
		             forks == 1 ? " was" : "s were");
		if (add_note(cap, opts, msg, k) != 0)
			return WD_ENOMEM;
	}
	return 0;
}

/* Not found (127): say so when the command lies where the sandbox hides
 * it, e.g. a toolchain under $HOME. */
static int note_hidden(run_ctx *c, wd_sandbox_result *out, const wd_sandbox_opts *opts)
{
	const char *host_path = getenv("PATH");
	wd_buf note = WD_BUF_INIT;
	int rc;

	rc = sbx_view_hint(&c->plan, env_path(c), out->output.ptr ? out->output.ptr : "",
	                   out->output.len, c->hidden_hit, &note);
	/* the caller may have given the command a PATH of its own: the
	 * toolchain may still be on warden's */
	if (!rc && !note.len && host_path && (!env_path(c) || strcmp(env_path(c), host_path)))
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

int wd_sandbox_run(wd_sandbox_result *out, const wd_sandbox_opts *opts)
{
	run_ctx c;
	supervise s;
	sbx_capture cap;
	uint64_t start;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	c.out_r = c.out_w = c.rep_r = c.rep_w = c.in_fd = -1;
	c.cg.dir_fd = c.cg.procs_fd[0] = c.cg.procs_fd[1] = -1;
	c.plan.cg_procs_fd[0] = c.plan.cg_procs_fd[1] = c.plan.cg_dir_fd = -1;
	s.pidfd = -1;
	sbx_capture_init(&cap, opts ? opts->output_cap : 0);

	if (!opts || opts->version != WD_SANDBOX_OPTS_VERSION) {
		rc = wd_error_set(WD_EUSAGE, "sandbox: options missing or of an unknown version");
		goto out;
	}
	if ((rc = prepare(&c, opts)) != 0 || (rc = plan_layers(&c, opts, out)) != 0 ||
	    (rc = resolve_path(&c, opts->argv[0])) != 0)
		goto out;
	c.plan.path = c.path;
	if ((rc = wd_strvec_push(&out->layers, "pgroup")) != 0 ||
	    (rc = wd_strvec_push(&out->layers, "clean-env")) != 0)
		goto out;

	start = wd_now_ms();
	s.pid = spawn(&c, out, &s.pidfd);
	if (s.pid < 0) {
		rc = wd_error_last_code() ? wd_error_last_code() : WD_EINFRA;
		goto out;
	}
	/* SIGINT/SIGTERM to warden kill this group (warden/interrupt.h) */
	wd_interrupt_watch(s.pid);
	close_fd(&c.out_w);
	close_fd(&c.rep_w);
	close_fd(&c.in_fd);

	rc = loop(&c, &s, &cap, out, opts, start);
	wd_interrupt_watch(0);
	if (rc) {
		kill(-s.pid, SIGKILL);
		kill(s.pid, SIGKILL);
		if (!s.exited)
			waitpid(s.pid, &s.status, 0);
		goto out;
	}
	out->wall_ms = wd_now_ms() - start;
	if (s.fatal) {
		/* 2: a layer failed under the strict policy; 1: the set-up itself */
		rc = wd_error_set(WD_EINFRA, "sandbox%s: %s", s.fatal == 2 ? " (strict policy)" : "",
		                  s.fatal_msg.ptr);
		goto out;
	}
	if (s.exec_errno) {
		char msg[PATH_MAX + 128];
		int k = snprintf(msg, sizeof(msg), "warden-sandbox: %s: %s\n", c.path,
		                 strerror(s.exec_errno));

		if ((rc = add_note(&cap, opts, msg, k)) != 0)
			goto out;
	}
	fill_exit(out, &s);
	if ((rc = note_limits(&c, &cap, opts, out->signal)) != 0)
		goto out;
	out->output_total = cap.total;
	rc = sbx_capture_finish(&cap, &out->output, &out->output_truncated);
	if (!rc && out->exit_code == 127 && !out->timed_out && allowlisted(&c))
		rc = note_hidden(&c, out, opts);

out:
	if (s.pid > 0)
		overlay_work_removable(&c.plan);
	if (s.pidfd >= 0)
		close(s.pidfd);
	wd_buf_free(&s.fatal_msg);
	sbx_capture_free(&cap);
	ctx_free(&c);
	if (rc)
		wd_sandbox_result_free(out);
	return rc;
}

void wd_sandbox_result_free(wd_sandbox_result *r)
{
	if (!r)
		return;
	wd_buf_free(&r->output);
	wd_strvec_free(&r->layers);
	wd_strvec_free(&r->missing);
}
