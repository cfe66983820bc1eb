/*
 * Failure summaries for the repair prompt and the trailer for the commit.
 * The model gets the failing checks, the failing tests with the lines of
 * output that matter (around "FAIL", "error:", "Assertion", the failing
 * test names), and the new findings with the code around them: never the
 * raw logs, and never more than the caller's byte budget.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "gate_int.h"
#include "warden/beneath.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/gate.h"
#include "warden/ledger.h"

#define LINE_MAX_SHOWN 240
#define TAIL_LINES 12
#define CONTEXT_BEFORE 1
#define CONTEXT_AFTER 2
#define SOURCE_FILE_MAX (8u << 20)
#define NAMES_MATCHED 16

/* Markers of a line worth showing; matched case-sensitively so that
 * "-Werror" on a compiler command line is not one. */
static const char *const markers[] = {
	"FAIL", "Fail", "failed", "failure", "error:", "Error:", "ERROR", "Error ", "Assertion",
	"assert", "not ok", "Traceback", "Exception", "panic", "Segmentation fault",
	"AddressSanitizer", "LeakSanitizer", "runtime error", "Aborted", "undefined reference",
	"expected", "Expected", "timed out", "Timeout", "core dumped",
};

static int line_relevant(wd_slice s, const wd_strvec *names)
{
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (wd_slice_find(s, markers[i]) >= 0)
			return 1;
	/* the first few failing names are enough to find their lines */
	for (size_t i = 0; names && i < names->n && i < NAMES_MATCHED; i++) {
		/* the bare function name of "tcase:fn" / "file.py::fn" is what logs print */
		const char *n = names->v[i], *tail = n;

		for (const char *p = n; *p; p++)
			if (*p == ':' || *p == '.' || *p == '/')
				tail = p + 1;
		if (strlen(tail) >= 4 && wd_slice_find(s, tail) >= 0)
			return 1;
	}
	return 0;
}

/* Append s (one line, shortened, control bytes but tabs shown as spaces) with an indent. */
static int put_line(wd_buf *out, const char *indent, wd_slice s)
{
	size_t n = s.n > LINE_MAX_SHOWN ? LINE_MAX_SHOWN : s.n;
	int rc;

	if ((rc = wd_buf_puts(out, indent)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = wd_buf_putc(out, (unsigned char)s.p[i] < 0x20 && s.p[i] != '\t' ? ' ' : (char)s.p[i])) != 0)
			return rc;
	if (n < s.n && (rc = wd_buf_puts(out, " […]")) != 0)
		return rc;
	return wd_buf_putc(out, '\n');
}

/*
 * The relevant lines of `text`, at most `budget` bytes: windows around
 * marker lines, joined with "…" where lines were skipped; the last lines
 * when nothing matched.
 */
int wd_gate_excerpt(wd_buf *out, const char *text, size_t len, const wd_strvec *names,
                    size_t budget)
{
	wd_buf clean = WD_BUF_INIT, piece = WD_BUF_INIT;
	wd_slice *lines = NULL, line;
	unsigned char *keep = NULL;
	size_t n = 0, cap = 0, shown = 0, omitted = 0, start_len = out->len;
	const char *pos, *end;
	int rc, any = 0;

	if ((rc = wd_gate_strip_ansi(&clean, text ? text : "", text ? len : 0)) != 0)
		goto out;
	pos = clean.ptr;
	end = clean.ptr + clean.len;
	while (wd_gate_next_line(&line, &pos, end)) {
		if ((rc = WD_ARRAY_RESERVE(lines, cap, n + 1, 256)) != 0)
			goto out;
		lines[n++] = line;
	}
	if (!n)
		goto out;
	if (!(keep = calloc(n, 1))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!line_relevant(lines[i], names))
			continue;
		any = 1;
		for (size_t j = i >= CONTEXT_BEFORE ? i - CONTEXT_BEFORE : 0;
		     j < n && j <= i + CONTEXT_AFTER; j++)
			keep[j] = 1;
	}
	if (!any)
		for (size_t i = n > TAIL_LINES ? n - TAIL_LINES : 0; i < n; i++)
			keep[i] = 1;
	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		if (omitted) { /* past the budget: only count what is left out */
			omitted++;
			continue;
		}
		if (wd_slice_trim(lines[i]).n == 0 && (i + 1 >= n || !keep[i + 1]))
			continue;
		wd_buf_clear(&piece);
		if (i > 0 && !keep[i - 1] && shown && (rc = wd_buf_puts(&piece, "    …\n")) != 0)
			goto out;
		if ((rc = put_line(&piece, "    ", lines[i])) != 0)
			goto out;
		/* keep room for the "[N more lines omitted]" note */
		if (out->len - start_len + piece.len + (budget > 120 ? 40 : 0) > budget) {
			omitted++;
			continue;
		}
		if ((rc = wd_buf_put(out, piece.ptr, piece.len)) != 0)
			goto out;
		shown++;
	}
	if (omitted) {
		wd_buf_clear(&piece);
		if ((rc = wd_buf_printf(&piece, "    [%zu more lines omitted]\n", omitted)) != 0)
			goto out;
		if (out->len - start_len + piece.len <= budget)
			rc = wd_buf_put(out, piece.ptr, piece.len);
	}
