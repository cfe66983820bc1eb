/*
 * Prompt templates: text files in prompts/, found at run time, with {{name}}
 * placeholders. Values are inserted verbatim and never rescanned, so text
 * from a ticket or a repository cannot smuggle in a placeholder of its own.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/prompt.h"

#define PROMPT_MAX_FILE ((size_t)1 << 20)
#define PROMPT_MAX_KEY 64

static _Thread_local char prompt_dir[PATH_MAX];
/* --prompts DIR: set once by the cli before a run starts. */
static char override_dir[PATH_MAX];

int wd_prompt_set_dir(const char *dir)
{
	if (!dir) {
		override_dir[0] = '\0';
		return 0;
	}
	if (!*dir || strlen(dir) >= sizeof(override_dir))
		return wd_error_set(WD_EUSAGE, "prompt directory '%s' is empty or too long", dir);
	memcpy(override_dir, dir, strlen(dir) + 1);
	return 0;
}

/* A directory that holds warden's templates (system.md is the one every run
 * needs), taken as the answer. */
static int try_dir(const char *dir)
{
	char probe[PATH_MAX + 16];
	size_t len = strlen(dir);

	if (len >= sizeof(prompt_dir) ||
	    (size_t)snprintf(probe, sizeof(probe), "%s/system.md", dir) >= sizeof(probe) ||
	    !wd_path_exists(probe))
		return 0;
	memcpy(prompt_dir, dir, len + 1);
	return 1;
}

/* Where the templates come from, first match wins: --prompts, then
 * $WARDEN_PROMPTS (both taken as given), then places found from the
 * executable's own path (/proc/self/exe): its source tree (./warden at the
 * top of a checkout, build/warden-core one level down) and an installed tree
 * (bin/ or libexec/warden/ beside share/warden/prompts), then the
 * directories this build was configured with. Never the current directory:
 * it is usually a checkout under change, whose prompts/ would replace
 * warden's instructions to the model. The environment is read each time so
 * tests can point it elsewhere. */
const char *wd_prompt_dir(void)
{
	static const char *const rel[] = { "prompts", "../prompts", "../share/warden/prompts",
	                                   "../../share/warden/prompts" };
	const char *env = getenv("WARDEN_PROMPTS");
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	ssize_t n;

	if (override_dir[0]) {
		snprintf(prompt_dir, sizeof(prompt_dir), "%s", override_dir);
		return prompt_dir;
	}
	if (env && *env) {
		snprintf(prompt_dir, sizeof(prompt_dir), "%s", env);
		return prompt_dir;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(cand, sizeof(cand), "%s/%s", exe, rel[i]);
			if (try_dir(cand))
				return prompt_dir;
		}
	}
#ifdef WD_PROMPTS_SHARE_DIR
	if (try_dir(WD_PROMPTS_SHARE_DIR))
		return prompt_dir;
#endif
#ifdef WD_PROMPTS_SRC_DIR
	if (try_dir(WD_PROMPTS_SRC_DIR))
		return prompt_dir;
#endif
	return NULL;
}

static int valid_name(const char *name)
{
	if (!name || !*name || strlen(name) > 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return 0;
	return 1;
}

static const char *lookup(const char *const *vars, const char *key, size_t klen)
{
	for (size_t i = 0; vars && vars[i] && vars[i + 1]; i += 2)
		if (strlen(vars[i]) == klen && memcmp(vars[i], key, klen) == 0)
			return vars[i + 1];
	return NULL;
}

static size_t line_of(const char *start, const char *at)
{
	size_t line = 1;

	for (const char *p = start; p < at; p++)
		if (*p == '\n')
			line++;
	return line;
}

/* "{{ name }}" at p: the name's span, or 0 when this is not a placeholder. */
static size_t placeholder(const char *p, const char **key, size_t *klen)
{
	const char *q = p + 2, *k;

	while (*q == ' ')
		q++;
	k = q;
	while (isalnum((unsigned char)*q) || *q == '_')
		q++;
	if (q == k || (size_t)(q - k) > PROMPT_MAX_KEY)
		return 0;
	*key = k;
	*klen = (size_t)(q - k);
	while (*q == ' ')
		q++;
	if (q[0] != '}' || q[1] != '}')
		return 0;
	return (size_t)(q + 2 - p);
}

int wd_prompt_render(wd_buf *out, const char *name, const char *const *vars, char *hash_out)
{
	wd_buf path = WD_BUF_INIT, tpl = WD_BUF_INIT;
	const char *dir = wd_prompt_dir(), *p;
	int rc;

	if (!valid_name(name))
		return wd_error_set(WD_EUSAGE, "bad prompt template name '%s'", name ? name : "(null)");
	if (!dir)
		return wd_error_set(WD_EINFRA, "prompt template '%s' not found: warden's prompts are "
		                    "neither beside the executable nor installed; pass --prompts DIR "
		                    "or set WARDEN_PROMPTS (the current directory is never used)", name);
	if ((rc = wd_buf_printf(&path, "%s/%s.md", dir, name)) != 0)
		goto out;
	rc = wd_file_read(&tpl, path.ptr, PROMPT_MAX_FILE);
	if (rc == WD_ENOTFOUND) {
		rc = wd_error_set(WD_EINFRA, "prompt template '%s' not found: no %s (set WARDEN_PROMPTS "
		                  "to the directory holding warden's prompts)", name, path.ptr);
		goto out;
	}
	if (rc) {
		rc = wd_error_wrap(WD_EINFRA, "prompt template '%s'", name);
		goto out;
	}
	if (memchr(tpl.ptr, '\0', tpl.len)) {
		rc = wd_error_set(WD_EINPUT, "prompt template %s contains a NUL byte", path.ptr);
		goto out;
	}
	if (hash_out && (rc = wd_hash_hex(hash_out, tpl.ptr, tpl.len)) != 0)
		goto out;
	p = tpl.ptr;
	for (;;) {
		const char *open = strstr(p, "{{"), *key, *val;
		size_t klen, span;

		if (!open) {
			rc = wd_buf_puts(out, p);
			break;
		}
		if ((rc = wd_buf_put(out, p, (size_t)(open - p))) != 0)
			break;
		span = placeholder(open, &key, &klen);
		if (!span) {
			/* not a placeholder ("{{" in code): copy it literally */
			if ((rc = wd_buf_put(out, open, 2)) != 0)
				break;
			p = open + 2;
			continue;
		}
		val = lookup(vars, key, klen);
		if (!val) {
			rc = wd_error_set(WD_EINPUT, "prompt template %s line %zu: unknown placeholder {{%.*s}}",
			                  path.ptr, line_of(tpl.ptr, open), (int)klen, key);
			break;
		}
		if ((rc = wd_buf_puts(out, val)) != 0)
			break;
		p = open + span;
	}
out:
	wd_buf_free(&path);
	wd_buf_free(&tpl);
	return rc;
}
