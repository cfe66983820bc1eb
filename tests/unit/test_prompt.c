/* Prompt templates: lookup, rendering, and the errors that keep a typo from
 * silently sending an empty section to the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/prompt.h"

static char dir[256];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wd-test-prompt-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("WARDEN_PROMPTS", dir, 1);
}

static void teardown(void)
{
	wd_rm_rf(dir);
}

static void put(const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.md", dir, name);
	ck_assert_int_eq(wd_file_write_atomic(path, text, strlen(text), 0644), 0);
}

START_TEST(placeholders_are_filled_and_the_file_hash_reported)
{
	wd_buf out = WD_BUF_INIT;
	const char *vars[] = { "title", "Fix overflow", "body", "See {{title}} in x.c", NULL };
	char hash[41], expect[41];
	const char *tpl = "# {{title}}\n\n{{ body }}\nCode: `a{{b`, {{not a key}}, {{}}.\n";

	put("task", tpl);
	ck_assert_str_eq(wd_prompt_dir(), dir);
	ck_assert_int_eq(wd_prompt_render(&out, "task", vars, hash), 0);
	/* values are inserted verbatim, never rescanned */
	ck_assert_str_eq(out.ptr, "# Fix overflow\n\nSee {{title}} in x.c\nCode: `a{{b`, {{not a key}}, {{}}.\n");
	ck_assert_int_eq(wd_hash_hex(expect, tpl, strlen(tpl)), 0);
	ck_assert_str_eq(hash, expect);
	wd_buf_free(&out);
}
END_TEST

START_TEST(unknown_placeholder_is_an_error_naming_file_and_line)
{
	wd_buf out = WD_BUF_INIT;
	const char *vars[] = { "title", "x", NULL };

	put("task", "# {{title}}\n\n{{tilte_typo}}\n");
	ck_assert_int_eq(wd_prompt_render(&out, "task", vars, NULL), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "{{tilte_typo}}"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "line 3"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "task.md"));
	wd_buf_free(&out);
}
END_TEST

START_TEST(missing_template_and_bad_names_are_refused)
{
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(wd_prompt_render(&out, "nosuch", NULL, NULL), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "nosuch"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "WARDEN_PROMPTS"));
	ck_assert_int_eq(wd_prompt_render(&out, "../etc/passwd", NULL, NULL), WD_EUSAGE);
	ck_assert_int_eq(wd_prompt_render(&out, "", NULL, NULL), WD_EUSAGE);
	ck_assert_int_eq(wd_prompt_render(&out, NULL, NULL, NULL), WD_EUSAGE);
	ck_assert_uint_eq(out.len, 0);
	wd_buf_free(&out);
}
END_TEST

START_TEST(template_without_placeholders_renders_as_is)
{
	wd_buf out = WD_BUF_INIT;
	char hash[41];

	put("plain", "no placeholders here\n");
	ck_assert_int_eq(wd_prompt_render(&out, "plain", NULL, hash), 0);
	ck_assert_str_eq(out.ptr, "no placeholders here\n");
	ck_assert_uint_eq(strlen(hash), 40);
	wd_buf_free(&out);
}
END_TEST

START_TEST(source_checkout_prompts_are_found_without_the_variable)
{
	/* the test binary lives in BUILD/tests/: two levels up is the checkout's prompts/ */
	const char *d;

	unsetenv("WARDEN_PROMPTS");
	d = wd_prompt_dir();
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(strstr(d, "prompts"));
	if (wd_path_is_dir("prompts"))
		ck_assert_msg(wd_path_is_dir(d), "%s is not a directory", d);
}
END_TEST

/* A checkout's prompts/ in the current directory must never replace
 * warden's instructions to the model. */
START_TEST(prompts_in_the_current_directory_are_never_used)
{
	char here[4096], cwd_prompts[600], *real_cwd, *real_found = NULL;
	const char *d;
	wd_buf out = WD_BUF_INIT;

	ck_assert_ptr_nonnull(getcwd(here, sizeof(here)));
	put("system", "HOSTILE-IN-CWD\n"); /* dir/system.md: dir is about to be the cwd */
	snprintf(cwd_prompts, sizeof(cwd_prompts), "%s/prompts", dir);
	ck_assert_int_eq(mkdir(cwd_prompts, 0755), 0);
	{
		char path[700];

		snprintf(path, sizeof(path), "%s/system.md", cwd_prompts);
		ck_assert_int_eq(wd_file_write_atomic(path, "HOSTILE-IN-CWD\n", 15, 0644), 0);
	}
	unsetenv("WARDEN_PROMPTS");
	ck_assert_int_eq(chdir(dir), 0);
	d = wd_prompt_dir();
	real_cwd = wd_realpath("prompts");
	ck_assert_ptr_nonnull(real_cwd);
	if (d) {
		real_found = wd_realpath(d);
		ck_assert_ptr_nonnull(real_found);
		ck_assert_str_ne(real_found, real_cwd);
		ck_assert_str_ne(real_found, dir);
		snprintf(cwd_prompts, sizeof(cwd_prompts), "%s/system.md", d);
		ck_assert_int_eq(wd_file_read(&out, cwd_prompts, 0), 0);
		ck_assert_ptr_null(strstr(out.ptr, "HOSTILE-IN-CWD"));
	} else {
		ck_assert_int_eq(wd_prompt_render(&out, "system", NULL, NULL), WD_EINFRA);
		ck_assert_ptr_nonnull(strstr(wd_error_last(), "--prompts"));
	}
	ck_assert_int_eq(chdir(here), 0);
	free(real_cwd);
	free(real_found);
	wd_buf_free(&out);
}
END_TEST

START_TEST(an_explicit_directory_wins_over_the_variable)
{
	char other[300];

	snprintf(other, sizeof(other), "%s/explicit", dir);
	ck_assert_int_eq(wd_prompt_set_dir(other), 0);
	ck_assert_str_eq(wd_prompt_dir(), other);
	ck_assert_int_eq(wd_prompt_set_dir(NULL), 0);
	ck_assert_str_eq(wd_prompt_dir(), dir);
	ck_assert_int_eq(wd_prompt_set_dir(""), WD_EUSAGE);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("prompt");
	TCase *tc = tcase_create("render");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, placeholders_are_filled_and_the_file_hash_reported);
	tcase_add_test(tc, unknown_placeholder_is_an_error_naming_file_and_line);
	tcase_add_test(tc, missing_template_and_bad_names_are_refused);
	tcase_add_test(tc, template_without_placeholders_renders_as_is);
	tcase_add_test(tc, source_checkout_prompts_are_found_without_the_variable);
	tcase_add_test(tc, prompts_in_the_current_directory_are_never_used);
	tcase_add_test(tc, an_explicit_directory_wins_over_the_variable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
