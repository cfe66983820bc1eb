/* warden eval: run a dataset of tickets, grade it, merge shards, compare evals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "warden/cli.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/eval.h"
#include "warden/fs.h"
#include "warden/sandbox.h"

#define MAX_JOBS 256

static void eval_usage(FILE *f)
{
	fprintf(f,
	        "usage: warden eval DATASET.jsonl --model SPEC [--jobs N] [--shard I/N]\n"
	        "                   [--out RESULTS.jsonl] [--resume] [--json] [options]\n"
	        "       warden eval merge A.jsonl B.jsonl... [--out RESULTS.jsonl] [--json]\n"
	        "       warden eval compare A.jsonl B.jsonl [--json]\n"
	        "\n"
	        "Run every instance of a SWE-bench-shaped dataset through `warden run` (its base\n"
	        "commit plus test_patch, the problem statement as the ticket, the instance's build\n"
	        "and test commands as the checks) and grade it: resolved when every FAIL_TO_PASS\n"
	        "test passes and every PASS_TO_PASS test still passes, partial, unresolved, or\n"
	        "error when the instance itself is broken (the reason says why).\n"
	        "\n"
	        "  --model SPEC        any run spec; 'oracle' answers with the gold patch;\n"
	        "                      replay:DIR uses DIR/<instance_id>.jsonl per instance\n"
	        "                      (default: $WARDEN_MODEL, else model.default)\n"
	        "  --jobs N            instances at once, each in its own process and sandbox with\n"
	        "                      a share of the CPUs and memory (default 1; refused when a\n"
	        "                      share would be under 256 MiB)\n"
	        "  --shard I/N         only the I-th of N deterministic slices (a CI matrix)\n"
	        "  --out FILE          append each result as a JSON line (refused when FILE has\n"
	        "                      results, unless --resume)\n"
	        "  --resume            skip the instances FILE already has\n"
	        "  --json              print the summary and every result as one JSON object\n"
	        "  --rounds N, --check-timeout S, --sandbox strict|best-effort|off,\n"
	        "  --max-cost USD (per instance), --work-dir DIR   as for `warden run`\n"
	        "\n"
	        "merge combines the results of every shard of one dataset (refusing overlaps and\n"
	        "gaps); compare shows what changed between two evals, with McNemar's test.\n"
	        "\n"
	        "exit codes: 0 every instance graded, 1 some instance is an error, 2 usage or\n"
	        "input error (bad dataset, results or flags), 3 infrastructure error\n");
}

struct eval_cli {
	const char *out;
	json_t *results;      /* every result, resumed ones first */
	size_t done, total;
	int quiet;
};

static int on_result(void *payload, json_t *res)
{
	struct eval_cli *c = payload;
	const char *reason = json_string_value(json_object_get(res, "reason"));
	char *line = json_dumps(res, JSON_COMPACT);
	int rc = 0;

	if (!line)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (c->out)
		rc = wd_file_append(c->out, line, strlen(line), 1); /* adds the newline */
	free(line);
	if (rc)
		return rc;
	if (json_array_append(c->results, res))
		return wd_error_set(WD_ENOMEM, "out of memory");
	c->done++;
	fprintf(stderr, "[%zu/%zu] %s: %s%s%s\n", c->done, c->total,
	        json_string_value(json_object_get(res, "instance_id")),
	        json_string_value(json_object_get(res, "status")), reason ? ": " : "",
	        reason ? reason : "");
	return 0;
}

static void print_summary(FILE *f, const json_t *s)
{
	const json_t *ci = json_object_get(s, "ci95"), *wci = json_object_get(s, "ci95_well_formed");

	fprintf(f, "%lld instances: %lld resolved, %lld partial, %lld unresolved, %lld error\n",
	        json_integer_value(json_object_get(s, "instances")),
	        json_integer_value(json_object_get(s, "resolved")),
	        json_integer_value(json_object_get(s, "partial")),
	        json_integer_value(json_object_get(s, "unresolved")),
	        json_integer_value(json_object_get(s, "error")));
	fprintf(f, "resolution rate %.1f%% (95%% CI %.1f%%-%.1f%%); of well-formed instances "
	        "%.1f%% (95%% CI %.1f%%-%.1f%%)\n",
	        100 * json_real_value(json_object_get(s, "resolution_rate")),
	        100 * json_real_value(json_array_get(ci, 0)), 100 * json_real_value(json_array_get(ci, 1)),
	        100 * json_real_value(json_object_get(s, "resolution_rate_well_formed")),
	        100 * json_real_value(json_array_get(wci, 0)),
	        100 * json_real_value(json_array_get(wci, 1)));
	fprintf(f, "tokens %lld in / %lld out, cost $%.4f, wall %.1fs (sum over instances)\n",
	        json_integer_value(json_object_get(s, "input_tokens")),
	        json_integer_value(json_object_get(s, "output_tokens")),
	        json_real_value(json_object_get(s, "cost_usd")),
	        (double)json_integer_value(json_object_get(s, "wall_ms")) / 1000.0);
}

