/*
 * The project's HTTP client over libcurl. The transfer runs through the multi
 * interface in our own loop so that the idle timeout (no byte for N ms, the
 * guard against a stream that stalls mid-way) is checked with ~50 ms precision
 * rather than curl's one-second low-speed granularity.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/http.h"
#include "warden/interrupt.h"

#define HTTP_DEFAULT_CONNECT_MS 10000L
#define HTTP_DEFAULT_TOTAL_MS   300000L
#define HTTP_DEFAULT_MAX_BODY   ((size_t)32 << 20)
#define HTTP_MAX_LINE           ((size_t)16 << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct xfer {
	const wd_http_request *req;
	wd_http_response *res;
	CURL *h;
	size_t max_body;
	wd_buf line;         /* partial line for on_line */
	uint64_t last_byte;  /* wd_now_ms() of the last byte received */
	int too_big;
	int aborted;         /* on_line asked to stop; cb_rc holds its code */
	int cb_rc;
	int oom;
};

const char *wd_http_fail_name(wd_http_fail f)
{
	switch (f) {
	case WD_HTTP_FAIL_NONE: return "none";
	case WD_HTTP_FAIL_CONNECT: return "connect";
	case WD_HTTP_FAIL_TIMEOUT: return "timeout";
	case WD_HTTP_FAIL_IDLE: return "idle";
	case WD_HTTP_FAIL_TOO_BIG: return "too_big";
	case WD_HTTP_FAIL_TRANSFER: return "transfer";
	case WD_HTTP_FAIL_ABORTED: return "aborted";
	}
	return "unknown";
}

static int status_is_2xx(const struct xfer *x)
{
	long code = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	return code >= 200 && code < 300;
}

static int deliver_line(struct xfer *x, const char *p, size_t len)
{
	int rc;

	if (len && p[len - 1] == '\r')
		len--;
	rc = x->req->on_line(x->req->ctx, p, len);
	if (rc) {
		x->aborted = 1;
		x->cb_rc = rc < 0 ? rc : WD_EINFRA;
		if (rc > 0)
			wd_error_set(WD_EINFRA, "the response stream was abandoned by its reader");
		return -1;
	}
	return 0;
}

/* Split newly arrived bytes into lines for on_line, keeping a partial tail. */
static int feed_lines(struct xfer *x, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		if (!nl) {
			if (x->line.len + k > HTTP_MAX_LINE) {
				x->too_big = 1;
				return -1;
			}
			if (wd_buf_put(&x->line, p, k)) {
				x->oom = 1;
				return -1;
			}
			return 0;
		}
		if (x->line.len) {
			if (wd_buf_put(&x->line, p, k)) {
				x->oom = 1;
				return -1;
			}
			if (deliver_line(x, x->line.ptr, x->line.len))
				return -1;
			wd_buf_clear(&x->line);
		} else if (deliver_line(x, p, k)) {
			return -1;
		}
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	x->last_byte = wd_now_ms();
	if (x->res->body.len + n > x->max_body) {
		x->too_big = 1;
		return 0;
	}
	if (wd_buf_put(&x->res->body, p, n)) {
		x->oom = 1;
		return 0;
	}
	if (x->req->on_line && status_is_2xx(x) && feed_lines(x, p, n))
		return 0;
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, len = n;
	char *line;

	x->last_byte = wd_now_ms();
	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100-continue or a redirect): forget the old headers */
		wd_strvec_free(&x->res->headers);
		return n;
	}
	if (len == 0)
		return n;
	if (len > 15 && strncasecmp(p, "content-length:", 15) == 0) {
		unsigned long long cl = strtoull(p + 15, NULL, 10);

		if (cl > x->max_body) {
			x->too_big = 1;
			return 0;
		}
	}
	line = wd_strndup(p, len);
	if (!line || wd_strvec_push_owned(&x->res->headers, line)) {
		x->oom = 1;
		return 0;
	}
	return n;
}

