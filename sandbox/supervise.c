/*
 * Watching the child until it is done: its output, its report pipe, the
 * hard timeout, and its exit.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/interrupt.h"
#include "run_int.h"

/* Close *fd if open and mark it closed (run.c closes its pipe ends with it too). */
void sbx_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

#define DRAIN_MS 500

static int take_msg(sbx_watch *s, wd_sandbox_result *out, const sbx_msg *m)
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

static int read_reports(sbx_watch *s, wd_sandbox_result *out, int *fd)
{
	char buf[SBX_QUEUE * sizeof(sbx_msg)];
	ssize_t n = read(*fd, buf, sizeof(buf));
	const char *p = buf;
	int rc;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : wd_error_errno(WD_EINFRA, "sandbox: report pipe");
	if (n == 0) {
		sbx_close_fd(fd);
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
		sbx_close_fd(fd);
		return 0;
	}
	if (opts->on_output)
		opts->on_output(opts->on_output_ctx, chunk, (size_t)n);
	return sbx_capture_add(cap, chunk, (size_t)n);
}

static void reap(sbx_watch *s)
{
	/* the group still exists while the leader is a zombie: take the
	 * stragglers (background jobs) down before reaping frees the pid */
	kill(-s->pid, SIGKILL);
	wd_interrupt_watch(0);  /* before the pid stops being ours */
	while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
		;
	s->exited = 1;
}

int sbx_supervise(sbx_ctx *c, sbx_watch *s, sbx_capture *cap, wd_sandbox_result *out,
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

void sbx_fill_exit(wd_sandbox_result *out, const sbx_watch *s)
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
