/* Edit formats and edit quality: the "*** Begin Patch" format, hunks whose
 * counts run past the next file's header, and whitespace-tolerant matches
 * that re-indent what the model wrote. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "fixture.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/patch.h"
#include "../../src/patch/patch_int.h"

static char tmpdir[256];
static git_repository *repo;

/* src/main.c up to main's body */
#define MAIN_C_HEAD \
	"#include <stdio.h>\n" \
	"\n" \
	"static int add(int a, int b)\n" \
	"{\n" \
	"\treturn a - b;\n" \
	"}\n" \
	"\n" \
	"int main(void)\n" \
	"{\n"

static const char *MAIN_C =
	MAIN_C_HEAD
	"\tprintf(\"%d\\n\", add(2, 3));\n"
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

/* a 2-space indented file */
static const char *TWO_JS =
	"function f(x) {\n"
	"  if (x) {\n"
	"    return 1;\n"
	"  }\n"
	"  return 0;\n"
	"}\n";

/* Hunk lines shared by the header tests: util.c's one() returns 11, and
 * main.c's add() adds. */
#define UTIL_ONE_TO_11 " int one(void)\n {\n-\treturn 1;\n+\treturn 11;\n"
#define UTIL_DIFF "--- a/src/util.c\n+++ b/src/util.c\n@@ -1,3 +1,3 @@\n" UTIL_ONE_TO_11
#define MAIN_ADD_FIX " static int add(int a, int b)\n {\n-\treturn a - b;\n+\treturn a + b;\n"

static void put_file(const char *rel, const char *content)
{
	ck_assert_int_eq(fx_put_file(tmpdir, rel, content), 0);
}

static char *get_file(const char *rel)
{
	return fx_get_file(tmpdir, rel);
}

static void assert_file(const char *rel, const char *want)
{
	char *got = get_file(rel);

	ck_assert_msg(got != NULL, "%s missing", rel);
	ck_assert_str_eq(got, want);
	free(got);
}

static void commit_all(void)
{
	ck_assert_int_eq(fx_repo_commit_all(repo, "base"), 0);
}

static void setup(void)
{
	git_libgit2_init();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wd-test-patchfmt-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(git_repository_init(&repo, tmpdir, 0), 0);
	put_file("src/main.c", MAIN_C);
	put_file("src/util.c", UTIL_C);
	put_file("web/two.js", TWO_JS);
	put_file("old.txt", "bye\n");
	commit_all();
}

static void teardown(void)
{
	git_repository_free(repo);
	repo = NULL;
	wd_rm_rf(tmpdir);
	git_libgit2_shutdown();
}

static int apply_text(wd_patch_report *r, const char *text)
{
	wd_patch *p = NULL;
	int rc = wd_patch_parse(&p, text, strlen(text));

	ck_assert_msg(rc == 0, "parse failed: %s", wd_error_last());
	rc = wd_patch_apply(r, repo, p, NULL, 0);
	wd_patch_free(p);
	return rc;
}

/* Apply `t` to `rel` (first set to `file` when `put` is set): refused, with
 * `reason` in the reasons when given, and the file still `file`. */
static void assert_refused(const char *rel, const char *file, int put, const char *t,
                           const char *reason)
{
	wd_patch_report r;

	if (put)
		put_file(rel, file);
	ck_assert_int_eq(apply_text(&r, t), WD_EREFUSED);
	if (reason)
		ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), reason));
	assert_file(rel, file);
	wd_patch_report_free(&r);
}

/* Apply `t` (to `rel` first set to `file` when not NULL): applied, and `rel`
 * is then `want`. */
static void assert_applied(const char *rel, const char *file, const char *t, const char *want)
{
	wd_patch_report r;

	if (file)
		put_file(rel, file);
	ck_assert_int_eq(apply_text(&r, t), 0);
	assert_file(rel, want);
	wd_patch_report_free(&r);
}

/* A SEARCH/REPLACE block on `path` quoting `go(); stop();` at 8 spaces (the
 * file's 4) and putting the model's `new_lines` between them. */
static const char *late_block(const char *path, const char *new_lines)
{
	static char b[512];

	snprintf(b, sizeof(b), "%s\n<<<<<<< SEARCH\n        go();\n        stop();\n=======\n"
	         "        go();\n%s        stop();\n>>>>>>> REPLACE\n", path, new_lines);
	return b;
}

/* --- hunks never cross a file header ------------------------------------ */

START_TEST(overcounted_hunk_stops_at_next_plain_file_header)
{
	/* the first hunk's header claims one old and one new line more than it
	 * has: exactly what the next file's "---"/"+++" pair would supply */
	const char *t =
		"--- a/src/main.c\n"
		"+++ b/src/main.c\n"
		"@@ -3,4 +3,4 @@\n"
		MAIN_ADD_FIX
		UTIL_DIFF;
	wd_patch *p = NULL;
	wd_patch_report r;

	ck_assert_int_eq(wd_patch_parse(&p, t, strlen(t)), 0);
	ck_assert_uint_eq(wd_patch_file_count(p), 2);
	ck_assert_str_eq(wd_patch_file_path(p, 0), "src/main.c");
	ck_assert_str_eq(wd_patch_file_path(p, 1), "src/util.c");
	wd_patch_free(p);
	ck_assert_int_eq(apply_text(&r, t), 0);
	assert_file("src/util.c", "int one(void)\n{\n\treturn 11;\n}\n\nint two(void)\n{\n"
	            "\treturn 2;\n}\n");
	assert_file("src/main.c", "#include <stdio.h>\n\nstatic int add(int a, int b)\n{\n\treturn a + b;\n}\n\nint main(void)\n{\n\tprintf(\"%d\\n\", add(2, 3));\n\treturn 0;\n}\n");
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(overcounted_hunk_stops_at_git_and_codex_headers)
{
	const char *git =
		"diff --git a/src/main.c b/src/main.c\n"
		"--- a/src/main.c\n"
		"+++ b/src/main.c\n"
		"@@ -3,9 +3,9 @@\n"
		MAIN_ADD_FIX
		"diff --git a/src/util.c b/src/util.c\n"
		UTIL_DIFF;
	const char *cx =
		"--- a/src/main.c\n"
		"+++ b/src/main.c\n"
		"@@ -3,9 +3,9 @@\n"
		MAIN_ADD_FIX
		"*** Update File: src/util.c\n"
		UTIL_ONE_TO_11;
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, git, strlen(git)), 0);
	ck_assert_uint_eq(wd_patch_file_count(p), 2);
	wd_patch_free(p);
	ck_assert_int_eq(wd_patch_parse(&p, cx, strlen(cx)), 0);
	ck_assert_uint_eq(wd_patch_file_count(p), 2);
	ck_assert_str_eq(wd_patch_file_path(p, 1), "src/util.c");
	wd_patch_free(p);
}
END_TEST

START_TEST(overcounted_refusal_names_the_right_file_only)
{
	/* the first hunk does not apply; its refusal must name src/main.c and
	 * must not quote src/util.c's header back as old lines */
	const char *t =
		"--- a/src/main.c\n"
		"+++ b/src/main.c\n"
		"@@ -3,4 +3,4 @@\n"
		" static int sub(int a, int b)\n"
		" {\n"
		"-\treturn a / b;\n"
		"+\treturn a + b;\n"
		UTIL_DIFF;
	wd_patch_report r;
	const char *why;

	ck_assert_int_eq(apply_text(&r, t), WD_EREFUSED);
	why = wd_buf_cstr(&r.reasons);
	ck_assert_ptr_nonnull(strstr(why, "src/main.c: hunk 1 of 1"));
	ck_assert_ptr_null(strstr(why, "src/util.c"));
	ck_assert_ptr_null(strstr(why, "+++"));
	assert_file("src/util.c", UTIL_C);
	wd_patch_report_free(&r);
}
END_TEST

/* --- "*** Begin Patch" ---------------------------------------------------- */

