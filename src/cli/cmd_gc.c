/* warden gc: prune what no open proposal and no recent run needs. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "warden/review.h"

#include "runs_cli.h"

/* A blob younger than this is kept even when no ledger names it yet: its
 * run may be about to write the event. */
#define BLOB_GRACE_SEC 3600

static const char gc_usage[] =
	"usage: warden gc [--older-than DAYS] [--dry-run] [--json] [--work-dir DIR]\n"
	"\n"
	"Prune warden's cache of what is older than DAYS (default 14) and needed by no\n"
	"open proposal and no running run: the work trees runs leave (interrupted runs,\n"
	"--keep-worktree), the blobs of old ledgers (the JSONL ledgers themselves stay,\n"
	"so 'warden log' and 'stats' still count them), tag-cache entries (and the map's\n"
	"per-work-tree tag packs), and baselines\n"
	"of base commits no open proposal starts from. An unreferenced blob younger than\n"
	"an hour is kept (its run may be writing it).\n"
	"\n"
	"  --older-than DAYS  age to prune at (0: everything not needed)\n"
	"  --dry-run          say what would go, remove nothing\n"
	"  --json             one JSON object with the counts on stdout\n"
	"\n"
	"exit codes: 0 pruned, 2 usage error or no cache, 3 something could not be removed\n";

struct gc {
	const char *cache;
	time_t cutoff;
	int dry;
	wd_strvec keep_runs;    /* running runs, open proposals */
	wd_strvec keep_bases;   /* base commits of open proposals */
	json_t *blobs;          /* ids still referenced: {id: true} */
	size_t trees, blobs_removed, tags, baselines;
	unsigned long long bytes;
	int errors;
};

static unsigned long long du(const char *path)
{
	struct stat st;
	unsigned long long n = 0;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return (unsigned long long)st.st_size;
	if (!(d = opendir(path)))
		return 0;
	while ((e = readdir(d)) != NULL) {
		char sub[4096];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) < sizeof(sub))
			n += du(sub);
	}
	closedir(d);
	return n;
}

/* Remove path (a tree through the safe remover, never following a link). */
static int prune(struct gc *g, const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return 0;
	g->bytes += du(path);
	if (g->dry)
		return 1;
	if (S_ISDIR(st.st_mode) ? wd_rm_rf(path) != 0 : unlink(path) != 0) {
		fprintf(stderr, "warden: gc: could not remove %s\n", path);
		wd_error_clear();
		g->errors++;
		return 0;
	}
	return 1;
}

static int old(const struct gc *g, const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_mtime <= g->cutoff;
}

/* The runs and base commits that must stay: open proposals, running runs,
 * and (for blobs) every run newer than the cutoff. */
static int collect_keep(struct gc *g, wd_index *ix)
{
	wd_proposal_list pl = WD_PROPOSAL_LIST_INIT;
	sqlite3_stmt *st = NULL;
	char cut[32];
	struct tm tm;
	int rc;

	if ((rc = wd_proposal_list_load(&pl, g->cache, WD_PROPOSAL_OPEN)) != 0)
		return rc;
	for (size_t i = 0; i < pl.n && !rc; i++) {
		rc = wd_strvec_push(&g->keep_runs, pl.v[i]->id);
		if (!rc && pl.v[i]->base[0])
			rc = wd_strvec_push(&g->keep_bases, pl.v[i]->base);
	}
	wd_proposal_list_free(&pl);
	if (rc)
		return rc;
	gmtime_r(&g->cutoff, &tm);
	/* the whole second of the cutoff counts as old (ledger times have milliseconds) */
	strftime(cut, sizeof(cut), "%Y-%m-%dT%H:%M:%S.999Z", &tm);
	if (sqlite3_prepare_v2(wd_index_db(ix), "SELECT id, status, process, started FROM runs", -1,
	                       &st, NULL) != SQLITE_OK)
		return wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(wd_index_db(ix)));
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *s = wd_index_live_status((const char *)sqlite3_column_text(st, 1),
		                                     (const char *)sqlite3_column_text(st, 2));
		const char *started = (const char *)sqlite3_column_text(st, 3);

		if (id && (!strcmp(s, "running") || (started && strcmp(started, cut) > 0)))
			rc = wd_strvec_push(&g->keep_runs, id);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Every blob id a kept run's ledger names. */
