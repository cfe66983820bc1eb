/*
 * libFuzzer target for the two readers of untrusted text that issue 12
 * added: a repository's .wardenignore (wd_outbound_parse_ignore, then the
 * policy judging paths with those globs) and a model reply's "ESCALATE:"
 * line (wd_run_reply_escalation). Beyond "no crash, no leak": every glob is
 * non-empty and at most 1026 bytes, a question is at most 2000 bytes with no
 * control character, and the default deny globs always hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/outbound.h"
#include "../../src/run/run_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wd_strvec globs = WD_STRVEC_INIT;
	wd_outbound_opts o = { 0 };
	wd_outbound *ob = NULL;
	wd_buf q = WD_BUF_INIT;
	char *text = malloc(size + 1);
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (wd_outbound_parse_ignore(&globs, text, size) == 0)
		for (size_t i = 0; i < globs.n; i++)
			if (!globs.v[i][0] || strlen(globs.v[i]) > 1026)
				abort();
	o.ignore_text = text;
	o.ignore_len = size;
	if (wd_outbound_new(&ob, &o) == 0) {
		if (wd_outbound_path_allowed(ob, ".env", NULL) || wd_outbound_path_allowed(ob, "a/id_rsa", NULL))
			abort();
		(void)wd_outbound_path_allowed(ob, text, NULL);
		wd_outbound_free(ob);
	}
	r = wd_run_reply_escalation(&q, text);
	if (r == 1) {
		if (q.len == 0 || q.len > 2000)
			abort();
		for (size_t i = 0; i < q.len; i++)
			if ((unsigned char)q.ptr[i] < 0x20 || q.ptr[i] == 0x7f)
				abort();
	}
	wd_buf_free(&q);
	wd_strvec_free(&globs);
	free(text);
	wd_error_clear();
	return 0;
}
