/*
 * The patch format OpenAI's Codex-trained models write natively:
 *
 *     *** Begin Patch
 *     *** Update File: src/a.c
 *     *** Move to: src/b.c          (optional: a rename)
 *     @@ static int f(void)          (optional text: where the hunk is)
 *      context
 *     -old
 *     +new
 *     *** End of File               (optional: the hunk ends the file)
 *     *** Add File: src/new.c
 *     +every line of the new file
 *     *** Delete File: src/old.c
 *     *** End Patch
 *
 * Hunks carry no line numbers: each becomes a hunk without a hint, matched
 * in file order by the same tolerant matcher and refusal rules as a diff's.
 * A section's first hunk may come without its "@@" line. The "*** Begin
 * Patch" line is optional (models drop it); a section ends at the next "***"
 * header, a fence, or a line that is neither blank nor ' ', '-' or '+'.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "patch_int.h"

static int starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

enum codex_kind { CX_NONE = 0, CX_BEGIN, CX_END, CX_UPDATE, CX_ADD, CX_DELETE };

static int codex_kind(const char *s, size_t len)
{
	if (starts(s, len, "*** Begin Patch"))
		return CX_BEGIN;
	if (starts(s, len, "*** End Patch"))
		return CX_END;
	if (starts(s, len, "*** Update File:"))
		return CX_UPDATE;
	if (starts(s, len, "*** Add File:"))
		return CX_ADD;
	if (starts(s, len, "*** Delete File:"))
		return CX_DELETE;
	return CX_NONE;
}

int wd_patch__is_codex_header(const char *s, size_t len)
{
	return codex_kind(s, len) != CX_NONE;
}

static int is_fence(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	return starts(s, len, "```") || starts(s, len, "~~~");
}

/* The path after "*** Xxx File:" or "*** Move to:". */
static char *header_path(const char *s, size_t len, size_t skip, size_t line)
{
	char *path = wd_patch__clean_path(s + skip, len - skip);

	if (!path)
		wd_error_set(WD_EINPUT, "line %zu: '%.*s' names no usable path", line, (int)skip - 1, s);
	return path;
}

static const char *line_at(const struct wd_patch *p, const wd_rline *rl, size_t i)
{
	return p->src + rl[i].off;
}

/* Does line j end the current section? */
static int section_end(const struct wd_patch *p, const wd_rline *rl, size_t n, size_t j)
{
	const char *s;
	size_t len;

	if (j >= n)
		return 1;
	s = line_at(p, rl, j);
	len = rl[j].len;
	if (len == 0)
		return 0;
	/* a line starting with a blank is context, even when its text is a fence
	 * (a README's " ``` bash"): only a fence at the margin ends the section */
	if (codex_kind(s, len) != CX_NONE || (s[0] != ' ' && is_fence(s, len)))
		return 1;
	return !(s[0] == ' ' || s[0] == '-' || s[0] == '+' || starts(s, len, "@@") ||
	         starts(s, len, "*** End of File") || starts(s, len, "*** Move to:"));
}

/* The text after a hunk's "@@" (` def bar(self):`): a line of the file
 * above the hunk, which places it (the format's own anchor). A git header
 * pasted in its place (`@@ -3,4 +3,5 @@ int f(void)`) anchors on its
 * function line. Into *off, *len (offsets into p->src); 0 long: none. */
