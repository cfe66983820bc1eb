/*
 * wd_repo_prepare: from a source the user names to a work tree of warden's
 * own, checked out at the base on a fresh branch. The user's repository is
 * opened read-only here; every write goes to the mirror or the run's clone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/repo.h"
#include "repo_int.h"

/* The state of one prepare call, torn down in one place. */
struct prep {
	const wd_repo_opts *opts;
	wd_workspace *ws;
	git_repository *source;  /* local sources only, read-only */
	git_repository *mirror;
	char *cache;             /* absolute cache dir */
	char *default_ref;       /* the source's HEAD branch ("refs/heads/main") or NULL */
	int made_workdir;        /* this call created ws->workdir: remove it on failure */
	int lock;
};

static int check_opts(const wd_repo_opts *o)
{
	int valid = 0;

	if (!o || o->version != WD_REPO_OPTS_VERSION)
		return wd_error_set(WD_EUSAGE, "repo: bad options version");
	if (!o->source || !*o->source)
		return wd_error_set(WD_EUSAGE, "repo: no source repository given");
	if (!o->cache_dir || !*o->cache_dir)
		return wd_error_set(WD_EUSAGE, "repo: no cache directory given");
	if (!o->run_id || !*o->run_id || strspn(o->run_id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(o->run_id) ||
	    o->run_id[0] == '.')
		return wd_error_set(WD_EUSAGE, "repo: run id '%s' must be letters, digits, '.', "
		                    "'_' or '-' (not starting with '.')", o->run_id ? o->run_id : "");
	if (!o->branch || git_branch_name_is_valid(&valid, o->branch) < 0 || !valid)
		return wd_error_set(WD_EUSAGE, "repo: '%s' is not a valid branch name",
		                    o->branch ? o->branch : "");
	return 0;
}

static int open_source(struct prep *p)
{
	wd_workspace *ws = p->ws;

	if (!(ws->source_path = wd_realpath(p->opts->source)))
		return wd_error_set(WD_EINPUT, "%s: no such repository (path does not exist)",
		                    p->opts->source);
	if (git_repository_open_ext(&p->source, ws->source_path, GIT_REPOSITORY_OPEN_NO_SEARCH,
	                            NULL) < 0) {
		const git_error *e = git_error_last();

		return wd_error_set(WD_EINPUT, "%s: not a git repository (give the top of a work "
		                    "tree or a bare repository): %s", p->opts->source,
		                    e && e->message ? e->message : "");
	}
	return 0;
}

/* Resolve `base` (NULL = HEAD) in `repo` to a commit; fill ws->base and base_ref. */
static int resolve_base(struct prep *p, git_repository *repo, const char *where)
{
	wd_workspace *ws = p->ws;
	const char *base = p->opts->base;
	git_object *obj = NULL, *commit = NULL;
	git_reference *ref = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int rc = 0, err;

	if (!base) {
		err = git_repository_head(&ref, repo);
		if (err == GIT_EUNBORNBRANCH || err == GIT_ENOTFOUND)
			return wd_error_set(WD_EINPUT, "%s has no commits yet", where);
		if (err < 0 || git_reference_peel(&commit, ref, GIT_OBJECT_COMMIT) < 0) {
			rc = wd_error_git(WD_EINFRA, "reading HEAD");
			goto out;
		}
		git_oid_tostr(hex, sizeof(hex), git_object_id(commit));
		ws->base_ref = wd_strdup(git_reference_is_branch(ref) ?
		                         git_reference_shorthand(ref) : hex);
	} else {
		if (git_revparse_ext(&obj, &ref, repo, base) < 0) {
			const git_error *e = git_error_last();

			rc = wd_error_set(WD_EINPUT, "no such base '%s' in %s: not a branch, tag or "
			                  "commit (%s)", base, where, e && e->message ? e->message : "");
			goto out;
		}
		if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
			rc = wd_error_set(WD_EINPUT, "base '%s' in %s does not name a commit", base, where);
			goto out;
		}
		ws->base_ref = wd_strdup(base);
	}
	if (!ws->base_ref)
		rc = WD_ENOMEM;
	else
		git_oid_cpy(&ws->base, git_object_id(commit));
out:
	git_object_free(commit);
	git_object_free(obj);
	git_reference_free(ref);
	return rc;
}

/* The work branch must be new wherever wd_repo_publish() will create it. */
static int check_branch_free(git_repository *repo, const char *branch, const char *where)
{
	git_reference *ref = NULL;
	wd_buf name = WD_BUF_INIT;
	int rc = wd_buf_printf(&name, "refs/heads/%s", branch);

	if (rc)
		return rc;
	if (git_reference_lookup(&ref, repo, name.ptr) == 0)
		rc = wd_error_set(WD_EEXISTS, "branch '%s' already exists in %s", branch, where);
	git_reference_free(ref);
	wd_buf_free(&name);
	return rc;
}

/* Local source: copy into the mirror, then make sure it holds the base
 * (which may be a detached HEAD or a remote-tracking branch of the user's). */
