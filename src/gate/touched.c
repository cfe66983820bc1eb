/*
 * The lines a patch touched, on the new side, from its unified diff: what
 * makes static analysis diff-aware (a finding only blocks on a line the
 * patch wrote or next to a line it removed).
 */
#include <stdlib.h>
#include <string.h>

#include "gate_int.h"
#include "warden/error.h"
#include "warden/touched.h"

void wd_touched_free(wd_touched *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].file);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

int wd_touched_add(wd_touched *t, const char *file, unsigned start, unsigned end)
{
	wd_line_range *r;

	if (!file || !*file || start == 0 || end < start)
		return 0;
	/* extend the last range when this one continues or overlaps it */
	if (t->n) {
		r = &t->v[t->n - 1];
		if (!strcmp(r->file, file) && start <= r->end + 1 && end + 1 >= r->start) {
			if (start < r->start)
				r->start = start;
			if (end > r->end)
				r->end = end;
			return 0;
		}
	}
	if (WD_ARRAY_RESERVE(t->v, t->cap, t->n + 1, 16) != 0)
		return WD_ENOMEM;
	r = &t->v[t->n];
	if (!(r->file = wd_strdup(file)))
		return WD_ENOMEM;
	r->start = start;
	r->end = end;
	t->n++;
	return 0;
}

int wd_touched_contains(const wd_touched *t, const char *file, unsigned line)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].file, file) != 0)
			continue;
		if (line == 0 || (line >= t->v[i].start && line <= t->v[i].end))
			return 1;
	}
	return 0;
}

/* The path of a "+++ " header: strip "b/" (git) and a trailing tab + date. */
static int header_path(wd_buf *out, wd_slice s, int strip_prefix)
{
	size_t n = 0;

	s = wd_slice_trim(s);
	while (n < s.n && s.p[n] != '\t')
		n++;
	s.n = n;
	s = wd_slice_trim(s);
	if (s.n >= 2 && s.p[0] == '"' && s.p[s.n - 1] == '"')
		s.p++, s.n -= 2;
	if (strip_prefix && s.n > 2 && s.p[1] == '/' && (s.p[0] == 'b' || s.p[0] == 'a'))
		s.p += 2, s.n -= 2;
	while (s.n > 2 && s.p[0] == '.' && s.p[1] == '/')
		s.p += 2, s.n -= 2;
	wd_buf_clear(out);
	if (wd_slice_eq(s, "/dev/null"))
		return wd_buf_grow(out, 0);
	return wd_buf_put(out, s.p, s.n);
}

/* "@@ -a[,b] +c[,d] @@" */
static int hunk_header(wd_slice s, size_t *old_n, size_t *new_start, size_t *new_n)
{
	size_t v;

	if (!wd_slice_starts(s, "@@ -"))
		return 0;
	s.p += 4, s.n -= 4;
	if (!wd_slice_uint(&s, &v))
		return 0;
	*old_n = 1;
	if (s.n && s.p[0] == ',') {
		s.p++, s.n--;
		if (!wd_slice_uint(&s, old_n))
			return 0;
	}
	if (!wd_slice_starts(s, " +"))
		return 0;
	s.p += 2, s.n -= 2;
	if (!wd_slice_uint(&s, new_start))
		return 0;
	*new_n = 1;
	if (s.n && s.p[0] == ',') {
		s.p++, s.n--;
		if (!wd_slice_uint(&s, new_n))
			return 0;
	}
	return wd_slice_starts(s, " @@");
}

static unsigned clamp_line(size_t v)
{
	return v > 0xffffffffu ? 0xffffffffu : (unsigned)v;
}

int wd_touched_from_diff(wd_touched *out, const char *diff, size_t len)
{
	const char *pos = diff, *end = diff + (diff ? len : 0);
	wd_buf file = WD_BUF_INIT;
	wd_slice line;
	size_t old_left = 0, new_left = 0, nl = 0;
	int git = 0, rc = 0;

	while (!rc && wd_gate_next_line(&line, &pos, end)) {
		size_t old_n, start, new_n;

		/* a line that cannot be hunk content ends a hunk whose counts were wrong */
		if ((old_left || new_left) && line.n && !strchr(" +-\\", line.p[0]))
			old_left = new_left = 0;
		if (old_left == 0 && new_left == 0) {
			if (wd_slice_starts(line, "diff --git ") || wd_slice_starts(line, "--- a/"))
				git = 1;
			if (wd_slice_starts(line, "+++ ")) {
				wd_slice p = { line.p + 4, line.n - 4 };

				rc = header_path(&file, p, git);
				git = 0;
			} else if (hunk_header(line, &old_n, &start, &new_n)) {
				old_left = old_n;
				new_left = new_n;
				nl = start;
			}
			continue;
		}
		if (line.n == 0 || line.p[0] == ' ') {
			nl++;
			old_left -= old_left > 0;
			new_left -= new_left > 0;
		} else if (line.p[0] == '+') {
			if (file.len)
				rc = wd_touched_add(out, file.ptr, clamp_line(nl), clamp_line(nl));
			nl++;
			new_left -= new_left > 0;
		} else if (line.p[0] == '-') {
			/* a removal touches the lines either side of the cut */
			if (file.len && nl > 1)
				rc = wd_touched_add(out, file.ptr, clamp_line(nl - 1), clamp_line(nl - 1));
			if (!rc && file.len && nl > 0)
				rc = wd_touched_add(out, file.ptr, clamp_line(nl), clamp_line(nl));
			old_left -= old_left > 0;
		}
	}
	wd_buf_free(&file);
	return rc;
}
