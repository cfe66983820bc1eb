/*
 * The verdict: does the patched run pass, relative to the baseline?
 * SWE-bench's rule for tests (FAIL_TO_PASS must go fail -> pass, every test
 * that passed before must still pass), exit codes where no per-test results
 * exist, and diff-aware analysis (only new findings on touched lines block).
 * The rules are documented with wd_gate_verdict() in gate.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gate_int.h"
#include "warden/error.h"
#include "warden/verdict.h"

#define NAMES_IN_REASON 5

const char *wd_test_class_name(wd_test_class c)
{
	static const char *const names[] = {
		"passing", "fixed", "still_failing", "regressed", "new_passing", "new_failing", "missing",
	};

	return (unsigned)c < WD_CLASS_COUNT ? names[c] : "unknown";
}

void wd_verdict_free(wd_verdict *v)
{
	for (size_t i = 0; i < v->ntests; i++) {
		free(v->tests[i].check);
		free(v->tests[i].test);
		free(v->tests[i].detail);
	}
	free(v->tests);
	wd_findings_free(&v->new_findings);
	wd_strvec_free(&v->f2p_unmet);
	wd_strvec_free(&v->reasons);
	wd_strvec_free(&v->failed_checks);
	memset(v, 0, sizeof(*v));
}

static int add_change(wd_verdict *v, const char *check, const wd_test_case *t, wd_test_class cls)
{
	wd_test_change *c;

	if (WD_ARRAY_RESERVE(v->tests, v->tests_cap, v->ntests + 1, 16) != 0)
		return WD_ENOMEM;
	c = &v->tests[v->ntests];
	memset(c, 0, sizeof(*c));
	c->cls = cls;
	if (!(c->check = wd_strdup(check)) || !(c->test = wd_strdup(t->name)) ||
	    (t->detail && t->status == WD_TEST_FAIL && !(c->detail = wd_strdup(t->detail)))) {
		free(c->check);
		free(c->test);
		return WD_ENOMEM;
	}
	v->ntests++;
	v->counts[cls]++;
	return 0;
}

/* The patch fails: `msg` (taken; NULL is out of memory, as wd_format
 * returns it) is one more reason, `check` (unless NULL) a failed check. */
static int reason(wd_verdict *v, const char *check, char *msg)
{
	int rc = wd_strvec_push_owned(&v->reasons, msg);

	if (!rc && check && !wd_strvec_contains(&v->failed_checks, check))
		rc = wd_strvec_push(&v->failed_checks, check);
	v->passed = 0;
	return rc;
}

static const wd_check_result *find_check(const wd_gate_result *r, const char *name)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (!strcmp(r->v[i].check->name, name))
			return &r->v[i];
	return NULL;
}

/* "a, b, c and 2 more" from the tests of `check` in class `cls`. */
static int name_list(wd_buf *out, const wd_verdict *v, size_t from, wd_test_class cls)
{
	size_t shown = 0, total = 0;
	int rc = 0;

	for (size_t i = from; i < v->ntests && !rc; i++) {
		if (v->tests[i].cls != cls)
			continue;
		total++;
		if (shown < NAMES_IN_REASON) {
			rc = wd_buf_printf(out, "%s%s", shown ? ", " : "", v->tests[i].test);
			shown++;
		}
	}
	if (!rc && total > shown)
		rc = wd_buf_printf(out, " and %zu more", total - shown);
	return rc;
}