const char *wd_http_header(const wd_http_response *r, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < r->headers.n; i++) {
		const char *h = r->headers.v[i];

		if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
			h += nlen + 1;
			while (*h == ' ' || *h == '\t')
				h++;
			return h;
		}
	}
	return NULL;
}

/* retry-after-ms (milliseconds, sent by OpenAI) wins over Retry-After, which is
 * either delta-seconds or an HTTP date. */
static long parse_retry_after(const wd_http_response *r)
{
	const char *v = wd_http_header(r, "retry-after-ms");
	char *end;

	if (v) {
		double ms = strtod(v, &end);

		if (end != v && ms >= 0 && ms < 1e9)
			return (long)ms;
	}
	v = wd_http_header(r, "retry-after");
	if (!v)
		return -1;
	if (isdigit((unsigned char)*v)) {
		double sec = strtod(v, &end);

		if (end != v && sec >= 0 && sec < 1e6)
			return (long)(sec * 1000);
		return -1;
	}
	{
		time_t when = curl_getdate(v, NULL);
		time_t now = time(NULL);

		if (when == (time_t)-1)
			return -1;
		return when > now ? (long)(when - now) * 1000L : 0;
	}
}

static wd_http_fail classify(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return WD_HTTP_FAIL_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return WD_HTTP_FAIL_TIMEOUT;
	default:
		return WD_HTTP_FAIL_TRANSFER;
	}
}

static int on_xferinfo(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)p; (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
	return wd_interrupt_signal() != 0;
}

static int setup(struct xfer *x, struct curl_slist **hl, char *errbuf)
{
	const wd_http_request *req = x->req;
	const char *method = req->method;
	size_t blen = req->body ? (req->body_len ? req->body_len : strlen(req->body)) : 0;
	CURL *h = x->h;
	struct curl_slist *n;

	if (!method)
		method = req->body ? "POST" : "GET";
	/* Expect: 100-continue would add a round trip (and a 1 s stall on servers that ignore it) */
	n = curl_slist_append(*hl, "Expect:");
	if (!n)
		return wd_error_set(WD_ENOMEM, "out of memory");
	*hl = n;
	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		n = curl_slist_append(*hl, req->headers[i]);
		if (!n)
			return wd_error_set(WD_ENOMEM, "out of memory");
		*hl = n;
	}
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* long streams through NAT and proxies: keep the idle connection known alive */
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	/* SIGINT/SIGTERM to warden end a transfer within a second */
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hl);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "warden/0.1");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 req->connect_timeout_ms > 0 ? req->connect_timeout_ms : HTTP_DEFAULT_CONNECT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
	                 req->timeout_ms > 0 ? req->timeout_ms : HTTP_DEFAULT_TOTAL_MS);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else {
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (req->body || strcmp(method, "POST") == 0) {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		}
	}
	return 0;
}

/* Drive the transfer; returns the curl result, or sets *idle when the idle timeout fired. */
static CURLcode run(struct xfer *x, CURLM *m, int *idle)
{
	long idle_ms = x->req->idle_timeout_ms;
	int poll_ms = 50;
	CURLcode cc = CURLE_OK;
	int running = 1;

	if (idle_ms > 0 && idle_ms / 4 < poll_ms)
		poll_ms = idle_ms / 4 > 1 ? (int)(idle_ms / 4) : 1;
	x->last_byte = wd_now_ms();
	while (running) {
		CURLMcode mc = curl_multi_perform(m, &running);

		if (mc != CURLM_OK)
			return CURLE_FAILED_INIT;
		if (!running)
			break;
		if (idle_ms > 0 && wd_now_ms() - x->last_byte >= (uint64_t)idle_ms) {
			*idle = 1;
			return CURLE_OPERATION_TIMEDOUT;
		}
		mc = curl_multi_poll(m, NULL, 0, poll_ms, NULL);
		if (mc != CURLM_OK)
			return CURLE_FAILED_INIT;
	}
	for (;;) {
		int left;
		CURLMsg *msg = curl_multi_info_read(m, &left);

		if (!msg)
			break;
		if (msg->msg == CURLMSG_DONE)
			cc = msg->data.result;
	}
	return cc;
}

