/*
 * The one source of credentials for git over the network and for the
 * GitHub API: a token from the environment over HTTPS, ssh-agent over SSH.
 * Fetching the mirror, pushing a proposal and opening a pull request all
 * come here, so they can never disagree on which token wins.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "warden/repo.h"

const char *wd_repo_token(const char **var)
{
	static const char *const vars[] = { "WARDEN_GIT_TOKEN", "GITHUB_TOKEN" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *t = getenv(vars[i]);

		if (t && *t) {
			if (var)
				*var = vars[i];
			return t;
		}
	}
	if (var)
		*var = NULL;
	return NULL;
}

int wd_repo_token_may_go_to(const char *url)
{
	struct in_addr v4;
	char host[64];
	size_t n;

	if (!url)
		return 0;
	if (!strncasecmp(url, "https://", 8))
		return 1;
	if (strncasecmp(url, "http://", 7))
		return 0;
	url += 7;
	/* the host is what follows the last '@' of the authority */
	for (const char *end = url + strcspn(url, "/?#"), *at = url; at < end; at++)
		if (*at == '@')
			url = at + 1;
	if (url[0] == '[')
		n = strcspn(url, "]") + 1;
	else
		n = strcspn(url, ":/?#");
	if (n == 0 || n >= sizeof(host))
		return 0;
	memcpy(host, url, n);
	host[n] = '\0';
	if (!strcasecmp(host, "localhost") || !strcmp(host, "[::1]"))
		return 1;
	return inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

/* Each method is offered once: libgit2 asks again after a refused
 * credential, and a second offer of the same one would loop. */
int wd_repo_cred_cb(git_credential **out, const char *url, const char *username_from_url,
                    unsigned int allowed_types, void *payload)
{
	unsigned *st = payload;
	const char *user = username_from_url && *username_from_url ? username_from_url : "git";
	const char *token;

	if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) &&
	    wd_repo_token_may_go_to(url)) {
		if (*st & WD_REPO_CRED_TOKEN) {
			*st |= WD_REPO_CRED_REFUSED;
			return GIT_PASSTHROUGH;
		}
		*st |= WD_REPO_CRED_TOKEN;
		if (!(token = wd_repo_token(NULL))) {
			*st |= WD_REPO_CRED_NO_TOKEN;
			return GIT_PASSTHROUGH;
		}
		return git_credential_userpass_plaintext_new(out, "x-access-token", token);
	}
	if (allowed_types & GIT_CREDENTIAL_SSH_KEY) {
		if (*st & WD_REPO_CRED_SSH) {
			*st |= WD_REPO_CRED_REFUSED;
			return GIT_PASSTHROUGH;
		}
		*st |= WD_REPO_CRED_SSH;
		return git_credential_ssh_key_from_agent(out, user);
	}
	if ((allowed_types & GIT_CREDENTIAL_USERNAME) && !(*st & WD_REPO_CRED_USERNAME)) {
		*st |= WD_REPO_CRED_USERNAME;
		return git_credential_username_new(out, user);
	}
	return GIT_PASSTHROUGH; /* nothing (left) to offer: libgit2 reports the auth error */
}
