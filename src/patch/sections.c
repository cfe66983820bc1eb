/*
 * Several sections of one reply for the same file. Separate, ordered edits
 * (hunks of one diff split in two, consecutive SEARCH/REPLACE blocks) are
 * merged and applied in order; but a section that repeats or overlaps an
 * earlier one would apply the same change twice (the same diff pasted twice
 * duplicated an if/else block), and a file created by two sections would be
 * their concatenation. Those are refused at parse time, like sections with
 * conflicting operations.
 *
 * One exception: identical edits without line numbers (SEARCH/REPLACE
 * blocks, `@@ @@` hunks) in separate sections are the way those formats
 * change a line that the file repeats: each block takes the first place its
 * old lines still match, as the formats' own tools apply them. They are
 * grouped here (rep_n, rep_i); the engine applies the group only when the
 * old lines match exactly as many places as there are edits left in it, so
 * the same block pasted twice for a text the file has once is still refused.
 */
#include <string.h>

#include "warden/error.h"
#include "patch_int.h"

/* Whether two hunks hold the same lines (ops and text). */
static int same_lines(const struct wd_patch *p, const wd_hunk *a, const wd_hunk *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t k = 0; k < a->n; k++) {
		const wd_pline *x = &p->lines[a->first + k], *y = &p->lines[b->first + k];

		if (x->op != y->op || x->len != y->len ||
		    memcmp(p->src + x->off, p->src + y->off, x->len) != 0)
			return 0;
	}
	return 1;
}

/* The old-file lines a numbered hunk covers: [start, start + count). A
 * zero count (a pure insertion) covers the point after `start`. */
static int ranges_overlap(const wd_hunk *a, const wd_hunk *b)
{
	long a0 = a->old_start, a1 = a->old_start + (a->old_count > 0 ? a->old_count : 1);
	long b0 = b->old_start, b1 = b->old_start + (b->old_count > 0 ? b->old_count : 1);

	return a0 < b1 && b0 < a1;
}

/* Does the hunk have old lines to look for? */
static int has_old_lines(const struct wd_patch *p, const wd_hunk *h)
{
	for (size_t k = 0; k < h->n; k++)
		if (p->lines[h->first + k].op != WD_PL_ADD)
			return 1;
	return 0;
}

/* Group hunk i with the later identical ones of other sections, when none
 * of them has line numbers. */
static void group_twins(const struct wd_patch *p, wd_pfile *f, size_t i)
{
	wd_hunk *a = &f->hunks[i];
	size_t n = 1;

	if (a->rep_n || a->has_numbers || !has_old_lines(p, a))
		return;
	for (size_t j = i + 1; j < f->nhunks; j++) {
		const wd_hunk *b = &f->hunks[j];

		if (b->section != a->section && !b->has_numbers && !b->rep_n && same_lines(p, a, b))
			n++;
	}
	if (n < 2)
		return;
	a->rep_n = n;
	a->rep_i = 0;
	for (size_t j = i + 1, k = 1; j < f->nhunks; j++) {
		wd_hunk *b = &f->hunks[j];

		if (b->section != a->section && !b->has_numbers && !b->rep_n && same_lines(p, a, b)) {
			b->rep_n = n;
			b->rep_i = k++;
		}
	}
}

static int check_file(const struct wd_patch *p, wd_pfile *f)
{
	const char *path = f->new_path ? f->new_path : f->old_path;

	if (f->sections < 2)
		return 0;
	if (f->kind == WD_PF_MODIFY)
		for (size_t i = 0; i < f->nhunks; i++)
			group_twins(p, f, i);
	if (f->kind != WD_PF_MODIFY)
		return wd_error_set(WD_EINPUT, "'%s' is %s by %d sections of the reply; send one",
		                    path, f->kind == WD_PF_DELETE ? "deleted" : "created", f->sections);
	for (size_t i = 0; i < f->nhunks; i++) {
		for (size_t j = i + 1; j < f->nhunks; j++) {
			const wd_hunk *a = &f->hunks[i], *b = &f->hunks[j];

			if (a->section == b->section || (a->rep_n && a->rep_n == b->rep_n &&
			                                 b->rep_i > a->rep_i && same_lines(p, a, b)))
				continue;
			if (a->has_numbers && b->has_numbers && ranges_overlap(a, b))
				return wd_error_set(WD_EINPUT, "'%s': the hunks at reply lines %zu and %zu "
				                    "overlap (old lines %ld and %ld): the same change sent "
				                    "twice? send each change once", path, a->src_line,
				                    b->src_line, a->old_start, b->old_start);
			if ((!a->has_numbers || !b->has_numbers || a->old_start == b->old_start) &&
			    same_lines(p, a, b))
				return wd_error_set(WD_EINPUT, "'%s': the edit at reply line %zu repeats the "
				                    "one at line %zu; send each change once", path,
				                    b->src_line, a->src_line);
		}
	}
	return 0;
}

int wd_patch__check_sections(struct wd_patch *p)
{
	int rc = 0;

	for (size_t i = 0; i < p->nfiles && !rc; i++)
		rc = check_file(p, &p->files[i]);
	return rc;
}
