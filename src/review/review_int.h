#ifndef WARDEN_REVIEW_INT_H
#define WARDEN_REVIEW_INT_H

#include <jansson.h>

#include "warden/review.h"

/* Append an event to the proposal's run ledger when that file still exists
 * (best effort: the record in the store is the source of truth). Takes
 * ownership of `fields`. */
void wd_review_ledger_event(const wd_proposal *p, const char *type, json_t *fields);

#endif
