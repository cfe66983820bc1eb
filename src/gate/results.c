/*
 * Per-test results from check output: JUnit XML, TAP, pytest, go test,
 * cargo test, Python unittest, CTest, Check, "ok NAME"/"FAIL NAME" lines, and
 * a bare "N passed, N failed". Each parser fills its own report; the
 * most specific one that found anything wins. Input is untrusted: every
 * name and message is bounded, and so is the number of cases kept.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_int.h"
#include "warden/error.h"
#include "warden/test_report.h"

const char *wd_test_status_name(wd_test_status s)
{
	switch (s) {
	case WD_TEST_PASS: return "pass";
	case WD_TEST_FAIL: return "fail";
	case WD_TEST_SKIP: return "skip";
	}
	return "unknown";
}

/* A printable, bounded copy: control bytes become spaces. */
static char *clean_copy(const char *p, size_t n, size_t max)
{
	char *s;

	if (n > max)
		n = max;
	if (!(s = malloc(n + 1))) {
		wd_error_set(WD_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		s[i] = (unsigned char)p[i] < 0x20 && p[i] != '\n' ? ' ' : (char)p[i];
	s[n] = '\0';
	return s;
}

static int report_push(wd_test_report *r, const char *name, size_t name_len,
                       wd_test_status st, const char *detail, size_t detail_len)
{
	wd_test_case *c;

	if (name_len == 0)
		return 0;
	if (r->n >= WD_MAX_CASES)
		return 0;
	if (WD_ARRAY_RESERVE(r->v, r->cap, r->n + 1, 16) != 0)
		return WD_ENOMEM;
	c = &r->v[r->n];
	c->status = st;
	c->detail = NULL;
	if (!(c->name = clean_copy(name, name_len, WD_NAME_MAX)))
		return WD_ENOMEM;
	if (detail && detail_len && !(c->detail = clean_copy(detail, detail_len, WD_DETAIL_MAX))) {
		free(c->name);
		return WD_ENOMEM;
	}
	r->n++;
	return 0;
}

void wd_test_report_free(wd_test_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].detail);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Parsed reports are sorted by name (report_finish), so look there first;
 * a report assembled in another order is still searched in full. */
const wd_test_case *wd_test_report_find(const wd_test_report *r, const char *name)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->v[mid].name, name);

		if (c == 0)
			return &r->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].name, name))
			return &r->v[i];
	return NULL;
}

/* The totals a format's summary gave (or its complete list implies): the
 * one place that says the counts are known. */
static void report_counts(wd_test_report *r, size_t passed, size_t failed, size_t skipped)
{
	r->passed = passed;
	r->failed = failed;
	r->skipped = skipped;
	r->counts_known = 1;
}

static int status_rank(wd_test_status s)
{
	return s == WD_TEST_FAIL ? 2 : s == WD_TEST_PASS ? 1 : 0;
}

static int cmp_case(const void *a, const void *b)
{
	return strcmp(((const wd_test_case *)a)->name, ((const wd_test_case *)b)->name);
}

/* Sort by name and fold duplicates (a test reported twice counts as failing
 * if either report failed); fill the totals the summary did not give. */
static void report_finish(wd_test_report *r)
{
	size_t w = 0, p = 0, f = 0, s = 0;

	if (r->n > 1)
		qsort(r->v, r->n, sizeof(*r->v), cmp_case);
	for (size_t i = 0; i < r->n; i++) {
		if (w > 0 && !strcmp(r->v[w - 1].name, r->v[i].name)) {
			wd_test_case *keep = &r->v[w - 1], *dup = &r->v[i];

			if (status_rank(dup->status) > status_rank(keep->status) ||
			    (dup->status == keep->status && !keep->detail && dup->detail)) {
				keep->status = dup->status;
				free(keep->detail);
				keep->detail = dup->detail;
				dup->detail = NULL;
			}
			free(dup->name);
			free(dup->detail);
			continue;
		}
		r->v[w++] = r->v[i];
	}
	r->n = w;
	for (size_t i = 0; i < r->n; i++) {
		p += r->v[i].status == WD_TEST_PASS;
		f += r->v[i].status == WD_TEST_FAIL;
		s += r->v[i].status == WD_TEST_SKIP;
	}
	if (!r->counts_known && r->complete)
		report_counts(r, p, f, s);
	if (r->counts_known && r->failed < f)
		r->failed = f; /* never report fewer failures than we can name */
}

/* ------------------------------------------------------------- JUnit XML */

