/* Each provider's wire format checked field by field against the documented
 * shapes: OpenAI Chat Completions (and compat servers), OpenAI Responses and
 * Anthropic Messages, with tool calling, whole and streamed replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "mockhttp.h"
#include "warden/error.h"
#include "warden/model.h"

#define OKEY "sk-test-api-0123456789abcdefghijklm"
#define AKEY "sk-ant-api-0123456789abcdefghijklmn"

static mock_server *srv;
static wd_chat chat;
static json_t *tools;

static void setup(void)
{
	char base[300];
	wd_tool_call *calls = NULL;
	size_t ncalls = 0;

	ck_assert_int_eq(mock_start(&srv), 0);
	snprintf(base, sizeof(base), "%s/v1", mock_url(srv));
	setenv("OPENAI_BASE_URL", base, 1);
	setenv("OPENAI_API_KEY", OKEY, 1);
	setenv("ANTHROPIC_BASE_URL", mock_url(srv), 1);
	setenv("ANTHROPIC_API_KEY", AKEY, 1);
	unsetenv("COMPAT_API_KEY");
	unsetenv("OPENAI_ORG_ID");
	unsetenv("OPENAI_PROJECT_ID");
	memset(&chat, 0, sizeof(chat));
	/* a conversation with a tool round trip in it */
	ck_assert_int_eq(wd_chat_add(&chat, WD_ROLE_SYSTEM, "You fix bugs."), 0);
	ck_assert_int_eq(wd_chat_add(&chat, WD_ROLE_USER, "Fix parse()."), 0);
	ck_assert_int_eq(wd_tool_calls_parse(&calls, &ncalls,
	                 "[{\"id\":\"call_1\",\"name\":\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"src/a.c\\\"}\"},"
	                 "{\"id\":\"call_2\",\"name\":\"grep\",\"arguments\":\"{\\\"pattern\\\":\\\"parse\\\"}\"}]"), 0);
	ck_assert_int_eq(wd_chat_add_tool_calls(&chat, "Let me look.", calls, ncalls), 0);
	wd_tool_calls_free(calls, ncalls);
	ck_assert_int_eq(wd_chat_add_tool_result(&chat, "call_1", "int parse(void);"), 0);
	ck_assert_int_eq(wd_chat_add_tool_result(&chat, "call_2", "src/a.c:1"), 0);
	tools = json_pack("[{s:s, s:s, s:{s:s, s:{s:{s:s}}, s:[s]}}]", "name", "read_file",
	                  "description", "Read a file of the repository", "parameters",
	                  "type", "object", "properties", "path", "type", "string", "required", "path");
	ck_assert_ptr_nonnull(tools);
}

static void teardown(void)
{
	json_decref(tools);
	wd_chat_free(&chat);
	mock_stop(srv);
	srv = NULL;
}

static json_t *sent(size_t i)
{
	json_t *o = json_loads(mock_request_body(srv, i), 0, NULL);

	ck_assert_msg(o != NULL, "request %zu is not JSON", i);
	return o;
}

static const char *str_at(const json_t *o, const char *path)
{
	/* "a.b.0.c": objects by key, arrays by index */
	char buf[256], *save = NULL, *tok;
	const json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10)) : json_object_get(v, tok);
	return json_string_value(v);
}

static const json_t *at(const json_t *o, const char *path)
{
	char buf[256], *save = NULL, *tok;
	const json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10)) : json_object_get(v, tok);
	return v;
}

static int complete(wd_model_reply *r, const char *spec, int stream, long max_out)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model_call call = WD_MODEL_CALL_INIT;
	wd_model *m = NULL;
	int rc;

	o.max_retries = 0;
	o.stream = stream;
	call.tools = tools;
	call.max_output_tokens = max_out;
	rc = wd_model_open(&m, spec, &o);
	ck_assert_msg(rc == 0, "open: %s", wd_error_last());
	rc = wd_model_complete_ex(r, m, &chat, &call);
	wd_model_free(m);
	return rc;
}

