/*
 * What reviewers said about earlier runs of the same ticket (its identity,
 * not its wording: see wd_ticket.identity), for the task prompt: each
 * rejection's reason together with the diff that was rejected, so the model
 * sees what not to do again. The proposals used are named for the ledger.
 */
#include <string.h>

#include "warden/error.h"
#include "warden/repo.h"
#include "warden/proposal.h"

#include "run_internal.h"

/* The rejected diff shown with a reason is cut to this many bytes. */
#define REJECTED_DIFF_MAX 4000
/* At most this many earlier decisions are shown (the newest). */
#define DECISIONS_MAX 5

static int add_one(wd_buf *out, const wd_proposal *p)
{
	wd_buf diff = WD_BUF_INIT;
	int rc;

	if ((rc = wd_buf_printf(out, "- Rejected (run %s): %s\n", p->id, p->reason)) != 0)
		return rc;
	if (p->repo && p->base[0] && p->commit[0] &&
	    wd_repo_diff_commits(&diff, p->repo, p->base, p->commit) == 0 && diff.len) {
		size_t n = diff.len > REJECTED_DIFF_MAX ? REJECTED_DIFF_MAX : diff.len;

		while (n < diff.len && n > 0 && ((unsigned char)diff.ptr[n] & 0xc0) == 0x80)
			n--;
		rc = wd_buf_printf(out, "  The change that was rejected:\n```diff\n%.*s%s```\n",
		                   (int)n, diff.ptr, n < diff.len ? "\n... [cut]\n" : "");
	} else {
		wd_error_clear();
		rc = wd_buf_puts(out, "  (the rejected change is no longer in the repository)\n");
	}
	wd_buf_free(&diff);
	return rc;
}

int wd_run_review_feedback(wd_buf *list, wd_strvec *used, const char *cache_dir,
                           const char *ticket_id)
{
	wd_proposal_list l = WD_PROPOSAL_LIST_INIT;
	size_t first = 0, matching = 0;
	int rc;

	if (!ticket_id || !*ticket_id)
		return 0;
	if ((rc = wd_proposal_list_load(&l, cache_dir, WD_PROPOSAL_REJECTED)) != 0)
		return rc;
	for (size_t i = 0; i < l.n; i++)
		matching += l.v[i]->ticket_id && !strcmp(l.v[i]->ticket_id, ticket_id) &&
		            l.v[i]->reason && *l.v[i]->reason;
	for (size_t i = 0; i < l.n && !rc; i++) {
		const wd_proposal *p = l.v[i];

		if (!p->ticket_id || strcmp(p->ticket_id, ticket_id) != 0 || !p->reason || !*p->reason)
			continue;
		/* oldest first, as loaded; only the newest DECISIONS_MAX */
		if (matching > DECISIONS_MAX && first++ < matching - DECISIONS_MAX)
			continue;
		if ((rc = add_one(list, p)) == 0)
			rc = wd_strvec_push(used, p->id);
	}
	wd_proposal_list_free(&l);
	return rc;
}
