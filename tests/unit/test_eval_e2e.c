/* `warden eval` end to end: a dataset built from a fixture repository with
 * real bugs and gold fixes, run with the oracle through the real binary. */
#include <check.h>
#include <dirent.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "e2e.h"
#include "fixture.h"

/* calc.sh has two bugs (add subtracts, sub adds); test.sh runs tests/t_*.sh,
 * each printing "ok NAME" or "FAIL NAME: why". */
static const char *const calc_files[] = {
	"calc.sh",
	"add() { echo $(($1 - $2)); }\n"
	"sub() { echo $(($1 + $2)); }\n"
	"mul() { echo $(($1 * $2)); }\n",
	"test.sh",
	"#!/bin/sh\n. ./calc.sh\nst=0\nfor t in tests/t_*.sh; do . \"./$t\" || st=1; done\nexit $st\n",
	"tests/t_mul.sh",
	"if [ \"$(mul 3 4)\" = 12 ]; then echo 'ok mul'; else echo \"FAIL mul: got $(mul 3 4)\"; false; fi\n",
	NULL
};

#define NEW_TEST(name, expr, want) \
	"diff --git a/tests/t_" name ".sh b/tests/t_" name ".sh\n" \
	"new file mode 100644\n" \
	"--- /dev/null\n" \
	"+++ b/tests/t_" name ".sh\n" \
	"@@ -0,0 +1 @@\n" \
	"+if [ \"$(" expr ")\" = " want " ]; then echo 'ok " name "'; " \
	"else echo \"FAIL " name ": got $(" expr ")\"; false; fi\n"

#define TP_ADD NEW_TEST("add", "add 2 3", "5")
#define TP_SUB NEW_TEST("sub", "sub 5 3", "2")

/* a patch of calc.sh's three lines to a, s, m */
#define CALC_PATCH(a, s, m) \
	"--- a/calc.sh\n+++ b/calc.sh\n@@ -1,3 +1,3 @@\n" \
	"-add() { echo $(($1 - $2)); }\n-sub() { echo $(($1 + $2)); }\n" \
	"-mul() { echo $(($1 * $2)); }\n" \
	"+add() { echo $(($1 " a " $2)); }\n+sub() { echo $(($1 " s " $2)); }\n" \
	"+mul() { echo $(($1 " m " $2)); }\n"

struct world {
	char *tmp;
	char repo[512], cache[512], data[512], out[512];
	char base[41];
	char *output;
	int status;
};

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	ck_assert_int_eq(fx_tmpdir(&w->tmp), 0);
	snprintf(w->repo, sizeof(w->repo), "%s/calc", w->tmp);
	snprintf(w->cache, sizeof(w->cache), "%s/cache", w->tmp);
	snprintf(w->data, sizeof(w->data), "%s/dataset.jsonl", w->tmp);
	snprintf(w->out, sizeof(w->out), "%s/results.jsonl", w->tmp);
	ck_assert_int_eq(fx_repo_create(w->repo, calc_files, "calc"), 0);
	ck_assert_int_eq(fx_repo_rev(w->base, w->repo, "HEAD"), 0);
}

static void world_free(struct world *w)
{
	fx_rm_rf(w->tmp);
	free(w->tmp);
	free(w->output);
}

/* One dataset line. f2p is given as a string holding a JSON list (as the
 * published datasets do), p2p as a list. */
static void add_instance(FILE *f, const struct world *w, const char *id, const char *test_patch,
                         const char *f2p, const char *p2p, const char *patch, const char *build)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "instance_id", id,
	                      "repo", w->repo, "base_commit", w->base,
	                      "problem_statement", "calc.sh computes the wrong thing",
	                      "test", "sh test.sh", "FAIL_TO_PASS", f2p, "test_patch", test_patch);
	json_error_t jerr;
	char *s;

	ck_assert_ptr_nonnull(o);
	json_object_set_new(o, "PASS_TO_PASS", json_loads(p2p, 0, &jerr));
	if (patch)
		json_object_set_new(o, "patch", json_string(patch));
	if (build)
		json_object_set_new(o, "build", json_string(build));
	s = json_dumps(o, JSON_COMPACT);
	fprintf(f, "%s\n", s);
	free(s);
	json_decref(o);
}

