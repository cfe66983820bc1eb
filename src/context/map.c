/*
 * The repository map: tags of every file (parsed in parallel, cached by git
 * blob id), a name index over them, and the queries the context builder and
 * the model's tools ask. Ranking and rendering are in map_rank.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/map.h"

#include "context_int.h"
#include "map_int.h"

#define DEFAULT_MAX_FILE (1024u * 1024u)
#define MAX_THREADS 64

/* --- the stat cache: path + stat data -> blob id, one file per work tree --- */

struct statent {
	int64_t mtime_ns, ctime_ns;
	uint64_t size, ino;
	char oid[41];
};

struct statcache {
	wd_strtab paths;
	struct statent *v;
	size_t cap;
};

static int stat_cache_path(wd_buf *out, const char *cache_dir, const char *root)
{
	char h[41];
	int rc;

	if ((rc = wd_hash_hex(h, root, strlen(root))) != 0)
		return rc;
	return wd_buf_printf(out, "%s/map/stat-%s", cache_dir, h);
}

static int statcache_put(struct statcache *sc, const char *path, size_t plen,
                         const struct statent *e)
{
	uint32_t id;
	int rc;

	if ((rc = wd_strtab_intern(&sc->paths, path, plen, &id)) != 0)
		return rc;
	if (id >= sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 256;
		struct statent *v;

		while (cap <= id)
			cap *= 2;
		if (!(v = realloc(sc->v, cap * sizeof(*v))))
			return wd_error_set(WD_ENOMEM, "out of memory");
		sc->v = v;
		sc->cap = cap;
	}
	sc->v[id] = *e;
	return 0;
}

