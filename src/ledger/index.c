/*
 * The SQLite index of the JSONL ledgers (see warden/index.h). The ledgers
 * are the truth; this file only ever derives rows from them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/index.h"
#include "warden/ledger.h"

/* A larger ledger is indexed as unreadable, so a hostile file cannot
 * exhaust memory. */
#define LEDGER_MAX ((size_t)256 << 20)

struct ins {
	sqlite3_stmt *round, *model, *tool, *check, *proposal, *decision, *alert;
};

struct wd_index {
	sqlite3 *db;
	char *cache;
	char *ledger_dir;
	/* prepared once per open: a sync of 10,000 ledgers would otherwise
	 * spend most of its time preparing the same statements */
	struct ins ins;
	int have_ins;
	sqlite3_stmt *del[8];
	sqlite3_stmt *run_ins;
	int skip_delete;      /* a rebuild: the tables are empty already */
};

static void ins_free(struct ins *s);

/* Migrations: migrations[i] takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE runs ("
	"  id TEXT PRIMARY KEY, ledger TEXT NOT NULL, size INTEGER, mtime_ns INTEGER,"
	"  started TEXT, ended TEXT, repo TEXT, ticket TEXT, ticket_id TEXT, title TEXT,"
	"  model TEXT, status TEXT, reason TEXT, rounds INTEGER DEFAULT 0,"
	"  input_tokens INTEGER DEFAULT 0, output_tokens INTEGER DEFAULT 0,"
	"  cost_usd REAL DEFAULT 0, ms INTEGER, process TEXT, retries INTEGER DEFAULT 0,"
	"  budget_stop INTEGER DEFAULT 0, decision TEXT);"
	"CREATE INDEX runs_started ON runs(started);"
	"CREATE INDEX runs_repo ON runs(repo, started);"
	"CREATE TABLE rounds (run TEXT, round INTEGER, passed INTEGER, reason TEXT);"
	"CREATE TABLE model_calls (run TEXT, seq INTEGER, round INTEGER, spec TEXT, model TEXT,"
	"  input_tokens INTEGER, output_tokens INTEGER, cost_usd REAL, ms INTEGER,"
	"  attempts INTEGER);"
	"CREATE TABLE tool_calls (run TEXT, seq INTEGER, round INTEGER, name TEXT,"
	"  arguments TEXT, refused INTEGER);"
	"CREATE TABLE checks (run TEXT, seq INTEGER, phase TEXT, round INTEGER, name TEXT,"
	"  command TEXT, passed INTEGER, exit INTEGER, ms INTEGER, timed_out INTEGER,"
	"  cached INTEGER);"
	"CREATE TABLE proposals (run TEXT, repo TEXT, branch TEXT, commit_id TEXT);"
	"CREATE TABLE decisions (run TEXT, seq INTEGER, ts TEXT, decision TEXT, by TEXT,"
	"  reason TEXT);"
	"CREATE TABLE alerts (run TEXT, seq INTEGER, kind TEXT, message TEXT);"
	"CREATE INDEX rounds_run ON rounds(run);"
	"CREATE INDEX model_calls_run ON model_calls(run);"
	"CREATE INDEX tool_calls_run ON tool_calls(run);"
	"CREATE INDEX checks_run ON checks(run);"
	"CREATE INDEX checks_name ON checks(name, phase);"
	"CREATE INDEX proposals_run ON proposals(run);"
	"CREATE INDEX decisions_run ON decisions(run);"
	"CREATE INDEX alerts_run ON alerts(run);",
	/* 1 -> 2: what a sync needs to answer without stat'ing every ledger
	 * (the ledger directory's signature, the runs still open) and what
	 * `warden log` lists, in its order */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
	"CREATE INDEX runs_open ON runs(id) WHERE status = 'running';"
	"DROP INDEX runs_started;"
	/* covering what `warden log` prints: listing 10,000 runs reads the
	 * index alone, not one table row per entry */
	"CREATE INDEX runs_started ON runs(started DESC, id, ticket_id, title, ticket, status,"
	"  process, rounds, cost_usd, ms, repo, reason, input_tokens, output_tokens, decision);"
	/* rows are stored redacted from now on: every ledger is read again */
	"UPDATE runs SET size = -1;",
};

static const char *const child_tables[] = {
	"rounds", "model_calls", "tool_calls", "checks", "proposals", "decisions", "alerts"
};

