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
#include "warden/repo.h"
#include "warden/review.h"
#include "warden/text.h"

#include "runs_cli.h"

/* A blob younger than this is kept even when no ledger names it yet: its
 * run may be about to write the event. */
#define BLOB_GRACE_SEC 3600

static const char gc_usage[] =
	"usage: warden gc [--older-than DAYS] [--dry-run] [--json] [--work-dir DIR]\n"
	"                 [--repo PATH]... [--prune-orphans]\n"
	"\n"
	"Prune warden's cache of what is older than DAYS (default 14) and needed by no\n"
	"open proposal and no running run: the work trees runs leave (interrupted runs,\n"
	"--keep-worktree), the blobs of old ledgers (the JSONL ledgers themselves stay,\n"
	"so 'warden log' and 'stats' still count them), tag-cache entries (and the map's\n"
	"per-work-tree tag packs), and baselines\n"
	"of base commits no open proposal starts from. An unreferenced blob younger than\n"
	"an hour is kept (its run may be writing it).\n"
	"\n"
	"It also reports orphan branches: a warden/... branch in a repository this\n"
	"cache's runs published to (or a --repo) whose run this cache made, and which\n"
	"has no proposal record and is not running (a run killed between making the\n"
	"branch and writing its record).\n"
	"'review list' cannot show them; gc names each and removes them only with\n"
	"--prune-orphans (a branch that has moved or is checked out stays). Likewise\n"
	"the refs/heads/warden/*.lock files such a run left when it was killed while\n"
	"writing its branch, untouched for a minute (a live writer holds one for\n"
	"milliseconds): they litter the repository and block that branch name.\n"
	"\n"
	"  --older-than DAYS  age to prune at (0: everything not needed)\n"
	"  --dry-run          say what would go, remove nothing\n"
	"  --json             one JSON object with the counts on stdout\n"
	"  --repo PATH        look for orphan branches in PATH too (repeatable)\n"
	"  --prune-orphans    delete the orphan branches and stale ref locks found\n"
	"\n"
	"exit codes: 0 pruned, 2 usage error or no cache, 3 something could not be removed\n";

struct gc {
	const char *cache;
	time_t cutoff;
	int dry;
	wd_strvec keep_runs;    /* running runs, open proposals */
	wd_strvec keep_bases;   /* base commits of open proposals */
	wd_strvec running;      /* runs still going (their branch may precede their record) */
	wd_strvec records;      /* every proposal record's run id, whatever its status */
	wd_strvec repos;        /* repositories to search for orphan branches (real paths) */
	json_t *orphans;        /* [{repo, branch, commit, run, removed}] */
	json_t *locks;          /* [{repo, branch, run, removed}]: leftover ref locks */
	int prune_orphans;
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
		if (!rc && id && !strcmp(s, "running"))
			rc = wd_strvec_push(&g->running, id);
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

/* ---- orphan branches ---- */

/* Add `path` (resolved) to the repositories to search, once. A path that
 * does not resolve is skipped: its repository is gone, and its branches
 * with it. */
static int add_repo(struct gc *g, const char *path)
{
	char *real;
	int rc = 0;

	if (!path || !*path)
		return 0;
	if (!(real = wd_realpath(path))) {
		wd_error_clear();
		return 0;
	}
	if (!wd_strvec_contains(&g->repos, real))
		rc = wd_strvec_push(&g->repos, real);
	free(real);
	return rc;
}

/* Where this cache's runs may have made branches: every proposal record's
 * repository, every local source a run named by an absolute path, every
 * mirror (the branches of URL sources live there), and the --repo paths. */
static int collect_repos(struct gc *g, wd_index *ix)
{
	wd_proposal_list pl = WD_PROPOSAL_LIST_INIT;
	sqlite3_stmt *st = NULL;
	char dir[4096], path[4096];
	DIR *d;
	struct dirent *e;
	int rc;

	if ((rc = wd_proposal_list_load(&pl, g->cache, -1)) != 0)
		return rc;
	for (size_t i = 0; i < pl.n && !rc; i++)
		if ((rc = wd_strvec_push(&g->records, pl.v[i]->id)) == 0)
			rc = add_repo(g, pl.v[i]->repo);
	/* a record gc cannot read still names a run: its branch is not an orphan */
	for (size_t i = 0; i < pl.skipped.n && !rc; i++) {
		const char *f = strrchr(pl.skipped.v[i], '/');
		const char *dot = f ? strstr(f, ".json") : NULL;

		if (dot) {
			char *id = wd_strndup(f + 1, (size_t)(dot - f - 1));

			rc = id ? wd_strvec_push(&g->records, id) : WD_ENOMEM;
			free(id);
		}
	}
	wd_proposal_list_free(&pl);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(wd_index_db(ix), "SELECT DISTINCT repo FROM runs", -1, &st,
	                       NULL) != SQLITE_OK)
		return wd_error_set(WD_EINFRA, "index: %s", sqlite3_errmsg(wd_index_db(ix)));
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		const char *repo = (const char *)sqlite3_column_text(st, 0);

