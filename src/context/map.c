/*
 * The repository map: tags of every file (parsed in parallel, cached by git
 * blob id), a name index over them, and the queries the context builder and
 * the model's tools ask. Ranking and rendering are in map_rank.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/map.h"
#include "warden/mem.h"

#include "context_int.h"
#include "map_int.h"

#define DEFAULT_MAX_FILE (1024u * 1024u)
#define MAX_THREADS 64

/*
 * --- the tag pack: one file per work tree, path + stat data -> blob id and tags ---
 *
 * A warm map reads one file instead of a thousand: every file's stat data,
 * blob id and tags (wd_tagset_dump's form) in one pack, mapped read-only and
 * read in place without a write (a write would copy the page and flush the
 * TLB of every core the map runs on); the tags of unchanged files borrow
 * from the mapping for the map's lifetime. A file whose stat data changed falls back to its
 * blob id and the per-blob tag cache (shared by every work tree of the
 * cache), then to a parse. The pack is rewritten only when it no longer
 * describes the tree exactly: a few changed or new files are appended as
 * entries of their own (a later entry of a path replaces an earlier one),
 * anything else (a file gone, too much replaced text, a damaged pack) rewrites
 * it whole, copying unchanged entries from a read-only view of the same
 * mapping. Format, after the line "wdpack 2", entries of
 *   i64 mtime_ns, i64 ctime_ns, u64 size, u64 ino (native byte order),
 *   the blob id (40 lowercase hex digits), u32 taglen, u32 pathlen,
 *   the path and a NUL, then taglen bytes of tags.
 * A damaged entry ends the pack (every entry before it stays usable: each
 * entry's tags are checked whole by wd_tagset_load).
 */
#define PACK_MAGIC "wdpack 2\n"
#define PACK_ENTRY_HEAD 80u

struct packent {
	int64_t mtime_ns, ctime_ns;
	uint64_t size, ino;
	char oid[41];
	size_t off, len;        /* the tag text in the pack */
	size_t entry_len;       /* the whole entry: header and tags */
};

struct pack {
	int fd;                 /* the pack read, -1 = none */
	const char *work;       /* read-only mapping, read in place */
	size_t len;
	size_t dead;            /* bytes of entries a later entry of their path replaced */
	int whole;              /* every byte was read: no damaged entry ended it */
	uint64_t ino;           /* the file read (an append goes to that file only) */
	wd_strtab paths;        /* borrowed: NUL-terminated in `work` */
	struct packent *v;
	size_t cap;
};

/* Blob packs (below) beside the work trees' packs, where `warden gc` prunes
 * them by age with those: "pack-v<N>-blobs-<hash of the root>". */
#define BLOB_PACK "pack-v%d-blobs-"

/* The work tree's pack, and the blob pack it may be linked to (below). */
static int pack_paths(wd_buf *pack, wd_buf *blob, const char *cache_dir, const char *root)
{
	char h[41];
	int rc;

	if ((rc = wd_hash_hex(h, root, strlen(root))) != 0 ||
	    (rc = wd_buf_printf(pack, "%s/map/pack-v%d-%s", cache_dir, WD_TAGS_VERSION, h)) != 0)
		return rc;
	return wd_buf_printf(blob, "%s/map/" BLOB_PACK "%s", cache_dir, WD_TAGS_VERSION, h);
}

static int lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* One entry at *p: its stat data and blob id into e, the offset and length
 * of its tags, its path (NUL-terminated at *path_len, none inside); *p moves
 * past it. -1 (and *p as it was) for anything else. Nothing is written: the
 * packs are read through read-only mappings. */
static int pack_entry(const char **p, const char *base, const char *end, struct packent *e,
                      const char **path, size_t *path_len)
{
	const char *s = *p;
	uint32_t tl, pl;

	if ((size_t)(end - s) < PACK_ENTRY_HEAD || !lower_hex(s + 32, 40))
		return -1;
	memcpy(&e->mtime_ns, s, 8);
	memcpy(&e->ctime_ns, s + 8, 8);
	memcpy(&e->size, s + 16, 8);
	memcpy(&e->ino, s + 24, 8);
	memcpy(e->oid, s + 32, 40);
	e->oid[40] = '\0';
	memcpy(&tl, s + 72, 4);
	memcpy(&pl, s + 76, 4);
	s += PACK_ENTRY_HEAD;
	if (!pl || (uint64_t)pl + 1 + tl > (uint64_t)(end - s) || s[pl] != '\0' || memchr(s, '\0', pl))
		return -1;
	*path = s;
	*path_len = pl;
	e->off = (size_t)(s + pl + 1 - base);
	e->len = tl;
	*p = s + pl + 1 + tl;
	return 0;
}

/* Map the pack and index its entries; a missing or damaged pack is no
 * (or a shorter) pack. */
static void pack_load(struct pack *pk, const char *file)
{
	struct stat st;
	const char *p, *end;

	memset(pk, 0, sizeof(*pk));
	pk->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (pk->fd < 0 || fstat(pk->fd, &st) != 0 || st.st_size < (off_t)strlen(PACK_MAGIC))
		goto none;
	pk->len = (size_t)st.st_size;
	/* read-only, every page mapped in one call (MAP_POPULATE): no fault
	 * per page, and no write ever copies one */
	pk->work = mmap(NULL, pk->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, pk->fd, 0);
	if (pk->work == MAP_FAILED) {
		pk->work = NULL;
		goto none;
	}
	if (memcmp(pk->work, PACK_MAGIC, strlen(PACK_MAGIC)) != 0)
		goto none;
	pk->paths.borrow = 1;
	pk->ino = (uint64_t)st.st_ino;
	p = pk->work + strlen(PACK_MAGIC);
	end = pk->work + pk->len;
	while (p < end) {
		struct packent e;
		const char *next = p, *path;
		size_t known = pk->paths.n, plen;
		uint32_t id;

		if (pack_entry(&next, pk->work, end, &e, &path, &plen) != 0 ||
		    wd_strtab_intern(&pk->paths, path, plen, &id) != 0 ||
		    WD_ARRAY_RESERVE(pk->v, pk->cap, (size_t)id + 1, 256) != 0)
			break;
		e.entry_len = (size_t)(next - p);
		p = next;
		if (pk->paths.n == known) /* an appended entry replaces this path's */
			pk->dead += pk->v[id].entry_len;
		pk->v[id] = e;
	}
	pk->whole = p == end;
	wd_error_clear();
	return;
none:
	wd_error_clear();
	if (pk->work)
		munmap((void *)pk->work, pk->len);
	pk->work = NULL;
	pk->len = 0;
}