/* The well-formed instances: a fix, a wrong fix, a regression, a partial fix. */
static void add_graded(FILE *f, const struct world *w)
{
	add_instance(f, w, "calc-add", TP_ADD, "[\"add\"]", "[\"mul\"]", CALC_PATCH("+", "+", "*"),
	             NULL);
	add_instance(f, w, "calc-wrong", TP_ADD, "[\"add\"]", "[\"mul\"]",
	             CALC_PATCH("*", "+", "*"), NULL);
	add_instance(f, w, "calc-regress", TP_ADD, "[\"add\"]", "[\"mul\"]",
	             CALC_PATCH("+", "+", "+"), NULL);
	add_instance(f, w, "calc-partial", TP_ADD TP_SUB, "[\"add\", \"sub\"]", "[\"mul\"]",
	             CALC_PATCH("+", "+", "*"), NULL);
}

/* The broken instances, each for one reason. */
static void add_broken(FILE *f, const struct world *w)
{
	add_instance(f, w, "broken-test-patch",
	             "--- a/calc.sh\n+++ b/calc.sh\n@@ -1 +1 @@\n-nothing like this\n+x\n",
	             "[\"add\"]", "[]", CALC_PATCH("+", "+", "*"), NULL);
	add_instance(f, w, "broken-f2p-passes", TP_ADD, "[\"mul\"]", "[]",
	             CALC_PATCH("+", "+", "*"), NULL);
	add_instance(f, w, "broken-p2p-fails", TP_ADD TP_SUB, "[\"add\"]", "[\"sub\"]",
	             CALC_PATCH("+", "-", "*"), NULL);
	add_instance(f, w, "broken-build", TP_ADD, "[\"add\"]", "[\"mul\"]",
	             CALC_PATCH("+", "+", "*"), "exit 3");
	add_instance(f, w, "broken-no-gold", TP_ADD, "[\"add\"]", "[\"mul\"]", NULL, NULL);
}

/* One instance of calc-add whose test command is `cmd`. */
static void add_with_test(FILE *f, const struct world *w, const char *id, const char *cmd)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:s}", "instance_id", id,
	                      "repo", w->repo, "base_commit", w->base,
	                      "problem_statement", "calc.sh computes the wrong thing", "test", cmd,
	                      "test_patch", TP_ADD, "FAIL_TO_PASS", "add", "PASS_TO_PASS", "mul",
	                      "patch", CALC_PATCH("+", "+", "*"));
	char *s;

	ck_assert_ptr_nonnull(o);
	s = json_dumps(o, JSON_COMPACT);
	fprintf(f, "%s\n", s);
	free(s);
	json_decref(o);
}

static void write_dataset(const struct world *w, int graded, int broken)
{
	FILE *f = fopen(w->data, "w");

	ck_assert_ptr_nonnull(f);
	if (graded)
		add_graded(f, w);
	if (broken)
		add_broken(f, w);
	fclose(f);
}

/* warden eval DATASET --model oracle --work-dir --out OUT [more...] */
static void run_eval(struct world *w, const char *out, ...)
{
	const char *argv[32];
	size_t n = 0;
	va_list ap;
	const char *a;

	argv[n++] = e2e_warden_bin();
	argv[n++] = "eval";
	argv[n++] = w->data;
	argv[n++] = "--model";
	argv[n++] = "oracle";
	argv[n++] = "--work-dir";
	argv[n++] = w->cache;
	argv[n++] = "--out";
	argv[n++] = out;
	va_start(ap, out);
	while ((a = va_arg(ap, const char *)) != NULL && n < 30)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	free(w->output);
	w->output = NULL;
	ck_assert_int_eq(fx_run(&w->output, &w->status, argv, NULL, w->tmp), 0);
}

static json_t *load_results(const char *path)
{
	json_t *arr = json_array();
	char *text = NULL, *line, *save = NULL;

	ck_assert_int_eq(fx_read_file(&text, path), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);

		ck_assert_msg(o != NULL, "bad results line: %s", line);
		json_array_append_new(arr, o);
	}
	free(text);
	return arr;
}

static const json_t *result_of(const json_t *arr, const char *id)
{
	size_t i;
	const json_t *o;

	json_array_foreach(arr, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "instance_id")), id))
			return o;
	ck_abort_msg("no result for %s", id);
	return NULL;
}

