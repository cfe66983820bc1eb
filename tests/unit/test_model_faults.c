/* The model service failing in each way issue 5 lists, against the loopback
 * server: retries, Retry-After, timeouts, truncation, garbage, huge bodies,
 * streams cut or stalled, the fallback chain taking over, and the budgets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "mockhttp.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "warden/model.h"

#define KEY "sk-test-faults-0123456789abcdefghij"
#define AKEY "sk-ant-test-0123456789abcdefghijkl"

static mock_server *srv;
static char tmpdir[256];
static char ledger_path[512];
static wd_ledger *ledger;
static wd_chat chat;

static void setup(void)
{
	char base[300];

	ck_assert_int_eq(mock_start(&srv), 0);
	snprintf(base, sizeof(base), "%s/v1", mock_url(srv));
	setenv("OPENAI_BASE_URL", base, 1);
	setenv("OPENAI_API_KEY", KEY, 1);
	setenv("ANTHROPIC_BASE_URL", mock_url(srv), 1);
	setenv("ANTHROPIC_API_KEY", AKEY, 1);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wd-test-faults-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(ledger_path, sizeof(ledger_path), "%s/ledger.jsonl", tmpdir);
	ck_assert_int_eq(wd_ledger_open(&ledger, ledger_path, "run-test"), 0);
	memset(&chat, 0, sizeof(chat));
	ck_assert_int_eq(wd_chat_add(&chat, WD_ROLE_SYSTEM, "sys"), 0);
	ck_assert_int_eq(wd_chat_add(&chat, WD_ROLE_USER, "task"), 0);
}

static void teardown(void)
{
	wd_chat_free(&chat);
	wd_ledger_close(ledger);
	ledger = NULL;
	mock_stop(srv);
	srv = NULL;
	wd_rm_rf(tmpdir);
}

static wd_model_opts opts(void)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;

	o.ledger = ledger;
	o.retry_base_ms = 5;
	o.retry_max_wait_ms = 1000;
	o.timeout_ms = 5000;
	return o;
}

static wd_model *open_model(const char *spec, const wd_model_opts *o)
{
	wd_model *m = NULL;

	ck_assert_msg(wd_model_open(&m, spec, o) == 0, "open %s: %s", spec, wd_error_last());
	return m;
}

/* The ledger events of `type`, as a JSON array (caller decrefs). */
static json_t *events(const char *type)
{
	wd_buf data = WD_BUF_INIT;
	json_t *arr = json_array();
	size_t pos = 0;

	if (wd_file_read(&data, ledger_path, 0) != 0)
		return arr;
	while (pos < data.len) {
		char *nl = memchr(data.ptr + pos, '\n', data.len - pos);
		size_t len = nl ? (size_t)(nl - (data.ptr + pos)) : data.len - pos;
		json_t *ev = json_loadb(data.ptr + pos, len, 0, NULL);

		if (ev && strcmp(json_string_value(json_object_get(ev, "type")), type) == 0)
			json_array_append(arr, ev);
		json_decref(ev);
		pos += len + 1;
	}
	wd_buf_free(&data);
	return arr;
}

static void push_ok(const char *text, int in, int out)
{
	char *body = mock_openai_chat_body(text, in, out);

	mock_push_json(srv, 200, body);
	free(body);
}

START_TEST(rate_limit_429_waits_for_retry_after_then_succeeds)
{
	mock_reply limited = { .status = 429, .headers = "Retry-After: 0\nretry-after-ms: 120\n",
	                       .body = "{\"error\":{\"message\":\"Rate limit reached\"}}" };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;
	wd_model_stats st;
	json_t *ev;

	mock_push(srv, &limited);
	push_ok("after the wait", 10, 2);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(r.text, "after the wait");
	ck_assert_int_eq(r.attempts, 2);
	ck_assert_uint_eq(mock_request_count(srv), 2);
	ev = events("model.retry");
	ck_assert_uint_eq(json_array_size(ev), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(ev, 0), "status")), 429);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(ev, 0), "wait_ms")), 120);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(ev, 0), "reason")),
	                             "rate limited"));
	json_decref(ev);
	wd_model_totals(&st, m);
	ck_assert_int_eq(st.calls, 1);
	ck_assert_int_eq(st.attempts, 2);
	ck_assert_int_eq(st.retries, 1);
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

