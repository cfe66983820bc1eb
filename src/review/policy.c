/*
 * The one rule for irreversible steps. `warden run --push/--open-pr` and
 * `warden review approve/publish` both ask here, so a setting in the user's
 * config means the same thing on every path: an explicit "no" cannot be
 * talked around with --yes or --ci.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "warden/error.h"
#include "warden/review_policy.h"

const char *wd_review_step_name(wd_review_step step)
{
	switch (step) {
	case WD_STEP_MERGE: return "merge";
	case WD_STEP_PUSH: return "push";
	case WD_STEP_PULL_REQUEST: return "pull request";
	}
	return "?";
}

static const char *step_key(wd_review_step step)
{
	return step == WD_STEP_MERGE ? "review.autoApprove" : "push.allowed";
}

static void verdict(wd_review_decision *d, wd_review_verdict v, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void verdict(wd_review_decision *d, wd_review_verdict v, int code, const char *fmt, ...)
{
	va_list ap;

	d->verdict = v;
	d->code = code;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

int wd_review_policy_decide(wd_review_decision *out, const wd_config *cfg, wd_review_step step,
                            const wd_review_flags *flags)
{
	static const wd_review_flags none = { 0, 0, 0 };
	const wd_review_flags *f = flags ? flags : &none;
	const char *key = step_key(step), *what = wd_review_step_name(step);
	int rc, v = -1;

	memset(out, 0, sizeof(*out));
	out->key = key;
	/* push.* and review.* are trusted-only keys: every config getter reads
	 * them from the user's own file, never from the repository's. */
	rc = cfg ? wd_config_get_bool(&v, cfg, key) : WD_ENOTFOUND;
	if (rc == WD_ENOTFOUND)
		v = -1;
	else if (rc)
		return rc;
	out->setting = v;
	if (v == 1) {
		verdict(out, WD_REVIEW_ALLOW, 0, "%s = true in your config", key);
	} else if (v == 0 && step != WD_STEP_MERGE) {
		verdict(out, WD_REVIEW_DENY, WD_EREFUSED,
		        "%s is turned off by %s = false in your config (it wins over --yes and --ci)",
		        step == WD_STEP_PUSH ? "pushing" : "opening a pull request", key);
	} else if (v == 0) {
		/* "do not approve without asking": only a person at a terminal can */
		if (f->interactive)
			verdict(out, WD_REVIEW_ASK, 0, "%s = false in your config: every approval is "
			                               "confirmed on the terminal", key);
		else
			verdict(out, WD_REVIEW_DENY, WD_EREFUSED,
			        "%s = false in your config: approvals are confirmed on a terminal, and "
			        "--yes and --ci do not override it", key);
	} else if (f->yes || f->ci) {
		verdict(out, WD_REVIEW_ALLOW, 0, "%s", f->ci ? "--ci" : "--yes");
	} else if (f->interactive) {
		verdict(out, WD_REVIEW_ASK, 0, "the %s is irreversible", what);
	} else {
		verdict(out, WD_REVIEW_DENY, WD_EUSAGE,
		        "the %s is irreversible and there is no terminal to ask; pass --yes (or --ci), "
		        "or set %s = true in your config", what, key);
	}
	return 0;
}
