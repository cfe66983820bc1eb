/* What looked wrong in a run (see warden/alerts.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/alerts.h"
#include "warden/buf.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/index.h"
#include "warden/ledger.h"

void wd_alert_opts_from_config(wd_alert_opts *o, const struct wd_config *cfg)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "alerts.cost-factor", offsetof(wd_alert_opts, cost_factor) },
		{ "alerts.recent", offsetof(wd_alert_opts, recent) },
		{ "alerts.retries", offsetof(wd_alert_opts, max_retries) },
		{ "alerts.repeats", offsetof(wd_alert_opts, max_repeats) },
		{ "alerts.slowdown", offsetof(wd_alert_opts, slowdown) },
	};
	wd_alert_opts d = WD_ALERT_OPTS_INIT;

	*o = d;
	for (size_t i = 0; cfg && i < sizeof(keys) / sizeof(keys[0]); i++) {
		long v;

		if (wd_config_get_int(&v, cfg, keys[i].key) == 0 && v > 0 && v < 1000000)
			*(long *)((char *)o + keys[i].off) = v;
	}
	wd_error_clear();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of the first column of a query's rows; -1 with fewer than 3. */
static double median_of(sqlite3_stmt *st)
{
	double v[1000];
	size_t n = 0;

	while (n < 1000 && sqlite3_step(st) == SQLITE_ROW)
		v[n++] = sqlite3_column_double(st, 0);
	if (n < 3)
		return -1;
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One alert of `kind`: `msg` (taken; NULL is out of memory, as wd_format
 * returns it). */
static int add(json_t *arr, const char *kind, char *msg)
{
	int rc = 0;

	if (!msg || json_array_append_new(arr, json_pack("{s:s, s:s}", "kind", kind, "message",
	                                                 msg)) != 0)
		rc = WD_ENOMEM;
	free(msg);
	return rc;
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Same tool call over and over, a repeated patch, retries. */
static int from_ledger(json_t *out, json_t *evs, const wd_alert_opts *o)
{
	json_t *seen = json_object(), *ev;
	long retries = 0;
	size_t i;
	int rc = 0;

	if (!seen)
		return WD_ENOMEM;
	json_array_foreach(evs, i, ev) {
		const char *type = str(ev, "type");

		if (!type)
			continue;
		if (!strcmp(type, "tool.call")) {
			wd_buf key = WD_BUF_INIT;
			json_int_t n;

			wd_buf_printf(&key, "%s %s", str(ev, "name") ? str(ev, "name") : "?",
			              str(ev, "arguments") ? str(ev, "arguments") : "");
			n = json_integer_value(json_object_get(seen, wd_buf_cstr(&key))) + 1;
			json_object_set_new(seen, wd_buf_cstr(&key), json_integer(n));
			if (n == o->max_repeats)
				rc = add(out, "repeat",
				         wd_format("the model made the same tool call %lld times: %.200s",
				                   (long long)n, wd_buf_cstr(&key)));
			wd_buf_free(&key);
		} else if (!strcmp(type, "patch.repeat")) {
			long long round = (long long)json_integer_value(json_object_get(ev, "round"));

			rc = add(out, "repeat", wd_format("round %lld repeated an earlier patch", round));
		} else if (!strcmp(type, "model.retry")) {
			retries++;
		}
		if (rc)
			break;
	}
	if (!rc && retries > o->max_retries)
		rc = add(out, "retries",
		         wd_format("the model service needed %ld retries (threshold %ld)", retries,
		                   o->max_retries));
	json_decref(seen);
	return rc;
}

/* Cost against the repository's recent runs; check durations against theirs. */
static int from_history(json_t *out, wd_index *ix, json_t *evs, const char *run,
                        const char *repo, double cost, const wd_alert_opts *o)
{
	sqlite3 *db = wd_index_db(ix);
	sqlite3_stmt *st = NULL;
	double med;
	size_t i;
	json_t *ev;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "SELECT cost_usd FROM runs WHERE repo = ?1 AND id != ?2 AND"
	                           " status IN ('proposed', 'no_patch') ORDER BY started DESC"
	                           " LIMIT ?3", -1, &st, NULL) != SQLITE_OK)
		return wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, repo, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, run, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, o->recent);
	med = median_of(st);
	sqlite3_finalize(st);
	if (med > 0 && cost > (double)o->cost_factor * med)
		rc = add(out, "cost", wd_format("the run cost $%.4f, %.1f times the median ($%.4f) of "
		                                "recent runs on this repository", cost, cost / med, med));
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT c.ms FROM checks c JOIN runs r ON r.id = c.run"
	                           " WHERE r.repo = ?1 AND r.id != ?2 AND c.name = ?3 AND"
	                           " c.phase = ?4 AND c.cached = 0 AND c.timed_out = 0"
	                           " ORDER BY r.started DESC LIMIT ?5", -1, &st, NULL) != SQLITE_OK)
		return wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(db));
	json_array_foreach(evs, i, ev) {
		const char *name = str(ev, "name"), *phase = str(ev, "phase");
		double ms = (double)json_integer_value(json_object_get(ev, json_object_get(ev, "wall_ms") ? "wall_ms" : "ms"));

		if (!str(ev, "type") || strcmp(str(ev, "type"), "check") || !name || !phase ||
		    json_is_true(json_object_get(ev, "cached")))
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, repo, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, run, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, phase, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, o->recent);
		med = median_of(st);
		if (med > 0 && ms > (double)o->slowdown * med && ms - med > 1000 &&
		    (rc = add(out, "slow-check",
		              wd_format("check '%.100s' (%s) took %.1fs, %.1f times its median (%.1fs) "
		                        "in recent runs", name, phase, ms / 1000, ms / med,
		                        med / 1000))) != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc;
}

int wd_alerts_for_run(json_t **out, const char *cache_dir, const char *ledger_path,
                      double cost_usd, const wd_alert_opts *opts)
{
	wd_alert_opts d = WD_ALERT_OPTS_INIT;
	const wd_alert_opts *o = opts ? opts : &d;
	json_t *evs = NULL, *arr = json_array();
	wd_index *ix = NULL;
	const char *run = NULL, *repo = NULL;
	size_t i;
	json_t *ev;
	int rc;

	*out = NULL;
	if (!arr)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if ((rc = wd_ledger_read(&evs, ledger_path, 0)) != 0 ||
	    (rc = from_ledger(arr, evs, o)) != 0)
		goto out;
	json_array_foreach(evs, i, ev) {
		if (str(ev, "type") && !strcmp(str(ev, "type"), "run.start")) {
			run = str(ev, "run");
			repo = str(ev, "repo");
		}
	}
	if (run && repo) {
		if ((rc = wd_index_open(&ix, cache_dir)) != 0 ||
		    (rc = wd_index_sync(ix, 0, NULL)) != 0 ||
		    (rc = from_history(arr, ix, evs, run, repo, cost_usd, o)) != 0)
			goto out;
	}
	*out = arr;
	arr = NULL;
out:
	if (rc == WD_ENOMEM)
		wd_error_set(WD_ENOMEM, "out of memory");
	wd_index_close(ix);
	json_decref(arr);
	json_decref(evs);
	return rc;
}