		/* a relative path was relative to a directory gc does not know */
		if (repo && repo[0] == '/')
			rc = add_repo(g, repo);
	}
	sqlite3_finalize(st);
	snprintf(dir, sizeof(dir), "%s/mirrors", g->cache);
	if (rc || !(d = opendir(dir)))
		return rc;
	while (!rc && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path))
			rc = add_repo(g, path);
	closedir(d);
	return rc;
}

/* The run id a branch name carries: "warden/<slug>-<run-id>". */
static const char *branch_run_id(const char *branch)
{
	const char *dash = strrchr(branch, '-');

	return dash ? dash + 1 : branch + strlen("warden/");
}

/* Whether this cache ran `id`: its ledger is opened before anything else a
 * run does, so a run killed at any point left one. A warden/ branch of
 * someone else's (another cache's run, a person's own branch) is never
 * called an orphan here, and never removed. */
static int run_of_this_cache(const struct gc *g, const char *id)
{
	char path[4096];
	struct stat st;

	if (!*id || strspn(id, "0123456789abcdefABCDEFghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ_") !=
	    strlen(id))
		return 0;
	return (size_t)snprintf(path, sizeof(path), "%s/ledger/%s.jsonl", g->cache, id) <
	       sizeof(path) && lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether gc may remove what it found (--prune-orphans, not --dry-run);
 * else *what says why it stays. */
static int may_prune(const struct gc *g, const char **what)
{
	*what = !g->prune_orphans ? "kept: remove it with --prune-orphans" : "would remove it";
	return g->prune_orphans && !g->dry;
}

/* The outcome of removing `thing` (already cleaned for the terminal) in
 * `repo`, whose removal returned `rc`: a failure is said and counted. */
static const char *pruned(struct gc *g, int rc, const char *thing, const char *repo, int *removed)
{
	char *why;

	if (rc == 0) {
		*removed = 1;
		return "removed";
	}
	/* the error names the repository's ref: cleaned like every name of it */
	why = wd_text_clean_line(wd_error_last());
	fprintf(stderr, "warden: gc: could not remove %s in %s: %s\n", thing, repo, why ? why : "?");
	free(why);
	wd_error_clear();
	g->errors++;
	return "not removed";
}

static int orphan_found(struct gc *g, const char *repo, const char *branch, const char *tip)
{
	const char *id = branch_run_id(branch), *what;
	/* a ref name is the repository's text: no control character reaches the terminal */
	char *shown = wd_text_clean_line(branch), *thing;
	int removed = 0;
	json_t *o;

	if (g->prune_orphans && !tip[0]) {
		what = "kept: a symbolic ref is not one warden made";
	} else if (may_prune(g, &what)) {
		thing = wd_format("orphan branch %s", shown ? shown : "?");
		what = pruned(g, wd_repo_branch_delete(repo, branch, tip, NULL), thing ? thing : "?",
		              repo, &removed);
		free(thing);
	}
	fprintf(stderr, "warden: gc: orphan branch %s in %s at %.12s: run %s has no proposal "
	                "record in %s (%s)\n", shown ? shown : "?", repo, tip[0] ? tip : "(symbolic)",
	        shown ? branch_run_id(shown) : "?", g->cache, what);
	free(shown);
	o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "repo", repo, "branch", branch, "commit", tip,
	              "run", id, "removed", removed);
	if (!o || json_array_append_new(g->orphans, o))
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

/* A ref lock untouched this long is a dead writer's: libgit2 holds one for
 * the milliseconds between writing <ref>.lock and moving it into place. */
#define GC_LOCK_MIN_AGE 60u

static int lock_found(struct gc *g, const char *repo, const char *branch)
{
	const char *what;
	char *shown = wd_text_clean_line(branch), *thing;
	int removed = 0;
	json_t *o;

	if (may_prune(g, &what)) {
		thing = wd_format("refs/heads/%s.lock", shown ? shown : "?");
		what = pruned(g, wd_repo_ref_lock_remove(repo, branch, GC_LOCK_MIN_AGE),
		              thing ? thing : "?", repo, &removed);
		free(thing);
	}
	fprintf(stderr, "warden: gc: refs/heads/%s.lock in %s was left by run %s, killed while it "
	                "wrote that branch (%s)\n", shown ? shown : "?", repo,
	        shown ? branch_run_id(shown) : "?", what);
	free(shown);
	o = json_pack("{s:s, s:s, s:s, s:b}", "repo", repo, "branch", branch, "run",
	              branch_run_id(branch), "removed", removed);
	if (!o || json_array_append_new(g->locks, o))
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

/* The ref locks a run of this cache, killed while it wrote a warden/ branch,
 * left in the repository at `repo`. */
static int gc_locks_in(struct gc *g, const char *repo)
{
	wd_strvec locked = WD_STRVEC_INIT;
	int rc = 0;

	if (wd_repo_warden_ref_locks(&locked, repo, GC_LOCK_MIN_AGE) != 0) {
		wd_error_clear(); /* not a repository (any more), or unreadable: nothing to do */
		wd_strvec_free(&locked);
		return 0;
	}
	for (size_t k = 0; k < locked.n && !rc; k++) {
		const char *id = branch_run_id(locked.v[k]);

		if (run_of_this_cache(g, id) && !wd_strvec_contains(&g->running, id))
			rc = lock_found(g, repo, locked.v[k]);
	}
	wd_strvec_free(&locked);
	return rc;
}

/* Report (and with --prune-orphans remove) every warden/ branch whose run
 * this cache made, has no record and is not running, and the ref locks such
 * runs left. */
static int gc_orphans(struct gc *g)
{
	int rc = 0;

	if (!(g->orphans = json_array()) || !(g->locks = json_array()))
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (g->repos.n && wd_repo_global_init() != 0)
		return wd_error_set(WD_EINFRA, "could not initialise libgit2");
	for (size_t i = 0; i < g->repos.n && !rc; i++) {
		wd_strvec names = WD_STRVEC_INIT, tips = WD_STRVEC_INIT;

		if (wd_repo_warden_branches(&names, &tips, g->repos.v[i]) != 0) {
			wd_error_clear(); /* not a repository (any more): nothing to find there */
		} else {
			for (size_t k = 0; k < names.n && !rc; k++) {
				const char *id = branch_run_id(names.v[k]);

				if (!run_of_this_cache(g, id) || wd_strvec_contains(&g->records, id) ||
				    wd_strvec_contains(&g->running, id))
					continue;
				rc = orphan_found(g, g->repos.v[i], names.v[k], tips.v[k]);
			}
		}
		wd_strvec_free(&names);
		wd_strvec_free(&tips);
		if (!rc)
			rc = gc_locks_in(g, g->repos.v[i]);
	}
	if (g->repos.n)
		wd_repo_global_shutdown();
	return rc;
}

int cmd_gc(int argc, char **argv)
{
	static const struct option own[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "repo", required_argument, NULL, 'r' },
		{ "prune-orphans", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	wd_runs_args a = { .cmd = "gc", .usage = gc_usage, .shared = WD_RUNS_JSON };
	struct gc g;
	long days = 14;
	int c, rc;
	wd_buf cache = WD_BUF_INIT;
	wd_index *ix = NULL;
	wd_strvec repo_args = WD_STRVEC_INIT;

	memset(&g, 0, sizeof(g));
	while ((c = wd_runs_getopt(&a, argc, argv, own)) > 0) {
		switch (c) {
		case 'o': {
			char *end;

			days = strtol(optarg, &end, 10);
			if (!*optarg || *end || days < 0 || days > 36500) {
				wd_cli_error("gc: --older-than wants a number of days, not '%s'", optarg);
				wd_strvec_free(&repo_args);
				return WD_EXIT_USAGE;
			}
			break;
		}
		case 'n': g.dry = 1; break;
		case 'r':
			if (wd_strvec_push(&repo_args, optarg) != 0) {
				rc = WD_ENOMEM;
				goto out;
			}
			break;
		case 'p': g.prune_orphans = 1; break;
		}
	}
	if (c < 0) {
		wd_strvec_free(&repo_args);
		return a.exit;
	}
	g.cutoff = time(NULL) - (time_t)days * 86400;
	if ((rc = wd_runs_open(&ix, &cache, a.work_dir, 0)) != 0)
		goto out;
	g.cache = cache.ptr;
	for (size_t i = 0; i < repo_args.n; i++) {
		char *real = wd_realpath(repo_args.v[i]);

		free(real);
		if (!real) {
			rc = wd_error_set(WD_EUSAGE, "--repo %s: no such directory", repo_args.v[i]);
			goto out;
		}
		if ((rc = add_repo(&g, repo_args.v[i])) != 0)
			goto out;
	}
	if ((rc = collect_keep(&g, ix)) != 0 || (rc = collect_blobs(&g)) != 0 ||
	    (rc = collect_repos(&g, ix)) != 0) {
		if (rc == WD_ENOMEM)
			wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	gc_trees(&g);
	gc_blobs(&g);
	gc_tags(&g);
	gc_map_packs(&g);
	gc_baselines(&g);
	if ((rc = gc_orphans(&g)) != 0)
		goto out;
	if (a.json) {
		json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:O, s:O}", "dry_run", g.dry,
		                      "work_trees", (json_int_t)g.trees, "blobs",
		                      (json_int_t)g.blobs_removed, "tag_entries", (json_int_t)g.tags,
		                      "baselines", (json_int_t)g.baselines, "bytes",
		                      (json_int_t)g.bytes, "errors", (json_int_t)g.errors,
		                      "orphans", g.orphans, "stale_locks", g.locks);
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	fprintf(stderr, "warden: gc %s %zu work tree(s), %zu blob(s), %zu tag-cache entr%s, "
	                "%zu baseline(s): %.1f MiB; %zu orphan branch(es)\n",
	        g.dry ? "would remove" : "removed", g.trees, g.blobs_removed, g.tags,
	        g.tags == 1 ? "y" : "ies", g.baselines, (double)g.bytes / 1048576.0,
	        json_array_size(g.orphans));
	if (g.errors)
		rc = wd_error_set(WD_EINFRA, "%d path(s) could not be removed", g.errors);
out:
	json_decref(g.blobs);
	json_decref(g.orphans);
	json_decref(g.locks);
	wd_strvec_free(&repo_args);
	wd_strvec_free(&g.running);
	wd_strvec_free(&g.records);
	wd_strvec_free(&g.repos);
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
