/*
 * One instance: a ticket made from the problem statement, the test patch
 * applied to the base, the normal run (context, gate, sandbox, budgets,
 * ledger), and the grade of the last checks the run made.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/eval.h"
#include "warden/fs.h"
#include "warden/gate.h"
#include "warden/json.h"
#include "warden/run.h"

/* What the run's checks told us, gathered through its on_checks hook. */
struct watch {
	const wd_eval_instance *inst;
	int base_invalid;      /* the base failed validation: the instance is broken */
	char *base_reason;
	int graded;            /* a round's checks ran */
	wd_eval_grade grade;
	uint64_t build_ms, test_ms;
	uint64_t grade_ms;     /* checks of the patched trees (the grading runs) */
};

static int on_checks(void *payload, const char *what, const struct wd_gate_result *g)
{
	struct watch *w = payload;
	uint64_t ms = 0;

	for (size_t i = 0; i < g->n; i++) {
		if (g->v[i].from_cache)
			continue;
		ms += g->v[i].wall_ms;
		if (g->v[i].check->kind == WD_CHECK_BUILD)
			w->build_ms += g->v[i].wall_ms;
		else
			w->test_ms += g->v[i].wall_ms;
	}
	if (!strcmp(what, "baseline")) {
		int rc = wd_eval_validate_base(w->inst, g);

		if (rc) {
			w->base_invalid = 1;
			free(w->base_reason);
			w->base_reason = wd_strdup(wd_error_last());
		}
		return rc;
	}
	w->grade_ms += ms;
	w->graded = 1;
	return wd_eval_grade_checks(&w->grade, w->inst, g);
}

/* A file name for the instance: a hash, never the untrusted id itself, and
 * the pid of the process running it. */
static int instance_dir(wd_buf *out, const char *work, const wd_eval_instance *inst,
                        const wd_eval_dataset *ds, pid_t pid)
{
	wd_buf key = WD_BUF_INIT;
	char hex[41];
	int rc;

	if ((rc = wd_buf_printf(&key, "%s\n%s", ds->sha1, inst->id)) == 0 &&
	    (rc = wd_hash_hex(hex, key.ptr, key.len)) == 0)
		rc = wd_buf_printf(out, "%s/eval/%.16s-%d", work, hex, (int)pid);
	wd_buf_free(&key);
	return rc;
}

int wd_eval_instance_cleanup(const wd_eval_instance *inst, const wd_eval_dataset *ds,
                             const wd_eval_opts *opts, pid_t pid)
{
	wd_buf cache = WD_BUF_INIT, dir = WD_BUF_INIT;
	int rc;

	if (opts->work_dir && *opts->work_dir)
		rc = wd_buf_sets(&cache, opts->work_dir);
	else
		rc = wd_cache_dir(&cache);
	if (!rc && (rc = instance_dir(&dir, cache.ptr, inst, ds, pid)) == 0)
		rc = wd_rm_rf(dir.ptr);
	wd_buf_free(&cache);
	wd_buf_free(&dir);
	return rc;
}

static int write_json(const char *path, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	int rc;

	json_decref(o);
	if (!s)
		return wd_error_set(WD_ENOMEM, "out of memory");
	rc = wd_file_write_atomic(path, s, strlen(s), 0600);
	free(s);
	return rc;
}

static int write_ticket(const char *path, const wd_eval_instance *inst)
{
	json_t *t = json_pack("{s:s, s:s, s:o, s:o}", "title", inst->id, "body", inst->problem,
	                      "scope", wd_json_strvec(&inst->scope),
	                      "fail_to_pass", wd_json_strvec(&inst->f2p));

	if (!t)
		return wd_error_set(WD_ENOMEM, "out of memory");
	return write_json(path, t);
}

/* The oracle answers once, with the gold patch. */
static int write_oracle(const char *path, const wd_eval_instance *inst)
{
	wd_buf content = WD_BUF_INIT;
	json_t *line;
	int rc;

	if (!inst->patch || !*inst->patch)
		return wd_error_set(WD_EINPUT, "the oracle needs the instance's gold \"patch\"");
	if ((rc = wd_buf_printf(&content, "```diff\n%s%s```\n", inst->patch,
	                        inst->patch[strlen(inst->patch) - 1] == '\n' ? "" : "\n")) != 0)
		return rc;
	line = json_pack("{s:{s:s, s:s}}", "reply", "content", content.ptr, "model", "oracle");
	wd_buf_free(&content);
	if (!line)
		return wd_error_set(WD_ENOMEM, "out of memory");
	return write_json(path, line);
}

static int safe_file_name(const char *s)
{
	return *s && s[0] != '.' && strlen(s) < 200 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       strlen(s);
}

/* The spec the run gets: the oracle's replay file, a replay directory's
 * file for this instance, or the spec as given. */
