/*
 * wd_run checks its options' version as libgit2 does: options laid out for
 * another version of the struct are refused before any field is read, while
 * the same options at the right version go on to the next check.
 */
#include <check.h>
#include <string.h>

#include "fixture.h"
#include "warden/error.h"
#include "warden/run.h"

START_TEST(options_of_another_version_are_refused)
{
	wd_run_opts o = WD_RUN_OPTS_INIT;
	wd_run_result r;

	o.version = WD_RUN_OPTS_VERSION + 1;
	ck_assert_int_eq(wd_run(&r, &o), WD_EUSAGE);
	ck_assert_int_eq(r.status, WD_RUN_ERROR);
	ck_assert_int_eq(r.error, WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "wd_run_opts version 2, expected 1"));
	wd_run_result_free(&r);

	/* the control: the right version is read on, to the missing --repo */
	o.version = WD_RUN_OPTS_VERSION;
	ck_assert_int_eq(wd_run(&r, &o), WD_EUSAGE);
	ck_assert_str_eq(wd_error_last(), "--repo is required");
	wd_run_result_free(&r);
}
END_TEST

START_TEST(zeroed_options_and_no_options_are_refused)
{
	wd_run_opts o;
	wd_run_result r;

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(wd_run(&r, &o), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "WD_RUN_OPTS_INIT"));
	wd_run_result_free(&r);
	ck_assert_int_eq(wd_run(&r, NULL), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "wd_run_opts version 0"));
	wd_run_result_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("run_opts");
	TCase *tc = tcase_create("version");

	tcase_add_test(tc, options_of_another_version_are_refused);
	tcase_add_test(tc, zeroed_options_and_no_options_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fx_suite_main(suite());
}
