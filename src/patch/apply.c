/*
 * All-or-nothing application. Order of work:
 *
 *   1. policy (paths, scope, binary, modes, limits): nothing read yet
 *   2. the work tree: no symlink on the way to any path; current contents read
 *   3. every file patched in memory: libgit2's strict apply first (exact
 *      context at the header's line), the tolerant matcher otherwise
 *   4. blobs and the resulting tree (HEAD's tree with the patched paths)
 *   5. only then the work tree, one atomic rename per file; if a write fails,
 *      the files already written are put back
 *
 * Any refusal in 1-3 leaves the work tree and the index untouched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/beneath.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "patch_int.h"

#define MAX_FILE_BYTES (64u << 20)

typedef struct fstate {
	const wd_pfile *f;
	int kind;                /* may turn MODIFY into ADD (pure additions, file missing) */
	const char *src;         /* path read: NULL for additions */
	const char *dst;         /* path written: NULL for deletions */
	wd_buf orig;             /* current content of src */
	int src_exists;
	unsigned src_mode;       /* st_mode & 07777 of src */
	wd_buf result;
	unsigned tree_mode;      /* git filemode for dst */
	const char *method;      /* "libgit2" or "fuzzy" */
	const char *match;       /* strongest tolerance used */
	json_t *hunks;
	wd_ind_evidence blocks;  /* its blocks' pairs, searched once (wd_patch__pool_add) */
	/* rollback state */
	int wrote_dst, removed_src;
	wd_strvec made_dirs;
} fstate;

typedef struct applier {
	wd_patch_report *r;
	git_repository *repo;
	const struct wd_patch *p;
	const wd_patch_policy *pol;
	const char *workdir;     /* with trailing '/' (libgit2's form); NULL in tree mode */
	git_tree *head;          /* the tree patched: HEAD's, or the base's in tree mode;
	                          * NULL when HEAD is unborn */
	const git_oid *attr_commit; /* tree mode: the commit whose .gitattributes apply */
	fstate *fs;
	size_t n;
	int refusals;
	wd_ind_pool pool;        /* the reply's indentation damage, over its files */
} applier;

/* --- the work tree ---------------------------------------------------- */

static int abs_path(wd_buf *out, const applier *a, const char *rel)
{
	wd_buf_clear(out);
	if (wd_buf_puts(out, a->workdir) || wd_buf_puts(out, rel))
		return WD_ENOMEM;
	return 0;
}

/* 0 fine, 1 refused (recorded), <0 error. Walks every component of `rel`
 * with lstat: a symlink anywhere, or a non-directory in the middle, refuses.
 * *exists tells whether the final path exists (as a regular file). */
static int check_fs_path(applier *a, const char *rel, int *exists, unsigned *mode)
{
	wd_buf path = WD_BUF_INIT;
	struct stat st;
	const char *c = rel;
	int rc = 0;

	*exists = 0;
	if ((rc = wd_buf_puts(&path, a->workdir)) != 0)
		goto out;
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);

		if ((rc = wd_buf_put(&path, c, n)) != 0)
			goto out;
		if (lstat(path.ptr, &st) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				break;
			rc = wd_error_errno(WD_EINFRA, path.ptr);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			rc = wd_patch__refuse(a->r, rel, 0, "symlink", NULL,
			                      "%s: refused: '%.*s' is a symbolic link; a patch may not "
			                      "write through or replace symlinks", rel,
			                      (int)(c - rel + (ptrdiff_t)n), rel) ? WD_ENOMEM : 1;
			goto out;
		}
		if (!slash) {
			if (!S_ISREG(st.st_mode)) {
				rc = wd_patch__refuse(a->r, rel, 0, "not_a_file", NULL,
				                      "%s: refused: exists and is not a regular file", rel)
				     ? WD_ENOMEM : 1;
				goto out;
			}
			*exists = 1;
			*mode = (unsigned)st.st_mode & 07777;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc = wd_patch__refuse(a->r, rel, 0, "not_a_directory", NULL,
			                      "%s: refused: '%.*s' is a file, not a directory", rel,
			                      (int)(c - rel + (ptrdiff_t)n), rel) ? WD_ENOMEM : 1;
			goto out;
		}
		if ((rc = wd_buf_putc(&path, '/')) != 0)
			goto out;
		c = slash + 1;
	}
out:
	wd_buf_free(&path);
	return rc;
}

/* Submodules (gitlinks) in HEAD are never patched. */
static int check_tree_entry(applier *a, const char *rel)
{
	git_tree_entry *e = NULL;
	int rc = 0;

	if (!a->head || git_tree_entry_bypath(&e, a->head, rel) < 0)
		return 0;
	if (git_tree_entry_filemode(e) == GIT_FILEMODE_COMMIT)
		rc = wd_patch__refuse(a->r, rel, 0, "submodule", NULL,
		                      "%s: refused: this path is a submodule", rel) ? WD_ENOMEM : 1;
	git_tree_entry_free(e);
	return rc;
}

static int has_only_additions(const struct wd_patch *p, const wd_pfile *f)
{
	for (size_t h = 0; h < f->nhunks; h++)
		for (size_t k = f->hunks[h].first; k < f->hunks[h].first + f->hunks[h].n; k++)
			if (p->lines[k].op != WD_PL_ADD)
				return 0;
	return f->nhunks > 0;
}

