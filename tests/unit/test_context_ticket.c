/* Context that follows the ticket: a function the ticket names deep inside a
 * long file is sent whole (even under another prefix), with its callers'
 * signatures; vendored code stays out of the listing and the files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ticket.h"

#include "fixture.h"
#include "../../src/context/context_int.h"

static char tmpl[64];

static void put(const char *rel, const char *text)
{
	ck_assert_int_eq(fx_put_file(tmpl, rel, text), 0);
}

static json_t *why_for(const wd_context *c, const char *path)
{
	return fx_context_why(c, path);
}

static void setup(void)
{
	wd_buf big = WD_BUF_INIT;

	git_libgit2_init();
	strcpy(tmpl, "/tmp/wd-ctxt-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	/* a long file: the function the ticket means sits in its middle */
	for (int i = 0; i < 300; i++)
		wd_buf_printf(&big, "static int helper_%03d(int v)\n{\n\tint x = v * %d;\n\n"
		              "\treturn x + %d;\n}\n\n", i, i, i);
	wd_buf_puts(&big, "int m_setbytes(char *dst, int n, int c)\n{\n"
	            "\tfor (int i = 0; i < n; i++)\n\t\tdst[i] = (char)c;\n\treturn n;\n}\n\n");
	for (int i = 300; i < 600; i++)
		wd_buf_printf(&big, "static int helper_%03d(int v)\n{\n\tint x = v * %d;\n\n"
		              "\treturn x + %d;\n}\n\n", i, i, i);
	put("src/mem.c", big.ptr);
	put("src/api.c", "int m_setbytes(char *dst, int n, int c);\n"
	                 "int api_fill(char *buf, int len)\n{\n\treturn m_setbytes(buf, len, 0);\n}\n"
	                 "int api_clear(char *buf)\n{\n\tint r = 0;\n\tr += m_setbytes(buf, 4, 0);\n"
	                 "\treturn r;\n}\n");
	put("deps/jemalloc/src/arena.c", "int arena_setbytes(void) { return 0; }\n"
	                                 "int m_setbytes_vendor(void) { return 1; }\n");
	put("deps/jemalloc/include/stdint.h", "typedef int int32_t;\n");
	put(".git/config", "[core]\n");
	wd_buf_free(&big);
}

static void teardown(void)
{
	wd_rm_rf(tmpl);
	git_libgit2_shutdown();
}

