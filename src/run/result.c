#include <stdlib.h>
#include <string.h>

#include "warden/alerts.h"
#include "warden/error.h"
#include "warden/json.h"
#include "warden/run.h"

#include "run_internal.h"

static const char *status_name(wd_run_status s)
{
	switch (s) {
	case WD_RUN_PROPOSED: return "proposed";
	case WD_RUN_NO_PATCH: return "no_patch";
	case WD_RUN_INTERRUPTED: return "interrupted";
	case WD_RUN_ESCALATED: return "escalated";
	case WD_RUN_DRY_RUN: return "dry_run";
	default: return "error";
	}
}

json_t *wd_run_result_json(const wd_run_result *r)
{
	json_t *o = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:s?, s:s?, s:{s:I, s:I, s:o}, s:O}",
	                      "status", status_name(r->status), "run_id", r->run_id,
	                      /* a branch only where the user can reach it: published, or in
	                       * the kept work tree */
	                      "repo", r->repo, "branch", r->repo || r->workdir ? r->branch : NULL,
	                      "base", r->base[0] ? r->base : NULL,
	                      "commit", r->commit[0] ? r->commit : NULL, "rounds", r->rounds,
	                      "reason", r->reason, "ledger", r->ledger,
	                      "usage", "input_tokens", (json_int_t)r->input_tokens,
	                      "output_tokens", (json_int_t)r->output_tokens, "cost_usd", wd_json_usd(r->cost_usd),
	                      "stages", r->stages ? r->stages : json_array());

	if (o)
		json_object_set_new(o, "alerts", r->alerts ? json_incref(r->alerts) : json_array());
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
	json_decref(r->alerts);
	json_decref(r->dry_run);
	memset(r, 0, sizeof(*r));
}


int wd_run_end_event(wd_ledger *l, const wd_run_result *r, uint64_t ms)
{
	return wd_ledger_add(l, "run.end",
	                     json_pack("{s:s, s:s?, s:s?, s:s?, s:i, s:I, s:I, s:o, s:I, s:s?}",
	                               "status", status_name(r->status), "reason", r->reason,
	                               "branch", r->branch, "commit",
	                               r->commit[0] ? r->commit : NULL, "rounds", r->rounds,
	                               "input_tokens", (json_int_t)r->input_tokens,
	                               "output_tokens", (json_int_t)r->output_tokens, "cost_usd",
	                               wd_json_usd(r->cost_usd), "ms", (json_int_t)ms,
	                               "workdir", r->workdir));
}

void wd_run_record_alerts(wd_ledger *l, wd_run_result *r, const struct wd_config *cfg)
{
	wd_alert_opts o;
	json_t *alerts = NULL, *a;
	size_t i;

	if (!l || !r->cache_dir)
		return;
	wd_alert_opts_from_config(&o, cfg);
	if (wd_alerts_for_run(&alerts, r->cache_dir, wd_ledger_path(l), r->cost_usd, &o) != 0) {
		/* no history to judge by is no reason to fail the run */
		wd_ledger_add(l, "alert.skipped", json_pack("{s:s}", "reason", wd_error_last()));
		wd_error_clear();
		return;
	}
	json_array_foreach(alerts, i, a) {
		wd_ledger_add(l, "alert", json_deep_copy(a));
	}
	json_decref(r->alerts);
	r->alerts = alerts;
}
