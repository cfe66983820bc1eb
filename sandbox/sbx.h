#ifndef WARDEN_SANDBOX_SBX_H
#define WARDEN_SANDBOX_SBX_H

/*
 * Private to sandbox/: the pieces of wd_sandbox_run.
 *
 * The parent prepares everything that allocates (argv, environment, the
 * seccomp program, resolved paths) into an sbx_plan before it forks, because
 * warden may be multithreaded and the child may only make system calls until
 * it execs. Code that runs in the child (child.c, landlock.c, limits.c)
 * therefore uses no malloc, no stdio and no locks, only the plan, the stack
 * and raw system calls. The child tells the parent what it applied through
 * a close-on-exec "report" pipe of fixed-size messages.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "warden/buf.h"
#include "warden/sandbox.h"

#define SBX_DEFAULT_OUTPUT_CAP ((size_t)4 << 20)
#define SBX_DEFAULT_MEMORY_MB 4096
#define SBX_DEFAULT_PIDS 512
#define SBX_DEFAULT_FSIZE_MB 1024
#define SBX_DEFAULT_NOFILE 1024
#define SBX_TERM_GRACE_MS 1000
#define SBX_MAX_PATHS 64
#define SBX_MAX_DENY (SBX_MAX_PATHS + 48)  /* the caller's, plus the secrets in /etc */
#define SBX_MAX_LAYERS 32                  /* overlay lower layers */
#define SBX_MAX_OPS (3 * SBX_MAX_PATHS + 96)

/* --- output capture (capture.c) --- */
typedef struct sbx_capture {
	size_t head_cap, tail_cap;
	wd_buf head;
	char *ring;
	size_t ring_len, ring_pos;
	size_t total;
	char last;            /* the last byte seen, '\n' before any */
} sbx_capture;

int sbx_capture_init(sbx_capture *c, size_t cap);
int sbx_capture_add(sbx_capture *c, const char *p, size_t n);
int sbx_capture_finish(sbx_capture *c, wd_buf *out, int *truncated);
void sbx_capture_free(sbx_capture *c);

/* --- environment (env.c) --- */
int sbx_env_is_secret(const char *name);
int sbx_env_build(wd_strvec *env, const wd_sandbox_opts *opts, const char *home,
                  const char *tmpdir, const char *workdir);

/* --- layers --- */
enum sbx_layer {
	SBX_USERNS = 0,
	SBX_MNTNS,
	SBX_PIDNS,
	SBX_NETNS,
	SBX_LANDLOCK,
	SBX_SECCOMP,
	SBX_LIMITS,
	SBX_NLAYERS
};

const char *sbx_layer_name(int layer);

/* messages on the report pipe, each written with one write(2) (< PIPE_BUF) */
enum sbx_msg_type {
	SBX_MSG_APPLIED = 1,  /* text: layer label, e.g. "landlock:abi=7" */
	SBX_MSG_MISSING,      /* text: "layer: why" (best effort went on) */
	SBX_MSG_FATAL,        /* text: "layer: why" (strict: the command did not run) */
	SBX_MSG_EXECFAIL,     /* err: errno of execve */
	SBX_MSG_EXIT          /* err: wait status of the command (pid-namespace init) */
};

typedef struct sbx_msg {
	int type;
	int layer;
	int err;
	char text[200];
} sbx_msg;

/* --- cgroup (cgroup.c, parent side) --- */
typedef struct sbx_cgroup {
	int version;          /* 0 none, 1 or 2 */
	char *dir[2];         /* groups made: v2 one; v1 pids (and memory) */
	int procs_fd[2];      /* their cgroup.procs, for the child to join */
	int dir_fd;
	int has_pids, has_memory;
} sbx_cgroup;

/* Make a group limited to `pids` processes and `memory_bytes` (0 = no memory
 * limit). 0 on success; else -1 with the reason in `why`. */
int sbx_cgroup_setup(sbx_cgroup *cg, uint64_t memory_bytes, unsigned long pids, wd_buf *why);
/* How often the group hit its limits: processes the OOM killer took, and
 * forks refused at pids.max. */
