/*
 * Alerts: a cost spike against the repository's recent runs, a model
 * repeating itself, retries, a check that suddenly takes much longer; each
 * with a control that stays quiet. Then a real run that repeats its patch:
 * the alert is printed, in the --json result, in the ledger and in stats.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "e2e.h"
#include "fixture.h"
#include "warden/alerts.h"
#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"

static char tmpdir[64];

static void setup(void)
{
	git_libgit2_init();
	strcpy(tmpdir, "/tmp/wd-alerts-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	wd_rm_rf(tmpdir);
	git_libgit2_shutdown();
}

/* A finished earlier run on repo "R": cost, and check "test" taking ms. */
static void past_run(const char *id, int day, double cost, long ms)
{
	char path[256], text[2048];

	snprintf(path, sizeof(path), "%s/ledger/%s.jsonl", tmpdir, id);
	snprintf(text, sizeof(text),
	         "{\"seq\":0,\"ts\":\"2026-01-%02dT00:00:00.000Z\",\"run\":\"%s\",\"type\":\"run.start\",\"repo\":\"R\"}\n"
	         "{\"seq\":1,\"ts\":\"2026-01-%02dT00:00:01.000Z\",\"run\":\"%s\",\"type\":\"check\",\"phase\":\"checks\","
	         "\"name\":\"test\",\"ms\":%ld,\"passed\":true,\"cached\":false}\n"
	         "{\"seq\":2,\"ts\":\"2026-01-%02dT00:00:02.000Z\",\"run\":\"%s\",\"type\":\"run.end\",\"status\":\"proposed\","
	         "\"cost_usd\":%.4f,\"rounds\":1}\n", day, id, day, id, ms, day, id, cost);
	ck_assert_int_eq(fx_write_file(path, text), 0);
}

/* The run being judged: `repeats` identical tool calls, `retries` retries, the check's ms. */
static void this_run(char *path, size_t n, int repeats, int retries, long ms)
{
	wd_buf b = WD_BUF_INIT;
	int seq = 1;

	snprintf(path, n, "%s/ledger/cafe0001.jsonl", tmpdir);
	wd_buf_printf(&b, "{\"seq\":0,\"ts\":\"2026-02-01T00:00:00.000Z\",\"run\":\"cafe0001\","
	                  "\"type\":\"run.start\",\"repo\":\"R\"}\n");
	for (int i = 0; i < repeats; i++)
		wd_buf_printf(&b, "{\"seq\":%d,\"run\":\"cafe0001\",\"type\":\"tool.call\",\"round\":1,"
		                  "\"name\":\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"a.c\\\"}\"}\n", seq++);
	for (int i = 0; i < retries; i++)
		wd_buf_printf(&b, "{\"seq\":%d,\"run\":\"cafe0001\",\"type\":\"model.retry\"}\n", seq++);
	wd_buf_printf(&b, "{\"seq\":%d,\"run\":\"cafe0001\",\"type\":\"check\",\"phase\":\"checks\","
	                  "\"name\":\"test\",\"ms\":%ld,\"passed\":true,\"cached\":false}\n", seq, ms);
	ck_assert_int_eq(fx_write_file(path, b.ptr), 0);
	wd_buf_free(&b);
}

static int has(json_t *alerts, const char *kind)
{
	size_t i;
	json_t *a;
	int n = 0;

	json_array_foreach(alerts, i, a)
		n += !strcmp(json_string_value(json_object_get(a, "kind")), kind);
	return n;
}

