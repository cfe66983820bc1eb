/*
 * `warden log`, `warden show` and `warden stats` on runs the test makes
 * (proposed after a repair, refused, failed to start, killed), the SQLite
 * index they read (rebuilt from the JSONL, versioned), and hostile ledgers.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "e2e.h"
#include "fixture.h"
#include "warden/ledger.h"

/* Run `warden ARGS... --work-dir CACHE`; output (stdout+stderr) and status. */
static char *warden(struct e2e_world *w, int *status, ...)
{
	const char *argv[32];
	size_t n = 0;
	va_list ap;
	const char *a;
	char *out = NULL;

	argv[n++] = e2e_warden_bin();
	va_start(ap, status);
	while ((a = va_arg(ap, const char *)) != NULL && n < 28)
		argv[n++] = a;
	va_end(ap);
	argv[n++] = "--work-dir";
	argv[n++] = w->cache;
	argv[n] = NULL;
	ck_assert_int_eq(fx_run(&out, status, argv, NULL, w->tmp), 0);
	return out;
}

/* The one line of output that is a JSON object. */
static json_t *json_of(const char *out)
{
	const char *line = out[0] == '{' ? out : strstr(out, "\n{");
	json_t *o;

	ck_assert_msg(line != NULL, "no JSON in:\n%s", out);
	if (*line == '\n')
		line++;
	o = json_loadb(line, strcspn(line, "\n"), 0, NULL);
	ck_assert_msg(o != NULL, "bad JSON in:\n%s", out);
	return o;
}

static json_t *log_json(struct e2e_world *w, const char *extra1, const char *extra2)
{
	int status;
	char *out = warden(w, &status, "log", "--json", extra1, extra2, (char *)NULL);
	json_t *o;

	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	o = json_of(out);
	free(out);
	return o;
}

static json_t *run_by_id(json_t *log, const char *id)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(log, "runs"), i, r)
		if (!strcmp(json_string_value(json_object_get(r, "id")), id))
			return r;
	return NULL;
}

/* Three runs in one cache: proposed after one repair, refused, no model. */
static void three_runs(struct e2e_world *w, char ids[3][32])
{
	char spec[600];
	static const char out_of_scope[] =
		"```diff\n--- a/other.txt\n+++ b/other.txt\n@@ -1 +1 @@\n-do not touch\n+touched\n```\n";

	e2e_world_init(w, NULL, NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w->replay);
	e2e_write_replay(w, "Set it to 43.\n```diff\n" E2E_DIFF_TO(43) "```\n",
	                 "Oops, 42.\n```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(w, NULL, "--model", spec, (char *)NULL);
	ck_assert_msg(w->status == 0, "exit %d:\n%s", w->status, w->output);
	snprintf(ids[0], 32, "%s", e2e_str(w, "run_id"));
	e2e_write_replay(w, out_of_scope, (char *)NULL);
	e2e_run(w, NULL, "--model", spec, "--rounds", "1", (char *)NULL);
	ck_assert_msg(w->status == 1, "exit %d:\n%s", w->status, w->output);
	snprintf(ids[1], 32, "%s", e2e_str(w, "run_id"));
	e2e_run(w, NULL, "--model", "replay:/nonexistent/replay.jsonl", (char *)NULL);
	ck_assert_msg(w->status != 0 && w->status != 1, "exit %d:\n%s", w->status, w->output);
	snprintf(ids[2], 32, "%s", e2e_str(w, "run_id"));
}

START_TEST(log_lists_every_run_with_its_status)
{
	struct e2e_world w;
	char ids[3][32], *out;
	json_t *log, *r;
	int status;

	three_runs(&w, ids);
	log = log_json(&w, NULL, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 3);
	r = run_by_id(log, ids[0]);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "proposed");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "rounds")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "input_tokens")), 200);
	ck_assert(json_is_integer(json_object_get(r, "ms")));
	ck_assert_str_eq(json_string_value(json_object_get(r, "title")), "Make the answer right");
	r = run_by_id(log, ids[1]);
	ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "no_patch");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "reason")),
	                             "round 1: patch refused: "));
	r = run_by_id(log, ids[2]);
	ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "error");
	json_decref(log);

	/* filters */
	log = log_json(&w, "--status", "no_patch");
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 1);
	json_decref(log);
	log = log_json(&w, "--repo", "no-such-repository");
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 0);
	json_decref(log);
	log = log_json(&w, "--since", "1d");
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 3);
	json_decref(log);
	log = log_json(&w, "--since", "2999-01-01");
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 0);
	json_decref(log);

	/* the text form: one line per run */
	out = warden(&w, &status, "log", (char *)NULL);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_nonnull(strstr(out, ids[0]));
	ck_assert_ptr_nonnull(strstr(out, "proposed"));
	ck_assert_ptr_nonnull(strstr(out, "no_patch"));
	ck_assert_ptr_nonnull(strstr(out, "Make the answer right"));
	free(out);
	/* bad input: a clear message and exit 2 */
	out = warden(&w, &status, "log", "--since", "yesterday-ish", (char *)NULL);
	ck_assert_int_eq(status, 2);
	ck_assert_ptr_nonnull(strstr(out, "--since wants a date"));
	free(out);
	e2e_world_free(&w);
}
END_TEST

