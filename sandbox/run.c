/*
 * wd_sandbox_run: plan (plan.c), spawn (spawn.c), sbx_watch (sbx_watch.c),
 * and say what happened (diagnose.c). This file holds the sequence and the
 * clean-up; the pieces live beside it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/interrupt.h"
#include "run_int.h"

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

static void ctx_free(sbx_ctx *c)
{
	sbx_close_fd(&c->out_r);
	sbx_close_fd(&c->out_w);
	sbx_close_fd(&c->rep_r);
	sbx_close_fd(&c->rep_w);
	sbx_close_fd(&c->in_fd);
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

int wd_sandbox_run(wd_sandbox_result *out, const wd_sandbox_opts *opts)
{
	sbx_ctx c;
	sbx_watch s;
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
	if ((rc = sbx_prepare(&c, opts)) != 0 || (rc = sbx_plan_layers(&c, opts, out)) != 0 ||
	    (rc = sbx_resolve_path(&c, opts->argv[0])) != 0)
		goto out;
	c.plan.path = c.path;
	if ((rc = wd_strvec_push(&out->layers, "pgroup")) != 0 ||
	    (rc = wd_strvec_push(&out->layers, "clean-env")) != 0)
		goto out;

	start = wd_now_ms();
	s.pid = sbx_spawn(&c, out, &s.pidfd);
	if (s.pid < 0) {
		rc = wd_error_last_code() ? wd_error_last_code() : WD_EINFRA;
		goto out;
	}
	/* SIGINT/SIGTERM to warden kill this group (warden/interrupt.h) */
	wd_interrupt_watch(s.pid);
	sbx_close_fd(&c.out_w);
	sbx_close_fd(&c.rep_w);
	sbx_close_fd(&c.in_fd);

	rc = sbx_supervise(&c, &s, &cap, out, opts, start);
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

		if ((rc = sbx_add_note(&cap, opts, msg, k)) != 0)
			goto out;
	}
	sbx_fill_exit(out, &s);
	if ((rc = sbx_note_limits(&c, &cap, opts, out->signal)) != 0)
		goto out;
	out->output_total = cap.total;
	rc = sbx_capture_finish(&cap, &out->output, &out->output_truncated);
	if (!rc && out->exit_code == 127 && !out->timed_out && sbx_allowlisted(&c))
		rc = sbx_note_hidden(&c, out, opts);

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
