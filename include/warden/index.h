#ifndef WARDEN_INDEX_H
#define WARDEN_INDEX_H

#include <sqlite3.h>

/*
 * The index of the ledgers: one SQLite database, <cache>/index.sqlite (WAL
 * mode, 0600), derived from the JSONL ledgers in <cache>/ledger/ and never
 * the other way round: deleting it loses nothing, and `warden log --reindex`
 * rebuilds it. Each ledger is indexed by its size and modification time, so
 * a sync reads only the ledgers that changed since; and while the ledger
 * directory's signature is the one the last full sync recorded (the ledger
 * writer moves the directory's times on every append), it stats only the
 * ledgers of runs with no end. Strings are stored redacted. The schema is versioned
 * (PRAGMA user_version) and migrated forward on open; docs/ledger.md lists
 * the tables.
 *
 *   runs         one row per ledger: ticket, repo, model, status, reason,
 *                rounds, tokens, cost, time, the writing process
 *   rounds       per round: passed, reason
 *   model_calls  per model call: tokens, cost, latency, attempts
 *   tool_calls   per tool call: name, whether it was refused
 *   checks       per check run: phase, round, name, passed, exit, ms
 *   proposals    the proposal a run made
 *   decisions    review.approve / review.reject
 *   alerts       what looked wrong (cost spike, repeats, retries, a slow check)
 *
 * Everything in a ledger is untrusted input to the index: values are bound,
 * never spliced into SQL, and a ledger that cannot be read is indexed as a
 * run with status "unreadable" and the reason.
 */

#define WD_INDEX_SCHEMA_VERSION 2

typedef struct wd_index wd_index;

/* Open (creating, migrating) the index of the cache at cache_dir. */
int wd_index_open(wd_index **out, const char *cache_dir);

/* Bring the index up to date with the ledgers: index new and changed ones,
 * drop the rows of ledgers that are gone. `rebuild`: drop everything first
 * and read every ledger again. *changed (may be NULL) gets how many ledgers
 * were (re)read. */
int wd_index_sync(wd_index *ix, int rebuild, size_t *changed);

/* Index one ledger now (the run just ended, a decision was added). */
int wd_index_ledger(wd_index *ix, const char *ledger_path);

sqlite3 *wd_index_db(wd_index *ix);
const char *wd_index_cache_dir(const wd_index *ix);

void wd_index_close(wd_index *ix);

/* The status a person should see for a row: a "running" run whose process
 * is gone is "interrupted". `process_json` is the run.start process object
 * as stored ({pid, start, host}), may be NULL. Static storage. */
const char *wd_index_live_status(const char *status, const char *process_json);

#endif
