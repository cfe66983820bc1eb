/* The model layer against the loopback server: OpenAI Chat Completions,
 * replay and record, key handling and the first error paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "mockhttp.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/ledger.h"
#include "warden/model.h"

#define KEY "sk-test-0123456789abcdefghijklmnop"

static mock_server *srv;
static char tmpdir[256];

static void setup(void)
{
	char base[300];

	ck_assert_int_eq(mock_start(&srv), 0);
	snprintf(base, sizeof(base), "%s/v1", mock_url(srv));
	setenv("OPENAI_BASE_URL", base, 1);
	setenv("OPENAI_API_KEY", KEY, 1);
	unsetenv("OPENAI_ORG_ID");
	unsetenv("OPENAI_PROJECT_ID");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wd-test-model-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	mock_stop(srv);
	srv = NULL;
	wd_rm_rf(tmpdir);
}

static void two_turns(wd_chat *c)
{
	ck_assert_int_eq(wd_chat_add(c, WD_ROLE_SYSTEM, "You are terse."), 0);
	ck_assert_int_eq(wd_chat_add(c, WD_ROLE_USER, "Fix the bug."), 0);
}

static json_t *body_json(size_t i)
{
	json_t *o = json_loads(mock_request_body(srv, i), 0, NULL);

	ck_assert_ptr_nonnull(o);
	return o;
}

static wd_model_opts fast_opts(void)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;

	o.retry_base_ms = 5;
	o.retry_max_wait_ms = 50;
	return o;
}

START_TEST(openai_chat_request_is_the_documented_shape)
{
	wd_model *m = NULL;
	wd_model_opts o = fast_opts();
	wd_chat c = WD_CHAT_INIT;
	wd_model_reply r;
	char *reply = mock_openai_chat_body("diff --git a/x b/x", 120, 30);
	json_t *b, *msgs;

	mock_push_json(srv, 200, reply);
	two_turns(&c);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o-mini", &o), 0);
	ck_assert_str_eq(wd_model_spec(m), "openai:gpt-4o-mini");
	ck_assert_int_eq(wd_model_complete(&r, m, &c), 0);

	ck_assert_str_eq(mock_request_method(srv, 0), "POST");
	ck_assert_str_eq(mock_request_path(srv, 0), "/v1/chat/completions");
	ck_assert_str_eq(mock_request_header(srv, 0, "Authorization"), "Bearer " KEY);
	ck_assert_str_eq(mock_request_header(srv, 0, "Content-Type"), "application/json");
	b = body_json(0);
	ck_assert_str_eq(json_string_value(json_object_get(b, "model")), "gpt-4o-mini");
	msgs = json_object_get(b, "messages");
	ck_assert_uint_eq(json_array_size(msgs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(msgs, 0), "role")), "system");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(msgs, 0), "content")),
	                 "You are terse.");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(msgs, 1), "role")), "user");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(msgs, 1), "content")),
	                 "Fix the bug.");
	ck_assert_ptr_null(json_object_get(b, "stream"));
	ck_assert_ptr_null(json_object_get(b, "tools"));
	json_decref(b);

	ck_assert_str_eq(r.text, "diff --git a/x b/x");
	ck_assert_str_eq(r.model, "mock-model");
	ck_assert_str_eq(r.provider, "openai");
	ck_assert_str_eq(r.spec, "openai:gpt-4o-mini");
	ck_assert_str_eq(r.finish_reason, "stop");
	ck_assert_uint_eq(r.ntool_calls, 0);
	ck_assert_int_eq(r.usage.input_tokens, 120);
	ck_assert_int_eq(r.usage.output_tokens, 30);
	ck_assert_int_eq(r.attempts, 1);
	ck_assert_uint_eq(strlen(r.prompt_hash), 40);
	/* gpt-4o-mini is in the built-in price table: 120*0.15/1e6 + 30*0.60/1e6 */
	ck_assert_double_eq_tol(r.usage.cost_usd, 120 * 0.15e-6 + 30 * 0.60e-6, 1e-12);
	wd_model_reply_free(&r);
	wd_model_free(m);
	wd_chat_free(&c);
	free(reply);
}
END_TEST

