/* Shared by the commands that read the ledgers (see runs_cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/json.h"

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

/* own + the shared options the command takes, + the terminator. */
static int build_opts(wd_runs_args *a, const struct option *own)
{
	static const struct option shared[] = {
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "work-dir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t n = 0;

	for (; own && own[n].name; n++) {
		if (n == WD_RUNS_OWN_MAX)
			return -1;
		a->opts[n] = own[n];
	}
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		if ((shared[i].val != 's' || (a->shared & WD_RUNS_SINCE)) &&
		    (shared[i].val != 'j' || (a->shared & WD_RUNS_JSON)))
			a->opts[n++] = shared[i];
	memset(&a->opts[n], 0, sizeof(a->opts[n]));
	return 0;
}

/* -1 with a->exit: `msg` said (unless NULL), the usage on stderr (unless bare). */
static int usage_error(wd_runs_args *a, const char *msg, const char *arg, int bare)
{
	if (msg)
		wd_cli_error("%s: %s%s%s", a->cmd, msg, arg ? arg : "", arg ? "'" : "");
	if (!bare)
		fputs(a->usage, stderr);
	a->exit = WD_EXIT_USAGE;
	return -1;
}

int wd_runs_getopt(wd_runs_args *a, int argc, char **argv, const struct option *own)
{
	int c;

	if (!a->opts[0].name) {
		if (build_opts(a, own) != 0)
			return usage_error(a, "too many options of its own", NULL, 1);
		optind = 1;
	}
	while ((c = getopt_long(argc, argv, "h", a->opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (wd_runs_parse_since(a->since, optarg) != 0)
				return usage_error(a, wd_error_last(), NULL, 1);
			break;
		case 'j': a->json = 1; break;
		case 'w': a->work_dir = optarg; break;
		case 'h':
			fputs(a->usage, stdout);
			a->exit = WD_EXIT_OK;
			return -1;
		case '?': return usage_error(a, NULL, NULL, 0);
		default: return c;
		}
	}
	if (!a->takes_run && optind < argc)
		return usage_error(a, "unexpected argument '", argv[optind], 0);
	return 0;
}

int wd_runs_open(wd_index **ix, wd_buf *cache, const char *work_dir, int rebuild)
{
	int rc = wd_runs_cache(cache, work_dir);

	return rc ? rc : wd_runs_index(ix, cache->ptr, rebuild);
}

int wd_runs_story(json_t **out, const char *work_dir, const char *run, const wd_story_opts *so)
{
	wd_buf cache = WD_BUF_INIT;
	wd_index *ix = NULL;
	char *id = NULL, *ledger = NULL;
	int rc;

	*out = NULL;
	if ((rc = wd_runs_open(&ix, &cache, work_dir, 0)) == 0 &&
	    (rc = wd_runs_find(&id, &ledger, ix, run)) == 0)
		rc = wd_story_build(out, ledger, so);
	free(id);
	free(ledger);
	wd_index_close(ix);
	wd_buf_free(&cache);
	return rc;
}

int wd_runs_print_json(const json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | WD_JSON_REALS);

	if (!text)
		return wd_error_set(WD_ENOMEM, "out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
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
