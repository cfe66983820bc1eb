/* The patch engine: parsing, scope, policy, strict and tolerant application,
 * all-or-nothing writes and the refusal diagnostics. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "fixture.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/patch.h"

/* --- fixture: a small committed repository in a temp dir ---------------- */

static char tmpdir[256];
static git_repository *repo;

static const char *MAIN_C =
	"#include <stdio.h>\n"
	"\n"
	"static int add(int a, int b)\n"
	"{\n"
	"\treturn a - b;\n"
	"}\n"
	"\n"
	"static int mul(int a, int b)\n"
	"{\n"
	"\treturn a * b;\n"
	"}\n"
	"\n"
	"int main(void)\n"
	"{\n"
	"\tprintf(\"%d\\n\", add(2, 3));\n"
	"\tprintf(\"%d\\n\", mul(2, 3));\n"
	"\treturn 0;\n"
	"}\n";

static const char *UTIL_C =
	"int one(void)\n"
	"{\n"
	"\treturn 1;\n"
	"}\n"
	"\n"
	"int two(void)\n"
	"{\n"
	"\treturn 2;\n"
	"}\n";

static void put_file(const char *rel, const char *content)
{
	ck_assert_int_eq(fx_put_file(tmpdir, rel, content), 0);
}

static char *get_file(const char *rel)
{
	return fx_get_file(tmpdir, rel);
}

static int file_exists(const char *rel)
{
	wd_buf p = WD_BUF_INIT;
	int e;

	wd_path_join(&p, tmpdir, rel);
	e = wd_path_exists(p.ptr);
	wd_buf_free(&p);
	return e;
}

static void commit_all(void)
{
	ck_assert_int_eq(fx_repo_commit_all(repo, "base"), 0);
}

static void setup(void)
{
	git_libgit2_init();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wd-test-patch-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(git_repository_init(&repo, tmpdir, 0), 0);
	put_file("src/main.c", MAIN_C);
	put_file("src/util.c", UTIL_C);
	put_file("README", "hello\n");
	commit_all();
}

static void teardown(void)
{
	git_repository_free(repo);
	repo = NULL;
	wd_rm_rf(tmpdir);
	git_libgit2_shutdown();
}

/* parse + apply; returns the apply code, report in *r */
static int apply_text(wd_patch_report *r, const char *text, const wd_patch_policy *pol,
                      unsigned flags)
{
	wd_patch *p = NULL;
	int rc = wd_patch_parse(&p, text, strlen(text));

	ck_assert_msg(rc == 0, "parse failed: %s", wd_error_last());
	rc = wd_patch_apply(r, repo, p, pol, flags);
	wd_patch_free(p);
	return rc;
}

static void assert_file(const char *rel, const char *want)
{
	char *got = get_file(rel);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

/* The content `path` has in tree `oid`. */
static char *tree_file(const git_oid *oid, const char *path)
{
	git_tree *t;
	git_tree_entry *e;
	git_blob *b;
	char *s;

	ck_assert_int_eq(git_tree_lookup(&t, repo, oid), 0);
	if (git_tree_entry_bypath(&e, t, path) != 0) {
		git_tree_free(t);
		return NULL;
	}
	ck_assert_int_eq(git_blob_lookup(&b, repo, git_tree_entry_id(e)), 0);
	s = strndup(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	git_blob_free(b);
	git_tree_entry_free(e);
	git_tree_free(t);
	return s;
}

static char *replace_once(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	wd_buf b = WD_BUF_INIT;

	ck_assert_ptr_nonnull(at);
	wd_buf_put(&b, s, (size_t)(at - s));
	wd_buf_puts(&b, to);
	wd_buf_puts(&b, at + strlen(from));
	return wd_buf_detach(&b);
}

static const char *FIX_ADD =
	"--- a/src/main.c\n"
	"+++ b/src/main.c\n"
	"@@ -2,5 +2,5 @@\n"
	" \n"
	" static int add(int a, int b)\n"
	" {\n"
	"-\treturn a - b;\n"
	"+\treturn a + b;\n"
	" }\n";

/* --- parsing ------------------------------------------------------------- */

START_TEST(parse_bare_diff_finds_one_file_without_prefix)
{
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, FIX_ADD, strlen(FIX_ADD)), 0);
	ck_assert_uint_eq(wd_patch_file_count(p), 1);
	ck_assert_str_eq(wd_patch_file_path(p, 0), "src/main.c");
	ck_assert_ptr_null(wd_patch_file_path(p, 1));
	ck_assert_uint_eq(strlen(wd_patch_hash(p)), 40);
	wd_patch_free(p);
}
END_TEST

START_TEST(parse_fenced_diff_in_prose_has_same_hash_as_bare)
{
	wd_patch *a = NULL, *b = NULL;
	wd_buf reply = WD_BUF_INIT;

	wd_buf_printf(&reply, "The bug is in add().\n\n```diff\n%s```\n\nThis fixes it.\n", FIX_ADD);
	ck_assert_int_eq(wd_patch_parse(&a, FIX_ADD, strlen(FIX_ADD)), 0);
	ck_assert_int_eq(wd_patch_parse(&b, reply.ptr, reply.len), 0);
	ck_assert_uint_eq(wd_patch_file_count(b), 1);
	ck_assert_str_eq(wd_patch_hash(a), wd_patch_hash(b));
	wd_patch_free(a);
	wd_patch_free(b);
	wd_buf_free(&reply);
}
END_TEST

