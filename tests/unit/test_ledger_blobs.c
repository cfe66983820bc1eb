/*
 * The ledger keeps what the model saw and said and what the checks printed,
 * as redacted blobs beside the JSONL; its write errors are sticky. Unit
 * tests of the blob store, then a real run whose every blob reference
 * resolves to its content.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "e2e.h"
#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/json.h"
#include "warden/ledger.h"

static char tmpdir[64];

static void setup(void)
{
	git_libgit2_init();
	strcpy(tmpdir, "/tmp/wd-blobs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	wd_redact_reset();
}

static void teardown(void)
{
	wd_rm_rf(tmpdir);
	wd_redact_reset();
	git_libgit2_shutdown();
}

static wd_ledger *open_in_tmp(wd_buf *path)
{
	wd_ledger *l = NULL;

	ck_assert_int_eq(wd_buf_printf(path, "%s/ledger/r1.jsonl", tmpdir), 0);
	ck_assert_int_eq(wd_ledger_open(&l, path->ptr, "r1"), 0);
	return l;
}

START_TEST(blob_is_stored_once_redacted_and_read_back)
{
	wd_buf path = WD_BUF_INIT, got = WD_BUF_INIT, bp = WD_BUF_INIT;
	wd_ledger *l = open_in_tmp(&path);
	const char *text = "check output\nOPENAI key sk-abcdefghijklmnopqrstuvwxyz0123 here\n";
	char h1[41], h2[41];
	struct stat st;

	ck_assert_int_eq(wd_ledger_blob(l, text, strlen(text), h1), 0);
	ck_assert_int_eq(wd_ledger_blob(l, text, strlen(text), h2), 0);
	ck_assert_str_eq(h1, h2);
	ck_assert(wd_ledger_blob_hex_ok(h1));
	ck_assert_int_eq(wd_ledger_blob_read(&got, path.ptr, h1, 0), 0);
	ck_assert_ptr_null(strstr(got.ptr, "sk-abcdefghijklmnopqrstuvwxyz0123"));
	ck_assert_ptr_nonnull(strstr(got.ptr, "[REDACTED:api-key]"));
	ck_assert_ptr_nonnull(strstr(got.ptr, "check output"));
	/* beside the ledger, private */
	ck_assert_int_eq(wd_ledger_blob_path(&bp, path.ptr, h1), 0);
	ck_assert_ptr_nonnull(strstr(bp.ptr, "/ledger/blobs/"));
	ck_assert_int_eq(stat(bp.ptr, &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 0);
	ck_assert_int_eq(wd_ledger_error(l, NULL), 0);
	wd_ledger_close(l);
	wd_buf_free(&path);
	wd_buf_free(&got);
	wd_buf_free(&bp);
}
END_TEST

START_TEST(blob_ids_from_a_ledger_are_checked_before_they_become_paths)
{
	wd_buf path = WD_BUF_INIT, got = WD_BUF_INIT;
	static const char *const bad[] = { "../../../../etc/passwd", "", "ABCDEF0123456789abcdef0123456789abcdef01",
	                                   "0123456789abcdef0123456789abcdef0123456", "0123456789abcdef0123456789abcdef01234567/",
	                                   "0123456789abcdef0123456789abcdef0123456x" };

	ck_assert_int_eq(wd_buf_printf(&path, "%s/ledger/r1.jsonl", tmpdir), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert(!wd_ledger_blob_hex_ok(bad[i]));
		ck_assert_int_eq(wd_ledger_blob_read(&got, path.ptr, bad[i], 0), WD_EINPUT);
	}
	ck_assert(!wd_ledger_blob_hex_ok(NULL));
	/* a well-formed id that is not there */
	ck_assert_int_eq(wd_ledger_blob_read(&got, path.ptr, "0123456789abcdef0123456789abcdef01234567", 0),
	                 WD_ENOTFOUND);
	wd_buf_free(&path);
	wd_buf_free(&got);
}
END_TEST

START_TEST(failed_pack_is_a_sticky_error_not_an_empty_event)
{
	wd_buf path = WD_BUF_INIT, raw = WD_BUF_INIT;
	wd_ledger *l = open_in_tmp(&path);
	const char *msg = NULL;

	ck_assert_int_eq(wd_ledger_add(l, "a", json_pack("{s:i}", "n", 1)), 0);
	/* what json_pack returns when it fails */
	ck_assert_int_eq(wd_ledger_add(l, "b", NULL), WD_ENOMEM);
	ck_assert_int_eq(wd_ledger_add(l, "c", json_pack("{s:i}", "n", 3)), 0);
	ck_assert_int_eq(wd_ledger_error(l, &msg), WD_ENOMEM);
	ck_assert_ptr_nonnull(strstr(msg, "'b'"));
	ck_assert_int_eq(wd_file_read(&raw, path.ptr, 0), 0);
	ck_assert_ptr_null(strstr(raw.ptr, "\"type\":\"b\""));
	ck_assert_ptr_nonnull(strstr(raw.ptr, "\"type\":\"c\""));
	wd_ledger_close(l);
	wd_buf_free(&path);
	wd_buf_free(&raw);
}
END_TEST

