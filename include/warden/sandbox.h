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
 *   mntns    reads are an allow-list ("mntns:allowlist" in layers): a fresh
 *            tmpfs root (entered with pivot_root, read-only itself) holding
 *            only
 *              - the system roots that exist, bound read-only (recursive,
 *                nosuid): /usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc
 *                /opt /nix /gnu /snap (a root that is a symbolic link on the
 *                host, as on merged-/usr systems, is the same link inside);
 *              - /sys read-only; a fresh /proc with /proc/sys read-only; a
 *                minimal /dev (null, zero, full, random, urandom, tty,
 *                private shm and pts); private tmpfs /tmp (HOME and TMPDIR
 *                live there) and /var/tmp;
 *              - allow_read read-only and allow_write writable, each at its
 *                own path (also beneath a hidden or masked directory);
 *              - the work tree, writable, at workdir_inside (mounted last, so
 *                it stays visible beneath a masked directory);
 *            and nothing else: no /home, /root, /run, /srv, /mnt, /media,
 *            /var (but /var/tmp). Under WD_NET_HOST the file behind a
 *            symbolic /etc/resolv.conf (systemd's, in /run) is shown too. Masked wherever they are visible (an empty
 *            read-only directory, or an empty file): the deny_read and
 *            deny_read_extra paths, and the secrets in /etc: /etc/shadow
 *            /etc/gshadow /etc/shadow- /etc/gshadow- /etc/ssh/ssh_host_*_key
 *            /etc/ssl/private /etc/pki/tls/private /etc/sudoers
 *            /etc/sudoers.d /etc/security/opasswd /etc/krb5.keytab
 *            /etc/NetworkManager/system-connections /etc/wpa_supplicant
 *            /etc/ipsec.secrets /etc/ppp/chap-secrets /etc/ppp/pap-secrets.
 *            Where paths nest, the deeper one wins: allow_read ~/.pyenv is
 *            visible while ~ is not; deny ~/.ssh is masked beneath an
 *            allowed ~. Paths under /proc are not supported.
 *            With an overlay (see overlay_upper), "overlay" in layers.
 *   pidns    the command is pid 1's child; everything it starts (setsid
 *            daemons included) dies when it ends
 *   netns    no network (WD_NET_NONE), or a private loopback (WD_NET_LOOPBACK)
 *   landlock reads, listing and execution only beneath the same allow-list
 *            (system roots, allow_read, the work tree, the private tmp, /dev,
 *            /proc, /sys; without the mount namespace it is the only read
 *            allow-list, and the masked paths are left out of it); writes
 *            only to the work tree, allow_write and the private tmp; TCP off
 *            under WD_NET_NONE (ABI 4+); signals and abstract sockets scoped
 *            to the sandbox (ABI 6+)
 *   seccomp  ptrace, mount, namespaces, keyrings, bpf, perf, kexec, modules,
 *            reboot, swap, io_uring, ... fail with EPERM; no_new_privs
 *   limits   core dumps off, file size 1 GiB, 1024 open files, CPU time
 *            (timeout x cores), processes (pids), memory; through a cgroup
 *            ("cgroup:v2" or "cgroup:v1" in layers) when warden can make one,
 *            else rlimits; a line at the end of the output names a limit
 *            that stopped something
 * A command that exits 127 because it is installed where the sandbox hides
 * it (say ~/.pyenv/shims on PATH) gets a line naming the --allow-read that
 * would show it.
 * Root keeps no capabilities inside (unless the policy is off). ASan's leak
 * checker needs ptrace, which the filter denies: run sanitizer builds with
 * ASAN_OPTIONS=detect_leaks=0 (env_allow "ASAN_OPTIONS=detect_leaks=0").
 * The thread calling wd_sandbox_run waits for the command; it is safe to
 * call from several threads at once (no global state).
 *
 * Owns confining and supervising one process and reporting what it was
 * given. Never reads settings (the caller passes the policy; its names are
 * wd_sandbox_policy_names) and never parses what the command printed.
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

/* The policies' names, indexed by enum wd_sandbox_policy, NULL-terminated:
 * "strict", "best-effort", "off" (the --sandbox flags and sandbox.policy). */
extern const char *const wd_sandbox_policy_names[];
/* `name` to an enum wd_sandbox_policy; WD_EINPUT (no message: the caller
 * names the flag or key) when it is none of them. */
int wd_sandbox_policy_parse(int *out, const char *name);

typedef struct wd_sandbox_opts {
	unsigned version;
	const char *workdir;              /* the work tree: writable, and the command's cwd;
	                                   * NULL = "." (relative paths below are relative to it) */
	const char *const *argv;          /* NULL-terminated; argv[0] looked up in the command's PATH */
	unsigned timeout_sec;             /* 0 = no wall-clock limit */
	size_t output_cap;                /* bytes kept of combined stdout+stderr; 0 = default (4 MiB) */
	uint64_t memory_mb;               /* 0 = default: 4096 MiB for the whole tree when a memory
	                                   * cgroup is available, else no limit; an explicit value
	                                   * falls back to RLIMIT_AS per process */
	unsigned pids;                    /* processes (and threads); 0 = default (512) */
	int net;                          /* enum wd_sandbox_net */
	int policy;                       /* enum wd_sandbox_policy */
	const char *const *allow_read;    /* extra readable paths (NULL-terminated or NULL):
	                                   * the toolchain under $HOME, say; shown at their own path */
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
	/* Where the command sees its work tree (and starts, as cwd); NULL =
	 * `workdir` itself. Needs the mount namespace unless equal to workdir. */
	const char *workdir_inside;
	/* An overlay work tree: when overlay_upper is set, the command sees at
	 * workdir_inside (required then) an overlayfs of overlay_lower
	 * (NULL-terminated, topmost first, read-only) under overlay_upper, which
	 * receives every write; overlay_work is overlayfs's scratch directory,
	 * empty, on the same file system as overlay_upper (left removable by its
	 * owner after the run: overlayfs makes work/ mode 000). `workdir` may then be
	 * NULL (it is not mounted). Without a mount namespace this is an error
	 * (WD_EINFRA, whatever the policy): the caller checks
	 * wd_sandbox_overlay_available() first. */
	const char *const *overlay_lower;
	const char *overlay_upper;
	const char *overlay_work;
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
 * learnt from a real best-effort run of /bin/true through every layer, then
 * "overlay: yes|no (why)" and "reads: ..." (the read allow-list). */
int wd_sandbox_probe(wd_buf *out);

/* Whether wd_sandbox_run can give a command an overlay work tree on this
 * machine (user + mount namespace, overlayfs with userxattr inside one),
 * learnt once per process from a real attempt and cached. 1 = yes; 0 = no,
 * with the reason appended to `why` (may be NULL). The attempt runs in a
 * temporary directory under /var/tmp (else /tmp): an upper layer on a file
 * system without user extended attributes may still fail. */
int wd_sandbox_overlay_available(wd_buf *why);

void wd_sandbox_result_free(wd_sandbox_result *r);

#endif