START_TEST(codex_patch_updates_adds_deletes_and_moves)
{
	const char *t =
		"Here is the fix:\n"
		"```\n"
		"*** Begin Patch\n"
		"*** Update File: src/main.c\n"
		"@@ static int add(int a, int b)\n"
		" {\n"
		"-\treturn a - b;\n"
		"+\treturn a + b;\n"
		" }\n"
		"@@ int main(void)\n"
		" {\n"
		"-\tprintf(\"%d\\n\", add(2, 3));\n"
		"+\tprintf(\"%d\\n\", add(2, 4));\n"
		"*** Add File: src/new.h\n"
		"+#define NEW 1\n"
		"+\n"
		"+int neu(void);\n"
		"*** Delete File: old.txt\n"
		"*** Update File: src/util.c\n"
		"*** Move to: src/utils.c\n"
		" int two(void)\n"
		" {\n"
		"-\treturn 2;\n"
		"+\treturn 22;\n"
		"*** End Patch\n"
		"```\n";
	wd_patch_report r;
	char *got;

	ck_assert_int_eq(apply_text(&r, t), 0);
	got = get_file("src/main.c");
	ck_assert_ptr_nonnull(strstr(got, "return a + b;"));
	ck_assert_ptr_nonnull(strstr(got, "add(2, 4)"));
	free(got);
	assert_file("src/new.h", "#define NEW 1\n\nint neu(void);\n");
	ck_assert_ptr_null(get_file("old.txt"));
	ck_assert_ptr_null(get_file("src/util.c"));
	assert_file("src/utils.c", "int one(void)\n{\n\treturn 1;\n}\n\nint two(void)\n{\n"
	            "\treturn 22;\n}\n");
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(codex_patch_end_of_file_appends_at_the_end)
{
	const char *t =
		"*** Begin Patch\n"
		"*** Update File: src/util.c\n"
		"@@\n"
		"+\n"
		"+int three(void)\n"
		"+{\n"
		"+\treturn 3;\n"
		"+}\n"
		"*** End of File\n"
		"*** End Patch\n";
	wd_patch_report r;
	wd_buf want = WD_BUF_INIT;

	ck_assert_int_eq(apply_text(&r, t), 0);
	wd_buf_puts(&want, UTIL_C);
	wd_buf_puts(&want, "\nint three(void)\n{\n\treturn 3;\n}\n");
	assert_file("src/util.c", want.ptr);
	wd_buf_free(&want);
	wd_patch_report_free(&r);
}
END_TEST

/* Two methods that end alike; the format's "@@" anchor says which. */
#define ANCHOR_PY \
	"class Base:\n    def load(self):\n        self.x = 1\n        return self\n\n" \
	"class Child(Base):\n    def load(self):\n        self.x = 1\n        return self\n"
#define ANCHOR_PATCH(anchors) \
	"*** Begin Patch\n*** Update File: src/m.py\n" anchors \
	"         self.x = 1\n-        return self\n+        return None\n*** End Patch\n"

START_TEST(codex_patch_anchor_places_a_hunk_its_context_leaves_ambiguous)
{
	static const char child[] =
		"class Base:\n    def load(self):\n        self.x = 1\n        return self\n\n"
		"class Child(Base):\n    def load(self):\n        self.x = 1\n        return None\n";

	/* the class, then the method: the last "@@" line places the hunk, after
	 * the first line that is it (the method of Base comes first, but the
	 * hunk's old lines match once after `class Child` ... `def load`) */
	assert_applied("src/m.py", ANCHOR_PY,
	               ANCHOR_PATCH("@@ class Child(Base):\n@@     def load(self):\n"), child);
	/* one anchor line naming the class is enough: the first match after it */
	assert_applied("src/m.py", ANCHOR_PY, ANCHOR_PATCH("@@ class Child(Base):\n"), child);
	/* control: no anchor, the old lines match twice: refused as ambiguous */
	assert_refused("src/m.py", ANCHOR_PY, 1, ANCHOR_PATCH("@@\n"), "ambiguous");
	/* an anchor the file does not have tells nothing: still ambiguous */
	assert_refused("src/m.py", ANCHOR_PY, 1, ANCHOR_PATCH("@@ class Other:\n"), "ambiguous");
}
END_TEST

START_TEST(codex_patch_context_line_that_quotes_a_fence_is_context)
{
	/* a README's " ``` bash" is a context line, not the end of the reply's
	 * fence: the section goes on, and both hunks apply (before, the section
	 * stopped there and the patch applied in part, reporting success) */
	const char *t =
		"*** Begin Patch\n"
		"*** Update File: README.md\n"
		"@@\n"
		"-1. install libreadline\n"
		"+1. install readline\n"
		" \n"
		" ``` bash\n"
		" sudo apt install libreadline-dev\n"
		"+brew install readline\n"
		" ```\n"
		"*** End Patch\n";
	wd_patch_report r;

	put_file("README.md", "# demo\n\n1. install libreadline\n\n``` bash\n"
	                      "sudo apt install libreadline-dev\n```\n\nend\n");
	ck_assert_int_eq(apply_text(&r, t), 0);
	assert_file("README.md", "# demo\n\n1. install readline\n\n``` bash\n"
	                         "sudo apt install libreadline-dev\nbrew install readline\n```\n\nend\n");
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(codex_patch_refusal_goes_through_the_same_engine)
{
	const char *t =
		"*** Begin Patch\n"
		"*** Update File: src/main.c\n"
		" {\n"
		"-\treturn a * b;\n"
		"+\treturn a + b;\n"
		"*** Add File: src/ok.h\n"
		"+ok\n"
		"*** End Patch\n";
	wd_patch_report r;

	ck_assert_int_eq(apply_text(&r, t), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "src/main.c: hunk 1 of 1 does not apply"));
	/* all or nothing: the addition is not written either */
	ck_assert_ptr_null(get_file("src/ok.h"));
	assert_file("src/main.c", MAIN_C);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(codex_patch_malformed_sections_are_input_errors)
{
	static const char *const bad[] = {
		"*** Begin Patch\n*** Add File: a.txt\n+one\n\n+two\n*** End Patch\n",
		"*** Begin Patch\n*** Update File:   \n-a\n+b\n*** End Patch\n",
		"*** Begin Patch\n*** Update File: src/main.c\n*** End Patch\n",
		"*** Begin Patch\n*** Update File: src/main.c\n {\n*** Move to: x.c\n-a\n+b\n",
	};
	wd_patch *p = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = wd_patch_parse(&p, bad[i], strlen(bad[i]));

		ck_assert_msg(rc == WD_EINPUT, "case %zu: rc %d", i, rc);
		ck_assert_ptr_null(p);
		ck_assert_str_ne(wd_error_last(), "");
	}
}
END_TEST

START_TEST(codex_patch_unsafe_path_is_refused_by_policy)
{
	const char *t =
		"*** Begin Patch\n"
		"*** Add File: ../escape.txt\n"
		"+x\n"
		"*** End Patch\n";
	wd_patch_report r;

	ck_assert_int_eq(apply_text(&r, t), WD_EREFUSED);
	{
		char *js = json_dumps(r.json, 0);

		ck_assert_ptr_nonnull(strstr(js, "unsafe_path"));
		free(js);
	}
	wd_patch_report_free(&r);
}
END_TEST


/* --- re-indentation after a whitespace-tolerant match ---------------------- */

START_TEST(reindent_four_space_block_on_two_space_file)
{
	const char *t =
		"web/two.js\n"
		"```js\n"
		"<<<<<<< SEARCH\n"
		"    if (x) {\n"
		"        return 1;\n"
		"    }\n"
		"=======\n"
		"    if (x) {\n"
		"        log(x);\n"
		"        if (x > 1) {\n"
		"            return 2;\n"
		"        }\n"
		"        return 1;\n"
		"    }\n"
		">>>>>>> REPLACE\n"
		"```\n";

	assert_applied("web/two.js", NULL, t,
	               "function f(x) {\n  if (x) {\n    log(x);\n    if (x > 1) {\n      return 2;\n"
	               "    }\n    return 1;\n  }\n  return 0;\n}\n");
}
END_TEST

START_TEST(reindent_spaces_to_tabs_keeps_unchanged_lines_byte_identical)
{
	/* the model wrote 4 spaces for a tab file, and changed the depth of one
	 * line: the unchanged lines keep the file's bytes, the new ones get tabs */
	const char *t =
		"src/main.c\n"
		"<<<<<<< SEARCH\n"
		"int main(void)\n"
		"{\n"
		"    printf(\"%d\\n\", add(2, 3));\n"
		"    return 0;\n"
		"=======\n"
		"int main(void)\n"
		"{\n"
		"    if (add(2, 3) > 4)\n"
		"        printf(\"%d\\n\", add(2, 3));\n"
		"    return 0;\n"
		">>>>>>> REPLACE\n";

	assert_applied("src/main.c", NULL, t,
	               MAIN_C_HEAD
	               "\tif (add(2, 3) > 4)\n"
	               "\t\tprintf(\"%d\\n\", add(2, 3));\n"
	               "\treturn 0;\n"
	               "}\n");
}
END_TEST

START_TEST(reindent_shifted_diff_hunk_keeps_relative_depth)
{
	/* a diff whose lines lost one level of indentation (the model quoted
	 * the block from its own column): new lines go back to the file's depth */
	const char *t =
		"--- a/web/two.js\n"
		"+++ b/web/two.js\n"
		"@@ -2,3 +2,4 @@\n"
		" if (x) {\n"
		"   return 1;\n"
		"+  x++;\n"
		" }\n";

	assert_applied("web/two.js", NULL, t,
	               "function f(x) {\n"
	               "  if (x) {\n"
	               "    return 1;\n"
	               "    x++;\n"
	               "  }\n"
	               "  return 0;\n"
	               "}\n");
}
END_TEST

START_TEST(reindent_refuses_a_depth_no_one_rule_gives)
{
	/* tabs for depth, spaces for alignment, and a block that turned each tab
	 * into 4 spaces but doubled the alignment: no one rule maps the model's
	 * widths to the file's, so a line at a width the block never showed is
	 * refused rather than guessed */
	const char *t =
		"src/align.c\n"
		"<<<<<<< SEARCH\n"
		"int f(int a,\n"
		"            int b)\n"
		"{\n"
		"    if (a)\n"
		"=======\n"
		"int f(int a,\n"
		"            int b)\n"
		"{\n"
		"    if (a)\n"
		"        a++;\n"
		">>>>>>> REPLACE\n";
	const char *file = "int f(int a,\n      int b)\n{\n\tif (a)\n\t\treturn b;\n\treturn 0;\n}\n";
	wd_patch_report r;
	char *js;

	put_file("src/align.c", file);
	ck_assert_int_eq(apply_text(&r, t), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "indentation cannot be mapped"));
	js = json_dumps(r.json, 0);
	ck_assert_ptr_nonnull(strstr(js, "\"indentation\""));
	free(js);
	assert_file("src/align.c", file);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(reindent_refuses_when_one_width_fits_a_shift_and_a_unit_alike)
{
	/* the old lines show one width only (8 for the file's 4): a new line at
	 * 16 is 12 by a shift and 8 by a change of unit, and the file, all at one
	 * depth, shows no step to tell them apart: nothing is guessed */
	const char *t = late_block("web/four.js", "        if (late)\n                wait();\n");
	const char *file = "    go();\n    stop();\n";

	assert_refused("web/four.js", file, 1, t, "indentation cannot be mapped");
}
END_TEST

START_TEST(reindent_one_width_refuses_a_step_that_fits_neither_rule)
{
	/* the file steps by 4, the model by 6 between its own lines: neither the
	 * same unit (a shift) nor the pair's 8:4 (a change of unit) */
	const char *t = late_block("web/four.js", "        if (late)\n              wait();\n");
	const char *file = "function f() {\n    go();\n    stop();\n}\n";

	assert_refused("web/four.js", file, 1, t, "indentation cannot be mapped");
}
END_TEST

START_TEST(reindent_one_width_is_a_change_of_unit_when_the_steps_say_so)
{
	/* 8 for the file's 4 and the model steps by 8 where the file steps by 4:
	 * a change of unit (what a block written with 8 per level for a 4-space
	 * file looks like), so 16 is the file's 8; a preprocessor line at column
	 * 0 stays there, and the lines the model did not change keep their bytes */
	const char *t = late_block("web/four.c",
	                           "#ifdef LATE\n        if (late)\n                wait();\n#endif\n");

	assert_applied("web/four.c", "void f(void)\n{\n    go(); \n    stop();\n}\n", t,
	               "void f(void)\n{\n    go(); \n#ifdef LATE\n    if (late)\n"
	               "        wait();\n#endif\n    stop();\n}\n");
}
END_TEST

/* A diff of t/run.sh (tab-indented) whose context lost its tabs (4 spaces
 * each), removing `stop` as `del` and adding `add` in its place. */
#define LOOSE_CONTEXT_DIFF(del, add) \
	"--- a/t/run.sh\n+++ b/t/run.sh\n@@ -1,4 +1,4 @@\n test_it () {\n     go &&\n-" del "\n+" \
	add "\n }\n"

START_TEST(reindent_keeps_new_lines_as_written_when_the_removed_lines_are_exact)
{
	/* the line the model removes is the file's, tab and all: it wrote the
	 * lines it changed for the file, so its new lines stand as written (here
	 * 4 spaces, as the author meant them); re-indenting them would put a tab */
	assert_applied("t/run.sh", "test_it () {\n\tgo &&\n\tstop\n}\n",
	               LOOSE_CONTEXT_DIFF("\tstop", "    say 'spaces, as in the commit'"),
	               "test_it () {\n\tgo &&\n    say 'spaces, as in the commit'\n}\n");
}
END_TEST

START_TEST(reindent_maps_new_lines_when_the_removed_lines_were_quoted_loosely)
{
	/* the control: the removed line lost its tab like the context did, so
	 * the whole hunk was written in the model's indentation and its new
	 * lines are mapped to the file's */
	assert_applied("t/run.sh", "test_it () {\n\tgo &&\n\tstop\n}\n",
	               LOOSE_CONTEXT_DIFF("    stop", "    say 'a tab, like the file'"),
	               "test_it () {\n\tgo &&\n\tsay 'a tab, like the file'\n}\n");
}
END_TEST

START_TEST(reindent_one_width_is_a_shift_when_the_steps_agree)
{
	/* 8 for the file's 4 again, but the model steps by 4 like the file: it
	 * quoted the block one level too deep, so every new line moves back 4 */
	const char *t = late_block("web/four.js", "        if (late)\n            wait();\n");

	assert_applied("web/four.js", "function f() {\n    go();\n    stop();\n}\n", t,
	               "function f() {\n    go();\n    if (late)\n        wait();\n    stop();\n}\n");
}
END_TEST

START_TEST(reindent_refuses_when_a_mixed_file_crosses_the_model_depths)
{
	/* the file indents with 4 spaces here and a tab there; the block (4 per
	 * tab, 2 per space) pairs the model's 8 with 4 spaces and its 4 with a
	 * tab: a new line at 8 may mean two tabs or 4 spaces, so it is refused */
	const char *t =
		"src/mixed.cpp\n"
		"<<<<<<< SEARCH\n"
		"        out << x;\n"
		"    return out;\n"
		"=======\n"
		"    if (x)\n"
		"        out << x;\n"
		"    return out;\n"
		">>>>>>> REPLACE\n";
	const char *file = "int f(int x)\n{\n    out << x;\n\treturn out;\n}\n";

	assert_refused("src/mixed.cpp", file, 1, t, "indentation cannot be mapped");
	/* control: the same block on a file whose depths keep the model's order
	 * (two tabs for its 8, one for its 4) applies, re-indented */
	assert_applied("src/mixed.cpp", "int f(int x)\n{\n\t\tout << x;\n\treturn out;\n}\n", t,
	               "int f(int x)\n{\n\tif (x)\n\t\tout << x;\n\treturn out;\n}\n");
}
END_TEST

START_TEST(reindent_keeps_new_lines_written_for_the_file)
{
	/* only the context lost its tabs (4 spaces each); the '-' and '+' lines
	 * are the file's own: a '+' line indented with a tab says the new side was
	 * written for the file, so even its spaces-only line stays as written */
	const char *t =
		"--- a/src/w.c\n"
		"+++ b/src/w.c\n"
		"@@ -3,4 +3,5 @@\n"
		"     int a = 1;\n"
		"-\tif (a)\n"
		"+\tif (a > 0)\n"
		"         return a;\n"
		"+            /* aligned */\n"
		"     return 0;\n";

	assert_applied("src/w.c",
	               "int f(void)\n{\n\tint a = 1;\n\tif (a)\n\t\treturn a;\n\treturn 0;\n}\n", t,
	               "int f(void)\n{\n\tint a = 1;\n\tif (a > 0)\n\t\treturn a;\n"
	               "            /* aligned */\n\treturn 0;\n}\n");
}
END_TEST

START_TEST(reindent_one_hunk_written_for_the_file_vouches_for_the_others)
{
	/* hunk 1's context lost its tabs while its '+' lines keep theirs: the
	 * model writes its new lines for the file, so hunk 2's `cleanup:` label
	 * (no tab to show, and hunk 1's '-' line with its tab leaves no usable
	 * evidence of the damage) is kept as written, not refused */
	const char *file = "int f(struct o *o)\n{\n\tint i;\n\n\tfor (i = 0; i < n; i++) {\n"
	                   "\t\tif (a(i))\n\t\t\tb(i);\n\t}\n\tfor (i = 0; i < n; i++) {\n"
	                   "\t\tc(i,\n\t\t  d);\n\t}\n\tfree(x);\n\treturn 0;\n}\n";
	const char *t = "--- a/src/m.c\n+++ b/src/m.c\n@@ -5,4 +5,6 @@\n"
	                "     for (i = 0; i < n; i++) {\n         if (a(i))\n-\t\t\tb(i);\n"
	                "+\t\t\tb(i + 1);\n+\t\tif (e(i))\n+\t\t\tgoto cleanup;\n     }\n"
	                "@@ -10,5 +12,6 @@\n         c(i,\n           d);\n     }\n+cleanup:\n"
	                "     free(x);\n     return 0;\n";

	assert_applied("src/m.c", file, t,
	               "int f(struct o *o)\n{\n\tint i;\n\n\tfor (i = 0; i < n; i++) {\n"
	               "\t\tif (a(i))\n\t\t\tb(i + 1);\n\t\tif (e(i))\n\t\t\tgoto cleanup;\n"
	               "\t}\n\tfor (i = 0; i < n; i++) {\n\t\tc(i,\n\t\t  d);\n\t}\ncleanup:\n"
	               "\tfree(x);\n\treturn 0;\n}\n");
}
END_TEST

START_TEST(reindent_refuses_a_width_between_the_model_units)
{
	/* 4 per tab for a tab file: 4, 8 and 12 are one, two and three tabs, but
	 * 14 is three tabs and some alignment whose own width the block never
	 * shows (2 spaces for 1?): refused rather than scaled to 3 tabs + 4 */
	const char *t =
		"src/opts.c\n"
		"<<<<<<< SEARCH\n"
		"    opts = {\n"
		"        OPT(\"a\",\n"
		"            \"mode\"),\n"
		"    };\n"
		"=======\n"
		"    opts = {\n"
		"        OPT(\"a\",\n"
		"            \"mode\"),\n"
		"        OPT(\"b\",\n"
		"              \"other\"),\n"
		"    };\n"
		">>>>>>> REPLACE\n";
	const char *file = "void f(void)\n{\n\topts = {\n\t\tOPT(\"a\",\n\t\t\t\"mode\"),\n\t};\n}\n";

	assert_refused("src/opts.c", file, 1, t, "indentation cannot be mapped");
}
END_TEST

START_TEST(reindent_refuses_a_continuation_at_a_width_no_old_line_shows)
{
	/* 4 per tab, 2 per space: the model's 8 under an open `(` may be two tabs
	 * or a tab and 2 spaces of alignment (the file aligns so); no old line
	 * shows 8, so it is refused, naming the line */
	const char *t =
		"src/call.c\n"
		"<<<<<<< SEARCH\n"
		"    go();\n"
		"    stop();\n"
		"=======\n"
		"    go(a,\n"
		"        b);\n"
		"    stop();\n"
		">>>>>>> REPLACE\n";
	const char *file = "void f(void)\n{\n\tgo();\n\tstop();\n}\n";

	assert_refused("src/call.c", file, 1, t, "Ambiguous line: `        b);`");
	/* a jump of more than one step (4 to 16) is alignment too */
	t = "src/call.c\n<<<<<<< SEARCH\n    go();\n    stop();\n=======\n    go();\n"
	    "                x();\n    stop();\n>>>>>>> REPLACE\n";
	assert_refused("src/call.c", file, 0, t, NULL);
	/* control: the same width under a line that closes its statement and
	 * opens a block is depth, two tabs */
	t = "src/call.c\n<<<<<<< SEARCH\n    go();\n    stop();\n=======\n    if (go()) {\n"
	    "        b();\n    }\n    stop();\n>>>>>>> REPLACE\n";
	assert_applied("src/call.c", NULL, t,
	               "void f(void)\n{\n\tif (go()) {\n\t\tb();\n\t}\n\tstop();\n}\n");
}
END_TEST

START_TEST(reindent_interpolates_a_spaces_only_file)
{
	/* a grammar file: continuation lines at 8 under unindented ones, quoted
	 * at 16 (2 per space); a new continuation at 24 is 12 in the file */
	const char *t =
		"g.ebnf\n"
		"<<<<<<< SEARCH\n"
		"binop = '<' |\n"
		"                '>';\n"
		"=======\n"
		"assign = '=' |\n"
		"                        '+=';\n"
		"binop = '<' |\n"
		"                '>';\n"
		">>>>>>> REPLACE\n";

	assert_applied("g.ebnf", "expr = a;\nbinop = '<' |\n        '>';\nunop = '-';\n", t,
	               "expr = a;\nassign = '=' |\n            '+=';\nbinop = '<' |\n"
	               "        '>';\nunop = '-';\n");
}
END_TEST

/* --- indentation evidence: what a quote did to the file's indentation --- */

/* A SEARCH/REPLACE block: the path line (none for "", the block then shares
 * the previous block's path), then the two sides. */
#define SR(path, search, replace) \
	path "\n<<<<<<< SEARCH\n" search "=======\n" replace ">>>>>>> REPLACE\n"

/* A tab file whose parameters align with a tab and 5 spaces. */
#define EV_C \
	"static int f(int a,\n\t     int b)\n{\n\tif (a)\n\t\treturn b;\n\twhile (b) {\n" \
	"\t\tif (a)\n\t\t\ta--;\n\t}\n\treturn 0;\n}\n"

/* Quoted at 4 columns a tab and 2 a space (the tab and 5 spaces read 14),
 * a new `b++;` at 8: two tabs, or a tab and 2 spaces of alignment? */
#define EV_BLOCK_1 \
	SR("src/ev.c", \
	   "static int f(int a,\n              int b)\n{\n    if (a)\n", \
	   "static int f(int a,\n              int b)\n{\n    if (!b)\n        b++;\n    if (a)\n")

/* A tab file that aligns a call's arguments under its open bracket (two
 * tabs and 5 spaces, quoted as 18). */
#define ALIGN_C "void g(int x)\n{\n\tif (x) {\n\t\tcall(one,\n\t\t     two);\n\t}\n}\n"
#define ALIGN_SEARCH "        call(one,\n                  two);\n"

/* A shell file whose one quoted line has 8 spaces (as 16), and which also
 * starts lines with two tabs elsewhere. */
#define SH_TAIL "name()\n{\n        tr a b\n}\n"
#define SH_BLOCK \
	SR("t/lib.sh", "name()\n{\n                tr a b\n}\n", \
	   "name()\n{\n                tr a b\n        tr c d\n}\n")

/* A tab file whose `if` continues its condition aligned (two tabs and 4
 * spaces, quoted as 16), then `extra`. */
#define ORDER_C(extra) \
	"void f(int a, int b)\n{\n\tif (a) {\n\t\tif (check(a,\n\t\t    b))\n\t\t\ta++;\n" \
	"\t}\n}\n" extra
#define ORDER_HABIT \
	"\nvoid g(int a)\n{\n\t\tif (a > 1) {\n\t\t\tif (a > 2)\n\t\t\t\ta--;\n" \
	"\t\t\tif (a > 3)\n\t\t\t\ta--;\n\t\t\tif (a > 4)\n\t\t\t\ta--;\n\t\t}\n}\n"
#define ORDER_BLOCK \
	SR("src/o.c", "        if (check(a,\n                b))\n            a++;\n", \
	   "        if (check(a,\n                b))\n            if (b)\n                a--;\n")

/* cm: a tab file whose `if` continues its condition aligned (two tabs and 4
 * spaces, quoted as 16); CM2 also has a statement at four tabs (16), CM3 a
 * comment at three tabs. */
#define CM2_C \
	"int f(int e)\n{\n\tif (e) {\n\t\tif (a(e) &&\n\t\t    b(e))\n\t\t\tif (c(e))\n" \
	"\t\t\t\tret = 1;\n\t\tdone();\n\t}\n}\n"
#define CM2_SEARCH \
	"        if (a(e) &&\n                b(e))\n            if (c(e))\n                ret = 1;\n" \
	"        done();\n"
#define CM3_C \
	"int f(int e)\n{\n\tif (e) {\n\t\tif (a(e) &&\n\t\t    b(e)) {\n\t\t\t/*\n\t\t\t * old\n" \
	"\t\t\t */\n\t\t\tret = 1;\n\t\t}\n\t}\n}\n"
#define CM3_HEAD "        if (a(e) &&\n                b(e)) {\n            /*\n"
#define CM3_TAIL "            ret = 1;\n        }\n"

/* A text file indenting a list with tabs and headings with a space; a diff
 * whose context lost the tabs adds a heading indented `lead`. */
#define ODD_DOC "Caps\n\n agent\n~~~~~\n\tSends the agent.\n\tOnce.\n"
#define ODD_DOC_NEW ODD_DOC "\n server\n~~~~~~\n"
#define ODD_DIFF(lead) \
	"--- a/doc.txt\n+++ b/doc.txt\n@@ -4,3 +4,6 @@\n ~~~~~\n     Sends the agent.\n     Once.\n" \
	"+\n+" lead "server\n+~~~~~~\n"

/* A Perl file indenting with 4 spaces and with tabs; its quote writes one
 * tab as 8 columns and another as 4. */
#define FLUSH_PL(lead) \
	lead "my $i = 0;\nunless (-d \".git\") {\n    if ($a) {\n\tprint \"s\";\n\t`init`;\n    }\n}\n"
#define FLUSH_PL_NEW(lead) \
	lead "my $i = 0;\nunless (-d $dir) {\n    if ($a) {\n\tprint \"s\";\n\t`init`;\n    }\n}\n"
#define FLUSH_DIFF \
	"--- a/f.pl\n+++ b/f.pl\n@@ -1,6 +1,6 @@\n my $i = 0;\n-unless (-d \".git\") {\n" \
	"+unless (-d $dir) {\n     if ($a) {\n         print \"s\";\n     `init`;\n     }\n"

/* A shell test file; a block that quotes one indented line appends a test
 * whose subshell starts with `open`. */
#define SUB_SH "test_expect_success 'a' '\n\t(\n\t\tcd r\n\t)\n'\n\ntest_done\n"
#define SUB_BLOCK(open) \
	SR("t/t.sh", "    )\n'\n\ntest_done\n", \
	   "    )\n'\n\ntest_expect_success 'b' '\n" open "        mkdir s &&\n        cd s\n    )\n'\n" \
	   "\ntest_done\n")

/* A tab file quoted with its tabs expanded to stops of 8; the block adds a
 * declaration whose parameters align one past its bracket. */
#define PROTO_C(tail) "static int f(void)\n{\n\treturn 0;\n}\n" tail
#define PROTO_BLOCK \
	SR("src/f.c", "static int f(void)\n{\n        return 0;\n}\n", \
	   "int longer_name2(int a,\n                 int b);\n\nstatic int f(void)\n{\n" \
	   "        return 0;\n}\n")

/* A shell function with one body line at two tabs, quoted as 8. */
#define PIPE_SH "run()\n{\n\tif test -f a\n\tthen\n\t\tdo_a\n\tfi\n}\n"
#define PIPE_BLOCK(first, second) \
	SR("run.sh", "    if test -f a\n    then\n        do_a\n    fi\n", \
	   "    if test -f a\n    then\n        do_a\n    fi\n    " first "\n        " second "\n")

/* A shell function whose pipes continue at three tabs, and a call whose flag
 * is aligned with two tabs and 5 spaces; `more` lines before it, `added`
 * after. Quoted with tabs expanded to stops of 8, spaces kept: the aligned
 * flag pins that damage. */
#define COL_SH(more, added) \
	"run()\n{\n\tif test -n \"$1\"\n\tthen\n\t\tpath=$(echo \"$1\" |\n" \
	"\t\t\tsed -e \"s|/$||\")\n" more "\t\tcall \"$path\" \\\n\t\t     --flag\n" \
	added "\tfi\n}\n"
/* three more pipes at three tabs, and `odd` after them */
#define COL_PIPES(odd) \
	"\t\ta=$(x |\n\t\t\ty)\n\t\tb=$(x |\n\t\t\ty)\n\t\tc=$(x |\n\t\t\ty)\n" odd
/* a pipe aligned with the line's own two tabs and 8 spaces */
#define COL_KEPT "\t\td=$(x |\n\t\t        y)\n"
/* a here-document's line at column 24 in spaces */
#define COL_DOC "\t\tcat <<-EOF\n                        text\n\t\tEOF\n"
#define COL_BLOCK(added) \
	SR("run.sh", "                call \"$path\" \\\n                     --flag\n        fi\n", \
	   "                call \"$path\" \\\n                     --flag\n" added "        fi\n")
#define COL_PIPE "                dir=$(dirname \"$path\" |\n                        sed -e x)\n"
/* A Perl sub; its `if` quoted with tabs as 8 columns and no space shown. */
#define COL_PL "sub f {\n\tmy ($a, $b) = @_;\n\tif (not defined $a) {\n\t\treturn 0;\n\t}\n" \
	"\treturn 1;\n}\n"

/* Option branches at three tabs, one of them (`--topo`) at two tabs and 8
 * spaces, as rev-list.c once had. */
#define COL_OPTS_C \
	"int f(const char *arg)\n{\n\twhile (arg) {\n" \
	"\t\tif (!strcmp(arg, \"--a\")) {\n\t\t\ta = 1;\n\t\t\tcontinue;\n\t\t}\n" \
	"\t\tif (!strcmp(arg, \"--b\")) {\n\t\t\tlimited = 1;\n\t\t\tcontinue;\n\t\t}\n" \
	"\t\tif (!strcmp(arg, \"--topo\")) {\n\t\t        topo = 1;\n\t\t\tcontinue;\n\t\t}\n" \
	"\t}\n}\n"
/* git-send-email.perl, cut down: code indented with tabs, and usage text
 * whose second lines align with 18 spaces. */
#define EV_SEND_HEAD \
	"\tclose(C2);\n\tdo {\n\t\t$_ = $term->readline(\"Send this email? (y|n) \");\n" \
	"\t} while (!defined $_);\n\tif (uc substr($_,0,1) ne 'Y') {\n" \
	"\t\tcleanup_compose_files();\n\t\texit(0);\n\t}\n" \
	"\t@files = ($compose_filename . \".final\");\n\t} elsif (-f $f) {\n" \
	"\t\tpush @files, $f;\n\t} else {\n" \
	"\t\tprint STDERR \"Skipping $f - not found.\\n\";\n\t}\n\tunless ($quiet) {\n" \
	"\t\tprint $_,\"\\n\" for (@files);\n\n" \
	"   --to           Specify the primary \"To:\" line of the email.\n\n"
#define EV_SEND_MID \
	"   --compose      Use \\$EDITOR to edit an introductory message for the\n" \
	"                  patch series.\n\nforeach my $t (@files) {\n" \
	"\topen(F,\"<\",$t) or die \"can't open file $t\";\n\n"
#define EV_SEND_TAIL \
	"\tmy $found_mbox = 0;\n\tmy $header_done = 0;\n\t$message = \"\";\n\twhile(<F>) {\n"
#define EV_SEND_CC \
	"   --cc           Specify an initial \"Cc:\" list for the entire series\n" \
	"                  of emails.\n\n"
/* t7201-co.sh, cut down: tests indented with a tab, the last one with 4
 * spaces and ending with `last`. */
#define EV_TESTS_TAB \
	"test_expect_success setup '\n\tgit checkout -b renamer &&\n\tgit reset --hard\n'\n\n" \
	"test_expect_success 'side' '\n\tgit checkout side &&\n\tgit branch one\n'\n\n" \
	"test_expect_success 'two' '\n\tgit branch two &&\n\tgit branch three\n'\n\n" \
	"test_expect_success 'four' '\n\tgit branch four &&\n\tgit branch -D delete-me\n'\n\n" \
	"test_expect_success 'delete' '\n    test refs/heads/delete-me = \"$(git symbolic-ref HEAD)\" &&\n"
#define EV_TESTS_SH(last) \
	"for i in 1 2\ndo\n\techo \"$i\"\ndone\n\n" EV_TESTS_TAB last "test_done\n"
/* parse-options.c, cut down: a condition whose second line aligns with two
 * tabs and 4 spaces (16 columns at 4 a tab and 2 a space), a message
 * aligned at 22, and bodies of `if (...)` four tabs deep. */
#define EV_OPTS_HEAD \
	"static int check(struct option *opts)\n{\n\tint err = 0;\n\n" \
	"\tfor (; opts->type; opts++) {\n\t\tif ((opts->flags & LASTARG) &&\n" \
	"\t\t    (opts->flags & OPTARG))\n" \
	"\t\t\terr |= bug(opts, \"uses incompatible flags \"\n" \
	"\t\t\t\t   \"LASTARG and OPTARG\");\n"
#define EV_OPTS_TAIL \
	"\t}\n\treturn err;\n}\n\n" \
	"static void walk(struct option *opts)\n{\n\twhile (opts) {\n" \
	"\t\tif (opts->flags) {\n\t\t\tif (opts->type)\n\t\t\t\topts++;\n" \
	"\t\t\tif (opts->help)\n\t\t\t\topts++;\n\t\t\tif (opts->name)\n" \
	"\t\t\t\topts++;\n\t\t}\n\t}\n}\n"
#define EV_OPTS_QUOTE \
	"    for (; opts->type; opts++) {\n        if ((opts->flags & LASTARG) &&\n" \
	"                (opts->flags & OPTARG))\n" \
	"            err |= bug(opts, \"uses incompatible flags \"\n" \
	"                      \"LASTARG and OPTARG\");\n"
/* git-svn.perl's command table, cut down: hash keys aligned after a `{`
 * with spaces after three tabs; `last` ends the second entry. */
#define EV_CMD_PL(last) \
	"my %cmd = (\n\t'fetch' => [ \\&cmd_fetch, \"Download\",\n" \
	"\t\t\t{ 'revision|r=s' => \\$_revision,\n\t\t\t  'fetch-all|all' => \\$_fetch_all,\n" \
	"\t\t\t   %fc_opts } ],\n\t'find-rev' => [ \\&cmd_find_rev, \"Translate\",\n\t\t\t" \
	last ");\n"
#define EV_CMD_QUOTE \
	"            { 'revision|r=s' => \\$_revision,\n" \
	"              'fetch-all|all' => \\$_fetch_all,\n               %fc_opts } ],\n" \
	"    'find-rev' => [ \\&cmd_find_rev, \"Translate\",\n"
/* builtin/clone.c, cut down, and a block quoting it at 4 a tab. */
#define EV_CLONE_C \
	"\tlen = end - start;\n\tstrip_suffix_mem(start, &len, \".git\");\n\n\tif (is_bare)\n" \
	"\t\tdir = xstrfmt(\"%.*s.git\", (int)len, start);\n\telse\n"
#define EV_CLONE_QUOTE \
	"    len = end - start;\n    strip_suffix_mem(start, &len, \".git\");\n\n" \
	"    if (is_bare)\n        dir = xstrfmt(\"%.*s.git\", (int)len, start);\n    else\n"
/* A tab file with one line 8 spaces deep (in a comment), a block adding a
 * function before it whose body the model indented with `b`, and one
 * changing its `return 1;`, quoted with `b` for its tab. */
#define EV_ART_C "#include \"a.h\"\n\nint one(void)\n{\n\treturn 1;\n}\n/*\n        art\n*/\n"
#define EV_ART_TWO(b) \
	SR("src/s.c", "#include \"a.h\"\n", "#include \"a.h\"\n\nint two(void)\n{\n" b "return 2;\n}\n")
#define EV_ART_ONE(b) \
	SR("src/s.c", "int one(void)\n{\n" b "return 1;\n", "int one(void)\n{\n" b "return 11;\n")
/* ... afterwards: two's body with `two`, one's line `one`. */
#define EV_ART_WANT(two, one) \
	"#include \"a.h\"\n\nint two(void)\n{\n" two "return 2;\n}\n\nint one(void)\n{\n" one "\n}\n" \
	"/*\n        art\n*/\n"
/* A tab file whose function bodies start one tab deep (its habit after an
 * unindented `{`), and a block quoting only its first line that adds a
 * struct and a function, their bodies indented with `one` and `two`. */
#define EV_BODY_FN(n, v) "\nint " n "(void)\n{\n\tint " v " = 1;\n\tif (" v ")\n\t\treturn " v \
	";\n\treturn 0;\n}\n"
#define EV_BODY_C \
	"#include \"a.h\"\n" EV_BODY_FN("one", "x") EV_BODY_FN("two", "y") EV_BODY_FN("three", "z")
/* ... with enough deep lines written with a tab (20 for each one with 8
 * spaces) to keep the habit through one such line */
#define EV_BODY_MORE \
	EV_BODY_C EV_BODY_FN("four", "a") EV_BODY_FN("five", "b") EV_BODY_FN("seven", "c") \
	EV_BODY_FN("eight", "d")
#define EV_BODY_NEW(one, two) \
	"#include \"a.h\"\n\nstruct it {\n" one "int h;\n};\n\nint five(void)\n{\n" one \
	"if (h)\n" two "return 5;\n" one "return 0;\n}\n"
#define EV_BODY_BLOCK(one, two) SR("src/b.c", "#include \"a.h\"\n", EV_BODY_NEW(one, two))
/* A shell test script (git's form) whose tests' bodies start one tab deep
 * under the line that opens their quoted body, and a block quoting only the
 * end of the last test that adds one, its body indented with `one`. */
#define EV_SH_TEST(n, body) "\ntest_expect_success '" n "' '\n" body "'\n"
#define EV_SH \
	"#!/bin/sh\n\ntest_description='t'\n. ./test-lib.sh\n" \
	EV_SH_TEST("one", "\techo one &&\n\ttrue\n") EV_SH_TEST("two", "\techo two &&\n\ttrue\n") \
	EV_SH_TEST("three", "\techo three &&\n\t(\n\t\tcd sub &&\n\t\ttrue\n\t)\n")
#define EV_SH_NEW(one) EV_SH_TEST("four", one "echo four &&\n" one "true\n")
typedef struct ev_case {
	const char *damage;  /* what the quote did, and what must come of it */
	const char *path, *file, *block;
	const char *want;    /* the file afterwards; NULL: refused, unchanged */
	const char *reason;  /* ... with this in the reasons */
} ev_case;

/* A tab file, and a block whose quote shows tabs (4 columns) but no space. */
#define EV_PARSE_C "void f(int argc, char **argv)\n{\n\tstart();\n\tstop();\n}\n"
#define EV_PARSE_BLOCK(cont) \
	SR("src/p.c", "    start();\n    stop();\n", \
	   "    start();\n    argc = parse_options(argc, argv,\n" cont "usage, 0);\n    stop();\n")

static const ev_case EV_CASES[] = {
	{ "the quote never showed a space; one past the bracket (three tabs and 5 spaces) is "
	  "22 columns if a space became 2, and no whole number of tabs is: aligned",
	  "src/p.c", EV_PARSE_C, EV_PARSE_BLOCK("                      "),
	  "void f(int argc, char **argv)\n{\n\tstart();\n\targc = parse_options(argc, argv,\n"
	  "\t\t\t     usage, 0);\n\tstop();\n}\n", NULL },
	{ "control: 24 columns, which no reading of a space takes the bracket's column to "
	  "and six tabs would be: refused",
	  "src/p.c", EV_PARSE_C, EV_PARSE_BLOCK("                        "), NULL,
	  "Ambiguous line: `                        usage, 0);`" },
	{ "another block quotes the file's two tabs as 8, and no other string of the file "
	  "reads as 8: `b++;` takes two tabs",
	  "src/ev.c", EV_C,
	  EV_BLOCK_1 SR("", "    while (b) {\n        if (a)\n            a--;\n",
	                "    while (b) {\n        if (a)\n            a -= 2;\n"),
	  "static int f(int a,\n\t     int b)\n{\n\tif (!b)\n\t\tb++;\n\tif (a)\n\t\treturn b;\n"
	  "\twhile (b) {\n\t\tif (a)\n\t\t\ta -= 2;\n\t}\n\treturn 0;\n}\n", NULL },
	{ "control: the first block alone shows no 8: refused, naming the line",
	  "src/ev.c", EV_C, EV_BLOCK_1, NULL, "Ambiguous line: `        b++;`" },
	{ "the file also starts a line with a tab and 2 spaces, and the second block quotes "
	  "it as 8 beside two tabs as 8: two strings for 8, refused, not guessed",
	  "src/ev.c",
	  "static int f(int a,\n\t     int b)\n{\n\tif (a)\n\t\treturn b;\n\twhile (b) {\n"
	  "\t\tif (a)\n\t\t\ta--;\n\t  b--;\n\t}\n\treturn 0;\n}\n",
	  EV_BLOCK_1 SR("", "        if (a)\n            a--;\n        b--;\n",
	                "        if (a)\n            a -= 2;\n        b--;\n"),
	  NULL, "Ambiguous line: `        b++;`" },
	{ "three tabs and 3 spaces read as 18 fit only 4 columns a tab and 2 a space: a "
	  "comment's ` * ` at 2 can only have been one space",
	  "src/decl.h", "int check(int a,\n\t\t\t   int b);\n",
	  SR("src/decl.h", "int check(int a,\n                  int b);\n",
	     "/*\n  * Checks a and b.\n  */\nint check(int a,\n                  int b);\n"),
	  "/*\n * Checks a and b.\n */\nint check(int a,\n\t\t\t   int b);\n", NULL },
	{ "a new call's second line at 20 is its bracket's column (two tabs and 6 spaces), "
	  "which no one or two more tabs would read as",
	  "src/align.c", ALIGN_C,
	  SR("src/align.c", "    if (x) {\n" ALIGN_SEARCH "    }\n",
	     "    if (x) {\n" ALIGN_SEARCH "        other(three,\n                    four);\n"
	     "    }\n"),
	  "void g(int x)\n{\n\tif (x) {\n\t\tcall(one,\n\t\t     two);\n"
	  "\t\tother(three,\n\t\t      four);\n\t}\n}\n", NULL },
	{ "`f(` puts its column at two tabs and 2 spaces, read as 12 like three tabs (a "
	  "continuation indented one level): refused and quoted",
	  "src/align.c", ALIGN_C,
	  SR("src/align.c", ALIGN_SEARCH, ALIGN_SEARCH "        f(a,\n            b);\n"),
	  NULL, "Ambiguous line: `            b);`" },
	{ "the quote never showed a tab, and the file's two tabs would read as 8 like the "
	  "4 spaces the widths give: refused, not put at 4 spaces",
	  "t/lib.sh", "run()\n{\n\tstart\n\t\tgo\n}\n" SH_TAIL, SH_BLOCK,
	  NULL, "Ambiguous line: `        tr c d`" },
	{ "control: with no line of two tabs in the file, 4 spaces it is",
	  "t/lib.sh", SH_TAIL, SH_BLOCK, "name()\n{\n        tr a b\n    tr c d\n}\n", NULL },
	{ "the body of a new `if` at three tabs, quoted a level deeper (16): the quoted "
	  "continuation `b))` is 16 too, but its two tabs and 4 spaces (column 20) would put "
	  "the body above the `if` (column 24): refused, not taken from that line",
	  "src/o.c", ORDER_C(""), ORDER_BLOCK, NULL, "Ambiguous line: `                a--;`" },
	{ "control: where the file puts such bodies a tab deeper (three times), its habit "
	  "decides: four tabs",
	  "src/o.c", ORDER_C(ORDER_HABIT), ORDER_BLOCK,
	  "void f(int a, int b)\n{\n\tif (a) {\n\t\tif (check(a,\n\t\t    b))\n"
	  "\t\t\tif (b)\n\t\t\t\ta--;\n\t}\n}\n" ORDER_HABIT, NULL },
	{ "a continuation of `$(list |` at 8: one past `$(` (a tab and 2 spaces) and two tabs "
	  "both read as 8, so the two tabs an old line shows at 8 do not decide: refused",
	  "run.sh", PIPE_SH, PIPE_BLOCK("$(list |", "grep y)"), NULL,
	  "Ambiguous line: `        grep y)`" },
	{ "control: with no bracket left open, the old line's two tabs stand",
	  "run.sh", PIPE_SH, PIPE_BLOCK("$(list) |", "grep y"),
	  "run()\n{\n\tif test -f a\n\tthen\n\t\tdo_a\n\tfi\n\t$(list) |\n\t\tgrep y\n}\n",
	  NULL },
	{ "a statement after a one-line comment, at 16 like the aligned `b(e))` the block "
	  "quotes: it takes the depth of `ret = 1;`, which the block also quotes at 16, not the "
	  "aligned line's blanks",
	  "src/f.c", CM2_C,
	  SR("src/f.c", CM2_SEARCH,
	     "        if (a(e) &&\n                b(e))\n            if (c(e)) {\n"
	     "                /* why */\n                err = 2;\n            }\n        done();\n"),
	  "int f(int e)\n{\n\tif (e) {\n\t\tif (a(e) &&\n\t\t    b(e))\n\t\t\tif (c(e)) {\n"
	  "\t\t\t\t/* why */\n\t\t\t\terr = 2;\n\t\t\t}\n\t\tdone();\n\t}\n}\n", NULL },
	{ "a statement at 16 after a comment's `*/` (which ends no expression: the line "
	  "starts a statement), where only the aligned `b(e)) {` shows 16: refused, not put "
	  "at its column 20 under a comment at 24",
	  "src/f.c", CM3_C,
	  SR("src/f.c", CM3_HEAD "              * old\n              */\n" CM3_TAIL,
	     CM3_HEAD "              * new\n              */\n                err = 2;\n" CM3_TAIL),
	  NULL, "Ambiguous line: `                err = 2;`" },
	{ "a unified diff whose context lost its tabs (4 columns each) adds a heading indented "
	  "1 column: no count of tabs and spaces makes 1 at 2 columns a space, so that damage "
	  "was not this line's, and 1 space it is",
	  "doc.txt", ODD_DOC, ODD_DIFF(" "), ODD_DOC_NEW, NULL },
	{ "control: the same heading quoted at 2 columns, which is one space or two: refused",
	  "doc.txt", ODD_DOC, ODD_DIFF("  "), NULL, "Ambiguous line: `  server`" },
	{ "a file mixing tabs and spaces whose quote crosses them (a tab as 8 here, 4 there): "
	  "a new line the model did not indent, where every old line it did not indent starts "
	  "the line in the file, starts the line",
	  "f.pl", FLUSH_PL(""), FLUSH_DIFF, FLUSH_PL_NEW(""), NULL },
	{ "control: where an old line the model did not indent is indented in the file, the "
	  "crossing refuses the new line as before",
	  "f.pl", FLUSH_PL("  "), FLUSH_DIFF, NULL, "Ambiguous line: `unless (-d $dir) {`" },
	{ "a block comment added at one tab, quoted at 4 columns a tab with no space shown: "
	  "its ` * ` lines (6: a tab and 1 space, or a tab and 2) take C's place for the star, "
	  "one column past the opening line's slash",
	  "src/f.c", "int f(int *p)\n{\n\tgo();\n\treturn 0;\n}\n",
	  SR("src/f.c", "    go();\n", "    /*\n      * Go first.\n      */\n    go();\n"),
	  "int f(int *p)\n{\n\t/*\n\t * Go first.\n\t */\n\tgo();\n\treturn 0;\n}\n", NULL },
	{ "control: a `*` that starts a line under a comment already closed is code, not the "
	  "comment's star: refused",
	  "src/f.c", "int f(int *p)\n{\n\tgo();\n\treturn 0;\n}\n",
	  SR("src/f.c", "    go();\n", "    /* one */\n      *p = 0;\n    go();\n"), NULL,
	  "Ambiguous line: `      *p = 0;`" },
	{ "a shell subshell's `(` alone on its line opens a block, with nothing to align "
	  "under: the first line in it is a level deeper (two tabs), as the block's one pair "
	  "scales, not refused as a continuation",
	  "t/t.sh", SUB_SH, SUB_BLOCK("    (\n"),
	  "test_expect_success 'a' '\n\t(\n\t\tcd r\n\t)\n'\n\ntest_expect_success 'b' '\n"
	  "\t(\n\t\tmkdir s &&\n\t\tcd s\n\t)\n'\n\ntest_done\n", NULL },
	{ "control: after `( cd r &&` (a bracket left open, with words to align under) the same "
	  "width is refused",
	  "t/t.sh", SUB_SH, SUB_BLOCK("    ( cd r &&\n"), NULL, "Ambiguous line: `        mkdir s &&`" },
	{ "tabs expanded to stops of 8: a new declaration's second line one past its bracket "
	  "(17) is two tabs and a space or 17 spaces alike; the file never starts a line 8 "
	  "deep with spaces only, so tabs as far as they go",
	  "src/f.c", PROTO_C(""), PROTO_BLOCK,
	  "int longer_name2(int a,\n\t\t int b);\n\n" PROTO_C(""), NULL },
	{ "control: a file that also starts a line with 10 spaces leaves the two unsettled: "
	  "refused",
	  "src/f.c", PROTO_C("/*\n          spaces\n*/\n"), PROTO_BLOCK, NULL,
	  "Ambiguous line: `                 int b);`" },
	{ "tabs expanded to stops of 8, spaces kept (the aligned flag, two tabs and 5 spaces "
	  "quoted as 21, fits no other damage): a pipe's continuation at 24 is column 24, which "
	  "the file writes only as three tabs",
	  "run.sh", COL_SH("", ""), COL_BLOCK(COL_PIPE),
	  COL_SH("", "\t\tdir=$(dirname \"$path\" |\n\t\t\tsed -e x)\n"), NULL },
	{ "control: where the file also aligns a line under another with that line's two tabs "
	  "and 8 spaces, column 24 under `dir=$(` may be written either way: refused, though "
	  "the file writes 24 as three tabs four times as often",
	  "run.sh", COL_SH(COL_PIPES(COL_KEPT), ""), COL_BLOCK(COL_PIPE), NULL,
	  "Ambiguous line: `                        sed -e x)`" },
	{ "the same, in a file that writes 21 lines past the column of the line above tabs as "
	  "far as they go and only that one with the line's blanks then spaces (under 1 in "
	  "20): three tabs",
	  "run.sh", COL_SH(COL_PIPES(COL_KEPT) COL_PIPES("") COL_PIPES("") COL_PIPES("")
	                   COL_PIPES("") COL_PIPES(""), ""),
	  COL_BLOCK(COL_PIPE),
	  COL_SH(COL_PIPES(COL_KEPT) COL_PIPES("") COL_PIPES("") COL_PIPES("") COL_PIPES("")
	         COL_PIPES(""), "\t\tdir=$(dirname \"$path\" |\n\t\t\tsed -e x)\n"), NULL },
	{ "control: in that file, a line that comes back to column 12 under a line at 16 is "
	  "no line past the one above: refused",
	  "run.sh", COL_SH(COL_PIPES(COL_KEPT) COL_PIPES("") COL_PIPES("") COL_PIPES("")
	                   COL_PIPES("") COL_PIPES(""), ""),
	  COL_BLOCK("            done\n"), NULL, "Ambiguous line: `            done`" },
	{ "control: in that file, under an unindented line, column 24 that the file also "
	  "starts a line at in spaces (a here-document's text) is left to the block: refused",
	  "run.sh", COL_SH(COL_PIPES(COL_KEPT) COL_PIPES("") COL_PIPES("") COL_PIPES("")
	                   COL_PIPES("") COL_PIPES(COL_DOC), ""),
	  COL_BLOCK("x=$(y |\n                        z)\n"), NULL,
	  "Ambiguous line: `                        z)`" },
	{ "control: 18 lines to that one (1 in 18): refused",
	  "run.sh", COL_SH(COL_PIPES(COL_KEPT) COL_PIPES("") COL_PIPES("") COL_PIPES("")
	                   COL_PIPES(""), ""),
	  COL_BLOCK(COL_PIPE), NULL, "Ambiguous line: `                        sed -e x)`" },
	{ "where the file writes column 24 as three tabs four times and once in spaces (a "
	  "here-document's text), three tabs",
	  "run.sh", COL_SH(COL_PIPES(COL_DOC), ""), COL_BLOCK(COL_PIPE),
	  COL_SH(COL_PIPES(COL_DOC), "\t\tdir=$(dirname \"$path\" |\n\t\t\tsed -e x)\n"), NULL },
	{ "control: with two such lines in spaces, under four times as many: refused",
	  "run.sh", COL_SH(COL_PIPES(COL_DOC COL_DOC), ""), COL_BLOCK(COL_PIPE), NULL,
	  "Ambiguous line: `                        sed -e x)`" },
	{ "a line under `topo = 1;` at its column 24, which that line writes as two tabs and "
	  "8 spaces: the author may have copied its blanks or written three tabs, as the file "
	  "does 6 times out of 7; refused",
	  "src/o.c", COL_OPTS_C,
	  SR("src/o.c", "                if (!strcmp(arg, \"--topo\")) {\n                        topo = 1;\n"
	     "                        continue;\n                }\n        }\n",
	     "                if (!strcmp(arg, \"--topo\")) {\n                        topo = 1;\n"
	     "                        limited = 1;\n                        continue;\n                }\n"
	     "        }\n"),
	  NULL, "Ambiguous line: `                        limited = 1;`" },
	{ "a line that comes back to column 12, which no line of the file starts at, under a "
	  "line at 16: no habit of the file's says how to write it; refused",
	  "run.sh", COL_SH("", ""),
	  COL_BLOCK("            done\n"), NULL, "Ambiguous line: `            done`" },
	{ "control: column 12 deeper than the line above (aligned under it) is written tabs "
	  "first, as every line of the file is",
	  "run.sh", COL_SH("", ""),
	  COL_BLOCK("                echo ok &&\n                    done\n"),
	  COL_SH("", "\t\techo ok &&\n\t\t    done\n"), NULL },
	{ "a quote with tabs as 8 columns that shows no space: a space was one column, as a "
	  "quote at the file's own tab width shows it, not 2 (which would make 16 the `if`'s "
	  "bracket's column, a tab and 4 spaces): the condition's second line is column 16, "
	  "two tabs",
	  "f.pl", COL_PL,
	  SR("f.pl", "        if (not defined $a) {\n                return 0;\n",
	     "        if (not defined $a and\n                not defined $b) {\n"
	     "                return 0;\n"),
	  "sub f {\n\tmy ($a, $b) = @_;\n\tif (not defined $a and\n\t\tnot defined $b) {\n"
	  "\t\treturn 0;\n\t}\n\treturn 1;\n}\n", NULL },
	{ "the habits put a line after `)` at the same column (the file's statements end so), "
	  "but for the body of a new `if (x)` that column (two tabs and 8 spaces at 4 a tab "
	  "and 1 a space) is no deeper than the `if`: refused, not taken from the habit",
	  "src/f.c",
	  "void f(void)\n{\n\t\t\ta();\n\t\t\tb();\n\t\t\tc();\n\t\t\te(1,\n\t\t\t    2);\n"
	  "\t\t\td();\n}\n",
	  SR("src/f.c", "            e(1,\n                2);\n            d();\n",
	     "            e(1,\n                2);\n            if (x)\n                y();\n"
	     "            d();\n"),
	  NULL, "Ambiguous line: `                y();`" },
	{ "a block that quotes only unindented lines (an exact match) adds a function whose "
	  "body starts 8 spaces deep, in a file that writes a tab for every 8 columns and never "
	  "8 spaces: the model's expanded tabs are not written into the file; refused",
	  "src/s.c", "#include \"a.h\"\n\nint one(void)\n{\n\treturn 1;\n}\n",
	  EV_ART_TWO("        "), NULL, "Ambiguous line: `        return 2;`" },
	{ "no other quote shows what a tab became, but the block's own new body under an "
	  "unindented `{` does, in a file that starts such bodies one tab deep (and writes "
	  "its deep lines with tabs): its 8 spaces are a tab, and every new line is "
	  "re-indented by that",
	  "src/b.c", EV_BODY_C, EV_BODY_BLOCK("        ", "                "),
	  EV_BODY_NEW("\t", "\t\t") EV_BODY_FN("one", "x") EV_BODY_FN("two", "y")
	  EV_BODY_FN("three", "z"), NULL },
	{ "so too at 4 columns a tab: the body's 4 spaces are the tab, 8 are two",
	  "src/b.c", EV_BODY_C, EV_BODY_BLOCK("    ", "        "),
	  EV_BODY_NEW("\t", "\t\t") EV_BODY_FN("one", "x") EV_BODY_FN("two", "y")
	  EV_BODY_FN("three", "z"), NULL },
	{ "so too under a line that leaves a quote open at its end (a shell test's "
	  "`test_expect_success 'x' '`), in a file that starts such bodies one tab deep; the "
	  "quote that ends the test above, alone on its line, opens nothing",
	  "t/t1.sh", EV_SH "\ntest_done\n",
	  SR("t/t1.sh", "'\n\ntest_done\n", "'\n" EV_SH_NEW("        ") "\ntest_done\n"),
	  EV_SH EV_SH_NEW("\t") "\ntest_done\n", NULL },
	{ "control: two bodies of the block that disagree on the tab (8 and 4 spaces) say "
	  "nothing; refused",
	  "src/b.c", EV_BODY_C,
	  SR("src/b.c", "#include \"a.h\"\n",
	     "#include \"a.h\"\n\nstruct it {\n        int h;\n};\n\nint five(void)\n{\n"
	     "    return 5;\n}\n"),
	  NULL, "Ambiguous line: `        int h;`" },
	{ "control: a line that ends with a colon opens no body (prose does so: `Usage:` "
	  "then an example 4 spaces deep): its spaces are not read as a tab; in a file that "
	  "never starts a line with 4 spaces they are not written either: refused",
	  "src/b.c", EV_BODY_C,
	  SR("src/b.c", "#include \"a.h\"\n", "#include \"a.h\"\n/*\nUsage:\n    f(x)\n*/\n"),
	  NULL, "Ambiguous line: `    f(x)`" },
	{ "... and where the file has a line 4 spaces deep, they are kept as written",
	  "src/b.c", EV_BODY_C "/*\n    art\n*/\n",
	  SR("src/b.c", "#include \"a.h\"\n", "#include \"a.h\"\n/*\nUsage:\n    f(x)\n*/\n"),
	  "#include \"a.h\"\n/*\nUsage:\n    f(x)\n*/\n" EV_BODY_FN("one", "x") EV_BODY_FN("two", "y")
	  EV_BODY_FN("three", "z") "/*\n    art\n*/\n", NULL },
	{ "control: a body the block repeats as it quotes it (4 spaces: the file's own, "
	  "since the block matched byte for byte) says nothing of a tab; the new line 8 "
	  "spaces deep, in a file that has such a line, is kept as written",
	  "src/b.c", EV_BODY_MORE "\nint six(void)\n{\n    return 6;\n}\n/*\n        art\n*/\n",
	  SR("src/b.c", "int six(void)\n{\n    return 6;\n}\n",
	     "int g = a ||\n        b;\nint six(void)\n{\n    return 6;\n}\n"),
	  EV_BODY_MORE "\nint g = a ||\n        b;\nint six(void)\n{\n    return 6;\n}\n"
	  "/*\n        art\n*/\n", NULL },
	{ "control: a file with a single body has no habit to read the width from: refused "
	  "(as the tab file above with one function)",
	  "src/b.c", "#include \"a.h\"\n" EV_BODY_FN("one", "x"),
	  EV_BODY_BLOCK("        ", "                "), NULL, "Ambiguous line: `        int h;`" },
	{ "so too where the body starts 4 spaces deep (a tab of 4 columns) in a file that "
	  "never starts a line with 4 spaces: the model's expanded tabs are not written into "
	  "the file; refused",
	  "src/b.c", "#include \"a.h\"\n" EV_BODY_FN("one", "x"),
	  SR("src/b.c", "#include \"a.h\"\n", "#include \"a.h\"\n\nstruct it {\n    int h;\n};\n"),
	  NULL, "Ambiguous line: `    int h;`" },
	{ "control: 5 spaces are an alignment, not a tab of 4 columns: kept as written",
	  "src/b.c", "#include \"a.h\"\n" EV_BODY_FN("one", "x"),
	  SR("src/b.c", "#include \"a.h\"\n", "#include \"a.h\"\n/* a\n     b */\n"),
	  "#include \"a.h\"\n/* a\n     b */\n" EV_BODY_FN("one", "x"), NULL },
	{ "control: a file that already starts a line with 8 spaces keeps them as written",
	  "src/s.c", EV_ART_C, EV_ART_TWO("        "), EV_ART_WANT("        ", "\treturn 1;"), NULL },
	{ "the same block beside one whose quote shows the file's tabs expanded to stops of "
	  "8: its new lines went through the same damage, and take the file's tab",
	  "src/s.c", EV_ART_C, EV_ART_ONE("        ") EV_ART_TWO("        "),
	  EV_ART_WANT("\t", "\treturn 11;"), NULL },
	{ "so too where the other block's quote made a tab 4 columns (a space 1 or 2: it "
	  "showed none)",
	  "src/s.c", EV_ART_C, EV_ART_ONE("    ") EV_ART_TWO("    "),
	  EV_ART_WANT("\t", "\treturn 11;"), NULL },
	{ "control: in a file indented with 4 spaces and a tab here and there, a block that "
	  "matched byte for byte keeps its new 4 spaces, though another block's quote made a "
	  "tab 4 columns: the file writes that depth with spaces 4 times as often",
	  "src/e.pl", "sub a {\n    my $x = 1;\n    my $y = 2;\n    my $z = 3;\n    return $x;\n}\n"
	  "sub b {\n\treturn 2;\n}\n",
	  SR("src/e.pl", "sub b {\n    return 2;\n", "sub b {\n    return 3;\n")
	  SR("src/e.pl", "sub a {\n", "sub c {\n    return 4;\n}\nsub a {\n"),
	  "sub c {\n    return 4;\n}\nsub a {\n    my $x = 1;\n    my $y = 2;\n    my $z = 3;\n"
	  "    return $x;\n}\nsub b {\n\treturn 3;\n}\n", NULL },
	{ "a block that matched byte for byte quotes a test indented with 4 spaces, in a file "
	  "whose other tests (and so the file's habit after a test's first line) use a tab, "
	  "which another block's quote made 4 columns: the new test's 4 spaces are not taken "
	  "from the quoted lines, whose spaces a tab would have become too, but from the habit",
	  "t/t.sh", EV_TESTS_SH("    test_must_fail git checkout -b track'\n\n"),
	  SR("t/t.sh", "do\n    echo \"$i\"\ndone\n", "do\n    echo \"$i\" >&2\ndone\n")
	  SR("t/t.sh", "    test_must_fail git checkout -b track'\n\ntest_done\n",
	     "    test_must_fail git checkout -b track'\n\n"
	     "test_expect_success 'unmerged' '\n    rm -f .git/index &&\n    git checkout fild\n'\n"
	     "\ntest_done\n"),
	  "for i in 1 2\ndo\n\techo \"$i\" >&2\ndone\n\n" EV_TESTS_TAB
	  "    test_must_fail git checkout -b track'\n\n"
	  "test_expect_success 'unmerged' '\n\trm -f .git/index &&\n\tgit checkout fild\n'\n"
	  "\ntest_done\n", NULL },
	{ "the body of a new `if (...)` is a statement, however much deeper than the `if` "
	  "it sits: a message aligned at 22 makes the model's step 2, so 16 under 12 is a "
	  "jump, but the aligned condition line's two tabs and 4 spaces do not answer for it",
	  "src/o.c", EV_OPTS_HEAD EV_OPTS_TAIL,
	  SR("src/o.c", EV_OPTS_QUOTE "    }\n",
	     EV_OPTS_QUOTE "        if (opts->short_name) {\n"
	     "            if (0x7F <= opts->short_name)\n"
	     "                err |= bug(opts, \"invalid short name\");\n        }\n    }\n"),
	  EV_OPTS_HEAD "\t\tif (opts->short_name) {\n\t\t\tif (0x7F <= opts->short_name)\n"
	  "\t\t\t\terr |= bug(opts, \"invalid short name\");\n\t\t}\n" EV_OPTS_TAIL, NULL },
	{ "control: a condition's body two steps deeper than it (12 under an `if` at 4, "
	  "where the quote's step is 4) may be alignment (builtin/clone.c wrote a tab and 4 "
	  "spaces, 12 columns at 4 a tab and 2 a space, as three tabs are): refused",
	  "builtin/clone.c", EV_CLONE_C,
	  SR("builtin/clone.c", EV_CLONE_QUOTE,
	     "    len = end - start;\n    strip_suffix_mem(start, &len, \".git\");\n\n"
	     "    if (!len || (len == 1 && *start == '/'))\n"
	     "            die(\"No directory name could be guessed.\\n\"\n"
	     "        \"Please specify a directory on the command line\");\n\n"
	     "    if (is_bare)\n        dir = xstrfmt(\"%.*s.git\", (int)len, start);\n"
	     "    else\n"),
	  NULL, "Ambiguous line: `            die(" },
	{ "control: after a `{` that opens a hash (git-svn.perl), a line a jump deeper than "
	  "the model's step (2, from the aligned keys at 16 and 18) may be alignment, and "
	  "the key aligned at 16 (three tabs and 2 spaces) answers for it",
	  "s.pl", EV_CMD_PL("{} ],\n"),
	  SR("s.pl", EV_CMD_QUOTE "            {} ],\n",
	     EV_CMD_QUOTE "            {\n              'first-parent' => \\$_first_parent\n"
	     "            } ],\n"),
	  EV_CMD_PL("{\n\t\t\t  'first-parent' => \\$_first_parent\n\t\t\t} ],\n"), NULL },
	{ "beside a tabs-expanded block, one that matched byte for byte adds a line of usage "
	  "text 18 spaces deep, which no rule places (the file writes column 18 so only there, "
	  "and puts no such line after one like the line above); the block quoted a line with "
	  "those very spaces: the file's own there, kept",
	  "src/send.pl", EV_SEND_HEAD EV_SEND_MID "\t@cc = ();\n" EV_SEND_TAIL,
	  SR("src/send.pl", "foreach my $t (@files) {\n"
	     "        open(F,\"<\",$t) or die \"can't open file $t\";\n\n        @cc = ();\n",
	     "foreach my $t (@files) {\n"
	     "        open(F,\"<\",$t) or die \"can't open file $t\";\n\n"
	     "        @cc = @initial_cc;\n")
	  SR("src/send.pl", "   --to           Specify the primary \"To:\" line of the email.\n\n"
	     "   --compose      Use \\$EDITOR to edit an introductory message for the\n"
	     "                  patch series.\n",
	     "   --to           Specify the primary \"To:\" line of the email.\n\n" EV_SEND_CC
	     "   --compose      Use \\$EDITOR to edit an introductory message for the\n"
	     "                  patch series.\n"),
	  EV_SEND_HEAD EV_SEND_CC EV_SEND_MID "\t@cc = @initial_cc;\n" EV_SEND_TAIL, NULL },
	{ "the file's habit (the same column as a statement above) would write a tab and 10 "
	  "spaces, which no file indenting with tabs writes unless it has them: refused",
	  "src/f.c", "void f(void)\n{\n\t\t  a();\n\t\t  b();\n\t\t  c();\n\t\t  y;\n}\n",
	  SR("src/f.c", "          y;\n", "          y;\n              z;\n"), NULL,
	  "Ambiguous line: `              z;`" },
	{ "a header block that quotes only a comment (` * ` as 2): a new declaration's "
	  "second line is not scaled from it into 7 spaces where the file indents with tabs",
	  "src/c.h", "/*\n * Checks.\n */\nint check(int a);\n\nstruct s {\n\tint x;\n};\n",
	  SR("src/c.h", "/*\n  * Checks.\n  */\n",
	     "/*\n  * Checks.\n  */\nint verify(const char *buf, int size,\n"
	     "              int flags);\n"),
	  NULL, "Ambiguous line: `              int flags);`" },
	{ "control: the same header without a tab anywhere scales the comment's pair",
	  "src/c.h", "/*\n * Checks.\n */\nint check(int a);\n",
	  SR("src/c.h", "/*\n  * Checks.\n  */\n",
	     "/*\n  * Checks.\n  */\nint verify(const char *buf, int size,\n"
	     "              int flags);\n"),
	  "/*\n * Checks.\n */\nint verify(const char *buf, int size,\n       int flags);\n"
	  "int check(int a);\n", NULL },
};

START_TEST(reindent_by_the_evidence_of_the_quote)
{
	const ev_case *c = &EV_CASES[_i];

	if (c->want)
		assert_applied(c->path, c->file, c->block, c->want);
	else
		assert_refused(c->path, c->file, 1, c->block, c->reason);
}
END_TEST

/* --- the file's habits: where its lines stand against the line above --- */

/* A tab file whose `n` calls (the last one call3) each put their second
 * argument one column past the open bracket (two tabs and 6 spaces). */
static char *habit_file(int n)
{
	wd_buf b = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_puts(&b, "void g(int x)\n{\n"), 0);
	for (int i = 4 - n; i < 4; i++)
		ck_assert_int_eq(wd_buf_printf(&b, "\tif (x == %d) {\n\t\tcall%d(one,\n"
		                               "\t\t      two);\n\t}\n", i, i), 0);
	ck_assert_int_eq(wd_buf_puts(&b, "\tdone();\n}\n"), 0);
	return wd_buf_detach(&b);
}

