#ifndef WARDEN_MAP_H
#define WARDEN_MAP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "warden/buf.h"

/*
 * The repository map: every definition of the work tree (functions, types,
 * macros, classes, methods... in C, Python, Go, JavaScript and Rust) with its signature line and line range, the
 * identifiers each file references, and a ranking of the definitions by
 * PageRank over the file graph (file A -> file B when A references a name B
 * defines), personalised toward a focus (paths and identifiers).
 *
 * Files are parsed with tree-sitter, in parallel on all cores. The tags of a
 * file are cached under the cache dir keyed by the file's git blob id, so a
 * map after one file changed re-parses one file. Files in a language without
 * a grammar are still part of the map, by path only.
 */

typedef struct wd_map wd_map;

typedef enum wd_tag_kind {
	WD_TAG_FUNCTION = 0,
	WD_TAG_PROTOTYPE,  /* a function declared, not defined (C headers) */
	WD_TAG_STRUCT,
	WD_TAG_UNION,
	WD_TAG_ENUM,
	WD_TAG_TYPEDEF,
	WD_TAG_MACRO,
	WD_TAG_CLASS,
	WD_TAG_METHOD,
	WD_TAG_VARIABLE,   /* file-scope variable or module-level assignment */
	WD_TAG_CONSTANT,   /* enumerator, const */
	WD_TAG_INTERFACE,  /* Go interface, Rust trait */
	WD_TAG_MODULE,     /* Rust mod */
	WD_TAG_KIND_COUNT
} wd_tag_kind;

/* "function", "struct", ... */
const char *wd_tag_kind_name(wd_tag_kind k);

/* The language of a path by its extension: "c" (.c .h), "python" (.py .pyi),
 * "go", "javascript" (.js .mjs .cjs .jsx), "rust" (.rs), or NULL when warden
 * has no grammar for it. */
const char *wd_lang_for_path(const char *path);

typedef struct wd_map_opts {
	unsigned version;
	const char *cache_dir;       /* tag cache root (tags go in <cache_dir>/tags); NULL = no cache */
	const char *const *files;    /* NULL-terminated relative paths; NULL = walk the tree */
	unsigned threads;            /* parser threads; 0 = one per online core */
	size_t max_file_bytes;       /* larger files are listed, not parsed; 0 = 1 MiB */
	const char *const *exclude;  /* NULL-terminated globs of vendored/generated files (config
	                              * map.exclude), on top of deps/, vendor/, third_party/,
	                              * external/, node_modules/ and .gitattributes'
	                              * linguist-vendored / linguist-generated; may be NULL */
	size_t thread_heap;          /* bytes each parse thread (not the caller's) populates in
	                              * its own malloc heap before it loads tags, so that a warm
	                              * build's allocations there take no page faults; for a
	                              * caller that keeps freed memory on its heaps (mallopt
	                              * M_TRIM_THRESHOLD); 0 = none */
	/* Called once, before the build's first call into libgit2 and its first
	 * read of the exclude globs; NULL = none. A caller may start libgit2 (its
	 * start-up is several ms: its TLS back end parses the system's CA
	 * certificates) and read its configuration on another thread while the
	 * build does what needs neither: opening the tag pack, and listing a tree
	 * that has no .git. Non-zero (an error set) ends the build with it;
	 * *exclude, when set non-NULL, replaces `exclude`. */
	int (*await)(void *arg, const char *const **exclude);
	void *await_arg;
} wd_map_opts;

#define WD_MAP_OPTS_VERSION 2
#define WD_MAP_OPTS_INIT { WD_MAP_OPTS_VERSION, NULL, NULL, 0, 0, NULL, 0, NULL, NULL }

/* Build the map of the work tree at `workdir`. Unreadable or unparsable
 * files are kept by path (their parse errors do not fail the build). */
int wd_map_build(wd_map **out, const char *workdir, const wd_map_opts *opts);
void wd_map_free(wd_map *m);

/* The size in bytes of the tag pack a build of `workdir` with `cache_dir`
 * would read (0 when there is none yet): what a warm build will hold in
 * memory scales with it. */
size_t wd_map_pack_bytes(const char *workdir, const char *cache_dir);

typedef struct wd_map_stats {
	size_t files;        /* files in the map */
	size_t parsed;       /* files parsed by tree-sitter in this build */
	size_t cached;       /* files whose tags came from the cache */
	size_t definitions;
	size_t references;   /* distinct (file, identifier) pairs, for identifiers some file defines */
	uint64_t build_ms;   /* wall time of wd_map_build, of which: */
	uint64_t list_ms;    /*   listing the files */
	uint64_t tags_ms;    /*   parsing or loading every file's tags (in parallel) */
	uint64_t index_ms;   /*   indexing the names */
	uint64_t rank_ms;    /* wall time of the last wd_map_rank */
	size_t vendored;     /* files vendored or generated (kept, but not ranked) */
	size_t partial;      /* of the parsed, those parsed only where they changed */
	int index_cache;     /* wd_map_index_source: where the name index came from */
	int files_cached;    /* a git work tree's files came from the cache, not its index */
} wd_map_stats;