START_TEST(openai_chat_tools_and_tool_turns)
{
	const char *reply =
		"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-2024-08-06\","
		"\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
		"\"tool_calls\":[{\"id\":\"call_9\",\"type\":\"function\",\"function\":{\"name\":\"read_file\","
		"\"arguments\":\"{\\\"path\\\":\\\"b.c\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}],"
		"\"usage\":{\"prompt_tokens\":300,\"completion_tokens\":20,\"total_tokens\":320,"
		"\"prompt_tokens_details\":{\"cached_tokens\":256}}}";
	wd_model_reply r;
	json_t *b, *tc;

	mock_push_json(srv, 200, reply);
	ck_assert_int_eq(complete(&r, "openai:gpt-4o", 0, 2048), 0);
	b = sent(0);
	ck_assert_str_eq(mock_request_path(srv, 0), "/v1/chat/completions");
	ck_assert_str_eq(mock_request_header(srv, 0, "Authorization"), "Bearer " OKEY);
	ck_assert_int_eq(json_integer_value(at(b, "max_completion_tokens")), 2048);
	ck_assert_ptr_null(at(b, "max_tokens"));
	ck_assert_str_eq(str_at(b, "tools.0.type"), "function");
	ck_assert_str_eq(str_at(b, "tools.0.function.name"), "read_file");
	ck_assert_str_eq(str_at(b, "tools.0.function.description"), "Read a file of the repository");
	ck_assert_str_eq(str_at(b, "tools.0.function.parameters.type"), "object");
	ck_assert_str_eq(str_at(b, "tools.0.function.parameters.required.0"), "path");
	ck_assert_str_eq(str_at(b, "tool_choice"), "auto");
	ck_assert_uint_eq(json_array_size(at(b, "messages")), 5);
	ck_assert_str_eq(str_at(b, "messages.2.role"), "assistant");
	ck_assert_str_eq(str_at(b, "messages.2.content"), "Let me look.");
	ck_assert_str_eq(str_at(b, "messages.2.tool_calls.0.id"), "call_1");
	ck_assert_str_eq(str_at(b, "messages.2.tool_calls.0.type"), "function");
	ck_assert_str_eq(str_at(b, "messages.2.tool_calls.0.function.name"), "read_file");
	ck_assert_str_eq(str_at(b, "messages.2.tool_calls.0.function.arguments"), "{\"path\":\"src/a.c\"}");
	ck_assert_str_eq(str_at(b, "messages.2.tool_calls.1.id"), "call_2");
	ck_assert_str_eq(str_at(b, "messages.3.role"), "tool");
	ck_assert_str_eq(str_at(b, "messages.3.tool_call_id"), "call_1");
	ck_assert_str_eq(str_at(b, "messages.3.content"), "int parse(void);");
	ck_assert_str_eq(str_at(b, "messages.4.tool_call_id"), "call_2");
	json_decref(b);

	ck_assert_str_eq(r.text, "");
	ck_assert_str_eq(r.finish_reason, "tool_calls");
	ck_assert_int_eq(r.usage.input_tokens, 300);
	ck_assert_int_eq(r.usage.cached_tokens, 256);
	/* gpt-4o: 44 fresh * 2.5 + 256 cached * 1.25 + 20 * 10, per million */
	ck_assert_double_eq_tol(r.usage.cost_usd, (44 * 2.5 + 256 * 1.25 + 20 * 10.0) / 1e6, 1e-12);
	tc = wd_tool_calls_json(r.tool_calls, r.ntool_calls);
	ck_assert_uint_eq(json_array_size(tc), 1);
	ck_assert_str_eq(str_at(tc, "0.id"), "call_9");
	ck_assert_str_eq(str_at(tc, "0.name"), "read_file");
	ck_assert_str_eq(str_at(tc, "0.arguments"), "{\"path\":\"b.c\"}");
	json_decref(tc);
	wd_model_reply_free(&r);
}
END_TEST

