/*
 * A check's result as JSON: the one schema that the ledger's "check" event,
 * the evidence note on a proposed commit and the baseline cache all start
 * from (docs/ledger.md, "The check schema").
 */
#include <string.h>

#include <jansson.h>

#include "gate_int.h"
#include "warden/error.h"
#include "warden/gate.h"
#include "warden/json.h"

json_t *wd_gate_json_strn(const char *s, size_t len)
{
	wd_buf b = WD_BUF_INIT;
	json_t *j = NULL;

	if (wd_gate_utf8_clean(&b, s ? s : "", s ? len : 0) == 0)
		j = json_stringn(b.ptr ? b.ptr : "", b.len);
	wd_buf_free(&b);
	return j;
}

json_t *wd_gate_json_str(const char *s)
{
	return s ? wd_gate_json_strn(s, strlen(s)) : json_null();
}

static int set_int(json_t *o, const char *key, json_int_t v)
{
	return json_object_set_new(o, key, json_integer(v));
}

json_t *wd_check_result_json(const wd_check_result *cr)
{
	json_t *o;

	if (!cr || !cr->check) {
		wd_error_set(WD_EUSAGE, "check result: no check");
		return NULL;
	}
	if (!(o = json_object()))
		goto nomem;
	if (json_object_set_new(o, "name", wd_gate_json_str(cr->check->name)) ||
	    json_object_set_new(o, "kind", json_string(wd_check_kind_name(cr->check->kind))) ||
	    json_object_set_new(o, "command", wd_gate_json_str(cr->check->command)) ||
	    json_object_set_new(o, "passed", json_boolean(cr->passed)) ||
	    set_int(o, "exit_code", cr->exit_code) ||
	    json_object_set_new(o, "timed_out", json_boolean(cr->timed_out)) ||
	    set_int(o, "wall_ms", (json_int_t)cr->wall_ms) ||
	    json_object_set_new(o, "digest", json_string(cr->digest)) ||
	    set_int(o, "output_bytes", (json_int_t)cr->output_total) ||
	    json_object_set_new(o, "cached", json_boolean(cr->from_cache)) ||
	    json_object_set_new(o, "skipped", json_boolean(cr->skipped)) ||
	    (cr->counts_known &&
	     (set_int(o, "tests_passed", (json_int_t)cr->tests_passed) ||
	      set_int(o, "tests_failed", (json_int_t)cr->tests_failed))) ||
	    (cr->check->kind == WD_CHECK_ANALYZE &&
	     set_int(o, "findings", (json_int_t)cr->findings.n)) ||
	    json_object_set_new(o, "sandbox", wd_json_strvec(&cr->layers)) ||
	    json_object_set_new(o, "sandbox_missing", wd_json_strvec(&cr->missing)))
		goto nomem;
	return o;
nomem:
	json_decref(o);
	wd_error_set(WD_ENOMEM, "check '%s': cannot encode the result", cr->check->name);
	return NULL;
}
