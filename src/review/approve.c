/* Approve (merge into the target branch) and reject (delete the branch, keep the record). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "warden/review.h"

#include "review_int.h"

static void short_hex(char out[13], const git_oid *id)
{
	git_oid_tostr(out, 13, id);
}

/* The proposal's commit, its branch and its target, looked up in `repo`. */
typedef struct lookup {
	git_commit *commit;
	git_commit *target;
	git_oid base;
	char *target_ref;      /* "refs/heads/<target>" */
} lookup;

static void lookup_free(lookup *l)
{
	git_commit_free(l->commit);
	git_commit_free(l->target);
	free(l->target_ref);
	memset(l, 0, sizeof(*l));
}

static int lookup_all(lookup *l, git_repository *repo, const wd_proposal *p)
{
	wd_buf name = WD_BUF_INIT;
	git_oid id;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	if (git_oid_fromstr(&id, p->commit) < 0 || git_oid_fromstr(&l->base, p->base) < 0)
		return wd_error_set(WD_EINPUT, "proposal %s: bad commit ids", p->id);
	if (git_commit_lookup(&l->commit, repo, &id) < 0) {
		rc = wd_error_set(WD_ENOTFOUND, "proposal %s: commit %.12s is not in %s", p->id, p->commit,
		                  p->repo);
		goto out;
	}
	/* the target is a branch name; a full ref name is accepted too */
	if ((rc = wd_buf_printf(&name, "%s%s", strncmp(p->target, "refs/heads/", 11) ? "refs/heads/" : "",
	                        p->target)) != 0)
		goto out;
	if (git_reference_name_to_id(&id, repo, name.ptr) < 0 ||
	    git_commit_lookup(&l->target, repo, &id) < 0) {
		rc = wd_error_set(WD_ENOTFOUND, "proposal %s: target branch '%s' does not exist in %s",
		                  p->id, p->target, p->repo);
		goto out;
	}
	l->target_ref = wd_buf_detach(&name);
	if (!l->target_ref)
		rc = WD_ENOMEM;
out:
	wd_buf_free(&name);
	if (rc)
		lookup_free(l);
	return rc;
}

/* Does the HEAD of `r` point at `refname`? */
static int head_is(git_repository *r, const char *refname)
{
	git_reference *head = NULL;
	int yes = 0;

	if (git_reference_lookup(&head, r, "HEAD") == 0 &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC)
		yes = !strcmp(git_reference_symbolic_target(head), refname);
	git_reference_free(head);
	return yes;
}

/* The repository (main or linked worktree) whose work tree has `refname`
 * checked out; *out NULL when none. */
static int find_checkout(git_repository **out, git_repository *repo, const char *refname)
{
	git_strarray names = { NULL, 0 };

	*out = NULL;
	if (!git_repository_is_bare(repo) && head_is(repo, refname)) {
		if (git_repository_open(out, git_repository_workdir(repo)) < 0)
			return wd_error_git(WD_EINFRA, "opening the work tree");
		return 0;
	}
	if (git_worktree_list(&names, repo) < 0)
		return 0; /* no worktrees to look at */
	for (size_t i = 0; i < names.count && !*out; i++) {
		git_worktree *wt = NULL;
		git_repository *wr = NULL;

		if (git_worktree_lookup(&wt, repo, names.strings[i]) == 0 &&
		    git_worktree_validate(wt) == 0 &&
		    git_repository_open_from_worktree(&wr, wt) == 0) {
			if (head_is(wr, refname))
				*out = wr;
			else
				git_repository_free(wr);
		}
		git_worktree_free(wt);
	}
	git_strarray_dispose(&names);
	return 0;
}

/* Uncommitted changes to tracked files (untracked files do not count: a
 * checkout that would overwrite one fails safely on its own). */
static int workdir_dirty(int *out, git_repository *r)
{
	git_status_options so;
	git_status_list *st = NULL;
	size_t n;

	*out = 0;
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&st, r, &so) < 0)
		return wd_error_git(WD_EINFRA, "reading the work tree status");
	n = git_status_list_entrycount(st);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(st, i);

		if (e->status != GIT_STATUS_CURRENT && !(e->status & GIT_STATUS_IGNORED) &&
		    e->status != GIT_STATUS_WT_NEW)
			*out = 1;
	}
	git_status_list_free(st);
	return 0;
}

