#ifndef WARDEN_SANDBOX_H
#define WARDEN_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "warden/buf.h"

/*
 * Run one command confined. The gate runs every check through this, and
 * `warden sandbox` exposes it directly.
 *
 * Always (every policy): its own session and process group (no controlling
 * terminal), killed as a whole on the timeout (SIGTERM, then SIGKILL a
 * second later) and when the command ends;
 * a clean environment from an allow-list (PATH, LANG, LC_ALL, LC_CTYPE,
 * TERM, HOME and TMPDIR pointed at a private directory, PWD, plus
 * env_allow; never anything that looks like a secret: *_API_KEY, *_TOKEN,
 * *SECRET*, *PASSWORD*, AWS_*, ...); stdin from /dev/null (or stdin_data);
 * no inherited descriptors beyond 0-2; stdout+stderr captured through one
 * pipe with a head+tail cap.
 *
 * Unless the policy is WD_POLICY_OFF, the layers (each reported in
 * result->layers, or in result->missing as "layer: why"):
 *   userns   the invoking uid/gid mapped to themselves, no capabilities left
 *   mntns    host root read-only; workdir and allow_write writable; private
 *            tmpfs /tmp (HOME and TMPDIR live there); fresh /proc with
 *            /proc/sys read-only; minimal /dev (null, zero, full, random,
 *            urandom, tty, private shm and pts); /run hidden (service and
 *            agent sockets); the deny_read paths masked by empty mounts
 *   pidns    the command is pid 1's child; everything it starts (setsid
 *            daemons included) dies when it ends
 *   netns    no network (WD_NET_NONE), or a private loopback (WD_NET_LOOPBACK)
 *   landlock writes only to workdir, allow_write and the private tmp; reads
 *            everywhere except deny_read; TCP off under WD_NET_NONE (ABI 4+);
 *            signals and abstract sockets scoped to the sandbox (ABI 6+)
 *   seccomp  ptrace, mount, namespaces, keyrings, bpf, perf, kexec, modules,
 *            reboot, swap, io_uring, ... fail with EPERM; no_new_privs
 *   limits   core dumps off, file size 1 GiB, 1024 open files, CPU time
 *            (timeout x cores), processes (pids), memory; through a cgroup
 *            ("cgroup:v2" or "cgroup:v1" in layers) when warden can make one,
 *            else rlimits; a line at the end of the output names a limit
 *            that stopped something
 * Root keeps no capabilities inside (unless the policy is off). ASan's leak
 * checker needs ptrace, which the filter denies: run sanitizer builds with
 * ASAN_OPTIONS=detect_leaks=0 (env_allow "ASAN_OPTIONS=detect_leaks=0").
 * The thread calling wd_sandbox_run waits for the command; it is safe to
 * call from several threads at once (no global state).
 */

enum wd_sandbox_net {
	WD_NET_NONE = 0,      /* network namespace with loopback down; no TCP at all */
	WD_NET_LOOPBACK = 1,  /* network namespace with a private loopback up */
	WD_NET_HOST = 2       /* the host's network (no network namespace) */
};
enum wd_sandbox_policy {
	WD_POLICY_STRICT = 0,      /* a layer that cannot be applied is an error */
	WD_POLICY_BEST_EFFORT = 1, /* run anyway; result->missing says what is missing */
	WD_POLICY_OFF = 2          /* no layers, only the runner guarantees above */
};

typedef struct wd_sandbox_opts {
	unsigned version;
	const char *workdir;              /* cwd of the command; writable; NULL = "." */
	const char *const *argv;          /* NULL-terminated; argv[0] looked up in the command's PATH */
	unsigned timeout_sec;             /* 0 = no wall-clock limit */
	size_t output_cap;                /* bytes kept of combined stdout+stderr; 0 = default (4 MiB) */
	uint64_t memory_mb;               /* 0 = default: 4096 MiB for the whole tree when a memory
	                                   * cgroup is available, else no limit; an explicit value
	                                   * falls back to RLIMIT_AS per process */
	unsigned pids;                    /* processes (and threads); 0 = default (512) */
	int net;                          /* enum wd_sandbox_net */
	int policy;                       /* enum wd_sandbox_policy */
	const char *const *allow_read;    /* extra readable paths (NULL-terminated or NULL) */
	const char *const *allow_write;   /* extra writable paths */
	const char *const *deny_read;     /* NULL = ~/.ssh ~/.gnupg ~/.aws ~/.config/warden ~/.netrc
	                                   * ~/.docker ("~" = $HOME of the caller) */
	const char *const *env_allow;     /* extra variables: "NAME" passes it through,
	                                   * "NAME=value" sets it; secrets are dropped */
	const char *stdin_data;           /* NULL = /dev/null */
	/* Optional: called with each chunk of output as it arrives (before
	 * capping), from the thread that called wd_sandbox_run; for showing a
	 * long check live. result->output is filled either way. */
	void (*on_output)(void *ctx, const char *data, size_t len);
	void *on_output_ctx;
	/* More paths to deny reading, added to deny_read (or to the default
	 * list when deny_read is NULL), e.g. warden's own cache; may be NULL. */
	const char *const *deny_read_extra;
} wd_sandbox_opts;

#define WD_SANDBOX_OPTS_VERSION 1
#define WD_SANDBOX_OPTS_INIT { .version = WD_SANDBOX_OPTS_VERSION }

typedef struct wd_sandbox_result {
	int exit_code;        /* shell convention: status, 124 timeout, 128+signal */
	int timed_out;
	int signal;           /* terminating signal, 0 if it exited */
	uint64_t wall_ms;
	wd_buf output;        /* combined stdout+stderr, capped (head + marker + tail) */
	size_t output_total;  /* bytes the command wrote in all */
	int output_truncated;
	wd_strvec layers;     /* layers applied, e.g. "pgroup", "userns", "landlock:abi=4" */
	wd_strvec missing;    /* layers that could not be applied, each "layer: why" */
} wd_sandbox_result;

/* Run it. Returns 0 when the command ran (whatever its exit status) and the
 * result is filled; negative when it could not be started (or, under the
 * strict policy, when a layer could not be applied). */
int wd_sandbox_run(wd_sandbox_result *out, const wd_sandbox_opts *opts);

/* Describe what this machine supports, one "layer: yes|no (why)" per line,
 * learnt from a real best-effort run of /bin/true through every layer. */
int wd_sandbox_probe(wd_buf *out);

void wd_sandbox_result_free(wd_sandbox_result *r);

#endif
