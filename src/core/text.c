/*
 * Cleaning text for terminals and commits, and spotting deceptive paths
 * and trailer-shaped lines (see warden/text.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "warden/error.h"
#include "warden/text.h"

/* Decode one UTF-8 sequence at s (left > 0): its length, or 0 when invalid. */
size_t wd_utf8_decode(const unsigned char *s, size_t left, unsigned *cp)
{
	unsigned c = s[0], v;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

static int is_bidi(unsigned cp)
{
	return cp == 0x200e || cp == 0x200f || cp == 0x061c || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static int is_invisible(unsigned cp)
{
	return (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || cp == 0xfeff || cp == 0x00ad;
}

int wd_text_clean(wd_buf *out, const char *s, size_t len, int keep_newlines)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	int rc = 0;

	while (i < len && !rc) {
		unsigned cp = 0;
		size_t n = wd_utf8_decode(u + i, len - i, &cp);

		if (n == 0) {
			rc = wd_buf_puts(out, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (cp == '\n' && keep_newlines)
			rc = wd_buf_putc(out, '\n');
		else if (cp == '\t')
			rc = wd_buf_putc(out, ' ');
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || is_bidi(cp))
			; /* dropped */
		else
			rc = wd_buf_put(out, s + i, n);
		i += n;
	}
	return rc;
}

char *wd_text_clean_line(const char *s)
{
	wd_buf b = WD_BUF_INIT;

	if (!s)
		s = "";
	if (wd_text_clean(&b, s, strlen(s), 0)) {
		wd_buf_free(&b);
		return NULL;
	}
	return wd_buf_detach(&b);
}

enum script { S_NONE, S_LATIN, S_GREEK, S_CYRILLIC };

static enum script script_of(unsigned cp)
{
	if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	    (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) || (cp >= 0x1e00 && cp <= 0x1eff))
		return S_LATIN;
	if (cp >= 0x370 && cp <= 0x3ff)
		return S_GREEK;
	if (cp >= 0x400 && cp <= 0x52f)
		return S_CYRILLIC;
	return S_NONE;
}

const char *wd_text_path_deceptive(const char *path)
{
	const unsigned char *u = (const unsigned char *)path;
	size_t len = strlen(path), i = 0;
	unsigned seen = 0; /* scripts of the current component, as bits */

	while (i < len) {
		unsigned cp = 0;
		size_t n = wd_utf8_decode(u + i, len - i, &cp);
		enum script sc;

		if (n == 0)
			return "invalid UTF-8 in path";
		if (is_bidi(cp))
			return "bidirectional control character in path";
		if (is_invisible(cp))
			return "invisible character in path";
		/* a word is what lies between separators: "данные.md" is fine */
		if (cp == '/' || cp == '.' || cp == '-' || cp == '_' || cp == ' ')
			seen = 0;
		sc = script_of(cp);
		if (sc != S_NONE) {
			seen |= 1u << sc;
			if (seen & (seen - 1))
				return "a path component mixes Latin, Greek or Cyrillic letters "
				       "(look-alike characters)";
		}
		i += n;
	}
	return NULL;
}

int wd_text_is_trailer_line(const char *line, size_t len)
{
	static const char *const bare[] = { "fixes", "closes", "resolves", "cc", "link" };
	size_t i = 0, tok;
	int dash = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	tok = i;
	if (i == len || !isalpha((unsigned char)line[i]))
		return 0;
	while (i < len && (isalnum((unsigned char)line[i]) || line[i] == '-')) {
		dash |= line[i] == '-';
		i++;
	}
	/* git also takes "Token :" and a separator right after the token */
	while (i < len && line[i] == ' ')
		i++;
	if (i == len || line[i] != ':')
		return 0;
	if (dash)
		return 1;
	for (size_t k = 0; k < sizeof(bare) / sizeof(bare[0]); k++) {
		size_t bl = strlen(bare[k]);
		size_t tl = 0;

		while (tok + tl < len && isalnum((unsigned char)line[tok + tl]))
			tl++;
		if (tl == bl && !strncasecmp(line + tok, bare[k], bl))
			return 1;
	}
	return 0;
}

size_t wd_edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), prev[64], cur[64];

	if (la >= 64 || lb >= 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(cur[0]));
	}
	return prev[lb];
}
