/* Retrieval: a ticket that names no file or definition still gets the code
 * its words are about (BM25 over definitions, whole), vendored code stays
 * out, and on a repair round a failing test's name pulls its code in. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "warden/ticket.h"

#include "fixture.h"
#include "../../src/context/context_int.h"

#include "../../src/run/run_internal.h"

static char tmpl[64];

static void put(const char *rel, const char *text)
{
	ck_assert_int_eq(fx_put_file(tmpl, rel, text), 0);
}

static json_t *why_for(const wd_context *c, const char *path)
{
	return fx_context_why(c, path);
}

#define ESCAPE_FN "static int read_sequence(struct lexer *lx, char *out)\n{\n" \
	"\t/* a backslash escape: \\n, \\t, \\\\ and \\uXXXX */\n" \
	"\tint c = lx->src[lx->pos++];\n\n" \
	"\tif (c != '\\\\')\n\t\treturn c;\n" \
	"\tswitch (lx->src[lx->pos++]) {\n" \
	"\tcase 'n': *out = '\\n'; return 1;\n" \
	"\tcase 't': *out = '\\t'; return 1;\n" \
	"\tdefault: return -1; /* unknown escape */\n\t}\n}\n"

static void setup(void)
{
	wd_buf big = WD_BUF_INIT, other = WD_BUF_INIT;

	git_libgit2_init();
	strcpy(tmpl, "/tmp/wd-ctxr-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	/* a long file: the function the ticket's words are about sits in its
	 * middle, and its name is none of the ticket's words */
	for (int i = 0; i < 300; i++)
		wd_buf_printf(&big, "static int step_%03d(struct lexer *lx)\n{\n\tint x = lx->pos * %d;\n\n"
		              "\treturn x + %d;\n}\n\n", i, i, i);
	wd_buf_puts(&big, ESCAPE_FN "\n");
	for (int i = 300; i < 600; i++)
		wd_buf_printf(&big, "static int step_%03d(struct lexer *lx)\n{\n\tint x = lx->pos * %d;\n\n"
		              "\treturn x + %d;\n}\n\n", i, i, i);
	put("src/lexer.c", big.ptr);
	/* other code of the same size class, about something else */
	for (int i = 0; i < 200; i++)
		wd_buf_printf(&other, "int paint_%03d(struct screen *s)\n{\n\t/* foreground color %d */\n"
		              "\treturn screen_put(s, %d);\n}\n\n", i, i, i);
	put("src/render.c", other.ptr);
	put("src/pipe.c", "/* Whether the output goes to a terminal or a pipe. */\n"
	                  "int output_is_terminal(int fd)\n{\n\treturn isatty(fd);\n}\n\n"
	                  "int colors_enabled(int fd)\n{\n"
	                  "\t/* colors only on a terminal, never when piped */\n"
	                  "\treturn output_is_terminal(fd);\n}\n");
	put("tests/test_lexer.c", "int test_escape_newline(void)\n{\n\tchar c;\n\n"
	                          "\treturn read_sequence(NULL, &c) == 1;\n}\n\n"
	                          "int test_plain_chars(void)\n{\n\treturn 0;\n}\n");
	/* vendored: a perfect match for the words, never sent */
	put("vendor/escapes/escape.c", "/* backslash escape escape escape: decoded escapes */\n"
	                               "int escape_backslash_decode(void) { return 0; }\n");
	put(".git/config", "[core]\n");
	wd_buf_free(&big);
	wd_buf_free(&other);
}

static void teardown(void)
{
	wd_rm_rf(tmpl);
	git_libgit2_shutdown();
}

static const char *reason_of(const wd_context *c, const char *path)
{
	json_t *w = why_for(c, path);

	return w ? json_string_value(json_object_get(w, "reason")) : "";
}

/* Some entry of `path` in c->why has a reason containing `needle` (a file
 * may appear twice: as a caller, signatures only, and with its code). */
static int has_reason(const wd_context *c, const char *path, const char *needle)
{
	size_t i;
	json_t *o;

	json_array_foreach(c->why, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "path")), path) &&
		    strstr(json_string_value(json_object_get(o, "reason")), needle))
			return 1;
	return 0;
}

