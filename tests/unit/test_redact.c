/* The redactor on its own: every credential shape it knows (each with the
 * code and prose it must leave alone), registered values, the markers it
 * writes, the hits it reports, and that redacting twice changes nothing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/ledger.h"

/* Planted credentials, one per shape (none is real). */
#define GH_TOKEN "ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz"
#define GH_PAT "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
#define GL_TOKEN "glpat-Ab3dEf6hIj9lMn2pQr5t"
#define NPM_TOKEN "npm_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hI6"
#define SLACK_TOKEN "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
#define GOOGLE_KEY "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
#define AWS_ID "AKIAIOSFODNN7EXAMPLE"
#define AWS_STS_ID "ASIAY34FZKBOKMUTVV7A"
#define AWS_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define JWT "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." \
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
#define SK_KEY "sk-proj-Ab12Cd34Ef56Gh78Ij90KlMn"

static void setup(void)
{
	wd_redact_reset();
}

static void teardown(void)
{
	wd_redact_reset();
}

static char *redacted(const char *s)
{
	static char out[8192];
	char *r = wd_redact(s);

	ck_assert_ptr_nonnull(r);
	snprintf(out, sizeof(out), "%s", r);
	free(r);
	return out;
}

static void assert_kept(const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(redacted(v[i]), v[i]) == 0, "changed: '%s' -> '%s'", v[i],
		              redacted(v[i]));
}

#define KEPT(arr) assert_kept(arr, sizeof(arr) / sizeof((arr)[0]))

/* ------------------------------------------------------------ registered values */

START_TEST(registered_values_are_replaced_wherever_they_appear)
{
	wd_redact_register("hunter2-very-secret");
	ck_assert_str_eq(redacted("pw hunter2-very-secret, again xhunter2-very-secretx"),
	                 "pw [REDACTED:known-secret], again x[REDACTED:known-secret]x");
}
END_TEST

START_TEST(short_values_are_not_registered)
{
	wd_redact_register("abc12");
	wd_redact_register(NULL);
	ck_assert_str_eq(redacted("abc12 is fine"), "abc12 is fine");
	wd_redact_register("abc123");
	ck_assert_str_eq(redacted("abc123 is not"), "[REDACTED:known-secret] is not");
}
END_TEST

START_TEST(a_longer_value_that_contains_a_shorter_one_is_scrubbed_whole)
{
	wd_redact_register("secret");
	wd_redact_register("secret-and-more");
	ck_assert_str_eq(redacted("a secret-and-more b secret"),
	                 "a [REDACTED:known-secret] b [REDACTED:known-secret]");
}
END_TEST

START_TEST(environment_secrets_are_registered_by_name)
{
	setenv("OPENAI_API_KEY", "openai-value-1", 1);
	setenv("ANTHROPIC_API_KEY", "anthropic-value-2", 1);
	setenv("GITHUB_TOKEN", "github-value-3", 1);
	setenv("DEPLOY_SECRET", "deploy-value-4", 1);
	setenv("DB_PASSWORD", "db-value-5", 1);
	setenv("SOME_KEY", "somekey-value-6", 1);
	setenv("WD_TEST_HARMLESS", "harmless-value-7", 1);
	setenv("KEYBOARD", "keyboard-value-8", 1);
	wd_redact_register_env();
	ck_assert_str_eq(redacted("openai-value-1 anthropic-value-2 github-value-3"),
	                 "[REDACTED:known-secret] [REDACTED:known-secret] [REDACTED:known-secret]");
	ck_assert_str_eq(redacted("deploy-value-4 db-value-5 somekey-value-6"),
	                 "[REDACTED:known-secret] [REDACTED:known-secret] [REDACTED:known-secret]");
	ck_assert_str_eq(redacted("harmless-value-7 keyboard-value-8"),
	                 "harmless-value-7 keyboard-value-8");
}
END_TEST

