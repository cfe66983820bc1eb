/*
 * Running the checks: each one through the sandbox, in the work tree, with
 * its timeout; then its output (or results file) is read for per-test
 * results and analyzer findings.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gate_int.h"
#include "warden/beneath.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/gate.h"
#include "warden/ledger.h"

#define DEFAULT_TIMEOUT_SEC 600
#define RESULTS_FILE_MAX (32u << 20)
#define RESULTS_FILES_MAX 1000

static void check_result_free(wd_check_result *c)
{
	wd_buf_free(&c->output);
	wd_test_report_free(&c->tests);
	wd_findings_free(&c->findings);
	wd_strvec_free(&c->layers);
	wd_strvec_free(&c->missing);
}

void wd_gate_result_free(wd_gate_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		check_result_free(&r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
	r->passed = 0;
}

/* The directory a check writes to, as warden reads it afterwards: the
 * overlay's upper layer, else the work tree. */
static const char *written_dir(const char *workdir, const wd_gate_opts *opts)
{
	return opts && opts->overlay_upper ? opts->overlay_upper : workdir;
}

/* Remove results files an earlier check or run left, so they cannot stand in
 * for this one. The tree is the checks' (hostile): nothing is followed. */
static int remove_results(const char *dir, const wd_check *c)
{
	wd_strvec paths = WD_STRVEC_INIT;
	int root = -1, rc;

	if (!c->results_file || !dir)
		return 0;
	/* the pattern itself may not climb out of the tree */
	if (c->results_file[0] == '/' || !wd_path_rel_inside(c->results_file))
		return wd_error_set(WD_EREFUSED, "'%s' is not a path inside the work tree",
		                    c->results_file);
	if ((rc = wd_root_open(&root, dir)) != 0)
		return rc;
	rc = wd_beneath_glob(&paths, root, c->results_file, RESULTS_FILES_MAX);
	for (size_t i = 0; !rc && i < paths.n; i++)
		rc = wd_beneath_remove(root, paths.v[i]);
	close(root);
	wd_strvec_free(&paths);
	return rc;
}

/* Parse every results file the check wrote into cr; *found says whether any
 * was read. Only regular files reached without a link are read, never more
 * than RESULTS_FILE_MAX each, and a FIFO never blocks. */
static int parse_results_files(wd_check_result *cr, const char *dir, int *found)
{
	wd_strvec paths = WD_STRVEC_INIT;
	wd_buf text = WD_BUF_INIT;
	int root = -1, rc;

	*found = 0;
	if (!cr->check->results_file || !dir)
		return 0;
	if ((rc = wd_root_open(&root, dir)) != 0)
		return rc;
	if ((rc = wd_beneath_glob(&paths, root, cr->check->results_file, RESULTS_FILES_MAX)) != 0)
		goto out;
	for (size_t i = 0; i < paths.n && !rc; i++) {
		wd_buf_clear(&text);
		if (wd_beneath_read(&text, root, paths.v[i], RESULTS_FILE_MAX) != 0) {
			wd_error_clear(); /* a link, a FIFO, too large: the check's problem */
			continue;
		}
		if ((rc = wd_redact_buf(&text)) != 0)
			break;
		*found = 1;
		if (cr->check->kind == WD_CHECK_ANALYZE)
			rc = wd_findings_parse(&cr->findings, text.ptr, text.len);
		else
			rc = wd_results_parse(&cr->tests, text.ptr, text.len);
	}
out:
	close(root);
	wd_buf_free(&text);
	wd_strvec_free(&paths);
	return rc;
}

/* Fill the per-test results or findings of a finished check: from its
 * results files when it wrote any, else (or when they told nothing) from
 * its output. */
