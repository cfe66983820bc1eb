/*
 * The loopback HTTP server the tests script (see mockhttp.h). libmicrohttpd
 * runs one thread per connection, so a handler may block (delays, hangs,
 * stalled streams) without holding up other connections; every wait is on a
 * condition variable that mock_stop() broadcasts, so stopping never waits for
 * a scripted delay to run out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mockhttp.h"

struct mock_hdr {
	char *name;
	char *value;
};

struct mock_req {
	char *method;
	char *path;
	char *body;
	struct mock_hdr *hdrs;
	size_t nhdrs;
};

/* A reply as owned by the server (strings copied). */
struct mock_item {
	mock_reply r;
	char *ctype;
	char *headers;
	char *body;
};

struct mock_server {
	struct MHD_Daemon *d;
	char url[64];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	struct mock_item *fifo;
	size_t nfifo, capfifo, head;
	struct mock_item dflt;
	struct mock_req *reqs;
	size_t nreqs, capreqs;
};

/* Per-request state: the raw URI (from the URI log callback) and the upload. */
struct mock_conn {
	char *uri;
	char *body;
	size_t len, cap;
	int seen;
};

/* State of a streamed (callback) response. */
struct mock_stream {
	mock_server *s;
	char *body;
	size_t body_len;
	size_t total;
	unsigned flags;
	unsigned chunk_delay_ms;
	size_t *ends;   /* SSE: end offset of each event */
	size_t nevents;
	size_t event;   /* SSE: next event to send */
	size_t off;     /* SSE: bytes of body already sent */
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

static void item_set(struct mock_item *it, const mock_reply *r)
{
	size_t blen = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;

	it->r = *r;
	it->ctype = xstrdup(r->content_type);
	it->headers = xstrdup(r->headers);
	it->body = xstrndup(r->body ? r->body : "", blen);
	it->r.body_len = blen;
	it->r.content_type = it->ctype;
	it->r.headers = it->headers;
	it->r.body = it->body;
}

static void item_free(struct mock_item *it)
{
	free(it->ctype);
	free(it->headers);
	free(it->body);
	memset(it, 0, sizeof(*it));
}

/* Wait up to ms (forever when ms == 0 and forever != 0); 1 when stopping. */
static int wait_or_stop(mock_server *s, unsigned ms, int forever)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		if (forever) {
			pthread_cond_wait(&s->cv, &s->mu);
		} else if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) {
			break;
		}
	}
	stop = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct mock_conn *c = calloc(1, sizeof(*c));

	(void)cls;
	(void)con;
	if (c)
		c->uri = xstrdup(uri ? uri : "");
	return c;
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct mock_conn *c = *con_cls;

	(void)cls;
	(void)con;
	(void)toe;
	if (c) {
		free(c->uri);
		free(c->body);
		free(c);
	}
	*con_cls = NULL;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
	struct mock_req *r = cls;
	struct mock_hdr *h = realloc(r->hdrs, (r->nhdrs + 1) * sizeof(*h));

	(void)kind;
	if (!h)
		abort();
	r->hdrs = h;
	h[r->nhdrs].name = xstrdup(key);
	h[r->nhdrs].value = xstrdup(value ? value : "");
	r->nhdrs++;
	return MHD_YES;
}

static void record_request(mock_server *s, struct MHD_Connection *con, const char *method,
                           struct mock_conn *c)
{
	struct mock_req r = { 0 };

	r.method = xstrdup(method);
	r.path = xstrdup(c->uri);
	r.body = xstrndup(c->body ? c->body : "", c->len);
	MHD_get_connection_values(con, MHD_HEADER_KIND, collect_header, &r);
	pthread_mutex_lock(&s->mu);
	if (s->nreqs == s->capreqs) {
		size_t cap = s->capreqs ? s->capreqs * 2 : 16;
		struct mock_req *v = realloc(s->reqs, cap * sizeof(*v));

		if (!v)
			abort();
		s->reqs = v;
		s->capreqs = cap;
	}
	s->reqs[s->nreqs++] = r;
	pthread_mutex_unlock(&s->mu);
}

