#ifndef WARDEN_FNV_H
#define WARDEN_FNV_H

/* FNV-1a, 64 bits: a fast hash for in-memory tables. Not a defence against
 * crafted collisions: a table keyed by untrusted text bounds its probes. */
#include <stddef.h>
#include <stdint.h>

#define WD_FNV1A64_INIT 1469598103934665603ull

/* One more byte into hash h (for a hash of bytes the caller transforms). */
static inline uint64_t wd_fnv1a64_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * 1099511628211ull;
}

static inline uint64_t wd_fnv1a64(const void *data, size_t len)
{
	const unsigned char *s = data;
	uint64_t h = WD_FNV1A64_INIT;

	for (size_t i = 0; i < len; i++)
		h = wd_fnv1a64_byte(h, s[i]);
	return h;
}

#endif
