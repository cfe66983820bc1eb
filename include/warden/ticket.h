#ifndef WARDEN_TICKET_H
#define WARDEN_TICKET_H

#include <stddef.h>

#include "warden/buf.h"

/*
 * A task ticket. Two formats, told apart by content (a ticket whose first
 * non-blank character is '{' is JSON):
 *
 * Markdown, with an optional header block of `key: value` lines between
 * `---` fences (the first non-blank line; "..." also closes it):
 *
 *     ---
 *     scope: src/calc.c, tests/t_*.c     (path globs; "!glob" denies; "file:symbol" limits to a definition)
 *     checks: make test                  (repeatable; one command per line or per `- item`)
 *     rounds: 3
 *     fail-to-pass: test_add             (tests that must go from failing to passing)
 *     id: PROJ-12                        (optional: the ticket's stable identity)
 *     ---
 *     # Title
 *     Body...
 *
 *   Header rules: keys are scope, checks, rounds, fail-to-pass (any case;
 *   fail_to_pass too); an unknown key is an error naming it (with a "did you
 *   mean"). scope and fail-to-pass take comma-separated values; a checks line
 *   is ONE command (commands contain commas). Any list key also takes
 *   `[a, b]` or, with an empty value, `- item` lines below it. Items are
 *   trimmed, surrounding quotes dropped, empty items skipped; repeated keys
 *   append. rounds is a whole number 1..20, given once; so is id. '#' lines are
 *   comments, and so is a value's tail from a '#' that follows a blank outside
 *   quotes ("scope: lib.c  # the parser" is "lib.c").
 *   The title is the first level-1 heading ("# x" or "x" underlined with
 *   "===") outside ``` or ~~~ fences, else the first heading of any level; the
 *   body is everything else after the header, blank edges trimmed, CRLF -> LF.
 *
 * or JSON: {"title": "...", "body": "...", "scope": [...], "checks": [...],
 * "rounds": N, "fail_to_pass": [...], "id": "..."} ("fail-to-pass" too; a list
 * may also be one string). Other fields are ignored, so a GitHub issue (REST
 * object, body null allowed) or an issues webhook payload ({"issue": {...}})
 * works as is; its "number" with "repository_url" (or the payload's
 * repository.full_name) is its identity.
 *
 * Refused with WD_EINPUT and "NAME:LINE: what is wrong": an empty or blank
 * ticket, more than WD_TICKET_MAX_BYTES, a NUL byte, invalid UTF-8 (overlong
 * forms and surrogates included), an unterminated header, a malformed header
 * line, no title, rounds out of range, bad JSON (jansson's line), a field of
 * the wrong type, duplicate JSON keys.
 *
 * Owns parsing a ticket and what it says (scope, checks, rounds,
 * FAIL_TO_PASS). Never reads the repository and never runs anything.
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
} wd_ticket;

/* Load and parse a ticket file (.md or .json, sniffed by content); "-" reads
 * standard input (named "<stdin>" in messages). Errors are WD_EINPUT with
 * "FILE:LINE: what is wrong", WD_ENOTFOUND when missing. */
int wd_ticket_load(wd_ticket **out, const char *path);

/* Parse ticket text; `name` is used in error messages. */
int wd_ticket_parse(wd_ticket **out, const char *name, const char *text, size_t len);

void wd_ticket_free(wd_ticket *t);

/* Append a slug of any title to `out`: ASCII letters lowercased, Latin-1
 * accented letters folded ("é" -> "e"), everything else one '-', no leading,
 * trailing or doubled '-', at most `max` chars (0 = WD_TICKET_SLUG_MAX),
 * never empty ("ticket" when nothing is left). */
int wd_slugify(wd_buf *out, const char *title, size_t max);

#endif
