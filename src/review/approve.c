/* Approve (merge into the target branch) and reject (delete the branch, keep the record). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "warden/approve.h"

#include "review_int.h"

static void spec_of(wd_merge_spec *s, const wd_proposal *p)
{
	s->repo = p->repo;
	s->commit = p->commit;
	s->base = p->base;
	s->target = p->target;
	s->branch = p->branch;
}

/* The repo module's messages name the repository; ours name the proposal. */
static int plan_for(wd_review_plan *out, const wd_proposal *p)
{
	wd_merge_spec s;
	int rc;

	spec_of(&s, p);
	rc = wd_repo_merge_plan(out, &s);
	if (rc && rc != WD_ENOMEM)
		wd_error_wrap(rc, "proposal %s", p->id);
	return rc;
}

int wd_review_plan_make(wd_review_plan *out, const wd_proposal *p)
{
	return plan_for(out, p);
}

void wd_review_plan_free(wd_review_plan *plan)
{
	wd_repo_merge_plan_free(plan);
}

/* Best effort: the decision joins the run's own audit trail, when that
 * ledger still exists (a missing one is not re-created elsewhere). The
 * record in the store is the source of truth; the event is for the trail
 * and the stats (a rejection counts as a correction). */
void wd_review_ledger_event(const wd_proposal *p, const char *type, json_t *fields)
{
	wd_ledger *l = NULL;

	if (!p->ledger_path || !wd_path_exists(p->ledger_path) ||
	    wd_ledger_open(&l, p->ledger_path, p->id) != 0) {
		json_decref(fields);
		return;
	}
	wd_ledger_add(l, type, fields);
	wd_ledger_close(l);
}

static void ledger_decision(const wd_proposal *p)
{
	if (p->status == WD_PROPOSAL_REJECTED)
		wd_review_ledger_event(p, "review.reject",
		             json_pack("{s:s, s:s, s:s, s:s, s:b}", "by", p->decided_by, "reason", p->reason,
		                       "branch", p->branch, "commit", p->commit, "correction", 1));
	else
		wd_review_ledger_event(p, "review.approve",
		             json_pack("{s:s, s:s, s:s, s:s}", "by", p->decided_by, "target", p->target,
		                       "merged", p->merged, "commit", p->commit));
}

static int record_decision(wd_proposal *p, wd_proposal_status status, const char *user)
{
	free(p->decided_by);
	p->decided_by = wd_strdup(user);
	if (!p->decided_by)
		return WD_ENOMEM;
	p->status = status;
	wd_now_iso(p->decided);
	return 0;
}

static int check_open(const wd_proposal *p)
{
	if (p->status == WD_PROPOSAL_OPEN)
		return 0;
	return wd_error_set(WD_EEXISTS, "proposal %s was already %s by %s on %s", p->id,
	                    wd_proposal_status_name(p->status), p->decided_by ? p->decided_by : "?",
	                    p->decided[0] ? p->decided : "?");
}

static int acting_user(wd_buf *out, const char *user)
{
	if (user && *user)
		return wd_buf_sets(out, user);
	return wd_review_current_user(out);
}

/* Explain why the plan cannot go ahead; 0 when it can. */
static int plan_refusal(const wd_review_plan *plan, const wd_proposal *p, const wd_approve_opts *o)
{
	wd_buf list = WD_BUF_INIT;
	int rc;

	if (plan->conflicts.n) {
		if ((rc = wd_strvec_join(&list, &plan->conflicts, ", ", 20)) == 0)
			rc = wd_error_set(WD_ECONFLICT,
			                  "merging proposal %s into '%s' conflicts in %zu file(s): %s; "
			                  "nothing was changed (re-run the ticket on the current '%s')",
			                  p->id, p->target, plan->conflicts.n, list.ptr, p->target);
		wd_buf_free(&list);
		return rc;
	}
	/* A fast-forward lands exactly the tree the checks passed on; a merge
	 * commit does not, when the target moved, so its checks must re-run. */
	if (plan->kind == WD_MERGE_COMMIT && plan->target_moved && !o->force)
		return wd_error_set(WD_ECONFLICT,
		                    "'%s' moved since proposal %s was checked (base %.12s, now %.12s): "
		                    "the merged result was never tested, so checks must re-run; run the "
		                    "ticket again, or approve with --force to merge untested",
		                    p->target, p->id, p->base, plan->target_tip);
	if (plan->kind == WD_MERGE_UP_TO_DATE || !plan->workdir)
		return 0;
	if (plan->workdir_dirty)
		return wd_error_set(WD_EREFUSED,
		                    "'%s' is checked out in %s with uncommitted changes; commit or "
		                    "stash them and approve again (nothing was changed)",
		                    p->target, plan->workdir);
	/* A file git does not track (an ignored .env, a build product) is the
	 * user's: the merge never overwrites it, whatever the proposal adds. */
	if (plan->collisions.n) {
		if ((rc = wd_strvec_join(&list, &plan->collisions, ", ", 20)) == 0)
			rc = wd_error_set(WD_EREFUSED,
			                  "approving %s: updating the work tree %s would overwrite %zu "
			                  "untracked or ignored file(s) of yours: %s; move them away and "
			                  "approve again (nothing was changed)",
			                  p->id, plan->workdir, plan->collisions.n, list.ptr);
		wd_buf_free(&list);
		return rc;
	}
	return 0;
}