/* The content an addition creates: its '+' lines. */
static int added_content(wd_buf *out, const struct wd_patch *p, const wd_pfile *f)
{
	int rc = 0;

	for (size_t h = 0; h < f->nhunks && !rc; h++) {
		for (size_t k = f->hunks[h].first; k < f->hunks[h].first + f->hunks[h].n && !rc; k++) {
			if (p->lines[k].op != WD_PL_ADD)
				continue;
			rc = wd_buf_put(out, wd_patch__ltext(p, k), p->lines[k].len);
			if (!rc && !p->lines[k].no_eol)
				rc = wd_buf_putc(out, '\n');
		}
	}
	return rc;
}

static int read_current(wd_buf *out, applier *a, const char *rel);

/* A new file whose path exists: already applied when the content is what
 * the addition would write, a conflict otherwise. 1 recorded, <0 error. */
static int refuse_existing(applier *a, fstate *s)
{
	wd_buf have = WD_BUF_INIT, want = WD_BUF_INIT;
	json_t *extra = NULL;
	int rc, same = 0;

	if (s->kind == WD_PF_ADD && !read_current(&have, a, s->dst) &&
	    !added_content(&want, a->p, s->f))
		same = have.len == want.len && (!have.len || !memcmp(have.ptr, want.ptr, have.len));
	if (same && !(extra = json_pack("{s:b, s:b}", "already_applied", 1, "ambiguous", 0))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	if (same)
		rc = wd_patch__refuse(a->r, s->dst, 0, "already_applied", extra,
		                      "%s: refused: the file already exists with exactly this content; "
		                      "the addition is already applied, drop it", s->dst);
	else
		rc = wd_patch__refuse(a->r, s->dst, 0, "exists", NULL,
		                      "%s: refused: the file already exists; send a diff against its "
		                      "current content instead", s->dst);
	rc = rc ? rc : 1;
	wd_error_clear();
out:
	wd_buf_free(&have);
	wd_buf_free(&want);
	return rc;
}

/* Tree mode: the same refusals as check_fs_path, judged on the base tree
 * (no file system is involved): a link or a file on the way, a directory
 * or a link at the path. 0 fine, 1 refused (recorded), <0 error. */
static int check_tree_path(applier *a, const char *rel, int *exists, unsigned *mode)
{
	git_tree_entry *e = NULL;
	wd_buf part = WD_BUF_INIT;
	const char *c = rel;
	int rc = 0;

	*exists = 0;
	if (!a->head)
		return 0;
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);
		git_filemode_t m;

		if ((rc = wd_buf_put(&part, c, n)) != 0)
			goto out;
		if (git_tree_entry_bypath(&e, a->head, part.ptr) < 0) {
			git_error_clear();
			break; /* missing from here down */
		}
		m = git_tree_entry_filemode(e);
		if (m == GIT_FILEMODE_LINK) {
			rc = wd_patch__refuse(a->r, rel, 0, "symlink", NULL,
			                      "%s: refused: '%s' is a symbolic link; a patch may not "
			                      "write through or replace symlinks", rel, part.ptr)
			     ? WD_ENOMEM : 1;
			goto out;
		}
		if (!slash) {
			if (m == GIT_FILEMODE_BLOB || m == GIT_FILEMODE_BLOB_EXECUTABLE) {
				*exists = 1;
				*mode = m == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
			} else if (m != GIT_FILEMODE_COMMIT) { /* submodules: check_tree_entry */
				rc = wd_patch__refuse(a->r, rel, 0, "not_a_file", NULL,
				                      "%s: refused: exists and is not a regular file", rel)
				     ? WD_ENOMEM : 1;
			}
			goto out;
		}
		if (m != GIT_FILEMODE_TREE) {
			rc = wd_patch__refuse(a->r, rel, 0, "not_a_directory", NULL,
			                      "%s: refused: '%s' is a file, not a directory", rel, part.ptr)
			     ? WD_ENOMEM : 1;
			goto out;
		}
		git_tree_entry_free(e);
		e = NULL;
		if ((rc = wd_buf_putc(&part, '/')) != 0)
			goto out;
		c = slash + 1;
	}
out:
	git_tree_entry_free(e);
	wd_buf_free(&part);
	return rc;
}

/* Tree mode: `rel`'s content in the base tree, as a checkout writes it. */
static int read_tree_file(wd_buf *out, applier *a, const char *rel)
{
	git_blob_filter_options fo;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	git_buf text = { 0 };
	int rc = 0;

	if (git_blob_filter_options_init(&fo, GIT_BLOB_FILTER_OPTIONS_VERSION) < 0)
		return wd_error_git(WD_EINFRA, "filter options");
	fo.flags = GIT_BLOB_FILTER_CHECK_FOR_BINARY | GIT_BLOB_FILTER_ATTRIBUTES_FROM_COMMIT;
	git_oid_cpy(&fo.attr_commit_id, a->attr_commit);
	if (git_tree_entry_bypath(&e, a->head, rel) < 0 ||
	    git_blob_lookup(&blob, a->repo, git_tree_entry_id(e)) < 0 ||
	    git_blob_filter(&text, blob, rel, &fo) < 0) {
		rc = wd_error_git(WD_EINFRA, rel);
		goto out;
	}
	if (text.size > MAX_FILE_BYTES) {
		rc = wd_error_set(WD_EINPUT, "%s: larger than %u bytes", rel, MAX_FILE_BYTES);
		goto out;
	}
	rc = wd_buf_put(out, text.ptr ? text.ptr : "", text.size);
out:
	git_buf_dispose(&text);
	git_blob_free(blob);
	git_tree_entry_free(e);
	return rc;
}

