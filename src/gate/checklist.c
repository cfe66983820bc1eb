/* The list of checks a run must pass: from flags and tickets ("kind: cmd")
 * and from [check "NAME"] sections of the configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/check.h"
#include "warden/text.h"
#include "gate_int.h"

static const char *const kind_names[] = { "test", "build", "analyze" };

const char *wd_check_kind_name(wd_check_kind k)
{
	return (unsigned)k < 3 ? kind_names[k] : "unknown";
}

int wd_check_kind_parse(wd_check_kind *out, const char *s)
{
	if (!strcmp(s, "test") || !strcmp(s, "tests"))
		*out = WD_CHECK_TEST;
	else if (!strcmp(s, "build"))
		*out = WD_CHECK_BUILD;
	else if (!strcmp(s, "analyze") || !strcmp(s, "analyse") || !strcmp(s, "lint"))
		*out = WD_CHECK_ANALYZE;
	else
		return wd_error_set(WD_EINPUT, "unknown check kind '%s' (test, build or analyze)", s);
	return 0;
}

const wd_check *wd_checklist_find(const wd_checklist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

static int has_command(const wd_checklist *l, const char *command)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].command, command))
			return 1;
	return 0;
}

int wd_checklist_add_full(wd_checklist *l, const char *name, int kind, const char *command,
                          unsigned timeout_sec, const char *results_file)
{
	wd_check *c;

	if (!name || !*name)
		return wd_error_set(WD_EINPUT, "a check needs a name");
	if (!command || !*command)
		return wd_error_set(WD_EINPUT, "check '%s' has no command", name);
	if ((unsigned)kind > WD_CHECK_ANALYZE)
		return wd_error_set(WD_EINPUT, "check '%s': bad kind", name);
	if (has_command(l, command))
		return 0;
	if (wd_checklist_find(l, name))
		return wd_error_set(WD_EEXISTS, "check '%s' is declared twice", name);
	if (WD_ARRAY_RESERVE(l->v, l->cap, l->n + 1, 4) != 0)
		return WD_ENOMEM;
	c = &l->v[l->n];
	memset(c, 0, sizeof(*c));
	c->kind = (wd_check_kind)kind;
	c->timeout_sec = timeout_sec;
	if (!(c->name = wd_strdup(name)) || !(c->command = wd_strdup(command)) ||
	    (results_file && !(c->results_file = wd_strdup(results_file)))) {
		free(c->name);
		free(c->command);
		return WD_ENOMEM;
	}
	l->n++;
	return 0;
}

int wd_checklist_add(wd_checklist *l, const char *name, wd_check_kind kind,
                     const char *command, unsigned timeout_sec)
{
	return wd_checklist_add_full(l, name, kind, command, timeout_sec, NULL);
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A leading "word:" is a kind prefix; its length, 0 when the spec has none
 * ("make test", "FOO=1 make"). An unknown word counts only when a blank (or
 * nothing) follows the ':' ("a:b" and "http://x" are commands). */
static size_t kind_prefix(const char *s)
{
	size_t n = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	       (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-')
		n++;
	if (n >= 24 || s[n] != ':')
		return 0;
	{
		char word[24];
		wd_check_kind k;

		memcpy(word, s, n);
		word[n] = '\0';
		if (wd_check_kind_parse(&k, word) == 0)
			return n;
		wd_error_clear();
	}
	return s[n + 1] && s[n + 1] != ' ' && s[n + 1] != '\t' ? 0 : n;
}

int wd_checklist_add_spec(wd_checklist *l, const char *spec, unsigned timeout_sec)
{
	wd_check_kind kind = WD_CHECK_TEST;
	const char *cmd = skip_space(spec ? spec : "");
	size_t kn = kind_prefix(cmd);
	char name[32];
	int rc;

	if (kn) {
		char word[24];

		memcpy(word, cmd, kn);
		word[kn] = '\0';
		if (wd_check_kind_parse(&kind, word) != 0) {
			size_t best = 99;
			const char *near = NULL;

			for (unsigned k = 0; k < 3; k++) {
				size_t d = wd_edit_distance(word, kn, kind_names[k]);

				if (d < best) {
					best = d;
					near = kind_names[k];
				}
			}
			/* run literally, "unit: make" is exit 127 on the base and every round */
			if (near && best <= 2)
				return wd_error_set(WD_EINPUT, "check '%s': unknown kind '%s' (did you mean "
				                    "'%s: %s'?); kinds are test, build and analyze", spec,
				                    word, near, skip_space(cmd + kn + 1));
			return wd_error_set(WD_EINPUT, "check '%s': unknown kind '%s'; kinds are test, "
			                    "build and analyze (write 'test: %s')", spec, word,
			                    skip_space(cmd + kn + 1));
		}
		cmd = skip_space(cmd + kn + 1);
	}
	if (!*cmd)
		return wd_error_set(WD_EINPUT, "check '%s' has no command", spec ? spec : "");
	if (has_command(l, cmd))
		return 0;
	snprintf(name, sizeof(name), "%s", wd_check_kind_name(kind));
	for (unsigned i = 2; wd_checklist_find(l, name); i++)
		snprintf(name, sizeof(name), "%s-%u", wd_check_kind_name(kind), i);
	rc = wd_checklist_add_full(l, name, kind, cmd, timeout_sec, NULL);
	return rc;
}

int wd_check_def_hash(char out[41], const wd_check *c)
{
	wd_buf b = WD_BUF_INIT;
	int rc;

	/* NUL-separated so that no two definitions serialise alike. */
	if ((rc = wd_buf_printf(&b, "v1%c%s%c%s%c%s%c%u%c%s", 0, c->name, 0,
	                        wd_check_kind_name(c->kind), 0, c->command, 0, c->timeout_sec, 0,
	                        c->results_file ? c->results_file : "")) == 0)
		rc = wd_hash_hex(out, b.ptr, b.len);
	wd_buf_free(&b);
	return rc;
}

void wd_checklist_free(wd_checklist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].command);
		free(l->v[i].results_file);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