START_TEST(openai_base_url_trailing_slash_and_org_headers)
{
	wd_model *m = NULL;
	wd_model_opts o = fast_opts();
	wd_chat c = WD_CHAT_INIT;
	wd_model_reply r;
	char base[300], *reply = mock_openai_chat_body("ok", 1, 1);

	snprintf(base, sizeof(base), "%s/v1/", mock_url(srv));
	setenv("OPENAI_BASE_URL", base, 1);
	setenv("OPENAI_ORG_ID", "org-123", 1);
	setenv("OPENAI_PROJECT_ID", "proj_456", 1);
	mock_push_json(srv, 200, reply);
	two_turns(&c);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &c), 0);
	ck_assert_str_eq(mock_request_path(srv, 0), "/v1/chat/completions");
	ck_assert_str_eq(mock_request_header(srv, 0, "OpenAI-Organization"), "org-123");
	ck_assert_str_eq(mock_request_header(srv, 0, "OpenAI-Project"), "proj_456");
	wd_model_reply_free(&r);
	wd_model_free(m);
	wd_chat_free(&c);
	free(reply);
}
END_TEST

START_TEST(missing_key_names_the_variable)
{
	wd_model *m = NULL;
	wd_model_opts o = fast_opts();

	unsetenv("OPENAI_API_KEY");
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), WD_EUSAGE);
	ck_assert_ptr_null(m);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "OPENAI_API_KEY"));
	setenv("OPENAI_API_KEY", "", 1);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), WD_EUSAGE);
	unsetenv("ANTHROPIC_API_KEY");
	ck_assert_int_eq(wd_model_open(&m, "anthropic:claude-sonnet-4-20250514", &o), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "ANTHROPIC_API_KEY"));
}
END_TEST

START_TEST(bad_specs_are_usage_errors)
{
	wd_model *m = NULL;
	wd_model_opts o = fast_opts();
	static const char *const bad[] = { "", "openai:", "gemini:pro", "compat:http://x",
	                                   "compat:#m", "nosuchname", "openai:a,,openai:b",
	                                   "compat:ftp://h#m", "compat:http://u:secret@h/v1#m" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(wd_model_open(&m, bad[i], &o) == WD_EUSAGE, "spec '%s'", bad[i]);
		ck_assert_ptr_null(m);
		ck_assert_str_ne(wd_error_last(), "");
		ck_assert_ptr_null(strstr(wd_error_last(), "secret"));
	}
}
END_TEST

START_TEST(wrong_key_401_says_so_without_the_key_and_does_not_retry)
{
	wd_model *m = NULL;
	wd_model_opts o = fast_opts();
	wd_chat c = WD_CHAT_INIT;
	wd_model_reply r;

	mock_push_json(srv, 401, "{\"error\":{\"message\":\"Incorrect API key provided: " KEY
	                         ". You can find your API key at https://platform.openai.com\","
	                         "\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}");
	two_turns(&c);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &c), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "401"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "OPENAI_API_KEY"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "rejected"));
	ck_assert_ptr_null(strstr(wd_error_last(), KEY));
	ck_assert_ptr_null(strstr(wd_error_last(), "abcdefghijklmnop"));
	ck_assert_uint_eq(mock_request_count(srv), 1);
	ck_assert_ptr_null(r.text);
	wd_model_free(m);
	wd_chat_free(&c);
}
END_TEST

START_TEST(unreachable_service_is_infra_naming_the_url)
{
	wd_model *m = NULL;
	wd_model_opts o = fast_opts();
	wd_chat c = WD_CHAT_INIT;
	wd_model_reply r;
	char base[300];

	snprintf(base, sizeof(base), "%s/v1", mock_refused_url());
	setenv("OPENAI_BASE_URL", base, 1);
	o.max_retries = 1;
	two_turns(&c);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &c), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "model service at "));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), base));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "unreachable"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "2 attempts"));
	ck_assert_int_eq(r.attempts, 0);
	wd_model_free(m);
	wd_chat_free(&c);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	ck_assert_int_eq(wd_file_write_atomic(path, text, strlen(text), 0644), 0);
}

