/*
 * Whole-file replacements: a fenced block holding a file's complete new
 * content, the path named by the fence's info string or alone on the line
 * just above it:
 *
 *     src/a.c                         ```c src/a.c
 *     ```c                            ...
 *     ...the whole file...            ```
 *     ```
 *
 * They are read only from a reply that holds no other edit (no diff, no
 * SEARCH/REPLACE block, no "*** Begin Patch" section): replies quote code to
 * explain it, and a quoted snippet must not replace a file. A block that
 * leaves code out ("... existing code ...", "rest of the file unchanged")
 * is an input error: applied, it would delete what it skipped. The size
 * limit is the policy's (max_whole_bytes).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "warden/error.h"
#include "patch_int.h"

static const char *line_at(const struct wd_patch *p, const wd_rline *rl, size_t i)
{
	return p->src + rl[i].off;
}

/* The fence of line i: how many backticks (or tildes) open it, 0 if none;
 * `info` and `ilen` get the info string after them. */
static size_t fence_len(const char *s, size_t len, const char **info, size_t *ilen)
{
	size_t i = 0, k;
	char c;

	while (i < len && i < 3 && s[i] == ' ')
		i++;
	if (i >= len || (s[i] != '`' && s[i] != '~'))
		return 0;
	c = s[i];
	for (k = 0; i + k < len && s[i + k] == c; k++)
		;
	if (k < 3)
		return 0;
	if (info) {
		*info = s + i + k;
		*ilen = len - i - k;
	}
	return k;
}

static int looks_like_path(const char *s)
{
	const char *dot = strrchr(s, '.');

	if (strchr(s, '/'))
		return 1;
	return dot && dot != s && dot[1] && !strpbrk(s, "()<>{}|=");
}

/* A path named by the info string ("c src/a.c", "src/a.c", "python title=a.py"). */
static char *info_path(const char *info, size_t len)
{
	size_t i = 0, st, e;

	while (wd_patch__next_word(info, len, &i, &st, &e)) {
		char *tok;
		const char *eq, *colon;

		if (!(tok = wd_strndup(info + st, e - st)))
			return NULL;
		eq = strchr(tok, '=');
		colon = strchr(tok, ':');
		if (eq || colon) {
			const char *v = eq ? eq + 1 : colon + 1;

			memmove(tok, v, strlen(v) + 1);
		}
		if (*tok && looks_like_path(tok)) {
			char *clean = wd_patch__clean_path(tok, strlen(tok));

			free(tok);
			return clean;
		}
		free(tok);
	}
	return NULL;
}

/* The path on the nearest non-blank line above the fence at `start`. */
static char *line_path(const struct wd_patch *p, const wd_rline *rl, size_t start)
{
	for (size_t i = start; i > 0 && start - i < 3; i--) {
		char *path;

		if (!rl[i - 1].len)
			continue;
		path = wd_patch__clean_path(line_at(p, rl, i - 1), rl[i - 1].len);
		if (path && !looks_like_path(path)) {
			free(path);
			path = NULL;
		}
		return path;
	}
	return NULL;
}

/* Does the line stand for code the model left out? */
static int elides(const char *s, size_t len)
{
	static const char *const marks[] = { "existing code", "rest of the file", "rest of file",
	                                     "remains unchanged", "remain unchanged",
	                                     "unchanged code", "code unchanged", "same as before",
	                                     "previous code", "other methods", "other functions" };
	char buf[160];
	size_t n = 0, i = 0;

	while (i < len && (isspace((unsigned char)s[i]) || strchr("/#*-<!>;{}()", s[i])))
		i++;
	for (; i < len && n + 1 < sizeof(buf); i++)
		buf[n++] = (char)tolower((unsigned char)s[i]);
	buf[n] = '\0';
	while (n && (isspace((unsigned char)buf[n - 1]) || strchr("/*->;}", buf[n - 1])))
		buf[--n] = '\0';
	if (!strcmp(buf, "...") || !strcmp(buf, "…"))
		return 1;
	if (!strstr(buf, "...") && !strstr(buf, "…"))
		return 0;
	for (size_t k = 0; k < sizeof(marks) / sizeof(marks[0]); k++)
		if (strstr(buf, marks[k]))
			return 1;
	return 0;
}

static int add_block(struct wd_patch *p, const wd_rline *rl, size_t open, size_t close,
                     const char *path)
{
	size_t mark = p->nlines;
	wd_pfile *f;
	wd_hunk *h;
	int rc = 0;

	for (size_t j = open + 1; j < close; j++)
		if (elides(line_at(p, rl, j), rl[j].len))
			return wd_error_set(WD_EINPUT, "line %zu: the whole-file block for '%s' leaves "
			                    "code out ('%.*s'): send the complete file, or a diff", j + 1,
			                    path, (int)(rl[j].len < 60 ? rl[j].len : 60),
			                    line_at(p, rl, j));
	for (size_t j = open + 1; j < close && !rc; j++)
		rc = wd_patch__line_add(p, WD_PL_ADD, rl[j].off, rl[j].len);
	if (!rc)
		rc = wd_patch__file_get(&f, p, path, path, WD_PF_MODIFY);
	if (!rc && (f->nhunks || f->whole))
		rc = wd_error_set(WD_EINPUT, "line %zu: '%s' has two whole-file blocks", open + 1,
		                  path);
	if (!rc)
		rc = wd_patch__hunk_add(&h, f);
	if (rc) {
		p->nlines = mark;
		return rc;
	}
	f->whole = 1;
	h->first = mark;
	h->n = p->nlines - mark;
	h->src_line = open + 1;
	return 0;
}

int wd_patch__parse_whole(struct wd_patch *p, const wd_rline *rl, size_t n)
{
	size_t i = 0;
	int rc;

	while (i < n) {
		const char *info = NULL;
		size_t ilen = 0, k = fence_len(line_at(p, rl, i), rl[i].len, &info, &ilen), close;
		char *path;

		if (!k) {
			i++;
			continue;
		}
		/* the closing fence: as long as the opening one, nothing after it */
		for (close = i + 1; close < n; close++) {
			const char *ci = NULL;
			size_t cl = 0, ck = fence_len(line_at(p, rl, close), rl[close].len, &ci, &cl);

			while (cl && isspace((unsigned char)ci[cl - 1]))
				cl--;
			if (ck >= k && cl == 0)
				break;
		}
		if (close >= n)
			break;
		path = info_path(info, ilen);
		if (!path)
			path = line_path(p, rl, i);
		if (path) {
			rc = add_block(p, rl, i, close, path);
			free(path);
			if (rc)
				return rc;
		}
		i = close + 1;
	}
	return p->nfiles ? 0 : WD_ENOTFOUND;
}
