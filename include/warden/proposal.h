#ifndef WARDEN_PROPOSAL_H
#define WARDEN_PROPOSAL_H

/*
 * A proposal: the record `warden run` writes when the gate passed a commit,
 * one JSON file per proposal, <cache>/proposals/<id>.json, written
 * atomically, so a reader never sees half a record and a crash never loses
 * an earlier one. Its life: open -> approved (merged into the target branch,
 * optionally pushed) or open -> rejected (branch deleted, record and reason
 * kept; the reason is handed to the model the next time the same ticket runs).
 *
 * Owns the record, its store and the counts over it. Never touches git
 * (approve.h, review_push.h do, through the repo module).
 */
#include <stddef.h>

#include <jansson.h>

#include "warden/buf.h"

typedef enum wd_proposal_status {
	WD_PROPOSAL_OPEN = 0,
	WD_PROPOSAL_APPROVED,
	WD_PROPOSAL_REJECTED
} wd_proposal_status;

/*
 * One proposal. Every string is owned (free with wd_proposal_free) and may be
 * NULL when unknown, except id, repo, branch, target, base and commit, which
 * wd_proposal_save requires.
 */
typedef struct wd_proposal {
	char *id;              /* the run id; also the record's file name */
	char *ticket_title;
	char *ticket_id;       /* wd_ticket.id: links reruns of the same ticket */
	char *ticket_path;     /* the ticket file as given to `warden run` */
	char *source;          /* REPO as the user gave it (path or URL), for display */
	char *repo;            /* path of the repository that holds the branch */
	char *branch;          /* the proposal branch, e.g. "warden/fix-add-1a2b3c4d" */
	char *target;          /* branch the proposal merges into (the run's base ref) */
	char base[41];         /* hex id of the commit the run started from */
	char commit[41];       /* hex id of the proposed commit (tip of branch) */
	char *model;           /* model spec used */
	char *checks;          /* check summary, e.g. "test=pass 12/12; build=pass" */
	char *evidence;        /* check evidence as JSON text (the git note's content) */
	char *ledger_path;     /* the run's ledger (JSONL) */
	char *user;            /* who made the run (see wd_review_current_user) */
	int rounds;
	int64_t input_tokens;
	int64_t output_tokens;
	double cost_usd;
	char created[32];      /* ISO 8601 UTC */
	wd_proposal_status status;
	char *reason;          /* rejection reason */
	char *decided_by;      /* who approved or rejected */
	char decided[32];      /* when, ISO 8601 UTC; "" while open */
	char merged[41];       /* approved: the target's new tip; "" otherwise */
	char *pushed_to;       /* the remote the target (approved) or the branch went to */
	char *pr_url;          /* the pull request opened for it, if any */
} wd_proposal;

/* A zeroed, open proposal with created = now and user = the current user. */
int wd_proposal_new(wd_proposal **out);

void wd_proposal_free(wd_proposal *p);

/* Write <cache_dir>/proposals/<p->id>.json atomically (creating the directory,
 * mode 0700). Replaces an earlier record of the same id. A relative
 * ticket_path or ledger_path naming an existing file is stored absolute (review
 * commands run from anywhere). Errors: WD_EINPUT
 * when a required field is missing or the id is not [A-Za-z0-9._-]+. */
int wd_proposal_save(const wd_proposal *p, const char *cache_dir);

/* Load proposal `id`. An unambiguous prefix of an id also names it (as with
 * git's short hashes). Errors: WD_ENOTFOUND, WD_EUSAGE (ambiguous prefix),
 * WD_EINPUT (a malformed record, naming the file). */
int wd_proposal_load(wd_proposal **out, const char *cache_dir, const char *id);

/* The record as a JSON object (the same shape as the file). NULL on ENOMEM. */
json_t *wd_proposal_to_json(const wd_proposal *p);
/* Fill a proposal from such an object; `name` is used in error messages. */
int wd_proposal_from_json(wd_proposal **out, const json_t *obj, const char *name);

/* "open", "approved", "rejected". */
const char *wd_proposal_status_name(wd_proposal_status s);

typedef struct wd_proposal_list {
	wd_proposal **v;       /* oldest first (by created, then id) */
	size_t n;
	wd_strvec skipped;     /* records that could not be read: "FILE: why" */
} wd_proposal_list;

#define WD_PROPOSAL_LIST_INIT { NULL, 0, WD_STRVEC_INIT }

/* Every proposal in the store, or only those with status `status` when it is
 * >= 0. A missing store is an empty list. Unreadable records are skipped and
 * named in out->skipped rather than hiding the others. */
int wd_proposal_list_load(wd_proposal_list *out, const char *cache_dir, int status);

void wd_proposal_list_free(wd_proposal_list *l);

/* The rejection reasons of earlier runs of ticket `ticket_id`, oldest first
 * (appended to `out`). No earlier rejection is success with nothing added. */
int wd_review_feedback_for_ticket(wd_strvec *out, const char *cache_dir, const char *ticket_id);

/* Who is acting: $WARDEN_USER, else the login name of the effective uid. */
int wd_review_current_user(wd_buf *out);

/* Counts over the whole store, for `warden stats`: a rejection is a
 * correction (a human said the gated change was still wrong). Approve and
 * reject also append a "review.approve" / "review.reject" event (with
 * "correction": true on rejections) to the run's ledger when it exists. */
typedef struct wd_review_stats {
	size_t open;
	size_t approved;
	size_t rejected;       /* corrections */
	size_t unreadable;     /* records that could not be read */
	double cost_usd;       /* model cost of every proposal in the store */
} wd_review_stats;

int wd_review_stats_load(wd_review_stats *out, const char *cache_dir);

/* Record a push of approved proposal `id` to `remote` in its record. */
int wd_review_mark_pushed(const char *cache_dir, const char *id, const char *remote);

#endif
