/*
 * What a run does with its workspace once prepared: commit (only the base
 * plus the patch), diff, list, publish, and clean up.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/repo.h"
#include "repo_int.h"

static int need_repo(const wd_workspace *ws)
{
	if (!ws || !ws->repo)
		return wd_error_set(WD_EUSAGE, "repo: the workspace was removed or never prepared");
	return 0;
}

static int base_tree(git_tree **out, const wd_workspace *ws)
{
	git_commit *commit = NULL;
	int rc = 0;

	if (git_commit_lookup(&commit, ws->repo, &ws->base) < 0 ||
	    git_commit_tree(out, commit) < 0)
		rc = wd_error_git(WD_EINFRA, "reading the base tree");
	git_commit_free(commit);
	return rc;
}


git_repository *wd_workspace_repo(const wd_workspace *ws) { return ws->repo; }
const git_oid *wd_workspace_base(const wd_workspace *ws) { return &ws->base; }
const char *wd_workspace_branch(const wd_workspace *ws) { return ws->branch; }
const char *wd_workspace_base_ref(const wd_workspace *ws) { return ws->base_ref; }
const char *wd_workspace_source(const wd_workspace *ws) { return ws->source; }
const char *wd_workspace_source_path(const wd_workspace *ws) { return ws->source_path; }
const char *wd_workspace_run_dir(const wd_workspace *ws) { return ws->run_dir; }
const char *wd_workspace_git_dir(const wd_workspace *ws) { return ws->git_dir; }
const char *wd_workspace_checkout(const wd_workspace *ws) { return ws->checkout; }
const char *wd_workspace_mirror_path(const wd_workspace *ws) { return ws->mirror_path; }

int wd_workspace_git_read_paths(wd_strvec *out, const wd_workspace *ws)
{
	wd_buf objects = WD_BUF_INIT;
	int rc;

	if ((rc = wd_strvec_push(out, ws->git_dir)) == 0 &&
	    (rc = wd_buf_printf(&objects, "%s/objects", ws->mirror_path)) == 0)
		rc = wd_strvec_push(out, objects.ptr);
	wd_buf_free(&objects);
	return rc;
}

int wd_repo_base_tree(git_oid *out, const wd_workspace *ws)
{
	git_commit *c = NULL;
	int rc;

	if ((rc = need_repo(ws)) != 0)
		return rc;
	if (git_commit_lookup(&c, ws->repo, &ws->base) < 0)
		return wd_error_git(WD_EINFRA, "reading the base commit");
	git_oid_cpy(out, git_commit_tree_id(c));
	git_commit_free(c);
	return 0;
}

struct changed_ctx {
	wd_strvec *out;
	int rc;
};

static int changed_cb(const git_diff_delta *d, float progress, void *payload)
{
	struct changed_ctx *c = payload;

	(void)progress;
	if (d->old_file.path && (c->rc = wd_strvec_push(c->out, d->old_file.path)) != 0)
		return -1;
	if (d->new_file.path && (!d->old_file.path || strcmp(d->old_file.path, d->new_file.path)) &&
	    (c->rc = wd_strvec_push(c->out, d->new_file.path)) != 0)
		return -1;
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int wd_repo_changed_paths(wd_strvec *out, wd_workspace *ws, const git_oid *tree_id)
{
	struct changed_ctx c = { out, 0 };
	git_tree *old = NULL, *new = NULL;
	git_diff *diff = NULL;
	size_t first = out->n;
	int rc;

	if ((rc = need_repo(ws)) != 0 || (rc = base_tree(&old, ws)) != 0)
		return rc;
	/* no rename detection: a rename is its two paths, as the patch lists them */
	if (git_tree_lookup(&new, ws->repo, tree_id) < 0 ||
	    git_diff_tree_to_tree(&diff, ws->repo, old, new, NULL) < 0) {
		rc = wd_error_git(WD_EINFRA, "comparing the proposal with the base");
		goto out;
	}
	if (git_diff_foreach(diff, changed_cb, NULL, NULL, NULL, &c) < 0)
		rc = c.rc ? c.rc : wd_error_git(WD_EINFRA, "comparing the proposal with the base");
	if (!rc && out->n > first)
		qsort(out->v + first, out->n - first, sizeof(char *), cmp_strp);
out:
	git_diff_free(diff);
	git_tree_free(new);
	git_tree_free(old);
	return rc;
}

/* The proposal must be the base plus the patch: the changed paths are the
 * patch's, no more and no fewer. */
