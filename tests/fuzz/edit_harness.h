#ifndef WARDEN_FUZZ_EDIT_HARNESS_H
#define WARDEN_FUZZ_EDIT_HARNESS_H

/*
 * The one harness of the edit-format fuzz targets (fuzz_codex, fuzz_sr,
 * fuzz_whole): the input follows a target's fixed prefix, so every run goes
 * through that format's parser, and every parsed file is applied in memory
 * to a fixed sample. Included by exactly one target per binary.
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

/* (enough bodies one tab deep for the file's habits to speak) */
static const char edit_harness_sample[] =
	"int one(void)\n{\n\treturn 1;\n}\n\nint two(void)\n{\n\treturn 2;\n}\n\n"
	"int three(int x)\n{\n\tif (x)\n\t\treturn 3;\n\treturn 0;\n}\n\n"
	"int four(int y)\n{\n\ty++;\n\ty *= 2;\n\treturn y;\n}\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	return 0;
}

static void edit_harness_apply(wd_patch *p)
{
	wd_ind_pool pool = { 0 };
	wd_ind_evidence *mine = calloc(p->nfiles ? p->nfiles : 1, sizeof(*mine));
	int rc = mine ? 0 : WD_ENOMEM;

	/* the reply's pooled indentation evidence, as apply.c gathers it (each
	 * file's own kept for every other file, searched again for the rest) */
	for (size_t i = 0; i < p->nfiles && !rc; i++)
		rc = wd_patch__pool_add(&pool, &mine[i], p, &p->files[i], edit_harness_sample,
		                        sizeof(edit_harness_sample) - 1);
	for (size_t i = 0; i < p->nfiles && !rc; i++) {
		wd_patch_report r = { 0 };
		wd_fuzzy_result res;
		wd_buf out = WD_BUF_INIT;
		json_t *hunks = json_array();

		r.json = json_object();
		if (hunks && r.json)
			wd_patch__fuzzy_apply(&out, &res, &r, p, &p->files[i], "f.c", edit_harness_sample,
			                      sizeof(edit_harness_sample) - 1, hunks, &pool,
			                      i % 2 ? NULL : &mine[i]);
		json_decref(hunks);
		wd_buf_free(&out);
		wd_patch_report_free(&r);
	}
	for (size_t i = 0; mine && i < p->nfiles; i++)
		wd_patch__ev_free(&mine[i]);
	free(mine);
}

/* Parse `prefix` (plen bytes) followed by the input, and apply what parsed. */
static int edit_harness_run(const char *prefix, size_t plen, const uint8_t *data, size_t size)
{
	char *text = malloc(plen + size + 1);
	wd_patch *p = NULL;

	if (!text)
		return 0;
	memcpy(text, prefix, plen);
	memcpy(text + plen, data, size);
	if (wd_patch_parse(&p, text, plen + size) == 0)
		edit_harness_apply(p);
	wd_patch_free(p);
	free(text);
	return 0;
}

#endif
