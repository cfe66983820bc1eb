/*
 * A repair round's context: the code the failing output points at. The
 * checks' failure summary is read as a ticket body would be: the paths and
 * identifiers it names (a failing test's name, a function in a traceback)
 * are resolved through the map, their definitions sent whole, then the
 * definitions its words match best, within a small budget; from the base
 * checkout, which is what every round's patch applies to.
 */
#include <string.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/ledger.h"
#include "warden/ticket.h"
#include "run_internal.h"

#define REPAIR_CONTEXT_BUDGET (16u * 1024u)

int wd_run_repair_context(wd_buf *feedback, wd_ledger *ledger, int round, const char *workdir,
                          const char *failures, const char *cache_dir,
                          const char *const *files, const char *const *exclude)
{
	wd_context_opts co = WD_CONTEXT_OPTS_INIT;
	wd_context *c = NULL;
	wd_ticket *t = NULL;
	const char *code;
	int rc;

	/* no file list (the context was never built, or the outbound policy
	 * denied every file): nothing may be read for the model */
	if (!failures || !*failures || !files || !*files)
		return 0;
	if ((rc = wd_ticket_new(&t, "", failures)) != 0)
		return rc;
	co.budget_bytes = REPAIR_CONTEXT_BUDGET;
	co.cache_dir = cache_dir;
	co.files = files;
	co.exclude = exclude;
	co.flags = WD_CONTEXT_CODE_ONLY;
	rc = wd_context_build(&c, workdir, t, &co);
	wd_ticket_free(t);
	if (rc != 0) {
		/* the repair prompt stands without it */
		wd_ledger_add(ledger, "context.repair", json_pack("{s:i, s:s}", "round", round,
		                                                  "error", wd_error_last()));
		wd_error_clear();
		return 0;
	}
	code = wd_context_files(c);
	if (*code)
		rc = wd_buf_printf(feedback, "\n\nThe code the failing output points at (as in the base "
		                   "your patch applies to):\n%s", code);
	wd_ledger_add(ledger, "context.repair",
	              json_pack("{s:i, s:I, s:O}", "round", round, "bytes", (json_int_t)strlen(code),
	                        "files", wd_context_why(c)));
	wd_context_free(c);
	return rc;
}
