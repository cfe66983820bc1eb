/*
 * libFuzzer target for the SEARCH/REPLACE parser: the input follows a path
 * line and a "<<<<<<< SEARCH" marker, so every run goes through the block
 * parser; parsed blocks are applied in memory to a fixed sample.
 */
#include "edit_harness.h"

static const char prefix[] = "src/f.c\n<<<<<<< SEARCH\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return edit_harness_run(prefix, sizeof(prefix) - 1, data, size);
}
