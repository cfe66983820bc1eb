/* Pull requests through the GitHub REST API, with the project's HTTP client. */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/error.h"
#include "warden/http.h"
#include "warden/ledger.h"
#include "warden/pull_request.h"

#include "review_int.h"

#ifndef WARDEN_VERSION
#define WARDEN_VERSION "0.1.0"
#endif

#define GITHUB_API_DEFAULT "https://api.github.com"
#define PR_REPLY_MAX (4u << 20)

/* Owner and repository names go into a URL path: GitHub's own alphabet only. */
static int name_is_safe(const char *s)
{
	if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 100)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* GitHub's "message" and the first validation error, for a 4xx message. */
static int github_reason(wd_buf *out, const wd_buf *body)
{
	json_t *o = json_loadb(wd_buf_cstr(body), body->len, 0, NULL);
	const json_t *msg, *errs, *e0;
	char *clean;
	int rc = 0;

	if (!json_is_object(o)) {
		json_decref(o);
		return wd_buf_puts(out, body->len ? "(reply is not JSON)" : "(empty reply)");
	}
	msg = json_object_get(o, "message");
	rc |= wd_buf_puts(out, json_is_string(msg) ? json_string_value(msg) : "(no message)");
	errs = json_object_get(o, "errors");
	e0 = json_is_array(errs) ? json_array_get(errs, 0) : NULL;
	if (json_is_object(e0)) {
		const json_t *m = json_object_get(e0, "message"), *code = json_object_get(e0, "code"),
		             *field = json_object_get(e0, "field");

		if (json_is_string(m))
			rc |= wd_buf_printf(out, ": %s", json_string_value(m));
		else if (json_is_string(code))
			rc |= wd_buf_printf(out, ": %s%s%s", json_is_string(field) ? json_string_value(field) : "",
			                    json_is_string(field) ? " " : "", json_string_value(code));
	}
	json_decref(o);
	if (rc)
		return WD_ENOMEM;
	if (out->len > 400)
		wd_buf_truncate(out, 400);
	clean = wd_redact(out->ptr);
	if (!clean)
		return WD_ENOMEM;
	rc = wd_buf_sets(out, clean);
	free(clean);
	return rc;
}

