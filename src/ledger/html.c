/*
 * One run's story as one self-contained HTML page for a reviewer: inline
 * CSS, no script, no network asset. Every string from the story (the model's
 * words, a check's output, the diff) is HTML-escaped; control characters are
 * dropped.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/story.h"

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1d1f21;"
	"padding:0 1em}h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px "
	"solid #ddd;padding-bottom:.2em;margin-top:1.6em}.meta{color:#555}.st{display:inline-block;"
	"padding:.1em .6em;border-radius:.8em;color:#fff;font-weight:600}.proposed{background:#2e7d32}"
	".no_patch,.error,.unreadable{background:#c62828}.interrupted,.running{background:#ef6c00}"
	"table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.25em .5em;"
	"text-align:left;vertical-align:top}th{background:#f5f5f5}.ok{color:#2e7d32;font-weight:600}"
	".bad{color:#c62828;font-weight:600}pre{background:#f7f7f7;border:1px solid #e3e3e3;"
	"padding:.6em;overflow-x:auto;font:12.5px/1.4 ui-monospace,monospace;white-space:pre}"
	".diff .add{background:#e6ffed;color:#22863a}.diff .del{background:#ffeef0;color:#b31d28}"
	".diff .hunk{color:#6f42c1}.diff .file{font-weight:700;color:#24292e}.k{color:#d73a49}"
	".s{color:#032f62}.n{color:#005cc5}.c{color:#6a737d}.why{background:#fff8e1;border-left:4px "
	"solid #ffb300;padding:.3em .6em;margin:.4em 0}.said{font-style:italic;white-space:pre-wrap;color:#333}.alert{background:#ffebee;border-left:4px solid "
	"#c62828;padding:.3em .6em;margin:.3em 0}";

static int esc_n(wd_buf *o, const char *s, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '&': rc = wd_buf_puts(o, "&amp;"); break;
		case '<': rc = wd_buf_puts(o, "&lt;"); break;
		case '>': rc = wd_buf_puts(o, "&gt;"); break;
		case '"': rc = wd_buf_puts(o, "&quot;"); break;
		case '\'': rc = wd_buf_puts(o, "&#39;"); break;
		default:
			if (c < 0x20 && c != '\n' && c != '\t')
				break;
			if (c == 0x7f)
				break;
			rc = wd_buf_putc(o, (char)c);
		}
	}
	return rc;
}

static int esc(wd_buf *o, const char *s)
{
	return s ? esc_n(o, s, strlen(s)) : 0;
}

/* fmt as it is (markup), but for every %s the next argument, a string
 * from the story (NULL is ""), escaped as esc() does. Only %s is understood. */
static int html(wd_buf *o, const char *fmt, ...)
{
	va_list ap;
	int rc = 0;

	va_start(ap, fmt);
	while (!rc && *fmt) {
		const char *arg = strstr(fmt, "%s");
		size_t n = arg ? (size_t)(arg - fmt) : strlen(fmt);

		rc = wd_buf_put(o, fmt, n);
		if (!rc && arg)
			rc = esc(o, va_arg(ap, const char *));
		fmt += n + (arg ? 2 : 0);
	}
	va_end(ap);
	return rc;
}

