/*
 * Typed settings that are more than one key: a choice among names, and the
 * model a run uses (flag, then environment, then the user's file). Every
 * caller, the CLI or a library user of wd_run, gets the same resolution.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/config.h"
#include "warden/error.h"

int wd_config_get_choice(int *out, const wd_config *cfg, const char *key,
                         const char *const *choices)
{
	wd_buf list = WD_BUF_INIT;
	char *v = NULL;
	size_t n = 0;
	int rc;

	if ((rc = wd_config_get_string(&v, cfg, key)) != 0)
		return rc;
	for (n = 0; choices[n]; n++)
		if (!strcmp(v, choices[n])) {
			*out = (int)n;
			free(v);
			return 0;
		}
	for (size_t i = 0; i < n && !rc; i++)
		rc = wd_buf_printf(&list, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", choices[i]);
	if (!rc)
		rc = wd_error_set(WD_EINPUT, "%s must be %s, not '%s'", key, wd_buf_cstr(&list), v);
	wd_buf_free(&list);
	free(v);
	return rc;
}

int wd_config_model_spec(char **out, const wd_config *cfg, const char *flag)
{
	const char *env = getenv("WARDEN_MODEL");
	int rc;

	*out = NULL;
	if (flag && *flag)
		return (*out = wd_strdup(flag)) ? 0 : wd_error_set(WD_ENOMEM, "out of memory");
	if (env && *env)
		return (*out = wd_strdup(env)) ? 0 : wd_error_set(WD_ENOMEM, "out of memory");
	/* model.* is trusted-only: a repository cannot pick the model */
	rc = cfg ? wd_config_get_string_trusted(out, cfg, "model.default") : WD_ENOTFOUND;
	if (rc == 0 && !**out) {
		free(*out);
		*out = NULL;
		rc = WD_ENOTFOUND;
	}
	if (rc && rc != WD_ENOMEM)
		return wd_error_set(WD_EUSAGE, "no model: pass --model SPEC (e.g. openai:gpt-4o-mini "
		                               "or replay:FILE), set WARDEN_MODEL, or model.default");
	return rc;
}
