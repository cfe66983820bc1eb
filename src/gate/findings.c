/*
 * Analyzer findings from text output: gcc/clang (and everything that copies
 * their "file:line:col: severity: message [rule]" shape: clang-tidy,
 * cppcheck --template=gcc and cppcheck 2.x's default), cppcheck 1.x's
 * "[file:line]: (severity) message", and flake8/ruff's "file:line:col: CODE
 * message". SARIF is in sarif.c. Input is untrusted; every field is bounded.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gate_int.h"
#include "warden/error.h"
#include "warden/findings.h"

#define FIELD_MAX 1024

static char *bounded(const char *p, size_t n)
{
	char *s;

	if (!p)
		return NULL;
	if (n > FIELD_MAX)
		n = FIELD_MAX;
	if (!(s = malloc(n + 1))) {
		wd_error_set(WD_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		s[i] = (unsigned char)p[i] < 0x20 ? ' ' : (char)p[i];
	s[n] = '\0';
	return s;
}

static void finding_free(wd_finding *f)
{
	free(f->file);
	free(f->severity);
	free(f->rule);
	free(f->message);
	free(f->tool);
	free(f->check);
}

void wd_findings_free(wd_findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		finding_free(&f->v[i]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int push_n(wd_findings *f, wd_slice file, unsigned line, unsigned col, wd_slice sev,
                  wd_slice rule, wd_slice msg, const char *tool)
{
	wd_finding *x;

	if (f->n >= WD_MAX_FINDINGS || file.n == 0)
		return 0;
	if (WD_ARRAY_RESERVE(f->v, f->cap, f->n + 1, 16) != 0)
		return WD_ENOMEM;
	x = &f->v[f->n];
	memset(x, 0, sizeof(*x));
	x->line = line;
	x->col = col;
	x->file = bounded(file.p, file.n);
	x->severity = bounded(sev.p ? sev.p : "warning", sev.p ? sev.n : 7);
	x->rule = rule.n ? bounded(rule.p, rule.n) : NULL;
	x->message = bounded(msg.p ? msg.p : "", msg.n);
	x->tool = tool ? bounded(tool, strlen(tool)) : NULL;
	if (!x->file || !x->severity || (rule.n && !x->rule) || !x->message || (tool && !x->tool)) {
		finding_free(x);
		return WD_ENOMEM;
	}
	f->n++;
	return 0;
}

int wd_findings_push(wd_findings *f, const char *file, unsigned line, unsigned col,
                     const char *severity, const char *rule, const char *message,
                     const char *tool)
{
	wd_slice sf = { file ? file : "", file ? strlen(file) : 0 };
	wd_slice ss = { severity, severity ? strlen(severity) : 0 };
	wd_slice sr = { rule ? rule : "", rule ? strlen(rule) : 0 };
	wd_slice sm = { message ? message : "", message ? strlen(message) : 0 };

	return push_n(f, sf, line, col, ss, sr, sm, tool);
}

static unsigned to_uint(size_t v)
{
	return v > UINT_MAX ? UINT_MAX : (unsigned)v;
}

static const char *const severities[] = {
	"fatal error", "error", "warning", "style", "performance", "portability",
	"information", "remark", "note",
};

/* Split a trailing " [rule]" off msg into rule (gcc's "-Werror=x" is "-Wx";
 * clang-tidy's "rule,-warnings-as-errors" is "rule"). */
static void split_rule(wd_slice *msg, wd_slice *rule)
{
	wd_slice m = wd_slice_trim(*msg);
	size_t open;

	rule->p = "";
	rule->n = 0;
	*msg = m;
	if (m.n < 3 || m.p[m.n - 1] != ']')
		return;
	for (open = m.n - 1; open > 0 && m.p[open - 1] != '['; open--)
		;
	if (open < 2 || m.p[open - 2] != ' ')
		return;
	rule->p = m.p + open;
	rule->n = m.n - 1 - open;
	for (size_t i = 0; i < rule->n; i++)
		if (rule->p[i] == ',' || rule->p[i] == ' ') {
			rule->n = i;
			break;
		}
	msg->n = open - 2;
	*msg = wd_slice_trim(*msg);
}

