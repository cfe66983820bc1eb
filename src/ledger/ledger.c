/*
 * The audit ledger: JSONL, one event per line, appended with O_APPEND and
 * fdatasync'd so that whatever happens later, every earlier event is on disk
 * and readable. The envelope fields (seq, ts, run, type) come first; every
 * string, keys included, goes through the redactor before it is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/json.h"
#include "warden/ledger.h"

/* How much of an existing ledger's tail is read to find the last seq. */
#define TAIL_BYTES 65536

struct wd_ledger {
	char *path;
	char *dir;               /* the directory the ledger is in */
	char *run_id;
	unsigned long long seq;  /* seq of the next event */
	int err;                 /* the first write error (sticky), 0 when none */
	char *errmsg;
	pthread_mutex_t lock;
};

/* Remember the first failure: it fails the run even when the caller ignored it. */
static int sticky(wd_ledger *l, int rc)
{
	if (!rc || !l)
		return rc;
	pthread_mutex_lock(&l->lock);
	if (!l->err) {
		l->err = rc;
		l->errmsg = wd_strdup(wd_error_last());
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* The seq after the last complete event in buf[0..n), which starts at file
 * offset `off`; 0 when none was found (*partial when only a cut line was). */
static unsigned long long last_seq_in(char *buf, size_t n, off_t off, int *partial)
{
	*partial = 0;
	/* Walk the complete lines backwards; the first that parses wins. */
	while (n > 0) {
		char *end = buf + n, *start;
		json_t *ev, *seq;

		while (end > buf && end[-1] == '\n')
			end--;
		*end = '\0';
		start = end;
		while (start > buf && start[-1] != '\n')
			start--;
		if (start == buf && off > 0) {
			*partial = 1; /* the line began before what was read */
			return 0;
		}
		ev = json_loads(start, 0, NULL);
		seq = json_object_get(ev, "seq");
		if (json_is_integer(seq) && json_integer_value(seq) >= 0) {
			unsigned long long next = (unsigned long long)json_integer_value(seq) + 1;

			json_decref(ev);
			return next;
		}
		json_decref(ev);
		n = (size_t)(start - buf);
	}
	return 0;
}

/* The seq after the last complete event in an existing file (0 when none).
 * Reads the tail, and more of it when one event is longer than the tail. */
static unsigned long long next_seq_from(const char *path)
{
	unsigned long long next = 0;
	size_t want = TAIL_BYTES;
	struct stat st;
	int fd, partial = 1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || st.st_size == 0)
		goto out;
	while (partial) {
		off_t off = (off_t)want < st.st_size ? st.st_size - (off_t)want : 0;
		size_t len = (size_t)(st.st_size - off);
		char *buf = malloc(len + 1);
		ssize_t n;

		if (!buf)
			break;
		n = pread(fd, buf, len, off);
		if (n <= 0) {
			free(buf);
			break;
		}
		buf[n] = '\0';
		next = last_seq_in(buf, (size_t)n, off, &partial);
		free(buf);
		if (off == 0 || want > ((size_t)1 << 30))
			break;
		want *= 8;
	}
out:
	close(fd);
	return next;
}

int wd_ledger_open(wd_ledger **out, const char *path, const char *run_id)
{
	wd_ledger *l;
	char *dir, *slash;
	int rc;

	*out = NULL;
	if (!path || !*path || !run_id || !*run_id)
		return wd_error_set(WD_EUSAGE, "ledger: a path and a run id are required");
	if (!(dir = wd_strdup(path)))
		return WD_ENOMEM;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		rc = wd_mkdir_p(dir, 1);
		if (rc) {
			free(dir);
			return wd_error_wrap(rc, "ledger");
		}
	} else {
		free(dir);
		dir = wd_strdup(slash ? "/" : ".");
		if (!dir)
			return WD_ENOMEM;
	}
	if (!(l = calloc(1, sizeof(*l)))) {
		free(dir);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	l->dir = dir;
	if (!(l->path = wd_strdup(path)) || !(l->run_id = wd_strdup(run_id))) {
		free(l->path);
		free(l->dir);
		free(l);
		return WD_ENOMEM;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->seq = next_seq_from(path);
	*out = l;
	return 0;
}

static int ledger_add(wd_ledger *l, const char *type, json_t *fields)
{
	json_t *ev = NULL;
	char ts[32];
	char *line = NULL;
	const char *key;
	json_t *val;
	int rc = 0;

	if (!l) {
		json_decref(fields);
		return 0;
	}
	if (!type || !*type) {
		rc = wd_error_set(WD_EUSAGE, "ledger: event without a type");
		goto out;
	}
	if (!fields) {
		/* a json_pack that failed: an event without its fields would say
		 * something that did not happen */
		rc = wd_error_set(WD_ENOMEM, "ledger: the fields of event '%s' could not be "
		                             "built (out of memory)", type);
		goto out;
	}
	if (!json_is_object(fields)) {
		rc = wd_error_set(WD_EUSAGE, "ledger: fields of '%s' are not an object", type);
		goto out;
	}
	pthread_mutex_lock(&l->lock);
	wd_now_iso(ts);
	ev = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)l->seq, "ts", ts,
	               "run", l->run_id, "type", type);
	if (!ev) {
		pthread_mutex_unlock(&l->lock);
		rc = wd_error_set(WD_ENOMEM, "ledger: out of memory");
		goto out;
	}
	/* The envelope wins: a field named like an envelope key is kept under "_" + name. */
	for (void *it = json_object_iter(fields); it; it = json_object_iter_next(fields, it)) {
		key = json_object_iter_key(it);
		val = json_object_iter_value(it);
		if (json_object_get(ev, key)) {
			wd_buf alt = WD_BUF_INIT;

			if (wd_buf_printf(&alt, "_%s", key) == 0)
				json_object_set(ev, alt.ptr, val);
			wd_buf_free(&alt);
			continue;
		}
		json_object_set(ev, key, val);
	}
	wd_redact_json(ev);
	line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII | WD_JSON_REALS);
	if (!line) {
		pthread_mutex_unlock(&l->lock);
		rc = wd_error_set(WD_ENOMEM, "ledger: cannot encode event '%s'", type);
		goto out;
	}
	rc = wd_file_append(l->path, line, strlen(line), 1);
	if (!rc) {
		l->seq++;
		/* The index of the ledgers (index.c) looks for changed ledgers only
		 * when their directory's times moved: an append to an existing file
		 * does not move them, so the writer does. Best effort: the event is
		 * on disk either way, and `warden log --reindex` reads everything. */
		(void)utimensat(AT_FDCWD, l->dir, NULL, 0);
	}
	pthread_mutex_unlock(&l->lock);
	if (rc)
		rc = wd_error_wrap(rc, "ledger");
