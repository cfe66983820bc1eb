/*
 * Does a file define a symbol? For the ticket's checks before any model call:
 * a scope entry "path:symbol" whose file does not define the symbol would
 * refuse every round's patch.
 */
#include <string.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/text.h"

#include "tags.h"

int wd_file_defines(int *found, wd_buf *near, const char *path, const char *src, size_t len,
                    const char *symbol)
{
	int lang = wd_lang_id_for_path(path), rc;
	wd_parsers *ps = NULL;
	wd_tagset ts;
	size_t best = 99;
	const char *best_name = NULL;

	*found = -1;
	if (lang == WD_LANG_NONE)
		return 0;
	memset(&ts, 0, sizeof(ts));
	if ((rc = wd_parsers_new(&ps)) != 0 || (rc = wd_tags_extract(&ts, ps, lang, src, len)) != 0)
		goto out;
	*found = 0;
	for (size_t d = 0; d < ts.ndefs && *found == 0; d++) {
		size_t dist;

		if (!strcmp(ts.defs[d].name, symbol)) {
			*found = 1;
			break;
		}
		dist = wd_edit_distance(ts.defs[d].name, strlen(ts.defs[d].name), symbol);
		if (dist < best) {
			best = dist;
			best_name = ts.defs[d].name;
		}
	}
	/* a near name only when it is plausibly a typo of the one asked for */
	if (!*found && near && best_name && best <= 2 + strlen(symbol) / 4)
		rc = wd_buf_sets(near, best_name);
out:
	wd_tagset_free(&ts);
	wd_parsers_free(ps);
	return rc;
}