typedef enum wd_map_index_source {
	WD_MAP_INDEX_BUILT = 0,   /* built from every file's tags */
	WD_MAP_INDEX_READ,        /* the cache's, as it was (no file changed) */
	WD_MAP_INDEX_UPDATED,     /* the cache's, updated for the few files that changed */
	WD_MAP_INDEX_PATCHED      /* the cache's, patched: files changed, not their names */
} wd_map_index_source;

void wd_map_get_stats(wd_map_stats *out, const wd_map *m);

/*
 * Rank the definitions. `focus` is a NULL-terminated list (may be NULL or
 * empty) whose entries are file paths (exact, or a directory prefix) or
 * identifiers: the ranking is personalised toward the files named and the
 * files defining the identifiers named, references to focus identifiers
 * weigh more, and the definitions of focused files and of focused
 * identifiers come before all others. Without a focus every file starts
 * equal. Vendored and generated files take no part unless the focus names
 * them (their path, a directory of it, or an identifier only they define).
 * May be called again with another focus.
 */
int wd_map_rank(wd_map *m, const char *const *focus);

/* The focus entries of the last wd_map_rank that named no file, directory or
 * definition of the map (NULL-terminated, valid until the next rank). */
const char *const *wd_map_unmatched_focus(const wd_map *m, size_t *n);

/* The file path, directory or definition name nearest to a focus that
 * matched nothing, for "did you mean": a definition name for an identifier,
 * a path (or, for a bare file name, a file of that base name) for a path,
 * set in `out`; `out` is left empty when nothing is near enough to be a
 * plausible typo (edit distance at most 2 + length/4, the length of the
 * last part of a path). */
int wd_map_focus_near(wd_buf *out, const wd_map *m, const char *focus);

/* 1 when `path` is a vendored or generated file of the map. */
int wd_map_is_vendored(const wd_map *m, const char *path);

enum wd_map_render_flags {
	WD_MAP_RENDER_LINES = 1u << 0  /* prefix each definition with its line range */
};

/*
 * Append the ranked map to `out` as text, most relevant first, grouped by
 * file, within `budget_tokens` (tokens are estimated as bytes/4; the header
 * line says so). 0 = no limit. wd_map_rank must have been called.
 */
int wd_map_render(wd_buf *out, const wd_map *m, size_t budget_tokens, unsigned flags);

/*
 * The same selection as JSON: {"budget_tokens", "tokens_estimate", "token_estimate": "bytes/4",
 * "stats": {...}, "unmatched_focus": [entries] (only when some focus matched nothing),
 * "focus_near": {entry: nearest path or name} (for the unmatched entries that have one),
 * "files": [{"path", "language", "rank", "vendored", "definitions": [{"name", "kind",
 * "line", "end_line", "signature", "rank", "referenced_by": [paths]}]}]}.
 */
int wd_map_to_json(json_t **out, const wd_map *m, size_t budget_tokens);

/* One definition, as the map holds it; pointers live as long as the map. */
typedef struct wd_map_def {
	const char *name;
	const char *path;
	const char *signature;   /* the declaration's first line(s), whitespace collapsed */
	wd_tag_kind kind;
	size_t start_line;       /* 1-based, inclusive */
	size_t end_line;
	double rank;             /* 0 before wd_map_rank */
} wd_map_def;

/* 1 when some file defines `name` (any kind). */
int wd_map_has_definition(const wd_map *m, const char *name);

/* The definitions of `name` (*out allocated, caller frees; *n may be 0). */
int wd_map_find_definitions(wd_map_def **out, size_t *n, const wd_map *m, const char *name);

/* The paths of the files that reference `name`, most references first,
 * with their counts in `counts` (allocated, caller frees; may be NULL).
 * Only names some file defines are indexed: for any other name (a library
 * function, a local) the list is empty. */
int wd_map_find_referencing_files(wd_strvec *out, size_t **counts, const wd_map *m,
                                  const char *name);

/* Append the paths of the files defining any of `names` (NULL-terminated). */
int wd_map_files_defining(wd_strvec *out, const wd_map *m, const char *const *names);

typedef struct wd_map_range {
	size_t start_line;  /* 1-based, inclusive */
	size_t end_line;
} wd_map_range;

/*
 * The line ranges of the definitions in `path` named by `names`
 * (NULL-terminated), sorted and merged; *out allocated, caller frees.
 */
int wd_map_ranges_for(wd_map_range **out, size_t *n, const wd_map *m, const char *path,
                      const char *const *names);

/* Append to `out` (at most `max`) the defined names that `token` names
 * without their prefix or suffix: `token` is a whole '_'-separated part at
 * the start or the end of the name (m_setbytes, setbytes_impl), or the name
 * itself in another case. The exact name is not included, nor names only
 * vendored code defines. */
int wd_map_names_like(wd_strvec *out, const wd_map *m, const char *token, size_t max);

/* Append the paths of the `max` best-ranked files with definitions (after
 * wd_map_rank; never vendored ones), best first. */
int wd_map_ranked_files(wd_strvec *out, const wd_map *m, size_t max);

/* Every definition of `path` (*out allocated, caller frees; *n may be 0),
 * with its rank after wd_map_rank. */
int wd_map_file_definitions(wd_map_def **out, size_t *n, const wd_map *m, const char *path);

/* Every file of the map (relative paths, sorted); valid while the map lives. */
const char *const *wd_map_files(const wd_map *m, size_t *n);

#endif