static int check_integrity(wd_workspace *ws, const git_oid *tree, const char *const *expect)
{
	wd_strvec got = WD_STRVEC_INIT, want = WD_STRVEC_INIT;
	wd_buf diff = WD_BUF_INIT;
	size_t i = 0, j = 0;
	int rc;

	if ((rc = wd_repo_changed_paths(&got, ws, tree)) != 0)
		goto out;
	for (size_t k = 0; expect[k]; k++)
		if (!wd_strvec_contains(&want, expect[k]) && (rc = wd_strvec_push(&want, expect[k])) != 0)
			goto out;
	if (want.n > 1)
		qsort(want.v, want.n, sizeof(char *), cmp_strp);
	while (!rc && (i < got.n || j < want.n)) {
		int c = i == got.n ? 1 : j == want.n ? -1 : strcmp(got.v[i], want.v[j]);

		if (c < 0)
			rc = wd_buf_printf(&diff, "%s%s changed but is not in the patch",
			                   diff.len ? "; " : "", got.v[i++]);
		else if (c > 0)
			rc = wd_buf_printf(&diff, "%s%s is in the patch but unchanged",
			                   diff.len ? "; " : "", want.v[j++]);
		else
			i++, j++;
	}
	if (!rc && diff.len)
		rc = wd_error_set(WD_EINTEGRITY, "integrity: the tree to commit is not the base plus "
		                  "the patch: %s; nothing committed", diff.ptr);
out:
	wd_strvec_free(&got);
	wd_strvec_free(&want);
	wd_buf_free(&diff);
	return rc;
}

int wd_repo_commit(git_oid *out, wd_workspace *ws, const git_oid *tree_id,
                   const char *message, const char *name, const char *email,
                   const char *const *expect)
{
	git_signature *sig = NULL;
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_reference *ref = NULL;
	git_index *index = NULL;
	wd_buf refname = WD_BUF_INIT;
	int rc;

	if ((rc = need_repo(ws)) != 0)
		return rc;
	if (!message || !*message)
		return wd_error_set(WD_EUSAGE, "repo: a commit needs a message");
	if (expect && (rc = check_integrity(ws, tree_id, expect)) != 0)
		return rc;
	if (git_signature_now(&sig, name && *name ? name : "warden",
	                      email && *email ? email : "warden@localhost") < 0) {
		rc = wd_error_git(WD_EINPUT, "commit identity");
		goto out;
	}
	if (git_tree_lookup(&tree, ws->repo, tree_id) < 0) {
		rc = wd_error_git(WD_EINPUT, "commit tree");
		goto out;
	}
	if (git_commit_lookup(&parent, ws->repo, &ws->base) < 0 ||
	    git_commit_create(out, ws->repo, NULL, sig, sig, NULL, message, tree, 1,
	                      (const git_commit **)&parent) < 0) {
		rc = wd_error_git(WD_EINFRA, "creating the commit");
		goto out;
	}
	if ((rc = wd_buf_printf(&refname, "refs/heads/%s", ws->branch)) != 0)
		goto out;
	/* parent = base always: a later commit of the same run replaces the earlier */
	if (git_reference_create(&ref, ws->repo, refname.ptr, out, 1, "warden: commit") < 0) {
		rc = wd_error_git(WD_EINFRA, "moving the work branch");
		goto out;
	}
	wd_buf_clear(&refname);
	if ((rc = wd_buf_printf(&refname, "%s/index", ws->git_dir)) != 0)
		goto out;
	if (git_index_open(&index, refname.ptr) < 0 || git_index_read_tree(index, tree) < 0 ||
	    git_index_write(index) < 0)
		rc = wd_error_git(WD_EINFRA, "writing the run's index");
out:
	wd_buf_free(&refname);
	git_index_free(index);
	git_reference_free(ref);
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	return rc;
}

int wd_repo_diff_trees(wd_buf *out, wd_workspace *ws, const git_oid *tree_id)
{
	git_tree *old = NULL, *new = NULL;
	git_diff *diff = NULL;
	git_buf text = { 0 };
	int rc;

	if ((rc = need_repo(ws)) != 0 || (rc = base_tree(&old, ws)) != 0)
		return rc;
	if (git_tree_lookup(&new, ws->repo, tree_id) < 0) {
		rc = wd_error_git(WD_EINPUT, "diff tree");
		goto out;
	}
	if (git_diff_tree_to_tree(&diff, ws->repo, old, new, NULL) < 0 ||
	    git_diff_to_buf(&text, diff, GIT_DIFF_FORMAT_PATCH) < 0) {
		rc = wd_error_git(WD_EINFRA, "diffing trees");
		goto out;
	}
	rc = wd_buf_put_git(out, &text);
out:
	git_buf_dispose(&text);
	git_diff_free(diff);
	git_tree_free(new);
	git_tree_free(old);
	return rc;
}

struct list_ctx {
	wd_strvec *out;
	int rc;
};

static int list_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct list_ctx *c = payload;
	wd_buf path = WD_BUF_INIT;

	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return 0; /* trees are walked into; submodules are not our files */
	if ((c->rc = wd_buf_puts(&path, root)) != 0 ||
	    (c->rc = wd_buf_puts(&path, git_tree_entry_name(e))) != 0 ||
	    (c->rc = wd_strvec_push_owned(c->out, wd_buf_detach(&path))) != 0) {
		wd_buf_free(&path);
		return -1;
	}
	return 0;
}