START_TEST(words_matching_a_function_deep_in_a_long_file_get_it_whole)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	const char *cut;

	ck_assert_int_eq(wd_ticket_new(&t, "Unknown backslash escapes are accepted",
	                                 "An escape the lexer does not know should be an error."), 0);
	o.budget_bytes = 24 * 1024;
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_uint_le(c->bytes, o.budget_bytes);
	/* the whole function, from the middle of a 4213-line file */
	ck_assert_ptr_nonnull(strstr(c->files.ptr, ESCAPE_FN));
	ck_assert_ptr_nonnull(strstr(reason_of(c, "src/lexer.c"),
	                             "matches the ticket: read_sequence (score "));
	/* the ledger says which words matched */
	ck_assert_ptr_nonnull(strstr(reason_of(c, "src/lexer.c"), "escap"));
	ck_assert_ptr_nonnull(strstr(reason_of(c, "src/lexer.c"), "backslash"));
	cut = json_string_value(json_object_get(why_for(c, "src/lexer.c"), "cut"));
	ck_assert_ptr_nonnull(cut);
	ck_assert_ptr_nonnull(strstr(cut, "read_sequence 2101-2113"));
	ck_assert_ptr_null(strstr(c->files.ptr, "head and tail"));
	/* the test that calls it is a candidate too */
	ck_assert(has_reason(c, "tests/test_lexer.c", "tests read_sequence, one of the best matches"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== tests/test_lexer.c"));
	/* the vendored perfect match is not sent */
	ck_assert_ptr_null(why_for(c, "vendor/escapes/escape.c"));
	ck_assert_ptr_null(strstr(c->files.ptr, "escape_backslash_decode"));
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(control_other_words_pick_other_code_first)
{
	/* the same tree, a ticket about colors: the escape function is not
	 * what it gets first */
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;

	ck_assert_int_eq(wd_ticket_new(&t, "Colors are printed when the output is piped", ""), 0);
	o.budget_bytes = 8 * 1024;
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_uint_ge(c->chosen.n, 1);
	ck_assert_str_eq(c->chosen.v[0], "src/pipe.c");
	ck_assert_ptr_null(strstr(c->files.ptr, ESCAPE_FN));
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(a_ticket_naming_nothing_gets_the_most_relevant_file_first)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;

	/* no path, no identifier: only words */
	ck_assert_int_eq(wd_ticket_new(&t, "Colors should be off when piped",
	                                 "Seen with `prog | less`."), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_uint_ge(c->chosen.n, 1);
	ck_assert_str_eq(c->chosen.v[0], "src/pipe.c");
	/* small: sent whole */
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== src/pipe.c ===\n"));
	ck_assert_ptr_nonnull(strstr(reason_of(c, "src/pipe.c"), "matches the ticket: colors_enabled"));
	ck_assert_ptr_nonnull(strstr(reason_of(c, "src/pipe.c"), "pip"));
	ck_assert_ptr_null(why_for(c, "vendor/escapes/escape.c"));
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

START_TEST(an_explicit_mention_still_wins_over_the_words)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;

	ck_assert_int_eq(wd_ticket_new(&t, "Colors are wrong in src/render.c",
	                                 "when piped to a pager"), 0);
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_str_eq(c->chosen.v[0], "src/render.c");
	ck_assert_str_eq(reason_of(c, "src/render.c"), "named in the ticket");
	wd_context_free(c);
	wd_ticket_free(t);
}
END_TEST

/* `head`, then for i in [from, to) `pre` i `mid` i `post` (the first i as
 * %03d): many small definitions, each its own. */
static void put_numbered(const char *rel, const char *head, const char *pre, const char *mid,
                         const char *post, int from, int to)
{
	wd_buf b = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_puts(&b, head), 0);
	for (int i = from; i < to; i++)
		ck_assert_int_eq(wd_buf_printf(&b, "%s%03d%s%d%s", pre, i, mid, i, post), 0);
	put(rel, b.ptr);
	wd_buf_free(&b);
}

/* The context for a ticket with a title only, at `budget` (0: the default). */
static wd_context *context_for(const char *title, size_t budget)
{
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_ticket *t = NULL;
	wd_context *c = NULL;

	ck_assert_int_eq(wd_ticket_new(&t, title, ""), 0);
	o.budget_bytes = budget;
	ck_assert_int_eq(wd_context_build(&c, tmpl, t, &o), 0);
	ck_assert_uint_le(c->bytes, budget ? budget : 96 * 1024);
	wd_ticket_free(t);
	return c;
}

/* A Python test whose nested `def cli():` is what the ticket's words match
 * is sent as the whole test around it: two lines of a local callback say
 * nothing without the test that defines and invokes it. */
#define NESTED_TEST "def test_issue_42(runner):\n" \
	"    @click.command()\n" \
	"    @click.option(\"-v\", is_flag=True)\n" \
	"    def cli(v):\n" \
	"        click.echo(\"verbose mode\" if v else \"quiet mode\")\n" \
	"\n" \
	"    result = runner.invoke(cli, [])\n" \
	"    assert result.output == \"quiet mode\\n\"\n"
#define PY_CASE "def test_case_", "(runner):\n    result = runner.invoke(main, [\"", \
	"\"])\n    assert result.exit_code == 0\n\n\n"

START_TEST(a_nested_function_is_sent_within_the_test_around_it)
{
	wd_context *c;
	const char *cut;

	/* a long test file (too large to send whole) */
	put_numbered("tests/test_modes.py", NESTED_TEST "\n\n", PY_CASE, 0, 240);
	c = context_for("Verbose mode prints quiet mode", 24 * 1024);
	ck_assert_ptr_nonnull(strstr(c->files.ptr, NESTED_TEST));
	cut = json_string_value(json_object_get(why_for(c, "tests/test_modes.py"), "cut"));
	ck_assert_ptr_nonnull(cut);
	ck_assert_ptr_nonnull(strstr(cut, "cli in test_issue_42"));
	wd_context_free(c);
}
END_TEST

START_TEST(a_test_file_the_fill_reaches_brings_its_last_test)
{
	/* a fix's new test is appended after the file's last one: the end of
	 * a test file the words reach is shown, though nothing there matches */
	wd_buf b = WD_BUF_INIT;
	wd_context *c;
	const char *cut;

	ck_assert_int_eq(wd_buf_puts(&b, NESTED_TEST "\n\n"), 0);
	for (int i = 0; i < 600; i++)
		ck_assert_int_eq(wd_buf_printf(&b, "def test_case_%03d(runner):\n    result = "
		                               "runner.invoke(main, [\"%d\"])\n    assert "
		                               "result.exit_code == 0\n\n\n", i, i), 0);
	ck_assert_int_eq(wd_buf_puts(&b, "def test_last_one(runner):\n    assert runner.ok()\n"), 0);
	put("tests/test_modes.py", b.ptr);
	wd_buf_free(&b);
	c = context_for("Verbose mode prints quiet mode", 24 * 1024);
	ck_assert_ptr_nonnull(strstr(c->files.ptr, NESTED_TEST));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "def test_last_one(runner):\n    assert runner.ok()\n"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "def test_case_599(runner):\n"));
	/* the middle of the file, which nothing points at, is not sent */
	ck_assert_ptr_null(strstr(c->files.ptr, "def test_case_400(runner):\n"));
	cut = json_string_value(json_object_get(why_for(c, "tests/test_modes.py"), "cut"));
	ck_assert_ptr_nonnull(cut);
	ck_assert_ptr_nonnull(strstr(cut, "the file's last 2 (a new test goes there)"));
	wd_context_free(c);
}
END_TEST