int wd_gate_parse_output(wd_check_result *cr, const char *written, const char *workdir)
{
	int rc = 0, from_files = 0;

	if (written && (rc = parse_results_files(cr, written, &from_files)) != 0)
		return rc;
	if (cr->check->kind == WD_CHECK_ANALYZE) {
		if (!from_files)
			rc = wd_findings_parse(&cr->findings, cr->output.ptr, cr->output.len);
		if (!rc && workdir)
			rc = wd_findings_normalize(&cr->findings, workdir);
		for (size_t i = 0; !rc && i < cr->findings.n; i++)
			if (!cr->findings.v[i].check && !(cr->findings.v[i].check = wd_strdup(cr->check->name)))
				rc = WD_ENOMEM;
	} else {
		if (!cr->tests.format)
			rc = wd_results_parse(&cr->tests, cr->output.ptr, cr->output.len);
		if (!rc && cr->tests.counts_known) {
			cr->tests_passed = cr->tests.passed;
			cr->tests_failed = cr->tests.failed;
			cr->counts_known = 1;
		}
	}
	return rc;
}

static void log_check(struct wd_ledger *ledger, const wd_check_result *cr, int baseline)
{
	json_t *f;

	if (!ledger)
		return;
	f = wd_check_result_json(cr);
	if (f && json_object_set_new(f, "baseline", json_boolean(baseline)) != 0) {
		json_decref(f);
		f = NULL;
	}
	/* a NULL event is remembered by the ledger as its failure */
	(void)wd_ledger_add(ledger, "check", f);
}

void wd_gate_sandbox_tree(wd_sandbox_opts *so, const char *workdir, const wd_gate_opts *opts)
{
	so->workdir = workdir;
	so->workdir_inside = opts->inside;
	so->overlay_lower = opts->overlay_lower;
	so->overlay_upper = opts->overlay_upper;
	so->overlay_work = opts->overlay_work;
	so->allow_read = opts->allow_read;
	so->deny_read_extra = opts->deny_read;
	so->policy = opts->sandbox_policy;
}

int wd_gate_run_one(wd_check_result *cr, const char *workdir, const wd_check *c,
                    const wd_gate_opts *opts, int baseline)
{
	wd_sandbox_opts so = WD_SANDBOX_OPTS_INIT;
	wd_sandbox_result sr;
	const char *argv[4] = { "/bin/sh", "-c", c->command, NULL };
	int rc;

	memset(cr, 0, sizeof(*cr));
	memset(&sr, 0, sizeof(sr));
	cr->check = c;
	/* a results file left by an earlier run must not stand in for this one */
	if ((rc = remove_results(written_dir(workdir, opts), c)) != 0)
		return wd_error_wrap(rc, "check '%s': results file", c->name);
	wd_gate_sandbox_tree(&so, workdir, opts);
	so.argv = argv;
	so.timeout_sec = c->timeout_sec ? c->timeout_sec
	               : opts->default_timeout_sec ? opts->default_timeout_sec : DEFAULT_TIMEOUT_SEC;
	so.output_cap = opts->output_cap;
	so.memory_mb = opts->memory_mb;
	so.net = WD_NET_NONE;
	so.on_output = opts->on_output;
	so.on_output_ctx = opts->progress_ctx;
	if (opts->on_check)
		opts->on_check(opts->progress_ctx, c->name, c->command, 0);
	rc = wd_sandbox_run(&sr, &so);
	if (opts->on_check)
		opts->on_check(opts->progress_ctx, c->name, c->command, 1);
	if (rc) {
		wd_sandbox_result_free(&sr);
		return wd_error_wrap(rc, "check '%s'", c->name);
	}
	cr->exit_code = sr.exit_code;
	cr->timed_out = sr.timed_out;
	cr->wall_ms = sr.wall_ms;
	cr->passed = sr.exit_code == 0 && !sr.timed_out;
	cr->output_total = sr.output_total;
	cr->output_truncated = sr.output_truncated;
	cr->output = sr.output;
	memset(&sr.output, 0, sizeof(sr.output));
	/* the confinement each check really had, for the evidence */
	cr->layers = sr.layers;
	cr->missing = sr.missing;
	memset(&sr.layers, 0, sizeof(sr.layers));
	memset(&sr.missing, 0, sizeof(sr.missing));
	wd_sandbox_result_free(&sr);
	if (!cr->output.ptr && (rc = wd_buf_grow(&cr->output, 0)) != 0)
		return rc;
	/* The output is untrusted and goes on to the model, the ledger and the
	 * terminal: no credential it printed may ride along, so it is redacted
	 * before anything hashes, parses or summarises it. */
	if ((rc = wd_redact_buf(&cr->output)) != 0 ||
	    (rc = wd_hash_hex(cr->digest, cr->output.ptr, cr->output.len)) != 0 ||
	    (rc = wd_gate_parse_output(cr, written_dir(workdir, opts),
	                                opts->inside ? opts->inside : workdir)) != 0) {
		check_result_free(cr);
		return rc;
	}
	log_check(opts->ledger, cr, baseline);
	return 0;
}

