/* Commits a reviewer can read: the body is the model's description of the
 * change without its chatter, then the ticket reference, then the trailers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/ticket.h"

#include "../../src/run/run_internal.h"
/* a ticket with a given source and id, which no public constructor makes */
#include "../../src/ticket/ticket_int.h"

static const char *summary_of(wd_buf *b, const char *reply)
{
	wd_run_model_summary(b, reply);
	return wd_buf_cstr(b);
}

/* Found by fuzz_text: "cc :" became the first words of a paragraph once the
 * chatter before it on the same line was dropped, so a line judged whole was
 * not a trailer but the body still carried one. */
START_TEST(a_trailer_left_after_dropped_chatter_is_dropped_too)
{
	wd_buf sum = WD_BUF_INIT;

	wd_run_model_summary(&sum, "Sorry about that. Signed-off-by: M <m@x>\n\n"
	                           "I apologize. cc : someone\nThe limit is now checked.\n");
	ck_assert_str_eq(sum.ptr, "The limit is now checked.");
	/* the same made of two lines that the paragraph joins */
	wd_run_model_summary(&sum, "The bound is checked.\n\ncc\n: someone\n\nNothing else.\n");
	ck_assert_str_eq(sum.ptr, "The bound is checked.\n\nNothing else.");
	wd_buf_free(&sum);
}
END_TEST

START_TEST(openers_apologies_and_file_names_are_dropped)
{
	wd_buf b = WD_BUF_INIT;

	ck_assert_str_eq(summary_of(&b,
		"You're right — my previous change didn't address the actual problem. "
		"setbytes() now stops before writing when n is 0, so an empty range writes "
		"nothing.\n"
		"\n"
		"src/mem.c\n"
		"```c\n"
		"<<<<<<< SEARCH\n"),
		"setbytes() now stops before writing when n is 0, so an empty range writes nothing.");
	ck_assert_str_eq(summary_of(&b,
		"Sure! I apologize for the confusion.\n"
		"The parser rejected negative exponents. It now accepts a '-' after 'e'.\n"
		"\n"
		"Files changed: src/parse.c, tests/test_parse.c\n"
		"- `src/parse.c`\n"
		"\n"
		"Here is the updated diff:\n"
		"```diff\n--- a/src/parse.c\n"),
		"The parser rejected negative exponents. It now accepts a '-' after 'e'.");
	/* paragraphs stay paragraphs; a codex patch ends the prose too */
	ck_assert_str_eq(summary_of(&b, "Fix the off-by-one in the loop bound.\n\n"
		"The last element was skipped.\n*** Begin Patch\n"),
		"Fix the off-by-one in the loop bound.\n\nThe last element was skipped.");
	/* nothing but chatter: no body */
	ck_assert_str_eq(summary_of(&b, "Sure, here is the fix:\n```diff\n"), "");
	wd_buf_free(&b);
}
END_TEST

START_TEST(message_is_title_summary_ticket_then_trailers)
{
	wd_ticket t;
	wd_buf msg = WD_BUF_INIT, sum = WD_BUF_INIT;

	memset(&t, 0, sizeof(t));
	t.title = "setbytes writes one byte too many";
	t.body = "";
	t.source = "tickets/13.md";
	t.id = "0123456789abcdef0123456789abcdef01234567";
	wd_run_model_summary(&sum, "Absolutely! setbytes() returns early for n == 0.\n```diff\n");
	ck_assert_int_eq(wd_run_commit_message(&msg, &t, wd_buf_cstr(&sum), "r1", "openai:gpt-5",
	                                       "test=pass 3/3"), 0);
	ck_assert_str_eq(msg.ptr, "setbytes writes one byte too many\n\n"
	                          "setbytes() returns early for n == 0.\n\n"
	                          "Ticket: tickets/13.md (0123456789ab)\n\n"
	                          "Warden-Run: r1\nWarden-Model: openai:gpt-5\n"
	                          "Warden-Checks: test=pass 3/3\n");
	wd_buf_free(&msg);
	wd_buf_free(&sum);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("commit_message");
	TCase *tc = tcase_create("message");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, openers_apologies_and_file_names_are_dropped);
	tcase_add_test(tc, a_trailer_left_after_dropped_chatter_is_dropped_too);
	tcase_add_test(tc, message_is_title_summary_ticket_then_trailers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