/* Lines "mtime_ns ctime_ns size ino oid path". A damaged cache is ignored. */
static void statcache_load(struct statcache *sc, const char *file)
{
	wd_buf b = WD_BUF_INIT;
	char *line, *save = NULL;

	if (wd_file_read(&b, file, 0) != 0) {
		wd_error_clear();
		return;
	}
	for (line = strtok_r(b.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct statent e;
		long long m, c;
		unsigned long long s, i;
		int off = 0;

		if (sscanf(line, "%lld %lld %llu %llu %40s %n", &m, &c, &s, &i, e.oid, &off) != 5 ||
		    !off || strlen(e.oid) != 40)
			continue;
		e.mtime_ns = m;
		e.ctime_ns = c;
		e.size = s;
		e.ino = i;
		if (statcache_put(sc, line + off, strlen(line + off), &e) != 0)
			break;
	}
	wd_error_clear();
	wd_buf_free(&b);
}

static void statcache_free(struct statcache *sc)
{
	wd_strtab_free(&sc->paths);
	free(sc->v);
}

/* --- parallel tag extraction --- */

struct job {
	wd_map *m;
	const char *cache_dir;
	const struct statcache *sc;
	size_t max_file;
	long pid;               /* names the cache's temporary files */
	pthread_mutex_t lock;
	size_t next;
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

/* Store freshly parsed tags in the cache, and keep them in the compact form
 * a cache load gives (one arena instead of one allocation per name). */
static int store_and_compact(struct mfile *f, const char *cache_dir, long pid, wd_buf *tmp)
{
	wd_buf text = WD_BUF_INIT;
	size_t n;
	int rc;

	if ((rc = wd_tagset_dump(&text, &f->tags)) != 0) {
		wd_buf_free(&text);
		return rc;
	}
	tag_cache_store(&text, cache_dir, f->oid, pid, tmp);
	wd_tagset_free(&f->tags);
	n = text.len;
	return wd_tagset_load(&f->tags, wd_buf_detach(&text), n);
}

static int one_file(struct job *j, wd_parsers *ps, struct mfile *f, wd_buf *abs, wd_buf *tmp)
{
	struct stat st;
	int64_t hit;
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
	hit = j->sc ? wd_strtab_find(&j->sc->paths, f->path, strlen(f->path)) : -1;
	if (hit >= 0) {
		const struct statent *e = &j->sc->v[hit];

		if (e->mtime_ns == f->st_mtime_ns && e->ctime_ns == f->st_ctime_ns &&
		    e->size == f->st_size && e->ino == f->st_ino) {
			memcpy(f->oid, e->oid, sizeof(f->oid));
			if (tag_cache_load(&f->tags, j->cache_dir, f->oid, tmp) == 0) {
				f->state = MFILE_CACHED;
				f->stat_hit = 1;
				return 0;
			}
		}
	}
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
		if (rc == 0) {
			f->state = MFILE_CACHED;
			return 0;
		}
	}
	if ((rc = wd_tags_extract(&f->tags, ps, f->lang, tmp->ptr, tmp->len)) != 0) {
		wd_tagset_free(&f->tags);
		if (rc == WD_ENOMEM)
			return rc;
		wd_error_clear();
		f->state = MFILE_UNREADABLE;
		return 0;
	}
	f->state = MFILE_PARSED;
	return store_and_compact(f, j->cache_dir, j->pid, abs);
}

static void *worker(void *arg)
{
	struct job *j = arg;
	wd_parsers *ps = NULL;
	wd_buf abs = WD_BUF_INIT, tmp = WD_BUF_INIT;
	int rc = wd_parsers_new(&ps);

	while (!rc) {
		size_t i;

		pthread_mutex_lock(&j->lock);
		i = j->rc ? j->m->nfiles : j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->m->nfiles)
			break;
		rc = one_file(j, ps, &j->m->files[i], &abs, &tmp);
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
		if (pthread_create(&th[started], NULL, worker, j) != 0)
			break;
	worker(j); /* the calling thread works too */
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (j->rc)
		return wd_error_set(j->rc, "%s", j->msg);
	return 0;
}

static int statcache_save(const wd_map *m, const char *file)
{
	wd_buf b = WD_BUF_INIT, dir = WD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < m->nfiles && !rc; i++) {
		const struct mfile *f = &m->files[i];

		if (f->state != MFILE_PARSED && f->state != MFILE_CACHED)
			continue;
		rc = wd_buf_printf(&b, "%lld %lld %llu %llu %s %s\n", (long long)f->st_mtime_ns,
		                   (long long)f->st_ctime_ns, (unsigned long long)f->st_size,
		                   (unsigned long long)f->st_ino, f->oid, f->path);
	}
	if (!rc && (rc = wd_buf_puts(&dir, file)) == 0) {
		*strrchr(dir.ptr, '/') = '\0';
		if ((rc = wd_mkdir_p(dir.ptr, 0)) == 0)
			rc = wd_file_write_atomic(file, b.ptr ? b.ptr : "", b.len, 0644);
	}
	wd_buf_free(&b);
	wd_buf_free(&dir);
	return rc;
}

/* --- the name index --- */

/*
 * Every definition and reference of a name, in two flat arrays (one slice
 * per name, in file order) rather than millions of small lists: the kernel
 * has 3.5 million definitions.
 */
struct index_job {
	wd_map *m;
	int64_t *ref_id;     /* per reference (all files, in order): name id or -1 */
	size_t *ref_base;    /* per file: index of its first reference in ref_id */
	size_t from, to;     /* files of this thread */
};

/* Look up the references of files [from, to): the table is only read. */
static void *find_refs(void *arg)
{
	struct index_job *ij = arg;
	const wd_map *m = ij->m;

	for (size_t fi = ij->from; fi < ij->to; fi++) {
		const struct mfile *f = &m->files[fi];

		for (size_t r = 0; r < f->tags.nrefs; r++) {
			const char *nm = f->tags.refs[r].name;

			ij->ref_id[ij->ref_base[fi] + r] = wd_strtab_find(&m->names, nm, strlen(nm));
		}
	}
	return NULL;
}

