/*
 * Pushing a checked commit. What goes out is the commit the checks passed,
 * named by its id, never "whatever the branch points at now": the push runs
 * from a scratch bare repository that shares the user's object database and
 * holds one ref, set to that commit. libgit2 1.5 pushes only from a ref, and
 * this way no ref of the user's repository is written, even for a moment.
 */
#include <stdlib.h>
#include <string.h>

#include <git2/sys/repository.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "warden/repo.h"

typedef struct push_state {
	unsigned cred;         /* wd_repo_cred_cb's payload */
	wd_buf rejected;       /* "ref: reason" from the remote */
} push_state;

static int cred_cb(git_credential **out, const char *url, const char *user, unsigned int allowed,
                   void *payload)
{
	return wd_repo_cred_cb(out, url, user, allowed, &((push_state *)payload)->cred);
}

static int update_cb(const char *refname, const char *status, void *payload)
{
	push_state *st = payload;

	if (status && wd_buf_printf(&st->rejected, "%s%s: %s", st->rejected.len ? "; " : "", refname,
	                            status))
		return -1;
	return 0;
}

/* The URL a remote spec stands for: a configured remote's push URL (else its
 * URL), else the spec itself when it looks like a URL or a path. */
static int resolve_url(char **out, git_repository *repo, const char *spec)
{
	git_remote *r = NULL;
	int err = git_remote_lookup(&r, repo, spec);

	*out = NULL;
	if (err == 0) {
		const char *u = git_remote_pushurl(r) ? git_remote_pushurl(r) : git_remote_url(r);

		*out = u ? wd_strdup(u) : NULL;
		git_remote_free(r);
		if (!u)
			return wd_error_set(WD_ENOTFOUND, "remote '%s' has no URL", spec);
		return *out ? 0 : WD_ENOMEM;
	}
	if (err != GIT_ENOTFOUND && err != GIT_EINVALIDSPEC)
		return wd_error_git(WD_EINFRA, "looking up the remote");
	if (!strchr(spec, ':') && !strchr(spec, '/'))
		return wd_error_set(WD_ENOTFOUND, "no remote named '%s' (give a remote name, a URL or a path)",
		                    spec);
	*out = wd_strdup(spec);
	return *out ? 0 : WD_ENOMEM;
}

int wd_repo_remote_url(char **out, const char *repo_path, const char *name)
{
	git_repository *repo = NULL;
	int rc = WD_ENOTFOUND;

	*out = NULL;
	if (git_repository_open(&repo, repo_path) == 0)
		rc = resolve_url(out, repo, name);
	git_repository_free(repo);
	if (rc == WD_ENOMEM)
		return rc;
	if (rc) {
		*out = wd_strdup(name);
		return *out ? 0 : WD_ENOMEM;
	}
	return 0;
}

/* The remote's URL for a message: user info (which may hold a token) dropped. */
static int display_url(wd_buf *out, const char *url)
{
	const char *scheme = url ? strstr(url, "://") : NULL, *at, *slash;

	if (!url)
		return wd_buf_sets(out, "the remote");
	if (!scheme)
		return wd_buf_sets(out, url);
	at = strchr(scheme + 3, '@');
	slash = strchr(scheme + 3, '/');
	if (!at || (slash && at > slash))
		return wd_buf_sets(out, url);
	wd_buf_clear(out);
	if (wd_buf_put(out, url, (size_t)(scheme + 3 - url)) || wd_buf_puts(out, at + 1))
		return WD_ENOMEM;
	return 0;
}

/* libgit2's message, with the token scrubbed in case a server echoed it. */
static int push_error(const char *what)
{
	const git_error *e = git_error_last();
	char *clean = wd_redact(e && e->message ? e->message : "unknown git error");
	int rc;

	rc = wd_error_set(WD_EINFRA, "%s: %s", what, clean ? clean : "(message withheld)");
	free(clean);
	return rc;
}

/* The local branch must still be at the commit being pushed. */
static int check_branch(git_repository *repo, const char *repo_path, const char *branch,
                        const git_oid *commit)
{
	git_reference *ref = NULL, *resolved = NULL;
	char now[GIT_OID_HEXSZ + 1], want[GIT_OID_HEXSZ + 1];
	int rc = 0;

	if (git_branch_lookup(&ref, repo, branch, GIT_BRANCH_LOCAL) < 0)
		return wd_error_set(WD_ENOTFOUND, "no branch '%s' in %s", branch, repo_path);
	if (git_reference_resolve(&resolved, ref) < 0) {
		rc = wd_error_git(WD_EINFRA, "resolving the branch");
		goto out;
	}
	if (!git_oid_equal(git_reference_target(resolved), commit)) {
		git_oid_tostr(now, sizeof(now), git_reference_target(resolved));
		git_oid_tostr(want, sizeof(want), commit);
		rc = wd_error_set(WD_ECONFLICT,
		                  "branch '%s' in %s moved to %.12s since its commit %.12s was checked; "
		                  "only the checked commit may be pushed: nothing was pushed",
		                  branch, repo_path, now, want);
	}
out:
	git_reference_free(resolved);
	git_reference_free(ref);
	return rc;
}

/* A bare repository under $TMPDIR whose object database is the user's and
 * whose only ref is refs/heads/<branch> = commit. */
