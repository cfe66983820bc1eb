/*
 * libFuzzer target for the unified diff parser and the tolerant matcher.
 * Input: either a whole model reply, or "FILE CONTENT\n%%%%\nREPLY"; each
 * parsed file is then applied in memory to that content (or to a fixed
 * sample), which exercises the matcher and the refusal diagnostics too.
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

static const char sample[] =
	"#include <stdio.h>\n\nstatic int add(int a, int b)\n{\n\treturn a - b;\n}\n\n"
	"int main(void)\n{\n\tprintf(\"%d\\n\", add(2, 3));\n\treturn 0;\n}\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	return 0;
}

static void apply_all(const wd_patch *p, const char *content, size_t len)
{
	wd_ind_pool pool = { 0 };
	wd_ind_evidence *mine = calloc(p->nfiles ? p->nfiles : 1, sizeof(*mine));
	int rc = mine ? 0 : WD_ENOMEM;

	/* each file's own evidence kept for every other file, searched again
	 * for the rest: both ways fuzzy_apply is called */
	for (size_t i = 0; i < p->nfiles && !rc; i++)
		rc = wd_patch__pool_add(&pool, &mine[i], p, &p->files[i], content, len);
	for (size_t i = 0; i < p->nfiles && !rc; i++) {
		wd_patch_report r = { 0 };
		wd_fuzzy_result res;
		wd_buf out = WD_BUF_INIT;
		json_t *hunks = json_array();

		r.json = json_object();
		if (hunks && r.json)
			wd_patch__fuzzy_apply(&out, &res, &r, p, &p->files[i], "f.c", content, len, hunks,
			                      &pool, i % 2 ? &mine[i] : NULL);
		json_decref(hunks);
		wd_buf_free(&out);
		wd_patch_report_free(&r);
	}
	for (size_t i = 0; mine && i < p->nfiles; i++)
		wd_patch__ev_free(&mine[i]);
	free(mine);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *sep = size >= 6 ? memmem(text, size, "\n%%%%\n", 6) : NULL;
	const char *content = sample, *reply = text;
	size_t clen = sizeof(sample) - 1, rlen = size;
	wd_patch *p = NULL;

	if (sep) {
		content = text;
		clen = (size_t)(sep - text);
		reply = sep + 6;
		rlen = size - clen - 6;
	}
	if (wd_patch_parse(&p, reply, rlen) == 0) {
		(void)wd_patch_file_count(p);
		(void)wd_patch_file_path(p, 0);
		(void)wd_patch_hash(p);
		apply_all(p, content, clen);
	}
	wd_patch_free(p);
	return 0;
}