static void print_table(FILE *f, const json_t *items)
{
	size_t i;
	const json_t *o;

	fprintf(f, "%-40s %-10s %6s %10s %9s %8s\n", "instance", "status", "rounds", "tokens",
	        "cost", "wall");
	json_array_foreach(items, i, o) {
		const char *id = json_string_value(json_object_get(o, "instance_id"));

		fprintf(f, "%-40.40s %-10s %6lld %10lld %9.4f %7.1fs\n", id ? id : "?",
		        json_string_value(json_object_get(o, "status")),
		        json_integer_value(json_object_get(o, "rounds")),
		        json_integer_value(json_object_get(o, "input_tokens")) +
		        json_integer_value(json_object_get(o, "output_tokens")),
		        json_number_value(json_object_get(o, "cost_usd")),
		        (double)json_integer_value(json_object_get(o, "wall_ms")) / 1000.0);
	}
}

/* Print the results as the user asked; the exit code says whether any is an error. */
static int report(const json_t *items, int as_json)
{
	json_t *sum = wd_eval_summary(items);
	int code;

	if (!sum) {
		wd_cli_error("out of memory");
		return WD_EXIT_INFRA;
	}
	code = json_integer_value(json_object_get(sum, "error")) > 0 ? WD_EXIT_NO : WD_EXIT_OK;
	if (as_json) {
		json_t *o = json_pack("{s:O, s:O}", "summary", sum, "results", items);
		char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;

		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		print_table(stdout, items);
		print_summary(stdout, sum);
	}
	json_decref(sum);
	return code;
}

/* With --resume: the results already in --out (the same dataset and shard),
 * rewritten without a torn last line so that appending continues cleanly,
 * and without the results marked "retry" (a worker that died: the harness
 * failed, not the instance), whose instances then run again. */
static int resume_from(json_t **done, size_t *retried, const char *out, int resume,
                       const wd_eval_dataset *ds, const char *shard)
{
	wd_eval_results prev = { NULL };
	wd_buf text = WD_BUF_INIT;
	json_t *kept = json_array();
	size_t i;
	json_t *o;
	int rc = kept ? wd_eval_results_load(&prev, out, 1) : wd_error_set(WD_ENOMEM, "out of memory");

	*retried = 0;
	if (rc) {
		json_decref(kept);
		return rc;
	}
	if (json_array_size(prev.items) > 0 && !resume) {
		json_decref(kept);
		wd_eval_results_free(&prev);
		return wd_error_set(WD_EUSAGE, "%s already holds results: pass --resume to continue "
		                    "that eval, or name another --out", out);
	}
	json_array_foreach(prev.items, i, o) {
		const char *d = json_string_value(json_object_get(o, "dataset"));
		const char *s = json_string_value(json_object_get(o, "shard"));
		char *line = NULL;

		if (!d || strcmp(d, ds->sha1) || !s || strcmp(s, shard)) {
			rc = wd_error_set(WD_EUSAGE, "%s holds results of another dataset or shard; "
			                  "not resuming into it", out);
			break;
		}
		if (json_is_true(json_object_get(o, "retry"))) {
			(*retried)++;
			continue;
		}
		if (json_array_append(kept, o) || !(line = json_dumps(o, JSON_COMPACT)) ||
		    wd_buf_printf(&text, "%s\n", line)) {
			free(line);
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			break;
		}
		free(line);
	}
	if (!rc && json_array_size(prev.items) > 0)
		rc = wd_file_write_atomic(out, text.ptr ? text.ptr : "", text.len, 0644);
	wd_buf_free(&text);
	wd_eval_results_free(&prev);
	if (rc) {
		json_decref(kept);
		return rc;
	}
	*done = kept;
	return 0;
}

static int finished(const json_t *done, const char *id)
{
	size_t i;
	const json_t *o;

	json_array_foreach(done, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "instance_id")), id))
			return 1;
	return 0;
}

