/* The context builder: file listing, ticket-named and scoped files, AGENTS.md,
 * the byte budget, cuts, and the record of why each file was chosen. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	git_libgit2_init();
	strcpy(tmpl, "/tmp/wd-ctx-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	put("src/parse.c", "int parse_number(const char *s)\n{\n\treturn 0;\n}\n");
	put("src/calc.c", "#include \"calc.h\"\nint add(int a, int b) { return a + b; }\n");
	put("src/calc.h", "int add(int a, int b);\n");
	put("tests/test_calc.c", "int main(void) { return 0; }\n");
	put("tests/test_skip.c", "int skip;\n");
	put("README.md", "# demo\n");
	put(".git/config", "[core]\n");
	put("AGENTS.md", "Run make test before proposing.\n");
}

static void teardown(void)
{
	wd_rm_rf(tmpl);
	git_libgit2_shutdown();
}

START_TEST(listing_walks_the_tree_sorted_without_dot_git)
{
	wd_context *c = NULL;

	ck_assert_int_eq(wd_context_build(&c, tmpl, NULL, NULL), 0);
	ck_assert_str_eq(c->listing.ptr, "AGENTS.md\nREADME.md\nsrc/calc.c\nsrc/calc.h\nsrc/parse.c\n"
	                                 "tests/test_calc.c\ntests/test_skip.c\n");
	ck_assert_ptr_null(strstr(c->listing.ptr, ".git"));
	ck_assert_uint_eq(c->bytes, c->listing.len + c->agents.len + c->map.len + c->files.len);
	wd_context_free(c);
}
END_TEST

START_TEST(listing_uses_the_given_files_instead_of_walking)
{
	const char *files[] = { "src/parse.c", "README.md", NULL };
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_context *c = NULL;

	o.files = files;
	ck_assert_int_eq(wd_context_build(&c, tmpl, NULL, &o), 0);
	ck_assert_str_eq(c->listing.ptr, "README.md\nsrc/parse.c\n");
	/* AGENTS.md is not among the tracked files, so it is not read */
	ck_assert_uint_eq(c->agents.len, 0);
	wd_context_free(c);
}
END_TEST

START_TEST(files_named_in_the_ticket_are_included_with_their_reason)
{
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	json_t *w;

	ck_assert_int_eq(wd_ticket_new(&t, "parse_number rejects negatives",
	                                 "See src/parse.c, and calc.h."), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, NULL), 0);
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== src/parse.c ===\nint parse_number"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== src/calc.h ===\n"));
	ck_assert(wd_strvec_contains(&c->chosen, "src/parse.c"));
	ck_assert(wd_strvec_contains(&c->chosen, "src/calc.h"));
	/* calc.h names calc.h, not calc.c: calc.c may fill the budget by its
	 * words, never as a file the ticket names */
	if ((w = why_for(c, "src/calc.c")) != NULL)
		ck_assert_str_ne(json_string_value(json_object_get(w, "reason")), "named in the ticket");
	w = why_for(c, "src/parse.c");
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(json_string_value(json_object_get(w, "reason")), "named in the ticket");
	ck_assert_int_eq(json_integer_value(json_object_get(w, "bytes")),
	                 (json_int_t)strlen("int parse_number(const char *s)\n{\n\treturn 0;\n}\n"));
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(scope_globs_include_files_and_denials_exclude_them)
{
	wd_ticket *t = NULL;
	wd_context *c = NULL;

	ck_assert_int_eq(wd_ticket_new(&t, "fix the tests", ""), 0);
	ck_assert_int_eq(wd_ticket_add_scope(t, "tests/*.c"), 0);
	ck_assert_int_eq(wd_ticket_add_scope(t, "!tests/test_skip.c"), 0);
	ck_assert_int_eq(wd_ticket_add_scope(t, "src/parse.c:parse_number"), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, NULL), 0);
	ck_assert(wd_strvec_contains(&c->chosen, "tests/test_calc.c"));
	ck_assert(wd_strvec_contains(&c->chosen, "src/parse.c"));
	ck_assert(!wd_strvec_contains(&c->chosen, "tests/test_skip.c"));
	ck_assert(!wd_strvec_contains(&c->chosen, "src/calc.c"));
	ck_assert_str_eq(json_string_value(json_object_get(why_for(c, "tests/test_calc.c"), "reason")),
	                 "matches the ticket's scope");
	wd_ticket_free(t);
	wd_context_free(c);
}
END_TEST

