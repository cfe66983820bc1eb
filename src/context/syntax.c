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

#define MAX_ISSUES 2048
#define MAX_REPORTED 10
#define MAX_HUNKS 4096
#define AROUND 2

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

/* The patch as line hunks: what maps a patched line back to the base. */
struct line_hunks {
	struct { long os, on, ns, nn; } v[MAX_HUNKS];
	size_t n;
	int overflow;
};

static int hunk_seen(const git_diff_delta *d, const git_diff_hunk *h, void *payload)
{
	struct line_hunks *hs = payload;

	(void)d;
	if (hs->n == MAX_HUNKS) {
		hs->overflow = 1;
		return 0;
	}
	hs->v[hs->n].os = h->old_start;
	hs->v[hs->n].on = h->old_lines;
	hs->v[hs->n].ns = h->new_start;
	hs->v[hs->n].nn = h->new_lines;
	hs->n++;
	return 0;
}

static int diff_hunks(struct line_hunks *hs, const wd_syntax_file *f)
{
	git_diff_options o;
	int rc;

	if (git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION) != 0)
		return wd_error_set(WD_ENOMEM, "out of memory");
	o.context_lines = 0;
	o.flags |= GIT_DIFF_FORCE_TEXT;
	hs->n = 0;
	hs->overflow = 0;
	git_libgit2_init();
	rc = git_diff_buffers(f->base ? f->base : "", f->base ? f->base_len : 0, f->path,
	                      f->patched, f->patched_len, f->path, &o, NULL, NULL, hunk_seen, NULL,
	                      hs);
	if (rc)
		rc = wd_error_set(WD_ENOMEM, "%s: the line diff failed: %s", f->path,
		                  git_error_last() ? git_error_last()->message : "out of memory");
	git_libgit2_shutdown();
	return rc;
}

/*
 * Where patched line `line` came from: *hunk = the hunk that wrote it (or
 * -1), else the base line it was (shifted by the hunks above it).
 */
static long base_line(const struct line_hunks *hs, long line, long *hunk)
{
	long delta = 0;

	*hunk = -1;
	for (size_t i = 0; i < hs->n; i++) {
		long ns = hs->v[i].ns, nn = hs->v[i].nn;

		/* a pure deletion sits after new line ns; an insertion covers [ns, ns+nn) */
		if (nn && line >= ns && line < ns + nn) {
			*hunk = (long)i;
			return 0;
		}
		if ((nn && line >= ns + nn) || (!nn && line > ns))
			delta += hs->v[i].nn - hs->v[i].on;
		else
			break;
	}
	return line - delta;
}

/* Was the problem `a` of the patched file already in the base? A problem
 * on an unchanged line is old when the base had one of the same kind on the
 * line it was; one on a line the patch wrote is old only when the base had
 * one on a line with the same text in the lines that hunk replaced. */
static int pre_existing(const struct issues *before, const struct line_hunks *hs, const char *key,
                        const wd_syntax_issue *a)
{
	long hunk, bl = base_line(hs, (long)a->line, &hunk);
	size_t stored = before->n < MAX_ISSUES ? before->n : MAX_ISSUES;

	for (size_t k = 0; k < stored; k++) {
		const wd_syntax_issue *b = &before->v[k];

		if (b->missing != a->missing)
			continue;
		if (hunk < 0 && (long)b->line == bl)
			return 1;
		if (hunk >= 0 && (long)b->line >= hs->v[hunk].os &&
		    (long)b->line < hs->v[hunk].os + hs->v[hunk].on && !strcmp(before->keys[k], key))
			return 1;
	}
	return 0;
}

/* The patched file's lines around `line`, numbered, the line itself marked. */
static int show_around(wd_buf *out, const char *src, size_t len, uint32_t line)
{
	uint32_t n = 1;
	size_t off = 0;
	int rc = 0;

	while (off < len && n + AROUND < line) {
		const char *nl = memchr(src + off, '\n', len - off);

		if (!nl)
			return 0;
		off = (size_t)(nl - src) + 1;
		n++;
	}
	while (off < len && n <= line + AROUND && !rc) {
		const char *nl = memchr(src + off, '\n', len - off);
		size_t e = nl ? (size_t)(nl - src) : len, l = e - off;

		rc = wd_buf_printf(out, "  %c%5u| %.*s\n", n == line ? '>' : ' ', n,
		                   (int)(l < 160 ? l : 160), src + off);
		off = nl ? e + 1 : len;
		n++;
	}
	return rc;
}

/* The problems of `after` the patch introduced, with the code around them;
 * *count = how many. Pre-existing ones are never listed. */
static int report_new(wd_buf *out, size_t *count, const wd_syntax_file *f,
                      const struct issues *before, const struct issues *after,
                      const struct line_hunks *hs)
{
	size_t shown = 0, stored = after->n < MAX_ISSUES ? after->n : MAX_ISSUES;
	int rc = 0;

	*count = 0;
	for (size_t i = 0; i < stored && !rc; i++) {
		const wd_syntax_issue *a = &after->v[i];

		if (pre_existing(before, hs, after->keys[i], a))
			continue;
		(*count)++;
		if (shown == MAX_REPORTED)
			continue;
		if (a->missing)
			rc = wd_buf_printf(out, "%s:%u:%u: syntax error: missing '%s'\n", f->path, a->line,
			                   a->col, a->what);
		else
			rc = wd_buf_printf(out, "%s:%u:%u: syntax error near '%s'\n", f->path, a->line,
			                   a->col, a->what);
		if (!rc)
			rc = show_around(out, f->patched, f->patched_len, a->line);
		shown++;
	}
	if (!rc && *count > shown)
		rc = wd_buf_printf(out, "%s: %zu syntax problems introduced by the patch, %zu shown\n",
		                   f->path, *count, shown);
	if (!rc && *count && before->n)
		rc = wd_buf_printf(out, "%s: %zu problem%s already in the file before the patch %s not "
		                   "listed: they are not yours to fix\n", f->path, before->n,
		                   before->n == 1 ? "" : "s", before->n == 1 ? "is" : "are");
	return rc;
}

int wd_syntax_check(wd_buf *out, const wd_syntax_file *files, size_t n)
{
	wd_parsers *ps = NULL;
	struct issues *before = NULL, *after = NULL;
	struct line_hunks *hs = NULL;
	int rc, worse = 0;

	if ((rc = wd_parsers_new(&ps)) != 0)
		return rc;
	if (!(before = calloc(1, sizeof(*before))) || !(after = calloc(1, sizeof(*after))) ||
	    !(hs = calloc(1, sizeof(*hs)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const wd_syntax_file *f = &files[i];
		int lang = wd_lang_id_for_path(f->path);
		size_t introduced = 0;

		if (lang == WD_LANG_NONE || !f->patched)
			continue;
		before->n = after->n = 0;
		if ((f->base && (rc = collect(before, ps, lang, f->base, f->base_len)) != 0) ||
		    (rc = collect(after, ps, lang, f->patched, f->patched_len)) != 0)
			goto out;
		if (!after->n)
			continue;
		if ((rc = diff_hunks(hs, f)) != 0)
			goto out;
		if ((rc = report_new(out, &introduced, f, before, after, hs)) != 0)
			goto out;
		worse |= introduced > 0;
	}
	if (worse)
		rc = wd_error_set(WD_EREFUSED, "the patch adds syntax errors");
out:
	free(before);
	free(after);
	free(hs);
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
