#ifndef WARDEN_OUTBOUND_H
#define WARDEN_OUTBOUND_H

#include <stddef.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/ledger.h"
#include "warden/model.h"

struct wd_config;

/*
 * The outbound gate: every byte warden sends to a model passes through here,
 * and here alone the data policy is applied.
 *
 * Paths. A path is never sent (not listed, not mapped, not read into the
 * context, not readable through the model's tools) when it matches a deny
 * glob: the defaults
 *
 *     .env*  *.pem  *.key  id_*  *.p12  *.pfx  "secrets/" "**"  ".git/" "**"
 *
 * (the last two are one glob each, split here only for the C comment:
 * wd_outbound_default_deny has them),
 * the user's data.deny values (repeatable), and the lines of the base's
 * .wardenignore (see wd_outbound_parse_ignore). A glob without '/' matches a
 * file's name in any directory; one with '/' matches from the root, and in
 * any directory below it too (deny errs on the side of keeping). A model may
 * further be limited to some paths: [data "SPEC"] allow = GLOB (repeatable;
 * SPEC is the model spec as given, "openai:gpt-4o-mini", or its provider,
 * "openai", "compat"); with any allow value for the chosen model, a path no
 * allow glob matches (from the root) is denied too. A symbolic link is judged
 * by its own name and by where it leads. The data section is read from the
 * user's config only, never the repository's.
 *
 * Text. Everything about to be sent (system and task messages, repair
 * feedback, review reasons, tool results) is scanned by the one redactor
 * (warden/ledger.h): findings are replaced by their markers in the request
 * and listed in the ledger ("outbound.redacted": where, rule, line), never
 * the secret itself.
 *
 * Every decision is ledgered: "outbound.denied" {where, path, rule}.
 */
typedef struct wd_outbound wd_outbound;

typedef struct wd_outbound_opts {
	const struct wd_config *cfg;  /* the user's data.* (NULL: defaults only) */
	const char *model_spec;       /* the chosen model, for [data "SPEC"] allow */
	const char *root;             /* the checkout: symbolic links are resolved beneath it */
	const char *ignore_text;      /* the base's .wardenignore, NULL when it has none */
	size_t ignore_len;
	wd_ledger *ledger;            /* may be NULL */
} wd_outbound_opts;

int wd_outbound_new(wd_outbound **out, const wd_outbound_opts *opts);
void wd_outbound_free(wd_outbound *ob);

/* The default deny globs, NULL-terminated. */
extern const char *const wd_outbound_default_deny[];

/* Append the globs of a .wardenignore (gitignore-like: one glob a line,
 * blank lines and '#' comments skipped, a trailing '/' is a directory, a
 * leading '/' anchors at the root; '!' lines are skipped: the file can only
 * add to what is kept back). Lines longer than 1024 bytes and lines with a
 * NUL are skipped; at most 10000 globs. 0 or WD_ENOMEM. */
int wd_outbound_parse_ignore(wd_strvec *out, const char *text, size_t len);

/* Whether `path` (relative to the root) may be sent: 1 yes, 0 no, with *rule
 * (when non-NULL) the glob or reason that denied it (valid while ob lives). */
int wd_outbound_path_allowed(const wd_outbound *ob, const char *path, const char **rule);

/* Remove the paths that may not be sent from `files`, ledgering each as
 * denied at `where`. *denied (when non-NULL) gets how many were removed. */
int wd_outbound_filter(wd_outbound *ob, wd_strvec *files, const char *where, size_t *denied);

/* The model's tool call `name` with JSON `args`: 0 when it may run; else
 * WD_EREFUSED with `answer` set to what the model is told ("denied by
 * policy: PATH"), ledgered. */
int wd_outbound_tool_call(wd_outbound *ob, wd_buf *answer, const char *name, const char *args);

/* Redact `text` in place, ledgering each finding at `where`. *found (when
 * non-NULL) gets how many there were. */
int wd_outbound_text(wd_outbound *ob, wd_buf *text, const char *where, size_t *found);

/* The only ways the run adds to what the model is sent: through the gate. */
int wd_outbound_chat_add(wd_outbound *ob, wd_chat *chat, wd_role role, const char *text,
                         const char *where);
int wd_outbound_tool_result(wd_outbound *ob, wd_chat *chat, const char *call_id,
                            const char *text);

/* What the gate would do to the files of `tree` in `repo` (`warden scan`):
 * *out = {"files": N, "denied": [{"path", "rule"}], "findings": [{"path",
 * "line", "rule"}]}, nothing sent anywhere, no secret in it. Files larger
 * than 4 MiB and binary files (a NUL byte) are counted as not scanned
 * ("skipped"); symbolic links are judged by name and target, never read. */
struct git_repository;
struct git_oid;
int wd_outbound_scan_tree(json_t **out, const wd_outbound *ob, struct git_repository *repo,
                          const struct git_oid *tree);

/* Totals so far: paths denied and findings redacted. */
size_t wd_outbound_denied_count(const wd_outbound *ob);
size_t wd_outbound_redacted_count(const wd_outbound *ob);

#endif
