/* Hostile input, second sweep (issue 16): each test is the attack as it was
 * found, asserting that warden ends, refuses or says why. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/patch.h"
#include "warden/ticket.h"

/* --- glob matching ------------------------------------------------------- */

/* "**a" eight times then "**b" against a 60-character path took 57 s with the
 * recursive matcher (nine repeats: over 200 s); the test's timeout catches
 * a relapse. */
START_TEST(scope_glob_with_many_double_stars_ends)
{
	char pat[128] = "", path[128];
	const char *scope[] = { pat, NULL };

	for (int i = 0; i < 12; i++)
		strcat(pat, "**a");
	strcat(pat, "**b");
	memset(path, 'a', 60);
	path[60] = '\0';
	ck_assert(!wd_patch_path_in_scope(path, scope));
	path[59] = 'b';
	ck_assert(wd_patch_path_in_scope(path, scope));
}
END_TEST

/* --- scope of exclusions only -------------------------------------------- */

START_TEST(scope_of_exclusions_only_allows_nothing)
{
	const char *const bang[] = { "!", NULL };
	const char *const not_vendor[] = { "!vendor/**", NULL };

	ck_assert(!wd_patch_path_in_scope("anything/evil.mk", bang));
	ck_assert(!wd_patch_path_in_scope("anything.c", not_vendor));
}
END_TEST

START_TEST(ticket_scope_of_exclusions_only_is_an_error)
{
	static const char md[] = "---\nscope: !\n---\n# Fix it\n\nbody\n";
	static const char js[] = "{\"title\": \"Fix it\", \"scope\": [\"!vendor/**\"]}";
	static const char ok[] = "---\nscope: src/**, !src/gen/**\n---\n# Fix it\n\nbody\n";
	wd_ticket *t = NULL;

	ck_assert_int_eq(wd_ticket_parse(&t, "t.md", md, strlen(md)), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "scope"));
	ck_assert_int_eq(wd_ticket_parse(&t, "t.json", js, strlen(js)), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "only exclusions"));
	ck_assert_int_eq(wd_ticket_parse(&t, "t.md", ok, strlen(ok)), 0);
	wd_ticket_free(t);
}
END_TEST

/* --- JSON tickets that are not objects ---------------------------------- */

START_TEST(json_array_ticket_is_told_it_is_an_array)
{
	static const char one[] = "[{\"title\": \"From gh\", \"body\": \"b\"}]";
	wd_ticket *t = NULL;
	char *deep = malloc(20001);

	ck_assert_int_eq(wd_ticket_parse(&t, "t.json", "[]", 2), WD_EINPUT);
	ck_assert_ptr_null(strstr(wd_error_last(), "Title' heading"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "array of 0 items"));

	memset(deep, '[', 20000);
	deep[20000] = '\0';
	ck_assert_int_eq(wd_ticket_parse(&t, "t.json", deep, 20000), WD_EINPUT);
	ck_assert_ptr_null(strstr(wd_error_last(), "Title' heading"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "JSON"));
	free(deep);

	ck_assert_int_eq(wd_ticket_parse(&t, "t.json", one, strlen(one)), 0);
	ck_assert_str_eq(t->title, "From gh");
	wd_ticket_free(t);

	/* a Markdown line that opens with '[' is still Markdown */
	ck_assert_int_eq(wd_ticket_parse(&t, "t.md", "[WIP]\n# Title\n\nx\n", 16), 0);
	ck_assert_str_eq(t->title, "Title");
	wd_ticket_free(t);
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *glob = tcase_create("glob");
	TCase *ticket = tcase_create("ticket");

	tcase_add_test(glob, scope_glob_with_many_double_stars_ends);
	tcase_add_test(glob, scope_of_exclusions_only_allows_nothing);
	suite_add_tcase(s, glob);

	tcase_add_test(ticket, ticket_scope_of_exclusions_only_is_an_error);
	tcase_add_test(ticket, json_array_ticket_is_told_it_is_an_array);
	suite_add_tcase(s, ticket);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hostile_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