START_TEST(the_best_matching_file_is_sent_whole_when_small)
{
	/* the fix is often beside what the words match: a file of a few KiB
	 * whose one function matches is sent whole, not cut to it */
	wd_context *c;

	put_numbered("src/table.c", "int hash_resize(struct table *t)\n{\n\t/* grow the buckets */\n"
	             "\treturn table_grow(t, t->size * 2);\n}\n\n",
	             "int table_op_", "(struct table *t)\n{\n\treturn t->n + ", ";\n}\n\n", 0, 40);
	/* code the words match better than the rest of table.c takes what is left */
	put_numbered("src/garden.c", "", "int grow_plant_", "(void)\n{\n\treturn ", ";\n}\n\n", 0,
	             500);
	c = context_for("Buckets do not grow on resize", 24 * 1024);
	ck_assert_ptr_nonnull(strstr(reason_of(c, "src/table.c"), "matches the ticket: hash_resize"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== src/table.c ===\n"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "int table_op_039(struct table *t)"));
	wd_context_free(c);
}
END_TEST

START_TEST(control_a_large_best_matching_file_is_still_cut)
{
	/* src/lexer.c is over a sixth of the budget: cut to what matched */
	wd_context *c = context_for("Unknown backslash escapes are accepted", 24 * 1024);

	ck_assert_ptr_nonnull(json_object_get(why_for(c, "src/lexer.c"), "cut"));
	wd_context_free(c);
}
END_TEST

START_TEST(a_function_the_best_match_calls_comes_with_it)
{
	/* the words name what went wrong (scanning numbers), not where the
	 * string-to-double helper lives */
	wd_context *c;

	put("src/load.c", "static int lex_scan_number(struct lex *lx, double *out)\n{\n"
	                  "\t/* a number: digits, a fraction, an exponent */\n"
	                  "\treturn str_to_double(lx->buf, out);\n}\n");
	put_numbered("src/conv.c", "int str_to_double(const char *s, double *out)\n{\n"
	             "\t*out = strtod(s, NULL);\n\treturn 0;\n}\n\n",
	             "int conv_", "(const char *s)\n{\n\treturn s[", "];\n}\n\n", 0, 200);
	/* tests the words match a little take what the budget has left */
	put_numbered("tests/test_wrong.c", "", "void test_wrong_", "(void)\n{\n\tcheck(", ");\n}\n\n",
	             0, 600);
	c = context_for("Subnormal numbers are scanned wrong", 24 * 1024);
	ck_assert(has_reason(c, "src/conv.c", "str_to_double is called by lex_scan_number, one of "
	                                      "the best matches"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "int str_to_double(const char *s, double *out)\n{\n"
	                                           "\t*out = strtod(s, NULL);\n\treturn 0;\n}\n"));
	wd_context_free(c);
}
END_TEST

START_TEST(a_name_defined_many_times_takes_one_place_among_the_best_matches)
{
	/* eight classes' render_outline methods match best: the tests of the
	 * next best function, outline_width, are still looked for */
	wd_buf b = WD_BUF_INIT;
	wd_context *c;

	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(wd_buf_printf(&b, "class Shape%d:\n    def render_outline(self):\n"
		                               "        \"\"\"The outline color of shape %d.\"\"\"\n"
		                               "        return self.outline_color\n\n\n", i, i), 0);
	ck_assert_int_eq(wd_buf_puts(&b, "def outline_width(shape):\n    \"\"\"Of the outline.\"\"\"\n"
	                             "    return shape.width\n"), 0);
	put("src/shapes.py", b.ptr);
	wd_buf_free(&b);
	put("tests/test_width.py", "def test_width():\n    assert outline_width(None) == 1\n");
	c = context_for("Outline color is rendered wrong", 24 * 1024);
	ck_assert(has_reason(c, "tests/test_width.py", "tests outline_width, one of the best matches"));
	wd_context_free(c);
}
END_TEST

/* The tests' header: a check macro the best test uses, among many
 * others; a fix's new check goes beside it. */
#define CHECK_MACRO "#define check_error(text_) \\\n" \
	"    do { \\\n" \
	"        if (strcmp(error.text, text_) != 0) \\\n" \
	"            fail(\"error text\"); \\\n" \
	"    } while (0)\n"

START_TEST(a_helper_the_best_test_calls_comes_with_it)
{
	wd_context *c;

	put_numbered("tests/util.h", CHECK_MACRO "\n", "#define check_field_", "(x) ((x) + ",
	             ")\n", 0, 400);
	put("src/unpack.c", "int unpack_object(struct scanner *s)\n{\n"
	                    "\t/* strict: every key of the object must be unpacked */\n"
	                    "\treturn s->strict ? unpack_keys(s) : 0;\n}\n");
	put("tests/test_unpack.c", "#include \"util.h\"\n\nstatic void run_tests(void)\n{\n"
	                           "\t/* strict unpacking lists the unrecognized keys left */\n"
	                           "\tif (unpack_object(&s) == 0)\n"
	                           "\t\tcheck_error(\"2 object item(s) left unpacked\");\n}\n");
	c = context_for("Strict unpacking lists unrecognized keys", 24 * 1024);
	ck_assert(has_reason(c, "tests/util.h", "check_error is called by run_tests"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, CHECK_MACRO));
	/* a header's end is no place for a new test: it is not sent for that */
	ck_assert_ptr_null(strstr(c->files.ptr, "#define check_field_399("));
	wd_context_free(c);
}
END_TEST

START_TEST(a_method_or_a_nested_function_of_the_tests_is_no_helper)
{
	/* the best test calls cmd(...) and runner.invoke(...): a local of
	 * another test and a method, not helpers of the tests */
	wd_context *c;

	put("src/unpack.c", "int unpack_object(struct scanner *s)\n{\n\treturn s->strict;\n}\n");
	put("tests/test_unpack.py", "def test_strict():\n"
	                            "    # strict unpacking lists the unrecognized keys left\n"
	                            "    assert cmd(\"strict keys unpacking\") == 0\n"
	                            "    assert runner.invoke(cli).ok\n");
	put("tests/test_runner.py", "class Runner:\n    def invoke(self, cli):\n"
	                            "        return cli()\n");
	put("tests/test_other.py", "def test_other():\n    def cmd(x):\n        return 0\n\n"
	                           "    assert cmd(1) == 0\n");
	c = context_for("Strict unpacking lists unrecognized keys", 24 * 1024);
	ck_assert(has_reason(c, "tests/test_unpack.py", "matches the ticket"));
	ck_assert(!has_reason(c, "tests/test_other.py", "is called by"));
	ck_assert(!has_reason(c, "tests/test_runner.py", "is called by"));
	wd_context_free(c);
}
END_TEST

START_TEST(the_tests_named_after_the_best_matching_file_come_with_it)
{
	/* test_codec.py neither calls the matched function nor shares the
	 * ticket's words: its name says it tests src/codec.py */
	wd_context *c;

	put("src/codec.py", "def decode_surrogates(data):\n    \"\"\"Pairs of UTF-16 surrogates.\"\"\"\n"
	                    "    return data.decode(\"utf-16\")\n");
	put("tests/test_codec.py", "def test_roundtrip():\n    assert codec.roundtrip(b\"x\") == b\"x\"\n");
	put("tests/test_misc.py", "def test_other():\n    assert misc.value() == 1\n");
	c = context_for("Surrogates are decoded wrong", 8 * 1024);
	ck_assert(has_reason(c, "tests/test_codec.py", "the tests of src/codec.py, one of the files "
	                                               "that best match the ticket"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "def test_roundtrip():\n"));
	ck_assert(!has_reason(c, "tests/test_misc.py", "the tests of"));
	wd_context_free(c);
}
END_TEST

/* src/term.c defines a function `output` among 70 others; src/garble.c
 * has code the word "garbled" matches, more than the budget holds. */
static void put_term_files(void)
{
	put_numbered("src/term.c", "int output(struct term *t, const char *s)\n{\n"
	             "\treturn term_write(t, s);\n}\n\n",
	             "int cursor_", "(struct term *t)\n{\n\treturn t->row + ", ";\n}\n\n", 0, 70);
	put_numbered("src/garble.c", "", "int garbled_text_", "(void)\n{\n\treturn ",
	             "; /* garbled */\n}\n\n", 0, 250);
}

START_TEST(a_plain_word_naming_a_function_does_not_send_its_whole_file)
{
	/* the ticket says "output" as a word: that function leads, the rest
	 * of its file is not sent for it */
	wd_context *c;
	const char *cut;

	put_term_files();
	c = context_for("Garbled output", 16 * 1024);
	cut = json_string_value(json_object_get(why_for(c, "src/term.c"), "cut"));
	ck_assert_ptr_nonnull(cut);
	ck_assert_ptr_nonnull(strstr(cut, "output 1-4"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "int output(struct term *t, const char *s)\n"));
	ck_assert_ptr_null(strstr(c->files.ptr, "int cursor_069(struct term *t)"));
	wd_context_free(c);
}
END_TEST

START_TEST(control_a_name_written_as_code_still_sends_its_whole_file)
{
	wd_context *c;

	put_term_files();
	c = context_for("Garbled `output()`", 16 * 1024);
	ck_assert_str_eq(reason_of(c, "src/term.c"), "defines an identifier the ticket names");
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "=== src/term.c ===\n"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "int cursor_069(struct term *t)"));
	wd_context_free(c);
}
END_TEST