START_TEST(variables_named_by_the_user_are_registered)
{
	setenv("WD_TEST_DSN", "postgres-dsn-value", 1);
	setenv("WD_TEST_OTHER", "other-value-xyz", 1);
	setenv("WD_TEST_THIRD", "third-value-xyz", 1);
	setenv("WD_TEST_NOT_NAMED", "not-named-value", 1);
	unsetenv("WD_TEST_UNSET");
	wd_redact_register_env_names("WD_TEST_DSN");
	wd_redact_register_env_names(" WD_TEST_OTHER,WD_TEST_UNSET  WD_TEST_THIRD, ");
	wd_redact_register_env_names(NULL);
	wd_redact_register_env_names("");
	ck_assert_str_eq(redacted("postgres-dsn-value other-value-xyz third-value-xyz not-named-value"),
	                 "[REDACTED:known-secret] [REDACTED:known-secret] [REDACTED:known-secret] "
	                 "not-named-value");
}
END_TEST

START_TEST(buffers_with_nul_bytes_are_redacted)
{
	wd_buf b = WD_BUF_INIT;

	wd_redact_register("topsecret");
	ck_assert_int_eq(wd_buf_put(&b, "a\0topsecret\0b " AWS_ID, 13 + 21), 0);
	ck_assert_int_eq(wd_redact_buf(&b), 0);
	ck_assert_uint_eq(b.len, 49);
	ck_assert_int_eq(memcmp(b.ptr, "a\0[REDACTED:known-secret]\0b [REDACTED:aws-key-id]", 49), 0);
	wd_buf_free(&b);
}
END_TEST

/* ------------------------------------------------------------ shapes */

START_TEST(private_key_blocks_are_redacted_whole)
{
	ck_assert_str_eq(redacted("key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r\nAAAA\n"
	                          "-----END OPENSSH PRIVATE KEY-----\nafter"),
	                 "key:\n[REDACTED:private-key]\nafter");
	ck_assert_str_eq(redacted("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIB\n-----END RSA PRIVATE KEY-----"
	                          " and -----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----"),
	                 "[REDACTED:private-key] and [REDACTED:private-key]");
	ck_assert_str_eq(redacted("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n"
	                          "-----END ENCRYPTED PRIVATE KEY-----\n"
	                          "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
	                          "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOY\n"
	                          "-----END PGP PRIVATE KEY BLOCK-----\n"),
	                 "[REDACTED:private-key]\n[REDACTED:private-key]\n[REDACTED:private-key]\n");
	/* a certificate between the header and the key's END line is inside the block */
	ck_assert_str_eq(redacted("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END CERTIFICATE-----\nx\n"
	                          "-----END PRIVATE KEY-----\ntail"),
	                 "[REDACTED:private-key]\ntail");
	/* cut output: everything after the header goes */
	ck_assert_str_eq(redacted("log\n-----BEGIN RSA PRIVATE KEY-----\nMIIE truncated"),
	                 "log\n[REDACTED:private-key]");
	/* as a JSON string, with escaped newlines (a service account file) */
	ck_assert_str_eq(redacted("{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEv\\n"
	                          "-----END PRIVATE KEY-----\\n\", \"x\": 1}"),
	                 "{\"private_key\": \"[REDACTED:private-key]\", \"x\": 1}");
}
END_TEST

START_TEST(public_pem_blocks_are_left_alone)
{
	const char *keep[] = {
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
		"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----",
		"-----BEGIN OPENSSH PUBLIC KEY-----",
		"-----BEGIN private key-----", /* not a PEM label */
		"----- BEGIN -----",
	};

	KEPT(keep);
}
END_TEST

