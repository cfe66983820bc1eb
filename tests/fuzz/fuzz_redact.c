/*
 * libFuzzer target for the redactor, which sees untrusted text (check
 * output, model replies, diffs). Input: "SECRET\nTEXT". Invariants:
 *   - no crash, no undefined behaviour;
 *   - a registered secret never survives (unless it could be part of a
 *     marker: it holds '[' or ']', or is a piece of "[REDACTED:<rule>]");
 *   - the report is sorted, without overlap, inside the text, and replacing
 *     each reported span by "[REDACTED:<rule>]" gives exactly the output;
 *   - wd_redact_scan reports the same spans without changing anything;
 *   - redacting the output again changes nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every marker the redactor can write, one after another. */
static const char markers[] =
	"[REDACTED][REDACTED:private-key][REDACTED:aws-key-id][REDACTED:aws-secret]"
	"[REDACTED:github-token][REDACTED:gitlab-token][REDACTED:npm-token]"
	"[REDACTED:slack-token][REDACTED:google-api-key][REDACTED:jwt][REDACTED:api-key]"
	"[REDACTED:bearer][REDACTED:url-password][REDACTED:known-secret][REDACTED:high-entropy]"
	"[REDACTED:assignment]";

static int could_be_in_a_marker(const char *secret)
{
	return strpbrk(secret, "[]") != NULL || strstr(markers, secret) != NULL;
}

static void check_report(const char *text, size_t len, const wd_buf *out,
                         const wd_redact_hit *hits, size_t n)
{
	wd_buf again = WD_BUF_INIT;
	size_t lit = 0;

	for (size_t i = 0; i < n; i++) {
		char marker[64];

		if (hits[i].len == 0 || hits[i].offset < lit || hits[i].offset + hits[i].len > len ||
		    !hits[i].rule || strlen(hits[i].rule) > 32)
			abort();
		snprintf(marker, sizeof(marker), "[REDACTED:%s]", hits[i].rule);
		if (!strstr(markers, marker))
			abort(); /* a rule the redactor does not have */
		if (wd_buf_put(&again, text + lit, hits[i].offset - lit) || wd_buf_puts(&again, marker))
			abort();
		lit = hits[i].offset + hits[i].len;
	}
	if (wd_buf_put(&again, text + lit, len - lit))
		abort();
	if (again.len != out->len || memcmp(wd_buf_cstr(&again), wd_buf_cstr(out), again.len) != 0)
		abort();
	wd_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char *secret, *text, *out;
	size_t sl = nl ? (size_t)(nl - (const char *)data) : 0, tl, n = 0, sn = 0;
	wd_buf b = WD_BUF_INIT, twice = WD_BUF_INIT;
	wd_redact_hit *hits = NULL, *scanned = NULL;
	json_t *j;

	if (!nl)
		return 0;
	tl = size - sl - 1;
	secret = strndup((const char *)data, sl);
	text = strndup(nl + 1, tl);
	if (!secret || !text)
		goto out;
	wd_redact_reset();
	wd_redact_register(secret);
	out = wd_redact(text);
	if (!out)
		goto out;
	if (strlen(secret) >= 6 && !could_be_in_a_marker(secret) && strstr(out, secret))
		abort();
	free(out);

	/* the buffer form, NUL bytes included */
	if (wd_buf_put(&b, nl + 1, tl) != 0 || wd_redact_buf_report(&b, &hits, &n) != 0)
		abort();
	if (!b.ptr && tl)
		abort();
	check_report(nl + 1, tl, &b, hits, n);
	if (wd_redact_scan(&scanned, &sn, nl + 1, tl) != 0 || sn != n ||
	    (n && memcmp(scanned, hits, n * sizeof(*hits)) != 0))
		abort();
	/* redacting twice changes nothing, unless a registered secret holds part
	 * of a marker: the first pass can then write the secret itself (a value
	 * replaced by "[REDACTED:assignment]" completing `password: "[REDACTED:`
	 * ...), and the second pass rightly takes it out */
	if (b.ptr && !could_be_in_a_marker(secret) &&
	    (wd_buf_put(&twice, b.ptr, b.len) != 0 || wd_redact_buf(&twice) != 0 ||
	     twice.len != b.len || memcmp(twice.ptr, b.ptr, b.len) != 0))
		abort();

	j = json_pack("{s:s?}", "text", text);
	wd_redact_json(j);
	json_decref(j);
out:
	free(hits);
	free(scanned);
	wd_buf_free(&b);
	wd_buf_free(&twice);
	free(secret);
	free(text);
	return 0;
}
