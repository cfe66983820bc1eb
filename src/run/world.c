/*
 * The checks' world: the tree a check runs in, and the only tree a check can
 * write. It holds nothing warden trusts: warden's own code never follows a
 * path in it (warden/beneath.h), never reads from it what it commits (the
 * proposal is computed from git objects), and every round starts again from
 * the same state.
 *
 * Overlay mode (the sandbox can mount overlayfs in its namespace):
 *   base     runs/<id>/base, the checkout warden wrote; the lowest layer, never
 *            writable by a check
 *   built    what the baseline checks wrote above base (their upper layer),
 *            kept with the baseline's cached results, so a later run on the
 *            same base starts from a built tree too
 *   round N  a fresh, empty upper layer into which warden writes the patched
 *            files (new mtimes: the build redoes only what depends on them);
 *            thrown away after the round, so nothing of it survives
 * The checks see the merged tree at one path per source repository (inside),
 * stable across runs, so build products that name absolute paths stay valid.
 *
 * Copy mode (no overlay: policy off, or a kernel without it): the baseline
 * runs in a copy of base at runs/<id>/tree, which is then kept as `built`;
 * each round gets a fresh copy of `built` (reflinks where the file system
 * has them) with the patched files written in. Copies are made without
 * following a link (warden/beneath.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/beneath.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/sandbox.h"

#include "run_internal.h"

/* *out = a + sep + b (sep and b may be ""), replacing what was there. */
static int set_path(char **out, const char *a, const char *sep, const char *b)
{
	wd_buf p = WD_BUF_INIT;
	int rc = wd_buf_printf(&p, "%s%s%s", a, sep, b);

	free(*out);
	*out = rc ? NULL : wd_buf_detach(&p);
	wd_buf_free(&p);
	return rc ? rc : *out ? 0 : WD_ENOMEM;
}

/* "<cache>/work/<name>-<8 hex of the source>": one per source repository. */
static int inside_path(char **out, const char *cache, const wd_workspace *ws)
{
	const char *src = wd_workspace_source_path(ws) ? wd_workspace_source_path(ws)
	                                                : wd_workspace_source(ws);
	const char *name = strrchr(src, '/');
	char hex[41];
	wd_buf b = WD_BUF_INIT;
	size_t n;
	int rc;

	name = name && name[1] ? name + 1 : src;
	n = strcspn(name, ".:@?#");
	if ((rc = wd_hash_hex(hex, src, strlen(src))) != 0)
		return rc;
	if ((rc = wd_buf_printf(&b, "%s/work/", cache)) == 0) {
		for (size_t i = 0; i < n && i < 40 && !rc; i++) {
			char c = name[i];

			rc = wd_buf_putc(&b, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			                     (c >= '0' && c <= '9') || c == '-' || c == '_' ? c : '_');
		}
	}
	if (!rc)
		rc = wd_buf_printf(&b, "%s%.8s", n ? "-" : "", hex);
	*out = rc ? NULL : wd_buf_detach(&b);
	wd_buf_free(&b);
	return rc ? rc : *out ? 0 : WD_ENOMEM;
}

int wd_world_init(wd_world *w, const wd_workspace *ws, const char *cache, int policy)
{
	wd_buf why = WD_BUF_INIT;
	int rc;

	memset(w, 0, sizeof(*w));
	if ((rc = set_path(&w->base, wd_workspace_checkout(ws), "", "")) != 0 ||
	    (rc = set_path(&w->layers, wd_workspace_run_dir(ws), "/", "layers")) != 0 ||
	    (rc = set_path(&w->tree, wd_workspace_run_dir(ws), "/", "tree")) != 0)
		goto out;
	if (policy == WD_POLICY_OFF) {
		rc = wd_buf_puts(&why, "the sandbox policy is off (no mount namespace)");
	} else if (wd_sandbox_overlay_available(&why)) {
		w->overlay = 1;
	}
	if (!w->overlay && !(w->why_copy = wd_strdup(why.len ? why.ptr : "overlayfs unavailable")))
		rc = WD_ENOMEM;
	if (rc)
		goto out;
	if (w->overlay)
		rc = inside_path(&w->inside, cache, ws);
	else
		rc = set_path(&w->inside, w->tree, "", "");
	if (!rc && (rc = wd_mkdir_p(w->layers, 1)) != 0)
		goto out;
out:
	wd_buf_free(&why);
	return rc;
}

