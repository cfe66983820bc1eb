#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "warden/error.h"
#include "warden/ticket.h"

#include "../../src/ticket/ticket_int.h" /* the module's own test reads its fields */
#include "fixture.h"

static wd_ticket *parse_ok(const char *name, const char *text)
{
	wd_ticket *t = NULL;
	int rc = wd_ticket_parse(&t, name, text, strlen(text));

	ck_assert_msg(rc == 0, "parse failed: %s", wd_error_last());
	ck_assert_ptr_nonnull(t);
	return t;
}

/* Parse must fail with WD_EINPUT and a message containing `want`. */
static void parse_fails(const char *text, size_t len, const char *want)
{
	wd_ticket *t = (wd_ticket *)1;
	int rc = wd_ticket_parse(&t, "T.md", text, len);

	ck_assert_int_eq(rc, WD_EINPUT);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(wd_error_last(), want), "message '%s' lacks '%s'",
	              wd_error_last(), want);
}

START_TEST(markdown_title_and_body)
{
	wd_ticket *t = parse_ok("t.md", "# Fix add() overflow\n\nThe add function wraps.\nFix it.\n");

	ck_assert_str_eq(t->title, "Fix add() overflow");
	ck_assert_str_eq(t->body, "The add function wraps.\nFix it.");
	ck_assert_str_eq(t->slug, "fix-add-overflow");
	ck_assert_str_eq(t->source, "t.md");
	ck_assert_uint_eq(strlen(t->id), 40);
	ck_assert_int_eq(t->rounds, 0);
	ck_assert_uint_eq(t->scope.n, 0);
	wd_ticket_free(t);
}
END_TEST

START_TEST(markdown_header_comma_values)
{
	wd_ticket *t = parse_ok("t.md",
		"---\n"
		"scope: src/calc.c, tests/*.c, !src/secret.c\n"
		"checks: make test\n"
		"checks: test: ./run_tests --filter a,b\n"
		"rounds: 5\n"
		"fail-to-pass: test_add, test_sub\n"
		"---\n"
		"# Title here\n"
		"Body.\n");

	ck_assert_uint_eq(t->scope.n, 3);
	ck_assert_str_eq(t->scope.v[0], "src/calc.c");
	ck_assert_str_eq(t->scope.v[1], "tests/*.c");
	ck_assert_str_eq(t->scope.v[2], "!src/secret.c");
	/* commands keep their commas; each checks: line is one command */
	ck_assert_uint_eq(t->checks.n, 2);
	ck_assert_str_eq(t->checks.v[0], "make test");
	ck_assert_str_eq(t->checks.v[1], "test: ./run_tests --filter a,b");
	ck_assert_int_eq(t->rounds, 5);
	ck_assert_uint_eq(t->fail_to_pass.n, 2);
	ck_assert_str_eq(t->fail_to_pass.v[1], "test_sub");
	ck_assert_str_eq(t->title, "Title here");
	ck_assert_str_eq(t->body, "Body.");
	wd_ticket_free(t);
}
END_TEST

START_TEST(markdown_header_item_lists)
{
	wd_ticket *t = parse_ok("t.md",
		"---\r\n"
		"scope:\r\n"
		"  - src/a.c\r\n"
		"  - \"src/b c.c\"\r\n"
		"checks:\r\n"
		"  - make\r\n"
		"  - make test, quietly\r\n"
		"fail_to_pass: [t1, 't2']\r\n"
		"# a comment line\r\n"
		"---\r\n"
		"# Title\r\n"
		"line1\r\nline2\r\n");

	ck_assert_uint_eq(t->scope.n, 2);
	ck_assert_str_eq(t->scope.v[1], "src/b c.c");
	ck_assert_uint_eq(t->checks.n, 2);
	ck_assert_str_eq(t->checks.v[1], "make test, quietly");
	ck_assert_uint_eq(t->fail_to_pass.n, 2);
	ck_assert_str_eq(t->fail_to_pass.v[0], "t1");
	ck_assert_str_eq(t->fail_to_pass.v[1], "t2");
	ck_assert_str_eq(t->title, "Title");
	ck_assert_str_eq(t->body, "line1\nline2");
	wd_ticket_free(t);
}
END_TEST

