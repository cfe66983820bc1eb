/* Named models, prices and per-stage routes from the user's config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "mockhttp.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/model.h"

#define CFG_KEY "sk-from-config-0123456789abcdefgh"

static mock_server *srv;
static char tmpdir[256];
static wd_config *cfg;
static wd_chat chat;

static void write_config(const char *extra)
{
	char path[512];
	wd_buf text = WD_BUF_INIT;

	snprintf(path, sizeof(path), "%s/config", tmpdir);
	ck_assert_int_eq(wd_buf_printf(&text,
	                 "[model \"fast\"]\n"
	                 "\tspec = openai:gpt-4o-mini\n"
	                 "\tprice-in = 1.0\n"
	                 "\tprice-out = 2.0\n"
	                 "\tapi-key = " CFG_KEY "\n"
	                 "\tbase-url = %s/alt/v1\n"
	                 "[model \"gpt-4.1\"]\n"
	                 "\tprice-in = 100\n"
	                 "\tprice-out = 200\n"
	                 "\tprice-cached = 50\n"
	                 "[model \"pair\"]\n"
	                 "\tspec = fast, openai:gpt-4.1\n"
	                 "[route]\n"
	                 "\tcontext = fast\n"
	                 "%s", mock_url(srv), extra ? extra : ""), 0);
	ck_assert_int_eq(wd_file_write_atomic(path, text.ptr, text.len, 0600), 0);
	setenv("WARDEN_CONFIG", path, 1);
	wd_buf_free(&text);
	wd_config_free(cfg);
	cfg = NULL;
	ck_assert_msg(wd_config_open(&cfg, NULL) == 0, "%s", wd_error_last());
}

static void setup(void)
{
	char base[300];

	ck_assert_int_eq(mock_start(&srv), 0);
	snprintf(base, sizeof(base), "%s/v1", mock_url(srv));
	setenv("OPENAI_BASE_URL", base, 1);
	setenv("OPENAI_API_KEY", "sk-env-key-0123456789abcdefghijk", 1);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wd-test-mcfg-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	write_config(NULL);
	memset(&chat, 0, sizeof(chat));
	ck_assert_int_eq(wd_chat_add(&chat, WD_ROLE_USER, "hello"), 0);
}

static void teardown(void)
{
	wd_chat_free(&chat);
	wd_config_free(cfg);
	cfg = NULL;
	mock_stop(srv);
	srv = NULL;
	wd_rm_rf(tmpdir);
}

static void push_ok(int in, int out)
{
	char *b = mock_openai_chat_body("ok", in, out);

	mock_push_json(srv, 200, b);
	free(b);
}

static const char *sent_model(size_t i)
{
	static char name[128];
	json_t *o = json_loads(mock_request_body(srv, i), 0, NULL);

	snprintf(name, sizeof(name), "%s", json_string_value(json_object_get(o, "model")));
	json_decref(o);
	return name;
}

START_TEST(named_model_uses_its_spec_key_base_url_and_price)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model *m = NULL;
	wd_model_reply r;

	o.config = cfg;
	push_ok(1000000, 1000000);
	ck_assert_msg(wd_model_open(&m, "fast", &o) == 0, "%s", wd_error_last());
	ck_assert_str_eq(wd_model_spec(m), "fast");
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(mock_request_path(srv, 0), "/alt/v1/chat/completions");
	ck_assert_str_eq(mock_request_header(srv, 0, "Authorization"), "Bearer " CFG_KEY);
	ck_assert_str_eq(sent_model(0), "gpt-4o-mini");
	ck_assert_str_eq(r.spec, "openai:gpt-4o-mini");
	/* the section's price, not the built-in one for gpt-4o-mini */
	ck_assert_double_eq_tol(r.usage.cost_usd, 3.0, 1e-9);
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

START_TEST(config_price_for_a_model_id_overrides_the_table)
{
	double in, out, cached;
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model *m = NULL;
	wd_model_reply r;

	ck_assert_int_eq(wd_model_price(&in, &out, &cached, cfg, "gpt-4.1"), 0);
	ck_assert_double_eq(in, 100);
	ck_assert_double_eq(out, 200);
	ck_assert_double_eq(cached, 50);
	ck_assert_int_eq(wd_model_price(&in, &out, &cached, NULL, "gpt-4.1-2025-04-14"), 0);
	ck_assert_double_eq(in, 2.0);
	ck_assert_int_eq(wd_model_price(&in, &out, &cached, NULL, "claude-3-5-haiku-20241022"), 0);
	ck_assert_double_eq(out, 4.0);
	ck_assert_int_eq(wd_model_price(&in, &out, &cached, cfg, "my-local-model"), WD_ENOTFOUND);
	ck_assert_double_eq(in, 0);

	o.config = cfg;
	push_ok(10000, 0);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4.1", &o), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_double_eq_tol(r.usage.cost_usd, 1.0, 1e-9);
	wd_model_reply_free(&r);
	wd_model_free(m);
}
END_TEST

