/* Checks declared in .warden/config ([check "NAME"] sections). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "fixture.h"
#include "warden/buf.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/gate.h"

static char *dir;

static void setup(void)
{
	wd_buf user = WD_BUF_INIT;

	git_libgit2_init();
	ck_assert_int_eq(fx_tmpdir(&dir), 0);
	ck_assert_int_eq(wd_path_join(&user, dir, "user-config"), 0);
	ck_assert_int_eq(fx_write_file(user.ptr, "[model]\n\tdefault = replay:x\n"), 0);
	setenv("WARDEN_CONFIG", user.ptr, 1);
	wd_buf_free(&user);
}

static void teardown(void)
{
	fx_rm_rf(dir);
	free(dir);
	git_libgit2_shutdown();
}

static int load(wd_checklist *l, const char *repo_config)
{
	wd_buf p = WD_BUF_INIT;
	wd_config *cfg = NULL;
	int rc;

	ck_assert_int_eq(wd_path_join(&p, dir, ".warden/config"), 0);
	ck_assert_int_eq(fx_write_file(p.ptr, repo_config), 0);
	ck_assert_msg(wd_config_open(&cfg, dir) == 0, "%s", wd_error_last());
	rc = wd_checklist_from_config(l, cfg);
	wd_config_free(cfg);
	wd_buf_free(&p);
	return rc;
}

START_TEST(check_sections_become_checks_in_name_order)
{
	wd_checklist l = WD_CHECKLIST_INIT;

	ck_assert_msg(load(&l,
		"[check \"unit\"]\n\tcommand = make check\n\ttimeout = 120\n\tresults = build/junit.xml\n"
		"[check \"build\"]\n\tcommand = make -j2\n\tkind = build\n"
		"[check \"lint\"]\n\tcommand = cppcheck --template=gcc src\n\tkind = analyze\n") == 0,
		"%s", wd_error_last());
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.v[0].name, "build");
	ck_assert_int_eq(l.v[0].kind, WD_CHECK_BUILD);
	ck_assert_str_eq(l.v[0].command, "make -j2");
	ck_assert_uint_eq(l.v[0].timeout_sec, 0);
	ck_assert_str_eq(l.v[1].name, "lint");
	ck_assert_int_eq(l.v[1].kind, WD_CHECK_ANALYZE);
	ck_assert_str_eq(l.v[2].name, "unit");
	ck_assert_int_eq(l.v[2].kind, WD_CHECK_TEST);
	ck_assert_uint_eq(l.v[2].timeout_sec, 120);
	ck_assert_str_eq(l.v[2].results_file, "build/junit.xml");
	wd_checklist_free(&l);
}
END_TEST

START_TEST(check_names_may_contain_dots)
{
	wd_checklist l = WD_CHECKLIST_INIT;

	ck_assert_msg(load(&l, "[check \"unit.fast\"]\n\tcommand = make quick\n\tkind = test\n") == 0,
	              "%s", wd_error_last());
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0].name, "unit.fast");
	ck_assert_str_eq(l.v[0].command, "make quick");
	wd_checklist_free(&l);
}
END_TEST

START_TEST(no_check_sections_is_an_empty_list)
{
	wd_checklist l = WD_CHECKLIST_INIT;

	ck_assert_int_eq(load(&l, "[core]\n\tfoo = bar\n"), 0);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(invalid_check_sections_are_refused_with_their_name)
{
	wd_checklist l = WD_CHECKLIST_INIT;

	ck_assert_int_eq(load(&l, "[check \"t\"]\n\tkind = test\n"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "[check \"t\"] has no command"));
	ck_assert_int_eq(load(&l, "[check \"t\"]\n\tcommand = x\n\tkind = deploy\n"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "deploy"));
	ck_assert_int_eq(load(&l, "[check \"t\"]\n\tcommand = x\n\ttimeout = 0\n"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "timeout"));
	ck_assert_int_eq(load(&l, "[check \"t\"]\n\tcommand = x\n\tresults = ../../etc/passwd\n"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "inside the work tree"));
	ck_assert_int_eq(load(&l, "[check \"t\"]\n\tcommand = x\n\tresults = /etc/passwd\n"), WD_EINPUT);
	ck_assert_uint_eq(l.n, 0);
	wd_checklist_free(&l);
}
END_TEST

START_TEST(config_checks_merge_with_spec_checks)
{
	wd_checklist l = WD_CHECKLIST_INIT;

	ck_assert_int_eq(wd_checklist_add_spec(&l, "make check", 0), 0);
	ck_assert_int_eq(load(&l, "[check \"unit\"]\n\tcommand = make check\n"
	                          "[check \"more\"]\n\tcommand = ./more\n"), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0].name, "test");
	ck_assert_str_eq(l.v[1].name, "more");
	wd_checklist_free(&l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gate_config");
	TCase *tc = tcase_create("config");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, check_sections_become_checks_in_name_order);
	tcase_add_test(tc, check_names_may_contain_dots);
	tcase_add_test(tc, no_check_sections_is_an_empty_list);
	tcase_add_test(tc, invalid_check_sections_are_refused_with_their_name);
	tcase_add_test(tc, config_checks_merge_with_spec_checks);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