static int collect_blobs(struct gc *g)
{
	char dir[4096];
	int rc = 0;

	if (!(g->blobs = json_object()))
		return WD_ENOMEM;
	for (size_t i = 0; i < g->keep_runs.n && !rc; i++) {
		wd_buf text = WD_BUF_INIT;
		const char *p;

		snprintf(dir, sizeof(dir), "%s/ledger/%s.jsonl", g->cache, g->keep_runs.v[i]);
		if (wd_file_read(&text, dir, 0) != 0) {
			wd_error_clear();
			continue;
		}
		/* "…blob":"<40 hex>": cheaper than parsing, and ids are checked */
		for (p = wd_buf_cstr(&text); (p = strstr(p, "blob\":\"")) != NULL; p += 7) {
			char hex[41];

			memcpy(hex, p + 7, 40);
			hex[40] = '\0';
			if (strlen(p + 7) >= 40 && wd_ledger_blob_hex_ok(hex) &&
			    json_object_set_new(g->blobs, hex, json_true()) != 0)
				rc = WD_ENOMEM;
		}
		wd_buf_free(&text);
	}
	return rc;
}

static void gc_trees(struct gc *g)
{
	char dir[4096], path[4096];
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/runs", g->cache);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		/* a run still going keeps its tree whatever its age */
		if (wd_strvec_contains(&g->keep_runs, e->d_name) && !old(g, path))
			continue;
		if (old(g, path)) {
			int running = 0;
			char ledger[4096];
			json_t *evs = NULL;

			snprintf(ledger, sizeof(ledger), "%s/ledger/%s.jsonl", g->cache, e->d_name);
			if (wd_ledger_read(&evs, ledger, 0) == 0 && json_array_size(evs)) {
				json_t *last = json_array_get(evs, json_array_size(evs) - 1);
				const char *type = json_string_value(json_object_get(last, "type"));

				running = (!type || strcmp(type, "run.end") != 0) &&
				          wd_ledger_process_alive(json_object_get(json_array_get(evs, 0),
				                                                  "process"));
			}
			wd_error_clear();
			json_decref(evs);
			if (!running)
				g->trees += (size_t)prune(g, path);
		}
	}
	closedir(d);
}

static void gc_blobs(struct gc *g)
{
	char dir[4096], sub[4096], path[4096];
	time_t grace = time(NULL) - BLOB_GRACE_SEC;
	DIR *d, *s;
	struct dirent *e, *f;

	snprintf(dir, sizeof(dir), "%s/ledger/blobs", g->cache);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 2 || e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= sizeof(sub) ||
		    !(s = opendir(sub)))
			continue;
		while ((f = readdir(s)) != NULL) {
			char hex[41];
			struct stat st;

			if (strlen(f->d_name) != 38)
				continue;
			/* both lengths were checked: 2 + 38 */
			memcpy(hex, e->d_name, 2);
			memcpy(hex + 2, f->d_name, 38);
			hex[40] = '\0';
			if (!wd_ledger_blob_hex_ok(hex) || json_object_get(g->blobs, hex))
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", sub, f->d_name) >= sizeof(path) ||
			    lstat(path, &st) != 0 || st.st_mtime > grace || st.st_mtime > g->cutoff)
				continue;
			g->blobs_removed += (size_t)prune(g, path);
		}
		closedir(s);
	}
	closedir(d);
}

/* Files under dir (two levels: xx/rest) older than the cutoff. */
static void gc_tags(struct gc *g)
{
	char dir[4096], sub[4096], path[4096];
	DIR *d, *s;
	struct dirent *e, *f;

	snprintf(dir, sizeof(dir), "%s/tags", g->cache);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		DIR *v;
		struct dirent *x;
		char vdir[4096];

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(vdir, sizeof(vdir), "%s/%s", dir, e->d_name) >= sizeof(vdir) ||
		    !(v = opendir(vdir)))
			continue;
		while ((x = readdir(v)) != NULL) {
			if (x->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", vdir, x->d_name) >= sizeof(sub) ||
			    !(s = opendir(sub)))
				continue;
			while ((f = readdir(s)) != NULL) {
				if (f->d_name[0] == '.')
					continue;
				if ((size_t)snprintf(path, sizeof(path), "%s/%s", sub, f->d_name) <
				    sizeof(path) && old(g, path))
					g->tags += (size_t)prune(g, path);
			}
			closedir(s);
		}
		closedir(v);
	}
	closedir(d);
}

