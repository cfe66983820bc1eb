#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/config.h"
#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/gate.h"
#include "warden/interrupt.h"
#include "warden/json.h"
#include "warden/ledger.h"
#include "warden/model.h"
#include "warden/outbound.h"
#include "warden/patch.h"
#include "warden/prompt.h"
#include "warden/repo.h"
#include "warden/run.h"
#include "warden/ticket.h"
#include "warden/tools.h"

#include "run_internal.h"

#define DEFAULT_ROUNDS 3
#define MAX_ROUNDS 20
#define FAILURE_SUMMARY_MAX 6000

/* Everything one run holds; freed in one place. */
struct run {
	const wd_run_opts *opts;
	wd_run_result *res;
	wd_buf cache;
	wd_ticket *ticket;
	wd_config *cfg;
	wd_ledger *ledger;
	wd_workspace *ws;
	wd_checklist checks;
	wd_context *ctx;
	wd_model *model;
	wd_tools *tools;
	json_t *tool_defs;
	wd_chat chat;
	wd_strvec patch_hashes;
	wd_gate_result baseline;
	int have_baseline;
	char *model_spec;
	const char *edit_format; /* what the prompts ask for (edit_format.c) */
	git_oid tree;
	wd_buf summary;    /* the model's own words about the passing patch */
	wd_buf trailer;    /* Warden-Checks value */
	json_t *evidence;  /* check evidence for the git note */
	uint64_t stage_start;
	int sandbox_policy;  /* enum wd_sandbox_policy, resolved once */
	wd_strvec deny;      /* what a check may not read: warden's cache, the user's config */
	wd_strvec allow;     /* what it may read beyond the system: git's dirs, the user's paths */
	wd_world world;      /* the tree the checks run in */
	int have_world;
	wd_strvec files;     /* the paths the passing patch changed */
	wd_buf why;          /* why the last round did not pass, for a person */
	wd_outbound *ob;     /* everything sent to the model passes through it */
	int tool_turns;      /* tool turns per round before the edit is due */
	wd_strvec ctx_files;   /* the files the context may read (outbound-filtered) */
	wd_strvec ctx_exclude; /* map.exclude */
};

static void stage_begin(struct run *r, const char *stage, const char *msg)
{
	r->stage_start = wd_now_ms();
	if (r->opts->progress)
		r->opts->progress(r->opts->payload, stage, 0, 0, msg);
}

static void stage_end(struct run *r, const char *stage, const char *msg)
{
	uint64_t ms = wd_now_ms() - r->stage_start;

	json_array_append_new(r->res->stages, json_pack("{s:s, s:I}", "stage", stage,
	                                                 "ms", (json_int_t)ms));
	if (r->opts->progress)
		r->opts->progress(r->opts->payload, stage, 1, ms, msg);
}

