#ifndef WARDEN_LEDGER_H
#define WARDEN_LEDGER_H

#include <jansson.h>

#include "warden/buf.h"

/*
 * The audit ledger: one JSON object per line (JSONL), appended as each step
 * happens, so a crash leaves every earlier event readable. Each event has
 * "seq", "ts" (ISO 8601 UTC), "run" and "type" plus its own fields. Every
 * string is passed through the redactor before it is written.
 */
typedef struct wd_ledger wd_ledger;

/* Open (creating it and its directories, mode 0600/0700) the ledger at `path`
 * for run `run_id`. An existing file is appended to and its seq continued. */
int wd_ledger_open(wd_ledger **out, const char *path, const char *run_id);

/* Append an event. Takes ownership of `fields` (may be NULL; else an object).
 * A NULL ledger is a no-op, so callers need not test for it. A field whose
 * name collides with the envelope (seq, ts, run, type) is written as "_name".
 * The line is fdatasync'd before this returns. Thread-safe. */
int wd_ledger_add(wd_ledger *l, const char *type, json_t *fields);

const char *wd_ledger_path(const wd_ledger *l);
const char *wd_ledger_run_id(const wd_ledger *l);
/* The seq the next event will get (events are numbered from 0). */
unsigned long long wd_ledger_next_seq(const wd_ledger *l);

void wd_ledger_close(wd_ledger *l);

/* Read a ledger back as a JSON array of its events, in file order (for
 * `warden log`, `review show`, stats). A torn last line (a crash mid-write)
 * is skipped; any other line that is not a JSON object is WD_EINPUT naming
 * the file and line. `max_bytes` bounds the file (0 = no limit). */
int wd_ledger_read(json_t **out, const char *path, size_t max_bytes);

/* Register a secret value (an API key, a token) to be scrubbed from every
 * ledger line, record and error message. Values shorter than 6 chars are ignored. */
void wd_redact_register(const char *secret);
/* Register the values of the usual secret environment variables. */
void wd_redact_register_env(void);
/* A copy of s with every registered secret, and anything shaped like a
 * bearer token or API key ("sk-...", "ghp_..."), replaced by "[REDACTED]". */
char *wd_redact(const char *s);
/* Redact a buffer in place (it may hold NUL bytes). 0 or WD_ENOMEM. */
int wd_redact_buf(wd_buf *b);
/* Redact every string inside a JSON value, object keys included, in place. */
void wd_redact_json(json_t *v);
/* Forget registered secrets (tests). */
void wd_redact_reset(void);

#endif