static int status_error(long status, const wd_buf *body, const char *owner, const char *repo,
                        const char *token_var)
{
	wd_buf why = WD_BUF_INIT;
	int rc;

	if (github_reason(&why, body) != 0) {
		wd_buf_free(&why);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	switch (status) {
	case 401:
		rc = wd_error_set(WD_EREFUSED, "GitHub refused the token (401 %s): check %s",
		                  why.ptr, token_var);
		break;
	case 403:
		rc = wd_error_set(WD_EREFUSED, "GitHub denied the pull request (403 %s): the token may lack "
		                               "pull-request write access to %s/%s, or a rate limit was hit",
		                  why.ptr, owner, repo);
		break;
	case 404:
		rc = wd_error_set(WD_ENOTFOUND, "GitHub has no repository %s/%s that this token can see (404)",
		                  owner, repo);
		break;
	case 422:
		rc = wd_error_set(WD_EREFUSED, "GitHub could not create the pull request (422 %s)", why.ptr);
		break;
	default:
		rc = wd_error_set(WD_EINFRA, "GitHub API answered HTTP %ld: %s", status, why.ptr);
	}
	wd_buf_free(&why);
	return rc;
}

static int pr_url_from(char **out, const wd_buf *body)
{
	json_t *o = json_loadb(wd_buf_cstr(body), body->len, 0, NULL);
	const json_t *u = json_object_get(o, "html_url");
	int rc = 0;

	if (!json_is_string(u))
		rc = wd_error_set(WD_EINFRA, "GitHub created the pull request but its reply has no html_url");
	else if (!(*out = wd_strdup(json_string_value(u))))
		rc = WD_ENOMEM;
	json_decref(o);
	return rc;
}

int wd_review_open_pr(char **out_url, const wd_pr_opts *o)
{
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	wd_buf url = WD_BUF_INIT, auth = WD_BUF_INIT, ua = WD_BUF_INIT;
	const char *api, *token, *token_var = "the token given", *headers[6];
	json_t *payload = NULL;
	char *body = NULL;
	size_t alen;
	int rc;

	*out_url = NULL;
	api = o->api_url && *o->api_url ? o->api_url : getenv("GITHUB_API_URL");
	if (!api || !*api)
		api = GITHUB_API_DEFAULT;
	/* the same token, in the same order, as git over HTTPS */
	token = o->token && *o->token ? o->token : wd_repo_token(&token_var);
	if (!token || !*token)
		return wd_error_set(WD_EUSAGE, "opening a pull request needs a token: set "
		                               "WARDEN_GIT_TOKEN or GITHUB_TOKEN");
	if (!wd_repo_token_may_go_to(api))
		return wd_error_set(WD_EUSAGE, "%s: the GitHub API is reached over https (plain "
		                    "http only on this machine): not sending the token there", api);
	if (!name_is_safe(o->owner) || !name_is_safe(o->repo))
		return wd_error_set(WD_EUSAGE, "'%s/%s' is not a GitHub owner/repository",
		                    o->owner ? o->owner : "", o->repo ? o->repo : "");
	if (!o->head || !*o->head || !o->base || !*o->base || !o->title || !*o->title)
		return wd_error_set(WD_EUSAGE, "a pull request needs a head branch, a base branch and a title");
	wd_redact_register(token);
	alen = strlen(api);
	while (alen && api[alen - 1] == '/')
		alen--;
	payload = json_pack("{s:s, s:s, s:s, s:s, s:b}", "title", o->title, "head", o->head, "base",
	                    o->base, "body", o->body ? o->body : "", "draft", o->draft);
	body = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
	if (!body || wd_buf_printf(&url, "%.*s/repos/%s/%s/pulls", (int)alen, api, o->owner, o->repo) ||
	    wd_buf_printf(&auth, "Authorization: Bearer %s", token) ||
	    wd_buf_printf(&ua, "User-Agent: warden/%s", WARDEN_VERSION)) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	headers[0] = auth.ptr;
	headers[1] = "Accept: application/vnd.github+json";
	headers[2] = "X-GitHub-Api-Version: 2022-11-28";
	headers[3] = "Content-Type: application/json";
	headers[4] = ua.ptr;
	headers[5] = NULL;
	req.method = "POST";
	req.url = url.ptr;
	req.headers = headers;
	req.body = body;
	req.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	req.max_body = PR_REPLY_MAX;
	if ((rc = wd_http_perform(&res, &req)) != 0) {
		wd_error_wrap(rc, "opening a pull request at %s", url.ptr);
		goto out;
	}
	if (res.status == 201 || res.status == 200)
		rc = pr_url_from(out_url, &res.body);
	else
		rc = status_error(res.status, &res.body, o->owner, o->repo, token_var);
out:
	wd_http_response_free(&res);
	free(body);
	json_decref(payload);
	wd_buf_free(&url);
	wd_buf_free(&auth);
	wd_buf_free(&ua);
	return rc;
}

/* The commit's summary: its message between the subject and the ticket
 * reference or the trailers. Nothing when the commit cannot be read. */
static void commit_summary(wd_buf *out, const wd_proposal *p)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_oid oid;
	const char *msg, *s;

	if (!p->repo || git_oid_fromstr(&oid, p->commit) != 0 ||
	    git_repository_open(&repo, p->repo) != 0 || git_commit_lookup(&c, repo, &oid) != 0)
		goto out;
	msg = git_commit_message(c);
	s = strstr(msg, "\n\n");
	while (s && *s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		if (!strncmp(s, "Ticket: ", 8) || !strncmp(s, "Warden-", 7))
			break;
		wd_buf_put(out, s, len);
		wd_buf_putc(out, '\n');
		s = nl ? nl + 1 : s + len;
	}
	wd_buf_rtrim(out);
	while (out->len && out->ptr[0] == '\n')
		memmove(out->ptr, out->ptr + 1, out->len--);
out:
	git_error_clear();
	git_commit_free(c);
	git_repository_free(repo);
}

/* "test=pass 12/12; build=pass" as a table. */
static int checks_table(wd_buf *out, const char *checks)
{
	const char *s = checks;
	int rc = wd_buf_puts(out, "| Check | Result |\n|---|---|\n");

	while (!rc && s && *s) {
		const char *semi = strchr(s, ';'), *eq;
		size_t len = semi ? (size_t)(semi - s) : strlen(s);

		while (len && *s == ' ') {
			s++;
			len--;
		}
		eq = memchr(s, '=', len);
		if (len && eq)
			rc = wd_buf_printf(out, "| %.*s | %.*s |\n", (int)(eq - s), s,
			                   (int)(len - (size_t)(eq - s) - 1), eq + 1);
		else if (len)
			rc = wd_buf_printf(out, "| %.*s | |\n", (int)len, s);
		s = semi ? semi + 1 : NULL;
	}
	return rc ? rc : wd_buf_putc(out, '\n');
}

int wd_review_pr_body(wd_buf *out, const wd_proposal *p, const char *ticket_body)
{
	wd_buf summary = WD_BUF_INIT;
	int rc = 0;

	rc |= wd_buf_printf(out, "## %s\n\n", p->ticket_title ? p->ticket_title : p->branch);
	commit_summary(&summary, p);
	if (summary.len)
		rc |= wd_buf_printf(out, "%s\n\n", summary.ptr);
	if (ticket_body && *ticket_body)
		rc |= wd_buf_printf(out, "### Ticket\n\n%s%s\n", ticket_body,
		                    ticket_body[strlen(ticket_body) - 1] == '\n' ? "" : "\n");
	rc |= wd_buf_puts(out, "### Checks\n\n");
	if (p->checks && *p->checks)
		rc |= checks_table(out, p->checks);
	else
		rc |= wd_buf_puts(out, "(none recorded)\n\n");
	if (p->evidence && *p->evidence)
		rc |= wd_buf_printf(out, "The checks' full evidence is the git note on the commit: "
		                         "`git notes --ref=%s show %s`.\n\n", strrchr(WD_NOTES_REF, '/') + 1,
		                    p->commit);
	rc |= wd_buf_printf(out, "### Run\n\n| | |\n|---|---|\n| Run | `%s` |\n| Model | `%s` |\n"
	                         "| Rounds | %d |\n| Tokens | %lld in / %lld out |\n| Cost | $%.4f |\n"
	                         "| Base | `%s` |\n| Commit | `%s` |\n\n",
	                    p->id, p->model ? p->model : "?", p->rounds, (long long)p->input_tokens,
	                    (long long)p->output_tokens, p->cost_usd, p->base, p->commit);
	rc |= wd_buf_puts(out, "Proposed by warden: every check above passed on the base commit named "
	                       "here before this pull request was opened.\n");
	wd_buf_free(&summary);
	return rc ? WD_ENOMEM : 0;
}