static void assert_status(const json_t *arr, const char *id, const char *status,
                          const char *reason_part)
{
	const json_t *o = result_of(arr, id);
	const char *st = json_string_value(json_object_get(o, "status"));
	const char *why = json_string_value(json_object_get(o, "reason"));

	ck_assert_msg(!strcmp(st, status), "%s: %s, want %s (reason: %s)", id, st, status,
	              why ? why : "-");
	if (reason_part)
		ck_assert_msg(why && strstr(why, reason_part), "%s: reason '%s' lacks '%s'", id,
		              why ? why : "", reason_part);
}

START_TEST(test_oracle_grades_every_kind_of_instance)
{
	struct world w;
	json_t *res;

	world_init(&w);
	write_dataset(&w, 1, 1);
	run_eval(&w, w.out, (char *)NULL);
	ck_assert_msg(w.status == 1, "exit %d (errors present want 1):\n%s", w.status, w.output);
	res = load_results(w.out);
	ck_assert_int_eq(json_array_size(res), 9);
	assert_status(res, "calc-add", "resolved", NULL);
	assert_status(res, "calc-wrong", "unresolved", NULL);
	assert_status(res, "calc-regress", "unresolved", NULL);
	assert_status(res, "calc-partial", "partial", NULL);
	assert_status(res, "broken-test-patch", "error", "test patch does not apply");
	assert_status(res, "broken-f2p-passes", "error", "FAIL_TO_PASS test 'mul' already passes");
	assert_status(res, "broken-p2p-fails", "error", "PASS_TO_PASS test 'sub' already fails");
	assert_status(res, "broken-build", "error", "the base does not build");
	assert_status(res, "broken-no-gold", "error", "gold");
	/* the regression names the test it broke; the partial fix the one it missed */
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(
	                 result_of(res, "calc-regress"), "failing"), 0)), "mul");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(
	                 result_of(res, "calc-partial"), "failing"), 0)), "sub");
	/* the table and the interval are printed */
	ck_assert_msg(strstr(w.output, "resolution rate") && strstr(w.output, "95% CI"), "%s",
	              w.output);
	/* the source repository gets no branch from an eval */
	ck_assert_int_eq(e2e_count_warden_refs(w.repo), 0);
	json_decref(res);
	world_free(&w);
}
END_TEST

