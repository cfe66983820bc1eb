/*
 * The sandbox runner: exit codes, timeouts, capture, environment and fds
 * (the foundation), then every attack of issue 3, each beside its control
 * showing that the same action works unconfined.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "fixture.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/sandbox.h"

/* base (0755, under /var/tmp, which is a private tmpfs inside):
 *   work/            the work tree
 *   home/.ssh/id_rsa a decoy key; HOME points at home/ during the tests
 *   outside/         a directory outside the work tree
 * disk (0755, beside the build's tools, on the host's disk like warden's
 * cache and the user's home): made by the tests that need what is hidden
 * to be hidden by the allow-list itself, not by the private /var/tmp. */
static char base[PATH_MAX], work[PATH_MAX], home[PATH_MAX], outside[PATH_MAX];
static char tools[PATH_MAX], warden_bin[PATH_MAX], disk[PATH_MAX];

static void join(char *out, const char *a, const char *b)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", a, b);

	ck_assert(n > 0 && n < PATH_MAX);
}

static void find_binaries(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *t = getenv("WARDEN_TOOLS"), *w = getenv("WARDEN_BIN");

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	dirname(self); /* build-x/tests */
	dirname(self); /* build-x */
	if (t)
		snprintf(tools, sizeof(tools), "%s", t);
	else
		join(tools, self, "tools");
	if (w)
		snprintf(warden_bin, sizeof(warden_bin), "%s", w);
	else
		join(warden_bin, self, "warden");
}

static void setup(void)
{
	char tmpl[] = "/var/tmp/wd-sbx-test-XXXXXX";
	char p[PATH_MAX];

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(base, sizeof(base), "%s", tmpl);
	chmod(base, 0755);
	join(work, base, "work");
	join(home, base, "home");
	join(outside, base, "outside");
	ck_assert_int_eq(mkdir(work, 0755), 0);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	join(p, home, ".ssh/id_rsa");
	ck_assert_int_eq(fx_write_file(p, "DECOY-PRIVATE-KEY\n"), 0);
	join(p, home, ".netrc");
	ck_assert_int_eq(fx_write_file(p, "machine x login DECOY-NETRC\n"), 0);
	setenv("HOME", home, 1);
	find_binaries();
}

static void teardown(void)
{
	fx_rm_rf(base);
	if (disk[0])
		fx_rm_rf(disk);
	disk[0] = '\0';
}

/* The disk fixture directory, made on first use. */
static const char *disk_dir(void)
{
	if (!disk[0]) {
		char tmpl[PATH_MAX], *real;

		join(tmpl, tools, "../sbx-disk-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(tmpl));
		chmod(tmpl, 0755);
		real = wd_realpath(tmpl);
		ck_assert_ptr_nonnull(real);
		snprintf(disk, sizeof(disk), "%s", real);
		free(real);
	}
	return disk;
}

static char *tool(const char *name)
{
	/* a ring, so that a test can hold several at once */
	static char buf[16][PATH_MAX];
	static int i;

	i = (i + 1) % 16;
	join(buf[i], tools, name);
	return buf[i];
}

typedef struct run_spec {
	int policy;
	int net;
	unsigned timeout;
	uint64_t memory_mb;
	unsigned pids;
	size_t cap;
	const char *stdin_data;
	const char *const *env_allow;
	const char *const *deny_read;
	const char *const *allow_read;
	const char *const *allow_write;
	const char *const *deny_extra;
	const char *workdir;
	int no_workdir;             /* leave opts.workdir NULL (an overlay) */
	const char *inside;         /* workdir_inside */
	const char *const *lower;   /* an overlay work tree */
	const char *upper;
	const char *owork;
} run_spec;

#define CONFINED ((run_spec){ .policy = WD_POLICY_STRICT, .net = WD_NET_LOOPBACK, .timeout = 30 })
#define UNCONFINED ((run_spec){ .policy = WD_POLICY_OFF, .net = WD_NET_HOST, .timeout = 30 })

static const char *const asan_env[] = { "ASAN_OPTIONS=detect_leaks=0", NULL };

static int run(wd_sandbox_result *r, run_spec s, const char *const *argv)
{
	wd_sandbox_opts o = WD_SANDBOX_OPTS_INIT;
	const char *rd[16];
	size_t n = 0;

	/* The probe binaries must stay readable inside: a checkout under /tmp
	 * (a CI clone, say) is hidden by the private tmpfs unless named. */
	for (size_t i = 0; s.allow_read && s.allow_read[i] && n < 14; i++)
		rd[n++] = s.allow_read[i];
	rd[n++] = tools;
	rd[n] = NULL;

	o.argv = argv;
	o.workdir = s.no_workdir ? NULL : s.workdir ? s.workdir : work;
	o.workdir_inside = s.inside;
	o.overlay_lower = s.lower;
	o.overlay_upper = s.upper;
	o.overlay_work = s.owork;
	o.deny_read_extra = s.deny_extra;
	o.policy = s.policy;
	o.net = s.net;
	o.timeout_sec = s.timeout;
	o.memory_mb = s.memory_mb;
	o.pids = s.pids;
	o.output_cap = s.cap;
	o.stdin_data = s.stdin_data;
	/* the probes may be sanitizer builds: their leak checker needs ptrace,
	 * which the sandbox denies */
	o.env_allow = s.env_allow ? s.env_allow : asan_env;
	o.deny_read = s.deny_read;
	o.allow_read = rd;
	o.allow_write = s.allow_write;
	return wd_sandbox_run(r, &o);
}

static void sh(wd_sandbox_result *r, run_spec s, const char *script)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	int rc = run(r, s, argv);

	ck_assert_msg(rc == 0, "sandbox failed: %s", wd_error_last());
}

static int contains(const wd_sandbox_result *r, const char *s)
{
	return strstr(wd_buf_cstr(&r->output), s) != NULL;
}

/* ---------------------------------------------------------------- foundation */