/* Take the next scripted reply (a copy the caller frees). */
static void next_reply(mock_server *s, struct mock_item *out)
{
	pthread_mutex_lock(&s->mu);
	if (s->head < s->nfifo) {
		*out = s->fifo[s->head];
		memset(&s->fifo[s->head], 0, sizeof(s->fifo[s->head]));
		s->head++;
	} else {
		item_set(out, &s->dflt.r);
	}
	pthread_mutex_unlock(&s->mu);
}

static ssize_t read_plain(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct mock_stream *st = cls;
	size_t limit = (st->flags & MOCK_TRUNCATE) ? st->total / 2 : st->total;
	size_t n, done = 0;

	if (pos >= limit)
		return (st->flags & MOCK_TRUNCATE) ? MHD_CONTENT_READER_END_WITH_ERROR
		                                   : MHD_CONTENT_READER_END_OF_STREAM;
	n = limit - (size_t)pos < max ? limit - (size_t)pos : max;
	if (st->body_len == 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	while (done < n) {
		size_t at = ((size_t)pos + done) % st->body_len;
		size_t k = st->body_len - at;

		if (k > n - done)
			k = n - done;
		memcpy(buf + done, st->body + at, k);
		done += k;
	}
	return (ssize_t)n;
}

/* Where SSE output stops early (MOCK_TRUNCATE / MOCK_STALL): half the events,
 * at least one, and never all of them. */
static size_t sse_cut(const struct mock_stream *st)
{
	size_t cut = st->nevents / 2;

	if (cut == 0)
		cut = 1;
	if (cut >= st->nevents && st->nevents > 0)
		cut = st->nevents - 1;
	return cut;
}

static ssize_t read_sse(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct mock_stream *st = cls;
	size_t end, n;

	(void)pos;
	if ((st->flags & (MOCK_TRUNCATE | MOCK_STALL)) && st->event == sse_cut(st) &&
	    (st->event == 0 || st->off == st->ends[st->event - 1])) {
		if (st->flags & MOCK_STALL)
			wait_or_stop(st->s, 0, 1);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (st->event >= st->nevents)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (st->event > 0 && st->off == st->ends[st->event - 1] && st->chunk_delay_ms &&
	    wait_or_stop(st->s, st->chunk_delay_ms, 0))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	end = st->ends[st->event];
	n = end - st->off < max ? end - st->off : max;
	memcpy(buf, st->body + st->off, n);
	st->off += n;
	if (st->off == end)
		st->event++;
	return (ssize_t)n;
}

static void free_stream(void *cls)
{
	struct mock_stream *st = cls;

	free(st->body);
	free(st->ends);
	free(st);
}

/* Split an SSE body after each blank line ("\n\n"); a tail without one is a last event. */
static void sse_split(struct mock_stream *st)
{
	size_t i = 0;

	st->ends = xmalloc((st->body_len + 1) * sizeof(size_t));
	while (i < st->body_len) {
		const char *p = memmem(st->body + i, st->body_len - i, "\n\n", 2);
		size_t end = p ? (size_t)(p - st->body) + 2 : st->body_len;

		st->ends[st->nevents++] = end;
		i = end;
	}
}

static struct MHD_Response *make_response(mock_server *s, struct mock_item *it)
{
	const mock_reply *r = &it->r;
	struct mock_stream *st;
	int streamed = (r->flags & (MOCK_TRUNCATE | MOCK_SSE | MOCK_STALL)) ||
	               r->total_len > r->body_len;

	if (!streamed)
		return MHD_create_response_from_buffer(r->body_len, it->body, MHD_RESPMEM_MUST_COPY);
	st = calloc(1, sizeof(*st));
	if (!st)
		abort();
	st->s = s;
	st->body = it->body;
	it->body = NULL;
	st->body_len = r->body_len;
	st->total = r->total_len > r->body_len ? r->total_len : r->body_len;
	st->flags = r->flags;
	st->chunk_delay_ms = r->chunk_delay_ms;
	if (r->flags & MOCK_SSE) {
		sse_split(st);
		return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_sse, st,
		                                         free_stream);
	}
	return MHD_create_response_from_callback(st->total, 65536, read_plain, st, free_stream);
}

static void add_headers(struct MHD_Response *resp, const mock_reply *r)
{
	const char *ct = r->content_type;
	const char *p = r->headers;

	if (!ct)
		ct = (r->flags & MOCK_SSE) ? "text/event-stream" : "application/json";
	MHD_add_response_header(resp, "Content-Type", ct);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len);
		char *colon = strchr(line, ':');

		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (colon) {
			char *v = colon + 1;

			*colon = '\0';
			while (*v == ' ')
				v++;
			MHD_add_response_header(resp, line, v);
		}
		free(line);
		p = nl ? nl + 1 : p + len;
	}
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	mock_server *s = cls;
	struct mock_conn *c = *con_cls;
	struct mock_item it = { 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)url;
	(void)version;
	if (!c)
		return MHD_NO;
	if (!c->seen) {
		c->seen = 1;
		return MHD_YES;
	}
	if (*upload_size) {
		if (c->len + *upload_size + 1 > c->cap) {
			size_t cap = c->cap ? c->cap : 4096;
			char *b;

			while (cap < c->len + *upload_size + 1)
				cap *= 2;
			b = realloc(c->body, cap);
			if (!b)
				return MHD_NO;
			c->body = b;
			c->cap = cap;
		}
		memcpy(c->body + c->len, upload, *upload_size);
		c->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	record_request(s, con, method, c);
	next_reply(s, &it);
	if (it.r.delay_ms && wait_or_stop(s, it.r.delay_ms, 0)) {
		item_free(&it);
		return MHD_NO;
	}
	if (it.r.flags & MOCK_HANG)
		wait_or_stop(s, 0, 1);
	if (it.r.flags & (MOCK_HANG | MOCK_CLOSE)) {
		item_free(&it);
		return MHD_NO;
	}
	resp = make_response(s, &it);
	if (!resp) {
		item_free(&it);
		return MHD_NO;
	}
	add_headers(resp, &it.r);
	ret = MHD_queue_response(con, (unsigned)it.r.status, resp);
	MHD_destroy_response(resp);
	item_free(&it);
	return ret;
}

