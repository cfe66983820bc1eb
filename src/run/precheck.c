/*
 * The ticket's checks, before a cent is spent. Each one stops a run that
 * could not succeed before the model is called: a scope that names nothing,
 * a symbol the file does not define, files or functions the ticket names
 * that do not exist (a person must say what is meant), and after the
 * baseline, fail-to-pass names the base never reports, a baseline that timed
 * out, and a base that already fails tests the ticket does not name.
 *
 * Everything here reads the base commit's objects, never a work tree.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/patch.h"

#include "run_internal.h"

/* Files larger than this are not searched for a name the ticket uses. */
#define SEARCH_FILE_MAX (1024u * 1024u)
/* At most this much of the base is searched in all. */
#define SEARCH_TOTAL_MAX (64u * 1024u * 1024u)
/* At most this many names are listed in one message. */
#define LIST_MAX 20
/* At most this many function names of the body are searched for (each search
 * may read the whole base): a ticket cannot make the check cost more. */
#define CALLS_MAX 16
/* At most this many code spans of the body are looked at. */
#define SPANS_MAX 200

/* "path:symbol" splits as the symbol scope does: the last ':' with neither
 * '/' nor '*' after it. *sym is NULL for a plain path entry. */
static int split_entry(const char *e, char **path, const char **sym)
{
	const char *colon = strrchr(e, ':');

	*sym = NULL;
	if (colon && colon != e && !strchr(colon, '/') && !strchr(colon, '*') && colon[1]) {
		*path = wd_strndup(e, (size_t)(colon - e));
		*sym = colon + 1;
	} else {
		*path = wd_strdup(e);
	}
	return *path ? 0 : wd_error_set(WD_ENOMEM, "out of memory");
}

static int scope_entry(wd_buf *problems, const char *entry, const wd_strvec *files,
                       git_repository *repo, const git_oid *tree)
{
	const char *one[2] = { NULL, NULL }, *sym;
	wd_strvec matched = WD_STRVEC_INIT;
	wd_buf text = WD_BUF_INIT, near = WD_BUF_INIT;
	char *path = NULL;
	int rc, defined = 0, known = 0;

	if ((rc = split_entry(entry, &path, &sym)) != 0)
		return rc;
	one[0] = path;
	for (size_t i = 0; i < files->n && !rc; i++)
		if (wd_patch_path_in_scope(files->v[i], one))
			rc = wd_strvec_push(&matched, files->v[i]);
	if (rc)
		goto out;
	if (matched.n == 0) {
		rc = wd_buf_printf(problems, "- scope '%s' matches no file in the base%s\n", entry,
		                   strpbrk(path, "*?[") ? ""
		                   : " (to let the patch create it, scope its directory: 'dir/')");
		goto out;
	}
	if (!sym)
		goto out;
	for (size_t i = 0; i < matched.n && !defined && !rc; i++) {
		int found = 0, have = 0;

		wd_buf_clear(&text);
		if ((rc = wd_repo_tree_file(&text, &have, repo, tree, matched.v[i])) != 0 || !have)
			continue;
		if ((rc = wd_file_defines(&found, near.len ? NULL : &near, matched.v[i],
		                          wd_buf_cstr(&text), text.len, sym)) != 0)
			break;
		known |= found >= 0;
		defined = found == 1;
	}
	if (rc || defined || !known)
		goto out; /* no grammar for any of them: the symbol gate says so per round */
	rc = wd_buf_printf(problems, "- scope '%s': %s does not define '%s'%s%s%s\n", entry,
	                   matched.n == 1 ? matched.v[0] : "no file it names", sym,
	                   near.len ? " (did you mean '" : "", wd_buf_cstr(&near),
	                   near.len ? "'?)" : "");
out:
	wd_strvec_free(&matched);
	wd_buf_free(&text);
	wd_buf_free(&near);
	free(path);
	return rc;
}

/* ------------------------------------------------- names in the ticket's body */

static int is_ident_start(unsigned char c) { return isalpha(c) || c == '_'; }
static int is_ident(unsigned char c) { return isalnum(c) || c == '_'; }

