/* Why a round did not pass, in plain words for a person (stderr, --json's
 * "reason", `warden show`), apart from the repair prompt the model gets. */
#include <string.h>

#include "warden/buf.h"
#include "warden/gate.h"
#include "warden/patch.h"

#include "run_internal.h"

#define REASON_MAX 600

/* Append the first line of s (at most REASON_MAX bytes in all). */
static void first_line(wd_buf *out, const char *s)
{
	size_t n = strcspn(s, "\n");

	if (out->len >= REASON_MAX)
		return;
	if (n > REASON_MAX - out->len)
		n = REASON_MAX - out->len;
	wd_buf_put(out, s, n);
}

void wd_run_reason_text(wd_buf *out, int round, const char *what, const char *detail)
{
	wd_buf_clear(out);
	wd_buf_printf(out, "round %d: %s", round, what);
	if (detail && *detail) {
		wd_buf_puts(out, ": ");
		first_line(out, detail);
	}
}

void wd_run_reason_patch(wd_buf *out, int round, const wd_patch_report *rep)
{
	json_t *list = json_object_get(rep->json, "refusals");
	size_t i;
	json_t *o;

	wd_buf_clear(out);
	wd_buf_printf(out, "round %d: patch refused", round);
	json_array_foreach(list, i, o) {
		const char *m = json_string_value(json_object_get(o, "message"));

		if (!m)
			continue;
		wd_buf_puts(out, i ? "; " : ": ");
		first_line(out, m);
	}
	if (!json_array_size(list) && rep->reasons.len) {
		wd_buf_puts(out, ": ");
		first_line(out, wd_buf_cstr(&rep->reasons));
	}
}

static const wd_check_result *find(const wd_gate_result *g, const char *name)
{
	for (size_t i = 0; g && i < g->n; i++)
		if (!strcmp(g->v[i].check->name, name))
			return &g->v[i];
	return NULL;
}

static int failed_on(const wd_check_result *c, const char *test)
{
	for (size_t i = 0; c && i < c->tests.n; i++)
		if (c->tests.v[i].status == WD_TEST_FAIL && !strcmp(c->tests.v[i].name, test))
			return 1;
	return 0;
}

/* "tests/a failed" or "check 'test' failed (exit 1)"; then what was failing
 * on the base already. */
void wd_run_reason_checks(wd_buf *out, int round, const wd_gate_result *gate,
                          const wd_gate_result *baseline)
{
	wd_buf before = WD_BUF_INIT;
	int any = 0;

	wd_buf_clear(out);
	wd_buf_printf(out, "round %d: ", round);
	for (size_t i = 0; i < gate->n && out->len < REASON_MAX; i++) {
		const wd_check_result *c = &gate->v[i];
		const wd_check_result *b = find(baseline, c->check->name);
		wd_buf old = WD_BUF_INIT;
		size_t named = 0;

		if (c->passed || c->skipped)
			continue;
		if (any++)
			wd_buf_puts(out, "; ");
		for (size_t t = 0; t < c->tests.n && out->len < REASON_MAX; t++) {
			if (c->tests.v[t].status != WD_TEST_FAIL)
				continue;
			if (failed_on(b, c->tests.v[t].name)) {
				wd_buf_printf(&old, "%s%s", old.len ? ", " : "", c->tests.v[t].name);
				continue;
			}
			wd_buf_printf(out, "%s%s", named++ ? ", " : "", c->tests.v[t].name);
		}
		if (named && old.len)
			wd_buf_printf(&before, "%s%s", before.len ? ", " : "", old.ptr);
		if (named)
			wd_buf_printf(out, " failed (check '%s')", c->check->name);
		else if (old.len)
			/* only what failed before: the ticket's own tests still fail */
			wd_buf_printf(out, "%s still fail%s, as on the base (check '%s')", old.ptr,
			              strchr(old.ptr, ',') ? "" : "s", c->check->name);
		else if (c->timed_out)
			wd_buf_printf(out, "check '%s' timed out", c->check->name);
		else if (b && !b->passed)
			wd_buf_printf(out, "check '%s' failed (exit %d; it failed on the base too)",
			              c->check->name, c->exit_code);
		else
			wd_buf_printf(out, "check '%s' failed (exit %d)", c->check->name, c->exit_code);
		wd_buf_free(&old);
	}
	if (!any)
		wd_buf_puts(out, "the checks did not pass the gate (new findings or unmet tests)");
	if (before.len)
		wd_buf_printf(out, " (already failing on the base: %s)", before.ptr);
	wd_buf_free(&before);
}