START_TEST(retry_after_longer_than_the_cap_is_capped)
{
	mock_reply limited = { .status = 429, .headers = "Retry-After: 3600\n", .body = "{}" };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;
	json_t *ev;

	o.retry_max_wait_ms = 30;
	mock_push(srv, &limited);
	push_ok("ok", 1, 1);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ev = events("model.retry");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(ev, 0), "wait_ms")), 30);
	json_decref(ev);
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

START_TEST(server_error_500_is_retried)
{
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	mock_push_json(srv, 500, "{\"error\":{\"message\":\"internal\"}}");
	push_ok("second try", 1, 1);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(r.text, "second try");
	ck_assert_int_eq(r.attempts, 2);
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

START_TEST(persistent_503_gives_up_after_max_retries_with_the_status)
{
	mock_reply down = { .status = 503, .body = "{\"error\":{\"message\":\"overloaded\"}}" };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;
	json_t *ev;

	o.max_retries = 2;
	mock_set_default(srv, &down);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "failed with 503"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "overloaded"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "3 attempts"));
	ck_assert_uint_eq(mock_request_count(srv), 3);
	ev = events("model.retry");
	ck_assert_uint_eq(json_array_size(ev), 2);
	json_decref(ev);
	wd_model_free(m);
}
END_TEST

START_TEST(client_errors_are_not_retried_and_say_what_was_wrong)
{
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	mock_push_json(srv, 400, "{\"error\":{\"message\":\"context_length_exceeded: too long\"}}");
	mock_push_json(srv, 404, "{\"error\":{\"message\":\"The model does not exist\"}}");
	mock_push_json(srv, 403, "{\"error\":{\"message\":\"region not supported\"}}");
	m = open_model("openai:gpt-nope", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "400"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "context_length_exceeded"));
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "404"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "gpt-nope"));
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "403"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "region not supported"));
	ck_assert_uint_eq(mock_request_count(srv), 3);
	wd_model_free(m);
}
END_TEST

START_TEST(reply_that_never_comes_times_out)
{
	mock_reply hang = { .status = 200, .body = "{}", .flags = MOCK_HANG };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	o.timeout_ms = 300;
	o.max_retries = 1;
	mock_set_default(srv, &hang);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_ETIMEOUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "did not answer in time"));
	ck_assert_uint_eq(mock_request_count(srv), 2);
	wd_model_free(m);
}
END_TEST

START_TEST(truncated_body_is_retried_then_reported)
{
	char *good = mock_openai_chat_body("a full reply that will be cut in half", 5, 5);
	mock_reply cut = { .status = 200, .body = good, .flags = MOCK_TRUNCATE };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	mock_push(srv, &cut);
	push_ok("whole", 1, 1);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(r.text, "whole");
	wd_model_reply_free(&r);

	o.max_retries = 0;
	wd_model_free(m);
	m = open_model("openai:gpt-4o", &o);
	mock_push(srv, &cut);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "cut off"));
	wd_model_free(m);
	free(good);
}
END_TEST

START_TEST(malformed_json_is_an_infra_error_naming_the_service)
{
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	o.max_retries = 1;
	mock_push_json(srv, 200, "{\"choices\": [ {\"message\": ");
	mock_push_json(srv, 200, "<html>Bad gateway</html>");
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "malformed reply from"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), mock_url(srv)));
	ck_assert_uint_eq(mock_request_count(srv), 2);
	/* valid JSON of the wrong shape is as bad */
	mock_push_json(srv, 200, "{\"object\":\"list\",\"data\":[]}");
	mock_push_json(srv, 200, "{\"choices\":[{\"message\":{\"content\":42}}]}");
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "malformed reply"));
	wd_model_free(m);
}
END_TEST

