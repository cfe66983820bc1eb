/*
 * The gates between a patch that applied and the checks: symbol scope and
 * syntax. Both compare the base tree with the patched tree as git objects:
 * nothing here reads a work tree, which a check may have changed.
 */
#include <string.h>

#include "warden/context.h"
#include "warden/error.h"

#include "run_internal.h"

/* Does the scope name any symbol ("path:symbol")? */
static int scope_has_symbols(const wd_ticket *t)
{
	const wd_strvec *scope = wd_ticket_scope(t);

	for (size_t i = 0; i < scope->n; i++)
		if (scope->v[i][0] != '!' && strchr(scope->v[i], ':'))
			return 1;
	return 0;
}

int wd_run_symbol_scope(wd_buf *reasons, wd_workspace *ws, const wd_ticket *t,
                        const git_oid *patched, const wd_strvec *files)
{
	git_oid base;
	int rc;

	if (!scope_has_symbols(t) || !files->n)
		return 0;
	if ((rc = wd_repo_base_tree(&base, ws)) != 0)
		return rc;
	return wd_symbol_scope_check_trees(reasons, wd_workspace_repo(ws), &base, patched,
	                                   (const char *const *)files->v,
	                                   (const char *const *)wd_ticket_scope(t)->v);
}

int wd_run_syntax_gate(wd_buf *reasons, wd_workspace *ws, const git_oid *patched,
                       const wd_strvec *files)
{
	git_oid base;
	int rc = wd_repo_base_tree(&base, ws);

	if (rc)
		return rc;
	return wd_syntax_check_trees(reasons, wd_workspace_repo(ws), &base, patched,
	                             (const char *const *)files->v);
}