START_TEST(openai_chat_streamed_tool_call_deltas_are_joined)
{
	const char *sse =
		"data: {\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_s\",\"type\":\"function\",\"function\":{\"name\":\"read_file\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n"
		"data: {\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"pa\"}}]},\"finish_reason\":null}]}\n\n"
		"data: {\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"th\\\":\\\"x.c\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
		"data: {\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
		"data: [DONE]\n\n";
	mock_reply rep = { .status = 200, .body = sse, .flags = MOCK_SSE };
	wd_model_reply r;
	json_t *tc;

	mock_push(srv, &rep);
	ck_assert_int_eq(complete(&r, "openai:gpt-4o", 1, 0), 0);
	tc = wd_tool_calls_json(r.tool_calls, r.ntool_calls);
	ck_assert_str_eq(str_at(tc, "0.id"), "call_s");
	ck_assert_str_eq(str_at(tc, "0.name"), "read_file");
	ck_assert_str_eq(str_at(tc, "0.arguments"), "{\"path\":\"x.c\"}");
	ck_assert_str_eq(r.finish_reason, "tool_calls");
	json_decref(tc);
	wd_model_reply_free(&r);
}
END_TEST

START_TEST(compat_server_uses_its_base_url_and_older_field_names)
{
	char spec[300], *reply = mock_openai_chat_body("local answer", 7, 3);
	wd_model_reply r;
	json_t *b;

	snprintf(spec, sizeof(spec), "compat:%s/v1/#qwen2.5-coder:7b", mock_url(srv));
	unsetenv("OPENAI_API_KEY");
	mock_push_json(srv, 200, reply);
	ck_assert_int_eq(complete(&r, spec, 0, 512), 0);
	ck_assert_str_eq(mock_request_path(srv, 0), "/v1/chat/completions");
	ck_assert_ptr_null(mock_request_header(srv, 0, "Authorization"));
	b = sent(0);
	ck_assert_str_eq(str_at(b, "model"), "qwen2.5-coder:7b");
	ck_assert_int_eq(json_integer_value(at(b, "max_tokens")), 512);
	ck_assert_ptr_null(at(b, "max_completion_tokens"));
	json_decref(b);
	ck_assert_str_eq(r.text, "local answer");
	ck_assert_str_eq(r.provider, "compat");
	ck_assert_double_eq(r.usage.cost_usd, 0);
	wd_model_reply_free(&r);

	/* a key for the compat server, when set, is sent as a bearer token */
	setenv("COMPAT_API_KEY", "local-secret-123", 1);
	mock_push_json(srv, 200, reply);
	ck_assert_int_eq(complete(&r, spec, 0, 0), 0);
	ck_assert_str_eq(mock_request_header(srv, 1, "Authorization"), "Bearer local-secret-123");
	wd_model_reply_free(&r);
	free(reply);
}
END_TEST