static int parse_uint(unsigned *out, const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

#define JOB_MEMORY_MIN_MB 256

/* Each job's share of the memory: three quarters of the machine, split, at
 * most 4 GiB. So many jobs that a share would be under 256 MiB are refused
 * (a floor would let N jobs ask for more than the machine has). */
static int memory_share(uint64_t *out, unsigned jobs)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	uint64_t usable, mb;

	*out = 0;
	if (jobs < 2 || pages <= 0 || size <= 0)
		return 0;
	usable = (uint64_t)pages * (uint64_t)size / (1024 * 1024) * 3 / 4;
	mb = usable / jobs;
	if (mb < JOB_MEMORY_MIN_MB)
		return wd_error_set(WD_EUSAGE, "--jobs %u would leave each job %llu MiB of this "
		                    "machine's memory; at most %llu jobs here", jobs,
		                    (unsigned long long)mb,
		                    (unsigned long long)(usable / JOB_MEMORY_MIN_MB));
	*out = mb > 4096 ? 4096 : mb;
	return 0;
}

struct eval_flags {
	const char *dataset, *shard, *out;
	int json, resume;
	char *model; /* owned; eo.model points here */
	wd_eval_opts eo;
};

/* The model a run would use (--model, $WARDEN_MODEL, model.default), owned
 * by fl->model; the message also names eval's own 'oracle'. */
static int model_spec(struct eval_flags *fl)
{
	wd_config *cfg = NULL;
	int rc;

	if (!(fl->eo.model && *fl->eo.model) && (rc = wd_config_open(&cfg, NULL)) != 0)
		return rc;
	rc = wd_config_model_spec(&fl->model, cfg, fl->eo.model);
	wd_config_free(cfg);
	if (rc == WD_EUSAGE)
		return wd_error_set(WD_EUSAGE, "no model: pass --model SPEC (or 'oracle'), set "
		                    "WARDEN_MODEL, or model.default");
	fl->eo.model = fl->model;
	return rc;
}

static int parse_flags(struct eval_flags *fl, int argc, char **argv)
{
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int has = i + 1 < argc;
		unsigned u;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			eval_usage(stdout);
			return 1;
		} else if (!strcmp(a, "--json")) {
			fl->json = 1;
		} else if (!strcmp(a, "--resume")) {
			fl->resume = 1;
		} else if (!strcmp(a, "--model") && has) {
			fl->eo.model = argv[++i];
		} else if (!strcmp(a, "--out") && has) {
			fl->out = argv[++i];
		} else if (!strcmp(a, "--shard") && has) {
			fl->shard = argv[++i];
		} else if (!strcmp(a, "--work-dir") && has) {
			fl->eo.work_dir = argv[++i];
		} else if (!strcmp(a, "--jobs") && has) {
			if (parse_uint(&fl->eo.jobs, argv[++i], 1, MAX_JOBS) < 0)
				return wd_error_set(WD_EUSAGE, "--jobs wants 1 to %d, not '%s'", MAX_JOBS,
				                    argv[i]);
		} else if (!strcmp(a, "--rounds") && has) {
			if (parse_uint(&u, argv[++i], 1, 20) < 0)
				return wd_error_set(WD_EUSAGE, "--rounds wants 1 to 20, not '%s'", argv[i]);
			fl->eo.rounds = (int)u;
		} else if (!strcmp(a, "--check-timeout") && has) {
			if (parse_uint(&fl->eo.check_timeout_sec, argv[++i], 1, 86400) < 0)
				return wd_error_set(WD_EUSAGE, "--check-timeout wants seconds, not '%s'",
				                    argv[i]);
		} else if (!strcmp(a, "--max-cost") && has) {
			char *end;

			fl->eo.max_cost_usd = strtod(argv[++i], &end);
			if (*end || end == argv[i] || !(fl->eo.max_cost_usd > 0))
				return wd_error_set(WD_EUSAGE, "--max-cost wants dollars, not '%s'", argv[i]);
		} else if (!strcmp(a, "--sandbox") && has) {
			if (wd_sandbox_policy_parse(&fl->eo.sandbox_policy, argv[++i]) != 0)
				return wd_error_set(WD_EUSAGE, "--sandbox wants strict, best-effort or off");
		} else if (a[0] == '-' && a[1]) {
			return wd_error_set(WD_EUSAGE, "unknown or incomplete option '%s'; see 'warden "
			                    "eval --help'", a);
		} else if (!fl->dataset) {
			fl->dataset = a;
		} else {
			return wd_error_set(WD_EUSAGE, "one dataset at a time ('%s' and '%s')",
			                    fl->dataset, a);
		}
	}
	if (!fl->dataset)
		return wd_error_set(WD_EUSAGE, "no dataset; see 'warden eval --help'");
	if ((rc = model_spec(fl)) != 0)
		return rc;
	if (fl->resume && !fl->out)
		return wd_error_set(WD_EUSAGE, "--resume needs --out FILE to resume from");
	return 0;
}