/* Classify every test of one test check; returns the number that block. */
static int classify(wd_verdict *v, const wd_check_result *cr, const wd_check_result *cb,
                    size_t *blocking)
{
	const wd_test_report *now = &cr->tests, *was = cb ? &cb->tests : NULL;
	int base_known = was && was->format;
	int rc;

	*blocking = 0;
	for (size_t i = 0; i < now->n; i++) {
		const wd_test_case *t = &now->v[i];
		const wd_test_case *b = base_known ? wd_test_report_find(was, t->name) : NULL;
		wd_test_class cls;

		if (t->status == WD_TEST_SKIP)
			continue;
		if (t->status == WD_TEST_FAIL) {
			if (b && b->status == WD_TEST_FAIL)
				cls = WD_CLASS_STILL_FAILING;
			else if (b || (base_known && !was->complete))
				cls = WD_CLASS_REGRESSED; /* passed there, or base listed only failures */
			else
				cls = WD_CLASS_NEW_FAILING;
		} else {
			if (b && b->status == WD_TEST_FAIL)
				cls = WD_CLASS_FIXED;
			else if (b || !base_known || !was->complete)
				cls = WD_CLASS_PASSING;
			else
				cls = WD_CLASS_NEW_PASSING;
		}
		if ((rc = add_change(v, cr->check->name, t, cls)) != 0)
			return rc;
		*blocking += cls == WD_CLASS_REGRESSED || cls == WD_CLASS_NEW_FAILING;
	}
	/* tests that passed on base and are gone now (only a full listing can tell) */
	if (base_known && now->complete) {
		for (size_t i = 0; i < was->n; i++) {
			const wd_test_case *b = &was->v[i];

			if (b->status != WD_TEST_PASS || wd_test_report_find(now, b->name))
				continue;
			if ((rc = add_change(v, cr->check->name, b, WD_CLASS_MISSING)) != 0)
				return rc;
			(*blocking)++;
		}
	}
	return 0;
}

static int test_check(wd_verdict *v, const wd_check_result *cr, const wd_check_result *cb)
{
	const char *name = cr->check->name;
	size_t first = v->ntests, blocking = 0;
	wd_buf list = WD_BUF_INIT;
	int rc;

	if ((rc = classify(v, cr, cb, &blocking)) != 0)
		return rc;
	for (int cls = WD_CLASS_REGRESSED; !rc && cls <= WD_CLASS_MISSING; cls++) {
		static const char *const what[] = {
			[WD_CLASS_REGRESSED] = "regressed (passed before the patch, fail now)",
			[WD_CLASS_NEW_FAILING] = "new and failing",
			[WD_CLASS_MISSING] = "missing (passed before the patch, no longer reported)",
		};
		size_t n = 0;

		if (cls == WD_CLASS_NEW_PASSING)
			continue;
		for (size_t i = first; i < v->ntests; i++)
			n += v->tests[i].cls == (wd_test_class)cls;
		if (!n)
			continue;
		wd_buf_clear(&list);
		if ((rc = name_list(&list, v, first, (wd_test_class)cls)) == 0)
			rc = reason(v, name, wd_format("%s: %zu %s: %s", name, n, what[cls], list.ptr));
	}
	wd_buf_free(&list);
	if (rc || cr->passed || blocking)
		return rc;
	/* it failed, and no single test is to blame: compare with the base run */
	if (!cb)
		return reason(v, name, wd_format("%s: failed (exit %d)", name, cr->exit_code));
	if (cb->passed)
		return reason(v, name, wd_format("%s: failed (exit %d) but passed on the base commit",
		                                 name, cr->exit_code));
	if (!cr->tests.format || !cb->tests.format)
		return reason(v, name, wd_format("%s: failed (exit %d; it also failed on the base "
		                                 "commit, and without per-test results the patch must "
		                                 "make it pass)", name, cr->exit_code));
	if (cr->counts_known && cb->counts_known && cr->tests_failed > cb->tests_failed)
		return reason(v, name, wd_format("%s: %zu tests fail, %zu failed on the base commit",
		                                 name, cr->tests_failed, cb->tests_failed));
	if (cr->tests.failed == 0 && cr->tests.n == 0 && !cr->counts_known)
		return reason(v, name, wd_format("%s: failed (exit %d) with no test reported failing",
		                                 name, cr->exit_code));
	return 0; /* only failures that were already there */
}

static int key_cmp(const wd_finding *a, const wd_finding *b)
{
	int c = strcmp(a->file, b->file);

	if (!c)
		c = strcmp(a->rule ? a->rule : "", b->rule ? b->rule : "");
	if (!c)
		c = strcmp(a->message, b->message);
	return c;
}

static const wd_findings *sort_base; /* qsort has no context argument */

static int cmp_index(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = key_cmp(&sort_base->v[i], &sort_base->v[j]);

	return c ? c : (i > j) - (i < j);
}

/*
 * Match each patched finding to an unused base finding with the same file,
 * rule and message, nearest by line (code added above moves findings down).
 * Base findings are sorted by key once, so this is n log n, not n * m.
 */
