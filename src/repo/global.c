/* libgit2's process-wide state and the small conversions callers outside
 * src/repo need, so that they never call libgit2 themselves. */
#include "warden/error.h"
#include "warden/repo.h"

int wd_repo_global_init(void)
{
	if (git_libgit2_init() < 0)
		return wd_error_git(WD_EINFRA, "initialising libgit2");
	return 0;
}

void wd_repo_global_shutdown(void)
{
	git_libgit2_shutdown();
}

int wd_repo_open_discover(git_repository **out, const char *dir)
{
	*out = NULL;
	if (git_repository_open_ext(out, dir, 0, NULL) < 0) {
		const git_error *e = git_error_last();

		return wd_error_set(WD_EINPUT, "%s: not a git repository%s%s", dir, e ? ": " : "",
		                    e && e->message ? e->message : "");
	}
	return 0;
}

int wd_buf_put_git(wd_buf *out, const git_buf *gb)
{
	return wd_buf_put(out, gb->ptr ? gb->ptr : "", gb->size);
}

void wd_repo_close(git_repository *repo)
{
	git_repository_free(repo);
}

void wd_repo_oid_hex(char out[41], const git_oid *id)
{
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, id);
}

int wd_repo_commit_tree(git_oid *out, git_repository *repo, const git_oid *commit)
{
	git_commit *c = NULL;

	if (git_commit_lookup(&c, repo, commit) < 0)
		return wd_error_git(WD_EINFRA, "reading the commit");
	git_oid_cpy(out, git_commit_tree_id(c));
	git_commit_free(c);
	return 0;
}

int wd_repo_tree_file(wd_buf *out, int *found, git_repository *repo, const git_oid *tree,
                      const char *path)
{
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int rc = 0, err;

	*found = 0;
	if (git_tree_lookup(&t, repo, tree) < 0)
		return wd_error_git(WD_EINFRA, "reading the tree");
	err = git_tree_entry_bypath(&e, t, path);
	if (err == GIT_ENOTFOUND || (err == 0 && git_tree_entry_type(e) != GIT_OBJECT_BLOB))
		goto out;
	if (err < 0 || git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
		rc = wd_error_git(WD_EINFRA, path);
		goto out;
	}
	*found = 1;
	rc = wd_buf_put(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(t);
	return rc;
}
