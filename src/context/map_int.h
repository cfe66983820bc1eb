#ifndef WARDEN_MAP_INT_H
#define WARDEN_MAP_INT_H

/* The map's inside, shared by map.c (build, queries) and map_rank.c. */

#include "warden/map.h"

#include "tags.h"

enum mfile_state {
	MFILE_LISTED = 0,   /* no grammar for it: kept by path */
	MFILE_PARSED,       /* parsed in this build */
	MFILE_CACHED,       /* tags from the cache */
	MFILE_TOO_LARGE,
	MFILE_UNREADABLE
};

struct mfile {
	char *path;
	int lang;
	int state;
	int stat_hit;       /* stat data, blob id and tags came from the pack */
	int partial;        /* parsed only where it changed since the pack's entry */
	size_t pack_off;    /* the file's entry in the pack (0 = none) while building */
	size_t pack_len;
	size_t old_off;     /* the pack's entry of an earlier text of the file (0 = none) */
	size_t old_len;
	char old_oid[41];
	wd_tagset tags;
	char oid[41];
	int64_t st_mtime_ns, st_ctime_ns;
	uint64_t st_size, st_ino;
	double *drank;      /* rank of each definition (after wd_map_rank) */
	int vendored;       /* vendored or generated: out of the ranking unless focused */
	int focused;        /* named by the current focus (its path, or a directory of it) */
};

/* One occurrence of a name: (file, definition index) or (file, reference count). */
struct occ {
	uint32_t file;
	uint32_t val;
};

struct occlist {
	struct occ *v;   /* a slice of wd_map's def_occ or ref_occ */
	size_t n;
};

struct nameinfo {
	struct occlist defs;
	struct occlist refs;
	int focus;          /* named by the current focus */
};

struct wd_map {
	char *workdir;       /* realpath */
	struct mfile *files; /* sorted by path */
	size_t nfiles;
	char **paths;        /* the same path strings, NULL-terminated (owned by files[]) */
	wd_strtab names;
	struct nameinfo *info; /* by name id */
	size_t ncap;
	struct occ *def_occ;   /* every definition, grouped by name */
	struct occ *ref_occ;   /* every reference to a defined name, grouped by name */
	int occ_borrowed;      /* def_occ and ref_occ are in the saved index's mapping */
	double *frank;       /* PageRank of each file */
	int ranked;
	wd_map_stats stats;
	wd_strvec unmatched; /* focus entries of the last wd_map_rank that matched nothing */
	const char *pack;    /* the tag pack's read-only mapping: cached tags borrow from it */
	size_t pack_len;
	char *idx;           /* the saved name index's private mapping: names borrow from it */
	size_t idx_len;
	uint64_t idx_ino;    /* its file's */
};

/* vendored.c: set files[].vendored and stats.vendored. */
void wd_map__mark_vendored(wd_map *m, const char *const *exclude);

/* Ranges of m->idx a patched saved index changed, to write back in order
 * (the header, with the checksum, last). */
struct idx_patch {
	struct idx_range {
		size_t off, len;
	} *v;
	size_t n, cap;
};

/* map_index.c: the name index of m's files' tags: the saved one in m->idx
 * when it describes them, patched in place (its pages written are copied)
 * when a few files changed but not their names, updated when a few files
 * changed, came or went, else built. *save gets a whole index to save
 * (else it is left empty), `patch` the ranges of m->idx to write back (else
 * none); both NULL: nothing is saved. */
int wd_map__index(wd_map *m, unsigned nthreads, wd_buf *save, struct idx_patch *patch);
/* Make the checksum of a saved index p[0..len) right again (tests and fuzz
 * targets: what follows the checksum is then what is tried). */
void wd_map__index_seal(char *p, size_t len);
/* The paths of a "<pack>.files" cache of len bytes at p (map.c) appended to
 * out when its key is `key`; -1 (out as it was, or partly filled: the
 * caller frees it) for anything else. */
int wd_map__files_parse(wd_strvec *out, const char *p, size_t len, const uint64_t key[5]);

const struct nameinfo *wd_map_name(const wd_map *m, const char *name);
void wd_map_def_fill(wd_map_def *d, const wd_map *m, uint32_t file, uint32_t idx);
/* Index of `path` in m->files, or -1. */
int wd_map_file_index(const wd_map *m, const char *path);

#endif
