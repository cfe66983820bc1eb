/* The change a commit makes against another, as a reviewer reads it: the
 * diffstat, then the unified diff. */
#include "warden/error.h"
#include "warden/repo.h"

static int diff_line_cb(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l,
                        void *payload)
{
	wd_buf *out = payload;

	(void)d;
	(void)h;
	if ((l->origin == GIT_DIFF_LINE_CONTEXT || l->origin == GIT_DIFF_LINE_ADDITION ||
	     l->origin == GIT_DIFF_LINE_DELETION) && wd_buf_putc(out, l->origin))
		return -1;
	return wd_buf_put(out, l->content, l->content_len) ? -1 : 0;
}

static int lookup_commit(git_commit **out, git_repository *repo, const char *hex)
{
	git_oid id;

	if (!hex || git_oid_fromstr(&id, hex) < 0)
		return wd_error_set(WD_EUSAGE, "'%s' is not a commit id", hex ? hex : "(null)");
	if (git_commit_lookup(out, repo, &id) < 0)
		return wd_error_git(WD_ENOTFOUND, "looking up the commits to compare");
	return 0;
}

int wd_repo_diff_commits(wd_buf *out, const char *repo_path, const char *from_hex,
                         const char *to_hex)
{
	git_repository *repo = NULL;
	git_commit *from = NULL, *to = NULL;
	git_tree *from_tree = NULL, *to_tree = NULL;
	git_diff *diff = NULL;
	git_diff_stats *stats = NULL;
	git_buf sbuf = GIT_BUF_INIT;
	int rc = 0;

	if (git_repository_open(&repo, repo_path) < 0)
		return wd_error_git(WD_ENOTFOUND, repo_path);
	if ((rc = lookup_commit(&from, repo, from_hex)) != 0 ||
	    (rc = lookup_commit(&to, repo, to_hex)) != 0)
		goto out;
	if (git_commit_tree(&from_tree, from) < 0 || git_commit_tree(&to_tree, to) < 0 ||
	    git_diff_tree_to_tree(&diff, repo, from_tree, to_tree, NULL) < 0 ||
	    git_diff_find_similar(diff, NULL) < 0 || git_diff_get_stats(&stats, diff) < 0 ||
	    git_diff_stats_to_buf(&sbuf, stats, GIT_DIFF_STATS_FULL | GIT_DIFF_STATS_INCLUDE_SUMMARY,
	                          80) < 0) {
		rc = wd_error_git(WD_EINFRA, "diffing the commits");
		goto out;
	}
	if ((rc = wd_buf_put(out, sbuf.ptr, sbuf.size)) != 0 || (rc = wd_buf_putc(out, '\n')) != 0)
		goto out;
	if (git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, diff_line_cb, out) < 0)
		rc = wd_error_last_code() == WD_ENOMEM ? WD_ENOMEM
		                                       : wd_error_git(WD_EINFRA, "printing the diff");
out:
	git_buf_dispose(&sbuf);
	git_diff_stats_free(stats);
	git_diff_free(diff);
	git_tree_free(from_tree);
	git_tree_free(to_tree);
	git_commit_free(from);
	git_commit_free(to);
	git_repository_free(repo);
	return rc;
}
