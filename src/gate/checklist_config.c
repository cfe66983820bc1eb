/* Checks declared in the configuration: [check "NAME"] sections. Kept apart
 * from checklist.c so that only callers of wd_checklist_from_config link
 * against the config module. */
#include <stdlib.h>
#include <string.h>

#include "gate_int.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/check.h"

static int config_check(wd_checklist *l, const wd_config *cfg, const char *name)
{
	wd_buf key = WD_BUF_INIT;
	char *command = NULL, *kind_s = NULL, *results = NULL;
	wd_check_kind kind = WD_CHECK_TEST;
	long timeout = 0;
	int rc;

#define KEY(k) (wd_buf_clear(&key), wd_buf_printf(&key, "check.%s.%s", name, k) ? NULL : key.ptr)
	if ((rc = wd_config_get_string(&command, cfg, KEY("command"))) != 0) {
		if (rc == WD_ENOTFOUND)
			rc = wd_error_set(WD_EINPUT, "[check \"%s\"] has no command", name);
		goto out;
	}
	rc = wd_config_get_string(&kind_s, cfg, KEY("kind"));
	if (rc == 0)
		rc = wd_check_kind_parse(&kind, kind_s);
	if (rc && rc != WD_ENOTFOUND) {
		rc = wd_error_wrap(WD_EINPUT, "[check \"%s\"] kind", name);
		goto out;
	}
	rc = wd_config_get_range(&timeout, cfg, KEY("timeout"), 1, 86400);
	if (rc && rc != WD_ENOTFOUND) {
		rc = wd_error_wrap(WD_EINPUT, "[check \"%s\"] timeout", name);
		goto out;
	}
	rc = wd_config_get_string(&results, cfg, KEY("results"));
	if (rc == 0 && !wd_path_rel_inside(results))
		rc = wd_error_set(WD_EINPUT, "[check \"%s\"] results: '%s' must be a relative path "
		                  "inside the work tree", name, results);
	if (rc && rc != WD_ENOTFOUND)
		goto out;
#undef KEY
	rc = wd_checklist_add_full(l, name, kind, command, timeout > 0 ? (unsigned)timeout : 0,
	              results);
out:
	free(command);
	free(kind_s);
	free(results);
	wd_buf_free(&key);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int wd_checklist_from_config(wd_checklist *l, const wd_config *cfg)
{
	wd_strvec names = WD_STRVEC_INIT;
	int rc;

	if ((rc = wd_config_subsections(&names, cfg, "check")) != 0)
		goto out;
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n; i++) {
		if (i > 0 && !strcmp(names.v[i], names.v[i - 1]))
			continue;
		if ((rc = config_check(l, cfg, names.v[i])) != 0)
			goto out;
	}
out:
	wd_strvec_free(&names);
	return rc;
}