/* Value of attribute `name` inside the tag [tag, tag_end), entity-decoded into out. */
static int xml_attr(wd_buf *out, const char *tag, size_t tag_len, const char *name)
{
	size_t nl = strlen(name);

	wd_buf_clear(out);
	for (size_t i = 0; i + nl + 2 < tag_len; i++) {
		char q;
		size_t j;

		if (memcmp(tag + i, name, nl) != 0 || tag[i + nl] != '=' ||
		    (i > 0 && !isspace((unsigned char)tag[i - 1])))
			continue;
		q = tag[i + nl + 1];
		if (q != '"' && q != '\'')
			continue;
		for (j = i + nl + 2; j < tag_len && tag[j] != q; j++) {
			const char *e = tag + j;
			size_t rest = tag_len - j;
			int rc;

			if (*e == '&') {
				static const struct { const char *ent; char c; } ents[] = {
					{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
					{ "&quot;", '"' }, { "&apos;", '\'' }, { "&#10;", '\n' },
				};
				size_t k;

				for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
					size_t el = strlen(ents[k].ent);

					if (rest >= el && !memcmp(e, ents[k].ent, el)) {
						if ((rc = wd_buf_putc(out, ents[k].c)) != 0)
							return rc;
						j += el - 1;
						break;
					}
				}
				if (k < sizeof(ents) / sizeof(ents[0]))
					continue;
			}
			if ((rc = wd_buf_putc(out, *e)) != 0)
				return rc;
		}
		return 1;
	}
	return 0;
}

static const char *mem_find(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle));
}

/* The '>' that closes the tag at p, skipping quoted attribute values. */
static const char *tag_close(const char *p, const char *end)
{
	char q = 0;

	for (; p < end; p++) {
		if (q) {
			if (*p == q)
				q = 0;
		} else if (*p == '"' || *p == '\'') {
			q = *p;
		} else if (*p == '>') {
			return p;
		}
	}
	return NULL;
}

/* The text of an element body [p, end): CDATA as is, else up to the next tag. */
static int element_text(wd_buf *out, const char *p, const char *end)
{
	const char *e;

	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	if ((size_t)(end - p) >= 9 && !memcmp(p, "<![CDATA[", 9)) {
		p += 9;
		e = memmem(p, (size_t)(end - p), "]]>", 3);
		return wd_buf_put(out, p, (size_t)((e ? e : end) - p));
	}
	e = memchr(p, '<', (size_t)(end - p));
	return wd_buf_put(out, p, (size_t)((e ? e : end) - p));
}

