/* Slices and lines over untrusted check output (see gate_int.h). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate_int.h"
#include "warden/error.h"
#include "warden/fs.h"

int wd_gate_next_line(wd_slice *line, const char **pos, const char *end)
{
	const char *p = *pos, *nl;

	if (p >= end)
		return 0;
	nl = memchr(p, '\n', (size_t)(end - p));
	line->p = p;
	line->n = (size_t)((nl ? nl : end) - p);
	if (line->n && p[line->n - 1] == '\r')
		line->n--;
	*pos = nl ? nl + 1 : end;
	return 1;
}

int wd_gate_strip_ansi(wd_buf *out, const char *text, size_t len)
{
	size_t i = 0, lit = 0;
	int rc;

	if ((rc = wd_buf_grow(out, len)) != 0)
		return rc;
	while (i < len) {
		size_t j;

		if (text[i] != '\x1b' || i + 1 >= len || text[i + 1] != '[') {
			i++;
			continue;
		}
		/* CSI: ESC [ parameters (0x30-0x3f) intermediates (0x20-0x2f) final (0x40-0x7e) */
		j = i + 2;
		while (j < len && text[j] >= 0x20 && text[j] <= 0x3f)
			j++;
		if (j < len && text[j] >= 0x40 && text[j] <= 0x7e)
			j++;
		if ((rc = wd_buf_put(out, text + lit, i - lit)) != 0)
			return rc;
		i = lit = j;
	}
	return wd_buf_put(out, text + lit, len - lit);
}

int wd_slice_starts(wd_slice s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

int wd_slice_eq(wd_slice s, const char *str)
{
	return s.n == strlen(str) && memcmp(s.p, str, s.n) == 0;
}

long wd_slice_find(wd_slice s, const char *needle)
{
	const char *at = memmem(s.p, s.n, needle, strlen(needle));

	return at ? (long)(at - s.p) : -1;
}

long wd_slice_find_ci(wd_slice s, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return 0;
	for (size_t i = 0; i + n <= s.n; i++)
		if (strncasecmp(s.p + i, needle, n) == 0 && memchr(s.p + i, 0, n) == NULL)
			return (long)i;
	return -1;
}

wd_slice wd_slice_trim(wd_slice s)
{
	while (s.n && isspace((unsigned char)s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && isspace((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

int wd_slice_uint(wd_slice *s, size_t *out)
{
	size_t v = 0, i = 0;

	while (i < s->n && isdigit((unsigned char)s->p[i])) {
		unsigned d = (unsigned)(s->p[i] - '0');

		v = v > (SIZE_MAX - d) / 10 ? SIZE_MAX : v * 10 + d;
		i++;
	}
	if (i == 0)
		return 0;
	s->p += i;
	s->n -= i;
	*out = v;
	return 1;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int wd_gate_utf8_clean(wd_buf *out, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	int rc;

	wd_buf_clear(out);
	if ((rc = wd_buf_grow(out, len)) != 0)
		return rc;
	while (i < len) {
		size_t k = utf8_seq(s + i, len - i);

		if (k == 0 || s[i] == 0) {
			if ((rc = wd_buf_putc(out, '?')) != 0)
				return rc;
			i++;
			continue;
		}
		if ((rc = wd_buf_put(out, text + i, k)) != 0)
			return rc;
		i += k;
	}
	return 0;
}
