#ifndef WARDEN_REVIEW_SHOW_H
#define WARDEN_REVIEW_SHOW_H

/*
 * What `warden review show` reads about a proposal: its diff against the
 * base and a plain summary of its run's ledger.
 *
 * Owns reading them into buffers. Never prints (the cli does) and never
 * changes the repository.
 */
#include <stddef.h>

#include "warden/buf.h"
#include "warden/proposal.h"

/* Stat summary and unified diff of the proposal's commit against its base,
 * read from the repository that holds it. */
int wd_review_diff(wd_buf *out, const wd_proposal *p);

/* Read the run's ledger (JSONL) and summarise it for a human: each event on
 * one line, and what the model was asked and what it said, each cut to
 * `max_text` bytes (0 = 2000). A line that is not JSON is reported, not fatal. */
int wd_review_ledger_summary(wd_buf *out, const char *ledger_path, size_t max_text);

#endif