START_TEST(markdown_heading_inside_code_fence_is_not_the_title)
{
	wd_ticket *t = parse_ok("t.md",
		"Some context first.\n\n```sh\n# not a title\n```\n\n# Real title #\n\nAfter.\n");

	ck_assert_str_eq(t->title, "Real title");
	ck_assert_str_eq(t->body, "Some context first.\n\n```sh\n# not a title\n```\n\nAfter.");
	wd_ticket_free(t);
}
END_TEST

START_TEST(markdown_setext_and_lower_level_titles)
{
	wd_ticket *t = parse_ok("t.md", "Fix the parser\n==============\nbody\n");

	ck_assert_str_eq(t->title, "Fix the parser");
	ck_assert_str_eq(t->body, "body");
	wd_ticket_free(t);
	t = parse_ok("t.md", "## Only a second-level heading\ntext\n");
	ck_assert_str_eq(t->title, "Only a second-level heading");
	wd_ticket_free(t);
	t = parse_ok("t.md", "# Support C#\n");
	ck_assert_str_eq(t->title, "Support C#");
	ck_assert_str_eq(t->body, "");
	wd_ticket_free(t);
}
END_TEST

START_TEST(markdown_unknown_key_names_it_and_line)
{
	const char *a = "---\nscope: a\nscpe: b\n---\n# T\n";
	const char *b = "---\nowner: me\n---\n# T\n";

	parse_fails(a, strlen(a), "T.md:3: unknown header key 'scpe'");
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "did you mean 'scope'"));
	parse_fails(b, strlen(b), "T.md:2: unknown header key 'owner'");
}
END_TEST

START_TEST(markdown_malformed_header_lines)
{
	const char *a = "---\njust words\n---\n# T\n";
	const char *b = "---\n- orphan item\n---\n# T\n";
	const char *c = "---\nrounds:\n  - 3\n---\n# T\n";

	parse_fails(a, strlen(a), "T.md:2: expected 'key: value'");
	parse_fails(b, strlen(b), "T.md:2: list item");
	parse_fails(c, strlen(c), "T.md:2: rounds must be");
}
END_TEST

START_TEST(markdown_unterminated_header)
{
	const char *s = "\n---\nscope: a\n# Title\nbody\n";

	parse_fails(s, strlen(s), "T.md:2: header block opened with '---' is never closed");
}
END_TEST

START_TEST(markdown_bad_rounds)
{
	const char *cases[] = { "0", "21", "-1", "three", "3.5", "99999999999999999999", "" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "---\nrounds: %s\n---\n# T\n", cases[i]);
		parse_fails(text, strlen(text), "T.md:2: rounds must be a whole number from 1 to 20");
	}
	{
		const char *twice = "---\nrounds: 2\nrounds: 3\n---\n# T\n";

		parse_fails(twice, strlen(twice), "T.md:3: 'rounds' is given twice");
	}
}
END_TEST

START_TEST(markdown_no_title)
{
	const char *s = "---\nrounds: 2\n---\njust text\n\n```\n# in a fence\n```\n";

	parse_fails(s, strlen(s), "T.md:4: no title");
	{
		/* a "---" rule above the title opens a header that swallows it */
		const char *rule = "---\n# Title\n---\nbody\n";

		parse_fails(rule, strlen(rule), "T.md:4: no title: the heading on line 2 is inside "
		            "the '---' header block");
	}
}
END_TEST

START_TEST(empty_and_blank_tickets)
{
	parse_fails("", 0, "T.md:1: empty ticket");
	parse_fails(" \n\t\r\n", 5, "T.md:1: empty ticket");
	parse_fails("\xef\xbb\xbf\n", 4, "empty ticket");
}
END_TEST

START_TEST(binary_and_invalid_utf8)
{
	parse_fails("# T\nok\nbad\0byte\n", 16, "T.md:3: NUL byte");
	parse_fails("# T\n\xff\n", 6, "T.md:2: invalid UTF-8");
	parse_fails("# T\n\xc0\xaf\n", 7, "invalid UTF-8");           /* overlong '/' */
	parse_fails("# T\n\xed\xa0\x80\n", 8, "invalid UTF-8");       /* surrogate */
	parse_fails("# T\n\xe2\x82", 6, "invalid UTF-8");             /* truncated */
}
END_TEST