static int match_base(unsigned char **out_new, const wd_findings *now, const wd_findings *was)
{
	size_t *idx = NULL;
	unsigned char *used = NULL, *is_new;
	static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

	*out_new = NULL;
	if (!(is_new = calloc(now->n ? now->n : 1, 1)))
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (was && was->n && (!(idx = malloc(was->n * sizeof(*idx))) || !(used = calloc(was->n, 1)))) {
		free(idx);
		free(is_new);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	for (size_t j = 0; idx && j < was->n; j++)
		idx[j] = j;
	if (idx) {
		pthread_mutex_lock(&sort_lock);
		sort_base = was;
		qsort(idx, was->n, sizeof(*idx), cmp_index);
		pthread_mutex_unlock(&sort_lock);
	}
	for (size_t i = 0; i < now->n; i++) {
		const wd_finding *f = &now->v[i];
		size_t lo = 0, hi = idx ? was->n : 0, best = (size_t)-1, best_d = (size_t)-1;

		while (lo < hi) { /* first base entry with key >= f's */
			size_t mid = lo + (hi - lo) / 2;

			if (key_cmp(&was->v[idx[mid]], f) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; idx && k < was->n && !key_cmp(&was->v[idx[k]], f); k++) {
			const wd_finding *b = &was->v[idx[k]];
			size_t d = f->line > b->line ? f->line - b->line : b->line - f->line;

			if (!used[idx[k]] && d < best_d) {
				best_d = d;
				best = idx[k];
			}
		}
		if (best != (size_t)-1)
			used[best] = 1;
		else
			is_new[i] = 1;
	}
	free(idx);
	free(used);
	*out_new = is_new;
	return 0;
}

static int analyze_check(wd_verdict *v, const wd_check_result *cr, const wd_check_result *cb,
                         const wd_touched *touched)
{
	const wd_findings *now = &cr->findings, *was = cb ? &cb->findings : NULL;
	unsigned char *is_new = NULL;
	size_t blocking = 0;
	int rc;

	if ((rc = match_base(&is_new, now, was)) != 0)
		return rc;
	if (!is_new)
		return WD_ENOMEM;
	for (size_t i = 0; i < now->n && !rc; i++) {
		const wd_finding *f = &now->v[i];

		if (!is_new[i])
			continue;
		if (touched && !wd_touched_contains(touched, f->file, f->line)) {
			v->findings_elsewhere++;
			continue;
		}
		blocking++;
		{
			size_t before = v->new_findings.n;

			rc = wd_findings_push(&v->new_findings, f->file, f->line, f->col, f->severity,
			                      f->rule, f->message, f->tool);
			if (!rc && v->new_findings.n > before &&
			    !(v->new_findings.v[before].check = wd_strdup(cr->check->name)))
				rc = WD_ENOMEM;
		}
	}
	free(is_new);
	if (rc)
		return rc;
	if (blocking)
		return reason(v, cr->check->name,
		              wd_format("%s: %zu new finding%s on lines this patch changed",
		                        cr->check->name, blocking, blocking == 1 ? "" : "s"));
	if (!cr->passed && now->n == 0 && (!cb || cb->passed))
		return reason(v, cr->check->name,
		              wd_format("%s: analyzer failed (exit %d) without findings",
		                        cr->check->name, cr->exit_code));
	return 0;
}

int wd_test_name_matches(const char *full, const char *want)
{
	size_t fl = strlen(full), wl = strlen(want);
	char before;

	if (!strcmp(full, want))
		return 1;
	if (wl == 0 || wl >= fl || strcmp(full + fl - wl, want) != 0)
		return 0;
	before = full[fl - wl - 1];
	return before == ':' || before == '.' || before == '/' || before == ' ';
}

/* Whether a failed test check named every failure it had (so a test it did
 * not name did not fail): "7 passed, 2 failed" alone names none. */
static int names_its_failures(const wd_check_result *cr)
{
	size_t named = 0;

	for (size_t i = 0; i < cr->tests.n; i++)
		named += cr->tests.v[i].status == WD_TEST_FAIL;
	if (!cr->tests.format || named == 0)
		return 0;
	return !cr->tests.counts_known || named >= cr->tests.failed;
}

static int fail_to_pass_check(wd_verdict *v, const wd_gate_result *patched, const char *want)
{
	int seen_pass = 0, seen_fail = 0, any_complete = 0, all_listed = 1, any_test = 0, rc;

	for (size_t i = 0; i < patched->n; i++) {
		const wd_check_result *cr = &patched->v[i];

		if (cr->check->kind != WD_CHECK_TEST)
			continue;
		any_test = 1;
		any_complete |= cr->tests.complete;
		all_listed &= cr->passed || names_its_failures(cr);
		for (size_t j = 0; j < cr->tests.n; j++) {
			if (!wd_test_name_matches(cr->tests.v[j].name, want))
				continue;
			seen_fail |= cr->tests.v[j].status == WD_TEST_FAIL;
			seen_pass |= cr->tests.v[j].status == WD_TEST_PASS;
		}
	}
	if (seen_pass && !seen_fail)
		return 0;
	/* runners that list only their failures: not listed as failing is passing,
	 * as long as each one either passed or did list its failures */
	if (!seen_fail && any_test && all_listed && !any_complete)
		return 0;
	if ((rc = wd_strvec_push(&v->f2p_unmet, want)) != 0)
		return rc;
	if (seen_fail)
		return reason(v, NULL, wd_format("FAIL_TO_PASS %s: still failing", want));
	return reason(v, NULL, wd_format("FAIL_TO_PASS %s: not seen passing%s", want,
	                                 any_test ? "" : " (no test check ran)"));
}

int wd_gate_verdict(wd_verdict *out, const wd_gate_result *base, const wd_gate_result *patched,
                    const char *const *fail_to_pass, const wd_touched *touched)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->passed = 1;
	if (!patched)
		return wd_error_set(WD_EUSAGE, "verdict: no patched run");
	for (size_t i = 0; i < patched->n && !rc; i++) {
		const wd_check_result *cr = &patched->v[i];
		const wd_check_result *cb = find_check(base, cr->check->name);
		const char *name = cr->check->name;

		if (cr->skipped) {
			/* not run because a build failed: that failure is the reason */
			out->passed = 0;
			if (!wd_strvec_contains(&out->failed_checks, name))
				rc = wd_strvec_push(&out->failed_checks, name);
			continue;
		}
		if (cr->timed_out) {
			rc = reason(out, name, wd_format("%s: timed out after %llu ms and was killed",
			                                 name, (unsigned long long)cr->wall_ms));
			continue;
		}
		switch (cr->check->kind) {
		case WD_CHECK_BUILD:
			if (!cr->passed)
				rc = reason(out, name, wd_format("%s: build failed (exit %d)", name,
				                                 cr->exit_code));
			break;
		case WD_CHECK_TEST:
			rc = test_check(out, cr, cb);
			break;
		case WD_CHECK_ANALYZE:
			rc = analyze_check(out, cr, cb, touched);
			break;
		}
	}
	for (size_t i = 0; fail_to_pass && fail_to_pass[i] && !rc; i++)
		rc = fail_to_pass_check(out, patched, fail_to_pass[i]);
	if (rc) {
		wd_verdict_free(out);
		return rc;
	}
	out->accepted = out->passed;
	if (!fail_to_pass || !fail_to_pass[0])
		for (size_t i = 0; i < patched->n; i++)
			if (!patched->v[i].passed && patched->v[i].check->kind != WD_CHECK_ANALYZE)
				out->accepted = 0;
	return 0;
}

int wd_verdict_trailer(wd_buf *out, const wd_verdict *v, const wd_gate_result *patched)
{
	int rc;

	wd_buf_clear(out);
	for (size_t i = 0; i < patched->n; i++) {
		const wd_check_result *cr = &patched->v[i];
		int pass = !wd_strvec_contains(&v->failed_checks, cr->check->name);
		size_t n = 0;

		if ((rc = wd_gate_trailer_item(out, cr, pass)) != 0)
			return rc;
		if (cr->check->kind != WD_CHECK_ANALYZE || cr->timed_out || cr->skipped)
			continue;
		for (size_t j = 0; j < v->new_findings.n; j++)
			n += v->new_findings.v[j].check && !strcmp(v->new_findings.v[j].check, cr->check->name);
		if ((rc = wd_buf_printf(out, " %zu new", n)) != 0)
			return rc;
	}
	if (!out->ptr)
		return wd_buf_grow(out, 0);
	return 0;
}
