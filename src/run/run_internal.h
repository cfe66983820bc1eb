#ifndef WARDEN_RUN_INTERNAL_H
#define WARDEN_RUN_INTERNAL_H

/* Helpers of the conductor, split out of run.c to keep each file one concept. */

#include <git2.h>
#include <jansson.h>

#include "warden/buf.h"
#include "warden/context.h"
#include "warden/gate.h"
#include "warden/patch.h"
#include "warden/repo.h"
#include "warden/run.h"
#include "warden/ticket.h"

/* prompts.c: the messages sent to the model, from the templates in prompts/. */
int wd_run_render_system(wd_buf *out, const wd_ticket *t, char *hash_out);
int wd_run_render_task(wd_buf *out, const wd_ticket *t, const wd_context *ctx,
                       const wd_checklist *checks, const char *cache_dir, char *hash_out);
int wd_run_render_repair(wd_buf *out, int round, const char *failures);
int wd_run_render_no_patch(wd_buf *out, int round, const char *reason);

/* gates.c: the gates between a patch that applied (as the tree `patched`)
 * and the checks; both read the base and patched files from git objects. */
/* Ticket scope entries "path:symbol": refuse changes outside those definitions.
 * 0 allowed, WD_EREFUSED with reasons appended. */
int wd_run_symbol_scope(wd_buf *reasons, wd_workspace *ws, const wd_ticket *t,
                        const git_oid *patched, const wd_strvec *files);
/* A patch must not add syntax errors (tree-sitter). 0, or WD_EREFUSED with locations. */
int wd_run_syntax_gate(wd_buf *reasons, wd_workspace *ws, const git_oid *patched,
                       const wd_strvec *files);

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
json_t *wd_run_check_event(const wd_check_result *cr, const char *phase);
json_t *wd_run_evidence_json(const wd_gate_result *gate);
/* Attach the evidence as a git note (refs/notes/warden) in the repository that holds the branch. */
/* Apply `text` (a unified diff) to the base and make the result the run's
 * base (wd_repo_advance_base). WD_EINPUT "the test patch does not apply: …"
 * when it is not a patch or does not apply. */
int wd_run_apply_base_patch(wd_workspace *ws, const char *text);

int wd_run_add_evidence(const char *repo_path, const char *commit_hex, json_t *evidence);
/* Rejection reasons of earlier runs of the same ticket (may be none). */
int wd_run_ticket_feedback(wd_strvec *out, const char *cache_dir, const char *ticket_id);
int wd_run_save_proposal(const char *cache_dir, const wd_run_result *res, const wd_ticket *t,
                         const char *model, const char *checks, const char *evidence,
                         const wd_workspace *ws);

#endif
