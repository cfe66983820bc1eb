/*
 * Interruption: SIGINT/SIGTERM during the baseline and during a round's
 * check stop the check's whole process group, end the ledger with status
 * "interrupted", remove the work tree and exit 128+N; kill -9 at several
 * points (the baseline, a check, the commit) leaves the user's repository
 * untouched and the ledger readable, `warden log` calls the run
 * interrupted, and a rerun works.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "e2e.h"
#include "fixture.h"
#include "warden/ledger.h"

/* The repository: slow.sh sleeps (with a background child, marked by its
 * odd duration) when value.txt says `when`; fast.sh only checks the value. */
#define MARK "3117"
static const char *const files_slow_on_42[] = {
	"value.txt", "answer = 41\n",
	"slow.sh", "#!/bin/sh\nif grep -q '^answer = 42$' value.txt; then sleep " MARK " & sleep 60; fi\n"
	           "grep -q '^answer = 42$' value.txt || { echo FAIL; exit 1; }\n",
	"fast.sh", "#!/bin/sh\ngrep -q '^answer = 42$' value.txt || { echo FAIL; exit 1; }\n",
	NULL
};
static const char *const files_slow_on_41[] = {
	"value.txt", "answer = 41\n",
	"slow.sh", "#!/bin/sh\nif grep -q '^answer = 41$' value.txt; then sleep " MARK " & sleep 60; fi\n"
	           "grep -q '^answer = 42$' value.txt || { echo FAIL; exit 1; }\n",
	"fast.sh", "#!/bin/sh\ngrep -q '^answer = 42$' value.txt || { echo FAIL; exit 1; }\n",
	NULL
};

static void ms_sleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* How many processes carry MARK in their command line. */
static int marked_processes(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[512];
		ssize_t len;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		for (ssize_t i = 0; i < len; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[len] = '\0';
		if (!strncmp(buf, "sleep " MARK, 10))
			n++;
	}
	closedir(d);
	return n;
}