/* Every test of a large test file calls the best match: its two hundredth
 * test must not keep a test file of its own (where the fix's test goes)
 * from being reached. */
START_TEST(tests_are_spread_over_the_test_files_the_words_reach)
{
	wd_context *c;

	put("src/mixer.py", "def set_volume(level):\n    \"\"\"Set the mixer volume.\"\"\"\n"
	                    "    return clamp(level)\n");
	/* the two best-matching test files: their words match, and they keep
	 * their depth */
	put_numbered("tests/test_a.py", "", "def test_mixer_volume_a_", "():\n    assert set_volume(",
	             ") is not None\n\n\n", 0, 30);
	put_numbered("tests/test_b.py", "", "def test_mixer_volume_b_", "():\n    assert set_volume(",
	             ") is not None\n\n\n", 0, 30);
	/* a large file of tests that only call it */
	put_numbered("tests/test_c.py", "", "def test_c_", "():\n    assert set_volume(",
	             ")\n\n\n", 0, 200);
	put("tests/test_levels.py", "def test_levels_above_the_maximum_are_clamped_to_it():\n"
	                            "    assert set_volume(200) == set_volume(100)\n");
	c = context_for("Mixer volume is not set", 24 * 1024);
	ck_assert_ptr_nonnull(why_for(c, "tests/test_a.py"));
	ck_assert_ptr_nonnull(why_for(c, "tests/test_c.py"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "def test_levels_above_the_maximum_are_clamped"));
	/* the depth of the first two is kept */
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "def test_mixer_volume_b_029():"));
	wd_context_free(c);
}
END_TEST

