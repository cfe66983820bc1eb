/* The syntax gate (no new ERROR/MISSING nodes) and the symbol scope gate. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"

static const char BASE_C[] =
	"#include <stdlib.h>\n"                     /* 1 */
	"\n"                                        /* 2 */
	"static int helper(int x)\n"                /* 3 */
	"{\n"                                       /* 4 */
	"\treturn x * 2;\n"                         /* 5 */
	"}\n"                                       /* 6 */
	"\n"                                        /* 7 */
	"int parse_number(const char *s)\n"         /* 8 */
	"{\n"                                       /* 9 */
	"\tint v = atoi(s);\n"                      /* 10 */
	"\treturn helper(v);\n"                     /* 11 */
	"}\n";                                      /* 12 */

static int check_one(wd_buf *out, const char *path, const char *base, const char *patched)
{
	wd_syntax_file f = { path, base, base ? strlen(base) : 0, patched,
	                     patched ? strlen(patched) : 0 };

	return wd_syntax_check(out, &f, 1);
}

static char *replace(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	wd_buf b = WD_BUF_INIT;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(wd_buf_put(&b, text, (size_t)(p - text)), 0);
	ck_assert_int_eq(wd_buf_puts(&b, to), 0);
	ck_assert_int_eq(wd_buf_puts(&b, p + strlen(from)), 0);
	return wd_buf_detach(&b);
}

START_TEST(a_clean_patch_passes_the_syntax_gate)
{
	wd_buf out = WD_BUF_INIT;
	char *patched = replace(BASE_C, "x * 2", "x * 3");

	ck_assert_int_eq(check_one(&out, "src/parse.c", BASE_C, patched), 0);
	ck_assert_uint_eq(out.len, 0);
	free(patched);
	wd_buf_free(&out);
}
END_TEST

START_TEST(a_patch_adding_a_syntax_error_is_refused_with_its_location)
{
	wd_buf out = WD_BUF_INIT;
	char *patched = replace(BASE_C, "\tint v = atoi(s);\n", "\tint v = atoi(s)\n");

	ck_assert_int_eq(check_one(&out, "src/parse.c", BASE_C, patched), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(out.ptr, "src/parse.c:10:"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "missing ';'"));
	free(patched);
	wd_buf_clear(&out);

	patched = replace(BASE_C, "return helper(v);", "return helper(v));");
	ck_assert_int_eq(check_one(&out, "src/parse.c", BASE_C, patched), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(out.ptr, "src/parse.c:11:"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "syntax error"));
	free(patched);
	wd_buf_free(&out);
}
END_TEST

START_TEST(errors_already_in_the_base_do_not_block_a_patch)
{
	wd_buf out = WD_BUF_INIT;
	char *broken = replace(BASE_C, "return x * 2;", "return x * 2");
	char *patched = replace(broken, "atoi(s)", "(int)strtol(s, NULL, 10)");

	ck_assert_int_eq(check_one(&out, "src/parse.c", broken, patched), 0);
	ck_assert_uint_eq(out.len, 0);
	free(broken);
	free(patched);
	wd_buf_free(&out);
}
END_TEST

START_TEST(python_new_files_and_unknown_languages)
{
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(check_one(&out, "app.py", "def f(x):\n    return x\n",
	                           "def f(x:\n    return x\n"), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(out.ptr, "app.py:1:"));
	wd_buf_clear(&out);
	/* a new file is held to the same rule */
	ck_assert_int_eq(check_one(&out, "new.c", NULL, "int f( {\n"), WD_EREFUSED);
	wd_buf_clear(&out);
	ck_assert_int_eq(check_one(&out, "new.c", NULL, "int f(void) { return 0; }\n"), 0);
	/* no grammar, nothing to say; a deleted file is not parsed */
	ck_assert_int_eq(check_one(&out, "notes.txt", "a", "(((("), 0);
	ck_assert_int_eq(check_one(&out, "src/parse.c", BASE_C, NULL), 0);
	ck_assert_uint_eq(out.len, 0);
	wd_buf_free(&out);
}
END_TEST

