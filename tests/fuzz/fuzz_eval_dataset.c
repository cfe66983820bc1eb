/*
 * libFuzzer target for the eval dataset parser. Beyond "no crash, no leak",
 * it checks the promises of include/warden/eval.h on every input: a parsed
 * dataset has at least one instance, unique ids, a test command and hex base
 * commits; a refused one names the input and a line. Each dataset is also
 * graded against an empty gate result and its instances sharded, which must
 * cover every position exactly once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/eval.h"
#include "warden/gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_dataset(const wd_eval_dataset *ds)
{
	wd_gate_result empty = WD_GATE_RESULT_INIT;

	if (ds->n == 0)
		abort();
	for (size_t i = 0; i < ds->n; i++) {
		const wd_eval_instance *in = &ds->v[i];
		wd_eval_grade g;
		unsigned hits = 0;

		if (!in->id || !*in->id || !in->test || !*in->test || !in->repo ||
		    strspn(in->base_commit, "0123456789abcdefABCDEF") != strlen(in->base_commit) ||
		    in->index != i)
			abort();
		for (size_t k = 0; k < i; k++)
			if (!strcmp(ds->v[k].id, in->id))
				abort();
		memset(&g, 0, sizeof(g));
		if (wd_eval_grade_checks(&g, in, &empty) != 0 || g.status == WD_EVAL_RESOLVED ||
		    g.failing.n != in->f2p.n + in->p2p.n)
			abort();
		wd_eval_grade_free(&g);
		(void)wd_eval_validate_base(in, &empty);
		for (unsigned s = 1; s <= 3; s++)
			hits += (unsigned)wd_eval_in_shard(i, s, 3);
		if (hits != 1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wd_eval_dataset ds;
	int rc = wd_eval_dataset_parse(&ds, "fuzz.jsonl", (const char *)data, size);

	if (rc == 0) {
		check_dataset(&ds);
		wd_eval_dataset_free(&ds);
	} else if (rc != WD_EINPUT || strncmp(wd_error_last(), "fuzz.jsonl:", 11) != 0 ||
	           ds.v != NULL) {
		abort();
	}
	return 0;
}