START_TEST(anthropic_messages_request_shape)
{
	const char *reply =
		"{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\","
		"\"content\":[{\"type\":\"text\",\"text\":\"I'll read it.\"},"
		"{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"read_file\",\"input\":{\"path\":\"src/b.c\"}}],"
		"\"stop_reason\":\"tool_use\",\"stop_sequence\":null,"
		"\"usage\":{\"input_tokens\":100,\"cache_creation_input_tokens\":0,"
		"\"cache_read_input_tokens\":900,\"output_tokens\":50}}";
	wd_model_reply r;
	json_t *b, *tc;

	mock_push_json(srv, 200, reply);
	ck_assert_int_eq(complete(&r, "anthropic:claude-sonnet-4-20250514", 0, 0), 0);
	ck_assert_str_eq(mock_request_path(srv, 0), "/v1/messages");
	ck_assert_str_eq(mock_request_header(srv, 0, "x-api-key"), AKEY);
	ck_assert_str_eq(mock_request_header(srv, 0, "anthropic-version"), "2023-06-01");
	ck_assert_str_eq(mock_request_header(srv, 0, "content-type"), "application/json");
	ck_assert_ptr_null(mock_request_header(srv, 0, "Authorization"));
	b = sent(0);
	ck_assert_str_eq(str_at(b, "model"), "claude-sonnet-4-20250514");
	ck_assert_int_eq(json_integer_value(at(b, "max_tokens")), 8192);
	ck_assert_str_eq(str_at(b, "system"), "You fix bugs.");
	/* system is not a message; the two tool results share one user turn */
	ck_assert_uint_eq(json_array_size(at(b, "messages")), 3);
	ck_assert_str_eq(str_at(b, "messages.0.role"), "user");
	ck_assert_str_eq(str_at(b, "messages.0.content"), "Fix parse().");
	ck_assert_str_eq(str_at(b, "messages.1.role"), "assistant");
	ck_assert_str_eq(str_at(b, "messages.1.content.0.type"), "text");
	ck_assert_str_eq(str_at(b, "messages.1.content.0.text"), "Let me look.");
	ck_assert_str_eq(str_at(b, "messages.1.content.1.type"), "tool_use");
	ck_assert_str_eq(str_at(b, "messages.1.content.1.id"), "call_1");
	ck_assert_str_eq(str_at(b, "messages.1.content.1.name"), "read_file");
	ck_assert_str_eq(str_at(b, "messages.1.content.1.input.path"), "src/a.c");
	ck_assert_str_eq(str_at(b, "messages.1.content.2.id"), "call_2");
	ck_assert_str_eq(str_at(b, "messages.2.role"), "user");
	ck_assert_str_eq(str_at(b, "messages.2.content.0.type"), "tool_result");
	ck_assert_str_eq(str_at(b, "messages.2.content.0.tool_use_id"), "call_1");
	ck_assert_str_eq(str_at(b, "messages.2.content.0.content"), "int parse(void);");
	ck_assert_str_eq(str_at(b, "messages.2.content.1.tool_use_id"), "call_2");
	ck_assert_str_eq(str_at(b, "tools.0.name"), "read_file");
	ck_assert_str_eq(str_at(b, "tools.0.description"), "Read a file of the repository");
	ck_assert_str_eq(str_at(b, "tools.0.input_schema.type"), "object");
	ck_assert_str_eq(str_at(b, "tool_choice.type"), "auto");
	ck_assert_ptr_null(at(b, "stream"));
	json_decref(b);

	ck_assert_str_eq(r.text, "I'll read it.");
	ck_assert_str_eq(r.finish_reason, "tool_use");
	ck_assert_str_eq(r.model, "claude-sonnet-4-20250514");
	ck_assert_int_eq(r.usage.input_tokens, 1000);
	ck_assert_int_eq(r.usage.cached_tokens, 900);
	ck_assert_int_eq(r.usage.output_tokens, 50);
	/* claude-sonnet-4: $3 in, $0.30 cache read, $15 out per million */
	ck_assert_double_eq_tol(r.usage.cost_usd, (100 * 3.0 + 900 * 0.30 + 50 * 15.0) / 1e6, 1e-12);
	tc = wd_tool_calls_json(r.tool_calls, r.ntool_calls);
	ck_assert_str_eq(str_at(tc, "0.id"), "toolu_01");
	ck_assert_str_eq(str_at(tc, "0.name"), "read_file");
	ck_assert_str_eq(str_at(tc, "0.arguments"), "{\"path\":\"src/b.c\"}");
	json_decref(tc);
	wd_model_reply_free(&r);
}
END_TEST