static int update_from_local(struct prep *p)
{
	git_reference *head = NULL;
	int rc;

	if ((rc = wd_repo__mirror_update_local(&p->mirror, p->ws->mirror_path, p->source)) != 0)
		return rc;
	if ((rc = wd_repo__copy_commit(p->mirror, p->source, &p->ws->base)) != 0)
		return wd_error_wrap(rc, "copying the base into the mirror");
	if (git_reference_lookup(&head, p->source, "HEAD") == 0 &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    !(p->default_ref = wd_strdup(git_reference_symbolic_target(head))))
		rc = WD_ENOMEM;
	git_reference_free(head);
	return rc;
}

/* Point the mirror's HEAD where a clone should start: the source's HEAD
 * branch when the mirror has it, else the base commit (detached). */
static int set_mirror_head(struct prep *p)
{
	git_reference *ref = NULL;

	if (p->default_ref && git_reference_lookup(&ref, p->mirror, p->default_ref) == 0) {
		git_reference_free(ref);
		if (git_repository_set_head(p->mirror, p->default_ref) == 0)
			return 0;
	}
	if (git_repository_set_head_detached(p->mirror, &p->ws->base) < 0)
		return wd_error_git(WD_EINFRA, "setting the mirror's HEAD");
	return 0;
}

/* runs/<run-id>/git: a repository of the run's own (refs, index, the
 * objects it writes), borrowing the mirror's objects through alternates. It
 * is initialised bare, then marked non-bare without a core.worktree, so that
 * git run by a check inside the tree (through the base checkout's ".git"
 * file) sees that tree as its work tree, while warden opens it bare. */
static int make_run_repo(struct prep *p)
{
	wd_workspace *ws = p->ws;
	git_repository_init_options io;
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	wd_buf path = WD_BUF_INIT, alt = WD_BUF_INIT;
	int rc = 0;

	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
	           GIT_REPOSITORY_INIT_NO_REINIT;
	io.initial_head = p->opts->branch;
	if (git_repository_init_ext(&repo, ws->git_dir, &io) < 0 ||
	    git_repository_config(&cfg, repo) < 0 ||
	    git_config_set_bool(cfg, "core.bare", 0) < 0) {
		rc = wd_error_git(WD_EINFRA, "creating the run's repository");
		goto out;
	}
	if ((rc = wd_buf_printf(&path, "%s/objects/info/alternates", ws->git_dir)) != 0 ||
	    (rc = wd_buf_printf(&alt, "%s/objects\n", ws->mirror_path)) != 0 ||
	    (rc = wd_file_write_atomic(path.ptr, alt.ptr, alt.len, 0644)) != 0)
		goto out;
	if (git_repository_open_ext(&ws->repo, ws->git_dir,
	                            GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
	                            NULL) < 0)
		rc = wd_error_git(WD_EINFRA, "opening the run's repository");
out:
	git_config_free(cfg);
	git_repository_free(repo);
	wd_buf_free(&path);
	wd_buf_free(&alt);
	return rc;
}

static int clone_work(struct prep *p)
{
	wd_workspace *ws = p->ws;
	wd_buf path = WD_BUF_INIT;
	int rc;

	if ((rc = wd_buf_printf(&path, "%s/runs/%s", p->cache, p->opts->run_id)) != 0 ||
	    !(ws->run_dir = wd_strdup(path.ptr)) ||
	    (rc = wd_buf_puts(&path, "/git")) != 0 || !(ws->git_dir = wd_strdup(path.ptr))) {
		rc = rc ? rc : WD_ENOMEM;
		goto out;
	}
	wd_buf_clear(&path);
	if ((rc = wd_buf_printf(&path, "%s/base", ws->run_dir)) != 0 ||
	    !(ws->checkout = wd_strdup(path.ptr))) {
		rc = rc ? rc : WD_ENOMEM;
		goto out;
	}
	if ((rc = wd_mkdir_p(p->cache, 1)) != 0)
		goto out;
	wd_buf_clear(&path);
	if ((rc = wd_buf_printf(&path, "%s/runs", p->cache)) != 0 || (rc = wd_mkdir_p(path.ptr, 1)) != 0)
		goto out;
	if (mkdir(ws->run_dir, 0700) < 0) {
		rc = errno == EEXIST
		     ? wd_error_set(WD_EEXISTS, "run directory %s already exists (run id reused?)",
		                    ws->run_dir)
		     : wd_error_errno(WD_EINFRA, ws->run_dir);
		goto out;
	}
	p->made_workdir = 1;
	rc = make_run_repo(p);
out:
	wd_buf_free(&path);
	return rc;
}

/* The work branch at the base, HEAD on it, the index at the base tree, and
 * the base's files in runs/<run-id>/base with a ".git" file to the run's
 * repository. */
