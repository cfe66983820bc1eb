/*
 * Several sections of one reply for the same file. Separate, ordered edits
 * (hunks of one diff split in two, consecutive SEARCH/REPLACE blocks) are
 * merged and applied in order; but a section that repeats or overlaps an
 * earlier one would apply the same change twice (the same diff pasted twice
 * duplicated an if/else block), and a file created by two sections would be
 * their concatenation. Those are refused at parse time, like sections with
 * conflicting operations.
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

static int check_file(const struct wd_patch *p, const wd_pfile *f)
{
	const char *path = f->new_path ? f->new_path : f->old_path;

	if (f->sections < 2)
		return 0;
	if (f->kind != WD_PF_MODIFY)
		return wd_error_set(WD_EINPUT, "'%s' is %s by %d sections of the reply; send one",
		                    path, f->kind == WD_PF_DELETE ? "deleted" : "created", f->sections);
	for (size_t i = 0; i < f->nhunks; i++) {
		for (size_t j = i + 1; j < f->nhunks; j++) {
			const wd_hunk *a = &f->hunks[i], *b = &f->hunks[j];

			if (a->section == b->section)
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

int wd_patch__check_sections(const struct wd_patch *p)
{
	int rc = 0;

	for (size_t i = 0; i < p->nfiles && !rc; i++)
		rc = check_file(p, &p->files[i]);
	return rc;
}
