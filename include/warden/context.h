#ifndef WARDEN_CONTEXT_H
#define WARDEN_CONTEXT_H

#include <stddef.h>

#include <jansson.h>

#include "warden/buf.h"

struct wd_ticket;

/*
 * The context engine: what the model sees for a ticket, within a byte budget:
 *  - listing: the work tree's files (at most a quarter of the budget);
 *  - agents:  the repo's AGENTS.md (at most an eighth of the budget, 16 KiB);
 *  - map:     a slice of the ranked repository map (see map.h), personalised
 *             toward the ticket: the files it names and the identifiers it
 *             mentions that the map knows as definitions (at most a quarter);
 *  - files:   the files the ticket names, then those its scope covers, then
 *             those defining the identifiers it names: whole when they fit,
 *             else cut to the definitions the ticket names (or head and tail),
 *             saying so in their "=== path (cut: ...) ===" header.
 * c->why records every file considered: {path, reason, bytes[, cut]}.
 * Files resolving outside the work tree (symlinks) and binary files are never sent.
 */

enum wd_context_flags {
	WD_CONTEXT_NO_MAP = 1u << 0  /* skip the tree-sitter map (listing + files only) */
};

typedef struct wd_context_opts {
	unsigned version;
	size_t budget_bytes;    /* 0 = default 96 KiB */
	const char *cache_dir;  /* for the tag cache; may be NULL */
	const char *const *files; /* tracked files of the work tree (NULL-terminated); NULL = the
	                           * git index's files when workdir is a work tree root, else walk */
	const char *const *focus; /* extra focus for the map (paths or identifiers), NULL-terminated;
	                           * may be NULL: the ticket's named files and identifiers always count */
	unsigned flags;         /* enum wd_context_flags */
} wd_context_opts;

#define WD_CONTEXT_OPTS_VERSION 1
#define WD_CONTEXT_OPTS_INIT { WD_CONTEXT_OPTS_VERSION, 0, NULL, NULL, NULL, 0 }

typedef struct wd_context {
	wd_buf listing;   /* file listing (possibly cut to fit, saying so) */
	wd_buf map;       /* repository map slice; empty until the map exists */
	wd_buf files;     /* chosen files, each under a "=== path ===" header */
	wd_buf agents;    /* AGENTS.md, capped */
	wd_strvec chosen; /* paths of the files included */
	json_t *why;      /* [{path, reason, bytes}] for the ledger */
	size_t bytes;     /* total size of what will be sent */
} wd_context;

int wd_context_build(wd_context **out, const char *workdir, const struct wd_ticket *t,
                     const wd_context_opts *opts);
void wd_context_free(wd_context *c);

#endif