START_TEST(anthropic_stream_with_text_and_tool_use)
{
	const char *sse =
		"event: message_start\n"
		"data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-3-5-haiku-20241022\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
		"event: content_block_start\n"
		"data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
		"event: ping\n"
		"data: {\"type\": \"ping\"}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Checking\"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" now.\"}}\n\n"
		"event: content_block_stop\n"
		"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
		"event: content_block_start\n"
		"data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_x\",\"name\":\"read_file\",\"input\":{}}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"path\\\": \"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"c.c\\\"}\"}}\n\n"
		"event: content_block_stop\n"
		"data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
		"event: message_delta\n"
		"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}\n\n"
		"event: message_stop\n"
		"data: {\"type\":\"message_stop\"}\n\n";
	mock_reply rep = { .status = 200, .body = sse, .flags = MOCK_SSE };
	wd_model_reply r;
	json_t *b, *tc;

	mock_push(srv, &rep);
	ck_assert_int_eq(complete(&r, "anthropic:claude-3-5-haiku-20241022", 1, 1000), 0);
	b = sent(0);
	ck_assert(json_is_true(at(b, "stream")));
	ck_assert_int_eq(json_integer_value(at(b, "max_tokens")), 1000);
	json_decref(b);
	ck_assert_str_eq(r.text, "Checking now.");
	ck_assert_str_eq(r.model, "claude-3-5-haiku-20241022");
	ck_assert_str_eq(r.finish_reason, "tool_use");
	ck_assert_int_eq(r.usage.input_tokens, 25);
	ck_assert_int_eq(r.usage.output_tokens, 42);
	tc = wd_tool_calls_json(r.tool_calls, r.ntool_calls);
	ck_assert_str_eq(str_at(tc, "0.id"), "toolu_x");
	ck_assert_str_eq(str_at(tc, "0.arguments"), "{\"path\": \"c.c\"}");
	json_decref(tc);
	wd_model_reply_free(&r);
}
END_TEST

START_TEST(anthropic_overloaded_event_mid_stream_is_an_error)
{
	const char *sse =
		"event: message_start\n"
		"data: {\"type\":\"message_start\",\"message\":{\"model\":\"m\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n"
		"event: error\n"
		"data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
	mock_reply rep = { .status = 200, .body = sse, .flags = MOCK_SSE };
	wd_model_reply r;

	mock_push(srv, &rep);
	ck_assert_int_eq(complete(&r, "anthropic:claude-3-5-haiku-20241022", 1, 0), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "overloaded_error"));
}
END_TEST

START_TEST(anthropic_401_names_its_variable)
{
	wd_model_reply r;

	mock_push_json(srv, 401, "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
	                         "\"message\":\"invalid x-api-key\"}}");
	ck_assert_int_eq(complete(&r, "anthropic:claude-3-5-haiku-20241022", 0, 0), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "ANTHROPIC_API_KEY"));
	ck_assert_ptr_null(strstr(wd_error_last(), AKEY));
}
END_TEST

