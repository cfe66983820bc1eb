/*
 * libFuzzer target for whole-file blocks: the input follows a path line and
 * an opening fence, so every run without another edit goes through the
 * block parser; parsed files are applied in memory to a fixed sample.
 */
#include "edit_harness.h"

static const char prefix[] = "src/f.c\n```c\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return edit_harness_run(prefix, sizeof(prefix) - 1, data, size);
}
