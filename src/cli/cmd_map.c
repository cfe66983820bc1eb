/* warden map: print the ranked tree-sitter repository map of a work tree. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/cli.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/map.h"
#include "warden/mem.h"
#include "warden/repo.h"

static void map_usage(FILE *f)
{
	fprintf(f,
	        "usage: warden map [--repo DIR] [--budget TOKENS] [--focus PATH|SYMBOL]... [--json]\n"
	        "\n"
	        "Print every definition of the work tree (functions, types, structs, macros,\n"
	        "classes, methods...) with its signature and line range, ranked by PageRank over\n"
	        "the definition/reference graph, personalised toward the focus; most relevant\n"
	        "first, cut to the token budget (tokens are estimated as bytes/4).\n"
	        "\n"
	        "  --repo DIR        work tree to map (default: the current directory); a git\n"
	        "                    work tree maps its tracked files, any other directory all files\n"
	        "  --budget TOKENS   token budget for the output (default 2048; 0 = everything)\n"
	        "  --focus X         a file, a directory or an identifier to rank toward (repeatable);\n"
	        "                    a focused file's own definitions come first; a focus that\n"
	        "                    matches nothing is a warning (with the nearest path or\n"
	        "                    name, when one is a plausible typo of it)\n"
	        "  --json            one JSON object on stdout (definitions, ranks, references, stats)\n"
	        "  --threads N       parser threads (default: one per core)\n"
	        "  --no-cache        parse every file; do not read or write the tag cache\n"
	        "  --stats           print build statistics on stderr\n"
	        "\n"
	        "Vendored and generated files (under deps/, vendor/, third_party/, external/,\n"
	        "node_modules/, marked linguist-vendored or linguist-generated in .gitattributes,\n"
	        "or matching a map.exclude glob of the config) are not ranked unless focused.\n"
	        "\n"
	        "Tags are cached by git blob id under $WARDEN_CACHE_DIR (else $XDG_CACHE_HOME/warden,\n"
	        "else ~/.cache/warden), so a second map re-parses only the files that changed.\n"
	        "\n"
	        "exit codes: 0 printed, 2 usage error or no such directory, 3 infrastructure error\n");
}

static int parse_size(size_t *out, const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end)
		return -1;
	*out = (size_t)v;
	return 0;
}

/*
 * A warm map writes about 9 MiB of fresh heap (its tags' arrays, the name
 * index, the ranks), and on a virtual machine a page's first write costs far
 * more than the work done in it: on the shared 2-core VM of bench/map, a
 * warm map of git/git spent a fifth of its time there. So before a warm
 * build this process takes about what it will use (2.5 times the tag pack,
 * which it scales with) as one block made resident at once, in huge pages
 * (wd_mem_prefault), and keeps freed memory on its heap (no mmap per large
 * block, no trim) so the build reuses those pages. A cold build (no pack
 * yet) is left as it is. The parse threads keep arenas of their own: with
 * one arena for all, a warm map that re-parsed 130 files waited on its lock.
 */
#define PREFAULT_MAX ((size_t)256 << 20) /* under the mmap threshold set below */

static void prefault_heap(size_t pack_bytes)
{
	size_t n = pack_bytes / 2 * 5;
	char *p;

	if (!pack_bytes)
		return;
	if (n > PREFAULT_MAX)
		n = PREFAULT_MAX;
	if (!mallopt(M_MMAP_THRESHOLD, 512 << 20) ||
	    !mallopt(M_TRIM_THRESHOLD, 1 << 30) || !(p = malloc(n)))
		return;
	wd_mem_prefault(p, n);
	free(p);
}

/*
 * libgit2's start-up has its TLS back end read and parse the system's CA
 * certificates (a map never connects, but git_libgit2_init does it all):
 * ~8 ms, a sixth of a warm map. It runs on a thread of its own, then reads
 * the configuration's map.exclude (libgit2 parses it), while this thread
 * prefaults the heap and the build opens the tag pack and lists a tree
 * without .git; the build waits for it (wd_map_opts.await) only then.
 */
#define GIT_HEAP ((size_t)3 << 20) /* the start-up's allocations: ~0.7 MiB */

