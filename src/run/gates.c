#include <stdlib.h>
#include <string.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"

#include "run_internal.h"

/* Does the scope name any symbol ("path:symbol")? */
static int scope_has_symbols(const wd_ticket *t)
{
	for (size_t i = 0; i < t->scope.n; i++)
		if (t->scope.v[i][0] != '!' && strchr(t->scope.v[i], ':'))
			return 1;
	return 0;
}

int wd_run_base_tree(git_oid *out, wd_workspace *ws)
{
	git_commit *c = NULL;

	if (git_commit_lookup(&c, ws->repo, &ws->base) < 0)
		return wd_error_git(WD_EINFRA, "reading the base commit");
	git_oid_cpy(out, git_commit_tree_id(c));
	git_commit_free(c);
	return 0;
}

/* One file's base content from the base tree; *out NULL when it is new. */
static int base_content(git_blob **out, wd_workspace *ws, git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;
	int rc;

	*out = NULL;
	rc = git_tree_entry_bypath(&e, tree, path);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return wd_error_git(WD_EINFRA, path);
	rc = git_blob_lookup(out, ws->repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	return rc < 0 ? wd_error_git(WD_EINFRA, path) : 0;
}

int wd_run_symbol_scope(wd_buf *reasons, wd_workspace *ws, const wd_ticket *t,
                        const wd_strvec *files)
{
	git_oid tree_id;
	git_tree *tree = NULL;
	int rc, refused = 0;

	if (!scope_has_symbols(t))
		return 0;
	if ((rc = wd_run_base_tree(&tree_id, ws)) != 0)
		return rc;
	if (git_tree_lookup(&tree, ws->repo, &tree_id) < 0)
		return wd_error_git(WD_EINFRA, "reading the base tree");
	for (size_t i = 0; i < files->n && !rc; i++) {
		wd_buf now = WD_BUF_INIT, path = WD_BUF_INIT;
		git_blob *blob = NULL;
		int have_now;

		if ((rc = base_content(&blob, ws, tree, files->v[i])) != 0 ||
		    (rc = wd_path_join(&path, ws->workdir, files->v[i])) != 0)
			goto next;
		rc = wd_file_read(&now, path.ptr, 0);
		have_now = rc == 0;
		if (rc == WD_ENOTFOUND)
			rc = 0;
		if (rc)
			goto next;
		rc = wd_symbol_scope_check(reasons, files->v[i],
		                           blob ? git_blob_rawcontent(blob) : NULL,
		                           blob ? (size_t)git_blob_rawsize(blob) : 0,
		                           have_now ? now.ptr : NULL, have_now ? now.len : 0,
		                           (const char *const *)t->scope.v);
		if (rc == WD_EREFUSED) {
			refused = 1;
			rc = 0;
		}
next:
		git_blob_free(blob);
		wd_buf_free(&now);
		wd_buf_free(&path);
	}
	git_tree_free(tree);
	if (rc)
		return rc;
	return refused ? WD_EREFUSED : 0;
}

int wd_run_syntax_gate(wd_buf *reasons, wd_workspace *ws, const wd_strvec *files)
{
	git_oid tree;
	int rc = wd_run_base_tree(&tree, ws);

	if (rc)
		return rc;
	return wd_syntax_check_worktree(reasons, ws->repo, &tree, (const char *const *)files->v);
}
