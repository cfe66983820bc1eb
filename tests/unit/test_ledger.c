#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"

static char tmpdir[64];

static void setup(void)
{
	git_libgit2_init();
	strcpy(tmpdir, "/tmp/wd-ledger-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	wd_redact_reset();
}

static void teardown(void)
{
	wd_rm_rf(tmpdir);
	wd_redact_reset();
	git_libgit2_shutdown();
}

static void path_in(wd_buf *b, const char *name)
{
	ck_assert_int_eq(wd_path_join(b, tmpdir, name), 0);
}

/* Read the ledger back as an array of parsed events, one per line. */
static json_t *read_events(const char *path)
{
	wd_buf b = WD_BUF_INIT;
	json_t *arr = json_array();
	char *save = NULL, *line;

	ck_assert_int_eq(wd_file_read(&b, path, 0), 0);
	for (line = strtok_r(b.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t err;
		json_t *ev = json_loads(line, 0, &err);

		ck_assert_msg(ev != NULL, "line is not JSON: %s (%s)", line, err.text);
		json_array_append_new(arr, ev);
	}
	wd_buf_free(&b);
	return arr;
}

START_TEST(events_are_jsonl_with_envelope_in_order)
{
	wd_buf p = WD_BUF_INIT;
	wd_ledger *l;
	json_t *evs, *ev;
	wd_buf raw = WD_BUF_INIT;

	path_in(&p, "runs/r1/ledger.jsonl");
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, "r1"), 0);
	ck_assert_int_eq(wd_ledger_add(l, "run_start", json_pack("{s:s, s:i}", "ticket", "t.md", "rounds", 3)), 0);
	ck_assert_int_eq(wd_ledger_add(l, "patch", json_pack("{s:s}", "diff", "line1\nline2")), 0);
	ck_assert_int_eq(wd_ledger_add(l, "run_end", json_object()), 0);
	ck_assert_uint_eq(wd_ledger_next_seq(l), 3);
	ck_assert_str_eq(wd_ledger_path(l), p.ptr);
	ck_assert_str_eq(wd_ledger_run_id(l), "r1");
	wd_ledger_close(l);

	ck_assert_int_eq(wd_file_read(&raw, p.ptr, 0), 0);
	/* envelope keys come first, in this order, and multi-line text stays on one line */
	ck_assert_msg(strncmp(raw.ptr, "{\"seq\":0,\"ts\":\"", 15) == 0, "got %s", raw.ptr);
	ck_assert_ptr_nonnull(strstr(raw.ptr, "\"run\":\"r1\",\"type\":\"run_start\",\"ticket\""));
	wd_buf_free(&raw);

	evs = read_events(p.ptr);
	ck_assert_uint_eq(json_array_size(evs), 3);
	for (size_t i = 0; i < 3; i++) {
		ev = json_array_get(evs, i);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "seq")), (json_int_t)i);
		ck_assert_str_eq(json_string_value(json_object_get(ev, "run")), "r1");
		ck_assert_uint_eq(strlen(json_string_value(json_object_get(ev, "ts"))), 24);
	}
	ev = json_array_get(evs, 1);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "type")), "patch");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "diff")), "line1\nline2");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(evs, 0), "rounds")), 3);
	json_decref(evs);
	wd_buf_free(&p);
}
END_TEST

