/*
 * libFuzzer target for the ledger's redactor, which sees untrusted text
 * (model replies, check output, diffs). Input: "SECRET\nTEXT". Invariants:
 * no crash, and a registered secret never survives in the output (unless the
 * secret itself contains the replacement marker's characters).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char *secret, *text, *out;
	size_t sl = nl ? (size_t)(nl - (const char *)data) : 0;
	wd_buf b = WD_BUF_INIT;
	json_t *j;

	if (!nl)
		return 0;
	secret = strndup((const char *)data, sl);
	text = strndup(nl + 1, size - sl - 1);
	if (!secret || !text)
		goto out;
	wd_redact_reset();
	wd_redact_register(secret);
	out = wd_redact(text);
	if (!out)
		goto out;
	if (strlen(secret) >= 6 && !strpbrk(secret, "[]") && strstr(out, secret))
		abort();
	free(out);
	if (wd_buf_put(&b, nl + 1, size - sl - 1) == 0 && wd_redact_buf(&b) != 0)
		abort();
	j = json_pack("{s:s?}", "text", text);
	wd_redact_json(j);
	json_decref(j);
out:
	wd_buf_free(&b);
	free(secret);
	free(text);
	return 0;
}
