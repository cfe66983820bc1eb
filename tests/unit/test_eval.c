/* The eval module alone: datasets, shards, grading, statistics, merge and compare. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/error.h"
#include "warden/eval.h"
#include "warden/fs.h"
#include "warden/gate.h"
#include "fixture.h"

#define LINE(id, extra) \
	"{\"instance_id\": \"" id "\", \"repo\": \"https://example.com/r.git\", " \
	"\"base_commit\": \"0123abcd\", \"problem_statement\": \"p\", \"test\": \"make test\"" extra "}\n"

static wd_eval_dataset ds;

START_TEST(test_dataset_reads_both_list_forms)
{
	const char *text =
		LINE("a", ", \"FAIL_TO_PASS\": \"[\\\"t1\\\", \\\"t2\\\"]\", \"PASS_TO_PASS\": [\"p1\"]")
		"\n  \n"
		LINE("b", ", \"FAIL_TO_PASS\": [\"t3\"], \"scope\": \"src/*.c, tests/*\", \"build\": \"make\"");
	ck_assert_int_eq(wd_eval_dataset_parse(&ds, "d.jsonl", text, strlen(text)), 0);
	ck_assert_uint_eq(ds.n, 2);
	ck_assert_uint_eq(ds.v[0].f2p.n, 2);
	ck_assert_str_eq(ds.v[0].f2p.v[1], "t2");
	ck_assert_str_eq(ds.v[0].p2p.v[0], "p1");
	ck_assert_ptr_null(ds.v[0].build);
	ck_assert_uint_eq(ds.v[1].line, 4);
	ck_assert_uint_eq(ds.v[1].index, 1);
	ck_assert_uint_eq(ds.v[1].scope.n, 2);
	ck_assert_str_eq(ds.v[1].scope.v[1], "tests/*");
	ck_assert_str_eq(ds.v[1].build, "make");
	ck_assert_int_eq((int)strlen(ds.sha1), 40);
	wd_eval_dataset_free(&ds);
}
END_TEST

static void assert_refused(const char *text, const char *msg_part)
{
	wd_eval_dataset bad;
	int rc = wd_eval_dataset_parse(&bad, "d.jsonl", text, strlen(text));

	ck_assert_int_eq(rc, WD_EINPUT);
	ck_assert_msg(strstr(wd_error_last(), msg_part), "'%s' lacks '%s'", wd_error_last(), msg_part);
	ck_assert_ptr_null(bad.v);
}

START_TEST(test_dataset_refuses_malformed_lines_by_line)
{
	assert_refused("", "no instances");
	assert_refused(LINE("a", "") "[1]\n", "d.jsonl:2: not a JSON object");
	assert_refused(LINE("a", "") "{\"x\n", "d.jsonl:2: not JSON");
	assert_refused(LINE("a", "") LINE("a", ""), "already on line 1");
	assert_refused(LINE("a", ", \"FAIL_TO_PASS\": \"t1\""), "not a JSON list");
	assert_refused(LINE("a", ", \"FAIL_TO_PASS\": [1]"), "not a test name");
	assert_refused(LINE("a", ", \"PASS_TO_PASS\": {}"), "not a list");
	assert_refused("{\"instance_id\": \"a\", \"repo\": \"r\", \"base_commit\": \"zz;rm\", "
	               "\"problem_statement\": \"p\", \"test\": \"t\"}", "not a commit id");
	assert_refused("{\"instance_id\": \"a\", \"repo\": \"r\", \"base_commit\": \"abcd\", "
	               "\"problem_statement\": \"p\"}", "no \"test\" command");
	assert_refused("{\"repo\": \"r\"}", "no \"instance_id\"");
	assert_refused("{\"instance_id\": 7}", "not a string");
	assert_refused(LINE("a", ", \"patch\": \"a\\u0000b\""), "NUL");
}
END_TEST

START_TEST(test_shards_cover_every_position_exactly_once)
{
	unsigned i, n;

	for (unsigned count = 1; count <= 7; count++)
		for (size_t pos = 0; pos < 50; pos++) {
			unsigned hits = 0;

			for (unsigned s = 1; s <= count; s++)
				hits += (unsigned)wd_eval_in_shard(pos, s, count);
			ck_assert_uint_eq(hits, 1);
		}
	ck_assert_int_eq(wd_eval_shard_parse(&i, &n, "2/4"), 0);
	ck_assert_uint_eq(i, 2);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(wd_eval_shard_parse(&i, &n, "0/4"), WD_EUSAGE);
	ck_assert_int_eq(wd_eval_shard_parse(&i, &n, "5/4"), WD_EUSAGE);
	ck_assert_int_eq(wd_eval_shard_parse(&i, &n, "-1/4"), WD_EUSAGE);
	ck_assert_int_eq(wd_eval_shard_parse(&i, &n, "1/"), WD_EUSAGE);
	ck_assert_int_eq(wd_eval_shard_parse(&i, &n, "1/4x"), WD_EUSAGE);
	ck_assert_int_eq(wd_eval_shard_parse(&i, &n, "1/99999"), WD_EUSAGE);
}
END_TEST

/* A gate result with one build check and one test check reporting `tests`
 * ("name", status, ...; NULL-terminated). */