/* A ticket says the noun ("completion"), the code the verb (`complete_`):
 * the two meet at one stem, as "encoding" and `encode` do. */
START_TEST(a_noun_in_the_ticket_reaches_the_verb_the_code_is_named_after)
{
	wd_context *c;

	put_numbered("src/shell.py", "def complete_command(line):\n"
	             "    \"\"\"The words that complete the command typed so far (tab).\"\"\"\n"
	             "    return [w for w in WORDS if w.startswith(line)]\n\n\n",
	             "def step_", "(x):\n    return x + ", "\n\n\n", 0, 300);
	put_numbered("src/history.py", "def last_command(history):\n"
	             "    \"\"\"The last command of the history.\"\"\"\n"
	             "    return history[-1]\n\n\n",
	             "def entry_", "(h):\n    return h[", "]\n\n\n", 0, 300);
	c = context_for("Tab completion drops the last command", 8 * 1024);
	ck_assert_uint_ge(c->chosen.n, 1);
	ck_assert_str_eq(c->chosen.v[0], "src/shell.py");
	ck_assert_ptr_nonnull(strstr(reason_of(c, "src/shell.py"),
	                             "matches the ticket: complete_command"));
	ck_assert_ptr_nonnull(strstr(reason_of(c, "src/shell.py"), "complet"));
	wd_context_free(c);
}
END_TEST

