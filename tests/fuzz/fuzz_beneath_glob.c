/*
 * libFuzzer target for wd_glob_match, the pattern matcher the glob walk and
 * scope checks use on untrusted patterns and paths. Input: "PATTERN\nPATH".
 * Invariants:
 *   - no crash, and no slowness: matching is O(pattern x path), so even the
 *     largest inputs (capped at 1 KiB of pattern, 4 KiB of path) are quick;
 *   - a pattern that escapes every character of the path matches it;
 *   - on small ASCII inputs, the answer is the patch engine's recursive
 *     matcher's (the same syntax, exponential, so only where it stays cheap).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warden/beneath.h"
#include "../../src/patch/patch_int.h"

#define PATTERN_MAX 1024
#define PATH_CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	if (small_ascii(pat, path) && m != wd_patch__glob_match(pat, path))
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
