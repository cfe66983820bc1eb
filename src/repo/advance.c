/*
 * wd_repo_advance_base: make base + a given tree the run's base, before any
 * check has run (an eval instance's test_patch). The new commit is a pure
 * function of the base and the tree (fixed identity, the base's own time), so
 * the same instance gets the same base id on every run and the baseline cache
 * keeps working.
 */
#include <string.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/repo.h"
#include "repo_int.h"

static int make_commit(git_oid *out, git_repository *repo, const git_oid *base,
                       const git_oid *tree_id, const char *message)
{
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	const git_signature *when;
	int rc = 0;

	if (git_commit_lookup(&parent, repo, base) < 0 || git_tree_lookup(&tree, repo, tree_id) < 0) {
		rc = wd_error_git(WD_EINPUT, "looking up the base and the new tree");
		goto out;
	}
	when = git_commit_committer(parent);
	if (git_signature_new(&sig, "warden", "warden@localhost", when->when.time,
	                      when->when.offset) < 0 ||
	    git_commit_create(out, repo, NULL, sig, sig, NULL, message, tree, 1,
	                      (const git_commit **)&parent) < 0)
		rc = wd_error_git(WD_EINFRA, "committing the new base");
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(parent);
	return rc;
}

int wd_repo_advance_base(wd_workspace *ws, const git_oid *tree, const char *message)
{
	git_oid commit;
	int rc;

	if (!ws || !ws->repo || !tree || !message)
		return wd_error_set(WD_EUSAGE, "repo: advance_base needs a prepared workspace");
	if ((rc = make_commit(&commit, ws->repo, &ws->base, tree, message)) != 0)
		return rc;
	/* the old base's files go first: the checkout only ever writes a fresh dir */
	if ((rc = wd_rm_rf(ws->checkout)) != 0)
		return rc;
	ws->base = commit;
	return wd_repo__checkout_branch(ws, 1);
}
