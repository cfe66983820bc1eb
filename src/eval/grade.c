/*
 * Grading as SWE-bench grades: an instance is resolved when every
 * FAIL_TO_PASS test passes and every PASS_TO_PASS test still passes, partial
 * when some FAIL_TO_PASS tests pass and no PASS_TO_PASS test broke, and
 * unresolved otherwise. The base itself is checked first: an instance whose
 * base does not build, whose FAIL_TO_PASS tests already pass or whose
 * PASS_TO_PASS tests already fail grades nothing, and is an error.
 */
#include <string.h>

#include "warden/error.h"
#include "warden/eval.h"
#include "warden/gate.h"

static const char *const status_names[] = { "resolved", "partial", "unresolved", "error" };

const char *wd_eval_status_name(wd_eval_status s)
{
	return (unsigned)s < 4 ? status_names[s] : "error";
}

int wd_eval_status_parse(const char *s)
{
	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, status_names[i]))
			return i;
	return -1;
}

/* A test's status across every test check of the run; -1 when none reports it.
 * A test reported by two checks counts as passing only if it passes in both. */
static int test_status(const wd_gate_result *g, const char *name)
{
	int st = -1;

	for (size_t i = 0; i < g->n; i++) {
		const wd_check_result *cr = &g->v[i];
		const wd_test_case *tc;

		if (cr->check->kind != WD_CHECK_TEST || cr->skipped)
			continue;
		if (!(tc = wd_test_report_find(&cr->tests, name)))
			continue;
		if (st == -1 || tc->status != WD_TEST_PASS)
			st = (int)tc->status;
	}
	return st;
}

int wd_eval_validate_base(const wd_eval_instance *inst, const wd_gate_result *base)
{
	if (inst->f2p.n == 0)
		return wd_error_set(WD_EINPUT, "no FAIL_TO_PASS tests: there is nothing to grade");
	for (size_t i = 0; i < base->n; i++) {
		const wd_check_result *cr = &base->v[i];

		if (cr->check->kind == WD_CHECK_BUILD && !cr->passed)
		{
			if (cr->timed_out)
				return wd_error_set(WD_EINPUT, "the base does not build: '%s' timed out",
				                    cr->check->command);
			return wd_error_set(WD_EINPUT, "the base does not build: '%s' exited %d",
			                    cr->check->command, cr->exit_code);
		}
		if (cr->timed_out)
			return wd_error_set(WD_EINPUT, "the base's check '%s' timed out",
			                    cr->check->command);
	}
	for (size_t i = 0; i < inst->f2p.n; i++)
		if (test_status(base, inst->f2p.v[i]) == WD_TEST_PASS)
			return wd_error_set(WD_EINPUT, "FAIL_TO_PASS test '%s' already passes on the base",
			                    inst->f2p.v[i]);
	for (size_t i = 0; i < inst->p2p.n; i++) {
		int st = test_status(base, inst->p2p.v[i]);

		if (st == -1)
			return wd_error_set(WD_EINPUT, "PASS_TO_PASS test '%s' is not reported on the "
			                    "base (is the name right, and does the test command "
			                    "print per-test results?)", inst->p2p.v[i]);
		if (st != WD_TEST_PASS)
			return wd_error_set(WD_EINPUT, "PASS_TO_PASS test '%s' already %s on the base",
			                    inst->p2p.v[i], st == WD_TEST_SKIP ? "is skipped" : "fails");
	}
	return 0;
}

int wd_eval_grade_checks(wd_eval_grade *out, const wd_eval_instance *inst,
                         const wd_gate_result *g)
{
	int rc = 0;

	wd_eval_grade_free(out);
	for (size_t i = 0; i < inst->f2p.n && !rc; i++) {
		if (test_status(g, inst->f2p.v[i]) == WD_TEST_PASS)
			out->f2p_passed++;
		else
			rc = wd_strvec_push(&out->failing, inst->f2p.v[i]);
	}
	for (size_t i = 0; i < inst->p2p.n && !rc; i++) {
		if (test_status(g, inst->p2p.v[i]) == WD_TEST_PASS)
			out->p2p_passed++;
		else
			rc = wd_strvec_push(&out->failing, inst->p2p.v[i]);
	}
	if (rc)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (out->p2p_passed < inst->p2p.n || out->f2p_passed == 0)
		out->status = WD_EVAL_UNRESOLVED;
	else if (out->f2p_passed < inst->f2p.n)
		out->status = WD_EVAL_PARTIAL;
	else
		out->status = WD_EVAL_RESOLVED;
	return 0;
}

void wd_eval_grade_free(wd_eval_grade *g)
{
	wd_strvec_free(&g->failing);
	memset(g, 0, sizeof(*g));
	g->status = WD_EVAL_UNRESOLVED;
}