/* A code span reads like a path: no blanks, a '/' or a ".ext" ending. */
static int looks_like_path(const char *s, size_t n)
{
	size_t dot = 0;

	if (n < 3 || n > 255 || s[0] == '-' || memmem(s, n, "://", 3))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isspace(c) || strchr("()*?[]{}<>$=|;,'\"`&!@#%^+\\", c))
			return 0;
		if (c == '.')
			dot = i;
	}
	if (memchr(s, '/', n))
		return 1;
	/* name.ext with an extension files have ("obj.method" is not a file) */
	if (dot == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	{
		static const char *const exts[] = {
			"c", "h", "cc", "cpp", "hpp", "cxx", "py", "go", "rs", "js", "ts", "jsx", "tsx",
			"java", "rb", "sh", "md", "txt", "json", "yaml", "yml", "toml", "cfg", "ini", "mk",
			"xml", "html", "css", "sql", "rst", "in", "am", "ac", "cmake", "lock", "php", "kt",
			"swift", "cs", "pl", "lua", NULL
		};
		const char *ext = s + dot + 1;
		size_t el = n - dot - 1;

		for (size_t i = 0; exts[i]; i++)
			if (strlen(exts[i]) == el && !strncmp(exts[i], ext, el))
				return 1;
	}
	return 0;
}

/* A code span reads like a function: identifier "()" (at least 3 letters). */
static size_t looks_like_call(const char *s, size_t n)
{
	size_t i = 0;

	if (n < 5 || !is_ident_start((unsigned char)s[0]))
		return 0;
	while (i < n && is_ident((unsigned char)s[i]))
		i++;
	return i >= 3 && i + 2 == n && s[i] == '(' && s[i + 1] == ')' ? i : 0;
}

/* Words that say the ticket wants the thing made, not found. */
static int wants_it_made(const char *body, size_t at)
{
	static const char *const words[] = { "add", "create", "new", "introduce", "rename",
	                                     "implement", "write", "generate", "move", NULL };
	size_t from = at > 48 ? at - 48 : 0, i;
	char low[49];

	for (i = 0; from + i < at; i++)
		low[i] = (char)tolower((unsigned char)body[from + i]);
	low[i] = '\0';
	for (size_t w = 0; words[w]; w++) {
		size_t wl = strlen(words[w]);

		for (const char *p = strstr(low, words[w]); p; p = strstr(p + 1, words[w]))
			if ((p == low || !isalpha((unsigned char)p[-1])) &&
			    !isalpha((unsigned char)p[wl]))
				return 1;
	}
	return 0;
}

static int path_exists(const wd_strvec *files, const char *p)
{
	size_t n = strlen(p);

	while (n && p[n - 1] == '/')
		n--;
	for (size_t i = 0; i < files->n; i++) {
		const char *f = files->v[i];
		size_t fl = strlen(f);

		if (!strncmp(f, p, n) && (f[n] == '\0' || f[n] == '/'))
			return 1; /* the file, or a directory holding files */
		if (fl > n && !strcmp(f + fl - n, p) && f[fl - n - 1] == '/' && !memchr(p, '/', n))
			return 1; /* a bare file name: any directory */
	}
	return 0;
}

/* Whether `word` occurs as a whole word in some file of the base. */
static int word_in_base(int *found, const char *word, const wd_strvec *files,
                        git_repository *repo, const git_oid *tree)
{
	wd_buf text = WD_BUF_INIT;
	size_t wl = strlen(word), total = 0;
	int rc = 0;

	*found = 0;
	for (size_t i = 0; i < files->n && !*found && total < SEARCH_TOTAL_MAX; i++) {
		int have = 0;

		wd_buf_clear(&text);
		if ((rc = wd_repo_tree_file(&text, &have, repo, tree, files->v[i])) != 0)
			break;
		if (!have || text.len > SEARCH_FILE_MAX)
			continue;
		total += text.len;
		for (const char *p = memmem(text.ptr, text.len, word, wl); p && !*found;
		     p = memmem(p + 1, text.len - (size_t)(p + 1 - text.ptr), word, wl)) {
			size_t off = (size_t)(p - text.ptr);

			*found = (off == 0 || !is_ident((unsigned char)p[-1])) &&
			         (off + wl == text.len || !is_ident((unsigned char)p[wl]));
		}
	}
	wd_buf_free(&text);
	return rc;
}

/* One code span of the body: a name to look up, or nothing. */
static int code_span(wd_strvec *missing, size_t *calls, const char *body, size_t at,
                     const char *s, size_t n, const wd_strvec *files, git_repository *repo,
                     const git_oid *tree)
{
	char name[256];
	size_t k;
	int rc = 0, found = 1;

	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(name) || wants_it_made(body, at))
		return 0;
	memcpy(name, s, n);
	name[n] = '\0';
	if (looks_like_path(name, n)) {
		char *p = name;
		size_t e = n;

		while (p[0] == '.' && p[1] == '/')
			p += 2;
		/* "src/a.c:42" names the file */
		while (e > 0 && isdigit((unsigned char)name[e - 1]))
			e--;
		if (e > 0 && e < n && name[e - 1] == ':')
			name[e - 1] = '\0';
		found = path_exists(files, p);
	} else if ((k = looks_like_call(name, n)) != 0 && !wd_strvec_contains(missing, name) &&
	           *calls < CALLS_MAX) {
		(*calls)++;
		name[k] = '\0';
		rc = word_in_base(&found, name, files, repo, tree);
		name[k] = '(';
	}
	if (!rc && !found && !wd_strvec_contains(missing, name))
		rc = wd_strvec_push(missing, name);
	return rc;
}