/* The new call `f(a,` then `b);` after call3, quoted at 4 columns a tab and
 * 2 a space: its 12 is two tabs and 2 spaces (one past the bracket) or
 * three tabs (a continuation indented a level). */
#define HABIT_BLOCK \
	SR("src/h.c", "        call3(one,\n                    two);\n    }\n", \
	   "        call3(one,\n                    two);\n        f(a,\n            b);\n    }\n")

START_TEST(habit_aligns_a_continuation_as_the_file_does)
{
	char *file = habit_file(4);
	wd_buf want = WD_BUF_INIT;
	const char *at = strstr(file, "\t}\n\tdone();");

	/* four calls aligned under their bracket: the new one is too */
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(wd_buf_put(&want, file, (size_t)(at - file)), 0);
	ck_assert_int_eq(wd_buf_puts(&want, "\t\tf(a,\n\t\t  b);\n\t}\n\tdone();\n}\n"), 0);
	assert_applied("src/h.c", file, HABIT_BLOCK, wd_buf_cstr(&want));
	wd_buf_free(&want);
	free(file);
	/* control: one aligned call is too few to be a habit: refused */
	file = habit_file(1);
	assert_refused("src/h.c", file, 1, HABIT_BLOCK, "Ambiguous line: `            b);`");
	free(file);
}
END_TEST

