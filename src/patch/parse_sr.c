/*
 * SEARCH/REPLACE blocks (the format Aider popularised):
 *
 *     path/to/file.c
 *     ```c
 *     <<<<<<< SEARCH
 *     old lines
 *     =======
 *     new lines
 *     >>>>>>> REPLACE
 *     ```
 *
 * The path is the nearest line above the block that is not blank and not a
 * fence; a block right after another block in the same fence reuses its
 * path. Each block becomes one hunk with no line hint: the SEARCH lines are
 * its '-' lines and the REPLACE lines its '+' lines, so it goes through the
 * same matcher (and the same refusal rules) as diff hunks. A block runs to
 * its REPLACE marker; lines of '=' signs in it besides the divider are the
 * file's own (find_divider).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "patch_int.h"

/* A run of 5 to 9 `c` then optional spaces and `word` (or nothing when word
 * is NULL), then only blanks. */
static int is_marker(const char *s, size_t len, char c, const char *word)
{
	size_t i = 0, wl;

	while (i < len && s[i] == c)
		i++;
	if (i < 5 || i > 9)
		return 0;
	while (i < len && s[i] == ' ')
		i++;
	if (word) {
		wl = strlen(word);
		if (len - i < wl || memcmp(s + i, word, wl) != 0)
			return 0;
		i += wl;
	}
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i == len;
}

int wd_patch__is_sr_start(const char *s, size_t len)
{
	return is_marker(s, len, '<', "SEARCH");
}

static int is_fence(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	return (len >= 3 && !memcmp(s, "```", 3)) || (len >= 3 && !memcmp(s, "~~~", 3));
}

/* "Change `src/a.c` like this:" names one path-like token (with a '/' or a
 * '.'); take it when it is the only one. */
static char *path_in_prose(const char *s, size_t len)
{
	char *found = NULL;
	size_t i = 0, start, end;

	while (wd_patch__next_word(s, len, &i, &start, &end)) {
		char *tok = wd_patch__clean_path(s + start, end - start);

		while (tok && *tok && strchr(".,;:)", tok[strlen(tok) - 1]))
			tok[strlen(tok) - 1] = '\0';
		if (!tok || !*tok || (!strchr(tok, '/') && !strchr(tok + 1, '.')) ||
		    strpbrk(tok, "()<>{}|") || tok[strlen(tok) - 1] == '.') {
			free(tok);
			continue;
		}
		if (found) { /* two candidates: do not guess */
			free(found);
			free(tok);
			return NULL;
		}
		found = tok;
	}
	return found;
}

static const char *line_at(const struct wd_patch *p, const wd_rline *rl, size_t i)
{
	return p->src + rl[i].off;
}

/* The path for the block starting at reply line `start`. */
static int find_path(char **out, const struct wd_patch *p, const wd_rline *rl, size_t start,
                     const char *prev_path, size_t prev_end)
{
	size_t i = start;

	*out = NULL;
	while (i > 0) {
		const char *s;
		size_t len;

		i--;
		s = line_at(p, rl, i);
		len = rl[i].len;
		if (len == 0 || is_fence(s, len))
			continue;
		if (is_marker(s, len, '>', "REPLACE") && prev_path && i + 1 == prev_end) {
			*out = wd_strdup(prev_path);
			return *out ? 0 : WD_ENOMEM;
		}
		*out = wd_patch__clean_path(s, len);
		if (!*out)
			*out = path_in_prose(s, len);
		break;
	}
	if (!*out)
		return wd_error_set(WD_EINPUT,
		                    "line %zu: SEARCH block without a file path: put the path on "
		                    "its own line before the block", start + 1);
	return 0;
}

/* A line of the file's own merge conflict: git's markers are 7 of `c`
 * then a space and a label, or nothing ('<' and '>' here: the block's own
 * SEARCH and REPLACE markers are not the file's). */
static int is_conflict(const char *s, size_t len, char c)
{
	size_t i = 0;

	while (i < len && s[i] == c)
		i++;
	return i == 7 && (i == len || s[i] == ' ') && !is_marker(s, len, '<', "SEARCH") &&
	       !is_marker(s, len, '>', "REPLACE");
}

/* Is s exactly the divider as Aider writes it? */
static int is_divider7(const char *s, size_t len)
{
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return len == 7 && !memcmp(s, "=======", 7);
}

