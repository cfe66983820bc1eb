#ifndef WARDEN_REDACT_INT_H
#define WARDEN_REDACT_INT_H

/* Shared by redact.c (registered values, merging, output) and
 * redact_rules.c (credential shapes); not part of the public interface. */

#include <stddef.h>

#include "warden/ledger.h"

/* A growable list of hits, in the order they were found. */
typedef struct wd_redact_hits {
	wd_redact_hit *v;
	size_t n, cap;
} wd_redact_hits;

/* Append [offset, offset + len) found by `rule` (static storage). 0 or WD_ENOMEM. */
int wd_redact_hits_push(wd_redact_hits *h, size_t offset, size_t len, const char *rule);

/* Append a hit for every credential shape in s[0..len): tokens with a known
 * prefix, JWTs, PEM private keys, URL passwords, Bearer tokens and secret
 * assignments. Hits may overlap; the caller merges them. Linear in len. */
int wd_redact_find_shapes(wd_redact_hits *h, const char *s, size_t len);

/* 1 when key[0..n) names a secret (password, db_password, apiKey, …, but not
 * password_len or token_type): a JSON string under such a key is redacted whole. */
int wd_redact_key_is_secret(const char *key, size_t n);

/* 1 when s[0..n) is exactly a marker this redactor writes ("[REDACTED:rule]"
 * with a rule that exists, or the older "[REDACTED]"): markers are opaque to
 * every rule, so that redacting twice changes nothing. */
int wd_redact_is_marker(const char *s, size_t n);
/* When s[i] lies inside a marker, the offset just past it; else 0. */
size_t wd_redact_marker_around(const char *s, size_t len, size_t i);

/* Rank of a rule name: lower is more specific. When hits overlap, the merged
 * replacement is named after the most specific rule among them. */
int wd_redact_rule_rank(const char *rule);

#endif