/* A proxy in the environment must not capture loopback requests (curl
 * honours no_proxy; the warden subprocesses of a test inherit it too). */
static void bypass_proxy(void)
{
	const char *np = getenv("no_proxy");
	char buf[4096];

	if (!getenv("http_proxy") && !getenv("HTTP_PROXY") && !getenv("https_proxy") &&
	    !getenv("HTTPS_PROXY") && !getenv("all_proxy") && !getenv("ALL_PROXY"))
		return;
	if (np && strstr(np, "127.0.0.1"))
		return;
	snprintf(buf, sizeof(buf), "%s%s127.0.0.1,localhost", np ? np : "", np && *np ? "," : "");
	setenv("no_proxy", buf, 1);
	setenv("NO_PROXY", buf, 1);
}

int mock_start(mock_server **out)
{
	mock_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	mock_reply dflt = { .status = 500, .body = "{\"error\":\"no scripted reply\"}" };

	*out = NULL;
	if (!s)
		return -1;
	bypass_proxy();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	item_set(&s->dflt, &dflt);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
	                        NULL, NULL, handler, s,
	                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                        MHD_OPTION_URI_LOG_CALLBACK, uri_log, s,
	                        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	                        MHD_OPTION_END);
	if (!s->d) {
		mock_stop(s);
		return -1;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port) {
		mock_stop(s);
		return -1;
	}
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", (unsigned)info->port);
	*out = s;
	return 0;
}

const char *mock_url(const mock_server *s)
{
	return s->url;
}

