/*
 * The baseline: the same checks run on the base commit, so that a failure
 * that was already there is not blamed on the patch. Results are cached per
 * (base commit, check definition hash), for the resources they ran under
 * (sandbox policy, memory, timeout, CPUs), as JSON under <cache>/baseline/, so
 * every round and every later run on the same base reuses them.
 */
#include <ctype.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gate_int.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/gate.h"

/* 2: the fields of wd_check_result_json ("output_bytes", "findings" a count)
 * and the cached findings under "finding_list"; 3: "resources" */
#define CACHE_VERSION 3
#define CACHE_FILE_MAX (64u << 20)

/* The check's result (wd_check_result_json) and what a later run needs to
 * stand in for running it: the output, the per-test cases, the findings. */
static json_t *result_to_json(const wd_check_result *cr, const char *def, const char *res)
{
	json_t *o = wd_check_result_json(cr), *cases = json_array(), *finds = json_array();

	if (!o || !cases || !finds)
		goto fail;
	for (size_t i = 0; i < cr->tests.n; i++) {
		const wd_test_case *t = &cr->tests.v[i];

		if (json_array_append_new(cases, json_pack("[o, i, o]", wd_gate_json_str(t->name), (int)t->status,
		                                           wd_gate_json_str(t->detail))) != 0)
			goto fail;
	}
	for (size_t i = 0; i < cr->findings.n; i++) {
		const wd_finding *f = &cr->findings.v[i];

		if (json_array_append_new(finds, json_pack("{s:o, s:I, s:I, s:o, s:o, s:o, s:o}",
		                          "file", wd_gate_json_str(f->file), "line", (json_int_t)f->line,
		                          "col", (json_int_t)f->col, "severity", wd_gate_json_str(f->severity),
		                          "rule", wd_gate_json_str(f->rule), "message", wd_gate_json_str(f->message),
		                          "tool", wd_gate_json_str(f->tool))) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "version", json_integer(CACHE_VERSION)) ||
	    json_object_set_new(o, "def", json_string(def)) ||
	    json_object_set_new(o, "resources", json_string(res)) ||
	    json_object_set_new(o, "output_truncated", json_boolean(cr->output_truncated)) ||
	    json_object_set_new(o, "output", wd_gate_json_strn(cr->output.ptr, cr->output.len)) ||
	    json_object_set_new(o, "tests", json_pack("{s:o, s:b, s:b, s:I, s:I, s:I, s:o}",
	                        "format", wd_gate_json_str(cr->tests.format), "complete", cr->tests.complete,
	                        "counts_known", cr->tests.counts_known,
	                        "passed", (json_int_t)cr->tests.passed,
	                        "failed", (json_int_t)cr->tests.failed,
	                        "skipped", (json_int_t)cr->tests.skipped, "cases", cases)) ||
	    json_object_set_new(o, "finding_list", finds))
		goto fail_after_move;
	return o;
fail:
	json_decref(cases);
	json_decref(finds);
	json_decref(o);
	wd_error_set(WD_ENOMEM, "baseline: cannot encode the result");
	return NULL;
fail_after_move:
	json_decref(o);
	wd_error_set(WD_ENOMEM, "baseline: cannot encode the result");
	return NULL;
}

