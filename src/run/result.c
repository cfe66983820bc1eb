#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/run.h"

static const char *status_name(wd_run_status s)
{
	switch (s) {
	case WD_RUN_PROPOSED: return "proposed";
	case WD_RUN_NO_PATCH: return "no_patch";
	case WD_RUN_ESCALATED: return "escalated";
	case WD_RUN_DRY_RUN: return "dry_run";
	default: return "error";
	}
}

json_t *wd_run_result_json(const wd_run_result *r)
{
	json_t *o = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:s?, s:s?, s:{s:I, s:I, s:f}, s:O}",
	                      "status", status_name(r->status), "run_id", r->run_id,
	                      "repo", r->repo, "branch", r->branch,
	                      "base", r->base[0] ? r->base : NULL,
	                      "commit", r->commit[0] ? r->commit : NULL, "rounds", r->rounds,
	                      "reason", r->reason, "ledger", r->ledger,
	                      "usage", "input_tokens", (json_int_t)r->input_tokens,
	                      "output_tokens", (json_int_t)r->output_tokens, "cost_usd", r->cost_usd,
	                      "stages", r->stages ? r->stages : json_array());

	if (o && r->dry_run)
		json_object_set(o, "dry_run", r->dry_run);
	if (o && r->question)
		json_object_set_new(o, "question", json_string(r->question));
	if (o && r->workdir)
		json_object_set_new(o, "workdir", json_string(r->workdir));
	if (o && r->status == WD_RUN_ERROR)
		json_object_set_new(o, "error", json_string(wd_error_name(r->error)));
	return o;
}

void wd_run_result_free(wd_run_result *r)
{
	free(r->repo);
	free(r->branch);
	free(r->reason);
	free(r->question);
	free(r->ledger);
	free(r->cache_dir);
	free(r->workdir);
	json_decref(r->stages);
	json_decref(r->dry_run);
	memset(r, 0, sizeof(*r));
}