static wd_check build_check = { "build", WD_CHECK_BUILD, "make", 0, NULL };
static wd_check test_check = { "test", WD_CHECK_TEST, "make test", 0, NULL };

static void make_gate(wd_gate_result *g, int build_ok, ...)
{
	va_list ap;
	const char *name;

	memset(g, 0, sizeof(*g));
	g->v = calloc(2, sizeof(*g->v));
	ck_assert_ptr_nonnull(g->v);
	g->n = 2;
	g->v[0].check = &build_check;
	g->v[0].passed = build_ok;
	g->v[0].exit_code = build_ok ? 0 : 2;
	g->v[1].check = &test_check;
	va_start(ap, build_ok);
	while ((name = va_arg(ap, const char *)) != NULL) {
		int st = va_arg(ap, int);
		wd_test_report *r = &g->v[1].tests;

		r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
		r->v[r->n].name = strdup(name);
		r->v[r->n].status = (wd_test_status)st;
		r->v[r->n].detail = NULL;
		r->n++;
	}
	va_end(ap);
}

static wd_eval_instance *instance(const char *f2p, const char *p2p)
{
	char text[512];

	wd_eval_dataset_free(&ds);
	snprintf(text, sizeof(text), LINE("x", ", \"FAIL_TO_PASS\": %s, \"PASS_TO_PASS\": %s"),
	         f2p, p2p);
	ck_assert_int_eq(wd_eval_dataset_parse(&ds, "d", text, strlen(text)), 0);
	return &ds.v[0];
}

START_TEST(test_grading_follows_swe_bench)
{
	wd_eval_instance *in = instance("[\"f1\", \"f2\"]", "[\"p1\"]");
	wd_eval_grade gr;
	wd_gate_result g;

	memset(&gr, 0, sizeof(gr));
	make_gate(&g, 1, "f1", WD_TEST_PASS, "f2", WD_TEST_PASS, "p1", WD_TEST_PASS, (char *)NULL);
	ck_assert_int_eq(wd_eval_grade_checks(&gr, in, &g), 0);
	ck_assert_int_eq(gr.status, WD_EVAL_RESOLVED);
	wd_gate_result_free(&g);
	make_gate(&g, 1, "f1", WD_TEST_PASS, "f2", WD_TEST_FAIL, "p1", WD_TEST_PASS, (char *)NULL);
	ck_assert_int_eq(wd_eval_grade_checks(&gr, in, &g), 0);
	ck_assert_int_eq(gr.status, WD_EVAL_PARTIAL);
	ck_assert_str_eq(gr.failing.v[0], "f2");
	wd_gate_result_free(&g);
	/* a PASS_TO_PASS regression makes even a full fix unresolved */
	make_gate(&g, 1, "f1", WD_TEST_PASS, "f2", WD_TEST_PASS, "p1", WD_TEST_FAIL, (char *)NULL);
	ck_assert_int_eq(wd_eval_grade_checks(&gr, in, &g), 0);
	ck_assert_int_eq(gr.status, WD_EVAL_UNRESOLVED);
	wd_gate_result_free(&g);
	/* a test that is not reported does not pass (the build broke, say) */
	make_gate(&g, 0, (char *)NULL);
	ck_assert_int_eq(wd_eval_grade_checks(&gr, in, &g), 0);
	ck_assert_int_eq(gr.status, WD_EVAL_UNRESOLVED);
	ck_assert_uint_eq(gr.failing.n, 3);
	wd_gate_result_free(&g);
	wd_eval_grade_free(&gr);
	wd_eval_dataset_free(&ds);
}
END_TEST