START_TEST(openai_responses_request_shape)
{
	const char *reply =
		"{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-4.1-2025-04-14\","
		"\"output\":[{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]},"
		"{\"type\":\"message\",\"id\":\"msg_1\",\"status\":\"completed\",\"role\":\"assistant\","
		"\"content\":[{\"type\":\"output_text\",\"text\":\"Here is the fix.\",\"annotations\":[]}]},"
		"{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_r\",\"name\":\"read_file\","
		"\"arguments\":\"{\\\"path\\\":\\\"d.c\\\"}\",\"status\":\"completed\"}],"
		"\"usage\":{\"input_tokens\":500,\"input_tokens_details\":{\"cached_tokens\":100},"
		"\"output_tokens\":60,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":560}}";
	wd_model_reply r;
	json_t *b, *tc;

	mock_push_json(srv, 200, reply);
	ck_assert_int_eq(complete(&r, "openai-responses:gpt-4.1", 0, 4000), 0);
	ck_assert_str_eq(mock_request_path(srv, 0), "/v1/responses");
	ck_assert_str_eq(mock_request_header(srv, 0, "Authorization"), "Bearer " OKEY);
	b = sent(0);
	ck_assert_str_eq(str_at(b, "model"), "gpt-4.1");
	ck_assert_str_eq(str_at(b, "instructions"), "You fix bugs.");
	ck_assert(json_is_false(at(b, "store")));
	ck_assert_int_eq(json_integer_value(at(b, "max_output_tokens")), 4000);
	ck_assert_str_eq(str_at(b, "input.0.role"), "user");
	ck_assert_str_eq(str_at(b, "input.0.content"), "Fix parse().");
	ck_assert_str_eq(str_at(b, "input.1.role"), "assistant");
	ck_assert_str_eq(str_at(b, "input.1.content"), "Let me look.");
	ck_assert_str_eq(str_at(b, "input.2.type"), "function_call");
	ck_assert_str_eq(str_at(b, "input.2.call_id"), "call_1");
	ck_assert_str_eq(str_at(b, "input.2.name"), "read_file");
	ck_assert_str_eq(str_at(b, "input.2.arguments"), "{\"path\":\"src/a.c\"}");
	ck_assert_str_eq(str_at(b, "input.3.call_id"), "call_2");
	ck_assert_str_eq(str_at(b, "input.4.type"), "function_call_output");
	ck_assert_str_eq(str_at(b, "input.4.call_id"), "call_1");
	ck_assert_str_eq(str_at(b, "input.4.output"), "int parse(void);");
	ck_assert_str_eq(str_at(b, "input.5.call_id"), "call_2");
	ck_assert_str_eq(str_at(b, "tools.0.type"), "function");
	ck_assert_str_eq(str_at(b, "tools.0.name"), "read_file");
	ck_assert_str_eq(str_at(b, "tools.0.parameters.type"), "object");
	ck_assert_str_eq(str_at(b, "tool_choice"), "auto");
	json_decref(b);

	ck_assert_str_eq(r.text, "Here is the fix.");
	ck_assert_str_eq(r.finish_reason, "completed");
	ck_assert_int_eq(r.usage.input_tokens, 500);
	ck_assert_int_eq(r.usage.cached_tokens, 100);
	ck_assert_int_eq(r.usage.output_tokens, 60);
	tc = wd_tool_calls_json(r.tool_calls, r.ntool_calls);
	ck_assert_str_eq(str_at(tc, "0.id"), "call_r");
	ck_assert_str_eq(str_at(tc, "0.arguments"), "{\"path\":\"d.c\"}");
	json_decref(tc);
	wd_model_reply_free(&r);
}
END_TEST

START_TEST(openai_responses_stream_uses_the_completed_response)
{
	const char *sse =
		"event: response.created\n"
		"data: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_2\",\"status\":\"in_progress\",\"output\":[]}}\n\n"
		"event: response.output_text.delta\n"
		"data: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg\",\"output_index\":0,\"content_index\":0,\"delta\":\"Do\"}\n\n"
		"event: response.output_text.delta\n"
		"data: {\"type\":\"response.output_text.delta\",\"sequence_number\":2,\"item_id\":\"msg\",\"output_index\":0,\"content_index\":0,\"delta\":\"ne.\"}\n\n"
		"event: response.completed\n"
		"data: {\"type\":\"response.completed\",\"sequence_number\":3,\"response\":{\"id\":\"resp_2\",\"status\":\"completed\",\"model\":\"gpt-4.1-mini\",\"output\":[{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Done.\"}]}],\"usage\":{\"input_tokens\":11,\"output_tokens\":2}}}\n\n";
	mock_reply rep = { .status = 200, .body = sse, .flags = MOCK_SSE };
	mock_reply cut = { .status = 200, .body = sse, .flags = MOCK_SSE | MOCK_TRUNCATE };
	wd_model_reply r;

	mock_push(srv, &rep);
	ck_assert_int_eq(complete(&r, "openai-responses:gpt-4.1-mini", 1, 0), 0);
	ck_assert_str_eq(r.text, "Done.");
	ck_assert_str_eq(r.model, "gpt-4.1-mini");
	ck_assert_int_eq(r.usage.output_tokens, 2);
	wd_model_reply_free(&r);
	mock_push(srv, &cut);
	ck_assert_int_eq(complete(&r, "openai-responses:gpt-4.1-mini", 1, 0), WD_EINFRA);
}
END_TEST