START_TEST(valid_utf8_is_kept)
{
	wd_ticket *t = parse_ok("t.md", "# Réparer l’addition — ✓ 🚀\nCorps.\n");

	ck_assert_str_eq(t->title, "Réparer l’addition — ✓ 🚀");
	ck_assert_str_eq(t->slug, "reparer-l-addition");
	wd_ticket_free(t);
}
END_TEST

START_TEST(oversized_ticket_is_refused)
{
	size_t n = WD_TICKET_MAX_BYTES + 1;
	char *big = malloc(n);

	ck_assert_ptr_nonnull(big);
	memset(big, 'a', n);
	memcpy(big, "# T\n", 4);
	parse_fails(big, n, "T.md:1: ticket is 1048577 bytes; the limit is 1 MiB");
	free(big);
}
END_TEST

START_TEST(json_ticket_with_all_fields)
{
	wd_ticket *t = parse_ok("t.json",
		"{\"title\": \"Fix add\", \"body\": \"It wraps.\\r\\nPlease fix.\",\n"
		" \"scope\": [\"src/calc.c\"], \"checks\": \"make test\", \"rounds\": 4,\n"
		" \"fail_to_pass\": [\"test_add\"]}");

	ck_assert_str_eq(t->title, "Fix add");
	ck_assert_str_eq(t->body, "It wraps.\nPlease fix.");
	ck_assert_uint_eq(t->scope.n, 1);
	ck_assert_str_eq(t->checks.v[0], "make test");
	ck_assert_int_eq(t->rounds, 4);
	ck_assert_str_eq(t->fail_to_pass.v[0], "test_add");
	wd_ticket_free(t);
}
END_TEST

START_TEST(json_github_issue_payloads)
{
	wd_ticket *t = parse_ok("issue.json",
		"{\"url\": \"https://api.github.com/repos/o/r/issues/7\", \"number\": 7,\n"
		" \"title\": \"Crash on empty input\", \"body\": null, \"labels\": [{\"name\": \"bug\"}],\n"
		" \"user\": {\"login\": \"x\"}, \"state\": \"open\"}");

	ck_assert_str_eq(t->title, "Crash on empty input");
	ck_assert_str_eq(t->body, "");
	wd_ticket_free(t);
	t = parse_ok("hook.json", "{\"action\": \"opened\", \"issue\": {\"title\": \"Hooked\", "
	             "\"body\": \"b\"}, \"repository\": {}}");
	ck_assert_str_eq(t->title, "Hooked");
	ck_assert_str_eq(t->body, "b");
	wd_ticket_free(t);
}
END_TEST

START_TEST(json_errors_name_file_and_line)
{
	const char *syntax = "{\n\"title\": \"x\",\n\"body\": oops\n}";
	const char *rounds = "{\"title\": \"x\",\n\n\"rounds\": 50}";
	const char *scope = "{\"title\": \"x\",\n\"scope\": [1, 2]}";
	const char *notitle = "{\"body\": \"x\"}";
	const char *arr = "  [1, 2]";
	const char *dup = "{\"title\": \"a\", \"title\": \"b\"}";
	const char *empty = "{\"title\": \"  \"}";

	parse_fails(syntax, strlen(syntax), "T.md:3: bad JSON");
	parse_fails(rounds, strlen(rounds), "T.md:3: \"rounds\" must be a whole number from 1 to 20");
	parse_fails(scope, strlen(scope), "T.md:2: \"scope\" must be an array of strings");
	parse_fails(notitle, strlen(notitle), "T.md:1: no title");
	parse_fails(dup, strlen(dup), "bad JSON");
	parse_fails(empty, strlen(empty), "\"title\" is empty");
	/* a JSON array is told it is one, not that it lacks a Markdown heading */
	parse_fails(arr, strlen(arr), "got an array of 2 items");
}
END_TEST

START_TEST(id_depends_on_title_and_scope_not_the_wording_of_the_body)
{
	wd_ticket *a = parse_ok("a.md", "# Same\nbody\n");
	wd_ticket *b = parse_ok("b.json", "{\"title\": \"Same\", \"body\": \"other\", \"rounds\": 2}");
	wd_ticket *c = parse_ok("c.md", "---\nscope: x.c\n---\n# Same\nbody\n");
	wd_ticket *d = parse_ok("d.md", "# Sam\neTbody\n");

	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_ne(a->id, c->id);
	ck_assert_str_ne(a->id, d->id);
	ck_assert_str_eq(a->identity, "title:same");
	ck_assert_str_eq(c->identity, "title:same scope:x.c");
	wd_ticket_free(a);
	wd_ticket_free(b);
	wd_ticket_free(c);
	wd_ticket_free(d);
}
END_TEST