START_TEST(habit_that_is_not_the_file_s_only_one_decides_nothing)
{
	/* the file aligns two calls under their bracket and indents two others by
	 * a tab: no habit stands out, the line is refused, not guessed */
	wd_buf b = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_puts(&b, "void g(int x)\n{\n"), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(wd_buf_printf(&b, "\tif (x == %d) {\n\t\tcall%d(one,\n\t\t%s);\n\t}\n",
		                               i, i, i % 2 ? "\tthree" : "      two"), 0);
	ck_assert_int_eq(wd_buf_puts(&b, "\tdone();\n}\n"), 0);
	assert_refused("src/h.c", wd_buf_cstr(&b), 1,
	               SR("src/h.c", "        call3(one,\n                three);\n    }\n",
	                  "        call3(one,\n                three);\n        f(a,\n"
	                  "            b);\n    }\n"),
	               "Ambiguous line: `            b);`");
	wd_buf_free(&b);
}
END_TEST

/* Learn the habits of `file` (lines), each line against the non-blank one
 * above it, as the matcher does; with the damage of a quote at 4 columns a
 * tab and 1 a space. */
static void habit_file_learn(wd_ind_evidence *ev, const char *const *file, size_t n)
{
	const char *above = NULL;

	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(wd_patch__ev_vocab_add(ev, file[i], strlen(file[i]), 1), 0);
		if (!file[i][0])
			continue;
		if (above)
			wd_patch__habit_learn(&ev->habit, above, strlen(above), file[i],
			                      strlen(file[i]));
		above = file[i];
	}
	ck_assert_int_eq(wd_patch__ev_pair_add(ev, "    ", 4, "\t", 1), 0);
	ck_assert_int_eq(wd_patch__ev_pair_add(ev, "        ", 8, "\t\t", 2), 0);
	ck_assert_int_eq(wd_patch__ev_pair_add(ev, "      ", 6, "\t  ", 3), 0);
}

