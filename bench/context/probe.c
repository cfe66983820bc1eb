/*
 * bench/context probe: build the first request's context for one ticket the
 * way `warden run` does (wd_context_build, default budget) and print what it
 * chose as JSON: {"chosen": [paths], "bytes": N, "files": "the files text",
 * "map": "the map slice", "ms": wall time of wd_context_build, "map_ms": wall
 * time of the map alone (wd_map_build + wd_map_rank, same cache, warm),
 * "why": the context's reasons, as the ledger records them}.
 *
 *   probe WORKDIR TITLE_FILE BODY_FILE CACHE_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <git2.h>
#include <jansson.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/map.h"
#include "warden/ticket.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	wd_buf title = WD_BUF_INIT, body = WD_BUF_INIT;
	wd_context_opts o = WD_CONTEXT_OPTS_INIT;
	wd_context *c = NULL;
	wd_ticket *t = NULL;
	json_t *out, *chosen;
	char *s;
	wd_map_opts mo = WD_MAP_OPTS_INIT;
	wd_map *m = NULL;
	double t0, map_ms, ctx_ms;

	if (argc != 5) {
		fprintf(stderr, "usage: probe WORKDIR TITLE_FILE BODY_FILE CACHE_DIR\n");
		return 2;
	}
	git_libgit2_init();
	if (wd_file_read(&title, argv[2], 1 << 20) || wd_file_read(&body, argv[3], 1 << 20)) {
		fprintf(stderr, "probe: %s\n", wd_error_last());
		return 2;
	}
	if (wd_ticket_new(&t, wd_buf_cstr(&title), wd_buf_cstr(&body)) != 0) {
		fprintf(stderr, "probe: %s\n", wd_error_last());
		return 2;
	}
	o.cache_dir = argv[4];
	/* the map alone, as `warden map` would build it: once untimed to warm the
	 * caches (tags, the file system's), then timed, as the context is */
	mo.cache_dir = argv[4];
	for (int i = 0; i < 2; i++) {
		t0 = now_ms();
		if (wd_map_build(&m, argv[1], &mo) != 0 || wd_map_rank(m, NULL) != 0) {
			fprintf(stderr, "probe: map: %s\n", wd_error_last());
			return 3;
		}
		map_ms = now_ms() - t0;
		wd_map_free(m);
		m = NULL;
	}
	t0 = now_ms();
	if (wd_context_build(&c, argv[1], t, &o) != 0) {
		fprintf(stderr, "probe: %s\n", wd_error_last());
		return 3;
	}
	ctx_ms = now_ms() - t0;
	chosen = json_array();
	for (size_t i = 0; i < wd_context_chosen(c)->n; i++)
		json_array_append_new(chosen, json_string(wd_context_chosen(c)->v[i]));
	out = json_pack("{s:o, s:I, s:s, s:s, s:f, s:f, s:O}", "chosen", chosen, "bytes",
	                (json_int_t)wd_context_bytes(c), "files", wd_context_files(c), "map",
	                wd_context_map(c), "ms", ctx_ms, "map_ms", map_ms, "why", wd_context_why(c));
	s = out ? json_dumps(out, JSON_COMPACT) : NULL;
	if (!s)
		return 3;
	puts(s);
	free(s);
	json_decref(out);
	wd_context_free(c);
	wd_ticket_free(t);
	wd_buf_free(&title);
	wd_buf_free(&body);
	git_libgit2_shutdown();
	return 0;
}