START_TEST(aws_key_ids_and_secret_keys_are_redacted)
{
	ck_assert_str_eq(redacted("aws " AWS_ID " key, sts " AWS_STS_ID),
	                 "aws [REDACTED:aws-key-id] key, sts [REDACTED:aws-key-id]");
	ck_assert_str_eq(redacted("aws_secret_access_key = " AWS_SECRET "\n"),
	                 "aws_secret_access_key = [REDACTED:aws-secret]\n");
	ck_assert_str_eq(redacted("AWS_SECRET_ACCESS_KEY=" AWS_SECRET),
	                 "AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret]");
	ck_assert_str_eq(redacted("{\"SecretAccessKey\": \"" AWS_SECRET "\"}"),
	                 "{\"SecretAccessKey\": \"[REDACTED:aws-secret]\"}");
	ck_assert_str_eq(redacted("aws_access_key_id = " AWS_ID),
	                 "aws_access_key_id = [REDACTED:aws-key-id]");
}
END_TEST

START_TEST(github_tokens_are_redacted)
{
	ck_assert_str_eq(redacted("token " GH_TOKEN "."), "token [REDACTED:github-token].");
	ck_assert_str_eq(redacted("gho_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz ghu_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz"),
	                 "[REDACTED:github-token] [REDACTED:github-token]");
	ck_assert_str_eq(redacted("ghs_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz,ghr_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz"),
	                 "[REDACTED:github-token],[REDACTED:github-token]");
	ck_assert_str_eq(redacted("GH=" GH_PAT), "GH=[REDACTED:github-token]");
	/* a token assigned to a secret's key is named after the token */
	ck_assert_str_eq(redacted("GITHUB_TOKEN=" GH_TOKEN), "GITHUB_TOKEN=[REDACTED:github-token]");
}
END_TEST

START_TEST(gitlab_npm_slack_and_google_tokens_are_redacted)
{
	ck_assert_str_eq(redacted("gitlab " GL_TOKEN), "gitlab [REDACTED:gitlab-token]");
	ck_assert_str_eq(redacted("//registry.npmjs.org/:_authToken " NPM_TOKEN),
	                 "//registry.npmjs.org/:_authToken [REDACTED:npm-token]");
	ck_assert_str_eq(redacted("slack " SLACK_TOKEN " xoxp-1234567890-abcdefghij"),
	                 "slack [REDACTED:slack-token] [REDACTED:slack-token]");
	ck_assert_str_eq(redacted("maps?key=" GOOGLE_KEY "&q=x"), "maps?key=[REDACTED:google-api-key]&q=x");
}
END_TEST

START_TEST(jwts_are_redacted)
{
	ck_assert_str_eq(redacted("id " JWT " end"), "id [REDACTED:jwt] end");
	/* unsigned (alg none): the trailing dot is the empty signature */
	ck_assert_str_eq(redacted("t=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. ok"), "t=[REDACTED:jwt] ok");
	/* JWE: five segments */
	ck_assert_str_eq(redacted("eyJhbGciOiJSU0EtT0FFUCJ9.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ"),
	                 "[REDACTED:jwt]");
}
END_TEST

START_TEST(model_keys_and_bearer_tokens_are_redacted)
{
	ck_assert_str_eq(redacted("key=" SK_KEY " done"), "key=[REDACTED:api-key] done");
	ck_assert_str_eq(redacted("sk-ant-api03-abcDEF123456ghiJKL789"), "[REDACTED:api-key]");
	ck_assert_str_eq(redacted("Authorization: Bearer abc.DEF-123_456~xyz="),
	                 "Authorization: Bearer [REDACTED:bearer]");
	ck_assert_str_eq(redacted("authorization: bearer   abcdefgh12"),
	                 "authorization: bearer   [REDACTED:bearer]");
}
END_TEST

