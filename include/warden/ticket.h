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

/* A parsed ticket: opaque; read it through the accessors below. */
typedef struct wd_ticket wd_ticket;

/* Load and parse a ticket file (.md or .json, sniffed by content); "-" reads
 * standard input (named "<stdin>" in messages). Errors are WD_EINPUT with
 * "FILE:LINE: what is wrong", WD_ENOTFOUND when missing. */
int wd_ticket_load(wd_ticket **out, const char *path);

/* Parse ticket text; `name` is used in error messages. */
int wd_ticket_parse(wd_ticket **out, const char *name, const char *text, size_t len);

void wd_ticket_free(wd_ticket *t);

/* A ticket built in code rather than parsed (a repair round's failure
 * summary as a query, a library caller's task): `title` (control characters
 * dropped, as a parsed title's are; NULL or empty is allowed here) and `body`
 * (NULL = ""), no source file, no scope, checks or FAIL_TO_PASS yet; slug,
 * identity and id derived as wd_ticket_parse() derives them. WD_ENOMEM. */
int wd_ticket_new(wd_ticket **out, const char *title, const char *body);

/* Add a scope entry (path glob, "!glob", "path:symbol"); the identity and id
 * follow when they come from the title and scope. WD_ENOMEM. */
int wd_ticket_add_scope(wd_ticket *t, const char *entry);
/* Add a FAIL_TO_PASS test name (the run adds those it infers). WD_ENOMEM. */
int wd_ticket_add_fail_to_pass(wd_ticket *t, const char *name);

/*
 * What a ticket says. Strings are owned by the ticket and live as long as
 * it; none is NULL ("" when absent). The lists are NULL-terminated (v[n] ==
 * NULL when v != NULL) and may be empty.
 */
const char *wd_ticket_source(const wd_ticket *t);   /* the file it came from; "" when built */
const char *wd_ticket_title(const wd_ticket *t);
const char *wd_ticket_body(const wd_ticket *t);
const char *wd_ticket_slug(const wd_ticket *t);     /* [a-z0-9-], never empty, at most 40 chars */
const char *wd_ticket_id(const wd_ticket *t);       /* 40-hex hash of the identity: links reruns */
/* What the ticket is, stably: "id:X" (an explicit id), "github:O/R#N" (a
 * GitHub issue), else "title:SLUG" plus " scope:" and the sorted scope:
 * rewording the body keeps it. */
const char *wd_ticket_identity(const wd_ticket *t);
const wd_strvec *wd_ticket_scope(const wd_ticket *t);  /* globs, "!glob" = deny, "path:symbol" */
const wd_strvec *wd_ticket_checks(const wd_ticket *t); /* "kind: command" (build|test|analyze) */
const wd_strvec *wd_ticket_fail_to_pass(const wd_ticket *t);
int wd_ticket_rounds(const wd_ticket *t);           /* 0 when the ticket does not say */

/* Append a slug of any title to `out`: ASCII letters lowercased, Latin-1
 * accented letters folded ("é" -> "e"), everything else one '-', no leading,
 * trailing or doubled '-', at most `max` chars (0 = WD_TICKET_SLUG_MAX),
 * never empty ("ticket" when nothing is left). */
int wd_slugify(wd_buf *out, const char *title, size_t max);

#endif