static int run_eval(int argc, char **argv)
{
	struct eval_flags fl;
	struct eval_cli c;
	wd_eval_dataset ds = WD_EVAL_DATASET_INIT;
	unsigned si = 1, sn = 1;
	char shard[32];
	size_t *todo = NULL, ntodo = 0, size = 0, retried = 0;
	json_t *done = NULL;
	int rc, code;

	memset(&fl, 0, sizeof(fl));
	memset(&c, 0, sizeof(c));
	fl.eo = (wd_eval_opts)WD_EVAL_OPTS_INIT;
	if ((rc = parse_flags(&fl, argc, argv)) != 0) {
		free(fl.model);
		if (rc > 0)
			return WD_EXIT_OK;
		wd_cli_error("%s", wd_error_last());
		return rc == WD_EUSAGE ? WD_EXIT_USAGE : wd_exit_code_for(rc);
	}
	if ((fl.shard && (rc = wd_eval_shard_parse(&si, &sn, fl.shard)) != 0) ||
	    (rc = memory_share(&fl.eo.check_memory_mb, fl.eo.jobs)) != 0)
		goto fail;
	snprintf(shard, sizeof(shard), "%u/%u", si, sn);
	if ((rc = wd_eval_dataset_load(&ds, fl.dataset)) != 0)
		goto fail;
	if (fl.out && (rc = resume_from(&done, &retried, fl.out, fl.resume, &ds, shard)) != 0)
		goto fail;
	if (!(todo = calloc(ds.n, sizeof(*todo)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ds.n; i++) {
		if (!wd_eval_in_shard(i, si, sn))
			continue;
		size++;
		if (!done || !finished(done, ds.v[i].id))
			todo[ntodo++] = i;
	}
	c.out = fl.out;
	c.results = done ? done : json_array();
	done = NULL;
	c.total = size;
	c.done = size - ntodo;
	if (c.done)
		fprintf(stderr, "warden: resuming: %zu of %zu instances already graded in %s\n",
		        c.done, size, fl.out);
	if (retried)
		fprintf(stderr, "warden: resuming: %zu instance%s whose worker died run%s again\n",
		        retried, retried == 1 ? "" : "s", retried == 1 ? "s" : "");
	fl.eo.shard = shard;
	fl.eo.shard_size = size;
	fl.eo.on_result = on_result;
	fl.eo.payload = &c;
	if ((rc = wd_eval_run(&ds, todo, ntodo, &fl.eo)) != 0)
		goto fail;
	code = report(c.results, fl.json);
	goto out;
fail:
	wd_cli_error("%s", wd_error_last());
	code = wd_exit_code_for(rc);
out:
	json_decref(c.results);
	json_decref(done);
	free(todo);
	free(fl.model);
	wd_eval_dataset_free(&ds);
	return code;
}

static int write_items(const char *path, const json_t *items)
{
	wd_buf text = WD_BUF_INIT;
	size_t i;
	const json_t *o;
	int rc = 0;

	json_array_foreach(items, i, o) {
		char *line = json_dumps(o, JSON_COMPACT);

		rc = line ? wd_buf_printf(&text, "%s\n", line) : wd_error_set(WD_ENOMEM, "out of memory");
		free(line);
		if (rc)
			break;
	}
	if (!rc && path)
		rc = wd_file_write_atomic(path, text.ptr ? text.ptr : "", text.len, 0644);
	else if (!rc)
		fwrite(text.ptr ? text.ptr : "", 1, text.len, stdout);
	wd_buf_free(&text);
	return rc;
}

static int run_merge(int argc, char **argv)
{
	wd_eval_results *inputs = calloc((size_t)argc, sizeof(*inputs));
	const wd_eval_results **ptrs = calloc((size_t)argc, sizeof(*ptrs));
	const char **names = calloc((size_t)argc, sizeof(*names));
	const char *out = NULL;
	json_t *merged = NULL;
	size_t n = 0;
	int json = 0, rc = 0, code;

	if (!inputs || !ptrs || !names) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (argv[i][0] == '-') {
			rc = wd_error_set(WD_EUSAGE, "unknown option '%s'; see 'warden eval --help'",
			                  argv[i]);
			goto fail;
		} else {
			names[n] = argv[i];
			if ((rc = wd_eval_results_load(&inputs[n], argv[i], 0)) != 0)
				goto fail;
			ptrs[n] = &inputs[n];
			n++;
		}
	}
	if (n == 0) {
		rc = wd_error_set(WD_EUSAGE, "merge wants the shards' results files");
		goto fail;
	}
	if ((rc = wd_eval_merge(&merged, ptrs, names, n)) != 0 || (rc = write_items(out, merged)) != 0)
		goto fail;
	code = out ? report(merged, json) : WD_EXIT_OK;
	if (code == WD_EXIT_NO)
		code = WD_EXIT_OK; /* merging succeeded; errors are the eval's to report */
	goto done;
fail:
	wd_cli_error("%s", wd_error_last());
	code = wd_exit_code_for(rc);
done:
	for (size_t i = 0; inputs && i < n; i++)
		wd_eval_results_free(&inputs[i]);
	json_decref(merged);
	free(inputs);
	free(ptrs);
	free(names);
	return code;
}

static void print_compare(const json_t *cmp, const json_t *sa, const json_t *sb,
                          const char *na, const char *nb)
{
	size_t i;
	const json_t *r;

	printf("%-40s %-10s %-10s %-15s %10s %9s\n", "instance", "A", "B", "change", "cost", "wall");
	json_array_foreach(json_object_get(cmp, "instances"), i, r) {
		printf("%-40.40s %-10s %-10s %-15s %+10.4f %+8.1fs\n",
		       json_string_value(json_object_get(r, "instance_id")),
		       json_string_value(json_object_get(r, "a")),
		       json_string_value(json_object_get(r, "b")),
		       json_string_value(json_object_get(r, "change")),
		       json_real_value(json_object_get(r, "cost_delta_usd")),
		       json_real_value(json_object_get(r, "wall_delta_ms")) / 1000.0);
	}
	printf("A = %s: %lld/%lld resolved; B = %s: %lld/%lld resolved\n", na,
	       json_integer_value(json_object_get(sa, "resolved")),
	       json_integer_value(json_object_get(sa, "instances")), nb,
	       json_integer_value(json_object_get(sb, "resolved")),
	       json_integer_value(json_object_get(sb, "instances")));
	printf("%lld shared: %lld newly resolved, %lld newly failing, %lld both, %lld neither; "
	       "McNemar p = %.4g\n",
	       json_integer_value(json_object_get(cmp, "shared")),
	       json_integer_value(json_object_get(cmp, "newly_resolved")),
	       json_integer_value(json_object_get(cmp, "newly_failing")),
	       json_integer_value(json_object_get(cmp, "both_resolved")),
	       json_integer_value(json_object_get(cmp, "neither")),
	       json_real_value(json_object_get(cmp, "mcnemar_p")));
	printf("B - A: cost %+.4f USD, wall %+.1fs over the shared instances\n",
	       json_real_value(json_object_get(cmp, "cost_delta_usd")),
	       json_real_value(json_object_get(cmp, "wall_delta_ms")) / 1000.0);
}

static int run_compare(int argc, char **argv)
{
	wd_eval_results a = { NULL }, b = { NULL };
	const char *names[2] = { NULL, NULL };
	json_t *cmp = NULL, *sa = NULL, *sb = NULL;
	int json = 0, n = 0, rc = 0, code = WD_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' || n == 2) {
			rc = wd_error_set(WD_EUSAGE, "compare wants two results files (and --json)");
			goto fail;
		} else
			names[n++] = argv[i];
	}
	if (n != 2) {
		rc = wd_error_set(WD_EUSAGE, "compare wants two results files: A.jsonl B.jsonl");
		goto fail;
	}
	if ((rc = wd_eval_results_load(&a, names[0], 0)) != 0 ||
	    (rc = wd_eval_results_load(&b, names[1], 0)) != 0)
		goto fail;
	cmp = wd_eval_compare(a.items, b.items);
	sa = wd_eval_summary(a.items);
	sb = wd_eval_summary(b.items);
	if (!cmp || !sa || !sb) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto fail;
	}
	if (json) {
		char *s;

		json_object_set(cmp, "a", sa);
		json_object_set(cmp, "b", sb);
		if ((s = json_dumps(cmp, JSON_INDENT(2))) != NULL)
			printf("%s\n", s);
		free(s);
	} else {
		print_compare(cmp, sa, sb, names[0], names[1]);
	}
	goto done;
fail:
	wd_cli_error("%s", wd_error_last());
	code = wd_exit_code_for(rc);
done:
	json_decref(cmp);
	json_decref(sa);
	json_decref(sb);
	wd_eval_results_free(&a);
	wd_eval_results_free(&b);
	return code;
}

int cmd_eval(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "merge"))
		return run_merge(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "compare"))
		return run_compare(argc - 1, argv + 1);
	if (argc < 2) {
		eval_usage(stderr);
		return WD_EXIT_USAGE;
	}
	return run_eval(argc, argv);
}