int wd_review_approve_allowed(const char *cache_dir, const wd_proposal *p,
                              const wd_approve_opts *opts)
{
	wd_approve_opts defaults = WD_APPROVE_OPTS_INIT;
	const wd_approve_opts *o = opts ? opts : &defaults;
	wd_buf user = WD_BUF_INIT;
	int rc = 0, separate = o->separate_duties;

	if (!o->then_push && wd_repo_is_mirror(cache_dir, p->source, p->repo))
		return wd_error_set(WD_EUSAGE, "proposal %s lives in warden's mirror of %s: a merge there "
		                    "would be undone by the next fetch; approve with --push %s, or "
		                    "'warden review publish %s --push %s --open-pr'", p->id, p->source,
		                    p->source, p->id, p->source);
	/* review.* is trusted-only: read from the user's own file, never the repository's */
	if (!separate && o->config) {
		rc = wd_config_get_bool(&separate, o->config, "review.separateDuties");
		if (rc == WD_ENOTFOUND)
			separate = rc = 0;
		if (rc)
			return rc;
	}
	/* a proposal that is no longer open is refused by approve itself, as such */
	if (!separate || !p->user || p->status != WD_PROPOSAL_OPEN)
		return 0;
	if ((rc = acting_user(&user, o->user)) == 0 && !strcmp(p->user, user.ptr))
		rc = wd_error_set(WD_EREFUSED,
		                  "separation of duties: %s made run %s and cannot approve it; "
		                  "another reviewer must", user.ptr, p->id);
	wd_buf_free(&user);
	return rc;
}

int wd_review_approve(char out_tip[41], const char *cache_dir, const char *id,
                      const wd_approve_opts *opts)
{
	wd_approve_opts defaults = WD_APPROVE_OPTS_INIT;
	const wd_approve_opts *o = opts ? opts : &defaults;
	wd_review_plan plan;
	wd_merge_spec spec;
	wd_proposal *p = NULL;
	wd_buf user = WD_BUF_INIT, msg = WD_BUF_INIT, logmsg = WD_BUF_INIT;
	char tip[41];
	int rc;

	memset(&plan, 0, sizeof(plan));
	if ((rc = wd_proposal_load(&p, cache_dir, id)) != 0 || (rc = check_open(p)) != 0 ||
	    (rc = wd_review_approve_allowed(cache_dir, p, o)) != 0 ||
	    (rc = acting_user(&user, o->user)) != 0)
		goto out;
	if ((rc = plan_for(&plan, p)) != 0 || (rc = plan_refusal(&plan, p, o)) != 0)
		goto out;
	if ((rc = wd_buf_printf(&msg, "Merge warden proposal %s: %s\n\nBranch: %s\nWarden-Run: %s\n"
	                              "Approved-by: %s\n",
	                        p->id, p->ticket_title ? p->ticket_title : p->branch, p->branch, p->id,
	                        user.ptr)) != 0 ||
	    (rc = wd_buf_printf(&logmsg, "warden: approve %s (%s)", p->id,
	                        plan.kind == WD_MERGE_FASTFORWARD ? "fast-forward" : "merge")) != 0)
		goto out;
	spec_of(&spec, p);
	/* wd_repo_merge re-checks everything against the tip the plan saw */
	if ((rc = wd_repo_merge(tip, &spec, plan.target_tip, msg.ptr, logmsg.ptr)) != 0) {
		if (rc != WD_ENOMEM)
			wd_error_wrap(rc, "approving %s", p->id);
		goto out;
	}
	if ((rc = record_decision(p, WD_PROPOSAL_APPROVED, user.ptr)) != 0)
		goto out;
	memcpy(p->merged, tip, sizeof(p->merged));
	if ((rc = wd_proposal_save(p, cache_dir)) != 0) {
		wd_error_wrap(rc, "'%s' was updated but the record was not", p->target);
		goto out;
	}
	ledger_decision(p);
	if (out_tip)
		memcpy(out_tip, tip, sizeof(tip));
out:
	wd_review_plan_free(&plan);
	wd_proposal_free(p);
	wd_buf_free(&user);
	wd_buf_free(&msg);
	wd_buf_free(&logmsg);
	return rc;
}