START_TEST(agents_md_is_included_and_capped)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_context *c = NULL;
	wd_buf big = WD_BUF_INIT;

	ck_assert_int_eq(wd_context_build(&c, tmpl, NULL, NULL), 0);
	ck_assert_str_eq(c->agents.ptr, "Run make test before proposing.\n");
	ck_assert_ptr_nonnull(why_for(c, "AGENTS.md"));
	wd_context_free(c);

	for (int i = 0; i < 400; i++)
		ck_assert_int_eq(wd_buf_printf(&big, "rule %d: keep functions short and tests green\n", i), 0);
	put("AGENTS.md", big.ptr);
	o.budget_bytes = 16000;
	ck_assert_int_eq(wd_context_build(&c, tmpl, NULL, &o), 0);
	ck_assert_uint_le(c->agents.len, 16000 / 8 + 100);
	ck_assert_ptr_nonnull(strstr(c->agents.ptr, "[AGENTS.md cut at"));
	ck_assert_str_eq(json_string_value(json_object_get(why_for(c, "AGENTS.md"), "cut")), "capped");
	wd_context_free(c);
	wd_buf_free(&big);
}
END_TEST

START_TEST(large_files_are_cut_to_fit_the_budget_and_say_so)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	wd_buf big = WD_BUF_INIT;
	json_t *w;

	for (int i = 1; i <= 2000; i++)
		ck_assert_int_eq(wd_buf_printf(&big, "int value_%d = %d;\n", i, i), 0);
	put("src/big.c", big.ptr);
	ck_assert_int_eq(wd_ticket_new(&t, "big.c is wrong", ""), 0);
	o.budget_bytes = 8192;
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_uint_le(c->bytes, 8192);
	/* the map knows its definitions: the cut keeps whole ones, not a blind head and tail */
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== src/big.c (cut: "));
	ck_assert_msg(strstr(c->files.ptr, " best-ranked definitions of 2000 lines) ===") != NULL, "%.300s", c->files.ptr);
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "int value_1 = 1;\n"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "not shown] ..."));
	w = why_for(c, "src/big.c");
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(json_object_get(w, "cut"));
	ck_assert_int_lt(json_integer_value(json_object_get(w, "bytes")), (json_int_t)big.len);
	wd_context_free(c);
	wd_buf_free(&big);
	wd_ticket_free(t);
}
END_TEST

/* The context of the ticket "look at REL" over `files`, REL being made a
 * symbolic link to `target` first. */
static wd_context *context_through_link(const char *rel, const char *target,
                                        const char *const *files)
{
	wd_buf p = WD_BUF_INIT, title = WD_BUF_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;

	ck_assert_int_eq(wd_path_join(&p, tmpl, rel), 0);
	ck_assert_int_eq(symlink(target, p.ptr), 0);
	ck_assert_int_eq(wd_buf_printf(&title, "look at %s", rel), 0);
	o.files = files;
	ck_assert_int_eq(wd_ticket_new(&t, title.ptr, ""), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	wd_ticket_free(t);
	wd_buf_free(&title);
	wd_buf_free(&p);
	return c;
}

/* A link at `rel` to `target` is left out, for `reason`. */
static void assert_link_skipped(const char *rel, const char *target, const char *reason)
{
	const char *files[] = { rel, NULL };
	wd_context *c = context_through_link(rel, target, files);

	ck_assert_uint_eq(c->files.len, 0);
	ck_assert_str_eq(json_string_value(json_object_get(why_for(c, rel), "reason")), reason);
	wd_context_free(c);
}

START_TEST(a_symlink_out_of_the_tree_is_never_read)
{
	assert_link_skipped("src/passwd.c", "/etc/passwd", "skipped: outside the work tree");
}
END_TEST

/* A link inside the tree is not followed either: what it names is the
 * repository's (hostile) choice, as the model's file tools see it too. */
START_TEST(a_symlink_inside_the_tree_is_not_followed_either)
{
	const char *files[] = { "src/alias.c", "src/parse.c", NULL };
	wd_context *c = context_through_link("src/alias.c", "parse.c", files);

	ck_assert_ptr_null(strstr(c->files.ptr ? c->files.ptr : "", "=== src/alias.c"));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(why_for(c, "src/alias.c"),
	                                                               "reason")), "skipped"));
	ck_assert_str_eq(json_string_value(json_object_get(why_for(c, "src/alias.c"), "reason")),
	                 "skipped: a symbolic link (links are not followed)");
	wd_context_free(c);
}
END_TEST

