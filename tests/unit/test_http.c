/* The loopback mock server and the HTTP client, proven against each other. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "mockhttp.h"
#include "warden/error.h"
#include "warden/http.h"

static mock_server *srv;
static char url[256];

static void start(void)
{
	ck_assert_int_eq(mock_start(&srv), 0);
}

static void stop(void)
{
	mock_stop(srv);
	srv = NULL;
}

static const char *at(const char *path)
{
	snprintf(url, sizeof(url), "%s%s", mock_url(srv), path);
	return url;
}

START_TEST(get_returns_status_body_and_headers)
{
	mock_reply r = { .status = 200, .body = "{\"ok\":true}", .headers = "X-Test: yes\nETag: \"abc\"\n" };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	const char *hdrs[] = { "Accept: application/json", "X-Custom: 42", NULL };

	start();
	ck_assert_int_eq(strncmp(mock_url(srv), "http://127.0.0.1:", 17), 0);
	ck_assert_ptr_null(strstr(mock_url(srv) + 7, "/"));
	mock_push(srv, &r);
	req.url = at("/v1/things?a=1&b=two");
	req.headers = hdrs;
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.status, 200);
	ck_assert_str_eq(res.body.ptr, "{\"ok\":true}");
	ck_assert_str_eq(wd_http_header(&res, "x-test"), "yes");
	ck_assert_str_eq(wd_http_header(&res, "ETAG"), "\"abc\"");
	ck_assert_str_eq(wd_http_header(&res, "content-type"), "application/json");
	ck_assert_ptr_null(wd_http_header(&res, "x-absent"));
	ck_assert_int_eq(res.retry_after_ms, -1);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_NONE);
	ck_assert_uint_eq(mock_request_count(srv), 1);
	ck_assert_str_eq(mock_request_method(srv, 0), "GET");
	ck_assert_str_eq(mock_request_path(srv, 0), "/v1/things?a=1&b=two");
	ck_assert_str_eq(mock_request_header(srv, 0, "x-custom"), "42");
	ck_assert_str_eq(mock_request_header(srv, 0, "ACCEPT"), "application/json");
	ck_assert_ptr_null(mock_request_header(srv, 0, "Expect"));
	ck_assert_str_eq(mock_request_body(srv, 0), "");
	ck_assert_ptr_null(mock_request_method(srv, 1));
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(post_sends_body_and_custom_method)
{
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	char *big = malloc(300000);

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 299999);
	big[299999] = '\0';
	start();
	mock_push_json(srv, 201, "{\"id\":1}");
	mock_push_json(srv, 200, "{}");
	req.url = at("/post");
	req.body = big;
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.status, 201);
	ck_assert_str_eq(mock_request_method(srv, 0), "POST");
	ck_assert_uint_eq(strlen(mock_request_body(srv, 0)), 299999);
	ck_assert_int_eq(memcmp(mock_request_body(srv, 0), big, 299999), 0);

	req.method = "PATCH";
	req.body = "{\"state\":\"closed\"}";
	req.url = at("/repos/o/r/pulls/1");
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.status, 200);
	ck_assert_str_eq(mock_request_method(srv, 1), "PATCH");
	ck_assert_str_eq(mock_request_body(srv, 1), "{\"state\":\"closed\"}");
	ck_assert_uint_eq(mock_request_count(srv), 2);
	wd_http_response_free(&res);
	free(big);
	stop();
}
END_TEST

START_TEST(unscripted_request_gets_default_500)
{
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	mock_reply d = { .status = 404, .body = "nope", .content_type = "text/plain" };

	start();
	req.url = at("/x");
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.status, 500);
	ck_assert_str_eq(res.body.ptr, "{\"error\":\"no scripted reply\"}");
	mock_set_default(srv, &d);
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.status, 404);
	ck_assert_str_eq(res.body.ptr, "nope");
	ck_assert_str_eq(wd_http_header(&res, "Content-Type"), "text/plain");
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(retry_after_seconds_ms_and_date_are_parsed)
{
	mock_reply a = { .status = 429, .body = "{}", .headers = "Retry-After: 2\n" };
	mock_reply b = { .status = 429, .body = "{}", .headers = "Retry-After: 2\nretry-after-ms: 150\n" };
	mock_reply c = { .status = 503, .body = "{}", .headers = "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\n" };
	mock_reply d = { .status = 503, .body = "{}", .headers = "Retry-After: soon\n" };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	start();
	mock_push(srv, &a);
	mock_push(srv, &b);
	mock_push(srv, &c);
	mock_push(srv, &d);
	req.url = at("/");
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.status, 429);
	ck_assert_int_eq(res.retry_after_ms, 2000);
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.retry_after_ms, 150);
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.status, 503);
	ck_assert_int_eq(res.retry_after_ms, 0); /* a date in the past: retry now */
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.retry_after_ms, -1);
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(connection_refused_is_infra_connect)
{
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	req.url = mock_refused_url();
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_EINFRA);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_CONNECT);
	ck_assert_int_eq(res.status, 0);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "onnect"));
	wd_http_response_free(&res);
}
END_TEST

