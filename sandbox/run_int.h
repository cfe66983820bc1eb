#ifndef WARDEN_SANDBOX_RUN_INT_H
#define WARDEN_SANDBOX_RUN_INT_H

/*
 * Private to the parent's side of wd_sandbox_run (run.c, plan.c, spawn.c,
 * supervise.c, diagnose.c): the state of one run and of its supervision.
 * Nothing here runs in the child.
 */
#include <limits.h>
#include <sys/types.h>

#include "warden/buf.h"
#include "warden/sandbox.h"
#include "sbx.h"


typedef struct sbx_ctx {
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
} sbx_ctx;


typedef struct sbx_watch {
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
} sbx_watch;

/* plan.c */
int sbx_prepare(sbx_ctx *c, const wd_sandbox_opts *opts);
int sbx_plan_layers(sbx_ctx *c, const wd_sandbox_opts *opts, wd_sandbox_result *out);
int sbx_resolve_path(sbx_ctx *c, const char *cmd);
/* The PATH the command gets, or NULL. */
const char *sbx_env_path(const sbx_ctx *c);
/* Reads are an allow-list (mount namespace or Landlock). */
int sbx_allowlisted(const sbx_ctx *c);

/* spawn.c: the descriptors the child gets (prepare calls it), then the
 * child itself: its pid, or -1 with the error set. */
int sbx_open_pipes(sbx_ctx *c, const char *stdin_data);
pid_t sbx_spawn(sbx_ctx *c, wd_sandbox_result *out, int *pidfd);

/* supervise.c */
int sbx_supervise(sbx_ctx *c, sbx_watch *s, sbx_capture *cap, wd_sandbox_result *out,
                  const wd_sandbox_opts *opts, uint64_t start);
void sbx_fill_exit(wd_sandbox_result *out, const sbx_watch *s);

/* diagnose.c */
int sbx_missing(wd_sandbox_result *out, int strict, int layer, const char *why);
int sbx_add_note(sbx_capture *cap, const wd_sandbox_opts *opts, const char *msg, int len);
int sbx_note_limits(sbx_ctx *c, sbx_capture *cap, const wd_sandbox_opts *opts, int sig);
int sbx_note_hidden(sbx_ctx *c, wd_sandbox_result *out, const wd_sandbox_opts *opts);

/* run.c */
void sbx_close_fd(int *fd);

#endif