static int model_spec(wd_buf *out, const char *dir, const wd_eval_instance *inst,
                      const char *model)
{
	int rc;

	if (!strcmp(model, "oracle")) {
		if ((rc = wd_buf_printf(out, "%s/oracle.jsonl", dir)) != 0 ||
		    (rc = write_oracle(out->ptr, inst)) != 0)
			return rc;
		wd_buf_clear(out);
		return wd_buf_printf(out, "replay:%s/oracle.jsonl", dir);
	}
	if (!strncmp(model, "replay:", 7) && wd_path_is_dir(model + 7)) {
		if (!safe_file_name(inst->id))
			return wd_error_set(WD_EINPUT, "instance_id '%s' cannot name a file in the replay "
			                    "directory", inst->id);
		return wd_buf_printf(out, "%s/%s.jsonl", model, inst->id);
	}
	return wd_buf_sets(out, model);
}

static int add_checks(wd_strvec *checks, const wd_eval_instance *inst)
{
	wd_buf spec = WD_BUF_INIT;
	int rc = 0;

	if (inst->build && ((rc = wd_buf_printf(&spec, "build: %s", inst->build)) != 0 ||
	                    (rc = wd_strvec_push(checks, spec.ptr)) != 0))
		goto out;
	wd_buf_clear(&spec);
	if ((rc = wd_buf_printf(&spec, "test: %s", inst->test)) == 0)
		rc = wd_strvec_push(checks, spec.ptr);
out:
	wd_buf_free(&spec);
	return rc;
}

static const char *run_status_name(wd_run_status s)
{
	return s == WD_RUN_PROPOSED ? "proposed" : s == WD_RUN_NO_PATCH ? "no_patch" : "error";
}

static json_t *stage_ms(const json_t *stages, const char *name)
{
	json_int_t ms = 0;
	size_t i;
	const json_t *s;

	json_array_foreach(stages, i, s)
		if (!strcmp(json_string_value(json_object_get(s, "stage")) ?
		            json_string_value(json_object_get(s, "stage")) : "", name))
			ms += json_integer_value(json_object_get(s, "ms"));
	return json_integer(ms);
}

static json_t *result_json(const wd_eval_instance *inst, const wd_eval_dataset *ds,
                           const wd_eval_opts *opts, const wd_run_result *rr,
                           const struct watch *w, wd_eval_status st, const char *reason,
                           uint64_t wall_ms)
{
	json_t *o = json_object();
	json_t *time = json_object();
	const json_t *stages = rr ? rr->stages : NULL;

	if (!o || !time) {
		json_decref(o);
		json_decref(time);
		return NULL;
	}
	json_object_set_new(time, "prepare", stage_ms(stages, "prepare"));
	json_object_set_new(time, "context", stage_ms(stages, "context"));
	json_object_set_new(time, "baseline", stage_ms(stages, "baseline"));
	json_object_set_new(time, "model", stage_ms(stages, "model"));
	json_object_set_new(time, "grading", json_integer((json_int_t)w->grade_ms));
	json_object_set_new(time, "build", json_integer((json_int_t)w->build_ms));
	json_object_set_new(time, "tests", json_integer((json_int_t)w->test_ms));
	json_object_set_new(o, "instance_id", json_string(inst->id));
	json_object_set_new(o, "status", json_string(wd_eval_status_name(st)));
	json_object_set_new(o, "reason", reason ? json_string(reason) : json_null());
	json_object_set_new(o, "model", json_string(opts->model));
	json_object_set_new(o, "base_commit", json_string(inst->base_commit));
	json_object_set_new(o, "run_status", json_string(rr ? run_status_name(rr->status) : "error"));
	json_object_set_new(o, "run_id", rr && rr->run_id[0] ? json_string(rr->run_id) : json_null());
	json_object_set_new(o, "rounds", json_integer(rr ? rr->rounds : 0));
	json_object_set_new(o, "input_tokens", json_integer(rr ? (json_int_t)rr->input_tokens : 0));
	json_object_set_new(o, "output_tokens", json_integer(rr ? (json_int_t)rr->output_tokens : 0));
	json_object_set_new(o, "cost_usd", json_real(rr ? rr->cost_usd : 0.0));
	json_object_set_new(o, "wall_ms", json_integer((json_int_t)wall_ms));
	json_object_set_new(o, "FAIL_TO_PASS", json_pack("{s:I, s:I}", "passed",
	                    (json_int_t)w->grade.f2p_passed, "total", (json_int_t)inst->f2p.n));
	json_object_set_new(o, "PASS_TO_PASS", json_pack("{s:I, s:I}", "passed",
	                    (json_int_t)w->grade.p2p_passed, "total", (json_int_t)inst->p2p.n));
	json_object_set_new(o, "failing", wd_json_strvec(&w->grade.failing));
	json_object_set_new(o, "time_ms", time);
	json_object_set_new(o, "ledger", rr && rr->ledger ? json_string(rr->ledger) : json_null());
	json_object_set_new(o, "dataset", json_string(ds->sha1));
	json_object_set_new(o, "dataset_size", json_integer((json_int_t)ds->n));
	json_object_set_new(o, "index", json_integer((json_int_t)inst->index));
	json_object_set_new(o, "shard", json_string(opts->shard ? opts->shard : "1/1"));
	json_object_set_new(o, "shard_size", json_integer((json_int_t)(opts->shard_size ?
	                                                   opts->shard_size : ds->n)));
	return o;
}