START_TEST(write_failure_is_remembered_first_one_wins)
{
	wd_buf path = WD_BUF_INIT;
	wd_ledger *l = open_in_tmp(&path);
	const char *msg = NULL;
	char hex[41];

	/* the ledger's path becomes a directory: every append fails */
	ck_assert_int_eq(wd_mkdir_p(path.ptr, 1), 0);
	ck_assert_int_ne(wd_ledger_add(l, "a", json_object()), 0);
	ck_assert_int_ne(wd_ledger_error(l, &msg), 0);
	ck_assert_ptr_nonnull(strstr(msg, "ledger"));
	/* a later, different failure does not replace the first */
	ck_assert_int_eq(wd_ledger_add(l, "b", NULL), WD_ENOMEM);
	ck_assert_int_ne(wd_ledger_error(l, NULL), WD_ENOMEM);
	/* blobs still work; the error stays */
	ck_assert_int_eq(wd_ledger_blob(l, "x", 1, hex), 0);
	ck_assert_int_ne(wd_ledger_error(l, NULL), 0);
	wd_ledger_close(l);
	/* a NULL ledger has no error and stores nothing */
	ck_assert_int_eq(wd_ledger_error(NULL, NULL), 0);
	ck_assert_int_eq(wd_ledger_blob(NULL, "x", 1, hex), 0);
	ck_assert_str_eq(hex, "");
	wd_buf_free(&path);
}
END_TEST

START_TEST(costs_are_decimals_to_the_micro_dollar)
{
	json_t *o = json_pack("{s:o}", "cost_usd", wd_json_usd(0.0064099999999999999));
	char *s = json_dumps(o, JSON_COMPACT | WD_JSON_REALS);

	ck_assert_str_eq(s, "{\"cost_usd\":0.00641}");
	free(s);
	json_decref(o);
	o = json_pack("{s:o, s:o}", "a", wd_json_usd(1.23456789), "b", wd_json_usd(-0.0));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | WD_JSON_REALS);
	ck_assert_str_eq(s, "{\"a\":1.234568,\"b\":0.0}");
	free(s);
	json_decref(o);
}
END_TEST

/* ---- a real run ------------------------------------------------------- */

static json_t *read_ledger(struct e2e_world *w)
{
	json_t *evs = NULL;

	ck_assert_int_eq(wd_ledger_read(&evs, e2e_str(w, "ledger"), 0), 0);
	return evs;
}

static char *blob(struct e2e_world *w, const char *hex)
{
	wd_buf b = WD_BUF_INIT;

	ck_assert_msg(hex && wd_ledger_blob_hex_ok(hex), "not a blob id: %s", hex ? hex : "(null)");
	ck_assert_int_eq(wd_ledger_blob_read(&b, e2e_str(w, "ledger"), hex, 0), 0);
	if (!b.ptr)
		ck_assert_int_eq(wd_buf_puts(&b, ""), 0);
	return wd_buf_detach(&b);
}

static json_t *find_event(json_t *evs, const char *type, const char *key, const char *val, int nth)
{
	size_t i;
	json_t *ev;

	json_array_foreach(evs, i, ev) {
		const char *t = json_string_value(json_object_get(ev, "type"));
		const char *v = key ? json_string_value(json_object_get(ev, key)) : NULL;

		if (t && !strcmp(t, type) && (!key || (v && !strcmp(v, val))) && nth-- == 0)
			return ev;
	}
	return NULL;
}