/* SIGINT/SIGTERM arrived: stop at this step (the check was killed already). */
static int stop_if_interrupted(void)
{
	int sig = wd_interrupt_signal();

	if (!sig)
		return 0;
	return wd_error_set(WD_EINTERRUPTED, "interrupted by %s",
	                    sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
}

static int load_ticket(struct run *r)
{
	int rc = wd_ticket_load(&r->ticket, r->opts->ticket);

	if (rc)
		return rc;
	return wd_ledger_add(r->ledger, "ticket",
	                     json_pack("{s:s, s:s, s:s, s:o}", "path", r->opts->ticket,
	                               "title", wd_ticket_title(r->ticket), "id",
	                               wd_ticket_id(r->ticket), "body_blob",
	                               wd_ledger_blob_ref(r->ledger, wd_ticket_body(r->ticket))));
}

static int open_ledger(struct run *r)
{
	wd_buf path = WD_BUF_INIT;
	int rc;

	if ((rc = wd_buf_printf(&path, "%s/ledger", r->cache.ptr)) != 0 ||
	    (rc = wd_mkdir_p(path.ptr, 1)) != 0 ||
	    (rc = wd_buf_printf(&path, "/%s.jsonl", r->res->run_id)) != 0 ||
	    (rc = wd_ledger_open(&r->ledger, path.ptr, r->res->run_id)) != 0)
		goto out;
	r->res->ledger = wd_buf_detach(&path);
	if (!r->res->ledger)
		rc = WD_ENOMEM;
out:
	wd_buf_free(&path);
	return rc;
}

static int prepare_repo(struct run *r)
{
	wd_repo_opts ro = WD_REPO_OPTS_INIT;
	wd_buf branch = WD_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	if ((rc = wd_buf_printf(&branch, "warden/%s-%s", wd_ticket_slug(r->ticket), r->res->run_id)) != 0)
		return rc;
	ro.source = r->opts->repo;
	ro.base = r->opts->base;
	ro.cache_dir = r->cache.ptr;
	ro.run_id = r->res->run_id;
	ro.branch = branch.ptr;
	stage_begin(r, "prepare", r->opts->repo);
	rc = wd_repo_prepare(&r->ws, &ro);
	wd_buf_free(&branch);
	if (rc)
		return rc;
	if (r->opts->base_patch && (rc = wd_run_apply_base_patch(r->ws, r->opts->base_patch)) != 0)
		return rc;
	wd_repo_oid_hex(hex, wd_workspace_base(r->ws));
	memcpy(r->res->base, hex, sizeof(r->res->base));
	r->res->branch = wd_strdup(wd_workspace_branch(r->ws));
	if (!r->res->branch)
		return WD_ENOMEM;
	if ((rc = wd_config_add_repo(r->cfg, wd_workspace_checkout(r->ws))) != 0 ||
	    (rc = wd_run_warn_ignored(r->cfg, r->ledger, r->opts)) != 0)
		return rc;
	wd_ledger_add(r->ledger, "repo.prepare",
	              json_pack("{s:s, s:s, s:s, s:s, s:s}", "source", r->opts->repo, "base", hex,
	                        "branch", wd_workspace_branch(r->ws), "checkout",
	                        wd_workspace_checkout(r->ws), "git_dir", wd_workspace_git_dir(r->ws)));
	stage_end(r, "prepare", wd_workspace_branch(r->ws));
	return 0;
}

/* Checks come from three places, in order: flags, the ticket, .warden/config. */
static int collect_checks(struct run *r)
{
	unsigned t = r->opts->check_timeout_sec;
	int rc;

	for (size_t i = 0; r->opts->checks && r->opts->checks[i]; i++)
		if ((rc = wd_checklist_add_spec(&r->checks, r->opts->checks[i], t)) != 0)
			return rc;
	for (size_t i = 0; i < wd_ticket_checks(r->ticket)->n; i++)
		if ((rc = wd_checklist_add_spec(&r->checks, wd_ticket_checks(r->ticket)->v[i], t)) != 0)
			return rc;
	if ((rc = wd_checklist_from_config(&r->checks, r->cfg)) != 0)
		return rc;
	if (r->checks.n == 0)
		return wd_error_set(WD_EUSAGE,
		                    "no checks to gate the patch: pass --check CMD, add 'checks:' "
		                    "to the ticket, or declare [check \"NAME\"] in .warden/config");
	return 0;
}

/* Stop before the model: a person must answer `question`. */
static void escalate(struct run *r, const char *stage, const char *question)
{
	r->res->status = WD_RUN_ESCALATED;
	free(r->res->question);
	free(r->res->reason);
	r->res->question = wd_strdup(question);
	r->res->reason = wd_strdup(question);
	wd_ledger_add(r->ledger, "escalate", json_pack("{s:s, s:s}", "stage", stage,
	                                               "question", question));
}

/* The ticket against the base, before any model call (precheck.c). */
static int ticket_precheck(struct run *r)
{
	wd_strvec files = WD_STRVEC_INIT;
	wd_buf q = WD_BUF_INIT;
	int rc;

	if ((rc = wd_repo_list_files(&files, r->ws)) == 0 &&
	    (rc = wd_run_ticket_precheck(&q, r->ticket, r->ws, &files)) == 0 && q.len)
		escalate(r, "ticket", q.ptr);
	if (rc == WD_EINPUT)
		wd_ledger_add(r->ledger, "ticket.refused", json_pack("{s:s}", "reason", wd_error_last()));
	wd_strvec_free(&files);
	wd_buf_free(&q);
	return rc;
}

/* What the baseline says about the ticket (precheck.c). */
static int baseline_precheck(struct run *r)
{
	wd_strvec inferred = WD_STRVEC_INIT;
	wd_buf q = WD_BUF_INIT;
	int rc = wd_run_baseline_precheck(&inferred, &q, r->ticket, &r->baseline);

	if (rc == WD_EINPUT)
		wd_ledger_add(r->ledger, "ticket.refused", json_pack("{s:s}", "reason", wd_error_last()));
	if (!rc && inferred.n) {
		json_t *names = json_array();

		for (size_t i = 0; names && i < inferred.n; i++)
			json_array_append_new(names, json_string(inferred.v[i]));
		wd_ledger_add(r->ledger, "fail_to_pass.inferred", json_pack("{s:o*}", "tests", names));
	}
	if (!rc && q.len)
		escalate(r, "baseline", q.ptr);
	wd_strvec_free(&inferred);
	wd_buf_free(&q);
	return rc;
}

static int build_context(struct run *r)
{
	wd_context_opts co = WD_CONTEXT_OPTS_INIT;
	wd_strvec files = WD_STRVEC_INIT, exclude = WD_STRVEC_INIT;
	char msg[128];
	int rc;

	stage_begin(r, "context", NULL);
	if ((rc = wd_repo_list_files(&files, r->ws)) != 0 ||
	    (rc = wd_outbound_filter(r->ob, &files, "context", NULL)) != 0)
		goto out;
	if ((rc = wd_config_get_all(&exclude, r->cfg, "map.exclude")) != 0)
		goto out;
	co.exclude = (const char *const *)exclude.v;
	co.cache_dir = r->cache.ptr;
	co.files = (const char *const *)files.v;
	/* warden's own reading is of the checkout it wrote, which no check can write */
	if ((rc = wd_context_build(&r->ctx, wd_workspace_checkout(r->ws), r->ticket, &co)) != 0)
		goto out;
	wd_ledger_add(r->ledger, "context",
	              json_pack("{s:I, s:O}", "bytes", (json_int_t)wd_context_bytes(r->ctx), "files",
	                        wd_context_why(r->ctx) ? wd_context_why(r->ctx) : json_null()));
	if (!r->opts->no_tools) {
		wd_tools_opts to = WD_TOOLS_OPTS_INIT;

		to.cache_dir = r->cache.ptr;
		to.files = (const char *const *)files.v;
		if ((rc = wd_run_tool_limits(&r->tool_turns, &to.max_calls, r->cfg)) != 0 ||
		    (rc = wd_tools_new(&r->tools, wd_workspace_checkout(r->ws), &to)) != 0)
			goto out;
		if (!(r->tool_defs = wd_tools_definitions())) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
	}
	snprintf(msg, sizeof(msg), "%zu files, %zu bytes", wd_context_chosen(r->ctx)->n,
	         wd_context_bytes(r->ctx));
	stage_end(r, "context", msg);
	/* kept for the repair rounds' context */
	r->ctx_files = files;
	r->ctx_exclude = exclude;
	memset(&files, 0, sizeof(files));
	memset(&exclude, 0, sizeof(exclude));
out:
	wd_strvec_free(&exclude);
	wd_strvec_free(&files);
	return rc;
}

/* The values of the environment variables the user names in redact.env
 * (their own config only) are scrubbed like API keys from everything the run
 * writes or sends, check output first of all. */
static int register_redactions(struct run *r)
{
	wd_strvec names = WD_STRVEC_INIT;
	int rc = wd_config_get_all(&names, r->cfg, "redact.env");

	for (size_t i = 0; !rc && i < names.n; i++)
		wd_redact_register_env_names(names.v[i]);
	wd_strvec_free(&names);
	return rc;
}

/* The gate's sandbox policy: the flag, else the user's sandbox.policy, else
 * strict — a check that cannot be confined as promised does not run. */
static int resolve_sandbox_policy(struct run *r)
{
	int rc;

	r->sandbox_policy = WD_POLICY_STRICT;
	if (r->opts->sandbox_policy >= 0) {
		r->sandbox_policy = r->opts->sandbox_policy;
		return 0;
	}
	rc = wd_config_get_choice(&r->sandbox_policy, r->cfg, "sandbox.policy",
	                          wd_sandbox_policy_names);
	return rc == WD_ENOTFOUND ? 0 : rc;
}

static int open_model(struct run *r)
{
	wd_model_opts mo = WD_MODEL_OPTS_INIT;
	char *spec = NULL;
	int rc;

	if ((rc = wd_config_model_spec(&spec, r->cfg, r->opts->model)) != 0)
		return rc;
	r->model_spec = spec;
	mo.config = r->cfg;
	mo.ledger = r->ledger;
	mo.record_path = r->opts->record;
	mo.max_cost_usd = r->opts->max_cost_usd;
	mo.max_tokens = r->opts->max_tokens;
	mo.max_calls = r->opts->max_calls;
	mo.max_time_ms = r->opts->max_time_ms;
	mo.on_retry = wd_run_on_retry;
	mo.retry_payload = (void *)r->opts;
	return wd_model_open(&r->model, spec, &mo);
}

/* How every check of this run is run: one place for the baseline and the rounds. */
static wd_gate_opts gate_opts(const struct run *r)
{
	wd_gate_opts go = WD_GATE_OPTS_INIT;

	go.default_timeout_sec = r->opts->check_timeout_sec;
	go.cache_dir = r->cache.ptr;
	go.sandbox_policy = r->sandbox_policy;
	go.deny_read = (const char *const *)r->deny.v;
	go.allow_read = (const char *const *)r->allow.v;
	go.on_check = r->opts->on_check;
	go.on_output = r->opts->on_output;
	go.progress_ctx = r->opts->payload;
	go.memory_mb = r->opts->check_memory_mb;
	return go;
}

static int run_gate(struct run *r, wd_gate_result *out, const char *what, const char *workdir,
                    const wd_gate_opts *go)
{
	char msg[160];
	int rc;

	stage_begin(r, what, NULL);
	rc = wd_gate_run(out, workdir, &r->checks, go);
	if (rc)
		return stop_if_interrupted() ? stop_if_interrupted() : rc;
	for (size_t i = 0; i < out->n; i++) {
		const wd_check_result *cr = &out->v[i];

		wd_ledger_add(r->ledger, "check", wd_run_check_event(r->ledger, cr, what));
	}
	if (r->opts->on_checks && (rc = r->opts->on_checks(r->opts->payload, what, out)) != 0)
		return rc;
	snprintf(msg, sizeof(msg), "%s", out->passed ? "all checks pass" : "checks fail");
	stage_end(r, what, msg);
	return 0;
}

/* What a check may read beyond the system's paths, and what it may never
 * read. Warden's cache is hidden whole (other repositories' mirrors, ledgers,
 * proposals, baselines, other runs); the sandbox shows the run's own tree
 * through it. The user's config file is hidden wherever it lives. The run's
 * git directory and the mirror's objects are readable (never writable), so
 * git works inside the tree; the user's sandbox.allow-read and --allow-read
 * widen the rest. */
static int sandbox_paths(struct run *r)
{
	wd_buf cfg = WD_BUF_INIT;
	int rc;

	if ((rc = wd_strvec_push(&r->deny, r->cache.ptr)) != 0)
		return rc;
	if (wd_config_user_path(&cfg) == 0 && (rc = wd_strvec_push(&r->deny, cfg.ptr)) != 0)
		goto out;
	wd_error_clear();
	if ((rc = wd_workspace_git_read_paths(&r->allow, r->ws)) != 0 ||
	    (rc = wd_config_get_all(&r->allow, r->cfg, "sandbox.allow-read")) != 0)
		goto out;
	for (size_t i = 0; r->opts->allow_read && r->opts->allow_read[i]; i++)
		if ((rc = wd_strvec_push(&r->allow, r->opts->allow_read[i])) != 0)
			goto out;
out:
	wd_buf_free(&cfg);
	return rc;
}

static int log_baseline(struct run *r, size_t cached)
{
	char msg[160];

	for (size_t i = 0; i < r->baseline.n; i++)
		wd_ledger_add(r->ledger, "check", wd_run_check_event(r->ledger, &r->baseline.v[i], "baseline"));
	snprintf(msg, sizeof(msg), "%s%s", r->baseline.passed ? "all checks pass" : "checks fail",
	         cached ? " (cached)" : "");
	stage_end(r, "baseline", msg);
	return 0;
}

static int timed_out(const wd_gate_result *g)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].timed_out)
			return 1;
	return 0;
}