/* The body's inline code spans (fenced blocks are left alone). */
static int body_names(wd_strvec *missing, const char *body, const wd_strvec *files,
                      git_repository *repo, const git_oid *tree)
{
	size_t len = strlen(body), i = 0, calls = 0, spans = 0;
	int fenced = 0, rc = 0;

	while (i < len && !rc) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - body) : len, j = i;

		while (j < e && (body[j] == ' ' || body[j] == '\t'))
			j++;
		if (e - j >= 3 && (!strncmp(body + j, "```", 3) || !strncmp(body + j, "~~~", 3))) {
			fenced = !fenced;
		} else if (!fenced) {
			for (size_t p = i; p < e && !rc; p++) {
				const char *close;

				if (body[p] != '`' || (p + 1 < e && body[p + 1] == '`'))
					continue;
				close = memchr(body + p + 1, '`', e - p - 1);
				if (!close || ++spans > SPANS_MAX)
					break;
				rc = code_span(missing, &calls, body, p, body + p + 1,
				               (size_t)(close - body) - p - 1, files, repo, tree);
				p = (size_t)(close - body);
			}
		}
		i = e + 1;
	}
	return rc;
}

int wd_run_ticket_precheck(wd_buf *question, const wd_ticket *t, wd_workspace *ws,
                           const wd_strvec *files)
{
	wd_buf problems = WD_BUF_INIT;
	wd_strvec missing = WD_STRVEC_INIT;
	const wd_strvec *scope = wd_ticket_scope(t);
	git_oid tree;
	int rc;

	if ((rc = wd_repo_base_tree(&tree, ws)) != 0)
		return rc;
	for (size_t i = 0; i < scope->n && !rc; i++)
		if (scope->v[i][0] != '!')
			rc = scope_entry(&problems, scope->v[i], files, wd_workspace_repo(ws), &tree);
	if (rc)
		goto out;
	if (problems.len) {
		char hex[GIT_OID_HEXSZ + 1];

		wd_repo_oid_hex(hex, wd_workspace_base(ws));
		/* drop the last newline: the message is printed as one block */
		problems.ptr[--problems.len] = '\0';
		rc = wd_error_set(WD_EINPUT, "%s: the ticket's scope cannot be met on the base %.12s, "
		                  "so no model was called:\n%s", wd_ticket_source(t), hex, problems.ptr);
		goto out;
	}
	if ((rc = body_names(&missing, wd_ticket_body(t), files, wd_workspace_repo(ws), &tree)) != 0)
		goto out;
	if (missing.n) {
		rc = wd_buf_puts(question, "The ticket names ");
		for (size_t i = 0; i < missing.n && i < LIST_MAX && !rc; i++)
			rc = wd_buf_printf(question, "%s`%s`", i ? ", " : "", missing.v[i]);
		if (!rc)
			rc = wd_buf_printf(question, ", which %s not exist in the base: which file or "
			                   "function is meant? Correct the ticket and run it again.",
			                   missing.n == 1 ? "does" : "do");
	}
out:
	wd_strvec_free(&missing);
	wd_buf_free(&problems);
	return rc;
}

/* ---------------------------------------------------------- after the baseline */

/* Whether the ticket's text names the test `name`: the whole name, its last
 * part (after ':', '.', '/' or "::") as a word, or its file ("a.py::t"). */
static int ticket_names_test(const wd_ticket *t, const char *name)
{
	const char *texts[2] = { wd_ticket_title(t), wd_ticket_body(t) };
	const char *last = name, *sep = strstr(name, "::");
	size_t file_len = sep ? (size_t)(sep - name) : 0;

	for (const char *p = name; *p; p++)
		if (*p == ':' || *p == '.' || *p == '/' || *p == ' ')
			last = p + 1;
	for (int k = 0; k < 2; k++) {
		const char *s = texts[k];
		size_t ll = strlen(last);

		if (!s)
			continue;
		if (strstr(s, name))
			return 1;
		if (file_len >= 4 && memmem(s, strlen(s), name, file_len))
			return 1;
		if (ll < 4)
			continue;
		for (const char *p = strstr(s, last); p; p = strstr(p + 1, last))
			if ((p == s || !is_ident((unsigned char)p[-1])) && !is_ident((unsigned char)p[ll]))
				return 1;
	}
	return 0;
}