/* A fresh, empty upper layer and overlayfs's scratch directory beside it. */
static int new_layer(wd_world *w, const char *name)
{
	char up[64], wk[64];
	int rc;

	snprintf(up, sizeof(up), "%s.up", name);
	snprintf(wk, sizeof(wk), "%s.work", name);
	if ((rc = set_path(&w->upper, w->layers, "/", up)) != 0 ||
	    (rc = set_path(&w->work, w->layers, "/", wk)) != 0 ||
	    (rc = wd_rm_rf(w->upper)) != 0 || (rc = wd_rm_rf(w->work)) != 0)
		return rc;
	if (mkdir(w->upper, 0755) < 0 || mkdir(w->work, 0700) < 0)
		return wd_error_errno(WD_EINFRA, w->upper);
	return 0;
}

/* Copy mode: runs/<id>/tree made afresh as a copy of `from`. */
static int fresh_tree(wd_world *w, const char *from)
{
	wd_copy_stats st;
	int src = -1, dst = -1, rc;

	if ((rc = wd_rm_rf(w->tree)) != 0)
		return rc;
	if (mkdir(w->tree, 0755) < 0)
		return wd_error_errno(WD_EINFRA, w->tree);
	if ((rc = wd_root_open(&src, from)) == 0 && (rc = wd_root_open(&dst, w->tree)) == 0)
		rc = wd_beneath_copy(&st, src, dst);
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	return rc;
}

static void gate_tree(wd_world *w, wd_gate_opts *go, const char **workdir)
{
	go->inside = w->overlay ? w->inside : NULL;
	go->overlay_lower = w->overlay ? w->lower : NULL;
	go->overlay_upper = w->overlay ? w->upper : NULL;
	go->overlay_work = w->overlay ? w->work : NULL;
	*workdir = w->overlay ? NULL : w->tree;
}

int wd_world_baseline_begin(wd_world *w, wd_gate_opts *go, const char **workdir)
{
	int rc;

	if (w->overlay) {
		if ((rc = new_layer(w, "baseline")) != 0)
			return rc;
		w->lower[0] = w->base;
		w->lower[1] = NULL;
	} else if ((rc = fresh_tree(w, w->base)) != 0) {
		return rc;
	}
	gate_tree(w, go, workdir);
	return 0;
}

int wd_world_use_built(wd_world *w, const char *layer)
{
	w->built_cached = 1;
	return set_path(&w->built, layer, "", "");
}

int wd_world_baseline_end(wd_world *w, const char *keep_as)
{
	int rc;

	if (!w->overlay) {
		/* the built tree stays in the run; each round copies it */
		if ((rc = set_path(&w->built, w->layers, "/", "built")) != 0 ||
		    (rc = wd_rm_rf(w->built)) != 0)
			return rc;
		if (rename(w->tree, w->built) < 0)
			return wd_error_errno(WD_EINFRA, w->built);
		return 0;
	}
	if (keep_as) {
		wd_buf parent = WD_BUF_INIT;
		char *slash;

		if ((rc = wd_buf_sets(&parent, keep_as)) != 0)
			return rc;
		if ((slash = strrchr(parent.ptr, '/')) != NULL)
			*slash = '\0';
		rc = wd_mkdir_p(parent.ptr, 1);
		wd_buf_free(&parent);
		if (rc)
			return rc;
		/* another run may have kept one first: then this one stays in the run */
		if (rename(w->upper, keep_as) == 0) {
			w->built_cached = 1;
			return set_path(&w->built, keep_as, "", "");
		}
	}
	w->built_cached = 0;
	return set_path(&w->built, w->upper, "", "");
}

/* Write what the patch changed into `root`: files with new mtimes, deletions
 * as whiteouts (overlay) or removals (copy). */