START_TEST(parse_reply_entry_point_handles_each_api)
{
	wd_model_reply r;
	const char *sse = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\r\n\r\ndata: [DONE]\r\n";

	ck_assert_int_eq(wd_model_parse_reply(&r, "openai", sse, strlen(sse), 1), 0);
	ck_assert_str_eq(r.text, "x");
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_parse_reply(&r, "anthropic", "{\"content\":[]}", 14, 0), 0);
	ck_assert_str_eq(r.text, "");
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_parse_reply(&r, "anthropic", "[]", 2, 0), WD_EINPUT);
	ck_assert_ptr_null(r.text);
	ck_assert_int_eq(wd_model_parse_reply(&r, "openai-responses", "{\"status\":\"failed\",\"error\":{\"message\":\"boom\"}}", 46, 0), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "boom"));
	ck_assert_int_eq(wd_model_parse_reply(&r, "gemini", "{}", 2, 0), WD_EUSAGE);
}
END_TEST

/* Each API's ways of ending a reply early, streamed or not, as the wire
 * says them: each parsed reply is incomplete (never applied); the same
 * replies ended normally are the control. */
START_TEST(every_api_marks_its_partial_replies_incomplete)
{
	static const struct {
		const char *api, *body;
		int sse, partial;
	} cases[] = {
		{ "openai", "{\"choices\":[{\"message\":{\"content\":\"x\"},\"finish_reason\":\"content_filter\"}]}", 0, 1 },
		{ "openai", "data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"content_filter\"}]}\n\ndata: [DONE]\n\n", 1, 1 },
		{ "openai", "{\"choices\":[{\"message\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}", 0, 0 },
		{ "anthropic", "{\"content\":[{\"type\":\"text\",\"text\":\"x\"}],\"stop_reason\":\"refusal\"}", 0, 1 },
		{ "anthropic", "{\"content\":[{\"type\":\"text\",\"text\":\"x\"}],\"stop_reason\":\"pause_turn\"}", 0, 1 },
		{ "anthropic", "{\"content\":[{\"type\":\"text\",\"text\":\"x\"}],\"stop_reason\":\"model_context_window_exceeded\"}", 0, 1 },
		{ "anthropic", "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n"
		               "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"refusal\"}}\n\n"
		               "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", 1, 1 },
		{ "anthropic", "{\"content\":[{\"type\":\"text\",\"text\":\"x\"}],\"stop_reason\":\"end_turn\"}", 0, 0 },
		{ "openai-responses", "{\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"content_filter\"},\"output\":[]}", 0, 1 },
		{ "openai-responses", "{\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"stop\"},\"output\":[]}", 0, 1 },
		{ "openai-responses", "{\"status\":\"incomplete\",\"output\":[]}", 0, 1 },
		{ "openai-responses", "{\"status\":\"in_progress\",\"output\":[]}", 0, 1 },
		{ "openai-responses", "event: response.incomplete\ndata: {\"type\":\"response.incomplete\",\"response\":"
		                      "{\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"end_turn\"},\"output\":[]}}\n\n", 1, 1 },
		{ "openai-responses", "{\"status\":\"completed\",\"output\":[]}", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wd_model_reply r;

		ck_assert_msg(wd_model_parse_reply(&r, cases[i].api, cases[i].body, strlen(cases[i].body),
		                                   cases[i].sse) == 0, "case %zu: %s", i, wd_error_last());
		ck_assert_msg((wd_model_reply_incomplete(&r) != NULL) == cases[i].partial,
		              "case %zu (%s, finish %s): incomplete %s", i, cases[i].api,
		              r.finish_reason ? r.finish_reason : "(none)",
		              wd_model_reply_incomplete(&r) ? wd_model_reply_incomplete(&r) : "(no)");
		wd_model_reply_free(&r);
	}
}
END_TEST

START_TEST(bad_tool_definitions_are_refused_before_sending)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model_call call = WD_MODEL_CALL_INIT;
	wd_model *m = NULL;
	wd_model_reply r;
	json_t *bad = json_pack("[{s:s}]", "description", "no name");

	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	call.tools = bad;
	ck_assert_int_eq(wd_model_complete_ex(&r, m, &chat, &call), WD_EUSAGE);
	ck_assert_uint_eq(mock_request_count(srv), 0);
	json_decref(bad);
	bad = json_pack("{s:s}", "name", "x");
	call.tools = bad;
	ck_assert_int_eq(wd_model_complete_ex(&r, m, &chat, &call), WD_EUSAGE);
	json_decref(bad);
	wd_model_free(m);
}
END_TEST

