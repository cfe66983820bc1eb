/* Pushing what review decided on: exactly the recorded commit, never what a
 * branch happens to point at by the time the push runs. */
#include <string.h>

#include "warden/error.h"
#include "warden/proposal.h"
#include "warden/repo.h"
#include "warden/review_push.h"

static int load_for_push(wd_proposal **out, const char *cache_dir, const char *id,
                         const char *remote)
{
	if (remote && *remote)
		return wd_proposal_load(out, cache_dir, id);
	*out = NULL;
	wd_error_set(WD_EUSAGE, "push needs a remote (a name, a URL or a path)");
	return WD_EUSAGE;
}

int wd_review_push_proposal(const char *cache_dir, const char *id, const char *remote)
{
	wd_proposal *p = NULL;
	int rc;

	if ((rc = load_for_push(&p, cache_dir, id, remote)) != 0)
		return rc;
	rc = wd_repo_push(p->repo, p->commit, p->branch, remote);
	if (rc == WD_ECONFLICT)
		wd_error_wrap(rc, "proposal %s", p->id);
	wd_proposal_free(p);
	return rc;
}

int wd_review_push_merged(const char *cache_dir, const char *id, const char *remote)
{
	wd_proposal *p = NULL;
	const char *target;
	int rc;

	if ((rc = load_for_push(&p, cache_dir, id, remote)) != 0)
		return rc;
	if (p->status != WD_PROPOSAL_APPROVED || !p->merged[0]) {
		rc = wd_error_set(WD_EUSAGE, "proposal %s is %s: only an approved proposal's target is "
		                             "pushed", p->id, wd_proposal_status_name(p->status));
		goto out;
	}
	target = strncmp(p->target, "refs/heads/", 11) == 0 ? p->target + 11 : p->target;
	rc = wd_repo_push(p->repo, p->merged, target, remote);
	if (rc == WD_ECONFLICT)
		wd_error_wrap(rc, "proposal %s", p->id);
out:
	wd_proposal_free(p);
	return rc;
}