START_TEST(show_tells_a_failed_run_and_a_proposed_one)
{
	struct e2e_world w;
	char ids[3][32], *out;
	json_t *st, *rounds, *r1;
	int status;

	three_runs(&w, ids);
	/* the proposed run, as JSON: round 1 failed with its output, round 2 passed */
	out = warden(&w, &status, "show", ids[0], "--json", (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	st = json_of(out);
	free(out);
	ck_assert_str_eq(json_string_value(json_object_get(st, "status")), "proposed");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(st, "ticket"), "title")),
	                 "Make the answer right");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_object_get(st, "ticket"),
	                                                               "body")), "must say 42"));
	ck_assert(json_array_size(json_object_get(json_object_get(st, "context"), "files")) > 0);
	rounds = json_object_get(st, "rounds");
	ck_assert_uint_eq(json_array_size(rounds), 2);
	r1 = json_array_get(rounds, 0);
	ck_assert(json_is_false(json_object_get(r1, "passed")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
		json_array_get(json_object_get(r1, "checks"), 0), "excerpt")),
		"FAIL answer: expected 42, got answer = 43"));
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(
		json_object_get(r1, "model_calls"), 0), "input_tokens")), 100);
	ck_assert(json_is_true(json_object_get(json_array_get(rounds, 1), "passed")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(st, "diff")), "+answer = 42"));
	ck_assert(json_is_object(json_object_get(st, "proposal")));
	/* costs are numbers, evidence objects */
	ck_assert(json_is_number(json_object_get(json_object_get(st, "usage"), "cost_usd")));
	json_decref(st);

	/* the refused run in words, by a prefix of its id */
	{
		char prefix[8];

		snprintf(prefix, sizeof(prefix), "%.5s", ids[1]);
		out = warden(&w, &status, "show", prefix, (char *)NULL);
	}
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	ck_assert_ptr_nonnull(strstr(out, "no_patch"));
	ck_assert_ptr_nonnull(strstr(out, "patch refused: "));
	ck_assert_ptr_nonnull(strstr(out, "other.txt"));
	free(out);
	/* the run that never reached the model */
	out = warden(&w, &status, "show", ids[2], (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	ck_assert_ptr_nonnull(strstr(out, " error "));
	free(out);
	/* no such run */
	out = warden(&w, &status, "show", "ffffffff", (char *)NULL);
	ck_assert_int_eq(status, 2);
	ck_assert_ptr_nonnull(strstr(out, "no run 'ffffffff'"));
	free(out);
	e2e_world_free(&w);
}
END_TEST

START_TEST(stats_counts_outcomes_and_costs)
{
	struct e2e_world w;
	char ids[3][32], *out;
	json_t *st, *g;
	int status;

	three_runs(&w, ids);
	out = warden(&w, &status, "stats", "--json", (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	st = json_of(out);
	free(out);
	g = json_array_get(json_object_get(st, "groups"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(g, "runs")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "status"), "proposed")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "status"), "no_patch")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "status"), "error")), 1);
	ck_assert(json_real_value(json_object_get(g, "completion_rate")) > 0.33 &&
	          json_real_value(json_object_get(g, "completion_rate")) < 0.34);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "rounds"), "repaired")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "model_latency_ms"),
	                                                    "calls")), 3);
	json_decref(st);
	out = warden(&w, &status, "stats", "--by", "model", (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	ck_assert_ptr_nonnull(strstr(out, "== replay:"));
	ck_assert_ptr_nonnull(strstr(out, "completion rate"));
	free(out);
	out = warden(&w, &status, "stats", "--by", "colour", (char *)NULL);
	ck_assert_int_eq(status, 2);
	free(out);
	e2e_world_free(&w);
}
END_TEST

/* A ledger with no run.end whose process is gone: the run was killed. */
START_TEST(a_run_without_an_end_whose_process_is_gone_is_interrupted)
{
	struct e2e_world w;
	char path[700], line[1024], host[256] = "", *out;
	json_t *log;
	int status;

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	e2e_world_init(&w, NULL, NULL);
	snprintf(path, sizeof(path), "%s/ledger/deadbeef.jsonl", w.cache);
	/* pid 2^22 - 3 with a start time that cannot match: not alive */
	snprintf(line, sizeof(line),
	         "{\"seq\":0,\"ts\":\"2026-01-01T00:00:00.000Z\",\"run\":\"deadbeef\",\"type\":\"run.start\","
	         "\"repo\":\"%s\",\"ticket\":\"t.md\",\"process\":{\"pid\":4194301,\"start\":1,\"host\":\"%s\"}}\n"
	         "{\"seq\":1,\"ts\":\"2026-01-01T00:00:01.000Z\",\"run\":\"deadbeef\",\"type\":\"round\",\"round\":1,\"of\":3}\n",
	         w.src, host);
	ck_assert_int_eq(fx_write_file(path, line), 0);
	log = log_json(&w, NULL, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(run_by_id(log, "deadbeef"), "status")),
	                 "interrupted");
	json_decref(log);
	log = log_json(&w, "--status", "interrupted");
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 1);
	json_decref(log);
	out = warden(&w, &status, "show", "deadbeef", (char *)NULL);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_nonnull(strstr(out, "interrupted"));
	free(out);
	e2e_world_free(&w);
}
END_TEST

