/* warden stats: how the runs went, from the index of the ledgers. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/cli.h"
#include "warden/error.h"
#include "warden/json.h"
#include "warden/ledger.h"

#include "runs_cli.h"

static const char stats_usage[] =
	"usage: warden stats [--since DATE] [--by model|ticket|repo] [--json] [--work-dir DIR]\n"
	"\n"
	"Over the runs of this cache: completion rate (runs that proposed), proposals\n"
	"approved and rejected (the correction rate), repair rounds, tokens and cost per\n"
	"ticket (mean and p95), model latency (p50, p95), the tool-call failure rate,\n"
	"runs stopped by a budget, runs interrupted, and the alerts runs raised.\n"
	"\n"
	"  --since DATE   runs started since a date or an age (as for 'warden log')\n"
	"  --by KEY       one block per model, ticket or repository\n"
	"  --json         one JSON object on stdout\n"
	"  --work-dir DIR warden's cache (default $XDG_CACHE_HOME/warden)\n"
	"\n"
	"exit codes: 0 printed, 2 usage error or no cache, 3 the index could not be read\n";

struct vec {
	double *v;
	size_t n, cap;
	size_t sorted;  /* how many leading values are known sorted (all of them after pct) */
};

static int vec_push(struct vec *a, double x)
{
	if (WD_ARRAY_RESERVE(a->v, a->cap, a->n + 1, 64) != 0)
		return -1;
	a->v[a->n++] = x;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a (sorted here); 0 when empty. */
static double pct(struct vec *a, double p)
{
	size_t k;

	if (!a->n)
		return 0;
	if (a->sorted != a->n) {
		qsort(a->v, a->n, sizeof(*a->v), cmp_double);
		a->sorted = a->n;
	}
	k = (size_t)(p / 100.0 * (double)a->n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > a->n)
		k = a->n;
	return a->v[k - 1];
}

static double mean(const struct vec *a)
{
	double s = 0;

	for (size_t i = 0; i < a->n; i++)
		s += a->v[i];
	return a->n ? s / (double)a->n : 0;
}

struct group {
	char *key;
	size_t runs, finished, proposed, no_patch, errors, interrupted, running, budget;
	size_t approved, rejected, rounds, repaired, tool_calls, tool_refused;
	struct vec tok, cost;   /* per ticket: its runs' tokens and cost added up */
	struct vec latency;     /* per model call */
};

struct stats {
	struct group *g;
	size_t n, cap, last;
};

static struct group *group_for(struct stats *s, const char *key)
{
	/* the queries return rows grouped by key: the last group is most likely */
	if (s->last < s->n && !strcmp(s->g[s->last].key, key))
		return &s->g[s->last];
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->g[i].key, key))
			return &s->g[s->last = i];
	if (WD_ARRAY_RESERVE(s->g, s->cap, s->n + 1, 8) != 0)
		return NULL;
	memset(&s->g[s->n], 0, sizeof(s->g[0]));
	if (!(s->g[s->n].key = wd_strdup(key)))
		return NULL;
	s->last = s->n;
	return &s->g[s->n++];
}

static void stats_free(struct stats *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->g[i].key);
		free(s->g[i].tok.v);
		free(s->g[i].cost.v);
		free(s->g[i].latency.v);
	}
	free(s->g);
}

static const char *col(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	return v ? v : "";
}

/* The SQL expression of the grouping key over runs r. */
static const char *key_sql(const char *by)
{
	if (!by)
		return "'all'";
	if (!strcmp(by, "model"))
		return "coalesce(r.model, '?')";
	if (!strcmp(by, "repo"))
		return "coalesce(r.repo, '?')";
	return "coalesce(nullif(r.ticket_id, ''), r.ticket, '?')";
}

/* `sql` with every "@K" the grouping key, ?1 the --since bound. */
static int query(sqlite3_stmt **st, wd_index *ix, const char *sql, const char *by,
                 const char *since)
{
	wd_buf text = WD_BUF_INIT;
	const char *at;
	int rc = 0;

	while (!rc && (at = strstr(sql, "@K")) != NULL) {
		rc = wd_buf_put(&text, sql, (size_t)(at - sql));
		rc = rc ? rc : wd_buf_puts(&text, key_sql(by));
		sql = at + 2;
	}
	if (rc || wd_buf_puts(&text, sql) != 0) {
		wd_buf_free(&text);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	if (sqlite3_prepare_v2(wd_index_db(ix), text.ptr, -1, st, NULL) != SQLITE_OK)
		rc = wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(wd_index_db(ix)));
	else if (since[0])
		sqlite3_bind_text(*st, 1, since, -1, SQLITE_TRANSIENT);
	wd_buf_free(&text);
	return rc;
}

