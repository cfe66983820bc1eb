/*
 * The forked child. Everything here runs between fork and exec in a copy of
 * a possibly multithreaded process, so it only makes system calls and uses
 * the plan the parent prepared: no malloc, no stdio, no locks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdint.h>
#include <unistd.h>

#include "sbx.h"

void sbx_flush(sbx_child *c)
{
	const char *buf = (const char *)c->q;
	size_t len = (size_t)c->n * sizeof(sbx_msg);

	/* one write of whole messages; at most 16 of them fit in PIPE_BUF */
	while (len) {
		ssize_t w = write(c->p->report_fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		buf += w;
		len -= (size_t)w;
	}
	c->n = 0;
}

void sbx_report(sbx_child *c, int type, int layer, int err, const char *a, const char *b)
{
	sbx_msg *m;

	if (c->n == SBX_QUEUE)
		sbx_flush(c);
	m = &c->q[c->n++];
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->layer = layer;
	m->err = err;
	if (a)
		sbx_strlcpy(m->text, a, sizeof(m->text));
	if (b)
		sbx_strlcat(m->text, b, sizeof(m->text));
	if (type == SBX_MSG_FATAL || type == SBX_MSG_EXECFAIL || type == SBX_MSG_EXIT)
		sbx_flush(c);
}

/* Signals ignored or blocked in warden must not stay so in the command
 * (a shell pipeline relies on SIGPIPE killing the writer). */
static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t all;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static int kept(const sbx_plan *p, int fd)
{
	return fd == p->report_fd || fd == p->cg_procs_fd[0] || fd == p->cg_procs_fd[1];
}

/* Close every descriptor but stdio and the few the child still needs. The
 * pid-namespace init never execs, so close-on-exec is not enough: it would
 * keep the pipes of other runs in this process (other threads) open. */
static void close_others(const sbx_plan *p)
{
	int lo = 3;

	for (int fd = 3; fd < 1024 * 1024; fd++) {
		int hi = -1;

		/* the next kept descriptor at or after fd */
		for (int i = 0; i < 3; i++) {
			int k = i == 0 ? p->report_fd : p->cg_procs_fd[i - 1];

			if (k >= fd && (hi < 0 || k < hi))
				hi = k;
		}
		if (hi < 0) {
			if (syscall(SYS_close_range, (unsigned)lo, ~0U, 0) < 0)
				for (int f = lo; f < 4096; f++)
					close(f);
			return;
		}
		if (hi > lo && syscall(SYS_close_range, (unsigned)lo, (unsigned)hi - 1, 0) < 0)
			for (int f = lo; f < hi; f++)
				if (!kept(p, f))
					close(f);
		lo = hi + 1;
		fd = hi;
	}
}

static void setup_stdio(const sbx_plan *p)
{
	if (dup2(p->stdin_fd, 0) < 0 || dup2(p->out_fd, 1) < 0 || dup2(p->out_fd, 2) < 0)
		_exit(126);
	close_others(p);
}

/* Apply a layer step: on failure report it as missing (best effort) or fatal
 * (strict, and the child exits without running the command). */
static void layer_result(sbx_child *c, int layer, int ok, const char *label, const char *why)
{
	const sbx_plan *p = c->p;
	char text[200];

	if (ok) {
		sbx_report(c, SBX_MSG_APPLIED, layer, 0, label, NULL);
		return;
	}
	sbx_strlcpy(text, sbx_layer_name(layer), sizeof(text));
	sbx_strlcat(text, ": ", sizeof(text));
	sbx_strlcat(text, why ? why : "failed", sizeof(text));
	sbx_report(c, p->strict ? SBX_MSG_FATAL : SBX_MSG_MISSING, layer, 0, text, NULL);
	if (p->strict)
		_exit(126);
}

/* A command run by root would otherwise keep every capability (inside our
 * user namespace uid 0 is mapped to itself): empty the bounding set so that
 * exec grants none, and drop the current ones. For an ordinary user both
 * are no-ops. */
static void drop_caps(void)
{
	struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };
	struct { uint32_t eff, perm, inh; } data[2];

	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break;
	memset(data, 0, sizeof(data));
	syscall(SYS_capset, &hdr, data);
}

static void exec_command(sbx_child *c, int userns_ok, int cg_ok) __attribute__((noreturn));
static void exec_command(sbx_child *c, int userns_ok, int cg_ok)
{
	const sbx_plan *p = c->p;
	const char *what = NULL;
	int err;

	if (p->want & (1u << SBX_LIMITS)) {
		err = sbx_limits_apply(p, userns_ok, cg_ok, &what);
		layer_result(c, SBX_LIMITS, err == 0, "limits", what);
	}
	/* root keeps no capability either way: inside the user namespace, and
	 * on the best-effort path without one (the policy "off" changes nothing) */
	if (p->want) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		drop_caps();
	}
	if (p->want & (1u << SBX_LANDLOCK)) {
		char label[32] = "landlock:abi=";
		char n[8];

		sbx_utoa(n, sizeof(n), (unsigned long)p->landlock_abi);
		sbx_strlcat(label, n, sizeof(label));
		err = sbx_landlock_apply(p, c->mounted, &what);
		layer_result(c, SBX_LANDLOCK, err == 0, label, what);
	}
	if (p->want & (1u << SBX_SECCOMP)) {
		err = sbx_seccomp_apply(p);
		layer_result(c, SBX_SECCOMP, err == 0, "seccomp",
		             err ? "cannot install the filter" : NULL);
	}
	/* the reports go out now: the pipe closes on exec */
	sbx_flush(c);
	execve(p->path, p->argv, p->envp);
	err = errno;
	sbx_report(c, SBX_MSG_EXECFAIL, -1, err, p->path, NULL);
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/* pid 1 of the pid namespace: forward termination to everyone in it, reap
 * orphans, and leave (which kills whatever remains) when the command ends. */
