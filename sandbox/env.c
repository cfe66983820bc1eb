/*
 * The command's environment: built from an allow-list, never inherited.
 * Secrets (API keys, tokens, passwords) never pass in, even when a caller
 * names them: the filter below wins over opts->env_allow.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "sbx.h"

static const char *const base_allow[] = { "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TERM", NULL };

static const char *const secret_globs[] = {
	"*_API_KEY", "*_APIKEY", "*API_KEY*", "*_TOKEN", "*_TOKEN_*", "*TOKEN", "*_SECRET",
	"*_SECRET_*", "*SECRET*", "*PASSWORD*", "*PASSWD*", "*_CREDENTIALS*", "AWS_*",
	"*_PRIVATE_KEY*", "SSH_AUTH_SOCK", "GPG_AGENT_INFO", "*_AUTH", "*COOKIE*", NULL
};

int sbx_env_is_secret(const char *name)
{
	for (size_t i = 0; secret_globs[i]; i++)
		if (fnmatch(secret_globs[i], name, FNM_CASEFOLD) == 0)
			return 1;
	return 0;
}

static int name_ok(const char *name, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
		      (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* Set NAME=value, replacing an earlier entry of the same name. */
static int env_set(wd_strvec *env, const char *name, size_t nlen, const char *value)
{
	wd_buf b = WD_BUF_INIT;

	if (wd_buf_put(&b, name, nlen) || wd_buf_putc(&b, '=') || wd_buf_puts(&b, value)) {
		wd_buf_free(&b);
		return WD_ENOMEM;
	}
	for (size_t i = 0; i < env->n; i++) {
		if (!strncmp(env->v[i], name, nlen) && env->v[i][nlen] == '=') {
			free(env->v[i]);
			env->v[i] = wd_buf_detach(&b);
			return 0;
		}
	}
	return wd_strvec_push_owned(env, wd_buf_detach(&b));
}

static int pass_through(wd_strvec *env, const char *name)
{
	const char *v = getenv(name);

	if (!v)
		return 0;
	return env_set(env, name, strlen(name), v);
}

int sbx_env_build(wd_strvec *env, const wd_sandbox_opts *opts, const char *home,
                  const char *tmpdir, const char *workdir)
{
	int rc;

	for (size_t i = 0; base_allow[i]; i++)
		if ((rc = pass_through(env, base_allow[i])) != 0)
			return rc;
	if (!getenv("PATH") &&
	    (rc = env_set(env, "PATH", 4, "/usr/local/bin:/usr/bin:/bin")) != 0)
		return rc;
	if (opts->env_allow) {
		for (size_t i = 0; opts->env_allow[i]; i++) {
			const char *e = opts->env_allow[i];
			const char *eq = strchr(e, '=');
			size_t nlen = eq ? (size_t)(eq - e) : strlen(e);

			if (!name_ok(e, nlen))
				return wd_error_set(WD_EUSAGE, "sandbox: bad environment name '%.*s'",
				                    (int)nlen, e);
			/* a secret never enters, whoever asks for it */
			{
				char name[256];

				if (nlen >= sizeof(name))
					return wd_error_set(WD_EUSAGE, "sandbox: environment name too long");
				memcpy(name, e, nlen);
				name[nlen] = '\0';
				if (sbx_env_is_secret(name))
					continue;
				rc = eq ? env_set(env, name, nlen, eq + 1) : pass_through(env, name);
			}
			if (rc)
				return rc;
		}
	}
	if ((rc = env_set(env, "HOME", 4, home)) != 0 ||
	    (rc = env_set(env, "TMPDIR", 6, tmpdir)) != 0 ||
	    (rc = env_set(env, "PWD", 3, workdir)) != 0)
		return rc;
	return 0;
}
