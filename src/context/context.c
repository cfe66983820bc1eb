/*
 * wd_context_build: what the model sees for one ticket, within a byte budget.
 *
 * Order of preference: the files the ticket names, then the files its scope
 * covers, whole when they fit and cut when they do not; a file listing; the
 * repo's AGENTS.md; and, when the tree-sitter map can be built, a slice of it
 * ranked toward the ticket. Every chosen file is recorded in c->why with the
 * reason it was chosen and how many bytes of it were sent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/beneath.h"
#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/map.h"
#include "warden/ticket.h"

#include "context_int.h"

#define DEFAULT_BUDGET (96u * 1024u)
#define AGENTS_CAP (16u * 1024u)
#define FILE_READ_MAX (16u * 1024u * 1024u)
#define MIN_CUT 1024u
#define MIN_BUDGET 2048u

struct builder {
	wd_context *c;
	const char *workdir;
	int rootfd;              /* workdir, for reading beneath it (wd_beneath_read) */
	const wd_ticket *t;
	wd_map *map;             /* NULL when the map could not be built */
	wd_strvec files;
	wd_strvec focus_idents;  /* identifiers of the ticket that name definitions */
	wd_strvec code_idents;   /* those of them the ticket writes as code, or plain words
	                          * naming functions only */
	wd_strvec as_code;       /* those of them the ticket writes as code */
	wd_strvec specific;      /* those written as code and defined in at most three places */
	wd_strvec deferred;      /* files defining them, too large to send whole: their
	                          * definitions lead the fill (add_retrieved) */
	wd_strvec named;         /* files the ticket's text names */
	wd_strvec scoped;        /* files its scope matches */
	const char *const *exclude; /* map.exclude globs */
	size_t budget;
	size_t used;
	size_t callers_used;     /* bytes of all the callers sections */
};