START_TEST(test_base_validation_names_the_reason)
{
	wd_eval_instance *in = instance("[\"f1\"]", "[\"p1\"]");
	wd_gate_result g;

	make_gate(&g, 1, "f1", WD_TEST_FAIL, "p1", WD_TEST_PASS, (char *)NULL);
	ck_assert_int_eq(wd_eval_validate_base(in, &g), 0);
	wd_gate_result_free(&g);
	make_gate(&g, 0, "f1", WD_TEST_FAIL, "p1", WD_TEST_PASS, (char *)NULL);
	ck_assert_int_eq(wd_eval_validate_base(in, &g), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "the base does not build"));
	wd_gate_result_free(&g);
	make_gate(&g, 1, "f1", WD_TEST_PASS, "p1", WD_TEST_PASS, (char *)NULL);
	ck_assert_int_eq(wd_eval_validate_base(in, &g), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "'f1' already passes"));
	wd_gate_result_free(&g);
	make_gate(&g, 1, "f1", WD_TEST_FAIL, "p1", WD_TEST_FAIL, (char *)NULL);
	ck_assert_int_eq(wd_eval_validate_base(in, &g), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "'p1' already fails"));
	wd_gate_result_free(&g);
	make_gate(&g, 1, "f1", WD_TEST_FAIL, (char *)NULL);
	ck_assert_int_eq(wd_eval_validate_base(in, &g), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "'p1' is not reported"));
	wd_gate_result_free(&g);
	in = instance("[]", "[]");
	make_gate(&g, 1, (char *)NULL);
	ck_assert_int_eq(wd_eval_validate_base(in, &g), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "no FAIL_TO_PASS"));
	wd_gate_result_free(&g);
	wd_eval_dataset_free(&ds);
}
END_TEST

START_TEST(test_wilson_and_mcnemar)
{
	double lo, hi;

	wd_eval_wilson(&lo, &hi, 0, 0);
	ck_assert(lo == 0.0 && hi == 0.0);
	/* 10 of 20: the textbook interval 0.299-0.701 */
	wd_eval_wilson(&lo, &hi, 10, 20);
	ck_assert_msg(fabs(lo - 0.2993) < 0.001 && fabs(hi - 0.7007) < 0.001, "%f %f", lo, hi);
	wd_eval_wilson(&lo, &hi, 20, 20);
	ck_assert_msg(hi == 1.0 && fabs(lo - 0.8389) < 0.001, "%f", lo);
	ck_assert(wd_eval_mcnemar(0, 0) == 1.0);
	ck_assert(wd_eval_mcnemar(3, 3) == 1.0);
	/* 0 vs 6: p = 2 * 0.5^6 = 0.03125 */
	ck_assert_msg(fabs(wd_eval_mcnemar(0, 6) - 0.03125) < 1e-9, "%g", wd_eval_mcnemar(0, 6));
	/* 1 vs 9: p = 2 * 11 / 1024 */
	ck_assert_msg(fabs(wd_eval_mcnemar(9, 1) - 22.0 / 1024) < 1e-9, "%g", wd_eval_mcnemar(9, 1));
	ck_assert(wd_eval_mcnemar(5000, 5100) > 0.0 && wd_eval_mcnemar(5000, 5100) <= 1.0);
}
END_TEST

static json_t *item(const char *id, const char *status, int index, const char *shard,
                    int shard_size)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:i, s:f, s:i}", "instance_id", id,
	                 "status", status, "dataset", "d1", "dataset_size", 4, "index", index,
	                 "shard", shard, "shard_size", shard_size, "cost_usd", 0.5, "wall_ms", 100);
}

static int merge_of(json_t **out, json_t *a, json_t *b)
{
	wd_eval_results ra = { a }, rb = { b };
	const wd_eval_results *in[2] = { &ra, &rb };
	const char *names[2] = { "A", "B" };

	return wd_eval_merge(out, in, names, b ? 2 : 1);
}

START_TEST(test_merge_refuses_overlaps_and_gaps)
{
	json_t *s1 = json_array(), *s2 = json_array(), *m = NULL;

	json_array_append_new(s1, item("i0", "resolved", 0, "1/2", 2));
	json_array_append_new(s1, item("i2", "error", 2, "1/2", 2));
	json_array_append_new(s2, item("i3", "partial", 3, "2/2", 2));
	/* shard 2 stopped early: a gap */
	ck_assert_int_eq(merge_of(&m, s1, s2), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "gap"));
	json_array_append_new(s2, item("i1", "unresolved", 1, "2/2", 2));
	ck_assert_int_eq(merge_of(&m, s2, s1), 0);
	ck_assert_uint_eq(json_array_size(m), 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(m, i), "index")),
		                 (json_int_t)i);
	json_decref(m);
	/* the same shard twice, a missing shard, a lone shard */
	ck_assert_int_eq(merge_of(&m, s1, s1), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "overlap"));
	ck_assert_int_eq(merge_of(&m, s1, NULL), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "missing"));
	/* two results at one position under different ids, none at another: the
	 * shards' counts add up, the ids are unique, and still it is a gap */
	{
		json_t *s3 = json_array();

		json_array_append_new(s3, item("i3", "partial", 3, "2/2", 2));
		json_array_append_new(s3, item("i3-again", "resolved", 3, "2/2", 2));
		ck_assert_int_eq(merge_of(&m, s1, s3), WD_EINPUT);
		ck_assert_msg(strstr(wd_error_last(), "position 1") && strstr(wd_error_last(), "gap"),
		              "%s", wd_error_last());
		json_decref(s3);
	}
	/* an item claiming a shard it does not belong to */
	json_array_append_new(s2, item("i9", "resolved", 2, "2/2", 2));
	ck_assert_int_eq(merge_of(&m, s1, s2), WD_EINPUT);
	json_decref(s2);
	s2 = json_array();
	/* another dataset */
	json_array_append_new(s2, item("i1", "unresolved", 1, "2/2", 2));
	json_object_set_new(json_array_get(s2, 0), "dataset", json_string("d2"));
	ck_assert_int_eq(merge_of(&m, s1, s2), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "another dataset"));
	json_decref(s1);
	json_decref(s2);
}
END_TEST