START_TEST(function_named_without_its_prefix_is_sent_whole)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	json_t *w;

	ck_assert_int_eq(wd_ticket_new(&t, "`setbytes` writes one byte too many",
	                                 "Calling setbytes() with n = 0 still writes dst[0]."), 0);
	o.budget_bytes = 24 * 1024;
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_uint_le(c->bytes, o.budget_bytes);
	/* the definition, whole, from the middle of a 4900-line file */
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "int m_setbytes(char *dst, int n, int c)\n{\n"
	                                           "\tfor (int i = 0; i < n; i++)\n"
	                                           "\t\tdst[i] = (char)c;\n\treturn n;\n}\n"));
	w = why_for(c, "src/mem.c");
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(w, "cut")),
	                             "enclosing definition"));
	ck_assert_ptr_null(strstr(c->files.ptr, "head and tail"));
	/* its callers' signatures */
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== callers of m_setbytes (their signatures) ===\n"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "src/api.c:2: int api_fill(char *buf, int len)\n"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "src/api.c:6: int api_clear(char *buf)\n"));
	/* the vendored near-namesakes are not pulled in */
	ck_assert_ptr_null(strstr(c->files.ptr, "=== deps/"));
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(control_a_plain_word_is_not_stretched_to_a_prefixed_name)
{
	/* "setbytes" in prose, not written as code, names nothing: no guessing */
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;

	ck_assert_int_eq(wd_ticket_new(&t, "the setbytes path is slow", ""), 0);
	o.budget_bytes = 24 * 1024;
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	/* src/mem.c may come by its words (setbytes is a part of m_setbytes),
	 * and says so; never as the definition the ticket names */
	if (why_for(c, "src/mem.c"))
		ck_assert_str_ne(json_string_value(json_object_get(why_for(c, "src/mem.c"), "reason")),
		                 "defines an identifier the ticket names");
	if (why_for(c, "src/api.c"))
		ck_assert_str_ne(json_string_value(json_object_get(why_for(c, "src/api.c"), "reason")),
		                 "calls an identifier the ticket names (signatures only)");
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(vendored_files_are_summed_up_not_listed_or_sent)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;

	/* arena_setbytes is defined only in vendored code */
	ck_assert_int_eq(wd_ticket_new(&t, "arena_setbytes returns 0", ""), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_ptr_null(strstr(c->listing.ptr, "deps/jemalloc/src/arena.c\n"));
	ck_assert_ptr_null(strstr(c->listing.ptr, "stdint.h"));
	ck_assert_ptr_nonnull(strstr(c->listing.ptr, "src/api.c\n"));
	ck_assert_ptr_nonnull(strstr(c->listing.ptr, "... and 2 vendored or generated files, not "
	                                             "listed"));
	ck_assert_ptr_nonnull(strstr(c->listing.ptr, "deps/jemalloc/"));
	ck_assert_ptr_null(why_for(c, "deps/jemalloc/src/arena.c"));
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(an_explicitly_named_vendored_file_is_still_sent)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;

	ck_assert_int_eq(wd_ticket_new(&t, "fix deps/jemalloc/src/arena.c", ""), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_ptr_nonnull(why_for(c, "deps/jemalloc/src/arena.c"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== deps/jemalloc/src/arena.c ===\n"));
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(map_exclude_globs_leave_files_out)
{
	const char *exclude[] = { "src/api.c", NULL };
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_context *c = NULL;

	o.exclude = exclude;
	ck_assert_int_eq(wd_context_build(&c, tmpl, NULL, &o), 0);
	ck_assert_ptr_null(strstr(c->listing.ptr, "src/api.c\n"));
	ck_assert_ptr_nonnull(strstr(c->listing.ptr, "src/mem.c\n"));
	ck_assert_ptr_nonnull(strstr(c->listing.ptr, "... and 3 vendored or generated files"));
	wd_context_free(c);
}
END_TEST

START_TEST(a_ticket_naming_nothing_gets_the_best_ranked_definitions_whole)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	json_t *w;

	ck_assert_int_eq(wd_ticket_new(&t, "fixed extra bracket", ""), 0);
	o.budget_bytes = 24 * 1024;
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_uint_le(c->bytes, o.budget_bytes);
	w = why_for(c, "src/mem.c");
	ck_assert_ptr_nonnull(w);
	/* no word of the ticket is in the code: the map's rank decides, and says so */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(w, "reason")),
	                             "words: none; ranked by the map"));
	/* too large to send whole: cut to whole definitions, never head and tail */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(w, "cut")),
	                             "definitions matching the ticket"));
	ck_assert_ptr_null(strstr(c->files.ptr, "head and tail"));
	ck_assert_ptr_nonnull(why_for(c, "src/api.c"));
	ck_assert_ptr_null(why_for(c, "deps/jemalloc/src/arena.c"));
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

static Suite *context_ticket_suite(void)
{
	Suite *s = suite_create("context_ticket");
	TCase *tc = tcase_create("ticket");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, function_named_without_its_prefix_is_sent_whole);
	tcase_add_test(tc, control_a_plain_word_is_not_stretched_to_a_prefixed_name);
	tcase_add_test(tc, vendored_files_are_summed_up_not_listed_or_sent);
	tcase_add_test(tc, an_explicitly_named_vendored_file_is_still_sent);
	tcase_add_test(tc, map_exclude_globs_leave_files_out);
	tcase_add_test(tc, a_ticket_naming_nothing_gets_the_best_ranked_definitions_whole);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fx_suite_main(context_ticket_suite());
}