START_TEST(fifty_mib_reply_is_refused_with_a_clear_error_and_not_retried)
{
	mock_reply huge = { .status = 200, .body = "{\"choices\":[", .total_len = (size_t)50 << 20 };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	mock_push(srv, &huge);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "larger than"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "limit"));
	ck_assert_uint_eq(mock_request_count(srv), 1);
	wd_model_free(m);
}
END_TEST

static const char *chat_sse =
	"data: {\"id\":\"c1\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
	"data: {\"id\":\"c1\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n"
	"data: {\"id\":\"c1\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\", world\"},\"finish_reason\":null}]}\n\n"
	"data: {\"id\":\"c1\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
	"data: {\"id\":\"c1\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n"
	"data: [DONE]\n\n";

START_TEST(streamed_reply_is_assembled_with_usage)
{
	mock_reply sse = { .status = 200, .body = chat_sse, .flags = MOCK_SSE, .chunk_delay_ms = 5 };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;
	json_t *b;

	o.stream = 1;
	mock_push(srv, &sse);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(r.text, "Hello, world");
	ck_assert_str_eq(r.model, "gpt-4o-2024-08-06");
	ck_assert_str_eq(r.finish_reason, "stop");
	ck_assert_int_eq(r.usage.input_tokens, 9);
	ck_assert_int_eq(r.usage.output_tokens, 3);
	ck_assert_int_eq(r.usage.cached_tokens, 4);
	b = json_loads(mock_request_body(srv, 0), 0, NULL);
	ck_assert(json_is_true(json_object_get(b, "stream")));
	ck_assert(json_is_true(json_object_get(json_object_get(b, "stream_options"), "include_usage")));
	ck_assert_str_eq(mock_request_header(srv, 0, "Accept"), "text/event-stream");
	json_decref(b);
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

START_TEST(stream_cut_midway_is_an_error_then_retried)
{
	mock_reply cut = { .status = 200, .body = chat_sse, .flags = MOCK_SSE | MOCK_TRUNCATE };
	mock_reply whole = { .status = 200, .body = chat_sse, .flags = MOCK_SSE };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	o.stream = 1;
	o.max_retries = 0;
	mock_push(srv, &cut);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "cut off"));
	wd_model_free(m);

	o.max_retries = 2;
	mock_push(srv, &cut);
	mock_push(srv, &whole);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	/* nothing of the cut attempt leaks into the reply */
	ck_assert_str_eq(r.text, "Hello, world");
	ck_assert_int_eq(r.attempts, 2);
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

START_TEST(stream_that_ends_cleanly_but_early_is_incomplete)
{
	/* a clean close after two events: no finish_reason, no [DONE] */
	const char *early =
		"data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n";
	mock_reply r1 = { .status = 200, .body = early, .flags = MOCK_SSE };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	o.stream = 1;
	o.max_retries = 0;
	mock_push(srv, &r1);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "ended before the reply was complete"));
	wd_model_free(m);
}
END_TEST

START_TEST(stalled_stream_hits_the_idle_timeout)
{
	mock_reply stall = { .status = 200, .body = chat_sse, .flags = MOCK_SSE | MOCK_STALL };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	o.stream = 1;
	o.max_retries = 0;
	o.idle_timeout_ms = 200;
	o.timeout_ms = 60000;
	mock_push(srv, &stall);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_ETIMEOUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "stalled"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "200 ms"));
	wd_model_free(m);
}
END_TEST

START_TEST(stream_error_event_is_reported)
{
	const char *err = "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n";
	mock_reply r1 = { .status = 200, .body = err, .flags = MOCK_SSE };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	o.stream = 1;
	o.max_retries = 0;
	mock_push(srv, &r1);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "The server had an error"));
	wd_model_free(m);
}
END_TEST