START_TEST(parse_git_style_headers_new_deleted_renamed)
{
	const char *t =
		"diff --git a/src/new.c b/src/new.c\n"
		"new file mode 100644\n"
		"index 0000000..1111111\n"
		"--- /dev/null\n"
		"+++ b/src/new.c\n"
		"@@ -0,0 +1,2 @@\n"
		"+int n;\n"
		"+int m;\n"
		"diff --git a/README b/README\n"
		"deleted file mode 100644\n"
		"index 2222222..0000000\n"
		"--- a/README\n"
		"+++ /dev/null\n"
		"@@ -1 +0,0 @@\n"
		"-hello\n"
		"diff --git a/src/util.c b/src/helpers.c\n"
		"similarity index 100%\n"
		"rename from src/util.c\n"
		"rename to src/helpers.c\n";
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, t, strlen(t)), 0);
	ck_assert_uint_eq(wd_patch_file_count(p), 3);
	ck_assert_str_eq(wd_patch_file_path(p, 0), "src/new.c");
	ck_assert_str_eq(wd_patch_file_path(p, 1), "README");
	ck_assert_str_eq(wd_patch_file_path(p, 2), "src/helpers.c");
	wd_patch_free(p);
}
END_TEST

START_TEST(parse_reply_without_edit_is_notfound)
{
	const char *t = "I looked at the code and everything seems fine.\n- nothing to do\n";
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, t, strlen(t)), WD_ENOTFOUND);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(wd_patch_parse(&p, "", 0), WD_ENOTFOUND);
}
END_TEST

START_TEST(parse_hunk_without_file_header_is_input_error)
{
	const char *t = "```diff\n@@ -1,2 +1,2 @@\n-a\n+b\n```\n";
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, t, strlen(t)), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "file header"));
}
END_TEST

START_TEST(parse_search_replace_blocks_with_paths)
{
	const char *t =
		"Change both:\n\n"
		"src/main.c\n"
		"```c\n"
		"<<<<<<< SEARCH\n"
		"\treturn a - b;\n"
		"=======\n"
		"\treturn a + b;\n"
		">>>>>>> REPLACE\n"
		"```\n\n"
		"**`src/util.c`**\n"
		"```\n"
		"<<<<<<< SEARCH\n"
		"\treturn 2;\n"
		"=======\n"
		"\treturn 3;\n"
		">>>>>>> REPLACE\n"
		"<<<<<<< SEARCH\n"
		"\treturn 1;\n"
		"=======\n"
		"\treturn 11;\n"
		">>>>>>> REPLACE\n"
		"```\n";
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, t, strlen(t)), 0);
	ck_assert_uint_eq(wd_patch_file_count(p), 2);
	ck_assert_str_eq(wd_patch_file_path(p, 0), "src/main.c");
	ck_assert_str_eq(wd_patch_file_path(p, 1), "src/util.c");
	wd_patch_free(p);
}
END_TEST

START_TEST(parse_search_block_path_from_a_prose_line)
{
	const char *ok = "Change `src/main.c` like this:\n```c\n<<<<<<< SEARCH\na\n=======\nb\n"
	                 ">>>>>>> REPLACE\n```\n";
	const char *two = "Move it from src/a.c to src/b.c:\n<<<<<<< SEARCH\na\n=======\nb\n"
	                  ">>>>>>> REPLACE\n";
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, ok, strlen(ok)), 0);
	ck_assert_str_eq(wd_patch_file_path(p, 0), "src/main.c");
	wd_patch_free(p);
	p = NULL;
	ck_assert_int_eq(wd_patch_parse(&p, two, strlen(two)), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "file path"));
}
END_TEST

START_TEST(parse_search_block_without_replace_is_input_error)
{
	const char *t = "src/main.c\n<<<<<<< SEARCH\nfoo\n=======\nbar\n";
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, t, strlen(t)), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "REPLACE"));
}
END_TEST


START_TEST(parse_gnu_timestamps_and_dot_slash_paths)
{
	const char *t =
		"--- ./src/main.c.orig\t2024-01-01 10:00:00.000000000 +0000\n"
		"+++ ./src/main.c\t2024-01-01 10:01:00.000000000 +0000\n"
		"@@ -5 +5 @@\n"
		"-\treturn a - b;\n"
		"+\treturn a + b;\n";
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, t, strlen(t)), 0);
	ck_assert_uint_eq(wd_patch_file_count(p), 1);
	ck_assert_str_eq(wd_patch_file_path(p, 0), "src/main.c");
	wd_patch_free(p);
}
END_TEST

START_TEST(parse_quoted_git_paths_and_crlf_reply)
{
	const char *t =
		"diff --git \"a/sp ace.c\" \"b/sp ace.c\"\r\n"
		"--- \"a/sp ace.c\"\r\n"
		"+++ \"b/sp ace.c\"\r\n"
		"@@ -1 +1 @@\r\n"
		"-x\r\n"
		"+y\r\n";
	wd_patch *p = NULL;

	const char *oct = "--- \"a/\\303\\244.c\"\n+++ \"b/\\303\\244.c\"\n@@ -1 +1 @@\n-x\n+y\n";
	const char *bad = "--- \"a/\\3-9.c\"\n+++ \"b/\\3-9.c\"\n@@ -1 +1 @@\n-x\n+y\n";

	ck_assert_int_eq(wd_patch_parse(&p, t, strlen(t)), 0);
	ck_assert_str_eq(wd_patch_file_path(p, 0), "sp ace.c");
	wd_patch_free(p);
	ck_assert_int_eq(wd_patch_parse(&p, oct, strlen(oct)), 0);
	ck_assert_str_eq(wd_patch_file_path(p, 0), "\303\244.c");
	wd_patch_free(p);
	/* a broken octal escape is kept as text, not decoded into garbage */
	ck_assert_int_eq(wd_patch_parse(&p, bad, strlen(bad)), 0);
	ck_assert_str_eq(wd_patch_file_path(p, 0), "3-9.c");
	wd_patch_free(p);
}
END_TEST