START_TEST(reopening_continues_the_sequence)
{
	wd_buf p = WD_BUF_INIT;
	wd_ledger *l;
	json_t *evs;

	path_in(&p, "ledger.jsonl");
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, "r2"), 0);
	ck_assert_int_eq(wd_ledger_add(l, "a", json_object()), 0);
	ck_assert_int_eq(wd_ledger_add(l, "b", json_object()), 0);
	wd_ledger_close(l);
	/* a torn last line (crash mid-write) must not stop the count */
	ck_assert_int_eq(wd_file_append(p.ptr, "{\"seq\":", 7, 0), 0);
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, "r2"), 0);
	ck_assert_uint_eq(wd_ledger_next_seq(l), 2);
	ck_assert_int_eq(wd_ledger_add(l, "c", json_object()), 0);
	wd_ledger_close(l);
	{
		wd_buf b = WD_BUF_INIT;
		const char *last;

		ck_assert_int_eq(wd_file_read(&b, p.ptr, 0), 0);
		wd_buf_rtrim(&b);
		last = strrchr(b.ptr, '\n') + 1;
		evs = json_loads(last, 0, NULL);
		ck_assert_ptr_nonnull(evs);
		ck_assert_int_eq(json_integer_value(json_object_get(evs, "seq")), 2);
		ck_assert_str_eq(json_string_value(json_object_get(evs, "type")), "c");
		wd_buf_free(&b);
	}
	json_decref(evs);
	wd_buf_free(&p);
}
END_TEST

START_TEST(reading_back_skips_a_torn_tail_and_names_bad_lines)
{
	wd_buf p = WD_BUF_INIT;
	wd_ledger *l;
	json_t *evs = NULL;

	path_in(&p, "ledger.jsonl");
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, "r7"), 0);
	ck_assert_int_eq(wd_ledger_add(l, "a", json_pack("{s:i}", "n", 1)), 0);
	ck_assert_int_eq(wd_ledger_add(l, "b", json_object()), 0);
	wd_ledger_close(l);
	ck_assert_int_eq(wd_file_append(p.ptr, "{\"seq\":2,\"ty", 13, 0), 0);
	/* wd_file_append adds a newline; remove it to make a real torn tail */
	{
		wd_buf raw = WD_BUF_INIT;

		ck_assert_int_eq(wd_file_read(&raw, p.ptr, 0), 0);
		ck_assert_int_eq(wd_file_write_atomic(p.ptr, raw.ptr, raw.len - 1, 0600), 0);
		wd_buf_free(&raw);
	}
	ck_assert_int_eq(wd_ledger_read(&evs, p.ptr, 0), 0);
	ck_assert_uint_eq(json_array_size(evs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(evs, 1), "type")), "b");
	json_decref(evs);
	/* garbage in the middle is an error with its line number */
	{
		static const char bad[] = "{\"seq\":0}\nnot json\n{\"seq\":1}\n";

		ck_assert_int_eq(wd_file_write_atomic(p.ptr, bad, strlen(bad), 0600), 0);
	}
	ck_assert_int_eq(wd_ledger_read(&evs, p.ptr, 0), WD_EINPUT);
	ck_assert_ptr_null(evs);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "ledger.jsonl:2:"));
	path_in(&p, "missing.jsonl");
	ck_assert_int_eq(wd_ledger_read(&evs, p.ptr, 0), WD_ENOTFOUND);
	wd_buf_free(&p);
}
END_TEST

START_TEST(sequence_continues_after_an_event_larger_than_the_tail)
{
	wd_buf p = WD_BUF_INIT, big = WD_BUF_INIT;
	wd_ledger *l;

	path_in(&p, "ledger.jsonl");
	for (int i = 0; i < 20000; i++)
		ck_assert_int_eq(wd_buf_puts(&big, "0123456789"), 0);
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, "r8"), 0);
	ck_assert_int_eq(wd_ledger_add(l, "a", json_object()), 0);
	ck_assert_int_eq(wd_ledger_add(l, "model_reply", json_pack("{s:s}", "text", big.ptr)), 0);
	wd_ledger_close(l);
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, "r8"), 0);
	ck_assert_uint_eq(wd_ledger_next_seq(l), 2);
	wd_ledger_close(l);
	wd_buf_free(&big);
	wd_buf_free(&p);
}
END_TEST

START_TEST(envelope_keys_win_over_fields)
{
	wd_buf p = WD_BUF_INIT;
	wd_ledger *l;
	json_t *evs, *ev;

	path_in(&p, "ledger.jsonl");
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, "r3"), 0);
	ck_assert_int_eq(wd_ledger_add(l, "check", json_pack("{s:s, s:i}", "type", "test", "seq", 99)), 0);
	wd_ledger_close(l);
	evs = read_events(p.ptr);
	ev = json_array_get(evs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "type")), "check");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "_type")), "test");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "seq")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "_seq")), 99);
	json_decref(evs);
	wd_buf_free(&p);
}
END_TEST

