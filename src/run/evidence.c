#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/json.h"
#include "warden/note.h"
#include "warden/proposal.h"

#include "run_internal.h"

/* The failing tests a check's output named, each with its first lines. */
static json_t *failing_tests(const wd_test_report *t)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < t->n; i++) {
		json_t *o;

		if (t->v[i].status != WD_TEST_FAIL)
			continue;
		o = json_pack("{s:s, s:s?}", "name", t->v[i].name, "detail", t->v[i].detail);
		if (!o || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *wd_run_check_event(wd_ledger *l, const wd_check_result *cr, const char *phase)
{
	char hex[41] = "";
	json_t *ev = wd_check_result_json(cr);

	if (!ev)
		return NULL;
	/* the output itself, redacted, so "why did it fail" has an answer */
	if (!cr->from_cache && wd_ledger_blob(l, cr->output.ptr, cr->output.len, hex) != 0)
		hex[0] = '\0';
	if (json_object_set_new(ev, "phase", json_string(phase)) ||
	    (hex[0] && json_object_set_new(ev, "output_blob", json_string(hex)) != 0) ||
	    json_object_set_new(ev, "failing", failing_tests(&cr->tests)) != 0) {
		json_decref(ev);
		return NULL;
	}
	return ev;
}

json_t *wd_run_evidence_json(const wd_gate_result *gate)
{
	json_t *checks = json_array();

	for (size_t i = 0; checks && i < gate->n; i++)
		if (json_array_append_new(checks, wd_check_result_json(&gate->v[i])) != 0) {
			json_decref(checks);
			return NULL;
		}
	return checks ? json_pack("{s:o}", "checks", checks) : NULL;
}

int wd_run_add_evidence(const char *repo_path, const char *commit_hex, json_t *evidence)
{
	char *text;
	int rc;

	if (!evidence)
		return 0;
	text = json_dumps(evidence, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return wd_error_set(WD_ENOMEM, "out of memory");
	rc = wd_review_add_note(repo_path, commit_hex, text);
	if (rc && rc != WD_ENOMEM)
		wd_error_wrap(rc, "recording check evidence");
	free(text);
	return rc;
}

static int set(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = wd_strdup(src);
	return *dst ? 0 : WD_ENOMEM;
}

int wd_run_save_proposal(const char *cache_dir, const wd_run_result *res, const wd_ticket *t,
                         const char *model, const char *checks, const char *evidence,
                         const wd_workspace *ws)
{
	wd_proposal *p = NULL;
	int rc;

	if ((rc = wd_proposal_new(&p)) != 0)
		return rc;
	if ((rc = set(&p->id, res->run_id)) || (rc = set(&p->ticket_title, wd_ticket_title(t))) ||
	    (rc = set(&p->ticket_id, wd_ticket_id(t))) ||
	    (rc = set(&p->ticket_path, wd_ticket_source(t))) ||
	    (rc = set(&p->source, wd_workspace_source(ws))) || (rc = set(&p->repo, res->repo)) ||
	    (rc = set(&p->branch, res->branch)) || (rc = set(&p->target, wd_workspace_base_ref(ws))) ||
	    (rc = set(&p->model, model)) || (rc = set(&p->checks, checks)) ||
	    (rc = set(&p->evidence, evidence)) || (rc = set(&p->ledger_path, res->ledger)))
		goto out;
	memcpy(p->base, res->base, sizeof(p->base));
	memcpy(p->commit, res->commit, sizeof(p->commit));
	p->rounds = res->rounds;
	p->input_tokens = res->input_tokens;
	p->output_tokens = res->output_tokens;
	p->cost_usd = res->cost_usd;
	rc = wd_proposal_save(p, cache_dir);
out:
	wd_proposal_free(p);
	return rc;
}

void wd_run_unpublish(const char *repo, const char *mirror, const char *branch, const char *hex,
                      wd_ledger *ledger)
{
	char why[1024];
	int rc;

	snprintf(why, sizeof(why), "%s", wd_error_last());
	rc = wd_repo_unpublish(repo, mirror, branch, hex, NULL);
	wd_ledger_add(ledger, "publish.rollback",
	              json_pack("{s:s, s:s, s:s, s:b, s:s?}", "repo", repo, "branch", branch,
	                        "reason", why, "removed", rc == 0, "error",
	                        rc ? wd_error_last() : NULL));
	if (rc)
		wd_error_set(WD_EINFRA, "%s; and the branch '%s' it left in %s could not be removed: %s",
		             why, branch, repo, wd_error_last());
	else
		wd_error_set(WD_EINFRA, "%s (the branch '%s' was removed again: no proposal without "
		             "its record)", why, branch);
}