START_TEST(test_compare_pairs_instances)
{
	json_t *a = json_array(), *b = json_array(), *c;

	json_array_append_new(a, item("i0", "resolved", 0, "1/1", 4));
	json_array_append_new(a, item("i1", "unresolved", 1, "1/1", 4));
	json_array_append_new(a, item("i2", "resolved", 2, "1/1", 4));
	json_array_append_new(a, item("only-a", "resolved", 3, "1/1", 4));
	json_array_append_new(b, item("i0", "resolved", 0, "1/1", 4));
	json_array_append_new(b, item("i1", "resolved", 1, "1/1", 4));
	json_array_append_new(b, item("i2", "error", 2, "1/1", 4));
	json_object_set_new(json_array_get(b, 1), "cost_usd", json_real(1.5));
	c = wd_eval_compare(a, b);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "shared")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "newly_resolved")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "newly_failing")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "both_resolved")), 1);
	ck_assert(fabs(json_real_value(json_object_get(c, "cost_delta_usd")) - 1.0) < 1e-9);
	ck_assert(json_real_value(json_object_get(c, "mcnemar_p")) == 1.0);
	json_decref(c);
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(test_results_file_drops_a_torn_last_line_only)
{
	char *dir = NULL;
	char path[512];
	wd_eval_results r = { NULL };
	json_t *s;

	ck_assert_int_eq(fx_tmpdir(&dir), 0);
	snprintf(path, sizeof(path), "%s/r.jsonl", dir);
	ck_assert_int_eq(wd_eval_results_load(&r, path, 1), 0);
	ck_assert_uint_eq(json_array_size(r.items), 0);
	wd_eval_results_free(&r);
	ck_assert_int_eq(wd_eval_results_load(&r, path, 0), WD_EINPUT);
	ck_assert_int_eq(fx_write_file(path, "{\"instance_id\":\"a\",\"status\":\"resolved\"}\n"
	                               "{\"instance_id\":\"b\",\"stat"), 0);
	ck_assert_int_eq(wd_eval_results_load(&r, path, 0), 0);
	ck_assert_uint_eq(json_array_size(r.items), 1);
	s = wd_eval_summary(r.items);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "resolved")), 1);
	json_decref(s);
	wd_eval_results_free(&r);
	ck_assert_int_eq(fx_write_file(path, "{\"instance_id\":\"b\",\"stat\n"
	                               "{\"instance_id\":\"a\",\"status\":\"resolved\"}\n"), 0);
	ck_assert_int_eq(wd_eval_results_load(&r, path, 0), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "r.jsonl:1:"));
	ck_assert_int_eq(fx_write_file(path, "{\"instance_id\":\"a\",\"status\":\"great\"}\n"), 0);
	ck_assert_int_eq(wd_eval_results_load(&r, path, 0), WD_EINPUT);
	fx_rm_rf(dir);
	free(dir);
}
END_TEST

static Suite *eval_suite(void)
{
	Suite *s = suite_create("eval");
	TCase *tc = tcase_create("eval");

	tcase_add_test(tc, test_dataset_reads_both_list_forms);
	tcase_add_test(tc, test_dataset_refuses_malformed_lines_by_line);
	tcase_add_test(tc, test_shards_cover_every_position_exactly_once);
	tcase_add_test(tc, test_grading_follows_swe_bench);
	tcase_add_test(tc, test_base_validation_names_the_reason);
	tcase_add_test(tc, test_wilson_and_mcnemar);
	tcase_add_test(tc, test_merge_refuses_overlaps_and_gaps);
	tcase_add_test(tc, test_compare_pairs_instances);
	tcase_add_test(tc, test_results_file_drops_a_torn_last_line_only);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(eval_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
