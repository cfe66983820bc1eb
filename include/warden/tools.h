#ifndef WARDEN_TOOLS_H
#define WARDEN_TOOLS_H

#include <stddef.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/map.h"

/*
 * Read-only tools the model may call before it writes a patch:
 *
 *   list_files       {path?, glob?, reason}                 files of the work tree
 *   read_file        {path, start_line?, end_line?, reason}  a file or a line range, numbered
 *   grep             {pattern, path?, ignore_case?, max_results?, reason}
 *                                                  POSIX extended regex, line by line
 *   find_definition  {name, reason}                 where a symbol is defined (from the map)
 *   find_references  {name, reason}                 where a symbol is used (files and lines)
 *
 * Every call states its reason. Calls are bounded per run; the same call made
 * twice (same tool, same arguments apart from the reason) is refused with a
 * note. Arguments are checked by type and size before anything runs: only
 * the keys the tool takes; a path is a string of at most 4095 bytes (no NUL),
 * an identifier at most 200, a glob, pattern or reason at most 4096; a line
 * number an integer from 1 to 10^9, max_results from 1 to 200; ignore_case a
 * boolean. Paths are confined to the work tree (no absolute paths, no "..",
 * no .git) and every file is read beneath its root without following any
 * symbolic link (warden/beneath.h); globs match in linear time. A grep runs
 * in a child process killed at its time limit, whatever the pattern; every
 * result is capped. Each call is recorded with its reason, status and the
 * size of what came back.
 */

typedef struct wd_tools wd_tools;

typedef struct wd_tools_opts {
	unsigned version;
	size_t max_calls;          /* calls per run; 0 = 40 */
	size_t max_result_bytes;   /* per call; 0 = 16 KiB; at least 512 */
	const char *cache_dir;     /* tag cache root for the map; may be NULL */
	const char *const *files;  /* the files the tools may show (NULL-terminated, relative);
	                            * NULL = as wd_map_build lists them */
	wd_map *map;               /* a built map to use (borrowed, must outlive the tools);
	                            * NULL = built on the first find_definition/find_references */
	long time_limit_ms;        /* one grep call's wall time; 0 = 5000 */
} wd_tools_opts;

#define WD_TOOLS_OPTS_VERSION 1
#define WD_TOOLS_OPTS_INIT { WD_TOOLS_OPTS_VERSION, 0, 0, NULL, NULL, NULL, 0 }

/* Tools over the work tree at `workdir`. */
int wd_tools_new(wd_tools **out, const char *workdir, const wd_tools_opts *opts);
void wd_tools_free(wd_tools *t);

/* The tool definitions, provider-neutral: a new JSON array of
 * {"name", "description", "parameters": <JSON schema of the arguments object>}.
 * NULL only when out of memory. The caller owns the reference. */
json_t *wd_tools_definitions(void);

/*
 * Run one call. `name` is the tool's name, `args` the arguments object as the
 * model layer parsed it once (wd_tool_call.args; NULL when the model's text
 * was not a JSON object, which is WD_EINPUT). The text for the model is
 * appended to `out` in every case, results and refusals alike, so the caller
 * can always send `out` back as the tool result.
 *
 * Returns 0 when `out` holds a result or a refusal the model can act on
 * (repeated call, path outside the work tree, bad regex, no such file...);
 * WD_EBUDGET when the run's calls are spent (the model should write its
 * patch); WD_EINPUT when the tool is unknown or the arguments are not valid
 * JSON matching the schema; WD_ENOMEM / WD_EINFRA on errors of warden itself.
 */
int wd_tools_run(wd_buf *out, wd_tools *t, const char *name, const json_t *args);

/* The same with the arguments as JSON text (parsed here; tests, fuzzing):
 * text that is not a JSON object is WD_EINPUT, the parser's reason told. */
int wd_tools_call(wd_buf *out, wd_tools *t, const char *name, const char *arguments_json);

/* The calls so far, for the ledger: a borrowed array of {"n", "name",
 * "arguments" (without the reason), "reason", "status" (ok | refused |
 * repeated | invalid | budget), "bytes"}. */
const json_t *wd_tools_log(const wd_tools *t);

/* Calls left in this run's budget. */
size_t wd_tools_calls_left(const wd_tools *t);

#endif