out:
	free(lines);
	free(keep);
	wd_buf_free(&clean);
	wd_buf_free(&piece);
	return rc;
}

/* Cut out at max bytes on a line (and UTF-8) boundary, with a marker. */
int wd_gate_bound(wd_buf *out, size_t max_bytes)
{
	static const char mark[] = "[summary truncated]\n";
	size_t cut;

	if (out->len <= max_bytes)
		return 0;
	if (max_bytes < sizeof(mark)) {
		cut = max_bytes;
		while (cut > 0 && ((unsigned char)out->ptr[cut] & 0xc0) == 0x80)
			cut--;
		wd_buf_truncate(out, cut);
		return 0;
	}
	cut = max_bytes - (sizeof(mark) - 1);
	while (cut > 0 && out->ptr[cut - 1] != '\n')
		cut--;
	if (cut == 0) {
		cut = max_bytes - sizeof(mark); /* room for the '\n' added below */
		while (cut > 0 && ((unsigned char)out->ptr[cut] & 0xc0) == 0x80)
			cut--;
	}
	wd_buf_truncate(out, cut);
	if (cut && out->ptr[cut - 1] != '\n')
		return wd_buf_putc(out, '\n') ? WD_ENOMEM : wd_buf_puts(out, mark);
	return wd_buf_puts(out, mark);
}

static const wd_check_result *find_check(const wd_gate_result *r, const char *name)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (!strcmp(r->v[i].check->name, name))
			return &r->v[i];
	return NULL;
}

/* Whether the test was failing before the patch: from the base run, or from
 * the verdict's classification when that is what the caller has. */
static int failed_before(const wd_check_result *cr, const wd_check_result *base,
                         const wd_verdict *v, const char *name)
{
	const wd_test_case *c = base ? wd_test_report_find(&base->tests, name) : NULL;

	if (c && c->status == WD_TEST_FAIL)
		return 1;
	for (size_t i = 0; v && i < v->ntests; i++)
		if (v->tests[i].cls == WD_CLASS_STILL_FAILING && !strcmp(v->tests[i].test, name) &&
		    !strcmp(v->tests[i].check, cr->check->name))
			return 1;
	return 0;
}

int wd_gate_check_header(wd_buf *out, const wd_check_result *cr)
{
	const wd_check *c = cr->check;

	if (cr->timed_out)
		return wd_buf_printf(out, "## %s check `%s`: timed out after %llu ms (killed)\n", c->name,
		                     c->command, (unsigned long long)cr->wall_ms);
	if (cr->passed)
		return wd_buf_printf(out, "## %s check `%s`: exit 0\n", c->name, c->command);
	return wd_buf_printf(out, "## %s check `%s`: failed (exit %d)\n", c->name, c->command,
	                     cr->exit_code);
}

