#ifndef WARDEN_REVIEW_H
#define WARDEN_REVIEW_H

/*
 * Review: what happens to a run's commit after the gate passed it. This
 * header brings in the review module's concepts, one header each:
 *   proposal.h       the record and its store
 *   note.h           the evidence note on the proposed commit
 *   review_show.h    what `review show` reads (diff, ledger summary)
 *   approve.h        approve (merge) and reject
 *   review_push.h    pushing a proposal or its merge
 *   pull_request.h   pull requests on GitHub
 *   review_policy.h  whether an irreversible step may go ahead
 *
 * The module never prints and never asks: the cli shows the plan, asks
 * wd_review_policy_decide() whether each irreversible step may go ahead, and
 * asks on the terminal when it says so. The git work is the repo module's.
 */
#include "warden/approve.h"
#include "warden/note.h"
#include "warden/proposal.h"
#include "warden/pull_request.h"
#include "warden/review_policy.h"
#include "warden/review_push.h"
#include "warden/review_show.h"

#endif