static int why_add(wd_context *c, const char *path, const char *reason, size_t bytes,
                   const char *cut)
{
	json_t *o = json_pack("{s:s, s:s, s:I}", "path", path, "reason", reason, "bytes",
	                      (json_int_t)bytes);

	if (!o)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (cut && json_object_set_new(o, "cut", json_string(cut)) < 0) {
		json_decref(o);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	if (json_array_append_new(c->why, o) < 0)
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

/* An empty buffer may have no storage at all (WD_BUF_INIT): it is not binary. */
static int is_binary(const char *p, size_t len)
{
	if (!len)
		return 0;
	return memchr(p, '\0', len < 8000 ? len : 8000) != NULL;
}

/* Read a work-tree file: a regular file beneath the root, reached without
 * following any symbolic link (WD_EREFUSED otherwise), at most
 * FILE_READ_MAX bytes; the repository's files are hostile. */
static int read_tree_file(wd_buf *out, struct builder *b, const char *rel)
{
	return wd_beneath_read(out, b->rootfd, rel, FILE_READ_MAX);
}

/* Whether the link target `target` of the file `rel` names a path inside
 * the tree, read as text (the link is never followed): relative, and its
 * ".." never climbs above the root. */
static int target_inside(const char *rel, const char *target)
{
	long depth = 0;
	const char *p;

	if (*target == '/')
		return 0;
	for (p = rel; (p = strchr(p, '/')) != NULL; p++)
		depth++;
	for (p = target; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 0;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n + (p[n] == '/');
	}
	return 1;
}

/* Why a file the tree reader refused was left out: a link is never
 * followed, whether it leads out of the tree or not; anything else that is
 * not a regular file is not read either. */
static const char *refused_reason(struct builder *b, const char *rel)
{
	wd_buf target = WD_BUF_INIT;
	struct stat st;
	const char *why = "skipped: outside the work tree";

	if (wd_beneath_lstat(&st, b->rootfd, rel) == 0) {
		if (!S_ISLNK(st.st_mode))
			why = "skipped: not a regular file";
		else if (wd_beneath_readlink(&target, b->rootfd, rel) == 0 &&
		         target_inside(rel, wd_buf_cstr(&target)))
			why = "skipped: a symbolic link (links are not followed)";
	}
	wd_error_clear();
	wd_buf_free(&target);
	return why;
}

/* Byte offset of the start of line `n` (1-based) in p[0..len), or len. */
static size_t line_offset(const char *p, size_t len, size_t n)
{
	size_t off = 0;

	while (n > 1 && off < len) {
		const char *nl = memchr(p + off, '\n', len - off);

		if (!nl)
			return len;
		off = (size_t)(nl - p) + 1;
		n--;
	}
	return off;
}

static size_t count_lines(const char *p, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n + (len && p[len - 1] != '\n');
}

/* Keep whole lines from the head and the tail of a file, `cap` bytes in all. */
static int cut_head_tail(wd_buf *out, wd_buf *note, const char *p, size_t len, size_t cap)
{
	size_t head, tail_start, head_lines, total = count_lines(p, len);
	const char *nl;
	int rc;

	cap -= 64; /* the "[lines a-b not shown]" note comes out of the same budget */
	head = cap * 2 / 3;

	while (head > 0 && p[head - 1] != '\n')
		head--;
	tail_start = len - (cap - head);
	nl = memchr(p + tail_start, '\n', len - tail_start);
	tail_start = nl ? (size_t)(nl - p) + 1 : len;
	head_lines = count_lines(p, head);
	if ((rc = wd_buf_put(out, p, head)) != 0 ||
	    (rc = wd_buf_printf(out, "... [lines %zu-%zu not shown] ...\n", head_lines + 1,
	                        total - count_lines(p + tail_start, len - tail_start))) != 0 ||
	    (rc = wd_buf_put(out, p + tail_start, len - tail_start)) != 0)
		return rc;
	return wd_buf_printf(note, "head and tail of %zu lines", total);
}

/* Append the line ranges `r` (sorted, merged) of p[0..len) that fit in
 * `cap`, with a note for every gap; *shown = how many fitted. */
static int emit_ranges(wd_buf *out, size_t *shown, const char *p, size_t len,
                       const wd_map_range *r, size_t nr, size_t cap)
{
	size_t total = count_lines(p, len), last = 0;
	int rc;

	*shown = 0;
	for (size_t i = 0; i < nr; i++) {
		size_t s = line_offset(p, len, r[i].start_line);
		size_t e = line_offset(p, len, r[i].end_line + 1);

		if (out->len + (e - s) + 64 > cap)
			continue;
		if (r[i].start_line > last + 1 &&
		    (rc = wd_buf_printf(out, "... [lines %zu-%zu not shown] ...\n", last + 1,
		                        r[i].start_line - 1)) != 0)
			return rc;
		if ((rc = wd_buf_put(out, p + s, e - s)) != 0)
			return rc;
		last = r[i].end_line;
		(*shown)++;
	}
	if (*shown && last < total)
		return wd_buf_printf(out, "... [lines %zu-%zu not shown] ...\n", last + 1, total);
	return 0;
}

/*
 * Keep the definitions the ticket's identifiers name, whole, in file order,
 * within `cap`. Returns WD_ENOTFOUND when the map knows no such definition
 * in this file.
 */
static int cut_definitions(wd_buf *out, wd_buf *note, struct builder *b, const char *path,
                           const char *p, size_t len, size_t cap)
{
	wd_map_range *r = NULL;
	size_t nr = 0, shown = 0;
	int rc;

	if (!b->map || !b->focus_idents.n)
		return WD_ENOTFOUND;
	if ((rc = wd_map_ranges_for(&r, &nr, b->map, path,
	                            (const char *const *)b->focus_idents.v)) != 0)
		return rc;
	if ((rc = emit_ranges(out, &shown, p, len, r, nr, cap)) == 0 && !shown)
		rc = WD_ENOTFOUND;
	if (!rc)
		rc = wd_buf_printf(note, "%zu enclosing definition%s of %zu lines", shown,
		                   shown == 1 ? "" : "s", count_lines(p, len));
	if (rc)
		wd_buf_clear(out);
	free(r);
	return rc;
}

static int cmp_def_rank(const void *a, const void *b)
{
	const wd_map_def *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? 1 : -1;
	return x->start_line < y->start_line ? -1 : x->start_line > y->start_line;
}

/*
 * No definition the ticket names is in this file: keep its best-ranked
 * definitions (the ranking is personalised toward the ticket) whole, in
 * file order, rather than a blind head and tail. WD_ENOTFOUND when the map
 * has no definition of the file.
 */
static int cut_ranked(wd_buf *out, wd_buf *note, struct builder *b, const char *path,
                      const char *p, size_t len, size_t cap)
{
	wd_map_def *d = NULL;
	wd_map_range *r = NULL;
	size_t n = 0, k = 0, bytes = 0, shown = 0, w = 0;
	int rc;

	if (!b->map)
		return WD_ENOTFOUND;
	if ((rc = wd_map_file_definitions(&d, &n, b->map, path)) != 0)
		return rc;
	if (!n || !(r = calloc(n, sizeof(*r)))) {
		free(d);
		return n ? wd_error_set(WD_ENOMEM, "out of memory") : WD_ENOTFOUND;
	}
	qsort(d, n, sizeof(*d), cmp_def_rank);
	for (size_t i = 0; i < n; i++) {
		size_t size = line_offset(p, len, d[i].end_line + 1) - line_offset(p, len, d[i].start_line);

		if (bytes + size + 64 * (k + 2) > cap)
			continue;
		r[k].start_line = d[i].start_line;
		r[k].end_line = d[i].end_line;
		bytes += size;
		k++;
	}
	w = wd_ctx_ranges_merge(r, k);
	if ((rc = emit_ranges(out, &shown, p, len, r, w, cap)) == 0 && !shown)
		rc = WD_ENOTFOUND;
	if (!rc)
		rc = wd_buf_printf(note, "%zu best-ranked definition%s of %zu lines",
		                   shown == w ? k : shown, (shown == w ? k : shown) == 1 ? "" : "s",
		                   count_lines(p, len));
	if (rc)
		wd_buf_clear(out);
	free(r);
	free(d);
	return rc;
}

/* Add one file to c->files, whole (when it fits in `whole_max` bytes and
 * in what is left) or cut, and record why. */
static int add_file_within(struct builder *b, const char *path, const char *reason,
                           size_t whole_max)
{
	wd_buf content = WD_BUF_INIT, body = WD_BUF_INIT, note = WD_BUF_INIT;
	size_t left = b->budget > b->used ? b->budget - b->used : 0, cap, hdr;
	int rc;

	if (wd_strvec_contains(&b->c->chosen, path))
		return 0;
	if ((rc = read_tree_file(&content, b, path)) != 0) {
		/* a file we cannot or may not read is left out, and the ledger says so;
		 * what was read of it (up to the cap, for an oversized file) is freed */
		wd_buf_free(&content);
		wd_error_clear();
		return why_add(b->c, path, rc == WD_EREFUSED ? refused_reason(b, path)
		                                                : "skipped: unreadable", 0, NULL);
	}
	if (is_binary(content.ptr, content.len)) {
		rc = why_add(b->c, path, "skipped: binary", 0, NULL);
		goto out;
	}
	hdr = strlen(path) + 80;
	if (left < hdr + MIN_CUT) {
		rc = why_add(b->c, path, "skipped: budget exhausted", 0, NULL);
		goto out;
	}
	cap = left - hdr;
	if (content.len <= cap && content.len <= whole_max) {
		rc = wd_buf_printf(&b->c->files, "=== %s ===\n%s%s", path, content.ptr,
		                   content.len && content.ptr[content.len - 1] != '\n' ? "\n" : "");
		if (!rc)
			rc = why_add(b->c, path, reason, content.len, NULL);
	} else {
		/* leave room for the next files: one cut file takes at most half of what is left */
		if (cap > MIN_CUT * 2)
			cap /= 2;
		rc = cut_definitions(&body, &note, b, path, content.ptr, content.len, cap);
		if (rc == WD_ENOTFOUND) {
			wd_buf_clear(&note);
			rc = cut_ranked(&body, &note, b, path, content.ptr, content.len, cap);
		}
		if (rc == WD_ENOTFOUND) {
			wd_buf_clear(&body);
			wd_buf_clear(&note);
			rc = cut_head_tail(&body, &note, content.ptr, content.len, cap);
		}
		if (!rc)
			rc = wd_buf_printf(&b->c->files, "=== %s (cut: %s) ===\n%s", path, note.ptr,
			                   body.ptr);
		if (!rc)
			rc = why_add(b->c, path, reason, body.len, note.ptr);
	}
	if (!rc)
		rc = wd_strvec_push(&b->c->chosen, path);
out:
	b->used = b->c->listing.len + b->c->agents.len + b->c->map.len + b->c->files.len;
	wd_buf_free(&content);
	wd_buf_free(&body);
	wd_buf_free(&note);
	return rc;
}

static int add_file(struct builder *b, const char *path, const char *reason)
{
	return add_file_within(b, path, reason, SIZE_MAX);
}

static int is_ident_char(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

#define CALLER_FILES 8
#define CALLERS_MAX 24
#define CALLERS_CAP 4096u

/* The innermost definition of `d` (n of them) around `line` that is not a
 * definition of `name`; NULL when none. */
static const wd_map_def *enclosing(const wd_map_def *d, size_t n, size_t line, const char *name)
{
	const wd_map_def *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (d[i].start_line > line || d[i].end_line < line || !strcmp(d[i].name, name))
			continue;
		if (d[i].kind == WD_TAG_VARIABLE || d[i].kind == WD_TAG_CONSTANT)
			continue;
		if (!best || d[i].end_line - d[i].start_line < best->end_line - best->start_line)
			best = &d[i];
	}
	return best;
}

/* The callers of `name` in one file: a line per enclosing definition. */
static int callers_in(wd_buf *out, size_t *count, struct builder *b, const char *path,
                      const char *name, const char *reason)
{
	wd_buf content = WD_BUF_INIT;
	wd_map_def *d = NULL;
	size_t n = 0, nl = strlen(name), line = 1, pos = 0, seen_line = 0, before = out->len;
	const wd_map_def *last = NULL;
	int rc;

	if (read_tree_file(&content, b, path) != 0) {
		wd_error_clear();
		return 0;
	}
	if ((rc = wd_map_file_definitions(&d, &n, b->map, path)) != 0)
		goto out;
	while (!rc && *count < CALLERS_MAX && pos < content.len) {
		const char *hit = memmem(content.ptr + pos, content.len - pos, name, nl);
		const wd_map_def *e;
		size_t at;

		if (!hit)
			break;
		at = (size_t)(hit - content.ptr);
		for (; pos < at; pos++)
			line += content.ptr[pos] == '\n';
		pos = at + nl;
		if ((at > 0 && is_ident_char(content.ptr[at - 1])) ||
		    (pos < content.len && is_ident_char(content.ptr[pos])) || line == seen_line)
			continue;
		seen_line = line;
		e = enclosing(d, n, line, name);
		if (!e || e == last)
			continue;
		last = e;
		rc = wd_buf_printf(out, "%s:%zu: %s\n", path, e->start_line, e->signature);
		(*count)++;
	}
	if (!rc && out->len > before)
		rc = why_add(b->c, path, reason, out->len - before, NULL);
out:
	free(d);
	wd_buf_free(&content);
	return rc;
}

/* With the definitions the ticket names, the signatures of their callers:
 * what the change must keep working. */
static int add_callers(struct builder *b, const char *name, const char *reason)
{
	wd_strvec refs = WD_STRVEC_INIT;
	wd_buf sec = WD_BUF_INIT;
	size_t left = b->budget > b->used ? b->budget - b->used : 0, count = 0, files = 0;
	size_t cap = left / 4 < CALLERS_CAP ? left / 4 : CALLERS_CAP;
	size_t total = b->budget / 12;
	int rc;

	/* all the callers sections together: signatures come after code */
	if (b->callers_used >= total)
		return 0;
	if (cap > total - b->callers_used)
		cap = total - b->callers_used;

	if (cap < 256)
		return 0;
	if ((rc = wd_map_find_referencing_files(&refs, NULL, b->map, name)) != 0)
		return rc;
	for (size_t i = 0; !rc && i < refs.n && files < CALLER_FILES && count < CALLERS_MAX; i++) {
		if (wd_map_is_vendored(b->map, refs.v[i]))
			continue;
		rc = callers_in(&sec, &count, b, refs.v[i], name, reason);
		files++;
	}
	if (!rc && sec.len) {
		size_t keep = sec.len <= cap ? sec.len : cap;

		while (keep > 0 && sec.ptr[keep - 1] != '\n')
			keep--;
		rc = wd_buf_printf(&b->c->files, "=== callers of %s (their signatures) ===\n%.*s", name,
		                   (int)keep, sec.ptr);
		b->callers_used += keep;
	}
	b->used = b->c->listing.len + b->c->agents.len + b->c->map.len + b->c->files.len;
	wd_buf_free(&sec);
	wd_strvec_free(&refs);
	return rc;
}

/* Does `path` define only names the ticket writes as plain words (a
 * function `output` for "colored output")? Such a word says less about
 * the file than a name written as code. */
static int plain_only(struct builder *b, const char *path)
{
	for (size_t i = 0; i < b->specific.n; i++) {
		wd_map_def *d = NULL;
		size_t n = 0;
		int here = 0;

		if (!wd_strvec_contains(&b->as_code, b->specific.v[i]))
			continue;
		if (wd_map_find_definitions(&d, &n, b->map, b->specific.v[i]) != 0) {
			wd_error_clear();
			return 0;
		}
		for (size_t k = 0; k < n && !here; k++)
			here = !strcmp(d[k].path, path);
		free(d);
		if (here)
			return 0;
	}
	return 1;
}

/* A file defining an identifier the ticket names: whole when it takes at
 * most a third of what is left (and the ticket writes the name as code, not
 * as a plain word); else its named definitions lead the fill, with the
 * definitions of it (and of other files) that match the ticket. */
static int add_or_defer(struct builder *b, const char *path, int plain)
{
	wd_buf content = WD_BUF_INIT;
	size_t left = b->budget > b->used ? b->budget - b->used : 0;
	int rc;

	if (wd_strvec_contains(&b->c->chosen, path) || wd_strvec_contains(&b->deferred, path))
		return 0;
	if (read_tree_file(&content, b, path) != 0) {
		wd_error_clear();
		wd_buf_free(&content);
		return add_file(b, path, "defines an identifier the ticket names");
	}
	if (!plain && content.len + strlen(path) + 80 <= left / 3)
		rc = add_file(b, path, "defines an identifier the ticket names");
	else
		rc = wd_strvec_push(&b->deferred, path);
	wd_buf_free(&content);
	return rc;
}

#define CONTAINER_WHOLE 4096u /* a larger class is sent by its head */
#define NAMED_SCORE 1e6     /* a definition the ticket names leads the fill */
#define UNITS_TRIED 20000   /* definitions considered for the fill, best first */
#define FILL_MIN_LEFT 512u   /* below this, the fill stops */
#define WHOLE_SLACK 4        /* a file is sent whole when it is at most 1 + 1/WHOLE_SLACK
                              * times the size of its chosen definitions */
#define SMALL_FILE 2048u     /* a file this small is sent whole */
#define ABOVE_MAX 256u       /* the small function right above a named one comes with it */
#define ABOVE_GAP 3          /* ... when it ends at most this many lines above the named
                              * one's first (Python's two blank lines between functions) */
#define BEST_WHOLE_PART 6    /* the best-matching file of the code, and of the tests, is
                              * sent whole when it takes at most this part of the budget */

static int reader(void *arg, const char *path, wd_buf *out)
{
	return read_tree_file(out, arg, path);
}

/* The definitions chosen in one file. */
struct pick {
	const char *path;
	wd_map_range *r;
	size_t nr, cap;
	size_t bytes;             /* of the chosen definitions */
	const wd_ctx_unit *best;  /* its best-scored unit */
	size_t whole;             /* > 0: the file is sent whole, of this size */
	size_t named;             /* how many of them the ticket names */
	size_t tail;              /* how many of them are a test file's last ones (wd_ctx_unit) */
	wd_buf names;             /* "name a-b, ..." for the ledger */
};

/* A large container (a class) is sent by its head: its members come on their own scores. */
static size_t unit_end(const wd_ctx_unit *u)
{
	return u->bytes > CONTAINER_WHOLE && u->head_end < u->end_line ? u->head_end : u->end_line;
}

static size_t unit_bytes(const wd_ctx_unit *u)
{
	return u->bytes > CONTAINER_WHOLE && u->head_end < u->end_line ? u->head_bytes : u->bytes;
}

static int pick_add(struct pick *p, const wd_ctx_unit *u)
{
	if (wd_array_reserve(&p->r, &p->cap, p->nr + 1, sizeof(*p->r), 8) != 0)
		return wd_error_set(WD_ENOMEM, "out of memory");
	p->r[p->nr].start_line = u->start_line;
	p->r[p->nr].end_line = unit_end(u);
	p->nr++;
	p->bytes += unit_bytes(u);
	p->named += u->named != 0;
	return wd_buf_printf(&p->names, "%s%s%s%s %zu-%zu", p->names.len ? ", " : "", u->name,
	                     u->within ? " in " : "", u->within ? u->within : "", u->start_line,
	                     unit_end(u));
}

/* Is u's range inside one already picked? */
static int pick_covers(const struct pick *p, const wd_ctx_unit *u)
{
	if (p->whole)
		return 1;
	for (size_t i = 0; i < p->nr; i++)
		if (p->r[i].start_line <= u->start_line && p->r[i].end_line >= unit_end(u))
			return 1;
	return 0;
}

/* A test file the fill reaches brings its last definitions (its tail, see
 * retrieve.c): the fix's new test goes there, beside the tests it follows. */
static int pick_tail(struct pick *p, const wd_ctx_unit *u, size_t nu, const wd_ctx_unit *first,
                     size_t *left)
{
	int rc = 0;

	for (size_t k = 0; k < nu && !rc; k++) {
		size_t cost = unit_bytes(&u[k]) + 48;

		if (!u[k].tail || u[k].file != first->file || pick_covers(p, &u[k]) || cost > *left)
			continue;
		rc = pick_add(p, &u[k]);
		p->tail++;
		*left -= cost;
	}
	return rc;
}

/* A definition the ticket names brings the small function right above it
 * (a sibling method, a helper): a fix that changes the named one's `def`
 * line or inserts before it lands between the two, and the reader sees
 * where. Nested functions and classes are left out. */
static int pick_above(struct pick *p, const wd_ctx_unit *u, size_t nu, const wd_ctx_unit *named,
                      size_t *left)
{
	const wd_ctx_unit *above = NULL;
	size_t cost;

	for (size_t k = 0; k < nu; k++) {
		if (u[k].file != named->file || u[k].end_line >= named->start_line)
			continue;
		if (!above || u[k].end_line > above->end_line ||
		    (u[k].end_line == above->end_line && u[k].start_line > above->start_line))
			above = &u[k];
	}
	if (!above || above->within ||
	    (above->kind != WD_TAG_FUNCTION && above->kind != WD_TAG_METHOD) ||
	    above->bytes > ABOVE_MAX || above->end_line + ABOVE_GAP < named->start_line ||
	    pick_covers(p, above))
		return 0;
	cost = above->bytes + 48;
	if (cost > *left)
		return 0;
	*left -= cost;
	return pick_add(p, above);
}

/* Send one file's picked definitions: the whole file when it is small or
 * mostly picked anyway, else the definitions whole, in file order. */
static int fill_emit(struct builder *b, struct pick *p)
{
	wd_buf content = WD_BUF_INIT, body = WD_BUF_INIT, reason = WD_BUF_INIT, note = WD_BUF_INIT;
	size_t left = b->budget > b->used ? b->budget - b->used : 0, hdr = strlen(p->path) + 100;
	size_t w = 0, shown = 0, lines;
	const wd_ctx_unit *u = p->best;
	int rc;

	if (left < hdr + 64)
		return 0;
	if (read_tree_file(&content, b, p->path) != 0 || is_binary(content.ptr, content.len)) {
		wd_error_clear();
		wd_buf_free(&content);
		return 0;
	}
	if (u->named)
		rc = wd_buf_puts(&reason, "defines an identifier the ticket names");
	else if (u->calls)
		rc = wd_buf_printf(&reason, "tests %s, one of the best matches for the ticket "
		                   "(score %.2f)", u->calls, u->score);
	else if (u->called_by && !u->words[0])
		rc = wd_buf_printf(&reason, "%s is called by %s, one of the best matches for the "
		                   "ticket (score %.2f)", u->name, u->called_by, u->score);
	else if (u->tests_file && !u->words[0])
		rc = wd_buf_printf(&reason, "the tests of %s, one of the files that best match the "
		                   "ticket (score %.2f)", u->tests_file, u->score);
	else
		rc = wd_buf_printf(&reason, "matches the ticket: %s (score %.2f, words: %s)", u->name,
		                   u->score, u->words[0] ? u->words : "none; ranked by the map");
	if (rc)
		goto out;
	lines = count_lines(content.ptr, content.len);
	if (content.len + hdr <= left && (p->whole || content.len <= SMALL_FILE ||
	                                  content.len <= p->bytes + p->bytes / WHOLE_SLACK)) {
		rc = wd_buf_printf(&b->c->files, "=== %s ===\n%s%s", p->path, content.ptr,
		                   content.len && content.ptr[content.len - 1] != '\n' ? "\n" : "");
		if (!rc)
			rc = why_add(b->c, p->path, reason.ptr, content.len, NULL);
		if (!rc)
			rc = wd_strvec_push(&b->c->chosen, p->path);
		goto out;
	}
	w = wd_ctx_ranges_merge(p->r, p->nr);
	if ((rc = emit_ranges(&body, &shown, content.ptr, content.len, p->r, w, left - hdr)) != 0)
		goto out;
	if (!shown)
		goto out;
	if (p->named)
		rc = wd_buf_printf(&note, "%zu enclosing definition%s the ticket names and %zu more "
		                   "matching its words, of %zu lines: %s", p->named,
		                   p->named == 1 ? "" : "s", p->nr - p->named, lines, p->names.ptr);
	else if (p->tail)
		rc = wd_buf_printf(&note, "%zu definition%s matching the ticket and the file's last %zu "
		                   "(a new test goes there), of %zu lines: %s", p->nr - p->tail,
		                   p->nr - p->tail == 1 ? "" : "s", p->tail, lines, p->names.ptr);
	else
		rc = wd_buf_printf(&note, "%zu definition%s matching the ticket of %zu lines: %s", p->nr,
		                   p->nr == 1 ? "" : "s", lines, p->names.ptr);
	if (rc)
		goto out;
	if (note.len > 200) {
		wd_buf_truncate(&note, 196);
		wd_buf_puts(&note, "...");
	}
	rc = wd_buf_printf(&b->c->files, "=== %s (cut: %zu definition%s matching the ticket, of %zu "
	                   "lines) ===\n%s", p->path, p->nr, p->nr == 1 ? "" : "s", lines, body.ptr);
	if (!rc)
		rc = why_add(b->c, p->path, reason.ptr, body.len, note.ptr);
	if (!rc)
		rc = wd_strvec_push(&b->c->chosen, p->path);
out:
	b->used = b->c->listing.len + b->c->agents.len + b->c->map.len + b->c->files.len;
	wd_buf_free(&content);
	wd_buf_free(&body);
	wd_buf_free(&reason);
	wd_buf_free(&note);
	return rc;
}

/* The size of `path` when the fill may send it whole as the best match of
 * its kind (small enough, and it fits in `left`), else 0. */
static size_t best_whole(struct builder *b, const char *path, size_t left)
{
	wd_buf content = WD_BUF_INIT;
	size_t size = 0;

	if (read_tree_file(&content, b, path) != 0)
		wd_error_clear();
	else if (!is_binary(content.ptr, content.len) && content.len &&
	         content.len <= b->budget / BEST_WHOLE_PART &&
	         content.len + strlen(path) + 100 <= left)
		size = content.len;
	wd_buf_free(&content);
	return size;
}

/*
 * Fill what the budget has left with the definitions that best match the
 * ticket's words (retrieve.c), each whole: the files the ticket names and
 * the definitions it names came first; this is what a terse ticket that
 * names nothing gets. Tests that call the best matches are candidates too.
 */
static int add_retrieved(struct builder *b)
{
	wd_ctx_unit *u = NULL;
	struct pick *picks = NULL;
	size_t nu = 0, np = 0, cp = 0, left, callers = 0;
	int rc, took_code = 0, took_test = 0;

	if ((rc = wd_ctx_retrieve(&u, &nu, b->map, b->t ? wd_ticket_title(b->t) : NULL,
	                          b->t ? wd_ticket_body(b->t) : NULL, reader, b)) != 0)
		return rc;
	if (b->deferred.n) {
		for (size_t i = 0; i < nu; i++) {
			if (wd_strvec_contains(&b->specific, u[i].name) &&
			    wd_strvec_contains(&b->deferred, u[i].path)) {
				u[i].named = 1;
				u[i].score += NAMED_SCORE;
			}
		}
		if (nu)
			qsort(u, nu, sizeof(*u), wd_ctx_unit_cmp);
	}
	/* the best match's callers, when it is a function defined in few places */
	for (size_t i = 0; !rc && i < nu && callers < 1; i++) {
		wd_map_def *d = NULL;
		size_t nd = 0;

		if (u[i].named)
			continue;
		if (u[i].lexical <= 0 || u[i].test)
			break;
		if (u[i].kind != WD_TAG_FUNCTION && u[i].kind != WD_TAG_METHOD)
			continue;
		if (wd_strvec_contains(&b->focus_idents, u[i].name))
			break; /* its callers are there already */
		rc = wd_map_find_definitions(&d, &nd, b->map, u[i].name);
		if (!rc && nd <= 3)
			rc = add_callers(b, u[i].name, "calls the definition that best matches the "
			                 "ticket's words (signatures only)");
		free(d);
		callers++;
	}
	left = b->budget > b->used ? b->budget - b->used : 0;
	for (size_t i = 0; !rc && i < nu && i < UNITS_TRIED && left >= FILL_MIN_LEFT; i++) {
		struct pick *p = NULL;
		size_t cost, whole = 0;
		int denied = 0, fresh;

		if (wd_strvec_contains(&b->c->chosen, u[i].path))
			continue;
		if (b->t && wd_ticket_scope(b->t)->n &&
		    !wd_ctx_scope_match(wd_ticket_scope(b->t), u[i].path, &denied))
			continue;
		for (size_t k = 0; k < np && !p; k++)
			if (!strcmp(picks[k].path, u[i].path))
				p = &picks[k];
		if (p && pick_covers(p, &u[i]))
			continue;
		/* the file of the best match of the code, and of the tests: the fix is
		 * often beside it (another function, the test next to the one found) */
		if (!p && !u[i].named && !(u[i].test ? took_test : took_code)) {
			*(u[i].test ? &took_test : &took_code) = 1;
			whole = best_whole(b, u[i].path, left);
		}
		cost = (whole ? whole : unit_bytes(&u[i]) + 48) + (p ? 0 : strlen(u[i].path) + 100);
		if (cost > left)
			continue;
		fresh = !p;
		if (!p) {
			if (wd_array_reserve(&picks, &cp, np + 1, sizeof(*picks), 16) != 0) {
				rc = wd_error_set(WD_ENOMEM, "out of memory");
				break;
			}
			p = &picks[np++];
			memset(p, 0, sizeof(*p));
			p->path = u[i].path;
			p->best = &u[i];
			p->whole = whole;
		}
		rc = pick_add(p, &u[i]);
		left -= cost;
		if (!rc && u[i].named && !p->whole)
			rc = pick_above(p, u, nu, &u[i], &left);
		if (!rc && fresh && u[i].test && !p->whole)
			rc = pick_tail(p, u, nu, &u[i], &left);
	}
	for (size_t k = 0; !rc && k < np; k++)
		rc = fill_emit(b, &picks[k]);
	for (size_t k = 0; k < np; k++) {
		free(picks[k].r);
		wd_buf_free(&picks[k].names);
	}
	free(picks);
	free(u);
	return rc;
}

static int build_agents(struct builder *b)
{
	wd_buf raw = WD_BUF_INIT;
	size_t cap = b->budget / 8 < AGENTS_CAP ? b->budget / 8 : AGENTS_CAP;
	int rc;

	if (!wd_strvec_contains(&b->files, "AGENTS.md"))
		return 0;
	if (read_tree_file(&raw, b, "AGENTS.md") != 0) {
		wd_error_clear();
		return 0;
	}
	if (raw.len > cap) {
		size_t keep = cap;

		while (keep > 0 && raw.ptr[keep - 1] != '\n')
			keep--;
		wd_buf_truncate(&raw, keep);
		rc = wd_buf_printf(&raw, "... [AGENTS.md cut at %zu bytes to fit the budget]\n", keep);
		if (rc)
			goto out;
	}
	if ((rc = wd_buf_put(&b->c->agents, raw.ptr, raw.len)) == 0)
		rc = why_add(b->c, "AGENTS.md", "repository instructions", raw.len,
		             raw.len > cap ? "capped" : NULL);
out:
	wd_buf_free(&raw);
	return rc;
}

static int is_vendored(const struct builder *b, const char *path)
{
	if (b->map)
		return wd_map_is_vendored(b->map, path);
	return wd_ctx_path_vendored(path, b->exclude);
}

/* "deps/jemalloc/" for deps/jemalloc/src/arena.c: where a vendored tree lives. */
static char *vendored_root(const char *path)
{
	const char *slash = strchr(path, '/');

	if (slash && strchr(slash + 1, '/'))
		slash = strchr(slash + 1, '/');
	return wd_strndup(path, slash ? (size_t)(slash - path) + 1 : strlen(path));
}

/* The vendored files are summed up by where they live, not listed. */
static int note_vendored(struct builder *b, size_t nvend)
{
	wd_strvec roots = WD_STRVEC_INIT;
	int rc = 0;

	for (size_t i = 0; i < b->files.n && !rc; i++) {
		char *r;

		if (!is_vendored(b, b->files.v[i]))
			continue;
		if (!(r = vendored_root(b->files.v[i])))
			rc = WD_ENOMEM;
		else if (wd_strvec_contains(&roots, r))
			free(r);
		else
			rc = wd_strvec_push_owned(&roots, r);
	}
	if (!rc)
		rc = wd_buf_printf(&b->c->listing, "... and %zu vendored or generated files, not listed "
		                   "(read them with the tools if needed): ", nvend);
	if (!rc)
		rc = wd_strvec_join(&b->c->listing, &roots, ", ", 12);
	if (!rc)
		rc = wd_buf_putc(&b->c->listing, '\n');
	wd_strvec_free(&roots);
	return rc;
}

static int build_listing(struct builder *b)
{
	size_t cap = b->budget / 8, nvend = 0, left = 0;
	size_t i;
	int rc;

	for (i = 0; i < b->files.n; i++) {
		if (is_vendored(b, b->files.v[i])) {
			nvend++;
			continue;
		}
		if (b->c->listing.len + strlen(b->files.v[i]) + 1 > cap) {
			left++;
			continue;
		}
		if ((rc = wd_buf_printf(&b->c->listing, "%s\n", b->files.v[i])) != 0)
			return rc;
	}
	if (left && (rc = wd_buf_printf(&b->c->listing,
	                                "... and %zu more files (listing cut to fit the budget)\n",
	                                left)) != 0)
		return rc;
	return nvend ? note_vendored(b, nvend) : 0;
}

/* Does the token [s, e) of `text` read as code: in `backticks`, called
 * ("name("), or shaped like an identifier (an '_', a digit, camelCase)? */
static int code_like(const char *text, const char *s, const char *e)
{
	if (s > text && s[-1] == '`')
		return 1;
	if (*e == '(' || *e == '`')
		return 1;
	int lower = 0, inner_upper = 0;

	for (const char *q = s; q < e; q++) {
		if (*q == '_' || (*q >= '0' && *q <= '9'))
			return 1;
		lower |= *q >= 'a' && *q <= 'z';
		inner_upper |= q > s && *q >= 'A' && *q <= 'Z';
	}
	/* camelCase, not an all-caps word (NULL, UTF, JSON: prose) */
	return lower && inner_upper;
}

static int focus_add(struct builder *b, const char *id)
{
	if (wd_strvec_contains(&b->focus_idents, id))
		return 0;
	return wd_strvec_push(&b->focus_idents, id);
}

/* Are all the definitions of `name` functions, methods or classes? */
static int names_functions(const wd_map *m, const char *name)
{
	wd_map_def *d = NULL;
	size_t n = 0;
	int yes;

	if (wd_map_find_definitions(&d, &n, m, name) != 0) {
		wd_error_clear();
		return 0;
	}
	yes = n > 0;
	for (size_t i = 0; i < n; i++)
		if (d[i].kind != WD_TAG_FUNCTION && d[i].kind != WD_TAG_METHOD &&
		    d[i].kind != WD_TAG_CLASS && d[i].kind != WD_TAG_PROTOTYPE)
			yes = 0;
	free(d);
	return yes;
}

/* The identifiers of one text that name definitions: exactly, or, for a
 * token written as code, the definitions it names without their prefix or
 * suffix (`setbytes` for m_setbytes) when there are few of them. */
static int text_identifiers(struct builder *b, const char *text)
{
	const char *p = text;
	int rc = 0;

	while (p && *p && !rc) {
		const char *s;
		char *id;

		while (*p && !(is_ident_char(*p) && !(*p >= '0' && *p <= '9')))
			p++;
		s = p;
		while (*p && is_ident_char(*p))
			p++;
		if (p - s < 3)
			continue;
		if (!(id = wd_strndup(s, (size_t)(p - s))))
			return WD_ENOMEM;
		if (wd_map_has_definition(b->map, id)) {
			rc = focus_add(b, id);
			/* a plain word ("color", "options") that some variable or type is
			 * named after ranks the map; one written as code, or naming
			 * functions only, picks files */
			if (!rc && (code_like(text, s, p) || names_functions(b->map, id)) &&
			    !wd_strvec_contains(&b->code_idents, id))
				rc = wd_strvec_push(&b->code_idents, id);
			if (!rc && code_like(text, s, p) && !wd_strvec_contains(&b->as_code, id))
				rc = wd_strvec_push(&b->as_code, id);
		} else if (p - s >= 4 && code_like(text, s, p)) {
			wd_strvec like = WD_STRVEC_INIT;

			rc = wd_map_names_like(&like, b->map, id, 4);
			for (size_t i = 0; !rc && like.n <= 3 && i < like.n; i++) {
				rc = focus_add(b, like.v[i]);
				if (!rc && !wd_strvec_contains(&b->code_idents, like.v[i]))
					rc = wd_strvec_push(&b->code_idents, like.v[i]);
				if (!rc && !wd_strvec_contains(&b->as_code, like.v[i]))
					rc = wd_strvec_push(&b->as_code, like.v[i]);
			}
			wd_strvec_free(&like);
		}
		free(id);
	}
	return rc;
}

/* Identifiers of the ticket's text that the map knows as definitions. */
static int ticket_identifiers(struct builder *b)
{
	const wd_strvec *scope;
	int rc;

	if (!b->t || !b->map)
		return 0;
	if ((rc = text_identifiers(b, wd_ticket_title(b->t))) != 0 ||
	    (rc = text_identifiers(b, wd_ticket_body(b->t))) != 0)
		return rc;
	/* "path:symbol" scope entries focus on their symbol too */
	scope = wd_ticket_scope(b->t);
	for (size_t i = 0; i < scope->n; i++) {
		const char *colon = strrchr(scope->v[i], ':');

		if (scope->v[i][0] == '!' || !colon || !colon[1] || strchr(colon, '/'))
			continue;
		if ((rc = focus_add(b, colon + 1)) != 0 ||
		    (!wd_strvec_contains(&b->code_idents, colon + 1) &&
		     (rc = wd_strvec_push(&b->code_idents, colon + 1)) != 0) ||
		    (!wd_strvec_contains(&b->as_code, colon + 1) &&
		     (rc = wd_strvec_push(&b->as_code, colon + 1)) != 0))
			return rc;
	}
	return 0;
}

static int build_map_slice(struct builder *b, const wd_context_opts *opts,
                           const wd_strvec *named)
{
	wd_map_opts mo = WD_MAP_OPTS_INIT;
	wd_strvec focus = WD_STRVEC_INIT;
	size_t share = b->budget / 16;
	int rc;

	mo.cache_dir = opts->cache_dir;
	mo.files = (const char *const *)b->files.v;
	mo.exclude = opts->exclude;
	if (wd_map_build(&b->map, b->workdir, &mo) != 0) {
		/* without a map the context still works: whole files and head+tail cuts */
		wd_error_clear();
		b->map = NULL;
		return 0;
	}
	if ((rc = ticket_identifiers(b)) != 0)
		goto out;
	for (size_t i = 0; i < named->n; i++)
		if ((rc = wd_strvec_push(&focus, named->v[i])) != 0)
			goto out;
	for (size_t i = 0; i < b->focus_idents.n; i++)
		if ((rc = wd_strvec_push(&focus, b->focus_idents.v[i])) != 0)
			goto out;
	for (size_t i = 0; opts->focus && opts->focus[i]; i++)
		if ((rc = wd_strvec_push(&focus, opts->focus[i])) != 0)
			goto out;
	if ((rc = wd_map_rank(b->map, (const char *const *)focus.v)) != 0)
		goto out;
	if (!(opts->flags & WD_CONTEXT_CODE_ONLY))
		rc = wd_map_render(&b->c->map, b->map, share / 4, 0);
out:
	wd_strvec_free(&focus);
	return rc;
}

/* The files the ticket names in its text, and those its scope matches. */
static int ticket_files(struct builder *b)
{
	const wd_strvec *scope;
	int rc;

	if (!b->t)
		return 0;
	if ((rc = wd_ctx_mentioned_paths(&b->named, wd_ticket_title(b->t), &b->files)) != 0 ||
	    (rc = wd_ctx_mentioned_paths(&b->named, wd_ticket_body(b->t), &b->files)) != 0)
		return rc;
	scope = wd_ticket_scope(b->t);
	for (size_t i = 0; i < b->files.n && scope->n; i++) {
		int denied;

		if (wd_ctx_scope_match(scope, b->files.v[i], &denied) &&
		    (rc = wd_strvec_push(&b->scoped, b->files.v[i])) != 0)
			return rc;
	}
	return 0;
}

/* With room to spare, the files holding the identifiers the ticket names,
 * their callers, then what its words match best. */
static int add_defining_files(struct builder *b)
{
	wd_strvec deffiles = WD_STRVEC_INIT;
	int rc = 0;

	/* only identifiers defined in a few places say which file matters */
	for (size_t i = 0; !rc && i < b->code_idents.n; i++) {
		wd_map_def *d = NULL;
		size_t n = 0;

		rc = wd_map_find_definitions(&d, &n, b->map, b->code_idents.v[i]);
		if (!rc && n <= 3)
			rc = wd_strvec_push(&b->specific, b->code_idents.v[i]);
		free(d);
	}
	if (!rc)
		rc = wd_map_files_defining(&deffiles, b->map, (const char *const *)b->specific.v);
	for (size_t i = 0; !rc && i < deffiles.n; i++)
		if (!wd_map_is_vendored(b->map, deffiles.v[i]))
			rc = add_or_defer(b, deffiles.v[i], plain_only(b, deffiles.v[i]));
	for (size_t i = 0; !rc && i < b->specific.n; i++)
		rc = add_callers(b, b->specific.v[i],
		                 "calls an identifier the ticket names (signatures only)");
	wd_strvec_free(&deffiles);
	if (!rc)
		rc = add_retrieved(b);
	/* a deferred file the fill could not place is cut as before */
	for (size_t i = 0; !rc && i < b->deferred.n; i++)
		rc = add_file(b, b->deferred.v[i], "defines an identifier the ticket names");
	return rc;
}

/* Fill b->c, part by part, within the budget. */
static int build(struct builder *b, const wd_context_opts *opts)
{
	wd_context *c = b->c;
	int rc;

	if (wd_root_open(&b->rootfd, b->workdir) != 0)
		return wd_error_set(WD_ENOTFOUND, "%s: no such work tree", b->workdir);
	if ((rc = wd_ctx_list_files(&b->files, b->workdir, opts->files, NULL)) != 0 ||
	    (rc = ticket_files(b)) != 0)
		return rc;
	if (!(opts->flags & WD_CONTEXT_CODE_ONLY) && (rc = build_agents(b)) != 0)
		return rc;
	b->used = c->agents.len;
	/* the map first: it knows which files are vendored, for the listing */
	if (!(opts->flags & WD_CONTEXT_NO_MAP) && (rc = build_map_slice(b, opts, &b->named)) != 0)
		return rc;
	if (!(opts->flags & WD_CONTEXT_CODE_ONLY) && (rc = build_listing(b)) != 0)
		return rc;
	b->used = c->listing.len + c->agents.len + c->map.len;
	for (size_t i = 0; i < b->named.n; i++)
		if ((rc = add_file(b, b->named.v[i], "named in the ticket")) != 0)
			return rc;
	for (size_t i = 0; i < b->scoped.n; i++)
		if ((rc = add_file(b, b->scoped.v[i], "matches the ticket's scope")) != 0)
			return rc;
	if (b->map && (rc = add_defining_files(b)) != 0)
		return rc;
	c->bytes = c->listing.len + c->agents.len + c->map.len + c->files.len;
	return 0;
}

static void builder_free(struct builder *b)
{
	wd_map_free(b->map);
	if (b->rootfd >= 0)
		close(b->rootfd);
	wd_strvec_free(&b->files);
	wd_strvec_free(&b->focus_idents);
	wd_strvec_free(&b->specific);
	wd_strvec_free(&b->code_idents);
	wd_strvec_free(&b->as_code);
	wd_strvec_free(&b->deferred);
	wd_strvec_free(&b->named);
	wd_strvec_free(&b->scoped);
}

int wd_context_build(wd_context **out, const char *workdir, const wd_ticket *t,
                     const wd_context_opts *opts)
{
	wd_context_opts defaults = WD_CONTEXT_OPTS_INIT;
	struct builder b;
	wd_context *c;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != WD_CONTEXT_OPTS_VERSION)
		return wd_error_set(WD_EUSAGE, "wd_context_opts version %u, expected %u", opts->version,
		                    WD_CONTEXT_OPTS_VERSION);
	if (!(c = calloc(1, sizeof(*c))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (!(c->why = json_array())) {
		free(c);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	memset(&b, 0, sizeof(b));
	b.rootfd = -1;
	b.c = c;
	b.workdir = workdir;
	b.exclude = opts->exclude;
	b.t = t;
	b.budget = opts->budget_bytes ? opts->budget_bytes : DEFAULT_BUDGET;
	if (b.budget < MIN_BUDGET)
		b.budget = MIN_BUDGET; /* room for the notes that say what was left out */
	rc = build(&b, opts);
	builder_free(&b);
	if (rc)
		wd_context_free(c);
	else
		*out = c;
	return rc;
}

void wd_context_free(wd_context *c)
{
	if (!c)
		return;
	wd_buf_free(&c->listing);
	wd_buf_free(&c->map);
	wd_buf_free(&c->files);
	wd_buf_free(&c->agents);
	wd_strvec_free(&c->chosen);
	json_decref(c->why);
	free(c);
}

const char *wd_context_listing(const wd_context *c) { return wd_buf_cstr(&c->listing); }
const char *wd_context_agents(const wd_context *c) { return wd_buf_cstr(&c->agents); }
const char *wd_context_map(const wd_context *c) { return wd_buf_cstr(&c->map); }
const char *wd_context_files(const wd_context *c) { return wd_buf_cstr(&c->files); }
const wd_strvec *wd_context_chosen(const wd_context *c) { return &c->chosen; }
json_t *wd_context_why(const wd_context *c) { return c->why; }
size_t wd_context_bytes(const wd_context *c) { return c->bytes; }