/* A definition the ticket names brings the small function right above it: a
 * fix that changes the named one's `def` line, or inserts a helper before
 * it, lands between the two (and git names the one above in its hunk). */
START_TEST(a_named_definition_brings_the_small_function_above_it)
{
	wd_buf b = WD_BUF_INIT;
	wd_context *c;
	const char *cut;

	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(wd_buf_printf(&b, "def step_%03d(x):\n    return x + %d\n\n\n", i, i),
		                 0);
	ck_assert_int_eq(wd_buf_puts(&b, "def _exit_hook(ctx):\n    ctx.depth -= 1\n\n\n"
	                             "def _get_target(ctx):\n"
	                             "    \"\"\"The subcommand about to run.\"\"\"\n"
	                             "    return ctx.pending\n\n\n"), 0);
	for (int i = 200; i < 400; i++)
		ck_assert_int_eq(wd_buf_printf(&b, "def step_%03d(x):\n    return x + %d\n\n\n", i, i),
		                 0);
	put("src/flow.py", b.ptr);
	wd_buf_free(&b);
	c = context_for("Fix `_get_target`", 8 * 1024);
	cut = json_string_value(json_object_get(why_for(c, "src/flow.py"), "cut"));
	ck_assert_ptr_nonnull(cut);
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "def _get_target(ctx):\n"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "def _exit_hook(ctx):\n    ctx.depth -= 1\n"));
	ck_assert_ptr_nonnull(strstr(cut, "_exit_hook"));
	/* one neighbour, not the run of functions above it */
	ck_assert_ptr_null(strstr(c->files.ptr, "def step_199(x):"));
	wd_context_free(c);
}
END_TEST

