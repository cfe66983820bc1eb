/*
 * Building a parsed patch: the files, hunks and lines every format's parser
 * (parse_diff.c, parse_sr.c, parse_codex.c, parse_whole.c) appends to, and
 * the clean-up of a path as a model writes it. The parsers call down into
 * this file and never into each other's builders.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "patch_int.h"

int wd_patch__line_add(struct wd_patch *p, char op, size_t off, size_t len)
{
	if (WD_ARRAY_RESERVE(p->lines, p->lcap, p->nlines + 1, 256) != 0)
		return WD_ENOMEM;
	p->lines[p->nlines].op = op;
	p->lines[p->nlines].no_eol = 0;
	p->lines[p->nlines].off = off;
	p->lines[p->nlines].len = len;
	p->nlines++;
	return 0;
}

int wd_patch__hunk_add(wd_hunk **out, wd_pfile *f)
{
	if (WD_ARRAY_RESERVE(f->hunks, f->hcap, f->nhunks + 1, 4) != 0)
		return WD_ENOMEM;
	*out = &f->hunks[f->nhunks++];
	memset(*out, 0, sizeof(**out));
	(*out)->section = f->sections;
	return 0;
}

static const char *file_key(const wd_pfile *f)
{
	return f->new_path ? f->new_path : f->old_path;
}

/* Find the file entry for these paths or append one. Two sections naming
 * the same file are merged: their hunks apply in order. */
int wd_patch__file_get(wd_pfile **out, struct wd_patch *p, const char *old_path,
                       const char *new_path, int kind)
{
	const char *key = new_path ? new_path : old_path;
	wd_pfile *f;

	for (size_t i = 0; i < p->nfiles; i++) {
		f = &p->files[i];
		if (strcmp(file_key(f), key) != 0)
			continue;
		if (f->kind != kind && kind != WD_PF_MODIFY)
			return wd_error_set(WD_EINPUT, "'%s' appears twice with conflicting operations", key);
		f->sections++;
		*out = f;
		return 0;
	}
	if (WD_ARRAY_RESERVE(p->files, p->fcap, p->nfiles + 1, 4) != 0)
		return WD_ENOMEM;
	f = &p->files[p->nfiles];
	memset(f, 0, sizeof(*f));
	if (old_path && !(f->old_path = wd_strdup(old_path)))
		return WD_ENOMEM;
	if (new_path && !(f->new_path = wd_strdup(new_path))) {
		free(f->old_path);
		return WD_ENOMEM;
	}
	f->kind = kind;
	f->sections = 1;
	p->nfiles++;
	*out = f;
	return 0;
}

char *wd_patch__clean_path(const char *s, size_t len)
{
	static const char *const labels[] = { "file:", "File:", "FILE:", "path:", "Path:", "filename:",
	                                      "Filename:" };
	char *r;

	/* Markdown decoration: headings, bold, code spans, a trailing colon */
	for (;;) {
		size_t before = len;

		while (len && (isspace((unsigned char)*s) || *s == '#' || *s == '*' || *s == '`' ||
		               *s == '>' || *s == '"' || *s == '\'')) {
			s++;
			len--;
		}
		while (len && (isspace((unsigned char)s[len - 1]) || s[len - 1] == '*' ||
		               s[len - 1] == '`' || s[len - 1] == ':' || s[len - 1] == '"' ||
		               s[len - 1] == '\'')) {
			len--;
		}
		for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++) {
			size_t ll = strlen(labels[k]);

			if (len > ll && !memcmp(s, labels[k], ll)) {
				s += ll;
				len -= ll;
			}
		}
		if (len == before)
			break;
	}
	while (len >= 2 && s[0] == '.' && s[1] == '/') {
		s += 2;
		len -= 2;
	}
	if (!len || memchr(s, ' ', len) || memchr(s, '\t', len))
		return NULL;
	r = wd_strndup(s, len);
	return r;
}