START_TEST(apply_wrong_counts_with_unprefixed_blank_context)
{
	/* the blank context line lost its leading space, and the counts lie */
	const char *t =
		"--- a/src/main.c\n"
		"+++ b/src/main.c\n"
		"@@ -5,2 +5,1 @@\n"
		"-\treturn a - b;\n"
		"+\treturn a + b;\n"
		" }\n"
		"\n"
		" static int mul(int a, int b)\n";
	wd_patch_report r;
	char *want = replace_once(MAIN_C, "a - b", "a + b");

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("src/main.c", want);
	free(want);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_counts_too_small_never_drop_the_hunk_tail)
{
	/* the header claims one line each; the blank line and the second change
	 * still belong to the hunk and must not be silently dropped */
	const char *t =
		"--- a/t.txt\n"
		"+++ b/t.txt\n"
		"@@ -1,1 +1,1 @@\n"
		"-a\n"
		"+b\n"
		"\n"
		"-c\n"
		"+d\n";
	wd_patch_report r;

	put_file("t.txt", "a\n\nc\n");
	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("t.txt", "b\n\nd\n");
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_stale_edge_context_by_trimming)
{
	/* the model's first context line is out of date; the rest matches */
	const char *t =
		"--- a/src/main.c\n"
		"+++ b/src/main.c\n"
		"@@ -3,4 +3,4 @@\n"
		" static long add(long a, long b)\n"
		" {\n"
		"-\treturn a - b;\n"
		"+\treturn a + b;\n"
		" }\n";
	wd_patch_report r;
	char *want = replace_once(MAIN_C, "a - b", "a + b");

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("src/main.c", want);
	ck_assert_str_eq(json_string_value(json_object_get(
		json_array_get(json_object_get(r.json, "files"), 0), "match")), "trimmed_context");
	free(want);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_drift_of_earlier_hunk_places_repeated_later_hunk)
{
	/* both hunks are off by 10; the second one's text occurs twice, and the
	 * drift learnt from the first (unique) hunk picks the right copy */
	const char *body =
		"int a;\nint b;\nint c;\nint d;\n"
		"void x(void)\n{\n\tfoo();\n}\n"
		"void y(void)\n{\n\tfoo();\n}\n";
	const char *t =
		"--- a/rep.c\n"
		"+++ b/rep.c\n"
		"@@ -12,3 +12,3 @@\n"
		" int b;\n"
		"-int c;\n"
		"+long c;\n"
		" int d;\n"
		"@@ -20,3 +20,3 @@\n"
		" {\n"
		"-\tfoo();\n"
		"+\tbar();\n"
		" }\n";
	wd_patch_report r;

	put_file("rep.c", body);
	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("rep.c", "int a;\nint b;\nlong c;\nint d;\n"
	                     "void x(void)\n{\n\tfoo();\n}\n"
	                     "void y(void)\n{\n\tbar();\n}\n");
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_function_name_after_header_breaks_a_tie)
{
	/* the same lines in f and g, the header's line is wrong, but git's
	 * "@@ ... @@ int g(void)" names the function the hunk is in */
	const char *fn = "{\n\tint x = 0;\n\tx++;\n\treturn x;\n}\n";
	const char *t =
		"--- a/amb.c\n"
		"+++ b/amb.c\n"
		"@@ -30,5 +30,5 @@ int g(void)\n"
		" {\n"
		" \tint x = 0;\n"
		" \tx++;\n"
		"-\treturn x;\n"
		"+\treturn x + 1;\n"
		" }\n";
	const char *trimmed =
		"--- a/amb.c\n"
		"+++ b/amb.c\n"
		"@@ -30,3 +30,3 @@ int g(void)\n"
		" \tx++;\n"
		"-\treturn x;\n"
		"+\treturn x + 1;\n"
		" }\n";
	wd_buf body = WD_BUF_INIT, want = WD_BUF_INIT;
	wd_patch_report r;

	wd_buf_printf(&body, "int f(void)\n%s\nint g(void)\n%s", fn, fn);
	wd_buf_printf(&want, "int f(void)\n%s\nint g(void)\n{\n\tint x = 0;\n\tx++;\n"
	              "\treturn x + 1;\n}\n", fn);
	put_file("amb.c", body.ptr);
	/* with less than git's three leading lines the name is not evidence */
	ck_assert_int_eq(apply_text(&r, trimmed, NULL, 0), WD_EREFUSED);
	wd_patch_report_free(&r);
	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("amb.c", want.ptr);
	wd_patch_report_free(&r);
	wd_buf_free(&body);
	wd_buf_free(&want);
}
END_TEST