START_TEST(each_alert_fires_and_its_control_stays_quiet)
{
	char path[256];
	json_t *alerts = NULL;

	past_run("0000000a", 1, 0.01, 100);
	past_run("0000000b", 2, 0.012, 120);
	past_run("0000000c", 3, 0.011, 110);
	/* the attack on the budget: 5 times the median cost, a slow check,
	 * the same tool call three times, four retries */
	this_run(path, sizeof(path), 3, 4, 5000);
	ck_assert_int_eq(wd_alerts_for_run(&alerts, tmpdir, path, 0.055, NULL), 0);
	ck_assert_int_eq(has(alerts, "cost"), 1);
	ck_assert_int_eq(has(alerts, "slow-check"), 1);
	ck_assert_int_eq(has(alerts, "repeat"), 1);
	ck_assert_int_eq(has(alerts, "retries"), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(alerts, 0),
	                                                               "message")), "read_file"));
	json_decref(alerts);
	/* the control: an ordinary run */
	this_run(path, sizeof(path), 2, 3, 130);
	ck_assert_int_eq(wd_alerts_for_run(&alerts, tmpdir, path, 0.02, NULL), 0);
	ck_assert_uint_eq(json_array_size(alerts), 0);
	json_decref(alerts);
}
END_TEST

START_TEST(no_history_no_comparison)
{
	char path[256];
	json_t *alerts = NULL;

	past_run("0000000a", 1, 0.01, 100);
	past_run("0000000b", 2, 0.01, 100);
	/* two earlier runs are not a median to judge by */
	this_run(path, sizeof(path), 0, 0, 50000);
	ck_assert_int_eq(wd_alerts_for_run(&alerts, tmpdir, path, 10.0, NULL), 0);
	ck_assert_uint_eq(json_array_size(alerts), 0);
	json_decref(alerts);
}
END_TEST

START_TEST(thresholds_come_from_the_config)
{
	char path[256];
	json_t *alerts = NULL;
	wd_alert_opts o = WD_ALERT_OPTS_INIT;

	past_run("0000000a", 1, 0.01, 100);
	past_run("0000000b", 2, 0.01, 100);
	past_run("0000000c", 3, 0.01, 100);
	this_run(path, sizeof(path), 0, 0, 100);
	o.cost_factor = 10;
	ck_assert_int_eq(wd_alerts_for_run(&alerts, tmpdir, path, 0.05, &o), 0);
	ck_assert_int_eq(has(alerts, "cost"), 0);
	json_decref(alerts);
	o.cost_factor = 2;
	ck_assert_int_eq(wd_alerts_for_run(&alerts, tmpdir, path, 0.05, &o), 0);
	ck_assert_int_eq(has(alerts, "cost"), 1);
	json_decref(alerts);
}
END_TEST

START_TEST(a_run_that_repeats_its_patch_raises_an_alert_everywhere)
{
	struct e2e_world w;
	char spec[600], *out = NULL;
	const char *argv[] = { e2e_warden_bin(), "stats", "--work-dir", w.cache, NULL };
	int status;

	e2e_world_init(&w, NULL, NULL);
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(43) "```\n", "```diff\n" E2E_DIFF_TO(43) "```\n",
	                 (char *)NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w.replay);
	e2e_run(&w, NULL, "--model", spec, "--rounds", "3", (char *)NULL);
	ck_assert_msg(w.status == 1, "exit %d:\n%s", w.status, w.output);
	ck_assert_int_eq(has(json_object_get(w.result, "alerts"), "repeat"), 1);
	ck_assert_ptr_nonnull(strstr(w.output, "warden: alert: round 2 repeated an earlier patch"));
	ck_assert_int_eq(fx_run(&out, &status, argv, NULL, w.tmp), 0);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_nonnull(strstr(out, "repeat: round 2 repeated an earlier patch"));
	free(out);
	e2e_world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("alerts");
	TCase *unit = tcase_create("unit"), *run = tcase_create("run");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(unit, setup, teardown);
	tcase_add_test(unit, each_alert_fires_and_its_control_stays_quiet);
	tcase_add_test(unit, no_history_no_comparison);
	tcase_add_test(unit, thresholds_come_from_the_config);
	suite_add_tcase(s, unit);
	tcase_set_timeout(run, 120);
	tcase_add_test(run, a_run_that_repeats_its_patch_raises_an_alert_everywhere);
	suite_add_tcase(s, run);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