START_TEST(habit_puts_the_body_of_a_condition_as_the_file_does)
{
	/* three conditions without braces, each body a tab deeper, among more
	 * statements that end with `;` and go on at their own column */
	static const char *const file[] = {
		"static int run(struct opts *o)", "{", "\tint ret = 0;", "\tint n = 1;",
		"\tint k = 2;", "", "\tif (o->a)", "\t\tret = 1;", "\tif (o->b)", "\t\tret = 2;",
		"\t} else if (o->c)", "\t\tret = 3;", "\tn++;", "\tk++;", "\tn += k;", "\tk += n;",
		"\tret += n;", "\tret += k;", "\treturn ret;", "}",
	};
	wd_ind_evidence ev = { 0 };
	wd_buf b = WD_BUF_INIT;
	const char *cond = "\t\tif (o->e)", *call = "\t\tTRACE(o->e)";

	habit_file_learn(&ev, file, sizeof(file) / sizeof(*file));
	/* a body quoted at 12 under `if (o->e)` at two tabs: three tabs (a tab
	 * deeper), two tabs and 4 spaces, or a tab and 8 spaces (the `if`'s own
	 * column, where the file puts a line after one ending with `;`) */
	ck_assert_int_eq(wd_patch__habit_pick(&ev, cond, strlen(cond), "            ", 12, &b), 1);
	ck_assert_str_eq(wd_buf_cstr(&b), "\t\t\t");
	/* control: a line ending with `)` that opens no body (a macro call
	 * without `;`) goes on as a statement's end does: the same column */
	wd_buf_clear(&b);
	ck_assert_int_eq(wd_patch__habit_pick(&ev, call, strlen(call), "            ", 12, &b), 1);
	ck_assert_str_eq(wd_buf_cstr(&b), "\t        ");
	wd_buf_free(&b);
	wd_patch__ev_free(&ev);
}
END_TEST

