#ifndef WARDEN_PATCH_INT_H
#define WARDEN_PATCH_INT_H

/*
 * The patch engine's private model. A parsed patch keeps one copy of the
 * reply text; every hunk line is an (offset, length) view into that copy, so
 * parsing allocates per file and per hunk, never per line.
 */

#include <ctype.h>
#include <stddef.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/patch.h"

enum wd_pline_op {
	WD_PL_CTX = ' ',
	WD_PL_DEL = '-',
	WD_PL_ADD = '+'
};

typedef struct wd_pline {
	char op;              /* enum wd_pline_op */
	unsigned char no_eol; /* followed by "\ No newline at end of file" */
	size_t off, len;      /* text view into wd_patch.src, without the op or '\n' */
} wd_pline;

typedef struct wd_hunk {
	long old_start, old_count; /* from the header; meaningful when has_numbers */
	long new_start, new_count;
	int has_numbers;           /* 0 for bare "@@ @@" headers and SEARCH/REPLACE */
	int counts_ok;             /* header counts equal the lines parsed */
	size_t first, n;           /* range in wd_patch.lines */
	size_t src_line;           /* 1-based line of the header in the reply */
	size_t sec_off, sec_len;   /* text after the closing "@@" (git's function line) */
	int sec_anchor;            /* ... is a '*** Begin Patch' anchor instead: a line of
	                            * the file above the hunk (parse_codex.c) */
	size_t outer_off, outer_len; /* an outer anchor above that one (a class), or 0 */
	int section;               /* which section of its file it came in (1, 2, ...) */
	int at_eof;                /* "*** End of File": the hunk ends the file */
	size_t rep_n, rep_i;       /* one of rep_n identical edits without line numbers
	                            * (sections.c), the rep_i-th (0-based); rep_n 0: none */
} wd_hunk;

enum wd_pfile_kind {
	WD_PF_MODIFY = 0,
	WD_PF_ADD,
	WD_PF_DELETE,
	WD_PF_RENAME
};

typedef struct wd_pfile {
	char *old_path;       /* NULL for additions */
	char *new_path;       /* NULL for deletions */
	int kind;             /* enum wd_pfile_kind */
	unsigned old_mode;    /* from git headers; 0 = not given */
	unsigned new_mode;
	int binary;           /* "GIT binary patch" or "Binary files ... differ" */
	int git_header;       /* had a "diff --git" line */
	int sr;               /* made of SEARCH/REPLACE blocks */
	int codex;            /* from "*** Update/Add/Delete File:" sections */
	int whole;            /* a whole-file replacement: one hunk of '+' lines */
	int sections;         /* how many separate sections named this file */
	int copy;             /* "copy from/to": not supported, refused by policy */
	wd_hunk *hunks;
	size_t nhunks, hcap;
} wd_pfile;

struct wd_patch {
	char *src;            /* the reply, '\0'-terminated copy */
	size_t srclen;
	wd_pline *lines;
	size_t nlines, lcap;
	wd_pfile *files;
	size_t nfiles, fcap;
	char hash[41];
};

/* A line of the reply: [off, off+len) without '\n' and a trailing '\r'. */
typedef struct wd_rline {
	size_t off, len;
} wd_rline;

/* Record "out of memory" and return WD_ENOMEM (a constant the static
 * analyzer can see, unlike wd_error_set's pass-through). */
static inline int wd_patch__oom(void)
{
	wd_error_set(WD_ENOMEM, "out of memory");
	return WD_ENOMEM;
}

/* How many blanks (spaces and tabs) indent s[0..len). */
static inline size_t wd_patch__indent_len(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* The width of blanks s[0..len), tabs to stops of 8. */
static inline size_t wd_patch__indent_width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++)
		w = s[i] == '\t' ? (w / 8 + 1) * 8 : w + 1;
	return w;
}

/* The next blank-separated word of s[0..len) at or after *i: 1 with it at
 * [*start, *end) and *i past it, 0 when only blanks are left. */
static inline int wd_patch__next_word(const char *s, size_t len, size_t *i, size_t *start,
                                      size_t *end)
{
	while (*i < len && isspace((unsigned char)s[*i]))
		(*i)++;
	*start = *i;
	while (*i < len && !isspace((unsigned char)s[*i]))
		(*i)++;
	*end = *i;
	return *end > *start;
}

