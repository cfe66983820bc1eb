/*
 * libFuzzer target for the "*** Begin Patch" parser: the input follows a
 * "*** Begin Patch" and an "*** Update File:" line, so every run goes through
 * the section parser; parsed files are applied in memory to a fixed sample.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/error.h"
#include "warden/patch.h"
#include "../../src/patch/patch_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char prefix[] = "*** Begin Patch\n*** Update File: src/f.c\n";
static const char sample[] =
	"int one(void)\n{\n\treturn 1;\n}\n\nint two(void)\n{\n\treturn 2;\n}\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(sizeof(prefix) + size);
	wd_patch *p = NULL;

	if (!text)
		return 0;
	memcpy(text, prefix, sizeof(prefix) - 1);
	memcpy(text + sizeof(prefix) - 1, data, size);
	if (wd_patch_parse(&p, text, sizeof(prefix) - 1 + size) == 0) {
		for (size_t i = 0; i < p->nfiles; i++) {
			wd_patch_report r = { 0 };
			wd_fuzzy_result res;
			wd_buf out = WD_BUF_INIT;
			json_t *hunks = json_array();

			r.json = json_object();
			if (hunks && r.json)
				wd_patch__fuzzy_apply(&out, &res, &r, p, &p->files[i], "f.c", sample,
				                      sizeof(sample) - 1, hunks);
			json_decref(hunks);
			wd_buf_free(&out);
			wd_patch_report_free(&r);
		}
	}
	wd_patch_free(p);
	free(text);
	return 0;
}