START_TEST(malformed_price_is_an_input_error_naming_the_key)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model *m = NULL;

	write_config("[model \"gpt-4o\"]\n\tprice-in = cheap\n");
	o.config = cfg;
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "model.gpt-4o.price-in"));
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(named_chain_and_unknown_names)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model *m = NULL;
	wd_model_reply r;

	o.config = cfg;
	o.max_retries = 0;
	mock_push_json(srv, 500, "{}");
	push_ok(1, 1);
	ck_assert_int_eq(wd_model_open(&m, "pair", &o), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(sent_model(0), "gpt-4o-mini");
	ck_assert_str_eq(sent_model(1), "gpt-4.1");
	ck_assert_str_eq(mock_request_path(srv, 1), "/v1/chat/completions");
	ck_assert_str_eq(r.spec, "openai:gpt-4.1");
	wd_model_reply_free(&r);
	wd_model_free(m);

	ck_assert_int_eq(wd_model_open(&m, "slow", &o), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "[model \"slow\"]"));
	o.config = NULL;
	ck_assert_int_eq(wd_model_open(&m, "fast", &o), WD_EUSAGE);
}
END_TEST

START_TEST(self_referencing_name_is_refused)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model *m = NULL;

	write_config("[model \"loop\"]\n\tspec = loop\n");
	o.config = cfg;
	ck_assert_int_eq(wd_model_open(&m, "loop", &o), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "nest too deeply"));
}
END_TEST

START_TEST(stage_route_picks_its_own_model_and_shares_the_budget)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model_call call = WD_MODEL_CALL_INIT;
	wd_model *m = NULL;
	wd_model_reply r;
	wd_model_stats st;

	o.config = cfg;
	o.max_calls = 3;
	push_ok(1, 1);
	push_ok(1, 1);
	push_ok(1, 1);
	push_ok(1, 1);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	call.stage = "context";
	ck_assert_int_eq(wd_model_complete_ex(&r, m, &chat, &call), 0);
	ck_assert_str_eq(sent_model(0), "gpt-4o-mini");
	wd_model_reply_free(&r);
	call.stage = "patch"; /* no route: the main chain */
	ck_assert_int_eq(wd_model_complete_ex(&r, m, &chat, &call), 0);
	ck_assert_str_eq(sent_model(1), "gpt-4o");
	wd_model_reply_free(&r);
	call.stage = "context";
	ck_assert_int_eq(wd_model_complete_ex(&r, m, &chat, &call), 0);
	ck_assert_str_eq(sent_model(2), "gpt-4o-mini");
	wd_model_reply_free(&r);
	ck_assert_int_eq(wd_model_complete_ex(&r, m, &chat, &call), WD_EBUDGET);
	wd_model_totals(&st, m);
	ck_assert_int_eq(st.calls, 3);
	wd_model_free(m);
}
END_TEST

START_TEST(missing_key_for_named_model_points_at_both_places)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model *m = NULL;

	unsetenv("ANTHROPIC_API_KEY");
	write_config("[model \"claude\"]\n\tspec = anthropic:claude-sonnet-4-20250514\n");
	o.config = cfg;
	ck_assert_int_eq(wd_model_open(&m, "claude", &o), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "ANTHROPIC_API_KEY"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "model.claude.api-key"));
}
END_TEST

START_TEST(transport_settings_come_from_config_when_not_given)
{
	const char *sse = "data: {\"choices\":[{\"delta\":{\"content\":\"streamed\"},\"finish_reason\":\"stop\"}]}\n\n";
	mock_reply rep = { .status = 200, .body = sse, .flags = MOCK_SSE };
	mock_reply down = { .status = 503, .body = "{}" };
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model *m = NULL;
	wd_model_reply r;
	json_t *b;

	write_config("[model]\n\tstream = true\n\tmax-retries = 1\n\ttimeout-ms = 5000\n");
	o.config = cfg;
	o.retry_base_ms = 1;
	mock_push(srv, &rep);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), 0);
	ck_assert_str_eq(r.text, "streamed");
	b = json_loads(mock_request_body(srv, 0), 0, NULL);
	ck_assert(json_is_true(json_object_get(b, "stream")));
	json_decref(b);
	wd_model_reply_free(&r);
	mock_set_default(srv, &down);
	ck_assert_int_eq(wd_model_complete(&r, m, &chat), WD_EINFRA);
	ck_assert_uint_eq(mock_request_count(srv), 3); /* one call, then 1 + 1 retry */
	wd_model_free(m);

	write_config("[model]\n\tmax-retries = lots\n");
	o.config = cfg;
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), WD_EINPUT);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("model_config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, named_model_uses_its_spec_key_base_url_and_price);
	tcase_add_test(tc, config_price_for_a_model_id_overrides_the_table);
	tcase_add_test(tc, malformed_price_is_an_input_error_naming_the_key);
	tcase_add_test(tc, named_chain_and_unknown_names);
	tcase_add_test(tc, self_referencing_name_is_refused);
	tcase_add_test(tc, stage_route_picks_its_own_model_and_shares_the_budget);
	tcase_add_test(tc, missing_key_for_named_model_points_at_both_places);
	tcase_add_test(tc, transport_settings_come_from_config_when_not_given);
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
