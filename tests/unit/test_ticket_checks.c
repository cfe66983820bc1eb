/*
 * Issue 12, the ticket's side: header comments, an explicit id, a GitHub
 * issue's identity, and a reworded ticket keeping its identity.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "warden/error.h"
#include "warden/ticket.h"

static wd_ticket *parse_ok(const char *name, const char *text)
{
	wd_ticket *t = NULL;
	int rc = wd_ticket_parse(&t, name, text, strlen(text));

	ck_assert_msg(rc == 0, "parse failed: %s", wd_error_last());
	return t;
}

START_TEST(a_trailing_comment_is_not_part_of_the_value)
{
	wd_ticket *t = parse_ok("t.md", "---\nscope: src/*.c  # the parser, not the lexer\n"
	                                 "checks: make test # the whole suite\n"
	                                 "fail-to-pass: test_a, test_b\t# two of them\n"
	                                 "rounds: 2 # enough\n"
	                                 "checks: grep -q ' #x' f.txt  # quoted '#' stays\n"
	                                 "scope:\n  - lib/a#b.c\n  - lib/c.c # a list item too\n"
	                                 "---\n# T\n");

	ck_assert_uint_eq(t->scope.n, 3);
	ck_assert_str_eq(t->scope.v[0], "src/*.c");
	ck_assert_str_eq(t->scope.v[1], "lib/a#b.c"); /* no blank before '#': part of the name */
	ck_assert_str_eq(t->scope.v[2], "lib/c.c");
	ck_assert_uint_eq(t->checks.n, 2);
	ck_assert_str_eq(t->checks.v[0], "make test");
	ck_assert_str_eq(t->checks.v[1], "grep -q ' #x' f.txt");
	ck_assert_uint_eq(t->fail_to_pass.n, 2);
	ck_assert_str_eq(t->fail_to_pass.v[1], "test_b");
	ck_assert_int_eq(t->rounds, 2);
	wd_ticket_free(t);
}
END_TEST

START_TEST(an_explicit_id_is_the_identity)
{
	wd_ticket *a = parse_ok("a.md", "---\nid: PROJ-12  # from the tracker\n---\n# Fix it\nbody\n");
	wd_ticket *b = parse_ok("b.md", "---\nid: PROJ-12\nscope: x.c\n---\n# Please fix the thing\n");
	wd_ticket *c = parse_ok("c.json", "{\"id\": \"PROJ-12\", \"title\": \"Other\"}");
	wd_ticket *t = NULL;

	ck_assert_str_eq(a->identity, "id:PROJ-12");
	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_eq(a->id, c->id);
	ck_assert_uint_eq(strlen(a->id), 40);
	{
		const char *twice = "---\nid: a\nid: b\n---\n# T\n";

		ck_assert_int_eq(wd_ticket_parse(&t, "d.md", twice, strlen(twice)), WD_EINPUT);
	}
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "'id' is given twice"));
	wd_ticket_free(a);
	wd_ticket_free(b);
	wd_ticket_free(c);
}
END_TEST

START_TEST(a_github_issue_is_its_repository_and_number)
{
	wd_ticket *rest = parse_ok("i.json", "{\"id\": 99887766, \"number\": 7, \"title\": \"Crash\","
	                                     " \"body\": \"it crashes\", \"repository_url\": "
	                                     "\"https://api.github.com/repos/acme/tool\"}");
	wd_ticket *hook = parse_ok("h.json", "{\"action\": \"opened\", \"issue\": {\"number\": 7, "
	                                     "\"title\": \"Crash on start\", \"body\": null}, "
	                                     "\"repository\": {\"full_name\": \"acme/tool\"}}");

	ck_assert_str_eq(rest->identity, "github:acme/tool#7");
	ck_assert_str_eq(rest->id, hook->id); /* retitled, same issue */
	wd_ticket_free(rest);
	wd_ticket_free(hook);
}
END_TEST

START_TEST(a_reworded_body_keeps_the_identity)
{
	wd_ticket *a = parse_ok("a.md", "---\nscope: b.c, a.c\n---\n# Fix the parser\n\nFix it.\n");
	wd_ticket *b = parse_ok("b.md", "---\nscope: a.c,b.c\n---\n# fix the   parser!\n\nPlease fix "
	                                "it, thanks.\n");
	wd_ticket *c = parse_ok("c.md", "---\nscope: a.c\n---\n# Fix the parser\n\nFix it.\n");

	ck_assert_str_eq(a->identity, "title:fix-the-parser scope:a.c,b.c");
	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_ne(a->id, c->id); /* a different scope is a different ticket */
	wd_ticket_free(a);
	wd_ticket_free(b);
	wd_ticket_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ticket_checks");
	TCase *tc = tcase_create("header");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, a_trailing_comment_is_not_part_of_the_value);
	tcase_add_test(tc, an_explicit_id_is_the_identity);
	tcase_add_test(tc, a_github_issue_is_its_repository_and_number);
	tcase_add_test(tc, a_reworded_body_keeps_the_identity);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
