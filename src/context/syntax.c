/*
 * Two gates that read code with tree-sitter before any check runs:
 *  - the syntax gate: a patch must not add ERROR or MISSING nodes to a file;
 *  - symbol scope: with `scope: path:symbol`, a patch may change only the
 *    lines of the named definitions of that file.
 * Both write their reasons for the model, with file:line[:col] locations.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/context.h"
#include "warden/error.h"

#include "context_int.h"
#include "tags.h"

#define MAX_ISSUES 64
#define MAX_REPORTED 10

/* The text of line `n` (1-based) of src, trimmed, into key. */
static void line_key(char *key, size_t cap, const char *src, size_t len, uint32_t n)
{
	size_t off = 0, k = 0;

	while (n > 1 && off < len) {
		const char *nl = memchr(src + off, '\n', len - off);

		if (!nl) {
			off = len;
			break;
		}
		off = (size_t)(nl - src) + 1;
		n--;
	}
	while (off < len && (src[off] == ' ' || src[off] == '\t'))
		off++;
	while (off < len && src[off] != '\n' && k + 1 < cap)
		key[k++] = src[off++];
	while (k && (key[k - 1] == ' ' || key[k - 1] == '\t' || key[k - 1] == '\r'))
		k--;
	key[k] = '\0';
}

struct issues {
	wd_syntax_issue v[MAX_ISSUES];
	size_t n;      /* found (may exceed MAX_ISSUES) */
	char keys[MAX_ISSUES][160];
};

static int collect(struct issues *is, wd_parsers *ps, int lang, const char *src, size_t len)
{
	int rc = wd_syntax_issues(is->v, MAX_ISSUES, &is->n, ps, lang, src, len);

	for (size_t i = 0; !rc && i < is->n && i < MAX_ISSUES; i++)
		line_key(is->keys[i], sizeof(is->keys[i]), src, len, is->v[i].line);
	return rc;
}

/* Problems of `after` that `before` did not have (same kind on a line with the same text). */
static int report_new(wd_buf *out, const char *path, const struct issues *before,
                      const struct issues *after)
{
	size_t shown = 0, stored = after->n < MAX_ISSUES ? after->n : MAX_ISSUES;
	int rc;

	for (size_t i = 0; i < stored && shown < MAX_REPORTED; i++) {
		const wd_syntax_issue *a = &after->v[i];
		int old = 0;

		for (size_t k = 0; k < before->n && k < MAX_ISSUES && !old; k++)
			old = before->v[k].missing == a->missing && !strcmp(before->keys[k], after->keys[i]);
		if (old && after->n <= before->n)
			continue;
		if (a->missing)
			rc = wd_buf_printf(out, "%s:%u:%u: syntax error: missing '%s'\n", path, a->line,
			                   a->col, a->what);
		else
			rc = wd_buf_printf(out, "%s:%u:%u: syntax error near '%s'\n", path, a->line, a->col,
			                   a->what);
		if (rc)
			return rc;
		shown++;
	}
	if (after->n > shown &&
	    (rc = wd_buf_printf(out, "%s: %zu syntax problem%s in all (%zu before the patch)\n", path,
	                        after->n, after->n == 1 ? "" : "s", before->n)) != 0)
		return rc;
	return 0;
}

