#ifndef WARDEN_FNV_H
#define WARDEN_FNV_H

/* FNV-1a, 64 bits: a fast hash for in-memory tables. Not a defence against
 * crafted collisions: a table keyed by untrusted text bounds its probes. */
#include <stddef.h>
#include <stdint.h>

static inline uint64_t wd_fnv1a64(const void *data, size_t len)
{
	const unsigned char *s = data;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

#endif
