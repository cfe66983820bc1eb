/* The edit format the prompts ask for: one per model family, the user's
 * model.edit-format over it, and the prompts that name it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/prompt.h"
#include "warden/ticket.h"

#include "../../src/run/run_internal.h"

static char dir[64];

static void setup(void)
{
	wd_buf p = WD_BUF_INIT;
	const char *src = getenv("WARDEN_SRC");

	git_libgit2_init();
	strcpy(dir, "/tmp/wd-editfmt-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	wd_buf_printf(&p, "%s/prompts", src ? src : ".");
	ck_assert_int_eq(wd_prompt_set_dir(p.ptr), 0);
	wd_buf_free(&p);
}

static void teardown(void)
{
	wd_prompt_set_dir(NULL);
	wd_rm_rf(dir);
	unsetenv("WARDEN_CONFIG");
	git_libgit2_shutdown();
}

static wd_config *config_with(const char *text)
{
	wd_buf p = WD_BUF_INIT;
	wd_config *cfg = NULL;

	wd_path_join(&p, dir, "config");
	ck_assert_int_eq(wd_file_write_atomic(p.ptr, text, strlen(text), 0600), 0);
	setenv("WARDEN_CONFIG", p.ptr, 1);
	ck_assert_int_eq(wd_config_open(&cfg, NULL), 0);
	wd_buf_free(&p);
	return cfg;
}

START_TEST(each_model_family_gets_its_format)
{
	wd_config *cfg = config_with("[model \"fast\"]\n\tspec = anthropic:claude-x\n");
	const char *f = NULL;

	ck_assert_int_eq(wd_run_edit_format(&f, "openai:gpt-5", cfg), 0);
	ck_assert_str_eq(f, "patch");
	ck_assert_int_eq(wd_run_edit_format(&f, "openai-responses:o4-mini", cfg), 0);
	ck_assert_str_eq(f, "patch");
	ck_assert_int_eq(wd_run_edit_format(&f, "anthropic:claude-sonnet", cfg), 0);
	ck_assert_str_eq(f, "search-replace");
	ck_assert_int_eq(wd_run_edit_format(&f, "compat:http://127.0.0.1:8000/v1#qwen", cfg), 0);
	ck_assert_str_eq(f, "search-replace");
	ck_assert_int_eq(wd_run_edit_format(&f, "replay:/tmp/r.jsonl", cfg), 0);
	ck_assert_str_eq(f, "diff");
	/* a chain: its first model; a named section: its own spec */
	ck_assert_int_eq(wd_run_edit_format(&f, "anthropic:c,openai:gpt-5", cfg), 0);
	ck_assert_str_eq(f, "search-replace");
	ck_assert_int_eq(wd_run_edit_format(&f, "fast", cfg), 0);
	ck_assert_str_eq(f, "search-replace");
	wd_config_free(cfg);
}
END_TEST

START_TEST(config_overrides_the_family_and_refuses_unknown_formats)
{
	wd_config *cfg = config_with("[model]\n\tedit-format = whole\n");
	const char *f = NULL;

	ck_assert_int_eq(wd_run_edit_format(&f, "openai:gpt-5", cfg), 0);
	ck_assert_str_eq(f, "whole");
	wd_config_free(cfg);
	cfg = config_with("[model]\n\tedit-format = udiff-simple\n");
	ck_assert_int_eq(wd_run_edit_format(&f, "openai:gpt-5", cfg), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "udiff-simple"));
	wd_config_free(cfg);
	cfg = config_with("[patch]\n\tmax-whole-file = 10k\n");
	ck_assert_uint_eq(wd_run_max_whole_file(cfg), 10240);
	wd_config_free(cfg);
}
END_TEST

START_TEST(prompts_ask_for_the_chosen_format_and_repairs_name_it)
{
	static const char *const fmts[] = { "diff", "search-replace", "patch", "whole" };
	static const char *const marks[] = { "```diff", "<<<<<<< SEARCH", "*** Begin Patch",
		                             "complete new\n  content in a fenced block" };
	static const char *const others[] = { "<<<<<<< SEARCH", "*** Begin Patch", "```diff",
		                              "*** Begin Patch" };
	wd_ticket *t = NULL;
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(wd_ticket_new(&t, NULL, NULL), 0);
	for (size_t i = 0; i < 4; i++) {
		wd_buf_clear(&out);
		ck_assert_int_eq(wd_run_render_system(&out, t, fmts[i], NULL), 0);
		ck_assert_msg(strstr(out.ptr, marks[i]) != NULL, "%s: %s", fmts[i], out.ptr);
		ck_assert_msg(strstr(out.ptr, others[i]) == NULL, "%s asks for another format",
		              fmts[i]);
		ck_assert_ptr_nonnull(strstr(out.ptr, "no greetings or apologies"));
		ck_assert_int_eq(wd_run_render_repair(&out, 2, "hunk 1 failed", fmts[i]), 0);
		ck_assert_ptr_nonnull(strstr(out.ptr, wd_run_edit_format_phrase(fmts[i])));
		ck_assert_int_eq(wd_run_render_no_patch(&out, 2, "nothing", fmts[i]), 0);
		ck_assert_ptr_nonnull(strstr(out.ptr, wd_run_edit_format_phrase(fmts[i])));
	}
	wd_buf_free(&out);
	wd_ticket_free(t);
}
END_TEST

static Suite *edit_format_suite(void)
{
	Suite *s = suite_create("edit_format");
	TCase *tc = tcase_create("format");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, each_model_family_gets_its_format);
	tcase_add_test(tc, config_overrides_the_family_and_refuses_unknown_formats);
	tcase_add_test(tc, prompts_ask_for_the_chosen_format_and_repairs_name_it);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(edit_format_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