static const char *S(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static long long I(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static int is_kw(const char *w, size_t n)
{
	static const char *const kws[] = {
		"if", "else", "for", "while", "do", "return", "break", "continue", "switch", "case",
		"default", "goto", "static", "const", "struct", "union", "enum", "typedef", "void",
		"int", "char", "long", "short", "unsigned", "signed", "double", "float", "size_t",
		"sizeof", "NULL", "def", "class", "import", "from", "self", "None", "True", "False",
		"func", "fn", "let", "mut", "pub", "use", "impl", "var", "function", "package",
		"include", "define", "true", "false", "nil", "in", "not", "and", "or", "try", "except",
		"elif", "with", "as", "new", "this", "match", "type", "interface", "extern", NULL
	};

	for (size_t i = 0; kws[i]; i++)
		if (strlen(kws[i]) == n && !memcmp(kws[i], w, n))
			return 1;
	return 0;
}

/* One line of code, coloured by token: keywords, numbers, strings, comments. */
static int code_line(wd_buf *o, const char *s, size_t n)
{
	size_t i = 0;
	int rc = 0;

	while (i < n && !rc) {
		size_t j = i;
		const char *cls = NULL;

		if (s[i] == '/' && i + 1 < n && s[i + 1] == '/') {
			j = n;
			cls = "c";
		} else if (s[i] == '#' && (i == 0 || s[i - 1] == ' ')) {
			/* a Python/shell comment, or a C directive: shown as a comment */
			j = n;
			cls = "c";
		} else if (s[i] == '"' || s[i] == '\'') {
			char q = s[i];

			for (j = i + 1; j < n && s[j] != q; j++)
				if (s[j] == '\\' && j + 1 < n)
					j++;
			if (j < n)
				j++;
			cls = "s";
		} else if (isdigit((unsigned char)s[i])) {
			while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '.'))
				j++;
			cls = "n";
		} else if (isalpha((unsigned char)s[i]) || s[i] == '_') {
			while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_'))
				j++;
			if (is_kw(s + i, j - i))
				cls = "k";
		} else {
			j = i + 1;
		}
		if (cls)
			rc = wd_buf_printf(o, "<span class=\"%s\">", cls);
		if (!rc)
			rc = esc_n(o, s + i, j - i);
		if (!rc && cls)
			rc = wd_buf_puts(o, "</span>");
		i = j;
	}
	return rc;
}

/* A unified diff: line classes, and the code of each line coloured. */
static int diff_html(wd_buf *o, const char *d)
{
	int rc = wd_buf_puts(o, "<pre class=\"diff\">");

	while (!rc && d && *d) {
		size_t n = strcspn(d, "\n");
		const char *cls = NULL;

		if (!strncmp(d, "+++", 3) || !strncmp(d, "---", 3) || !strncmp(d, "diff ", 5) ||
		    !strncmp(d, "index ", 6))
			cls = "file";
		else if (*d == '+')
			cls = "add";
		else if (*d == '-')
			cls = "del";
		else if (!strncmp(d, "@@", 2))
			cls = "hunk";
		if (cls)
			rc = wd_buf_printf(o, "<span class=\"%s\">", cls);
		if (!rc && cls && (!strcmp(cls, "file") || !strcmp(cls, "hunk")))
			rc = esc_n(o, d, n);
		else if (!rc && n) {
			rc = esc_n(o, d, 1);
			if (!rc)
				rc = code_line(o, d + 1, n - 1);
		}
		if (!rc && cls)
			rc = wd_buf_puts(o, "</span>");
		if (!rc)
			rc = wd_buf_putc(o, '\n');
		d += n;
		if (*d)
			d++;
	}
	return rc ? rc : wd_buf_puts(o, "</pre>");
}

static int check_rows(wd_buf *o, const json_t *checks, const char *when)
{
	size_t i;
	json_t *c;
	int rc = 0;

	json_array_foreach(checks, i, c) {
		int ok = json_is_true(json_object_get(c, "passed"));
		size_t j;
		json_t *t;

		rc = html(o, "<tr><td>%s</td><td>%s</td><td><code>%s", when, S(c, "name"),
		          S(c, "command"));
		rc = rc ? rc : wd_buf_printf(o, "</code></td><td class=\"%s\">%s%s</td><td>%lld ms</td><td>",
		                             ok ? "ok" : "bad", ok ? "passed" : "failed",
		                             json_is_true(json_object_get(c, "timed_out")) ? " (timed out)" : "",
		                             I(c, "ms"));
		json_array_foreach(json_object_get(c, "failing"), j, t) {
			rc = rc ? rc : html(o, "%s<br>", S(t, "name"));
		}
		if (!ok && *S(c, "excerpt"))
			rc = rc ? rc : html(o, "<pre>%s</pre>", S(c, "excerpt"));
		rc = rc ? rc : wd_buf_puts(o, "</td></tr>\n");
		if (rc)
			break;
	}
	return rc;
}