START_TEST(hanging_server_hits_total_timeout)
{
	mock_reply r = { .status = 200, .body = "{}", .flags = MOCK_HANG };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	start();
	mock_push(srv, &r);
	req.url = at("/slow");
	req.timeout_ms = 300;
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_ETIMEOUT);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_TIMEOUT);
	ck_assert_uint_eq(mock_request_count(srv), 1);
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(delayed_reply_within_timeout_arrives)
{
	mock_reply r = { .status = 200, .body = "late", .delay_ms = 150 };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	start();
	mock_push(srv, &r);
	req.url = at("/");
	req.timeout_ms = 5000;
	req.idle_timeout_ms = 2000;
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_str_eq(res.body.ptr, "late");
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(closed_without_reply_is_infra_transfer)
{
	mock_reply r = { .status = 200, .body = "{}", .flags = MOCK_CLOSE };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	start();
	mock_push(srv, &r);
	req.url = at("/");
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_EINFRA);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_TRANSFER);
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(truncated_body_is_infra_transfer)
{
	mock_reply r = { .status = 200, .body = "{\"choices\":[{\"message\":{\"content\":\"hello world\"}}]}",
	                 .flags = MOCK_TRUNCATE };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	start();
	mock_push(srv, &r);
	req.url = at("/");
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_EINFRA);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_TRANSFER);
	ck_assert_int_eq(res.status, 200);
	ck_assert_uint_lt(res.body.len, strlen(r.body));
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(fifty_mib_body_is_refused_at_the_cap)
{
	mock_reply r = { .status = 200, .body = "0123456789abcdef", .total_len = (size_t)50 << 20 };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	start();
	mock_push(srv, &r);
	req.url = at("/huge");
	req.max_body = (size_t)1 << 20;
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_EINFRA);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_TOO_BIG);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "larger than"));
	ck_assert_uint_le(res.body.len, (size_t)1 << 20);
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(unsized_body_over_the_cap_is_refused)
{
	/* chunked: no Content-Length to refuse early, the running total must stop it */
	mock_reply r = { .status = 200, .body = "data: 0123456789012345678901234567890123456789\n\n",
	                 .total_len = 0, .flags = MOCK_SSE };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	char *body = malloc(50 * 2000 + 1);

	ck_assert_ptr_nonnull(body);
	body[0] = '\0';
	ck_assert_uint_eq(strlen(r.body), 48);
	for (int i = 0; i < 2000; i++)
		memcpy(body + (size_t)i * 48, r.body, 49);
	r.body = body;
	start();
	mock_push(srv, &r);
	req.url = at("/");
	req.max_body = 10000;
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_EINFRA);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_TOO_BIG);
	wd_http_response_free(&res);
	free(body);
	stop();
}
END_TEST