/* A ticket writes as one word what the code spells as two: "bashautocompletion"
 * reaches `bash_autocompletion` through its pieces, which the code has. */
START_TEST(a_compound_word_of_the_ticket_reaches_the_code_that_splits_it)
{
	wd_context *c;

	put_numbered("src/shell_hooks.py", "def bash_autocompletion(words):\n"
	             "    \"\"\"The candidates offered for the words typed so far.\"\"\"\n"
	             "    return [w for w in words if w]\n\n\n",
	             "def hook_", "(x):\n    return x + ", "\n\n\n", 0, 300);
	put_numbered("src/render.py", "", "def paint_", "(x):\n    return x * ", "\n\n\n", 0, 300);
	c = context_for("Fix bashautocompletion of options", 8 * 1024);
	ck_assert_ptr_nonnull(strstr(reason_of(c, "src/shell_hooks.py"),
	                             "matches the ticket: bash_autocompletion"));
	ck_assert_ptr_nonnull(strstr(c->files.ptr, "def bash_autocompletion(words):\n"));
	wd_context_free(c);
}
END_TEST

static char *slurp(const char *path)
{
	wd_buf b = WD_BUF_INIT;

	ck_assert_int_eq(wd_file_read(&b, path, 1 << 20), 0);
	return wd_buf_detach(&b);
}