static int report(struct xfer *x, CURLcode cc, int idle, const char *errbuf)
{
	wd_http_response *res = x->res;
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	if (x->oom) {
		res->fail = WD_HTTP_FAIL_TRANSFER;
		return wd_error_set(WD_ENOMEM, "out of memory reading the response");
	}
	if (x->aborted) {
		res->fail = WD_HTTP_FAIL_ABORTED;
		return x->cb_rc;
	}
	if (x->too_big) {
		res->fail = WD_HTTP_FAIL_TOO_BIG;
		return wd_error_set(WD_EINFRA, "response body larger than the %zu-byte limit", x->max_body);
	}
	if (idle) {
		res->fail = WD_HTTP_FAIL_IDLE;
		return wd_error_set(WD_ETIMEOUT, "no data for %ld ms (idle timeout)",
		                    x->req->idle_timeout_ms);
	}
	res->fail = classify(cc);
	if (res->fail == WD_HTTP_FAIL_TIMEOUT)
		return wd_error_set(WD_ETIMEOUT, "%s", detail);
	return wd_error_set(WD_EINFRA, "%s", detail);
}

int wd_http_perform(wd_http_response *out, const wd_http_request *req)
{
	struct xfer x = { 0 };
	struct curl_slist *hl = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	uint64_t t0 = wd_now_ms();
	CURLM *m = NULL;
	CURLcode cc;
	int idle = 0, rc;

	wd_buf_clear(&out->body);
	wd_strvec_free(&out->headers);
	out->status = 0;
	out->retry_after_ms = -1;
	out->fail = WD_HTTP_FAIL_NONE;
	out->elapsed_ms = 0;
	if (!req || !req->url || !*req->url)
		return wd_error_set(WD_EUSAGE, "HTTP request without a URL");
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return wd_error_set(WD_EINFRA, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	x.req = req;
	x.res = out;
	x.max_body = req->max_body ? req->max_body : HTTP_DEFAULT_MAX_BODY;
	x.h = curl_easy_init();
	m = curl_multi_init();
	if (!x.h || !m) {
		rc = wd_error_set(WD_ENOMEM, "libcurl: cannot create a handle");
		goto out;
	}
	if ((rc = setup(&x, &hl, errbuf)) != 0)
		goto out;
	if (curl_multi_add_handle(m, x.h) != CURLM_OK) {
		rc = wd_error_set(WD_EINFRA, "libcurl: cannot start the transfer");
		goto out;
	}
	cc = run(&x, m, &idle);
	curl_multi_remove_handle(m, x.h);
	curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &out->status);
	out->retry_after_ms = parse_retry_after(out);
	if (cc != CURLE_OK || idle) {
		rc = report(&x, cc, idle, errbuf);
		goto out;
	}
	/* the last line of a stream need not end with a newline */
	if (req->on_line && x.line.len && out->status >= 200 && out->status < 300 &&
	    deliver_line(&x, x.line.ptr, x.line.len)) {
		rc = report(&x, cc, 0, errbuf);
		goto out;
	}
	if (!out->body.ptr && (rc = wd_buf_grow(&out->body, 0)) != 0)
		goto out;
	rc = 0;
out:
	out->elapsed_ms = wd_now_ms() - t0;
	if (m)
		curl_multi_cleanup(m);
	if (x.h)
		curl_easy_cleanup(x.h);
	curl_slist_free_all(hl);
	wd_buf_free(&x.line);
	return rc;
}

void wd_http_response_free(wd_http_response *r)
{
	if (!r)
		return;
	wd_buf_free(&r->body);
	wd_strvec_free(&r->headers);
	r->status = 0;
	r->retry_after_ms = -1;
	r->fail = WD_HTTP_FAIL_NONE;
}