START_TEST(apply_hunk_order_places_repeated_blocks)
{
	/* three identical blocks, three bare hunks: in file order there is only
	 * one way to place them */
	const char *block = "\tif (x)\n\t\treturn -1;\n\tcall();\n";
	const char *t =
		"--- a/rep.c\n"
		"+++ b/rep.c\n"
		"@@ @@\n"
		" \tif (x)\n"
		"-\t\treturn -1;\n"
		"+\t\treturn -2;\n"
		" \tcall();\n"
		"@@ @@\n"
		" \tif (x)\n"
		"-\t\treturn -1;\n"
		"+\t\treturn -3;\n"
		" \tcall();\n"
		"@@ @@\n"
		" \tif (x)\n"
		"-\t\treturn -1;\n"
		"+\t\treturn -4;\n"
		" \tcall();\n";
	wd_buf body = WD_BUF_INIT;
	wd_patch_report r;

	for (int i = 0; i < 3; i++)
		wd_buf_printf(&body, "void f%d(void)\n{\n%s}\n", i, block);
	put_file("rep.c", body.ptr);
	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("rep.c", "void f0(void)\n{\n\tif (x)\n\t\treturn -2;\n\tcall();\n}\n"
	                     "void f1(void)\n{\n\tif (x)\n\t\treturn -3;\n\tcall();\n}\n"
	                     "void f2(void)\n{\n\tif (x)\n\t\treturn -4;\n\tcall();\n}\n");
	wd_patch_report_free(&r);
	wd_buf_free(&body);
}
END_TEST

START_TEST(apply_two_sections_for_one_file_apply_in_order)
{
	const char *t =
		"--- a/src/util.c\n"
		"+++ b/src/util.c\n"
		"@@ -1,4 +1,4 @@\n"
		" int one(void)\n"
		" {\n"
		"-\treturn 1;\n"
		"+\treturn 10;\n"
		" }\n"
		"Then the second function:\n"
		"--- a/src/util.c\n"
		"+++ b/src/util.c\n"
		"@@ -6,4 +6,4 @@\n"
		" int two(void)\n"
		" {\n"
		"-\treturn 2;\n"
		"+\treturn 20;\n"
		" }\n";
	wd_patch_report r;
	char *w1 = replace_once(UTIL_C, "return 1;", "return 10;");
	char *want = replace_once(w1, "return 2;", "return 20;");

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("src/util.c", want);
	free(w1);
	free(want);
	wd_patch_report_free(&r);
}
END_TEST

/* --- scope --------------------------------------------------------------- */

START_TEST(scope_globs_allow_deny_and_double_star)
{
	const char *const s1[] = { "src/**", "!src/secret/**", "!**/*.key", NULL };
	const char *const s2[] = { "src/*.c", "docs/", "lib", "include/foo.h:foo_init", NULL };
	const char *const s3[] = { "**", "!vendor/**", NULL };
	const char *const s4[] = { "src/**/test_*.c", NULL };

	ck_assert(wd_patch_path_in_scope("src/a.c", s1));
	ck_assert(wd_patch_path_in_scope("src/x/y/z.c", s1));
	ck_assert(!wd_patch_path_in_scope("src/secret/k.c", s1));
	ck_assert(!wd_patch_path_in_scope("src/x/id.key", s1));
	ck_assert(!wd_patch_path_in_scope("README", s1));

	ck_assert(wd_patch_path_in_scope("src/a.c", s2));
	ck_assert(!wd_patch_path_in_scope("src/x/a.c", s2));
	ck_assert(wd_patch_path_in_scope("docs/a/b.md", s2));
	ck_assert(wd_patch_path_in_scope("lib/x.c", s2));
	ck_assert(!wd_patch_path_in_scope("library.c", s2));
	ck_assert(wd_patch_path_in_scope("include/foo.h", s2));
	ck_assert(!wd_patch_path_in_scope("include/bar.h", s2));

	ck_assert(wd_patch_path_in_scope("anything.c", s3));
	ck_assert(!wd_patch_path_in_scope("vendor/x.c", s3));

	ck_assert(wd_patch_path_in_scope("src/test_a.c", s4));
	ck_assert(wd_patch_path_in_scope("src/t/u/test_a.c", s4));
	ck_assert(!wd_patch_path_in_scope("src/t/a.c", s4));

	ck_assert(wd_patch_path_in_scope("x/y", NULL));
}
END_TEST

/* --- strict application -------------------------------------------------- */

START_TEST(apply_clean_diff_writes_file_and_tree)
{
	wd_patch_report r;
	char *want = replace_once(MAIN_C, "a - b", "a + b"), *in_tree;

	ck_assert_int_eq(apply_text(&r, FIX_ADD, NULL, 0), 0);
	ck_assert_int_eq(r.applied, 1);
	ck_assert_uint_eq(r.files.n, 1);
	ck_assert_str_eq(r.files.v[0], "src/main.c");
	assert_file("src/main.c", want);
	in_tree = tree_file(&r.tree, "src/main.c");
	ck_assert_str_eq(in_tree, want);
	free(in_tree);
	in_tree = tree_file(&r.tree, "src/util.c");
	ck_assert_str_eq(in_tree, UTIL_C);
	free(in_tree);
	ck_assert_str_eq(json_string_value(json_object_get(
		json_array_get(json_object_get(r.json, "files"), 0), "method")), "libgit2");
	free(want);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_check_only_writes_nothing_but_builds_tree)
{
	wd_patch_report r;
	char *want = replace_once(MAIN_C, "a - b", "a + b"), *in_tree;

	ck_assert_int_eq(apply_text(&r, FIX_ADD, NULL, WD_PATCH_CHECK_ONLY), 0);
	ck_assert_int_eq(r.applied, 1);
	assert_file("src/main.c", MAIN_C);
	in_tree = tree_file(&r.tree, "src/main.c");
	ck_assert_str_eq(in_tree, want);
	free(in_tree);
	free(want);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_uses_work_tree_content_with_local_edits)
{
	wd_patch_report r;
	char *edited = replace_once(MAIN_C, "#include <stdio.h>\n", "#include <stdio.h>\n/* local */\n");
	char *want = replace_once(edited, "a - b", "a + b");

	put_file("src/main.c", edited);
	/* header says line 2, the local edit moved it to 3 */
	ck_assert_int_eq(apply_text(&r, FIX_ADD, NULL, 0), 0);
	assert_file("src/main.c", want);
	free(edited);
	free(want);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_new_deleted_and_renamed_files)
{
	const char *t =
		"diff --git a/src/new.c b/src/new.c\n"
		"new file mode 100644\n"
		"--- /dev/null\n"
		"+++ b/src/deep/new.c\n"
		"@@ -0,0 +1,2 @@\n"
		"+int n;\n"
		"+int m;\n"
		"diff --git a/README b/README\n"
		"deleted file mode 100644\n"
		"--- a/README\n"
		"+++ /dev/null\n"
		"@@ -1 +0,0 @@\n"
		"-hello\n"
		"diff --git a/src/util.c b/src/helpers.c\n"
		"similarity index 100%\n"
		"rename from src/util.c\n"
		"rename to src/helpers.c\n";
	wd_patch_report r;
	char *s;

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("src/deep/new.c", "int n;\nint m;\n");
	ck_assert(!file_exists("README"));
	ck_assert(!file_exists("src/util.c"));
	assert_file("src/helpers.c", UTIL_C);
	ck_assert_ptr_null(tree_file(&r.tree, "README"));
	ck_assert_ptr_null(tree_file(&r.tree, "src/util.c"));
	s = tree_file(&r.tree, "src/helpers.c");
	ck_assert_str_eq(s, UTIL_C);
	free(s);
	wd_patch_report_free(&r);
}
END_TEST

