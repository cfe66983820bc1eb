#ifndef WARDEN_PROMPT_H
#define WARDEN_PROMPT_H

#include "warden/buf.h"

/*
 * Prompt templates live in prompts/NAME.md, loaded at run time from, in order:
 * the directory given with wd_prompt_set_dir (`warden run --prompts DIR`),
 * $WARDEN_PROMPTS, then found from the executable's path (/proc/self/exe):
 * "prompts" beside it or one level up (a source checkout: ./warden,
 * build/warden-core), share/warden/prompts one or two levels up (an installed
 * tree: bin/, libexec/warden/), then the directories the build was configured
 * with (the install prefix, this source tree). A found directory must hold
 * system.md. Never the current directory: a checkout under change must not
 * be able to replace warden's instructions to the model.
 * Placeholders are {{name}}; an unknown placeholder is an error, so a typo in a
 * template cannot silently send an empty section to the model.
 */

/* Render template `name` (e.g. "task") with vars = {"k1","v1","k2","v2",...,NULL}.
 * hash_out (41 bytes, may be NULL) receives the hash of the template file itself. */
int wd_prompt_render(wd_buf *out, const char *name, const char *const *vars, char *hash_out);

/* The directory templates are read from (for messages and the ledger); NULL
 * when none of the places above has warden's templates. */
const char *wd_prompt_dir(void);

/* Use `dir` before anything else (NULL: back to the search above). The cli
 * calls it once, before a run starts. WD_EUSAGE for an empty or too long path. */
int wd_prompt_set_dir(const char *dir);

#endif