START_TEST(fallback_chain_takes_over_and_is_recorded)
{
	const char *anth = "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
	                   "\"model\":\"claude-3-5-haiku-20241022\",\"content\":[{\"type\":\"text\","
	                   "\"text\":\"from the fallback\"}],\"stop_reason\":\"end_turn\","
	                   "\"usage\":{\"input_tokens\":20,\"output_tokens\":4}}";
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;
	wd_model_stats st;
	json_t *ev;

	o.max_retries = 1;
	mock_push_json(srv, 500, "{\"error\":{\"message\":\"down\"}}");
	mock_push_json(srv, 502, "<html>bad gateway</html>");
	mock_push_json(srv, 200, anth);
	mock_push_json(srv, 200, anth);
	m = open_model("openai:gpt-4o, anthropic:claude-3-5-haiku-20241022", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(r.text, "from the fallback");
	ck_assert_str_eq(r.provider, "anthropic");
	ck_assert_str_eq(r.spec, "anthropic:claude-3-5-haiku-20241022");
	ck_assert_int_eq(r.attempts, 3);
	ck_assert_str_eq(mock_request_path(srv, 0), "/v1/chat/completions");
	ck_assert_str_eq(mock_request_path(srv, 1), "/v1/chat/completions");
	ck_assert_str_eq(mock_request_path(srv, 2), "/v1/messages");
	ev = events("model.fallback");
	ck_assert_uint_eq(json_array_size(ev), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "from")), "openai:gpt-4o");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "to")),
	                 "anthropic:claude-3-5-haiku-20241022");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "error")), "infra");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(ev, 0), "reason")), "502"));
	json_decref(ev);
	wd_model_reply_free(&r);
	/* the switch sticks: the next call goes straight to the fallback */
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(mock_request_path(srv, 3), "/v1/messages");
	ck_assert_uint_eq(mock_request_count(srv), 4);
	wd_model_totals(&st, m);
	ck_assert_int_eq(st.calls, 2);
	ck_assert_int_eq(st.fallbacks, 1);
	ck_assert_int_eq(st.usage.input_tokens, 40);
	ck_assert_int_eq(st.usage.output_tokens, 8);
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

START_TEST(fallback_from_an_unreachable_service)
{
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;
	char spec[400];

	o.max_retries = 0;
	snprintf(spec, sizeof(spec), "compat:%s/v1#local,openai:gpt-4o-mini", mock_refused_url());
	push_ok("cloud answer", 3, 3);
	m = open_model(spec, &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(r.text, "cloud answer");
	ck_assert_str_eq(r.provider, "openai");
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

START_TEST(whole_chain_failing_names_the_last_error)
{
	mock_reply down = { .status = 503, .body = "{\"error\":{\"message\":\"nope\"}}" };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	o.max_retries = 0;
	mock_set_default(srv, &down);
	m = open_model("openai:gpt-4o,anthropic:claude-sonnet-4-20250514", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "every model in the chain failed"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "anthropic:claude-sonnet-4-20250514"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "503"));
	ck_assert_uint_eq(mock_request_count(srv), 2);
	wd_model_free(m);
}
END_TEST

START_TEST(call_budget_stops_the_next_call_naming_the_cap)
{
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;
	json_t *ev;

	o.max_calls = 2;
	push_ok("1", 1, 1);
	push_ok("2", 1, 1);
	push_ok("3", 1, 1);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EBUDGET);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "--max-calls"));
	ck_assert_uint_eq(mock_request_count(srv), 2);
	ev = events("model.budget");
	ck_assert_uint_eq(json_array_size(ev), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "cap")), "calls");
	json_decref(ev);
	wd_model_free(m);
}
END_TEST

