#ifndef WARDEN_STORY_H
#define WARDEN_STORY_H

#include <jansson.h>

#include "warden/buf.h"

/*
 * The story of one run, told from its ledger and blobs: what was asked, the
 * context chosen and why, each round's model calls (tokens, cost, latency,
 * retries), tool calls with the model's words around them, the patch and
 * its refusal or its checks (failing tests, output excerpts), why each round
 * failed, the proposal, the decision, the alerts. `warden show`, `review
 * show` and `warden report` all print this one object, so they never
 * disagree. The ledger is untrusted: every string is redacted again, blob
 * ids are checked, and missing blobs are reported, not fatal.
 *
 * {
 *   "run", "status", "reason", "started", "ended", "ms", "repo", "base", "branch",
 *   "commit", "model", "usage": {input_tokens, output_tokens, cost_usd},
 *   "ticket": {id, title, path, body},
 *   "context": {bytes, files: [{path, reason, bytes, ...}]},
 *   "baseline": [check],
 *   "rounds": [{round, passed, reason,
 *               model_calls: [{model, tokens, cost_usd, ms, retries, said}],
 *               tool_calls: [...],
 *               patch: {applied, files, refusals: [..], gate}, checks: [check], diff}],
 *   "proposal": {repo, branch, commit} | null, "decisions": [...], "alerts": [...],
 *   "diff": the final (or last) diff
 * }
 * check: {name, kind, command, passed, exit, ms, timed_out, cached, failing: [..], excerpt}
 * said: the model's words in its reply before the code it proposed (at most
 * 12 lines), null when it said nothing else.
 */
typedef struct wd_story_opts {
	unsigned excerpt_lines;   /* last lines of each check's output (default 12) */
	int with_messages;        /* include each model call's request messages and reply */
} wd_story_opts;

#define WD_STORY_OPTS_INIT { 12, 0 }

int wd_story_build(json_t **out, const char *ledger_path, const wd_story_opts *opts);

/* The story as one self-contained HTML page (inline CSS, no script, no
 * network asset; a Content-Security-Policy forbids loading anything):
 * the ticket, the rounds and why each failed, the checks with their output,
 * the timeline of model and tool calls, the final diff coloured. Appended
 * to out. */
int wd_story_html(wd_buf *out, const json_t *story);

#endif