START_TEST(habit_vetoes_eight_spaces_where_the_file_writes_a_tab)
{
	/* a quote that re-indented 4 columns a tab and 2 a space (pairs: a tab as
	 * 4, 4 spaces as 8), in a file that writes every line 8 columns deep or
	 * more with a tab first: 13 spaces for the model's 26 is not the file's */
	wd_ind_evidence ev = { 0 };
	const char *file[] = { "proc p {} {", "    if {$a} {", "\tputs $a", "    }", "}" };
	const char *above = "\tset b [list [expr {$a * 2}] \\";
	char ps[27];

	for (size_t i = 0; i < sizeof(file) / sizeof(*file); i++)
		ck_assert_int_eq(wd_patch__ev_vocab_add(&ev, file[i], strlen(file[i]), 1), 0);
	for (int i = 0; i < 10; i++) {
		wd_patch__habit_learn(&ev.habit, file[1], strlen(file[1]), file[2], strlen(file[2]));
		wd_patch__habit_learn(&ev.habit, file[2], strlen(file[2]), file[3], strlen(file[3]));
	}
	ck_assert_int_eq(wd_patch__ev_pair_add(&ev, "    ", 4, "\t", 1), 0);
	ck_assert_int_eq(wd_patch__ev_pair_add(&ev, "        ", 8, "    ", 4), 0);
	memset(ps, ' ', 26);
	ps[26] = '\0';
	ck_assert_int_eq(wd_patch__habit_veto(&ev, above, strlen(above), ps, 26,
	                                      "             ", 13), 1);
	/* the file's own way of writing that depth (three tabs and 7 spaces) stands */
	ck_assert_int_eq(wd_patch__habit_veto(&ev, above, strlen(above), ps, 26,
	                                      "\t\t\t       ", 10), 0);
	/* control: a file that also writes deep lines with 8 spaces keeps the answer */
	for (int i = 0; i < 10; i++)
		wd_patch__habit_learn(&ev.habit, file[1], strlen(file[1]), "        x", 9);
	ck_assert_int_eq(wd_patch__habit_veto(&ev, above, strlen(above), ps, 26,
	                                      "             ", 13), 0);
	wd_patch__ev_free(&ev);
}
END_TEST

START_TEST(evidence_says_which_blanks_a_quote_can_have_come_from)
{
	/* pairs: two tabs quoted as 8, a tab and 4 spaces as 12: a tab is 4
	 * columns and a space 2, and nothing else fits */
	wd_ind_evidence ev = { 0 };

	ck_assert_int_eq(wd_patch__ev_pair_add(&ev, "        ", 8, "\t\t", 2), 0);
	ck_assert_int_eq(wd_patch__ev_pair_add(&ev, "            ", 12, "\t    ", 5), 0);
	ck_assert_int_eq(wd_patch__ev_fits_some(&ev, "\t\t\t\t", 4, 16), 1);
	ck_assert_int_eq(wd_patch__ev_fits_some(&ev, "\t\t    ", 6, 16), 1);
	/* 4 spaces are 8 columns, never the quote's 2 */
	ck_assert_int_eq(wd_patch__ev_fits_some(&ev, "    ", 4, 2), 0);
	ck_assert_int_eq(wd_patch__ev_fits_some(&ev, " ", 1, 2), 1);
	/* whole tabs reach 8 with two tabs, not with one */
	ck_assert_int_eq(wd_patch__ev_tabs_reach(&ev, 8, 2), 1);
	ck_assert_int_eq(wd_patch__ev_tabs_reach(&ev, 8, 1), 0);
	ck_assert_int_eq(wd_patch__ev_tabs_reach(&ev, 10, 8), 0);
	/* control: a pair no damage fits (a tab as 3 columns) leaves the evidence
	 * saying nothing: every answer fits, no tabs reach */
	ck_assert_int_eq(wd_patch__ev_pair_add(&ev, "   ", 3, "\t", 1), 0);
	ck_assert_int_eq(wd_patch__ev_fits_some(&ev, "    ", 4, 2), 1);
	ck_assert_int_eq(wd_patch__ev_tabs_reach(&ev, 8, 2), 0);
	wd_patch__ev_free(&ev);
}
END_TEST