out:
	free(line);
	json_decref(ev);
	json_decref(fields);
	return rc;
}

int wd_ledger_add(wd_ledger *l, const char *type, json_t *fields)
{
	return sticky(l, ledger_add(l, type, fields));
}

int wd_ledger_error(const wd_ledger *l, const char **msg)
{
	if (msg)
		*msg = l && l->errmsg ? l->errmsg : "";
	return l ? l->err : 0;
}

/* <dir of the ledger>/blobs */
static int blob_dir(wd_buf *out, const char *ledger_path)
{
	const char *slash = strrchr(ledger_path, '/');

	wd_buf_clear(out);
	if (slash && wd_buf_put(out, ledger_path, (size_t)(slash - ledger_path + 1)) != 0)
		return WD_ENOMEM;
	return wd_buf_puts(out, "blobs");
}

int wd_ledger_blob_hex_ok(const char *hex)
{
	size_t i;

	if (!hex)
		return 0;
	for (i = 0; hex[i]; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return 0;
	return i == 40;
}

int wd_ledger_blob_path(wd_buf *out, const char *ledger_path, const char *hex)
{
	if (!wd_ledger_blob_hex_ok(hex))
		return wd_error_set(WD_EINPUT, "ledger: '%.60s' is not a blob id", hex ? hex : "");
	if (blob_dir(out, ledger_path) != 0 || wd_buf_printf(out, "/%.2s/%s", hex, hex + 2) != 0)
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

static int store_blob(wd_ledger *l, const void *data, size_t len, char hex[41])
{
	wd_buf b = WD_BUF_INIT, path = WD_BUF_INIT;
	char *slash;
	int rc;

	if (wd_buf_put(&b, data, len) != 0 || wd_redact_buf(&b) != 0) {
		rc = wd_error_set(WD_ENOMEM, "ledger: out of memory");
		goto out;
	}
	if ((rc = wd_hash_hex(hex, b.ptr ? b.ptr : "", b.len)) != 0 ||
	    (rc = wd_ledger_blob_path(&path, l->path, hex)) != 0)
		goto out;
	if (wd_path_exists(path.ptr))
		goto out;  /* stored once: the same bytes are already there */
	slash = path.ptr ? strrchr(path.ptr, '/') : NULL;
	if (!slash) {
		rc = wd_error_set(WD_EINFRA, "ledger: no directory for a blob");
		goto out;
	}
	*slash = '\0';
	rc = wd_mkdir_p(path.ptr, 1);
	*slash = '/';
	if (!rc)
		rc = wd_file_write_atomic(path.ptr, b.ptr ? b.ptr : "", b.len, 0600);
	if (rc)
		rc = wd_error_wrap(rc, "ledger: storing a blob");
out:
	wd_buf_free(&b);
	wd_buf_free(&path);
	return rc;
}

int wd_ledger_blob(wd_ledger *l, const void *data, size_t len, char hex[41])
{
	hex[0] = '\0';
	if (!l)
		return 0;
	if (!data && len)
		return sticky(l, wd_error_set(WD_EUSAGE, "ledger: a blob without data"));
	return sticky(l, store_blob(l, data ? data : "", len, hex));
}

json_t *wd_ledger_blob_ref(wd_ledger *l, const char *s)
{
	char hex[41];

	if (!l || !s || wd_ledger_blob(l, s, strlen(s), hex) != 0)
		return json_null();
	return json_string(hex);
}

int wd_ledger_blob_read(wd_buf *out, const char *ledger_path, const char *hex, size_t max)
{
	wd_buf path = WD_BUF_INIT;
	int rc;

	if ((rc = wd_ledger_blob_path(&path, ledger_path, hex)) == 0)
		rc = wd_file_read(out, path.ptr, max);
	wd_buf_free(&path);
	return rc;
}

const char *wd_ledger_path(const wd_ledger *l)
{
	return l ? l->path : NULL;
}

const char *wd_ledger_run_id(const wd_ledger *l)
{
	return l ? l->run_id : NULL;
}

unsigned long long wd_ledger_next_seq(const wd_ledger *l)
{
	return l ? l->seq : 0;
}

int wd_ledger_read(json_t **out, const char *path, size_t max_bytes)
{
	wd_buf raw = WD_BUF_INIT;
	json_t *events = NULL;
	size_t lineno = 0;
	char *p, *end;
	int rc;

	*out = NULL;
	if ((rc = wd_file_read(&raw, path, max_bytes)) != 0)
		return wd_error_wrap(rc, "ledger");
	if (!(events = json_array())) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	p = raw.ptr;
	end = raw.ptr + raw.len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		json_error_t err;
		json_t *ev;

		lineno++;
		if (n == 0) {
			p = nl ? nl + 1 : end;
			continue;
		}
		ev = json_loadb(p, n, 0, &err);
		if (!ev || !json_is_object(ev)) {
			json_decref(ev);
			/* the last line may be torn by a crash mid-write: that is expected */
			if (!nl)
				break;
			rc = wd_error_set(WD_EINPUT, "%s:%zu: not a ledger event (%s)", path, lineno,
			                  ev ? "not an object" : err.text);
			goto out;
		}
		if (json_array_append_new(events, ev) != 0) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
		p = nl ? nl + 1 : end;
	}
	*out = events;
	events = NULL;
out:
	json_decref(events);
	wd_buf_free(&raw);
	return rc;
}

void wd_ledger_close(wd_ledger *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->errmsg);
	free(l->dir);
	free(l->path);
	free(l->run_id);
	free(l);
}
