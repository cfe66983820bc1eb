#ifndef WARDEN_PULL_REQUEST_H
#define WARDEN_PULL_REQUEST_H

/*
 * Pull requests on GitHub for a proposal: the request, its body, and the
 * owner/repo of a remote URL.
 *
 * Owns the GitHub API call (through the one HTTP client). Never pushes the
 * branch (review_push.h) and never decides whether to open one
 * (review_policy.h).
 */
#include "warden/buf.h"
#include "warden/proposal.h"

typedef struct wd_pr_opts {
	unsigned version;
	const char *api_url;   /* NULL = $GITHUB_API_URL, else https://api.github.com */
	const char *token;     /* NULL = wd_repo_token(): $WARDEN_GIT_TOKEN, else $GITHUB_TOKEN */
	const char *owner;     /* the repository on GitHub */
	const char *repo;
	const char *head;      /* the branch with the change ("branch" or "owner:branch") */
	const char *base;      /* the branch to merge into */
	const char *title;
	const char *body;      /* Markdown; may be NULL */
	int draft;
	long timeout_ms;       /* 0 = 30 s */
} wd_pr_opts;

#define WD_PR_OPTS_VERSION 1
#define WD_PR_OPTS_INIT { .version = WD_PR_OPTS_VERSION }

/*
 * Open a pull request: POST {api}/repos/{owner}/{repo}/pulls with a JSON
 * {title, head, base, body, draft}. `out_url` receives the PR's html_url.
 * Errors: WD_EUSAGE (no token, missing field), WD_EREFUSED (401 bad token,
 * 403 no permission or rate limit, 422 validation: the message carries
 * GitHub's reason, e.g. "a pull request already exists"), WD_EINFRA (network,
 * 5xx, a reply without html_url).
 */
int wd_review_open_pr(char **out_url, const wd_pr_opts *opts);

/* The PR body for a proposal: the ticket's title, the commit's summary (its
 * message between the subject and the ticket reference, read from p->repo),
 * `ticket_body` (may be NULL), the checks as a table, where the evidence is
 * (the git note: raw JSON stays there), the model, rounds, tokens and cost. */
int wd_review_pr_body(wd_buf *out, const wd_proposal *p, const char *ticket_body);

/*
 * Open a pull request for stored proposal `id`: head = its branch (already
 * pushed to `remote`), base = its target, title = the ticket's title, body =
 * wd_review_pr_body(). owner/repo come from `opts` when set, else from the
 * remote's URL (`remote` is a remote name of the proposal's repository, or a
 * URL). api_url, token and draft are taken from `opts` (may be NULL; its
 * head, base, title and body are ignored). The PR's URL is kept in the
 * record (pr_url) and the run's ledger ("review.pr"). Errors as
 * wd_review_open_pr, plus WD_EINPUT when owner/repo cannot be found.
 */
int wd_review_open_pr_for(char **out_url, const char *cache_dir, const char *id, const char *remote,
                          const char *ticket_body, const wd_pr_opts *opts);

/* owner and repo of a GitHub remote URL: https://host/OWNER/REPO(.git),
 * ssh://git@host/OWNER/REPO(.git) or git@host:OWNER/REPO(.git).
 * WD_EINPUT when the URL has no such shape. */
int wd_review_github_repo(char **owner, char **repo, const char *url);

#endif
