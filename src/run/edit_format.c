/*
 * The edit format the prompts ask for: one per model family, what its
 * models write best (OpenAI's are trained on the "*** Begin Patch" format,
 * Anthropic's write SEARCH/REPLACE blocks reliably, others get the unified
 * diff), overridden by the user's model.edit-format. Replies in any other
 * format are still understood: this only chooses what the prompts ask for.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/config.h"
#include "warden/error.h"

#include "run_internal.h"

static const struct {
	const char *name;     /* as config writes it */
	const char *phrase;   /* for the repair prompts: "send ... as <phrase>" */
} formats[] = {
	{ "diff", "a unified diff in a ```diff block (`--- a/path` / `+++ b/path` headers)" },
	{ "search-replace", "SEARCH/REPLACE blocks, each after a line with its file's path" },
	{ "patch", "one `*** Begin Patch` ... `*** End Patch` block" },
	{ "whole", "whole-file blocks: the path on its own line, then the complete file in a "
	           "fenced block" },
};

static int known(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(formats[i].name, name))
			return (int)i;
	return -1;
}

const char *wd_run_edit_format_phrase(const char *format)
{
	int i = known(format);

	return formats[i < 0 ? 0 : i].phrase;
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The family of the first spec of a chain; a [model "NAME"] section's own spec. */
static const char *by_family(const char *spec, const wd_config *cfg, int depth)
{
	char first[256], *named = NULL, key[300];
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
	const char *fmt = "diff";

	if (n >= sizeof(first))
		return fmt;
	memcpy(first, spec, n);
	first[n] = '\0';
	if (starts(first, "openai:") || starts(first, "openai-responses:"))
		return "patch";
	if (starts(first, "anthropic:"))
		return "search-replace";
	if (starts(first, "compat:"))
		return "search-replace";
	if (strchr(first, ':') || depth > 3 || !cfg)
		return fmt;
	snprintf(key, sizeof(key), "model.%s.spec", first);
	if (wd_config_get_string_trusted(&named, cfg, key) == 0 && named)
		fmt = by_family(named, cfg, depth + 1);
	wd_error_clear();
	free(named);
	return fmt;
}

int wd_run_edit_format(const char **out, const char *model_spec, const wd_config *cfg)
{
	char *v = NULL;
	int i;

	*out = by_family(model_spec ? model_spec : "", cfg, 0);
	if (!cfg || wd_config_get_string_trusted(&v, cfg, "model.edit-format") != 0) {
		wd_error_clear();
		return 0;
	}
	i = known(v);
	if (i < 0) {
		int rc = wd_error_set(WD_EUSAGE, "model.edit-format = '%s': use diff, search-replace, "
		                      "patch or whole", v);

		free(v);
		return rc;
	}
	*out = formats[i].name;
	free(v);
	return 0;
}

size_t wd_run_max_whole_file(const wd_config *cfg)
{
	long v = 0;

	if (!cfg || wd_config_get_int(&v, cfg, "patch.max-whole-file") != 0 || v <= 0) {
		wd_error_clear();
		return 0;
	}
	return (size_t)v;
}