static int list_names(wd_buf *out, const wd_strvec *names)
{
	int rc = 0;

	for (size_t i = 0; i < names->n && i < LIST_MAX && !rc; i++)
		rc = wd_buf_printf(out, "%s%s", i ? ", " : "", names->v[i]);
	if (!rc && names->n > LIST_MAX)
		rc = wd_buf_printf(out, " and %zu more", names->n - LIST_MAX);
	return rc;
}

static int f2p_known(const wd_ticket *t, const wd_gate_result *base)
{
	wd_strvec unknown = WD_STRVEC_INIT, reported = WD_STRVEC_INIT;
	wd_buf a = WD_BUF_INIT, b = WD_BUF_INIT;
	const wd_strvec *f2p = wd_ticket_fail_to_pass(t);
	int rc = 0;

	for (size_t f = 0; f < f2p->n && !rc; f++) {
		int seen = 0;

		for (size_t i = 0; i < base->n && !seen; i++)
			for (size_t j = 0; j < base->v[i].tests.n && !seen; j++)
				seen = wd_test_name_matches(base->v[i].tests.v[j].name, f2p->v[f]);
		if (!seen)
			rc = wd_strvec_push(&unknown, f2p->v[f]);
	}
	if (rc || unknown.n == 0)
		goto out;
	for (size_t i = 0; i < base->n && !rc; i++)
		for (size_t j = 0; j < base->v[i].tests.n && !rc; j++)
			if (!wd_strvec_contains(&reported, base->v[i].tests.v[j].name))
				rc = wd_strvec_push(&reported, base->v[i].tests.v[j].name);
	if (rc || (rc = list_names(&a, &unknown)) != 0 || (rc = list_names(&b, &reported)) != 0)
		goto out;
	if (reported.n)
		rc = wd_error_set(WD_EINPUT, "fail-to-pass %s: the base's checks report no such test, "
		                  "so it could never be judged fixed; the base reports: %s",
		                  a.ptr, b.ptr);
	else
		rc = wd_error_set(WD_EINPUT, "fail-to-pass %s: the base's checks report no test names "
		                  "at all (their output is not in a format warden reads: JUnit XML, "
		                  "TAP, pytest, go test, cargo, Check …), so it could never be judged "
		                  "fixed", a.ptr);
out:
	wd_strvec_free(&unknown);
	wd_strvec_free(&reported);
	wd_buf_free(&a);
	wd_buf_free(&b);
	return rc;
}

int wd_run_baseline_precheck(wd_strvec *inferred, wd_buf *question, wd_ticket *t,
                             const wd_gate_result *base)
{
	wd_strvec failing = WD_STRVEC_INIT;
	wd_buf list = WD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < base->n; i++)
		if (base->v[i].timed_out)
			return wd_error_set(WD_EINPUT, "the check '%s' (%s) timed out on the base: "
			                    "without the base's results nothing can be judged; raise "
			                    "--check-timeout or make the check faster",
			                    base->v[i].check->name, base->v[i].check->command);
	if (wd_ticket_fail_to_pass(t)->n)
		return f2p_known(t, base);
	/* the failures the base names; a check that names none is judged whole, as before */
	for (size_t i = 0; i < base->n && !rc; i++) {
		const wd_check_result *cr = &base->v[i];

		if (cr->passed || cr->check->kind == WD_CHECK_ANALYZE)
			continue;
		for (size_t j = 0; j < cr->tests.n && !rc; j++)
			if (cr->tests.v[j].status == WD_TEST_FAIL &&
			    !wd_strvec_contains(&failing, cr->tests.v[j].name))
				rc = wd_strvec_push(&failing, cr->tests.v[j].name);
	}
	for (size_t i = 0; i < failing.n && !rc; i++)
		if (ticket_names_test(t, failing.v[i]))
			rc = wd_strvec_push(inferred, failing.v[i]);
	if (rc || failing.n == 0)
		goto out;
	if (inferred->n) {
		for (size_t i = 0; i < inferred->n && !rc; i++)
			rc = wd_ticket_add_fail_to_pass(t, inferred->v[i]);
		goto out;
	}
	if ((rc = list_names(&list, &failing)) == 0)
		rc = wd_buf_printf(question, "the base already fails %s: name the tests this ticket "
		                   "must fix (`fail-to-pass:`), or fix the base first.", list.ptr);
out:
	wd_strvec_free(&failing);
	wd_buf_free(&list);
	return rc;
}
