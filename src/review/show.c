/* What `review show` takes from the repository: the proposal's diff against its
 * base. The run itself is told by the run view (src/cli/runs_view.c). */
#include "warden/review.h"

int wd_review_diff(wd_buf *out, const wd_proposal *p)
{
	return wd_repo_diff_commits(out, p->repo, p->base, p->commit);
}