struct lines {
	int n;
	char got[16][64];
	int stop_at;
};

static int collect(void *ctx, const char *line, size_t len)
{
	struct lines *l = ctx;

	if (l->n < 16)
		snprintf(l->got[l->n], sizeof(l->got[0]), "%.*s", (int)len, line);
	l->n++;
	if (l->stop_at && l->n == l->stop_at)
		return wd_error_set(WD_EINPUT, "reader stopped at line %d", l->n);
	return 0;
}

START_TEST(sse_lines_are_delivered_as_they_arrive)
{
	mock_reply r = { .status = 200, .flags = MOCK_SSE, .chunk_delay_ms = 20,
	                 .body = "event: a\ndata: one\n\ndata: two\r\n\ndata: [DONE]" };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	struct lines l = { 0 };

	start();
	mock_push(srv, &r);
	req.url = at("/stream");
	req.on_line = collect;
	req.ctx = &l;
	req.idle_timeout_ms = 2000;
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_str_eq(wd_http_header(&res, "content-type"), "text/event-stream");
	ck_assert_int_eq(l.n, 6);
	ck_assert_str_eq(l.got[0], "event: a");
	ck_assert_str_eq(l.got[1], "data: one");
	ck_assert_str_eq(l.got[2], "");
	ck_assert_str_eq(l.got[3], "data: two");
	ck_assert_str_eq(l.got[4], "");
	ck_assert_str_eq(l.got[5], "data: [DONE]");
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(sse_cut_midway_fails_after_partial_lines)
{
	mock_reply r = { .status = 200, .flags = MOCK_SSE | MOCK_TRUNCATE,
	                 .body = "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n" };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	struct lines l = { 0 };

	start();
	mock_push(srv, &r);
	req.url = at("/");
	req.on_line = collect;
	req.ctx = &l;
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_EINFRA);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_TRANSFER);
	ck_assert_int_eq(l.n, 4);
	ck_assert_str_eq(l.got[2], "data: 2");
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(stalled_stream_hits_idle_timeout)
{
	mock_reply r = { .status = 200, .flags = MOCK_SSE | MOCK_STALL,
	                 .body = "data: 1\n\ndata: 2\n\n" };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	struct lines l = { 0 };

	start();
	mock_push(srv, &r);
	req.url = at("/");
	req.on_line = collect;
	req.ctx = &l;
	req.idle_timeout_ms = 200;
	req.timeout_ms = 30000;
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_ETIMEOUT);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_IDLE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "idle"));
	ck_assert_int_eq(l.n, 2);
	ck_assert_str_eq(l.got[0], "data: 1");
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(line_reader_can_abort_with_its_own_error)
{
	mock_reply r = { .status = 200, .flags = MOCK_SSE, .body = "data: 1\n\ndata: 2\n\ndata: 3\n\n" };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	struct lines l = { .stop_at = 3 };

	start();
	mock_push(srv, &r);
	req.url = at("/");
	req.on_line = collect;
	req.ctx = &l;
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_EINPUT);
	ck_assert_int_eq(res.fail, WD_HTTP_FAIL_ABORTED);
	ck_assert_str_eq(wd_error_last(), "reader stopped at line 3");
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(error_status_body_is_kept_and_not_split_into_lines)
{
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;
	struct lines l = { 0 };

	start();
	mock_push_json(srv, 401, "{\"error\":{\"message\":\"bad key\"}}\n");
	req.url = at("/");
	req.on_line = collect;
	req.ctx = &l;
	ck_assert_int_eq(wd_http_perform(&res, &req), 0);
	ck_assert_int_eq(res.status, 401);
	ck_assert_int_eq(l.n, 0);
	ck_assert_str_eq(res.body.ptr, "{\"error\":{\"message\":\"bad key\"}}\n");
	wd_http_response_free(&res);
	stop();
}
END_TEST

START_TEST(missing_url_is_a_usage_error)
{
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	ck_assert_int_eq(wd_http_perform(&res, &req), WD_EUSAGE);
	wd_http_response_free(&res);
}
END_TEST

