#ifndef WARDEN_TESTS_MOCKHTTP_H
#define WARDEN_TESTS_MOCKHTTP_H

#include <stddef.h>

/*
 * A scripted HTTP server on 127.0.0.1 for tests (libmicrohttpd, one thread per
 * connection). Each request takes the next reply from a FIFO (or the default
 * reply when the FIFO is empty) and is recorded so a test can check exactly
 * what the client sent. Thread-safe: the server runs in its own threads while
 * the test drives a client, possibly in a subprocess. Start it inside a test
 * function (Check forks per test), never in main().
 */
typedef struct mock_server mock_server;

enum {
	MOCK_TRUNCATE = 1, /* send headers with the full Content-Length, then half the body, then close */
	MOCK_HANG = 2,     /* accept the request and never answer (until mock_stop) */
	MOCK_SSE = 4,      /* body is an SSE stream, sent one event per chunk (cut mid-way with MOCK_TRUNCATE) */
	MOCK_CLOSE = 8,    /* close the connection without any response */
	MOCK_STALL = 16    /* SSE: send the headers and half the events, then go silent (until mock_stop) */
};

typedef struct mock_reply {
	int status;
	const char *content_type; /* NULL = application/json (text/event-stream with MOCK_SSE) */
	const char *headers;      /* extra headers, "Name: value\n" lines, may be NULL */
	const char *body;
	size_t body_len;          /* 0 = strlen(body) */
	unsigned delay_ms;        /* wait before answering */
	unsigned flags;
	/* extensions (zero = off) */
	unsigned chunk_delay_ms;  /* MOCK_SSE: pause between events */
	size_t total_len;         /* > body_len: serve body repeated up to total_len bytes (big bodies
	                             without a big buffer in the test) */
} mock_reply;

/* 127.0.0.1, ephemeral port, own threads. 0 on success. */
int mock_start(mock_server **out);
/* "http://127.0.0.1:PORT" (no trailing slash). */
const char *mock_url(const mock_server *s);
/* Queue a scripted reply (copied). */
void mock_push(mock_server *s, const mock_reply *r);
void mock_push_json(mock_server *s, int status, const char *body);
/* Served when the FIFO is empty; default: 500 {"error":"no scripted reply"}. */
void mock_set_default(mock_server *s, const mock_reply *r);

/* The requests received so far, in arrival order. Strings stay valid until mock_stop. */
size_t mock_request_count(mock_server *s);
const char *mock_request_method(mock_server *s, size_t i);
const char *mock_request_path(mock_server *s, size_t i); /* path with query */
const char *mock_request_body(mock_server *s, size_t i);
/* Case-insensitive; NULL if absent. */
const char *mock_request_header(mock_server *s, size_t i, const char *name);

/* A malloc'd OpenAI Chat Completions JSON reply carrying `content`. */
char *mock_openai_chat_body(const char *content, int in_tokens, int out_tokens);

/* A URL on loopback where nothing listens (connection refused). Static storage. */
const char *mock_refused_url(void);

/* Joins the threads, frees everything. NULL is a no-op. */
void mock_stop(mock_server *s);

#endif