START_TEST(test_oracle_resolves_a_well_formed_dataset)
{
	struct world w;
	json_t *res;
	FILE *f;

	world_init(&w);
	f = fopen(w.data, "w");
	ck_assert_ptr_nonnull(f);
	add_instance(f, &w, "calc-add", TP_ADD, "[\"add\"]", "[\"mul\"]",
	             CALC_PATCH("+", "+", "*"), NULL);
	add_instance(f, &w, "calc-both", TP_ADD TP_SUB, "[\"add\", \"sub\"]", "[\"mul\"]",
	             CALC_PATCH("+", "-", "*"), "true");
	fclose(f);
	run_eval(&w, w.out, (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	res = load_results(w.out);
	assert_status(res, "calc-add", "resolved", NULL);
	assert_status(res, "calc-both", "resolved", NULL);
	ck_assert_msg(strstr(w.output, "resolution rate 100.0%"), "%s", w.output);
	json_decref(res);
	world_free(&w);
}
END_TEST

/* --jobs 2 grades exactly as --jobs 1 does. */
START_TEST(test_jobs_two_grade_the_same)
{
	struct world w;
	char out2[600];
	json_t *a, *b;
	size_t i;
	const json_t *o;

	world_init(&w);
	write_dataset(&w, 1, 0);
	snprintf(out2, sizeof(out2), "%s/jobs2.jsonl", w.tmp);
	run_eval(&w, out2, "--jobs", "2", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	b = load_results(out2);
	run_eval(&w, w.out, (char *)NULL);
	a = load_results(w.out);
	ck_assert_int_eq(json_array_size(a), json_array_size(b));
	json_array_foreach(a, i, o) {
		const char *id = json_string_value(json_object_get(o, "instance_id"));

		ck_assert_str_eq(json_string_value(json_object_get(o, "status")),
		                 json_string_value(json_object_get(result_of(b, id), "status")));
	}
	json_decref(a);
	json_decref(b);
	world_free(&w);
}
END_TEST

START_TEST(test_shards_cover_every_instance_once_and_merge)
{
	struct world w;
	char s1[600], s2[600], s3[600], merged[600];
	const char *argv[8];
	json_t *a, *b, *m;
	size_t i;
	const json_t *o;
	char *out = NULL;
	int st;

	world_init(&w);
	write_dataset(&w, 1, 0);
	snprintf(s1, sizeof(s1), "%s/s1.jsonl", w.tmp);
	snprintf(s2, sizeof(s2), "%s/s2.jsonl", w.tmp);
	snprintf(s3, sizeof(s3), "%s/s3.jsonl", w.tmp);
	snprintf(merged, sizeof(merged), "%s/merged.jsonl", w.tmp);
	run_eval(&w, s1, "--shard", "1/2", (char *)NULL);
	ck_assert_msg(w.status == 0, "%s", w.output);
	run_eval(&w, s2, "--shard", "2/2", (char *)NULL);
	ck_assert_msg(w.status == 0, "%s", w.output);
	a = load_results(s1);
	b = load_results(s2);
	ck_assert_int_eq(json_array_size(a) + json_array_size(b), 4);
	json_array_foreach(a, i, o) {
		const char *id = json_string_value(json_object_get(o, "instance_id"));
		size_t k;
		const json_t *p;

		json_array_foreach(b, k, p) {
			ck_assert_str_ne(id, json_string_value(json_object_get(p, "instance_id")));
		}
	}
	/* merge: both shards, in any order, give the dataset in its own order */
	argv[0] = e2e_warden_bin(); argv[1] = "eval"; argv[2] = "merge"; argv[3] = s2;
	argv[4] = s1; argv[5] = "--out"; argv[6] = merged; argv[7] = NULL;
	ck_assert_int_eq(fx_run(&out, &st, argv, NULL, w.tmp), 0);
	ck_assert_msg(st == 0, "merge exit %d: %s", st, out);
	free(out);
	m = load_results(merged);
	ck_assert_int_eq(json_array_size(m), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 0), "instance_id")),
	                 "calc-add");
	/* the same shard twice is an overlap */
	argv[3] = s1; argv[4] = s1;
	ck_assert_int_eq(fx_run(&out, &st, argv, NULL, w.tmp), 0);
	ck_assert_msg(st == 2 && strstr(out, "overlap"), "exit %d: %s", st, out);
	free(out);
	/* one shard alone is a gap */
	argv[3] = s1; argv[4] = "--out"; argv[5] = s3; argv[6] = NULL;
	ck_assert_int_eq(fx_run(&out, &st, argv, NULL, w.tmp), 0);
	ck_assert_msg(st == 2 && strstr(out, "gap"), "exit %d: %s", st, out);
	ck_assert_int_eq(access(s3, F_OK), -1);
	free(out);
	json_decref(a);
	json_decref(b);
	json_decref(m);
	world_free(&w);
}
END_TEST