/* The pack's entry for `path`, whatever its stat data. */
static const struct packent *pack_entry_of(const struct pack *pk, const struct mfile *f)
{
	int64_t id = pk->work ? wd_strtab_find(&pk->paths, f->path, strlen(f->path)) : -1;

	return id < 0 ? NULL : &pk->v[id];
}

/* Do the entry's stat data still match the file's? */
static int pack_current(const struct packent *e, const struct mfile *f)
{
	return e->mtime_ns == f->st_mtime_ns && e->ctime_ns == f->st_ctime_ns &&
	       e->size == f->st_size && e->ino == f->st_ino;
}

/* The pack's mapping stays with the map (the tags borrow from it); the
 * descriptor and index go. */
static void pack_release(struct pack *pk)
{
	if (pk->fd >= 0)
		close(pk->fd);
	pk->fd = -1;
	wd_strtab_free(&pk->paths);
	free(pk->v);
	pk->v = NULL;
}

/*
 * --- blob packs: the blob cache of a build that parsed many files ---
 *
 * One cache file per parsed blob costs a create (and a fan-out directory per
 * blob id prefix): a cold map of git/git spent a quarter of its CPU time in
 * the kernel making them. So a build that parsed more than LOOSE_MAX files
 * stores none as loose entries: its work tree pack, once written, is linked
 * into the blob cache as <cache>/map/pack-vN-blobs-<hash of the root> (a later
 * rewrite of the work tree pack replaces that file by rename, so the link
 * keeps this snapshot; appends to it reach the link too, which only adds
 * blobs). Blob packs are thus made only by large parses, not
 * by every new work tree. A work tree without a pack of its own (a run's new
 * work tree) looks its blobs up in every blob pack after the loose entries;
 * one with a pack never reads them: what changed there since is new text.
 */
#define LOOSE_MAX 64

struct blobent {
	uint32_t map;           /* which mapping */
	size_t off, len;        /* the tag text in it */
};

struct blobs {
	struct blobmap {
		const char *p;
		size_t len;
	} *maps;                /* read-only mappings of the blob packs */
	size_t nmaps, capmaps;
	wd_strtab oids;         /* blob id -> v[id] */
	struct blobent *v;
	size_t cap;
};

/* Index one blob pack; a damaged entry ends it (the ones before it serve). */
static void blobs_add(struct blobs *b, const char *file)
{
	struct stat st;
	const char *base, *p, *end;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)strlen(PACK_MAGIC) ||
	    WD_ARRAY_RESERVE(b->maps, b->capmaps, b->nmaps + 1, 8) != 0) {
		close(fd);
		return;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return;
	b->maps[b->nmaps] = (struct blobmap){ base, (size_t)st.st_size };
	p = memcmp(base, PACK_MAGIC, strlen(PACK_MAGIC)) ? NULL : base + strlen(PACK_MAGIC);
	end = base + st.st_size;
	while (p && p < end) {
		struct packent e;
		const char *path;
		size_t known = b->oids.n, plen;
		uint32_t id;

		if (pack_entry(&p, base, end, &e, &path, &plen) != 0 ||
		    WD_ARRAY_RESERVE(b->v, b->cap, b->oids.n + 1, 256) != 0 ||
		    wd_strtab_intern(&b->oids, e.oid, 40, &id) != 0)
			break;
		if (b->oids.n > known) /* else an earlier pack's entry serves */
			b->v[id] = (struct blobent){ (uint32_t)b->nmaps, e.off, e.len };
	}
	b->nmaps++;
}

/* Every blob pack of the cache; none (or some) when it cannot be read. */
static void blobs_load(struct blobs *b, const char *cache_dir)
{
	wd_buf dir = WD_BUF_INIT, file = WD_BUF_INIT;
	char prefix[32];
	struct dirent *de;
	DIR *d;

	memset(b, 0, sizeof(*b));
	snprintf(prefix, sizeof(prefix), BLOB_PACK, WD_TAGS_VERSION);
	if (wd_path_join(&dir, cache_dir, "map") != 0 || !(d = opendir(dir.ptr)))
		goto out;
	while ((de = readdir(d)) != NULL) {
		/* a link being made (<name>.<pid>) is not one yet */
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || strchr(de->d_name, '.'))
			continue;
		wd_buf_clear(&file);
		if (wd_path_join(&file, dir.ptr, de->d_name) == 0)
			blobs_add(b, file.ptr);
	}
	closedir(d);
out:
	wd_error_clear();
	wd_buf_free(&dir);
	wd_buf_free(&file);
}

/* The tags of blob `oid` from the blob packs (a copy: the packs are unmapped
 * when the build ends); WD_ENOTFOUND when no pack has a sound entry. */
static int blobs_find(const struct blobs *b, const char *oid, wd_tagset *ts)
{
	int64_t id = wd_strtab_find(&b->oids, oid, 40);
	const struct blobent *e;
	char *text;

	if (id < 0)
		return WD_ENOTFOUND;
	e = &b->v[id];
	if (!(text = malloc(e->len + 1)))
		return WD_ENOTFOUND;
	memcpy(text, b->maps[e->map].p + e->off, e->len);
	text[e->len] = '\0';
	if (wd_tagset_load(ts, text, e->len) != 0) {
		wd_error_clear();
		return WD_ENOTFOUND;
	}
	return 0;
}