/* The checks on the untouched base. In overlay mode the results and the tree
 * they built are cached together per base commit and checks: a hit needs
 * both, so the rounds always start from a built tree; a miss runs every check
 * and keeps the new layer. In copy mode the baseline always runs (its tree is
 * the rounds' starting point). */
static int run_baseline(struct run *r)
{
	wd_gate_opts go = gate_opts(r);
	wd_buf layer = WD_BUF_INIT;
	const char *workdir = NULL;
	size_t cached = 0;
	int rc;

	stage_begin(r, "baseline", NULL);
	if ((rc = wd_world_init(&r->world, r->ws, r->cache.ptr, r->sandbox_policy)) != 0)
		goto out;
	r->have_world = 1;
	wd_ledger_add(r->ledger, "world",
	              json_pack("{s:s, s:s, s:s?}", "mode", r->world.overlay ? "overlay" : "copy",
	                        "inside", r->world.inside, "why", r->world.why_copy));
	if (r->world.overlay) {
		if ((rc = wd_gate_baseline_layer(&layer, r->cache.ptr, r->res->base, &r->checks,
		                                 r->world.inside)) != 0)
			goto out;
		go.baseline_cache = WD_BASELINE_CACHE_ONLY;
		if (wd_path_is_dir(layer.ptr) &&
		    wd_gate_baseline(&r->baseline, &cached, r->world.base, r->res->base, &r->checks,
		                     &go) == 0) {
			rc = wd_world_use_built(&r->world, layer.ptr);
			goto out;
		}
		wd_error_clear();
	}
	go.baseline_cache = WD_BASELINE_CACHE_REFRESH;
	if ((rc = wd_world_baseline_begin(&r->world, &go, &workdir)) != 0 ||
	    (rc = wd_gate_baseline(&r->baseline, &cached, workdir, r->res->base, &r->checks,
	                           &go)) != 0)
		goto out;
	/* a timed-out baseline says nothing stable: its tree is not kept either */
	rc = wd_world_baseline_end(&r->world, r->world.overlay && !timed_out(&r->baseline)
	                                      ? layer.ptr : NULL);
out:
	if (!rc)
		rc = log_baseline(r, cached);
	if (!rc && r->opts->on_checks)
		rc = r->opts->on_checks(r->opts->payload, "baseline", &r->baseline);
	if (stop_if_interrupted())
		rc = stop_if_interrupted();
	wd_buf_free(&layer);
	return rc;
}