/* --- witnesses: lines the model indented alike whose bytes are known ---- */

/* A declaration renamed and re-wrapped, its parameters aligned one past the
 * bracket (two tabs and 6 spaces), quoted at 4 columns a tab and 2 a space:
 * the second parameter line is aligned under the bracket (one rule), the
 * third is at the model's blanks of the second, and only the second's bytes
 * say where (under it). */
#define WIT_DECL_C \
	"static int lock(int fd)\n{\n\treturn fd;\n}\n\n" \
	"int hold_timeout(struct lock_file *lk, const char *path,\n" \
	"\t\t int flags, long timeout_ms)\n{\n\tint fd = lock(flags);\n\treturn fd;\n}\n"
#define WIT_DECL_SEARCH \
	"int hold_timeout(struct lock_file *lk, const char *path,\n" \
	"          int flags, long timeout_ms)\n{\n    int fd = lock(flags);\n"
#define WIT_DECL_REPLACE(third) \
	"int hold_timeout_mode(struct lock_file *lk,\n" \
	"                    const char *path, int flags,\n" third "long timeout_ms, int mode)\n" \
	"{\n    int fd = lock(flags);\n"

/* A call that a hunk moves into another function, its second line aligned
 * with five tabs in the file, which no width rule gives for a continuation. */
#define WIT_MOVE_C(extra) \
	"int apply(int a)\n{\n\tif (a > 1)\n\t\treturn 0;\n" \
	"\tif (svndiff0_apply(&delta, (off_t) strtoull(argv[4], NULL, 0),\n" \
	"\t\t\t\t\t&preimage_view, stdout))\n\t\treturn 1;\n" extra \
	"\treturn 0;\n}\n\nint other(void)\n{\n\treturn 2;\n}\n"
#define WIT_MOVE_BLOCK \
	SR("src/m.c", "int other(void)\n{\n    return 2;\n}\n", \
	   "int other(void)\n{\n    if (svndiff0_apply(&delta, (off_t) strtoull(argv[4], NULL, 0),\n" \
	   "                    &preimage_view, stdout))\n        return 1;\n    return 2;\n}\n")

/* A file that aligns three `die(` messages' second line under the bracket
 * and the fourth with five tabs; the fourth is changed. */
#define WIT_DIE_C \
	"void g(const char *dir)\n{\n" \
	"\tif (a(dir))\n\t\tdie(\"a %s\",\n\t\t    dir);\n" \
	"\tif (b(dir))\n\t\tdie(\"b %s\",\n\t\t    dir);\n" \
	"\tif (c(dir))\n\t\tdie(\"c %s\",\n\t\t    dir);\n" \
	"\tif (d(dir))\n\t\tdie(\"could not create %s\",\n\t\t\t\t\tdir);\n\tdone();\n}\n"
#define WIT_DIE_BLOCK(word) \
	SR("src/d.c", "    if (d(dir))\n        die(\"could not create %s\",\n" \
	   "                    dir);\n    done();\n", \
	   "    if (d(dir))\n        die(\"could not create %s: %s\",\n" \
	   "                    " word ", strerror(errno));\n    done();\n")

START_TEST(witness_the_line_above_indented_alike)
{
	char want[512];
	const char *tail = strstr(WIT_DECL_C, "{\n\tint fd");

	snprintf(want, sizeof(want), "static int lock(int fd)\n{\n\treturn fd;\n}\n\n"
	         "int hold_timeout_mode(struct lock_file *lk,\n\t\t      const char *path, int flags,\n"
	         "\t\t      long timeout_ms, int mode)\n%s", tail);
	assert_applied("src/l.c", WIT_DECL_C,
	               SR("src/l.c", WIT_DECL_SEARCH, WIT_DECL_REPLACE("                    ")),
	               want);
	/* control: the model put the third line elsewhere than the second:
	 * nothing witnesses its bytes, and it is refused */
	assert_refused("src/l.c", WIT_DECL_C, 1,
	               SR("src/l.c", WIT_DECL_SEARCH, WIT_DECL_REPLACE("                      ")),
	               "Ambiguous line: `                      long timeout_ms");
}
END_TEST

START_TEST(witness_the_file_s_own_line_with_that_text)
{
	assert_applied("src/m.c", WIT_MOVE_C(""), WIT_MOVE_BLOCK,
	               "int apply(int a)\n{\n\tif (a > 1)\n\t\treturn 0;\n"
	               "\tif (svndiff0_apply(&delta, (off_t) strtoull(argv[4], NULL, 0),\n"
	               "\t\t\t\t\t&preimage_view, stdout))\n\t\treturn 1;\n\treturn 0;\n}\n\n"
	               "int other(void)\n{\n\tif (svndiff0_apply(&delta, (off_t) strtoull(argv[4], "
	               "NULL, 0),\n\t\t\t\t\t&preimage_view, stdout))\n\t\treturn 1;\n\treturn 2;\n"
	               "}\n");
	/* control: the file also has that line at three tabs and 4 spaces, which
	 * the damage reads as the same 20 columns: the witnesses disagree */
	assert_refused("src/m.c", WIT_MOVE_C("\t\t\t    &preimage_view, stdout))\n"), 1,
	               WIT_MOVE_BLOCK, "Ambiguous line: `                    &preimage_view");
}
END_TEST

START_TEST(witness_the_removed_line_a_new_one_changes)
{
	char want[512];
	const char *at = strstr(WIT_DIE_C, "\tif (d(dir))");

	snprintf(want, sizeof(want), "%.*s\tif (d(dir))\n\t\tdie(\"could not create %%s: %%s\",\n"
	         "\t\t\t\t\tdir, strerror(errno));\n\tdone();\n}\n", (int)(at - WIT_DIE_C),
	         WIT_DIE_C);
	assert_applied("src/d.c", WIT_DIE_C, WIT_DIE_BLOCK("dir"), want);
	/* control: a new line that starts with another word is no change of the
	 * removed one; the file aligns such lines under the bracket more often
	 * than not, and it is refused */
	assert_refused("src/d.c", WIT_DIE_C, 1, WIT_DIE_BLOCK("path"),
	               "Ambiguous line: `                    path, strerror");
}
END_TEST

/* --- identical edits: one per place the file repeats its old lines ------ */

#define TWIN_BLOCK(s, r) "src/t.c\n<<<<<<< SEARCH\n" s "=======\n" r ">>>>>>> REPLACE\n"

START_TEST(identical_blocks_change_each_place_the_file_repeats)
{
	static const char two[] = "void a(void)\n{\n\tfree(x);\n}\n\nvoid b(void)\n{\n\tfree(x);\n}\n";
	static const char one[] = "void a(void)\n{\n\tfree(x);\n}\n";
#define FREE_BLOCK TWIN_BLOCK("\tfree(x);\n}\n", "\tfree(x);\n\tx = NULL;\n}\n")
	/* an insertion after the old lines, which stay in the new text */
#define INSERT_BLOCK TWIN_BLOCK("{\n\tfree(x);\n", "{\n\tfree(x);\n\tfree(x);\n")
	wd_patch_report r;

	/* the file frees x in two places, and the reply sends the block twice:
	 * each place changes, in order, as SEARCH/REPLACE tools apply them */
	assert_applied("src/t.c", two, FREE_BLOCK FREE_BLOCK,
	               "void a(void)\n{\n\tfree(x);\n\tx = NULL;\n}\n\nvoid b(void)\n{\n"
	               "\tfree(x);\n\tx = NULL;\n}\n");
	/* the same block pasted twice for a text the file has once: refused,
	 * where applying the blocks in turn would have failed half-way */
	assert_refused("src/t.c", one, 1, FREE_BLOCK FREE_BLOCK, "one of 2 identical edits");
	/* three blocks for two places */
	assert_refused("src/t.c", two, 1, FREE_BLOCK FREE_BLOCK FREE_BLOCK,
	               "one of 3 identical edits, but its old lines match 2 places");
	/* an insertion pasted twice for a text the file has once would write
	 * the new line twice into one place: refused */
	assert_refused("src/t.c", one, 1, INSERT_BLOCK INSERT_BLOCK, "identical edits");
	/* ... and where the file has it twice, the first insertion leaves the
	 * old lines matching as often as before: which place the second means
	 * cannot be told */
	assert_refused("src/t.c", two, 1, INSERT_BLOCK INSERT_BLOCK, "identical edits");
	/* control: one block for a text the file has twice is ambiguous, as ever */
	put_file("src/t.c", two);
	ck_assert_int_eq(apply_text(&r, FREE_BLOCK), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&r.reasons), "ambiguous"));
	wd_patch_report_free(&r);
#undef FREE_BLOCK
#undef INSERT_BLOCK
}
END_TEST

/* A tab file that aligns each `BUG(` call's next line one column past its
 * bracket: two tabs and 4 spaces. At 4 columns a tab that column reads 12,
 * as three tabs do; under 2 columns a space, two tabs and 4 spaces would
 * read 16, and three tabs (or two and 2 spaces) 12. */
#define BUG_C \
	"int f(int a, int b)\n{\n\tif (a)\n\t\tBUG(\"one %d\",\n\t\t    a);\n" \
	"\tif (b)\n\t\tBUG(\"two %d\",\n\t\t    b);\n" \
	"\tif (a > b)\n\t\tBUG(\"three %d\",\n\t\t    a - b);\n\treturn 0;\n}\n"
#define BUG_NEW_CALL "    if (a < 0)\n        BUG(\"neg %d\",\n            a);\n    return 0;\n}\n"
#define BUG_WANT(comment) \
	"int f(int a, int b)\n{\n\tif (a)\n\t\tBUG(\"one %d\",\n\t\t    a);\n" \
	"\tif (b)\n\t\tBUG(\"two %d\",\n\t\t    b);\n" \
	"\tif (a > b)\n\t\tBUG(\"three %d\",\n\t\t    a - b);\n" comment \
	"\tif (a < 0)\n\t\tBUG(\"neg %d\",\n\t\t    a);\n\treturn 0;\n}\n"

START_TEST(a_space_kept_as_one_column_anywhere_in_the_reply_settles_alignment)
{
	/* a quote at 4 columns a tab whose old lines show no space: the
	 * call's next line at 12 is the file's alignment if a space stayed
	 * one column, a third tab if it became two; the file cannot say */
	const char *plain = SR("src/t.c", "    return 0;\n}\n", BUG_NEW_CALL);
	/* the same block with a comment whose ` * ` line reads 5: odd, which no
	 * damage that makes a space 2 columns (or a tab 2) writes */
	const char *odd = SR("src/t.c", "    return 0;\n}\n",
	                     "    /*\n     * negative: a bug\n     */\n" BUG_NEW_CALL);
	/* another file's quote, of a line aligned with a tab and 4 spaces,
	 * read 8: only a tab of 4 and a space of 1 do that */
	const char *other = SR("src/a.c", "    if (x &&\n        y)\n        return 1;\n",
	                       "    if (x &&\n        y)\n        return 2;\n");
	/* control: the other file's quote shows no space */
	const char *blind = SR("src/a.c", "    if (x &&\n", "    if (x ||\n");
	wd_buf t = WD_BUF_INIT;
	wd_patch_report r;

	assert_refused("src/t.c", BUG_C, 1, plain, "Ambiguous line: `            a);`");
	put_file("src/t.c", BUG_C);
	ck_assert_int_eq(apply_text(&r, odd), 0);
	wd_patch_report_free(&r);
	assert_file("src/t.c", BUG_WANT("\t/*\n\t * negative: a bug\n\t */\n"));

	put_file("src/t.c", BUG_C);
	put_file("src/a.c", "int g(int x, int y)\n{\n\tif (x &&\n\t    y)\n\t\treturn 1;\n"
	                    "\treturn 0;\n}\n");
	ck_assert_int_eq(wd_buf_puts(&t, other) || wd_buf_puts(&t, plain), 0);
	ck_assert_int_eq(apply_text(&r, wd_buf_cstr(&t)), 0);
	wd_patch_report_free(&r);
	assert_file("src/t.c", BUG_WANT(""));
	assert_file("src/a.c", "int g(int x, int y)\n{\n\tif (x &&\n\t    y)\n\t\treturn 2;\n"
	                       "\treturn 0;\n}\n");

	put_file("src/t.c", BUG_C);
	put_file("src/a.c", "int g(int x, int y)\n{\n\tif (x &&\n\t    y)\n\t\treturn 1;\n"
	                    "\treturn 0;\n}\n");
	wd_buf_clear(&t);
	ck_assert_int_eq(wd_buf_puts(&t, blind) || wd_buf_puts(&t, plain), 0);
	ck_assert_int_eq(apply_text(&r, wd_buf_cstr(&t)), WD_EREFUSED);
	wd_patch_report_free(&r);
	assert_file("src/t.c", BUG_C);
	wd_buf_free(&t);
}
END_TEST

/* A tab file whose wrapped conditions align under their bracket: a tab and
 * 4 spaces, which a quote at 4 columns a tab reads as 8, as two tabs. */
#define CHAIN_C \
	"int f(int a, int b)\n{\n\tif (a &&\n\t    b)\n\t\treturn 1;\n" \
	"\tif (b ||\n\t    a)\n\t\treturn 3;\n\tif (a ||\n\t    !b)\n\t\treturn 4;\n" \
	"\tif (b) {\n\t\ta = 2;\n\t}\n\treturn 0;\n}\n"

START_TEST(a_line_continuing_a_chain_keeps_the_column_of_the_line_above)
{
	/* the comment's ` * ` line (5) says a space stayed one column; the
	 * block's `a = 2;` says 8 is two tabs where a statement starts */
	const char *t = SR("src/t.c", "    if (b) {\n        a = 2;\n",
	                   "    /*\n     * both\n     */\n    if (a > 0 &&\n        b > 0 &&\n"
	                   "        b < 9)\n        return 2;\n    if (b) {\n        a = 2;\n");
	wd_patch_report r;

	put_file("src/t.c", CHAIN_C);
	ck_assert_int_eq(apply_text(&r, t), 0);
	wd_patch_report_free(&r);
	/* `b < 9)` continues `b > 0 &&` at its width in the quote: at its
	 * column in the file, not two tabs deep; the body after the condition
	 * is two tabs, where the file puts every statement the quote reads 8 */
	assert_file("src/t.c", "int f(int a, int b)\n{\n\tif (a &&\n\t    b)\n\t\treturn 1;\n"
	                       "\tif (b ||\n\t    a)\n\t\treturn 3;\n\tif (a ||\n\t    !b)\n\t\treturn 4;\n"
	                       "\t/*\n\t * both\n\t */\n\tif (a > 0 &&\n\t    b > 0 &&\n\t    b < 9)\n"
	                       "\t\treturn 2;\n\tif (b) {\n\t\ta = 2;\n\t}\n\treturn 0;\n}\n");
}
END_TEST