/* --- tolerant application ------------------------------------------------ */

START_TEST(apply_wrong_line_numbers_and_counts)
{
	const char *t =
		"--- a/src/main.c\n"
		"+++ b/src/main.c\n"
		"@@ -40,9 +40,2 @@\n"
		" static int add(int a, int b)\n"
		" {\n"
		"-\treturn a - b;\n"
		"+\treturn a + b;\n"
		" }\n";
	wd_patch_report r;
	char *want = replace_once(MAIN_C, "a - b", "a + b");

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("src/main.c", want);
	ck_assert_str_eq(json_string_value(json_object_get(
		json_array_get(json_object_get(r.json, "files"), 0), "method")), "fuzzy");
	free(want);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_bare_headers_and_whitespace_damaged_context)
{
	const char *t =
		"```diff\n"
		"--- src/main.c\n"
		"+++ src/main.c\n"
		"@@ @@\n"
		" static int add(int a,   int b)  \n"
		" {\n"
		"-    return a - b;\n"
		"+\treturn a + b;\n"
		" }\n"
		"@@ @@\n"
		" int main(void)\n"
		" {\n"
		"+\tputs(\"start\");\n"
		"     printf(\"%d\\n\", add(2, 3));\n"
		"```\n";
	wd_patch_report r;
	char *w1 = replace_once(MAIN_C, "a - b", "a + b");
	char *want = replace_once(w1, "int main(void)\n{\n", "int main(void)\n{\n\tputs(\"start\");\n");

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	/* context comes from the file: the tabs of the file survive */
	assert_file("src/main.c", want);
	free(w1);
	free(want);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_ambiguous_hunk_is_refused_and_nothing_written)
{
	/* "{" + "}" context with a one-line change matches both functions' shape
	 * only if the changed line is shared: make it so */
	const char *body = "int f(void)\n{\n\treturn 0;\n}\n\nint g(void)\n{\n\treturn 0;\n}\n";
	const char *t =
		"--- a/amb.c\n"
		"+++ b/amb.c\n"
		"@@ @@\n"
		" {\n"
		"-\treturn 0;\n"
		"+\treturn 1;\n"
		" }\n";
	wd_patch_report r;
	json_t *ref;

	put_file("amb.c", body);
	ck_assert_int_eq(apply_text(&r, t, NULL, 0), WD_EREFUSED);
	ck_assert_int_eq(r.applied, 0);
	assert_file("amb.c", body);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "ambiguous"));
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "hunk 1"));
	ref = json_array_get(json_object_get(r.json, "refusals"), 0);
	ck_assert(json_is_true(json_object_get(ref, "ambiguous")));
	ck_assert_int_eq(json_array_size(json_object_get(ref, "candidates")), 2);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_ambiguous_hunk_resolved_by_exact_header_line)
{
	const char *body = "int f(void)\n{\n\treturn 0;\n}\n\nint g(void)\n{\n\treturn 0;\n}\n";
	const char *t =
		"--- a/amb.c\n"
		"+++ b/amb.c\n"
		"@@ -7,3 +7,3 @@\n"
		" {\n"
		"-\treturn 0;\n"
		"+\treturn 1;\n"
		" }\n";
	wd_patch_report r;

	put_file("amb.c", body);
	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("amb.c", "int f(void)\n{\n\treturn 0;\n}\n\nint g(void)\n{\n\treturn 1;\n}\n");
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_already_applied_hunk_is_reported)
{
	wd_patch_report r;
	char *fixed = replace_once(MAIN_C, "a - b", "a + b");
	json_t *ref;

	put_file("src/main.c", fixed);
	ck_assert_int_eq(apply_text(&r, FIX_ADD, NULL, 0), WD_EREFUSED);
	assert_file("src/main.c", fixed);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "already applied"));
	ref = json_array_get(json_object_get(r.json, "refusals"), 0);
	ck_assert(json_is_true(json_object_get(ref, "already_applied")));
	ck_assert_str_eq(json_string_value(json_object_get(ref, "kind")), "already_applied");
	free(fixed);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_no_match_reports_closest_text_and_line)
{
	const char *t =
		"--- a/src/main.c\n"
		"+++ b/src/main.c\n"
		"@@ -8,4 +8,4 @@\n"
		" static int mul(int a, int b)\n"
		" {\n"
		"-\treturn a * b * 1;\n"
		"+\treturn a * b * 2;\n"
		" }\n";
	wd_patch_report r;
	json_t *ref;

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), WD_EREFUSED);
	assert_file("src/main.c", MAIN_C);
	ref = json_array_get(json_object_get(r.json, "refusals"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(ref, "kind")), "no_match");
	ck_assert_int_eq(json_integer_value(json_object_get(ref, "closest_line")), 8);
	ck_assert_int_eq(json_integer_value(json_object_get(ref, "closest_matched")), 3);
	ck_assert(json_is_false(json_object_get(ref, "already_applied")));
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "closest text"));
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "return a * b;"));
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_is_all_or_nothing_across_files)
{
	const char *t =
		"--- a/src/main.c\n"
		"+++ b/src/main.c\n"
		"@@ -3,4 +3,4 @@\n"
		" static int add(int a, int b)\n"
		" {\n"
		"-\treturn a - b;\n"
		"+\treturn a + b;\n"
		" }\n"
		"--- a/src/util.c\n"
		"+++ b/src/util.c\n"
		"@@ -1,4 +1,4 @@\n"
		" int one(void)\n"
		" {\n"
		"-\treturn 7;\n"
		"+\treturn 8;\n"
		" }\n";
	wd_patch_report r;

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), WD_EREFUSED);
	assert_file("src/main.c", MAIN_C);
	assert_file("src/util.c", UTIL_C);
	ck_assert_uint_eq(r.files.n, 0);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "src/util.c: hunk 1 of 1"));
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_search_replace_blocks)
{
	const char *t =
		"src/main.c\n"
		"```c\n"
		"<<<<<<< SEARCH\n"
		"static int add(int a, int b)\n"
		"{\n"
		"\treturn a - b;\n"
		"=======\n"
		"static int add(int a, int b)\n"
		"{\n"
		"\treturn a + b;\n"
		">>>>>>> REPLACE\n"
		"```\n"
		"src/new.h\n"
		"```c\n"
		"<<<<<<< SEARCH\n"
		"=======\n"
		"#define NEW 1\n"
		">>>>>>> REPLACE\n"
		"```\n";
	wd_patch_report r;
	char *want = replace_once(MAIN_C, "a - b", "a + b");

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("src/main.c", want);
	assert_file("src/new.h", "#define NEW 1\n");
	free(want);
	wd_patch_report_free(&r);
}
END_TEST