struct worker {
	const char *url;
	int rc;
	long status;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	req.url = w->url;
	req.body = "{}";
	w->rc = wd_http_perform(&res, &req);
	w->status = res.status;
	wd_http_response_free(&res);
	return NULL;
}

START_TEST(concurrent_clients_are_all_served_and_recorded)
{
	pthread_t t[4];
	struct worker w[4];
	mock_reply d = { .status = 200, .body = "{}", .delay_ms = 50 };

	start();
	mock_set_default(srv, &d);
	for (int i = 0; i < 4; i++) {
		w[i].url = at("/c");
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].rc, 0);
		ck_assert_int_eq(w[i].status, 200);
	}
	ck_assert_uint_eq(mock_request_count(srv), 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_str_eq(mock_request_body(srv, i), "{}");
	stop();
}
END_TEST

START_TEST(openai_chat_body_helper_is_a_valid_reply)
{
	char *s = mock_openai_chat_body("hi \"there\"\n", 12, 5);
	json_error_t e;
	json_t *o = json_loads(s, 0, &e);
	json_t *msg;

	ck_assert_ptr_nonnull(o);
	msg = json_object_get(json_array_get(json_object_get(o, "choices"), 0), "message");
	ck_assert_str_eq(json_string_value(json_object_get(msg, "content")), "hi \"there\"\n");
	ck_assert_str_eq(json_string_value(json_object_get(msg, "role")), "assistant");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "usage"), "prompt_tokens")), 12);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "usage"), "completion_tokens")), 5);
	json_decref(o);
	free(s);
}
END_TEST

START_TEST(stop_while_a_client_waits_returns_promptly)
{
	/* a hung request must not keep mock_stop waiting: stop wakes the handler */
	mock_reply r = { .status = 200, .body = "{}", .flags = MOCK_HANG };
	mock_reply slow = { .status = 200, .body = "{}", .delay_ms = 600000 };
	wd_http_request req = WD_HTTP_REQUEST_INIT;
	wd_http_response res = WD_HTTP_RESPONSE_INIT;

	start();
	mock_push(srv, &r);
	mock_push(srv, &slow);
	req.url = at("/");
	req.timeout_ms = 200;
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_ETIMEOUT);
	ck_assert_int_eq(wd_http_perform(&res, &req), WD_ETIMEOUT);
	wd_http_response_free(&res);
	stop();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, get_returns_status_body_and_headers);
	tcase_add_test(tc, post_sends_body_and_custom_method);
	tcase_add_test(tc, unscripted_request_gets_default_500);
	tcase_add_test(tc, retry_after_seconds_ms_and_date_are_parsed);
	tcase_add_test(tc, connection_refused_is_infra_connect);
	tcase_add_test(tc, hanging_server_hits_total_timeout);
	tcase_add_test(tc, delayed_reply_within_timeout_arrives);
	tcase_add_test(tc, closed_without_reply_is_infra_transfer);
	tcase_add_test(tc, truncated_body_is_infra_transfer);
	tcase_add_test(tc, fifty_mib_body_is_refused_at_the_cap);
	tcase_add_test(tc, unsized_body_over_the_cap_is_refused);
	tcase_add_test(tc, sse_lines_are_delivered_as_they_arrive);
	tcase_add_test(tc, sse_cut_midway_fails_after_partial_lines);
	tcase_add_test(tc, stalled_stream_hits_idle_timeout);
	tcase_add_test(tc, line_reader_can_abort_with_its_own_error);
	tcase_add_test(tc, error_status_body_is_kept_and_not_split_into_lines);
	tcase_add_test(tc, missing_url_is_a_usage_error);
	tcase_add_test(tc, concurrent_clients_are_all_served_and_recorded);
	tcase_add_test(tc, openai_chat_body_helper_is_a_valid_reply);
	tcase_add_test(tc, stop_while_a_client_waits_returns_promptly);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