void sbx_cgroup_events(const sbx_cgroup *cg, unsigned long *oom_kills, unsigned long *pids_max_hits);
/* Kill what is left in the group and remove it. */
void sbx_cgroup_cleanup(sbx_cgroup *cg);

/* --- the file system the command sees (view.c, parent side) ---
 *
 * The parent turns the options into an ordered list of mount operations on
 * the fresh root: ancestors before what lies beneath them (so the deeper
 * path wins, whether it is an allowed path beneath a hidden one or a masked
 * one beneath an allowed one), the work tree last, then the masks that lie
 * inside the work tree. The child (ns.c) only carries them out. */
enum sbx_op_kind {
	SBX_OP_BIND_RO = 1,   /* the host's `path`, read-only, at the same path */
	SBX_OP_BIND_RW,       /* the host's `path`, writable */
	SBX_OP_LINK,          /* a symbolic link at `path` to `target` */
	SBX_OP_TMPFS,         /* a private writable tmpfs */
	SBX_OP_MASK,          /* hide what is visible at `path`, if anything */
	SBX_OP_WORK           /* the work tree (or the overlay) at `path` */
};

typedef struct sbx_op {
	int kind;
	int is_dir;           /* binds: a directory (else a file) */
	int open_below;       /* masks: later mounts go beneath it, so it stays
	                       * writable until the work tree is attached */
	const char *path;     /* absolute, resolved */
	const char *target;   /* SBX_OP_LINK */
} sbx_op;

typedef struct sbx_plan sbx_plan;

/* Fill plan->ops (and the /etc secrets into plan->deny) from what the plan
 * already holds: allow and deny paths, workdir, cwd. `owned` keeps the
 * strings. 0 or a negative wd_error_code. */
int sbx_view_plan(sbx_plan *p, wd_strvec *owned);
/* Whether the host file `real` (absolute, resolved) is visible inside at
 * its own path, by the plan's allow-list. */
int sbx_view_visible(const sbx_plan *p, const char *real);
/* The command exited 127: if its output (or `hidden_hit`, argv[0] found only
 * in a hidden directory) names a command that lies on `pathvar` (a PATH
 * value) in a directory the sandbox hides, append one line saying what to
 * allow. */
int sbx_view_hint(const sbx_plan *p, const char *pathvar, const char *output, size_t len,
                  const char *hidden_hit, wd_buf *note);
/* One line for the probe: what is readable. */
int sbx_view_describe(wd_buf *out);

struct sbx_plan {
	/* what to run */
	const char *path;          /* resolved executable, or argv[0] to try */
	char *const *argv;
	char *const *envp;
	const char *workdir;       /* the host work tree, absolute and resolved; NULL
	                            * with an overlay */
	const char *cwd;           /* where the command sees the work tree and starts */
	int need_mntns;            /* an overlay, or cwd != workdir: no run without it */
	int stdin_fd, out_fd, report_fd;

	/* layers to try (bit per enum sbx_layer) and the policy */
	unsigned want;
	int strict;
	int net;                   /* enum wd_sandbox_net */
	uid_t uid;                 /* ids outside, mapped to themselves inside */
	gid_t gid;

	/* mount namespace */
	unsigned long tmpfs_mb;
	sbx_op ops[SBX_MAX_OPS];   /* the view, in order (view.c) */
	size_t nops;
	const char *ovl_lower[SBX_MAX_LAYERS];  /* overlay: topmost first; resolved */
	size_t novl_lower;
	const char *ovl_upper;     /* NULL: no overlay */
	const char *ovl_work;

	/* Landlock and the mount masks: absolute, resolved paths */
	int landlock_abi;
	const char *deny[SBX_MAX_DENY];
	size_t ndeny;
	const char *allow_read[SBX_MAX_PATHS];
	size_t nallow_read;
	const char *allow_write[SBX_MAX_PATHS];
	size_t nallow_write;
	const char *host_tmp;      /* private tmp on the host when there is no mount namespace */