/* An interrupted eval: two results written, the third torn mid-line. */
START_TEST(test_resume_skips_finished_instances)
{
	struct world w;
	json_t *full, *res;
	char *text = NULL, *cut;
	FILE *f;
	int lines = 0;

	world_init(&w);
	write_dataset(&w, 1, 0);
	run_eval(&w, w.out, (char *)NULL);
	ck_assert_int_eq(w.status, 0);
	full = load_results(w.out);
	ck_assert_int_eq(fx_read_file(&text, w.out), 0);
	/* keep two whole lines and half of the third */
	cut = text;
	while (lines < 2 && (cut = strchr(cut, '\n')) != NULL) {
		cut++;
		lines++;
	}
	ck_assert_ptr_nonnull(cut);
	cut[20] = 0;
	f = fopen(w.out, "w");
	fputs(text, f);
	fclose(f);
	free(text);
	/* without --resume the results are not overwritten */
	run_eval(&w, w.out, (char *)NULL);
	ck_assert_msg(w.status == 2 && strstr(w.output, "--resume"), "%s", w.output);
	run_eval(&w, w.out, "--resume", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d: %s", w.status, w.output);
	ck_assert_msg(strstr(w.output, "resuming: 2 of 4"), "%s", w.output);

	/* only the two missing instances ran */
	ck_assert_ptr_null(strstr(w.output, "[1/4]"));
	ck_assert_ptr_nonnull(strstr(w.output, "[3/4]"));
	res = load_results(w.out);
	ck_assert_int_eq(json_array_size(res), 4);
	for (size_t i = 0; i < 4; i++)
		assert_status(res, json_string_value(json_object_get(json_array_get(full, i),
		              "instance_id")), json_string_value(json_object_get(
		              json_array_get(full, i), "status")), NULL);
	json_decref(full);
	json_decref(res);
	world_free(&w);
}
END_TEST

START_TEST(test_bad_dataset_and_flags_exit_2)
{
	struct world w;
	FILE *f;

	world_init(&w);
	f = fopen(w.data, "w");
	fputs("{\"instance_id\": \"x\", \"repo\": \"r\"}\nnot json\n", f);
	fclose(f);
	run_eval(&w, w.out, (char *)NULL);
	ck_assert_msg(w.status == 2 && strstr(w.output, "dataset.jsonl:1:"), "%s", w.output);
	write_dataset(&w, 1, 0);
	run_eval(&w, w.out, "--shard", "3/2", (char *)NULL);
	ck_assert_msg(w.status == 2 && strstr(w.output, "--shard"), "%s", w.output);
	run_eval(&w, w.out, "--jobs", "0", (char *)NULL);
	ck_assert_msg(w.status == 2 && strstr(w.output, "--jobs"), "%s", w.output);
	/* so many jobs that each would get under 256 MiB: refused, not overcommitted */
	if ((unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)sysconf(_SC_PAGESIZE) /
	    (1024 * 1024) * 3 / 4 / 256 < 256) {
		run_eval(&w, w.out, "--jobs", "256", (char *)NULL);
		ck_assert_msg(w.status == 2 && strstr(w.output, "at most"), "%s", w.output);
	}
	ck_assert_int_eq(access(w.out, F_OK), -1);
	world_free(&w);
}
END_TEST

/* replay:DIR answers each instance from DIR/<instance_id>.jsonl; an id that
 * cannot name a file there is an error, never a path. */
START_TEST(test_replay_directory_per_instance)
{
	struct world w;
	char dir[600], file[700], spec[700];
	json_t *line, *res;
	char *s;
	FILE *f;
	const char *argv[12];

	world_init(&w);
	f = fopen(w.data, "w");
	ck_assert_ptr_nonnull(f);
	add_instance(f, &w, "calc-add", TP_ADD, "[\"add\"]", "[\"mul\"]", NULL, NULL);
	add_instance(f, &w, "../calc-add", TP_ADD, "[\"add\"]", "[\"mul\"]", NULL, NULL);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/replays", w.tmp);
	snprintf(file, sizeof(file), "%s/calc-add.jsonl", dir);
	line = json_pack("{s:{s:s}}", "reply", "content",
	                 "Fixed.\n```diff\n" CALC_PATCH("+", "+", "*") "```\n");
	s = json_dumps(line, JSON_COMPACT);
	ck_assert_int_eq(fx_write_file(file, s), 0);
	free(s);
	json_decref(line);
	snprintf(spec, sizeof(spec), "replay:%s", dir);
	argv[0] = e2e_warden_bin(); argv[1] = "eval"; argv[2] = w.data; argv[3] = "--model";
	argv[4] = spec; argv[5] = "--work-dir"; argv[6] = w.cache; argv[7] = "--out";
	argv[8] = w.out; argv[9] = NULL;
	ck_assert_int_eq(fx_run(&w.output, &w.status, argv, NULL, w.tmp), 0);
	ck_assert_msg(w.status == 1, "exit %d:\n%s", w.status, w.output);
	res = load_results(w.out);
	assert_status(res, "calc-add", "resolved", NULL);
	assert_status(res, "../calc-add", "error", "cannot name a file");
	json_decref(res);
	world_free(&w);
}
END_TEST

/* With --jobs 2 on a machine of two or more CPUs, each worker and the checks
 * it runs get their share of the CPUs: a PASS_TO_PASS test that passes only
 * on one CPU holds under --jobs 2; under --jobs 1 (the control) the same
 * test sees every CPU and the instance is an error. */
START_TEST(test_jobs_pin_each_worker_to_its_cpu_share)
{
	struct world w;
	const char *cmd = "sh test.sh; st=$?; n=$(nproc); if [ \"$n\" = 1 ]; then echo 'ok one-cpu'; "
	                  "else echo \"FAIL one-cpu: $n CPUs\"; st=1; fi; exit $st";
	char out1[600];
	cpu_set_t cpus;
	json_t *res;
	FILE *f;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	if (CPU_COUNT(&cpus) < 2)
		return; /* one CPU: nothing to share */
	world_init(&w);
	f = fopen(w.data, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 2; i++) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s, s], s:s}",
		                      "instance_id", i ? "pinned-b" : "pinned-a", "repo", w.repo,
		                      "base_commit", w.base, "problem_statement", "add is wrong",
		                      "test", cmd, "test_patch", TP_ADD, "FAIL_TO_PASS", "add",
		                      "PASS_TO_PASS", "mul", "one-cpu", "patch",
		                      CALC_PATCH("+", "+", "*"));
		char *s = json_dumps(o, JSON_COMPACT);

		fprintf(f, "%s\n", s);
		free(s);
		json_decref(o);
	}
	fclose(f);
	run_eval(&w, w.out, "--jobs", "2", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	res = load_results(w.out);
	assert_status(res, "pinned-a", "resolved", NULL);
	assert_status(res, "pinned-b", "resolved", NULL);
	json_decref(res);
	snprintf(out1, sizeof(out1), "%s/jobs1.jsonl", w.tmp);
	/* a cache of its own: the baseline cache does not know the CPU share */
	snprintf(w.cache, sizeof(w.cache), "%s/cache-jobs1", w.tmp);
	run_eval(&w, out1, "--jobs", "1", (char *)NULL);
	ck_assert_msg(w.status == 1, "exit %d:\n%s", w.status, w.output);
	res = load_results(out1);
	assert_status(res, "pinned-a", "error", "PASS_TO_PASS test 'one-cpu' already fails");
	json_decref(res);
	world_free(&w);
}
END_TEST