/* A tab file whose block quotes `return 1;` with its tab as 8 spaces, and
 * one the reply's block quotes only at its unindented first line. */
#define POOL_A_C "int a(void)\n{\n\treturn 1;\n}\n"
#define POOL_B_C "#include \"a.h\"\n\nint one(void)\n{\n\treturn 1;\n}\n/*\n        art\n*/\n"
#define POOL_B_BLOCK \
	SR("src/b.c", "#include \"a.h\"\n", \
	   "#include \"a.h\"\n\nint two(void)\n{\n        return 2;\n}\n")

START_TEST(exact_block_takes_the_damage_another_file_of_the_reply_shows)
{
	const char *a = SR("src/a.c", "int a(void)\n{\n        return 1;\n",
	                   "int a(void)\n{\n        return 11;\n");
	const char *c = SR("src/c.c", "int c(void)\n{\n    return 3;\n",
	                   "int c(void)\n{\n    return 33;\n");
	wd_buf t = WD_BUF_INIT;
	wd_patch_report r;

	put_file("src/a.c", POOL_A_C);
	put_file("src/b.c", POOL_B_C);
	put_file("src/c.c", "int c(void)\n{\n\treturn 3;\n}\n");
	/* a.c's quote expanded its tab to 8 columns: so did b.c's new lines,
	 * whose own block showed nothing of it */
	ck_assert_int_eq(wd_buf_puts(&t, a) || wd_buf_puts(&t, POOL_B_BLOCK), 0);
	ck_assert_int_eq(apply_text(&r, wd_buf_cstr(&t)), 0);
	wd_patch_report_free(&r);
	assert_file("src/a.c", "int a(void)\n{\n\treturn 11;\n}\n");
	assert_file("src/b.c", "#include \"a.h\"\n\nint two(void)\n{\n\treturn 2;\n}\n\n"
	                       "int one(void)\n{\n\treturn 1;\n}\n/*\n        art\n*/\n");

	/* control: files of the reply that disagree (c.c's tab became 4
	 * columns) pool nothing, and b.c's lines are kept as written */
	put_file("src/a.c", POOL_A_C);
	put_file("src/b.c", POOL_B_C);
	wd_buf_clear(&t);
	ck_assert_int_eq(wd_buf_puts(&t, a) || wd_buf_puts(&t, c) || wd_buf_puts(&t, POOL_B_BLOCK),
	                 0);
	ck_assert_int_eq(apply_text(&r, wd_buf_cstr(&t)), 0);
	wd_patch_report_free(&r);
	assert_file("src/b.c", "#include \"a.h\"\n\nint two(void)\n{\n        return 2;\n}\n\n"
	                       "int one(void)\n{\n\treturn 1;\n}\n/*\n        art\n*/\n");
	assert_file("src/c.c", "int c(void)\n{\n\treturn 33;\n}\n");
	wd_buf_free(&t);
}
END_TEST

START_TEST(formats_without_a_marker_keep_a_missing_final_newline)
{
	/* SEARCH/REPLACE and the codex patch cannot say "no newline at end of
	 * file": a block that runs to the end of a file without one and changes
	 * its last line leaves none (libgit2's early history is full of such
	 * files; commits keep them so when they change that line) */
	assert_applied("src/n.c", "int a = 1;\nint b = 2;",
	               SR("src/n.c", "int b = 2;\n", "int b = 3;\n"), "int a = 1;\nint b = 3;");
	/* ... so too once re-indented (a tab quoted as 8 spaces) */
	assert_applied("src/n.c", "f()\n{\n\tx;\n\ty;",
	               SR("src/n.c", "        x;\n        y;\n", "        x;\n        z;\n"),
	               "f()\n{\n\tx;\n\tz;");
	assert_applied("src/n.txt", "x\ny",
	               "*** Begin Patch\n*** Update File: src/n.txt\n@@\n x\n-y\n+z\n*** End Patch\n",
	               "x\nz");
	/* a block short of the end leaves the end alone */
	assert_applied("src/n.txt", "a\nb\nc", SR("src/n.txt", "a\n", "A\n"), "A\nb\nc");
	/* a block that writes the last line again as it was ends it, as an
	 * editor does (two commits in three that touch such a line) */
	assert_applied("src/n.txt", "a\nb", SR("src/n.txt", "a\nb\n", "A\nb\n"), "A\nb\n");
	/* control: a unified diff says it with its marker; without one, the
	 * new last line ends with a newline, as git reads it */
	assert_applied("src/n.txt", "a\nb",
	               "--- a/src/n.txt\n+++ b/src/n.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n", "a\nc\n");
}
END_TEST

START_TEST(exact_match_keeps_the_model_indentation)
{
	/* an exact match changes nothing of what the model wrote */
	const char *t =
		"web/two.js\n"
		"<<<<<<< SEARCH\n"
		"  return 0;\n"
		"=======\n"
		"  return 0; // keep\n"
		"        // deliberately deep\n"
		">>>>>>> REPLACE\n";

	assert_applied("web/two.js", NULL, t,
	               "function f(x) {\n"
	               "  if (x) {\n"
	               "    return 1;\n"
	               "  }\n"
	               "  return 0; // keep\n"
	               "        // deliberately deep\n"
	               "}\n");
}
END_TEST


/* --- whole-file replacements ------------------------------------------------ */

START_TEST(whole_file_block_replaces_and_creates_files)
{
	const char *t =
		"I rewrote the helper file.\n"
		"\n"
		"**src/util.c**\n"
		"```c\n"
		"int one(void)\n"
		"{\n"
		"\treturn 1;\n"
		"}\n"
		"```\n"
		"\n"
		"```c src/extra.h\n"
		"int extra(void);\n"
		"```\n";
	wd_patch_report r;
	char *js;

	ck_assert_int_eq(apply_text(&r, t), 0);
	assert_file("src/util.c", "int one(void)\n{\n\treturn 1;\n}\n");
	assert_file("src/extra.h", "int extra(void);\n");
	js = json_dumps(r.json, 0);
	ck_assert_ptr_nonnull(strstr(js, "\"method\": \"whole\""));
	free(js);
	wd_patch_report_free(&r);
}
END_TEST

START_TEST(whole_file_block_keeps_crlf_line_endings)
{
	const char *t = "dos.txt\n```\none\nTWO\n```\n";

	assert_applied("dos.txt", "one\r\ntwo\r\n", t, "one\r\nTWO\r\n");
}
END_TEST

START_TEST(whole_file_block_keeps_a_missing_final_newline)
{
	const char *t = "nonl.txt\n```\none\nTWO\n```\n";

	/* a fenced block cannot say "no newline at end of file": one that
	 * changes the last line of a file without one leaves none */
	assert_applied("nonl.txt", "one\ntwo", t, "one\nTWO");
	assert_applied("nonl.txt", "one\r\ntwo", t, "one\r\nTWO");
	/* one that writes that line again as it was ends it */
	assert_applied("nonl.txt", "one\nTWO", "nonl.txt\n```\nONE\nTWO\n```\n", "ONE\nTWO\n");
	/* control: a file that ends with a newline keeps it */
	assert_applied("nonl.txt", "one\ntwo\n", t, "one\nTWO\n");
}
END_TEST

START_TEST(whole_file_block_that_elides_code_is_an_input_error)
{
	static const char *const bad[] = {
		"src/util.c\n```c\nint one(void)\n{\n\treturn 11;\n}\n// ... existing code ...\n```\n",
		"src/util.c\n```c\nint one(void);\n...\n```\n",
		"src/util.c\n```c\n/* ... rest of the file unchanged ... */\n```\n",
	};
	wd_patch *p = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(wd_patch_parse(&p, bad[i], strlen(bad[i])), WD_EINPUT);
		ck_assert_ptr_nonnull(strstr(wd_error_last(), "leaves code out"));
	}
}
END_TEST

START_TEST(whole_file_block_over_the_limit_is_refused)
{
	const char *t = "src/util.c\n```c\nint one(void) { return 1; }\nint two(void) { return 2; }\n```\n";
	wd_patch *p = NULL;
	wd_patch_policy pol = WD_PATCH_POLICY_INIT;
	wd_patch_report r;
	char *js;

	pol.max_whole_bytes = 40;
	ck_assert_int_eq(wd_patch_parse(&p, t, strlen(t)), 0);
	ck_assert_int_eq(wd_patch_apply(&r, repo, p, &pol, 0), WD_EREFUSED);
	js = json_dumps(r.json, 0);
	ck_assert_ptr_nonnull(strstr(js, "too_large"));
	free(js);
	assert_file("src/util.c", UTIL_C);
	wd_patch_report_free(&r);
	wd_patch_free(p);
}
END_TEST

START_TEST(quoted_code_is_never_a_whole_file_edit)
{
	/* beside a diff, a fenced snippet under a path line is an illustration */
	const char *with_diff =
		"The bug is here:\n"
		"src/util.c\n"
		"```c\n"
		"\treturn 1;\n"
		"```\n"
		UTIL_DIFF;
	/* a fence with no path before it or in its info string names no file */
	const char *no_path = "Like this:\n\n```c\nint one(void);\n```\n";
	wd_patch *p = NULL;
	wd_patch_report r;

	ck_assert_int_eq(apply_text(&r, with_diff), 0);
	assert_file("src/util.c", "int one(void)\n{\n\treturn 11;\n}\n\nint two(void)\n{\n"
	            "\treturn 2;\n}\n");
	wd_patch_report_free(&r);
	ck_assert_int_eq(wd_patch_parse(&p, no_path, strlen(no_path)), WD_ENOTFOUND);
}
END_TEST

static Suite *formats_suite(void)
{
	Suite *s = suite_create("patch_formats");
	TCase *hdr = tcase_create("headers");
	TCase *cx = tcase_create("codex");
	TCase *ind = tcase_create("reindent");
	TCase *wh = tcase_create("whole");

	tcase_add_checked_fixture(hdr, setup, teardown);
	tcase_add_test(hdr, overcounted_hunk_stops_at_next_plain_file_header);
	tcase_add_test(hdr, overcounted_hunk_stops_at_git_and_codex_headers);
	tcase_add_test(hdr, overcounted_refusal_names_the_right_file_only);
	suite_add_tcase(s, hdr);
	tcase_add_checked_fixture(cx, setup, teardown);
	tcase_add_test(cx, codex_patch_updates_adds_deletes_and_moves);
	tcase_add_test(cx, codex_patch_end_of_file_appends_at_the_end);
	tcase_add_test(cx, codex_patch_context_line_that_quotes_a_fence_is_context);
	tcase_add_test(cx, codex_patch_refusal_goes_through_the_same_engine);
	tcase_add_test(cx, codex_patch_anchor_places_a_hunk_its_context_leaves_ambiguous);
	tcase_add_test(cx, codex_patch_malformed_sections_are_input_errors);
	tcase_add_test(cx, codex_patch_unsafe_path_is_refused_by_policy);
	suite_add_tcase(s, cx);
	tcase_add_checked_fixture(ind, setup, teardown);
	tcase_add_test(ind, reindent_four_space_block_on_two_space_file);
	tcase_add_test(ind, reindent_spaces_to_tabs_keeps_unchanged_lines_byte_identical);
	tcase_add_test(ind, reindent_shifted_diff_hunk_keeps_relative_depth);
	tcase_add_test(ind, exact_match_keeps_the_model_indentation);
	tcase_add_test(ind, formats_without_a_marker_keep_a_missing_final_newline);
	tcase_add_test(ind, reindent_refuses_a_depth_no_one_rule_gives);
	tcase_add_test(ind, reindent_refuses_when_one_width_fits_a_shift_and_a_unit_alike);
	tcase_add_test(ind, reindent_one_width_refuses_a_step_that_fits_neither_rule);
	tcase_add_test(ind, reindent_one_width_is_a_change_of_unit_when_the_steps_say_so);
	tcase_add_test(ind, reindent_one_width_is_a_shift_when_the_steps_agree);
	tcase_add_test(ind, reindent_keeps_new_lines_as_written_when_the_removed_lines_are_exact);
	tcase_add_test(ind, reindent_maps_new_lines_when_the_removed_lines_were_quoted_loosely);
	tcase_add_test(ind, reindent_refuses_when_a_mixed_file_crosses_the_model_depths);
	tcase_add_test(ind, reindent_keeps_new_lines_written_for_the_file);
	tcase_add_test(ind, reindent_one_hunk_written_for_the_file_vouches_for_the_others);
	tcase_add_test(ind, reindent_refuses_a_width_between_the_model_units);
	tcase_add_test(ind, reindent_refuses_a_continuation_at_a_width_no_old_line_shows);
	tcase_add_test(ind, reindent_interpolates_a_spaces_only_file);
	tcase_add_test(ind, evidence_says_which_blanks_a_quote_can_have_come_from);
	tcase_add_loop_test(ind, reindent_by_the_evidence_of_the_quote, 0,
	                    (int)(sizeof(EV_CASES) / sizeof(*EV_CASES)));
	tcase_add_test(ind, habit_aligns_a_continuation_as_the_file_does);
	tcase_add_test(ind, habit_that_is_not_the_file_s_only_one_decides_nothing);
	tcase_add_test(ind, habit_vetoes_eight_spaces_where_the_file_writes_a_tab);
	tcase_add_test(ind, habit_puts_the_body_of_a_condition_as_the_file_does);
	tcase_add_test(ind, witness_the_line_above_indented_alike);
	tcase_add_test(ind, witness_the_file_s_own_line_with_that_text);
	tcase_add_test(ind, witness_the_removed_line_a_new_one_changes);
	tcase_add_test(ind, identical_blocks_change_each_place_the_file_repeats);
	tcase_add_test(ind, exact_block_takes_the_damage_another_file_of_the_reply_shows);
	tcase_add_test(ind, a_space_kept_as_one_column_anywhere_in_the_reply_settles_alignment);
	tcase_add_test(ind, a_line_continuing_a_chain_keeps_the_column_of_the_line_above);
	suite_add_tcase(s, ind);
	tcase_add_checked_fixture(wh, setup, teardown);
	tcase_add_test(wh, whole_file_block_replaces_and_creates_files);
	tcase_add_test(wh, whole_file_block_keeps_crlf_line_endings);
	tcase_add_test(wh, whole_file_block_keeps_a_missing_final_newline);
	tcase_add_test(wh, whole_file_block_that_elides_code_is_an_input_error);
	tcase_add_test(wh, whole_file_block_over_the_limit_is_refused);
	tcase_add_test(wh, quoted_code_is_never_a_whole_file_edit);
	suite_add_tcase(s, wh);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(formats_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
