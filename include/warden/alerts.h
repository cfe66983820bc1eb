#ifndef WARDEN_ALERTS_H
#define WARDEN_ALERTS_H

#include <jansson.h>

/*
 * Alerts: what looked wrong in a run, judged from its ledger and the index
 * of earlier runs on the same repository. Printed at the end of the run,
 * kept in the ledger ("alert" events) and listed by `warden stats`.
 *
 *   cost        the run cost more than cost_factor times the median of the
 *               last `recent` finished runs on the repository (3 or more)
 *   repeat      the model made the same tool call (name and arguments)
 *               max_repeats times or more, or repeated a patch
 *   retries     the model service needed more than max_retries retries
 *   slow-check  a check took more than slowdown times its median duration
 *               over the recent runs (3 or more) and a second longer
 *
 * Thresholds from the user's config: alerts.cost-factor (3), alerts.recent
 * (20), alerts.retries (3), alerts.repeats (3), alerts.slowdown (3).
 */
typedef struct wd_alert_opts {
	long cost_factor;
	long recent;
	long max_retries;
	long max_repeats;
	long slowdown;
} wd_alert_opts;

#define WD_ALERT_OPTS_INIT { 3, 20, 3, 3, 3 }

struct wd_config;
/* The thresholds, from cfg (may be NULL) over the defaults. */
void wd_alert_opts_from_config(wd_alert_opts *o, const struct wd_config *cfg);

/* The alerts of the run whose ledger is at ledger_path (it need not have
 * ended; cost_usd is its cost so far), against the cache's other runs:
 * *out gets a JSON array of {kind, message}. */
int wd_alerts_for_run(json_t **out, const char *cache_dir, const char *ledger_path,
                      double cost_usd, const wd_alert_opts *o);

#endif