/* The map's per-work-tree tag packs (and the stat caches before them): one
 * per work tree mapped, counted as tag entries. */
static void gc_map_packs(struct gc *g)
{
	char dir[4096], path[4096];
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/map", g->cache);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "pack-", 5) != 0 && strncmp(e->d_name, "stat-", 5) != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path) &&
		    old(g, path))
			g->tags += (size_t)prune(g, path);
	}
	closedir(d);
}

static void gc_baselines(struct gc *g)
{
	char dir[4096], path[4096];
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/baseline", g->cache);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || wd_strvec_contains(&g->keep_bases, e->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path) &&
		    old(g, path))
			g->baselines += (size_t)prune(g, path);
	}
	closedir(d);
}

int cmd_gc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "work-dir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gc g;
	const char *work_dir = NULL;
	long days = 14;
	int json = 0, c, rc;
	wd_buf cache = WD_BUF_INIT;
	wd_index *ix = NULL;

	memset(&g, 0, sizeof(g));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': {
			char *end;

			days = strtol(optarg, &end, 10);
			if (!*optarg || *end || days < 0 || days > 36500) {
				wd_cli_error("gc: --older-than wants a number of days, not '%s'", optarg);
				return WD_EXIT_USAGE;
			}
			break;
		}
		case 'n': g.dry = 1; break;
		case 'j': json = 1; break;
		case 'w': work_dir = optarg; break;
		case 'h': fputs(gc_usage, stdout); return WD_EXIT_OK;
		default: fputs(gc_usage, stderr); return WD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		wd_cli_error("gc: unexpected argument '%s'", argv[optind]);
		fputs(gc_usage, stderr);
		return WD_EXIT_USAGE;
	}
	g.cutoff = time(NULL) - (time_t)days * 86400;
	if ((rc = wd_runs_cache(&cache, work_dir)) != 0 ||
	    (rc = wd_runs_index(&ix, cache.ptr, 0)) != 0)
		goto out;
	g.cache = cache.ptr;
	if ((rc = collect_keep(&g, ix)) != 0 || (rc = collect_blobs(&g)) != 0) {
		if (rc == WD_ENOMEM)
			wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	gc_trees(&g);
	gc_blobs(&g);
	gc_tags(&g);
	gc_map_packs(&g);
	gc_baselines(&g);
	if (json) {
		json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "dry_run", g.dry,
		                      "work_trees", (json_int_t)g.trees, "blobs",
		                      (json_int_t)g.blobs_removed, "tag_entries", (json_int_t)g.tags,
		                      "baselines", (json_int_t)g.baselines, "bytes",
		                      (json_int_t)g.bytes, "errors", (json_int_t)g.errors);
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	fprintf(stderr, "warden: gc %s %zu work tree(s), %zu blob(s), %zu tag-cache entr%s, "
	                "%zu baseline(s): %.1f MiB\n", g.dry ? "would remove" : "removed", g.trees,
	        g.blobs_removed, g.tags, g.tags == 1 ? "y" : "ies", g.baselines,
	        (double)g.bytes / 1048576.0);
	if (g.errors)
		rc = wd_error_set(WD_EINFRA, "%d path(s) could not be removed", g.errors);
out:
	json_decref(g.blobs);
	wd_strvec_free(&g.keep_runs);
	wd_strvec_free(&g.keep_bases);
	wd_index_close(ix);
	wd_buf_free(&cache);
	if (rc) {
		wd_cli_error("gc: %s", wd_error_last());
		return wd_exit_code_for(rc);
	}
	return WD_EXIT_OK;
}