static void blobs_free(struct blobs *b)
{
	for (size_t i = 0; i < b->nmaps; i++)
		munmap((void *)b->maps[i].p, b->maps[i].len);
	free(b->maps);
	wd_strtab_free(&b->oids);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* Make the work tree pack just written a blob pack too (see above). */
static void blob_pack_link(const char *pack, const char *blob)
{
	wd_buf tmp = WD_BUF_INIT;

	if (wd_buf_printf(&tmp, "%s.%ld", blob, (long)getpid()) == 0) {
		unlink(tmp.ptr);
		if (link(pack, tmp.ptr) == 0 && rename(tmp.ptr, blob) != 0)
			unlink(tmp.ptr);
	}
	wd_error_clear();
	wd_buf_free(&tmp);
}

/* --- parallel tag extraction --- */

struct job {
	wd_map *m;
	const char *cache_dir;
	const struct pack *pk;
	const struct blobs *blobs; /* NULL: the work tree has a pack of its own */
	size_t max_file;
	long pid;               /* names the cache's temporary files */
	pthread_mutex_t lock;
	size_t next;
	int phase;              /* 0: stat every file (in path order), 1: tags (in `order`) */
	const uint32_t *order;
	size_t thread_heap;     /* wd_map_opts' */
	int rc;                 /* first fatal error (out of memory, no parser) */
	char msg[512];
};

static int64_t ts_ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int tag_cache_file(wd_buf *out, const char *cache_dir, const char *oid)
{
	wd_buf_clear(out);
	return wd_buf_printf(out, "%s/tags/v%d/%.2s/%s", cache_dir, WD_TAGS_VERSION, oid, oid + 2);
}

static int tag_cache_load(wd_tagset *ts, const char *cache_dir, const char *oid, wd_buf *tmp)
{
	int rc;

	if (!cache_dir)
		return WD_ENOTFOUND;
	if ((rc = tag_cache_file(tmp, cache_dir, oid)) != 0)
		return rc;
	{
		wd_buf text = WD_BUF_INIT;

		rc = wd_file_read(&text, tmp->ptr, 64u * 1024u * 1024u);
		if (!rc) {
			size_t n = text.len;

			rc = wd_tagset_load(ts, wd_buf_detach(&text), n);
		}
		wd_buf_free(&text);
	}
	if (rc)
		wd_error_clear();
	return rc ? WD_ENOTFOUND : 0;
}

/* Write without fsync: a cache entry lost in a crash is re-parsed, and a
 * torn one fails wd_tagset_load's end marker. */
static void tag_cache_store(const wd_buf *text, const char *cache_dir, const char *oid,
                            long pid, wd_buf *tmp)
{
	wd_buf t2 = WD_BUF_INIT;
	int fd;

	if (!cache_dir || tag_cache_file(tmp, cache_dir, oid) != 0)
		goto out;
	if (wd_buf_printf(&t2, "%s.%ld.%lx", tmp->ptr, pid, (unsigned long)pthread_self()) != 0)
		goto out;
	fd = open(t2.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		/* the fan-out directory is new; its parent was made by wd_map_build */
		char *slash = strrchr(tmp->ptr, '/');

		*slash = '\0';
		mkdir(tmp->ptr, 0755);
		*slash = '/';
		fd = open(t2.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		goto out;
	if (write(fd, text->ptr, text->len) == (ssize_t)text->len && close(fd) == 0)
		rename(t2.ptr, tmp->ptr);
	else
		unlink(t2.ptr);
out:
	wd_error_clear();
	wd_buf_free(&t2);
}

/* Keep freshly parsed tags in the compact form a cache load gives (one
 * arena instead of one allocation per name). */
static int compact(struct mfile *f)
{
	wd_buf text = WD_BUF_INIT;
	size_t n;
	int rc;

	if ((rc = wd_tagset_dump(&text, &f->tags)) != 0) {
		wd_buf_free(&text);
		return rc;
	}
	wd_tagset_free(&f->tags);
	n = text.len;
	return wd_tagset_load(&f->tags, wd_buf_detach(&text), n);
}

/* The files this build parsed, each as a loose blob cache entry. */
static void store_loose(const wd_map *m, const char *cache_dir, long pid)
{
	wd_buf text = WD_BUF_INIT, tmp = WD_BUF_INIT;

	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];

		wd_buf_clear(&text);
		if (f->state == MFILE_PARSED && wd_tagset_dump(&text, &f->tags) == 0)
			tag_cache_store(&text, cache_dir, f->oid, pid, &tmp);
	}
	wd_error_clear();
	wd_buf_free(&text);
	wd_buf_free(&tmp);
}

/* Phase 0: the file's stat data, and its pack entry when they still match. */
static int stat_file(struct job *j, struct mfile *f, wd_buf *abs)
{
	struct stat st;
	const struct packent *e;
	int rc;

	if (f->lang == WD_LANG_NONE)
		return 0; /* listed by path only: not even a stat */
	wd_buf_clear(abs);
	if ((rc = wd_path_join(abs, j->m->workdir, f->path)) != 0)
		return rc;
	if (lstat(abs->ptr, &st) < 0 || !S_ISREG(st.st_mode)) {
		f->state = MFILE_UNREADABLE;
		return 0;
	}
	f->st_mtime_ns = ts_ns(st.st_mtim);
	f->st_ctime_ns = ts_ns(st.st_ctim);
	f->st_size = (uint64_t)st.st_size;
	f->st_ino = (uint64_t)st.st_ino;
	if ((size_t)st.st_size > j->max_file) {
		f->state = MFILE_TOO_LARGE;
		return 0;
	}
	if (j->pk && (e = pack_entry_of(j->pk, f)) != NULL) {
		if (pack_current(e, f)) {
			memcpy(f->oid, e->oid, sizeof(f->oid));
			f->pack_off = e->off;
			f->pack_len = e->len;
		} else {
			/* an earlier text: its tags may serve for a partial re-parse */
			memcpy(f->old_oid, e->oid, sizeof(f->old_oid));
			f->old_off = e->off;
			f->old_len = e->len;
		}
	}
	return 0;
}

/* The thread's parsers, made when it first has a file to parse: a warm map
 * that parses nothing loads no grammar. */
static int parsers(wd_parsers **ps)
{
	return *ps ? 0 : wd_parsers_new(ps);
}

/* The tags of the file's new text tmp from those of its earlier text in the
 * pack: the same blob (only the stat data changed), else a parse of what
 * changed. WD_ENOTFOUND when neither serves. */
static int from_old_entry(struct job *j, wd_parsers **ps, struct mfile *f, const wd_buf *tmp)
{
	wd_tagset old;
	int rc;

	if (!f->old_off)
		return WD_ENOTFOUND;
	if (wd_tagset_load_borrowed(&old, j->pk->work + f->old_off, f->old_len) != 0) {
		wd_error_clear();
		f->old_off = 0;
		return WD_ENOTFOUND;
	}
	f->old_off = 0; /* loaded in place: not to be loaded again */
	if (!strcmp(f->old_oid, f->oid)) {
		f->tags = old;
		f->state = MFILE_CACHED;
		return 0;
	}
	rc = !old.regions ? WD_ENOTFOUND : parsers(ps);
	if (!rc)
		rc = wd_tags_reparse(&f->tags, *ps, f->lang, &old, tmp->ptr, tmp->len);
	wd_tagset_free(&old);
	if (rc == WD_ENOTFOUND || (rc && rc != WD_ENOMEM)) {
		wd_error_clear();
		return WD_ENOTFOUND;
	}
	if (rc)
		return rc;
	f->state = MFILE_PARSED;
	f->partial = 1;
	return compact(f);
}

/* Phase 1: the file's tags from the pack, else the blob cache, else a parse. */
static int one_file(struct job *j, wd_parsers **ps, struct mfile *f, wd_buf *abs, wd_buf *tmp)
{
	int rc;

	if (f->lang == WD_LANG_NONE || f->state == MFILE_UNREADABLE || f->state == MFILE_TOO_LARGE)
		return 0;
	if (f->pack_off) {
		if (wd_tagset_load_borrowed(&f->tags, j->pk->work + f->pack_off, f->pack_len) == 0) {
			f->state = MFILE_CACHED;
			f->stat_hit = 1;
			return 0;
		}
		wd_error_clear();
		f->pack_off = 0; /* a damaged entry: as if it were not there */
	}
	wd_buf_clear(abs);
	if ((rc = wd_path_join(abs, j->m->workdir, f->path)) != 0)
		return rc;
	wd_buf_clear(tmp);
	if (wd_ctx_read_regular(tmp, abs->ptr, j->max_file) != 0) {
		wd_error_clear();
		f->state = MFILE_UNREADABLE;
		return 0;
	}
	if ((rc = wd_hash_hex(f->oid, tmp->ptr, tmp->len)) != 0)
		return rc;
	{
		wd_buf p2 = WD_BUF_INIT;

		rc = tag_cache_load(&f->tags, j->cache_dir, f->oid, &p2);
		wd_buf_free(&p2);
		if (rc != 0 && j->blobs)
			rc = blobs_find(j->blobs, f->oid, &f->tags);
		if (rc == 0) {
			f->state = MFILE_CACHED;
			return 0;
		}
	}
	if ((rc = from_old_entry(j, ps, f, tmp)) != WD_ENOTFOUND)
		return rc;
	if ((rc = parsers(ps)) != 0)
		return rc;
	if ((rc = wd_tags_extract(&f->tags, *ps, f->lang, tmp->ptr, tmp->len)) != 0) {
		wd_tagset_free(&f->tags);
		if (rc == WD_ENOMEM)
			return rc;
		wd_error_clear();
		f->state = MFILE_UNREADABLE;
		return 0;
	}
	f->state = MFILE_PARSED;
	return compact(f);
}

static void *worker(void *arg)
{
	struct job *j = arg;
	wd_parsers *ps = NULL;
	wd_buf abs = WD_BUF_INIT, tmp = WD_BUF_INIT;
	int rc = 0;

	while (!rc) {
		size_t i;

		pthread_mutex_lock(&j->lock);
		i = j->rc ? j->m->nfiles : j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->m->nfiles)
			break;
		if (j->phase == 0)
			rc = stat_file(j, &j->m->files[i], &abs);
		else
			rc = one_file(j, &ps, &j->m->files[j->order[i]], &abs, &tmp);
	}
	if (rc) {
		pthread_mutex_lock(&j->lock);
		if (!j->rc) {
			j->rc = rc;
			snprintf(j->msg, sizeof(j->msg), "%s", wd_error_last());
		}
		pthread_mutex_unlock(&j->lock);
	}
	wd_parsers_free(ps);
	wd_buf_free(&abs);
	wd_buf_free(&tmp);
	return NULL;
}