/* A relative link that climbs out of the tree is said to lead outside, as
 * an absolute one is. */
START_TEST(a_relative_link_out_of_the_tree_is_said_to_lead_outside)
{
	assert_link_skipped("src/up.c", "../../x.c", "skipped: outside the work tree");
}
END_TEST

START_TEST(binary_files_are_skipped)
{
	wd_buf p = WD_BUF_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;

	ck_assert_int_eq(wd_path_join(&p, tmpl, "logo.png"), 0);
	ck_assert_int_eq(wd_file_write_atomic(p.ptr, "\x89PNG\0\0\0", 7, 0644), 0);
	ck_assert_int_eq(wd_ticket_new(&t, "logo.png looks bad", ""), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, NULL), 0);
	ck_assert(!wd_strvec_contains(&c->chosen, "logo.png"));
	ck_assert_str_eq(json_string_value(json_object_get(why_for(c, "logo.png"), "reason")),
	                 "skipped: binary");
	wd_context_free(c);
	wd_buf_free(&p);
	wd_ticket_free(t);
}
END_TEST

START_TEST(an_empty_file_is_included_not_skipped_as_binary)
{
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	json_t *w;

	put("src/empty.c", "");
	ck_assert_int_eq(wd_ticket_new(&t, "src/empty.c should define parse_all", ""), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, NULL), 0);
	ck_assert(wd_strvec_contains(&c->chosen, "src/empty.c"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== src/empty.c ===\n"));
	w = why_for(c, "src/empty.c");
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(json_string_value(json_object_get(w, "reason")), "named in the ticket");
	ck_assert_int_eq(json_integer_value(json_object_get(w, "bytes")), 0);
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(listing_is_cut_when_the_tree_is_larger_than_its_share)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_context *c = NULL;
	char name[64];

	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "gen/file_%03d.txt", i);
		put(name, "x\n");
	}
	o.budget_bytes = 4096;
	ck_assert_int_eq(wd_context_build(&c, tmpl, NULL, &o), 0);
	ck_assert_uint_le(c->listing.len, 4096 / 4 + 80);
	ck_assert_ptr_nonnull(strstr(c->listing.ptr, "more files (listing cut to fit the budget)"));
	ck_assert_uint_le(c->bytes, 4096);
	wd_context_free(c);
}
END_TEST

START_TEST(the_map_slice_is_ranked_toward_the_ticket)
{
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;

	ck_assert_int_eq(wd_ticket_new(&t, "add overflows",
	                                 "The function add returns garbage for large inputs."), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, NULL), 0);
	ck_assert_ptr_nonnull(strstr(c->map.ptr, "# repository map:"));
	ck_assert_ptr_nonnull(strstr(c->map.ptr, "estimated as bytes/4"));
	ck_assert_ptr_nonnull(strstr(c->map.ptr, "int add(int a, int b)"));
	/* the files defining the ticket's identifier come along, saying why */
	ck_assert(wd_strvec_contains(&c->chosen, "src/calc.c"));
	ck_assert_str_eq(json_string_value(json_object_get(why_for(c, "src/calc.c"), "reason")),
	                 "defines an identifier the ticket names");
	ck_assert_uint_eq(c->bytes, c->listing.len + c->agents.len + c->map.len + c->files.len);
	wd_context_free(c);

	o.flags = WD_CONTEXT_NO_MAP;
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_uint_eq(c->map.len, 0);
	ck_assert(!wd_strvec_contains(&c->chosen, "src/calc.c"));
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(a_large_file_is_cut_to_the_definitions_the_ticket_names)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	wd_buf big = WD_BUF_INIT;
	json_t *w;

	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(wd_buf_printf(&big, "int step_%03d(int x)\n{\n\treturn x + %d;\n}\n\n",
		                               i, i), 0);
	put("src/steps.c", big.ptr);
	ck_assert_int_eq(wd_ticket_new(&t, "step_150 is off by one", "See src/steps.c."), 0);
	o.budget_bytes = 12000;
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== src/steps.c (cut: 1 enclosing definition of "
	                                           "1500 lines) ===\n"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "int step_150(int x)\n{\n\treturn x + 150;\n}\n"));
	ck_assert_ptr_null(strstr(c->files.ptr, "step_149(int x)\n{"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "... [lines 1-750 not shown] ...\n"));
	w = why_for(c, "src/steps.c");
	ck_assert_str_eq(json_string_value(json_object_get(w, "reason")), "named in the ticket");
	ck_assert_str_eq(json_string_value(json_object_get(w, "cut")),
	                 "1 enclosing definition of 1500 lines");
	ck_assert_uint_le(c->bytes, 12000);
	wd_context_free(c);
	wd_buf_free(&big);
	wd_ticket_free(t);
}
END_TEST