START_TEST(index_is_rebuilt_from_the_ledgers_and_versioned)
{
	struct e2e_world w;
	char ids[3][32], db[700], *out;
	json_t *log;
	sqlite3 *h = NULL;
	int status;

	three_runs(&w, ids);
	snprintf(db, sizeof(db), "%s/index.sqlite", w.cache);
	json_decref(log_json(&w, NULL, NULL));
	/* deleting the index loses nothing */
	ck_assert_int_eq(unlink(db), 0);
	log = log_json(&w, "--reindex", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 3);
	json_decref(log);
	/* WAL and a schema version */
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	{
		sqlite3_stmt *st = NULL;

		ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
		ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
		sqlite3_finalize(st);
		/* rows the runs made, derived */
		ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM checks WHERE phase = 'baseline'",
		                                    -1, &st, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_int_ge(sqlite3_column_int(st, 0), 1);
		sqlite3_finalize(st);
	}
	/* a ledger removed: its rows go */
	{
		char path[700];

		snprintf(path, sizeof(path), "%s/ledger/%s.jsonl", w.cache, ids[1]);
		ck_assert_int_eq(unlink(path), 0);
	}
	log = log_json(&w, NULL, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 2);
	json_decref(log);
	/* a schema newer than this warden: a clear message, not a crash */
	ck_assert_int_eq(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	out = warden(&w, &status, "log", (char *)NULL);
	ck_assert_int_eq(status, 2);
	ck_assert_ptr_nonnull(strstr(out, "schema version 99"));
	free(out);
	e2e_world_free(&w);
}
END_TEST

/* What a ledger says is untrusted: bad lines, blob ids that walk out of the
 * cache, control characters and planted secrets. */
START_TEST(hostile_ledgers_are_reported_not_obeyed)
{
	struct e2e_world w;
	char path[700], outside[700], *out;
	json_t *log;
	int status;
	static const char hostile[] =
		"{\"seq\":0,\"ts\":\"2026-01-01T00:00:00.000Z\",\"run\":\"abad1dea\",\"type\":\"run.start\","
		"\"repo\":\"x'); DROP TABLE runs; --\",\"ticket\":\"t\\u001b[31m.md\"}\n"
		"{\"seq\":1,\"ts\":\"2026-01-01T00:00:00.000Z\",\"run\":\"abad1dea\",\"type\":\"ticket\","
		"\"title\":\"evil\\u001b]0;title\\u0007 sk-abcdefghijklmnopqrstuvwxyz0123\",\"body_blob\":\"../../../../../../etc/passwd\"}\n"
		"{\"seq\":2,\"ts\":\"2026-01-01T00:00:00.000Z\",\"run\":\"abad1dea\",\"type\":\"check\","
		"\"phase\":\"baseline\",\"name\":\"t\",\"output_blob\":\"../../outside\",\"passed\":false}\n"
		"{\"seq\":3,\"ts\":\"2026-01-01T00:00:00.000Z\",\"run\":\"abad1dea\",\"type\":\"run.end\","
		"\"status\":\"error\",\"rounds\":\"many\",\"cost_usd\":\"free\"}\n";

	e2e_world_init(&w, NULL, NULL);
	snprintf(outside, sizeof(outside), "%s/outside", w.cache);
	ck_assert_int_eq(fx_write_file(outside, "SECRET-OUTSIDE-CONTENT\n"), 0);
	snprintf(path, sizeof(path), "%s/ledger/abad1dea.jsonl", w.cache);
	ck_assert_int_eq(fx_write_file(path, hostile), 0);
	/* a ledger with a broken line in the middle */
	snprintf(path, sizeof(path), "%s/ledger/0badf00d.jsonl", w.cache);
	ck_assert_int_eq(fx_write_file(path, "{\"seq\":0,\"run\":\"0badf00d\",\"type\":\"run.start\"}\n"
	                                     "not json\n{\"seq\":2,\"type\":\"x\"}\n"), 0);
	log = log_json(&w, NULL, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(run_by_id(log, "0badf00d"), "status")),
	                 "unreadable");
	json_decref(log);
	out = warden(&w, &status, "log", (char *)NULL);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_null(strchr(out, '\033'));
	ck_assert_ptr_null(strstr(out, "sk-abcdefghijklmnopqrstuvwxyz0123"));
	free(out);
	out = warden(&w, &status, "show", "abad1dea", (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	ck_assert_ptr_null(strchr(out, '\033'));
	ck_assert_ptr_null(strchr(out, '\a'));
	ck_assert_ptr_null(strstr(out, "SECRET-OUTSIDE-CONTENT"));
	ck_assert_ptr_null(strstr(out, "root:"));
	ck_assert_ptr_null(strstr(out, "sk-abcdefghijklmnopqrstuvwxyz0123"));
	free(out);
	/* control: the file the blob id points at is there and readable */
	{
		char *text = NULL;

		ck_assert_int_eq(fx_read_file(&text, outside), 0);
		ck_assert_ptr_nonnull(strstr(text, "SECRET-OUTSIDE-CONTENT"));
		free(text);
	}
	out = warden(&w, &status, "show", "0badf00d", (char *)NULL);
	ck_assert_int_eq(status, 2);
	ck_assert_ptr_nonnull(strstr(out, "not a ledger event"));
	free(out);
	out = warden(&w, &status, "stats", (char *)NULL);
	ck_assert_int_eq(status, 0);
	free(out);
	e2e_world_free(&w);
}
END_TEST


/* ---- catching up: the index sees every change without reading every ledger */

/* The ledger directory's times an hour back: the state a sync may trust
 * (a directory changed within the last seconds never is). */
static void settle(const char *dir)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 3600;
	t[1] = t[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, dir, t, 0), 0);
}