/* Start `warden run` with a ticket without checks and `--check CHECK`. */
static pid_t start_run(struct e2e_world *w, const char *check, char *errpath)
{
	char spec[600];
	pid_t pid;

	snprintf(spec, sizeof(spec), "replay:%s", w->replay);
	snprintf(errpath, 600, "%s/stderr.txt", w->tmp);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int nul = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		dup2(nul, 1);
		execl(e2e_warden_bin(), e2e_warden_bin(), "run", "--repo", w->src, "--ticket", w->ticket,
		      "--work-dir", w->cache, "--model", spec, "--check", check, "--rounds", "1",
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The run's ledger path (the one .jsonl in the cache's ledger dir), or "". */
static void ledger_path(struct e2e_world *w, char *out, size_t n)
{
	char dir[600];
	DIR *d;
	struct dirent *e;

	out[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/ledger", w->cache);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		size_t dl = strlen(dir), el = strlen(e->d_name);

		if (strstr(e->d_name, ".jsonl") && dl + el + 2 <= n) {
			memcpy(out, dir, dl);
			out[dl] = '/';
			memcpy(out + dl + 1, e->d_name, el + 1);
		}
	}
	closedir(d);
}

/* Wait (up to 60 s) until the ledger holds `needle`. */
static void wait_for(struct e2e_world *w, const char *needle)
{
	for (int i = 0; i < 1200; i++) {
		char path[700];
		char *text = NULL;

		ledger_path(w, path, sizeof(path));
		if (path[0] && fx_read_file(&text, path) == 0) {
			int found = strstr(text, needle) != NULL;

			free(text);
			if (found)
				return;
		}
		ms_sleep(50);
	}
	ck_abort_msg("the ledger never showed %s", needle);
}

static int wait_exit(pid_t pid)
{
	int st = 0;

	for (int i = 0; i < 600; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		ms_sleep(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	ck_abort_msg("warden did not exit within 30 s of the signal");
	return -1;
}

static json_t *last_event(struct e2e_world *w)
{
	char path[700];
	json_t *evs = NULL, *ev;

	ledger_path(w, path, sizeof(path));
	ck_assert_int_eq(wd_ledger_read(&evs, path, 0), 0);
	ck_assert_uint_gt(json_array_size(evs), 0);
	ev = json_incref(json_array_get(evs, json_array_size(evs) - 1));
	json_decref(evs);
	return ev;
}

static int runs_left(struct e2e_world *w)
{
	char dir[600];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/runs", w->cache);
	if (!(d = opendir(dir)))
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* `warden log --json`: the status of the only run. */
static char *log_status(struct e2e_world *w)
{
	const char *argv[] = { e2e_warden_bin(), "log", "--json", "--work-dir", w->cache, NULL };
	char *out = NULL, *s;
	json_t *o;
	int status;

	ck_assert_int_eq(fx_run(&out, &status, argv, NULL, w->tmp), 0);
	ck_assert_msg(status == 0, "log exit %d:\n%s", status, out);
	o = json_loads(strchr(out, '{'), JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_ptr_nonnull(o);
	s = strdup(json_string_value(json_object_get(json_array_get(json_object_get(o, "runs"), 0),
	                                             "status")));
	json_decref(o);
	free(out);
	return s;
}

/* A rerun in the same cache, with the fast check, proposes. */
static void rerun_works(struct e2e_world *w)
{
	char spec[600];

	snprintf(spec, sizeof(spec), "replay:%s", w->replay);
	e2e_run(w, NULL, "--model", spec, "--check", "sh fast.sh", "--rounds", "1", (char *)NULL);
	ck_assert_msg(w->status == 0, "rerun exit %d:\n%s", w->status, w->output);
}

static void signal_test(const char *const *files, const char *wait_event, int sig)
{
	struct e2e_world w;
	char errpath[600], *err = NULL, *st;
	json_t *ev;
	pid_t pid;
	int code;

	e2e_world_init(&w, files, "scope: value.txt\n");
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	ck_assert_int_eq(marked_processes(), 0);
	pid = start_run(&w, "sh slow.sh", errpath);
	wait_for(&w, wait_event);
	/* the check is running: its background child is there (the control) */
	for (int i = 0; i < 200 && marked_processes() == 0; i++)
		ms_sleep(50);
	ck_assert_int_eq(marked_processes(), 1);
	kill(pid, sig);
	code = wait_exit(pid);
	ck_assert_int_eq(fx_read_file(&err, errpath), 0);
	ck_assert_msg(code == 128 + sig, "exit %d:\n%s", code, err);
	ck_assert_ptr_nonnull(strstr(err, sig == SIGINT ? "interrupted by SIGINT"
	                                                : "interrupted by SIGTERM"));
	ck_assert_ptr_nonnull(strstr(err, "work tree removed"));
	free(err);
	/* the check's whole group is gone, background child included */
	for (int i = 0; i < 40 && marked_processes() > 0; i++)
		ms_sleep(50);
	ck_assert_int_eq(marked_processes(), 0);
	ev = last_event(&w);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "type")), "run.end");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "status")), "interrupted");
	json_decref(ev);
	ck_assert_int_eq(runs_left(&w), 0);
	e2e_assert_user_repo_unchanged(&w, 0);
	st = log_status(&w);
	ck_assert_str_eq(st, "interrupted");
	free(st);
	rerun_works(&w);
	e2e_world_free(&w);
}

START_TEST(sigint_during_a_check_stops_it_and_ends_the_ledger)
{
	signal_test(files_slow_on_42, "\"type\":\"patch.apply\"", SIGINT);
}
END_TEST

START_TEST(sigterm_during_the_baseline_stops_it_and_ends_the_ledger)
{
	signal_test(files_slow_on_41, "\"type\":\"world\"", SIGTERM);
}
END_TEST

