/*
 * libFuzzer target for config values and the repository's config file, both
 * untrusted (the repository's .warden/config arrives with the code). The
 * first byte picks the part:
 *   0: wd_config_parse_int, the input a value; a result is in its range and
 *      equals what a careful reference parse of the same text gives;
 *   1: wd_config_parse_real; a result is finite and in its range;
 *   2: wd_config__strip_includes; what is left has no include section header
 *      and stripping it again changes nothing.
 */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "warden/buf.h"
#include "warden/config.h"
#include "warden/error.h"
#include "../../src/config/config_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_int(const char *s)
{
	static const long ranges[][2] = { { 1, 20 }, { 0, 100 }, { -LONG_MAX, LONG_MAX },
	                                  { 1, 86400000 } };

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		long v = 12345;

		if (wd_config_parse_int(&v, "k", s, ranges[i][0], ranges[i][1]) == 0) {
			if (v < ranges[i][0] || v > ranges[i][1])
				__builtin_trap();
		} else if (v != 12345 || !strstr(wd_error_last(), "config k")) {
			__builtin_trap(); /* a refusal leaves *out alone and names the key */
		}
	}
}

static void fuzz_real(const char *s)
{
	double d = 7;

	if (wd_config_parse_real(&d, "k", s, 0, 1e5) == 0) {
		if (!isfinite(d) || d < 0 || d > 1e5)
			__builtin_trap();
	} else if (d != 7) {
		__builtin_trap();
	}
}

static void fuzz_strip(const char *s, size_t len)
{
	wd_buf once = WD_BUF_INIT, twice = WD_BUF_INIT;
	wd_strvec d1 = WD_STRVEC_INIT, d2 = WD_STRVEC_INIT;

	if (wd_config__strip_includes(&once, &d1, s, len) != 0)
		goto out;
	if (wd_config__strip_includes(&twice, &d2, once.ptr ? once.ptr : "", once.len) != 0)
		goto out;
	if (d2.n != 0 || once.len != twice.len || memcmp(wd_buf_cstr(&once), wd_buf_cstr(&twice), once.len))
		__builtin_trap();
out:
	wd_buf_free(&once);
	wd_buf_free(&twice);
	wd_strvec_free(&d1);
	wd_strvec_free(&d2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 65536)
		return 0;
	if (!(s = strndup((const char *)data + 1, size - 1)))
		return 0;
	switch (data[0] % 3) {
	case 0: fuzz_int(s); break;
	case 1: fuzz_real(s); break;
	default: fuzz_strip((const char *)data + 1, size - 1); break;
	}
	free(s);
	wd_error_clear();
	return 0;
}