/* The current content of a path an addition names, for refuse_existing:
 * through the one reader of a tree beneath its root (no link followed). */
static int read_current(wd_buf *out, applier *a, const char *rel)
{
	int root, rc;

	if (!a->workdir)
		return read_tree_file(out, a, rel);
	if ((rc = wd_root_open(&root, a->workdir)) != 0)
		return rc;
	rc = wd_beneath_read(out, root, rel, MAX_FILE_BYTES);
	close(root);
	return rc;
}

static int check_path(applier *a, const char *rel, int *exists, unsigned *mode)
{
	return a->workdir ? check_fs_path(a, rel, exists, mode) : check_tree_path(a, rel, exists, mode);
}

static int load_one(applier *a, fstate *s)
{
	const wd_pfile *f = s->f;
	int dst_exists = 0, rc;
	unsigned dst_mode = 0;

	if (s->src) {
		if ((rc = check_path(a, s->src, &s->src_exists, &s->src_mode)) != 0 ||
		    (rc = check_tree_entry(a, s->src)) != 0)
			goto out;
	}
	if (s->dst && (!s->src || strcmp(s->src, s->dst))) {
		if ((rc = check_path(a, s->dst, &dst_exists, &dst_mode)) != 0 ||
		    (rc = check_tree_entry(a, s->dst)) != 0)
			goto out;
	}
	if (s->kind == WD_PF_MODIFY && !s->src_exists && has_only_additions(a->p, f)) {
		/* "--- a/new.c" with only '+' lines: the model meant a new file */
		s->kind = WD_PF_ADD;
		s->src = NULL;
	}
	if (s->src && !s->src_exists) {
		rc = wd_patch__refuse(a->r, s->src, 0, "missing", NULL,
		                      "%s: refused: no such file in the work tree; to create it, "
		                      "use '--- /dev/null' and '+++ b/%s'", s->src, s->src) ? WD_ENOMEM : 1;
		goto out;
	}
	if ((s->kind == WD_PF_ADD || s->kind == WD_PF_RENAME) && dst_exists) {
		rc = refuse_existing(a, s);
		goto out;
	}
	if (s->src) {
		if ((rc = read_current(&s->orig, a, s->src)) != 0)
			goto out;
		if (memchr(s->orig.ptr, '\0', s->orig.len) && !f->binary) {
			rc = wd_patch__refuse(a->r, s->src, 0, "binary", NULL,
			                      "%s: refused: the file is binary", s->src) ? WD_ENOMEM : 1;
			goto out;
		}
	}
	rc = 0;
out:
	if (rc > 0)
		a->refusals++;
	return rc < 0 ? rc : 0;
}

/* --- the strict path: libgit2 ----------------------------------------- */