int wd_repo_list_files(wd_strvec *out, wd_workspace *ws)
{
	struct list_ctx c = { out, 0 };
	git_tree *tree = NULL;
	size_t first = out->n;
	int rc;

	if ((rc = need_repo(ws)) != 0 || (rc = base_tree(&tree, ws)) != 0)
		return rc;
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, list_cb, &c) < 0)
		rc = c.rc ? c.rc : wd_error_git(WD_EINFRA, "listing files");
	git_tree_free(tree);
	/* git orders "a/" after "a.c"; callers want plain byte order */
	if (!rc && out->n > first)
		qsort(out->v + first, out->n - first, sizeof(char *), cmp_strp);
	return rc;
}

/* Refuse before writing anything: the ref must be new in every target. */
static int check_target(git_repository *repo, const char *refname, const char *branch,
                        const char *where)
{
	git_reference *ref = NULL, *head = NULL;
	int rc = 0;

	if (git_reference_lookup(&ref, repo, refname) == 0)
		rc = wd_error_set(WD_EEXISTS, "branch '%s' already exists in %s; not overwriting it",
		                  branch, where);
	else if (git_reference_lookup(&head, repo, "HEAD") == 0 &&
	         git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	         !strcmp(git_reference_symbolic_target(head), refname))
		rc = wd_error_set(WD_EREFUSED, "branch '%s' is what HEAD of %s points at; not "
		                  "creating it there", branch, where);
	git_reference_free(ref);
	git_reference_free(head);
	return rc;
}

static int create_ref(git_repository *dst, wd_workspace *ws, const git_oid *tip,
                      const char *refname, const char *where)
{
	git_reference *ref = NULL;
	wd_buf msg = WD_BUF_INIT;
	int rc, err;

	if ((rc = wd_repo__copy_commit(dst, ws->repo, tip)) != 0)
		return wd_error_wrap(rc, "copying the proposal into %s", where);
	if ((rc = wd_buf_printf(&msg, "warden: proposal from %s", ws->run_dir)) != 0)
		return rc;
	err = git_reference_create(&ref, dst, refname, tip, 0, msg.ptr);
	if (err == GIT_EEXISTS)
		rc = wd_error_set(WD_EEXISTS, "branch '%s' already exists in %s; not overwriting it",
		                  ws->branch, where);
	else if (err < 0)
		rc = wd_error_git(WD_EINFRA, where);
	git_reference_free(ref);
	wd_buf_free(&msg);
	return rc;
}

static int publish(wd_workspace *ws, git_repository *mirror, git_repository *source)
{
	wd_buf refname = WD_BUF_INIT;
	git_oid tip;
	int rc;

	if ((rc = wd_buf_printf(&refname, "refs/heads/%s", ws->branch)) != 0)
		goto out;
	if (git_reference_name_to_id(&tip, ws->repo, refname.ptr) < 0) {
		rc = wd_error_git(WD_EINFRA, "reading the work branch");
		goto out;
	}
	if ((rc = check_target(mirror, refname.ptr, ws->branch, "the mirror")) != 0 ||
	    (source && (rc = check_target(source, refname.ptr, ws->branch,
	                                  ws->source_path)) != 0))
		goto out;
	if (source && (rc = create_ref(source, ws, &tip, refname.ptr, ws->source_path)) != 0)
		goto out;
	rc = create_ref(mirror, ws, &tip, refname.ptr, "the mirror");
out:
	wd_buf_free(&refname);
	return rc;
}

int wd_repo_publish(wd_buf *out_repo, wd_workspace *ws)
{
	git_repository *mirror = NULL, *source = NULL;
	int lock = -1, rc;

	if ((rc = need_repo(ws)) != 0)
		return rc;
	if ((rc = wd_repo__lock(&lock, ws->mirror_path, ws->lock_timeout_ms)) != 0)
		return rc;
	if (git_repository_open_bare(&mirror, ws->mirror_path) < 0) {
		rc = wd_error_git(WD_EINFRA, "opening the mirror");
		goto out;
	}
	if (ws->source_path && git_repository_open_ext(&source, ws->source_path,
	                                               GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		rc = wd_error_git(WD_EINFRA, ws->source_path);
		goto out;
	}
	if ((rc = publish(ws, mirror, source)) != 0)
		goto out;
	rc = wd_buf_sets(out_repo, ws->source_path ? ws->source_path : ws->mirror_path);
out:
	git_repository_free(source);
	git_repository_free(mirror);
	wd_repo__unlock(lock);
	return rc;
}

int wd_workspace_remove(wd_workspace *ws)
{
	if (!ws || !ws->run_dir)
		return 0;
	git_repository_free(ws->repo);
	ws->repo = NULL;
	return wd_rm_rf(ws->run_dir);
}

void wd_workspace_free(wd_workspace *ws)
{
	if (!ws)
		return;
	git_repository_free(ws->repo);
	free(ws->run_dir);
	free(ws->git_dir);
	free(ws->checkout);
	free(ws->source);
	free(ws->source_path);
	free(ws->branch);
	free(ws->base_ref);
	free(ws->mirror_path);
	free(ws);
	git_libgit2_shutdown(); /* balances the init in wd_repo_prepare */
}
