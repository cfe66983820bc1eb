/*
 * `warden gc`: old work trees, blobs of old ledgers, tag-cache entries and
 * baselines go; what an open proposal needs stays (its blobs, its base's
 * baseline), and a link planted in the cache is removed, never followed.
 */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
	e2e_write_replay(&w, "Now 42.\n```diff\n" E2E_DIFF_TO(42) "```\n", NULL);
	e2e_run(&w, NULL, "--model", spec, NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	snprintf(proposed, sizeof(proposed), "%s", e2e_str(&w, "run_id"));
	e2e_write_replay(&w, out_of_scope, NULL);
	e2e_run(&w, NULL, "--model", spec, "--rounds", "1", "--keep-worktree", NULL);
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

int main(void)
{
	Suite *s = suite_create("gc");
	TCase *tc = tcase_create("gc");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, gc_prunes_what_nothing_needs_and_keeps_the_rest);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
