/*
 * `warden gc`: old work trees, blobs of old ledgers, tag-cache entries and
 * baselines go; what an open proposal needs stays (its blobs, its base's
 * baseline), and a link planted in the cache is removed, never followed.
 */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "e2e.h"
#include "fixture.h"

static time_t month_ago;

static int age_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	struct timespec ts[2] = { { month_ago, 0 }, { month_ago, 0 } };

	(void)sb;
	(void)flag;
	(void)ftw;
	utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* Everything under dir looks a month old (depth first: parents last). */
static void age_tree(const char *dir)
{
	month_ago = time(NULL) - 30 * 86400;
	nftw(dir, age_one, 16, FTW_PHYS | FTW_DEPTH);
}

static json_t *warden_json(struct e2e_world *w, const char *cmd, const char *a1, const char *a2,
                           int *status)
{
	const char *argv[] = { e2e_warden_bin(), cmd, "--json", "--work-dir", w->cache, a1, a2, NULL };
	char *out = NULL;
	json_t *o;

	ck_assert_int_eq(fx_run(&out, status, argv, NULL, w->tmp), 0);
	o = json_loads(strchr(out, '{') ? strchr(out, '{') : "", JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_msg(o != NULL, "no JSON:\n%s", out);
	free(out);
	return o;
}

START_TEST(gc_prunes_what_nothing_needs_and_keeps_the_rest)
{
	struct e2e_world w;
	char spec[600], path[900], outside[700], link[900], pack[900], other[900], proposed[32];
	char *text = NULL;
	static const char out_of_scope[] =
		"Unique words for this reply.\n```diff\n--- a/other.txt\n+++ b/other.txt\n"
		"@@ -1 +1 @@\n-do not touch\n+touched\n```\n";
	json_t *o, *st;
	int status;

	e2e_world_init(&w, NULL, NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w.replay);
	e2e_write_replay(&w, "Now 42.\n```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(&w, NULL, "--model", spec, (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	snprintf(proposed, sizeof(proposed), "%s", e2e_str(&w, "run_id"));
	e2e_write_replay(&w, out_of_scope, (char *)NULL);
	e2e_run(&w, NULL, "--model", spec, "--rounds", "1", "--keep-worktree", (char *)NULL);
	ck_assert_msg(w.status == 1, "exit %d:\n%s", w.status, w.output);
	/* a baseline of a commit no proposal starts from, and a planted link */
	snprintf(path, sizeof(path), "%s/baseline/ffffffffffffffffffffffffffffffffffffffff/x.json", w.cache);
	ck_assert_int_eq(fx_write_file(path, "{}"), 0);
	snprintf(outside, sizeof(outside), "%s/outside.txt", w.tmp);
	ck_assert_int_eq(fx_write_file(outside, "keep me"), 0);
	/* a tag-cache entry (the fixture has no source files to tag) */
	snprintf(path, sizeof(path), "%s/tags/v4/ab/cdef0123456789abcdef0123456789abcdef01", w.cache);
	ck_assert_int_eq(fx_write_file(path, "tags"), 0);
	/* a work tree's tag pack (the map's), and a file of another kind beside it */
	snprintf(pack, sizeof(pack), "%s/map/pack-v5-0123456789abcdef0123456789abcdef01234567", w.cache);
	ck_assert_int_eq(fx_write_file(pack, "wdpack 1\n"), 0);
	snprintf(other, sizeof(other), "%s/map/notes.txt", w.cache);
	ck_assert_int_eq(fx_write_file(other, "keep"), 0);
	snprintf(link, sizeof(link), "%s/runs/planted", w.cache);
	ck_assert_int_eq(symlink(w.tmp, link), 0);
	age_tree(w.cache);

	/* a dry run removes nothing */
	o = warden_json(&w, "gc", "--dry-run", "--older-than=0", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_int_ge(json_integer_value(json_object_get(o, "work_trees")), 1);
	json_decref(o);
	snprintf(path, sizeof(path), "%s/runs/%s", w.cache, e2e_str(&w, "run_id"));
	ck_assert(access(path, F_OK) == 0);

	o = warden_json(&w, "gc", "--older-than=0", NULL, &status);
	ck_assert_int_eq(status, 0);
	ck_assert_int_ge(json_integer_value(json_object_get(o, "work_trees")), 2);
	ck_assert_int_ge(json_integer_value(json_object_get(o, "blobs")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "baselines")), 1);
	ck_assert_int_ge(json_integer_value(json_object_get(o, "tag_entries")), 2);
	json_decref(o);
	ck_assert(access(path, F_OK) != 0);
	ck_assert(access(pack, F_OK) != 0);
	ck_assert(access(other, F_OK) == 0);
	/* the link went, what it pointed at stays (the control: it is there) */
	ck_assert(access(link, F_OK) != 0 && errno == ENOENT);
	ck_assert_int_eq(fx_read_file(&text, outside), 0);
	ck_assert_str_eq(text, "keep me");
	free(text);
	snprintf(path, sizeof(path), "%s/baseline/ffffffffffffffffffffffffffffffffffffffff", w.cache);
	ck_assert(access(path, F_OK) != 0);
	/* the open proposal keeps its story whole */
	{
		const char *argv[] = { e2e_warden_bin(), "show", proposed, "--json", "--work-dir", w.cache,
		                       NULL };
		char *out = NULL;

		ck_assert_int_eq(fx_run(&out, &status, argv, NULL, w.tmp), 0);
		ck_assert_int_eq(status, 0);
		st = json_loads(strchr(out, '{'), JSON_DISABLE_EOF_CHECK, NULL);
		ck_assert_ptr_nonnull(st);
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(st, "diff")), "+answer = 42"));
		json_decref(st);
		free(out);
	}
	/* both runs are still listed */
	o = warden_json(&w, "log", NULL, NULL, &status);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "runs")), 2);
	json_decref(o);
	/* bad input */
	o = NULL;
	{
		const char *argv[] = { e2e_warden_bin(), "gc", "--older-than", "soon", "--work-dir",
		                       w.cache, NULL };
		char *out = NULL;

		ck_assert_int_eq(fx_run(&out, &status, argv, NULL, w.tmp), 0);
		ck_assert_int_eq(status, 2);
		free(out);
	}
	e2e_world_free(&w);
}
END_TEST