/*
 * The divider of the block from `start` to its REPLACE marker `end`, which
 * holds ndiv lines of 5 to 9 '='. One is the divider; any other is the
 * file's own: the middle of a merge conflict the file holds (between
 * `<<<<<<< label` and `>>>>>>> label`), or a heading's underline in a
 * document (asciidoc and setext markdown). When several remain, the one of
 * exactly 7 is the divider if it is the only one; else the block cannot be
 * read, and the error says so.
 */
static int find_divider(size_t *mid, const struct wd_patch *p, const wd_rline *rl, size_t start,
                        size_t end, size_t ndiv)
{
	size_t left = 0, seven = 0, first = 0, first7 = 0, firstc = 0;
	int open = 0;

	for (size_t j = start + 1; j < end; j++) {
		const char *s = line_at(p, rl, j);
		size_t len = rl[j].len;

		if (is_conflict(s, len, '<')) {
			open = 1;
		} else if (is_conflict(s, len, '>')) {
			open = 0;
		} else if (is_marker(s, len, '=', NULL)) {
			if (!first)
				first = j;
			if (!open && !left++)
				firstc = j;
			if (is_divider7(s, len) && !seven++)
				first7 = j;
		}
	}
	if (ndiv == 1) {
		*mid = first;
		return 0;
	}
	if (left == 1) {
		*mid = firstc;
		return 0;
	}
	if (seven == 1) {
		*mid = first7;
		return 0;
	}
	return wd_error_set(WD_EINPUT,
	                    "line %zu: SEARCH block with %zu lines of '=' signs: which one divides "
	                    "the old lines from the new cannot be told (the file has such lines of "
	                    "its own); quote fewer lines, or send this change as a unified diff",
	                    start + 1, ndiv);
}

int wd_patch__parse_sr(struct wd_patch *p, const wd_rline *rl, size_t nrl, size_t *i)
{
	size_t start = *i, j = start + 1, mark = p->nlines, mid = 0, end = 0, ndiv = 0;
	const char *prevp = NULL;
	size_t prev_end = 0;
	char *path = NULL;
	wd_pfile *f;
	wd_hunk *h;
	int rc;

	/* the previous SR block in this patch, to let consecutive blocks share a path */
	for (size_t k = p->nfiles; k > 0; k--) {
		const wd_pfile *pf = &p->files[k - 1];

		if (pf->sr && pf->nhunks) {
			const wd_hunk *last = &pf->hunks[pf->nhunks - 1];

			prevp = pf->new_path;
			prev_end = last->src_line; /* 1-based line of its REPLACE marker */
			break;
		}
	}
	/* the block runs to its REPLACE marker; another SEARCH first means
	 * that marker is missing */
	for (; j < nrl; j++) {
		const char *s = line_at(p, rl, j);

		if (is_marker(s, rl[j].len, '>', "REPLACE")) {
			end = j;
			break;
		}
		if (wd_patch__is_sr_start(s, rl[j].len))
			break;
		ndiv += is_marker(s, rl[j].len, '=', NULL);
	}
	if (!ndiv)
		return wd_error_set(WD_EINPUT, "line %zu: SEARCH block without its '=======' line",
		                    start + 1);
	if (!end)
		return wd_error_set(WD_EINPUT, "line %zu: SEARCH block without its '>>>>>>> REPLACE' line",
		                    start + 1);
	if ((rc = find_divider(&mid, p, rl, start, end, ndiv)) != 0)
		return rc;
	if ((rc = find_path(&path, p, rl, start, prevp, prev_end)) != 0)
		return rc;
	for (j = start + 1; j < mid && !rc; j++)
		rc = wd_patch__line_add(p, WD_PL_DEL, rl[j].off, rl[j].len);
	for (j = mid + 1; j < end && !rc; j++)
		rc = wd_patch__line_add(p, WD_PL_ADD, rl[j].off, rl[j].len);
	if (rc)
		goto out;
	if ((rc = wd_patch__file_get(&f, p, path, path, WD_PF_MODIFY)) != 0)
		goto out;
	if ((f->nhunks && !f->sr) || f->codex) {
		rc = wd_error_set(WD_EINPUT, "'%s' is edited by both a diff and a SEARCH block", path);
		goto out;
	}
	f->sr = 1;
	if ((rc = wd_patch__hunk_add(&h, f)) != 0)
		goto out;
	h->first = mark;
	h->n = p->nlines - mark;
	h->src_line = end + 1;
	*i = end + 1;
out:
	if (rc)
		p->nlines = mark;
	free(path);
	return rc;
}