/* parse_diff.c: the unified diff and SEARCH/REPLACE scanner over reply lines. */
int wd_patch__split_lines(wd_rline **out, size_t *n, const char *text, size_t len);
/* build.c: the file entry for these paths (two sections of one file are
 * merged), a new hunk of it, a new line of the patch. */
int wd_patch__file_get(wd_pfile **out, struct wd_patch *p, const char *old_path,
                       const char *new_path, int kind);
int wd_patch__hunk_add(wd_hunk **out, wd_pfile *f);
/* sections.c: refuse sections of one file that repeat or overlap each other,
 * and files created or deleted by more than one section (WD_EINPUT); group
 * identical edits without line numbers (wd_hunk.rep_n). */
int wd_patch__check_sections(struct wd_patch *p);
int wd_patch__line_add(struct wd_patch *p, char op, size_t off, size_t len);
/* The text of line i of the patch. */
static inline const char *wd_patch__ltext(const struct wd_patch *p, size_t i)
{
	return p->src + p->lines[i].off;
}

/* parse_sr.c: SEARCH/REPLACE block at reply line *i (a "<<<<<<< SEARCH"
 * line); advances *i past the block. */
int wd_patch__parse_sr(struct wd_patch *p, const wd_rline *rl, size_t nrl, size_t *i);
int wd_patch__is_sr_start(const char *s, size_t len);
/* build.c: clean a path as a model writes it (quotes, backticks, "a/"
 * prefixes are the caller's business): strips "./" and surrounding markup;
 * NULL when empty. */
char *wd_patch__clean_path(const char *s, size_t len);

/* parse_codex.c: the "*** Begin Patch" format. is_codex_header is true for
 * its "*** Begin Patch", "*** End Patch" and "*** Update/Add/Delete File:"
 * lines; parse_codex reads the section at reply line *i and advances *i. */
int wd_patch__is_codex_header(const char *s, size_t len);
int wd_patch__parse_codex(struct wd_patch *p, const wd_rline *rl, size_t nrl, size_t *i);

/* parse_whole.c: whole-file blocks of a reply that holds no other edit;
 * 0 when some were found, WD_ENOTFOUND when none, WD_EINPUT when one is
 * malformed (it elides code). */
int wd_patch__parse_whole(struct wd_patch *p, const wd_rline *rl, size_t nrl);

/* policy.c */
/* NULL when `path` is a safe relative path; else a static reason. */
const char *wd_patch__path_unsafe(const char *path);
int wd_patch__glob_match(const char *pat, const char *path);
/* The static checks (paths, scope, binary, modes, limits), every violation
 * recorded in the report; returns how many there were, or a negative error. */
int wd_patch__policy_check(wd_patch_report *r, const struct wd_patch *p,
                           const wd_patch_policy *policy);

/* report.c: a JSON string from arbitrary bytes (invalid UTF-8 replaced). */
json_t *wd_patch__jstr(const char *s, size_t len);
/* report.c: one refusal, both as text for the model and as JSON. `hunk` is
 * 1-based, 0 for the whole file. Extra JSON fields come from `extra` (stolen,
 * may be NULL). Returns 0 or WD_ENOMEM. */