static void anchor_of(const struct wd_patch *p, const wd_rline *r, size_t *off, size_t *len)
{
	const char *s = p->src + r->off;
	size_t a = 2, e = r->len;

	if (e > 3 && s[2] == ' ' && s[3] == '-') {
		const char *q = e > 4 ? memmem(s + 4, e - 4, "@@", 2) : NULL;

		a = q ? (size_t)(q - s) + 2 : e;
	}
	while (a < e && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (e > a && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
		e--;
	*off = r->off + a;
	*len = e - a;
}

/* Close the hunk begun at patch line `mark`: dropped when it changes nothing.
 * `anc_len` bytes at `anc_off`: the anchor of its "@@" line. */
static int hunk_close(struct wd_patch *p, wd_pfile *f, size_t mark, size_t src_line, int at_eof,
                      const size_t anc[4])
{
	int changes = 0;
	wd_hunk *h;
	int rc;

	for (size_t k = mark; k < p->nlines; k++)
		changes |= p->lines[k].op != WD_PL_CTX;
	if (!changes) {
		p->nlines = mark;
		return 0;
	}
	if ((rc = wd_patch__hunk_add(&h, f)) != 0)
		return rc;
	h->first = mark;
	h->n = p->nlines - mark;
	h->src_line = src_line;
	h->at_eof = at_eof;
	h->sec_off = anc[0];
	h->sec_len = anc[1];
	h->sec_anchor = anc[1] != 0;
	h->outer_off = anc[2];
	h->outer_len = anc[3];
	return 0;
}

/* The body of an "Update File" section: hunks separated by "@@" lines. */
static int parse_update_body(struct wd_patch *p, wd_pfile *f, const wd_rline *rl, size_t n,
                             size_t *i)
{
	size_t j = *i, mark = p->nlines, src_line = *i + 1;
	size_t anc[4] = { 0 }; /* the anchor, then the outer one: offset, length */
	int rc = 0, at_eof = 0;

	while (j < n && !section_end(p, rl, n, j)) {
		const char *s = line_at(p, rl, j);
		size_t len = rl[j].len;

		if (starts(s, len, "@@")) {
			/* several "@@" lines in a row: a class, then its method
			 * (the first is the outer anchor, the last the anchor) */
			int nested = p->nlines == mark && anc[1] && j > *i;

			if ((rc = hunk_close(p, f, mark, src_line, at_eof, anc)) != 0)
				return rc;
			mark = p->nlines;
			src_line = j + 1;
			at_eof = 0;
			if (!nested) {
				anc[2] = anc[3] = 0;
			} else if (!anc[3]) {
				anc[2] = anc[0];
				anc[3] = anc[1];
			}
			anchor_of(p, &rl[j], &anc[0], &anc[1]);
		} else if (starts(s, len, "*** End of File")) {
			at_eof = 1;
		} else if (starts(s, len, "*** Move to:")) {
			return wd_error_set(WD_EINPUT, "line %zu: '*** Move to:' must follow its "
			                    "'*** Update File:' line", j + 1);
		} else if (len == 0) {
			/* a blank line inside the body is blank context, unless only
			 * blank lines follow before the section ends */
			size_t m = j;

			while (m < n && rl[m].len == 0)
				m++;
			if (section_end(p, rl, n, m))
				break;
			rc = wd_patch__line_add(p, WD_PL_CTX, rl[j].off, 0);
		} else {
			rc = wd_patch__line_add(p, s[0], rl[j].off + 1, len - 1);
		}
		if (rc)
			return rc;
		j++;
	}
	*i = j;
	return hunk_close(p, f, mark, src_line, at_eof, anc);
}

/* "Add File": every body line is '+'; a line without the '+' is refused
 * rather than guessed (it could be prose or a lost prefix). */
static int parse_add_body(struct wd_patch *p, wd_pfile *f, const wd_rline *rl, size_t n, size_t *i)
{
	size_t j = *i, mark = p->nlines;
	wd_hunk *h;
	int rc = 0;

	while (j < n && !section_end(p, rl, n, j)) {
		const char *s = line_at(p, rl, j);
		size_t len = rl[j].len;

		if (len == 0) {
			size_t m = j;

			while (m < n && rl[m].len == 0)
				m++;
			if (section_end(p, rl, n, m))
				break;
			return wd_error_set(WD_EINPUT, "line %zu: '*** Add File: %s' has a line without "
			                    "its leading '+'", j + 1, f->new_path);
		}
		if (s[0] != '+')
			return wd_error_set(WD_EINPUT, "line %zu: '*** Add File: %s' has a line without "
			                    "its leading '+'", j + 1, f->new_path);
		if ((rc = wd_patch__line_add(p, WD_PL_ADD, rl[j].off + 1, len - 1)) != 0)
			return rc;
		j++;
	}
	*i = j;
	if (p->nlines == mark)
		return 0;
	if ((rc = wd_patch__hunk_add(&h, f)) != 0)
		return rc;
	h->first = mark;
	h->n = p->nlines - mark;
	h->src_line = *i;
	return 0;
}

static int parse_section(struct wd_patch *p, const wd_rline *rl, size_t n, size_t *i)
{
	const char *s = line_at(p, rl, *i);
	size_t len = rl[*i].len, line = *i + 1;
	int kind = codex_kind(s, len);
	size_t skip = kind == CX_UPDATE ? strlen("*** Update File:")
	              : kind == CX_ADD  ? strlen("*** Add File:")
	                                : strlen("*** Delete File:");
	char *path = header_path(s, len, skip, line), *to = NULL;
	wd_pfile *f;
	int rc;

	if (!path)
		return WD_EINPUT;
	(*i)++;
	if (kind == CX_UPDATE && *i < n &&
	    starts(line_at(p, rl, *i), rl[*i].len, "*** Move to:")) {
		to = header_path(line_at(p, rl, *i), rl[*i].len, strlen("*** Move to:"), *i + 1);
		if (!to) {
			rc = WD_EINPUT;
			goto out;
		}
		(*i)++;
	}
	if (kind == CX_ADD)
		rc = wd_patch__file_get(&f, p, NULL, path, WD_PF_ADD);
	else if (kind == CX_DELETE)
		rc = wd_patch__file_get(&f, p, path, NULL, WD_PF_DELETE);
	else if (to && strcmp(to, path) != 0)
		rc = wd_patch__file_get(&f, p, path, to, WD_PF_RENAME);
	else
		rc = wd_patch__file_get(&f, p, path, path, WD_PF_MODIFY);
	if (rc)
		goto out;
	if (f->sr) {
		rc = wd_error_set(WD_EINPUT, "'%s' is edited by both a patch section and a SEARCH "
		                  "block", path);
		goto out;
	}
	f->codex = 1;
	if (kind == CX_UPDATE)
		rc = parse_update_body(p, f, rl, n, i);
	else if (kind == CX_ADD)
		rc = parse_add_body(p, f, rl, n, i);
	if (!rc && kind == CX_UPDATE && f->nhunks == 0 && f->kind == WD_PF_MODIFY)
		rc = wd_error_set(WD_EINPUT, "line %zu: '*** Update File: %s' without any change",
		                  line, path);
out:
	free(path);
	free(to);
	return rc;
}

int wd_patch__parse_codex(struct wd_patch *p, const wd_rline *rl, size_t n, size_t *i)
{
	int kind = codex_kind(line_at(p, rl, *i), rl[*i].len);

	if (kind == CX_BEGIN || kind == CX_END || kind == CX_NONE) {
		(*i)++;
		return 0;
	}
	return parse_section(p, rl, n, i);
}