/* A thread of run_workers: before loading tags, its malloc heap (glibc gives
 * each thread an arena of its own) populated in one call, as the command
 * does for the caller's (a page fault costs ~15 us of CPU on bench/map's
 * VM, and a warm map of git/git took ~250 in these heaps). */
static void *worker_thread(void *arg)
{
	struct job *j = arg;
	char *p;

	if (j->phase == 1 && j->thread_heap && (p = malloc(j->thread_heap)) != NULL) {
		wd_mem_prefault(p, j->thread_heap);
		free(p);
	}
	return worker(arg);
}

static unsigned thread_count(unsigned want, size_t nfiles)
{
	long n = want ? (long)want : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	if ((size_t)n > nfiles / 8 + 1)
		n = (long)(nfiles / 8 + 1);
	return (unsigned)n;
}

static int run_workers(struct job *j, unsigned nthreads)
{
	pthread_t th[MAX_THREADS];
	unsigned started = 0;

	for (; started < nthreads - 1; started++)
		if (pthread_create(&th[started], NULL, worker_thread, j) != 0)
			break;
	worker(j); /* the calling thread works too */
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (j->rc)
		return wd_error_set(j->rc, "%s", j->msg);
	return 0;
}

/* One entry of the pack: the file's stat data, blob id and path, then its tags. */
static int put_entry(wd_buf *b, const struct mfile *f, const char *t, size_t tl)
{
	char h[PACK_ENTRY_HEAD];
	size_t pl = strlen(f->path);
	uint32_t tl32 = (uint32_t)tl, pl32 = (uint32_t)pl;
	int rc;

	if (tl > UINT32_MAX || pl > UINT32_MAX)
		return wd_error_set(WD_EINPUT, "%s: too large for the tag pack", f->path);
	memcpy(h, &f->st_mtime_ns, 8);
	memcpy(h + 8, &f->st_ctime_ns, 8);
	memcpy(h + 16, &f->st_size, 8);
	memcpy(h + 24, &f->st_ino, 8);
	memcpy(h + 32, f->oid, 40);
	memcpy(h + 72, &tl32, 4);
	memcpy(h + 76, &pl32, 4);
	if ((rc = wd_buf_put(b, h, sizeof(h))) != 0 || (rc = wd_buf_put(b, f->path, pl + 1)) != 0)
		return rc;
	return wd_buf_put(b, t, tl);
}

/* Write `file` whole through a temporary file and a rename, without fsync: a
 * pack lost or torn in a crash is parsed again, never trusted (the loader
 * checks every entry). */
static int write_replace(const char *file, const wd_buf *b)
{
	wd_buf dir = WD_BUF_INIT, tmp = WD_BUF_INIT;
	int fd, rc;

	if ((rc = wd_buf_puts(&dir, file)) != 0 ||
	    (rc = wd_buf_printf(&tmp, "%s.%ld", file, (long)getpid())) != 0)
		goto out;
	*strrchr(dir.ptr, '/') = '\0';
	if ((rc = wd_mkdir_p(dir.ptr, 0)) != 0)
		goto out;
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = wd_error_set(WD_EINFRA, "%s: %s", tmp.ptr, strerror(errno));
		goto out;
	}
	if (wd_write_all(fd, b->ptr, b->len) < 0 || close(fd) != 0 || rename(tmp.ptr, file) != 0) {
		rc = wd_error_set(WD_EINFRA, "%s: %s", file, strerror(errno));
		unlink(tmp.ptr);
	}
out:
	wd_buf_free(&dir);
	wd_buf_free(&tmp);
	return rc;
}

/* Write the pack of the tree as it is now: unchanged entries copied from
 * the old pack's mapping (the file read: a pack another process wrote since
 * is not mixed in). */