/* The page's head and the run's summary. */
static int head_html(wd_buf *o, const json_t *st)
{
	const json_t *t = json_object_get(st, "ticket"), *u = json_object_get(st, "usage");
	size_t i;
	json_t *x;
	int rc;

	rc = html(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
	             " style-src 'unsafe-inline'\"><title>warden run %s", S(st, "run"));
	rc = rc ? rc : wd_buf_printf(o, "</title><style>%s</style></head><body>\n", css);
	rc = rc ? rc : html(o, "<h1>%s</h1>\n<p class=\"meta\">run <b>%s</b> <span class=\"st %s\">%s",
	                    *S(t, "title") ? S(t, "title") : S(t, "path"), S(st, "run"),
	                    S(st, "status"), S(st, "status"));
	rc = rc ? rc : wd_buf_printf(o, "</span> &middot; %zu round(s) &middot; %lld in / %lld out "
	                                "tokens &middot; $%.6f &middot; %.1f s<br>started ",
	                             json_array_size(json_object_get(st, "rounds")),
	                             I(u, "input_tokens"), I(u, "output_tokens"),
	                             json_number_value(json_object_get(u, "cost_usd")),
	                             (double)I(st, "ms") / 1000.0);
	rc = rc ? rc : html(o, "%s &middot; model %s &middot; repository %s</p>\n", S(st, "started"),
	                    S(st, "model"), S(st, "repo"));
	if (!rc && *S(st, "reason"))
		rc = html(o, "<div class=\"why\">%s</div>\n", S(st, "reason"));
	json_array_foreach(json_object_get(st, "alerts"), i, x) {
		rc = rc ? rc : html(o, "<div class=\"alert\">alert: %s</div>\n", S(x, "message"));
	}
	return rc ? rc : html(o, "<h2>Ticket</h2><pre>%s</pre>\n", S(t, "body"));
}

/* A section's title and its table's head row (cols: NULL-terminated). */
static int table_head(wd_buf *o, const char *title, const char *const *cols)
{
	int rc = wd_buf_printf(o, "<h2>%s</h2>\n<table><tr>", title);

	for (; !rc && *cols; cols++)
		rc = wd_buf_printf(o, "<th>%s</th>", *cols);
	return rc ? rc : wd_buf_puts(o, "</tr>\n");
}

/* One row a round: what became of its patch, and whether it passed. */
static int round_rows(wd_buf *o, const json_t *rounds)
{
	static const char *const cols[] = { "round", "patch", "outcome", NULL };
	int rc = table_head(o, "Rounds", cols);
	size_t i, j;
	json_t *r, *x;

	json_array_foreach(rounds, i, r) {
		const json_t *p = json_object_get(r, "patch");
		int passed = json_is_true(json_object_get(r, "passed"));

		rc = rc ? rc : wd_buf_printf(o, "<tr><td>%lld</td><td>", I(r, "round"));
		if (json_is_object(p) && json_is_true(json_object_get(p, "applied"))) {
			rc = rc ? rc : wd_buf_puts(o, "applied to ");
			json_array_foreach(json_object_get(p, "files"), j, x) {
				rc = rc ? rc : html(o, "%s ", json_string_value(x));
			}
		} else if (json_is_object(p)) {
			json_array_foreach(json_object_get(p, "refusals"), j, x) {
				rc = rc ? rc : html(o, "refused: %s<br>", json_string_value(x));
			}
		}
		rc = rc ? rc : html(o, passed ? "</td><td class=\"ok\">%s</td></tr>\n"
		                              : "</td><td class=\"bad\">%s</td></tr>\n",
		                    passed ? "passed" : *S(r, "reason") ? S(r, "reason") : "did not pass");
	}
	return rc ? rc : wd_buf_puts(o, "</table>\n");
}