START_TEST(the_tree_check_reads_both_sides_from_git)
{
	char dir[] = "/tmp/wd-syn-XXXXXX";
	git_repository *repo = NULL;
	git_index *idx = NULL;
	git_oid tree, now;
	wd_buf p = WD_BUF_INIT, out = WD_BUF_INIT;
	const char *paths[] = { "src/parse.c", "gone.c", NULL };
	char *patched = replace(BASE_C, "return helper(v);", "return helper(v;");

	git_libgit2_init();
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(git_repository_init(&repo, dir, 0), 0);
	ck_assert_int_eq(wd_buf_printf(&p, "%s/src", dir), 0);
	ck_assert_int_eq(wd_mkdir_p(p.ptr, 0), 0);
	ck_assert_int_eq(wd_buf_puts(&p, "/parse.c"), 0);
	ck_assert_int_eq(wd_file_write_atomic(p.ptr, BASE_C, strlen(BASE_C), 0644), 0);
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "src/parse.c"), 0);
	ck_assert_int_eq(git_index_write_tree(&tree, idx), 0);

	ck_assert_int_eq(wd_syntax_check_trees(&out, repo, &tree, &tree, paths), 0);
	ck_assert_int_eq(wd_file_write_atomic(p.ptr, patched, strlen(patched), 0644), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "src/parse.c"), 0);
	ck_assert_int_eq(git_index_write_tree(&now, idx), 0);
	ck_assert_int_eq(wd_syntax_check_trees(&out, repo, &tree, &now, paths), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(out.ptr, "src/parse.c:11:"));

	free(patched);
	git_index_free(idx);
	git_repository_free(repo);
	wd_rm_rf(dir);
	wd_buf_free(&p);
	wd_buf_free(&out);
	git_libgit2_shutdown();
}
END_TEST

static int scope_check(wd_buf *out, const char *path, const char *base, const char *patched,
                       const char *const *scope)
{
	return wd_symbol_scope_check(out, path, base, base ? strlen(base) : 0, patched,
	                             patched ? strlen(patched) : 0, scope);
}

static const char *const PARSE_SCOPE[] = { "src/parse.c:parse_number", NULL };

START_TEST(a_change_inside_the_scoped_definition_is_allowed)
{
	wd_buf out = WD_BUF_INIT;
	char *patched = replace(BASE_C, "\tint v = atoi(s);\n",
	                        "\tif (!s)\n\t\treturn -1;\n\tint v = atoi(s);\n");

	git_libgit2_init();
	ck_assert_int_eq(scope_check(&out, "src/parse.c", BASE_C, patched, PARSE_SCOPE), 0);
	ck_assert_uint_eq(out.len, 0);
	free(patched);
	wd_buf_free(&out);
	git_libgit2_shutdown();
}
END_TEST

START_TEST(a_change_outside_the_scoped_definition_is_refused_with_the_reason)
{
	wd_buf out = WD_BUF_INIT;
	char *patched = replace(BASE_C, "x * 2", "x * 4");

	git_libgit2_init();
	ck_assert_int_eq(scope_check(&out, "src/parse.c", BASE_C, patched, PARSE_SCOPE), WD_EREFUSED);
	ck_assert_str_eq(out.ptr, "src/parse.c:5: line 5 changed, outside parse_number, the only "
	                          "definitions the scope lets this patch change\n");
	free(patched);
	wd_buf_clear(&out);

	/* a new function after the scoped one is outside it too */
	patched = replace(BASE_C, "\treturn helper(v);\n}\n", "\treturn helper(v);\n}\nint extra;\n");
	ck_assert_int_eq(scope_check(&out, "src/parse.c", BASE_C, patched, PARSE_SCOPE), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(out.ptr, "src/parse.c:12: lines added after line 12"));
	free(patched);
	wd_buf_free(&out);
	git_libgit2_shutdown();
}
END_TEST

