#ifndef WARDEN_RUNS_CLI_H
#define WARDEN_RUNS_CLI_H

/* What `warden log`, `show`, `stats`, `report`, `gc` and `review show` share:
 * the cache, the index, dates, the way numbers are printed, the run view. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/index.h"

/* The cache: --work-dir when given, else the default one (absolute). */
int wd_runs_cache(wd_buf *out, const char *work_dir);
/* Open the index of that cache and sync it (rebuild: from scratch). */
int wd_runs_index(wd_index **out, const char *cache, int rebuild);
/* --since: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" (UTC) or "N" + m|h|d|w
 * ago. *iso gets "YYYY-MM-DDTHH:MM:SS" to compare ledger timestamps with. */
int wd_runs_parse_since(char iso[32], const char *s);
/* A ledger timestamp as seconds since the epoch; -1 when it is not one. */
time_t wd_runs_ts(const char *iso);
/* "3m", "5h", "2d" since `iso`; "?" when unknown. */
void wd_runs_age(char *out, size_t n, const char *iso);
/* "850ms", "12.3s", "2m05s". */
void wd_runs_duration(char *out, size_t n, int64_t ms);
/* Resolve RUN (an id, or a unique prefix of one) against the index; *id
 * gets the full id (malloc'd), *ledger its ledger's path. */
int wd_runs_find(char **id, char **ledger, wd_index *ix, const char *run);
/* The run view: a run's story (wd_story_build) in words, on f. Every string
 * is printed on its own lines with control characters replaced. Used by
 * `warden show` and under the proposal by `warden review show`. */
void wd_runs_print_story(FILE *f, const json_t *story);

#endif
