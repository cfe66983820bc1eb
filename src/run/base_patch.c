/*
 * An eval instance's test_patch: applied to the base through the patch engine
 * (in memory, on the base commit's objects) and made the run's base before
 * the context, the baseline or the model sees the tree.
 */
#include <string.h>

#include "warden/error.h"
#include "warden/patch.h"
#include "warden/repo.h"

#include "run_internal.h"

/* A dataset's test patch is written by people, not the model: it may be
 * larger than a model's edit, add executables and binary fixtures. */
#define BASE_PATCH_MAX_FILES 2000
#define BASE_PATCH_MAX_LINES 200000

int wd_run_apply_base_patch(wd_workspace *ws, const char *text)
{
	wd_patch_policy pol = WD_PATCH_POLICY_INIT;
	wd_patch_report rep;
	wd_patch *patch = NULL;
	int rc;

	memset(&rep, 0, sizeof(rep));
	pol.max_files = BASE_PATCH_MAX_FILES;
	pol.max_lines = BASE_PATCH_MAX_LINES;
	pol.allow_mode_change = 1;
	pol.allow_binary = 1;
	rc = wd_patch_parse(&patch, text, strlen(text));
	if (rc == WD_ENOTFOUND || rc == WD_EINPUT) {
		rc = wd_error_wrap(WD_EINPUT, "the test patch is not a patch");
		goto out;
	}
	if (rc)
		goto out;
	rc = wd_patch_apply_tree(&rep, wd_workspace_repo(ws), wd_workspace_base(ws), patch, &pol);
	if (rc == WD_EREFUSED) {
		rc = wd_error_set(WD_EINPUT, "the test patch does not apply: %s",
		                  wd_buf_cstr(&rep.reasons));
		goto out;
	}
	if (rc)
		goto out;
	rc = wd_repo_advance_base(ws, &rep.tree, "eval: the instance's test patch\n");
out:
	wd_patch_report_free(&rep);
	wd_patch_free(patch);
	return rc;
}