START_TEST(a_built_ticket_reads_as_the_parsed_one_through_the_accessors)
{
	wd_ticket *a = parse_ok("a.md", "# Same\nbody\n");
	wd_ticket *c = parse_ok("c.md", "---\nscope: x.c\n---\n# Same\nbody\n");
	wd_ticket *t = NULL;

	ck_assert_int_eq(wd_ticket_new(&t, "Same", "body"), 0);
	ck_assert_str_eq(wd_ticket_source(t), "");
	ck_assert_str_eq(wd_ticket_title(t), "Same");
	ck_assert_str_eq(wd_ticket_body(t), "body");
	ck_assert_str_eq(wd_ticket_slug(t), "same");
	ck_assert_str_eq(wd_ticket_id(t), wd_ticket_id(a));
	ck_assert_uint_eq(wd_ticket_scope(t)->n, 0);
	ck_assert_int_eq(wd_ticket_rounds(t), 0);
	/* the identity follows the scope, as a parsed ticket's does */
	ck_assert_int_eq(wd_ticket_add_scope(t, "x.c"), 0);
	ck_assert_str_eq(wd_ticket_identity(t), wd_ticket_identity(c));
	ck_assert_str_eq(wd_ticket_id(t), wd_ticket_id(c));
	ck_assert_int_eq(wd_ticket_add_fail_to_pass(t, "test_a"), 0);
	ck_assert_str_eq(wd_ticket_fail_to_pass(t)->v[0], "test_a");
	ck_assert_ptr_null(wd_ticket_fail_to_pass(t)->v[1]);
	wd_ticket_free(t);
	wd_ticket_free(a);
	wd_ticket_free(c);
}
END_TEST

START_TEST(a_built_ticket_cleans_its_title_and_may_have_none)
{
	wd_ticket *t = NULL;
	wd_ticket *e = parse_ok("e.md", "---\nid: PROJ-1\n---\n# T\n");

	ck_assert_int_eq(wd_ticket_new(&t, NULL, NULL), 0);
	ck_assert_str_eq(wd_ticket_title(t), "");
	ck_assert_str_eq(wd_ticket_body(t), "");
	ck_assert_str_eq(wd_ticket_slug(t), "ticket");
	ck_assert_uint_eq(strlen(wd_ticket_id(t)), 40);
	wd_ticket_free(t);
	ck_assert_int_eq(wd_ticket_new(&t, "Fix \x1b[2Jit", ""), 0);
	ck_assert_str_eq(wd_ticket_title(t), "Fix [2Jit");
	wd_ticket_free(t);
	/* an explicit id is the identity whatever the scope */
	ck_assert_int_eq(wd_ticket_add_scope(e, "src/*.c"), 0);
	ck_assert_str_eq(wd_ticket_identity(e), "id:PROJ-1");
	wd_ticket_free(e);
}
END_TEST

static void slug_is(const char *title, size_t max, const char *want)
{
	wd_buf b = WD_BUF_INIT;

	ck_assert_int_eq(wd_slugify(&b, title, max), 0);
	ck_assert_str_eq(b.ptr, want);
	wd_buf_free(&b);
}

START_TEST(slugify_rules)
{
	slug_is("Fix  the --- BUG!!", 40, "fix-the-bug");
	slug_is("  --leading and trailing--  ", 40, "leading-and-trailing");
	slug_is("!!!", 40, "ticket");
	slug_is("", 40, "ticket");
	slug_is(NULL, 40, "ticket");
	slug_is("日本語", 40, "ticket");
	slug_is("Crème brûlée für Ärzte", 40, "creme-brulee-fur-arzte");
	slug_is("abcdefghij abcdefghij abcdefghij abcdefghij abcdefghij", 40,
	        "abcdefghij-abcdefghij-abcdefghij-abcdefg");
	slug_is("abcdefghi abcdefghij", 10, "abcdefghi");
	slug_is("x", 0, "x");
	slug_is("", 3, "tic");
}
END_TEST