static int pack_save(const wd_map *m, const struct pack *pk, const char *file)
{
	wd_buf b = WD_BUF_INIT, tags = WD_BUF_INIT;
	const char *view = pk->work;
	int rc;

	rc = wd_buf_puts(&b, PACK_MAGIC);
	for (size_t i = 0; i < m->nfiles && !rc; i++) {
		const struct mfile *f = &m->files[i];

		if (f->state != MFILE_PARSED && f->state != MFILE_CACHED)
			continue;
		if (f->pack_off && view) {
			rc = put_entry(&b, f, view + f->pack_off, f->pack_len);
			continue;
		}
		wd_buf_clear(&tags);
		if ((rc = wd_tagset_dump(&tags, &f->tags)) == 0)
			rc = put_entry(&b, f, tags.ptr, tags.len);
	}
	if (!rc)
		rc = write_replace(file, &b);
	wd_buf_free(&b);
	wd_buf_free(&tags);
	return rc;
}

/* Append the entries of the files the pack does not vouch for to the very
 * file that was read (1 when it changed since, or cannot be appended to: the
 * caller rewrites it). One write: appends of two processes do not mix. */
static int pack_append(const wd_map *m, const struct pack *pk, const char *file)
{
	wd_buf b = WD_BUF_INIT, tags = WD_BUF_INIT;
	struct stat st;
	int fd = -1, rc = 0;

	for (size_t i = 0; i < m->nfiles && !rc; i++) {
		const struct mfile *f = &m->files[i];

		if ((f->state != MFILE_PARSED && f->state != MFILE_CACHED) || f->stat_hit)
			continue;
		wd_buf_clear(&tags);
		if ((rc = wd_tagset_dump(&tags, &f->tags)) == 0)
			rc = put_entry(&b, f, tags.ptr, tags.len);
	}
	if (rc)
		goto out;
	fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_ino != pk->ino ||
	    (size_t)st.st_size != pk->len) {
		rc = 1;
		goto out;
	}
	if (wd_write_all(fd, b.ptr, b.len) < 0)
		rc = wd_error_set(WD_EINFRA, "%s: %s", file, strerror(errno));
out:
	if (fd >= 0 && close(fd) != 0 && !rc)
		rc = wd_error_set(WD_EINFRA, "%s: %s", file, strerror(errno));
	wd_buf_free(&b);
	wd_buf_free(&tags);
	return rc;
}

/*
 * --- the files of a git work tree, beside the pack ---
 *
 * Listing a git work tree reads its index through libgit2 (3-4 ms for
 * git/git, after libgit2's start-up). The list depends on the index alone,
 * and git and libgit2 replace the index by a rename whenever they write it,
 * so the list is kept in "<pack>.files" under the index file's stat data and
 * taken from there while they match: then a warm build needs libgit2 only
 * for the configuration, which it waits for later (wd_map_opts.await).
 * Format: "wdfiles 1\n", the key (u64 device, inode, size, mtime_ns,
 * ctime_ns, native byte order), u32 count, u32 bytes, then the paths, each
 * with its NUL: sorted, distinct, relative, with no empty, "." or ".."
 * component. Anything else is no list.
 */
#define FILES_MAGIC "wdfiles 1\n"
#define FILES_HEAD (10 + 5 * 8 + 2 * 4)

/* The key of the work tree's index, when .git is a directory (a gitlink's
 * index lives elsewhere) holding a regular index; -1 when there is none. */
static int index_key(uint64_t key[5], const char *workdir)
{
	wd_buf p = WD_BUF_INIT;
	struct stat st;
	int rc = -1;

	if (wd_path_join(&p, workdir, ".git") == 0 && lstat(p.ptr, &st) == 0 && S_ISDIR(st.st_mode) &&
	    wd_buf_puts(&p, "/index") == 0 && lstat(p.ptr, &st) == 0 && S_ISREG(st.st_mode)) {
		key[0] = (uint64_t)st.st_dev;
		key[1] = (uint64_t)st.st_ino;
		key[2] = (uint64_t)st.st_size;
		key[3] = (uint64_t)ts_ns(st.st_mtim);
		key[4] = (uint64_t)ts_ns(st.st_ctim);
		rc = 0;
	}
	wd_error_clear();
	wd_buf_free(&p);
	return rc;
}

/* A path of a work tree as its index lists it: inside it (wd_path_rel_inside)
 * and in one spelling only (no empty or "." component). */
static int sound_path(const char *s, size_t n)
{
	if (!n || s[n - 1] == '/' || !wd_path_rel_inside(s) || strstr(s, "//") ||
	    !strcmp(s, ".") || !strncmp(s, "./", 2) || strstr(s, "/./"))
		return 0;
	return n < 2 || strcmp(s + n - 2, "/.") != 0;
}

int wd_map__files_parse(wd_strvec *out, const char *p, size_t len, const uint64_t key[5])
{
	uint64_t k[5];
	uint32_t count, bytes;
	const char *c, *end, *prev = NULL;

	if (len < FILES_HEAD || memcmp(p, FILES_MAGIC, 10) != 0)
		return -1;
	memcpy(k, p + 10, sizeof(k));
	memcpy(&count, p + 50, 4);
	memcpy(&bytes, p + 54, 4);
	if (memcmp(k, key, sizeof(k)) != 0 || bytes != len - FILES_HEAD ||
	    (bytes && p[len - 1] != '\0'))
		return -1;
	for (c = p + FILES_HEAD, end = p + len; c < end; count--) {
		size_t n = strlen(c);

		if (!count || !sound_path(c, n) || (prev && strcmp(prev, c) >= 0) ||
		    wd_strvec_push(out, c) != 0) {
			wd_error_clear();
			return -1;
		}
		prev = c;
		c += n + 1;
	}
	return count ? -1 : 0;
}

static int files_cache_load(wd_strvec *out, const char *file, const uint64_t key[5])
{
	wd_buf b = WD_BUF_INIT;
	int rc = -1;

	if (wd_file_read(&b, file, 256u << 20) == 0)
		rc = wd_map__files_parse(out, b.ptr, b.len, key);
	if (rc) {
		wd_strvec_free(out);
		wd_error_clear();
	}
	wd_buf_free(&b);
	return rc;
}

/* Failing to save costs only the next build a listing through libgit2. */
static void files_cache_save(const char *file, const uint64_t key[5], const wd_strvec *files)
{
	wd_buf b = WD_BUF_INIT;
	uint32_t count = (uint32_t)files->n, bytes = 0;
	int rc = 0;

	for (size_t i = 0; i < files->n; i++)
		bytes += (uint32_t)strlen(files->v[i]) + 1;
	if (files->n > UINT32_MAX / 2 || wd_buf_put(&b, FILES_MAGIC, 10) != 0 ||
	    wd_buf_put(&b, key, 5 * 8) != 0 || wd_buf_put(&b, &count, 4) != 0 ||
	    wd_buf_put(&b, &bytes, 4) != 0)
		goto out;
	for (size_t i = 0; i < files->n && !rc; i++)
		rc = wd_buf_put(&b, files->v[i], strlen(files->v[i]) + 1);
	if (!rc && b.len == FILES_HEAD + (size_t)bytes)
		write_replace(file, &b);
out:
	wd_error_clear();
	wd_buf_free(&b);
}