static void count_run(struct group *g, const char *status, size_t n, size_t budget,
                      size_t approved, size_t rejected, size_t rounds, size_t repaired)
{
	g->runs += n;
	if (!strcmp(status, "proposed"))
		g->proposed += n;
	else if (!strcmp(status, "no_patch"))
		g->no_patch += n;
	else if (!strcmp(status, "interrupted"))
		g->interrupted += n;
	else if (!strcmp(status, "running"))
		g->running += n;
	else
		g->errors += n;
	if (strcmp(status, "running") != 0)
		g->finished += n;
	g->budget += budget;
	g->approved += approved;
	g->rejected += rejected;
	g->rounds += rounds;
	g->repaired += repaired;
}

#define SINCE " (?1 IS NULL OR r.started >= ?1)"

/* What one row of a query adds to its group (column 0 is the key); -1 when
 * out of memory. */
typedef int (*row_fn)(struct group *g, sqlite3_stmt *st);

static int row_finished(struct group *g, sqlite3_stmt *st)
{
	count_run(g, col(st, 1), (size_t)sqlite3_column_int64(st, 2),
	          (size_t)sqlite3_column_int64(st, 3), (size_t)sqlite3_column_int64(st, 4),
	          (size_t)sqlite3_column_int64(st, 5), (size_t)sqlite3_column_int64(st, 6),
	          (size_t)sqlite3_column_int64(st, 7));
	return 0;
}

static int row_running(struct group *g, sqlite3_stmt *st)
{
	int rounds = sqlite3_column_int(st, 4);

	count_run(g, wd_index_live_status("running", (const char *)sqlite3_column_text(st, 1)),
	          1, (size_t)sqlite3_column_int(st, 2), !strcmp(col(st, 3), "approved"),
	          !strcmp(col(st, 3), "rejected"), (size_t)rounds, rounds > 1);
	return 0;
}

static int row_ticket(struct group *g, sqlite3_stmt *st)
{
	return vec_push(&g->tok, sqlite3_column_double(st, 1)) != 0 ||
	       vec_push(&g->cost, sqlite3_column_double(st, 2)) != 0 ? -1 : 0;
}

static int row_latency(struct group *g, sqlite3_stmt *st)
{
	return vec_push(&g->latency, sqlite3_column_double(st, 1));
}

static int row_tools(struct group *g, sqlite3_stmt *st)
{
	g->tool_calls += (size_t)sqlite3_column_int64(st, 1);
	g->tool_refused += (size_t)sqlite3_column_int64(st, 2);
	return 0;
}

/* Everything is added up by SQLite, grouped by key; only the runs with no
 * end are looked at one by one (running, or interrupted if their process is
 * gone). */
static const struct {
	const char *sql;  /* see query() */
	row_fn row;
} queries[] = {
	{ "SELECT @K, r.status, count(*), sum(r.budget_stop != 0),"
	  " sum(r.decision = 'approved'), sum(r.decision = 'rejected'),"
	  " sum(max(r.rounds, 0)), sum(r.rounds > 1)"
	  " FROM runs r WHERE" SINCE " AND r.status != 'running' GROUP BY 1, 2", row_finished },
	{ "SELECT @K, r.process, r.budget_stop != 0, r.decision, max(r.rounds, 0)"
	  " FROM runs r WHERE" SINCE " AND r.status = 'running'", row_running },
	/* per ticket: one row each, its runs added up */
	{ "SELECT @K, sum(r.input_tokens + r.output_tokens), sum(r.cost_usd)"
	  " FROM runs r WHERE" SINCE
	  " GROUP BY 1, coalesce(nullif(r.ticket_id, ''), r.ticket, r.id)", row_ticket },
	/* model latency: every call's, sorted once per group (pct) in C, which
	 * costs less than SQLite's window functions or an ORDER BY here */
	{ "SELECT @K, m.ms FROM model_calls m JOIN runs r ON r.id = m.run WHERE" SINCE,
	  row_latency },
	{ "SELECT @K, count(*), sum(t.refused) FROM tool_calls t JOIN runs r"
	  " ON r.id = t.run WHERE" SINCE " GROUP BY 1", row_tools },
};

