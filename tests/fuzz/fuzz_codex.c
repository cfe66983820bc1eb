/*
 * libFuzzer target for the "*** Begin Patch" parser: the input follows a
 * "*** Begin Patch" and an "*** Update File:" line, so every run goes through
 * the section parser; parsed files are applied in memory to a fixed sample.
 */
#include "edit_harness.h"

static const char prefix[] = "*** Begin Patch\n*** Update File: src/f.c\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return edit_harness_run(prefix, sizeof(prefix) - 1, data, size);
}