START_TEST(a_failing_tests_name_pulls_its_code_into_the_repair_round)
{
	const char *files[] = { "src/lexer.c", "src/pipe.c", "src/render.c", "tests/test_lexer.c",
		                "vendor/escapes/escape.c", NULL };
	wd_buf fb = WD_BUF_INIT, lpath = WD_BUF_INIT, cache = WD_BUF_INIT;
	wd_ledger *l = NULL;
	char *ledger;

	ck_assert_int_eq(wd_path_join(&lpath, tmpl, "ledger.jsonl"), 0);
	ck_assert_int_eq(wd_path_join(&cache, tmpl, "cache"), 0);
	ck_assert_int_eq(wd_ledger_open(&l, lpath.ptr, "r1"), 0);
	wd_buf_puts(&fb, "Round 1: the checks failed.");
	ck_assert_int_eq(wd_run_repair_context(&fb, l, 1, tmpl,
	                                       "test: FAIL test_escape_newline (exit 1)\n",
	                                       cache.ptr, files, NULL), 0);
	/* the failing test, whole, and the function it calls */
	ck_assert_ptr_nonnull(strstr(fb.ptr, "Round 1: the checks failed.\n\nThe code the failing "
	                                     "output points at"));
	ck_assert_ptr_nonnull(strstr(fb.ptr, "int test_escape_newline(void)\n{\n\tchar c;\n\n"
	                                     "\treturn read_sequence(NULL, &c) == 1;\n}\n"));
	wd_ledger_close(l);
	ledger = slurp(lpath.ptr);
	ck_assert_ptr_nonnull(strstr(ledger, "\"context.repair\""));
	ck_assert_ptr_nonnull(strstr(ledger, "defines an identifier the ticket names"));
	free(ledger);
	wd_buf_free(&fb);
	wd_buf_free(&lpath);
	wd_buf_free(&cache);
}
END_TEST

START_TEST(control_a_repair_without_a_file_list_reads_nothing)
{
	/* the outbound policy denied every file: nothing is read for the model */
	wd_buf fb = WD_BUF_INIT, lpath = WD_BUF_INIT;
	wd_ledger *l = NULL;
	const char *none[] = { NULL };

	ck_assert_int_eq(wd_path_join(&lpath, tmpl, "ledger.jsonl"), 0);
	ck_assert_int_eq(wd_ledger_open(&l, lpath.ptr, "r1"), 0);
	wd_buf_puts(&fb, "Round 1.");
	ck_assert_int_eq(wd_run_repair_context(&fb, l, 1, tmpl, "FAIL test_escape_newline\n", NULL,
	                                       none, NULL), 0);
	ck_assert_str_eq(fb.ptr, "Round 1.");
	wd_ledger_close(l);
	wd_buf_free(&fb);
	wd_buf_free(&lpath);
}
END_TEST

static Suite *context_retrieve_suite(void)
{
	Suite *s = suite_create("context_retrieve");
	TCase *tc = tcase_create("retrieve");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, words_matching_a_function_deep_in_a_long_file_get_it_whole);
	tcase_add_test(tc, control_other_words_pick_other_code_first);
	tcase_add_test(tc, a_ticket_naming_nothing_gets_the_most_relevant_file_first);
	tcase_add_test(tc, an_explicit_mention_still_wins_over_the_words);
	tcase_add_test(tc, a_failing_tests_name_pulls_its_code_into_the_repair_round);
	tcase_add_test(tc, control_a_repair_without_a_file_list_reads_nothing);
	tcase_add_test(tc, a_nested_function_is_sent_within_the_test_around_it);
	tcase_add_test(tc, a_test_file_the_fill_reaches_brings_its_last_test);
	tcase_add_test(tc, a_name_defined_many_times_takes_one_place_among_the_best_matches);
	tcase_add_test(tc, the_best_matching_file_is_sent_whole_when_small);
	tcase_add_test(tc, control_a_large_best_matching_file_is_still_cut);
	tcase_add_test(tc, a_function_the_best_match_calls_comes_with_it);
	tcase_add_test(tc, a_helper_the_best_test_calls_comes_with_it);
	tcase_add_test(tc, a_method_or_a_nested_function_of_the_tests_is_no_helper);
	tcase_add_test(tc, the_tests_named_after_the_best_matching_file_come_with_it);
	tcase_add_test(tc, a_plain_word_naming_a_function_does_not_send_its_whole_file);
	tcase_add_test(tc, control_a_name_written_as_code_still_sends_its_whole_file);
	tcase_add_test(tc, a_noun_in_the_ticket_reaches_the_verb_the_code_is_named_after);
	tcase_add_test(tc, tests_are_spread_over_the_test_files_the_words_reach);
	tcase_add_test(tc, a_named_definition_brings_the_small_function_above_it);
	tcase_add_test(tc, a_compound_word_of_the_ticket_reaches_the_code_that_splits_it);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fx_suite_main(context_retrieve_suite());
}