START_TEST(the_total_never_exceeds_the_budget)
{
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	wd_buf big = WD_BUF_INIT, rules = WD_BUF_INIT;
	char name[64];

	for (int i = 0; i < 400; i++)
		ck_assert_int_eq(wd_buf_printf(&big, "int part_%03d(int x) { return x * %d; }\n", i, i), 0);
	put("src/big.c", big.ptr);
	put("src/big2.c", big.ptr);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(wd_buf_printf(&rules, "rule %d: be careful\n", i), 0);
	put("AGENTS.md", rules.ptr);
	for (int i = 0; i < 120; i++) {
		snprintf(name, sizeof(name), "gen/f%03d.c", i);
		put(name, "int x;\n");
	}
	ck_assert_int_eq(wd_ticket_new(&t, "part_200 in src/big.c and src/big2.c",
	                                 "Also parse_number in parse.c."), 0);
	ck_assert_int_eq(wd_ticket_add_scope(t, "src/*.c"), 0);
	for (size_t budget = 100; budget < 30000; budget = budget * 3 / 2 + 77) {
		wd_context_opts o = WD_CONTEXT_OPTS_INIT;
		size_t want = budget < 2048 ? 2048 : budget;

		o.budget_bytes = budget;
		ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
		ck_assert_msg(c->bytes <= want, "budget %zu: %zu bytes", want, c->bytes);
		ck_assert_uint_eq(c->bytes, c->listing.len + c->agents.len + c->map.len + c->files.len);
		wd_context_free(c);
	}
	wd_ticket_free(t);
	wd_buf_free(&big);
	wd_buf_free(&rules);
}
END_TEST

START_TEST(errors_missing_work_tree_and_bad_opts_version)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_context *c = (wd_context *)1;

	ck_assert_int_eq(wd_context_build(&c, "/nonexistent/wd-ctx", NULL, NULL), WD_ENOTFOUND);
	ck_assert_ptr_null(c);
	o.version = 99;
	ck_assert_int_eq(wd_context_build(&c, tmpl, NULL, &o), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "version"));
	wd_context_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("context");
	TCase *tc = tcase_create("build");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, listing_walks_the_tree_sorted_without_dot_git);
	tcase_add_test(tc, listing_uses_the_given_files_instead_of_walking);
	tcase_add_test(tc, files_named_in_the_ticket_are_included_with_their_reason);
	tcase_add_test(tc, scope_globs_include_files_and_denials_exclude_them);
	tcase_add_test(tc, agents_md_is_included_and_capped);
	tcase_add_test(tc, large_files_are_cut_to_fit_the_budget_and_say_so);
	tcase_add_test(tc, a_symlink_out_of_the_tree_is_never_read);
	tcase_add_test(tc, a_symlink_inside_the_tree_is_not_followed_either);
	tcase_add_test(tc, a_relative_link_out_of_the_tree_is_said_to_lead_outside);
	tcase_add_test(tc, binary_files_are_skipped);
	tcase_add_test(tc, an_empty_file_is_included_not_skipped_as_binary);
	tcase_add_test(tc, listing_is_cut_when_the_tree_is_larger_than_its_share);
	tcase_add_test(tc, the_map_slice_is_ranked_toward_the_ticket);
	tcase_add_test(tc, a_large_file_is_cut_to_the_definitions_the_ticket_names);
	tcase_add_test(tc, the_total_never_exceeds_the_budget);
	tcase_add_test(tc, errors_missing_work_tree_and_bad_opts_version);
	suite_add_tcase(s, tc);
	return fx_suite_main(s);
}