struct git_start {
	pthread_t th;
	int started;
	const char *repo;
	int rc;             /* the first failure, with its message: */
	char msg[512];
	int inited;         /* libgit2 started (to be shut down) */
	wd_config *cfg;
	wd_strvec exclude;
};

static void *git_start_thread(void *arg)
{
	struct git_start *g = arg;
	char *p = malloc(GIT_HEAP);

	/* this thread's malloc heap is new: made resident at once (wd_mem_prefault) */
	if (p) {
		wd_mem_prefault(p, GIT_HEAP);
		free(p);
	}
	if ((g->rc = wd_repo_global_init()) != 0) {
		snprintf(g->msg, sizeof(g->msg), "could not initialise libgit2");
		return NULL;
	}
	g->inited = 1;
	/* map.exclude: the user's and the repository's globs of vendored code */
	if ((g->rc = wd_config_open(&g->cfg, g->repo)) != 0 ||
	    (g->rc = wd_config_get_all(&g->exclude, g->cfg, "map.exclude")) != 0)
		snprintf(g->msg, sizeof(g->msg), "%s", wd_error_last());
	return NULL;
}

/* The start-up thread's end (or the same work on this thread, when it could
 * not be made); its failure as this thread's error. */
static int git_join(struct git_start *g)
{
	if (g->started)
		pthread_join(g->th, NULL);
	else if (!g->inited && !g->rc)
		git_start_thread(g);
	g->started = 0;
	return g->rc ? wd_error_set(g->rc, "%s", g->msg) : 0;
}

/* wd_map_opts.await */
static int git_await(void *arg, const char *const **exclude)
{
	struct git_start *g = arg;
	int rc = git_join(g);

	if (!rc)
		*exclude = (const char *const *)g->exclude.v;
	return rc;
}

/* What a finished map leaves to the exit (see map_main's end): reachable
 * from here, so a leak checker does not count it. */
static wd_map *volatile map_at_exit;

