/* The one policy for irreversible steps (merge, push, pull request), as
 * `warden run` and `warden review` both apply it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "warden/config.h"
#include "warden/error.h"
#include "warden/review.h"
#include "fixture.h"

static char *tmp;
static char cfg_path[4200];

static void setup(void)
{
	ck_assert_int_eq(fx_tmpdir(&tmp), 0);
	snprintf(cfg_path, sizeof(cfg_path), "%s/user.config", tmp);
	setenv("WARDEN_CONFIG", cfg_path, 1);
}

static void teardown(void)
{
	fx_rm_rf(tmp);
	free(tmp);
	tmp = NULL;
	unsetenv("WARDEN_CONFIG");
}

static wd_config *config(const char *text)
{
	wd_config *cfg = NULL;

	ck_assert_int_eq(fx_write_file(cfg_path, text), 0);
	ck_assert_msg(wd_config_open(&cfg, NULL) == 0, "%s", wd_error_last());
	return cfg;
}

static wd_review_decision decide(const wd_config *cfg, wd_review_step step, int yes, int ci,
                                 int tty)
{
	wd_review_flags f = { yes, ci, tty };
	wd_review_decision d;

	ck_assert_msg(wd_review_policy_decide(&d, cfg, step, &f) == 0, "%s", wd_error_last());
	return d;
}

START_TEST(explicit_false_denies_push_and_pull_request_whatever_the_flags)
{
	wd_config *cfg = config("[push]\n\tallowed = false\n");
	static const wd_review_step steps[] = { WD_STEP_PUSH, WD_STEP_PULL_REQUEST };

	for (size_t s = 0; s < 2; s++)
		for (int yes = 0; yes < 2; yes++)
			for (int ci = 0; ci < 2; ci++)
				for (int tty = 0; tty < 2; tty++) {
					wd_review_decision d = decide(cfg, steps[s], yes, ci, tty);

					ck_assert_int_eq(d.verdict, WD_REVIEW_DENY);
					ck_assert_int_eq(d.code, WD_EREFUSED);
					ck_assert_int_eq(d.setting, 0);
					ck_assert_ptr_nonnull(strstr(d.reason, "push.allowed = false"));
				}
	wd_config_free(cfg);
}
END_TEST

START_TEST(explicit_false_for_merges_means_a_person_confirms)
{
	wd_config *cfg = config("[review]\n\tautoApprove = false\n");
	wd_review_decision d;

	d = decide(cfg, WD_STEP_MERGE, 1, 0, 0);
	ck_assert_int_eq(d.verdict, WD_REVIEW_DENY);
	ck_assert_int_eq(d.code, WD_EREFUSED);
	d = decide(cfg, WD_STEP_MERGE, 0, 1, 0);
	ck_assert_int_eq(d.verdict, WD_REVIEW_DENY);
	d = decide(cfg, WD_STEP_MERGE, 1, 1, 1);
	ck_assert_int_eq(d.verdict, WD_REVIEW_ASK); /* --yes does not skip the question */
	ck_assert_ptr_nonnull(strstr(d.reason, "review.autoApprove = false"));
	wd_config_free(cfg);
}
END_TEST

START_TEST(explicit_true_allows_without_flags_or_terminal)
{
	wd_config *cfg = config("[push]\n\tallowed = true\n[review]\n\tautoApprove = yes\n");

	ck_assert_int_eq(decide(cfg, WD_STEP_PUSH, 0, 0, 0).verdict, WD_REVIEW_ALLOW);
	ck_assert_int_eq(decide(cfg, WD_STEP_PULL_REQUEST, 0, 0, 0).verdict, WD_REVIEW_ALLOW);
	ck_assert_int_eq(decide(cfg, WD_STEP_MERGE, 0, 0, 0).verdict, WD_REVIEW_ALLOW);
	wd_config_free(cfg);
}
END_TEST

START_TEST(unset_yes_or_ci_allows_a_terminal_asks_else_refused)
{
	wd_config *cfg = config("");
	static const wd_review_step steps[] = { WD_STEP_MERGE, WD_STEP_PUSH, WD_STEP_PULL_REQUEST };

	for (size_t s = 0; s < 3; s++) {
		wd_review_decision d;

		ck_assert_int_eq(decide(cfg, steps[s], 1, 0, 0).verdict, WD_REVIEW_ALLOW);
		ck_assert_int_eq(decide(cfg, steps[s], 0, 1, 0).verdict, WD_REVIEW_ALLOW);
		ck_assert_int_eq(decide(cfg, steps[s], 0, 0, 1).verdict, WD_REVIEW_ASK);
		d = decide(cfg, steps[s], 0, 0, 0);
		ck_assert_int_eq(d.verdict, WD_REVIEW_DENY);
		ck_assert_int_eq(d.code, WD_EUSAGE);
		ck_assert_int_eq(d.setting, -1);
		ck_assert_ptr_nonnull(strstr(d.reason, "--yes"));
	}
	wd_config_free(cfg);
}
END_TEST

START_TEST(the_repositorys_config_cannot_set_the_policy)
{
	char work[4200], repo_cfg[4300];
	wd_config *cfg = NULL;
	wd_review_decision d;
	wd_review_flags none = { 0, 0, 0 };

	ck_assert_int_eq(fx_write_file(cfg_path, "[push]\n\tallowed = false\n"), 0);
	snprintf(work, sizeof(work), "%s/work", tmp);
	snprintf(repo_cfg, sizeof(repo_cfg), "%s/.warden/config", work);
	ck_assert_int_eq(fx_write_file(repo_cfg, "[push]\n\tallowed = true\n[review]\n\tautoApprove = true\n"), 0);
	ck_assert_int_eq(wd_config_open(&cfg, work), 0);
	ck_assert_int_eq(wd_review_policy_decide(&d, cfg, WD_STEP_PUSH, &none), 0);
	ck_assert_int_eq(d.verdict, WD_REVIEW_DENY);
	ck_assert_int_eq(d.code, WD_EREFUSED);
	ck_assert_int_eq(wd_review_policy_decide(&d, cfg, WD_STEP_MERGE, &none), 0);
	ck_assert_int_eq(d.verdict, WD_REVIEW_DENY); /* unset for the user, no terminal */
	ck_assert_int_eq(d.code, WD_EUSAGE);
	wd_config_free(cfg);
}
END_TEST

START_TEST(a_value_that_is_not_a_boolean_is_an_error)
{
	wd_config *cfg = config("[push]\n\tallowed = sometimes\n");
	wd_review_decision d;
	wd_review_flags yes = { 1, 0, 0 };

	ck_assert_int_eq(wd_review_policy_decide(&d, cfg, WD_STEP_PUSH, &yes), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "push.allowed"));
	wd_config_free(cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("review_policy");
	TCase *tc = tcase_create("decide");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, explicit_false_denies_push_and_pull_request_whatever_the_flags);
	tcase_add_test(tc, explicit_false_for_merges_means_a_person_confirms);
	tcase_add_test(tc, explicit_true_allows_without_flags_or_terminal);
	tcase_add_test(tc, unset_yes_or_ci_allows_a_terminal_asks_else_refused);
	tcase_add_test(tc, the_repositorys_config_cannot_set_the_policy);
	tcase_add_test(tc, a_value_that_is_not_a_boolean_is_an_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