/* Execute the model's tool calls (parsed once, by the model layer) and
 * append their results to the chat. */
static int answer_tool_calls(struct run *r, int round, const wd_model_reply *reply)
{
	int rc = 0;

	for (size_t i = 0; i < reply->ntool_calls && !rc; i++) {
		const wd_tool_call *c = &reply->tool_calls[i];
		wd_buf result = WD_BUF_INIT;
		int trc, refused, denied;

		/* a path the policy keeps back is answered "denied by policy" */
		trc = wd_outbound_tool_call(r->ob, &result, c->name, c->args_text);
		denied = trc == WD_EREFUSED;
		if (trc == 0)
			trc = wd_tools_run(&result, r->tools, c->name, c->args);
		else if (denied)
			trc = 0;
		refused = denied || trc == WD_EBUDGET || trc == WD_EINPUT;
		if (refused) {
			if (!result.len)
				wd_buf_printf(&result, "refused: %s", wd_error_last());
			trc = 0;
		}
		if (trc) {
			wd_buf_free(&result);
			return trc;
		}
		wd_ledger_add(r->ledger, "tool.call",
		              json_pack("{s:i, s:s, s:s, s:I, s:b, s:o}", "round", round, "name",
		                        c->name, "arguments", c->args_text,
		                        "bytes", (json_int_t)result.len, "refused", refused, "result_blob",
		                        wd_ledger_blob_ref(r->ledger, wd_buf_cstr(&result))));
		rc = wd_outbound_tool_result(r->ob, &r->chat, c->id, wd_buf_cstr(&result));
		wd_buf_free(&result);
	}
	return rc;
}

/* Ask for the round's edit, answering read-only tool calls on the way. Once
 * the turns or calls are spent the tools are closed (tool_choice "none"); a
 * reply that still calls them sets *looped to the turns taken: the round has
 * no usable edit, and the conversation ends instead of going on forever. */
static int ask_model(struct run *r, int round, wd_model_reply *reply, int *looped,
                     size_t *at_once)
{
	wd_model_call call = WD_MODEL_CALL_INIT;
	int rc;

	call.stage = "patch";
	*looped = 0;
	*at_once = 0;
	for (int turn = 0;; turn++) {
		int closed = r->tool_defs &&
		             (turn >= r->tool_turns || wd_tools_calls_left(r->tools) == 0);

		call.tools = r->tool_defs;
		if (closed)
			call.tool_choice = "none";
		wd_model_reply_free(reply);
		memset(reply, 0, sizeof(*reply));
		if ((rc = wd_model_complete_ex(reply, r->model, &r->chat, &call)) != 0)
			return rc;
		wd_ledger_add(r->ledger, "model.call",
		              json_pack("{s:i, s:s?, s:s?, s:I, s:I, s:I, s:o, s:I, s:i, s:s, s:o, s:o, s:o}",
		                        "round", round, "spec", reply->spec, "model", reply->model,
		                        "input_tokens", (json_int_t)reply->usage.input_tokens,
		                        "output_tokens", (json_int_t)reply->usage.output_tokens,
		                        "cached_tokens", (json_int_t)reply->usage.cached_tokens,
		                        "cost_usd", wd_json_usd(reply->usage.cost_usd),
		                        "ms", (json_int_t)reply->latency_ms, "attempts", reply->attempts,
		                        "request_hash", reply->prompt_hash, "messages",
		                        wd_run_chat_blobs(r->ledger, &r->chat), "reply_blob",
		                        wd_ledger_blob_ref(r->ledger, reply->text ? reply->text : ""),
		                        "tool_calls", reply->ntool_calls
		                                      ? wd_tool_calls_json(reply->tool_calls,
		                                                           reply->ntool_calls)
		                                      : json_null()));
		if (!reply->ntool_calls || !r->tools)
			return 0;
		/* thousands of calls in one reply would each be answered, in the chat
		 * and the ledger, before any cap could bite */
		if (reply->ntool_calls > WD_RUN_CALLS_PER_REPLY)
			*at_once = reply->ntool_calls;
		if (closed || *at_once) {
			*looped = turn + 1;
			return 0;
		}
		if ((rc = wd_chat_add_tool_calls(&r->chat, reply->text, reply->tool_calls,
		                                 reply->ntool_calls)) != 0 ||
		    (rc = answer_tool_calls(r, round, reply)) != 0)
			return rc;
	}
}

static void update_usage(struct run *r)
{
	wd_model_stats st;

	wd_model_totals(&st, r->model);
	r->res->input_tokens = st.usage.input_tokens;
	r->res->output_tokens = st.usage.output_tokens;
	r->res->cost_usd = st.usage.cost_usd;
}

/* After a patch applied: symbol scope and syntax, before any check runs. */
static int pre_check_gates(struct run *r, const wd_patch_report *rep, wd_buf *reasons)
{
	int rc = wd_run_symbol_scope(reasons, r->ws, r->ticket, &rep->tree, &rep->files);

	if (rc)
		return rc;
	return wd_run_syntax_gate(reasons, r->ws, &rep->tree, &rep->files);
}

struct tree_source {
	git_repository *repo;
	const git_oid *tree;
};

/* The repair summary's code lines come from the patched tree's objects,
 * never from the tree a check has written. */
