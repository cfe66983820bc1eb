#ifndef WARDEN_CONTEXT_TAGS_H
#define WARDEN_CONTEXT_TAGS_H

/*
 * Private to src/context/: the tags of one file (what tree-sitter found in
 * it), a string table for interning names, and the per-language extraction.
 */

#include <stddef.h>
#include <stdint.h>

#include "warden/buf.h"
#include "warden/map.h"

/* An interning string table: each distinct string gets a dense id. */
typedef struct wd_strtab {
	char **strs;      /* id -> string (owned) */
	size_t n, cap;
	uint32_t *slots;  /* open addressing: id + 1, 0 = empty */
	uint32_t *hashes; /* the hash of each occupied slot's string */
	size_t nslots;
	int borrow;       /* strings are the caller's (NUL-terminated at len, outliving the table) */
} wd_strtab;

#define WD_STRTAB_INIT { NULL, 0, 0, NULL, NULL, 0, 0 }

/* *id = the id of s[0..len), adding it when new. */
int wd_strtab_intern(wd_strtab *t, const char *s, size_t len, uint32_t *id);
/* The id of `s`, or -1 when absent. */
int64_t wd_strtab_find(const wd_strtab *t, const char *s, size_t len);
void wd_strtab_free(wd_strtab *t);
/* The hash a table keeps of s[0..len). */
uint32_t wd_strtab_hash(const char *s, size_t len);
/* Room for n strings without growing. */
int wd_strtab_reserve(wd_strtab *t, size_t n);
/* Add `s` (NUL-terminated; a borrowing table's only) under h, its
 * wd_strtab_hash, as a new id, without looking for it first: for a table
 * rebuilt from distinct strings whose hashes are known (a saved index). A
 * wrong hash or a duplicate only makes a lookup miss or find the first. */
int wd_strtab_add_hashed(wd_strtab *t, const char *s, uint32_t h);

typedef struct wd_tag {
	char *name;
	char *sig;
	uint32_t start, end;  /* 1-based lines, inclusive */
	uint8_t kind;         /* wd_tag_kind */
} wd_tag;

typedef struct wd_tagref {
	char *name;
	uint32_t count;
} wd_tagref;

/* Everything the map keeps about one file. */
typedef struct wd_tagset {
	wd_tag *defs;
	size_t ndefs, capdefs;
	wd_tagref *refs;
	size_t nrefs, caprefs;
	char *arena;      /* when set, every name and sig points into it (loaded from the cache) */
	int borrowed;     /* the arena is someone else's (a slice of the map's tag pack) */
	char *regions;    /* the file's regions in their text form (regions.c), or NULL: */
	size_t regions_len; /* in the arena when there is one, else owned */
} wd_tagset;

void wd_tagset_free(wd_tagset *ts);

/* The cache form (binary, see tags.c); wd_tagset_load fails with WD_EINPUT
 * on anything that is not exactly what wd_tagset_dump wrote. */
int wd_tagset_dump(wd_buf *out, const wd_tagset *ts);
/* Read `text` in place, without writing to it, and keep it as the tagset's
 * arena (taken over in every case: freed on failure). */
int wd_tagset_load(wd_tagset *out, char *text, size_t len);
/* The same over text the caller owns (and keeps, unchanged, for as long as
 * the tagset lives; it may be read-only memory): the tagset never frees it,
 * and its names and signatures must not be written. */
int wd_tagset_load_borrowed(wd_tagset *out, const char *text, size_t len);

/* Bump when the extraction changes what it finds, or the cache form: cached
 * tags of older versions are then ignored (they live under <cache>/tags/v<N>/). */
#define WD_TAGS_VERSION 9

/*
 * Regions: a parsed file cut before each top-level node of its syntax tree
 * (the first region starts at byte 0), each with its definitions (the next
 * ndefs of the file's, in order) and references (name, count within the
 * region). They let a changed file be re-parsed only where it changed
 * (wd_tags_reparse). Kept for files of WD_REGIONS_MIN bytes or more, in
 * every language but JavaScript (whose automatic semicolons let a line
 * continue the statement above it).
 */