/* How many signatures of the ledger directory the index holds (0 or 1). */
static int sig_rows(const char *cache)
{
	char db[700];
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int n;

	snprintf(db, sizeof(db), "%s/index.sqlite", cache);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM meta", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static const char *status_of(json_t *log, const char *id)
{
	json_t *r = run_by_id(log, id);

	return r ? json_string_value(json_object_get(r, "status")) : "(not listed)";
}

START_TEST(index_catches_up_with_new_ended_killed_deleted_and_corrupt_ledgers)
{
	struct e2e_world w;
	char dir[600], done[700], open_[700], line[1024], host[256] = "";
	json_t *log;
	struct stat before, after;
	wd_ledger *l = NULL;
	pid_t child;
	int status;

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	e2e_world_init(&w, NULL, NULL);
	snprintf(dir, sizeof(dir), "%s/ledger", w.cache);
	snprintf(done, sizeof(done), "%s/0000d0e0.jsonl", dir);
	snprintf(open_, sizeof(open_), "%s/00000be0.jsonl", dir);
	ck_assert_int_eq(fx_write_file(done,
		"{\"seq\":0,\"ts\":\"2026-01-01T00:00:00.000Z\",\"run\":\"0000d0e0\",\"type\":\"run.start\"}\n"
		"{\"seq\":1,\"ts\":\"2026-01-01T00:00:09.000Z\",\"run\":\"0000d0e0\",\"type\":\"run.end\","
		"\"status\":\"proposed\",\"rounds\":1}\n"), 0);
	/* a run still being written: its process (a child of the test) is alive */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(line, sizeof(line),
	         "{\"seq\":0,\"ts\":\"2026-01-02T00:00:00.000Z\",\"run\":\"00000be0\",\"type\":\"run.start\","
	         "\"process\":{\"pid\":%ld,\"start\":0,\"host\":\"%s\"}}\n", (long)child, host);
	ck_assert_int_eq(fx_write_file(open_, line), 0);

	/* the directory just changed: listed, but its signature is not trusted yet */
	log = log_json(&w, NULL, NULL);
	ck_assert_str_eq(status_of(log, "0000d0e0"), "proposed");
	ck_assert_str_eq(status_of(log, "00000be0"), "running");
	json_decref(log);
	ck_assert_int_eq(sig_rows(w.cache), 0);
	/* settled: the next sync records the signature */
	settle(dir);
	json_decref(log_json(&w, NULL, NULL));
	ck_assert_int_eq(sig_rows(w.cache), 1);

	/* killed: the process goes, the ledger does not change: interrupted */
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	log = log_json(&w, NULL, NULL);
	ck_assert_str_eq(status_of(log, "00000be0"), "interrupted");
	json_decref(log);

	/* an open run's ledger grows (the directory's times do not move): a
	 * torn last line is what a crash mid-write leaves, and is skipped */
	settle(dir);
	json_decref(log_json(&w, NULL, NULL));
	ck_assert_int_eq(sig_rows(w.cache), 1);
	append(open_, "{\"seq\":1,\"ts\":\"2026-01-02T00:00:05.000Z\",\"run\":\"00000be0\",\"type\":\"round\","
	              "\"round\":1}\n{\"seq\":2,\"ts\":\"2026-01-0");
	log = log_json(&w, NULL, NULL);
	ck_assert_str_eq(status_of(log, "00000be0"), "interrupted");
	ck_assert_int_eq(json_integer_value(json_object_get(run_by_id(log, "00000be0"), "rounds")), 1);
	json_decref(log);

	/* an ended run gets a decision through the ledger writer: seen, because
	 * the writer moves the directory's times (control: they moved) */
	settle(dir);
	json_decref(log_json(&w, NULL, NULL));
	ck_assert_int_eq(stat(dir, &before), 0);
	ck_assert_int_eq(wd_ledger_open(&l, done, "0000d0e0"), 0);
	ck_assert_int_eq(wd_ledger_add(l, "review.reject", json_pack("{s:s, s:s}", "by", "ann",
	                                                             "reason", "wrong file")), 0);
	wd_ledger_close(l);
	log = log_json(&w, NULL, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(run_by_id(log, "0000d0e0"), "decision")),
	                 "rejected");
	json_decref(log);
	ck_assert_int_eq(stat(dir, &after), 0);
	ck_assert(after.st_mtim.tv_sec > before.st_mtim.tv_sec);

	/* a run written after the last call, and one with a corrupt line */
	settle(dir);
	json_decref(log_json(&w, NULL, NULL));
	{
		char path[700];

		snprintf(path, sizeof(path), "%s/0000a0e0.jsonl", dir);
		ck_assert_int_eq(fx_write_file(path,
			"{\"seq\":0,\"ts\":\"2026-01-03T00:00:00.000Z\",\"run\":\"0000a0e0\",\"type\":\"run.start\"}\n"
			"{\"seq\":1,\"ts\":\"2026-01-03T00:00:01.000Z\",\"run\":\"0000a0e0\",\"type\":\"run.end\","
			"\"status\":\"no_patch\",\"rounds\":2}\n"), 0);
		snprintf(path, sizeof(path), "%s/0000c0e0.jsonl", dir);
		ck_assert_int_eq(fx_write_file(path,
			"{\"seq\":0,\"ts\":\"2026-01-04T00:00:00.000Z\",\"run\":\"0000c0e0\",\"type\":\"run.start\"}\n"
			"{\"seq\":1,\"ts\":\"2026-01-04T00:0\n"
			"{\"seq\":2,\"ts\":\"2026-01-04T00:00:01.000Z\",\"run\":\"0000c0e0\",\"type\":\"run.end\","
			"\"status\":\"proposed\"}\n"), 0);
	}
	log = log_json(&w, NULL, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 4);
	ck_assert_str_eq(status_of(log, "0000a0e0"), "no_patch");
	ck_assert_int_eq(json_integer_value(json_object_get(run_by_id(log, "0000a0e0"), "rounds")), 2);
	ck_assert_str_eq(status_of(log, "0000c0e0"), "unreadable");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(run_by_id(log, "0000c0e0"),
	                                                               "reason")), ":2: not a ledger event"));
	json_decref(log);

	/* a deleted ledger: its run goes */
	settle(dir);
	json_decref(log_json(&w, NULL, NULL));
	ck_assert_int_eq(unlink(done), 0);
	log = log_json(&w, NULL, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "runs")), 3);
	ck_assert_str_eq(status_of(log, "0000d0e0"), "(not listed)");
	json_decref(log);
	e2e_world_free(&w);
}
END_TEST