/* Failing tests of one check, each with its message; baseline tags old ones. */
static int failing_tests(wd_buf *out, wd_strvec *names, const wd_check_result *cr,
                         const wd_check_result *base, const wd_verdict *v, size_t budget)
{
	size_t start = out->len, shown = 0, total = 0;
	int rc;

	for (size_t i = 0; i < cr->tests.n; i++) {
		const wd_test_case *t = &cr->tests.v[i];
		wd_buf item = WD_BUF_INIT;

		if (t->status != WD_TEST_FAIL)
			continue;
		total++;
		if ((rc = wd_strvec_push(names, t->name)) != 0)
			return rc;
		rc = wd_buf_printf(&item, "  - %s%s", t->name,
		                   failed_before(cr, base, v, t->name) ? " (already failing before the patch)" : "");
		if (!rc && t->detail) {
			const char *nl = strchr(t->detail, '\n');
			size_t dl = nl ? (size_t)(nl - t->detail) : strlen(t->detail);

			rc = wd_buf_printf(&item, ": %.*s", (int)(dl > 200 ? 200 : dl), t->detail);
		}
		if (!rc)
			rc = wd_buf_putc(&item, '\n');
		if (!rc && out->len - start + item.len <= budget) {
			rc = wd_buf_put(out, item.ptr, item.len);
			shown++;
		}
		wd_buf_free(&item);
		if (rc)
			return rc;
	}
	if (total > shown)
		return wd_buf_printf(out, "  - … and %zu more failing tests\n", total - shown);
	return 0;
}

int wd_gate_check_section(wd_buf *out, const wd_check_result *cr, const wd_check_result *base,
                          const wd_verdict *v, size_t budget)
{
	wd_strvec names = WD_STRVEC_INIT;
	size_t start = out->len, used;
	int rc;

	if ((rc = wd_gate_check_header(out, cr)) != 0)
		goto out;
	if (base && !base->passed && !base->timed_out && !cr->timed_out &&
	    (rc = wd_buf_printf(out, "(this check also failed on the base commit, exit %d)\n",
	                        base->exit_code)) != 0)
		goto out;
	if (cr->counts_known && cr->check->kind != WD_CHECK_ANALYZE &&
	    (rc = wd_buf_printf(out, "%zu passed, %zu failed\n", cr->tests_passed, cr->tests_failed)) != 0)
		goto out;
	if (cr->tests.failed || cr->tests.n) {
		size_t before = out->len;

		if ((rc = wd_buf_puts(out, "Failing tests:\n")) != 0)
			goto out;
		used = out->len - start;
		if ((rc = failing_tests(out, &names, cr, base, v, budget > used ? (budget - used) / 2 : 0)) != 0)
			goto out;
		if (names.n == 0)
			wd_buf_truncate(out, before);
	}
	used = out->len - start;
	if (used < budget) {
		if ((rc = wd_buf_puts(out, "Relevant output:\n")) != 0)
			goto out;
		used = out->len - start;
		rc = wd_gate_excerpt(out, cr->output.ptr, cr->output.len, &names,
		                     budget > used ? budget - used : 0);
	}
out:
	wd_strvec_free(&names);
	return rc;
}

/* "Not run because a build check failed: test, lint" (nothing when none). */
static int skipped_line(wd_buf *out, const wd_gate_result *r)
{
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; r && i < r->n && !rc; i++) {
		if (!r->v[i].skipped)
			continue;
		rc = wd_buf_printf(out, "%s%s", n++ ? ", " : "Not run because a build check failed: ",
		                   r->v[i].check->name);
	}
	if (!rc && n)
		rc = wd_buf_putc(out, '\n');
	return rc;
}

/* What every summary ends with. Check output was redacted when it was
 * captured; results files, cached baselines and quoted source were not:
 * this is what reaches the model. */
static int finish(wd_buf *out, size_t max_bytes, int rc)
{
	if (!rc)
		rc = wd_redact_buf(out);
	if (!rc)
		rc = wd_gate_bound(out, max_bytes);
	return rc;
}

int wd_gate_summary(wd_buf *out, const wd_gate_result *patched,
                    const wd_gate_result *baseline, size_t max_bytes)
{
	size_t failing = 0, done = 0;
	int rc = 0;

	wd_buf_clear(out);
	for (size_t i = 0; i < patched->n; i++)
		failing += !patched->v[i].passed && !patched->v[i].skipped;
	if (!failing) {
		rc = wd_buf_puts(out, "All checks passed.\n");
		goto out;
	}
	if ((rc = wd_buf_printf(out, "%zu of %zu checks failed.\n", failing, patched->n)) != 0 ||
	    (rc = skipped_line(out, patched)) != 0)
		goto out;
	for (size_t i = 0; i < patched->n; i++) {
		const wd_check_result *cr = &patched->v[i];
		size_t left, share;

		if (cr->passed || cr->skipped)
			continue;
		left = max_bytes > out->len ? max_bytes - out->len : 0;
		share = left / (failing - done);
		done++;
		if ((rc = wd_gate_check_section(out, cr, find_check(baseline, cr->check->name), NULL,
		                                share)) != 0)
			goto out;
	}
out:
	return finish(out, max_bytes, rc);
}

