/*
 * wd_context_build: what the model sees for one ticket, within a byte budget.
 *
 * Order of preference: the files the ticket names, then the files its scope
 * covers, whole when they fit and cut when they do not; a file listing; the
 * repo's AGENTS.md. Every chosen file is recorded in c->why with the
 * reason it was chosen and how many bytes of it were sent.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ticket.h"

#include "context_int.h"

#define DEFAULT_BUDGET (96u * 1024u)
#define AGENTS_CAP (16u * 1024u)
#define FILE_READ_MAX (16u * 1024u * 1024u)
#define MIN_CUT 1024u

struct builder {
	wd_context *c;
	const char *workdir;
	char *root;              /* realpath of workdir: files must resolve under it */
	const wd_ticket *t;
	wd_strvec files;
	size_t budget;
	size_t used;
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

static int is_binary(const char *p, size_t len)
{
	return memchr(p, '\0', len < 8000 ? len : 8000) != NULL;
}

/* Read a work-tree file, refusing anything that resolves outside the tree. */
static int read_tree_file(wd_buf *out, struct builder *b, const char *rel)
{
	wd_buf abs = WD_BUF_INIT;
	char *real = NULL;
	size_t rl = strlen(b->root);
	int rc;

	if ((rc = wd_path_join(&abs, b->workdir, rel)) != 0)
		goto out;
	real = wd_realpath(abs.ptr);
	if (!real) {
		rc = wd_error_set(WD_ENOTFOUND, "%s: cannot resolve", rel);
		goto out;
	}
	if (strncmp(real, b->root, rl) != 0 || (real[rl] != '/' && real[rl] != '\0')) {
		rc = wd_error_set(WD_EREFUSED, "%s: resolves outside the work tree", rel);
		goto out;
	}
	rc = wd_file_read(out, real, FILE_READ_MAX);
out:
	free(real);
	wd_buf_free(&abs);
	return rc;
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
	size_t head = cap * 2 / 3, tail_start, head_lines, total = count_lines(p, len);
	const char *nl;
	int rc;

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

/* Add one file to c->files, whole or cut to `cap`, and record why. */
static int add_file(struct builder *b, const char *path, const char *reason)
{
	wd_buf content = WD_BUF_INIT, body = WD_BUF_INIT, note = WD_BUF_INIT;
	size_t left = b->budget > b->used ? b->budget - b->used : 0, cap, hdr;
	int rc;

	if (wd_strvec_contains(&b->c->chosen, path))
		return 0;
	if ((rc = read_tree_file(&content, b, path)) != 0) {
		/* a file we cannot or may not read is left out, and the ledger says so */
		wd_error_clear();
		return why_add(b->c, path, rc == WD_EREFUSED ? "skipped: outside the work tree"
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
	if (content.len <= cap) {
		rc = wd_buf_printf(&b->c->files, "=== %s ===\n%s%s", path, content.ptr,
		                   content.len && content.ptr[content.len - 1] != '\n' ? "\n" : "");
		if (!rc)
			rc = why_add(b->c, path, reason, content.len, NULL);
	} else {
		/* leave room for the next files: one cut file takes at most half of what is left */
		if (cap > MIN_CUT * 2)
			cap /= 2;
		rc = cut_head_tail(&body, &note, content.ptr, content.len, cap);
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

static int build_listing(struct builder *b)
{
	size_t cap = b->budget / 4;
	size_t i;
	int rc;

	for (i = 0; i < b->files.n; i++) {
		if (b->c->listing.len + strlen(b->files.v[i]) + 1 > cap)
			break;
		if ((rc = wd_buf_printf(&b->c->listing, "%s\n", b->files.v[i])) != 0)
			return rc;
	}
	if (i < b->files.n)
		return wd_buf_printf(&b->c->listing,
		                     "... and %zu more files (listing cut to fit the budget)\n",
		                     b->files.n - i);
	return 0;
}

int wd_context_build(wd_context **out, const char *workdir, const wd_ticket *t,
                     const wd_context_opts *opts)
{
	wd_context_opts defaults = WD_CONTEXT_OPTS_INIT;
	struct builder b;
	wd_strvec named = WD_STRVEC_INIT, scoped = WD_STRVEC_INIT;
	wd_context *c;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != WD_CONTEXT_OPTS_VERSION)
		return wd_error_set(WD_EUSAGE, "wd_context_opts version %u, expected %u", opts->version,
		                    WD_CONTEXT_OPTS_VERSION);
	memset(&b, 0, sizeof(b));
	if (!(c = calloc(1, sizeof(*c))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (!(c->why = json_array())) {
		free(c);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	b.c = c;
	b.workdir = workdir;
	b.t = t;
	b.budget = opts->budget_bytes ? opts->budget_bytes : DEFAULT_BUDGET;
	if (!(b.root = wd_realpath(workdir))) {
		rc = wd_error_set(WD_ENOTFOUND, "%s: no such work tree", workdir);
		goto out;
	}
	if ((rc = wd_ctx_list_files(&b.files, workdir, opts->files)) != 0)
		goto out;
	if (t) {
		if ((rc = wd_ctx_mentioned_paths(&named, t->title, &b.files)) != 0 ||
		    (rc = wd_ctx_mentioned_paths(&named, t->body, &b.files)) != 0)
			goto out;
		for (size_t i = 0; i < b.files.n && t->scope.n; i++) {
			int denied;

			if (wd_ctx_scope_match(&t->scope, b.files.v[i], &denied) &&
			    (rc = wd_strvec_push(&scoped, b.files.v[i])) != 0)
				goto out;
		}
	}
	if ((rc = build_agents(&b)) != 0 || (rc = build_listing(&b)) != 0)
		goto out;
	b.used = c->listing.len + c->agents.len;
	for (size_t i = 0; i < named.n; i++)
		if ((rc = add_file(&b, named.v[i], "named in the ticket")) != 0)
			goto out;
	for (size_t i = 0; i < scoped.n; i++)
		if ((rc = add_file(&b, scoped.v[i], "matches the ticket's scope")) != 0)
			goto out;
	c->bytes = c->listing.len + c->agents.len + c->map.len + c->files.len;
out:
	free(b.root);
	wd_strvec_free(&b.files);
	wd_strvec_free(&named);
	wd_strvec_free(&scoped);
	if (rc) {
		wd_context_free(c);
		return rc;
	}
	*out = c;
	return 0;
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