START_TEST(url_passwords_are_redacted_and_users_kept)
{
	ck_assert_str_eq(redacted("remote https://x-access-token:tok3n-value@github.com/o/r.git"),
	                 "remote https://x-access-token:[REDACTED:url-password]@github.com/o/r.git");
	ck_assert_str_eq(redacted("\"http://bob:hunter22@127.0.0.1:8080/x\""),
	                 "\"http://bob:[REDACTED:url-password]@127.0.0.1:8080/x\"");
	/* a .git-credentials file */
	ck_assert_str_eq(redacted("https://alice:s3cr3t-Pa55@git.example.com\n"
	                          "https://oauth2:" GL_TOKEN "@gitlab.com\n"),
	                 "https://alice:[REDACTED:url-password]@git.example.com\n"
	                 "https://oauth2:[REDACTED:gitlab-token]@gitlab.com\n");
	/* a token as the user is found by its shape */
	ck_assert_str_eq(redacted("https://" GH_TOKEN ":x-oauth-basic@github.com"),
	                 "https://[REDACTED:github-token]:[REDACTED:url-password]@github.com");
	/* no password, or not a URL's userinfo: kept */
	ck_assert_str_eq(redacted("ssh://git@example.com/r.git https://example.com/a:b@c"),
	                 "ssh://git@example.com/r.git https://example.com/a:b@c");
}
END_TEST

START_TEST(a_registered_value_in_the_visible_part_of_a_match_is_still_scrubbed)
{
	wd_redact_register("deploybot77");
	ck_assert_str_eq(redacted("https://deploybot77:pw123@example.com/x"),
	                 "https://[REDACTED:known-secret]:[REDACTED:url-password]@example.com/x");
}
END_TEST

/* ------------------------------------------------------------ assignments */