int wd_patch__refuse(wd_patch_report *r, const char *file, size_t hunk, const char *kind,
                     json_t *extra, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* fuzzy.c: apply the hunks of `f` to `orig`, writing the result to `out`.
 * Returns 0 applied, WD_EREFUSED with reasons/json filled, or an error. */
typedef struct wd_fuzzy_result {
	int refused;
	int level_max;   /* strongest tolerance used: 0 exact .. 3 trimmed context */
	int already;     /* every refused hunk is already present */
} wd_fuzzy_result;

/* What the reply's quotes did to indentation, pooled over its files: the
 * distinct (model width, file's tabs, file's spaces) of the lines that
 * matched only with whitespace ignored. A file whose own blocks all matched
 * byte for byte takes the damage from the others (a model re-indents a whole
 * reply alike). `off`: some file's quote kept its tabs, or too many kinds. */
#define WD_POOL_MAX 64
typedef struct wd_ind_pool {
	struct { size_t width, tabs, spaces; } v[WD_POOL_MAX];
	size_t n;
	int off;
	int odd; /* some file's damaged quote shows a space kept as one column */
} wd_ind_pool;

/* Search file f's blocks in its text orig[0..orig_len) once: their pairs,
 * `off` and `native` into *mine (zeroed by the caller, freed with
 * wd_patch__ev_free), and the pairs into the pool: 0 or WD_ENOMEM. */
struct wd_ind_evidence;
int wd_patch__pool_add(wd_ind_pool *pool, struct wd_ind_evidence *mine, const struct wd_patch *p,
                       const wd_pfile *f, const char *orig, size_t orig_len);

/* `pool`: the reply's evidence (wd_patch__pool_add over every file), or NULL;
 * `mine`: f's own from that pass, or NULL (its blocks are searched here). */
int wd_patch__fuzzy_apply(wd_buf *out, wd_fuzzy_result *res, wd_patch_report *r,
                          const struct wd_patch *p, const wd_pfile *f, const char *display_path,
                          const char *orig, size_t orig_len, json_t *jhunks,
                          const wd_ind_pool *pool, const struct wd_ind_evidence *mine);

/* indent_habit.c: where the file's lines stand against the non-blank line
 * above them, counted by what ends that line (see the file's comment). */
enum { HB_K_OPEN, HB_K_COMMENT, HB_K_QUOTE, HB_K_BLOCK, HB_K_COMMA, HB_K_ASSIGN, HB_K_BACKSLASH,
       HB_K_OP, HB_K_HEADER, HB_K_END, HB_K_PLAIN, HB_KINDS };
enum { HB_R_SAME, HB_R_ALIGN, HB_R_ONE, HB_R_STEP2, HB_R_STEP4, HB_R_STEP8, HB_R_STEP16,
       HB_R_TOKEN, HB_R_BACK8, HB_R_BACK4, HB_R_BACK, HB_R_OTHER, HB_RELS };
typedef struct wd_ind_habit {
	unsigned n[HB_KINDS][HB_RELS];
	unsigned deep_tab;     /* lines 8 columns deep or more that start with a tab */
	unsigned deep_spaces;  /* ... with 8 spaces */
	/* lines at or past the column of the line above, where that line's
	 * blanks then spaces are not tabs as far as they go: written tabs as
	 * far as they go, or as the line above's blanks then spaces */
	unsigned tabs_first, copied;
} wd_ind_habit;

/* Is s[0..len) a control line whose `)` closes its condition (`if (x)`,
 * `} else if (x)`, `for (...)`), so that the next line is its body? */
int wd_patch__habit_header(const char *s, size_t len);
/* Does the unindented line above[0..alen) open a block with a `{`, or a
 * quote with its last character (`test_expect_success 'x' '`), whose body
 * the file puts one tab deep far more often than two, in a file that writes
 * its deep lines with tabs? */
int wd_patch__habit_body_tab(const wd_ind_habit *h, const char *above, size_t alen);
/* Does the file write a line at or past the column of the line above tabs
 * as far as they go (not as that line's blanks then spaces), far more often
 * than otherwise? */
int wd_patch__habit_tabs_first(const wd_ind_habit *h);
/* Count line[0..len) against the non-blank line above it. */
void wd_patch__habit_learn(wd_ind_habit *h, const char *above, size_t alen, const char *line,
                           size_t len);

/* indent_evidence.c: what a model's quote did to the file's indentation,
 * learnt from the quoted lines that matched (see the file's comment). The
 * strings are views into the file's text, which must outlive the evidence. */
/* indent_witness.c: the file's lines by their text (blanks and trailing
 * blanks aside), each with the distinct blanks it is indented with. */
#define WD_ECHO_BLANKS 4
typedef struct wd_echo_entry {
	const char *text;      /* a view into the file */
	size_t tlen;
	unsigned long long hash;
	struct { const char *s; size_t len; } blanks[WD_ECHO_BLANKS];
	size_t nblanks;
	int full;              /* more distinct blanks than kept */
} wd_echo_entry;
typedef struct wd_ind_echo {
	wd_echo_entry *v;
	size_t cap;            /* a power of two */
} wd_ind_echo;

typedef struct wd_ind_evidence {
	struct { size_t width, tabs, spaces; } *pairs; /* model width, file's blanks */
	size_t npairs, pcap;
	struct { const char *s; size_t len, tabs, spaces, n, col; int start, tabs_first; } *vocab;
	                       /* the file's indents, n lines each, at column col;
	                        * start: one begins a line not continuing another;
	                        * tabs_first: wd_patch__tabs_first */
	size_t nvocab, vcap;
	int tabs;              /* the file indents some lines with tabs */
	int off;               /* not usable: a quote indented with tabs, too many indents */
	int native;            /* a block's quote lost the file's tabs while its new lines
	                        * are indented with tabs: the model wrote its new lines for
	                        * the file, as they are */
	int odd;               /* a line of a damaged quote (old or new) is indented with an
	                        * odd number of spaces: a space did not become 2 columns */
	unsigned narrow;       /* the damages the reply's other files leave (a bit per
	                        * damage tried; 0: no narrowing) */
	wd_ind_habit habit;    /* the file's habits (indent_habit.c) */
	wd_ind_echo echo;      /* the file's lines by text (indent_witness.c; freed by
	                        * wd_patch__echo_free, not by wd_patch__ev_free) */
} wd_ind_evidence;

/* Add the indentation of a line of the file to the strings it uses; `start`:
 * the line does not continue the one above it. */
int wd_patch__ev_vocab_add(wd_ind_evidence *ev, const char *line, size_t len, int start);
/* Add a matched line by its counts: the model's width, the file's tabs and
 * spaces. */
int wd_patch__ev_count_add(wd_ind_evidence *ev, size_t width, size_t tabs, size_t spaces);
/* Add a matched line: the model indented it with ps, the file with fs. */
int wd_patch__ev_pair_add(wd_ind_evidence *ev, const char *ps, size_t pslen, const char *fs,
                          size_t fslen);
/* 1 with the file's indentation for a new line the model indented with ps
 * appended to `out`, when the evidence names exactly one; 0 when it does not
 * (nothing appended); WD_ENOMEM. `cont`: the line continues the one above (or
 * the caller wants no more than what the damage alone implies): the file's
 * strings are not consulted. */
int wd_patch__ev_lookup(const wd_ind_evidence *ev, const char *ps, size_t pslen, int cont,
                        wd_buf *out);
/* 1 when every damage the evidence allows takes the file's blanks fs to
 * width pw, and none takes there a whole number of tabs up to max_tabs. */
int wd_patch__ev_fits_alone(const wd_ind_evidence *ev, const char *fs, size_t fslen, size_t pw,
                            size_t max_tabs);
/* 1 when some damage the evidence allows takes the file's blanks fs to width
 * pw (or the evidence fits no damage, and so says nothing); 0 when none does:
 * blanks the quote cannot have been written from. */
int wd_patch__ev_fits_some(const wd_ind_evidence *ev, const char *fs, size_t fslen, size_t pw);
/* 1 when some line of the file starts with exactly the blanks s[0..len). */
int wd_patch__ev_has(const wd_ind_evidence *ev, const char *s, size_t len);
/* How many lines of the file start with exactly the blanks s[0..len); with
 * exactly `tabs` tabs. */
size_t wd_patch__ev_lines(const wd_ind_evidence *ev, const char *s, size_t len);
size_t wd_patch__ev_tab_lines(const wd_ind_evidence *ev, size_t tabs);
/* 1 when some line of the file starts 8 columns deep or more with spaces only. */
int wd_patch__ev_spaces_deep(const wd_ind_evidence *ev);
/* 1 when some damage the evidence allows takes a whole number of tabs, up to
 * max_tabs, to width pw. */
int wd_patch__ev_tabs_reach(const wd_ind_evidence *ev, size_t pw, size_t max_tabs);
/* 1 when, under some damage the evidence allows, a string other than fs
 * that starts a line of the file would be read as ps too, and the quote
 * never showed a tab (`blind`: the caller's block showed none, whatever
 * the evidence's other blocks did). */
int wd_patch__ev_rivals(const wd_ind_evidence *ev, const char *ps, size_t pslen, const char *fs,
                        size_t fslen, int blind);
/* Append column `col` as blanks, tabs as far as they go then spaces: 0 or
 * WD_ENOMEM. */
int wd_patch__put_tabs_first(wd_buf *b, size_t col);
/* Are the blanks s[0..len) tabs as far as they go, then under 8 spaces? */
int wd_patch__tabs_first(const char *s, size_t len);
/* The columns a tab became when every damage the matched pairs fit agrees
 * on them (the quote showed a tab: without one, damages of several tab
 * widths fit); 0 when they do not, or the evidence is not usable. */
size_t wd_patch__ev_tab_width(const wd_ind_evidence *ev);
/* 1 when the one damage every matched pair fits keeps columns (a tab to the
 * next stop of 8, a space one column): a new line's width is its column. */
int wd_patch__ev_keeps_columns(const wd_ind_evidence *ev);
/* 1 with the file's way of writing column `col` as a line's blanks appended
 * to `out` (see indent_evidence.c); 0 when the file does not say; WD_ENOMEM.
 * `fresh`: the column may be one that no line of the file starts at. */
int wd_patch__ev_column(const wd_ind_evidence *ev, size_t col, int fresh, wd_buf *out);
/* The damages (columns of a tab, of a space) every matched pair fits, into
 * out[0..max); how many (0 also when the evidence is not usable). */
size_t wd_patch__ev_damages(const wd_ind_evidence *ev, size_t out[][2], size_t max);
/* Narrow the damages ev's own pairs allow to those the whole reply's pairs
 * (and odd widths) allow too, when some are left: a model re-indents a reply
 * alike, and another file's quote may show what this one's did not (what a
 * space became). */
void wd_patch__ev_pool_narrow(wd_ind_evidence *ev, const wd_ind_pool *pool);
void wd_patch__ev_free(wd_ind_evidence *ev);

/* indent_habit.c: 1 with the file's indentation for a new line the model
 * indented with ps (spaces) appended to `out`, when under every damage the
 * evidence allows the file's habits after the line `above` (the new text's
 * bytes) single out one string; 0 when they do not; WD_ENOMEM. */
/* Whether the new line's blanks fs (the answer for the model's spaces ps)
 * stand against the line `above` where the file does not put lines after
 * one like it: 0 no (and when ps was not damaged); 1 yes, the habits may
 * pick another; WD_HB_UNDECIDABLE: yes, and the file's habits cannot be
 * trusted to tell the rival from it either. */
#define WD_HB_UNDECIDABLE 2
int wd_patch__habit_veto(const wd_ind_evidence *ev, const char *above, size_t alen,
                         const char *ps, size_t pslen, const char *fs, size_t fslen);
/* indent_witness.c: lines whose bytes are known and that the model indented
 * as it did a new line (see the file's comment). */
typedef struct wd_ind_removed {
	const char *ps, *text, *fs; /* the model's blanks and text; the file's blanks */
	size_t pslen, tlen, fslen;
} wd_ind_removed;
typedef struct wd_ind_witness {
	const char *above_ps, *above_fs; /* the line above in the new text: the model's
	                                  * blanks, its bytes' blanks (NULL: none) */
	size_t above_pslen, above_fslen;
	const wd_ind_removed *del;       /* the lines the hunk removes */
	size_t ndel;
} wd_ind_witness;
int wd_patch__echo_init(wd_ind_echo *e, size_t lines);
/* Index a line of the file (a view: the file's text must outlive the table). */
int wd_patch__echo_add(wd_ind_echo *e, const char *line, size_t len);
void wd_patch__echo_free(wd_ind_echo *e);
/* 1 with the blanks every witness that speaks names for the new line
 * `text` that the model indented with ps appended to `out`; 0 when none
 * speaks or two disagree (nothing appended); WD_ENOMEM. */
int wd_patch__witness(const wd_ind_evidence *ev, const wd_ind_witness *w, const char *ps,
                      size_t pslen, const char *text, size_t tlen, wd_buf *out);

int wd_patch__habit_pick(const wd_ind_evidence *ev, const char *above, size_t alen,
                         const char *ps, size_t pslen, wd_buf *out);

#endif