static volatile sig_atomic_t init_got_term;

static void init_on_term(int sig)
{
	init_got_term = sig;
	kill(-1, sig);
}

static void run_as_init(sbx_child *c, int userns_ok, int cg_ok) __attribute__((noreturn));
static void run_as_init(sbx_child *c, int userns_ok, int cg_ok)
{
	struct sigaction sa;
	pid_t cmd;
	int status = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = init_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	sbx_flush(c);
	/* a raw clone, not fork(): glibc's fork takes the malloc and stdio
	 * locks and runs atfork handlers, and any of those may have been held
	 * by another thread of warden at the moment this process was cloned */
	cmd = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
	if (cmd < 0) {
		sbx_report(c, SBX_MSG_FATAL, SBX_PIDNS, errno, "pidns: cannot fork the command", NULL);
		_exit(126);
	}
	if (cmd == 0) {
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		exec_command(c, userns_ok, cg_ok);
	}
	for (;;) {
		int st;
		pid_t w = wait(&st);

		if (w == cmd) {
			status = st;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
	}
	sbx_report(c, SBX_MSG_EXIT, -1, status, NULL, NULL);
	/* leaving pid 1 kills every process left in the namespace */
	_exit(0);
}

void sbx_child_main(const sbx_plan *p)
{
	sbx_child ch, *c = &ch;
	const char *why = NULL, *proc_why = NULL;
	int ok, mounted, userns_ok = 0, cg_ok = 1;

	ch.p = p;
	ch.n = 0;
	ch.mounted = 0;

	/* into the cgroup before anything else, so that every descendant is
	 * counted and limited */
	for (int i = 0; i < 2 && !p->cg_by_clone; i++) {
		if (p->cg_procs_fd[i] < 0)
			continue;
		if (write(p->cg_procs_fd[i], "0", 1) != 1)
			cg_ok = 0;
	}
	if (p->cg_procs_fd[0] < 0)
		cg_ok = 0;
	else if (!cg_ok)
		layer_result(c, SBX_LIMITS, 0, NULL, "cannot join the cgroup");
	/* a session of its own: one process group to kill, and no controlling
	 * terminal to read the user's keystrokes from or write escapes to */
	if (setsid() < 0)
		setpgid(0, 0);
	reset_signals();
	/* die with warden: an orphaned check must not run on unsupervised */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	setup_stdio(p);

	if (p->want & (1u << SBX_USERNS)) {
		userns_ok = sbx_ns_setup_ids(p, &why) == 0;
		layer_result(c, SBX_USERNS, userns_ok, "userns", why);
	}
	if (p->want & (1u << SBX_NETNS)) {
		ok = sbx_ns_setup_net(p, &why) == 0;
		layer_result(c, SBX_NETNS, ok, p->net == WD_NET_LOOPBACK ? "netns:loopback" : "netns",
		             why);
	}
	mounted = 0;
	if (p->want & (1u << SBX_MNTNS)) {
		int r = sbx_ns_setup_mounts(p, (p->want & (1u << SBX_PIDNS)) != 0, &why, &proc_why);

		mounted = r == 0;
		/* an overlay (or a work tree elsewhere) exists only in the mount
		 * namespace, and a half-built view is no place to run in: no
		 * command then, whatever the policy */
		if (!mounted && (p->need_mntns || r == -2)) {
			sbx_report(c, SBX_MSG_FATAL, -1, 0, "mntns: ", why);
			_exit(126);
		}
		layer_result(c, SBX_MNTNS, mounted, "mntns", why);
		if (mounted)
			sbx_report(c, SBX_MSG_APPLIED, SBX_MNTNS, 0, "mntns:allowlist", NULL);
		if (mounted && p->ovl_upper)
			sbx_report(c, SBX_MSG_APPLIED, SBX_MNTNS, 0, "overlay", NULL);
	}
	c->mounted = mounted;
	if (!mounted && sbx_make_private_tmp(p) != 0) {
		sbx_report(c, SBX_MSG_FATAL, -1, errno, "cannot create the private tmp ", p->host_tmp);
		_exit(126);
	}
	if (p->want & (1u << SBX_PIDNS)) {
		/* a fresh /proc needs the mount namespace; without it the pid
		 * namespace still takes every process down with the command */
		ok = mounted && !proc_why;
		layer_result(c, SBX_PIDNS, ok, "pidns",
		             mounted ? proc_why : "no mount namespace to mount a fresh /proc in");
	}
	if (chdir(p->cwd) < 0) {
		sbx_report(c, SBX_MSG_FATAL, -1, errno, "cannot enter the work directory ", p->cwd);
		_exit(126);
	}
	if (p->want & (1u << SBX_PIDNS))
		run_as_init(c, userns_ok, cg_ok);
	exec_command(c, userns_ok, cg_ok);
}
