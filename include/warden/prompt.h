#ifndef WARDEN_PROMPT_H
#define WARDEN_PROMPT_H

#include "warden/buf.h"

/*
 * Prompt templates live in prompts/NAME.md, loaded at run time from, in order:
 * $WARDEN_PROMPTS, the directory "prompts" beside the executable or one level
 * up (a source checkout), and the installed share/warden/prompts.
 * Placeholders are {{name}}; an unknown placeholder is an error, so a typo in a
 * template cannot silently send an empty section to the model.
 */

/* Render template `name` (e.g. "task") with vars = {"k1","v1","k2","v2",...,NULL}.
 * hash_out (41 bytes, may be NULL) receives the hash of the template file itself. */
int wd_prompt_render(wd_buf *out, const char *name, const char *const *vars, char *hash_out);

/* The directory templates are read from (for messages and the ledger). */
const char *wd_prompt_dir(void);

#endif