START_TEST(stream_request_answered_with_plain_json_is_still_read)
{
	/* some compatible servers ignore "stream": the reply is one JSON body */
	char spec[300], *reply = mock_openai_chat_body("not streamed", 2, 2);
	wd_model_reply r;

	snprintf(spec, sizeof(spec), "compat:%s/v1#m", mock_url(srv));
	mock_push_json(srv, 200, reply);
	ck_assert_int_eq(complete(&r, spec, 1, 0), 0);
	ck_assert_str_eq(r.text, "not streamed");
	ck_assert_int_eq(r.usage.output_tokens, 2);
	wd_model_reply_free(&r);
	free(reply);
}
END_TEST

START_TEST(token_budget_caps_the_output_asked_for)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model *m = NULL;
	wd_model_reply r;
	char *reply = mock_openai_chat_body("x", 300, 100);
	json_t *b;

	o.max_tokens = 1000;
	o.max_retries = 0;
	mock_push_json(srv, 200, reply);
	mock_push_json(srv, 200, reply);
	mock_push_json(srv, 200, reply);
	ck_assert_int_eq(wd_model_open(&m, "anthropic:claude-3-5-haiku-20241022", &o), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA); /* an OpenAI body is not a Messages reply */
	b = sent(0);
	ck_assert_int_eq(json_integer_value(at(b, "max_tokens")), 1000);
	json_decref(b);
	wd_model_free(m);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	wd_model_reply_free(&r);
	b = sent(mock_request_count(srv) - 1);
	ck_assert_int_eq(json_integer_value(at(b, "max_completion_tokens")), 600);
	json_decref(b);
	wd_model_free(m);
	free(reply);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("model_api");
	TCase *tc = tcase_create("shapes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, openai_chat_tools_and_tool_turns);
	tcase_add_test(tc, openai_chat_streamed_tool_call_deltas_are_joined);
	tcase_add_test(tc, compat_server_uses_its_base_url_and_older_field_names);
	tcase_add_test(tc, anthropic_messages_request_shape);
	tcase_add_test(tc, anthropic_stream_with_text_and_tool_use);
	tcase_add_test(tc, anthropic_overloaded_event_mid_stream_is_an_error);
	tcase_add_test(tc, anthropic_401_names_its_variable);
	tcase_add_test(tc, openai_responses_request_shape);
	tcase_add_test(tc, openai_responses_stream_uses_the_completed_response);
	tcase_add_test(tc, parse_reply_entry_point_handles_each_api);
	tcase_add_test(tc, every_api_marks_its_partial_replies_incomplete);
	tcase_add_test(tc, bad_tool_definitions_are_refused_before_sending);
	tcase_add_test(tc, stream_request_answered_with_plain_json_is_still_read);
	tcase_add_test(tc, token_budget_caps_the_output_asked_for);
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