static int collect_conflicts(wd_strvec *out, git_index *idx)
{
	git_index_conflict_iterator *it = NULL;
	const git_index_entry *anc, *ours, *theirs;
	int rc = 0, err;

	if (git_index_conflict_iterator_new(&it, idx) < 0)
		return wd_error_git(WD_EINFRA, "reading merge conflicts");
	while ((err = git_index_conflict_next(&anc, &ours, &theirs, it)) == 0) {
		const char *path = ours ? ours->path : theirs ? theirs->path : anc->path;

		if (!wd_strvec_contains(out, path) && (rc = wd_strvec_push(out, path)) != 0)
			break;
	}
	if (!rc && err != GIT_ITEROVER)
		rc = wd_error_git(WD_EINFRA, "reading merge conflicts");
	git_index_conflict_iterator_free(it);
	return rc;
}

/* Compute the plan; `merged` (may be NULL) receives the merge index when the
 * plan is a merge commit without conflicts. */
static int plan_in(wd_review_plan *out, git_index **merged, git_repository *repo,
                   const lookup *l, const wd_proposal *p)
{
	const git_oid *c = git_commit_id(l->commit), *t = git_commit_id(l->target);
	git_repository *wr = NULL;
	git_index *idx = NULL;
	wd_buf ref = WD_BUF_INIT;
	git_oid branch_tip;
	int rc = 0;

	if (merged)
		*merged = NULL;
	git_oid_cpy(&out->target_tip, t);
	out->target_moved = !git_oid_equal(t, &l->base);
	if ((rc = wd_buf_printf(&ref, "refs/heads/%s", p->branch)) != 0)
		goto out;
	out->branch_moved = git_reference_name_to_id(&branch_tip, repo, ref.ptr) < 0 ||
	                    !git_oid_equal(&branch_tip, c);
	if (git_oid_equal(t, c) || git_graph_descendant_of(repo, t, c) == 1) {
		out->kind = WD_MERGE_UP_TO_DATE;
	} else if (git_graph_descendant_of(repo, c, t) == 1) {
		out->kind = WD_MERGE_FASTFORWARD;
	} else {
		git_merge_options mo;

		git_merge_options_init(&mo, GIT_MERGE_OPTIONS_VERSION);
		out->kind = WD_MERGE_COMMIT;
		if (git_merge_commits(&idx, repo, l->target, l->commit, &mo) < 0) {
			rc = wd_error_git(WD_EINFRA, "merging");
			goto out;
		}
		if (git_index_has_conflicts(idx) && (rc = collect_conflicts(&out->conflicts, idx)) != 0)
			goto out;
	}
	if ((rc = find_checkout(&wr, repo, l->target_ref)) != 0)
		goto out;
	if (wr) {
		const char *wd = git_repository_workdir(wr);
		size_t len = strlen(wd);

		out->workdir = wd_strndup(wd, len > 1 && wd[len - 1] == '/' ? len - 1 : len);
		if (!out->workdir) {
			rc = WD_ENOMEM;
			goto out;
		}
		if ((rc = workdir_dirty(&out->workdir_dirty, wr)) != 0)
			goto out;
	}
	if (merged && !out->conflicts.n) {
		*merged = idx;
		idx = NULL;
	}
out:
	git_index_free(idx);
	git_repository_free(wr);
	wd_buf_free(&ref);
	return rc;
}

int wd_review_plan_make(wd_review_plan *out, const wd_proposal *p)
{
	git_repository *repo = NULL;
	lookup l;
	int rc;

	memset(out, 0, sizeof(*out));
	if (git_repository_open(&repo, p->repo) < 0)
		return wd_error_git(WD_ENOTFOUND, p->repo);
	rc = lookup_all(&l, repo, p);
	if (!rc) {
		rc = plan_in(out, NULL, repo, &l, p);
		lookup_free(&l);
	}
	git_repository_free(repo);
	if (rc)
		wd_review_plan_free(out);
	return rc;
}

void wd_review_plan_free(wd_review_plan *plan)
{
	free(plan->workdir);
	wd_strvec_free(&plan->conflicts);
	memset(plan, 0, sizeof(*plan));
}

static int signature_for(git_signature **out, git_repository *repo)
{
	if (git_signature_default(out, repo) == 0)
		return 0;
	if (git_signature_now(out, "warden", "warden@localhost") < 0)
		return wd_error_git(WD_EINFRA, "signature");
	return 0;
}

