/*
 * Warnings a run owes the user: keys of the user's kind that the
 * repository's .warden/config tried to set (model.*, api-key, sandbox.policy,
 * push.allowed, review.autoApprove, ...) are ignored, and its include
 * sections are not followed; each is named on the progress line and in the
 * ledger, never dropped in silence.
 */
#include <stdio.h>

#include "warden/config.h"
#include "warden/error.h"
#include "warden/ledger.h"
#include "run_internal.h"

int wd_run_warn_ignored(const wd_config *cfg, wd_ledger *ledger, const wd_run_opts *opts)
{
	wd_strvec keys = WD_STRVEC_INIT;
	wd_buf msg = WD_BUF_INIT;
	json_t *arr = NULL;
	int rc;

	if ((rc = wd_config_ignored_repo_keys(&keys, cfg)) != 0 || keys.n == 0)
		goto out;
	if (!(arr = json_array())) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	rc = wd_buf_puts(&msg, "ignored in the repository's .warden/config (only your own config "
	                       "may set these): ");
	for (size_t i = 0; i < keys.n && !rc; i++) {
		rc = wd_buf_printf(&msg, "%s%s", i ? ", " : "", keys.v[i]);
		if (!rc && json_array_append_new(arr, json_string(keys.v[i])))
			rc = wd_error_set(WD_ENOMEM, "out of memory");
	}
	if (rc)
		goto out;
	wd_ledger_add(ledger, "config.ignored", json_pack("{s:O}", "keys", arr));
	if (opts->progress)
		opts->progress(opts->payload, "warning", 1, 0, msg.ptr);
out:
	json_decref(arr);
	wd_buf_free(&msg);
	wd_strvec_free(&keys);
	return rc;
}