static int scratch_open(git_repository **out, wd_buf *dir, git_repository *user,
                        const char *branch, const git_oid *commit)
{
	const char *tmp = getenv("TMPDIR");
	git_odb *odb = NULL;
	git_reference *ref = NULL;
	wd_buf refname = WD_BUF_INIT;
	int rc = 0;

	*out = NULL;
	if ((rc = wd_buf_printf(dir, "%s/warden-push-XXXXXX", tmp && *tmp ? tmp : "/tmp")) != 0 ||
	    (rc = wd_buf_printf(&refname, "refs/heads/%s", branch)) != 0)
		goto out;
	if (!mkdtemp(dir->ptr)) {
		rc = wd_error_errno(WD_EINFRA, "making a scratch repository for the push");
		wd_buf_clear(dir);
		goto out;
	}
	if (git_repository_init(out, dir->ptr, 1) < 0 || git_repository_odb(&odb, user) < 0 ||
	    git_repository_set_odb(*out, odb) < 0 ||
	    git_reference_create(&ref, *out, refname.ptr, commit, 1, NULL) < 0)
		rc = wd_error_git(WD_EINFRA, "preparing the push");
out:
	git_reference_free(ref);
	git_odb_free(odb);
	wd_buf_free(&refname);
	return rc;
}

static int push_failed(int err, const push_state *st, const char *branch, const char *url)
{
	wd_buf shown = WD_BUF_INIT;
	const char *var = NULL;
	int rc;

	if (display_url(&shown, url) != 0)
		return WD_ENOMEM;
	wd_repo_token(&var);
	if (err == GIT_ENONFASTFORWARD)
		rc = wd_error_set(WD_EREFUSED, "pushing '%s' to %s: not a fast-forward (the remote "
		                               "branch has commits this one lacks); nothing was pushed",
		                  branch, shown.ptr);
	else if (st->cred & WD_REPO_CRED_NO_TOKEN)
		rc = wd_error_set(WD_EUSAGE, "pushing to %s needs a token: set WARDEN_GIT_TOKEN or "
		                             "GITHUB_TOKEN", shown.ptr);
	else if (st->cred & WD_REPO_CRED_REFUSED)
		rc = wd_error_set(WD_EINFRA, "pushing to %s: authentication failed (%s)", shown.ptr,
		                  (st->cred & WD_REPO_CRED_TOKEN) && var
		                      ? (!strcmp(var, "WARDEN_GIT_TOKEN")
		                             ? "the token from WARDEN_GIT_TOKEN was refused"
		                             : "the token from GITHUB_TOKEN was refused")
		                      : "no key of ssh-agent was accepted (is SSH_AUTH_SOCK set?)");
	else if (st->rejected.len)
		rc = wd_error_set(WD_EREFUSED, "the remote refused the push: %s", st->rejected.ptr);
	else
		rc = push_error("pushing");
	wd_buf_free(&shown);
	return rc;
}

int wd_repo_push(const char *repo_path, const char *commit_hex, const char *branch,
                 const char *remote)
{
	git_push_options po;
	git_repository *repo = NULL, *scratch = NULL;
	git_remote *r = NULL;
	push_state st;
	wd_buf spec = WD_BUF_INIT, dir = WD_BUF_INIT;
	char *url = NULL, *specs[1];
	git_strarray refspecs = { specs, 1 };
	const char *token;
	git_oid commit;
	int rc, err;

	memset(&st, 0, sizeof(st));
	if (!branch || !*branch || !remote || !*remote || !commit_hex)
		return wd_error_set(WD_EUSAGE, "push needs a commit, a branch and a remote");
	if (git_oid_fromstr(&commit, commit_hex) < 0)
		return wd_error_set(WD_EUSAGE, "push: '%s' is not a commit id", commit_hex);
	if (git_repository_open(&repo, repo_path) < 0)
		return wd_error_git(WD_ENOTFOUND, repo_path);
	if ((rc = check_branch(repo, repo_path, branch, &commit)) != 0 ||
	    (rc = resolve_url(&url, repo, remote)) != 0 ||
	    (rc = wd_buf_printf(&spec, "refs/heads/%s:refs/heads/%s", branch, branch)) != 0 ||
	    (rc = scratch_open(&scratch, &dir, repo, branch, &commit)) != 0)
		goto out;
	if (git_remote_create_anonymous(&r, scratch, url) < 0) {
		rc = wd_error_git(WD_EUSAGE, "remote URL");
		goto out;
	}
	if ((token = wd_repo_token(NULL)) != NULL)
		wd_redact_register(token);
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	po.callbacks.credentials = cred_cb;
	po.callbacks.push_update_reference = update_cb;
	po.callbacks.payload = &st;
	specs[0] = spec.ptr;
	err = git_remote_push(r, &refspecs, &po);
	if (err < 0)
		rc = push_failed(err, &st, branch, url);
	else if (st.rejected.len)
		rc = wd_error_set(WD_EREFUSED, "the remote refused the push: %s (is it not a fast-forward?)",
		                  st.rejected.ptr);
out:
	git_remote_free(r);
	git_repository_free(scratch);
	if (dir.len)
		wd_rm_rf(dir.ptr);
	git_repository_free(repo);
	wd_buf_free(&st.rejected);
	wd_buf_free(&spec);
	wd_buf_free(&dir);
	free(url);
	return rc;
}