START_TEST(token_and_cost_budgets_stop_the_run)
{
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;
	wd_model_stats st;

	o.max_tokens = 1000;
	push_ok("big", 900, 200);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0); /* the call that crosses still returns */
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EBUDGET);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "token budget"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "1100 tokens"));
	wd_model_totals(&st, m);
	ck_assert_int_eq(st.usage.input_tokens + st.usage.output_tokens, 1100);
	wd_model_free(m);

	o.max_tokens = 0;
	o.max_cost_usd = 0.01;
	/* gpt-4o: $2.50 in, $10 out per million: 2000 in + 800 out = $0.013 */
	push_ok("pricey", 2000, 800);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_double_eq_tol(r.usage.cost_usd, 0.013, 1e-9);
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EBUDGET);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "cost budget"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "--max-cost"));
	wd_model_free(m);
}
END_TEST

START_TEST(time_budget_bounds_a_hanging_call)
{
	mock_reply hang = { .status = 200, .body = "{}", .flags = MOCK_HANG };
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;

	o.max_time_ms = 300;
	o.timeout_ms = 60000;
	mock_set_default(srv, &hang);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EBUDGET);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "time budget"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "--max-time"));
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EBUDGET);
	ck_assert_uint_eq(mock_request_count(srv), 1);
	wd_model_free(m);
}
END_TEST

START_TEST(secrets_stay_out_of_errors_records_and_ledger)
{
	wd_model_opts o = opts();
	wd_model *m;
	wd_model_reply r;
	wd_buf data = WD_BUF_INIT;
	char rec[600];

	snprintf(rec, sizeof(rec), "%s/rec.jsonl", tmpdir);
	o.record_path = rec;
	o.max_retries = 1;
	/* a server that echoes the key back in its error and reply */
	mock_push_json(srv, 500, "{\"error\":{\"message\":\"bad key " KEY " used\"}}");
	push_ok("your key is " KEY, 1, 1);
	m = open_model("openai:gpt-4o", &o);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_ptr_null(strstr(wd_error_last(), KEY));
	ck_assert_int_eq(wd_file_read(&data, ledger_path, 0), 0);
	ck_assert_ptr_null(strstr(data.ptr, KEY));
	ck_assert_ptr_nonnull(strstr(data.ptr, "model.retry"));
	wd_buf_clear(&data);
	ck_assert_int_eq(wd_file_read(&data, rec, 0), 0);
	ck_assert_ptr_null(strstr(data.ptr, KEY));
	wd_buf_free(&data);
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("model_faults");
	TCase *tc = tcase_create("faults");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rate_limit_429_waits_for_retry_after_then_succeeds);
	tcase_add_test(tc, retry_after_longer_than_the_cap_is_capped);
	tcase_add_test(tc, server_error_500_is_retried);
	tcase_add_test(tc, persistent_503_gives_up_after_max_retries_with_the_status);
	tcase_add_test(tc, client_errors_are_not_retried_and_say_what_was_wrong);
	tcase_add_test(tc, reply_that_never_comes_times_out);
	tcase_add_test(tc, truncated_body_is_retried_then_reported);
	tcase_add_test(tc, malformed_json_is_an_infra_error_naming_the_service);
	tcase_add_test(tc, fifty_mib_reply_is_refused_with_a_clear_error_and_not_retried);
	tcase_add_test(tc, streamed_reply_is_assembled_with_usage);
	tcase_add_test(tc, stream_cut_midway_is_an_error_then_retried);
	tcase_add_test(tc, stream_that_ends_cleanly_but_early_is_incomplete);
	tcase_add_test(tc, stalled_stream_hits_the_idle_timeout);
	tcase_add_test(tc, stream_error_event_is_reported);
	tcase_add_test(tc, fallback_chain_takes_over_and_is_recorded);
	tcase_add_test(tc, fallback_from_an_unreachable_service);
	tcase_add_test(tc, whole_chain_failing_names_the_last_error);
	tcase_add_test(tc, call_budget_stops_the_next_call_naming_the_cap);
	tcase_add_test(tc, token_and_cost_budgets_stop_the_run);
	tcase_add_test(tc, time_budget_bounds_a_hanging_call);
	tcase_add_test(tc, secrets_stay_out_of_errors_records_and_ledger);
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
