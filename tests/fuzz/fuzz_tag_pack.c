/*
 * libFuzzer target for the map's tag pack and cache form (src/context/map.c,
 * tags.c): whatever the pack files of the cache hold, a warm map built with
 * them must not crash nor read out of bounds (their mappings are read-only:
 * a write faults too), and must come out ranked and rendered, every
 * occurrence within its file's tags.
 *
 * The input edits the pack a map of a small built-in tree saved:
 *
 *   byte 0      flags: 1 read it as a blob pack (the work tree's own pack
 *               removed: a new work tree's lookups), 2 cut the file at the
 *               length in bytes 1..2, 4 change the large file of the tree
 *               first (its damaged entry is then the earlier text a partial
 *               re-parse starts from)
 *   bytes 1..2  the length to cut at (little endian, modulo the size + 1)
 *   the rest    edits of 5 bytes: where (4 bytes, little endian, modulo the
 *               size) and a byte to XOR there
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/map.h"

#include "../../src/context/map_int.h"
#include "map_harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tree[64], cache[64];
static wd_buf good;            /* the pack saved by a map of the tree */
static wd_buf pack_file, blob_file, idx_file, tags_dir, big, big2;

/* The cache's files: the work tree's pack, its blob pack and its index. */
static void find_files(void)
{
	wd_buf dir = WD_BUF_INIT;
	struct dirent *e;
	DIR *d;

	if (wd_path_join(&dir, cache, "map") != 0 || !(d = opendir(dir.ptr)))
		abort();
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		wd_buf *to = l > 4 && !strcmp(e->d_name + l - 4, ".idx") ? &idx_file
		             : strstr(e->d_name, "-blobs-") ? &blob_file
		             : !strncmp(e->d_name, "pack-", 5) ? &pack_file : NULL;

		if (to && wd_path_join(to, dir.ptr, e->d_name) != 0)
			abort();
	}
	closedir(d);
	wd_buf_free(&dir);
	if (!pack_file.len || !blob_file.len || !idx_file.len)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	strcpy(tree, "/tmp/wd-fuzztp-XXXXXX");
	strcpy(cache, "/tmp/wd-fuzztpc-XXXXXX");
	if (!mkdtemp(tree) || !mkdtemp(cache))
		abort();
	/* a file large enough to keep its regions (a partial re-parse's start) */
	for (int i = 0; big.len < 70 * 1024; i++)
		if (wd_buf_printf(&big, "int big_%d(int x) { return x + helper_%d(x); }\n", i, i % 7) != 0)
			abort();
	if (wd_buf_put(&big2, big.ptr, big.len) != 0 || wd_buf_puts(&big2, "int added(void) { return 1; }\n") != 0)
		abort();
	map_harness_put(tree, "big.c", big.ptr, big.len);
	map_harness_puts(tree, "first.c", "int shared(void) { return 0; }\nint alpha(void) { return shared(); }\n");
	map_harness_puts(tree, "fourth.py", "def delta(x):\n    return gamma(x)\n\nclass Beta:\n    pass\n");
	map_harness_puts(tree, "fifth.go", "package e\n\nfunc Epsilon() int { return Zeta() }\n\nfunc Zeta() int { return 1 }\n");
	/* more than 64 files parsed: the pack is linked as a blob pack too */
	for (int i = 0; i < 70; i++) {
		char name[32], body[96];
		int n = snprintf(body, sizeof(body), "int gen_%d(void) { return alpha() + %d; }\n", i, i);

		snprintf(name, sizeof(name), "gen%02d.c", i);
		map_harness_put(tree, name, body, (size_t)n);
	}
	map_harness_once(tree, cache);
	find_files();
	if (wd_file_read(&good, pack_file.ptr, 0) != 0 || wd_path_join(&tags_dir, cache, "tags") != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wd_buf b = WD_BUF_INIT;
	uint8_t flags;

	if (size < 3)
		return 0;
	flags = data[0];
	map_harness_damage(&b, &good, data, size);
	unlink(idx_file.ptr);
	if (flags & 1) {
		unlink(pack_file.ptr);
		if (wd_file_write_atomic(blob_file.ptr, b.ptr, b.len, 0644) != 0)
			abort();
	} else if (wd_file_write_atomic(pack_file.ptr, b.ptr, b.len, 0644) != 0) {
		abort();
	}
	if (flags & 4)
		map_harness_put(tree, "big.c", big2.ptr, big2.len);
	map_harness_once(tree, cache);
	/* the cache and tree as they were, for the next input */
	if (flags & 4)
		map_harness_put(tree, "big.c", big.ptr, big.len);
	if (wd_file_write_atomic(pack_file.ptr, good.ptr, good.len, 0644) != 0 ||
	    wd_file_write_atomic(blob_file.ptr, good.ptr, good.len, 0644) != 0 ||
	    wd_rm_rf(tags_dir.ptr) != 0)
		abort();
	wd_buf_free(&b);
	wd_error_clear();
	return 0;
}