/* "file:line[:col]: severity: message [rule]" or "file:line:col: CODE message" */
static int gcc_line(wd_findings *f, wd_slice s)
{
	for (size_t i = 1; i < s.n; i++) {
		wd_slice t = { s.p + i + 1, s.n - i - 1 }, file = { s.p, i }, sev = { NULL, 0 };
		wd_slice msg, rule;
		size_t line, col = 0;
		int werror = 0;

		if (s.p[i] != ':')
			continue;
		if (!wd_slice_uint(&t, &line) || !t.n || t.p[0] != ':')
			continue;
		t.p++, t.n--;
		{
			wd_slice c = t;

			if (wd_slice_uint(&c, &col) && c.n && c.p[0] == ':') {
				t = c;
				t.p++, t.n--;
			} else {
				col = 0;
			}
		}
		if (!t.n || t.p[0] != ' ')
			return 0;
		t.p++, t.n--;
		for (size_t k = 0; k < sizeof(severities) / sizeof(severities[0]); k++) {
			size_t kl = strlen(severities[k]);

			if (t.n > kl && !memcmp(t.p, severities[k], kl) && t.p[kl] == ':') {
				sev.p = t.p;
				sev.n = kl;
				t.p += kl + 1;
				t.n -= kl + 1;
				break;
			}
		}
		if (!sev.p) {
			/* flake8/ruff: "E501 line too long" */
			size_t a = 0, d = 0;

			while (a < t.n && isupper((unsigned char)t.p[a]))
				a++;
			d = a;
			while (d < t.n && isdigit((unsigned char)t.p[d]))
				d++;
			if (a == 0 || a > 3 || d == a || d >= t.n || t.p[d] != ' ')
				return 0;
			rule.p = t.p;
			rule.n = d;
			msg.p = t.p + d + 1;
			msg.n = t.n - d - 1;
			msg = wd_slice_trim(msg);
			return push_n(f, file, to_uint(line), to_uint(col), sev, rule, msg, NULL);
		}
		/* notes explain the finding above them; cppcheck's "information" is
		 * about the run itself (missing includes, the checkers report) */
		if (wd_slice_eq(sev, "note") || wd_slice_eq(sev, "remark") ||
		    wd_slice_eq(sev, "information"))
			return 0;
		if (wd_slice_eq(sev, "fatal error"))
			sev.n = 5, sev.p = "error";
		msg = t;
		split_rule(&msg, &rule);
		/* gcc's "[-Werror=unused-variable]" is the rule "-Wunused-variable" */
		werror = wd_slice_starts(rule, "-Werror=");
		if (werror) {
			wd_buf r = WD_BUF_INIT;
			int rc;

			if ((rc = wd_buf_puts(&r, "-W")) == 0 &&
			    (rc = wd_buf_put(&r, rule.p + 8, rule.n - 8)) == 0) {
				wd_slice rs = { r.ptr, r.len };

				rc = push_n(f, file, to_uint(line), to_uint(col), sev, rs, msg, NULL);
			}
			wd_buf_free(&r);
			return rc;
		}
		return push_n(f, file, to_uint(line), to_uint(col), sev, rule, msg, NULL);
	}
	return 0;
}

/* cppcheck 1.x: "[src/a.c:12]: (error) Null pointer dereference: p" */
static int cppcheck_old_line(wd_findings *f, wd_slice s)
{
	wd_slice t, file, sev, msg, rule = { "", 0 };
	size_t line;
	long close, colon;

	if (s.n < 8 || s.p[0] != '[')
		return 0;
	close = wd_slice_find(s, "]: (");
	if (close < 3)
		return 0;
	t.p = s.p + 1;
	t.n = (size_t)close - 1;
	colon = -1;
	for (size_t i = t.n; i > 0; i--)
		if (t.p[i - 1] == ':') {
			colon = (long)i - 1;
			break;
		}
	if (colon <= 0)
		return 0;
	file.p = t.p;
	file.n = (size_t)colon;
	{
		wd_slice num = { t.p + colon + 1, t.n - (size_t)colon - 1 };

		if (!wd_slice_uint(&num, &line) || num.n)
			return 0;
	}
	sev.p = s.p + close + 4;
	sev.n = 0;
	while (sev.n < s.n - (size_t)close - 4 && sev.p[sev.n] != ')')
		sev.n++;
	if (sev.n == 0 || sev.n == s.n - (size_t)close - 4)
		return 0;
	msg.p = sev.p + sev.n + 1;
	msg.n = (size_t)(s.p + s.n - msg.p);
	msg = wd_slice_trim(msg);
	return push_n(f, file, to_uint(line), 0, sev, rule, msg, NULL);
}

static int looks_like_json(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (isspace((unsigned char)text[i]))
			continue;
		return text[i] == '{';
	}
	return 0;
}

int wd_findings_parse(wd_findings *out, const char *text, size_t len)
{
	wd_buf clean = WD_BUF_INIT;
	const char *pos, *end;
	wd_slice line;
	int rc = 0;

	if (!text || !len)
		return 0;
	if (looks_like_json(text, len)) {
		rc = wd_findings_parse_sarif(out, text, len);
		if (rc != WD_EINPUT)
			return rc;
		wd_error_clear();
	}
	if ((rc = wd_gate_strip_ansi(&clean, text, len)) != 0)
		goto out;
	pos = clean.ptr;
	end = clean.ptr + clean.len;
	while (!rc && wd_gate_next_line(&line, &pos, end)) {
		wd_slice s = line;

		while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
			s.p++, s.n--;
		if (s.n && s.p[0] == '[')
			rc = cppcheck_old_line(out, s);
		else
			rc = gcc_line(out, s);
	}
out:
	wd_buf_free(&clean);
	return rc;
}

/* Strip "./" prefixes and the work tree (as given or resolved) from a path. */
static int relativise(char **file, const char *root, size_t root_len)
{
	const char *p = *file;
	char *copy;

	if (root_len && !strncmp(p, root, root_len) && p[root_len] == '/')
		p += root_len + 1;
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (p == *file || !*p)
		return 0; /* unchanged, or nothing would be left of it */
	if (!(copy = wd_strdup(p)))
		return WD_ENOMEM;
	free(*file);
	*file = copy;
	return 0;
}

int wd_findings_normalize(wd_findings *f, const char *workdir)
{
	char *real = NULL;
	size_t wl = 0;
	int rc = 0;

	if (workdir) {
		wl = strlen(workdir);
		while (wl > 1 && workdir[wl - 1] == '/')
			wl--;
		real = realpath(workdir, NULL);
	}
	for (size_t i = 0; !rc && i < f->n; i++) {
		rc = relativise(&f->v[i].file, workdir ? workdir : "", wl);
		if (!rc && real)
			rc = relativise(&f->v[i].file, real, strlen(real));
	}
	free(real);
	return rc;
}