static int collect_one(struct stats *s, wd_index *ix, const char *sql, row_fn row,
                       const char *by, const char *since)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((rc = query(&st, ix, sql, by, since)) != 0)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct group *g = group_for(s, col(st, 0));

		if (!g || row(g, st) != 0) {
			sqlite3_finalize(st);
			return wd_error_set(WD_ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(wd_index_db(ix)));
	return 0;
}

static int collect(struct stats *s, wd_index *ix, const char *by, const char *since)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]) && !rc; i++)
		rc = collect_one(s, ix, queries[i].sql, queries[i].row, by, since);
	return rc;
}

static double ratio(size_t a, size_t b)
{
	return b ? (double)a / (double)b : 0;
}

static json_t *group_json(struct group *g)
{
	json_t *o;

	o = json_pack("{s:s, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:f, s:{s:I, s:I, s:f},"
	              " s:{s:f, s:I}, s:{s:I, s:f, s:f, s:o, s:o},"
	              " s:{s:I, s:f, s:f}, s:{s:I, s:I, s:f}, s:I, s:I}",
	              "key", g->key, "runs", (json_int_t)g->runs,
	              "status", "proposed", (json_int_t)g->proposed, "no_patch",
	              (json_int_t)g->no_patch, "error", (json_int_t)g->errors, "interrupted",
	              (json_int_t)g->interrupted, "running", (json_int_t)g->running, "finished",
	              (json_int_t)g->finished,
	              "completion_rate", ratio(g->proposed, g->finished),
	              "proposals", "approved", (json_int_t)g->approved, "rejected",
	              (json_int_t)g->rejected, "correction_rate",
	              ratio(g->rejected, g->approved + g->rejected),
	              "rounds", "mean", ratio(g->rounds, g->runs), "repaired",
	              (json_int_t)g->repaired,
	              "per_ticket", "tickets", (json_int_t)g->tok.n, "tokens_mean", mean(&g->tok),
	              "tokens_p95", pct(&g->tok, 95), "cost_usd_mean", wd_json_usd(mean(&g->cost)),
	              "cost_usd_p95", wd_json_usd(pct(&g->cost, 95)),
	              "model_latency_ms", "calls", (json_int_t)g->latency.n, "p50",
	              pct(&g->latency, 50), "p95", pct(&g->latency, 95),
	              "tool_calls", "calls", (json_int_t)g->tool_calls, "refused",
	              (json_int_t)g->tool_refused, "failure_rate",
	              ratio(g->tool_refused, g->tool_calls),
	              "stopped_by_budget", (json_int_t)g->budget, "interrupted",
	              (json_int_t)g->interrupted);
	return o;
}

static void print_group(const json_t *o, int titled)
{
	const json_t *st = json_object_get(o, "status"), *p = json_object_get(o, "proposals");
	const json_t *r = json_object_get(o, "rounds"), *t = json_object_get(o, "per_ticket");
	const json_t *l = json_object_get(o, "model_latency_ms"), *tc = json_object_get(o, "tool_calls");
#define I(obj, k) ((long long)json_integer_value(json_object_get(obj, k)))
#define F(obj, k) json_number_value(json_object_get(obj, k))

	if (titled) {
		const char *k = json_string_value(json_object_get(o, "key"));

		printf("== ");
		for (; k && *k; k++)
			putchar((unsigned char)*k < 0x20 || *k == 0x7f ? ' ' : *k);
		printf("\n");
	}
	printf("runs               %lld (proposed %lld, no patch %lld, error %lld, interrupted %lld,"
	       " running %lld)\n", I(o, "runs"), I(st, "proposed"), I(st, "no_patch"), I(st, "error"),
	       I(st, "interrupted"), I(st, "running"));
	printf("completion rate    %.1f%% of %lld finished\n", 100 * F(o, "completion_rate"),
	       I(st, "finished"));
	printf("proposals          %lld approved, %lld rejected (correction rate %.1f%%)\n",
	       I(p, "approved"), I(p, "rejected"), 100 * F(p, "correction_rate"));
	printf("rounds             %.2f per run, %lld run(s) needed a repair\n", F(r, "mean"),
	       I(r, "repaired"));
	printf("per ticket         %lld ticket(s): tokens mean %.0f p95 %.0f, cost mean $%.6f p95 $%.6f\n",
	       I(t, "tickets"), F(t, "tokens_mean"), F(t, "tokens_p95"), F(t, "cost_usd_mean"),
	       F(t, "cost_usd_p95"));
	printf("model latency      %lld call(s): p50 %.0f ms, p95 %.0f ms\n", I(l, "calls"),
	       F(l, "p50"), F(l, "p95"));
	printf("tool calls         %lld, %lld refused (failure rate %.1f%%)\n", I(tc, "calls"),
	       I(tc, "refused"), 100 * F(tc, "failure_rate"));
	printf("stopped by budget  %lld\n", I(o, "stopped_by_budget"));
	printf("interrupted        %lld\n", I(o, "interrupted"));
#undef I
#undef F
}