static int map_main(int argc, char **argv)
{
	const char *repo = ".";
	size_t budget = 2048, threads = 0;
	int json = 0, use_cache = 1, stats = 0, rc, exit_code = WD_EXIT_OK;
	struct git_start gs = { .started = 0, .rc = 0, .inited = 0, .cfg = NULL,
		                .exclude = WD_STRVEC_INIT };
	wd_strvec focus = WD_STRVEC_INIT;
	wd_buf cache = WD_BUF_INIT, out = WD_BUF_INIT;
	wd_map_opts mo = WD_MAP_OPTS_INIT;
	wd_map *m = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			map_usage(stdout);
			goto done;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--no-cache")) {
			use_cache = 0;
		} else if (!strcmp(a, "--stats")) {
			stats = 1;
		} else if (!strcmp(a, "--repo") && i + 1 < argc) {
			repo = argv[++i];
		} else if (!strcmp(a, "--budget") && i + 1 < argc) {
			if (parse_size(&budget, argv[++i]) < 0) {
				wd_cli_error("--budget wants a number of tokens, not '%s'", argv[i]);
				exit_code = WD_EXIT_USAGE;
				goto done;
			}
		} else if (!strcmp(a, "--threads") && i + 1 < argc) {
			if (parse_size(&threads, argv[++i]) < 0 || threads > 64) {
				wd_cli_error("--threads wants a number from 0 to 64, not '%s'", argv[i]);
				exit_code = WD_EXIT_USAGE;
				goto done;
			}
		} else if (!strcmp(a, "--focus") && i + 1 < argc) {
			if (wd_strvec_push(&focus, argv[++i]) != 0) {
				exit_code = WD_EXIT_INFRA;
				goto done;
			}
		} else {
			wd_cli_error("map: unknown or incomplete option '%s'", a);
			map_usage(stderr);
			exit_code = WD_EXIT_USAGE;
			goto done;
		}
	}
	gs.repo = repo;
	gs.started = pthread_create(&gs.th, NULL, git_start_thread, &gs) == 0;
	if (use_cache) {
		if (wd_cache_dir(&cache) != 0)
			wd_error_clear(); /* no cache dir: map without a cache */
		else
			mo.cache_dir = cache.ptr;
	}
	if (mo.cache_dir) {
		size_t pack = wd_map_pack_bytes(repo, mo.cache_dir);

		prefault_heap(pack);
		/* a parse thread's share of the tags' arrays (about half the pack's
		 * size in all, the caller's thread taking its part) */
		mo.thread_heap = pack / 4;
	}
	mo.threads = (unsigned)threads;
	mo.await = git_await;
	mo.await_arg = &gs;
	if ((rc = wd_map_build(&m, repo, &mo)) != 0 ||
	    (rc = wd_map_rank(m, (const char *const *)focus.v)) != 0) {
		wd_cli_error("map: %s", wd_error_last());
		exit_code = wd_exit_code_for(rc);
		goto done;
	}
	{
		size_t nu = 0;
		const char *const *um = wd_map_unmatched_focus(m, &nu);
		wd_buf near = WD_BUF_INIT;

		for (size_t i = 0; i < nu; i++) {
			if (wd_map_focus_near(&near, m, um[i]) != 0)
				wd_error_clear(); /* only the hint is lost */
			fprintf(stderr, "warden: warning: --focus '%s' matches no file, directory or "
			        "definition of the map%s%s%s\n", um[i], near.len ? "; did you mean '" : "",
			        near.len ? near.ptr : "", near.len ? "'?" : "");
		}
		wd_buf_free(&near);
	}
	if (json) {
		json_t *j = NULL;
		char *s;

		if ((rc = wd_map_to_json(&j, m, budget)) != 0) {
			wd_cli_error("map: %s", wd_error_last());
			exit_code = wd_exit_code_for(rc);
			goto done;
		}
		s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (!s) {
			wd_cli_error("map: out of memory");
			exit_code = WD_EXIT_INFRA;
			goto done;
		}
		puts(s);
		free(s);
	} else {
		if ((rc = wd_map_render(&out, m, budget, WD_MAP_RENDER_LINES)) != 0) {
			wd_cli_error("map: %s", wd_error_last());
			exit_code = wd_exit_code_for(rc);
			goto done;
		}
		fwrite(out.ptr, 1, out.len, stdout);
	}
	if (stats) {
		wd_map_stats st;

		wd_map_get_stats(&st, m);
		fprintf(stderr, "map: %zu files, %zu parsed (%zu partly), %zu from cache, %zu definitions, "
		        "%zu references; build %llu ms (list %llu%s, tags %llu, index %llu%s), rank %llu ms\n",
		        st.files, st.parsed, st.partial, st.cached, st.definitions, st.references,
		        (unsigned long long)st.build_ms, (unsigned long long)st.list_ms,
		        st.files_cached ? " cached" : "",
		        (unsigned long long)st.tags_ms, (unsigned long long)st.index_ms,
		        st.index_cache == WD_MAP_INDEX_READ ? " cached"
		        : st.index_cache == WD_MAP_INDEX_UPDATED ? " updated"
		        : st.index_cache == WD_MAP_INDEX_PATCHED ? " patched" : "",
		        (unsigned long long)st.rank_ms);
	}
done:
	if (gs.started) { /* the build ended before it needed libgit2 */
		git_join(&gs);
		wd_error_clear();
	}
	/* A map printed is left to the exit that follows, with libgit2's state:
	 * freeing its tens of thousands of tags one by one, and the certificates,
	 * is ~2 ms the kernel does faster by dropping the pages. */
	if (exit_code == WD_EXIT_OK && m) {
		map_at_exit = m;
		m = NULL;
		gs.inited = 0;
	}
	wd_map_free(m);
	wd_config_free(gs.cfg);
	wd_strvec_free(&gs.exclude);
	wd_strvec_free(&focus);
	wd_buf_free(&cache);
	wd_buf_free(&out);
	if (gs.inited)
		wd_repo_global_shutdown();
	return exit_code;
}

/* Only libgit2 (the index lists a work tree's files, and it parses the
 * configuration), started by map_main on a thread of its own; not libcurl,
 * whose start-up alone is ~7 ms of CPU, a tenth of a warm map. */
int cmd_map(int argc, char **argv)
{
	return map_main(argc, argv);
}
