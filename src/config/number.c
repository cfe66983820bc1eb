/*
 * The one typed number parser for config values. Every numeric key is read
 * through it with the range it allows, so "abc", "99999999999999999999",
 * "4294967298" for a small count, "4g" for a round count, "nan", "inf" and
 * "1e400" are refused with the key, the value and the range in the message,
 * never silently replaced by a default, wrapped, or truncated to an int.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/config.h"
#include "warden/error.h"

#define SHOWN_MAX 40 /* how much of a hostile value a message repeats */

static int refuse(const char *key, const char *text, const char *want)
{
	size_t n = strlen(text);

	return wd_error_set(WD_EINPUT, "config %s = '%.*s%s': %s", key, SHOWN_MAX, text,
	                    n > SHOWN_MAX ? "..." : "", want);
}

static int out_of_range_int(const char *key, const char *text, long min, long max)
{
	char want[96];

	snprintf(want, sizeof(want), "must be a whole number from %ld to %ld", min, max);
	return refuse(key, text, want);
}

int wd_config_parse_int(long *out, const char *key, const char *text, long min, long max)
{
	const char *s = text;
	unsigned long long mag = 0, mult = 1;
	int neg = 0;

	if (!key)
		key = "value";
	if (!text)
		return refuse(key, "", "is not a number");
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (*s < '0' || *s > '9')
		return out_of_range_int(key, text, min, max);
	for (; *s >= '0' && *s <= '9'; s++) {
		if (mag > (ULLONG_MAX - 9) / 10)
			return out_of_range_int(key, text, min, max);
		mag = mag * 10 + (unsigned)(*s - '0');
	}
	/* git's suffixes: k, m, g (powers of 1024) */
	if (*s == 'k' || *s == 'K')
		mult = 1024ULL;
	else if (*s == 'm' || *s == 'M')
		mult = 1024ULL * 1024;
	else if (*s == 'g' || *s == 'G')
		mult = 1024ULL * 1024 * 1024;
	if (mult > 1)
		s++;
	if (*s)
		return out_of_range_int(key, text, min, max);
	if (mag > (unsigned long long)LONG_MAX / mult)
		return out_of_range_int(key, text, min, max);
	mag *= mult;
	{
		long v = neg ? -(long)mag : (long)mag;

		if (v < min || v > max)
			return out_of_range_int(key, text, min, max);
		*out = v;
	}
	return 0;
}

int wd_config_parse_real(double *out, const char *key, const char *text, double min, double max)
{
	char want[96], *end = NULL;
	double d;

	if (!key)
		key = "value";
	snprintf(want, sizeof(want), "must be a number from %g to %g", min, max);
	if (!text || !*text)
		return refuse(key, text ? text : "", want);
	/* strtod takes "nan", "inf" and hex floats: only decimal digits, a sign,
	 * a point and an exponent are a config number */
	for (const char *s = text; *s; s++)
		if (!strchr("0123456789+-.eE", *s))
			return refuse(key, text, want);
	errno = 0;
	d = strtod(text, &end);
	if (end == text || *end || errno == ERANGE || !isfinite(d) || d < min || d > max)
		return refuse(key, text, want);
	*out = d;
	return 0;
}

int wd_config_get_range(long *out, const wd_config *cfg, const char *key, long min, long max)
{
	char *v = NULL;
	int rc = wd_config_get_string(&v, cfg, key);

	if (rc == 0)
		rc = wd_config_parse_int(out, key, v, min, max);
	free(v);
	return rc;
}

int wd_config_get_real(double *out, const wd_config *cfg, const char *key, double min,
                       double max)
{
	char *v = NULL;
	int rc = wd_config_get_string(&v, cfg, key);

	if (rc == 0)
		rc = wd_config_parse_real(out, key, v, min, max);
	free(v);
	return rc;
}
