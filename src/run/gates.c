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
	return wd_repo_commit_tree(out, ws->repo, &ws->base);
}

int wd_run_symbol_scope(wd_buf *reasons, wd_workspace *ws, const wd_ticket *t,
                        const wd_strvec *files)
{
	git_oid tree;
	int rc, refused = 0;

	if (!scope_has_symbols(t))
		return 0;
	if ((rc = wd_run_base_tree(&tree, ws)) != 0)
		return rc;
	for (size_t i = 0; i < files->n && !rc; i++) {
		wd_buf base = WD_BUF_INIT, now = WD_BUF_INIT, path = WD_BUF_INIT;
		int in_base, have_now;

		/* the base content from the base tree; absent when the file is new */
		if ((rc = wd_repo_tree_file(&base, &in_base, ws->repo, &tree, files->v[i])) != 0 ||
		    (rc = wd_path_join(&path, ws->workdir, files->v[i])) != 0)
			goto next;
		rc = wd_file_read(&now, path.ptr, 0);
		have_now = rc == 0;
		if (rc == WD_ENOTFOUND)
			rc = 0;
		if (rc)
			goto next;
		rc = wd_symbol_scope_check(reasons, files->v[i], in_base ? wd_buf_cstr(&base) : NULL,
		                           in_base ? base.len : 0, have_now ? wd_buf_cstr(&now) : NULL,
		                           have_now ? now.len : 0, (const char *const *)t->scope.v);
		if (rc == WD_EREFUSED) {
			refused = 1;
			rc = 0;
		}
next:
		wd_buf_free(&base);
		wd_buf_free(&now);
		wd_buf_free(&path);
	}
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
