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

/* Append an event. Takes ownership of `fields`, an object (json_object()
 * for none): NULL is what a failed json_pack returns, so it is an error
 * (WD_ENOMEM, sticky, see below) and no event is written.
 * A NULL ledger is a no-op, so callers need not test for it. A field whose
 * name collides with the envelope (seq, ts, run, type) is written as "_name".
 * The line is fdatasync'd before this returns. Thread-safe. */
int wd_ledger_add(wd_ledger *l, const char *type, json_t *fields);

/* Ledger write errors are sticky: the first failure of wd_ledger_add or
 * wd_ledger_blob is remembered, whether or not the caller
 * looked at its result, and the run fails on it. 0 when none; *msg (when
 * msg is non-NULL) gets the first failure's message ("" when none). */
int wd_ledger_error(const wd_ledger *l, const char **msg);

/*
 * Blobs: the large content behind an event (the prompt as sent, each reply,
 * each check's output, each patch) is stored once, after redaction, by the
 * git blob id of the redacted bytes, beside the ledger:
 * <ledger dir>/blobs/<2 hex>/<38 hex> (0600, written atomically). An event
 * names its blobs by that id ("output_blob": "3f…"), so every digest can be
 * resolved to its content.
 */
/* Store data[0..len); hex gets its id ("" when l is NULL). */
int wd_ledger_blob(wd_ledger *l, const void *data, size_t len, char hex[41]);
/* The id of the NUL-terminated s as a JSON string, stored; JSON null when
 * l or s is NULL or storing failed (the failure is sticky). */
json_t *wd_ledger_blob_ref(wd_ledger *l, const char *s);
/* 1 when hex is a blob id (40 lowercase hex digits); ids read from a ledger
 * are checked with it before they become paths. */
int wd_ledger_blob_hex_ok(const char *hex);
/* Where blob `hex` of the ledger at ledger_path lives; WD_EINPUT for a bad id. */
int wd_ledger_blob_path(wd_buf *out, const char *ledger_path, const char *hex);
/* Append blob `hex` to out (at most max bytes, 0 = no limit); WD_ENOTFOUND when gone. */
int wd_ledger_blob_read(wd_buf *out, const char *ledger_path, const char *hex, size_t max);

/* The writing process, for run.start: {pid, start, host} (start: its start
 * time in clock ticks since boot, against pid reuse). */
json_t *wd_ledger_process_json(void);
/* 1 when the process described by such an object is still running (or runs
 * on another host, which cannot be told), 0 when it is gone. */
int wd_ledger_process_alive(const json_t *proc);

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

/*
 * Redaction. The one redactor: the ledger passes every string through it,
 * the gate passes every check's output through it before anything reads it,
 * and the cli passes what it prints. Each credential found is replaced by
 * "[REDACTED:<rule>]", the rule saying what was there:
 *
 *   known-secret    a value registered below (API keys, tokens, the values of
 *                   secret environment variables and of those named in redact.env)
 *   private-key     a PEM block "-----BEGIN … PRIVATE KEY-----" through its END
 *                   line (RSA, EC, OPENSSH, ENCRYPTED, PGP …); to the end without one
 *   aws-key-id      AKIA… / ASIA… + 16 uppercase letters or digits
 *   aws-secret      a 40-character value assigned to aws_secret_access_key
 *   github-token    ghp_ gho_ ghu_ ghs_ ghr_ + 20 or more alphanumerics, github_pat_…
 *   gitlab-token    glpat- + 20 or more
 *   npm-token       npm_ + 36 or more alphanumerics
 *   slack-token     xoxa- xoxb- xoxp- xoxo- xoxr- xoxs- xoxe- + 10 or more
 *   google-api-key  AIza + 35 or more
 *   jwt             eyJ… . … . … (three base64url segments, or five)
 *   api-key         sk-… (20 or more, letters and digits: OpenAI, Anthropic)
 *   bearer          the token after "Bearer " (the word stays)
 *   url-password    the password in scheme://user:password@host (the user stays)
 *   assignment      the value after a key naming a secret (password, passwd,
 *                   secret, token, api_key, apikey, private_key, access_key, any
 *                   case and separator): password=v, token: v, "secret": "v",
 *                   api_key = 'v'; the key stays. Not when the value reads like
 *                   code (password_len = strlen(p), token == NULL, token = NULL,
 *                   self.token = token) or the key names something about the
 *                   secret (token_type, password_file, tokenCount).
 *   high-entropy    the value after a key whose last part is "key" (STRIPE_KEY,
 *                   signing-key, hmacKey) when the value looks random: 16 to
 *                   512 bytes, no blanks; 32+ hex digits, or upper and lower
 *                   case and digits with at most one '_' '-' '.' ':' '/' in 8
 *                   bytes; at least 3.5 bits of Shannon entropy per byte
 *                   (cache_key = "user:" + id, primary_key = True,
 *                   ROUTE_KEY = "v2_user_profile" stay).
 *
 * Overlapping finds become one replacement, named after the most specific
 * rule. Existing markers are left alone, so redacting twice changes nothing.
 * Linear in the input, hostile input included. Thread-safe.
 */

/* One replacement: where it was in the ORIGINAL text, and which rule found it. */
typedef struct wd_redact_hit {
	size_t offset;
	size_t len;
	const char *rule;   /* static storage: one of the names above */
} wd_redact_hit;

/* Register a secret value (an API key, a token) to be scrubbed wherever it
 * appears. Values shorter than 6 bytes are ignored. */
void wd_redact_register(const char *secret);
/* Register the values of the usual secret environment variables:
 * OPENAI_API_KEY, ANTHROPIC_API_KEY, GITHUB_TOKEN, *_KEY, *_TOKEN, *_SECRET,
 * *_PASSWORD. */
void wd_redact_register_env(void);
/* Register the values of the environment variables named in `names` (one
 * name, or several separated by commas or blanks; unset ones are skipped):
 * the user's redact.env. */
void wd_redact_register_env_names(const char *names);
/* A copy of s, redacted; NULL when s is NULL or memory ran out. */
char *wd_redact(const char *s);
/* Redact a buffer in place (it may hold NUL bytes). 0 or WD_ENOMEM (then b is
 * unchanged). */
int wd_redact_buf(wd_buf *b);
/* The same; when `hits` is non-NULL, append one entry per replacement to
 * *hits (malloc'd, grown with realloc; the caller frees it) and add their
 * number to *nhits. Offsets are in the text before redaction, sorted, and
 * never overlap. On error b, *hits and *nhits are unchanged. */
int wd_redact_buf_report(wd_buf *b, wd_redact_hit **hits, size_t *nhits);
/* Find without changing anything: the replacements wd_redact_buf would make
 * in s[0..len), as a malloc'd array in *out (NULL when none) of *n entries.
 * For listing findings ("where, which rule") without showing the secret.
 * 0 or WD_ENOMEM. */
int wd_redact_scan(wd_redact_hit **out, size_t *n, const char *s, size_t len);
/* Redact every string inside a JSON value, object keys included, in place. */
void wd_redact_json(json_t *v);
/* Forget registered secrets (tests). */
void wd_redact_reset(void);

#endif
