#ifndef WARDEN_LEDGER_H
#define WARDEN_LEDGER_H

#include <jansson.h>

/*
 * The audit ledger: one JSON object per line (JSONL), appended as each step
 * happens, so a crash leaves every earlier event readable. Each event has
 * "seq", "ts" (ISO 8601 UTC), "run" and "type" plus its own fields. Every
 * string is passed through the redactor before it is written.
 */
typedef struct wd_ledger wd_ledger;

int wd_ledger_open(wd_ledger **out, const char *path, const char *run_id);

/* Append an event. Takes ownership of `fields` (may be NULL). A NULL ledger is
 * a no-op, so callers need not test for it. */
int wd_ledger_add(wd_ledger *l, const char *type, json_t *fields);

const char *wd_ledger_path(const wd_ledger *l);

void wd_ledger_close(wd_ledger *l);

/* Register a secret value (an API key, a token) to be scrubbed from every
 * ledger line, record and error message. Values shorter than 6 chars are ignored. */
void wd_redact_register(const char *secret);
/* Register the values of the usual secret environment variables. */
void wd_redact_register_env(void);
/* A copy of s with every registered secret, and anything shaped like a
 * bearer token or API key ("sk-...", "ghp_..."), replaced by "[REDACTED]". */
char *wd_redact(const char *s);
/* Redact every string inside a JSON value, in place. */
void wd_redact_json(json_t *v);
/* Forget registered secrets (tests). */
void wd_redact_reset(void);

#endif