/* Percentiles ranked by SQLite, per-ticket sums, runs with no end. */
START_TEST(stats_percentiles_tickets_and_unended_runs_from_hand_written_ledgers)
{
	struct e2e_world w;
	char path[700], text[4096], host[256] = "", *out;
	json_t *st, *g;
	int status;
	/* run, ticket, status (NULL: no run.end), model call latencies */
	static const struct { const char *id, *ticket, *status; int ms[3]; double cost; } runs[] = {
		{ "000000a1", "t-1", "proposed", { 10, 20, 0 }, 0.25 },
		{ "000000a2", "t-1", "no_patch", { 30, 0, 0 }, 0.5 },
		{ "000000a3", "t-2", "proposed", { 40, 50, 0 }, 1.0 },
		{ "000000a4", "t-2", NULL, { 0, 0, 0 }, 0 },
	};

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	e2e_world_init(&w, NULL, NULL);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		size_t n = 0;
		int seq = 0;

		n += (size_t)snprintf(text + n, sizeof(text) - n,
		        "{\"seq\":%d,\"ts\":\"2026-01-01T00:00:00.000Z\",\"run\":\"%s\",\"type\":\"run.start\","
		        "\"model\":\"m\",\"process\":{\"pid\":4194301,\"start\":1,\"host\":\"%s\"}}\n"
		        "{\"seq\":%d,\"ts\":\"2026-01-01T00:00:00.000Z\",\"run\":\"%s\",\"type\":\"ticket\","
		        "\"id\":\"%s\"}\n", seq, runs[i].id, host, seq + 1, runs[i].id, runs[i].ticket);
		seq += 2;
		for (int k = 0; k < 3 && runs[i].ms[k]; k++)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
			        "{\"seq\":%d,\"ts\":\"2026-01-01T00:00:01.000Z\",\"run\":\"%s\",\"type\":\"model.call\","
			        "\"round\":1,\"ms\":%d,\"input_tokens\":100,\"output_tokens\":10}\n",
			        seq++, runs[i].id, runs[i].ms[k]);
		if (runs[i].status)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
			        "{\"seq\":%d,\"ts\":\"2026-01-01T00:00:02.000Z\",\"run\":\"%s\",\"type\":\"run.end\","
			        "\"status\":\"%s\",\"rounds\":1,\"input_tokens\":100,\"output_tokens\":10,"
			        "\"cost_usd\":%g}\n", seq, runs[i].id, runs[i].status, runs[i].cost);
		ck_assert_uint_lt(n, sizeof(text));
		snprintf(path, sizeof(path), "%s/ledger/%s.jsonl", w.cache, runs[i].id);
		ck_assert_int_eq(fx_write_file(path, text), 0);
	}
	out = warden(&w, &status, "stats", "--json", (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	st = json_of(out);
	free(out);
	g = json_array_get(json_object_get(st, "groups"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(g, "runs")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "status"), "interrupted")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "status"), "finished")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "status"), "proposed")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(g, "interrupted")), 1);
	/* latencies 10 20 30 40 50: nearest rank p50 = 3rd, p95 = 5th */
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "model_latency_ms"),
	                                                    "calls")), 5);
	ck_assert(json_real_value(json_object_get(json_object_get(g, "model_latency_ms"), "p50")) == 30);
	ck_assert(json_real_value(json_object_get(json_object_get(g, "model_latency_ms"), "p95")) == 50);
	/* per ticket: t-1 cost 0.75, t-2 cost 1.0 (the killed run: no cost) */
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(g, "per_ticket"),
	                                                    "tickets")), 2);
	ck_assert(json_real_value(json_object_get(json_object_get(g, "per_ticket"),
	                                          "cost_usd_mean")) == 0.875);
	ck_assert(json_real_value(json_object_get(json_object_get(g, "per_ticket"),
	                                          "cost_usd_p95")) == 1.0);
	json_decref(st);
	/* by ticket: one block each, the killed run in t-2's */
	out = warden(&w, &status, "stats", "--by", "ticket", "--json", (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	st = json_of(out);
	free(out);
	ck_assert_uint_eq(json_array_size(json_object_get(st, "groups")), 2);
	{
		size_t i;

		json_array_foreach(json_object_get(st, "groups"), i, g) {
			int t2 = !strcmp(json_string_value(json_object_get(g, "key")), "t-2");

			ck_assert_int_eq(json_integer_value(json_object_get(g, "interrupted")), t2);
			ck_assert(json_real_value(json_object_get(json_object_get(g, "model_latency_ms"),
			                                          "p95")) == (t2 ? 50 : 30));
		}
	}
	json_decref(st);
	e2e_world_free(&w);
}
END_TEST

/* review show is the proposal around the run view: what `warden show` says
 * of the run (but the diff, which review show takes from the commit) is in
 * it word for word, with what the model said. */
START_TEST(review_show_tells_the_run_as_show_does)
{
	struct e2e_world w;
	char ids[3][32], *show, *review, *cut;
	int status;

	three_runs(&w, ids);
	show = warden(&w, &status, "show", ids[0], (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, show);
	ck_assert_ptr_nonnull(strstr(show, "    | Set it to 43."));
	ck_assert_ptr_nonnull(cut = strstr(show, "\ndiff\n"));
	cut[0] = '\0';
	review = warden(&w, &status, "review", "show", ids[0], "--no-diff", (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, review);
	ck_assert_ptr_nonnull(strstr(review, "proposal "));
	ck_assert_msg(strstr(review, show) != NULL, "run view not in review show:\n%s\n---\n%s",
	              show, review);
	free(show);
	free(review);
	e2e_world_free(&w);
}
END_TEST

/* An index written by the schema before (version 1: no signature, rows not
 * redacted) is migrated on open, and every ledger is read again. */
START_TEST(a_version_1_index_is_migrated_and_read_again)
{
	struct e2e_world w;
	char ids[3][32], db[700], *out;
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int status;

	three_runs(&w, ids);
	json_decref(log_json(&w, NULL, NULL));
	snprintf(db, sizeof(db), "%s/index.sqlite", w.cache);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	/* back to version 1, with a row as version 1 could hold it: a planted
	 * secret, unredacted */
	ck_assert_int_eq(sqlite3_exec(h, "DROP TABLE meta; DROP INDEX runs_open; DROP INDEX runs_started;"
	                                 "CREATE INDEX runs_started ON runs(started);"
	                                 "UPDATE runs SET title = 'leak sk-abcdefghijklmnopqrstuvwxyz0123';"
	                                 "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	out = warden(&w, &status, "log", (char *)NULL);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	ck_assert_ptr_null(strstr(out, "sk-abcdefghijklmnopqrstuvwxyz0123"));
	ck_assert_ptr_nonnull(strstr(out, "Make the answer right"));
	free(out);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM runs WHERE title LIKE '%sk-%'",
	                                    -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	e2e_world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runs_cli");
	TCase *tc = tcase_create("runs");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, log_lists_every_run_with_its_status);
	tcase_add_test(tc, show_tells_a_failed_run_and_a_proposed_one);
	tcase_add_test(tc, stats_counts_outcomes_and_costs);
	tcase_add_test(tc, a_run_without_an_end_whose_process_is_gone_is_interrupted);
	tcase_add_test(tc, index_is_rebuilt_from_the_ledgers_and_versioned);
	tcase_add_test(tc, hostile_ledgers_are_reported_not_obeyed);
	tcase_add_test(tc, index_catches_up_with_new_ended_killed_deleted_and_corrupt_ledgers);
	tcase_add_test(tc, stats_percentiles_tickets_and_unended_runs_from_hand_written_ledgers);
	tcase_add_test(tc, review_show_tells_the_run_as_show_does);
	tcase_add_test(tc, a_version_1_index_is_migrated_and_read_again);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
