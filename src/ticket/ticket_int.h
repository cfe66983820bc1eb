#ifndef WARDEN_TICKET_INT_H
#define WARDEN_TICKET_INT_H

/* Internal to src/ticket: the two format readers and the helpers they share. */

#include <stddef.h>

#include "warden/ticket.h"

/* 1-based line number of byte offset `off` in `text`. */
size_t wd_ticket__line_at(const char *text, size_t off);

/* Fill t->title, body, scope, checks, fail_to_pass, rounds from the text.
 * Errors are WD_EINPUT "NAME:LINE: ..." (the text is valid UTF-8 without NUL). */
int wd_ticket__parse_md(wd_ticket *t, const char *name, const char *text, size_t len);
int wd_ticket__parse_json(wd_ticket *t, const char *name, const char *text, size_t len);

/* Add one item (trimmed, surrounding quotes removed; empty items skipped). */
int wd_ticket__add_item(wd_strvec *sv, const char *s, size_t n);
/* Add a list value: "[a, b]" or "a, b" (split on commas when split_commas),
 * else the whole value as one item. */
int wd_ticket__add_list(wd_strvec *sv, const char *s, size_t n, int split_commas);

#endif
