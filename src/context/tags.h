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
} wd_tagset;

void wd_tagset_free(wd_tagset *ts);

/* Text form for the cache; wd_tagset_load fails with WD_EINPUT on anything
 * that is not exactly what wd_tagset_dump wrote. */
int wd_tagset_dump(wd_buf *out, const wd_tagset *ts);
/* Parse `text` in place and keep it as the tagset's arena (taken over in
 * every case: freed on failure). text[len] must be '\0'. */
int wd_tagset_load(wd_tagset *out, char *text, size_t len);
/* The same over text the caller owns (and keeps for as long as the tagset
 * lives): the tagset never frees it. */
int wd_tagset_load_borrowed(wd_tagset *out, char *text, size_t len);

/* Bump when the extraction changes what it finds: cached tags of older
 * versions are then ignored (they live under <cache>/tags/v<N>/). */
#define WD_TAGS_VERSION 6

enum wd_lang {
	WD_LANG_NONE = 0, WD_LANG_C, WD_LANG_PYTHON, WD_LANG_GO, WD_LANG_JS, WD_LANG_RUST,
	WD_LANG_COUNT
};

int wd_lang_id_for_path(const char *path);

/* One tree-sitter parser per language, for one thread. */
typedef struct wd_parsers wd_parsers;

int wd_parsers_new(wd_parsers **out);
void wd_parsers_free(wd_parsers *p);

/* Parse src[0..len) as `lang` and append its definitions and references. */
int wd_tags_extract(wd_tagset *out, wd_parsers *p, int lang, const char *src, size_t len);

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