/* ------------------------------------------------------ repair summary */

int wd_gate_source_dir(void *ctx, const char *path, wd_buf *out)
{
	int root = -1, rc;

	if ((rc = wd_root_open(&root, (const char *)ctx)) != 0)
		return rc;
	rc = wd_beneath_read(out, root, path, SOURCE_FILE_MAX);
	close(root);
	return rc;
}

static int source_context(wd_buf *out, const wd_gate_source *from, const wd_finding *f)
{
	wd_buf src = WD_BUF_INIT;
	const char *pos, *end;
	wd_slice line;
	unsigned n = 0;
	int rc = 0;

	/* f->file comes from analyzer output: the source decides what it may show */
	if (!from || !from->read || !f->line || !wd_path_rel_inside(f->file))
		return 0;
	if (from->read(from->ctx, f->file, &src) != 0 || src.len > SOURCE_FILE_MAX) {
		wd_error_clear();
		goto out;
	}
	pos = src.ptr;
	end = src.ptr + src.len;
	while (!rc && wd_gate_next_line(&line, &pos, end) && ++n <= f->line + 2) {
		char prefix[32];

		if (n + 2 < f->line)
			continue;
		snprintf(prefix, sizeof(prefix), "    %s%5u | ", n == f->line ? ">" : " ", n);
		rc = put_line(out, prefix, line);
	}
out:
	wd_buf_free(&src);
	return rc;
}

int wd_gate_repair_summary(wd_buf *out, const wd_verdict *v, const wd_gate_result *patched,
                           const wd_gate_source *src, size_t max_bytes)
{
	size_t failing = 0, done = 0;
	int rc = 0;

	wd_buf_clear(out);
	if (v->passed) {
		rc = wd_buf_puts(out, "All checks passed.\n");
		goto out;
	}
	if ((rc = wd_buf_puts(out, "The gate refused this patch:\n")) != 0)
		goto out;
	for (size_t i = 0; i < v->reasons.n; i++)
		if ((rc = wd_buf_printf(out, "- %s\n", v->reasons.v[i])) != 0)
			goto out;
	if ((rc = skipped_line(out, patched)) != 0)
		goto out;
	if (v->new_findings.n) {
		size_t budget = max_bytes > out->len ? (max_bytes - out->len) / 2 : 0, start = out->len;

		if ((rc = wd_buf_puts(out, "New findings on lines this patch changed:\n")) != 0)
			goto out;
		for (size_t i = 0; i < v->new_findings.n; i++) {
			const wd_finding *f = &v->new_findings.v[i];
			wd_buf item = WD_BUF_INIT;

			rc = wd_buf_printf(&item, "  %s:%u:%u: %s: %s%s%s%s\n", f->file, f->line, f->col,
			                   f->severity, f->message, f->rule ? " [" : "",
			                   f->rule ? f->rule : "", f->rule ? "]" : "");
			if (!rc)
				rc = source_context(&item, src, f);
			if (!rc && out->len - start + item.len <= budget)
				rc = wd_buf_put(out, item.ptr, item.len);
			wd_buf_free(&item);
			if (rc)
				goto out;
		}
	}
	for (size_t i = 0; i < v->failed_checks.n; i++) {
		for (size_t j = 0; patched && j < patched->n; j++)
			if (!strcmp(patched->v[j].check->name, v->failed_checks.v[i]) &&
			    (patched->v[j].check->kind != WD_CHECK_ANALYZE || patched->v[j].timed_out) &&
			    !patched->v[j].skipped)
				failing++;
	}
	for (size_t j = 0; patched && j < patched->n; j++) {
		const wd_check_result *cr = &patched->v[j];
		size_t left;

		if ((cr->check->kind == WD_CHECK_ANALYZE && !cr->timed_out) || cr->skipped)
			continue;
		if (!wd_strvec_contains(&v->failed_checks, cr->check->name))
			continue;
		left = max_bytes > out->len ? max_bytes - out->len : 0;
		if (!failing || done >= failing)
			break;
		if ((rc = wd_gate_check_section(out, cr, NULL, v, left / (failing - done))) != 0)
			goto out;
		done++;
	}
out:
	return finish(out, max_bytes, rc);
}