int wd_syntax_check(wd_buf *out, const wd_syntax_file *files, size_t n)
{
	wd_parsers *ps = NULL;
	struct issues *before = NULL, *after = NULL;
	int rc, worse = 0;

	if ((rc = wd_parsers_new(&ps)) != 0)
		return rc;
	if (!(before = calloc(1, sizeof(*before))) || !(after = calloc(1, sizeof(*after)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const wd_syntax_file *f = &files[i];
		int lang = wd_lang_id_for_path(f->path);

		if (lang == WD_LANG_NONE || !f->patched)
			continue;
		memset(before, 0, sizeof(*before));
		memset(after, 0, sizeof(*after));
		if ((f->base && (rc = collect(before, ps, lang, f->base, f->base_len)) != 0) ||
		    (rc = collect(after, ps, lang, f->patched, f->patched_len)) != 0)
			goto out;
		if (after->n <= before->n) {
			/* as many problems as before: new ones only if they moved onto new lines */
			int fresh = 0;

			for (size_t a = 0; a < after->n && a < MAX_ISSUES && !fresh; a++) {
				int old = 0;

				for (size_t b = 0; b < before->n && b < MAX_ISSUES && !old; b++)
					old = !strcmp(before->keys[b], after->keys[a]);
				fresh = !old;
			}
			if (!fresh)
				continue;
		}
		worse = 1;
		if ((rc = report_new(out, f->path, before, after)) != 0)
			goto out;
	}
	if (worse)
		rc = wd_error_set(WD_EREFUSED, "the patch adds syntax errors");
out:
	free(before);
	free(after);
	wd_parsers_free(ps);
	return rc;
}

static int read_blob_at(wd_buf *out, git_repository *repo, git_tree *tree, const char *path,
                        int *exists)
{
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int rc = 0;

	*exists = 0;
	if (git_tree_entry_bypath(&e, tree, path) < 0) {
		git_error_clear();
		return 0;
	}
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
			rc = wd_error_git(WD_EINFRA, "reading the base blob");
		} else {
			rc = wd_buf_put(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
			*exists = !rc;
		}
	}
	git_blob_free(blob);
	git_tree_entry_free(e);
	return rc;
}

int wd_syntax_check_trees(wd_buf *out, git_repository *repo, const git_oid *base_tree,
                          const git_oid *new_tree, const char *const *paths)
{
	git_tree *base = NULL, *now = NULL;
	wd_syntax_file *files = NULL;
	wd_buf *bufs = NULL;
	size_t n = 0;
	int rc = 0;

	while (paths && paths[n])
		n++;
	if (!n)
		return 0;
	if (git_tree_lookup(&base, repo, base_tree) < 0 || git_tree_lookup(&now, repo, new_tree) < 0) {
		rc = wd_error_git(WD_EINFRA, "syntax check: reading the trees");
		goto out;
	}
	if (!(files = calloc(n, sizeof(*files))) || !(bufs = calloc(2 * n, sizeof(*bufs)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int exists;

		files[i].path = paths[i];
		if ((rc = read_blob_at(&bufs[2 * i], repo, base, paths[i], &exists)) != 0)
			goto out;
		if (exists) {
			files[i].base = bufs[2 * i].ptr;
			files[i].base_len = bufs[2 * i].len;
		}
		if ((rc = read_blob_at(&bufs[2 * i + 1], repo, now, paths[i], &exists)) != 0)
			goto out;
		if (!exists)
			continue; /* deleted by the patch */
		files[i].patched = bufs[2 * i + 1].ptr ? bufs[2 * i + 1].ptr : "";
		files[i].patched_len = bufs[2 * i + 1].len;
	}
	rc = wd_syntax_check(out, files, n);
out:
	for (size_t i = 0; bufs && i < 2 * n; i++)
		wd_buf_free(&bufs[i]);
	free(bufs);
	free(files);
	git_tree_free(now);
	git_tree_free(base);
	return rc;
}

/* --- symbol scope --- */

struct scope_rule {
	int whole_file;        /* an entry names the path without a symbol */
	wd_strvec symbols;
};

static int rules_for(struct scope_rule *r, const char *path, const char *const *scope)
{
	int rc;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; scope && scope[i]; i++) {
		const char *e = scope[i], *colon;
		char *p;

		if (e[0] == '!')
			continue;
		colon = strrchr(e, ':');
		if (!colon || colon == e || strchr(colon, '/') || strchr(colon, '*') || !colon[1]) {
			if (wd_ctx_glob_match(e, path))
				r->whole_file = 1;
			continue;
		}
		if (!(p = wd_strndup(e, (size_t)(colon - e))))
			return WD_ENOMEM;
		if (wd_ctx_glob_match(p, path) && !wd_strvec_contains(&r->symbols, colon + 1) &&
		    (rc = wd_strvec_push(&r->symbols, colon + 1)) != 0) {
			free(p);
			return rc;
		}
		free(p);
	}
	return 0;
}

struct hunks {
	struct { int old_start, old_lines, new_start, new_lines; } v[256];
	size_t n;
	int overflow;
};

static int hunk_cb(const git_diff_delta *d, const git_diff_hunk *h, void *payload)
{
	struct hunks *hs = payload;

	(void)d;
	if (hs->n == sizeof(hs->v) / sizeof(hs->v[0])) {
		hs->overflow = 1;
		return 0;
	}
	hs->v[hs->n].old_start = h->old_start;
	hs->v[hs->n].old_lines = h->old_lines;
	hs->v[hs->n].new_start = h->new_start;
	hs->v[hs->n].new_lines = h->new_lines;
	hs->n++;
	return 0;
}

/* Does a hunk of the base (`lines` lines from `start`; an insertion after
 * line `start` when lines == 0) fall inside a definition the scope names? */
static int inside(const wd_tagset *ts, const wd_strvec *symbols, int start, int lines)
{
	for (size_t d = 0; d < ts->ndefs; d++) {
		const wd_tag *t = &ts->defs[d];
		int ok;

		if (!wd_strvec_contains(symbols, t->name))
			continue;
		if (lines == 0) /* an insertion after line `start` lands inside when start is in [s, e) */
			ok = start >= (int)t->start && start < (int)t->end;
		else
			ok = start >= (int)t->start && start + lines - 1 <= (int)t->end;
		if (ok)
			return 1;
	}
	return 0;
}

int wd_symbol_scope_check(wd_buf *out, const char *path, const char *base, size_t base_len,
                          const char *patched, size_t patched_len, const char *const *scope)
{
	struct scope_rule r;
	wd_buf notes = WD_BUF_INIT;
	struct hunks *hs = NULL;
	wd_parsers *ps = NULL;
	wd_tagset ts;
	git_diff_options o;
	int rc, lang = wd_lang_id_for_path(path), refused = 0;

	memset(&ts, 0, sizeof(ts));
	if ((rc = rules_for(&r, path, scope)) != 0)
		goto out;
	if (r.whole_file || !r.symbols.n)
		goto out; /* no symbol limits this file (path scope is the patch policy's job) */
	if (!base) {
		rc = wd_buf_printf(out, "%s: the scope limits edits to %s, but the patch creates the file\n",
		                   path, r.symbols.v[0]);
		refused = 1;
		goto out;
	}
	if (lang == WD_LANG_NONE) {
		rc = wd_buf_printf(out, "%s: the scope names symbols, but warden has no grammar for this "
		                   "file type\n", path);
		refused = 1;
		goto out;
	}
	if ((rc = wd_parsers_new(&ps)) != 0 || (rc = wd_tags_extract(&ts, ps, lang, base, base_len)) != 0)
		goto out;
	for (size_t i = 0; i < r.symbols.n; i++) {
		int found = 0;

		for (size_t d = 0; d < ts.ndefs && !found; d++)
			found = !strcmp(ts.defs[d].name, r.symbols.v[i]);
		if (!found && (rc = wd_buf_printf(&notes, "%s: the scope names '%s', which is not defined in "
		                                  "this file\n", path, r.symbols.v[i])) != 0)
			goto out;
	}
	if (!patched) {
		rc = wd_buf_printf(out, "%s: the scope limits edits to definitions, but the patch deletes "
		                   "the file\n", path);
		refused = 1;
		goto out;
	}
	if (!(hs = calloc(1, sizeof(*hs)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	o.context_lines = 0;
	o.flags |= GIT_DIFF_FORCE_TEXT;
	if (git_diff_buffers(base, base_len, path, patched, patched_len, path, &o, NULL, NULL, hunk_cb,
	                     NULL, hs) < 0) {
		rc = wd_error_git(WD_EINFRA, "diffing for the symbol scope");
		goto out;
	}
	for (size_t i = 0; i < hs->n; i++) {
		int s = hs->v[i].old_start, l = hs->v[i].old_lines;

		if (inside(&ts, &r.symbols, s, l))
			continue;
		refused = 1;
		if (l == 0)
			rc = wd_buf_printf(out, "%s:%d: lines added after line %d, outside ", path, s, s);
		else if (l == 1)
			rc = wd_buf_printf(out, "%s:%d: line %d changed, outside ", path, s, s);
		else
			rc = wd_buf_printf(out, "%s:%d: lines %d-%d changed, outside ", path, s, s, s + l - 1);
		for (size_t k = 0; !rc && k < r.symbols.n; k++)
			rc = wd_buf_printf(out, "%s%s", k ? ", " : "", r.symbols.v[k]);
		if (!rc)
			rc = wd_buf_puts(out, ", the only definitions the scope lets this patch change\n");
		if (rc)
			goto out;
	}
	if (hs->overflow) {
		refused = 1;
		rc = wd_buf_printf(out, "%s: more than %zu separate changes; keep edits inside the scoped "
		                   "definitions\n", path, sizeof(hs->v) / sizeof(hs->v[0]));
	}
out:
	if (!rc && refused && notes.len)
		rc = wd_buf_put(out, notes.ptr, notes.len);
	if (!rc && refused)
		rc = wd_error_set(WD_EREFUSED, "%s: the patch changes lines outside its symbol scope", path);
	wd_buf_free(&notes);
	wd_strvec_free(&r.symbols);
	wd_tagset_free(&ts);
	wd_parsers_free(ps);
	free(hs);
	return rc;
}

int wd_symbol_scope_check_trees(wd_buf *out, git_repository *repo, const git_oid *base_tree,
                                const git_oid *new_tree, const char *const *paths,
                                const char *const *scope)
{
	git_tree *base = NULL, *now = NULL;
	wd_buf was = WD_BUF_INIT, is = WD_BUF_INIT;
	int rc = 0, refused = 0;

	if (!scope || !paths || !paths[0])
		return 0;
	if (git_tree_lookup(&base, repo, base_tree) < 0 || git_tree_lookup(&now, repo, new_tree) < 0) {
		rc = wd_error_git(WD_EINFRA, "symbol scope: reading the trees");
		goto out;
	}
	for (size_t i = 0; paths[i]; i++) {
		int existed, present;

		wd_buf_clear(&was);
		wd_buf_clear(&is);
		if ((rc = read_blob_at(&was, repo, base, paths[i], &existed)) != 0 ||
		    (rc = read_blob_at(&is, repo, now, paths[i], &present)) != 0)
			goto out;
		rc = wd_symbol_scope_check(out, paths[i], existed ? wd_buf_cstr(&was) : NULL, was.len,
		                           present ? wd_buf_cstr(&is) : NULL, is.len, scope);
		if (rc == WD_EREFUSED) {
			refused = 1;
			rc = 0;
		}
		if (rc)
			goto out;
	}
	if (refused)
		rc = wd_error_set(WD_EREFUSED, "the patch changes lines outside its symbol scope");
out:
	wd_buf_free(&was);
	wd_buf_free(&is);
	git_tree_free(now);
	git_tree_free(base);
	return rc;
}
