/* Push a branch through libgit2 with credentials from the environment. */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/ledger.h"
#include "warden/review.h"

typedef struct push_state {
	const char *token;     /* never copied into a message */
	int attempts;
	int auth_failed;
	int no_token;
	const char *offered;   /* what the last credential was, for the message */
	wd_buf rejected;       /* "ref: reason" from the remote */
} push_state;

static const char *env_token(void)
{
	const char *t = getenv("WARDEN_GIT_TOKEN");

	if (t && *t)
		return t;
	t = getenv("GITHUB_TOKEN");
	return t && *t ? t : NULL;
}

static int credentials_cb(git_credential **out, const char *url, const char *username_from_url,
                          unsigned int allowed, void *payload)
{
	push_state *st = payload;

	(void)url;
	/* libgit2 asks again after a refused credential: once is enough. */
	if (++st->attempts > 1) {
		st->auth_failed = 1;
		return GIT_EUSER;
	}
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		if (!st->token) {
			st->no_token = 1;
			return GIT_EUSER;
		}
		st->offered = "the token from WARDEN_GIT_TOKEN/GITHUB_TOKEN was refused";
		return git_credential_userpass_plaintext_new(out, "x-access-token", st->token);
	}
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		st->offered = "no key of ssh-agent was accepted (is SSH_AUTH_SOCK set?)";
		return git_credential_ssh_key_from_agent(out, username_from_url ? username_from_url : "git");
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, username_from_url ? username_from_url : "git");
	return GIT_PASSTHROUGH;
}

static int update_cb(const char *refname, const char *status, void *payload)
{
	push_state *st = payload;

	if (status && wd_buf_printf(&st->rejected, "%s%s: %s", st->rejected.len ? "; " : "", refname,
	                            status))
		return -1;
	return 0;
}

/* A remote given by name, else by URL or path (anonymous, nothing saved). */
static int open_remote(git_remote **out, git_repository *repo, const char *spec)
{
	int err = git_remote_lookup(out, repo, spec);

	if (err == 0)
		return 0;
	if (err != GIT_ENOTFOUND && err != GIT_EINVALIDSPEC)
		return wd_error_git(WD_EINFRA, "looking up the remote");
	if (!strchr(spec, ':') && !strchr(spec, '/'))
		return wd_error_set(WD_ENOTFOUND, "no remote named '%s' (give a remote name, a URL or a path)",
		                    spec);
	if (git_remote_create_anonymous(out, repo, spec) < 0)
		return wd_error_git(WD_EUSAGE, "remote URL");
	return 0;
}

/* The remote's URL for a message: user info (which may hold a token) dropped. */
static int display_url(wd_buf *out, const char *url)
{
	const char *scheme = strstr(url, "://"), *at, *slash;

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

int wd_review_push(const char *repo_path, const char *branch, const char *remote_name_or_url)
{
	git_push_options po;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_reference *ref = NULL;
	push_state st;
	wd_buf spec = WD_BUF_INIT, url = WD_BUF_INIT;
	char *specs[1];
	git_strarray refspecs = { specs, 1 };
	int rc = 0, err;

	memset(&st, 0, sizeof(st));
	if (!branch || !*branch || !remote_name_or_url || !*remote_name_or_url)
		return wd_error_set(WD_EUSAGE, "push needs a branch and a remote");
	if (git_repository_open(&repo, repo_path) < 0)
		return wd_error_git(WD_ENOTFOUND, repo_path);
	if (git_branch_lookup(&ref, repo, branch, GIT_BRANCH_LOCAL) < 0) {
		rc = wd_error_set(WD_ENOTFOUND, "no branch '%s' in %s", branch, repo_path);
		goto out;
	}
	if ((rc = open_remote(&remote, repo, remote_name_or_url)) != 0 ||
	    (rc = wd_buf_printf(&spec, "refs/heads/%s:refs/heads/%s", branch, branch)) != 0)
		goto out;
	st.token = env_token();
	if (st.token)
		wd_redact_register(st.token);
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	po.callbacks.credentials = credentials_cb;
	po.callbacks.push_update_reference = update_cb;
	po.callbacks.payload = &st;
	specs[0] = spec.ptr;
	err = git_remote_push(remote, &refspecs, &po);
	if (err < 0) {
		if ((rc = display_url(&url, git_remote_url(remote))) != 0)
			goto out;
		if (err == GIT_ENONFASTFORWARD)
			rc = wd_error_set(WD_EREFUSED, "pushing '%s' to %s: not a fast-forward (the remote "
			                               "branch has commits this one lacks); nothing was pushed",
			                  branch, url.ptr);
		else if (st.no_token)
			rc = wd_error_set(WD_EUSAGE, "pushing to %s needs a token: set WARDEN_GIT_TOKEN or "
			                             "GITHUB_TOKEN", url.ptr);
		else if (st.auth_failed)
			rc = wd_error_set(WD_EINFRA, "pushing to %s: authentication failed (%s)",
			                  url.ptr, st.offered ? st.offered : "no credential was accepted");
		else if (st.rejected.len)
			rc = wd_error_set(WD_EREFUSED, "the remote refused the push: %s", st.rejected.ptr);
		else
			rc = push_error("pushing");
		goto out;
	}
	if (st.rejected.len)
		rc = wd_error_set(WD_EREFUSED, "the remote refused the push: %s (is it not a fast-forward?)",
		                  st.rejected.ptr);
out:
	wd_buf_free(&st.rejected);
	wd_buf_free(&spec);
	wd_buf_free(&url);
	git_reference_free(ref);
	git_remote_free(remote);
	git_repository_free(repo);
	return rc;
}