START_TEST(replay_serves_replies_in_order_then_says_it_ran_out)
{
	wd_model *m = NULL;
	wd_chat c = WD_CHAT_INIT;
	wd_model_reply r;
	char path[512];

	snprintf(path, sizeof(path), "%s/r.jsonl", tmpdir);
	write_file(path,
	           "{\"reply\": {\"content\": \"first\", \"model\": \"gpt-4o\", "
	           "\"usage\": {\"input_tokens\": 1000, \"output_tokens\": 100}}}\n"
	           "\n"
	           "   \n"
	           "{\"reply\": {\"content\": \"second\"}}\n");
	{
		char spec[600];

		snprintf(spec, sizeof(spec), "replay:%s", path);
		ck_assert_int_eq(wd_model_open(&m, spec, NULL), 0);
	}
	two_turns(&c);
	ck_assert_int_eq(wd_model_complete(&r, m, &c), 0);
	ck_assert_str_eq(r.text, "first");
	ck_assert_str_eq(r.provider, "replay");
	ck_assert_str_eq(r.model, "gpt-4o");
	ck_assert_int_eq(r.usage.input_tokens, 1000);
	ck_assert_int_eq(r.usage.output_tokens, 100);
	/* a replay is priced as the model it recorded */
	ck_assert_double_eq_tol(r.usage.cost_usd, 1000 * 2.5e-6 + 100 * 10e-6, 1e-12);
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_complete(&r, m, &c), 0);
	ck_assert_str_eq(r.text, "second");
	ck_assert_ptr_null(r.model);
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_complete(&r, m, &c), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "has no reply for call 3"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), path));
	wd_model_free(m);
	wd_chat_free(&c);
}
END_TEST

START_TEST(replay_file_errors_name_file_and_line)
{
	wd_model *m = NULL;
	char path[512], spec[600];

	snprintf(path, sizeof(path), "%s/bad.jsonl", tmpdir);
	snprintf(spec, sizeof(spec), "replay:%s", path);
	write_file(path, "{\"reply\": {\"content\": \"ok\"}}\n{\"reply\": {\"content\": 7}}\n");
	ck_assert_int_eq(wd_model_open(&m, spec, NULL), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "line 2"));
	write_file(path, "{\"reply\": {\"content\": \"ok\"}}\n{not json\n");
	ck_assert_int_eq(wd_model_open(&m, spec, NULL), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "line 2"));
	write_file(path, "{\"content\": \"no reply key\"}\n");
	ck_assert_int_eq(wd_model_open(&m, spec, NULL), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "line 1"));
	snprintf(spec, sizeof(spec), "replay:%s/missing.jsonl", tmpdir);
	ck_assert_int_eq(wd_model_open(&m, spec, NULL), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "missing.jsonl"));
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(record_then_replay_round_trips_and_detects_a_changed_prompt)
{
	wd_model *m = NULL;
	wd_model_opts o = fast_opts();
	wd_chat c = WD_CHAT_INIT, c2 = WD_CHAT_INIT;
	wd_model_reply r, r2;
	char rec[512], spec[600];
	char *reply = mock_openai_chat_body("the recorded answer", 50, 7);
	wd_buf data = WD_BUF_INIT;
	json_t *line;

	snprintf(rec, sizeof(rec), "%s/rec.jsonl", tmpdir);
	o.record_path = rec;
	mock_push_json(srv, 200, reply);
	two_turns(&c);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o-mini", &o), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &c), 0);
	wd_model_free(m);

	ck_assert_int_eq(wd_file_read(&data, rec, 0), 0);
	ck_assert_ptr_null(strstr(data.ptr, KEY));
	line = json_loads(data.ptr, 0, NULL);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(json_string_value(json_object_get(line, "request_hash")), r.prompt_hash);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(line, "request"), "model")),
	                 "gpt-4o-mini");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(line, "reply"), "content")),
	                 "the recorded answer");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(line, "reply"),
	                                                                    "usage"), "input_tokens")), 50);
	json_decref(line);

	/* the same conversation replays */
	snprintf(spec, sizeof(spec), "replay:%s", rec);
	ck_assert_int_eq(wd_model_open(&m, spec, NULL), 0);
	ck_assert_int_eq(wd_model_complete(&r2, m, &c), 0);
	ck_assert_str_eq(r2.text, "the recorded answer");
	ck_assert_str_eq(r2.prompt_hash, r.prompt_hash);
	ck_assert_int_eq(r2.usage.output_tokens, 7);
	wd_model_reply_free(&r2);
	wd_model_free(m);

	/* a changed prompt does not */
	ck_assert_int_eq(wd_chat_add(&c2, WD_ROLE_SYSTEM, "You are terse."), 0);
	ck_assert_int_eq(wd_chat_add(&c2, WD_ROLE_USER, "Fix the other bug."), 0);
	ck_assert_int_eq(wd_model_open(&m, spec, NULL), 0);
	ck_assert_int_eq(wd_model_complete(&r2, m, &c2), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "call 1 no longer matches"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "prompt or context changed"));
	wd_model_free(m);

	wd_model_reply_free(&r);
	wd_buf_free(&data);
	wd_chat_free(&c);
	wd_chat_free(&c2);
	free(reply);
}
END_TEST