/* Lines of '=' signs of the file's own (a merge conflict it holds, a
 * heading's underline) inside a block: the divider is the one line that is
 * neither; two that could be it are an input error naming the cause. */
START_TEST(apply_search_block_beside_the_files_own_equals_lines)
{
	const char *t =
		"doc/conflict.txt\n"
		"<<<<<<< SEARCH\n"
		"<<<<<<< ours\n"
		"b\n"
		"=======\n"
		"c\n"
		">>>>>>> theirs\n"
		"=======\n"
		"c\n"
		">>>>>>> REPLACE\n"
		"\n"
		"doc/guide.txt\n"
		"<<<<<<< SEARCH\n"
		"text\n"
		"=======\n"
		"text\n"
		"\n"
		"Usage\n"
		"========\n"
		"run it\n"
		">>>>>>> REPLACE\n";
	const char *two = "doc/guide.txt\n<<<<<<< SEARCH\ntext\n=======\n=======\nmore\n"
	                  ">>>>>>> REPLACE\n";
	wd_patch_report r;
	wd_patch *p = NULL;

	put_file("doc/conflict.txt", "a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\nd\n");
	put_file("doc/guide.txt", "Intro\n-----\ntext\n");
	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("doc/conflict.txt", "a\nc\nd\n");
	assert_file("doc/guide.txt", "Intro\n-----\ntext\n\nUsage\n========\nrun it\n");
	wd_patch_report_free(&r);
	ck_assert_int_eq(wd_patch_parse(&p, two, strlen(two)), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "line 2: SEARCH block with 2 lines of '='"));
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(apply_search_replace_ambiguous_is_refused)
{
	const char *t =
		"src/main.c\n"
		"<<<<<<< SEARCH\n"
		"{\n"
		"=======\n"
		"{ /* x */\n"
		">>>>>>> REPLACE\n";
	wd_patch_report r;

	ck_assert_int_eq(apply_text(&r, t, NULL, 0), WD_EREFUSED);
	assert_file("src/main.c", MAIN_C);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "ambiguous"));
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_keeps_missing_final_newline_and_crlf)
{
	const char *t =
		"--- a/nonl.txt\n"
		"+++ b/nonl.txt\n"
		"@@ -1,2 +1,2 @@\n"
		" a\n"
		"-b\n"
		"\\ No newline at end of file\n"
		"+c\n"
		"\\ No newline at end of file\n"
		"--- a/dos.txt\n"
		"+++ b/dos.txt\n"
		"@@ -1,3 +1,3 @@\n"
		" one\n"
		"-two\n"
		"+TWO\n"
		" three\n";
	wd_patch_report r;

	put_file("nonl.txt", "a\nb");
	put_file("dos.txt", "one\r\ntwo\r\nthree\r\n");
	ck_assert_int_eq(apply_text(&r, t, NULL, 0), 0);
	assert_file("nonl.txt", "a\nc");
	assert_file("dos.txt", "one\r\nTWO\r\nthree\r\n");
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(apply_keeps_cr_of_mixed_line_endings_and_strips_crlf_transport)
{
	/* a file with CRLF and LF lines: git's diff carries the '\r' as content */
	const char *mixed =
		"--- a/mixed.txt\n"
		"+++ b/mixed.txt\n"
		"@@ -1,3 +1,3 @@\n"
		" one\r\n"
		"-two\r\n"
		"+TWO\r\n"
		" three\n";
	/* a whole reply that came with CRLF endings, for an LF file */
	const char *transported =
		"--- a/README\r\n"
		"+++ b/README\r\n"
		"@@ -1 +1 @@\r\n"
		"-hello\r\n"
		"+bye\r\n";
	wd_patch_report r;

	put_file("mixed.txt", "one\r\ntwo\r\nthree\nfour\nfive\n");
	ck_assert_int_eq(apply_text(&r, mixed, NULL, 0), 0);
	assert_file("mixed.txt", "one\r\nTWO\r\nthree\nfour\nfive\n");
	wd_patch_report_free(&r);
	ck_assert_int_eq(apply_text(&r, transported, NULL, 0), 0);
	assert_file("README", "bye\n");
	wd_patch_report_free(&r);
}
END_TEST

/* --- policy ------------------------------------------------------------- */

static void expect_refused(const char *text, const wd_patch_policy *pol, const char *kind)
{
	wd_patch_report r;
	json_t *ref;

	ck_assert_int_eq(apply_text(&r, text, pol, 0), WD_EREFUSED);
	ck_assert_int_eq(r.applied, 0);
	ref = json_array_get(json_object_get(r.json, "refusals"), 0);
	ck_assert_ptr_nonnull(ref);
	ck_assert_str_eq(json_string_value(json_object_get(ref, "kind")), kind);
	ck_assert_uint_gt(r.reasons.len, 0);
	assert_file("src/main.c", MAIN_C);
	wd_patch_report_free(&r);
}

START_TEST(policy_refuses_traversal_absolute_and_dot_git)
{
	expect_refused("--- a/../evil.c\n+++ b/../evil.c\n@@ -0,0 +1 @@\n+x\n", NULL, "unsafe_path");
	expect_refused("--- /dev/null\n+++ /etc/evil\n@@ -0,0 +1 @@\n+x\n", NULL, "unsafe_path");
	expect_refused("--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+x\n", NULL,
	               "unsafe_path");
	expect_refused("--- /dev/null\n+++ b/sub/.GIT/config\n@@ -0,0 +1 @@\n+x\n", NULL,
	               "unsafe_path");
	ck_assert(!file_exists("../evil.c"));
}
END_TEST

START_TEST(policy_refuses_out_of_scope_paths)
{
	const char *const scope[] = { "src/**", "!src/util.c", NULL };
	wd_patch_policy pol = WD_PATCH_POLICY_INIT;

	pol.scope = scope;
	expect_refused("--- a/README\n+++ b/README\n@@ -1 +1 @@\n-hello\n+bye\n", &pol, "out_of_scope");
	expect_refused("--- a/src/util.c\n+++ b/src/util.c\n@@ -1 +1 @@\n-int one(void)\n+int uno(void)\n",
	               &pol, "out_of_scope");
}
END_TEST

START_TEST(policy_refuses_writes_through_symlinks)
{
	wd_buf link = WD_BUF_INIT, target = WD_BUF_INIT;

	wd_path_join(&link, tmpdir, "linkdir");
	wd_path_join(&target, tmpdir, "src");
	ck_assert_int_eq(symlink(target.ptr, link.ptr), 0);
	expect_refused("--- a/linkdir/main.c\n+++ b/linkdir/main.c\n@@ -3,1 +3,1 @@\n"
	               "-static int add(int a, int b)\n+static int add(int a, int c)\n", NULL, "symlink");
	wd_buf_free(&link);
	wd_buf_free(&target);
}
END_TEST

START_TEST(policy_refuses_binary_and_mode_changes)
{
	wd_patch_policy pol = WD_PATCH_POLICY_INIT;

	expect_refused("diff --git a/img.png b/img.png\nnew file mode 100644\nindex 0..1\n"
	               "GIT binary patch\nliteral 4\nLcmZ?wb^rhX0RR91\n\nliteral 0\nHcmV?d00001\n\n",
	               NULL, "binary");
	expect_refused("diff --git a/src/main.c b/src/main.c\nold mode 100644\nnew mode 100755\n",
	               NULL, "mode");
	expect_refused("diff --git a/l b/l\nnew file mode 120000\n--- /dev/null\n+++ b/l\n"
	               "@@ -0,0 +1 @@\n+/etc/passwd\n", NULL, "mode");
	pol.allow_mode_change = 1;
	{
		wd_patch_report r;
		struct stat st;
		wd_buf p = WD_BUF_INIT;

		ck_assert_int_eq(apply_text(&r, "diff --git a/run.sh b/run.sh\nnew file mode 100755\n"
		                                "--- /dev/null\n+++ b/run.sh\n@@ -0,0 +1 @@\n+echo hi\n",
		                            &pol, 0), 0);
		wd_path_join(&p, tmpdir, "run.sh");
		ck_assert_int_eq(stat(p.ptr, &st), 0);
		ck_assert(st.st_mode & 0100);
		wd_buf_free(&p);
		wd_patch_report_free(&r);
	}
}
END_TEST

START_TEST(policy_refuses_patches_over_limits)
{
	wd_patch_policy pol = WD_PATCH_POLICY_INIT;

	pol.max_lines = 1;
	expect_refused(FIX_ADD, &pol, "too_many_lines");
	pol.max_lines = 0;
	pol.max_files = 1;
	expect_refused("--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+a\n"
	               "--- /dev/null\n+++ b/b.txt\n@@ -0,0 +1 @@\n+b\n", &pol, "too_many_files");
	ck_assert(!file_exists("a.txt"));
}
END_TEST

START_TEST(apply_refuses_adding_an_existing_file_and_editing_a_missing_one)
{
	expect_refused("--- /dev/null\n+++ b/README\n@@ -0,0 +1 @@\n+hi\n", NULL, "exists");
	expect_refused("--- a/nope.c\n+++ b/nope.c\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n", NULL, "missing");
}
END_TEST

START_TEST(apply_new_file_already_present_is_already_applied)
{
	wd_patch_report r;
	json_t *ref;

	put_file("src/new.h", "#define NEW 1\n");
	ck_assert_int_eq(apply_text(&r, "--- /dev/null\n+++ b/src/new.h\n@@ -0,0 +1 @@\n+#define NEW 1\n",
	                            NULL, 0), WD_EREFUSED);
	ref = json_array_get(json_object_get(r.json, "refusals"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(ref, "kind")), "already_applied");
	ck_assert(json_is_true(json_object_get(ref, "already_applied")));
	wd_patch_report_free(&r);
}
END_TEST

static Suite *patch_suite(void)
{
	Suite *s = suite_create("patch");
	TCase *parse = tcase_create("parse");
	TCase *scope = tcase_create("scope");
	TCase *apply = tcase_create("apply");
	TCase *policy = tcase_create("policy");

	tcase_add_test(parse, parse_bare_diff_finds_one_file_without_prefix);
	tcase_add_test(parse, parse_fenced_diff_in_prose_has_same_hash_as_bare);
	tcase_add_test(parse, parse_git_style_headers_new_deleted_renamed);
	tcase_add_test(parse, parse_reply_without_edit_is_notfound);
	tcase_add_test(parse, parse_hunk_without_file_header_is_input_error);
	tcase_add_test(parse, parse_search_replace_blocks_with_paths);
	tcase_add_test(parse, parse_search_block_without_replace_is_input_error);
	tcase_add_test(parse, parse_search_block_path_from_a_prose_line);
	tcase_add_test(parse, parse_gnu_timestamps_and_dot_slash_paths);
	tcase_add_test(parse, parse_quoted_git_paths_and_crlf_reply);
	suite_add_tcase(s, parse);

	tcase_add_test(scope, scope_globs_allow_deny_and_double_star);
	suite_add_tcase(s, scope);

	tcase_add_checked_fixture(apply, setup, teardown);
	tcase_add_test(apply, apply_clean_diff_writes_file_and_tree);
	tcase_add_test(apply, apply_check_only_writes_nothing_but_builds_tree);
	tcase_add_test(apply, apply_uses_work_tree_content_with_local_edits);
	tcase_add_test(apply, apply_new_deleted_and_renamed_files);
	tcase_add_test(apply, apply_wrong_line_numbers_and_counts);
	tcase_add_test(apply, apply_bare_headers_and_whitespace_damaged_context);
	tcase_add_test(apply, apply_ambiguous_hunk_is_refused_and_nothing_written);
	tcase_add_test(apply, apply_ambiguous_hunk_resolved_by_exact_header_line);
	tcase_add_test(apply, apply_already_applied_hunk_is_reported);
	tcase_add_test(apply, apply_no_match_reports_closest_text_and_line);
	tcase_add_test(apply, apply_is_all_or_nothing_across_files);
	tcase_add_test(apply, apply_search_replace_blocks);
	tcase_add_test(apply, apply_search_block_beside_the_files_own_equals_lines);
	tcase_add_test(apply, apply_search_replace_ambiguous_is_refused);
	tcase_add_test(apply, apply_keeps_missing_final_newline_and_crlf);
	tcase_add_test(apply, apply_refuses_adding_an_existing_file_and_editing_a_missing_one);
	tcase_add_test(apply, apply_wrong_counts_with_unprefixed_blank_context);
	tcase_add_test(apply, apply_stale_edge_context_by_trimming);
	tcase_add_test(apply, apply_counts_too_small_never_drop_the_hunk_tail);
	tcase_add_test(apply, apply_new_file_already_present_is_already_applied);
	tcase_add_test(apply, apply_keeps_cr_of_mixed_line_endings_and_strips_crlf_transport);
	tcase_add_test(apply, apply_drift_of_earlier_hunk_places_repeated_later_hunk);
	tcase_add_test(apply, apply_two_sections_for_one_file_apply_in_order);
	tcase_add_test(apply, apply_function_name_after_header_breaks_a_tie);
	tcase_add_test(apply, apply_hunk_order_places_repeated_blocks);
	suite_add_tcase(s, apply);

	tcase_add_checked_fixture(policy, setup, teardown);
	tcase_add_test(policy, policy_refuses_traversal_absolute_and_dot_git);
	tcase_add_test(policy, policy_refuses_out_of_scope_paths);
	tcase_add_test(policy, policy_refuses_writes_through_symlinks);
	tcase_add_test(policy, policy_refuses_binary_and_mode_changes);
	tcase_add_test(policy, policy_refuses_patches_over_limits);
	suite_add_tcase(s, policy);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(patch_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
