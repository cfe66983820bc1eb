#ifndef WARDEN_TOUCHED_H
#define WARDEN_TOUCHED_H

/*
 * The lines a patch touched: read from a unified diff, so the verdict can
 * hold an analyzer's new findings against the patch only where it wrote.
 *
 * Owns the ranges and the diff reader. Never reads files or git objects.
 */
#include <stddef.h>

typedef struct wd_line_range {
	char *file;            /* path in the patched tree */
	unsigned start, end;   /* inclusive, 1-based */
} wd_line_range;

typedef struct wd_touched {
	wd_line_range *v;
	size_t n, cap;
} wd_touched;

#define WD_TOUCHED_INIT { NULL, 0, 0 }

/* The lines of the new side a unified diff adds or changes: every '+' line,
 * and for pure deletions the lines either side of the cut. Accepts git
 * ("diff --git", "a/" "b/" prefixes) and plain diffs. Deleted files add nothing. */
int wd_touched_from_diff(wd_touched *out, const char *diff, size_t len);
int wd_touched_add(wd_touched *t, const char *file, unsigned start, unsigned end);
int wd_touched_contains(const wd_touched *t, const char *file, unsigned line);
void wd_touched_free(wd_touched *t);

#endif
