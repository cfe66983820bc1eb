#ifndef WARDEN_SANDBOX_H
#define WARDEN_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "warden/buf.h"

/*
 * Run one command confined. The gate runs every check through this, and
 * `warden sandbox` exposes it directly. The foundation runner gives: its own
 * process group (the whole group is killed on timeout), a clean environment
 * (allow-list; no API keys), captured output with a head+tail cap, and a hard
 * wall-clock timeout. The sandbox layers (namespaces, Landlock, seccomp,
 * limits) are added behind the same interface.
 */

enum wd_sandbox_net { WD_NET_NONE = 0, WD_NET_LOOPBACK = 1, WD_NET_HOST = 2 };
enum wd_sandbox_policy { WD_POLICY_STRICT = 0, WD_POLICY_BEST_EFFORT = 1, WD_POLICY_OFF = 2 };

typedef struct wd_sandbox_opts {
	unsigned version;
	const char *workdir;              /* cwd of the command; writable */
	const char *const *argv;          /* NULL-terminated; argv[0] looked up in PATH */
	unsigned timeout_sec;             /* 0 = no wall-clock limit */
	size_t output_cap;                /* bytes kept of combined stdout+stderr; 0 = default (4 MiB) */
	uint64_t memory_mb;               /* 0 = default */
	unsigned pids;                    /* 0 = default */
	int net;                          /* enum wd_sandbox_net */
	int policy;                       /* enum wd_sandbox_policy */
	const char *const *allow_read;    /* extra readable paths (NULL-terminated or NULL) */
	const char *const *allow_write;   /* extra writable paths */
	const char *const *deny_read;     /* NULL = the default secret list */
	const char *const *env_allow;     /* extra variable names passed through */
	const char *stdin_data;           /* NULL = /dev/null */
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

/* Describe what this machine supports, one "layer: yes|no (why)" per line. */
int wd_sandbox_probe(wd_buf *out);

void wd_sandbox_result_free(wd_sandbox_result *r);

#endif