/* "not passing: a, b" (a short reason; the run's ledger has the details). */
static char *not_passing(const wd_strvec *failing)
{
	wd_buf b = WD_BUF_INIT;

	if (wd_buf_puts(&b, "not passing: ") || wd_strvec_join(&b, failing, ", ", 2000)) {
		wd_buf_free(&b);
		return NULL;
	}
	return wd_buf_detach(&b);
}

static void fill_run_opts(wd_run_opts *ro, const wd_eval_opts *opts, const wd_eval_instance *inst)
{
	ro->repo = inst->repo;
	ro->base = inst->base_commit;
	ro->base_patch = inst->test_patch && *inst->test_patch ? inst->test_patch : NULL;
	ro->work_dir = opts->work_dir;
	ro->rounds = opts->rounds > 0 ? opts->rounds : !strcmp(opts->model, "oracle") ? 1 : 0;
	ro->check_timeout_sec = opts->check_timeout_sec;
	ro->sandbox_policy = opts->sandbox_policy;
	ro->max_cost_usd = opts->max_cost_usd;
	ro->check_memory_mb = opts->check_memory_mb;
	ro->no_publish = 1;
}

int wd_eval_run_instance(json_t **out, const wd_eval_instance *inst, const wd_eval_dataset *ds,
                         const wd_eval_opts *opts)
{
	wd_run_opts ro = WD_RUN_OPTS_INIT;
	wd_run_result rr;
	struct watch w;
	wd_buf cache = WD_BUF_INIT, dir = WD_BUF_INIT, ticket = WD_BUF_INIT, spec = WD_BUF_INIT;
	wd_strvec checks = WD_STRVEC_INIT;
	wd_eval_status st = WD_EVAL_ERROR;
	char *reason = NULL;
	uint64_t t0 = wd_now_ms();
	int rc, ran = 0;

	*out = NULL;
	memset(&rr, 0, sizeof(rr));
	memset(&w, 0, sizeof(w));
	w.inst = inst;
	wd_eval_grade_free(&w.grade);
	if (opts->work_dir && *opts->work_dir)
		rc = wd_buf_sets(&cache, opts->work_dir);
	else
		rc = wd_cache_dir(&cache);
	if (rc || (rc = instance_dir(&dir, cache.ptr, inst, ds, getpid())) != 0 ||
	    (rc = wd_mkdir_p(dir.ptr, 1)) != 0 ||
	    (rc = wd_buf_printf(&ticket, "%s/ticket.json", dir.ptr)) != 0 ||
	    (rc = write_ticket(ticket.ptr, inst)) != 0 ||
	    (rc = model_spec(&spec, dir.ptr, inst, opts->model)) != 0 ||
	    (rc = add_checks(&checks, inst)) != 0)
		goto graded;
	fill_run_opts(&ro, opts, inst);
	ro.ticket = ticket.ptr;
	ro.model = spec.ptr;
	ro.checks = (const char *const *)checks.v;
	ro.on_checks = on_checks;
	ro.payload = &w;
	rc = wd_run(&rr, &ro);
	ran = 1;
graded:
	if (w.base_invalid) {
		reason = wd_strdup(w.base_reason);
	} else if (rc || (ran && rr.status == WD_RUN_ERROR)) {
		reason = wd_strdup(ran && rr.reason ? rr.reason : wd_error_last());
	} else if (w.graded) {
		st = w.grade.status;
		if (st != WD_EVAL_RESOLVED)
			reason = not_passing(&w.grade.failing);
	} else {
		st = WD_EVAL_UNRESOLVED;
		reason = wd_strdup(rr.reason ? rr.reason : "no patch reached the checks");
	}
	*out = result_json(inst, ds, opts, ran ? &rr : NULL, &w, st, reason, wd_now_ms() - t0);
	rc = *out ? 0 : wd_error_set(WD_ENOMEM, "out of memory");
	if (dir.ptr)
		(void)wd_rm_rf(dir.ptr);
	free(reason);
	free(w.base_reason);
	wd_eval_grade_free(&w.grade);
	wd_run_result_free(&rr);
	wd_strvec_free(&checks);
	wd_buf_free(&cache);
	wd_buf_free(&dir);
	wd_buf_free(&ticket);
	wd_buf_free(&spec);
	return rc;
}
