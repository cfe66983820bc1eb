#ifndef WARDEN_FUZZ_MAP_HARNESS_H
#define WARDEN_FUZZ_MAP_HARNESS_H

/*
 * What the map's cache fuzz targets (fuzz_map_index, fuzz_tag_pack) share: a
 * file of the built-in tree written, and one warm map of it that must come
 * out ranked and rendered, every definition's occurrence within its file's
 * tags, whatever the damaged cache held. Included by exactly one target per
 * binary.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/fs.h"
#include "warden/map.h"

#include "../../src/context/map_int.h"

/* Write `text` (len bytes) at tree/rel, making its directory. */
static void map_harness_put(const char *tree, const char *rel, const char *text, size_t len)
{
	wd_buf p = WD_BUF_INIT;
	char *slash;

	if (wd_path_join(&p, tree, rel) != 0)
		abort();
	slash = strrchr(p.ptr, '/');
	*slash = '\0';
	if (wd_mkdir_p(p.ptr, 0) != 0)
		abort();
	*slash = '/';
	if (wd_file_write_atomic(p.ptr, text, len, 0644) != 0)
		abort();
	wd_buf_free(&p);
}

static void map_harness_puts(const char *tree, const char *rel, const char *text)
{
	map_harness_put(tree, rel, text, strlen(text));
}

/*
 * The damaged copy of a good cache file, as the input says (size >= 3):
 *   byte 0      the target's flags; 2: cut the file at the length in bytes 1..2
 *   bytes 1..2  the length to cut at (little endian, modulo the size + 1)
 *   the rest    edits of 5 bytes: where (4 bytes, little endian, modulo the
 *               size) and a byte to XOR there
 */
static void map_harness_damage(wd_buf *out, const wd_buf *good, const uint8_t *data, size_t size)
{
	if (wd_buf_put(out, good->ptr, good->len) != 0)
		abort();
	for (size_t i = 3; i + 5 <= size && out->len; i += 5) {
		uint32_t at = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 |
		              (uint32_t)data[i + 2] << 16 | (uint32_t)data[i + 3] << 24;

		out->ptr[at % out->len] ^= (char)data[i + 4];
	}
	if (data[0] & 2)
		out->len = ((size_t)data[1] | (size_t)data[2] << 8) % (out->len + 1);
}

static void map_harness_once(const char *tree, const char *cache)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	wd_map *m = NULL;
	wd_buf out = WD_BUF_INIT;

	o.cache_dir = cache;
	o.threads = 1;
	if (wd_map_build(&m, tree, &o) != 0 || wd_map_rank(m, NULL) != 0 ||
	    wd_map_render(&out, m, 0, WD_MAP_RENDER_LINES) != 0)
		abort();
	for (size_t id = 0; id < m->names.n; id++)
		for (size_t k = 0; k < m->info[id].defs.n; k++)
			if (m->info[id].defs.v[k].file >= m->nfiles ||
			    m->info[id].defs.v[k].val >= m->files[m->info[id].defs.v[k].file].tags.ndefs)
				abort();
	wd_map_free(m);
	wd_buf_free(&out);
}

#endif