/* The static format name that matches a cached one (formats are static strings). */
static const char *format_name(const char *s)
{
	static const char *const known[] = { "junit", "tap", "pytest", "go", "cargo", "unittest",
	                                     "ctest", "check", "simple", "counts" };

	for (size_t i = 0; s && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return NULL;
}

static size_t jsize(json_t *v)
{
	json_int_t i = json_integer_value(v);

	return i < 0 ? 0 : (size_t)i;
}

static int push_case(wd_test_report *r, const char *name, int st, const char *detail)
{
	wd_test_case *c;

	if (WD_ARRAY_RESERVE(r->v, r->cap, r->n + 1, 16) != 0)
		return WD_ENOMEM;
	c = &r->v[r->n];
	c->status = st == WD_TEST_FAIL ? WD_TEST_FAIL : st == WD_TEST_SKIP ? WD_TEST_SKIP : WD_TEST_PASS;
	c->detail = NULL;
	if (!(c->name = wd_strdup(name)) || (detail && !(c->detail = wd_strdup(detail)))) {
		free(c->name);
		return WD_ENOMEM;
	}
	r->n++;
	return 0;
}

/* Fill cr from a cached object; WD_EINPUT when it does not fit (then re-run). */
static int result_from_json(wd_check_result *cr, json_t *o, const wd_check *c, const char *def,
                            const char *res)
{
	json_t *tests = json_object_get(o, "tests"), *cases, *finds, *item;
	const char *digest = json_string_value(json_object_get(o, "digest"));
	const char *out = json_string_value(json_object_get(o, "output"));
	size_t i;
	int rc;

	memset(cr, 0, sizeof(*cr));
	cr->check = c;
	if (json_integer_value(json_object_get(o, "version")) != CACHE_VERSION ||
	    !json_is_string(json_object_get(o, "def")) ||
	    strcmp(json_string_value(json_object_get(o, "def")), def) != 0 ||
	    !json_is_string(json_object_get(o, "resources")) ||
	    strcmp(json_string_value(json_object_get(o, "resources")), res) != 0 ||
	    !digest || strlen(digest) != 40 || !out || !json_is_object(tests))
		return wd_error_set(WD_EINPUT, "baseline cache entry does not match");
	cr->passed = json_is_true(json_object_get(o, "passed"));
	cr->exit_code = (int)json_integer_value(json_object_get(o, "exit_code"));
	cr->timed_out = json_is_true(json_object_get(o, "timed_out"));
	cr->wall_ms = jsize(json_object_get(o, "wall_ms"));
	memcpy(cr->digest, digest, 41);
	cr->output_total = jsize(json_object_get(o, "output_bytes"));
	cr->output_truncated = json_is_true(json_object_get(o, "output_truncated"));
	cr->from_cache = 1;
	if ((rc = wd_buf_put(&cr->output, out, json_string_length(json_object_get(o, "output")))) != 0)
		return rc;
	cr->tests.format = format_name(json_string_value(json_object_get(tests, "format")));
	cr->tests.complete = json_is_true(json_object_get(tests, "complete"));
	cr->tests.counts_known = json_is_true(json_object_get(tests, "counts_known"));
	cr->tests.passed = jsize(json_object_get(tests, "passed"));
	cr->tests.failed = jsize(json_object_get(tests, "failed"));
	cr->tests.skipped = jsize(json_object_get(tests, "skipped"));
	cases = json_object_get(tests, "cases");
	for (i = 0; i < json_array_size(cases); i++) {
		const char *name;

		item = json_array_get(cases, i);
		name = json_string_value(json_array_get(item, 0));
		if (!name)
			continue;
		if ((rc = push_case(&cr->tests, name, (int)json_integer_value(json_array_get(item, 1)),
		                    json_string_value(json_array_get(item, 2)))) != 0)
			return rc;
	}
	if (cr->tests.counts_known && c->kind != WD_CHECK_ANALYZE) {
		cr->tests_passed = cr->tests.passed;
		cr->tests_failed = cr->tests.failed;
		cr->counts_known = 1;
	}
	finds = json_object_get(o, "finding_list");
	for (i = 0; i < json_array_size(finds); i++) {
		const char *file;
		size_t before = cr->findings.n;

		item = json_array_get(finds, i);
		file = json_string_value(json_object_get(item, "file"));
		if (!file)
			continue;
		if ((rc = wd_findings_push(&cr->findings, file,
		                           (unsigned)jsize(json_object_get(item, "line")),
		                           (unsigned)jsize(json_object_get(item, "col")),
		                           json_string_value(json_object_get(item, "severity")),
		                           json_string_value(json_object_get(item, "rule")),
		                           json_string_value(json_object_get(item, "message")),
		                           json_string_value(json_object_get(item, "tool")))) != 0)
			return rc;
		if (cr->findings.n > before && !(cr->findings.v[before].check = wd_strdup(c->name)))
			return WD_ENOMEM;
	}
	return 0;
}

static void free_one(wd_check_result *cr)
{
	wd_buf_free(&cr->output);
	wd_test_report_free(&cr->tests);
	wd_findings_free(&cr->findings);
	wd_strvec_free(&cr->layers);
	wd_strvec_free(&cr->missing);
}

static int commit_id_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]))
			return 0;
	return n >= 4 && n <= 64;
}

/* Use the cache entry at path if it is valid for this check. 1 = hit. */
static int try_cache(wd_check_result *cr, const char *path, const wd_check *c, const char *def,
                     const char *res)
{
	wd_buf raw = WD_BUF_INIT;
	json_t *o = NULL;
	int hit = 0;

	if (wd_file_read(&raw, path, CACHE_FILE_MAX) == 0 &&
	    (o = json_loadb(raw.ptr, raw.len, 0, NULL)) != NULL &&
	    result_from_json(cr, o, c, def, res) == 0)
		hit = 1;
	if (!hit) {
		free_one(cr);
		wd_error_clear();
	}
	json_decref(o);
	wd_buf_free(&raw);
	return hit;
}