static int index_names(wd_map *m, unsigned nthreads)
{
	uint32_t *def_id = NULL;
	int64_t *ref_id = NULL;
	size_t *ref_base = NULL, ndefs = 0, nrefs = 0, k;
	struct index_job jobs[2];
	pthread_t th;
	int rc = 0, threaded = 0;

	for (size_t fi = 0; fi < m->nfiles; fi++) {
		ndefs += m->files[fi].tags.ndefs;
		nrefs += m->files[fi].tags.nrefs;
	}
	if ((ndefs && !(def_id = malloc(ndefs * sizeof(*def_id)))) ||
	    (nrefs && !(ref_id = malloc(nrefs * sizeof(*ref_id)))) ||
	    (m->nfiles && !(ref_base = malloc(m->nfiles * sizeof(*ref_base))))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	/* definitions first: they make the names */
	k = 0;
	for (size_t fi = 0; fi < m->nfiles; fi++) {
		const struct mfile *f = &m->files[fi];

		for (size_t d = 0; d < f->tags.ndefs; d++, k++) {
			const char *nm = f->tags.defs[d].name;

			if ((rc = wd_strtab_intern(&m->names, nm, strlen(nm), &def_id[k])) != 0)
				goto out;
		}
	}
	/* then the references to names something defines (locals, fields and library
	 * names link no files), looked up on two threads when there are many */
	k = 0;
	for (size_t fi = 0; fi < m->nfiles; fi++) {
		ref_base[fi] = k;
		k += m->files[fi].tags.nrefs;
	}
	jobs[0] = (struct index_job){ m, ref_id, ref_base, 0, m->nfiles / 2 };
	jobs[1] = (struct index_job){ m, ref_id, ref_base, m->nfiles / 2, m->nfiles };
	if (nthreads > 1 && nrefs > 100000 && pthread_create(&th, NULL, find_refs, &jobs[1]) == 0)
		threaded = 1;
	find_refs(&jobs[0]);
	if (threaded)
		pthread_join(th, NULL);
	else
		find_refs(&jobs[1]);
	/* counts, then one slice per name in each flat array */
	if (!(m->info = calloc(m->names.n ? m->names.n : 1, sizeof(*m->info))) ||
	    (ndefs && !(m->def_occ = malloc(ndefs * sizeof(struct occ)))) ||
	    (nrefs && !(m->ref_occ = malloc(nrefs * sizeof(struct occ))))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	m->ncap = m->names.n;
	for (k = 0; k < ndefs; k++)
		m->info[def_id[k]].defs.n++;
	for (k = 0; k < nrefs; k++)
		if (ref_id[k] >= 0)
			m->info[ref_id[k]].refs.n++;
	{
		size_t doff = 0, roff = 0;

		for (size_t id = 0; id < m->names.n; id++) {
			m->info[id].defs.v = m->def_occ + doff;
			m->info[id].refs.v = m->ref_occ + roff;
			doff += m->info[id].defs.n;
			roff += m->info[id].refs.n;
			m->info[id].defs.n = 0;
			m->info[id].refs.n = 0;
		}
	}
	k = 0;
	for (size_t fi = 0; fi < m->nfiles; fi++) {
		const struct mfile *f = &m->files[fi];

		for (size_t d = 0; d < f->tags.ndefs; d++, k++) {
			struct occlist *l = &m->info[def_id[k]].defs;

			l->v[l->n].file = (uint32_t)fi;
			l->v[l->n].val = (uint32_t)d;
			l->n++;
		}
		for (size_t r = 0; r < f->tags.nrefs; r++) {
			int64_t id = ref_id[ref_base[fi] + r];
			struct occlist *l;

			if (id < 0)
				continue;
			l = &m->info[id].refs;
			l->v[l->n].file = (uint32_t)fi;
			l->v[l->n].val = f->tags.refs[r].count;
			l->n++;
			m->stats.references++;
		}
	}
	m->stats.definitions = ndefs;
out:
	free(def_id);
	free(ref_id);
	free(ref_base);
	return rc;
}

int wd_map_build(wd_map **out, const char *workdir, const wd_map_opts *opts)
{
	wd_map_opts defaults = WD_MAP_OPTS_INIT;
	wd_strvec files = WD_STRVEC_INIT;
	struct statcache sc;
	wd_buf scfile = WD_BUF_INIT;
	struct job j;
	uint64_t t0 = wd_now_ms(), t1;
	wd_map *m;
	int rc, have_sc = 0;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != WD_MAP_OPTS_VERSION)
		return wd_error_set(WD_EUSAGE, "wd_map_opts version %u, expected %u", opts->version,
		                    WD_MAP_OPTS_VERSION);
	memset(&sc, 0, sizeof(sc));
	if (!(m = calloc(1, sizeof(*m))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	m->names.borrow = 1; /* names point into the files' tags, which live as long as the map */
	if (!(m->workdir = wd_realpath(workdir))) {
		rc = wd_error_set(WD_ENOTFOUND, "%s: no such directory", workdir);
		goto out;
	}
	if ((rc = wd_ctx_list_files(&files, m->workdir, opts->files)) != 0)
		goto out;
	m->stats.list_ms = wd_now_ms() - t0;
	m->nfiles = files.n;
	if (files.n && !(m->files = calloc(files.n, sizeof(*m->files)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	/* the files take ownership of the path strings; the vector keeps the array */
	for (size_t i = 0; i < files.n; i++) {
		m->files[i].path = files.v[i];
		m->files[i].lang = wd_lang_id_for_path(files.v[i]);
	}
	m->paths = files.v;
	files.v = NULL;
	files.n = files.cap = 0;
	wd_map__mark_vendored(m, opts->exclude);
	if (opts->cache_dir) {
		if ((rc = stat_cache_path(&scfile, opts->cache_dir, m->workdir)) != 0)
			goto out;
		statcache_load(&sc, scfile.ptr);
		have_sc = 1;
	}
	memset(&j, 0, sizeof(j));
	j.m = m;
	j.cache_dir = opts->cache_dir;
	j.sc = have_sc ? &sc : NULL;
	j.max_file = opts->max_file_bytes ? opts->max_file_bytes : DEFAULT_MAX_FILE;
	j.pid = (long)getpid();
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
	rc = run_workers(&j, thread_count(opts->threads, m->nfiles));
	m->stats.tags_ms = wd_now_ms() - t1;
	pthread_mutex_destroy(&j.lock);
	if (rc)
		goto out;
	for (size_t i = 0; i < m->nfiles; i++) {
		m->stats.parsed += m->files[i].state == MFILE_PARSED;
		m->stats.cached += m->files[i].state == MFILE_CACHED;
	}
	m->stats.files = m->nfiles;
	/* save the stat cache when it no longer describes the tree exactly; failing
	 * to save it only costs re-hashing next time */
	{
		size_t hits = 0;

		for (size_t i = 0; i < m->nfiles; i++)
			hits += m->files[i].stat_hit;
		if (opts->cache_dir && (hits != m->stats.parsed + m->stats.cached || hits != sc.paths.n) &&
		    statcache_save(m, scfile.ptr) != 0)
			wd_error_clear();
	}
	t1 = wd_now_ms();
	if ((rc = index_names(m, thread_count(opts->threads, m->nfiles))) != 0)
		goto out;
	m->stats.index_ms = wd_now_ms() - t1;
	m->stats.build_ms = wd_now_ms() - t0;
out:
	statcache_free(&sc);
	wd_buf_free(&scfile);
	wd_strvec_free(&files);
	if (rc) {
		wd_map_free(m);
		return rc;
	}
	*out = m;
	return 0;
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
	free(m->def_occ);
	free(m->ref_occ);
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

static int cmp_range(const void *a, const void *b)
{
	const wd_map_range *x = a, *y = b;

	if (x->start_line != y->start_line)
		return x->start_line < y->start_line ? -1 : 1;
	return x->end_line < y->end_line ? -1 : x->end_line > y->end_line;
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
	qsort(r, k, sizeof(*r), cmp_range);
	/* merge overlapping or nested ranges */
	{
		size_t w = 0;

		for (size_t i = 0; i < k; i++) {
			if (w && r[i].start_line <= r[w - 1].end_line + 1) {
				if (r[i].end_line > r[w - 1].end_line)
					r[w - 1].end_line = r[i].end_line;
				continue;
			}
			r[w++] = r[i];
		}
		k = w;
	}
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