static int plain_path(const char *s)
{
	for (; *s; s++)
		if (*s == ' ' || *s == '"' || *s == '\t' || (unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static int strict_eligible(const applier *a)
{
	for (size_t i = 0; i < a->n; i++) {
		const fstate *s = &a->fs[i];
		const wd_pfile *f = s->f;

		if (f->sr || f->sections > 1 || f->binary || s->kind != f->kind)
			return 0;
		if ((s->src && !plain_path(s->src)) || (s->dst && !plain_path(s->dst)))
			return 0;
		if (f->kind == WD_PF_DELETE && f->nhunks == 0 && s->orig.len)
			return 0;
		for (size_t h = 0; h < f->nhunks; h++)
			if (!f->hunks[h].has_numbers)
				return 0;
	}
	return 1;
}

static int render_git(wd_buf *b, const struct wd_patch *p, const fstate *s)
{
	const wd_pfile *f = s->f;
	const char *o = s->src ? s->src : s->dst, *n = s->dst ? s->dst : s->src;
	long delta = 0;
	int rc;

	rc = wd_buf_printf(b, "diff --git a/%s b/%s\n", o, n);
	if (!rc && f->kind == WD_PF_ADD)
		rc = wd_buf_printf(b, "new file mode %o\n", f->new_mode ? f->new_mode : 0100644);
	if (!rc && f->kind == WD_PF_DELETE)
		rc = wd_buf_printf(b, "deleted file mode %o\n", f->old_mode ? f->old_mode : 0100644);
	if (!rc && f->kind == WD_PF_RENAME)
		rc = wd_buf_printf(b, "rename from %s\nrename to %s\n", o, n);
	if (!rc && f->kind != WD_PF_ADD && f->kind != WD_PF_DELETE && f->old_mode && f->new_mode &&
	    f->old_mode != f->new_mode)
		rc = wd_buf_printf(b, "old mode %o\nnew mode %o\n", f->old_mode, f->new_mode);
	if (!rc && f->nhunks)
		rc = wd_buf_printf(b, "--- %s%s\n+++ %s%s\n", s->src ? "a/" : "",
		                   s->src ? s->src : "/dev/null", s->dst ? "b/" : "",
		                   s->dst ? s->dst : "/dev/null");
	for (size_t h = 0; h < f->nhunks && !rc; h++) {
		const wd_hunk *hk = &f->hunks[h];
		long oc = 0, nc = 0, os = hk->old_start, ns;

		for (size_t k = hk->first; k < hk->first + hk->n; k++) {
			oc += p->lines[k].op != WD_PL_ADD;
			nc += p->lines[k].op != WD_PL_DEL;
		}
		if (f->kind == WD_PF_ADD)
			os = 0;
		ns = (oc ? os : os + 1) + delta;
		if (nc == 0)
			ns--;
		if (ns < 0)
			ns = 0;
		delta += nc - oc;
		rc = wd_buf_printf(b, "@@ -%ld,%ld +%ld,%ld @@\n", os, oc, ns, nc);
		for (size_t k = hk->first; k < hk->first + hk->n && !rc; k++) {
			rc = wd_buf_putc(b, p->lines[k].op);
			if (!rc)
				rc = wd_buf_put(b, wd_patch__ltext(p, k), p->lines[k].len);
			if (!rc)
				rc = wd_buf_puts(b, p->lines[k].no_eol ? "\n\\ No newline at end of file\n"
				                                       : "\n");
		}
	}
	return rc;
}

/* Add to the updates `path` as the blob already in upd[*nu].id. */
static void upsert(git_tree_update *upd, size_t *nu, const char *path, git_filemode_t mode)
{
	upd[*nu].action = GIT_TREE_UPDATE_UPSERT;
	upd[*nu].filemode = mode;
	upd[*nu].path = path;
	(*nu)++;
}

/* Add to the updates the removal of `path`, when HEAD's tree has it. */
static void remove_from_head(git_tree_update *upd, size_t *nu, const applier *a, const char *path)
{
	git_tree_entry *e = NULL;

	if (!a->head || git_tree_entry_bypath(&e, a->head, path) != 0)
		return;
	git_tree_entry_free(e);
	upd[*nu].action = GIT_TREE_UPDATE_REMOVE;
	upd[*nu].path = path;
	(*nu)++;
}

/* HEAD's tree (an empty tree when there is no HEAD) with the updates made;
 * `what` names the tree in an error. */
static int updated_tree(git_oid *out, applier *a, const git_tree_update *upd, size_t nu,
                        const char *what)
{
	git_treebuilder *tb = NULL;
	git_tree *empty = NULL;
	git_oid eo;
	int rc = 0;

	if (!a->head && (git_treebuilder_new(&tb, a->repo, NULL) < 0 ||
	                 git_treebuilder_write(&eo, tb) < 0 ||
	                 git_tree_lookup(&empty, a->repo, &eo) < 0))
		rc = wd_error_git(WD_EINFRA, "creating an empty tree");
	else if (git_tree_create_updated(out, a->repo, a->head ? a->head : empty, nu, upd) < 0)
		rc = wd_error_git(WD_EINFRA, what);
	git_tree_free(empty);
	git_treebuilder_free(tb);
	return rc;
}

/* The tree updates one file makes (at most two). */
typedef int (*file_updates_fn)(git_tree_update *upd, size_t *nu, applier *a, fstate *s);

/* HEAD's tree with the updates `each` lists for every file. */
static int tree_with(git_oid *out, applier *a, file_updates_fn each, const char *what)
{
	git_tree_update *upd = calloc(a->n * 2 + 1, sizeof(*upd));
	size_t nu = 0;
	int rc = 0;

	if (!upd)
		return wd_patch__oom();
	for (size_t i = 0; i < a->n && !rc; i++)
		rc = each(upd, &nu, a, &a->fs[i]);
	if (!rc)
		rc = updated_tree(out, a, upd, nu, what);
	free(upd);
	return rc;
}

/* Before the patch: the source path as the work tree has it, and no file
 * yet where a rename or an addition will put one. */
static int preimage_updates(git_tree_update *upd, size_t *nu, applier *a, fstate *s)
{
	if (s->src) {
		if (git_blob_create_from_buffer(&upd[*nu].id, a->repo, s->orig.ptr, s->orig.len) < 0)
			return wd_error_git(WD_EINFRA, "writing blob");
		upsert(upd, nu, s->src, (s->src_mode & 0111) ? GIT_FILEMODE_BLOB_EXECUTABLE
		                                             : GIT_FILEMODE_BLOB);
	}
	if (s->dst && (!s->src || strcmp(s->src, s->dst)))
		remove_from_head(upd, nu, a, s->dst);
	return 0;
}

/* HEAD's tree with `s`'s source paths set to their work tree content: what
 * the model's patch is applied to. */
static int preimage_tree(git_tree **out, applier *a)
{
	git_oid oid;
	int rc;

	*out = NULL;
	if ((rc = tree_with(&oid, a, preimage_updates, "building the preimage tree")) != 0)
		return rc;
	if (git_tree_lookup(out, a->repo, &oid) < 0)
		return wd_error_git(WD_EINFRA, "reading the preimage tree");
	return 0;
}

/* 1 applied, 0 did not apply (fall back), <0 error. */
static int try_strict(applier *a)
{
	wd_buf text = WD_BUF_INIT;
	git_diff *diff = NULL;
	git_tree *pre = NULL;
	git_index *idx = NULL;
	int rc = 0;

	if (!strict_eligible(a))
		return 0;
	for (size_t i = 0; i < a->n && !rc; i++)
		rc = render_git(&text, a->p, &a->fs[i]);
	if (rc)
		goto out;
	if (git_diff_from_buffer(&diff, text.ptr, text.len) < 0 ||
	    git_diff_num_deltas(diff) != a->n) {
		git_error_clear();
		goto out; /* libgit2 could not read our rendering: let the matcher try */
	}
	if ((rc = preimage_tree(&pre, a)) != 0)
		goto out;
	if (git_apply_to_tree(&idx, a->repo, pre, diff, NULL) < 0) {
		git_error_clear();
		goto out;
	}
	for (size_t i = 0; i < a->n; i++) {
		fstate *s = &a->fs[i];
		const git_index_entry *e;
		git_blob *blob = NULL;

		if (!s->dst)
			continue;
		e = git_index_get_bypath(idx, s->dst, 0);
		if (!e || git_blob_lookup(&blob, a->repo, &e->id) < 0) {
			rc = wd_error_git(WD_EINFRA, "reading the patched file");
			goto out;
		}
		wd_buf_clear(&s->result);
		rc = wd_buf_put(&s->result, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < a->n; i++) {
		fstate *s = &a->fs[i];

		s->method = "libgit2";
		s->match = "exact";
		for (size_t h = 0; h < s->f->nhunks; h++) {
			json_t *o = json_pack("{s:I, s:s, s:I, s:s}", "hunk", (json_int_t)h + 1,
			                      "status", "applied", "line",
			                      (json_int_t)s->f->hunks[h].old_start, "match", "exact");

			if (!o || json_array_append_new(s->hunks, o)) {
				rc = wd_error_set(WD_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	rc = 1;
out:
	git_index_free(idx);
	git_tree_free(pre);
	git_diff_free(diff);
	wd_buf_free(&text);
	return rc;
}

/* --- the tolerant path -------------------------------------------------- */

/* A whole-file replacement: the block is the new content, with the line
 * endings the file had (CRLF when most of its lines had them). */
static int whole_one(fstate *s, const struct wd_patch *p)
{
	size_t lines = 0, crs = 0;
	wd_buf lf = WD_BUF_INIT;
	int rc;

	for (size_t i = 0; i < s->orig.len; i++)
		if (s->orig.ptr[i] == '\n') {
			lines++;
			crs += i > 0 && s->orig.ptr[i - 1] == '\r';
		}
	wd_buf_clear(&s->result);
	if ((rc = added_content(&lf, p, s->f)) != 0)
		goto out;
	for (size_t i = 0; i < lf.len && !rc; i++) {
		if (lf.ptr[i] == '\n' && crs * 2 > lines && (i == 0 || lf.ptr[i - 1] != '\r'))
			rc = wd_buf_putc(&s->result, '\r');
		if (!rc)
			rc = wd_buf_putc(&s->result, lf.ptr[i]);
	}
	/* a fenced block cannot say "no newline at end of file": a file that
	 * has none keeps having none when the block changes its last line (as
	 * fuzzy.c's splice decides) */
	if (!rc && s->orig.len && s->orig.ptr[s->orig.len - 1] != '\n' && s->result.len &&
	    s->result.ptr[s->result.len - 1] == '\n') {
		size_t end = s->result.len - 1, start, ostart = s->orig.len;

		if (crs * 2 > lines && end && s->result.ptr[end - 1] == '\r')
			end--;
		for (start = end; start && s->result.ptr[start - 1] != '\n'; start--)
			;
		while (ostart && s->orig.ptr[ostart - 1] != '\n')
			ostart--;
		if (end - start != s->orig.len - ostart ||
		    memcmp(s->result.ptr + start, s->orig.ptr + ostart, end - start))
			wd_buf_truncate(&s->result, end);
	}
	if (!rc && !s->result.ptr)
		rc = wd_buf_grow(&s->result, 0);
	s->method = "whole";
	s->match = "exact";
out:
	wd_buf_free(&lf);
	return rc;
}

static int fuzzy_one(applier *a, fstate *s)
{
	wd_fuzzy_result res;
	const char *name = s->dst ? s->dst : s->src;
	int rc;

	if (s->f->whole)
		return whole_one(s, a->p);
	rc = wd_patch__fuzzy_apply(&s->result, &res, a->r, a->p, s->f, name, s->orig.ptr,
	                           s->orig.len, s->hunks, &a->pool, &s->blocks);
	if (rc == WD_EREFUSED) {
		a->refusals++;
		return 0;
	}
	if (rc)
		return rc;
	s->method = "fuzzy";
	s->match = res.level_max == 0 ? "exact" : res.level_max == 1 ? "whitespace"
	                                                              : "trimmed_context";
	if (s->kind == WD_PF_DELETE && s->f->nhunks && s->result.len) {
		a->refusals++;
		return wd_patch__refuse(a->r, s->src, 0, "delete_leaves_content", NULL,
		                        "%s: refused: the deletion does not remove all of the file's "
		                        "lines; send '+++ /dev/null' with the file's full current "
		                        "content as '-' lines, or just the header", s->src);
	}
	return 0;
}

/* --- the result tree and the writes ----------------------------------- */

static unsigned git_mode_for(const applier *a, const fstate *s)
{
	const wd_pfile *f = s->f;
	git_tree_entry *e = NULL;
	unsigned m = GIT_FILEMODE_BLOB;

	if (a->pol && a->pol->allow_mode_change && f->new_mode == 0100755)
		return GIT_FILEMODE_BLOB_EXECUTABLE;
	if (a->pol && a->pol->allow_mode_change && f->new_mode == 0100644)
		return GIT_FILEMODE_BLOB;
	if (s->src && a->head && git_tree_entry_bypath(&e, a->head, s->src) == 0) {
		m = (unsigned)git_tree_entry_filemode(e);
		git_tree_entry_free(e);
		return m == GIT_FILEMODE_BLOB_EXECUTABLE ? m : GIT_FILEMODE_BLOB;
	}
	if (s->src_exists && (s->src_mode & 0100))
		return GIT_FILEMODE_BLOB_EXECUTABLE;
	return m;
}

/* A blob of `data` for `path`, stored as `git add` would store it: through
 * the filters the attributes select (to the object database), from the
 * commit's .gitattributes in tree mode, else from the work tree's. */
static int make_blob(git_oid *out, applier *a, const char *path, const char *data, size_t len)
{
	git_filter_options fo;
	git_filter_list *fl = NULL;
	git_buf clean = { 0 };
	int rc = 0;

	memset(&fo, 0, sizeof(fo));
	fo.version = GIT_FILTER_OPTIONS_VERSION;
	if (a->attr_commit) {
		fo.flags = GIT_FILTER_ATTRIBUTES_FROM_COMMIT;
		git_oid_cpy(&fo.attr_commit_id, a->attr_commit);
	}
	if (git_filter_list_load_ext(&fl, a->repo, NULL, path, GIT_FILTER_TO_ODB, &fo) < 0 ||
	    (fl && git_filter_list_apply_to_buffer(&clean, fl, data, len) < 0)) {
		rc = wd_error_git(WD_EINFRA, path);
		goto out;
	}
	if (fl) {
		data = clean.ptr ? clean.ptr : "";
		len = clean.size;
	}
	if (git_blob_create_from_buffer(out, a->repo, data, len) < 0)
		rc = wd_error_git(WD_EINFRA, "writing blob");
out:
	git_buf_dispose(&clean);
	git_filter_list_free(fl);
	return rc;
}

/* After the patch: the source path gone when the file moved or went, the
 * result at the destination. */
static int result_updates(git_tree_update *upd, size_t *nu, applier *a, fstate *s)
{
	if (s->src && (!s->dst || strcmp(s->src, s->dst)))
		remove_from_head(upd, nu, a, s->src);
	if (!s->dst)
		return 0;
	if (make_blob(&upd[*nu].id, a, s->dst, s->result.ptr ? s->result.ptr : "",
	              s->result.len) != 0)
		return WD_EINFRA;
	s->tree_mode = git_mode_for(a, s);
	upsert(upd, nu, s->dst, (git_filemode_t)s->tree_mode);
	return 0;
}

static int build_tree(applier *a)
{
	return tree_with(&a->r->tree, a, result_updates, "building the patched tree");
}

/* Create the missing parent directories of `rel`, remembering them for a rollback. */
static int make_parents(applier *a, fstate *s, const char *rel)
{
	wd_buf dir = WD_BUF_INIT;
	const char *c = rel;
	int rc = 0;

	if ((rc = wd_buf_puts(&dir, a->workdir)) != 0)
		goto out;
	for (const char *slash; (slash = strchr(c, '/')) != NULL; c = slash + 1) {
		if ((rc = wd_buf_put(&dir, c, (size_t)(slash - c))) != 0)
			goto out;
		if (!wd_path_exists(dir.ptr)) {
			if (mkdir(dir.ptr, 0755) < 0) {
				rc = wd_error_errno(WD_EINFRA, dir.ptr);
				goto out;
			}
			if ((rc = wd_strvec_push(&s->made_dirs, dir.ptr)) != 0)
				goto out;
		}
		if ((rc = wd_buf_putc(&dir, '/')) != 0)
			goto out;
	}
out:
	wd_buf_free(&dir);
	return rc;
}

/* Drop directories left empty by a deletion, up to the work tree root. */
static void prune_empty_dirs(const applier *a, const char *rel)
{
	wd_buf dir = WD_BUF_INIT;

	if (abs_path(&dir, a, rel))
		goto out;
	for (;;) {
		char *slash = strrchr(dir.ptr, '/');

		if (!slash || (size_t)(slash - dir.ptr) < strlen(a->workdir))
			break;
		*slash = '\0';
		if (rmdir(dir.ptr) < 0)
			break;
	}
out:
	wd_buf_free(&dir);
}

static unsigned file_mode(const fstate *s)
{
	if (s->tree_mode == GIT_FILEMODE_BLOB_EXECUTABLE)
		return s->src_exists ? (s->src_mode | 0111) : 0755;
	if (s->src_exists)
		return s->src_mode & ~0111u ? (s->src_mode & ~0111u) : 0644;
	return 0644;
}

static int write_one(applier *a, fstate *s)
{
	wd_buf path = WD_BUF_INIT;
	int rc = 0;

	if (s->dst) {
		if ((rc = make_parents(a, s, s->dst)) != 0 || (rc = abs_path(&path, a, s->dst)) != 0)
			goto out;
		rc = wd_file_write_atomic(path.ptr, s->result.ptr ? s->result.ptr : "", s->result.len,
		                          file_mode(s));
		if (rc)
			goto out;
		/* write_atomic creates with the umask applied: set the mode we mean */
		if (chmod(path.ptr, file_mode(s)) < 0) {
			rc = wd_error_errno(WD_EINFRA, path.ptr);
			goto out;
		}
		s->wrote_dst = 1;
	}
	if (s->src && (!s->dst || strcmp(s->src, s->dst))) {
		if ((rc = abs_path(&path, a, s->src)) != 0)
			goto out;
		if (unlink(path.ptr) < 0) {
			rc = wd_error_errno(WD_EINFRA, path.ptr);
			goto out;
		}
		s->removed_src = 1;
		prune_empty_dirs(a, s->src);
	}
out:
	wd_buf_free(&path);
	return rc;
}

static void rollback_one(applier *a, fstate *s)
{
	wd_buf path = WD_BUF_INIT;

	if (s->removed_src && !abs_path(&path, a, s->src)) {
		char *slash = strrchr(path.ptr, '/');

		if (slash) {
			*slash = '\0';
			wd_mkdir_p(path.ptr, 0);
			*slash = '/';
		}
		wd_file_write_atomic(path.ptr, s->orig.ptr ? s->orig.ptr : "", s->orig.len,
		                     s->src_mode ? s->src_mode : 0644);
	}
	if (s->wrote_dst && !abs_path(&path, a, s->dst)) {
		if (s->src && !strcmp(s->src, s->dst)) {
			wd_file_write_atomic(path.ptr, s->orig.ptr ? s->orig.ptr : "", s->orig.len,
			                     s->src_mode ? s->src_mode : 0644);
			chmod(path.ptr, s->src_mode ? s->src_mode : 0644);
		} else {
			unlink(path.ptr);
		}
	}
	for (size_t i = s->made_dirs.n; i > 0; i--)
		rmdir(s->made_dirs.v[i - 1]);
	wd_buf_free(&path);
}

static int write_all(applier *a)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < a->n; i++)
		if ((rc = write_one(a, &a->fs[i])) != 0)
			break;
	if (!rc)
		return 0;
	for (size_t k = i + 1; k > 0; k--)
		rollback_one(a, &a->fs[k - 1]);
	return wd_error_wrap(rc, "writing the patched files (work tree restored)");
}

/* Tree mode: what a work tree of the new tree must show, path by path. */
static int collect_outputs(applier *a)
{
	wd_patch_report *r = a->r;

	if (!(r->out = calloc(a->n * 2 + 1, sizeof(*r->out))))
		return wd_patch__oom();
	for (size_t i = 0; i < a->n; i++) {
		fstate *s = &a->fs[i];
		wd_patch_out *o;

		if (s->src && (!s->dst || strcmp(s->src, s->dst))) {
			o = &r->out[r->nout++];
			o->deleted = 1;
			if (!(o->path = wd_strdup(s->src)))
				return WD_ENOMEM;
		}
		if (!s->dst)
			continue;
		o = &r->out[r->nout++];
		o->mode = s->tree_mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
		if (!(o->path = wd_strdup(s->dst)) ||
		    wd_buf_put(&o->content, s->result.ptr ? s->result.ptr : "", s->result.len) != 0)
			return WD_ENOMEM;
	}
	return 0;
}

/* --- the report --------------------------------------------------------- */

static const char *kind_name(int kind)
{
	switch (kind) {
	case WD_PF_ADD: return "added";
	case WD_PF_DELETE: return "deleted";
	case WD_PF_RENAME: return "renamed";
	default: return "modified";
	}
}

static int report_files(applier *a, int applied, int check_only)
{
	json_t *files = json_array();
	char hex[GIT_OID_HEXSZ + 1];
	int rc = WD_ENOMEM;

	if (!files)
		goto out;
	for (size_t i = 0; i < a->n; i++) {
		fstate *s = &a->fs[i];
		const char *path = s->dst ? s->dst : s->src;
		json_t *o = json_object();

		if (!o || json_array_append_new(files, o))
			goto out;
		if (json_object_set_new(o, "path", wd_patch__jstr(path, path ? strlen(path) : 0)) ||
		    json_object_set_new(o, "status", json_string(kind_name(s->kind))) ||
		    json_object_set(o, "hunks", s->hunks))
			goto out;
		if (s->kind == WD_PF_RENAME &&
		    json_object_set_new(o, "old_path", wd_patch__jstr(s->src, strlen(s->src))))
			goto out;
		if (s->method && (json_object_set_new(o, "method", json_string(s->method)) ||
		                  json_object_set_new(o, "match", json_string(s->match))))
			goto out;
		if (applied) {
			if (wd_strvec_push(&a->r->files, path))
				goto out;
			if (s->kind == WD_PF_RENAME && wd_strvec_push(&a->r->files, s->src))
				goto out;
		}
	}
	if (json_object_set_new(a->r->json, "files", files)) {
		files = NULL;
		goto out;
	}
	files = NULL;
	if (json_object_set_new(a->r->json, "applied", json_boolean(applied)) ||
	    json_object_set_new(a->r->json, "check_only", json_boolean(check_only)) ||
	    json_object_set_new(a->r->json, "patch_hash", json_string(a->p->hash)))
		goto out;
	if (applied) {
		git_oid_tostr(hex, sizeof(hex), &a->r->tree);
		if (json_object_set_new(a->r->json, "tree", json_string(hex)))
			goto out;
	}
	if (!json_object_get(a->r->json, "refusals") &&
	    json_object_set_new(a->r->json, "refusals", json_array()))
		goto out;
	rc = 0;
out:
	json_decref(files);
	if (rc)
		wd_error_set(WD_ENOMEM, "out of memory");
	return rc;
}

/* --- entry point -------------------------------------------------------- */

static int load_head(applier *a)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int err = git_repository_head(&ref, a->repo);

	if (err == GIT_EUNBORNBRANCH || err == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	if (err < 0)
		return wd_error_git(WD_EINFRA, "reading HEAD");
	err = git_reference_peel(&obj, ref, GIT_OBJECT_TREE);
	git_reference_free(ref);
	if (err < 0)
		return wd_error_git(WD_EINFRA, "reading HEAD's tree");
	a->head = (git_tree *)obj;
	return 0;
}

/* The work shared by both entry points, once a.repo, a.head (or HEAD to
 * load), a.workdir or a.attr_commit are set. */
static int apply_common(applier *a, wd_patch_report *out, const wd_patch *p,
                        const wd_patch_policy *policy, unsigned flags)
{
	int rc, strict = 0;

	a->r = out;
	a->p = p;
	a->pol = policy;
	a->n = p->nfiles;
	a->fs = calloc(a->n ? a->n : 1, sizeof(*a->fs));
	if (!a->fs)
		return wd_patch__oom();
	for (size_t i = 0; i < a->n; i++) {
		const wd_pfile *f = &p->files[i];

		a->fs[i].f = f;
		a->fs[i].kind = f->kind;
		a->fs[i].src = f->kind == WD_PF_ADD ? NULL : f->old_path;
		a->fs[i].dst = f->kind == WD_PF_DELETE ? NULL : f->new_path;
		if (!(a->fs[i].hunks = json_array()))
			return wd_error_set(WD_ENOMEM, "out of memory");
	}
	if ((rc = wd_patch__policy_check(out, p, policy)) < 0)
		return rc;
	a->refusals = rc;
	if (a->refusals)
		goto refused;
	if (a->workdir && (rc = load_head(a)) != 0)
		return rc;
	for (size_t i = 0; i < a->n; i++)
		if ((rc = load_one(a, &a->fs[i])) != 0)
			return rc;
	if (a->refusals)
		goto refused;
	if ((rc = try_strict(a)) < 0)
		return rc;
	strict = rc;
	if (!strict) {
		for (size_t i = 0; i < a->n && !rc; i++)
			if (!a->fs[i].f->whole)
				rc = wd_patch__pool_add(&a->pool, &a->fs[i].blocks, p, a->fs[i].f,
				                        a->fs[i].orig.ptr, a->fs[i].orig.len);
		if (rc)
			return rc;
		for (size_t i = 0; i < a->n; i++) {
			json_array_clear(a->fs[i].hunks);
			if ((rc = fuzzy_one(a, &a->fs[i])) != 0)
				return rc;
		}
	}
	if (a->refusals)
		goto refused;
	if ((rc = build_tree(a)) != 0)
		return rc;
	if (a->workdir && !(flags & WD_PATCH_CHECK_ONLY) && (rc = write_all(a)) != 0)
		return rc;
	if (!a->workdir && (rc = collect_outputs(a)) != 0)
		return rc;
	out->applied = 1;
	return report_files(a, 1, !!(flags & WD_PATCH_CHECK_ONLY));
refused:
	rc = report_files(a, 0, !!(flags & WD_PATCH_CHECK_ONLY));
	if (!rc)
		rc = wd_error_set(WD_EREFUSED, "patch refused: %s", wd_buf_cstr(&out->reasons));
	return rc;
}

static void applier_free(applier *a)
{
	for (size_t i = 0; a->fs && i < a->n; i++) {
		wd_buf_free(&a->fs[i].orig);
		wd_patch__ev_free(&a->fs[i].blocks);
		wd_buf_free(&a->fs[i].result);
		json_decref(a->fs[i].hunks);
		wd_strvec_free(&a->fs[i].made_dirs);
	}
	free(a->fs);
	git_tree_free(a->head);
}

int wd_patch_apply(wd_patch_report *out, git_repository *repo, const wd_patch *p,
                   const wd_patch_policy *policy, unsigned flags)
{
	applier a = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!(out->json = json_object()))
		return wd_patch__oom();
	if (!repo || !p)
		return wd_error_set(WD_EUSAGE, "wd_patch_apply: no repository or no patch");
	a.repo = repo;
	a.workdir = git_repository_workdir(repo);
	if (!a.workdir)
		return wd_error_set(WD_EINPUT, "the repository has no work tree");
	rc = apply_common(&a, out, p, policy, flags);
	applier_free(&a);
	return rc;
}

int wd_patch_apply_tree(wd_patch_report *out, git_repository *repo, const git_oid *base_commit,
                        const wd_patch *p, const wd_patch_policy *policy)
{
	applier a = { 0 };
	git_commit *commit = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!(out->json = json_object()))
		return wd_patch__oom();
	if (!repo || !p || !base_commit)
		return wd_error_set(WD_EUSAGE, "wd_patch_apply_tree: no repository, base or patch");
	a.repo = repo;
	a.attr_commit = base_commit;
	if (git_commit_lookup(&commit, repo, base_commit) < 0 || git_commit_tree(&a.head, commit) < 0) {
		git_commit_free(commit);
		return wd_error_git(WD_EINFRA, "reading the base tree");
	}
	git_commit_free(commit);
	rc = apply_common(&a, out, p, policy, 0);
	applier_free(&a);
	return rc;
}