START_TEST(registered_secrets_never_reach_the_file)
{
	wd_buf p = WD_BUF_INIT, raw = WD_BUF_INIT;
	wd_ledger *l;
	json_t *f;

	wd_redact_register("hunter2-hidden-value");
	path_in(&p, "ledger.jsonl");
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, "r4"), 0);
	f = json_pack("{s:s, s:[s, {s:s}], s:s}", "msg", "password is hunter2-hidden-value!",
	              "nested", "ok", "deep", "xhunter2-hidden-valuex", "hunter2-hidden-value", "as key");
	ck_assert_int_eq(wd_ledger_add(l, "model_request", f), 0);
	wd_ledger_close(l);
	ck_assert_int_eq(wd_file_read(&raw, p.ptr, 0), 0);
	ck_assert_ptr_null(strstr(raw.ptr, "hunter2"));
	ck_assert_ptr_nonnull(strstr(raw.ptr, "\"password is [REDACTED:known-secret]!\""));
	ck_assert_ptr_nonnull(strstr(raw.ptr, "\"x[REDACTED:known-secret]x\""));
	ck_assert_ptr_nonnull(strstr(raw.ptr, "\"[REDACTED:known-secret]\":\"as key\""));
	wd_buf_free(&raw);
	wd_buf_free(&p);
}
END_TEST

START_TEST(null_ledger_is_a_no_op_and_bad_fields_are_refused)
{
	wd_buf p = WD_BUF_INIT;
	wd_ledger *l;

	ck_assert_int_eq(wd_ledger_add(NULL, "x", json_pack("{s:i}", "a", 1)), 0);
	path_in(&p, "ledger.jsonl");
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, "r5"), 0);
	ck_assert_int_eq(wd_ledger_add(l, "x", json_string("not an object")), WD_EUSAGE);
	ck_assert_int_eq(wd_ledger_add(l, NULL, NULL), WD_EUSAGE);
	ck_assert_int_eq(wd_ledger_add(l, "", json_object()), WD_EUSAGE);
	ck_assert_uint_eq(wd_ledger_next_seq(l), 0);
	ck_assert_int_eq(wd_path_exists(p.ptr), 0);
	wd_ledger_close(l);
	wd_ledger_close(NULL);
	wd_buf_free(&p);
}
END_TEST

START_TEST(open_fails_cleanly_where_the_directory_cannot_exist)
{
	wd_buf p = WD_BUF_INIT, f = WD_BUF_INIT;
	wd_ledger *l = (wd_ledger *)&l;

	path_in(&f, "plainfile");
	ck_assert_int_eq(wd_file_write_atomic(f.ptr, "x", 1, 0600), 0);
	path_in(&p, "plainfile/sub/ledger.jsonl");
	ck_assert_int_lt(wd_ledger_open(&l, p.ptr, "r6"), 0);
	ck_assert_ptr_null(l);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "ledger"));
	ck_assert_int_eq(wd_ledger_open(&l, p.ptr, ""), WD_EUSAGE);
	wd_buf_free(&p);
	wd_buf_free(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, events_are_jsonl_with_envelope_in_order);
	tcase_add_test(tc, reopening_continues_the_sequence);
	tcase_add_test(tc, reading_back_skips_a_torn_tail_and_names_bad_lines);
	tcase_add_test(tc, sequence_continues_after_an_event_larger_than_the_tail);
	tcase_add_test(tc, envelope_keys_win_over_fields);
	tcase_add_test(tc, registered_secrets_never_reach_the_file);
	tcase_add_test(tc, null_ledger_is_a_no_op_and_bad_fields_are_refused);
	tcase_add_test(tc, open_fails_cleanly_where_the_directory_cannot_exist);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
