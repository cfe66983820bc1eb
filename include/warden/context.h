#ifndef WARDEN_CONTEXT_H
#define WARDEN_CONTEXT_H

#include <stddef.h>

#include <jansson.h>

#include "warden/buf.h"

struct wd_ticket;

/*
 * The context engine: what the model sees. The foundation builds: the file
 * listing, the files the ticket names or that match its scope, and the repo's
 * AGENTS.md, within a byte budget. The tree-sitter repository map, ranking and
 * read-only tools deepen it behind the same call.
 */

typedef struct wd_context_opts {
	unsigned version;
	size_t budget_bytes;    /* 0 = default 96 KiB */
	const char *cache_dir;  /* for the tag cache; may be NULL */
	const char *const *files; /* tracked files of the work tree (NULL-terminated); NULL = walk the tree */
} wd_context_opts;

#define WD_CONTEXT_OPTS_VERSION 1
#define WD_CONTEXT_OPTS_INIT { WD_CONTEXT_OPTS_VERSION, 0, NULL, NULL }

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