/* --- the name index's cache (map_index.c builds, reads and updates it) --- */

/* The saved name index beside the work tree's pack ("<pack>.idx": `warden
 * gc` prunes it with the packs), mapped read-only into m->idx; none when it
 * cannot be read (map_index.c checks what it holds). */
static void index_map(wd_map *m, const char *file)
{
	struct stat st;
	void *p;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		/* read-only and populated: a patch makes the pages it writes writable */
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p != MAP_FAILED) {
			m->idx = p;
			m->idx_len = (size_t)st.st_size;
			m->idx_ino = (uint64_t)st.st_ino;
		}
	}
	close(fd);
}

/* Write the patched ranges of the mapping back to the very file mapped (not
 * to one another process put there since, nor to one of another size),
 * the header with its checksum last: a patch cut short fails the checksum. */
static void index_write_patch(const wd_map *m, const char *file, const struct idx_patch *p)
{
	struct stat st;
	int fd = open(file, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_ino == m->idx_ino &&
	    (size_t)st.st_size == m->idx_len)
		for (size_t i = 0; i < p->n; i++)
			if (pwrite(fd, m->idx + p->v[i].off, p->v[i].len, (off_t)p->v[i].off) !=
			    (ssize_t)p->v[i].len)
				break;
	close(fd);
}

/* The name index: the saved one (pack file `pack` + ".idx"; NULL: no cache)
 * when it serves, and saved again when it changed. A save that fails costs
 * the next build an index. */
static int index_names(wd_map *m, const char *pack, unsigned nthreads)
{
	wd_buf file = WD_BUF_INIT, save = WD_BUF_INIT;
	int rc;

	struct idx_patch patch = { NULL, 0, 0 };

	if (pack && wd_buf_printf(&file, "%s.idx", pack) == 0)
		index_map(m, file.ptr);
	wd_error_clear();
	rc = wd_map__index(m, nthreads, file.len ? &save : NULL, file.len ? &patch : NULL);
	if (!rc && save.len && write_replace(file.ptr, &save) != 0)
		wd_error_clear();
	if (!rc && patch.n)
		index_write_patch(m, file.ptr, &patch);
	wd_buf_free(&file);
	wd_buf_free(&save);
	free(patch.v);
	return rc;
}

static const struct mfile *order_files; /* qsort has no context argument */

/* Files to hash or parse first, largest first (a parse of the largest file
 * overlaps every other thread's work), then the pack's, in path order. */
static int cmp_work_order(const void *a, const void *b)
{
	const struct mfile *x = &order_files[*(const uint32_t *)a], *y = &order_files[*(const uint32_t *)b];

	if (!x->pack_off != !y->pack_off)
		return x->pack_off ? 1 : -1;
	if (!x->pack_off && x->st_size != y->st_size)
		return x->st_size > y->st_size ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;

static int work_order(uint32_t **out, const wd_map *m)
{
	uint32_t *v = malloc((m->nfiles ? m->nfiles : 1) * sizeof(*v));

	if (!v)
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->nfiles; i++)
		v[i] = (uint32_t)i;
	pthread_mutex_lock(&order_lock);
	order_files = m->files;
	qsort(v, m->nfiles, sizeof(*v), cmp_work_order);
	order_files = NULL;
	pthread_mutex_unlock(&order_lock);
	*out = v;
	return 0;
}

struct save_job {
	const wd_map *m;
	const struct pack *pk;
	const char *file;
	const char *blob_file;  /* where a large parse links the pack */
	const char *cache_dir;
	long pid;
	int append;             /* the pack only lacks a few files' entries */
};

/* The pack, then what this build parsed into the blob cache: loose entries
 * for a few files, else a link to the pack (see "blob packs"). Failing to
 * save costs only re-hashing and re-parsing next time. */
static void *save_caches_thread(void *arg)
{
	const struct save_job *sj = arg;
	int rc = sj->append ? pack_append(sj->m, sj->pk, sj->file) : 1;
	int saved = (rc == 1 ? pack_save(sj->m, sj->pk, sj->file) : rc) == 0;

	wd_error_clear();
	if (sj->m->stats.parsed <= LOOSE_MAX)
		store_loose(sj->m, sj->cache_dir, sj->pid);
	else if (saved)
		blob_pack_link(sj->file, sj->blob_file);
	return NULL;
}

/* Is there a file whose tags the pack does not vouch for (to hash, look up
 * in the blob cache, or parse)? */
static int any_file_to_hash(const wd_map *m)
{
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];

		if (f->lang != WD_LANG_NONE && f->state != MFILE_UNREADABLE &&
		    f->state != MFILE_TOO_LARGE && !f->pack_off)
			return 1;
	}
	return 0;
}

/* Can the pack be brought up to date by appending entries? It must have
 * been read whole, every path in it must still have tags (a file gone
 * needs a rewrite to leave), the files to append must be few and the text
 * they replace (with what earlier appends replaced) at most a quarter of it. */
static int pack_appendable(const wd_map *m, const struct pack *pk, size_t hits)
{
	size_t kept = hits, added = 0, dead = pk->dead;

	if (!pk->work || !pk->whole)
		return 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		int64_t id;

		if ((f->state != MFILE_PARSED && f->state != MFILE_CACHED) || f->stat_hit)
			continue;
		if (++added > LOOSE_MAX)
			return 0;
		id = wd_strtab_find(&pk->paths, f->path, strlen(f->path));
		if (id >= 0) {
			kept++;
			dead += pk->v[id].entry_len;
		}
	}
	return kept == pk->paths.n && dead <= pk->len / 4;
}

/* Phase 0 (stat every file against the pack), then phase 1 (tags), with
 * the blob packs open when the work tree has no pack of its own. */
static int extract_tags(struct job *j, const struct pack *pk, unsigned nthreads,
                        uint32_t **order)
{
	struct blobs blobs;
	int rc;

	memset(&blobs, 0, sizeof(blobs));
	if ((rc = run_workers(j, nthreads)) != 0 || (rc = work_order(order, j->m)) != 0)
		return rc;
	if (j->cache_dir && !pk->work && any_file_to_hash(j->m)) {
		blobs_load(&blobs, j->cache_dir);
		j->blobs = &blobs;
	}
	j->phase = 1;
	j->next = 0;
	j->order = *order;
	rc = run_workers(j, nthreads);
	j->blobs = NULL;
	blobs_free(&blobs);
	return rc;
}

