/*
 * libFuzzer target for the map's cache of a git work tree's files
 * ("<pack>.files", wd_map__files_parse in src/context/map.c): whatever the
 * file holds, a parse must not crash nor read past it, and a list it takes
 * must be what the map may trust: sorted, distinct, relative paths without
 * an empty, "." or ".." component. The key is taken from the input itself
 * (bytes 10..50), so the checks behind it are reached.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"

#include "../../src/context/map_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sound(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/' || p[strlen(p) - 1] == '/')
		return 0;
	while (*c) {
		size_t l = strcspn(c, "/");

		if (!l || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += l + (c[l] == '/');
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t key[5] = { 0, 0, 0, 0, 0 };
	wd_strvec out = WD_STRVEC_INIT;
	char *copy = malloc(size ? size : 1);

	if (!copy)
		abort();
	memcpy(copy, data, size); /* exactly size bytes: ASan sees any read past them */
	if (size >= 50)
		memcpy(key, data + 10, sizeof(key));
	if (wd_map__files_parse(&out, copy, size, key) == 0) {
		for (size_t i = 0; i < out.n; i++)
			if (!sound(out.v[i]) || (i && strcmp(out.v[i - 1], out.v[i]) >= 0))
				abort();
	}
	wd_strvec_free(&out);
	wd_error_clear();
	free(copy);
	return 0;
}
