/*
 * libFuzzer target for wd_glob_match, the pattern matcher the glob walk and
 * scope checks use on untrusted patterns and paths. Input: "PATTERN\nPATH".
 * Invariants:
 *   - no crash, and no slowness: matching is O(pattern x path), so even the
 *     largest inputs (capped at 1 KiB of pattern, 4 KiB of path) are quick;
 *   - a pattern that escapes every character of the path matches it;
 *   - on small ASCII inputs, the answer is that of the patch engine's former
 *     recursive matcher, kept below as the oracle (the same syntax,
 *     exponential, so only where it stays cheap).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warden/beneath.h"

#define PATTERN_MAX 1024
#define PATH_CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* [...] at p (p[0] == '['): 1 match, 0 no match, -1 not a class. Sets *end
 * past the closing bracket. */
static int match_class(const char *p, char c, const char **end)
{
	const char *q = p + 1;
	int neg = 0, hit = 0;

	if (*q == '!' || *q == '^') {
		neg = 1;
		q++;
	}
	if (*q == ']') { /* a leading ']' is literal */
		hit |= c == ']';
		q++;
	}
	for (; *q && *q != ']'; q++) {
		if (q[1] == '-' && q[2] && q[2] != ']') {
			hit |= c >= q[0] && c <= q[2];
			q += 2;
		} else {
			hit |= c == *q;
		}
	}
	if (*q != ']')
		return -1;
	*end = q + 1;
	return c != '/' && (hit ^ neg);
}

/* The patch engine's former recursive matcher, kept here as the oracle.
 * Glob match anchored at both ends: '*' and '?' stay within one directory,
 * "**" crosses directories, and "**" followed by "/" also matches no directory. */
static int ref_glob_match(const char *p, const char *s)
{
	for (;;) {
		if (p[0] == '*' && p[1] == '*') {
			while (*p == '*')
				p++;
			if (*p == '/') {
				/* "**" + "/" : zero or more whole directories */
				p++;
				for (const char *t = s;;) {
					if (ref_glob_match(p, t))
						return 1;
					t = strchr(t, '/');
					if (!t)
						return 0;
					t++;
				}
			}
			for (const char *t = s;; t++) {
				if (ref_glob_match(p, t))
					return 1;
				if (!*t)
					return 0;
			}
		}
		if (*p == '*') {
			p++;
			for (const char *t = s;; t++) {
				if (ref_glob_match(p, t))
					return 1;
				if (!*t || *t == '/')
					return 0;
			}
		}
		if (!*p)
			return !*s;
		if (!*s)
			return 0;
		if (*p == '?') {
			if (*s == '/')
				return 0;
			p++;
			s++;
			continue;
		}
		if (*p == '[') {
			const char *end = NULL;
			int m = match_class(p, *s, &end);

			if (m == 0)
				return 0;
			if (m == 1) {
				p = end;
				s++;
				continue;
			}
		}
		if (*p == '\\' && p[1])
			p++;
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
}

static int small_ascii(const char *pat, const char *path)
{
	size_t stars = 0;

	if (strlen(pat) > 16 || strlen(path) > 32)
		return 0;
	for (const char *s = pat; *s; s++) {
		stars += *s == '*';
		if ((unsigned char)*s >= 0x80)
			return 0;
	}
	for (const char *s = path; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return stars <= 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t pl = nl ? (size_t)(nl - (const char *)data) : size;
	size_t rl = nl ? size - pl - 1 : 0;
	char *pat, *path, *lit;
	int m;

	if (pl > PATTERN_MAX || rl > PATH_CAP)
		return 0;
	pat = strndup((const char *)data, pl);
	path = strndup(nl ? nl + 1 : "", rl);
	lit = malloc(2 * rl + 1);
	if (!pat || !path || !lit)
		goto out;
	m = wd_glob_match(pat, path);
	if (m != 0 && m != 1)
		abort();
	if (small_ascii(pat, path) && m != ref_glob_match(pat, path))
		abort();
	/* every character escaped: a literal pattern for path */
	{
		size_t n = 0;

		for (const char *s = path; *s; s++) {
			lit[n++] = '\\';
			lit[n++] = *s;
		}
		lit[n] = '\0';
		if (!wd_glob_match(lit, path))
			abort();
	}
out:
	free(pat);
	free(path);
	free(lit);
	return 0;
}