int wd_review_github_repo(char **owner, char **repo, const char *url)
{
	const char *path, *slash, *end;
	size_t len;

	*owner = *repo = NULL;
	if (!url)
		return wd_error_set(WD_EINPUT, "no remote URL");
	path = strstr(url, "://");
	if (path) {
		path = strchr(path + 3, '/'); /* after the host */
	} else {
		path = strchr(url, ':');      /* scp-like git@host:owner/repo */
		if (path && strchr(url, '/') && strchr(url, '/') < path)
			path = NULL;
	}
	if (!path)
		return wd_error_set(WD_EINPUT, "'%s' is not a GitHub remote URL", url);
	path++;
	len = strlen(path);
	while (len && path[len - 1] == '/')
		len--;
	if (len > 4 && !strncmp(path + len - 4, ".git", 4))
		len -= 4;
	end = path + len;
	slash = NULL;
	for (const char *c = path; c < end; c++)
		if (*c == '/')
			slash = c;
	if (!slash) {
		return wd_error_set(WD_EINPUT, "'%s' does not name OWNER/REPO", url);
	}
	/* the owner is the component just before the last one */
	{
		const char *start = slash;

		while (start > path && start[-1] != '/')
			start--;
		*owner = wd_strndup(start, (size_t)(slash - start));
		*repo = wd_strndup(slash + 1, (size_t)(end - slash - 1));
	}
	if (!*owner || !*repo || !name_is_safe(*owner) || !name_is_safe(*repo)) {
		free(*owner);
		free(*repo);
		*owner = *repo = NULL;
		return wd_error_set(WD_EINPUT, "'%s' does not name OWNER/REPO", url);
	}
	return 0;
}

int wd_review_open_pr_for(char **out_url, const char *cache_dir, const char *id, const char *remote,
                          const char *ticket_body, const wd_pr_opts *opts)
{
	wd_pr_opts o = WD_PR_OPTS_INIT;
	wd_proposal *p = NULL;
	wd_buf body = WD_BUF_INIT;
	char *url = NULL, *owner = NULL, *repo = NULL;
	const char *base;
	int rc;

	*out_url = NULL;
	if ((!opts || !opts->owner || !opts->repo) && (!remote || !*remote))
		return wd_error_set(WD_EUSAGE, "a pull request needs the remote the branch was pushed to, "
		                               "or the GitHub owner/repository");
	if ((rc = wd_proposal_load(&p, cache_dir, id)) != 0)
		goto out;
	if (opts && opts->owner && opts->repo) {
		owner = wd_strdup(opts->owner);
		repo = wd_strdup(opts->repo);
		if (!owner || !repo) {
			rc = WD_ENOMEM;
			goto out;
		}
	} else if ((rc = wd_repo_remote_url(&url, p->repo, remote)) != 0 ||
	           (rc = wd_review_github_repo(&owner, &repo, url)) != 0) {
		goto out;
	}
	if ((rc = wd_review_pr_body(&body, p, ticket_body)) != 0)
		goto out;
	base = strncmp(p->target, "refs/heads/", 11) == 0 ? p->target + 11 : p->target;
	if (opts) {
		o.api_url = opts->api_url;
		o.token = opts->token;
		o.draft = opts->draft;
		o.timeout_ms = opts->timeout_ms;
	}
	o.owner = owner;
	o.repo = repo;
	o.head = p->branch;
	o.base = base;
	o.title = p->ticket_title && *p->ticket_title ? p->ticket_title : p->branch;
	o.body = body.ptr;
	if ((rc = wd_review_open_pr(out_url, &o)) != 0)
		goto out;
	free(p->pr_url);
	p->pr_url = wd_strdup(*out_url);
	if (!p->pr_url || wd_proposal_save(p, cache_dir) != 0) {
		/* the PR exists: say so rather than fail and invite a duplicate */
		rc = 0;
		goto out;
	}
	wd_review_ledger_event(p, "review.pr", json_pack("{s:s, s:s, s:s}", "url", *out_url, "head",
	                                                  p->branch, "base", base));
out:
	free(url);
	free(owner);
	free(repo);
	wd_buf_free(&body);
	wd_proposal_free(p);
	return rc;
}
