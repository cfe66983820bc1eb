/*
 * Async-signal-safe string helpers for code that runs in the forked child
 * (child.c, ns.c, landlock.c, overlay.c): no malloc, no locale, no stdio.
 */
#include <string.h>

#include "sbx.h"

size_t sbx_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t k = n < size - 1 ? n : size - 1;

		memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return n;
}

size_t sbx_strlcat(char *dst, const char *src, size_t size)
{
	size_t d = strnlen(dst, size);

	if (d == size)
		return d + strlen(src);
	return d + sbx_strlcpy(dst + d, src, size - d);
}

void sbx_utoa(char *dst, size_t size, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	if (size == 0)
		return;
	for (size_t i = 0; i < n && i + 1 < size; i++) {
		dst[i] = tmp[n - 1 - i];
		dst[i + 1] = '\0';
	}
}

/* The name of a layer, for messages: a constant table, safe in the child. */
const char *sbx_layer_name(int layer)
{
	static const char *const names[SBX_NLAYERS] = {
		"userns", "mntns", "pidns", "netns", "landlock", "seccomp", "limits"
	};

	if (layer < 0 || layer >= SBX_NLAYERS)
		return "sandbox";
	return names[layer];
}