void mock_push(mock_server *s, const mock_reply *r)
{
	pthread_mutex_lock(&s->mu);
	if (s->nfifo == s->capfifo) {
		size_t cap = s->capfifo ? s->capfifo * 2 : 16;
		struct mock_item *v = realloc(s->fifo, cap * sizeof(*v));

		if (!v)
			abort();
		s->fifo = v;
		s->capfifo = cap;
	}
	item_set(&s->fifo[s->nfifo++], r);
	pthread_mutex_unlock(&s->mu);
}

void mock_push_json(mock_server *s, int status, const char *body)
{
	mock_reply r = { .status = status, .body = body };

	mock_push(s, &r);
}

void mock_set_default(mock_server *s, const mock_reply *r)
{
	pthread_mutex_lock(&s->mu);
	item_free(&s->dflt);
	item_set(&s->dflt, r);
	pthread_mutex_unlock(&s->mu);
}

size_t mock_request_count(mock_server *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->nreqs;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* The strings are never freed before mock_stop, so returning them unlocked is safe;
 * the array itself may move, so copy the pointer under the lock. */
const char *mock_request_method(mock_server *s, size_t i)
{
	const char *v = NULL;

	pthread_mutex_lock(&s->mu);
	if (i < s->nreqs)
		v = s->reqs[i].method;
	pthread_mutex_unlock(&s->mu);
	return v;
}

const char *mock_request_path(mock_server *s, size_t i)
{
	const char *v = NULL;

	pthread_mutex_lock(&s->mu);
	if (i < s->nreqs)
		v = s->reqs[i].path;
	pthread_mutex_unlock(&s->mu);
	return v;
}

const char *mock_request_body(mock_server *s, size_t i)
{
	const char *v = NULL;

	pthread_mutex_lock(&s->mu);
	if (i < s->nreqs)
		v = s->reqs[i].body;
	pthread_mutex_unlock(&s->mu);
	return v;
}

const char *mock_request_header(mock_server *s, size_t i, const char *name)
{
	const char *v = NULL;

	pthread_mutex_lock(&s->mu);
	if (i < s->nreqs) {
		const struct mock_req *r = &s->reqs[i];

		for (size_t k = 0; k < r->nhdrs && !v; k++)
			if (strcasecmp(r->hdrs[k].name, name) == 0)
				v = r->hdrs[k].value;
	}
	pthread_mutex_unlock(&s->mu);
	return v;
}

char *mock_openai_chat_body(const char *content, int in_tokens, int out_tokens)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:s, s:s?}, s:s}], "
	                      "s:{s:i, s:i, s:i}}",
	                      "id", "chatcmpl-mock", "object", "chat.completion",
	                      "created", 1764000000, "model", "mock-model",
	                      "choices", "index", 0, "message", "role", "assistant",
	                      "content", content, "finish_reason", "stop",
	                      "usage", "prompt_tokens", in_tokens,
	                      "completion_tokens", out_tokens, "total_tokens", in_tokens + out_tokens);
	char *s;

	if (!o)
		abort();
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

const char *mock_refused_url(void)
{
	static char url[64];
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* bind to an ephemeral port and close without listening: nothing answers there */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		if (fd >= 0)
			close(fd);
		snprintf(url, sizeof(url), "http://127.0.0.1:1");
		return url;
	}
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	return url;
}

void mock_stop(mock_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->d)
		MHD_stop_daemon(s->d);
	for (size_t i = s->head; i < s->nfifo; i++)
		item_free(&s->fifo[i]);
	free(s->fifo);
	item_free(&s->dflt);
	for (size_t i = 0; i < s->nreqs; i++) {
		for (size_t k = 0; k < s->reqs[i].nhdrs; k++) {
			free(s->reqs[i].hdrs[k].name);
			free(s->reqs[i].hdrs[k].value);
		}
		free(s->reqs[i].hdrs);
		free(s->reqs[i].method);
		free(s->reqs[i].path);
		free(s->reqs[i].body);
	}
	free(s->reqs);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