static int store(const char *dir, const char *path, const wd_check_result *cr, const char *def,
                 const char *res)
{
	json_t *o = result_to_json(cr, def, res);
	char *text = NULL;
	int rc;

	if (!o)
		return WD_ENOMEM;
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return wd_error_set(WD_ENOMEM, "baseline: cannot encode the result");
	if ((rc = wd_mkdir_p(dir, 1)) == 0)
		rc = wd_file_write_atomic(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

/* What a check's result may depend on besides its definition and the base:
 * the sandbox's policy, the memory limit, the default timeout and how many
 * CPUs the checks may use (eval --jobs pins each worker to its share). A
 * cached result stands in only for a run under the same resources. */
static int resources_sig(wd_buf *out, const wd_gate_opts *opts)
{
	cpu_set_t set;
	int cpus = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		cpus = CPU_COUNT(&set);
	return wd_buf_printf(out, "policy=%d mem=%llu timeout=%u cpus=%d", opts->sandbox_policy,
	                     (unsigned long long)opts->memory_mb, opts->default_timeout_sec, cpus);
}

int wd_gate_baseline(wd_gate_result *out, size_t *from_cache, const char *workdir,
                     const char *base_commit, const wd_checklist *checks,
                     const wd_gate_opts *opts)
{
	wd_gate_opts defaults = WD_GATE_OPTS_INIT;
	wd_buf dir = WD_BUF_INIT, path = WD_BUF_INIT, res = WD_BUF_INIT;
	size_t hits = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (from_cache)
		*from_cache = 0;
	if (!opts)
		opts = &defaults;
	if ((!workdir && !opts->overlay_upper) || !checks || !base_commit)
		return wd_error_set(WD_EUSAGE, "baseline: a work tree, a base commit and checks are required");
	if (!commit_id_ok(base_commit))
		return wd_error_set(WD_EUSAGE, "baseline: '%s' is not a commit id", base_commit);
	if (opts->cache_dir)
		rc = wd_buf_sets(&dir, opts->cache_dir);
	else
		rc = wd_cache_dir(&dir);
	if (rc || (rc = wd_buf_printf(&dir, "/baseline/%s", base_commit)) != 0 ||
	    (rc = resources_sig(&res, opts)) != 0)
		goto out;
	if (checks->n && !(out->v = calloc(checks->n, sizeof(*out->v)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	out->passed = 1;
	for (size_t i = 0; i < checks->n; i++) {
		const wd_check *c = &checks->v[i];
		wd_check_result *cr = &out->v[i];
		char def[41];

		if ((rc = wd_check_def_hash(def, c)) != 0 ||
		    (rc = wd_buf_printf(&path, "%s/%s.json", dir.ptr, def)) != 0)
			goto out;
		if (opts->baseline_cache != WD_BASELINE_CACHE_REFRESH && try_cache(cr, path.ptr, c, def, res.ptr)) {
			hits++;
		} else if (opts->baseline_cache == WD_BASELINE_CACHE_ONLY) {
			rc = wd_error_set(WD_ENOTFOUND, "baseline: '%s' has no cached result", c->name);
			goto out;
		} else {
			if ((rc = wd_gate_run_one(cr, workdir, c, opts, 1)) != 0)
				goto out;
			/* a timed-out baseline says nothing stable about the base: do not keep it */
			if (!cr->timed_out && (rc = store(dir.ptr, path.ptr, cr, def, res.ptr)) != 0) {
				free_one(cr);
				goto out;
			}
		}
		out->n++;
		if (!cr->passed)
			out->passed = 0;
		wd_buf_clear(&path);
	}
out:
	if (rc)
		wd_gate_result_free(out);
	else if (from_cache)
		*from_cache = hits;
	wd_buf_free(&dir);
	wd_buf_free(&path);
	wd_buf_free(&res);
	return rc;
}

int wd_gate_baseline_layer(wd_buf *out, const char *cache_dir, const char *base_commit,
                           const wd_checklist *checks, const char *inside)
{
	wd_buf key = WD_BUF_INIT, dir = WD_BUF_INIT;
	char hex[41];
	int rc;

	if (!checks || !base_commit || !inside || !commit_id_ok(base_commit))
		return wd_error_set(WD_EUSAGE, "baseline layer: a base commit, checks and a path are required");
	rc = cache_dir ? wd_buf_sets(&dir, cache_dir) : wd_cache_dir(&dir);
	if (!rc)
		rc = wd_buf_printf(&key, "layer-v1%c%s", 0, inside);
	for (size_t i = 0; !rc && i < checks->n; i++)
		if ((rc = wd_check_def_hash(hex, &checks->v[i])) == 0)
			rc = wd_buf_printf(&key, "%c%s", 0, hex);
	if (!rc && (rc = wd_hash_hex(hex, key.ptr, key.len)) == 0)
		rc = wd_buf_printf(out, "%s/baseline/%s/layer-%s", dir.ptr, base_commit, hex);
	wd_buf_free(&key);
	wd_buf_free(&dir);
	return rc;
}
