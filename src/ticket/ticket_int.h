#ifndef WARDEN_TICKET_INT_H
#define WARDEN_TICKET_INT_H

/* Internal to src/ticket: the two format readers and the helpers they share. */

#include <stddef.h>

#include "warden/ticket.h"

/* The ticket itself: only src/ticket reads or writes these fields (and the
 * module's own tests); everyone else uses the accessors of ticket.h. */
struct wd_ticket {
	char *source;          /* file name the ticket came from; "" when built in code */
	char *title;
	char *body;
	char *slug;            /* lowercase [a-z0-9-], at most 40 chars, from the title; never empty */
	char *id;              /* 40-hex git hash of `identity`: links reruns of the same ticket */
	char *identity;        /* what the ticket is, stably: "id:X" (an explicit id), "github:O/R#N"
	                          (a GitHub issue), else "title:SLUG" plus " scope:" and the sorted
	                          scope: rewording the body keeps it */
	char *explicit_id;     /* the `id:` header / JSON string "id", NULL when absent */
	wd_strvec scope;       /* path globs, "!glob" = deny, "path:symbol" = symbol scope */
	wd_strvec checks;      /* commands; "kind: command" where kind is build|test|analyze */
	wd_strvec fail_to_pass;
	int rounds;            /* 0 when the ticket does not say */
};

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
