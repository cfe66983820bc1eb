#ifndef WARDEN_REVIEW_SHOW_H
#define WARDEN_REVIEW_SHOW_H

/*
 * What `warden review show` reads about a proposal from the repository: its
 * diff against the base. The run itself is told by the run view
 * (src/cli/runs_view.c), the same as `warden show`.
 *
 * Owns reading them into buffers. Never prints (the cli does) and never
 * changes the repository.
 */
#include "warden/buf.h"
#include "warden/proposal.h"

/* Stat summary and unified diff of the proposal's commit against its base,
 * read from the repository that holds it. */
int wd_review_diff(wd_buf *out, const wd_proposal *p);

#endif
