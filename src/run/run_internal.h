#ifndef WARDEN_RUN_INTERNAL_H
#define WARDEN_RUN_INTERNAL_H

/* Helpers of the conductor, split out of run.c to keep each file one concept. */

#include <git2.h>
#include <jansson.h>

#include "warden/buf.h"
#include "warden/config.h"
#include "warden/context.h"
#include "warden/gate.h"
#include "warden/ledger.h"
#include "warden/model.h"
#include "warden/outbound.h"
#include "warden/patch.h"
#include "warden/repo.h"
#include "warden/run.h"
#include "warden/ticket.h"

struct wd_config;

/* edit_format.c: the edit format the prompts ask for ("diff", "search-replace",
 * "patch" or "whole"): the model family's (by the spec; a config section's own
 * spec), else the user's model.edit-format. WD_EUSAGE for an unknown setting. */
int wd_run_edit_format(const char **out, const char *model_spec, const struct wd_config *cfg);
/* How the repair prompts name a format ("a unified diff in a ```diff block ..."). */
const char *wd_run_edit_format_phrase(const char *format);
/* patch.max-whole-file: the largest whole-file replacement (0 = the default). */
size_t wd_run_max_whole_file(const struct wd_config *cfg);

/* prompts.c: the messages sent to the model, from the templates in prompts/.
 * `format` is an edit format as above: the system prompt includes
 * prompts/format_<format>.md, the repair prompts name it. */
int wd_run_render_system(wd_buf *out, const wd_ticket *t, const char *format, char *hash_out);
/* `used` gets the ids of the rejected proposals whose reasons it quotes. */
int wd_run_render_task(wd_buf *out, wd_strvec *used, const wd_ticket *t, const wd_context *ctx,
                       const wd_checklist *checks, const char *cache_dir, char *hash_out);
int wd_run_render_repair(wd_buf *out, int round, const char *failures, const char *format);
/* repair_context.c: append to `feedback` the code the failing output
 * `failures` points at (its paths and identifiers resolved through the map,
 * then its best-matching definitions; 16 KiB), read from `workdir` (the
 * base checkout); ledgered as "context.repair". A context that cannot be
 * built is ledgered and left out. */
int wd_run_repair_context(wd_buf *feedback, wd_ledger *ledger, int round, const char *workdir,
                          const char *failures, const char *cache_dir,
                          const char *const *files, const char *const *exclude);
int wd_run_render_no_patch(wd_buf *out, int round, const char *reason, const char *format);

/* limits.c: tool turns per round and tool calls per run, from the config
 * (run.tool-turns, 1-100, default 12; run.tool-calls, 1-1000, default 40). */
int wd_run_tool_limits(int *turns, size_t *calls, const wd_config *cfg);
/* A round whose reply kept calling tools after `turns` turns, or made
 * `at_once` (> 0) calls in one reply, more than WD_RUN_CALLS_PER_REPLY: ledger
 * a loop.alert and put the no-edit message for the model in `feedback`. */
#define WD_RUN_CALLS_PER_REPLY 64
int wd_run_loop_alert(wd_buf *feedback, wd_ledger *ledger, int round, int turns,
                      size_t at_once, const char *format);
/* wd_model_opts.on_retry for a run (payload: its wd_run_opts): every wait
 * between attempts is told through the run's progress callback, stage
 * "retry", so that no wait on the model service is silent. */
void wd_run_on_retry(void *payload, const char *spec, int attempt, long wait_ms,
                     const char *reason);
/* An incomplete reply (wd_model_reply_incomplete): ledger reply.truncated
 * {round, finish_reason, reason} and ask for the whole edit again in
 * `feedback` (shorter, when it was cut off at its output limit). */
int wd_run_truncated_reply(wd_buf *feedback, wd_ledger *ledger, int round,
                           const wd_model_reply *reply, const char *format);

/* warn.c: name the keys and include sections of the repository's config
 * that were ignored (ledger config.ignored, progress stage "warning"). */
int wd_run_warn_ignored(const wd_config *cfg, wd_ledger *ledger, const wd_run_opts *opts);