START_TEST(scope_rules_for_paths_globs_missing_symbols_and_new_files)
{
	const char *const whole[] = { "src/parse.c:parse_number", "src/parse.c", NULL };
	const char *const glob[] = { "src/*.c:helper", NULL };
	const char *const missing[] = { "src/parse.c:no_such_fn", NULL };
	wd_buf out = WD_BUF_INIT;
	char *patched = replace(BASE_C, "x * 2", "x * 4");

	git_libgit2_init();
	/* the whole file is in scope as well: anything goes */
	ck_assert_int_eq(scope_check(&out, "src/parse.c", BASE_C, patched, whole), 0);
	/* glob path with a symbol */
	ck_assert_int_eq(scope_check(&out, "src/parse.c", BASE_C, patched, glob), 0);
	/* files no symbol entry matches are not limited here */
	ck_assert_int_eq(scope_check(&out, "src/other.c", BASE_C, patched, PARSE_SCOPE), 0);
	ck_assert_uint_eq(out.len, 0);
	/* a symbol that does not exist: the change is outside, and the note says why */
	ck_assert_int_eq(scope_check(&out, "src/parse.c", BASE_C, patched, missing), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(out.ptr, "'no_such_fn', which is not defined in this file"));
	wd_buf_clear(&out);
	/* creating or deleting a symbol-scoped file */
	ck_assert_int_eq(scope_check(&out, "src/parse.c", NULL, BASE_C, PARSE_SCOPE), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(out.ptr, "creates the file"));
	wd_buf_clear(&out);
	ck_assert_int_eq(scope_check(&out, "src/parse.c", BASE_C, NULL, PARSE_SCOPE), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(out.ptr, "deletes the file"));
	free(patched);
	wd_buf_free(&out);
	git_libgit2_shutdown();
}
END_TEST

START_TEST(the_tree_scope_check_reads_both_sides_from_git)
{
	char dir[] = "/tmp/wd-scope-XXXXXX";
	git_repository *repo = NULL;
	git_index *idx = NULL;
	git_oid tree, now;
	wd_buf p = WD_BUF_INIT, out = WD_BUF_INIT;
	const char *paths[] = { "src/parse.c", NULL };
	char *inside = replace(BASE_C, "atoi(s)", "atoi(s) + 0");
	char *outside = replace(BASE_C, "x * 2", "x * 5");

	git_libgit2_init();
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(git_repository_init(&repo, dir, 0), 0);
	ck_assert_int_eq(wd_buf_printf(&p, "%s/src", dir), 0);
	ck_assert_int_eq(wd_mkdir_p(p.ptr, 0), 0);
	ck_assert_int_eq(wd_buf_puts(&p, "/parse.c"), 0);
	ck_assert_int_eq(wd_file_write_atomic(p.ptr, BASE_C, strlen(BASE_C), 0644), 0);
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "src/parse.c"), 0);
	ck_assert_int_eq(git_index_write_tree(&tree, idx), 0);

	ck_assert_int_eq(wd_file_write_atomic(p.ptr, inside, strlen(inside), 0644), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "src/parse.c"), 0);
	ck_assert_int_eq(git_index_write_tree(&now, idx), 0);
	ck_assert_int_eq(wd_symbol_scope_check_trees(&out, repo, &tree, &now, paths, PARSE_SCOPE), 0);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(wd_file_write_atomic(p.ptr, outside, strlen(outside), 0644), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "src/parse.c"), 0);
	ck_assert_int_eq(git_index_write_tree(&now, idx), 0);
	ck_assert_int_eq(wd_symbol_scope_check_trees(&out, repo, &tree, &now, paths, PARSE_SCOPE),
	                 WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(out.ptr, "src/parse.c:5: line 5 changed, outside parse_number"));

	free(inside);
	free(outside);
	git_index_free(idx);
	git_repository_free(repo);
	wd_rm_rf(dir);
	wd_buf_free(&p);
	wd_buf_free(&out);
	git_libgit2_shutdown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("context_syntax");
	TCase *gate = tcase_create("syntax_gate");
	TCase *scope = tcase_create("symbol_scope");
	SRunner *sr;
	int failures;

	tcase_add_test(gate, a_clean_patch_passes_the_syntax_gate);
	tcase_add_test(gate, a_patch_adding_a_syntax_error_is_refused_with_its_location);
	tcase_add_test(gate, errors_already_in_the_base_do_not_block_a_patch);
	tcase_add_test(gate, python_new_files_and_unknown_languages);
	tcase_add_test(gate, the_tree_check_reads_both_sides_from_git);
	tcase_add_test(scope, a_change_inside_the_scoped_definition_is_allowed);
	tcase_add_test(scope, a_change_outside_the_scoped_definition_is_refused_with_the_reason);
	tcase_add_test(scope, scope_rules_for_paths_globs_missing_symbols_and_new_files);
	tcase_add_test(scope, the_tree_scope_check_reads_both_sides_from_git);
	suite_add_tcase(s, gate);
	suite_add_tcase(s, scope);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
