#ifndef WARDEN_HTTP_H
#define WARDEN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "warden/buf.h"

/*
 * The one HTTP client of the project (libcurl). One call = one request and
 * its complete response; no retries here (callers decide, since what is worth
 * retrying depends on the API). Redirects are not followed unless asked.
 *
 * Success (0) means a complete HTTP response arrived, whatever its status:
 * look at out->status. A negative return means no usable response:
 *   WD_EINFRA   could not connect, connection dropped, truncated body,
 *               body larger than max_body (out->fail says which)
 *   WD_ETIMEOUT the connect, total or idle timeout passed
 *   WD_ENOMEM
 * and the error message is the transport detail alone ("Failed to connect to
 * 127.0.0.1 port 9: Connection refused"), for the caller to put in context.
 * Headers and body are never copied into error messages.
 */

/* Called with each line of a 2xx response body as it arrives (without the
 * "\n" or "\r\n"; the last line is delivered even without a newline).
 * Return 0 to go on. A negative wd error code (with its message set by the
 * callback) aborts the transfer and is returned by wd_http_perform as is; a
 * positive value aborts with WD_EINFRA. Either way fail = WD_HTTP_FAIL_ABORTED. */
typedef int (*wd_http_line_fn)(void *ctx, const char *line, size_t len);

typedef struct wd_http_request {
	unsigned version;
	const char *method;          /* NULL: "POST" when body is set, else "GET" */
	const char *url;
	const char *const *headers;  /* NULL-terminated "Name: value" strings, may be NULL */
	const char *body;            /* request body, may be NULL */
	size_t body_len;             /* 0 = strlen(body) */
	long connect_timeout_ms;     /* 0 = 10 s */
	long timeout_ms;             /* whole transfer; 0 = 300 s */
	long idle_timeout_ms;        /* fail when no byte arrives for this long; 0 = off */
	size_t max_body;             /* response body cap in bytes; 0 = 32 MiB */
	int follow_redirects;        /* 0 = a 3xx is returned as is */
	wd_http_line_fn on_line;     /* may be NULL */
	void *ctx;                   /* passed to on_line */
} wd_http_request;

#define WD_HTTP_REQUEST_VERSION 1
#define WD_HTTP_REQUEST_INIT { WD_HTTP_REQUEST_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, NULL }

typedef enum wd_http_fail {
	WD_HTTP_FAIL_NONE = 0,
	WD_HTTP_FAIL_CONNECT,   /* name not resolved, connection refused or reset before a reply */
	WD_HTTP_FAIL_TIMEOUT,   /* connect or total timeout */
	WD_HTTP_FAIL_IDLE,      /* nothing received for idle_timeout_ms */
	WD_HTTP_FAIL_TOO_BIG,   /* body larger than max_body */
	WD_HTTP_FAIL_TRANSFER,  /* dropped mid-way, truncated body, empty reply, protocol error */
	WD_HTTP_FAIL_ABORTED    /* on_line returned non-zero */
} wd_http_fail;

typedef struct wd_http_response {
	long status;            /* HTTP status, 0 when no response line arrived */
	wd_buf body;            /* the body (as much as arrived when the call failed) */
	wd_strvec headers;      /* "Name: value" lines of the final response */
	long retry_after_ms;    /* from retry-after-ms or Retry-After (seconds or date); -1 absent */
	wd_http_fail fail;      /* why the call failed; NONE on success */
	uint64_t elapsed_ms;
} wd_http_response;

#define WD_HTTP_RESPONSE_INIT { 0, WD_BUF_INIT, WD_STRVEC_INIT, -1, WD_HTTP_FAIL_NONE, 0 }

/* Perform `req`. `out` must be initialised (WD_HTTP_RESPONSE_INIT); it is
 * reset first, and must be freed with wd_http_response_free() either way. */
int wd_http_perform(wd_http_response *out, const wd_http_request *req);

/* Value of the response header `name` (case-insensitive), NULL if absent. */
const char *wd_http_header(const wd_http_response *r, const char *name);

void wd_http_response_free(wd_http_response *r);

/* A short word for a failure ("timeout", "connect", ...), for logs and the ledger. */
const char *wd_http_fail_name(wd_http_fail f);

#endif