static int alerts_json(json_t **out, wd_index *ix, const char *since)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	int r;

	*out = NULL;
	if (!arr || sqlite3_prepare_v2(wd_index_db(ix),
	                               "SELECT a.run, a.kind, a.message, r.started FROM alerts a"
	                               " JOIN runs r ON r.id = a.run WHERE (?1 IS NULL OR"
	                               " r.started >= ?1) ORDER BY r.started DESC, a.seq", -1, &st,
	                               NULL) != SQLITE_OK) {
		json_decref(arr);
		return wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(wd_index_db(ix)));
	}
	if (since[0])
		sqlite3_bind_text(st, 1, since, -1, SQLITE_TRANSIENT);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "run", col(st, 0),
		                                     "kind", col(st, 1), "message", col(st, 2),
		                                     "started", col(st, 3)));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		json_decref(arr);
		return wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(wd_index_db(ix)));
	}
	*out = arr;
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option own[] = {
		{ "by", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	wd_runs_args a = { .cmd = "stats", .usage = stats_usage,
		           .shared = WD_RUNS_JSON | WD_RUNS_SINCE };
	const char *by = NULL;
	int c, rc;
	wd_buf cache = WD_BUF_INIT;
	wd_index *ix = NULL;
	struct stats s = { 0 };
	json_t *groups = NULL, *alerts = NULL, *root = NULL;
	size_t i;
	json_t *g;

	while ((c = wd_runs_getopt(&a, argc, argv, own)) == 'b') {
		if (strcmp(optarg, "model") && strcmp(optarg, "ticket") && strcmp(optarg, "repo")) {
			wd_cli_error("stats: --by is model, ticket or repo, not '%s'", optarg);
			return WD_EXIT_USAGE;
		}
		by = optarg;
	}
	if (c < 0)
		return a.exit;
	if ((rc = wd_runs_open(&ix, &cache, a.work_dir, 0)) != 0 ||
	    (rc = collect(&s, ix, by, a.since)) != 0 ||
	    (rc = alerts_json(&alerts, ix, a.since)) != 0)
		goto out;
	if (!(groups = json_array())) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s.n; i++)
		if (json_array_append_new(groups, group_json(&s.g[i])) != 0) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
	if (!by && s.n == 0)
		json_array_append_new(groups, group_json(&(struct group){ .key = "all" }));
	root = json_pack("{s:s?, s:s?, s:O, s:O}", "since", a.since[0] ? a.since : NULL, "by", by,
	                 "groups", groups, "alerts", alerts);
	if (!root) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	wd_redact_json(root);
	if (a.json) {
		rc = wd_runs_print_json(root);
		goto out;
	}
	json_array_foreach(json_object_get(root, "groups"), i, g) {
		if (i)
			printf("\n");
		print_group(g, by != NULL);
	}
	if (json_array_size(json_object_get(root, "alerts"))) {
		printf("\nalerts\n");
		json_array_foreach(json_object_get(root, "alerts"), i, g) {
			const char *m = json_string_value(json_object_get(g, "message"));

			printf("  %s  %s: ", json_string_value(json_object_get(g, "run")),
			       json_string_value(json_object_get(g, "kind")));
			for (; m && *m; m++)
				putchar((unsigned char)*m < 0x20 || *m == 0x7f ? ' ' : *m);
			printf("\n");
		}
	}
out:
	json_decref(root);
	json_decref(groups);
	json_decref(alerts);
	stats_free(&s);
	wd_index_close(ix);
	wd_buf_free(&cache);
	if (rc) {
		wd_cli_error("stats: %s", wd_error_last());
		return wd_exit_code_for(rc);
	}
	return WD_EXIT_OK;
}
