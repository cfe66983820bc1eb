/*
 * Redaction: nothing the ledger writes may carry a credential. Two nets:
 * the exact values registered at start-up (API keys from the environment),
 * and shapes that credentials have whether or not we were told about them
 * (OpenAI/Anthropic "sk-" keys, GitHub tokens, Slack tokens, AWS key ids,
 * "Bearer" headers). The shapes are strict enough not to eat ordinary code.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/ledger.h"

#define REDACTED "[REDACTED]"
#define MIN_SECRET 6

extern char **environ;

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static wd_strvec secrets = WD_STRVEC_INIT; /* kept longest first */

void wd_redact_register(const char *secret)
{
	size_t len, i;
	char *copy;

	if (!secret || (len = strlen(secret)) < MIN_SECRET)
		return;
	pthread_mutex_lock(&secrets_lock);
	if (wd_strvec_contains(&secrets, secret))
		goto out;
	if (!(copy = wd_strdup(secret)) || wd_strvec_push_owned(&secrets, copy) != 0)
		goto out;
	/* Keep longest first so a secret that contains another is scrubbed whole. */
	for (i = secrets.n - 1; i > 0 && strlen(secrets.v[i - 1]) < len; i--) {
		secrets.v[i] = secrets.v[i - 1];
		secrets.v[i - 1] = copy;
	}
out:
	pthread_mutex_unlock(&secrets_lock);
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);

	return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

/* Whether an environment variable's name says it holds a credential. */
static int secret_env_name(const char *name, size_t len)
{
	static const char *const exact[] = { "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN" };
	static const char *const suffixes[] = { "_KEY", "_TOKEN", "_SECRET", "_PASSWORD" };

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i]) == len && memcmp(name, exact[i], len) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (ends_with(name, len, suffixes[i]))
			return 1;
	return 0;
}

void wd_redact_register_env(void)
{
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');

		if (eq && secret_env_name(*e, (size_t)(eq - *e)))
			wd_redact_register(eq + 1);
	}
}

void wd_redact_reset(void)
{
	pthread_mutex_lock(&secrets_lock);
	wd_strvec_free(&secrets);
	pthread_mutex_unlock(&secrets_lock);
}

static int is_word(unsigned char c)
{
	return isalnum(c) || c == '_';
}