static int read_from_tree(void *ctx, const char *path, wd_buf *out)
{
	const struct tree_source *ts = ctx;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int rc = -1;

	if (git_tree_lookup(&tree, ts->repo, ts->tree) == 0 &&
	    git_tree_entry_bypath(&e, tree, path) == 0 &&
	    git_tree_entry_filemode(e) != GIT_FILEMODE_LINK &&
	    git_blob_lookup(&blob, ts->repo, git_tree_entry_id(e)) == 0)
		rc = wd_buf_put(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_error_clear();
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	return rc;
}

/* Judge the patched run against the baseline (SWE-bench's rule, diff-aware
 * analysis). Fills *passed, the repair summary or the trailer. */
static int judge(struct run *r, const wd_gate_result *gate, const git_oid *tree,
                 int *passed, wd_buf *summary)
{
	wd_buf diff = WD_BUF_INIT;
	wd_touched touched;
	wd_verdict v;
	int rc;

	memset(&touched, 0, sizeof(touched));
	memset(&v, 0, sizeof(v));
	if ((rc = wd_repo_diff_trees(&diff, r->ws, tree)) != 0 ||
	    (rc = wd_touched_from_diff(&touched, wd_buf_cstr(&diff), diff.len)) != 0 ||
	    (rc = wd_gate_verdict(&v, r->have_baseline ? &r->baseline : NULL, gate,
	                          (const char *const *)wd_ticket_fail_to_pass(r->ticket)->v,
	                          &touched)) != 0)
		goto out;
	/* the pass/fail rule is the gate's (wd_gate_verdict): accepted is it */
	*passed = v.accepted;
	wd_ledger_add(r->ledger, "verdict",
	              json_pack("{s:i, s:b, s:I, s:I, s:I, s:I, s:b, s:o}", "round", r->res->rounds,
	                        "verdict_passed", v.passed,
	                        "regressed", (json_int_t)v.counts[WD_CLASS_REGRESSED],
	                        "fixed", (json_int_t)v.counts[WD_CLASS_FIXED],
	                        "new_findings", (json_int_t)v.new_findings.n,
	                        "f2p_unmet", (json_int_t)v.f2p_unmet.n, "gate_passed", *passed,
	                        "diff_blob", wd_ledger_blob_ref(r->ledger, wd_buf_cstr(&diff))));
	if (*passed)
		rc = wd_verdict_trailer(&r->trailer, &v, gate);
	else if (!v.passed) {
		struct tree_source ts = { wd_workspace_repo(r->ws), tree };
		wd_gate_source src = { read_from_tree, &ts };

		rc = wd_gate_repair_summary(summary, &v, gate, &src, FAILURE_SUMMARY_MAX);
	}
	else
		rc = wd_gate_summary(summary, gate, r->have_baseline ? &r->baseline : NULL,
		                     FAILURE_SUMMARY_MAX);
out:
	wd_verdict_free(&v);
	wd_touched_free(&touched);
	wd_buf_free(&diff);
	return rc;
}

/* Ask, parse, apply, check: one round. Returns 0 with *passed set, or a
 * negative error that ends the run. `feedback` receives what goes back to
 * the model when the round did not pass. */
static int run_round(struct run *r, int round, int *passed, wd_buf *feedback)
{
	wd_model_reply reply = { 0 };
	wd_patch *patch = NULL;
	wd_patch_report rep = { 0 };
	wd_patch_policy pol = WD_PATCH_POLICY_INIT;
	wd_gate_result gate = { 0 };
	wd_buf reasons = WD_BUF_INIT;
	wd_gate_opts go;
	const char *workdir = NULL;
	char msg[256];
	int rc, in_world = 0, looped = 0;
	size_t at_once = 0;

	*passed = 0;
	wd_buf_clear(feedback);
	stage_begin(r, "model", r->model_spec);
	rc = ask_model(r, round, &reply, &looped, &at_once);
	update_usage(r);
	if (rc)
		goto out;
	snprintf(msg, sizeof(msg), "%lld in / %lld out tokens", (long long)reply.usage.input_tokens,
	         (long long)reply.usage.output_tokens);
	stage_end(r, "model", msg);
	if ((rc = wd_outbound_chat_add(r->ob, &r->chat, WD_ROLE_ASSISTANT, reply.text, "reply")) != 0)
		goto out;
	/* the model may hand the ticket back: a question for a person, no edit */
	if ((rc = wd_run_reply_escalation(&reasons, reply.text)) == 1) {
		escalate(r, "reply", wd_buf_cstr(&reasons));
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;

	stage_begin(r, "patch", NULL);
	if (looped) {
		rc = wd_run_loop_alert(feedback, r->ledger, round, looped, at_once, r->edit_format);
		stage_end(r, "patch", "no usable edit in the reply (it kept calling tools)");
		goto out;
	}
	if (wd_model_reply_incomplete(&reply)) {
		rc = wd_run_truncated_reply(feedback, r->ledger, round, &reply, r->edit_format);
		wd_run_reason_text(&r->why, round, "no usable edit: the reply was incomplete",
		                   wd_model_reply_incomplete(&reply));
		stage_end(r, "patch", "no usable edit: the reply was incomplete");
		goto out;
	}
	rc = wd_patch_parse(&patch, reply.text ? reply.text : "", reply.text ? strlen(reply.text) : 0);
	if (rc == WD_ENOTFOUND || rc == WD_EINPUT) {
		rc = wd_run_render_no_patch(feedback, round, rc == WD_ENOTFOUND
		        ? "The reply contained no edit."
		        : wd_error_last(), r->edit_format);
		wd_run_reason_text(&r->why, round, "no usable edit in the reply", wd_error_last());
		wd_ledger_add(r->ledger, "patch.none", json_pack("{s:i, s:s}", "round", round,
		                                                 "reason", wd_error_last()));
		stage_end(r, "patch", "no usable edit in the reply");
		goto out;
	}
	if (rc)
		goto out;
	if (wd_strvec_contains(&r->patch_hashes, wd_patch_hash(patch))) {
		rc = wd_error_set(WD_EREFUSED, "round %d repeated an earlier patch; stopping", round);
		wd_ledger_add(r->ledger, "patch.repeat", json_pack("{s:i, s:s}", "round", round,
		                                                   "hash", wd_patch_hash(patch)));
		stage_end(r, "patch", "the same patch as an earlier round");
		goto out;
	}
	if ((rc = wd_strvec_push(&r->patch_hashes, wd_patch_hash(patch))) != 0)
		goto out;
	pol.scope = wd_ticket_scope(r->ticket)->n ? (const char *const *)wd_ticket_scope(r->ticket)->v
	                                          : NULL;
	pol.max_whole_bytes = wd_run_max_whole_file(r->cfg);
	/* on the base commit's objects: no file a check wrote is read */
	rc = wd_patch_apply_tree(&rep, wd_workspace_repo(r->ws), wd_workspace_base(r->ws), patch, &pol);
	wd_ledger_add(r->ledger, "patch.apply",
	              json_pack("{s:i, s:b, s:s, s:O}", "round", round, "applied", rc == 0,
	                        "hash", wd_patch_hash(patch), "report",
	                        rep.json ? rep.json : json_null()));
	if (rc == WD_EREFUSED) {
		wd_run_reason_patch(&r->why, round, &rep);
		rc = wd_run_render_repair(feedback, round, wd_buf_cstr(&rep.reasons), r->edit_format);
		stage_end(r, "patch", "refused");
		goto out;
	}
	if (rc)
		goto out;
	if ((rc = pre_check_gates(r, &rep, &reasons)) == WD_EREFUSED) {
		wd_run_reason_text(&r->why, round, "patch refused", wd_buf_cstr(&reasons));
		wd_ledger_add(r->ledger, "patch.gate", json_pack("{s:i, s:s}", "round", round,
		                                                 "reasons", wd_buf_cstr(&reasons)));
		rc = wd_run_render_repair(feedback, round, wd_buf_cstr(&reasons), r->edit_format);
		stage_end(r, "patch", "refused by the syntax or symbol gate");
		goto out;
	}
	if (rc)
		goto out;
	snprintf(msg, sizeof(msg), "applied to %zu file(s)", rep.files.n);
	stage_end(r, "patch", msg);

	go = gate_opts(r);
	if ((rc = wd_world_round_begin(&r->world, round, &rep, &go, &workdir)) != 0)
		goto out;
	in_world = 1;
	if ((rc = run_gate(r, &gate, "checks", workdir, &go)) != 0)
		goto out;
	wd_buf_clear(&r->trailer);
	if ((rc = judge(r, &gate, &rep.tree, passed, &reasons)) != 0)
		goto out;
	if (!*passed) {
		wd_run_reason_checks(&r->why, round, &gate, r->have_baseline ? &r->baseline : NULL);
		rc = wd_run_render_repair(feedback, round, wd_buf_cstr(&reasons), r->edit_format);
		if (!rc)
			rc = wd_run_repair_context(feedback, r->ledger, round, wd_workspace_checkout(r->ws),
			                           wd_buf_cstr(&reasons), r->cache.ptr,
			                           (const char *const *)r->ctx_files.v,
			                           (const char *const *)r->ctx_exclude.v);
		goto out;
	}
	r->tree = rep.tree;
	wd_strvec_free(&r->files);
	for (size_t i = 0; i < rep.files.n && !rc; i++)
		rc = wd_strvec_push(&r->files, rep.files.v[i]);
	if (rc)
		goto out;
	wd_run_model_summary(&r->summary, reply.text ? reply.text : "");
	r->evidence = wd_run_evidence_json(&gate);
out:
	if (in_world && !r->opts->keep_worktree) {
		int erc = wd_world_round_end(&r->world);

		if (!rc)
			rc = erc;
	}
	wd_buf_free(&reasons);
	wd_gate_result_free(&gate);
	wd_patch_report_free(&rep);
	wd_patch_free(patch);
	wd_model_reply_free(&reply);
	return rc;
}

static int repair_loop(struct run *r, int *passed)
{
	wd_buf feedback = WD_BUF_INIT, tried = WD_BUF_INIT;
	int rounds = r->opts->rounds;
	int rc = 0;

	if (rounds <= 0)
		rounds = wd_ticket_rounds(r->ticket);
	if (rounds <= 0) {
		long v;

		rc = wd_config_get_range(&v, r->cfg, "run.rounds", 1, MAX_ROUNDS);
		if (rc && rc != WD_ENOTFOUND)
			return rc;
		rounds = rc == 0 ? (int)v : DEFAULT_ROUNDS;
		rc = 0;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS)
		return wd_error_set(WD_EUSAGE, "rounds must be between 1 and %d (got %d)", MAX_ROUNDS,
		                    rounds);
	*passed = 0;
	for (int round = 1; round <= rounds && !*passed; round++) {
		r->res->rounds = round;
		wd_ledger_add(r->ledger, "round", json_pack("{s:i, s:i}", "round", round, "of", rounds));
		wd_buf_clear(&r->why);
		if ((rc = stop_if_interrupted()) != 0)
			break;
		rc = run_round(r, round, passed, &feedback);
		if (stop_if_interrupted()) {
			rc = stop_if_interrupted();
			break;
		}
		if (!rc || rc == WD_EREFUSED)
			wd_ledger_add(r->ledger, "round.end",
			              json_pack("{s:i, s:b, s:s, s:o}", "round", round, "passed", *passed,
			                        "reason", rc ? wd_error_last() : wd_buf_cstr(&r->why),
			                        "feedback_blob", feedback.len ? wd_ledger_blob_ref(
			                        r->ledger, wd_buf_cstr(&feedback)) : json_null()));
		if (!rc && r->res->status == WD_RUN_ESCALATED)
			break;
		if (rc == WD_EREFUSED) {
			/* a repeated patch ends the loop, it is not an error of the run */
			free(r->res->reason);
			r->res->reason = wd_strdup(wd_error_last());
			rc = 0;
			break;
		}
		if (rc)
			break;
		if (*passed)
			break;
		free(r->res->reason);
		r->res->reason = wd_strdup(r->why.len ? wd_buf_cstr(&r->why) : wd_buf_cstr(&feedback));
		if ((rc = wd_run_note_round(&tried, round, wd_buf_cstr(&feedback))) != 0 ||
		    (rc = wd_outbound_chat_add(r->ob, &r->chat, WD_ROLE_USER, wd_buf_cstr(&feedback),
		                               "repair")) != 0)
			break;
	}
	/* out of rounds or budget after more than one round: say what each
	 * tried, so a person can take over (one round's reason says it all) */
	if (!*passed && tried.len && r->res->rounds > 1 && r->res->status != WD_RUN_ESCALATED) {
		if (rc == WD_EBUDGET) {
			char *last = wd_strdup(wd_error_last());

			rc = wd_error_set(WD_EBUDGET, "%s\nwhat was tried:\n%s", last ? last : "",
			                  tried.ptr);
			free(last);
		} else if (!rc && r->res->reason) {
			wd_buf all = WD_BUF_INIT;

			if (wd_buf_printf(&all, "%s\n\nwhat was tried:\n%s", r->res->reason, tried.ptr) == 0) {
				free(r->res->reason);
				r->res->reason = wd_buf_detach(&all);
			}
			wd_buf_free(&all);
		}
	}
	wd_buf_free(&tried);
	wd_buf_free(&feedback);
	return rc;
}

static int commit_and_publish(struct run *r)
{
	wd_buf msg = WD_BUF_INIT, holder = WD_BUF_INIT;
	git_oid commit;
	char hex[GIT_OID_HEXSZ + 1];
	char *name = NULL, *email = NULL, *evidence = NULL;
	int rc;

	stage_begin(r, "commit", NULL);
	if ((rc = wd_run_commit_message(&msg, r->ticket, wd_buf_cstr(&r->summary),
	                                r->res->run_id, r->model_spec,
	                                wd_buf_cstr(&r->trailer))) != 0)
		goto out;
	wd_config_get_string_trusted(&name, r->cfg, "user.name");
	wd_config_get_string_trusted(&email, r->cfg, "user.email");
	/* the tree is the base plus the patch that passed, checked once more */
	rc = wd_repo_commit(&commit, r->ws, &r->tree, msg.ptr, name, email,
	                    (const char *const *)r->files.v);
	if (rc == WD_EINTEGRITY)
		wd_ledger_add(r->ledger, "integrity",
		              json_pack("{s:s}", "reason", wd_error_last()));
	if (rc)
		goto out;
	wd_repo_oid_hex(hex, &commit);
	memcpy(r->res->commit, hex, sizeof(r->res->commit));
	stage_end(r, "commit", hex);
	if (r->opts->no_publish)
		goto out;

	stage_begin(r, "publish", NULL);
	if ((rc = wd_repo_publish(&holder, r->ws)) != 0)
		goto out;
	r->res->repo = wd_buf_detach(&holder);
	if (!r->res->repo) {
		rc = WD_ENOMEM;
		goto out;
	}
	evidence = r->evidence ? json_dumps(r->evidence, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if ((rc = wd_run_add_evidence(r->res->repo, hex, r->evidence)) != 0 ||
	    (rc = wd_run_save_proposal(r->cache.ptr, r->res, r->ticket, r->model_spec,
	                               wd_buf_cstr(&r->trailer), evidence, r->ws)) != 0) {
		wd_run_unpublish(r->res->repo, wd_workspace_mirror_path(r->ws), r->res->branch, hex,
		                 r->ledger);
		goto out;
	}
	wd_ledger_add(r->ledger, "proposal",
	              json_pack("{s:s, s:s, s:s, s:s}", "repo", r->res->repo, "branch",
	                        r->res->branch, "commit", hex, "checks",
	                        wd_buf_cstr(&r->trailer)));
	stage_end(r, "publish", r->res->repo);
out:
	free(name);
	free(email);
	free(evidence);
	wd_buf_free(&msg);
	wd_buf_free(&holder);
	return rc;
}

static int start_chat(struct run *r)
{
	wd_buf sys = WD_BUF_INIT, task = WD_BUF_INIT;
	char sys_hash[41], task_hash[41];
	wd_strvec used = WD_STRVEC_INIT;
	int rc;

	if ((rc = wd_run_edit_format(&r->edit_format, r->model_spec, r->cfg)) != 0 ||
	    (rc = wd_run_render_system(&sys, r->ticket, r->edit_format, sys_hash)) != 0 ||
	    (rc = wd_run_render_task(&task, &used, r->ticket, r->ctx, &r->checks, r->cache.ptr,
	                             task_hash)) != 0)
		goto out;
	if (used.n) {
		json_t *ids = json_array();

		for (size_t i = 0; ids && i < used.n; i++)
			json_array_append_new(ids, json_string(used.v[i]));
		wd_ledger_add(r->ledger, "feedback.used",
		              json_pack("{s:s, s:o*}", "identity", wd_ticket_identity(r->ticket),
		                        "proposals", ids));
	}
	if ((rc = wd_outbound_chat_add(r->ob, &r->chat, WD_ROLE_SYSTEM, sys.ptr, "system")) != 0 ||
	    (rc = wd_outbound_chat_add(r->ob, &r->chat, WD_ROLE_USER, task.ptr, "task")) != 0)
		goto out;
	wd_ledger_add(r->ledger, "prompt",
	              json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "dir", wd_prompt_dir() ? wd_prompt_dir() : "", "system_hash",
	                        sys_hash, "task_hash", task_hash, "bytes",
	                        (json_int_t)(sys.len + task.len), "system_blob",
	                        wd_ledger_blob_ref(r->ledger, sys.ptr), "task_blob",
	                        wd_ledger_blob_ref(r->ledger, task.ptr)));
out:
	wd_strvec_free(&used);
	wd_buf_free(&sys);
	wd_buf_free(&task);
	return rc;
}

static int run_all(struct run *r)
{
	int passed = 0;
	int rc;

	if (r->opts->work_dir && *r->opts->work_dir)
		rc = wd_buf_sets(&r->cache, r->opts->work_dir);
	else
		rc = wd_cache_dir(&r->cache);
	if (rc || (rc = wd_mkdir_p(r->cache.ptr, 1)) != 0)
		return rc;
	{
		/* absolute from here on: the checks see paths under it */
		char *abs = wd_realpath(r->cache.ptr);

		if (!abs)
			return wd_error_last_code() ? wd_error_last_code() : WD_EINFRA;
		rc = wd_buf_sets(&r->cache, abs);
		free(abs);
		if (rc)
			return rc;
	}
	if (!(r->res->cache_dir = wd_strdup(r->cache.ptr)))
		return WD_ENOMEM;
	if ((rc = open_ledger(r)) != 0)
		return rc;
	wd_ledger_add(r->ledger, "run.start",
	              json_pack("{s:s, s:s, s:s?, s:s?, s:o}", "repo", r->opts->repo, "ticket",
	                        r->opts->ticket, "base", r->opts->base, "model", r->opts->model,
	                        "process", wd_ledger_process_json()));
	if ((rc = load_ticket(r)) != 0 ||
	    (rc = wd_config_open(&r->cfg, NULL)) != 0 ||
	    (rc = register_redactions(r)) != 0 ||
	    (rc = resolve_sandbox_policy(r)) != 0 ||
	    (rc = open_model(r)) != 0 ||
	    (rc = prepare_repo(r)) != 0 ||
	    (rc = sandbox_paths(r)) != 0 ||
	    (rc = collect_checks(r)) != 0 ||
	    (rc = ticket_precheck(r)) != 0 || r->res->status == WD_RUN_ESCALATED ||
	    (rc = wd_run_open_outbound(&r->ob, r->cfg, r->model_spec, r->ws, r->ledger)) != 0 ||
	    (rc = build_context(r)) != 0 ||
	    (rc = start_chat(r)) != 0)
		return rc;
	if (r->opts->dry_run) {
		/* the first request as it would go, and nothing sent */
		r->res->dry_run = wd_run_dry_run_report(&r->chat, r->ctx, r->tool_defs, r->model_spec,
		                                        r->cfg, r->ob);
		if (!r->res->dry_run)
			return wd_error_set(WD_ENOMEM, "out of memory");
		r->res->status = WD_RUN_DRY_RUN;
		wd_ledger_add(r->ledger, "dry_run",
		              json_pack("{s:O, s:O}", "bytes", json_object_get(r->res->dry_run, "bytes"),
		                        "estimated_input_tokens",
		                        json_object_get(r->res->dry_run, "estimated_input_tokens")));
		return 0;
	}
	if ((rc = run_baseline(r)) != 0 || (rc = baseline_precheck(r)) != 0 ||
	    r->res->status == WD_RUN_ESCALATED)
		return rc;
	r->have_baseline = 1;
	if ((rc = repair_loop(r, &passed)) != 0 || r->res->status == WD_RUN_ESCALATED)
		return rc;
	if (!passed) {
		r->res->status = WD_RUN_NO_PATCH;
		if (!r->res->reason)
			r->res->reason = wd_strdup("no round produced a patch that passes every check");
		return 0;
	}
	if ((rc = stop_if_interrupted()) != 0 || (rc = commit_and_publish(r)) != 0)
		return rc;
	r->res->status = WD_RUN_PROPOSED;
	free(r->res->reason);
	r->res->reason = NULL;
	return 0;
}

int wd_run(wd_run_result *out, const wd_run_opts *opts)
{
	struct run r;
	uint64_t t0 = wd_now_ms();
	const char *lmsg = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	out->status = WD_RUN_ERROR;
	/* as libgit2 does: options built for another layout are refused, not misread */
	if (!opts || opts->version != WD_RUN_OPTS_VERSION)
		return out->error = wd_error_set(WD_EUSAGE, "wd_run_opts version %u, expected %u "
		                                 "(initialise with WD_RUN_OPTS_INIT)",
		                                 opts ? opts->version : 0u, WD_RUN_OPTS_VERSION);
	r.opts = opts;
	r.res = out;
	out->stages = json_array();
	if (!out->stages)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (!opts->repo || !*opts->repo)
		return out->error = wd_error_set(WD_EUSAGE, "--repo is required");
	if (!opts->ticket || !*opts->ticket)
		return out->error = wd_error_set(WD_EUSAGE, "--ticket is required");
	if ((rc = wd_random_hex(out->run_id, 4)) != 0)
		return out->error = rc;
	wd_redact_register_env();

	rc = run_all(&r);
	if (!rc && wd_ledger_error(r.ledger, &lmsg))
		rc = wd_error_set(wd_ledger_error(r.ledger, NULL), "%s", lmsg);
	if (rc) {
		out->status = WD_RUN_ERROR;
		out->error = rc;
		free(out->reason);
		out->reason = wd_strdup(wd_error_last());
	}
	if (out->status != WD_RUN_PROPOSED && stop_if_interrupted()) {
		/* whatever failed on the way out failed because of the signal */
		rc = out->error = stop_if_interrupted();
		out->status = WD_RUN_INTERRUPTED;
		free(out->reason);
		out->reason = wd_strdup(wd_error_last());
	}
	if (r.have_world && opts->keep_worktree) {
		wd_gate_opts go = gate_opts(&r);

		if (wd_world_keep(&r.world, &go, &out->workdir) != 0)
			wd_ledger_add(r.ledger, "keep.failed",
			              json_pack("{s:s}", "reason", wd_error_last()));
	}
	wd_run_record_alerts(r.ledger, out, r.cfg);
	wd_run_end_event(r.ledger, out, wd_now_ms() - t0);
	if (!rc && wd_ledger_error(r.ledger, &lmsg)) {
		/* the ledger could not be written: the run cannot explain itself */
		rc = wd_error_set(wd_ledger_error(r.ledger, NULL), "%s", lmsg);
		out->status = WD_RUN_ERROR;
		out->error = rc;
		free(out->reason);
		out->reason = wd_strdup(lmsg);
	}

	if (r.have_world)
		wd_world_free(&r.world);
	if (r.ws && !opts->keep_worktree)
		wd_workspace_remove(r.ws);
	if (rc)
		wd_error_set(rc, "%s", out->reason ? out->reason : "run failed");
	wd_ledger_close(r.ledger);
	wd_workspace_free(r.ws);
	wd_context_free(r.ctx);
	wd_strvec_free(&r.ctx_files);
	wd_strvec_free(&r.ctx_exclude);
	wd_model_free(r.model);
	wd_outbound_free(r.ob);
	wd_tools_free(r.tools);
	json_decref(r.tool_defs);
	wd_chat_free(&r.chat);
	wd_checklist_free(&r.checks);
	wd_gate_result_free(&r.baseline);
	wd_strvec_free(&r.patch_hashes);
	wd_strvec_free(&r.deny);
	wd_strvec_free(&r.allow);
	wd_strvec_free(&r.files);
	wd_config_free(r.cfg);
	wd_ticket_free(r.ticket);
	wd_buf_free(&r.cache);
	wd_buf_free(&r.summary);
	wd_buf_free(&r.trailer);
	wd_buf_free(&r.why);
	json_decref(r.evidence);
	free(r.model_spec);
	return rc;
}