START_TEST(slug_is_at_most_40_and_well_formed)
{
	wd_ticket *t = parse_ok("t.md", "# This is a very long title that keeps going and going on\n");

	ck_assert_uint_le(strlen(t->slug), 40);
	ck_assert_str_eq(t->slug, "this-is-a-very-long-title-that-keeps-goi");
	wd_ticket_free(t);
}
END_TEST

START_TEST(load_reads_files_and_reports_missing)
{
	char *dir = NULL, path[4096];
	wd_ticket *t = NULL;

	ck_assert_int_eq(fx_tmpdir(&dir), 0);
	snprintf(path, sizeof(path), "%s/ticket.md", dir);
	ck_assert_int_eq(fx_write_file(path, "---\nscope: a.c\n---\n# Loaded\nfrom disk\n"), 0);
	ck_assert_int_eq(wd_ticket_load(&t, path), 0);
	ck_assert_str_eq(t->title, "Loaded");
	ck_assert_str_eq(t->source, path);
	wd_ticket_free(t);

	snprintf(path, sizeof(path), "%s/missing.md", dir);
	ck_assert_int_eq(wd_ticket_load(&t, path), WD_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "missing.md"));
	ck_assert_int_eq(wd_ticket_load(&t, dir), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "is a directory"));

	snprintf(path, sizeof(path), "%s/bad.md", dir);
	ck_assert_int_eq(fx_write_file(path, "---\nscope: a\n"), 0);
	ck_assert_int_eq(wd_ticket_load(&t, path), WD_EINPUT);
	ck_assert_msg(strncmp(wd_error_last(), path, strlen(path)) == 0 &&
	              !strncmp(wd_error_last() + strlen(path), ":1: header", 10),
	              "got '%s'", wd_error_last());
	fx_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(load_dash_reads_standard_input)
{
	const char *json = "{\"title\": \"From a pipe\", \"body\": \"b\"}";
	wd_ticket *t = NULL;
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], json, strlen(json)), (ssize_t)strlen(json));
	close(fds[1]);
	ck_assert_int_eq(dup2(fds[0], 0), 0); /* Check runs each test in its own process */
	close(fds[0]);
	ck_assert_int_eq(wd_ticket_load(&t, "-"), 0);
	ck_assert_str_eq(t->title, "From a pipe");
	ck_assert_str_eq(t->source, "<stdin>");
	wd_ticket_free(t);
}
END_TEST

static Suite *ticket_suite(void)
{
	Suite *s = suite_create("ticket");
	TCase *md = tcase_create("markdown");
	TCase *js = tcase_create("json");
	TCase *misc = tcase_create("misc");

	tcase_add_test(md, markdown_title_and_body);
	tcase_add_test(md, markdown_header_comma_values);
	tcase_add_test(md, markdown_header_item_lists);
	tcase_add_test(md, markdown_heading_inside_code_fence_is_not_the_title);
	tcase_add_test(md, markdown_setext_and_lower_level_titles);
	tcase_add_test(md, markdown_unknown_key_names_it_and_line);
	tcase_add_test(md, markdown_malformed_header_lines);
	tcase_add_test(md, markdown_unterminated_header);
	tcase_add_test(md, markdown_bad_rounds);
	tcase_add_test(md, markdown_no_title);
	tcase_add_test(js, json_ticket_with_all_fields);
	tcase_add_test(js, json_github_issue_payloads);
	tcase_add_test(js, json_errors_name_file_and_line);
	tcase_add_test(misc, empty_and_blank_tickets);
	tcase_add_test(misc, binary_and_invalid_utf8);
	tcase_add_test(misc, valid_utf8_is_kept);
	tcase_add_test(misc, oversized_ticket_is_refused);
	tcase_add_test(misc, id_depends_on_title_and_scope_not_the_wording_of_the_body);
	tcase_add_test(misc, a_built_ticket_reads_as_the_parsed_one_through_the_accessors);
	tcase_add_test(misc, a_built_ticket_cleans_its_title_and_may_have_none);
	tcase_add_test(misc, slugify_rules);
	tcase_add_test(misc, slug_is_at_most_40_and_well_formed);
	tcase_add_test(misc, load_reads_files_and_reports_missing);
	tcase_add_test(misc, load_dash_reads_standard_input);
	suite_add_tcase(s, md);
	suite_add_tcase(s, js);
	suite_add_tcase(s, misc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ticket_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
