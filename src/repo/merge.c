/*
 * Landing a checked commit on its target branch: the plan (what would
 * happen, computed without writing anything) and the merge itself. The
 * user's checkout follows only when nothing of theirs would be lost: no
 * uncommitted change to a tracked file, and no untracked or ignored file
 * (a `.env`, a build product, a symlink) where the update writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/repo.h"

/* The commit, its target and the base, looked up in `repo`. */
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

static int lookup_all(lookup *l, git_repository *repo, const wd_merge_spec *s)
{
	wd_buf name = WD_BUF_INIT;
	git_oid id;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	if (!s->commit || !s->base || !s->target || git_oid_fromstr(&id, s->commit) < 0 ||
	    git_oid_fromstr(&l->base, s->base) < 0)
		return wd_error_set(WD_EINPUT, "bad commit ids to merge");
	if (git_commit_lookup(&l->commit, repo, &id) < 0) {
		rc = wd_error_set(WD_ENOTFOUND, "commit %.12s is not in %s", s->commit, s->repo);
		goto out;
	}
	/* the target is a branch name; a full ref name is accepted too */
	if ((rc = wd_buf_printf(&name, "%s%s", strncmp(s->target, "refs/heads/", 11) ? "refs/heads/" : "",
	                        s->target)) != 0)
		goto out;
	if (git_reference_name_to_id(&id, repo, name.ptr) < 0 ||
	    git_commit_lookup(&l->target, repo, &id) < 0) {
		rc = wd_error_set(WD_ENOTFOUND, "target branch '%s' does not exist in %s", s->target,
		                  s->repo);
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

	if (refname && git_reference_lookup(&head, r, "HEAD") == 0 &&
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

/* Uncommitted changes to tracked files. Untracked and ignored files are not
 * "dirty": they are checked against what the update writes (collisions). */
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

/* Is `path` (or a leading directory of it) something `tree` tracks? */
static int tracked(git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;
	int yes = git_tree_entry_bypath(&e, tree, path) == 0;

	git_tree_entry_free(e);
	return yes;
}

/* Would writing `path` (new in the update) destroy something in the work
 * tree that `old` does not track? Looks at the path itself (anything there,
 * followed or not) and at each leading directory (a file or a symlink where
 * the update needs a directory). */
static int collides(int *out, const char *workdir, git_tree *old, const char *path)
{
	wd_buf full = WD_BUF_INIT;
	struct stat st;
	int rc;

	*out = 0;
	if ((rc = wd_path_join(&full, workdir, path)) != 0)
		return rc;
	for (size_t i = strlen(workdir) + 1; i <= full.len && !*out; i++) {
		char c = full.ptr[i];

		if (c != '/' && c != '\0')
			continue;
		full.ptr[i] = '\0';
		if (lstat(full.ptr, &st) < 0) {
			full.ptr[i] = c;
			if (errno != ENOENT && errno != ENOTDIR)
				rc = wd_error_errno(WD_EINFRA, full.ptr);
			break; /* nothing there: the update creates it */
		}
		if (c == '\0' || !S_ISDIR(st.st_mode))
			*out = !tracked(old, full.ptr + strlen(workdir) + 1);
		full.ptr[i] = c;
	}
	wd_buf_free(&full);
	return rc;
}

/* The paths the update from the target's tree to `new_commit`'s tree (or to
 * `merged`, when a merge commit is planned) adds, where the work tree
 * already has an untracked or ignored entry. Read-only. */
static int find_collisions(wd_strvec *out, git_repository *wr, git_commit *target,
                           git_commit *new_commit, git_index *merged)
{
	git_tree *old = NULL, *new_tree = NULL;
	git_diff *diff = NULL;
	const char *wd = git_repository_workdir(wr);
	wd_buf root = WD_BUF_INIT;
	int rc = 0;

	if ((rc = wd_buf_sets(&root, wd)) != 0)
		return rc;
	while (root.len > 1 && root.ptr[root.len - 1] == '/')
		wd_buf_truncate(&root, root.len - 1);
	if (git_commit_tree(&old, target) < 0 ||
	    (merged ? git_diff_tree_to_index(&diff, wr, old, merged, NULL)
	            : (git_commit_tree(&new_tree, new_commit) < 0 ||
	               git_diff_tree_to_tree(&diff, wr, old, new_tree, NULL))) < 0) {
		rc = wd_error_git(WD_EINFRA, "comparing the target with the proposal");
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff) && !rc; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		int hit;

		if (d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_TYPECHANGE)
			continue;
		if ((rc = collides(&hit, root.ptr, old, d->new_file.path)) == 0 && hit &&
		    !wd_strvec_contains(out, d->new_file.path))
			rc = wd_strvec_push(out, d->new_file.path);
	}
out:
	git_diff_free(diff);
	git_tree_free(new_tree);
	git_tree_free(old);
	wd_buf_free(&root);
	return rc;
}

/* Compute the plan; `merged` (may be NULL) receives the merge index when the
 * plan is a merge commit without conflicts. */
static int plan_in(wd_merge_plan *out, git_index **merged, git_repository *repo, const lookup *l,
                   const wd_merge_spec *s)
{
	const git_oid *c = git_commit_id(l->commit), *t = git_commit_id(l->target);
	git_repository *wr = NULL;
	git_index *idx = NULL;
	wd_buf ref = WD_BUF_INIT;
	git_oid branch_tip;
	int rc = 0;

	if (merged)
		*merged = NULL;
	git_oid_tostr(out->target_tip, sizeof(out->target_tip), t);
	out->target_moved = !git_oid_equal(t, &l->base);
	if (s->branch) {
		if ((rc = wd_buf_printf(&ref, "refs/heads/%s", s->branch)) != 0)
			goto out;
		out->branch_moved = git_reference_name_to_id(&branch_tip, repo, ref.ptr) < 0 ||
		                    !git_oid_equal(&branch_tip, c);
	}
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
		if (out->kind != WD_MERGE_UP_TO_DATE && !out->conflicts.n &&
		    (rc = find_collisions(&out->collisions, wr, l->target, l->commit,
		                          out->kind == WD_MERGE_COMMIT ? idx : NULL)) != 0)
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

int wd_repo_merge_plan(wd_merge_plan *out, const wd_merge_spec *spec)
{
	git_repository *repo = NULL;
	lookup l;
	int rc;

	memset(out, 0, sizeof(*out));
	if (git_repository_open(&repo, spec->repo) < 0)
		return wd_error_git(WD_ENOTFOUND, spec->repo);
	rc = lookup_all(&l, repo, spec);
	if (!rc) {
		rc = plan_in(out, NULL, repo, &l, spec);
		lookup_free(&l);
	}
	git_repository_free(repo);
	if (rc)
		wd_repo_merge_plan_free(out);
	return rc;
}

void wd_repo_merge_plan_free(wd_merge_plan *plan)
{
	free(plan->workdir);
	wd_strvec_free(&plan->conflicts);
	wd_strvec_free(&plan->collisions);
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
                        const char *message)
{
	const git_commit *parents[2] = { l->target, l->commit };
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid tree_id;
	int rc;

	if (!message || !*message)
		return wd_error_set(WD_EUSAGE, "a merge commit needs a message");
	if ((rc = signature_for(&sig, repo)) != 0)
		return rc;
	if (git_index_write_tree_to(&tree_id, idx, repo) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0 ||
	    git_commit_create(out, repo, NULL, sig, sig, NULL, message, tree, 2, parents) < 0)
		rc = wd_error_git(WD_EINFRA, "writing the merge commit");
	git_tree_free(tree);
	git_signature_free(sig);
	return rc;
}

/* Bring the checked-out work tree from the target's old tip to `tip`. SAFE
 * and DONT_OVERWRITE_IGNORED: libgit2 refuses (changing nothing) rather than
 * overwrite a local change or an ignored file; the collision check before
 * already named such files, this is the second lock on the door. */
static int checkout_to(const char *workdir, const git_oid *tip)
{
	git_checkout_options co;
	git_repository *wr = NULL;
	git_commit *c = NULL;
	int rc = 0;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DONT_OVERWRITE_IGNORED;
	if (git_repository_open(&wr, workdir) < 0)
		return wd_error_git(WD_EINFRA, workdir);
	if (git_commit_lookup(&c, wr, tip) < 0 ||
	    git_checkout_tree(wr, (const git_object *)c, &co) < 0)
		rc = wd_error_git(WD_EREFUSED, "updating the work tree");
	git_commit_free(c);
	git_repository_free(wr);
	return rc;
}

/* The safety rules that hold whoever calls: refuse rather than lose work. */
static int unsafe(const wd_merge_plan *plan, const wd_merge_spec *s, const char *expect_tip)
{
	wd_buf list = WD_BUF_INIT;
	int rc = 0;

	if (expect_tip && strcmp(plan->target_tip, expect_tip) != 0)
		return wd_error_set(WD_ECONFLICT, "'%s' moved to %.12s meanwhile (expected %.12s); "
		                                  "nothing was changed", s->target, plan->target_tip,
		                    expect_tip);
	if (plan->conflicts.n) {
		if ((rc = wd_strvec_join(&list, &plan->conflicts, ", ", 20)) == 0)
			rc = wd_error_set(WD_ECONFLICT, "merging into '%s' conflicts in %zu file(s): %s; "
			                                "nothing was changed", s->target,
			                  plan->conflicts.n, list.ptr);
	} else if (plan->kind != WD_MERGE_UP_TO_DATE && plan->workdir && plan->workdir_dirty) {
		rc = wd_error_set(WD_EREFUSED, "'%s' is checked out in %s with uncommitted changes; "
		                               "nothing was changed", s->target, plan->workdir);
	} else if (plan->kind != WD_MERGE_UP_TO_DATE && plan->collisions.n) {
		if ((rc = wd_strvec_join(&list, &plan->collisions, ", ", 20)) == 0)
			rc = wd_error_set(WD_EREFUSED,
			                  "updating the work tree %s would overwrite %zu untracked or ignored "
			                  "file(s): %s; nothing was changed", plan->workdir,
			                  plan->collisions.n, list.ptr);
	}
	wd_buf_free(&list);
	return rc;
}

int wd_repo_merge(char out_tip[41], const wd_merge_spec *spec, const char *expect_tip,
                  const char *message, const char *reflog)
{
	wd_merge_plan plan;
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	git_index *idx = NULL;
	git_oid tip, old;
	lookup l;
	int rc, have_lookup = 0, checked_out = 0;

	memset(&plan, 0, sizeof(plan));
	if (git_repository_open(&repo, spec->repo) < 0)
		return wd_error_git(WD_ENOTFOUND, spec->repo);
	if ((rc = lookup_all(&l, repo, spec)) != 0)
		goto out;
	have_lookup = 1;
	if ((rc = plan_in(&plan, &idx, repo, &l, spec)) != 0 ||
	    (rc = unsafe(&plan, spec, expect_tip)) != 0)
		goto out;
	git_oid_cpy(&old, git_commit_id(l.target));
	switch (plan.kind) {
	case WD_MERGE_UP_TO_DATE:
		git_oid_cpy(&tip, &old);
		break;
	case WD_MERGE_FASTFORWARD:
		git_oid_cpy(&tip, git_commit_id(l.commit));
		break;
	case WD_MERGE_COMMIT:
		if ((rc = merge_commit(&tip, repo, idx, &l, message)) != 0)
			goto out;
		break;
	}
	if (plan.kind != WD_MERGE_UP_TO_DATE) {
		if (plan.workdir) {
			if ((rc = checkout_to(plan.workdir, &tip)) != 0)
				goto out;
			checked_out = 1;
		}
		/* Compare-and-swap: a concurrent update of the target is never lost. */
		if (git_reference_create_matching(&ref, repo, l.target_ref, &tip, 1, &old,
		                                  reflog ? reflog : "warden: merge") < 0) {
			rc = wd_error_git(WD_ECONFLICT, "moving the target branch (did it move meanwhile?)");
			if (checked_out)
				checkout_to(plan.workdir, &old);
			goto out;
		}
	}
	if (out_tip)
		git_oid_tostr(out_tip, GIT_OID_HEXSZ + 1, &tip);
out:
	git_reference_free(ref);
	git_index_free(idx);
	wd_repo_merge_plan_free(&plan);
	if (have_lookup)
		lookup_free(&l);
	git_repository_free(repo);
	return rc;
}
