/* Shared by the commands that read the ledgers (see runs_cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "warden/error.h"
#include "warden/fs.h"

#include "runs_cli.h"

int wd_runs_cache(wd_buf *out, const char *work_dir)
{
	char *abs;
	int rc;

	wd_buf_clear(out);
	rc = work_dir && *work_dir ? wd_buf_sets(out, work_dir) : wd_cache_dir(out);
	if (rc)
		return rc;
	if (!wd_path_is_dir(out->ptr))
		return wd_error_set(WD_EUSAGE, "no warden cache at %s (no run has been made there; "
		                               "--work-dir names another)", out->ptr);
	if (!(abs = wd_realpath(out->ptr)))
		return wd_error_last_code() ? wd_error_last_code() : WD_EINFRA;
	rc = wd_buf_sets(out, abs);
	free(abs);
	return rc;
}

int wd_runs_index(wd_index **out, const char *cache, int rebuild)
{
	int rc = wd_index_open(out, cache);

	if (!rc && (rc = wd_index_sync(*out, rebuild, NULL)) != 0) {
		wd_index_close(*out);
		*out = NULL;
	}
	return rc;
}

int wd_runs_parse_since(char iso[32], const char *s)
{
	struct tm tm;
	char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!s || !*s)
		goto bad;
	if (s[0] >= '0' && s[0] <= '9' && strlen(s) <= 8 && strchr("mhdw", s[strlen(s) - 1]) &&
	    !strchr(s, '-')) {
		long long v = strtoll(s, &end, 10);
		long long unit = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 604800;

		if (end == s || end[1] || v < 0 || v > 100000)
			goto bad;
		t = time(NULL) - (time_t)(v * unit);
		gmtime_r(&t, &tm);
	} else {
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end && *end == 'T')
			end = strptime(end + 1, "%H:%M", &tm);
		if (end && *end == ':')
			end = strptime(end + 1, "%S", &tm);
		if (!end || (*end && strcmp(end, "Z") != 0))
			goto bad;
	}
	strftime(iso, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	return 0;
bad:
	return wd_error_set(WD_EUSAGE, "--since wants a date (2026-11-25, 2026-11-25T08:30) or "
	                               "an age (30m, 12h, 7d, 2w), not '%s'", s ? s : "");
}

time_t wd_runs_ts(const char *iso)
{
	struct tm tm;
	const char *end;

	if (!iso)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	return timegm(&tm);
}

void wd_runs_age(char *out, size_t n, const char *iso)
{
	time_t t = wd_runs_ts(iso), now = time(NULL);
	long long d;

	if (t < 0) {
		snprintf(out, n, "?");
		return;
	}
	d = (long long)(now - t);
	if (d < 0)
		d = 0;
	if (d < 60)
		snprintf(out, n, "%llds", d);
	else if (d < 3600)
		snprintf(out, n, "%lldm", d / 60);
	else if (d < 86400 * 2)
		snprintf(out, n, "%lldh", d / 3600);
	else
		snprintf(out, n, "%lldd", d / 86400);
}

void wd_runs_duration(char *out, size_t n, int64_t ms)
{
	if (ms < 0)
		snprintf(out, n, "-");
	else if (ms < 1000)
		snprintf(out, n, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, n, "%.1fs", (double)ms / 1000.0);
	else
		snprintf(out, n, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
}

int wd_runs_find(char **id, char **ledger, wd_index *ix, const char *run)
{
	sqlite3_stmt *st = NULL;
	size_t n = strlen(run ? run : "");
	int found = 0;

	*id = *ledger = NULL;
	if (n == 0 || n > 64)
		return wd_error_set(WD_EUSAGE, "a run id is required (see 'warden log')");
	if (sqlite3_prepare_v2(wd_index_db(ix),
	                       "SELECT id, ledger FROM runs WHERE substr(id, 1, ?) = ? LIMIT 2", -1,
	                       &st, NULL) != SQLITE_OK)
		return wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(wd_index_db(ix)));
	sqlite3_bind_int(st, 1, (int)n);
	sqlite3_bind_text(st, 2, run, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (found++) {
			free(*id);
			free(*ledger);
			*id = *ledger = NULL;
			sqlite3_finalize(st);
			return wd_error_set(WD_EUSAGE, "'%s' names more than one run; give more of its id",
			                    run);
		}
		*id = wd_strdup((const char *)sqlite3_column_text(st, 0));
		*ledger = wd_strdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (!found)
		return wd_error_set(WD_ENOTFOUND, "no run '%s' in this cache (see 'warden log')", run);
	if (!*id || !*ledger) {
		free(*id);
		free(*ledger);
		*id = *ledger = NULL;
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	return 0;
}