#define WD_REGIONS_MIN (64u * 1024u)

typedef struct wd_region {
	uint32_t start;   /* first byte */
	uint32_t ndefs;
	uint32_t use0;    /* its references: uses[use0 .. use0 + nuses) */
	uint32_t nuses;
	uint32_t error;   /* its node has an ERROR or MISSING node */
} wd_region;

typedef struct wd_region_use {
	uint32_t ref;     /* index into the file's references (or a caller's table) */
	uint32_t count;
} wd_region_use;

typedef struct wd_regions {
	wd_region *v;
	size_t n, cap;
	wd_region_use *uses;
	size_t nuses, capuses;
} wd_regions;

/* region_text.c: the regions' data, below tags.c and regions.c. */
void wd_regions_free(wd_regions *rg);
/* The text form of rg for src[0..len) (each region's length, newlines and
 * hash, which find the regions a later text left unchanged), malloc'd. */
int wd_regions_text(char **out, size_t *outlen, const wd_regions *rg, const char *src, size_t len);
/* FNV-1a, 64 bits: a region's bytes, to find it unchanged in a new text. */
uint64_t wd_region_hash(const char *s, size_t n);
/* How many newlines s[0..n) holds. */
uint32_t wd_region_newlines(const char *s, size_t n);

enum wd_lang {
	WD_LANG_NONE = 0, WD_LANG_C, WD_LANG_PYTHON, WD_LANG_GO, WD_LANG_JS, WD_LANG_RUST,
	WD_LANG_COUNT
};

int wd_lang_id_for_path(const char *path);

/* One tree-sitter parser per language, for one thread. */
typedef struct wd_parsers wd_parsers;

int wd_parsers_new(wd_parsers **out);
void wd_parsers_free(wd_parsers *p);

/* Parse src[0..len) as `lang` and append its definitions and references
 * (and its regions, for a file that keeps them). */
int wd_tags_extract(wd_tagset *out, wd_parsers *p, int lang, const char *src, size_t len);
/* Parse only src[a..b) (a at the start of line `row`, 0-based), as if it
 * were the whole file but at its place: definitions, references and the
 * regions of its top-level nodes (the first starts at a when a is 0, else
 * at its first node; their uses index out->refs). WD_ENOTFOUND when the
 * parse has an ERROR or MISSING node. */
int wd_tags_extract_span(wd_tagset *out, wd_regions *rg, wd_parsers *p, int lang,
                         const char *src, size_t len, uint32_t a, uint32_t b, uint32_t row);

/* The distinct names of `refs` become out's references, with their counts
 * (the strings move; refs keeps NULLs). */
int wd_tags__take_refs(wd_tagset *out, wd_strtab *refs, const uint32_t *counts);

/* The tags of `src`, a new text of the file whose tags (with regions) are
 * `old`: the regions of `old` found unchanged at the start and the end of
 * src keep their tags (the end's moved to their new lines), and only what
 * lies between is parsed, with regions. WD_ENOTFOUND when that cannot be
 * done exactly as a whole parse would (no regions, an ERROR node in what was
 * parsed, a change not on whole lines, most of the file changed): the caller
 * parses the whole file. `out` gets owned strings. */
int wd_tags_reparse(wd_tagset *out, wd_parsers *p, int lang, const wd_tagset *old,
                    const char *src, size_t len);

/* A syntax problem: an ERROR or MISSING node. */
typedef struct wd_syntax_issue {
	uint32_t line, col;  /* 1-based */
	int missing;         /* 1 = MISSING node (what was expected is in `what`) */
	char what[48];       /* node type expected, or the first bytes of the erroneous text */
} wd_syntax_issue;

/* Every ERROR/MISSING node of src, at most `max`; *n is how many were found
 * (possibly more than max, only max are stored). */
int wd_syntax_issues(wd_syntax_issue *out, size_t max, size_t *n, wd_parsers *p, int lang,
                     const char *src, size_t len);

#endif