static const char *const publish_or_notes_lock[] = {
	".git/objects", ".git/refs/heads/warden", ".git/logs/refs/heads/warden",
	".git/refs/notes/warden", ".git/logs/refs/notes/warden", ".git/refs/notes/warden.lock", NULL
};

/* kill -9 after the ledger shows `after` (and `delay_ms` more). */
static void kill9_test(const char *const *files, const char *check, const char *after,
                       long delay_ms)
{
	struct e2e_world w;
	char errpath[600], path[700], lock[700], *st, *snap = NULL;
	struct stat stl;
	json_t *evs = NULL;
	pid_t pid;
	int code;

	e2e_world_init(&w, files, "scope: value.txt\n");
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	pid = start_run(&w, check, errpath);
	wait_for(&w, after);
	ms_sleep(delay_ms);
	kill(pid, SIGKILL);
	code = wait_exit(pid);
	if (code != 128 + SIGKILL) {
		/* it finished first: nothing left to test at this point */
		e2e_world_free(&w);
		return;
	}
	/* the sandbox's init dies with warden (PDEATHSIG): no check lives on */
	for (int i = 0; i < 40 && marked_processes() > 0; i++)
		ms_sleep(50);
	ck_assert_int_eq(marked_processes(), 0);
	/* the user's repository: untouched but for what a finished publish adds,
	 * and, when the kill lands inside libgit2's update of the notes ref, that
	 * ref's lock (git's lock protocol leaves <ref>.lock behind a killed writer,
	 * as it may leave refs/heads/warden/<branch>.lock, which the publish paths
	 * already cover); the next note write removes it */
	snprintf(lock, sizeof(lock), "%s/.git/refs/notes/warden.lock", w.src);
	if (stat(lock, &stl) == 0) {
		ck_assert_msg(S_ISREG(stl.st_mode) && stl.st_size == 0, "not a killed writer's lock");
		ck_assert_int_eq(fx_snapshot_except(&snap, w.src, publish_or_notes_lock), 0);
		ck_assert_msg(strcmp(w.before_pub, snap) == 0,
		              "user's checkout changed beyond the new ref and the notes lock");
		free(snap);
	} else {
		e2e_assert_user_repo_unchanged(&w, 1);
	}
	ledger_path(&w, path, sizeof(path));
	ck_assert_int_eq(wd_ledger_read(&evs, path, 0), 0);
	ck_assert_uint_gt(json_array_size(evs), 0);
	json_decref(evs);
	st = log_status(&w);
	ck_assert_msg(!strcmp(st, "interrupted") || !strcmp(st, "proposed"), "status %s", st);
	free(st);
	rerun_works(&w);
	/* the rerun wrote its note: no lock is left */
	ck_assert_int_ne(stat(lock, &stl), 0);
	e2e_world_free(&w);
}

START_TEST(kill9_during_the_baseline)
{
	kill9_test(files_slow_on_41, "sh slow.sh", "\"type\":\"world\"", 300);
}
END_TEST

START_TEST(kill9_during_a_check)
{
	kill9_test(files_slow_on_42, "sh slow.sh", "\"type\":\"patch.apply\"", 300);
}
END_TEST

START_TEST(kill9_around_the_commit)
{
	/* the commit follows the passing verdict at once: kill at 0, 5, 20 ms after it */
	static const long delays[] = { 0, 5, 20 };

	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++)
		kill9_test(files_slow_on_41, "sh fast.sh", "\"gate_passed\":true", delays[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("interrupt");
	TCase *tc = tcase_create("signals");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, sigint_during_a_check_stops_it_and_ends_the_ledger);
	tcase_add_test(tc, sigterm_during_the_baseline_stops_it_and_ends_the_ledger);
	tcase_add_test(tc, kill9_during_the_baseline);
	tcase_add_test(tc, kill9_during_a_check);
	tcase_add_test(tc, kill9_around_the_commit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