/* The parent of `pid` as /proc has it, or -1. */
static pid_t ppid_of(pid_t pid)
{
	char path[64], *text = NULL, *p;
	pid_t pp = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (fx_read_file(&text, path) == 0 && (p = strstr(text, "\nPPid:")) != NULL)
		pp = (pid_t)atoi(p + 7);
	free(text);
	return pp;
}

/* A process running `sleep MARK`, or -1. */
static pid_t find_sleep(const char *mark)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;

	ck_assert_ptr_nonnull(d);
	while (found < 0 && (e = readdir(d)) != NULL) {
		char path[300], cmd[256];
		ssize_t n;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (n <= 0)
			continue;
		cmd[n] = 0;
		/* argv[0] "sleep" or ".../sleep", argv[1] the mark */
		if ((!strcmp(cmd, "sleep") || (strlen(cmd) > 6 && !strcmp(cmd + strlen(cmd) - 6,
		     "/sleep"))) && (size_t)n > strlen(cmd) + 1 && !strcmp(cmd + strlen(cmd) + 1, mark))
			found = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* The child of `root` that `pid` descends from, or -1. */
static pid_t child_of_root_above(pid_t pid, pid_t root)
{
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		pid_t pp = ppid_of(pid);

		if (pp == root)
			return pid;
		pid = pp;
	}
	return -1;
}