static int db_err(wd_index *ix, const char *what)
{
	return wd_error_set(WD_EINFRA, "index: %s: %s", what, sqlite3_errmsg(ix->db));
}

static int exec(wd_index *ix, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(ix->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = wd_error_set(WD_EINFRA, "index: %s", msg ? msg : sqlite3_errmsg(ix->db));

		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static int migrate(wd_index *ix)
{
	sqlite3_stmt *st = NULL;
	int version = 0, rc;
	const int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));

	if (sqlite3_prepare_v2(ix->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_err(ix, "reading the schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > latest)
		return wd_error_set(WD_EINPUT, "index: schema version %d is newer than this warden "
		                               "knows (%d); remove %s/index.sqlite to rebuild it",
		                    version, latest, ix->cache);
	for (; version < latest; version++) {
		char pragma[64];

		if ((rc = exec(ix, "BEGIN IMMEDIATE")) != 0)
			return rc;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if ((rc = exec(ix, migrations[version])) != 0 || (rc = exec(ix, pragma)) != 0) {
			exec(ix, "ROLLBACK");
			return rc;
		}
		if ((rc = exec(ix, "COMMIT")) != 0)
			return rc;
	}
	return 0;
}

int wd_index_open(wd_index **out, const char *cache_dir)
{
	wd_buf path = WD_BUF_INIT;
	wd_index *ix;
	int rc;

	*out = NULL;
	if (!(ix = calloc(1, sizeof(*ix))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (!(ix->cache = wd_strdup(cache_dir)) ||
	    wd_buf_printf(&path, "%s/ledger", cache_dir) != 0 ||
	    !(ix->ledger_dir = wd_strdup(path.ptr))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = wd_mkdir_p(cache_dir, 1)) != 0)
		goto fail;
	wd_buf_clear(&path);
	if ((rc = wd_buf_printf(&path, "%s/index.sqlite", cache_dir)) != 0)
		goto fail;
	{
		/* created private: it holds what the ledgers hold */
		int fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0) {
			rc = wd_error_errno(WD_EINFRA, path.ptr);
			goto fail;
		}
		close(fd);
	}
	if (sqlite3_open_v2(path.ptr, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
	                    NULL) != SQLITE_OK) {
		rc = wd_error_set(WD_EINFRA, "index: cannot open %s: %s", path.ptr,
		                  ix->db ? sqlite3_errmsg(ix->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(ix->db, 5000);
	if ((rc = exec(ix, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	                       " PRAGMA mmap_size = 268435456; PRAGMA cache_size = -32768;")) != 0 ||
	    (rc = migrate(ix)) != 0)
		goto fail;
	wd_buf_free(&path);
	*out = ix;
	return 0;
fail:
	wd_buf_free(&path);
	wd_index_close(ix);
	return rc;
}

sqlite3 *wd_index_db(wd_index *ix)
{
	return ix ? ix->db : NULL;
}

const char *wd_index_cache_dir(const wd_index *ix)
{
	return ix ? ix->cache : NULL;
}

void wd_index_close(wd_index *ix)
{
	if (!ix)
		return;
	ins_free(&ix->ins);
	for (size_t i = 0; i < sizeof(ix->del) / sizeof(ix->del[0]); i++)
		sqlite3_finalize(ix->del[i]);
	sqlite3_finalize(ix->run_ins);
	sqlite3_close(ix->db);
	free(ix->cache);
	free(ix->ledger_dir);
	free(ix);
}

/* ---- reading one ledger into rows --------------------------------------- */

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_int_t num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		return json_integer_value(v);
	return json_is_real(v) ? (json_int_t)json_real_value(v) : 0;
}

static double real(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static int truthy(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

/* Bind helpers: NULL strings bind as SQL NULL. */
static void bind_s(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* What a ledger says, redacted on its way into the index: every reader
 * (log, stats, alerts) then prints rows as they are, and a secret put in a
 * ledger by hand reaches no output. A string that cannot be redacted (out
 * of memory) is not stored. */
static void bind_red(sqlite3_stmt *st, int i, const char *s)
{
	char *r = s ? wd_redact(s) : NULL;

	if (r)
		sqlite3_bind_text(st, i, r, -1, free);
	else
		sqlite3_bind_null(st, i);
}

static int step_done(wd_index *ix, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r == SQLITE_DONE ? 0 : db_err(ix, what);
}

static void ins_free(struct ins *s)
{
	sqlite3_finalize(s->round);
	sqlite3_finalize(s->model);
	sqlite3_finalize(s->tool);
	sqlite3_finalize(s->check);
	sqlite3_finalize(s->proposal);
	sqlite3_finalize(s->decision);
	sqlite3_finalize(s->alert);
}

static int ins_prepare(wd_index *ix, struct ins *s)
{
	if (ix->have_ins)
		return 0;
	memset(s, 0, sizeof(*s));
	if (sqlite3_prepare_v2(ix->db, "INSERT INTO rounds VALUES (?,?,?,?)", -1, &s->round, NULL) ||
	    sqlite3_prepare_v2(ix->db, "INSERT INTO model_calls VALUES (?,?,?,?,?,?,?,?,?,?)", -1,
	                       &s->model, NULL) ||
	    sqlite3_prepare_v2(ix->db, "INSERT INTO tool_calls VALUES (?,?,?,?,?,?)", -1, &s->tool,
	                       NULL) ||
	    sqlite3_prepare_v2(ix->db, "INSERT INTO checks VALUES (?,?,?,?,?,?,?,?,?,?,?)", -1,
	                       &s->check, NULL) ||
	    sqlite3_prepare_v2(ix->db, "INSERT INTO proposals VALUES (?,?,?,?)", -1, &s->proposal,
	                       NULL) ||
	    sqlite3_prepare_v2(ix->db, "INSERT INTO decisions VALUES (?,?,?,?,?,?)", -1,
	                       &s->decision, NULL) ||
	    sqlite3_prepare_v2(ix->db, "INSERT INTO alerts VALUES (?,?,?,?)", -1, &s->alert, NULL)) {
		int rc = db_err(ix, "preparing");

		ins_free(s);
		memset(s, 0, sizeof(*s));
		return rc;
	}
	ix->have_ins = 1;
	return 0;
}

/* What the whole ledger says about the run (the runs row). */
struct summary {
	const char *started, *ended, *repo, *ticket, *ticket_id, *title, *model, *status, *reason;
	char *process;
	const char *decision;
	json_int_t rounds, in, out, ms, retries, budget;
	double cost;
	int have_end;
};

static int index_event(wd_index *ix, struct ins *s, const char *run, const json_t *ev,
                       struct summary *sum, json_int_t *round)
{
	const char *type = str(ev, "type");
	json_int_t seq = num(ev, "seq");
	sqlite3_stmt *st;

	if (!type)
		return 0;
	if (!strcmp(type, "run.start")) {
		sum->started = str(ev, "ts");
		sum->repo = str(ev, "repo");
		sum->ticket = str(ev, "ticket");
		sum->model = str(ev, "model");
		free(sum->process);
		sum->process = json_is_object(json_object_get(ev, "process"))
		             ? json_dumps(json_object_get(ev, "process"), JSON_COMPACT) : NULL;
	} else if (!strcmp(type, "ticket")) {
		sum->title = str(ev, "title");
		sum->ticket_id = str(ev, "id");
	} else if (!strcmp(type, "round")) {
		*round = num(ev, "round");
		if (*round > sum->rounds)
			sum->rounds = *round;
	} else if (!strcmp(type, "round.end")) {
		st = s->round;
		bind_s(st, 1, run);
		sqlite3_bind_int64(st, 2, num(ev, "round"));
		sqlite3_bind_int(st, 3, truthy(ev, "passed"));
		bind_red(st, 4, str(ev, "reason"));
		return step_done(ix, st, "rounds");
	} else if (!strcmp(type, "model.call")) {
		st = s->model;
		bind_s(st, 1, run);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_int64(st, 3, num(ev, "round"));
		bind_red(st, 4, str(ev, "spec"));
		bind_red(st, 5, str(ev, "model"));
		sqlite3_bind_int64(st, 6, num(ev, "input_tokens"));
		sqlite3_bind_int64(st, 7, num(ev, "output_tokens"));
		sqlite3_bind_double(st, 8, real(ev, "cost_usd"));
		sqlite3_bind_int64(st, 9, num(ev, "ms"));
		sqlite3_bind_int64(st, 10, num(ev, "attempts"));
		sum->in += num(ev, "input_tokens");
		sum->out += num(ev, "output_tokens");
		sum->cost += real(ev, "cost_usd");
		if (!sum->model)
			sum->model = str(ev, "spec");
		return step_done(ix, st, "model_calls");
	} else if (!strcmp(type, "model.retry")) {
		sum->retries++;
	} else if (!strcmp(type, "model.budget")) {
		sum->budget = 1;
	} else if (!strcmp(type, "tool.call")) {
		st = s->tool;
		bind_s(st, 1, run);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_int64(st, 3, num(ev, "round"));
		bind_red(st, 4, str(ev, "name"));
		bind_red(st, 5, str(ev, "arguments"));
		sqlite3_bind_int(st, 6, truthy(ev, "refused"));
		return step_done(ix, st, "tool_calls");
	} else if (!strcmp(type, "check")) {
		const char *phase = str(ev, "phase");

		st = s->check;
		bind_s(st, 1, run);
		sqlite3_bind_int64(st, 2, seq);
		bind_red(st, 3, phase);
		sqlite3_bind_int64(st, 4, phase && !strcmp(phase, "baseline") ? 0 : *round);
		bind_red(st, 5, str(ev, "name"));
		bind_red(st, 6, str(ev, "command"));
		sqlite3_bind_int(st, 7, truthy(ev, "passed"));
		sqlite3_bind_int64(st, 8, num(ev, json_object_get(ev, "exit_code") ? "exit_code" : "exit"));
		sqlite3_bind_int64(st, 9, num(ev, json_object_get(ev, "wall_ms") ? "wall_ms" : "ms"));
		sqlite3_bind_int(st, 10, truthy(ev, "timed_out"));
		sqlite3_bind_int(st, 11, truthy(ev, "cached"));
		return step_done(ix, st, "checks");
	} else if (!strcmp(type, "proposal")) {
		st = s->proposal;
		bind_s(st, 1, run);
		bind_red(st, 2, str(ev, "repo"));
		bind_red(st, 3, str(ev, "branch"));
		bind_red(st, 4, str(ev, "commit"));
		return step_done(ix, st, "proposals");
	} else if (!strcmp(type, "review.approve") || !strcmp(type, "review.reject")) {
		const char *d = !strcmp(type, "review.approve") ? "approved" : "rejected";

		sum->decision = d;
		st = s->decision;
		bind_s(st, 1, run);
		sqlite3_bind_int64(st, 2, seq);
		bind_red(st, 3, str(ev, "ts"));
		bind_s(st, 4, d);
		bind_red(st, 5, str(ev, "by"));
		bind_red(st, 6, str(ev, "reason"));
		return step_done(ix, st, "decisions");
	} else if (!strcmp(type, "alert")) {
		st = s->alert;
		bind_s(st, 1, run);
		sqlite3_bind_int64(st, 2, seq);
		bind_red(st, 3, str(ev, "kind"));
		bind_red(st, 4, str(ev, "message"));
		return step_done(ix, st, "alerts");
	} else if (!strcmp(type, "run.end")) {
		sum->have_end = 1;
		sum->ended = str(ev, "ts");
		sum->status = str(ev, "status");
		sum->reason = str(ev, "reason");
		if (num(ev, "rounds") > sum->rounds)
			sum->rounds = num(ev, "rounds");
		sum->in = num(ev, "input_tokens");
		sum->out = num(ev, "output_tokens");
		sum->cost = real(ev, "cost_usd");
		sum->ms = num(ev, "ms");
	}
	return 0;
}

static int delete_run(wd_index *ix, const char *id)
{
	static const char *const tables[] = { "runs", "rounds", "model_calls", "tool_calls",
	                                      "checks", "proposals", "decisions", "alerts" };

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[96];
		int r;

		if (!ix->del[i]) {
			snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s = ?", tables[i],
			         i == 0 ? "id" : "run");
			if (sqlite3_prepare_v2(ix->db, sql, -1, &ix->del[i], NULL) != SQLITE_OK)
				return db_err(ix, "deleting");
		}
		bind_s(ix->del[i], 1, id);
		r = sqlite3_step(ix->del[i]);
		sqlite3_reset(ix->del[i]);
		if (r != SQLITE_DONE)
			return db_err(ix, "deleting");
	}
	return 0;
}

/* The run id of a ledger file name "<id>.jsonl"; NULL when it is not one. */
static char *run_id_of(const char *name)
{
	size_t n = strlen(name);

	if (n <= 6 || n > 64 + 6 || strcmp(name + n - 6, ".jsonl") != 0)
		return NULL;
	for (size_t i = 0; i < n - 6; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') || name[i] == '-' || name[i] == '_'))
			return NULL;
	return strndup(name, n - 6);
}

/* Read one ledger and replace its rows (inside the caller's transaction). */
static int index_one(wd_index *ix, const char *path, const char *id, const struct stat *sb)
{
	struct summary sum;
	struct ins *s = &ix->ins;
	json_t *evs = NULL, *ev;
	json_int_t round = 0;
	sqlite3_stmt *st;
	const char *unreadable = NULL;
	size_t i;
	int rc;

	memset(&sum, 0, sizeof(sum));
	if ((!ix->skip_delete && (rc = delete_run(ix, id)) != 0) ||
	    (rc = ins_prepare(ix, s)) != 0)
		return rc;
	if (wd_ledger_read(&evs, path, LEDGER_MAX) != 0) {
		unreadable = wd_error_last();
		sum.status = "unreadable";
		sum.reason = unreadable;
	}
	json_array_foreach(evs, i, ev) {
		if ((rc = index_event(ix, s, id, ev, &sum, &round)) != 0)
			goto out;
	}
	if (!sum.status)
		sum.status = "running";  /* no run.end (yet): see wd_index_live_status */
	if (!ix->run_ins && sqlite3_prepare_v2(ix->db,
	                       "INSERT INTO runs (id, ledger, size, mtime_ns, started, ended, repo,"
	                       " ticket, ticket_id, title, model, status, reason, rounds,"
	                       " input_tokens, output_tokens, cost_usd, ms, process, retries,"
	                       " budget_stop, decision)"
	                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	                       -1, &ix->run_ins, NULL) != SQLITE_OK) {
		rc = db_err(ix, "preparing");
		goto out;
	}
	st = ix->run_ins;
	bind_s(st, 1, id);
	bind_s(st, 2, path);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)sb->st_size);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)sb->st_mtim.tv_sec * 1000000000LL +
	                          sb->st_mtim.tv_nsec);
	bind_red(st, 5, sum.started);
	bind_red(st, 6, sum.ended);
	bind_red(st, 7, sum.repo);
	bind_red(st, 8, sum.ticket);
	bind_red(st, 9, sum.ticket_id);
	bind_red(st, 10, sum.title);
	bind_red(st, 11, sum.model);
	bind_red(st, 12, sum.status);
	bind_red(st, 13, sum.reason);
	sqlite3_bind_int64(st, 14, sum.rounds);
	sqlite3_bind_int64(st, 15, sum.in);
	sqlite3_bind_int64(st, 16, sum.out);
	sqlite3_bind_double(st, 17, sum.cost);
	if (sum.have_end)
		sqlite3_bind_int64(st, 18, sum.ms);
	bind_s(st, 19, sum.process);
	sqlite3_bind_int64(st, 20, sum.retries);
	sqlite3_bind_int64(st, 21, sum.budget);
	bind_s(st, 22, sum.decision);
	rc = step_done(ix, st, "runs");
out:
	free(sum.process);
	json_decref(evs);
	return rc;
}

int wd_index_ledger(wd_index *ix, const char *ledger_path)
{
	const char *base = strrchr(ledger_path, '/');
	struct stat sb;
	char *id = run_id_of(base ? base + 1 : ledger_path);
	int rc;

	if (!id)
		return wd_error_set(WD_EINPUT, "index: '%s' is not a run's ledger", ledger_path);
	if (stat(ledger_path, &sb) != 0) {
		free(id);
		return wd_error_errno(WD_ENOTFOUND, ledger_path);
	}
	if ((rc = exec(ix, "BEGIN IMMEDIATE")) == 0) {
		rc = index_one(ix, ledger_path, id, &sb);
		if (rc)
			exec(ix, "ROLLBACK");
		else
			rc = exec(ix, "COMMIT");
	}
	free(id);
	return rc;
}

/* ---- the ledger directory's signature ----------------------------------- */

/*
 * A sync must not stat 10,000 ledgers to find the one that changed. The
 * ledger directory's times move when a ledger is created, removed or renamed,
 * and warden's ledger writer touches the directory after every append
 * (ledger.c), so while the directory's signature is the one the last full
 * sync recorded, only the ledgers still being written (status "running")
 * can have changed, and only those are stat'ed.
 *
 * File times come from a coarse clock: a change within the same tick as the
 * recorded times would not move them (git's "racy" index entries). So a
 * signature is recorded only when the directory's times were well before
 * the sync began; otherwise the next sync is a full one again.
 */
#define SIG_SETTLE_NS 2000000000LL
#define SIG_KEY "ledger_dir"

static long long ts_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* "dev:ino:mtime:ctime" of the ledger directory; -1 when it is not there. */
static int dir_sig(char *out, size_t n, const char *dir, int *settled)
{
	struct stat sb;
	struct timespec now;
	long long oldest;

	*settled = 0;
	if (stat(dir, &sb) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return -1;
	/* a later change sets both times to its own "now": the signature can
	 * only repeat when both are that recent */
	oldest = ts_ns(&sb.st_mtim) < ts_ns(&sb.st_ctim) ? ts_ns(&sb.st_mtim) : ts_ns(&sb.st_ctim);
	*settled = ts_ns(&now) - oldest > SIG_SETTLE_NS;
	snprintf(out, n, "%llu:%llu:%lld:%lld", (unsigned long long)sb.st_dev,
	         (unsigned long long)sb.st_ino, ts_ns(&sb.st_mtim), ts_ns(&sb.st_ctim));
	return 0;
}

/* 1 when the index recorded `sig` for the ledger directory. */
static int sig_recorded(wd_index *ix, const char *sig)
{
	sqlite3_stmt *st = NULL;
	int same = 0;

	if (sqlite3_prepare_v2(ix->db, "SELECT value FROM meta WHERE key = '" SIG_KEY "'", -1, &st,
	                       NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		same = v && !strcmp(v, sig);
	}
	sqlite3_finalize(st);
	return same;
}

/* Inside the sync's transaction: record sig, or forget it (NULL). */
static int sig_record(wd_index *ix, const char *sig)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(ix->db, sig ? "INSERT OR REPLACE INTO meta VALUES ('" SIG_KEY "', ?)"
	                                   : "DELETE FROM meta WHERE key = '" SIG_KEY "'",
	                       -1, &st, NULL) != SQLITE_OK)
		return db_err(ix, "recording the ledger directory");
	if (sig)
		bind_s(st, 1, sig);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : db_err(ix, "recording the ledger directory");
}

/* ---- sync --------------------------------------------------------------- */

struct known {
	char *id;
	sqlite3_int64 size, mtime;
	int seen;
};

static int cmp_known(const void *a, const void *b)
{
	return strcmp(((const struct known *)a)->id, ((const struct known *)b)->id);
}

static void known_free(struct known *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

/* The (id, size, mtime) rows `sql` selects, sorted by id. */
static int load_known(wd_index *ix, const char *sql, struct known **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct known *v = NULL;
	size_t cap = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(ix, "reading runs");
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if (WD_ARRAY_RESERVE(v, cap, *n + 1, 256) != 0)
			break;
		v[*n].id = wd_strdup(id ? id : "");
		v[*n].size = sqlite3_column_int64(st, 1);
		v[*n].mtime = sqlite3_column_int64(st, 2);
		v[*n].seen = 0;
		if (!v[*n].id)
			break;
		(*n)++;
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		known_free(v, *n);
		*n = 0;
		return r == SQLITE_ROW ? wd_error_set(WD_ENOMEM, "out of memory")
		                       : db_err(ix, "reading runs");
	}
	/* SQLite's ORDER BY is by its collation (binary): the same as strcmp */
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_known);
	*out = v;
	return 0;
}

static int unchanged(const struct known *k, const struct stat *sb)
{
	return k->size == (sqlite3_int64)sb->st_size && k->mtime == ts_ns(&sb->st_mtim);
}

/* The directory did not change: only the open runs' ledgers can have. */
static int sync_open(wd_index *ix, size_t *nchanged)
{
	struct known *open = NULL;
	size_t nopen = 0;
	wd_buf path = WD_BUF_INIT;
	int rc, in_tx = 0;

	if ((rc = load_known(ix, "SELECT id, size, mtime_ns FROM runs WHERE status = 'running'",
	                     &open, &nopen)) != 0)
		return rc;
	for (size_t i = 0; i < nopen; i++) {
		struct stat sb;
		int gone;

		wd_buf_clear(&path);
		if (wd_buf_printf(&path, "%s/%s.jsonl", ix->ledger_dir, open[i].id) != 0) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
		gone = lstat(path.ptr, &sb) != 0 || !S_ISREG(sb.st_mode);
		if (!gone && unchanged(&open[i], &sb))
			continue;
		/* a write transaction only when something changed: a reader that
		 * finds nothing new takes no lock */
		if (!in_tx && (rc = exec(ix, "BEGIN IMMEDIATE")) != 0)
			goto out;
		in_tx = 1;
		rc = gone ? delete_run(ix, open[i].id) : index_one(ix, path.ptr, open[i].id, &sb);
		if (rc)
			goto out;
		(*nchanged)++;
	}
out:
	known_free(open, nopen);
	wd_buf_free(&path);
	if (in_tx) {
		if (rc) {
			exec(ix, "ROLLBACK");
			return rc;
		}
		return exec(ix, "COMMIT");
	}
	return rc;
}

/* Every ledger in the directory against the index's rows. */
static int sync_all(wd_index *ix, int rebuild, const char *sig, size_t *nchanged)
{
	struct known *known = NULL;
	size_t nknown = 0;
	wd_buf path = WD_BUF_INIT;
	DIR *d = NULL;
	struct dirent *e;
	int rc;

	if ((rc = exec(ix, "BEGIN IMMEDIATE")) != 0)
		return rc;
	if (rebuild) {
		for (size_t i = 0; i < sizeof(child_tables) / sizeof(child_tables[0]); i++) {
			char sql[64];

			snprintf(sql, sizeof(sql), "DELETE FROM %s", child_tables[i]);
			if ((rc = exec(ix, sql)) != 0)
				goto out;
		}
		if ((rc = exec(ix, "DELETE FROM runs")) != 0)
			goto out;
	} else if ((rc = load_known(ix, "SELECT id, size, mtime_ns FROM runs", &known,
	                            &nknown)) != 0)
		goto out;
	if (!(d = opendir(ix->ledger_dir))) {
		if (errno != ENOENT) {
			rc = wd_error_errno(WD_EINFRA, ix->ledger_dir);
			goto out;
		}
	}
	ix->skip_delete = rebuild;
	while (d && (e = readdir(d)) != NULL) {
		char *id = run_id_of(e->d_name);
		struct stat sb;
		struct known key, *k;

		if (!id)
			continue;
		/* only plain files: a link or a FIFO planted in the cache is not read */
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode)) {
			free(id);
			continue;
		}
		key.id = id;
		k = nknown ? bsearch(&key, known, nknown, sizeof(*known), cmp_known) : NULL;
		if (k) {
			k->seen = 1;
			if (unchanged(k, &sb)) {
				free(id);
				continue;
			}
		}
		wd_buf_clear(&path);
		if (wd_buf_printf(&path, "%s/%s", ix->ledger_dir, e->d_name) != 0) {
			free(id);
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
		rc = index_one(ix, path.ptr, id, &sb);
		free(id);
		if (rc)
			goto out;
		(*nchanged)++;
	}
	for (size_t i = 0; i < nknown; i++)
		if (!known[i].seen && (rc = delete_run(ix, known[i].id)) != 0)
			goto out;
	rc = sig_record(ix, sig);
out:
	ix->skip_delete = 0;
	if (d)
		closedir(d);
	known_free(known, nknown);
	wd_buf_free(&path);
	if (rc) {
		exec(ix, "ROLLBACK");
		return rc;
	}
	return exec(ix, "COMMIT");
}

int wd_index_sync(wd_index *ix, int rebuild, size_t *changed)
{
	char sig[128];
	size_t nchanged = 0;
	int settled = 0, rc;

	if (changed)
		*changed = 0;
	/* taken before the directory is read: a change after it moves it */
	if (dir_sig(sig, sizeof(sig), ix->ledger_dir, &settled) != 0)
		settled = 0;
	if (!rebuild && settled && sig_recorded(ix, sig))
		rc = sync_open(ix, &nchanged);
	else
		rc = sync_all(ix, rebuild, settled ? sig : NULL, &nchanged);
	if (!rc && changed)
		*changed = nchanged;
	return rc;
}

const char *wd_index_live_status(const char *status, const char *process_json)
{
	json_t *proc;
	int alive;

	if (!status)
		return "unknown";
	if (strcmp(status, "running") != 0)
		return status;
	proc = process_json ? json_loads(process_json, 0, NULL) : NULL;
	alive = proc && wd_ledger_process_alive(proc);
	json_decref(proc);
	return alive ? "running" : "interrupted";
}