	/* seccomp: a ready BPF program (struct sock_fprog) */
	const void *seccomp_prog;

	/* limits */
	int cg_procs_fd[2];        /* cgroup.procs / tasks to join first (-1 = none) */
	int cg_dir_fd;             /* cgroup v2 directory, for CLONE_INTO_CGROUP */
	int cg_by_clone;           /* the child was cloned into the group already */
	int cg_pids;               /* the cgroup limits the process count */
	int cg_memory;             /* the cgroup limits memory */
	int nproc_reported;        /* the parent already reported nproc as missing */
	uint64_t memory_bytes;     /* the cgroup's memory limit; 0 = none */
	uint64_t as_bytes;         /* RLIMIT_AS when no memory cgroup; 0 = none */
	uint64_t cpu_sec;          /* RLIMIT_CPU; 0 = none */
	unsigned long nproc;
	uint64_t fsize_bytes;
	unsigned long nofile;
};

/* child.c: runs in the forked child; never returns. */
void sbx_child_main(const sbx_plan *plan) __attribute__((noreturn));

/* The child's report queue: messages are sent in batches (before the
 * child forks, execs or exits), so that warden wakes up a few times per run
 * rather than once per layer. */
#define SBX_QUEUE 16
typedef struct sbx_child {
	const sbx_plan *p;
	sbx_msg q[SBX_QUEUE];
	int n;
	int mounted;          /* the mount namespace's view is in place */
} sbx_child;

/* Queue one report message (async-signal-safe); fatal ones go out at once. */
void sbx_report(sbx_child *c, int type, int layer, int err, const char *a, const char *b);
/* Send what is queued. */
void sbx_flush(sbx_child *c);

/* str.c: async-signal-safe string helpers for the child. */
size_t sbx_strlcpy(char *dst, const char *src, size_t size);
size_t sbx_strlcat(char *dst, const char *src, size_t size);
void sbx_utoa(char *dst, size_t size, unsigned long v);

/* diagnose.c: explain why a layer is unavailable */
int sbx_userns_why(wd_buf *out, int err);
int sbx_landlock_why(wd_buf *out, int abi);

/* landlock.c */
int sbx_landlock_abi(void);
/* In the child: restrict itself to the plan's view (`mounted`: the mount
 * namespace shows it; else Landlock alone makes the read allow-list); on
 * failure fills why (static text). 0 ok. */
int sbx_landlock_apply(const sbx_plan *plan, int mounted, const char **why);

/* seccomp.c: build the filter in the parent; free with sbx_seccomp_free. */
int sbx_seccomp_build(void **out_prog);
void sbx_seccomp_free(void *prog);
/* In the child: no_new_privs + install. 0 ok, else errno. */
int sbx_seccomp_apply(const sbx_plan *plan);

/* limits.c: in the child. 0 ok, else errno, *what names the failing limit. */
int sbx_limits_apply(const sbx_plan *plan, int userns, int in_cgroup, const char **what);

/* ns.c: in the child, after clone into the namespaces. */
int sbx_ns_setup_ids(const sbx_plan *plan, const char **why);
/* Build the new root and enter it. A fresh /proc is mounted there when
 * `proc` is set; if that alone fails, *proc_why says why and the rest
 * stands (0 is returned). -1: failed with the host's root still in place
 * (best effort may go on without); -2: failed after entering the new root,
 * which no policy may run the command in. */
int sbx_ns_setup_mounts(const sbx_plan *plan, int proc, const char **why, const char **proc_why);
/* Create host_tmp with home/ and tmp/ (in the private /tmp when mounted). */
int sbx_make_private_tmp(const sbx_plan *p);
int sbx_ns_setup_net(const sbx_plan *plan, const char **why);

/* overlay.c: in the child, before the old root goes: an overlayfs of the
 * plan's layers, detached; returns its mount fd, or -1 with *why set. */
int sbx_overlay_mount(const sbx_plan *plan, const char **why);

#endif