START_TEST(exit_status_is_the_commands)
{
	wd_sandbox_result r;

	sh(&r, CONFINED, "echo out; echo err >&2; exit 7");
	ck_assert_int_eq(r.exit_code, 7);
	ck_assert_int_eq(r.timed_out, 0);
	ck_assert_int_eq(r.signal, 0);
	ck_assert_str_eq(r.output.ptr, "out\nerr\n");
	ck_assert_uint_eq(r.output_total, 8);
	ck_assert_int_eq(r.output_truncated, 0);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(signal_death_is_128_plus_signal)
{
	wd_sandbox_result r;

	sh(&r, CONFINED, "kill -SEGV $$");
	ck_assert_int_eq(r.signal, SIGSEGV);
	ck_assert_int_eq(r.exit_code, 128 + SIGSEGV);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(missing_command_exits_127_and_says_so)
{
	const char *argv[] = { "no-such-command-xyz", NULL };
	wd_sandbox_result r;

	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 127);
	ck_assert(contains(&r, "no-such-command-xyz"));
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(bad_options_are_errors)
{
	const char *empty[] = { NULL };
	const char *argv[] = { "true", NULL };
	wd_sandbox_opts o = WD_SANDBOX_OPTS_INIT;
	wd_sandbox_result r;

	ck_assert_int_eq(wd_sandbox_run(&r, NULL), WD_EUSAGE);
	o.argv = empty;
	ck_assert_int_eq(wd_sandbox_run(&r, &o), WD_EUSAGE);
	ck_assert(strstr(wd_error_last(), "no command"));
	o.argv = argv;
	o.workdir = "/nonexistent/dir/xyz";
	ck_assert_int_eq(wd_sandbox_run(&r, &o), WD_ENOTFOUND);
	ck_assert(strstr(wd_error_last(), "/nonexistent/dir/xyz"));
	o.workdir = work;
	o.version = 99;
	ck_assert_int_eq(wd_sandbox_run(&r, &o), WD_EUSAGE);
}
END_TEST

static int count_procs_with(const char *needle);
static int run_wrapped(char **out, int *status, const char *const *wrapper,
                       const char *const *args, int merge);

START_TEST(timeout_kills_the_whole_group_and_reports_124)
{
	wd_sandbox_result r;
	run_spec s = CONFINED;
	char script[128], needle[64];

	/* a background job of the command must die with it */
	snprintf(needle, sizeof(needle), "sleep 5%d.25", (int)getpid() % 100000);
	snprintf(script, sizeof(script), "%s & sleep 60", needle);
	s.timeout = 1;
	sh(&r, s, script);
	ck_assert_int_eq(r.timed_out, 1);
	ck_assert_int_eq(r.exit_code, 124);
	ck_assert_int_eq(count_procs_with(needle), 0);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(timeout_without_namespaces_kills_the_group)
{
	wd_sandbox_result r;
	run_spec s = UNCONFINED;
	char script[128], needle[64];

	snprintf(needle, sizeof(needle), "sleep 6%d.25", (int)getpid() % 100000);
	snprintf(script, sizeof(script), "%s & sleep 60", needle);
	s.timeout = 1;
	sh(&r, s, script);
	ck_assert_int_eq(r.timed_out, 1);
	ck_assert_int_eq(r.exit_code, 124);
	ck_assert_int_eq(count_procs_with(needle), 0);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(output_cap_keeps_head_and_tail_and_says_what_was_cut)
{
	wd_sandbox_result r;
	run_spec s = CONFINED;

	s.cap = 10;
	sh(&r, s, "printf 0123456789abcdefghij");
	ck_assert_int_eq(r.output_truncated, 1);
	ck_assert_uint_eq(r.output_total, 20);
	ck_assert_str_eq(r.output.ptr, "01234\n[warden: 10 bytes of output cut]\nfghij");
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(hundred_mib_of_output_is_capped)
{
	wd_sandbox_result r;

	sh(&r, CONFINED, "head -c 104857600 /dev/zero; echo; echo THE-END");
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_int_eq(r.output_truncated, 1);
	ck_assert_uint_eq(r.output_total, 104857600 + 9);
	ck_assert_uint_le(r.output.len, ((size_t)4 << 20) + 64);
	ck_assert(strstr(r.output.ptr + r.output.len - 9, "THE-END"));
	ck_assert(memmem(r.output.ptr, r.output.len, "bytes of output cut]", 20));
	wd_sandbox_result_free(&r);
}
END_TEST

static void collect(void *ctx, const char *data, size_t len)
{
	wd_buf_put(ctx, data, len);
}

START_TEST(output_can_be_followed_live)
{
	const char *argv[] = { "/bin/sh", "-c", "echo one; echo two >&2; exec no-such-cmd-xyz", NULL };
	wd_sandbox_opts o = WD_SANDBOX_OPTS_INIT;
	wd_sandbox_result r;
	wd_buf live = WD_BUF_INIT;

	o.argv = argv;
	o.workdir = work;
	o.on_output = collect;
	o.on_output_ctx = &live;
	ck_assert_int_eq(wd_sandbox_run(&r, &o), 0);
	ck_assert_int_eq(r.exit_code, 127);
	ck_assert_ptr_nonnull(live.ptr);
	ck_assert_str_eq(live.ptr, r.output.ptr);
	ck_assert(contains(&r, "one\ntwo\n"));
	wd_sandbox_result_free(&r);
	wd_buf_free(&live);
}
END_TEST

START_TEST(stdin_is_dev_null_or_the_given_data)
{
	wd_sandbox_result r;
	run_spec s = CONFINED;

	sh(&r, s, "cat; echo done");
	ck_assert_str_eq(r.output.ptr, "done\n");
	wd_sandbox_result_free(&r);
	s.stdin_data = "hello\n";
	sh(&r, s, "cat");
	ck_assert_str_eq(r.output.ptr, "hello\n");
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(no_descriptor_leaks_into_the_command)
{
	wd_sandbox_result r;
	int fd = open("/dev/null", O_RDONLY); /* deliberately not close-on-exec */

	ck_assert_int_ge(fd, 3);
	sh(&r, CONFINED, "ls /proc/self/fd | tr '\\n' ' '");
	/* ls itself holds one directory descriptor */
	ck_assert_str_eq(r.output.ptr, "0 1 2 3 ");
	wd_sandbox_result_free(&r);
	sh(&r, UNCONFINED, "ls /proc/self/fd | tr '\\n' ' '");
	ck_assert_str_eq(r.output.ptr, "0 1 2 3 ");
	wd_sandbox_result_free(&r);
	close(fd);
}
END_TEST

START_TEST(environment_is_an_allow_list_without_secrets)
{
	const char *allow[] = { "WD_TEST_VISIBLE", "OPENAI_API_KEY", "WD_SET=given", NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;
	FILE *f;
	char line[4096];
	int seen = 0;

	setenv("OPENAI_API_KEY", "sk-decoy-secret", 1);
	setenv("GITHUB_TOKEN", "ghp-decoy", 1);
	setenv("WD_TEST_VISIBLE", "yes", 1);
	setenv("WD_TEST_HIDDEN", "no", 1);
	/* control: an unconfined process sees the key */
	f = popen("env", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		seen |= strstr(line, "sk-decoy-secret") != NULL;
	pclose(f);
	ck_assert(seen);

	s.env_allow = allow;
	sh(&r, s, "env");
	ck_assert(!contains(&r, "sk-decoy-secret"));
	ck_assert(!contains(&r, "OPENAI_API_KEY"));
	ck_assert(!contains(&r, "ghp-decoy"));
	ck_assert(!contains(&r, "WD_TEST_HIDDEN"));
	ck_assert(contains(&r, "WD_TEST_VISIBLE=yes"));
	ck_assert(contains(&r, "WD_SET=given"));
	ck_assert(contains(&r, "PATH="));
	ck_assert(!contains(&r, home)); /* HOME is private, not the user's */
	ck_assert(contains(&r, "HOME=/tmp/warden-sbx-"));
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(home_and_tmpdir_are_private_and_writable)
{
	wd_sandbox_result r;

	setenv("TMPDIR", base, 1); /* the caller's TMPDIR does not matter */

	sh(&r, CONFINED, "touch \"$HOME/h\" \"$TMPDIR/t\" /tmp/x && echo ok");
	ck_assert_str_eq(r.output.ptr, "ok\n");
	wd_sandbox_result_free(&r);
	sh(&r, UNCONFINED, "touch \"$HOME/h\" \"$TMPDIR/t\" && echo ok");
	ck_assert_str_eq(r.output.ptr, "ok\n");
	wd_sandbox_result_free(&r);
}
END_TEST

struct thread_run {
	int n;
	int ok;
};

static void *thread_main(void *arg)
{
	struct thread_run *t = arg;
	char script[64], want[64];

	snprintf(script, sizeof(script), "for i in 1 2 3; do echo t%d; done", t->n);
	snprintf(want, sizeof(want), "t%d\nt%d\nt%d\n", t->n, t->n, t->n);
	for (int i = 0; i < 3; i++) {
		const char *argv[] = { "/bin/sh", "-c", script, NULL };
		wd_sandbox_result r;

		if (run(&r, CONFINED, argv) != 0) {
			fprintf(stderr, "thread %d: %s\n", t->n, wd_error_last());
			return NULL;
		}
		if (strcmp(r.output.ptr, want) != 0 || r.exit_code != 0) {
			fprintf(stderr, "thread %d: exit %d, output '%s'\n", t->n, r.exit_code,
			        r.output.ptr);
			wd_sandbox_result_free(&r);
			return NULL;
		}
		wd_sandbox_result_free(&r);
	}
	t->ok = 1;
	return NULL;
}

START_TEST(concurrent_runs_from_threads_stay_apart)
{
	pthread_t th[3];
	struct thread_run t[3];

	for (int i = 0; i < 3; i++) {
		t[i].n = i;
		t[i].ok = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &t[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(t[i].ok, "thread %d", i);
	}
}
END_TEST

START_TEST(layers_are_reported)
{
	wd_sandbox_result r;
	wd_buf probe = WD_BUF_INIT;

	sh(&r, CONFINED, "true");
	ck_assert_uint_eq(r.missing.n, 0);
	ck_assert(wd_strvec_contains(&r.layers, "pgroup"));
	ck_assert(wd_strvec_contains(&r.layers, "userns"));
	ck_assert(wd_strvec_contains(&r.layers, "mntns"));
	ck_assert(wd_strvec_contains(&r.layers, "mntns:allowlist"));
	ck_assert(!wd_strvec_contains(&r.layers, "overlay"));
	ck_assert(wd_strvec_contains(&r.layers, "pidns"));
	ck_assert(wd_strvec_contains(&r.layers, "netns:loopback"));
	ck_assert(wd_strvec_contains(&r.layers, "seccomp"));
	ck_assert(wd_strvec_contains(&r.layers, "limits"));
	wd_sandbox_result_free(&r);
	sh(&r, UNCONFINED, "true");
	ck_assert(!wd_strvec_contains(&r.layers, "userns"));
	ck_assert(!wd_strvec_contains(&r.layers, "seccomp"));
	wd_sandbox_result_free(&r);

	ck_assert_int_eq(wd_sandbox_probe(&probe), 0);
	ck_assert(strstr(probe.ptr, "userns: yes"));
	ck_assert(strstr(probe.ptr, "landlock: yes (landlock:abi="));
	ck_assert(strstr(probe.ptr, "seccomp: yes"));
	ck_assert_msg(strstr(probe.ptr, "\noverlay: yes"), "%s", probe.ptr);
	ck_assert_msg(strstr(probe.ptr, "\nreads: mntns:allowlist (allow-list: /usr"), "%s", probe.ptr);
	wd_buf_free(&probe);
}
END_TEST

/* ------------------------------------------------------------------ network */

static int listen_loopback(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

START_TEST(connect_to_a_host_listener_fails)
{
	wd_sandbox_result r;
	run_spec s = CONFINED;
	char port[16];
	int p, fd = listen_loopback(&p);
	const char *argv[] = { tool("sbx_probe"), "connect", "127.0.0.1", port, NULL };

	snprintf(port, sizeof(port), "%d", p);
	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_msg(r.exit_code == 0, "control: %s", r.output.ptr);
	wd_sandbox_result_free(&r);

	ck_assert_int_eq(run(&r, s, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert(contains(&r, "refused"));
	wd_sandbox_result_free(&r);
	s.net = WD_NET_NONE;
	ck_assert_int_eq(run(&r, s, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	wd_sandbox_result_free(&r);
	close(fd);
}
END_TEST

START_TEST(loopback_inside_works_only_when_asked)
{
	const char *argv[] = { tool("sbx_probe"), "selfconnect", NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;

	/* a test suite's own local server works on the private loopback */
	ck_assert_int_eq(run(&r, s, argv), 0);
	ck_assert_msg(r.exit_code == 0, "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
	s.net = WD_NET_NONE;
	ck_assert_int_eq(run(&r, s, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(host_service_sockets_in_run_are_unreachable)
{
	char path[108];
	const char *argv[] = { tool("sbx_probe"), "unixconnect", path, NULL };
	struct sockaddr_un a;
	wd_sandbox_result r;
	int fd;

	if (geteuid() != 0)
		return; /* /run is root's */
	snprintf(path, sizeof(path), "/run/wd-sbx-test-%d.sock", (int)getpid());
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_msg(r.exit_code == 0, "control: %s", r.output.ptr);
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	wd_sandbox_result_free(&r);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(kernel_knobs_and_the_terminal_are_out_of_reach)
{
	wd_sandbox_result r;

	sh(&r, CONFINED, "v=$(cat /proc/sys/kernel/core_pattern) && "
	                 "(echo \"$v\" > /proc/sys/kernel/core_pattern) 2>/dev/null && echo knob-written; "
	                 "(exec 3</dev/tty) 2>/dev/null && echo tty-open; echo done");
	ck_assert_str_eq(r.output.ptr, "done\n");
	wd_sandbox_result_free(&r);
}
END_TEST

struct dns_server {
	int fd;
};

static void *dns_serve(void *arg)
{
	struct dns_server *d = arg;
	unsigned char buf[512];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(d->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

	if (n >= 12) {
		buf[2] |= 0x80; /* a response (with no answers: enough to prove it arrived) */
		sendto(d->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

START_TEST(dns_lookup_fails)
{
	struct dns_server d;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	pthread_t th;
	wd_sandbox_result r;
	char port[16];
	const char *argv[] = { tool("sbx_probe"), "dns", "127.0.0.1", port, "example.com", NULL };

	d.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(d.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(d.fd, (struct sockaddr *)&a, &len), 0);
	snprintf(port, sizeof(port), "%d", ntohs(a.sin_port));
	ck_assert_int_eq(pthread_create(&th, NULL, dns_serve, &d), 0);

	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_msg(r.exit_code == 0, "control: %s", r.output.ptr);
	wd_sandbox_result_free(&r);
	pthread_join(th, NULL);

	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	wd_sandbox_result_free(&r);
	/* and the system resolver finds nothing either */
	sh(&r, CONFINED, "getent hosts deb.debian.org || echo no-dns");
	ck_assert(contains(&r, "no-dns"));
	wd_sandbox_result_free(&r);
	close(d.fd);
}
END_TEST

/* ------------------------------------------------------------- file system */

static void write_attack(const char *target, int confined_may_see_ok)
{
	const char *argv[] = { tool("sbx_probe"), "write", target, NULL };
	wd_sandbox_result r;

	/* control: unconfined, the write lands on the host */
	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_msg(r.exit_code == 0, "control %s: %s", target, r.output.ptr);
	ck_assert(wd_path_exists(target));
	unlink(target);
	wd_sandbox_result_free(&r);

	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	if (!confined_may_see_ok)
		ck_assert_msg(r.exit_code == 1, "%s: %s", target, r.output.ptr);
	ck_assert_msg(!wd_path_exists(target), "%s reached the host", target);
	wd_sandbox_result_free(&r);
}

START_TEST(write_to_home_fails)
{
	char p[PATH_MAX];

	join(p, home, "planted");
	write_attack(p, 0);
}
END_TEST

START_TEST(write_to_etc_fails)
{
	char p[PATH_MAX];

	if (geteuid() != 0)
		return; /* the control needs root */
	snprintf(p, sizeof(p), "/etc/warden-sbx-test-%d", (int)getpid());
	write_attack(p, 0);
}
END_TEST

START_TEST(write_to_host_tmp_does_not_reach_it)
{
	char p[PATH_MAX];

	/* the write may succeed, in the private /tmp that vanishes */
	snprintf(p, sizeof(p), "/tmp/warden-sbx-host-%d", (int)getpid());
	write_attack(p, 1);
}
END_TEST

START_TEST(write_to_the_work_trees_parent_fails)
{
	char parent[PATH_MAX], w[PATH_MAX], p[PATH_MAX];
	const char *argv[] = { tool("sbx_probe"), "write", p, NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;

	/* base lies in /var/tmp, a private tmpfs inside: take a parent that is
	 * on the host's disk, as warden's cache is */
	join(parent, tools, "../sbx-parent-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(parent));
	join(w, parent, "work");
	join(p, parent, "planted");
	ck_assert_int_eq(mkdir(w, 0755), 0);
	s.workdir = w;
	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_msg(r.exit_code == 0, "control: %s", r.output.ptr);
	ck_assert(wd_path_exists(p));
	unlink(p);
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(run(&r, s, argv), 0);
	/* refused where the parent is on the host's disk; where it lies under
	 * /tmp the write lands in the sandbox's own tmpfs and vanishes: either
	 * way nothing reaches the host */
	if (strncmp(parent, "/tmp/", 5) != 0)
		ck_assert_msg(r.exit_code == 1, "%s", r.output.ptr);
	ck_assert(!wd_path_exists(p));
	wd_sandbox_result_free(&r);
	fx_rm_rf(parent);
}
END_TEST

START_TEST(symlink_out_of_the_work_tree_cannot_be_written_through)
{
	char link[PATH_MAX], target[PATH_MAX], flink[PATH_MAX], ftarget[PATH_MAX];
	const char *argv[] = { tool("sbx_probe"), "write", "link/planted", NULL };
	const char *argv2[] = { tool("sbx_probe"), "write", "flink", NULL };
	wd_sandbox_result r;

	join(link, work, "link");
	join(target, outside, "planted");
	join(flink, work, "flink");
	join(ftarget, outside, "file");
	ck_assert_int_eq(symlink(outside, link), 0);
	ck_assert_int_eq(symlink(ftarget, flink), 0);

	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert(wd_path_exists(target));
	unlink(target);
	wd_sandbox_result_free(&r);

	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert(!wd_path_exists(target));
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(run(&r, CONFINED, argv2), 0);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert(!wd_path_exists(ftarget));
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(the_work_tree_is_writable)
{
	wd_sandbox_result r;
	char p[PATH_MAX];

	sh(&r, CONFINED, "mkdir -p sub && echo made > sub/f && rm -f nothing && echo ok");
	ck_assert_str_eq(r.output.ptr, "ok\n");
	join(p, work, "sub/f");
	ck_assert(wd_path_exists(p));
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(extra_paths_are_writable_or_readable_as_asked)
{
	char tmpl[] = "/tmp/wd-sbx-ro-XXXXXX", script[PATH_MAX * 3], p[PATH_MAX];
	const char *w[] = { outside, NULL };
	const char *r_[] = { tmpl, NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	join(p, tmpl, "f");
	ck_assert_int_eq(fx_write_file(p, "HOST-TMP-FILE\n"), 0);
	ck_assert_int_lt(snprintf(script, sizeof(script),
	    "echo x > %s/out && echo wrote; cat %s/f; (echo y > %s/g) 2>/dev/null || echo read-only",
	    outside, tmpl, tmpl), (int)sizeof(script));
	s.allow_write = w;
	s.allow_read = r_;
	sh(&r, s, script);
	ck_assert_str_eq(r.output.ptr, "wrote\nHOST-TMP-FILE\nread-only\n");
	join(p, outside, "out");
	ck_assert(wd_path_exists(p));
	wd_sandbox_result_free(&r);
	fx_rm_rf(tmpl);
}
END_TEST

START_TEST(a_private_pty_is_available)
{
	const char *argv[] = { tool("sbx_probe"), "pty", NULL };
	wd_sandbox_result r;

	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_msg(r.exit_code == 0, "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(reading_the_decoy_ssh_key_fails)
{
	char key[PATH_MAX], netrc[PATH_MAX];
	const char *argv[] = { tool("sbx_probe"), "read", key, NULL };
	const char *argv2[] = { tool("sbx_probe"), "read", netrc, NULL };
	wd_sandbox_result r;

	join(key, home, ".ssh/id_rsa");
	join(netrc, home, ".netrc");
	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert(contains(&r, "DECOY-PRIVATE-KEY"));
	wd_sandbox_result_free(&r);

	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert(!contains(&r, "DECOY"));
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(run(&r, CONFINED, argv2), 0);
	ck_assert(!contains(&r, "DECOY"));
	wd_sandbox_result_free(&r);
	/* home allowed on purpose: the rest of it is readable, the default
	 * deny list is still masked inside it */
	{
		const char *rd[] = { home, NULL };
		run_spec s = CONFINED;

		s.allow_read = rd;
		ck_assert_int_eq(run(&r, s, argv), 0);
		ck_assert_int_eq(r.exit_code, 1);
		ck_assert(!contains(&r, "DECOY"));
		wd_sandbox_result_free(&r);
		ck_assert_int_eq(run(&r, s, argv2), 0);
		ck_assert(!contains(&r, "DECOY"));
		wd_sandbox_result_free(&r);
		join(key, home, "project.txt");
		ck_assert_int_eq(fx_write_file(key, "PROJECT\n"), 0);
		ck_assert_int_eq(run(&r, s, argv), 0);
		ck_assert_msg(contains(&r, "PROJECT"), "%s", r.output.ptr);
		wd_sandbox_result_free(&r);
	}
}
END_TEST

START_TEST(deny_list_is_configurable)
{
	char secret[PATH_MAX];
	const char *deny[] = { secret, NULL };
	const char *argv[] = { tool("sbx_probe"), "read", secret, NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;
	const char *rd[] = { outside, NULL };

	/* outside is hidden anyway; allowed, it shows, but for the denied file */
	s.allow_read = rd;
	join(secret, outside, "secret.txt");
	ck_assert_int_eq(fx_write_file(secret, "OTHER-SECRET\n"), 0);
	ck_assert_int_eq(run(&r, s, argv), 0);
	ck_assert(contains(&r, "OTHER-SECRET"));
	wd_sandbox_result_free(&r);
	s.deny_read = deny;
	ck_assert_int_eq(run(&r, s, argv), 0);
	ck_assert(!contains(&r, "OTHER-SECRET"));
	wd_sandbox_result_free(&r);
}
END_TEST

/* ------------------------------------------------- reads: an allow-list */

/* `path` holds `secret`: unconfined the command prints it (the attack
 * works), confined it does not. */
static void read_attack(run_spec confined, const char *path, const char *secret)
{
	const char *argv[] = { tool("sbx_probe"), "read", path, NULL };
	wd_sandbox_result r;

	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_msg(contains(&r, secret), "control %s: %s", path, r.output.ptr);
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(run(&r, confined, argv), 0);
	ck_assert_msg(!contains(&r, secret), "%s leaked: %s", path, r.output.ptr);
	wd_sandbox_result_free(&r);
}

/* A home on the host's disk, as HOME for warden, with what a developer's
 * home holds. */
static void plant_home(char *h)
{
	char p[PATH_MAX];

	join(h, disk_dir(), "home");
	join(p, h, ".git-credentials");
	ck_assert_int_eq(fx_write_file(p, "https://user:DECOY-GIT-TOKEN@github.com\n"), 0);
	join(p, h, ".config/gh/hosts.yml");
	ck_assert_int_eq(fx_write_file(p, "github.com:\n    oauth_token: DECOY-GH-TOKEN\n"), 0);
	join(p, h, ".npmrc");
	ck_assert_int_eq(fx_write_file(p, "//registry.npmjs.org/:_authToken=DECOY-NPM-TOKEN\n"), 0);
	join(p, h, ".config/warden/config");
	ck_assert_int_eq(fx_write_file(p, "[model]\n\tkey = DECOY-XDG-WARDEN\n"), 0);
	setenv("HOME", h, 1);
}

START_TEST(credentials_in_home_are_unreadable)
{
	char h[PATH_MAX], p[PATH_MAX];

	plant_home(h);
	join(p, h, ".git-credentials");
	read_attack(CONFINED, p, "DECOY-GIT-TOKEN");
	join(p, h, ".config/gh/hosts.yml");
	read_attack(CONFINED, p, "DECOY-GH-TOKEN");
	join(p, h, ".npmrc");
	read_attack(CONFINED, p, "DECOY-NPM-TOKEN");
	/* the user's warden config in $XDG_CONFIG_HOME (here ~/.config) */
	join(p, h, ".config/warden/config");
	read_attack(CONFINED, p, "DECOY-XDG-WARDEN");
}
END_TEST

/* A config named by WARDEN_CONFIG in a directory the build must see
 * (/opt, /etc): the caller passes it in deny_read_extra. */
static void config_in(const char *dir)
{
	char tmpl[PATH_MAX], cfg[PATH_MAX];
	const char *deny[2] = { NULL, NULL };
	run_spec s = CONFINED;

	snprintf(tmpl, sizeof(tmpl), "%s/wd-sbx-cfg-XXXXXX", dir);
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	join(cfg, tmpl, "warden.conf");
	ck_assert_int_eq(fx_write_file(cfg, "[model]\n\tkey = DECOY-WARDEN-CONFIG\n"), 0);
	setenv("WARDEN_CONFIG", cfg, 1);
	deny[0] = getenv("WARDEN_CONFIG");
	s.deny_extra = deny;
	read_attack(s, cfg, "DECOY-WARDEN-CONFIG");
	/* and the rest of that directory still shows */
	join(cfg, tmpl, "other.txt");
	ck_assert_int_eq(fx_write_file(cfg, "VISIBLE-NEIGHBOUR\n"), 0);
	{
		const char *argv[] = { tool("sbx_probe"), "read", cfg, NULL };
		wd_sandbox_result r;

		ck_assert_int_eq(run(&r, s, argv), 0);
		ck_assert_msg(contains(&r, "VISIBLE-NEIGHBOUR"), "%s", r.output.ptr);
		wd_sandbox_result_free(&r);
	}
	unsetenv("WARDEN_CONFIG");
	fx_rm_rf(tmpl);
}

START_TEST(warden_config_is_unreadable_wherever_it_lives)
{
	if (geteuid() != 0)
		return; /* planting it in /opt and /etc needs root */
	config_in("/opt");
	config_in("/etc");
}
END_TEST

START_TEST(another_repositorys_git_config_is_unreadable)
{
	char w[PATH_MAX], other[PATH_MAX];
	run_spec s = CONFINED;

	/* projects side by side, as in ~/src: the work tree and a sibling */
	join(w, disk_dir(), "src/project");
	join(other, disk_dir(), "src/other/.git/config");
	ck_assert_int_eq(wd_mkdir_p(w, 0), 0);
	ck_assert_int_eq(fx_write_file(other, "[remote \"origin\"]\n\turl = https://x:DECOY-REMOTE"
	                                      "-TOKEN@example.com/r.git\n"), 0);
	s.workdir = w;
	read_attack(s, other, "DECOY-REMOTE-TOKEN");
}
END_TEST

START_TEST(another_runs_tree_in_the_cache_is_unreadable)
{
	char cache[PATH_MAX], mine[PATH_MAX], theirs[PATH_MAX], ledger[PATH_MAX], p[PATH_MAX];
	const char *deny[] = { cache, NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;

	join(cache, disk_dir(), "cache");
	join(mine, cache, "runs/run-a/work");
	join(theirs, cache, "runs/run-b/work/src/secret.c");
	join(ledger, cache, "ledger/run-b.jsonl");
	ck_assert_int_eq(wd_mkdir_p(mine, 0), 0);
	ck_assert_int_eq(fx_write_file(theirs, "/* DECOY-OTHER-RUN */\n"), 0);
	ck_assert_int_eq(fx_write_file(ledger, "{\"DECOY-LEDGER\":1}\n"), 0);
	join(p, mine, "mine.txt");
	ck_assert_int_eq(fx_write_file(p, "MY-OWN-TREE\n"), 0);
	/* the cache is denied, and the run's own tree lies inside it; first
	 * where nothing shows the cache, then where its parent is allowed (a
	 * cache in an allowed home, or under /opt): masked, the tree beneath */
	s.workdir = mine;
	s.deny_extra = deny;
	for (int k = 0; k < 2; k++) {
		const char *rd[] = { disk_dir(), NULL };

		if (k)
			s.allow_read = rd;
		read_attack(s, theirs, "DECOY-OTHER-RUN");
		read_attack(s, ledger, "DECOY-LEDGER");
		join(p, mine, "mine.txt");
		ck_assert_int_eq(fx_write_file(p, "MY-OWN-TREE\n"), 0);
		sh(&r, s, "cat mine.txt && echo more >> mine.txt && echo ok");
		ck_assert_str_eq(r.output.ptr, "MY-OWN-TREE\nok\n");
		wd_sandbox_result_free(&r);
		/* by its absolute path as well (builds use $PWD), through the mask */
		sh(&r, s, "w=$PWD; cd / && cat \"$w/mine.txt\" && ls \"$w/..\" && "
		          "(ls \"$w/../../..\" || echo unlisted) 2>/dev/null");
		ck_assert_msg(r.exit_code == 0, "%s", r.output.ptr);
		/* the cache itself: only mount points when hidden, unlisted when
		 * masked */
		ck_assert_str_eq(r.output.ptr, k ? "MY-OWN-TREE\nmore\nwork\nunlisted\n" :
		                                   "MY-OWN-TREE\nmore\nwork\nruns\n");
		wd_sandbox_result_free(&r);
	}
}
END_TEST

START_TEST(a_denied_path_inside_the_work_tree_is_masked_where_it_shows)
{
	char secret[PATH_MAX];
	const char *deny[] = { secret, NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;

	join(secret, work, "config/secret.env");
	ck_assert_int_eq(fx_write_file(secret, "DECOY-IN-TREE\n"), 0);
	s.deny_extra = deny;
	sh(&r, s, "cat config/secret.env; echo end");
	ck_assert_msg(!contains(&r, "DECOY") && contains(&r, "end"), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
	/* also when the tree is shown elsewhere */
	s.inside = "/srv/elsewhere";
	sh(&r, s, "cat config/secret.env; cat /srv/elsewhere/config/secret.env; echo end");
	ck_assert_msg(!contains(&r, "DECOY") && contains(&r, "end"), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
	sh(&r, UNCONFINED, "cat config/secret.env");
	ck_assert(contains(&r, "DECOY-IN-TREE"));
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(the_toolchain_and_system_files_stay_readable)
{
	wd_sandbox_result r;

	sh(&r, CONFINED, "test -x /usr/bin/cc && cc --version >/dev/null && echo cc; "
	                 "grep -q '^root:' /etc/passwd && echo passwd; "
	                 "head -c 16 /etc/ld.so.cache | grep -q ld.so && echo ldcache; "
	                 "test -r /sys/devices/system/cpu/online && echo sys; "
	                 "nproc >/dev/null && echo nproc; ls / | tr '\\n' ' '");
	ck_assert_msg(contains(&r, "cc\npasswd\nldcache\nsys\nnproc\n"), "%s", r.output.ptr);
	/* and nothing of the host beyond the allow-list */
	ck_assert_msg(!contains(&r, "home") && !contains(&r, "root") && !contains(&r, "run") &&
	              !contains(&r, "srv") && !contains(&r, "mnt") && !contains(&r, "media") &&
	              !contains(&r, "boot"), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
	sh(&r, CONFINED, "ls /var");
	ck_assert_str_eq(r.output.ptr, "tmp\n");
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(etc_shadow_is_unreadable_even_for_root)
{
	wd_sandbox_result r;
	char key[PATH_MAX] = "";
	DIR *d = opendir("/etc/ssh");
	struct dirent *e;

	if (geteuid() != 0)
		return; /* the control needs root */
	read_attack(CONFINED, "/etc/shadow", "root:");
	if (access("/etc/gshadow", F_OK) == 0)
		read_attack(CONFINED, "/etc/gshadow", "root:");
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "ssh_host_", 9) && strstr(e->d_name, "_key") &&
		    !strstr(e->d_name, ".pub"))
			join(key, "/etc/ssh", e->d_name);
	if (d)
		closedir(d);
	if (key[0])
		read_attack(CONFINED, key, "PRIVATE KEY");
	/* root inside the sandbox: uid 0, yet the file is an empty mask */
	sh(&r, CONFINED, "id -u; wc -c < /etc/shadow");
	ck_assert_str_eq(r.output.ptr, "0\n0\n");
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(allow_read_widens_reads_but_not_writes)
{
	char tooldir[PATH_MAX], p[PATH_MAX], sib[PATH_MAX], script[PATH_MAX * 3];
	const char *rd[] = { tooldir, NULL };
	const char *deny[2] = { NULL, NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;

	join(tooldir, disk_dir(), "hidden/tool");
	join(p, tooldir, "lib/data.txt");
	join(sib, disk_dir(), "hidden/sibling.txt");
	ck_assert_int_eq(fx_write_file(p, "TOOL-DATA\n"), 0);
	ck_assert_int_eq(fx_write_file(sib, "DECOY-SIBLING\n"), 0);
	ck_assert_int_lt(snprintf(script, sizeof(script),
	    "cat %s %s 2>/dev/null; (echo x >> %s) 2>/dev/null && echo wrote; "
	    "(touch %s/new) 2>/dev/null && echo created; echo end", p, sib, p, tooldir),
	    (int)sizeof(script));
	/* hidden by default */
	sh(&r, s, script);
	ck_assert_msg(!contains(&r, "TOOL-DATA") && !contains(&r, "DECOY"), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
	/* allowed: readable, not writable, and its sibling stays hidden */
	s.allow_read = rd;
	sh(&r, s, script);
	ck_assert_str_eq(r.output.ptr, "TOOL-DATA\nend\n");
	wd_sandbox_result_free(&r);
	/* allowed beneath a denied directory: the deeper path wins */
	join(p, disk_dir(), "hidden");
	deny[0] = p;
	s.deny_extra = deny;
	sh(&r, s, script);
	ck_assert_str_eq(r.output.ptr, "TOOL-DATA\nend\n");
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(workdir_inside_shows_the_work_tree_at_another_path)
{
	wd_sandbox_result r;
	char p[PATH_MAX], script[PATH_MAX + 128];
	run_spec s = CONFINED;

	s.inside = "/src/project";
	snprintf(script, sizeof(script), "pwd; echo \"$PWD\"; echo made > made; "
	         "test -e %s && echo host-path || echo no-host-path", work);
	sh(&r, s, script);
	ck_assert_str_eq(r.output.ptr, "/src/project\n/src/project\nno-host-path\n");
	join(p, work, "made");
	ck_assert(wd_path_exists(p));
	wd_sandbox_result_free(&r);
	/* a place the new root cannot hold (beneath read-only /usr): an error
	 * naming it, under best effort too, and the command does not run */
	{
		const char *argv[] = { "/bin/sh", "-c", "touch ran", NULL };

		s.inside = "/usr/wd-sbx-no-such-dir";
		s.policy = WD_POLICY_BEST_EFFORT;
		ck_assert_int_eq(run(&r, s, argv), WD_EINFRA);
		ck_assert_msg(strstr(wd_error_last(), "/usr/wd-sbx-no-such-dir (EROFS)"), "%s",
		              wd_error_last());
		join(p, work, "ran");
		ck_assert(!wd_path_exists(p));
	}
}
END_TEST

START_TEST(a_toolchain_hidden_in_home_is_named_when_not_found)
{
	char h[PATH_MAX], shims[PATH_MAX], exe[PATH_MAX], envpath[PATH_MAX + 64], want[PATH_MAX * 3];
	const char *env[] = { envpath, "ASAN_OPTIONS=detect_leaks=0", NULL };
	const char *rd[2] = { NULL, NULL };
	const char *direct[] = { "wdfakecc", "--version", NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;

	join(h, disk_dir(), "home");
	join(shims, h, ".fakeenv/shims");
	join(exe, shims, "wdfakecc");
	ck_assert_int_eq(fx_write_file(exe, "#!/bin/sh\necho fake-cc-ran\n"), 0);
	ck_assert_int_eq(chmod(exe, 0755), 0);
	setenv("HOME", h, 1);
	snprintf(envpath, sizeof(envpath), "PATH=%s:/usr/bin:/bin", shims);
	snprintf(want, sizeof(want), "warden-sandbox: 'wdfakecc' is at %s, which the sandbox "
	         "hides; allow it with --allow-read %s/.fakeenv\n", exe, h);
	s.env_allow = env;
	/* control: unconfined, it runs */
	{
		run_spec u = UNCONFINED;

		u.env_allow = env;
		sh(&r, u, "wdfakecc --version");
		ck_assert_str_eq(r.output.ptr, "fake-cc-ran\n");
		wd_sandbox_result_free(&r);
	}
	/* through a shell: the shell's "not found", then warden's line */
	sh(&r, s, "wdfakecc --version");
	ck_assert_int_eq(r.exit_code, 127);
	ck_assert_msg(contains(&r, want), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
	/* as the command itself */
	ck_assert_int_eq(run(&r, s, direct), 0);
	ck_assert_int_eq(r.exit_code, 127);
	ck_assert_msg(contains(&r, want), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
	/* the command's PATH leaves the directory out: warden's own has it */
	{
		const char *plain[] = { "PATH=/usr/bin:/bin", "ASAN_OPTIONS=detect_leaks=0", NULL };
		const char *cur = getenv("PATH");
		char *saved = cur ? strdup(cur) : NULL;
		run_spec t = CONFINED;

		setenv("PATH", envpath + 5, 1);
		t.env_allow = plain;
		sh(&r, t, "wdfakecc --version");
		if (saved)
			setenv("PATH", saved, 1);
		free(saved);
		ck_assert_int_eq(r.exit_code, 127);
		ck_assert_msg(contains(&r, want), "%s", r.output.ptr);
		wd_sandbox_result_free(&r);
	}
	/* a command that is simply missing gets no such line */
	sh(&r, s, "no-such-tool-xyz");
	ck_assert_int_eq(r.exit_code, 127);
	ck_assert(!contains(&r, "which the sandbox hides"));
	wd_sandbox_result_free(&r);
	/* and with the suggested allow-read it runs */
	snprintf(want, sizeof(want), "%s/.fakeenv", h);
	rd[0] = want;
	s.allow_read = rd;
	sh(&r, s, "wdfakecc --version");
	ck_assert_msg(r.exit_code == 0 && contains(&r, "fake-cc-ran"), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ overlay */

typedef struct ovl {
	char root[PATH_MAX], lower[PATH_MAX], lower2[PATH_MAX], upper[PATH_MAX], owork[PATH_MAX];
	const char *lowers[3];
	const char *inside;
} ovl;

/* root/{lower,lower2,upper,owork}; `two`: both lower layers, lower on top */
static void ovl_make(ovl *v, const char *parent, const char *name, int two)
{
	memset(v, 0, sizeof(*v));
	join(v->root, parent, name);
	join(v->lower, v->root, "lower");
	join(v->lower2, v->root, "lower2");
	join(v->upper, v->root, "upper");
	join(v->owork, v->root, "owork");
	ck_assert_int_eq(wd_mkdir_p(v->lower, 0), 0);
	ck_assert_int_eq(wd_mkdir_p(v->lower2, 0), 0);
	ck_assert_int_eq(wd_mkdir_p(v->upper, 0), 0);
	ck_assert_int_eq(wd_mkdir_p(v->owork, 0), 0);
	v->lowers[0] = v->lower;
	v->lowers[1] = two ? v->lower2 : NULL;
	v->inside = "/srv/project";
}

static run_spec ovl_spec(const ovl *v)
{
	run_spec s = CONFINED;

	s.no_workdir = 1;
	s.inside = v->inside;
	s.lower = v->lowers;
	s.upper = v->upper;
	s.owork = v->owork;
	return s;
}

static void ovl_sh(wd_sandbox_result *r, const ovl *v, const char *script)
{
	sh(r, ovl_spec(v), script);
	ck_assert(wd_strvec_contains(&r->layers, "overlay"));
}

static char *snapshot(const char *dir)
{
	char *snap = NULL;

	ck_assert_int_eq(fx_snapshot(&snap, dir), 0);
	return snap;
}

static int is_whiteout(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

START_TEST(overlay_writes_land_in_upper_and_the_lower_is_untouched)
{
	ovl v;
	char p[PATH_MAX], *before, *after, *got = NULL;
	wd_sandbox_result r;

	ovl_make(&v, disk_dir(), "ovl", 0);
	join(p, v.lower, "f");
	ck_assert_int_eq(fx_write_file(p, "base\n"), 0);
	join(p, v.lower, "d/g");
	ck_assert_int_eq(fx_write_file(p, "deep\n"), 0);
	before = snapshot(v.lower);
	ovl_sh(&r, &v, "echo mod >> f && echo new > n && echo more >> d/g && mkdir m && "
	               "cat f n && ls | tr '\\n' ' '");
	ck_assert_str_eq(r.output.ptr, "base\nmod\nnew\nd f m n ");
	wd_sandbox_result_free(&r);
	after = snapshot(v.lower);
	ck_assert_str_eq(before, after);  /* byte for byte */
	join(p, v.upper, "f");
	ck_assert_int_eq(fx_read_file(&got, p), 0);
	ck_assert_str_eq(got, "base\nmod\n");
	free(got);
	join(p, v.upper, "d/g");
	ck_assert_int_eq(fx_read_file(&got, p), 0);
	ck_assert_str_eq(got, "deep\nmore\n");
	free(got);
	join(p, v.upper, "n");
	ck_assert(wd_path_exists(p));
	join(p, v.lower, "n");
	ck_assert(!wd_path_exists(p));
	free(before);
	free(after);
}
END_TEST

START_TEST(overlay_delete_leaves_a_whiteout_in_upper)
{
	ovl v;
	char p[PATH_MAX], *before, *after;
	wd_sandbox_result r;

	ovl_make(&v, disk_dir(), "ovl", 0);
	join(p, v.lower, "f");
	ck_assert_int_eq(fx_write_file(p, "base\n"), 0);
	join(p, v.lower, "dir/inner/x");
	ck_assert_int_eq(fx_write_file(p, "x\n"), 0);
	before = snapshot(v.lower);
	/* removing a lower directory is what fails with EIO without userxattr */
	ovl_sh(&r, &v, "rm f && rm -r dir && ls -A | wc -l");
	ck_assert_msg(r.exit_code == 0 && !strcmp(r.output.ptr, "0\n"), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
	join(p, v.upper, "f");
	ck_assert(is_whiteout(p));
	join(p, v.upper, "dir");
	ck_assert(is_whiteout(p));
	after = snapshot(v.lower);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(overlay_whiteout_made_beforehand_hides_a_lower_file)
{
	ovl v;
	char p[PATH_MAX];
	wd_sandbox_result r;

	ovl_make(&v, disk_dir(), "ovl", 0);
	join(p, v.lower, "gone");
	ck_assert_int_eq(fx_write_file(p, "should not show\n"), 0);
	join(p, v.lower, "kept");
	ck_assert_int_eq(fx_write_file(p, "kept\n"), 0);
	/* what warden does to carry a deletion from one round to the next;
	 * a 0/0 character device needs no privilege */
	join(p, v.upper, "gone");
	ck_assert_int_eq(mknod(p, S_IFCHR | 0, makedev(0, 0)), 0);
	ovl_sh(&r, &v, "ls; test -e gone && echo visible || echo hidden");
	ck_assert_str_eq(r.output.ptr, "kept\nhidden\n");
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(overlay_lower_layers_stack_the_top_one_wins)
{
	ovl v;
	char p[PATH_MAX];
	wd_sandbox_result r;

	ovl_make(&v, disk_dir(), "ovl", 1);
	/* lower: the baseline's build output, over lower2: the base checkout */
	join(p, v.lower2, "f");
	ck_assert_int_eq(fx_write_file(p, "base\n"), 0);
	join(p, v.lower2, "src.c");
	ck_assert_int_eq(fx_write_file(p, "source\n"), 0);
	join(p, v.lower, "f");
	ck_assert_int_eq(fx_write_file(p, "built\n"), 0);
	join(p, v.lower, "src.o");
	ck_assert_int_eq(fx_write_file(p, "object\n"), 0);
	ovl_sh(&r, &v, "cat f src.c src.o");
	ck_assert_str_eq(r.output.ptr, "built\nsource\nobject\n");
	wd_sandbox_result_free(&r);
	/* an old upper (whiteouts and all) works as a lower layer later */
	join(p, v.lower, "src.o");
	unlink(p);
	ck_assert_int_eq(mknod(p, S_IFCHR | 0, makedev(0, 0)), 0);
	ovl_sh(&r, &v, "ls | tr '\\n' ' '");
	ck_assert_str_eq(r.output.ptr, "f src.c ");
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(overlay_symlink_to_a_host_file_does_not_reach_it)
{
	ovl v;
	char p[PATH_MAX], victim[PATH_MAX], *got = NULL, *passwd = NULL, *passwd2 = NULL;
	wd_sandbox_result r;
	run_spec u = UNCONFINED;

	ovl_make(&v, disk_dir(), "ovl", 0);
	join(victim, disk_dir(), "victim/file");
	ck_assert_int_eq(fx_write_file(victim, "VICTIM\n"), 0);
	join(p, v.lower, "link");
	ck_assert_int_eq(symlink(victim, p), 0);
	join(p, v.lower, "plink");
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	/* control: the tree as a plain directory, unconfined, lets it through */
	u.workdir = v.lower;
	sh(&r, u, "echo pwn >> link");
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(fx_read_file(&got, victim), 0);
	ck_assert_str_eq(got, "VICTIM\npwn\n");
	free(got);
	ck_assert_int_eq(fx_write_file(victim, "VICTIM\n"), 0);

	ck_assert_int_eq(fx_read_file(&passwd, "/etc/passwd"), 0);
	ovl_sh(&r, &v, "echo pwn >> link; echo pwn >> plink; echo pwn > link; "
	               "rm -f link plink; echo end");
	ck_assert_msg(contains(&r, "end"), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(fx_read_file(&got, victim), 0);
	ck_assert_str_eq(got, "VICTIM\n");
	free(got);
	ck_assert_int_eq(fx_read_file(&passwd2, "/etc/passwd"), 0);
	ck_assert_str_eq(passwd, passwd2);
	free(passwd);
	free(passwd2);
	/* the links themselves: removed in the overlay only */
	join(p, v.lower, "link");
	{
		struct stat st;

		ck_assert_int_eq(lstat(p, &st), 0);
		ck_assert(S_ISLNK(st.st_mode));
	}
}
END_TEST

START_TEST(overlay_command_starts_at_workdir_inside)
{
	ovl v;
	wd_sandbox_result r;

	ovl_make(&v, disk_dir(), "ovl", 0);
	ovl_sh(&r, &v, "pwd; echo \"$PWD\"");
	ck_assert_str_eq(r.output.ptr, "/srv/project\n/srv/project\n");
	wd_sandbox_result_free(&r);
	/* on top of the lower layer's own path, too */
	v.inside = v.lower;
	ovl_sh(&r, &v, "pwd; echo x > y; cat y");
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert(!strncmp(r.output.ptr, v.lower, strlen(v.lower)));
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(overlay_paths_with_commas_colons_and_backslashes_work)
{
	ovl v;
	char p[PATH_MAX];
	wd_sandbox_result r;

	ovl_make(&v, disk_dir(), "cache,upperdir=x:y\\z", 1);
	join(p, v.lower2, "f");
	ck_assert_int_eq(fx_write_file(p, "from-lower2\n"), 0);
	v.inside = "/srv/a,b:c";
	ovl_sh(&r, &v, "cat f; echo w > w; pwd");
	ck_assert_msg(r.exit_code == 0, "%s", r.output.ptr);
	ck_assert_str_eq(r.output.ptr, "from-lower2\n/srv/a,b:c\n");
	wd_sandbox_result_free(&r);
	join(p, v.upper, "w");
	ck_assert(wd_path_exists(p));
}
END_TEST

START_TEST(overlay_without_a_mount_namespace_is_an_error)
{
	ovl v;
	char p[PATH_MAX], q[PATH_MAX];
	const char *argv[] = { "/bin/sh", "-c", "touch ran", NULL };
	const char *wrapper[] = { tool("sbx_nons"), NULL };
	const char *args[] = { "sandbox", "--policy", "best-effort", "--overlay", v.lower,
	                       "--upper", v.upper, "--overlay-work", v.owork, "--inside",
	                       "/srv/project", "--", "/bin/sh", "-c", "touch ran", NULL };
	char *out = NULL;
	int status;
	run_spec s;
	wd_sandbox_result r;

	ovl_make(&v, disk_dir(), "ovl", 0);
	join(p, v.lower, "ran");
	join(q, v.upper, "ran");
	/* the policy "off": not a silent run on the host */
	s = ovl_spec(&v);
	s.policy = WD_POLICY_OFF;
	ck_assert_int_eq(run(&r, s, argv), WD_EINFRA);
	ck_assert_msg(strstr(wd_error_last(), "mount namespace"), "%s", wd_error_last());
	/* nor best effort where namespaces cannot be made */
	ck_assert_int_eq(run_wrapped(&out, &status, wrapper, args, 1), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %#x: %s", status, out);
	ck_assert_msg(strstr(out, "needs a mount namespace"), "%s", out);
	free(out);
	ck_assert(!wd_path_exists(p) && !wd_path_exists(q));
	/* a work tree shown elsewhere needs it as well */
	s = CONFINED;
	s.policy = WD_POLICY_OFF;
	s.inside = "/srv/project";
	ck_assert_int_eq(run(&r, s, argv), WD_EINFRA);
	join(p, work, "ran");
	ck_assert(!wd_path_exists(p));
}
END_TEST

START_TEST(overlay_options_are_checked)
{
	ovl v;
	const char *argv[] = { "true", NULL };
	const char *missing[] = { "/nonexistent/layer", NULL };
	run_spec s;
	wd_sandbox_result r;

	ovl_make(&v, disk_dir(), "ovl", 0);
	s = ovl_spec(&v);
	s.inside = NULL;
	ck_assert_int_eq(run(&r, s, argv), WD_EUSAGE);
	ck_assert(strstr(wd_error_last(), "workdir_inside"));
	s = ovl_spec(&v);
	s.owork = NULL;
	ck_assert_int_eq(run(&r, s, argv), WD_EUSAGE);
	s = ovl_spec(&v);
	s.lower = missing;
	ck_assert_int_eq(run(&r, s, argv), WD_ENOTFOUND);
	ck_assert(strstr(wd_error_last(), "/nonexistent/layer"));
	s = ovl_spec(&v);
	s.inside = "relative/path";
	ck_assert_int_eq(run(&r, s, argv), WD_EUSAGE);
	s.inside = "/srv/../etc";
	ck_assert_int_eq(run(&r, s, argv), WD_EUSAGE);
	s.inside = "/";
	ck_assert_int_eq(run(&r, s, argv), WD_EUSAGE);
	/* nor can the whole host be let back in */
	{
		const char *root[] = { "/", NULL };
		run_spec t = CONFINED;

		t.allow_read = root;
		ck_assert_int_eq(run(&r, t, argv), WD_EUSAGE);
		ck_assert(strstr(wd_error_last(), "'/' cannot be allowed"));
		root[0] = "/proc/self";
		ck_assert_int_eq(run(&r, t, argv), WD_EUSAGE);
		ck_assert(strstr(wd_error_last(), "/proc"));
	}
}
END_TEST

START_TEST(overlay_upper_serves_two_checks_in_a_row)
{
	ovl v;
	char p[PATH_MAX];
	wd_sandbox_result r;

	ovl_make(&v, disk_dir(), "ovl", 0);
	join(p, v.lower, "f");
	ck_assert_int_eq(fx_write_file(p, "base\n"), 0);
	/* two checks of one round: the second sees what the first built */
	ovl_sh(&r, &v, "echo one > a && rm f && echo ok");
	ck_assert_str_eq(r.output.ptr, "ok\n");
	wd_sandbox_result_free(&r);
	ovl_sh(&r, &v, "cat a && test ! -e f && echo two > b && echo ok");
	ck_assert_str_eq(r.output.ptr, "one\nok\n");
	wd_sandbox_result_free(&r);
	join(p, v.upper, "b");
	ck_assert(wd_path_exists(p));
}
END_TEST

START_TEST(overlay_is_available_here_and_the_answer_is_kept)
{
	wd_buf why = WD_BUF_INIT;
	uint64_t t0;

	ck_assert_msg(wd_sandbox_overlay_available(&why) == 1, "%s", wd_buf_cstr(&why));
	t0 = wd_now_ms();
	ck_assert_int_eq(wd_sandbox_overlay_available(NULL), 1);
	ck_assert_uint_lt(wd_now_ms() - t0, 5);
	wd_buf_free(&why);
}
END_TEST

/* ---------------------------------------------------------------- processes */

static int count_procs_with(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		char p[300], buf[4096];
		ssize_t k;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (k <= 0)
			continue;
		for (ssize_t i = 0; i < k; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[k] = '\0';
		if (strstr(buf, needle)) {
			n++;
			kill(atoi(e->d_name), SIGKILL);
		}
	}
	closedir(d);
	return n;
}

START_TEST(double_forked_setsid_daemon_does_not_survive)
{
	wd_sandbox_result r;
	char script[256], needle[64];

	snprintf(needle, sizeof(needle), "sleep 4%d.5", (int)getpid() % 100000);
	snprintf(script, sizeof(script),
	         "(setsid sh -c 'exec %s' </dev/null >/dev/null 2>&1 &); sleep 0.2; echo started", needle);
	/* control: without the sandbox the daemon outlives the command */
	sh(&r, UNCONFINED, script);
	ck_assert(contains(&r, "started"));
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(count_procs_with(needle), 1); /* and is killed here */

	sh(&r, CONFINED, script);
	ck_assert(contains(&r, "started"));
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(count_procs_with(needle), 0);
}
END_TEST

START_TEST(host_processes_are_invisible)
{
	wd_sandbox_result r;
	char script[128];

	snprintf(script, sizeof(script), "test -e /proc/%d && echo visible || echo hidden",
	         (int)getpid());
	sh(&r, UNCONFINED, script);
	ck_assert_str_eq(r.output.ptr, "visible\n");
	wd_sandbox_result_free(&r);
	sh(&r, CONFINED, script);
	ck_assert_str_eq(r.output.ptr, "hidden\n");
	wd_sandbox_result_free(&r);
	/* the command is pid 1's child */
	sh(&r, CONFINED, "echo $$");
	ck_assert_str_eq(r.output.ptr, "2\n");
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(signalling_a_host_process_fails)
{
	char pid[16];
	const char *argv[] = { tool("sbx_probe"), "kill", pid, NULL };
	wd_sandbox_result r;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 0);
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(ptrace_fails)
{
	const char *argv[] = { tool("sbx_probe"), "ptrace", NULL };
	wd_sandbox_result r;

	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_msg(r.exit_code == 0, "control: %s", r.output.ptr);
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert(contains(&r, "Operation not permitted"));
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(loading_a_kernel_module_fails)
{
	const char *argv[] = { tool("sbx_probe"), "module", NULL };
	wd_sandbox_result r;

	if (geteuid() == 0) {
		ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
		ck_assert_msg(r.exit_code == 0, "control: %s", r.output.ptr);
		ck_assert(contains(&r, "reached the kernel"));
		wd_sandbox_result_free(&r);
	}
	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(new_namespaces_inside_fail)
{
	const char *argv[] = { tool("sbx_probe"), "unshare", NULL };
	wd_sandbox_result r;

	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 0);
	wd_sandbox_result_free(&r);
	ck_assert_int_eq(run(&r, CONFINED, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	wd_sandbox_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ limits */

START_TEST(fork_bomb_is_contained)
{
	const char *argv[] = { tool("sbx_probe"), "forks", "100", NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;

	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_msg(r.exit_code == 0, "control: %s", r.output.ptr);
	wd_sandbox_result_free(&r);

	s.pids = 30;
	ck_assert_int_eq(run(&r, s, argv), 0);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert(contains(&r, "of 100"));
	if (wd_strvec_contains(&r.layers, "cgroup:v1") || wd_strvec_contains(&r.layers, "cgroup:v2"))
		ck_assert_msg(contains(&r, "the process limit (30) was reached"), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);

	/* the real thing: it ends at the timeout and leaves nothing behind */
	s.timeout = 2;
	s.pids = 64;
	sh(&r, s, "b() { b | b & }; b; sleep 30");
	ck_assert_int_ne(r.exit_code, 0);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(memory_hog_is_stopped)
{
	const char *argv[] = { tool("sbx_probe"), "alloc", "256", NULL };
	wd_sandbox_result r;
	run_spec s = CONFINED;

	ck_assert_int_eq(run(&r, UNCONFINED, argv), 0);
	ck_assert_msg(r.exit_code == 0, "control: %s", r.output.ptr);
	wd_sandbox_result_free(&r);
	s.memory_mb = 64;
	ck_assert_int_eq(run(&r, s, argv), 0);
	ck_assert_int_ne(r.exit_code, 0);
	ck_assert(!contains(&r, "alloc: ok"));
	if (wd_strvec_contains(&r.layers, "cgroup:v1") || wd_strvec_contains(&r.layers, "cgroup:v2"))
		ck_assert_msg(contains(&r, "the memory limit (64 MiB) was reached"), "%s", r.output.ptr);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(infinite_loop_is_killed_at_the_timeout)
{
	wd_sandbox_result r;
	run_spec s = CONFINED;

	sh(&r, s, "i=0; while [ $i -lt 100 ]; do i=$((i+1)); done; echo finite");
	ck_assert_str_eq(r.output.ptr, "finite\n");
	wd_sandbox_result_free(&r);
	s.timeout = 1;
	sh(&r, s, "while :; do :; done");
	ck_assert_int_eq(r.timed_out, 1);
	ck_assert_int_eq(r.exit_code, 124);
	wd_sandbox_result_free(&r);
}
END_TEST

START_TEST(core_dumps_are_off_and_files_are_limited)
{
	wd_sandbox_result r;

	sh(&r, CONFINED, "ulimit -c; ulimit -f");
	ck_assert(!strncmp(r.output.ptr, "0\n", 2));
	ck_assert(!contains(&r, "unlimited"));
	wd_sandbox_result_free(&r);
}
END_TEST

/* -------------------------------------------------------- real-world build */

START_TEST(a_c_projects_make_and_make_check_run_unchanged)
{
	wd_sandbox_result r;
	char p[PATH_MAX];
	run_spec s = CONFINED;

	join(p, work, "hello.c");
	ck_assert_int_eq(fx_write_file(p,
	    "#include <stdio.h>\n#include <stdlib.h>\n"
	    "int add(int a, int b) { return a + b; }\n"
	    "int main(void) { char *t = getenv(\"TMPDIR\"); FILE *f; char n[4096];\n"
	    "  snprintf(n, sizeof n, \"%s/scratch\", t ? t : \"/tmp\");\n"
	    "  f = fopen(n, \"w\"); if (!f) return 3; fputs(\"x\", f); fclose(f);\n"
	    "  printf(\"2+3=%d\\n\", add(2, 3)); return add(2, 3) == 5 ? 0 : 1; }\n"), 0);
	join(p, work, "Makefile");
	ck_assert_int_eq(fx_write_file(p,
	    "CC ?= cc\nall: hello\nhello: hello.o\n\t$(CC) -o $@ hello.o\n"
	    "hello.o: hello.c\n\t$(CC) -O2 -Wall -c hello.c\n"
	    "check: hello\n\t./hello > out.txt && grep -q '2+3=5' out.txt && echo PASS\n"), 0);
	s.timeout = 60;
	sh(&r, s, "make && make check");
	ck_assert_msg(r.exit_code == 0, "build failed:\n%s", r.output.ptr);
	ck_assert(contains(&r, "PASS"));
	join(p, work, "hello");
	ck_assert(wd_path_exists(p));
	wd_sandbox_result_free(&r);
}
END_TEST

/* ------------------------------------------------------ as an ordinary user */

/* Run argv, collecting its stdout (and stderr too when `merge`). */
static int run_capture(char **out, int *status, const char *const *argv, int merge)
{
	int pfd[2];
	pid_t pid;
	wd_buf b = WD_BUF_INIT;
	char chunk[4096];
	ssize_t n;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		if (merge)
			dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], chunk, sizeof(chunk))) > 0)
		wd_buf_put(&b, chunk, (size_t)n);
	close(pfd[0]);
	waitpid(pid, status, 0);
	*out = wd_buf_detach(&b);
	return 0;
}

/* Run `warden ARGS...` behind a wrapper tool ("sbx_asuser 65534", "sbx_nons"). */
static int run_wrapped(char **out, int *status, const char *const *wrapper,
                       const char *const *args, int merge)
{
	const char *argv[40];
	size_t k = 0;

	for (size_t i = 0; wrapper[i] && k < 38; i++)
		argv[k++] = wrapper[i];
	argv[k++] = warden_bin;
	for (size_t i = 0; args[i] && k < 39; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	return run_capture(out, status, argv, merge);
}

static int run_as_nobody(char **out, int *status, const char *const *args)
{
	const char *wrapper[] = { tool("sbx_asuser"), "65534", NULL };

	return run_wrapped(out, status, wrapper, args, 0);
}

START_TEST(works_for_an_unprivileged_user)
{
	char *out = NULL, p[PATH_MAX];
	int status;
	json_t *j, *layers, *missing;
	json_error_t err;
	const char *args[] = { "sandbox", "--json", "--workdir", work, "--timeout", "20", "--",
	                       "/bin/sh", "-c",
	                       "id -u; touch made; touch /etc/nobody-x 2>/dev/null || echo etc-ro; "
	                       "echo $$", NULL };

	if (geteuid() != 0)
		return; /* already unprivileged: every other test covers it */
	ck_assert_int_eq(chown(work, 65534, 65534), 0);
	ck_assert_int_eq(run_as_nobody(&out, &status, args), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s", status, out);
	j = json_loads(out, 0, &err);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	ck_assert_str_eq(json_string_value(json_object_get(j, "output")), "65534\netc-ro\n2\n");
	layers = json_object_get(j, "layers");
	missing = json_object_get(j, "missing");
	ck_assert_uint_eq(json_array_size(missing), 0);
	ck_assert_uint_ge(json_array_size(layers), 8);
	json_decref(j);
	free(out);
	join(p, work, "made");
	{
		struct stat st;

		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_uint_eq(st.st_uid, 65534);
	}
}
END_TEST

START_TEST(unprivileged_user_timeout_and_attacks)
{
	char *out = NULL;
	int status;
	const char *t1[] = { "sandbox", "--workdir", work, "--timeout", "1", "--env",
	                     "ASAN_OPTIONS=detect_leaks=0", "--", "/bin/sh", "-c",
	                     "(setsid sleep 4343.5 &); while :; do :; done", NULL };
	const char *t2[] = { "sandbox", "--workdir", work, "--env", "ASAN_OPTIONS=detect_leaks=0",
	                     "--allow-read", tools, "--", tool("sbx_probe"), "ptrace", NULL };
	const char *t3[] = { "sandbox", "--workdir", work, "--pids", "20", "--env",
	                     "ASAN_OPTIONS=detect_leaks=0", "--allow-read", tools, "--",
	                     tool("sbx_probe"), "forks", "100", NULL };
	const char *t4[] = { "sandbox", "--workdir", work, "--memory", "64", "--env",
	                     "ASAN_OPTIONS=detect_leaks=0", "--allow-read", tools, "--",
	                     tool("sbx_probe"), "alloc", "256", NULL };

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(chown(work, 65534, 65534), 0);
	ck_assert_int_eq(run_as_nobody(&out, &status, t1), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 124, "status %#x: %s", status, out);
	ck_assert_int_eq(count_procs_with("sleep 4343.5"), 0);
	free(out);
	ck_assert_int_eq(run_as_nobody(&out, &status, t2), 0);
	ck_assert_int_eq(WEXITSTATUS(status), 1);
	ck_assert_ptr_nonnull(strstr(out, "refused"));
	free(out);
	ck_assert_int_eq(run_as_nobody(&out, &status, t3), 0);
	ck_assert_int_ne(WEXITSTATUS(status), 0);
	ck_assert_ptr_null(strstr(out, "100 of 100"));
	free(out);
	ck_assert_int_eq(run_as_nobody(&out, &status, t4), 0);
	ck_assert_int_ne(WEXITSTATUS(status), 0);
	ck_assert_ptr_null(strstr(out, "alloc: ok"));
	free(out);
}
END_TEST

START_TEST(unprivileged_user_gets_the_allow_list_and_an_overlay)
{
	ovl v;
	char h[PATH_MAX], creds[PATH_MAX], p[PATH_MAX], *out = NULL, *before, *after;
	const char *args[] = { "sandbox", "--json", "--overlay", v.lower, "--upper", v.upper,
	                       "--overlay-work", v.owork, "--inside", "/srv/project", "--",
	                       "/bin/sh", "-c", p, NULL };
	const char *control[] = { tool("sbx_asuser"), "65534", "/bin/cat", creds, NULL };
	int status;
	json_t *j, *layers;
	struct stat st;
	int have_overlay = 0, have_allowlist = 0;

	if (geteuid() != 0)
		return; /* already unprivileged: the other overlay tests cover it */
	plant_home(h);
	join(creds, h, ".git-credentials");
	ck_assert_int_eq(chmod(creds, 0644), 0);
	/* control: nobody can read it outside the sandbox */
	ck_assert_int_eq(run_capture(&out, &status, control, 0), 0);
	ck_assert_msg(strstr(out, "DECOY-GIT-TOKEN"), "control: %s", out);
	free(out);
	ovl_make(&v, base, "ovl", 0);
	/* the round's directory is the user's; the lower layer stays root's */
	ck_assert_int_eq(chown(v.root, 65534, 65534), 0);
	ck_assert_int_eq(chown(v.upper, 65534, 65534), 0);
	ck_assert_int_eq(chown(v.owork, 65534, 65534), 0);
	join(p, v.lower, "f");
	ck_assert_int_eq(fx_write_file(p, "base\n"), 0);
	before = snapshot(v.lower);
	ck_assert_int_lt(snprintf(p, sizeof(p), "id -u; pwd; cat f; echo new > n; rm f; "
	                          "cat %s 2>/dev/null; wc -c < /etc/shadow; ls /root 2>&1 | wc -l",
	                          creds), (int)sizeof(p));
	ck_assert_int_eq(run_as_nobody(&out, &status, args), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: %s", status, out);
	j = json_loads(out, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	ck_assert_str_eq(json_string_value(json_object_get(j, "output")),
	                 "65534\n/srv/project\nbase\n0\n1\n");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "missing")), 0);
	layers = json_object_get(j, "layers");
	for (size_t i = 0; i < json_array_size(layers); i++) {
		const char *l = json_string_value(json_array_get(layers, i));

		have_overlay |= !strcmp(l, "overlay");
		have_allowlist |= !strcmp(l, "mntns:allowlist");
	}
	ck_assert(have_overlay && have_allowlist);
	json_decref(j);
	free(out);
	join(p, v.upper, "n");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_uid, 65534);
	join(p, v.upper, "f");
	ck_assert(is_whiteout(p));
	after = snapshot(v.lower);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	/* the user can clean up after the round: overlayfs's scratch
	 * directory (work/work, made mode 000) does not stay locked */
	{
		const char *rm[] = { tool("sbx_asuser"), "65534", "/bin/rm", "-rf", v.owork, v.upper, NULL };

		ck_assert_int_eq(run_capture(&out, &status, rm, 1), 0);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rm: %s", out);
		free(out);
		ck_assert(!wd_path_exists(v.owork) && !wd_path_exists(v.upper));
	}
}
END_TEST

/* ------------------------------------------------------------------- cli */

START_TEST(cli_exits_with_the_commands_status_and_prints_json)
{
	char *out = NULL;
	int status;
	const char *args[] = { "sandbox", "--json", "--workdir", work, "--", "sh", "-c",
	                       "echo hi; exit 3", NULL };
	const char *bad[] = { "sandbox", "--net", "wifi", "--", "true", NULL };
	json_t *j;

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(chown(work, 65534, 65534), 0);
	ck_assert_int_eq(run_as_nobody(&out, &status, args), 0);
	ck_assert_int_eq(WEXITSTATUS(status), 3);
	j = json_loads(out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "exit_code")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(j, "output")), "hi\n");
	json_decref(j);
	free(out);
	ck_assert_int_eq(run_as_nobody(&out, &status, bad), 0);
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	free(out);
}
END_TEST

START_TEST(setup_failure_is_an_error_naming_the_cause)
{
	char *out = NULL;
	int status;
	const char *args[] = { "sandbox", "--json", "--workdir", work, "--", "true", NULL };
	json_t *j;

	if (geteuid() != 0)
		return;
	/* nobody cannot enter a root-owned 0700 work tree */
	ck_assert_int_eq(chmod(work, 0700), 0);
	ck_assert_int_eq(run_as_nobody(&out, &status, args), 0);
	ck_assert_int_eq(WEXITSTATUS(status), 3);
	j = json_loads(out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "error");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "error")),
	                             "cannot enter the work directory"));
	json_decref(j);
	free(out);
}
END_TEST

START_TEST(cli_help_and_probe)
{
	const char *help[] = { warden_bin, "sandbox", "--help", NULL };
	const char *probe[] = { warden_bin, "sandbox", "--probe", "--json", NULL };
	const char *nocmd[] = { warden_bin, "sandbox", "--timeout", "5", NULL };
	char *out = NULL;
	int status;
	json_t *j, *layers;

	ck_assert_int_eq(run_capture(&out, &status, help, 0), 0);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: warden sandbox"));
	ck_assert_ptr_nonnull(strstr(out, "--policy strict|best-effort|off"));
	ck_assert_ptr_nonnull(strstr(out, "--inside PATH"));
	ck_assert_ptr_nonnull(strstr(out, "--overlay LOWER[:LOWER...]"));
	ck_assert_ptr_nonnull(strstr(out, "--upper DIR"));
	ck_assert_ptr_nonnull(strstr(out, "--overlay-work DIR"));
	free(out);
	ck_assert_int_eq(run_capture(&out, &status, probe, 0), 0);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	j = json_loads(out, 0, NULL);
	ck_assert_msg(j != NULL, "%s", out);
	layers = json_object_get(j, "layers");
	ck_assert_uint_ge(json_array_size(layers), 8);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(layers, 0), "layer")),
	                 "userns");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "reads")), "allow-list"));
	json_decref(j);
	free(out);
	ck_assert_int_eq(run_capture(&out, &status, nocmd, 1), 0);
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	ck_assert_ptr_nonnull(strstr(out, "no command given"));
	free(out);
}
END_TEST

/* ------------------------------------- where namespaces cannot be made */

START_TEST(strict_policy_refuses_naming_the_layer_and_why)
{
	const char *wrapper[] = { tool("sbx_nons"), NULL };
	const char *args[] = { "sandbox", "--workdir", work, "--", "true", NULL };
	char *out = NULL;
	int status;

	ck_assert_int_eq(run_wrapped(&out, &status, wrapper, args, 1), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %#x: %s", status, out);
	ck_assert_msg(strstr(out, "strict policy") && strstr(out, "userns: ") &&
	              strstr(out, "Operation not permitted"), "%s", out);
	free(out);
}
END_TEST

START_TEST(best_effort_without_namespaces_still_confines)
{
	const char *wrapper[] = { tool("sbx_nons"), NULL };
	char script[PATH_MAX * 3], port[16], key[PATH_MAX], plain[PATH_MAX], etc[64];
	const char *args[] = { "sandbox", "--json", "--policy", "best-effort", "--workdir", work,
	                       "--env", "ASAN_OPTIONS=detect_leaks=0", "--allow-read", tools, "--",
	                       "/bin/sh", "-c", script, NULL };
	char *out = NULL;
	int status, p, fd = listen_loopback(&p);
	json_t *j, *missing, *layers;
	const char *output;
	int have_landlock = 0, have_seccomp = 0;

	snprintf(port, sizeof(port), "%d", p);
	join(key, home, ".ssh/id_rsa");
	join(plain, home, "notes.txt");
	ck_assert_int_eq(fx_write_file(plain, "DECOY-HOME-NOTES\n"), 0);
	snprintf(etc, sizeof(etc), "/etc/wd-sbx-nons-%d", (int)getpid());
	/* Landlock alone is the read allow-list here: home is hidden, not
	 * only its deny list, and so are the secrets in /etc */
	ck_assert_int_lt(snprintf(script, sizeof(script),
	    "touch %s 2>/dev/null && echo etc-written; cat %s %s 2>/dev/null; "
	    "head -c 1 /etc/shadow 2>/dev/null && echo shadow-read; head -c 1 /etc/passwd >/dev/null "
	    "&& echo passwd-read; %s connect 127.0.0.1 %s; touch inside && echo wrote-work-tree",
	    etc, key, plain, tool("sbx_probe"), port), (int)sizeof(script));
	ck_assert_int_eq(run_wrapped(&out, &status, wrapper, args, 0), 0);
	ck_assert_msg(WIFEXITED(status), "status %#x", status);
	j = json_loads(out, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	missing = json_object_get(j, "missing");
	layers = json_object_get(j, "layers");
	ck_assert_uint_eq(json_array_size(missing), 4); /* userns mntns pidns netns */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(missing, 0)), "userns: "));
	for (size_t i = 0; i < json_array_size(layers); i++) {
		const char *l = json_string_value(json_array_get(layers, i));

		have_landlock |= !strncmp(l, "landlock:abi=", 13);
		have_seccomp |= !strcmp(l, "seccomp");
	}
	ck_assert(have_landlock && have_seccomp);
	output = json_string_value(json_object_get(j, "output"));
	ck_assert_msg(!strstr(output, "etc-written") && !strstr(output, "DECOY") &&
	              !strstr(output, "shadow-read") && strstr(output, "passwd-read") &&
	              strstr(output, "connect: refused") && strstr(output, "wrote-work-tree"),
	              "%s", output);
	ck_assert(!wd_path_exists(etc));
	json_decref(j);
	free(out);
	close(fd);
}
END_TEST

static Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *f = tcase_create("foundation");
	TCase *a = tcase_create("attacks");
	TCase *u = tcase_create("users");
	TCase *n = tcase_create("no-namespaces");
	TCase *o = tcase_create("overlay");

	tcase_add_checked_fixture(f, setup, teardown);
	tcase_add_checked_fixture(a, setup, teardown);
	tcase_add_checked_fixture(u, setup, teardown);
	tcase_add_checked_fixture(n, setup, teardown);
	tcase_add_checked_fixture(o, setup, teardown);
	tcase_add_test(f, exit_status_is_the_commands);
	tcase_add_test(f, signal_death_is_128_plus_signal);
	tcase_add_test(f, missing_command_exits_127_and_says_so);
	tcase_add_test(f, bad_options_are_errors);
	tcase_add_test(f, timeout_kills_the_whole_group_and_reports_124);
	tcase_add_test(f, timeout_without_namespaces_kills_the_group);
	tcase_add_test(f, output_cap_keeps_head_and_tail_and_says_what_was_cut);
	tcase_add_test(f, hundred_mib_of_output_is_capped);
	tcase_add_test(f, output_can_be_followed_live);
	tcase_add_test(f, stdin_is_dev_null_or_the_given_data);
	tcase_add_test(f, no_descriptor_leaks_into_the_command);
	tcase_add_test(f, environment_is_an_allow_list_without_secrets);
	tcase_add_test(f, home_and_tmpdir_are_private_and_writable);
	tcase_add_test(f, concurrent_runs_from_threads_stay_apart);
	tcase_add_test(f, layers_are_reported);
	tcase_add_test(a, connect_to_a_host_listener_fails);
	tcase_add_test(a, loopback_inside_works_only_when_asked);
	tcase_add_test(a, dns_lookup_fails);
	tcase_add_test(a, host_service_sockets_in_run_are_unreachable);
	tcase_add_test(a, kernel_knobs_and_the_terminal_are_out_of_reach);
	tcase_add_test(a, write_to_home_fails);
	tcase_add_test(a, write_to_etc_fails);
	tcase_add_test(a, write_to_host_tmp_does_not_reach_it);
	tcase_add_test(a, write_to_the_work_trees_parent_fails);
	tcase_add_test(a, symlink_out_of_the_work_tree_cannot_be_written_through);
	tcase_add_test(a, the_work_tree_is_writable);
	tcase_add_test(a, extra_paths_are_writable_or_readable_as_asked);
	tcase_add_test(a, a_private_pty_is_available);
	tcase_add_test(a, reading_the_decoy_ssh_key_fails);
	tcase_add_test(a, deny_list_is_configurable);
	tcase_add_test(a, credentials_in_home_are_unreadable);
	tcase_add_test(a, warden_config_is_unreadable_wherever_it_lives);
	tcase_add_test(a, another_repositorys_git_config_is_unreadable);
	tcase_add_test(a, another_runs_tree_in_the_cache_is_unreadable);
	tcase_add_test(a, a_denied_path_inside_the_work_tree_is_masked_where_it_shows);
	tcase_add_test(a, the_toolchain_and_system_files_stay_readable);
	tcase_add_test(a, etc_shadow_is_unreadable_even_for_root);
	tcase_add_test(a, allow_read_widens_reads_but_not_writes);
	tcase_add_test(a, workdir_inside_shows_the_work_tree_at_another_path);
	tcase_add_test(a, a_toolchain_hidden_in_home_is_named_when_not_found);
	tcase_add_test(o, overlay_writes_land_in_upper_and_the_lower_is_untouched);
	tcase_add_test(o, overlay_delete_leaves_a_whiteout_in_upper);
	tcase_add_test(o, overlay_whiteout_made_beforehand_hides_a_lower_file);
	tcase_add_test(o, overlay_lower_layers_stack_the_top_one_wins);
	tcase_add_test(o, overlay_symlink_to_a_host_file_does_not_reach_it);
	tcase_add_test(o, overlay_command_starts_at_workdir_inside);
	tcase_add_test(o, overlay_paths_with_commas_colons_and_backslashes_work);
	tcase_add_test(o, overlay_without_a_mount_namespace_is_an_error);
	tcase_add_test(o, overlay_options_are_checked);
	tcase_add_test(o, overlay_upper_serves_two_checks_in_a_row);
	tcase_add_test(o, overlay_is_available_here_and_the_answer_is_kept);
	tcase_add_test(a, double_forked_setsid_daemon_does_not_survive);
	tcase_add_test(a, host_processes_are_invisible);
	tcase_add_test(a, signalling_a_host_process_fails);
	tcase_add_test(a, ptrace_fails);
	tcase_add_test(a, loading_a_kernel_module_fails);
	tcase_add_test(a, new_namespaces_inside_fail);
	tcase_add_test(a, fork_bomb_is_contained);
	tcase_add_test(a, memory_hog_is_stopped);
	tcase_add_test(a, infinite_loop_is_killed_at_the_timeout);
	tcase_add_test(a, core_dumps_are_off_and_files_are_limited);
	tcase_add_test(a, a_c_projects_make_and_make_check_run_unchanged);
	tcase_add_test(u, works_for_an_unprivileged_user);
	tcase_add_test(u, unprivileged_user_timeout_and_attacks);
	tcase_add_test(u, cli_exits_with_the_commands_status_and_prints_json);
	tcase_add_test(u, setup_failure_is_an_error_naming_the_cause);
	tcase_add_test(u, cli_help_and_probe);
	tcase_add_test(u, unprivileged_user_gets_the_allow_list_and_an_overlay);
	tcase_add_test(n, strict_policy_refuses_naming_the_layer_and_why);
	tcase_add_test(n, best_effort_without_namespaces_still_confines);
	suite_add_tcase(s, f);
	suite_add_tcase(s, n);
	suite_add_tcase(s, a);
	suite_add_tcase(s, o);
	suite_add_tcase(s, u);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sandbox_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