/* gates.c: the gates between a patch that applied (as the tree `patched`)
 * and the checks; both read the base and patched files from git objects. */
/* Ticket scope entries "path:symbol": refuse changes outside those definitions.
 * 0 allowed, WD_EREFUSED with reasons appended. */
int wd_run_symbol_scope(wd_buf *reasons, wd_workspace *ws, const wd_ticket *t,
                        const git_oid *patched, const wd_strvec *files);
/* A patch must not add syntax errors (tree-sitter). 0, or WD_EREFUSED with locations. */
int wd_run_syntax_gate(wd_buf *reasons, wd_workspace *ws, const git_oid *patched,
                       const wd_strvec *files);

/* reason.c: why a round did not pass, in plain words ("round 1: patch
 * refused: src/x.c is outside the ticket's scope (scope: src/y.c)"). */
void wd_run_reason_text(wd_buf *out, int round, const char *what, const char *detail);
void wd_run_reason_patch(wd_buf *out, int round, const wd_patch_report *rep);
void wd_run_reason_checks(wd_buf *out, int round, const wd_gate_result *gate,
                          const wd_gate_result *baseline);

/* result.c: the run's last event, "run.end" {status, reason, branch, commit,
 * rounds, input_tokens, output_tokens, cost_usd, ms, workdir}. */
int wd_run_end_event(wd_ledger *l, const wd_run_result *r, uint64_t ms);
/* Judge the run (warden/alerts.h): "alert" events and r->alerts. */
struct wd_config;
void wd_run_record_alerts(wd_ledger *l, wd_run_result *r, const struct wd_config *cfg);

/* precheck.c: the ticket's checks before any model call (see the file).
 * Against the base's `files`: a scope entry that matches no file, or names a
 * symbol its file does not define, is WD_EINPUT listing each; names in the
 * body's code spans that do not exist fill `question` (escalate). */
int wd_run_ticket_precheck(wd_buf *question, const wd_ticket *t, wd_workspace *ws,
                           const wd_strvec *files);
/* After the baseline: a timed-out check or a fail-to-pass name the base
 * never reports is WD_EINPUT; a base that fails named tests while the ticket
 * has no fail-to-pass: those the ticket names are appended to `inferred` and
 * to the ticket (wd_ticket_add_fail_to_pass), and when it names none,
 * `question` says so (escalate). */
int wd_run_baseline_precheck(wd_strvec *inferred, wd_buf *question, wd_ticket *t,
                             const wd_gate_result *base);

/* feedback.c: the rejections of earlier runs of the same ticket (by its
 * identity), each reason with the diff that was rejected, as a Markdown list
 * appended to `list`; the proposals quoted are appended to `used`. */
int wd_run_review_feedback(wd_buf *list, wd_strvec *used, const char *cache_dir,
                           const char *ticket_id);

/* escalate.c: 1 when the model's reply hands the ticket back to a person
 * (a line "ESCALATE: question" and no edit), with the question in
 * `question`; 0 when it does not; WD_ENOMEM. */
int wd_run_reply_escalation(wd_buf *question, const char *reply);
/* Append "round N: why" (the first line of substance of the feedback that
 * round's failure sent back) to `tried`: what a person taking over reads. */
int wd_run_note_round(wd_buf *tried, int round, const char *feedback);

/* dry_run.c: the --dry-run report of the first request (see wd_run_result.dry_run). */
json_t *wd_run_dry_run_report(const wd_chat *chat, const wd_context *ctx, json_t *tool_defs,
                              const char *spec, const struct wd_config *cfg,
                              const struct wd_outbound *ob);

/* outbound_run.c: the outbound gate of this run: the user's data policy,
 * the chosen model's allowances and the base's .wardenignore. */
struct wd_outbound;
struct wd_config;
struct wd_ledger;
int wd_run_open_outbound(struct wd_outbound **out, const struct wd_config *cfg,
                         const char *model_spec, wd_workspace *ws, struct wd_ledger *ledger);