START_TEST(secret_assignments_keep_the_key_and_lose_the_value)
{
	static const char *const cases[][2] = {
		{ "password=hunter2", "password=[REDACTED:assignment]" },
		{ "DB_PASSWORD=s3cr3t; next", "DB_PASSWORD=[REDACTED:assignment]; next" },
		{ "export DEPLOY_TOKEN=abc123xyz", "export DEPLOY_TOKEN=[REDACTED:assignment]" },
		{ "--password=hunter22 --user x", "--password=[REDACTED:assignment] --user x" },
		{ "secret: MySecret", "secret: [REDACTED:assignment]" },
		{ "PASSWORD: hunter2", "PASSWORD: [REDACTED:assignment]" },
		{ "api_key: AbC123dEf", "api_key: [REDACTED:assignment]" },
		{ "X-Api-Key: 0a1b2c3d4e", "X-Api-Key: [REDACTED:assignment]" },
		{ "\"password\": \"x7y8z9\"", "\"password\": \"[REDACTED:assignment]\"" },
		{ "'password' => 'pa55word'", "'password' => '[REDACTED:assignment]'" },
		{ "apiKey = \"sk_live_abcdef\"", "apiKey = \"[REDACTED:assignment]\"" },
		{ "private_key = 'abc-def-ghi'", "private_key = '[REDACTED:assignment]'" },
		{ "SECRET_KEY = 'django-insecure-abc'", "SECRET_KEY = '[REDACTED:assignment]'" },
		{ "accessKey: \"AbCdEf123\"", "accessKey: \"[REDACTED:assignment]\"" },
		{ "client_secret=abc123&grant=x", "client_secret=[REDACTED:assignment]&grant=x" },
		{ "https://h/?access_token=abc123&x=1", "https://h/?access_token=[REDACTED:assignment]&x=1" },
		{ "Server=x;Password=p4ss;Database=y", "Server=x;Password=[REDACTED:assignment];Database=y" },
		{ "user=bob, passwd=hunter2, host=x", "user=bob, passwd=[REDACTED:assignment], host=x" },
		{ "token: 12345678", "token: [REDACTED:assignment]" },
		{ "const char *secret = \"shh-it-is\";", "const char *secret = \"[REDACTED:assignment]\";" },
		{ "password = \"unterminated", "password = \"[REDACTED:assignment]" },
		{ "grep: secret.txt:1:password=abc123", "grep: secret.txt:1:password=[REDACTED:assignment]" },
		{ "token := \"abc\"", "token := \"[REDACTED:assignment]\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(redacted(cases[i][0]), cases[i][1]);
}
END_TEST

START_TEST(code_that_names_secrets_is_left_alone)
{
	const char *keep[] = {
		"password_len = strlen(p);",
		"size_t password_len = strlen(password);",
		"if (token == NULL)",
		"if (token != NULL && secret)",
		"while (token <= end)",
		"token += 1;",
		"char *token = NULL;",
		"token = next;",
		"token = self.token",
		"self.password = password",
		"password = getpass()",
		"secret = os.environ['X']",
		"token = tokens[i];",
		"ctx->token = tok;",
		"token = ctx->token;",
		"for (token = strtok(s, \" \"); token; token = strtok(NULL, \" \"))",
		"printf(\"password=%s\\n\", pw);",
		"echo \"password=$PASSWORD\"",
		"token := os.Getenv(\"X\")",
		"def f(password: str, token: Optional[str] = None):",
		"let api_key: &str = x;",
		"fn check(token: String) -> bool",
		"token => token.trim()",
		"case token::Ident:",
		".token = tok, .password = pw,",
		"f(password = pw, user)",
		"tokens = []",
		"num_tokens = 0",
		"max_tokens: 4096",
		"token_type: bearer",
		"password_file: /etc/app/pw",
		"tokenCount: 55",
		"secret_name: prod-db",
		"\"token_endpoint\": \"https://auth.example.com/token\"",
		"tokenizer: gpt2",
		"Password: ********",
		"password: \"\"",
		"token: ${TOKEN}",
		"{\"token\": token}",
	};

	KEPT(keep);
}
END_TEST

START_TEST(logs_and_diagnostics_that_mention_secrets_are_left_alone)
{
	const char *keep[] = {
		"test_token.c:12:5: error: expected ';' before 'return'",
		"token_test.go:15: got abc123, want xyz789",
		"tests/test_password.py:12: AssertionError",
		"tests/unit/t.c:40:F:core:test_token:0: Assertion 'n == 2' failed",
		"grep: /etc/passwd: Permission denied",
		"SyntaxError: Unexpected token: '}'",
		"error: invalid token: expected identifier",
		"not ok 3 - token: parses header",
		"Password: changeme",
		"warning: unused variable 'password' [-Wunused-variable]",
		"error: 'token' undeclared (first use in this function)",
		"--- FAIL: TestToken (0.00s)",
		"FAILED tests/test_auth.py::test_password - assert 1 == 2",
	};

	KEPT(keep);
}
END_TEST

START_TEST(ordinary_text_is_left_alone)
{
	const char *keep[] = {
		"disk-space-is-low-on-the-build-machine-today",
		"sk-short1",
		"sk-this-is-only-letters-and-dashes-here",
		"task_sk-Ab12Cd34Ef56Gh78Ij90KlMn",
		"ghp_short",
		"AKIAlowercase0000000",
		"AKIAIOSFODNN7EXAMPLE0", /* 17: not a key id */
		"the Bearer of bad news",
		"static int xox(void);",
		"npm_config_cache=/tmp/npm",
		"eyJmb28iOiJiYXIifQ==",
		"eyJhbGciOiJIUzI1NiJ9.x",
		"glpat-short",
		"AIzaShort",
		"mailto:user@example.com http://example.com:8080/@home",
		"[REDACTED] [REDACTED:jwt] [REDACTED:x]",
		"[REDACTED:known-secret]: abc123 [REDACTED:api-key]=xyz789",
		"",
	};

	KEPT(keep);
}
END_TEST

/* ------------------------------------------------------------ markers, hits */

START_TEST(overlapping_finds_become_one_marker_named_after_the_most_specific_rule)
{
	wd_redact_register("abcdef-registered");
	ck_assert_str_eq(redacted("password=abcdef-registered"), "password=[REDACTED:known-secret]");
	ck_assert_str_eq(redacted("key: Bearer " JWT), "key: Bearer [REDACTED:jwt]");
	ck_assert_str_eq(redacted("x " GH_TOKEN "abcdef-registered y"), "x [REDACTED:github-token] y");
}
END_TEST

/* A replacement can turn what was inside a token into the start of one: the
 * text is looked at again until nothing new is found. */
START_TEST(a_token_glued_to_a_redacted_one_is_found_too)
{
	wd_redact_hit *hits = NULL;
	size_t n = 0;
	static const char text[] = "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----"
	                           GH_TOKEN " tail";

	ck_assert_str_eq(redacted(text), "[REDACTED:private-key][REDACTED:github-token] tail");
	ck_assert_int_eq(wd_redact_scan(&hits, &n, text, strlen(text)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(hits[1].offset, strlen(text) - strlen(GH_TOKEN " tail"));
	ck_assert_uint_eq(hits[1].len, strlen(GH_TOKEN));
	free(hits);
	wd_redact_register("SECRET99");
	ck_assert_str_eq(redacted("AKIAIOSFODNN7EXAMPLESECRET99"),
	                 "[REDACTED:aws-key-id][REDACTED:known-secret]");
}
END_TEST

/* Only the markers the redactor writes are left alone: a check cannot hide a
 * value by printing it in marker form. */
START_TEST(only_real_markers_are_opaque)
{
	wd_redact_register("hidden-in-brackets");
	ck_assert_str_eq(redacted("[REDACTED:hidden-in-brackets]"), "[REDACTED:[REDACTED:known-secret]]");
	wd_redact_register("github-token");
	ck_assert_str_eq(redacted("[REDACTED:github-token] github-token"),
	                 "[REDACTED:github-token] [REDACTED:known-secret]");
}
END_TEST

static const char *const samples[] = {
	"password=hunter2 and " GH_TOKEN,
	"https://u:p4ssw0rd@h/x https://[REDACTED:known-secret]:pw@h",
	"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
	"\"password\": \"[REDACTED:assignment]\", \"token\": \"abc[REDACTED:jwt]\"",
	"Authorization: Bearer " JWT,
	"aws_secret_access_key=" AWS_SECRET " " AWS_ID,
	"a registered-value-1 b",
	"key=" SK_KEY " " SLACK_TOKEN " " GOOGLE_KEY " " NPM_TOKEN " " GL_TOKEN,
};

START_TEST(redacting_twice_changes_nothing)
{
	wd_redact_register("registered-value-1");
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char *once = wd_redact(samples[i]), *twice = wd_redact(once);
		wd_redact_hit *hits = NULL;
		size_t n = 0;

		ck_assert_str_ne(once, samples[i]);
		ck_assert_str_eq(twice, once);
		/* and a scan of redacted text finds nothing to report */
		ck_assert_int_eq(wd_redact_scan(&hits, &n, once, strlen(once)), 0);
		ck_assert_msg(n == 0, "'%s': %zu hits, first %s", once, n, n ? hits[0].rule : "");
		free(hits);
		free(once);
		free(twice);
	}
}
END_TEST

START_TEST(the_report_gives_offsets_in_the_original_text)
{
	static const char text[] = "a password=hunter22 b " GH_TOKEN " c";
	wd_buf b = WD_BUF_INIT;
	wd_redact_hit *hits = NULL;
	size_t n = 0;

	ck_assert_int_eq(wd_buf_puts(&b, text), 0);
	ck_assert_int_eq(wd_redact_buf_report(&b, &hits, &n), 0);
	ck_assert_str_eq(b.ptr, "a password=[REDACTED:assignment] b [REDACTED:github-token] c");
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(hits[0].offset, 11);
	ck_assert_uint_eq(hits[0].len, 8);
	ck_assert_str_eq(hits[0].rule, "assignment");
	ck_assert_int_eq(memcmp(text + hits[0].offset, "hunter22", hits[0].len), 0);
	ck_assert_uint_eq(hits[1].offset, strlen("a password=hunter22 b "));
	ck_assert_uint_eq(hits[1].len, strlen(GH_TOKEN));
	ck_assert_str_eq(hits[1].rule, "github-token");
	/* a second buffer appends; one without credentials adds nothing */
	ck_assert_int_eq(wd_buf_sets(&b, "x " AWS_ID), 0);
	ck_assert_int_eq(wd_redact_buf_report(&b, &hits, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(hits[2].offset, 2);
	ck_assert_str_eq(hits[2].rule, "aws-key-id");
	ck_assert_int_eq(wd_buf_sets(&b, "nothing here"), 0);
	ck_assert_int_eq(wd_redact_buf_report(&b, &hits, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(b.ptr, "nothing here");
	free(hits);
	wd_buf_free(&b);
}
END_TEST

START_TEST(a_scan_lists_findings_without_changing_the_text)
{
	static const char text[] = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n"
	                           "token: " JWT "\n";
	wd_redact_hit *hits = NULL;
	size_t n = 0;

	ck_assert_int_eq(wd_redact_scan(&hits, &n, text, strlen(text)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(hits[0].offset, 0);
	ck_assert_uint_eq(hits[0].len, strlen("-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----"));
	ck_assert_str_eq(hits[0].rule, "private-key");
	ck_assert_str_eq(hits[1].rule, "jwt");
	ck_assert_int_eq(memcmp(text + hits[1].offset, JWT, hits[1].len), 0);
	free(hits);
	ck_assert_int_eq(wd_redact_scan(&hits, &n, "clean", 5), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(hits);
	ck_assert_int_eq(wd_redact_scan(&hits, &n, NULL, 0), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(json_strings_and_keys_are_redacted)
{
	json_t *o = json_pack("{s:s, s:i, s:[s, {s:s}]}", "password", "hunter22",
	                      GH_TOKEN, 1, "list", "Authorization: Bearer abcdefgh12",
	                      "deep", "password=hunter22");
	char *s;

	wd_redact_json(o);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"[REDACTED:github-token]\":1,\"list\":[\"Authorization: Bearer "
	                    "[REDACTED:bearer]\",{\"deep\":\"password=[REDACTED:assignment]\"}],"
	                    "\"password\":\"[REDACTED:assignment]\"}");
	free(s);
	json_decref(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redact");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, registered_values_are_replaced_wherever_they_appear);
	tcase_add_test(tc, short_values_are_not_registered);
	tcase_add_test(tc, a_longer_value_that_contains_a_shorter_one_is_scrubbed_whole);
	tcase_add_test(tc, environment_secrets_are_registered_by_name);
	tcase_add_test(tc, variables_named_by_the_user_are_registered);
	tcase_add_test(tc, buffers_with_nul_bytes_are_redacted);
	tcase_add_test(tc, private_key_blocks_are_redacted_whole);
	tcase_add_test(tc, public_pem_blocks_are_left_alone);
	tcase_add_test(tc, aws_key_ids_and_secret_keys_are_redacted);
	tcase_add_test(tc, github_tokens_are_redacted);
	tcase_add_test(tc, gitlab_npm_slack_and_google_tokens_are_redacted);
	tcase_add_test(tc, jwts_are_redacted);
	tcase_add_test(tc, model_keys_and_bearer_tokens_are_redacted);
	tcase_add_test(tc, url_passwords_are_redacted_and_users_kept);
	tcase_add_test(tc, a_registered_value_in_the_visible_part_of_a_match_is_still_scrubbed);
	tcase_add_test(tc, secret_assignments_keep_the_key_and_lose_the_value);
	tcase_add_test(tc, code_that_names_secrets_is_left_alone);
	tcase_add_test(tc, logs_and_diagnostics_that_mention_secrets_are_left_alone);
	tcase_add_test(tc, ordinary_text_is_left_alone);
	tcase_add_test(tc, overlapping_finds_become_one_marker_named_after_the_most_specific_rule);
	tcase_add_test(tc, a_token_glued_to_a_redacted_one_is_found_too);
	tcase_add_test(tc, only_real_markers_are_opaque);
	tcase_add_test(tc, redacting_twice_changes_nothing);
	tcase_add_test(tc, the_report_gives_offsets_in_the_original_text);
	tcase_add_test(tc, a_scan_lists_findings_without_changing_the_text);
	tcase_add_test(tc, json_strings_and_keys_are_redacted);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
