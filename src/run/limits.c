/*
 * How long the model may talk to the tools before it must write the edit:
 * tool turns per round (run.tool-turns) and tool calls per run
 * (run.tool-calls), from the config through its typed number parser. A
 * model that ignores `tool_choice: "none"` and keeps calling tools is caught
 * by the turn cap, one that makes thousands of calls in one reply by the
 * per-reply cap (WD_RUN_CALLS_PER_REPLY): the round ends as "no usable
 * edit", ledgered as a loop alert (see ask_model in run.c). A reply that is
 * incomplete (cut off at its output limit, stopped by a content filter, a
 * refusal, a paused turn: wd_model_reply_incomplete) ends the round the same
 * way: an edit in it may stop mid-hunk.
 */
#include <stdio.h>

#include "warden/config.h"
#include "warden/error.h"
#include "warden/ledger.h"
#include "run_internal.h"

#define DEFAULT_TOOL_TURNS 12
#define MAX_TOOL_TURNS 100
#define DEFAULT_TOOL_CALLS 40
#define MAX_TOOL_CALLS 1000

int wd_run_tool_limits(int *turns, size_t *calls, const wd_config *cfg)
{
	long v;
	int rc;

	*turns = DEFAULT_TOOL_TURNS;
	*calls = DEFAULT_TOOL_CALLS;
	if (!cfg)
		return 0;
	rc = wd_config_get_range(&v, cfg, "run.tool-turns", 1, MAX_TOOL_TURNS);
	if (rc == 0)
		*turns = (int)v;
	else if (rc != WD_ENOTFOUND)
		return rc;
	rc = wd_config_get_range(&v, cfg, "run.tool-calls", 1, MAX_TOOL_CALLS);
	if (rc == 0)
		*calls = (size_t)v;
	else if (rc != WD_ENOTFOUND)
		return rc;
	return 0;
}

int wd_run_loop_alert(wd_buf *feedback, wd_ledger *ledger, int round, int turns,
                      size_t at_once, const char *format)
{
	char why[256];

	if (at_once)
		snprintf(why, sizeof(why), "The reply made %zu tool calls at once; at most %d are "
		         "answered in one reply. Write the edit now, with what you know.", at_once,
		         WD_RUN_CALLS_PER_REPLY);
	else
		snprintf(why, sizeof(why), "The reply still called tools after %d turn(s), when the "
		         "tools were closed. Write the edit now, with what you know.", turns);
	wd_ledger_add(ledger, "loop.alert", json_pack("{s:i, s:s, s:i, s:I}", "round", round, "kind",
	                                              at_once ? "tool_calls_at_once" : "tool_calls",
	                                              "turns", turns, "calls", (json_int_t)at_once));
	wd_ledger_add(ledger, "patch.none", json_pack("{s:i, s:s}", "round", round, "reason",
	                                              "the reply kept calling tools"));
	return wd_run_render_no_patch(feedback, round, why, format);
}

int wd_run_truncated_reply(wd_buf *feedback, wd_ledger *ledger, int round,
                           const wd_model_reply *reply, const char *format)
{
	const char *what = wd_model_reply_incomplete(reply);
	char reason[160], ask[400];

	if (!what)
		what = "cut off at its output limit";
	snprintf(reason, sizeof(reason), "the reply was %s", what);
	if (wd_model_reply_truncated(reply))
		snprintf(ask, sizeof(ask), "The reply was cut off at the output limit, so nothing of "
		         "it was applied. Send the whole edit again, shorter: only the hunks that "
		         "change, with little context and no commentary.");
	else
		snprintf(ask, sizeof(ask), "The reply was incomplete (%s), so nothing of it was "
		         "applied. Send the whole edit again, complete.", what);
	wd_ledger_add(ledger, "reply.truncated",
	              json_pack("{s:i, s:s, s:s}", "round", round, "finish_reason",
	                        reply && reply->finish_reason ? reply->finish_reason : "",
	                        "reason", reason));
	wd_ledger_add(ledger, "patch.none", json_pack("{s:i, s:s}", "round", round, "reason",
	                                              reason));
	return wd_run_render_no_patch(feedback, round, ask, format);
}

void wd_run_on_retry(void *payload, const char *spec, int attempt, long wait_ms,
                     const char *reason)
{
	const wd_run_opts *o = payload;
	char msg[640];

	if (!o || !o->progress)
		return;
	snprintf(msg, sizeof(msg), "%s: attempt %d in %.1f s, after: %.400s", spec ? spec : "",
	         attempt, (double)wait_ms / 1000.0, reason ? reason : "");
	o->progress(o->payload, "retry", 1, (uint64_t)wait_ms, msg);
}
