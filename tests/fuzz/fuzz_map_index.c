/*
 * libFuzzer target for the map's saved name index (src/context/map_index.c):
 * whatever the file beside the tag pack holds, a map built with the cache
 * must not crash nor read out of bounds, and must come out whole (ranked and
 * rendered); a damaged index is rebuilt.
 *
 * The input edits the index a map of a small built-in tree saved:
 *
 *   byte 0      flags: 1 reseal (make the checksum right, so that the edits
 *               reach the checks behind it), 2 cut the file at the length
 *               in bytes 1..2, 4 change a file of the tree first (the saved
 *               index is then updated rather than taken as it is),
 *               8 remove a file of the tree first, 16 change a file of the
 *               tree but not its names (the saved index is then patched)
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
static wd_buf good;       /* the index saved by a map of the tree */
static wd_buf idx_file;

static const char B_C[] = "int beta(void) { return alpha() + shared(); }\nint shared;\n";
static const char B_C2[] = "int beta(void) { return gamma(); }\nint alpha;\n/* more */\n";
static const char A_C[] = "int shared(void) { return 0; }\nint alpha(void) { return shared() + beta(); }\n";
static const char A_C2[] = "/* moved */\nint shared(void) { return 0; }\n"
                           "int alpha(void) { return shared() + beta() + beta(); }\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	strcpy(tree, "/tmp/wd-fuzzmi-XXXXXX");
	strcpy(cache, "/tmp/wd-fuzzmic-XXXXXX");
	if (!mkdtemp(tree) || !mkdtemp(cache))
		abort();
	map_harness_puts(tree, "a/first.c", A_C);
	map_harness_puts(tree, "b/second.c", B_C);
	map_harness_puts(tree, "c/third.c", "int gamma(void) { return beta() + beta() + alpha(); }\n");
	map_harness_puts(tree, "d/fourth.py", "def delta(x):\n    return gamma(x)\n\nclass Beta:\n    pass\n");
	map_harness_puts(tree, "e/fifth.go", "package e\n\nfunc Epsilon() int { return Zeta() }\n\nfunc Zeta() int { return 1 }\n");
	map_harness_once(tree, cache);
	/* the index is "<pack>.idx", the one such file of the cache */
	{
		wd_buf dir = WD_BUF_INIT;
		struct dirent *e;
		DIR *d;

		if (wd_path_join(&dir, cache, "map") != 0 || !(d = opendir(dir.ptr)))
			abort();
		while ((e = readdir(d)) != NULL) {
			size_t l = strlen(e->d_name);

			if (l > 4 && !strcmp(e->d_name + l - 4, ".idx") &&
			    wd_path_join(&idx_file, dir.ptr, e->d_name) != 0)
				abort();
		}
		closedir(d);
		wd_buf_free(&dir);
		if (!idx_file.len || wd_file_read(&good, idx_file.ptr, 0) != 0)
			abort();
	}
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
	if (flags & 1)
		wd_map__index_seal(b.ptr, b.len);
	if (wd_file_write_atomic(idx_file.ptr, b.ptr, b.len, 0644) != 0)
		abort();
	if (flags & 4)
		map_harness_puts(tree, "b/second.c", B_C2);
	if (flags & 16)
		map_harness_puts(tree, "a/first.c", A_C2);
	if (flags & 8) {
		wd_buf p = WD_BUF_INIT;

		if (wd_path_join(&p, tree, "c/third.c") != 0)
			abort();
		unlink(p.ptr);
		wd_buf_free(&p);
	}
	map_harness_once(tree, cache);
	/* the tree as it was, for the next input */
	if (flags & 4)
		map_harness_puts(tree, "b/second.c", B_C);
	if (flags & 16)
		map_harness_puts(tree, "a/first.c", A_C);
	if (flags & 8)
		map_harness_puts(tree, "c/third.c", "int gamma(void) { return beta() + beta() + alpha(); }\n");
	wd_buf_free(&b);
	wd_error_clear();
	return 0;
}
