#ifndef WARDEN_TICKET_H
#define WARDEN_TICKET_H

#include <stddef.h>

#include "warden/buf.h"

/*
 * A task ticket. Two formats:
 *
 * Markdown, with an optional header block of `key: value` lines between
 * `---` fences before the first heading:
 *
 *     ---
 *     scope: src/calc.c, tests/t_*.c     (path globs; "!glob" denies; "file:symbol" limits to a definition)
 *     checks: make test                  (repeatable; one command per line or per `- item`)
 *     rounds: 3
 *     fail-to-pass: test_add             (tests that must go from failing to passing)
 *     ---
 *     # Title
 *     Body...
 *
 * or JSON: {"title": "...", "body": "...", "scope": [...], "checks": [...],
 * "rounds": N, "fail_to_pass": [...]} (a GitHub issue payload's "title"/"body" works as is).
 */
/* Tickets larger than this are refused (WD_EINPUT): a ticket is a task, not a data dump. */
#define WD_TICKET_MAX_BYTES (1024u * 1024u)
/* Longest slug wd_ticket_parse() derives from a title. */
#define WD_TICKET_SLUG_MAX 40
/* Valid range of a ticket's `rounds`. */
#define WD_TICKET_ROUNDS_MIN 1
#define WD_TICKET_ROUNDS_MAX 20

typedef struct wd_ticket {
	char *source;          /* file name the ticket came from */
	char *title;
	char *body;
	char *slug;            /* lowercase [a-z0-9-], at most 40 chars, from the title */
	char *id;              /* stable hash of title+body (hex), used to link reruns of the same ticket */
	wd_strvec scope;       /* path globs, "!glob" = deny, "path:symbol" = symbol scope */
	wd_strvec checks;      /* commands; "kind: command" where kind is build|test|analyze */
	wd_strvec fail_to_pass;
	int rounds;            /* 0 when the ticket does not say */
} wd_ticket;

/* Load and parse a ticket file (.md or .json, sniffed by content). Errors are
 * WD_EINPUT with "FILE:LINE: what is wrong", WD_ENOTFOUND when missing. */
int wd_ticket_load(wd_ticket **out, const char *path);

/* Parse ticket text; `name` is used in error messages. */
int wd_ticket_parse(wd_ticket **out, const char *name, const char *text, size_t len);

void wd_ticket_free(wd_ticket *t);

/* Render a slug from any title into `out` (at most `max` chars, never empty: "ticket"). */
int wd_slugify(wd_buf *out, const char *title, size_t max);

#endif