/* Whether `pid` runs (a zombie or no process does not). */
static int alive(pid_t pid)
{
	char path[64], *text = NULL, *p;
	int yes;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (fx_read_file(&text, path) != 0)
		return 0;
	p = strrchr(text, ')');
	yes = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	free(text);
	return yes;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A worker of --jobs 2 killed (as the OOM killer does) while its instance's
 * tests run: that instance is an error naming the signal, the others are
 * graded, the table and exit code are right, nothing the worker started
 * outlives it, and --resume runs that one instance again. */
START_TEST(test_killed_worker_is_an_error_and_resume_reruns_it)
{
	struct world w;
	char mark[32], cmd[96], log[600], *output = NULL;
	const char *argv[16];
	json_t *res;
	pid_t pid, sleeper = -1, worker = -1;
	double deadline;
	int st, fd;
	FILE *f;

	world_init(&w);
	/* a mark no other process has: the doomed instance's tests sleep on it */
	snprintf(mark, sizeof(mark), "6.%06d", (int)getpid() % 1000000);
	snprintf(cmd, sizeof(cmd), "sleep %s; sh test.sh", mark);
	f = fopen(w.data, "w");
	ck_assert_ptr_nonnull(f);
	add_with_test(f, &w, "calc-doomed", cmd);
	add_instance(f, &w, "calc-add", TP_ADD, "[\"add\"]", "[\"mul\"]",
	             CALC_PATCH("+", "+", "*"), NULL);
	add_instance(f, &w, "calc-both", TP_ADD TP_SUB, "[\"add\", \"sub\"]", "[\"mul\"]",
	             CALC_PATCH("+", "-", "*"), NULL);
	fclose(f);
	snprintf(log, sizeof(log), "%s/eval.log", w.tmp);
	argv[0] = e2e_warden_bin(); argv[1] = "eval"; argv[2] = w.data; argv[3] = "--model";
	argv[4] = "oracle"; argv[5] = "--work-dir"; argv[6] = w.cache; argv[7] = "--out";
	argv[8] = w.out; argv[9] = "--jobs"; argv[10] = "2"; argv[11] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(w.tmp) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	/* find the worker whose descendant sleeps on the mark, and kill it */
	deadline = now_s() + 180;
	while (worker < 0 && now_s() < deadline) {
		if ((sleeper = find_sleep(mark)) > 0)
			worker = child_of_root_above(sleeper, pid);
		if (worker < 0)
			usleep(20 * 1000);
	}
	ck_assert_msg(worker > 0 && worker != pid, "no worker of %d runs 'sleep %s'", (int)pid,
	              mark);
	ck_assert_int_eq(kill(worker, SIGKILL), 0);
	/* what the worker ran (its sandbox, the shell, the sleep) dies with it, long
	 * before the sleep would end by itself */
	deadline = now_s() + 3;
	while (alive(sleeper) && now_s() < deadline)
		usleep(20 * 1000);
	ck_assert_msg(!alive(sleeper), "'sleep %s' (pid %d) outlived its killed worker", mark,
	              (int)sleeper);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(fx_read_file(&output, log), 0);
	/* the eval went on and ended: one error, so exit 1 */
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d:\n%s", st, output);
	res = load_results(w.out);
	ck_assert_int_eq(json_array_size(res), 3);
	assert_status(res, "calc-doomed", "error", "the worker died of signal 9");
	ck_assert(json_is_true(json_object_get(result_of(res, "calc-doomed"), "retry")));
	assert_status(res, "calc-add", "resolved", NULL);
	assert_status(res, "calc-both", "resolved", NULL);
	ck_assert_msg(strstr(output, "3 instances: 2 resolved, 0 partial, 0 unresolved, 1 error") &&
	              strstr(output, "calc-doomed") && strstr(output, "95% CI"), "%s", output);
	/* the dead worker's instance files are gone too (its run's tree is gc's) */
	{
		char evdir[600];
		DIR *d;
		struct dirent *e;
		int left = 0;

		snprintf(evdir, sizeof(evdir), "%s/eval", w.cache);
		ck_assert_ptr_nonnull(d = opendir(evdir));
		while ((e = readdir(d)) != NULL)
			left += e->d_name[0] != '.';
		closedir(d);
		ck_assert_int_eq(left, 0);
	}
	json_decref(res);
	free(output);
	output = NULL;

	/* --resume runs the lost instance, and only it, again */
	argv[11] = "--resume";
	argv[12] = NULL;
	ck_assert_int_eq(fx_run(&output, &st, argv, NULL, w.tmp), 0);
	ck_assert_msg(st == 0, "exit %d:\n%s", st, output);
	ck_assert_msg(strstr(output, "resuming: 2 of 3") && strstr(output, "[3/3] calc-doomed: "
	              "resolved") && !strstr(output, "calc-add: resolved") &&
	              strstr(output, "3 instances: 3 resolved"), "%s", output);
	res = load_results(w.out);
	ck_assert_int_eq(json_array_size(res), 3);
	assert_status(res, "calc-doomed", "resolved", NULL);
	ck_assert_ptr_null(json_object_get(result_of(res, "calc-doomed"), "retry"));
	json_decref(res);
	free(output);
	world_free(&w);
}
END_TEST

static Suite *eval_e2e_suite(void)
{
	Suite *s = suite_create("eval_e2e");
	TCase *tc = tcase_create("eval");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_oracle_grades_every_kind_of_instance);
	tcase_add_test(tc, test_oracle_resolves_a_well_formed_dataset);
	tcase_add_test(tc, test_jobs_two_grade_the_same);
	tcase_add_test(tc, test_shards_cover_every_instance_once_and_merge);
	tcase_add_test(tc, test_resume_skips_finished_instances);
	tcase_add_test(tc, test_bad_dataset_and_flags_exit_2);
	tcase_add_test(tc, test_replay_directory_per_instance);
	tcase_add_test(tc, test_killed_worker_is_an_error_and_resume_reruns_it);
	tcase_add_test(tc, test_jobs_pin_each_worker_to_its_cpu_share);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return e2e_main(eval_e2e_suite());
}
