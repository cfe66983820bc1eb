/* `warden apply`: exit codes, --check, --json, stdin, against a real binary
 * ($WARDEN_BIN, set by `make check`). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "warden/buf.h"
#include "warden/fs.h"

static char dir[256];
static const char *BASE = "int f(void)\n{\n\treturn 0;\n}\n";
static const char *PATCH =
	"Here is the fix:\n```diff\n--- a/f.c\n+++ b/f.c\n@@ -1,4 +1,4 @@\n int f(void)\n {\n"
	"-\treturn 0;\n+\treturn 1;\n }\n```\n";

static const char *bin(void)
{
	const char *b = getenv("WARDEN_BIN");

	ck_assert_msg(b && *b, "set WARDEN_BIN to the warden binary (make check does)");
	return b;
}

static void put(const char *name, const char *content)
{
	wd_buf p = WD_BUF_INIT;

	ck_assert_int_eq(wd_path_join(&p, dir, name), 0);
	ck_assert_int_eq(wd_file_write_atomic(p.ptr, content, strlen(content), 0644), 0);
	wd_buf_free(&p);
}

static char *get(const char *name)
{
	wd_buf p = WD_BUF_INIT, c = WD_BUF_INIT;

	ck_assert_int_eq(wd_path_join(&p, dir, name), 0);
	ck_assert_int_eq(wd_file_read(&c, p.ptr, 0), 0);
	wd_buf_free(&p);
	return wd_buf_detach(&c);
}

static void setup(void)
{
	git_repository *repo;
	git_index *idx;
	git_oid tree_id, commit_id;
	git_tree *tree;
	git_signature *sig;

	git_libgit2_init();
	snprintf(dir, sizeof(dir), "/tmp/wd-test-apply-cli-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(git_repository_init(&repo, dir, 0), 0);
	put("f.c", BASE);
	put("fix.diff", PATCH);
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "f.c"), 0);
	ck_assert_int_eq(git_index_write_tree(&tree_id, idx), 0);
	ck_assert_int_eq(git_tree_lookup(&tree, repo, &tree_id), 0);
	ck_assert_int_eq(git_signature_new(&sig, "t", "t@example.com", 1700000000, 0), 0);
	ck_assert_int_eq(git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL, "base", tree, 0),
	                 0);
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(idx);
	git_repository_free(repo);
}

static void teardown(void)
{
	wd_rm_rf(dir);
	git_libgit2_shutdown();
}

/* Run `warden apply --repo DIR <args>` with `in` on stdin; stdout into *out. */
static int run_apply(wd_buf *out, const char *in, const char *args)
{
	wd_buf cmd = WD_BUF_INIT, inpath = WD_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;
	int st;

	if (in) {
		wd_path_join(&inpath, dir, "stdin.txt");
		ck_assert_int_eq(wd_file_write_atomic(inpath.ptr, in, strlen(in), 0644), 0);
	}
	wd_buf_printf(&cmd, "'%s' apply --repo '%s' %s <'%s' 2>/dev/null", bin(), dir, args,
	              in ? inpath.ptr : "/dev/null");
	f = popen(cmd.ptr, "r");
	ck_assert_ptr_nonnull(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (out)
			wd_buf_put(out, chunk, n);
	st = pclose(f);
	wd_buf_free(&cmd);
	wd_buf_free(&inpath);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(apply_exits_0_and_writes_the_fix)
{
	wd_buf args = WD_BUF_INIT;
	char *s;

	wd_buf_printf(&args, "'%s/fix.diff'", dir);
	ck_assert_int_eq(run_apply(NULL, NULL, args.ptr), 0);
	s = get("f.c");
	ck_assert_str_eq(s, "int f(void)\n{\n\treturn 1;\n}\n");
	free(s);
	wd_buf_free(&args);
}
END_TEST

START_TEST(apply_check_reports_and_writes_nothing)
{
	wd_buf args = WD_BUF_INIT;
	char *s;

	wd_buf_printf(&args, "--check '%s/fix.diff'", dir);
	ck_assert_int_eq(run_apply(NULL, NULL, args.ptr), 0);
	s = get("f.c");
	ck_assert_str_eq(s, BASE);
	free(s);
	wd_buf_free(&args);
}
END_TEST

START_TEST(apply_refusal_exits_1_with_json_reasons_and_no_change)
{
	wd_buf out = WD_BUF_INIT;
	json_t *j, *ref;
	char *s;

	put("f.c", "int f(void)\n{\n\treturn 1;\n}\n");
	ck_assert_int_eq(run_apply(&out, PATCH, "--json -"), 1);
	j = json_loads(out.ptr, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "refused");
	ref = json_array_get(json_object_get(j, "refusals"), 0);
	ck_assert(json_is_true(json_object_get(ref, "already_applied")));
	s = get("f.c");
	ck_assert_str_eq(s, "int f(void)\n{\n\treturn 1;\n}\n");
	free(s);
	json_decref(j);
	wd_buf_free(&out);
}
END_TEST

START_TEST(apply_out_of_scope_exits_1)
{
	char *s;

	ck_assert_int_eq(run_apply(NULL, PATCH, "--scope 'src/**' -"), 1);
	s = get("f.c");
	ck_assert_str_eq(s, BASE);
	free(s);
}
END_TEST

START_TEST(apply_bad_input_exits_2)
{
	wd_buf out = WD_BUF_INIT;
	json_t *j;

	ck_assert_int_eq(run_apply(NULL, "just prose, no edit\n", "-"), 2);
	ck_assert_int_eq(run_apply(NULL, NULL, "/nonexistent/patch.diff"), 2);
	ck_assert_int_eq(run_apply(NULL, NULL, "--bogus x"), 2);
	ck_assert_int_eq(run_apply(NULL, "```diff\n@@ -1 +1 @@\n-a\n+b\n```\n", "-"), 2);
	ck_assert_int_eq(run_apply(&out, "nothing\n", "--json -"), 2);
	j = json_loads(out.ptr, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "no_patch");
	json_decref(j);
	wd_buf_free(&out);
}
END_TEST

START_TEST(apply_help_exits_0)
{
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(run_apply(&out, NULL, "--help"), 0);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&out), "exit codes"));
	wd_buf_free(&out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("patch_cli");
	TCase *tc = tcase_create("apply");
	SRunner *sr;
	int failures;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, apply_exits_0_and_writes_the_fix);
	tcase_add_test(tc, apply_check_reports_and_writes_nothing);
	tcase_add_test(tc, apply_refusal_exits_1_with_json_reasons_and_no_change);
	tcase_add_test(tc, apply_out_of_scope_exits_1);
	tcase_add_test(tc, apply_bad_input_exits_2);
	tcase_add_test(tc, apply_help_exits_0);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