/* The caller's wd_map_opts.await, once; *exclude as it says. */
static int await_git(const wd_map_opts *o, const char *const **exclude, int *done)
{
	const char *const *ex = NULL;
	int rc;

	if (*done || !o->await) {
		*done = 1;
		return 0;
	}
	*done = 1;
	if ((rc = o->await(o->await_arg, &ex)) != 0)
		return rc;
	if (ex)
		*exclude = ex;
	return 0;
}

int wd_map_build(wd_map **out, const char *workdir, const wd_map_opts *opts)
{
	wd_map_opts defaults = WD_MAP_OPTS_INIT;
	wd_strvec files = WD_STRVEC_INIT;
	struct pack pk;
	wd_buf pkfile = WD_BUF_INIT, blobfile = WD_BUF_INIT;
	struct job j;
	struct save_job sj;
	pthread_t saver;
	uint32_t *order = NULL;
	uint64_t t0 = wd_now_ms(), t1;
	wd_map *m;
	unsigned nthreads;
	int rc, saving = 0, awaited = 0, git, from_index = 0;
	const char *const *exclude;
	uint64_t key[5];
	wd_buf filesfile = WD_BUF_INIT;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	exclude = opts->exclude;
	if (opts->version != WD_MAP_OPTS_VERSION)
		return wd_error_set(WD_EUSAGE, "wd_map_opts version %u, expected %u", opts->version,
		                    WD_MAP_OPTS_VERSION);
	memset(&pk, 0, sizeof(pk));
	pk.fd = -1;
	if (!(m = calloc(1, sizeof(*m))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	m->names.borrow = 1; /* names point into the files' tags, which live as long as the map */
	if (!(m->workdir = wd_realpath(workdir))) {
		rc = wd_error_set(WD_ENOTFOUND, "%s: no such directory", workdir);
		goto out;
	}
	/* first what needs neither libgit2 nor the exclude globs (wd_map_opts.await):
	 * the tag pack, and the files of a tree without .git */
	if (opts->cache_dir) {
		if ((rc = pack_paths(&pkfile, &blobfile, opts->cache_dir, m->workdir)) != 0)
			goto out;
		pack_load(&pk, pkfile.ptr);
		/* the tags borrow from the mapping: it lives as long as the map */
		m->pack = pk.work;
		m->pack_len = pk.len;
	}
	t1 = wd_now_ms();
	git = !opts->files && wd_ctx_has_git_entry(m->workdir);
	if (git && opts->cache_dir && index_key(key, m->workdir) == 0 &&
	    wd_buf_printf(&filesfile, "%s.files", pkfile.ptr) == 0)
		m->stats.files_cached = files_cache_load(&files, filesfile.ptr, key) == 0;
	wd_error_clear();
	if (!m->stats.files_cached) {
		if (git && (rc = await_git(opts, &exclude, &awaited)) != 0)
			goto out;
		/* the key was taken first: an index written meanwhile is a new key */
		if ((rc = wd_ctx_list_files(&files, m->workdir, opts->files, &from_index)) != 0)
			goto out;
		if (from_index && filesfile.len)
			files_cache_save(filesfile.ptr, key, &files);
	}
	m->stats.list_ms = wd_now_ms() - t1;
	if ((rc = await_git(opts, &exclude, &awaited)) != 0)
		goto out;
	if (files.n && !(m->files = calloc(files.n, sizeof(*m->files)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	m->nfiles = files.n;
	/* the files take ownership of the path strings; the vector keeps the array */
	for (size_t i = 0; i < files.n; i++) {
		m->files[i].path = files.v[i];
		m->files[i].lang = wd_lang_id_for_path(files.v[i]);
	}
	m->paths = files.v;
	files.v = NULL;
	files.n = files.cap = 0;
	wd_map__mark_vendored(m, exclude);
	memset(&j, 0, sizeof(j));
	j.m = m;
	j.cache_dir = opts->cache_dir;
	j.pk = opts->cache_dir ? &pk : NULL;
	j.max_file = opts->max_file_bytes ? opts->max_file_bytes : DEFAULT_MAX_FILE;
	j.pid = (long)getpid();
	j.thread_heap = pk.work ? opts->thread_heap : 0; /* a warm build only */
	if (opts->cache_dir) {
		wd_buf dir = WD_BUF_INIT;

		/* a cache that cannot be made is no cache: the map still builds */
		if (wd_buf_printf(&dir, "%s/tags/v%d", opts->cache_dir, WD_TAGS_VERSION) != 0 ||
		    wd_mkdir_p(dir.ptr, 0) != 0)
			wd_error_clear();
		wd_buf_free(&dir);
	}
	pthread_mutex_init(&j.lock, NULL);
	t1 = wd_now_ms();
	nthreads = thread_count(opts->threads, m->nfiles);
	rc = extract_tags(&j, &pk, nthreads, &order);
	m->stats.tags_ms = wd_now_ms() - t1;
	pthread_mutex_destroy(&j.lock);
	if (rc)
		goto out;
	for (size_t i = 0; i < m->nfiles; i++) {
		m->stats.parsed += m->files[i].state == MFILE_PARSED;
		m->stats.partial += m->files[i].partial;
		m->stats.cached += m->files[i].state == MFILE_CACHED;
	}
	m->stats.files = m->nfiles;
	/* rewrite the pack (and store what was parsed) when it no longer describes
	 * the tree exactly, on a thread of its own while the names are indexed
	 * (both only read the tags) */
	{
		size_t hits = 0;

		for (size_t i = 0; i < m->nfiles; i++)
			hits += m->files[i].stat_hit;
		sj = (struct save_job){ m, &pk, pkfile.ptr, blobfile.ptr, opts->cache_dir, j.pid,
			                pack_appendable(m, &pk, hits) };
		if (opts->cache_dir && (hits != m->stats.parsed + m->stats.cached || hits != pk.paths.n)) {
			if (nthreads > 1 && pthread_create(&saver, NULL, save_caches_thread, &sj) == 0)
				saving = 1;
			else
				save_caches_thread(&sj);
		}
	}
	t1 = wd_now_ms();
	rc = index_names(m, opts->cache_dir ? pkfile.ptr : NULL, nthreads);
	m->stats.index_ms = wd_now_ms() - t1;
	if (saving)
		pthread_join(saver, NULL);
	m->stats.build_ms = wd_now_ms() - t0;
out:
	pack_release(&pk);
	wd_buf_free(&filesfile);
	wd_buf_free(&pkfile);
	wd_buf_free(&blobfile);
	wd_strvec_free(&files);
	free(order);
	if (rc) {
		wd_map_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

size_t wd_map_pack_bytes(const char *workdir, const char *cache_dir)
{
	wd_buf pack = WD_BUF_INIT, blob = WD_BUF_INIT;
	char *root = wd_realpath(workdir);
	struct stat st;
	size_t n = 0;

	if (root && pack_paths(&pack, &blob, cache_dir, root) == 0 && stat(pack.ptr, &st) == 0 &&
	    S_ISREG(st.st_mode))
		n = (size_t)st.st_size;
	wd_error_clear();
	free(root);
	wd_buf_free(&pack);
	wd_buf_free(&blob);
	return n;
}

void wd_map_free(wd_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfiles; i++) {
		free(m->files[i].path);
		wd_tagset_free(&m->files[i].tags);
		free(m->files[i].drank);
	}
	if (m->pack)
		munmap((void *)m->pack, m->pack_len);
	if (!m->occ_borrowed) {
		free(m->def_occ);
		free(m->ref_occ);
	}
	if (m->idx)
		munmap(m->idx, m->idx_len);
	free(m->info);
	free(m->frank);
	wd_strvec_free(&m->unmatched);
	wd_strtab_free(&m->names);
	free(m->files);
	free(m->paths);
	free(m->workdir);
	free(m);
}

void wd_map_get_stats(wd_map_stats *out, const wd_map *m)
{
	*out = m->stats;
}

const char *const *wd_map_files(const wd_map *m, size_t *n)
{
	static const char *const none[] = { NULL };

	*n = m->nfiles;
	return m->paths ? (const char *const *)m->paths : none;
}

/* --- queries --- */

const struct nameinfo *wd_map_name(const wd_map *m, const char *name)
{
	int64_t id = wd_strtab_find(&m->names, name, strlen(name));

	return id < 0 ? NULL : &m->info[id];
}

int wd_map_has_definition(const wd_map *m, const char *name)
{
	const struct nameinfo *ni = wd_map_name(m, name);

	return ni && ni->defs.n > 0;
}

void wd_map_def_fill(wd_map_def *d, const wd_map *m, uint32_t file, uint32_t idx)
{
	const struct mfile *f = &m->files[file];
	const wd_tag *t = &f->tags.defs[idx];

	d->name = t->name;
	d->path = f->path;
	d->signature = t->sig;
	d->kind = (wd_tag_kind)t->kind;
	d->start_line = t->start;
	d->end_line = t->end;
	d->rank = f->drank ? f->drank[idx] : 0.0;
}

int wd_map_find_definitions(wd_map_def **out, size_t *n, const wd_map *m, const char *name)
{
	const struct nameinfo *ni = wd_map_name(m, name);

	*out = NULL;
	*n = 0;
	if (!ni || !ni->defs.n)
		return 0;
	if (!(*out = calloc(ni->defs.n, sizeof(**out))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < ni->defs.n; i++)
		wd_map_def_fill(&(*out)[i], m, ni->defs.v[i].file, ni->defs.v[i].val);
	*n = ni->defs.n;
	return 0;
}

static int cmp_occ_count_desc(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;

	if (x->val != y->val)
		return x->val < y->val ? 1 : -1;
	return x->file < y->file ? -1 : x->file > y->file;
}

int wd_map_find_referencing_files(wd_strvec *out, size_t **counts, const wd_map *m,
                                  const char *name)
{
	const struct nameinfo *ni = wd_map_name(m, name);
	struct occ *v;
	int rc = 0;

	if (counts)
		*counts = NULL;
	if (!ni || !ni->refs.n)
		return 0;
	if (!(v = malloc(ni->refs.n * sizeof(*v))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	memcpy(v, ni->refs.v, ni->refs.n * sizeof(*v));
	qsort(v, ni->refs.n, sizeof(*v), cmp_occ_count_desc);
	if (counts && !(*counts = calloc(ni->refs.n, sizeof(size_t)))) {
		free(v);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	for (size_t i = 0; !rc && i < ni->refs.n; i++) {
		rc = wd_strvec_push(out, m->files[v[i].file].path);
		if (counts && !rc)
			(*counts)[i] = v[i].val;
	}
	free(v);
	if (rc && counts) {
		free(*counts);
		*counts = NULL;
	}
	return rc;
}

int wd_map_files_defining(wd_strvec *out, const wd_map *m, const char *const *names)
{
	int rc;

	for (size_t k = 0; names && names[k]; k++) {
		const struct nameinfo *ni = wd_map_name(m, names[k]);

		for (size_t i = 0; ni && i < ni->defs.n; i++) {
			const char *p = m->files[ni->defs.v[i].file].path;

			if (!wd_strvec_contains(out, p) && (rc = wd_strvec_push(out, p)) != 0)
				return rc;
		}
	}
	return 0;
}

/* Sort line ranges by their first line and merge those that overlap or
 * touch, in place (context_int.h): the map owns wd_map_range. */
static int cmp_range_start(const void *a, const void *b)
{
	const wd_map_range *x = a, *y = b;

	if (x->start_line != y->start_line)
		return x->start_line < y->start_line ? -1 : 1;
	return x->end_line < y->end_line ? -1 : x->end_line > y->end_line;
}

size_t wd_ctx_ranges_merge(wd_map_range *r, size_t n)
{
	size_t w = 0;

	if (n > 1)
		qsort(r, n, sizeof(*r), cmp_range_start);
	for (size_t i = 0; i < n; i++) {
		if (w && r[i].start_line <= r[w - 1].end_line + 1) {
			if (r[i].end_line > r[w - 1].end_line)
				r[w - 1].end_line = r[i].end_line;
			continue;
		}
		r[w++] = r[i];
	}
	return w;
}

static int file_index(const wd_map *m, const char *path)
{
	size_t lo = 0, hi = m->nfiles;

	/* files are sorted by path (wd_ctx_list_files) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->files[mid].path, path);

		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int wd_map_ranges_for(wd_map_range **out, size_t *n, const wd_map *m, const char *path,
                      const char *const *names)
{
	int fi = file_index(m, path);
	const struct mfile *f;
	wd_map_range *r;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (fi < 0)
		return 0;
	f = &m->files[fi];
	if (!f->tags.ndefs)
		return 0;
	if (!(r = calloc(f->tags.ndefs, sizeof(*r))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t d = 0; d < f->tags.ndefs; d++)
		for (size_t i = 0; names && names[i]; i++)
			if (!strcmp(f->tags.defs[d].name, names[i])) {
				r[k].start_line = f->tags.defs[d].start;
				r[k].end_line = f->tags.defs[d].end;
				k++;
				break;
			}
	k = wd_ctx_ranges_merge(r, k);
	if (!k) {
		free(r);
		return 0;
	}
	*out = r;
	*n = k;
	return 0;
}

int wd_map_file_index(const wd_map *m, const char *path)
{
	return file_index(m, path);
}