/* The model and tool calls of every round, in order. */
static int timeline_rows(wd_buf *o, const json_t *rounds)
{
	static const char *const cols[] = { "time", "round", "call", "tokens in / out", "cost",
		                            "latency", NULL };
	int rc = table_head(o, "Timeline", cols);
	size_t i, j;
	json_t *r, *x;

	json_array_foreach(rounds, i, r) {
		json_array_foreach(json_object_get(r, "model_calls"), j, x) {
			rc = rc ? rc : html(o, "<tr><td>%s", S(x, "ts"));
			rc = rc ? rc : wd_buf_printf(o, "</td><td>%lld</td><td>model ", I(r, "round"));
			rc = rc ? rc : html(o, "%s", *S(x, "model") ? S(x, "model") : S(x, "spec"));
			rc = rc ? rc : wd_buf_printf(o, "%s</td><td>%lld / %lld</td><td>$%.6f</td><td>%lld ms"
			                                "</td></tr>\n",
			                             I(x, "retries") ? " (retried)" : "", I(x, "input_tokens"),
			                             I(x, "output_tokens"),
			                             json_number_value(json_object_get(x, "cost_usd")),
			                             I(x, "ms"));
			/* what the model said with its patch: the reviewer's "why" */
			if (*S(x, "said"))
				rc = rc ? rc : html(o, "<tr><td></td><td></td><td colspan=\"4\" "
				                       "class=\"said\">%s</td></tr>\n", S(x, "said"));
		}
		json_array_foreach(json_object_get(r, "tool_calls"), j, x) {
			rc = rc ? rc : html(o, "<tr><td>%s", S(x, "ts"));
			rc = rc ? rc : wd_buf_printf(o, "</td><td>%lld</td><td>tool <code>", I(r, "round"));
			rc = rc ? rc : html(o, "%s %s</code>%s</td><td colspan=\"3\">%s</td></tr>\n",
			                    S(x, "name"), S(x, "arguments"),
			                    json_is_true(json_object_get(x, "refused")) ? " (refused)" : "",
			                    S(x, "reason"));
		}
	}
	return rc ? rc : wd_buf_puts(o, "</table>\n");
}

int wd_story_html(wd_buf *o, const json_t *st)
{
	static const char *const check_cols[] = { "when", "check", "command", "result", "time",
		                                  "failing tests, end of output", NULL };
	const json_t *rounds = json_object_get(st, "rounds"), *v;
	size_t i;
	json_t *r, *x;
	int rc;

	rc = head_html(o, st);
	rc = rc ? rc : round_rows(o, rounds);
	rc = rc ? rc : table_head(o, "Checks", check_cols);
	rc = rc ? rc : check_rows(o, json_object_get(st, "baseline"), "baseline");
	json_array_foreach(rounds, i, r) {
		char when[32];

		snprintf(when, sizeof(when), "round %lld", I(r, "round"));
		rc = rc ? rc : check_rows(o, json_object_get(r, "checks"), when);
	}
	rc = rc ? rc : wd_buf_puts(o, "</table>\n");
	rc = rc ? rc : timeline_rows(o, rounds);
	if (json_is_string(v = json_object_get(st, "diff"))) {
		rc = rc ? rc : wd_buf_puts(o, "<h2>Diff</h2>\n");
		rc = rc ? rc : diff_html(o, json_string_value(v));
	}
	if (json_is_object(v = json_object_get(st, "proposal")))
		rc = rc ? rc : html(o, "<p class=\"meta\">proposed as branch <b>%s</b>, commit %s</p>\n",
		                    S(v, "branch"), S(v, "commit"));
	json_array_foreach(json_object_get(st, "decisions"), i, x) {
		rc = rc ? rc : html(o, "<p class=\"meta\">decision: <b>%s</b> %s</p>\n",
		                    S(x, "decision"), S(x, "reason"));
	}
	rc = rc ? rc : wd_buf_puts(o, "</body></html>\n");
	return rc ? wd_error_set(WD_ENOMEM, "out of memory") : 0;
}