static int put_patch(wd_world *w, const char *dir, const wd_patch_report *rep)
{
	int root = -1, rc;

	if ((rc = wd_root_open(&root, dir)) != 0)
		return rc;
	for (size_t i = 0; i < rep->nout && !rc; i++) {
		const wd_patch_out *o = &rep->out[i];

		if (!o->deleted)
			rc = wd_beneath_write(root, o->path, o->content.ptr ? o->content.ptr : "",
			                      o->content.len, o->mode);
		else if (w->overlay)
			rc = wd_beneath_whiteout(root, o->path);
		else
			rc = wd_beneath_remove(root, o->path);
	}
	close(root);
	return rc;
}

int wd_world_round_begin(wd_world *w, int round, const wd_patch_report *rep, wd_gate_opts *go,
                         const char **workdir)
{
	char name[32];
	int rc;

	snprintf(name, sizeof(name), "round-%d", round);
	if (w->overlay) {
		if ((rc = new_layer(w, name)) != 0 || (rc = put_patch(w, w->upper, rep)) != 0)
			return rc;
		w->lower[0] = w->built;
		w->lower[1] = w->base;
		w->lower[2] = NULL;
	} else if ((rc = fresh_tree(w, w->built)) != 0 || (rc = put_patch(w, w->tree, rep)) != 0) {
		return rc;
	}
	gate_tree(w, go, workdir);
	return 0;
}

int wd_world_round_end(wd_world *w)
{
	int rc = 0;

	if (w->overlay) {
		if (w->upper && (rc = wd_rm_rf(w->upper)) == 0 && w->work)
			rc = wd_rm_rf(w->work);
	}
	return rc;
}

/* The last round's tree as a plain directory at runs/<id>/tree, for a person
 * to look at (--keep-worktree). In copy mode it is there already; an overlay
 * is copied out by `cp -a` inside the sandbox, with the round's layers
 * mounted as the checks saw them, so warden itself follows nothing in it. */
int wd_world_keep(wd_world *w, const wd_gate_opts *go, char **out_path)
{
	wd_sandbox_opts so = WD_SANDBOX_OPTS_INIT;
	wd_sandbox_result sr;
	wd_buf from = WD_BUF_INIT;
	const char *argv[] = { "cp", "-a", NULL, w->tree, NULL };
	const char *write[] = { w->tree, NULL };
	int rc = 0;

	*out_path = NULL;
	if (w->overlay && w->upper) {
		wd_gate_opts view = *go;
		const char *workdir;

		if ((rc = wd_rm_rf(w->tree)) != 0 || (rc = wd_buf_printf(&from, "%s/.", w->inside)) != 0)
			goto out;
		if (mkdir(w->tree, 0755) < 0) {
			rc = wd_error_errno(WD_EINFRA, w->tree);
			goto out;
		}
		/* the round's layers mounted as its checks saw them, read as they could */
		gate_tree(w, &view, &workdir);
		wd_gate_sandbox_tree(&so, workdir, &view);
		argv[2] = from.ptr;
		so.argv = argv;
		so.allow_write = write;
		so.timeout_sec = 600;
		memset(&sr, 0, sizeof(sr));
		if ((rc = wd_sandbox_run(&sr, &so)) == 0 && sr.exit_code != 0)
			rc = wd_error_set(WD_EINFRA, "copying the last round's tree out: %s",
			                  wd_buf_cstr(&sr.output));
		wd_sandbox_result_free(&sr);
		if (rc)
			goto out;
	}
	if (!wd_path_is_dir(w->tree))
		goto out; /* no round ran */
	if (!(*out_path = wd_strdup(w->tree)))
		rc = WD_ENOMEM;
out:
	wd_buf_free(&from);
	return rc;
}

void wd_world_free(wd_world *w)
{
	free(w->why_copy);
	free(w->inside);
	free(w->base);
	free(w->built);
	free(w->layers);
	free(w->tree);
	free(w->upper);
	free(w->work);
	memset(w, 0, sizeof(*w));
}
