#ifndef WARDEN_RUNS_CLI_H
#define WARDEN_RUNS_CLI_H

/* What `warden log`, `show`, `stats`, `report`, `gc` and `review show` share:
 * the cache, the index, dates, the way numbers are printed, the run view. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/index.h"
#include "warden/story.h"

/* The options log, show, stats, report and gc read alike. */
#define WD_RUNS_JSON 1u   /* --json */
#define WD_RUNS_SINCE 2u  /* --since DATE */
#define WD_RUNS_OWN_MAX 8 /* options of a command's own, at the most */

typedef struct wd_runs_args {
	const char *cmd;            /* "log": begins its error messages */
	const char *usage;          /* printed for --help (stdout) and usage errors (stderr) */
	unsigned shared;            /* WD_RUNS_JSON | WD_RUNS_SINCE: which it takes */
	int takes_run;              /* 1: one RUN operand, checked by the command; 0: none */
	const char *work_dir;       /* --work-dir (every command takes it), or NULL */
	int json;                   /* --json */
	char since[32];             /* --since as wd_runs_parse_since wrote it; "" when not given */
	int exit;                   /* the exit code once wd_runs_getopt returned -1 */
	struct option opts[WD_RUNS_OWN_MAX + 5];  /* built on the first call */
} wd_runs_args;

/* getopt_long over the command's own options `own` (NULL-terminated; their
 * val is none of w, j, s, h) and the shared ones, which it reads into `a`
 * itself, as it does --help and a usage error. Returns the next own option
 * for the command to read (optarg as getopt_long sets it), 0 when the
 * options are over (with no operand left unless a->takes_run), -1 when the
 * command is to return a->exit at once. Starts over at argv[1] when a->opts
 * is not built yet. */
int wd_runs_getopt(wd_runs_args *a, int argc, char **argv, const struct option *own);
/* The cache (wd_runs_cache) and its index, synced (wd_runs_index). */
int wd_runs_open(wd_index **ix, wd_buf *cache, const char *work_dir, int rebuild);

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
/* The story (wd_story_build) of RUN, found as wd_runs_find does in the
 * cache at work_dir (see wd_runs_cache). */
int wd_runs_story(json_t **out, const char *work_dir, const char *run, const wd_story_opts *so);
/* `o` as one line on stdout, as show and stats print it: compact, keys in
 * their order, reals as warden writes them. WD_ENOMEM. */
int wd_runs_print_json(const json_t *o);
/* The run view: a run's story (wd_story_build) in words, on f. Every string
 * is printed on its own lines with control characters replaced. Used by
 * `warden show` and under the proposal by `warden review show`. */
void wd_runs_print_story(FILE *f, const json_t *story);

#endif