static int merge_commit(git_oid *out, git_repository *repo, git_index *idx, const lookup *l,
                        const wd_proposal *p, const char *user)
{
	const git_commit *parents[2] = { l->target, l->commit };
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	wd_buf msg = WD_BUF_INIT;
	git_oid tree_id;
	int rc;

	if ((rc = wd_buf_printf(&msg, "Merge warden proposal %s: %s\n\nBranch: %s\nWarden-Run: %s\n"
	                              "Approved-by: %s\n",
	                        p->id, p->ticket_title ? p->ticket_title : p->branch, p->branch, p->id,
	                        user)) != 0 ||
	    (rc = signature_for(&sig, repo)) != 0)
		goto out;
	if (git_index_write_tree_to(&tree_id, idx, repo) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0 ||
	    git_commit_create(out, repo, NULL, sig, sig, NULL, msg.ptr, tree, 2, parents) < 0)
		rc = wd_error_git(WD_EINFRA, "writing the merge commit");
out:
	git_tree_free(tree);
	git_signature_free(sig);
	wd_buf_free(&msg);
	return rc;
}

/* Bring the checked-out work tree from the target's old tip to `tip`. SAFE:
 * libgit2 refuses (changing nothing) rather than overwrite a local change. */
static int checkout_to(const char *workdir, const git_oid *tip)
{
	git_checkout_options co;
	git_repository *wr = NULL;
	git_commit *c = NULL;
	int rc = 0;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	if (git_repository_open(&wr, workdir) < 0)
		return wd_error_git(WD_EINFRA, workdir);
	if (git_commit_lookup(&c, wr, tip) < 0 ||
	    git_checkout_tree(wr, (const git_object *)c, &co) < 0)
		rc = wd_error_git(WD_EREFUSED, "updating the work tree");
	git_commit_free(c);
	git_repository_free(wr);
	return rc;
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
static int plan_refusal(const wd_review_plan *plan, const wd_proposal *p, const lookup *l,
                        const wd_approve_opts *o)
{
	char base[13], now[13];
	wd_buf list = WD_BUF_INIT;
	int rc;

	if (plan->conflicts.n) {
		for (size_t i = 0; i < plan->conflicts.n && i < 20; i++) {
			if (wd_buf_printf(&list, "%s%s", i ? ", " : "", plan->conflicts.v[i])) {
				wd_buf_free(&list);
				return WD_ENOMEM;
			}
		}
		rc = wd_error_set(WD_ECONFLICT,
		                  "merging proposal %s into '%s' conflicts in %zu file(s): %s%s; "
		                  "nothing was changed (re-run the ticket on the current '%s')",
		                  p->id, p->target, plan->conflicts.n, list.ptr,
		                  plan->conflicts.n > 20 ? ", ..." : "", p->target);
		wd_buf_free(&list);
		return rc;
	}
	/* A fast-forward lands exactly the tree the checks passed on; a merge
	 * commit does not, when the target moved, so its checks must re-run. */
	if (plan->kind == WD_MERGE_COMMIT && plan->target_moved && !o->force) {
		short_hex(base, &l->base);
		short_hex(now, &plan->target_tip);
		return wd_error_set(WD_ECONFLICT,
		                    "'%s' moved since proposal %s was checked (base %s, now %s): the "
		                    "merged result was never tested, so checks must re-run; run the "
		                    "ticket again, or approve with --force to merge untested",
		                    p->target, p->id, base, now);
	}
	if (plan->kind != WD_MERGE_UP_TO_DATE && plan->workdir && plan->workdir_dirty)
		return wd_error_set(WD_EREFUSED,
		                    "'%s' is checked out in %s with uncommitted changes; commit or "
		                    "stash them and approve again (nothing was changed)",
		                    p->target, plan->workdir);
	return 0;
}

int wd_review_approve(git_oid *out_tip, const char *cache_dir, const char *id,
                      const wd_approve_opts *opts)
{
	wd_approve_opts defaults = WD_APPROVE_OPTS_INIT;
	const wd_approve_opts *o = opts ? opts : &defaults;
	wd_review_plan plan;
	wd_proposal *p = NULL;
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	git_index *idx = NULL;
	wd_buf user = WD_BUF_INIT, logmsg = WD_BUF_INIT;
	git_oid tip;
	lookup l;
	int rc, have_lookup = 0, checked_out = 0;

	memset(&plan, 0, sizeof(plan));
	memset(&l, 0, sizeof(l));
	if ((rc = wd_proposal_load(&p, cache_dir, id)) != 0 || (rc = check_open(p)) != 0 ||
	    (rc = acting_user(&user, o->user)) != 0)
		goto out;
	if (o->separate_duties && p->user && !strcmp(p->user, user.ptr)) {
		rc = wd_error_set(WD_EREFUSED,
		                  "separation of duties: %s made run %s and cannot approve it; "
		                  "another reviewer must", user.ptr, p->id);
		goto out;
	}
	if (git_repository_open(&repo, p->repo) < 0) {
		rc = wd_error_git(WD_ENOTFOUND, p->repo);
		goto out;
	}
	if ((rc = lookup_all(&l, repo, p)) != 0)
		goto out;
	have_lookup = 1;
	if ((rc = plan_in(&plan, &idx, repo, &l, p)) != 0 || (rc = plan_refusal(&plan, p, &l, o)) != 0)
		goto out;
	switch (plan.kind) {
	case WD_MERGE_UP_TO_DATE:
		git_oid_cpy(&tip, &plan.target_tip);
		break;
	case WD_MERGE_FASTFORWARD:
		git_oid_cpy(&tip, git_commit_id(l.commit));
		break;
	case WD_MERGE_COMMIT:
		if ((rc = merge_commit(&tip, repo, idx, &l, p, user.ptr)) != 0)
			goto out;
		break;
	}
	if (plan.kind != WD_MERGE_UP_TO_DATE) {
		if ((rc = wd_buf_printf(&logmsg, "warden: approve %s (%s)", p->id,
		                        plan.kind == WD_MERGE_FASTFORWARD ? "fast-forward" : "merge")) != 0)
			goto out;
		if (plan.workdir) {
			if ((rc = checkout_to(plan.workdir, &tip)) != 0)
				goto out;
			checked_out = 1;
		}
		/* Compare-and-swap: a concurrent update of the target is never lost. */
		if (git_reference_create_matching(&ref, repo, l.target_ref, &tip, 1, &plan.target_tip,
		                                  logmsg.ptr) < 0) {
			rc = wd_error_git(WD_ECONFLICT, "moving the target branch (did it move meanwhile?)");
			if (checked_out)
				checkout_to(plan.workdir, &plan.target_tip);
			goto out;
		}
	}
	if ((rc = record_decision(p, WD_PROPOSAL_APPROVED, user.ptr)) != 0)
		goto out;
	git_oid_tostr(p->merged, sizeof(p->merged), &tip);
	if ((rc = wd_proposal_save(p, cache_dir)) != 0) {
		wd_error_wrap(rc, "'%s' was updated but the record was not", p->target);
		goto out;
	}
	ledger_decision(p);
	if (out_tip)
		git_oid_cpy(out_tip, &tip);
out:
	git_reference_free(ref);
	git_index_free(idx);
	wd_review_plan_free(&plan);
	if (have_lookup)
		lookup_free(&l);
	git_repository_free(repo);
	wd_proposal_free(p);
	wd_buf_free(&user);
	wd_buf_free(&logmsg);
	return rc;
}

/* Delete the proposal branch unless someone moved it on; gone is fine. */
static int delete_branch(const wd_proposal *p)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int rc = 0, err;

	if (git_repository_open(&repo, p->repo) < 0)
		return 0; /* the repository is gone, and its branch with it */
	err = git_branch_lookup(&ref, repo, p->branch, GIT_BRANCH_LOCAL);
	if (err == GIT_ENOTFOUND)
		goto out;
	if (err < 0) {
		rc = wd_error_git(WD_EINFRA, "looking up the proposal branch");
		goto out;
	}
	if (git_reference_type(ref) != GIT_REFERENCE_DIRECT ||
	    strcmp(git_oid_tostr(hex, sizeof(hex), git_reference_target(ref)), p->commit) != 0) {
		rc = wd_error_set(WD_ECONFLICT,
		                  "branch '%s' moved to %.12s since proposal %s (%.12s); not deleting "
		                  "someone's work: nothing was changed",
		                  p->branch, hex, p->id, p->commit);
		goto out;
	}
	if (git_branch_is_checked_out(ref) == 1) {
		rc = wd_error_set(WD_EREFUSED, "branch '%s' is checked out; switch away from it first",
		                  p->branch);
		goto out;
	}
	if (git_branch_delete(ref) < 0)
		rc = wd_error_git(WD_EINFRA, "deleting the proposal branch");
out:
	git_reference_free(ref);
	git_repository_free(repo);
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
	    (rc = acting_user(&who, user)) != 0 || (rc = delete_branch(p)) != 0)
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