int wd_gate_run(wd_gate_result *out, const char *workdir, const wd_checklist *checks,
                const wd_gate_opts *opts)
{
	wd_gate_opts defaults = WD_GATE_OPTS_INIT;
	int rc = 0, build_failed = 0;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	if ((!workdir && !opts->overlay_upper) || !checks)
		return wd_error_set(WD_EUSAGE, "gate: a work tree and a check list are required");
	if (checks->n && !(out->v = calloc(checks->n, sizeof(*out->v))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	out->passed = 1;
	for (size_t i = 0; i < checks->n; i++) {
		wd_check_result *cr = &out->v[i];

		if (build_failed && !opts->keep_going) {
			/* tests of a tree that does not build can only fail: save the time */
			memset(cr, 0, sizeof(*cr));
			cr->check = &checks->v[i];
			cr->skipped = 1;
			cr->exit_code = -1;
			if ((rc = wd_buf_grow(&cr->output, 0)) != 0 ||
			    (rc = wd_hash_hex(cr->digest, "", 0)) != 0) {
				out->n++;
				wd_gate_result_free(out);
				return rc;
			}
		} else if ((rc = wd_gate_run_one(cr, workdir, &checks->v[i], opts, 0)) != 0) {
			wd_gate_result_free(out);
			return rc;
		}
		out->n++;
		if (!cr->passed)
			out->passed = 0;
		if (!cr->passed && !cr->skipped && cr->check->kind == WD_CHECK_BUILD)
			build_failed = 1;
	}
	return 0;
}

/* "name=pass 12/12" / "name=fail 10/12" / "name=fail (timeout)" */
int wd_gate_trailer_item(wd_buf *out, const wd_check_result *cr, int pass)
{
	int rc;

	if (out->len && (rc = wd_buf_puts(out, "; ")) != 0)
		return rc;
	if (cr->skipped)
		return wd_buf_printf(out, "%s=skip", cr->check->name);
	if ((rc = wd_buf_printf(out, "%s=%s", cr->check->name, pass ? "pass" : "fail")) != 0)
		return rc;
	if (cr->timed_out)
		return wd_buf_puts(out, " (timeout)");
	if (cr->counts_known && cr->check->kind != WD_CHECK_ANALYZE)
		return wd_buf_printf(out, " %zu/%zu", cr->tests_passed,
		                     cr->tests_passed + cr->tests_failed);
	return 0;
}

int wd_gate_trailer(wd_buf *out, const wd_gate_result *r)
{
	int rc;

	wd_buf_clear(out);
	for (size_t i = 0; i < r->n; i++) {
		const wd_check_result *cr = &r->v[i];

		if ((rc = wd_gate_trailer_item(out, cr, cr->passed)) != 0)
			return rc;
		if (cr->check->kind == WD_CHECK_ANALYZE && !cr->timed_out && !cr->skipped &&
		    (rc = wd_buf_printf(out, " %zu finding%s", cr->findings.n,
		                        cr->findings.n == 1 ? "" : "s")) != 0)
			return rc;
	}
	if (!out->ptr)
		return wd_buf_grow(out, 0);
	return 0;
}