/* build/tools/kill_at_rename.so beside this build's tests, or in $WARDEN_TOOLS. */
static void preload_path(char *out, size_t n)
{
	const char *tools = getenv("WARDEN_TOOLS");
	char exe[2048];
	ssize_t len;

	if (tools && *tools) {
		snprintf(out, n, "%s/kill_at_rename.so", tools);
		return;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(len, 0);
	exe[len] = '\0';
	*strrchr(exe, '/') = '\0'; /* .../tests */
	*strrchr(exe, '/') = '\0'; /* the build directory */
	snprintf(out, n, "%s/tools/kill_at_rename.so", exe);
}

/* Run `warden run` on w with the kill fault preloaded, killing at the first
 * rename or link into a path containing `kill_at`; it must die of SIGKILL. */
static void run_killed(struct e2e_world *w, const char *spec, const char *kill_at)
{
	char so[2200], env_so[2300], env_kill[1400], *out = NULL;
	const char *env[] = { env_so, env_kill, "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0",
	                      NULL };
	const char *argv[] = { e2e_warden_bin(), "run", "--repo", w->src, "--ticket", w->ticket,
	                       "--work-dir", w->cache, "--model", spec, NULL };
	int status = -1;

	preload_path(so, sizeof(so));
	ck_assert_msg(access(so, R_OK) == 0, "%s is missing (make tests builds it)", so);
	snprintf(env_so, sizeof(env_so), "LD_PRELOAD=%s", so);
	snprintf(env_kill, sizeof(env_kill), "WD_TEST_KILL_AT_RENAME=%s", kill_at);
	ck_assert_int_eq(fx_run(&out, &status, argv, env, w->tmp), 0);
	ck_assert_msg(status == 128 + 9, "exit %d:\n%s", status, out);
	free(out);
}

static int gc_run(struct e2e_world *w, json_t **out, const char *a1, const char *a2)
{
	const char *argv[] = { e2e_warden_bin(), "gc", "--json", "--work-dir", w->cache, a1, a2, NULL };
	char *text = NULL;
	int status = -1;

	ck_assert_int_eq(fx_run(&text, &status, argv, NULL, w->tmp), 0);
	*out = json_loads(strchr(text, '{') ? strchr(text, '{') : "", JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_msg(*out != NULL, "no JSON:\n%s", text);
	ck_assert_msg(status != 0 || strstr(text, "orphan branch") || !json_array_size(json_object_get(*out, "orphans")),
	              "orphans not named on stderr:\n%s", text);
	free(text);
	return status;
}

/* The one orphan gc reported in `repo`. */
static json_t *orphan_in(json_t *gc, const char *repo)
{
	json_t *found = NULL, *o;
	size_t i, n = 0;

	json_array_foreach(json_object_get(gc, "orphans"), i, o) {
		if (!strcmp(json_string_value(json_object_get(o, "repo")), repo)) {
			found = o;
			n++;
		}
	}
	ck_assert_msg(n == 1, "%zu orphans in %s", n, repo);
	return found;
}

/* kill -9 between the branch and the proposal record (here at the record's
 * rename, by a preloaded fault) left a warden/ branch in the source that
 * `review list` does not show and `review reject` cannot remove. `warden gc`
 * finds it, names it, and removes it only when told to; the branch of a
 * proposal with its record is never an orphan. */
START_TEST(gc_reports_the_branch_a_killed_run_left_and_prunes_it_when_told)
{
	struct e2e_world w;
	char spec[600], first_branch[256], *out = NULL;
	const char *list[] = { e2e_warden_bin(), "review", "list", "--json", "--work-dir", NULL, NULL };
	json_t *o, *one;
	char *src_real;
	int status = -1;

	e2e_world_init(&w, NULL, NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w.replay);
	/* the control: a proposal with its record */
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(&w, NULL, "--model", spec, (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	snprintf(first_branch, sizeof(first_branch), "%s", e2e_str(&w, "branch"));
	ck_assert_int_eq(e2e_count_warden_refs(w.src), 1);
	/* the other control: a person's own warden/ branch, which no run made */
	{
		git_repository *repo = NULL;
		git_reference *head = NULL, *mine = NULL;

		ck_assert_int_eq(git_repository_open(&repo, w.src), 0);
		ck_assert_int_eq(git_repository_head(&head, repo), 0);
		ck_assert_int_eq(git_reference_create(&mine, repo, "refs/heads/warden/by-hand-0badc0de",
		                                      git_reference_target(head), 0, "test"), 0);
		git_reference_free(mine);
		git_reference_free(head);
		git_repository_free(repo);
	}
	ck_assert_int_eq(e2e_count_warden_refs(w.src), 2);

	/* the attack: the same ticket again (a new run, a new branch), killed
	 * before its record is written */
	run_killed(&w, spec, "/proposals/");
	ck_assert_int_eq(e2e_count_warden_refs(w.src), 3);
	/* the symptom: review list shows one proposal, not the killed run's */
	list[5] = w.cache;
	ck_assert_int_eq(fx_run(&out, &status, list, NULL, w.tmp), 0);
	ck_assert_int_eq(status, 0);
	o = json_loads(strchr(out, '[') ? strchr(out, '[') : strchr(out, '{'), JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_msg(o && strstr(out, first_branch), "%s", out);
	json_decref(o);
	free(out);

	/* gc reports it and keeps it (the same branch in warden's mirror too) */
	src_real = realpath(w.src, NULL);
	ck_assert_int_eq(gc_run(&w, &o, NULL, NULL), 0);
	one = orphan_in(o, src_real);
	ck_assert_str_ne(json_string_value(json_object_get(one, "branch")), first_branch);
	ck_assert(strncmp(json_string_value(json_object_get(one, "branch")), "warden/", 7) == 0);
	ck_assert(json_is_false(json_object_get(one, "removed")));
	json_decref(o);
	ck_assert_int_eq(e2e_count_warden_refs(w.src), 3);
	/* a dry run with --prune-orphans says so and keeps it */
	ck_assert_int_eq(gc_run(&w, &o, "--prune-orphans", "--dry-run"), 0);
	ck_assert(json_is_false(json_object_get(orphan_in(o, src_real), "removed")));
	json_decref(o);
	ck_assert_int_eq(e2e_count_warden_refs(w.src), 3);
	/* --prune-orphans removes it, and only it */
	ck_assert_int_eq(gc_run(&w, &o, "--prune-orphans", NULL), 0);
	ck_assert(json_is_true(json_object_get(orphan_in(o, src_real), "removed")));
	json_decref(o);
	ck_assert_int_eq(e2e_count_warden_refs(w.src), 2); /* the proposal's and the person's */
	ck_assert_int_eq(gc_run(&w, &o, NULL, NULL), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "orphans")), 0);
	json_decref(o);
	free(src_real);
	e2e_world_free(&w);
}
END_TEST

/* The lock files under refs/heads/warden of the repository at `dir`: the last
 * branch name ("warden/...") into `branch`, its path into `path`; 0 when
 * there is none, else how many. */
static int warden_ref_locks(const char *dir, char *branch, size_t bn, char *path, size_t pn)
{
	char d[1200];
	DIR *h;
	struct dirent *e;
	int n = 0;

	snprintf(d, sizeof(d), "%s/.git/refs/heads/warden", dir);
	if (!(h = opendir(d)))
		return 0;
	while ((e = readdir(h)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 5 && !strcmp(e->d_name + len - 5, ".lock")) {
			snprintf(branch, bn, "warden/%.*s", (int)(len - 5), e->d_name);
			snprintf(path, pn, "%s/%s", d, e->d_name);
			n++;
		}
	}
	closedir(h);
	return n;
}

/* kill -9 while libgit2 moved the new branch's <ref>.lock into place in the
 * user's repository (a preloaded fault kills at that link) left the lock
 * there: litter in the user's .git, and that branch can no longer be made.
 * gc names it and removes it only when told; a young lock (a live writer's)
 * is never touched. */
START_TEST(gc_removes_the_ref_lock_a_killed_run_left_when_told)
{
	struct e2e_world w;
	char spec[600], kill_at[1400], branch[512], lock[1600];
	struct timespec old[2] = { { .tv_sec = 1700000000 }, { .tv_sec = 1700000000 } };
	git_repository *repo = NULL;
	git_reference *head = NULL, *ref = NULL;
	json_t *o, *one;

	e2e_world_init(&w, NULL, NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w.replay);
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	snprintf(kill_at, sizeof(kill_at), "%s/.git/refs/heads/warden/", w.src);
	run_killed(&w, spec, kill_at);
	/* what the kill left: a lock, no branch */
	ck_assert_int_eq(warden_ref_locks(w.src, branch, sizeof(branch), lock, sizeof(lock)), 1);
	ck_assert_int_eq(e2e_count_warden_refs(w.src), 0);
	/* control: with the lock there, that branch cannot be made */
	ck_assert_int_eq(git_repository_open(&repo, w.src), 0);
	ck_assert_int_eq(git_repository_head(&head, repo), 0);
	{
		char refname[600];

		snprintf(refname, sizeof(refname), "refs/heads/%s", branch);
		ck_assert_int_lt(git_reference_create(&ref, repo, refname, git_reference_target(head), 0,
		                                      "test"), 0);
	}

	/* a young lock is a live writer's: reported by no one, kept even when told */
	ck_assert_int_eq(gc_run(&w, &o, "--prune-orphans", NULL), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "stale_locks")), 0);
	json_decref(o);
	ck_assert_int_eq(access(lock, F_OK), 0);
	/* a minute later (backdated here) it is the dead run's: named, kept */
	ck_assert_int_eq(utimensat(AT_FDCWD, lock, old, 0), 0);
	ck_assert_int_eq(gc_run(&w, &o, NULL, NULL), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "stale_locks")), 1);
	one = json_array_get(json_object_get(o, "stale_locks"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(one, "branch")), branch);
	ck_assert(json_is_false(json_object_get(one, "removed")));
	json_decref(o);
	ck_assert_int_eq(access(lock, F_OK), 0);
	/* a dry run with --prune-orphans keeps it */
	ck_assert_int_eq(gc_run(&w, &o, "--prune-orphans", "--dry-run"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "stale_locks")), 1);
	json_decref(o);
	ck_assert_int_eq(access(lock, F_OK), 0);
	/* --prune-orphans removes it, and the branch can be made again */
	ck_assert_int_eq(gc_run(&w, &o, "--prune-orphans", NULL), 0);
	one = json_array_get(json_object_get(o, "stale_locks"), 0);
	ck_assert(json_is_true(json_object_get(one, "removed")));
	json_decref(o);
	ck_assert_int_ne(access(lock, F_OK), 0);
	{
		char refname[600];

		snprintf(refname, sizeof(refname), "refs/heads/%s", branch);
		ck_assert_int_eq(git_reference_create(&ref, repo, refname, git_reference_target(head), 0,
		                                      "test"), 0);
	}
	git_reference_free(ref);
	git_reference_free(head);
	git_repository_free(repo);
	/* and a lock of a branch no run of this cache made is never touched */
	{
		char mine[1400];

		snprintf(mine, sizeof(mine), "%s/.git/refs/heads/warden/by-hand-0badc0de.lock", w.src);
		ck_assert_int_eq(fx_write_file(mine, ""), 0);
		ck_assert_int_eq(utimensat(AT_FDCWD, mine, old, 0), 0);
		ck_assert_int_eq(gc_run(&w, &o, "--prune-orphans", NULL), 0);
		ck_assert_uint_eq(json_array_size(json_object_get(o, "stale_locks")), 0);
		json_decref(o);
		ck_assert_int_eq(access(mine, F_OK), 0);
	}
	e2e_world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gc");
	TCase *tc = tcase_create("gc");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, gc_prunes_what_nothing_needs_and_keeps_the_rest);
	tcase_add_test(tc, gc_reports_the_branch_a_killed_run_left_and_prunes_it_when_told);
	tcase_add_test(tc, gc_removes_the_ref_lock_a_killed_run_left_when_told);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	git_libgit2_init(); /* the tests read the repositories warden wrote */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	git_libgit2_shutdown();
	return failed ? 1 : 0;
}