START_TEST(every_blob_of_a_run_resolves_to_what_was_seen_and_said)
{
	struct e2e_world w;
	char spec[600], *s;
	json_t *evs, *ev, *msgs, *m;
	size_t i;

	e2e_world_init(&w, NULL, NULL);
	e2e_write_replay(&w, "Set it to 43.\n```diff\n" E2E_DIFF_TO(43) "```\n",
	                 "Oops, 42.\n```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w.replay);
	e2e_run(&w, NULL, "--model", spec, (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	evs = read_ledger(&w);

	/* what was asked */
	ev = find_event(evs, "ticket", NULL, NULL, 0);
	s = blob(&w, json_string_value(json_object_get(ev, "body_blob")));
	ck_assert_ptr_nonnull(strstr(s, "value.txt must say 42."));
	free(s);
	/* the prompt as sent */
	ev = find_event(evs, "prompt", NULL, NULL, 0);
	s = blob(&w, json_string_value(json_object_get(ev, "task_blob")));
	ck_assert_ptr_nonnull(strstr(s, "value.txt"));
	free(s);
	s = blob(&w, json_string_value(json_object_get(ev, "system_blob")));
	ck_assert_uint_gt(strlen(s), 10);
	free(s);
	/* round 2's request holds round 1's reply and the failing output */
	ev = find_event(evs, "model.call", NULL, NULL, 1);
	ck_assert_ptr_nonnull(ev);
	msgs = json_object_get(ev, "messages");
	ck_assert_uint_eq(json_array_size(msgs), 4);
	m = json_array_get(msgs, 2);
	ck_assert_str_eq(json_string_value(json_object_get(m, "role")), "assistant");
	s = blob(&w, json_string_value(json_object_get(m, "blob")));
	ck_assert_ptr_nonnull(strstr(s, "Set it to 43."));
	free(s);
	s = blob(&w, json_string_value(json_object_get(json_array_get(msgs, 3), "blob")));
	ck_assert_ptr_nonnull(strstr(s, "FAIL answer: expected 42, got answer = 43"));
	free(s);
	s = blob(&w, json_string_value(json_object_get(ev, "reply_blob")));
	ck_assert_ptr_nonnull(strstr(s, "Oops, 42."));
	free(s);
	/* numbers and nested values as a person expects them: no strings holding JSON */
	ck_assert(json_is_null(json_object_get(ev, "tool_calls")) ||
	          json_is_array(json_object_get(ev, "tool_calls")));
	ck_assert(json_is_number(json_object_get(ev, "cost_usd")));
	/* round 1's check output, and why it failed in plain words */
	ev = find_event(evs, "check", "phase", "checks", 0);
	s = blob(&w, json_string_value(json_object_get(ev, "output_blob")));
	ck_assert_ptr_nonnull(strstr(s, "FAIL answer: expected 42, got answer = 43"));
	free(s);
	ev = find_event(evs, "round.end", NULL, NULL, 0);
	ck_assert(json_is_false(json_object_get(ev, "passed")));
	ck_assert_str_eq(json_string_value(json_object_get(ev, "reason")),
	                 "round 1: check 'test' failed (exit 1; it failed on the base too)");
	/* the passing round's diff */
	ev = find_event(evs, "verdict", NULL, NULL, 1);
	s = blob(&w, json_string_value(json_object_get(ev, "diff_blob")));
	ck_assert_ptr_nonnull(strstr(s, "+answer = 42"));
	free(s);
	/* every *_blob field of every event resolves */
	json_array_foreach(evs, i, ev) {
		const char *k;
		json_t *v;

		json_object_foreach(ev, k, v) {
			size_t kl = strlen(k);

			if (kl > 5 && !strcmp(k + kl - 5, "_blob") && json_is_string(v))
				free(blob(&w, json_string_value(v)));
		}
	}
	/* run.start names its process, run.end the time */
	ev = find_event(evs, "run.start", NULL, NULL, 0);
	ck_assert(json_integer_value(json_object_get(json_object_get(ev, "process"), "pid")) > 1);
	ev = find_event(evs, "run.end", NULL, NULL, 0);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "status")), "proposed");
	ck_assert(json_is_integer(json_object_get(ev, "ms")));
	json_decref(evs);
	e2e_world_free(&w);
}
END_TEST

START_TEST(reason_of_a_refused_patch_is_for_a_person)
{
	struct e2e_world w;
	char spec[600];
	static const char out_of_scope[] =
		"```diff\n--- a/other.txt\n+++ b/other.txt\n@@ -1 +1 @@\n-do not touch\n+touched\n```\n";

	e2e_world_init(&w, NULL, NULL);
	e2e_write_replay(&w, out_of_scope, (char *)NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w.replay);
	e2e_run(&w, NULL, "--model", spec, "--rounds", "1", (char *)NULL);
	ck_assert_msg(w.status == 1, "exit %d:\n%s", w.status, w.output);
	ck_assert_msg(!strncmp(e2e_str(&w, "reason"), "round 1: patch refused: ", 24), "%s",
	              e2e_str(&w, "reason"));
	ck_assert_ptr_nonnull(strstr(e2e_str(&w, "reason"), "other.txt"));
	/* one line, not the repair prompt */
	ck_assert_ptr_null(strchr(e2e_str(&w, "reason"), '\n'));
	e2e_world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ledger_blobs");
	TCase *unit = tcase_create("unit"), *run = tcase_create("run");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(unit, setup, teardown);
	tcase_add_test(unit, blob_is_stored_once_redacted_and_read_back);
	tcase_add_test(unit, blob_ids_from_a_ledger_are_checked_before_they_become_paths);
	tcase_add_test(unit, failed_pack_is_a_sticky_error_not_an_empty_event);
	tcase_add_test(unit, write_failure_is_remembered_first_one_wins);
	tcase_add_test(unit, costs_are_decimals_to_the_micro_dollar);
	suite_add_tcase(s, unit);
	tcase_set_timeout(run, 120);
	tcase_add_test(run, every_blob_of_a_run_resolves_to_what_was_seen_and_said);
	tcase_add_test(run, reason_of_a_refused_patch_is_for_a_person);
	suite_add_tcase(s, run);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