static int is_tokchar(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/* Length of the run of bytes at s[0..len) accepted by `ok`. */
static size_t span(const char *s, size_t len, int (*ok)(unsigned char))
{
	size_t n = 0;

	while (n < len && ok((unsigned char)s[n]))
		n++;
	return n;
}

static int has_digit_and_alpha(const char *s, size_t n)
{
	int d = 0, a = 0;

	for (size_t i = 0; i < n; i++) {
		d |= isdigit((unsigned char)s[i]) != 0;
		a |= isalpha((unsigned char)s[i]) != 0;
	}
	return d && a;
}

static int is_upper_digit(unsigned char c)
{
	return isupper(c) || isdigit(c);
}

static int is_bearer_char(unsigned char c)
{
	return isalnum(c) || (c && strchr("-._~+/=", c) != NULL);
}

static int is_alnum_c(unsigned char c)
{
	return isalnum(c) != 0;
}

/*
 * If a token-shaped credential starts at s (which begins a word), return its
 * length and set *keep to the number of leading bytes to leave visible
 * ("Bearer "); otherwise 0.
 */
static size_t token_at(const char *s, size_t len, size_t *keep)
{
	size_t n;

	*keep = 0;
	if (len > 3 && memcmp(s, "sk-", 3) == 0) {
		n = span(s + 3, len - 3, is_tokchar);
		if (n >= 20 && has_digit_and_alpha(s + 3, n))
			return 3 + n;
	}
	if (len > 4 && s[0] == 'g' && s[1] == 'h' && s[2] && strchr("pousr", s[2]) && s[3] == '_') {
		n = span(s + 4, len - 4, is_alnum_c);
		if (n >= 20)
			return 4 + n;
	}
	if (len > 11 && memcmp(s, "github_pat_", 11) == 0) {
		n = span(s + 11, len - 11, is_word);
		if (n >= 20)
			return 11 + n;
	}
	if (len > 5 && memcmp(s, "xox", 3) == 0 && s[3] && strchr("abposre", s[3]) && s[4] == '-') {
		n = span(s + 5, len - 5, is_tokchar);
		if (n >= 10)
			return 5 + n;
	}
	if (len >= 20 && (memcmp(s, "AKIA", 4) == 0 || memcmp(s, "ASIA", 4) == 0)) {
		n = span(s + 4, len - 4, is_upper_digit);
		if (n == 16)
			return 20;
	}
	if (len > 7 && strncasecmp(s, "bearer", 6) == 0 && (s[6] == ' ' || s[6] == '\t')) {
		size_t sp = 6;

		while (sp < len && (s[sp] == ' ' || s[sp] == '\t'))
			sp++;
		n = span(s + sp, len - sp, is_bearer_char);
		if (n >= 8) {
			*keep = sp;
			return sp + n;
		}
	}
	return 0;
}

/*
 * Credentials recognised by their surroundings rather than their shape:
 * the password in "scheme://user:password@host" (tokens in git remote URLs)
 * and PEM private key blocks. Returns the length to replace from s[i]
 * (after *keep visible bytes), or 0.
 */
static size_t structural_at(const char *s, size_t len, size_t i, size_t *keep)
{
	static const char pem_begin[] = "-----BEGIN ";
	static const char pem_end[] = "PRIVATE KEY-----";

	*keep = 0;
	/* i at "://": the userinfo runs to '@' without '/', whitespace or quotes */
	if (len - i > 3 && s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
		size_t u = i + 3, colon = 0, j;

		for (j = u; j < len && j - u < 512; j++) {
			unsigned char c = (unsigned char)s[j];

			if (c == '@')
				break;
			if (c == '/' || c == '"' || c == '\'' || c <= ' ' || c == '<' || c == '>')
				return 0;
			if (c == ':' && !colon)
				colon = j;
		}
		if (j < len && s[j] == '@' && colon && j > colon + 1) {
			*keep = colon + 1 - i;
			return j - i;
		}
		return 0;
	}
	if (len - i > sizeof(pem_begin) && memcmp(s + i, pem_begin, sizeof(pem_begin) - 1) == 0) {
		const char *line_end = memchr(s + i, '\n', len - i);
		size_t hl = line_end ? (size_t)(line_end - (s + i)) : len - i;
		const char *endp;

		if (!memmem(s + i, hl, pem_end, sizeof(pem_end) - 1))
			return 0;
		/* up to and including the matching END line */
		endp = memmem(s + i + hl, len - i - hl, "-----END ", 9);
		if (endp) {
			const char *tail = memmem(endp, len - (size_t)(endp - s), pem_end, sizeof(pem_end) - 1);

			if (tail)
				return (size_t)(tail - (s + i)) + sizeof(pem_end) - 1;
		}
		return len - i; /* a truncated key: scrub to the end */
	}
	return 0;
}

/* Pass 1: every registered secret, wherever it appears. */
static int scrub_secrets(wd_buf *out, const char *s, size_t len)
{
	size_t i = 0, lit = 0;
	int rc;

	while (i < len) {
		size_t m = 0;

		for (size_t k = 0; k < secrets.n; k++) {
			size_t sl;

			if (s[i] != secrets.v[k][0])
				continue;
			sl = strlen(secrets.v[k]);
			if (sl <= len - i && memcmp(s + i, secrets.v[k], sl) == 0) {
				m = sl;
				break;
			}
		}
		if (!m) {
			i++;
			continue;
		}
		if ((rc = wd_buf_put(out, s + lit, i - lit)) != 0 ||
		    (rc = wd_buf_puts(out, REDACTED)) != 0)
			return rc;
		i += m;
		lit = i;
	}
	return wd_buf_put(out, s + lit, len - lit);
}

/* Pass 2: credential shapes. Runs after pass 1, so no registered secret can
 * hide in the part of a match that stays visible ("Bearer ", "://user:"). */
static int scrub_shapes(wd_buf *out, const char *s, size_t len)
{
	size_t i = 0, lit = 0;
	int rc;

	while (i < len) {
		size_t keep = 0, m = structural_at(s, len, i, &keep);

		if (!m && (i == 0 || !is_word((unsigned char)s[i - 1])))
			m = token_at(s + i, len - i, &keep);
		if (!m) {
			i++;
			continue;
		}
		if ((rc = wd_buf_put(out, s + lit, i + keep - lit)) != 0 ||
		    (rc = wd_buf_puts(out, REDACTED)) != 0)
			return rc;
		i += m;
		lit = i;
	}
	return wd_buf_put(out, s + lit, len - lit);
}

/* Append the redacted form of s[0..len) to out. Caller holds secrets_lock. */
static int redact_into(wd_buf *out, const char *s, size_t len)
{
	wd_buf tmp = WD_BUF_INIT;
	int rc;

	if (!secrets.n)
		return scrub_shapes(out, s, len);
	if ((rc = scrub_secrets(&tmp, s, len)) == 0)
		rc = scrub_shapes(out, tmp.ptr ? tmp.ptr : "", tmp.len);
	wd_buf_free(&tmp);
	return rc;
}

static int redact_n(wd_buf *out, const char *s, size_t len)
{
	int rc;

	pthread_mutex_lock(&secrets_lock);
	rc = redact_into(out, s, len);
	pthread_mutex_unlock(&secrets_lock);
	return rc;
}

char *wd_redact(const char *s)
{
	wd_buf b = WD_BUF_INIT;

	if (!s)
		return NULL;
	if (redact_n(&b, s, strlen(s)) != 0) {
		wd_buf_free(&b);
		return NULL;
	}
	return wd_buf_detach(&b);
}

int wd_redact_buf(wd_buf *b)
{
	wd_buf out = WD_BUF_INIT;
	int rc;

	if (!b->ptr)
		return 0;
	if ((rc = redact_n(&out, b->ptr, b->len)) != 0) {
		wd_buf_free(&out);
		return rc;
	}
	wd_buf_free(b);
	*b = out;
	return 0;
}

static void redact_string(json_t *v)
{
	wd_buf b = WD_BUF_INIT;
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (redact_n(&b, s, len) == 0 && (b.len != len || memcmp(b.ptr, s, len) != 0))
		json_string_setn_nocheck(v, b.ptr, b.len);
	wd_buf_free(&b);
}

static void redact_object(json_t *obj)
{
	wd_strvec renamed = WD_STRVEC_INIT;

	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		const char *key = json_object_iter_key(it);
		char *clean = wd_redact(key);

		wd_redact_json(json_object_iter_value(it));
		if (clean && strcmp(clean, key) != 0)
			(void)wd_strvec_push(&renamed, key);
		free(clean);
	}
	/* Keys that carry a secret are renamed after the walk, never during it. */
	for (size_t i = 0; i < renamed.n; i++) {
		char *clean = wd_redact(renamed.v[i]);
		json_t *v = json_object_get(obj, renamed.v[i]);

		if (clean && v) {
			json_incref(v);
			json_object_del(obj, renamed.v[i]);
			json_object_set_new(obj, clean, v);
		}
		free(clean);
	}
	wd_strvec_free(&renamed);
}

void wd_redact_json(json_t *v)
{
	size_t i;

	if (!v)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		redact_string(v);
		break;
	case JSON_OBJECT:
		redact_object(v);
		break;
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(v); i++)
			wd_redact_json(json_array_get(v, i));
		break;
	default:
		break;
	}
}
