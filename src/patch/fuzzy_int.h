/*
 * Internal to the tolerant matcher (fuzzy.c) and its re-indentation
 * (reindent.c): the file's text as lines, the two sides of a hunk, and the
 * map from the model's indentation to the file's.
 */
#ifndef WD_PATCH_FUZZY_INT_H
#define WD_PATCH_FUZZY_INT_H

#include <stddef.h>

#include "patch_int.h"

typedef struct img_line {
	const char *p;
	size_t len;
	unsigned long long wsh; /* hash of the text up to whitespace (fuzzy.c: ws_hash) */
	unsigned char no_eol;
} img_line;

typedef struct image {
	img_line *v;
	size_t n, cap;
} image;

/* The old side of a hunk ("pre": context and '-' lines) or the new side. */
typedef struct side {
	size_t *idx; /* patch line indexes */
	size_t n;
} side;

static inline int wd_patch__is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}


static inline int wd_patch__only_blanks(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!wd_patch__is_blank(s[i]))
			return 0;
	return 1;
}

/*
 * Re-indentation for a whitespace-tolerant match: the model's lines may sit
 * at another depth or use another indentation unit than the file (a block
 * written with 4 spaces for a 2-space file). The matched old lines pair the
 * model's indentation widths with the file's; a new line's width is mapped
 * through them: a width seen in a pair takes that file line's indentation
 * bytes, any other is placed on the line through the smallest and largest
 * pairs (one distinct width: a plain shift), so relative indentation is kept.
 */
typedef struct ind_pair {
	size_t pw, fw;         /* indentation widths (tab stops of 8) */
	const char *fs;        /* the file line's indentation */
	size_t fslen;
	const char *ps;        /* the model line's indentation */
	size_t pslen;
	int aligned;           /* the file line continues the one above it, aligned with
	                        * spaces after its tabs */
} ind_pair;

typedef struct ind_map {
	ind_pair *v;
	size_t n;
	int tabs;              /* the file indents with tabs */
	int identity;          /* every pair has the same bytes on both sides */
	int model_tabs;        /* the model's old lines indent with tabs / spaces */
	int model_spaces;
	int linear;            /* every pair lies on the line through the extreme ones */
	int one_width;         /* the pairs show one width, indented differently on each side */
	int crossed;           /* a deeper model line is no deeper in the file, or one model
	                        * width is two file widths: widths do not map */
	int file_mixed;        /* the file's lines indent with tabs here, spaces only there */
	int scale;             /* ... and the steps say it is a change of unit, not a shift */
	const wd_ind_evidence *ev; /* the file's and this block's evidence, or NULL */
	int exact;             /* the block matched byte for byte: the evidence's tabs are
	                        * other blocks', this one showed none */
	const img_line *above_file; /* the file's line for the last non-blank line above
	                             * the new one, or NULL */
	wd_ind_witness wit;    /* what else has bytes the model indented alike */
} ind_map;

/* Why a new line may be alignment rather than depth: it continues the line
 * above (wd_patch__open_line), or sits more than one of the model's steps
 * deeper. */
enum { JUMP_OPEN = 1, JUMP_DEEP = 2 };

/* The pairs of the hunk's old lines (pre, lines lo..hi of the match at `pos`
 * in `im`) with the file's lines: m->v, and what they say. 0 or WD_ENOMEM. */
int wd_patch__ind_map_build(ind_map *m, const struct wd_patch *p, const side *pre,
                            const side *post, size_t lo, size_t hi, const image *im, size_t pos);
/* Is new line s indented the way the model indented its old lines? */
int wd_patch__ind_native(const ind_map *m, const char *s, size_t len);
/* For each line of the new side, the old-side line with the same text
 * (SIZE_MAX: none), into *out (the caller frees). 0 or WD_ENOMEM. */
int wd_patch__same_lines(size_t **out, const struct wd_patch *p, const side *pre,
                         const side *post);
/* The model's step of depth among the pairs (0: none); `depth_only`: among
 * those the file does not align with spaces after its tabs. */
size_t wd_patch__model_unit(const ind_map *m, int depth_only);
/* Does line s leave its statement open, so the next line may be aligned
 * under it rather than nested? */
int wd_patch__open_line(const char *s, size_t len);
/* New line s[0..len) with the file's indentation for the model's, appended
 * to b. `jump`: JUMP_* (how it stands against the line above). 0;
 * WD_EREFUSED when no rule gives one answer; WD_ENOMEM. */
int wd_patch__reindent_line(wd_buf *b, const ind_map *m, const char *s, size_t len, int jump);

#endif
