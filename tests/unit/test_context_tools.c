/* The model's read-only tools: results, confinement, bounds, loop detection, log. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "fixture.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/tools.h"

static char tree[64];

static void put(const char *rel, const char *text)
{
	ck_assert_int_eq(fx_put_file_new(tree, rel, text), 0);
}

static void setup(void)
{
	wd_buf p = WD_BUF_INIT;

	git_libgit2_init();
	strcpy(tree, "/tmp/wd-tools-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree));
	put("src/calc.c", "#include \"calc.h\"\n\nint calc_add(int a, int b)\n{\n\treturn a + b;\n}\n");
	put("src/calc.h", "int calc_add(int a, int b);\n");
	put("src/main.c", "#include \"calc.h\"\nint main(void)\n{\n\treturn calc_add(2, 2) - 4;\n}\n");
	put("docs/notes.txt", "calc_add adds\n");
	ck_assert_int_eq(wd_path_join(&p, tree, "src/secret.c"), 0);
	ck_assert_int_eq(symlink("/etc/hostname", p.ptr), 0);
	wd_buf_free(&p);
}

static void teardown(void)
{
	wd_rm_rf(tree);
	git_libgit2_shutdown();
}

static wd_tools *tools_with(size_t max_calls, size_t cap)
{
	wd_tools_opts o = WD_TOOLS_OPTS_INIT;
	wd_tools *t = NULL;

	o.max_calls = max_calls;
	o.max_result_bytes = cap;
	ck_assert_int_eq(wd_tools_new(&t, tree, &o), 0);
	return t;
}

static int call(wd_buf *out, wd_tools *t, const char *name, const char *args)
{
	wd_buf_clear(out);
	return wd_tools_call(out, t, name, args);
}

START_TEST(definitions_describe_five_tools_with_schemas_requiring_a_reason)
{
	json_t *d = wd_tools_definitions(), *tool;
	size_t i;

	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(json_array_size(d), 5);
	json_array_foreach(d, i, tool) {
		json_t *params = json_object_get(tool, "parameters");
		json_t *req = json_object_get(params, "required"), *r;
		size_t k;
		int has_reason = 0;

		ck_assert(json_is_string(json_object_get(tool, "name")));
		ck_assert(json_is_string(json_object_get(tool, "description")));
		ck_assert_str_eq(json_string_value(json_object_get(params, "type")), "object");
		json_array_foreach(req, k, r)
			has_reason |= !strcmp(json_string_value(r), "reason");
		ck_assert(has_reason);
	}
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(d, 2), "name")), "grep");
	json_decref(d);
}
END_TEST

START_TEST(list_and_read_show_the_tree_and_numbered_lines)
{
	wd_tools *t = tools_with(0, 0);
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(call(&out, t, "list_files", "{\"path\": \"src\", \"reason\": \"layout\"}"), 0);
	ck_assert_str_eq(out.ptr, "src/calc.c\nsrc/calc.h\nsrc/main.c\n(3 files)\n");
	ck_assert_int_eq(call(&out, t, "list_files", "{\"glob\": \"**/*.h\", \"reason\": \"headers\"}"), 0);
	ck_assert_str_eq(out.ptr, "src/calc.h\n(1 files)\n");
	ck_assert_int_eq(call(&out, t, "read_file",
	                      "{\"path\": \"src/calc.c\", \"start_line\": 3, \"end_line\": 4, "
	                      "\"reason\": \"see calc_add\"}"), 0);
	ck_assert_str_eq(out.ptr, "src/calc.c (6 lines)\n     3| int calc_add(int a, int b)\n     4| {\n");
	wd_buf_free(&out);
	wd_tools_free(t);
}
END_TEST