START_TEST(chat_hash_depends_on_every_message_and_the_tools)
{
	wd_chat a = WD_CHAT_INIT, b = WD_CHAT_INIT;
	char ha[41], hb[41], ht[41];
	json_t *tools = json_pack("[{s:s, s:s, s:{s:s}}]", "name", "read_file", "description", "Read",
	                          "parameters", "type", "object");

	two_turns(&a);
	two_turns(&b);
	ck_assert_int_eq(wd_chat_hash(ha, &a, NULL), 0);
	ck_assert_int_eq(wd_chat_hash(hb, &b, NULL), 0);
	ck_assert_str_eq(ha, hb);
	ck_assert_int_eq(wd_chat_hash(ht, &a, tools), 0);
	ck_assert_str_ne(ha, ht);
	ck_assert_int_eq(wd_chat_add(&b, WD_ROLE_ASSISTANT, "x"), 0);
	ck_assert_int_eq(wd_chat_hash(hb, &b, NULL), 0);
	ck_assert_str_ne(ha, hb);
	ck_assert_int_eq(wd_chat_add_tool_result(&a, "call_1", "out"), 0);
	ck_assert_int_eq(wd_chat_add_tool_result(&a, "", "out"), WD_EUSAGE);
	{
		wd_tool_call no_id = { NULL, "read_file", "{}", NULL };
		wd_tool_call *calls = NULL;
		size_t n = 1;

		ck_assert_int_eq(wd_tool_calls_parse(&calls, &n, "not json"), WD_EINPUT);
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(wd_chat_add_tool_calls(&a, "", &no_id, 1), WD_EUSAGE);
		ck_assert_int_eq(wd_chat_add_tool_calls(&a, "", NULL, 0), WD_EUSAGE);
	}
	ck_assert_uint_eq(a.n, 3);
	json_decref(tools);
	wd_chat_free(&a);
	wd_chat_free(&b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("openai_replay");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, openai_chat_request_is_the_documented_shape);
	tcase_add_test(tc, openai_base_url_trailing_slash_and_org_headers);
	tcase_add_test(tc, missing_key_names_the_variable);
	tcase_add_test(tc, bad_specs_are_usage_errors);
	tcase_add_test(tc, wrong_key_401_says_so_without_the_key_and_does_not_retry);
	tcase_add_test(tc, unreachable_service_is_infra_naming_the_url);
	tcase_add_test(tc, replay_serves_replies_in_order_then_says_it_ran_out);
	tcase_add_test(tc, replay_file_errors_name_file_and_line);
	tcase_add_test(tc, record_then_replay_round_trips_and_detects_a_changed_prompt);
	tcase_add_test(tc, chat_hash_depends_on_every_message_and_the_tools);
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
