/*
 * libFuzzer target for the text guards (warden/text.h) on hostile text from
 * tickets, models and repositories, and the commit summary built from a
 * model's reply. Invariants:
 *   - wd_text_clean leaves no C0 control (but '\n' when asked), DEL, C1 or
 *     bidi control, and its output is valid UTF-8 (so cleaning it again is
 *     the identity);
 *   - wd_text_path_deceptive refuses any path holding a bidi control;
 *   - the commit summary holds no trailer-shaped line and no control byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/text.h"
#include "../../src/run/run_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(const char *s, size_t len, int keep_nl)
{
	wd_buf a = WD_BUF_INIT, b = WD_BUF_INIT;

	if (wd_text_clean(&a, s, len, keep_nl) != 0)
		goto out;
	for (size_t i = 0; i < a.len; i++) {
		unsigned char c = (unsigned char)a.ptr[i];

		if ((c < 0x20 && !(keep_nl && c == '\n')) || c == 0x7f)
			__builtin_trap();
		/* C1 in UTF-8: 0xc2 0x80-0x9f; bidi: e2 80 8e/8f/aa-ae, e2 81 a6-a9, d8 9c */
		if (c == 0xc2 && i + 1 < a.len && (unsigned char)a.ptr[i + 1] <= 0x9f)
			__builtin_trap();
		if (c == 0xe2 && i + 2 < a.len && (unsigned char)a.ptr[i + 1] == 0x80 &&
		    ((unsigned char)a.ptr[i + 2] == 0x8e || (unsigned char)a.ptr[i + 2] == 0x8f ||
		     ((unsigned char)a.ptr[i + 2] >= 0xaa && (unsigned char)a.ptr[i + 2] <= 0xae)))
			__builtin_trap();
	}
	if (wd_text_clean(&b, a.ptr ? a.ptr : "", a.len, keep_nl) != 0)
		goto out;
	if (a.len != b.len || (a.len && memcmp(a.ptr, b.ptr, a.len)))
		__builtin_trap();
out:
	wd_buf_free(&a);
	wd_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	wd_buf sum = WD_BUF_INIT;

	if (size > 65536)
		return 0;
	if (!(s = strndup((const char *)data, size)))
		return 0;
	check_clean((const char *)data, size, 0);
	check_clean((const char *)data, size, 1);
	if (strstr(s, "\xe2\x80\xae") && !wd_text_path_deceptive(s))
		__builtin_trap();
	wd_run_model_summary(&sum, s);
	for (size_t i = 0; i < sum.len;) {
		const char *nl = memchr(sum.ptr + i, '\n', sum.len - i);
		size_t l = nl ? (size_t)(nl - (sum.ptr + i)) : sum.len - i;

		if (wd_text_is_trailer_line(sum.ptr + i, l))
			__builtin_trap();
		for (size_t k = 0; k < l; k++)
			if ((unsigned char)sum.ptr[i + k] < 0x20 || sum.ptr[i + k] == 0x7f)
				__builtin_trap();
		i += l + 1;
	}
	wd_buf_free(&sum);
	free(s);
	return 0;
}