START_TEST(paths_outside_the_tree_are_refused)
{
	wd_tools *t = tools_with(0, 0);
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(call(&out, t, "read_file", "{\"path\": \"../etc/passwd\", \"reason\": \"x\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "refused: ../etc/passwd: '..' is not allowed"));
	ck_assert_int_eq(call(&out, t, "read_file", "{\"path\": \"/etc/passwd\", \"reason\": \"x\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "absolute paths are not allowed"));
	ck_assert_int_eq(call(&out, t, "read_file", "{\"path\": \".git/config\", \"reason\": \"x\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, ".git is not part of the work tree"));
	ck_assert_int_eq(call(&out, t, "read_file", "{\"path\": \"src/secret.c\", \"reason\": \"x\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "leads outside the repository"));
	ck_assert_int_eq(call(&out, t, "read_file", "{\"path\": \"src/none.c\", \"reason\": \"x\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "no such file"));
	ck_assert_int_eq(call(&out, t, "grep", "{\"pattern\": \"x\", \"path\": \"../\", \"reason\": \"x\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "refused"));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(wd_tools_log(t), 0), "status")),
	                 "refused");
	wd_buf_free(&out);
	wd_tools_free(t);
}
END_TEST

START_TEST(grep_matches_lines_with_a_bounded_regex)
{
	wd_tools *t = tools_with(0, 0);
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(call(&out, t, "grep", "{\"pattern\": \"calc_[a-z]+\\\\(\", \"path\": \"src\", "
	                                      "\"reason\": \"callers\"}"), 0);
	ck_assert_str_eq(out.ptr, "src/calc.c:3: int calc_add(int a, int b)\n"
	                          "src/calc.h:1: int calc_add(int a, int b);\n"
	                          "src/main.c:4: return calc_add(2, 2) - 4;\n");
	ck_assert_int_eq(call(&out, t, "grep", "{\"pattern\": \"CALC_ADD\", \"ignore_case\": true, "
	                                      "\"max_results\": 1, \"reason\": \"one\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "[stopped after 1 matching lines"));
	ck_assert_int_eq(call(&out, t, "grep", "{\"pattern\": \"a(b\", \"reason\": \"bad\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "refused: bad regular expression"));
	ck_assert_int_eq(call(&out, t, "grep", "{\"pattern\": \"zzqq\", \"reason\": \"none\"}"), 0);
	ck_assert_str_eq(out.ptr, "no matches\n");
	wd_buf_free(&out);
	wd_tools_free(t);
}
END_TEST

START_TEST(definitions_and_references_come_from_the_map)
{
	wd_tools *t = tools_with(0, 0);
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(call(&out, t, "find_definition", "{\"name\": \"calc_add\", \"reason\": \"d\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "src/calc.c:3-6: function: int calc_add(int a, int b)\n"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "src/calc.h:1-1: prototype: int calc_add(int a, int b);\n"));
	ck_assert_int_eq(call(&out, t, "find_references", "{\"name\": \"calc_add\", \"reason\": \"r\"}"), 0);
	ck_assert_str_eq(out.ptr, "1 file reference 'calc_add'\nsrc/main.c:4: return calc_add(2, 2) - 4;\n");
	/* a name the tree does not define (a library function) is found by scanning */
	ck_assert_int_eq(call(&out, t, "find_references", "{\"name\": \"main\", \"reason\": \"r\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "src/main.c:2: int main(void)"));
	ck_assert_int_eq(call(&out, t, "find_references", "{\"name\": \"printf\", \"reason\": \"r\"}"), 0);
	ck_assert_str_eq(out.ptr, "no references to 'printf' found\n");
	ck_assert_int_eq(call(&out, t, "find_definition", "{\"name\": \"nothing_here\", \"reason\": \"d\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "no definition of 'nothing_here'"));
	wd_buf_free(&out);
	wd_tools_free(t);
}
END_TEST

START_TEST(the_same_call_twice_is_refused_even_with_another_reason)
{
	wd_tools *t = tools_with(0, 0);
	wd_buf out = WD_BUF_INIT;
	const json_t *log;

	ck_assert_int_eq(call(&out, t, "read_file", "{\"path\": \"src/calc.h\", \"reason\": \"first\"}"), 0);
	ck_assert_int_eq(call(&out, t, "read_file", "{\"reason\": \"again\", \"path\": \"src/calc.h\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "already made this exact call (call 1)"));
	log = wd_tools_log(t);
	ck_assert_uint_eq(json_array_size(log), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(log, 0), "reason")), "first");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(log, 0), "status")), "ok");
	ck_assert_int_gt(json_integer_value(json_object_get(json_array_get(log, 0), "bytes")), 10);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(log, 1), "status")), "repeated");
	ck_assert_ptr_null(json_object_get(json_object_get(json_array_get(log, 1), "arguments"), "reason"));
	wd_buf_free(&out);
	wd_tools_free(t);
}
END_TEST

START_TEST(calls_are_bounded_per_run)
{
	wd_tools *t = tools_with(2, 0);
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(call(&out, t, "list_files", "{\"reason\": \"1\"}"), 0);
	ck_assert_uint_eq(wd_tools_calls_left(t), 1);
	ck_assert_int_eq(call(&out, t, "read_file", "{\"path\": \"src/calc.h\", \"reason\": \"2\"}"), 0);
	ck_assert_uint_eq(wd_tools_calls_left(t), 0);
	ck_assert_int_eq(call(&out, t, "grep", "{\"pattern\": \"a\", \"reason\": \"3\"}"), WD_EBUDGET);
	ck_assert_ptr_nonnull(strstr(out.ptr, "tool calls of this run are spent"));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(wd_tools_log(t), 2), "status")),
	                 "budget");
	wd_buf_free(&out);
	wd_tools_free(t);
}
END_TEST

START_TEST(results_are_capped_and_say_so)
{
	wd_tools *t;
	wd_buf out = WD_BUF_INIT, big = WD_BUF_INIT;

	for (int i = 0; i < 500; i++)
		ck_assert_int_eq(wd_buf_printf(&big, "int filler_%03d = %d;\n", i, i), 0);
	put("src/big.c", big.ptr);
	t = tools_with(0, 1024);
	ck_assert_int_eq(call(&out, t, "read_file", "{\"path\": \"src/big.c\", \"reason\": \"all\"}"), 0);
	ck_assert_uint_le(out.len, 1024 + 100);
	ck_assert_ptr_nonnull(strstr(out.ptr, "ask for start_line"));
	ck_assert_int_eq(call(&out, t, "grep", "{\"pattern\": \"filler\", \"max_results\": 200, "
	                                      "\"reason\": \"many\"}"), 0);
	ck_assert_uint_le(out.len, 1024 + 100);
	ck_assert_ptr_nonnull(strstr(out.ptr, "[result cut at 1024 bytes"));
	wd_buf_free(&out);
	wd_buf_free(&big);
	wd_tools_free(t);
}
END_TEST

START_TEST(unknown_tools_and_malformed_arguments_are_input_errors)
{
	wd_tools *t = tools_with(0, 0);
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(call(&out, t, "write_file", "{}"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(out.ptr, "there is no tool 'write_file'"));
	ck_assert_int_eq(call(&out, t, "read_file", "{not json"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(out.ptr, "wants a JSON object"));
	ck_assert_int_eq(call(&out, t, "read_file", "{\"reason\": \"no path\"}"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(out.ptr, "\"path\""));
	ck_assert_uint_eq(json_array_size(wd_tools_log(t)), 3);
	wd_buf_free(&out);
	wd_tools_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("context_tools");
	TCase *tc = tcase_create("tools");
	SRunner *sr;
	int failures;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, definitions_describe_five_tools_with_schemas_requiring_a_reason);
	tcase_add_test(tc, list_and_read_show_the_tree_and_numbered_lines);
	tcase_add_test(tc, paths_outside_the_tree_are_refused);
	tcase_add_test(tc, grep_matches_lines_with_a_bounded_regex);
	tcase_add_test(tc, definitions_and_references_come_from_the_map);
	tcase_add_test(tc, the_same_call_twice_is_refused_even_with_another_reason);
	tcase_add_test(tc, calls_are_bounded_per_run);
	tcase_add_test(tc, results_are_capped_and_say_so);
	tcase_add_test(tc, unknown_tools_and_malformed_arguments_are_input_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
