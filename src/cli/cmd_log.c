/* warden log: one line per run, from the index of the ledgers. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/json.h"
#include "warden/ledger.h"

#include "runs_cli.h"

static const char log_usage[] =
	"usage: warden log [--since DATE] [--status S] [--repo R] [--json] [--reindex]\n"
	"\n"
	"One line per run, newest first: id, age, ticket, status, rounds, cost, time.\n"
	"Every run is listed, failed or not; a run with no end whose process is gone\n"
	"shows as interrupted.\n"
	"\n"
	"  --since DATE     runs started since 2026-11-25, 2026-11-25T08:30 (UTC) or an age\n"
	"                   (30m, 12h, 7d, 2w)\n"
	"  --status S       only runs with status S: proposed, no_patch, error,\n"
	"                   interrupted, running, unreadable\n"
	"  --repo R         only runs whose repository contains R\n"
	"  --json           one JSON object {\"runs\": [...]} on stdout\n"
	"  --reindex        rebuild the index from the ledgers first\n"
	"  --work-dir DIR   warden's cache (default $XDG_CACHE_HOME/warden)\n"
	"\n"
	"exit codes: 0 listed, 2 usage error or no cache, 3 the index could not be read\n";

int cmd_log(int argc, char **argv)
{
	static const struct option own[] = {
		{ "status", required_argument, NULL, 'S' },
		{ "repo", required_argument, NULL, 'r' },
		{ "reindex", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	wd_runs_args a = { .cmd = "log", .usage = log_usage, .shared = WD_RUNS_JSON | WD_RUNS_SINCE };
	const char *status = NULL, *repo = NULL;
	int reindex = 0, c, rc, r;
	wd_buf cache = WD_BUF_INIT;
	wd_index *ix = NULL;
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	while ((c = wd_runs_getopt(&a, argc, argv, own)) > 0) {
		switch (c) {
		case 'S': status = optarg; break;
		case 'r': repo = optarg; break;
		case 'R': reindex = 1; break;
		}
	}
	if (c < 0)
		return a.exit;
	if ((rc = wd_runs_open(&ix, &cache, a.work_dir, reindex)) != 0)
		goto out;
	if (sqlite3_prepare_v2(wd_index_db(ix),
	                       "SELECT id, started, ticket_id, title, ticket, status, process, rounds,"
	                       " cost_usd, ms, repo, reason, input_tokens, output_tokens, decision"
	                       " FROM runs WHERE (?1 IS NULL OR started >= ?1)"
	                       " AND (?2 IS NULL OR instr(repo, ?2) > 0)"
	                       " ORDER BY started DESC, id", -1, &st, NULL) != SQLITE_OK) {
		rc = wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(wd_index_db(ix)));
		goto out;
	}
	if (a.since[0])
		sqlite3_bind_text(st, 1, a.since, -1, SQLITE_TRANSIENT);
	if (repo)
		sqlite3_bind_text(st, 2, repo, -1, SQLITE_TRANSIENT);
	/* stdout is a pipe or a file more often than not: one write per 64 KiB */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (a.json)
		fputs("{\"runs\":[", stdout);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *started = (const char *)sqlite3_column_text(st, 1);
		const char *tid = (const char *)sqlite3_column_text(st, 2);
		const char *title = (const char *)sqlite3_column_text(st, 3);
		const char *tpath = (const char *)sqlite3_column_text(st, 4);
		const char *s = wd_index_live_status((const char *)sqlite3_column_text(st, 5),
		                                     (const char *)sqlite3_column_text(st, 6));
		int rounds = sqlite3_column_int(st, 7);
		double cost = sqlite3_column_double(st, 8);
		int has_ms = sqlite3_column_type(st, 9) != SQLITE_NULL;
		int64_t ms = sqlite3_column_int64(st, 9);
		const char *ticket = title && *title ? title : tid && *tid ? tid : tpath ? tpath : "?";
		char age[16], dur[24];

		if (status && strcmp(status, s) != 0)
			continue;
		/* the index holds what the ledgers say redacted (index.c): rows
		 * are printed as they are, one object or one line each */
		if (a.json) {
			json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:i, s:o, s:o, s:s?, s:s?, "
			                      "s:I, s:I, s:s?}",
			                      "id", id ? id : "", "started", started, "ticket", tid,
			                      "title", title, "status", s, "rounds", rounds, "cost_usd",
			                      wd_json_usd(cost), "ms",
			                      has_ms ? json_integer(ms) : json_null(), "repo",
			                      (const char *)sqlite3_column_text(st, 10), "reason",
			                      (const char *)sqlite3_column_text(st, 11), "input_tokens",
			                      (json_int_t)sqlite3_column_int64(st, 12), "output_tokens",
			                      (json_int_t)sqlite3_column_int64(st, 13), "decision",
			                      (const char *)sqlite3_column_text(st, 14));

			if (!o || json_dumpf(o, n ? (fputc(',', stdout), stdout) : stdout,
			                     JSON_COMPACT | WD_JSON_REALS) != 0) {
				json_decref(o);
				rc = wd_error_set(WD_ENOMEM, "out of memory");
				goto out;
			}
			json_decref(o);
			n++;
			continue;
		}
		n++;
		wd_runs_age(age, sizeof(age), started);
		wd_runs_duration(dur, sizeof(dur), has_ms ? ms : -1);
		fputs(id ? id : "?", stdout);
		for (size_t k = id ? strlen(id) : 1; k < 10; k++)
			fputc(' ', stdout);
		printf(" %5s  ", age);
		/* one line: control characters as spaces, cut to 32 bytes */
		{
			size_t k = 0;

			for (; k < 32 && ticket[k]; k++)
				fputc((unsigned char)ticket[k] < 0x20 || ticket[k] == 0x7f ? ' ' : ticket[k],
				      stdout);
			for (; k < 32; k++)
				fputc(' ', stdout);
		}
		printf(" %-12s %2d  $%-9.4f %8s\n", s, rounds, cost, dur);
	}
	if (r != SQLITE_DONE) {
		rc = wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(wd_index_db(ix)));
		goto out;
	}
	if (a.json)
		fputs("]}\n", stdout);
	else if (n == 0)
		fprintf(stderr, "warden: no runs%s\n", a.since[0] || status || repo ? " match" : " yet");
out:
	sqlite3_finalize(st);
	wd_index_close(ix);
	wd_buf_free(&cache);
	if (rc) {
		wd_cli_error("log: %s", wd_error_last());
		return wd_exit_code_for(rc);
	}
	return WD_EXIT_OK;
}