/* Delete the proposal branch unless someone moved it on; gone is fine. The
 * copy publishing made in warden's mirror goes too: a local source's mirror
 * is named by its real path, which p->repo is (p->source is as the user
 * typed it); a URL's branch lives in the mirror alone (p->repo); a source
 * that is gone has no mirror to name. */
static int delete_branch(const char *cache_dir, const wd_proposal *p)
{
	wd_buf mirror = WD_BUF_INIT;
	char moved[41];
	int rc = WD_ENOTFOUND;

	if (p->repo && (!p->source || !wd_repo_source_is_url(p->source)))
		rc = wd_repo_mirror_path(&mirror, cache_dir, p->repo);
	if (rc == WD_ENOMEM) {
		wd_buf_free(&mirror);
		return rc;
	}
	rc = wd_repo_unpublish(p->repo, rc ? NULL : wd_buf_cstr(&mirror), p->branch, p->commit, moved);
	wd_buf_free(&mirror);
	if (rc == WD_ECONFLICT)
		return wd_error_set(WD_ECONFLICT,
		                    "branch '%s' moved to %.12s since proposal %s (%.12s); not deleting "
		                    "someone's work: nothing was changed",
		                    p->branch, moved[0] ? moved : "a symbolic ref", p->id, p->commit);
	return rc;
}

int wd_review_reject(const char *cache_dir, const char *id, const char *reason, const char *user)
{
	wd_proposal *p = NULL;
	wd_buf who = WD_BUF_INIT;
	int rc;

	if (!reason || !*reason)
		return wd_error_set(WD_EUSAGE, "a rejection needs a reason (--reason TEXT): the model "
		                               "gets it on the next run of the ticket");
	if ((rc = wd_proposal_load(&p, cache_dir, id)) != 0 || (rc = check_open(p)) != 0 ||
	    (rc = acting_user(&who, user)) != 0 || (rc = delete_branch(cache_dir, p)) != 0)
		goto out;
	free(p->reason);
	p->reason = wd_strdup(reason);
	if (!p->reason) {
		rc = WD_ENOMEM;
		goto out;
	}
	if ((rc = record_decision(p, WD_PROPOSAL_REJECTED, who.ptr)) != 0 ||
	    (rc = wd_proposal_save(p, cache_dir)) != 0)
		goto out;
	ledger_decision(p);
out:
	wd_proposal_free(p);
	wd_buf_free(&who);
	return rc;
}

int wd_review_mark_pushed(const char *cache_dir, const char *id, const char *remote)
{
	wd_proposal *p = NULL;
	int rc;

	if ((rc = wd_proposal_load(&p, cache_dir, id)) != 0)
		return rc;
	free(p->pushed_to);
	p->pushed_to = wd_strdup(remote);
	rc = p->pushed_to ? wd_proposal_save(p, cache_dir) : WD_ENOMEM;
	if (!rc)
		wd_review_ledger_event(p, "review.push", json_pack("{s:s, s:s}", "remote", remote, "target", p->target));
	wd_proposal_free(p);
	return rc;
}

int wd_review_stats_load(wd_review_stats *out, const char *cache_dir)
{
	wd_proposal_list l = WD_PROPOSAL_LIST_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = wd_proposal_list_load(&l, cache_dir, -1)) != 0)
		return rc;
	for (size_t i = 0; i < l.n; i++) {
		const wd_proposal *p = l.v[i];

		if (p->status == WD_PROPOSAL_OPEN)
			out->open++;
		else if (p->status == WD_PROPOSAL_APPROVED)
			out->approved++;
		else
			out->rejected++;
		out->cost_usd += p->cost_usd;
	}
	out->unreadable = l.skipped.n;
	wd_proposal_list_free(&l);
	return 0;
}