static int parse_junit(wd_test_report *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	wd_buf name = WD_BUF_INIT, cls = WD_BUF_INIT, full = WD_BUF_INIT, msg = WD_BUF_INIT;
	int rc = 0;

	while ((p = mem_find(p, (size_t)(end - p), "<testcase")) != NULL) {
		const char *tag_end = tag_close(p, end);
		const char *body, *body_end, *f;
		wd_test_status st = WD_TEST_PASS;
		size_t tag_len;

		if (!tag_end)
			break;
		tag_len = (size_t)(tag_end - p);
		if (p[9] != ' ' && p[9] != '\t' && p[9] != '\n' && p[9] != '\r' && p[9] != '>' && p[9] != '/') {
			p += 9;
			continue;
		}
		if ((rc = xml_attr(&name, p, tag_len, "name")) < 0 ||
		    (rc = xml_attr(&cls, p, tag_len, "classname")) < 0)
			goto out;
		wd_buf_clear(&full);
		wd_buf_clear(&msg);
		if (cls.len && (rc = wd_buf_printf(&full, "%s.", cls.ptr)) != 0)
			goto out;
		if ((rc = wd_buf_put(&full, name.ptr ? name.ptr : "", name.len)) != 0)
			goto out;
		body = tag_end + 1;
		body_end = body;
		if (tag_end[-1] != '/') {
			body_end = mem_find(body, (size_t)(end - body), "</testcase>");
			if (!body_end)
				body_end = end;
			if ((f = mem_find(body, (size_t)(body_end - body), "<failure")) != NULL ||
			    (f = mem_find(body, (size_t)(body_end - body), "<error")) != NULL) {
				const char *fe = tag_close(f, body_end);

				st = WD_TEST_FAIL;
				if (fe && (rc = xml_attr(&msg, f, (size_t)(fe - f), "message")) < 0)
					goto out;
				if (fe && msg.len == 0 && fe[-1] != '/' &&
				    (rc = element_text(&msg, fe + 1, body_end)) != 0)
					goto out;
			} else if (mem_find(body, (size_t)(body_end - body), "<skipped")) {
				st = WD_TEST_SKIP;
			}
		}
		rc = report_push(r, full.ptr, full.len, st, msg.ptr, msg.len);
		if (rc)
			goto out;
		r->format = "junit";
		r->complete = 1;
		p = body_end > p ? body_end : p + 9;
	}
	rc = 0;
out:
	wd_buf_free(&name);
	wd_buf_free(&cls);
	wd_buf_free(&full);
	wd_buf_free(&msg);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------- TAP */

static int parse_tap(wd_test_report *r, const char *text, size_t len)
{
	const char *pos = text, *end = text + len;
	wd_slice line;
	size_t plan = 0, numbered = 0, last_fail = (size_t)-1;
	int have_plan = 0, rc;
	wd_test_report tmp = WD_TEST_REPORT_INIT;
	wd_buf detail = WD_BUF_INIT;

	while (wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = line, desc;
		wd_test_status st;
		size_t num = 0;
		long hash;

		if (wd_slice_starts(s, "1..")) {
			s.p += 3;
			s.n -= 3;
			if (wd_slice_uint(&s, &plan))
				have_plan = 1;
			continue;
		}
		if (wd_slice_starts(s, "Bail out!")) {
			if ((rc = report_push(&tmp, "Bail out!", 9, WD_TEST_FAIL, s.p, s.n)) != 0)
				goto out;
			continue;
		}
		/* diagnostics after a failure: "# got: 3" or an indented YAML block */
		if (last_fail != (size_t)-1 && s.n && (s.p[0] == '#' || s.p[0] == ' ')) {
			wd_slice t = wd_slice_trim(s);

			if (t.n && detail.len < WD_DETAIL_MAX && !wd_slice_eq(t, "---") && !wd_slice_eq(t, "...")) {
				if ((detail.len && (rc = wd_buf_putc(&detail, '\n')) != 0) ||
				    (rc = wd_buf_put(&detail, t.p, t.n)) != 0)
					goto out;
			}
			continue;
		}
		if (last_fail != (size_t)-1 && detail.len && last_fail < tmp.n && !tmp.v[last_fail].detail)
			tmp.v[last_fail].detail = clean_copy(detail.ptr, detail.len, WD_DETAIL_MAX);
		wd_buf_clear(&detail);
		last_fail = (size_t)-1;
		if (wd_slice_starts(s, "ok")) {
			st = WD_TEST_PASS;
			s.p += 2;
			s.n -= 2;
		} else if (wd_slice_starts(s, "not ok")) {
			st = WD_TEST_FAIL;
			s.p += 6;
			s.n -= 6;
		} else {
			continue;
		}
		if (s.n && s.p[0] != ' ')
			continue; /* "okay", "ok:" */
		s = wd_slice_trim(s);
		if (wd_slice_uint(&s, &num))
			numbered++;
		s = wd_slice_trim(s);
		if (wd_slice_starts(s, "- "))
			s.p += 2, s.n -= 2;
		desc = s;
		hash = wd_slice_find(s, " # ");
		if (hash >= 0 || wd_slice_starts(s, "# ")) {
			wd_slice dir;

			if (hash < 0)
				hash = -1;
			dir.p = s.p + hash + 3;
			dir.n = s.n - (size_t)(hash + 3);
			if (wd_slice_find_ci(dir, "skip") == 0 || wd_slice_find_ci(dir, "todo") == 0)
				st = WD_TEST_SKIP;
			desc.n = hash < 0 ? 0 : (size_t)hash;
		}
		desc = wd_slice_trim(desc);
		if (desc.n == 0) {
			char nb[32];

			snprintf(nb, sizeof(nb), "#%zu", num);
			rc = report_push(&tmp, nb, strlen(nb), st, NULL, 0);
		} else {
			rc = report_push(&tmp, desc.p, desc.n, st, NULL, 0);
		}
		if (rc)
			goto out;
		if (st == WD_TEST_FAIL)
			last_fail = tmp.n - 1;
	}
	if (last_fail != (size_t)-1 && detail.len && last_fail < tmp.n && !tmp.v[last_fail].detail)
		tmp.v[last_fail].detail = clean_copy(detail.ptr, detail.len, WD_DETAIL_MAX);
	rc = 0;
	/* Plain "ok" lines appear in much non-TAP output: ask for a plan or numbers. */
	if (tmp.n && (have_plan || numbered == tmp.n)) {
		size_t seen = tmp.n;

		*r = tmp;
		memset(&tmp, 0, sizeof(tmp));
		r->format = "tap";
		r->complete = 1;
		if (have_plan && plan > seen) {
			/* tests that never reported (a crash) count as failures */
			char nb[64];

			snprintf(nb, sizeof(nb), "planned %zu tests, ran %zu", plan, seen);
			rc = report_push(r, nb, strlen(nb), WD_TEST_FAIL, NULL, 0);
		}
	}
out:
	wd_buf_free(&detail);
	wd_test_report_free(&tmp);
	return rc;
}

/* ---------------------------------------------------------------- pytest */

static const char *const pytest_words[] = { "PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS" };

static wd_test_status pytest_status(size_t k)
{
	return k == 0 || k == 5 ? WD_TEST_PASS : k == 1 || k == 2 ? WD_TEST_FAIL : WD_TEST_SKIP;
}

/* "3 failed, 10 passed, 1 skipped in 0.12s" (bare, or inside "=====") */
static int pytest_summary(wd_test_report *r, wd_slice s)
{
	size_t passed = 0, failed = 0, skipped = 0, any = 0;
	long in;

	s = wd_slice_trim(s);
	while (s.n && s.p[0] == '=')
		s.p++, s.n--;
	in = wd_slice_find(s, " in ");
	if (in < 0)
		return 0;
	{
		/* " in 0.12s" or " in 1.05 seconds" */
		wd_slice d = { s.p + in + 4, s.n - (size_t)in - 4 };
		size_t secs;

		if (!wd_slice_uint(&d, &secs))
			return 0;
		if (d.n && d.p[0] == '.') {
			d.p++, d.n--;
			(void)wd_slice_uint(&d, &secs);
		}
		if (!d.n || (d.p[0] != 's' && d.p[0] != ' '))
			return 0;
	}
	s.n = (size_t)in;
	while (s.n) {
		size_t v;
		wd_slice w;

		s = wd_slice_trim(s);
		if (!wd_slice_uint(&s, &v))
			return 0;
		if (!s.n || s.p[0] != ' ')
			return 0;
		s.p++, s.n--;
		w = s;
		w.n = 0;
		while (w.n < s.n && isalpha((unsigned char)s.p[w.n]))
			w.n++;
		if (wd_slice_eq(w, "passed") || wd_slice_eq(w, "xpassed"))
			passed += v, any = 1;
		else if (wd_slice_eq(w, "failed") || wd_slice_eq(w, "error") || wd_slice_eq(w, "errors"))
			failed += v, any = 1;
		else if (wd_slice_eq(w, "skipped") || wd_slice_eq(w, "xfailed") || wd_slice_eq(w, "deselected"))
			skipped += v, any = 1;
		else if (!wd_slice_eq(w, "warning") && !wd_slice_eq(w, "warnings") &&
		         !wd_slice_eq(w, "rerun") && !wd_slice_eq(w, "subtests"))
			return 0;
		s.p += w.n, s.n -= w.n;
		if (s.n && s.p[0] == ',')
			s.p++, s.n--;
	}
	if (!any)
		return 0;
	report_counts(r, passed, failed, skipped);
	return 1;
}

static int parse_pytest(wd_test_report *r, const char *text, size_t len)
{
	const char *pos = text, *end = text + len;
	wd_slice line;
	int summary = 0, rc;

	while (wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = wd_slice_trim(line);
		long sep;

		if ((s.n && s.p[0] == '=') || wd_slice_find(s, " in ") > 0) {
			if (pytest_summary(r, s)) {
				summary = 1;
				continue;
			}
		}
		/* short summary: "FAILED tests/test_a.py::test_x - AssertionError: ..." */
		if (wd_slice_starts(s, "FAILED ") || wd_slice_starts(s, "ERROR ")) {
			size_t k = s.p[0] == 'F' ? 1 : 2;
			size_t wl = strlen(pytest_words[k]);

			if (wd_slice_starts(s, pytest_words[k]) && s.n > wl + 1 && s.p[wl] == ' ') {
				wd_slice id = { s.p + wl + 1, s.n - wl - 1 };
				long dash = wd_slice_find(id, " - ");
				wd_slice msg = { "", 0 };

				if (wd_slice_find(id, "::") < 0)
					continue;
				if (dash > 0) {
					msg.p = id.p + dash + 3;
					msg.n = id.n - (size_t)dash - 3;
					id.n = (size_t)dash;
				}
				if ((rc = report_push(r, id.p, id.n, WD_TEST_FAIL, msg.p, msg.n)) != 0)
					return rc;
				r->format = "pytest";
				continue;
			}
		}
		/* verbose: "tests/test_a.py::test_x PASSED   [ 50%]" */
		sep = wd_slice_find(s, "::");
		/* a node id starts with a path without spaces ("tests/test_a.py::") */
		if (sep > 0 && memchr(s.p, ' ', (size_t)sep) == NULL) {
			for (size_t k = 0; k < sizeof(pytest_words) / sizeof(pytest_words[0]); k++) {
				char pat[16];
				long at;

				snprintf(pat, sizeof(pat), " %s", pytest_words[k]);
				at = wd_slice_find(s, pat);
				if (at > sep && (at + (long)strlen(pat) == (long)s.n ||
				                 s.p[at + (long)strlen(pat)] == ' ')) {
					if ((rc = report_push(r, s.p, (size_t)at, pytest_status(k), NULL, 0)) != 0)
						return rc;
					r->format = "pytest";
					if (k == 0)
						r->complete = 1;
					break;
				}
			}
		}
	}
	if (summary && !r->format)
		r->format = "pytest";
	return 0;
}

/* ----------------------------------------------------------------- CTest */

static int parse_ctest(wd_test_report *r, const char *text, size_t len)
{
	const char *pos = text, *end = text + len;
	wd_slice line;
	int rc;

	while (wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = wd_slice_trim(line);
		long at;
		size_t pct, failed, total;

		/* "90% tests passed, 1 tests failed out of 10" */
		if ((at = wd_slice_find(s, "% tests passed, ")) > 0) {
			wd_slice t = { s.p + at + 16, s.n - (size_t)at - 16 };
			wd_slice p0 = s;

			if (wd_slice_uint(&p0, &pct) && wd_slice_uint(&t, &failed) &&
			    wd_slice_starts(t, " tests failed out of ")) {
				t.p += 21, t.n -= 21;
				if (wd_slice_uint(&t, &total) && failed <= total) {
					report_counts(r, total - failed, failed, 0);
					r->format = "ctest";
				}
			}
			continue;
		}
		/* "1/3 Test  #1: name ......   Passed    0.01 sec" */
		if ((at = wd_slice_find(s, "Test ")) >= 0 && at < 16 && wd_slice_find(s, " sec") > 0) {
			wd_slice t = { s.p + at + 5, s.n - (size_t)at - 5 };
			size_t num;
			const char *name, *dots;
			long colon;

			t = wd_slice_trim(t);
			if (!t.n || t.p[0] != '#')
				continue;
			t.p++, t.n--;
			if (!wd_slice_uint(&t, &num) || !t.n || t.p[0] != ':')
				continue;
			t.p++, t.n--;
			t = wd_slice_trim(t);
			name = t.p;
			colon = wd_slice_find(t, " ");
			if (colon <= 0)
				continue;
			dots = t.p + colon;
			{
				wd_slice rest = { dots, t.n - (size_t)colon };
				wd_test_status st;

				if (wd_slice_find(rest, "***") >= 0 || wd_slice_find(rest, "Failed") >= 0)
					st = WD_TEST_FAIL;
				else if (wd_slice_find(rest, "Passed") >= 0)
					st = WD_TEST_PASS;
				else if (wd_slice_find(rest, "Skipped") >= 0 || wd_slice_find(rest, "Not Run") >= 0)
					st = WD_TEST_SKIP;
				else
					continue;
				if ((rc = report_push(r, name, (size_t)colon, st, NULL, 0)) != 0)
					return rc;
				r->format = "ctest";
				if (st == WD_TEST_PASS)
					r->complete = 1;
			}
		}
	}
	return 0;
}

/* ----------------------------------------------------------------- Check */

/* "tests/unit/test_x.c:45:F:core:test_name:0: Assertion 'x == 1' failed" */
static int check_line(wd_test_report *r, wd_slice s)
{
	wd_slice t = { NULL, 0 }, field[5];
	size_t num;
	wd_test_status st;

	/* find ":<line>:[PFE]:" after the file name */
	for (size_t i = 1; i < s.n && !t.p; i++) {
		wd_slice probe = { s.p + i + 1, s.n - i - 1 };

		if (s.p[i] != ':')
			continue;
		if (wd_slice_uint(&probe, &num) && probe.n > 3 && probe.p[0] == ':' &&
		    (probe.p[1] == 'P' || probe.p[1] == 'F' || probe.p[1] == 'E') && probe.p[2] == ':') {
			t.p = probe.p + 1;
			t.n = probe.n - 1;
		}
	}
	if (!t.p)
		return 0;
	/* t = "F:tcase:test:iter: message" */
	for (int i = 0; i < 4; i++) {
		long k = wd_slice_find(t, ":");

		if (k < 0)
			return 0;
		field[i].p = t.p;
		field[i].n = (size_t)k;
		t.p += k + 1;
		t.n -= (size_t)k + 1;
	}
	field[4] = wd_slice_trim(t);
	if (field[0].n != 1 || field[1].n == 0 || field[2].n == 0)
		return 0;
	{
		wd_slice it = field[3];

		if (!wd_slice_uint(&it, &num) || it.n)
			return 0;
	}
	st = field[0].p[0] == 'P' ? WD_TEST_PASS : WD_TEST_FAIL;
	{
		wd_buf name = WD_BUF_INIT;
		int rc;

		if ((rc = wd_buf_put(&name, field[1].p, field[1].n)) == 0 &&
		    (rc = wd_buf_putc(&name, ':')) == 0 &&
		    (rc = wd_buf_put(&name, field[2].p, field[2].n)) == 0)
			rc = report_push(r, name.ptr, name.len, st,
			                 st == WD_TEST_FAIL ? field[4].p : NULL, field[4].n);
		wd_buf_free(&name);
		if (rc)
			return rc;
	}
	if (st == WD_TEST_PASS)
		r->complete = 1;
	r->format = "check";
	return 0;
}

static int parse_check(wd_test_report *r, const char *text, size_t len)
{
	const char *pos = text, *end = text + len;
	wd_slice line;
	size_t checks = 0, failures = 0, errors = 0;
	int summaries = 0, rc;

	while (wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = wd_slice_trim(line);
		long at = wd_slice_find(s, "%: Checks: ");

		if (at > 0) {
			wd_slice t = { s.p + at + 11, s.n - (size_t)at - 11 };
			size_t c, f, e;

			if (wd_slice_uint(&t, &c) && wd_slice_starts(t, ", Failures: ") &&
			    (t.p += 12, t.n -= 12, wd_slice_uint(&t, &f)) &&
			    wd_slice_starts(t, ", Errors: ") &&
			    (t.p += 10, t.n -= 10, wd_slice_uint(&t, &e)) && f + e <= c) {
				checks += c;
				failures += f;
				errors += e;
				summaries++;
			}
			continue;
		}
		if ((rc = check_line(r, s)) != 0)
			return rc;
	}
	if (summaries) {
		report_counts(r, checks - failures - errors, failures + errors, 0);
		r->format = "check";
	}
	return 0;
}

/* -------------------------------------------------- "N passed, N failed" */

static int parse_counts(wd_test_report *r, const char *text, size_t len)
{
	const char *pos = text, *end = text + len;
	wd_slice line;

	while (wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = line;
		size_t passed = 0, failed = 0;
		int got_p = 0, got_f = 0;

		for (size_t i = 0; i < s.n; i++) {
			wd_slice t = { s.p + i, s.n - i };
			size_t v;

			if (!isdigit((unsigned char)s.p[i]) || (i > 0 && isalnum((unsigned char)s.p[i - 1])))
				continue;
			if (!wd_slice_uint(&t, &v))
				continue;
			if (wd_slice_starts(t, " passed"))
				passed = v, got_p = 1;
			else if (wd_slice_starts(t, " failed"))
				failed = v, got_f = 1;
			i = (size_t)(t.p - s.p);
		}
		if (got_p && got_f) {
			report_counts(r, passed, failed, 0);
			r->format = "counts";
		}
	}
	return 0;
}

/* -------------------------------------------------------------- go test */

/* "--- FAIL: TestX/sub (0.01s)", indented for subtests; the indented lines
 * after a failure ("    x_test.go:12: got 3") are its message. */
static int parse_go(wd_test_report *r, const char *text, size_t len)
{
	const char *pos = text, *end = text + len;
	wd_slice line;
	size_t last_fail = (size_t)-1;
	int rc;

	while (wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = wd_slice_trim(line), name;
		wd_test_status st;
		long paren;

		if (wd_slice_starts(s, "--- PASS: "))
			st = WD_TEST_PASS;
		else if (wd_slice_starts(s, "--- FAIL: "))
			st = WD_TEST_FAIL;
		else if (wd_slice_starts(s, "--- SKIP: "))
			st = WD_TEST_SKIP;
		else {
			if (last_fail != (size_t)-1 && line.n > 4 && line.p[0] == ' ' && s.n &&
			    !wd_slice_starts(s, "=== ") && !r->v[last_fail].detail) {
				r->v[last_fail].detail = clean_copy(s.p, s.n, WD_DETAIL_MAX);
				last_fail = (size_t)-1;
			}
			continue;
		}
		name.p = s.p + 10;
		name.n = s.n - 10;
		paren = wd_slice_find(name, " (");
		if (paren > 0)
			name.n = (size_t)paren;
		name = wd_slice_trim(name);
		if ((rc = report_push(r, name.p, name.n, st, NULL, 0)) != 0)
			return rc;
		r->format = "go";
		if (st == WD_TEST_PASS)
			r->complete = 1;
		last_fail = st == WD_TEST_FAIL ? r->n - 1 : (size_t)-1;
	}
	return 0;
}

/* ------------------------------------------------------------ cargo test */

/* "test tests::adds ... ok" and "test result: FAILED. 1 passed; 1 failed; 0 ignored; ..." */
static int parse_cargo(wd_test_report *r, const char *text, size_t len)
{
	const char *pos = text, *end = text + len;
	wd_slice line;
	size_t passed = 0, failed = 0, ignored = 0;
	int summaries = 0, rc;

	while (wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = wd_slice_trim(line);
		long dots;

		if (wd_slice_starts(s, "test result: ")) {
			wd_slice t = s;
			long at;
			size_t v;

			at = wd_slice_find(t, ". ");
			if (at < 0)
				continue;
			t.p += at + 2, t.n -= (size_t)at + 2;
			while (wd_slice_uint(&t, &v)) {
				if (wd_slice_starts(t, " passed"))
					passed += v;
				else if (wd_slice_starts(t, " failed"))
					failed += v;
				else if (wd_slice_starts(t, " ignored"))
					ignored += v;
				at = wd_slice_find(t, "; ");
				if (at < 0)
					break;
				t.p += at + 2, t.n -= (size_t)at + 2;
			}
			summaries++;
			continue;
		}
		if (!wd_slice_starts(s, "test ") || (dots = wd_slice_find(s, " ... ")) < 6)
			continue;
		{
			wd_slice name = { s.p + 5, (size_t)dots - 5 };
			wd_slice res = { s.p + dots + 5, s.n - (size_t)dots - 5 };
			wd_test_status st;

			if (wd_slice_eq(res, "ok"))
				st = WD_TEST_PASS;
			else if (wd_slice_starts(res, "FAILED"))
				st = WD_TEST_FAIL;
			else if (wd_slice_starts(res, "ignored"))
				st = WD_TEST_SKIP;
			else
				continue;
			if ((rc = report_push(r, name.p, name.n, st, NULL, 0)) != 0)
				return rc;
			r->format = "cargo";
			r->complete = 1;
		}
	}
	if (summaries) {
		report_counts(r, passed, failed, ignored);
		r->format = "cargo";
	}
	return 0;
}

/* ------------------------------------------------------ python unittest */

/* "test_x (pkg.mod.Class.test_x)" or "test_x (pkg.mod.Class)" -> the dotted id. */
static int unittest_name(wd_buf *out, wd_slice s)
{
	long open = wd_slice_find(s, " (");
	wd_slice fn, cls;

	wd_buf_clear(out);
	if (open <= 0 || s.p[s.n - 1] != ')')
		return 0;
	fn.p = s.p;
	fn.n = (size_t)open;
	cls.p = s.p + open + 2;
	cls.n = s.n - (size_t)open - 3;
	if (!fn.n || !cls.n || memchr(fn.p, ' ', fn.n) || memchr(cls.p, ' ', cls.n))
		return 0;
	/* Python 3.11+ puts the full id in the parentheses already */
	if (cls.n > fn.n && !memcmp(cls.p + cls.n - fn.n, fn.p, fn.n) && cls.p[cls.n - fn.n - 1] == '.')
		return wd_buf_put(out, cls.p, cls.n) == 0;
	return wd_buf_put(out, cls.p, cls.n) == 0 && wd_buf_putc(out, '.') == 0 &&
	       wd_buf_put(out, fn.p, fn.n) == 0;
}

/* "Ran 5 tests in 0.002s", "FAIL: test_x (m.C.test_x)", "ERROR: ...", and
 * with -v "test_x (m.C.test_x) ... ok|FAIL|ERROR|skipped 'why'". */
static int parse_unittest(wd_test_report *r, const char *text, size_t len)
{
	const char *pos = text, *end = text + len;
	wd_slice line;
	wd_buf name = WD_BUF_INIT;
	size_t ran = 0;
	int have_ran = 0, rc = 0;

	while (!rc && wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = wd_slice_trim(line);
		long dots;

		if (wd_slice_starts(s, "Ran ")) {
			wd_slice t = { s.p + 4, s.n - 4 };

			if (wd_slice_uint(&t, &ran) && (wd_slice_starts(t, " tests in ") ||
			                                 wd_slice_starts(t, " test in ")))
				have_ran = 1;
			continue;
		}
		if (wd_slice_starts(s, "FAIL: ") || wd_slice_starts(s, "ERROR: ")) {
			wd_slice t = s;
			size_t skip = s.p[0] == 'F' ? 6 : 7;

			t.p += skip;
			t.n -= skip;
			if (unittest_name(&name, wd_slice_trim(t)))
				rc = report_push(r, name.ptr, name.len, WD_TEST_FAIL, NULL, 0);
			continue;
		}
		if ((dots = wd_slice_find(s, " ... ")) > 0) {
			wd_slice id = { s.p, (size_t)dots }, res = { s.p + dots + 5, s.n - (size_t)dots - 5 };
			wd_test_status st;

			if (wd_slice_eq(res, "ok") || wd_slice_eq(res, "expected failure"))
				st = WD_TEST_PASS;
			else if (wd_slice_eq(res, "FAIL") || wd_slice_eq(res, "ERROR") ||
			         wd_slice_eq(res, "unexpected success"))
				st = WD_TEST_FAIL;
			else if (wd_slice_starts(res, "skipped"))
				st = WD_TEST_SKIP;
			else
				continue;
			if (unittest_name(&name, id)) {
				rc = report_push(r, name.ptr, name.len, st, NULL, 0);
				if (st == WD_TEST_PASS)
					r->complete = 1;
			}
		}
	}
	wd_buf_free(&name);
	if (rc)
		return rc;
	if (!have_ran) {
		/* without "Ran N tests" this is not unittest output */
		wd_test_report_free(r);
		return 0;
	}
	r->format = "unittest";
	if (!r->complete) {
		size_t failed = 0, skipped = 0;

		for (size_t i = 0; i < r->n; i++) {
			failed += r->v[i].status == WD_TEST_FAIL;
			skipped += r->v[i].status == WD_TEST_SKIP;
		}
		report_counts(r, ran >= failed + skipped ? ran - failed - skipped : 0, failed, skipped);
	}
	return 0;
}

/* ------------------------------------------------ "ok name" / "FAIL name" */

static const struct { const char *word; wd_test_status st; } simple_words[] = {
	{ "ok", WD_TEST_PASS }, { "PASS", WD_TEST_PASS }, { "PASSED", WD_TEST_PASS },
	{ "FAIL", WD_TEST_FAIL }, { "FAILED", WD_TEST_FAIL }, { "SKIP", WD_TEST_SKIP },
	{ "SKIPPED", WD_TEST_SKIP },
};

static int simple_name_char(unsigned char c)
{
	return isalnum(c) || (c && strchr("_.:/[]-", c));
}

/*
 * Hand-rolled harnesses: "ok   mean", "FAIL median_even: got 3, want 2.5",
 * "PASS: test_x". Accepted only with at least one passing line and two
 * lines in all, names without spaces and not bare numbers, so that stray
 * "FAIL" lines of other tools are not mistaken for results. A "N passed,
 * N failed" line, when present, gives the totals.
 */
static int parse_simple(wd_test_report *r, const char *text, size_t len)
{
	const char *pos = text, *end = text + len;
	wd_slice line;
	size_t passes = 0;
	int rc;

	while (wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = line;

		for (size_t k = 0; k < sizeof(simple_words) / sizeof(simple_words[0]); k++) {
			size_t wl = strlen(simple_words[k].word), nl = 0, i;
			wd_slice rest, msg = { NULL, 0 };
			int digits = 1;

			if (s.n <= wl || memcmp(s.p, simple_words[k].word, wl) != 0)
				continue;
			i = wl;
			if (s.p[i] == ':')
				i++;
			if (i >= s.n || (s.p[i] != ' ' && s.p[i] != '\t'))
				continue;
			while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t'))
				i++;
			while (i + nl < s.n && simple_name_char((unsigned char)s.p[i + nl])) {
				digits &= isdigit((unsigned char)s.p[i + nl]) != 0;
				nl++;
			}
			if (nl == 0 || digits)
				break;
			/* a trailing ':' belongs to the message separator, not the name */
			if (s.p[i + nl - 1] == ':')
				nl--;
			if (nl == 0)
				break;
			rest.p = s.p + i + nl;
			rest.n = s.n - i - nl;
			if (rest.n && rest.p[0] == ':') {
				msg.p = rest.p + 1;
				msg.n = rest.n - 1;
			} else if (wd_slice_starts(rest, " - ")) {
				msg.p = rest.p + 3;
				msg.n = rest.n - 3;
			} else if (rest.n && wd_slice_trim(rest).n) {
				break; /* more words after the name: prose, not a result */
			}
			msg = msg.p ? wd_slice_trim(msg) : msg;
			if ((rc = report_push(r, s.p + i, nl, simple_words[k].st,
			                      simple_words[k].st == WD_TEST_FAIL ? msg.p : NULL, msg.n)) != 0)
				return rc;
			passes += simple_words[k].st == WD_TEST_PASS;
			break;
		}
	}
	if (passes == 0 || r->n < 2) {
		wd_test_report_free(r);
		return 0;
	}
	r->format = "simple";
	r->complete = 1;
	{
		wd_test_report counts = WD_TEST_REPORT_INIT;

		if ((rc = parse_counts(&counts, text, len)) != 0)
			return rc;
		if (counts.counts_known) {
			r->passed = counts.passed;
			r->failed = counts.failed;
			r->counts_known = 1;
		}
		wd_test_report_free(&counts);
	}
	return 0;
}

/* ---------------------------------------------------------------- choose */

typedef int (*parse_fn)(wd_test_report *r, const char *text, size_t len);

/*
 * Fold src (a finished report) into dst, emptying src: several results files
 * of one check (a results glob matching several JUnit files) make one report. Totals add up
 * when both sides know theirs; the listing is complete only if both are.
 */
static int report_merge(wd_test_report *dst, wd_test_report *src)
{
	if (!dst->format) {
		wd_test_report_free(dst);
		*dst = *src;
		memset(src, 0, sizeof(*src));
		return 0;
	}
	if (WD_ARRAY_RESERVE(dst->v, dst->cap, dst->n + src->n, 16) != 0) {
		wd_test_report_free(src);
		return WD_ENOMEM;
	}
	if (src->n)
		memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	src->n = 0;
	if (dst->counts_known && src->counts_known) {
		dst->passed += src->passed;
		dst->failed += src->failed;
		dst->skipped += src->skipped;
	} else {
		dst->counts_known = 0;
	}
	dst->complete = dst->complete && src->complete;
	if (dst->complete)
		dst->counts_known = 0; /* recount from the merged cases: a test in both counts once */
	wd_test_report_free(src);
	report_finish(dst);
	return 0;
}

int wd_results_parse(wd_test_report *out, const char *text, size_t len)
{
	/* most specific first */
	static const parse_fn parsers[] = { parse_junit, parse_tap, parse_pytest, parse_go,
	                                    parse_cargo, parse_unittest, parse_ctest, parse_check,
	                                    parse_simple, parse_counts };
	wd_buf clean = WD_BUF_INIT;
	int rc = 0;

	if (!text || !len)
		return 0;
	if ((rc = wd_gate_strip_ansi(&clean, text, len)) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		wd_test_report r = WD_TEST_REPORT_INIT;

		if (i == 0 && !memmem(clean.ptr, clean.len, "<testcase", 9))
			continue;
		if ((rc = parsers[i](&r, clean.ptr, clean.len)) != 0) {
			wd_test_report_free(&r);
			goto out;
		}
		if (!r.format || (!r.n && !r.counts_known)) {
			wd_test_report_free(&r);
			continue;
		}
		report_finish(&r);
		rc = report_merge(out, &r);
		break;
	}
out:
	wd_buf_free(&clean);
	return rc;
}