/* world.c: the tree the checks run in (see the file's comment). */
typedef struct wd_world {
	int overlay;          /* 1: overlay layers; 0: copies */
	char *why_copy;       /* why not overlay (copy mode) */
	char *inside;         /* where the checks see their tree */
	char *base;           /* runs/<id>/base: the lowest layer */
	char *built;          /* what the baseline built: a layer (overlay) or a tree (copy) */
	int built_cached;     /* built is kept in the baseline cache */
	char *layers;         /* runs/<id>/layers */
	char *tree;           /* copy mode: runs/<id>/tree */
	char *upper, *work;   /* overlay: the current writable layer and overlayfs's scratch dir */
	const char *lower[3]; /* overlay: the read-only layers, topmost first */
} wd_world;

int wd_world_init(wd_world *w, const wd_workspace *ws, const char *cache, int sandbox_policy);
/* The baseline's tree: set the gate's tree options and *workdir. */
int wd_world_baseline_begin(wd_world *w, wd_gate_opts *go, const char **workdir);
/* After the baseline: its output becomes `built`; moved to `keep_as` (the
 * baseline cache's layer) when that is non-NULL and nothing holds it yet. */
int wd_world_baseline_end(wd_world *w, const char *keep_as);
/* A cached baseline's layer instead (overlay mode). */
int wd_world_use_built(wd_world *w, const char *layer);
/* Round `round`'s tree: built plus the patch (rep->out); sets the gate's options. */
int wd_world_round_begin(wd_world *w, int round, const wd_patch_report *rep, wd_gate_opts *go,
                         const char **workdir);
/* Throw the round's writable layer away (overlay). */
int wd_world_round_end(wd_world *w);
/* The last round's tree as a plain directory (--keep-worktree): *out_path
 * gets runs/<id>/tree, or NULL when no round ran. */
int wd_world_keep(wd_world *w, const wd_gate_opts *go, char **out_path);
void wd_world_free(wd_world *w);

/* message.c: the commit message and the model's summary of its change. */
void wd_run_model_summary(wd_buf *out, const char *reply);
int wd_run_commit_message(wd_buf *out, const wd_ticket *t, const char *summary,
                          const char *run_id, const char *model, const char *checks);

/* evidence.c: check evidence (git note) and the proposal record. */
/* The "check" ledger event of one check result in phase ("baseline", "checks"). */
/* The check's output is stored as a ledger blob ("output_blob"); the
 * failing tests it named are listed ("failing": [{name, detail}]). */
json_t *wd_run_check_event(wd_ledger *l, const wd_check_result *cr, const char *phase);
/* The messages of `chat` as sent, each stored as a ledger blob:
 * [{role, blob, tool_call_id?, tool_calls?}]; NULL when out of memory. */
json_t *wd_run_chat_blobs(wd_ledger *l, const wd_chat *chat);
json_t *wd_run_evidence_json(const wd_gate_result *gate);
/* Attach the evidence as a git note (refs/notes/warden) in the repository that holds the branch. */
/* Apply `text` (a unified diff) to the base and make the result the run's
 * base (wd_repo_advance_base). WD_EINPUT "the test patch does not apply: …"
 * when it is not a patch or does not apply. */
int wd_run_apply_base_patch(wd_workspace *ws, const char *text);

int wd_run_add_evidence(const char *repo_path, const char *commit_hex, json_t *evidence);
/* Publishing failed after the branch was made (the evidence note or the
 * proposal record could not be written): remove the branch again, in `repo`
 * and in warden's `mirror` (wd_repo_unpublish), if it is still at `hex`, so
 * that no branch exists that `review list` cannot show;
 * ledgered as publish.rollback, the error message says what was done. */
void wd_run_unpublish(const char *repo, const char *mirror, const char *branch, const char *hex,
                      wd_ledger *ledger);
int wd_run_save_proposal(const char *cache_dir, const wd_run_result *res, const wd_ticket *t,
                         const char *model, const char *checks, const char *evidence,
                         const wd_workspace *ws);

#endif