int wd_repo__checkout_branch(wd_workspace *ws, int force)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_reference *ref = NULL;
	git_index *index = NULL;
	wd_buf path = WD_BUF_INIT, link = WD_BUF_INIT;
	int rc = 0;

	if (git_commit_lookup(&commit, ws->repo, &ws->base) < 0 ||
	    git_commit_tree(&tree, commit) < 0 ||
	    git_branch_create(&ref, ws->repo, ws->branch, commit, force) < 0 ||
	    git_repository_set_head(ws->repo, git_reference_name(ref)) < 0) {
		rc = wd_error_git(WD_EINFRA, "creating the work branch");
		goto out;
	}
	/* the checkout first: it names what is wrong with a hostile tree */
	if ((rc = wd_repo__checkout(ws->repo, &ws->base, ws->checkout)) != 0)
		goto out;
	if ((rc = wd_buf_printf(&path, "%s/index", ws->git_dir)) != 0)
		goto out;
	if (git_index_open(&index, path.ptr) < 0 || git_index_read_tree(index, tree) < 0 ||
	    git_index_write(index) < 0) {
		rc = wd_error_git(WD_EINFRA, "writing the run's index");
		goto out;
	}
	wd_buf_clear(&path);
	if ((rc = wd_buf_printf(&path, "%s/.git", ws->checkout)) != 0 ||
	    (rc = wd_buf_printf(&link, "gitdir: %s\n", ws->git_dir)) != 0)
		goto out;
	rc = wd_file_write_atomic(path.ptr, link.ptr, link.len, 0644);
out:
	wd_buf_free(&path);
	wd_buf_free(&link);
	git_index_free(index);
	git_reference_free(ref);
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

/* Everything that needs the mirror, under its lock. */
static int with_mirror(struct prep *p)
{
	wd_workspace *ws = p->ws;
	int rc;

	if (p->source) {
		rc = update_from_local(p);
	} else {
		rc = wd_repo__mirror_update(&p->mirror, ws->mirror_path, ws->source, &p->default_ref);
		if (!rc && !p->opts->base && !p->default_ref) {
			rc = wd_error_set(WD_EINPUT, "%s has no default branch (is it empty?); "
			                  "name a base", ws->source);
		} else if (!rc && !p->opts->base) {
			/* the remote's default branch, by its branch name */
			const char *name = p->default_ref + strlen("refs/heads/");

			if (strncmp(p->default_ref, "refs/heads/", 11) != 0)
				name = p->default_ref;
			if (!(ws->base_ref = wd_strdup(name)))
				rc = WD_ENOMEM;
			else if (git_reference_name_to_id(&ws->base, p->mirror, p->default_ref) < 0)
				rc = wd_error_git(WD_EINFRA, "resolving the default branch");
		} else if (!rc) {
			rc = resolve_base(p, p->mirror, ws->source);
		}
	}
	if (!rc)
		rc = check_branch_free(p->mirror, ws->branch, "the mirror");
	if (!rc)
		rc = set_mirror_head(p);
	if (!rc)
		rc = clone_work(p);
	return rc;
}

static int prepare(struct prep *p)
{
	const wd_repo_opts *o = p->opts;
	wd_workspace *ws = p->ws;
	wd_buf mirror = WD_BUF_INIT;
	int rc;

	if (!(ws->source = wd_strdup(o->source)) || !(ws->branch = wd_strdup(o->branch)))
		return WD_ENOMEM;
	if ((rc = wd_mkdir_p(o->cache_dir, 1)) != 0)
		return rc;
	if (!(p->cache = wd_realpath(o->cache_dir)))
		return WD_EINFRA;
	if (!wd_repo__is_url(o->source)) {
		if ((rc = open_source(p)) != 0 ||
		    (rc = resolve_base(p, p->source, ws->source_path)) != 0 ||
		    (rc = check_branch_free(p->source, o->branch, ws->source_path)) != 0)
			return rc;
	}
	if ((rc = wd_repo_mirror_path(&mirror, p->cache, o->source)) != 0)
		goto out;
	if (!(ws->mirror_path = wd_buf_detach(&mirror))) {
		rc = WD_ENOMEM;
		goto out;
	}
	if ((rc = wd_repo__lock(&p->lock, ws->mirror_path, o->lock_timeout_ms)) != 0)
		goto out;
	rc = with_mirror(p);
	wd_repo__unlock(p->lock);
	p->lock = -1;
	if (!rc)
		rc = wd_repo__checkout_branch(ws, 0);
out:
	wd_buf_free(&mirror);
	return rc;
}

int wd_repo_prepare(wd_workspace **out, const wd_repo_opts *opts)
{
	struct prep p = { opts, NULL, NULL, NULL, NULL, NULL, 0, -1 };
	int rc;

	*out = NULL;
	if ((rc = check_opts(opts)) != 0)
		return rc;
	git_libgit2_init(); /* balanced in wd_workspace_free */
	if (!(p.ws = calloc(1, sizeof(*p.ws)))) {
		git_libgit2_shutdown();
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	p.ws->lock_timeout_ms = opts->lock_timeout_ms;
	rc = prepare(&p);
	git_repository_free(p.source);
	git_repository_free(p.mirror);
	free(p.cache);
	free(p.default_ref);
	if (rc) {
		/* leave no half-made work tree behind for a run that never started */
		if (p.made_workdir) {
			git_repository_free(p.ws->repo);
			p.ws->repo = NULL;
			wd_rm_rf(p.ws->run_dir); /* best effort; the first error is the one to report */
		}
		wd_workspace_free(p.ws);
		return rc;
	}
	*out = p.ws;
	return 0;
}
