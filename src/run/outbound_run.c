/* The run's outbound gate (warden/outbound.h), set up from the base. */
#include "warden/config.h"
#include "warden/error.h"
#include "warden/outbound.h"

#include "run_internal.h"

int wd_run_open_outbound(wd_outbound **out, const wd_config *cfg, const char *model_spec,
                         wd_workspace *ws, wd_ledger *ledger)
{
	wd_outbound_opts o = { 0 };
	wd_buf ignore = WD_BUF_INIT;
	git_oid tree;
	int found = 0, rc;

	/* the base's own .wardenignore, from its objects: a check cannot write it */
	if ((rc = wd_repo_base_tree(&tree, ws)) != 0 ||
	    (rc = wd_repo_tree_file(&ignore, &found, wd_workspace_repo(ws), &tree,
	                            ".wardenignore")) != 0)
		goto out;
	o.cfg = cfg;
	o.model_spec = model_spec;
	o.root = wd_workspace_checkout(ws);
	o.ignore_text = found ? wd_buf_cstr(&ignore) : NULL;
	o.ignore_len = ignore.len;
	o.ledger = ledger;
	rc = wd_outbound_new(out, &o);
out:
	wd_buf_free(&ignore);
	return rc;
}
