/*
 * The redactor's high-entropy rule: a random-looking value assigned to a
 * name whose last part is "key" (STRIPE_KEY, signingKey, hmac-key) is
 * replaced; ordinary code with such names is left alone.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "warden/ledger.h"

static void redacts(const char *line, const char *want)
{
	char *r = wd_redact(line);

	ck_assert_msg(r && !strcmp(r, want), "'%s' -> '%s', not '%s'", line, r ? r : "(null)", want);
	free(r);
}

static void keeps(const char *line)
{
	redacts(line, line);
}

START_TEST(random_values_under_key_names_are_replaced)
{
	redacts("STRIPE_KEY = \"sk_live_51HkQ2bE8vXr3pT9aLmN4cZ7y\"",
	        "STRIPE_KEY = \"[REDACTED:high-entropy]\"");
	redacts("signingKey: \"aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Q0NTY3ODk=\"",
	        "signingKey: \"[REDACTED:high-entropy]\"");
	redacts("ENCRYPTION_KEY=9f86d081884c7d659a2feaa0c55ad015",
	        "ENCRYPTION_KEY=[REDACTED:high-entropy]");
	redacts("  hmac-key: Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5\n", "  hmac-key: [REDACTED:high-entropy]\n");
	redacts("export MASTER_KEY='Qm9x7Lp2Vd8Rk4Tz1Nc6Hy3W'", "export MASTER_KEY='[REDACTED:high-entropy]'");
	redacts("{\"client_key\": \"AbCdEf0123456789GhIjKlMn\"}",
	        "{\"client_key\": \"[REDACTED:high-entropy]\"}");
}
END_TEST

START_TEST(ordinary_code_with_key_names_is_left_alone)
{
	keeps("cache_key = \"user:\" + id");
	keeps("primary_key = True");
	keeps("SORT_KEY = \"created_at_desc_order_1\"");
	keeps("ROUTE_KEY = \"v2_user_profile_settings\"");
	keeps("api_key_name = \"X-Api-Key-Header-2024\"");
	keeps("foreign_key = \"users.id\"");
	keeps("KEY_FILE = \"/etc/ssl/private/server-2024.key\"");
	keeps("LICENSE_KEY = \"ABCD-EFGH-1234-WXYZ\"");
	keeps("monkey = \"aB3dE5fG7hJ9kL1mN3pQ\"");
	keeps("turkey: Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5");
	keeps("lookup_key = self.config.default_lookup_key2");
	keeps("sort_key = lambda item: item.created_at");
	keeps("struct_key = build_key(ctx, 42);");
	keeps("translation_key = \"errors.validation.required_field2\"");
	keeps("KEY = \"aB3dE5fG7hJ9kL1mN3pQ\""); /* a bare KEY is too common to judge */
	keeps("session_key = \"short1A\"");
}
END_TEST

START_TEST(scan_names_the_rule_and_where)
{
	const char *text = "a = 1\nSIGNING_KEY = \"Qm9x7Lp2Vd8Rk4Tz1Nc6Hy3W\"\n";
	wd_redact_hit *hits = NULL;
	size_t n = 0;

	ck_assert_int_eq(wd_redact_scan(&hits, &n, text, strlen(text)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(hits[0].rule, "high-entropy");
	ck_assert_uint_eq(hits[0].offset, (size_t)(strstr(text, "Qm9x") - text));
	ck_assert_uint_eq(hits[0].len, 24);
	free(hits);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redact_entropy");
	TCase *tc = tcase_create("high-entropy");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, random_values_under_key_names_are_replaced);
	tcase_add_test(tc, ordinary_code_with_key_names_is_left_alone);
	tcase_add_test(tc, scan_names_the_rule_and_where);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
