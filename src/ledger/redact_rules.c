/*
 * Credential shapes: where a credential sits in a text whether or not warden
 * was told about it. One left-to-right pass; each rule is tried only where
 * its credential can begin (a known prefix at the start of a token, "://",
 * "-----BEGIN ", the start of a key name), and the pass stays linear on
 * hostile input: a token rule starts only where the previous byte cannot be
 * part of the same token, so every run of token bytes is read a bounded
 * number of times; the rules that read far ahead (a private key's END line,
 * an assignment's value) remember how far they read.
 *
 * The shapes are strict so that code and logs stay faithful: an assignment
 * counts only when the key names a secret and the value does not read like
 * code (a call, a comparison, NULL, a member, a type, a statement).
 */
#include <string.h>
#include <strings.h>

#include "redact_int.h"
#include "warden/buf.h"
#include "warden/error.h"

#define KEY_MAX 128           /* longer "keys" are data, not names */
#define VALUE_MIN 3           /* shorter values are not worth a marker, and are mostly code */
#define QUOTED_MAX 16384      /* a quoted value (a PEM key in JSON is ~3 KiB) */
#define URL_USERINFO_MAX 512
#define PEM_LABEL_MAX 64
#define BLANKS_MAX 16
#define ENTROPY_MIN_LEN 16    /* a shorter value under a *_KEY name is not judged by entropy */
#define ENTROPY_MAX_LEN 512
#define ENTROPY_BITS 3.5      /* Shannon bits per byte a random-looking value reaches */

/* Most specific first: the name a merged replacement takes. */
static const char *const rule_order[] = {
	"private-key", "aws-key-id", "aws-secret", "github-token", "gitlab-token", "npm-token",
	"slack-token", "google-api-key", "jwt", "api-key", "bearer", "url-password",
	"known-secret", "high-entropy", "assignment", NULL
};

static size_t marker_len(const char *s, size_t len, size_t i);

int wd_redact_rule_rank(const char *rule)
{
	int i;

	for (i = 0; rule_order[i]; i++)
		if (!strcmp(rule_order[i], rule))
			return i;
	return i;
}

int wd_redact_is_marker(const char *s, size_t n)
{
	static const char head[] = "[REDACTED";
	size_t hl = sizeof(head) - 1;

	if (n < hl + 1 || memcmp(s, head, hl) != 0 || s[n - 1] != ']')
		return 0;
	if (n == hl + 1)
		return 1; /* "[REDACTED]", as older ledgers have it */
	if (s[hl] != ':')
		return 0;
	/* only the rules that exist: "[REDACTED:anything]" printed by a check is text */
	for (size_t i = 0; rule_order[i]; i++)
		if (strlen(rule_order[i]) == n - hl - 2 && !memcmp(rule_order[i], s + hl + 1, n - hl - 2))
			return 1;
	return 0;
}

size_t wd_redact_marker_around(const char *s, size_t len, size_t i)
{
	size_t from = i > 40 ? i - 40 : 0;

	for (size_t j = i + 1; j-- > from;) {
		size_t m;

		if (s[j] != '[')
			continue;
		m = marker_len(s, len, j);
		return m && j + m > i ? j + m : 0;
	}
	return 0;
}

int wd_redact_hits_push(wd_redact_hits *h, size_t offset, size_t len, const char *rule)
{
	if (WD_ARRAY_RESERVE(h->v, h->cap, h->n + 1, 16) != 0)
		return WD_ENOMEM;
	h->v[h->n].offset = offset;
	h->v[h->n].len = len;
	h->v[h->n].rule = rule;
	h->n++;
	return 0;
}

/* ---------------------------------------------------------------- bytes */

/* ASCII only: the locale must not change what counts as a credential. */
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alpha(unsigned char c) { return is_lower(c) || is_upper(c); }
static int is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static int is_word(unsigned char c) { return is_alnum(c) || c == '_'; }
/* a token's body: letters, digits, '_' and '-' (base64url too) */
static int is_tok(unsigned char c) { return is_word(c) || c == '-'; }
static int is_upper_digit(unsigned char c) { return is_upper(c) || is_digit(c); }
static int is_blank(unsigned char c) { return c == ' ' || c == '\t'; }
static int is_keychar(unsigned char c) { return is_tok(c) || c == '.'; }
static int is_bearer(unsigned char c)
{
	return is_alnum(c) || (c && strchr("-._~+/=", c) != NULL);
}
static int is_aws_secret(unsigned char c)
{
	return is_alnum(c) || c == '/' || c == '+' || c == '=';
}

/* A bare (unquoted) value: printable bytes up to a blank, a quote, or what
 * ends a value in code, a query string or a list. */
static int is_bare(unsigned char c)
{
	return c > ' ' && c != 0x7f && !strchr("\"'`,;()[]{}<>\\&", c);
}

static size_t span(const char *s, size_t len, size_t i, int (*ok)(unsigned char))
{
	size_t j = i;

	while (j < len && ok((unsigned char)s[j]))
		j++;
	return j - i;
}

static int starts_n(const char *s, size_t len, size_t i, const char *lit, size_t n)
{
	return len - i >= n && memcmp(s + i, lit, n) == 0;
}

/* s[i..] begins with the string literal `lit` */
#define starts(s, len, i, lit) starts_n(s, len, i, lit, sizeof(lit) - 1)

/* ---------------------------------------------------------------- scan state */

struct scan {
	const char *s;
	size_t len;
	wd_redact_hits *hits;
	size_t pem_done;      /* end of the last private key block: no new one starts inside */
	size_t pem_from;      /* the END search from pem_from found pem_end (len: none) */
	size_t pem_end;
	int pem_memo;
	size_t bare_from;     /* the bare value read from bare_from ends at bare_to */
	size_t bare_to;
	size_t assign_done;   /* end of the last bare value redacted: keys inside are data */
};

static int hit(struct scan *sc, size_t from, size_t to, const char *rule)
{
	return wd_redact_hits_push(sc->hits, from, to - from, rule);
}

/* ---------------------------------------------------------------- tokens */

struct token_rule {
	const char *prefix;
	int (*body)(unsigned char);
	size_t min;        /* body length at least */
	size_t exact;      /* or exactly (0: any length from min) */
	int mixed;         /* the body has a digit and a letter */
	const char *rule;
};

static const struct token_rule token_rules[] = {
	{ "sk-", is_tok, 20, 0, 1, "api-key" },           /* OpenAI, Anthropic (sk-ant-) */
	{ "ghp_", is_alnum, 20, 0, 0, "github-token" },   /* 36 in practice */
	{ "gho_", is_alnum, 20, 0, 0, "github-token" },
	{ "ghu_", is_alnum, 20, 0, 0, "github-token" },
	{ "ghs_", is_alnum, 20, 0, 0, "github-token" },
	{ "ghr_", is_alnum, 20, 0, 0, "github-token" },
	{ "github_pat_", is_word, 20, 0, 0, "github-token" },
	{ "glpat-", is_tok, 20, 0, 0, "gitlab-token" },
	{ "npm_", is_alnum, 36, 0, 0, "npm-token" },
	{ "xoxa-", is_tok, 10, 0, 0, "slack-token" },
	{ "xoxb-", is_tok, 10, 0, 0, "slack-token" },
	{ "xoxp-", is_tok, 10, 0, 0, "slack-token" },
	{ "xoxo-", is_tok, 10, 0, 0, "slack-token" },
	{ "xoxr-", is_tok, 10, 0, 0, "slack-token" },
	{ "xoxs-", is_tok, 10, 0, 0, "slack-token" },
	{ "xoxe-", is_tok, 10, 0, 0, "slack-token" },
	{ "AIza", is_tok, 35, 0, 0, "google-api-key" },
	{ "AKIA", is_upper_digit, 16, 16, 0, "aws-key-id" },
	{ "ASIA", is_upper_digit, 16, 16, 0, "aws-key-id" },
};

static int mixed(const char *s, size_t n)
{
	int d = 0, a = 0;

	for (size_t i = 0; i < n && !(d && a); i++) {
		d |= is_digit((unsigned char)s[i]);
		a |= is_alpha((unsigned char)s[i]);
	}
	return d && a;
}

/* A token with a known prefix at i (which starts a token). */
static int token_at(struct scan *sc, size_t i)
{
	const char *s = sc->s;

	for (size_t r = 0; r < sizeof(token_rules) / sizeof(token_rules[0]); r++) {
		const struct token_rule *t = &token_rules[r];
		size_t pl, n;

		if (s[i] != t->prefix[0])
			continue;
		pl = strlen(t->prefix);
		if (!starts_n(s, sc->len, i, t->prefix, pl))
			continue;
		n = span(s, sc->len, i + pl, t->body);
		if (n < t->min || (t->exact && n != t->exact) || (t->mixed && !mixed(s + i + pl, n)))
			continue;
		/* an exact-length body must end the word (AKIA + 16, not + 17) */
		if (t->exact && i + pl + n < sc->len && is_word((unsigned char)s[i + pl + n]))
			continue;
		return hit(sc, i, i + pl + n, t->rule) ? -1 : 1;
	}
	return 0;
}

/* A JWT (or JWE): base64url segments joined by dots, the first a JSON
 * object's encoding ("eyJ" is base64 of '{"'). */
static int jwt_at(struct scan *sc, size_t i)
{
	const char *s = sc->s;
	size_t len = sc->len, p, n, segs = 1;

	if (!starts(s, len, i, "eyJ"))
		return 0;
	n = span(s, len, i, is_tok);
	if (n < 10)
		return 0;
	p = i + n;
	/* header.payload.signature; a JWE has five segments */
	while (segs < 5 && p < len && s[p] == '.') {
		n = span(s, len, p + 1, is_tok);
		if (segs == 1 && n < 4)
			return 0;
		if (segs >= 2 && n == 0) {
			if (segs == 2)
				p++; /* "header.payload." (alg none): the empty signature */
			break;
		}
		p += 1 + n;
		segs++;
	}
	if (segs < 3 && !(segs == 2 && p > i && s[p - 1] == '.'))
		return 0;
	return hit(sc, i, p, "jwt") ? -1 : 1;
}

/* "Bearer <token>": the word stays, the token goes. */
static int bearer_at(struct scan *sc, size_t i)
{
	const char *s = sc->s;
	size_t len = sc->len, p, n;

	if (len - i < 8 || strncasecmp(s + i, "bearer", 6) != 0 || !is_blank((unsigned char)s[i + 6]))
		return 0;
	p = i + 6;
	while (p < len && p - i < 6 + BLANKS_MAX && is_blank((unsigned char)s[p]))
		p++;
	n = span(s, len, p, is_bearer);
	if (n < 8)
		return 0;
	return hit(sc, p, p + n, "bearer") ? -1 : 1;
}

/* ---------------------------------------------------------------- structure */

/* Length of the marker starting at s[i] ("[REDACTED…]"), 0 when there is none. */
static size_t marker_len(const char *s, size_t len, size_t i)
{
	size_t j;

	if (!starts(s, len, i, "[REDACTED"))
		return 0;
	for (j = i + 9; j < len && j - i < 48; j++)
		if (s[j] == ']')
			return wd_redact_is_marker(s + i, j + 1 - i) ? j + 1 - i : 0;
	return 0;
}

/* s[i] is "://": the password of "scheme://user:password@host". */
static int url_password_at(struct scan *sc, size_t i)
{
	const char *s = sc->s;
	size_t len = sc->len, u = i + 3, colon = 0, j;

	for (j = u; j < len && j - u < URL_USERINFO_MAX; j++) {
		unsigned char c = (unsigned char)s[j];
		size_t m;

		if (c == '@')
			break;
		if (c == '/' || c == '"' || c == '\'' || c <= ' ' || c == '<' || c == '>')
			return 0;
		if (c == '[' && (m = marker_len(s, len, j)) > 0) {
			j += m - 1; /* a user already redacted: its ':' is not the separator */
			continue;
		}
		if (c == ':' && !colon)
			colon = j;
	}
	if (j >= len || s[j] != '@' || !colon || j == colon + 1)
		return 0;
	return hit(sc, colon + 1, j, "url-password") ? -1 : 1;
}

/* s[i..] is "-----BEGIN ": is it a private key's header? Sets *hdr_end. */
static int pem_header(const char *s, size_t len, size_t i, const char *kw, size_t *hdr_end)
{
	size_t p = i + strlen(kw), n = 0;

	while (p + n < len && n < PEM_LABEL_MAX &&
	       (is_upper_digit((unsigned char)s[p + n]) || s[p + n] == ' '))
		n++;
	if (!starts(s, len, p + n, "-----"))
		return 0;
	if (!memmem(s + p, n, "PRIVATE KEY", 11))
		return 0;
	*hdr_end = p + n + 5;
	return 1;
}

/* Where the first private key END line at or after `from` ends; len when there is none. */
static size_t pem_end_from(struct scan *sc, size_t from)
{
	const char *s = sc->s;
	size_t len = sc->len, p = from, e;
	const char *q;

	/* a later search from inside the span already searched has the same answer */
	if (sc->pem_memo && from >= sc->pem_from && from <= sc->pem_end)
		return sc->pem_end;
	sc->pem_memo = 1;
	sc->pem_from = from;
	sc->pem_end = len;
	while (p < len && (q = memmem(s + p, len - p, "-----END ", 9)) != NULL) {
		p = (size_t)(q - s);
		if (pem_header(s, len, p, "-----END ", &e)) {
			sc->pem_end = e;
			break;
		}
		p += 9;
	}
	return sc->pem_end;
}

/* A whole private key block, header to END line; without an END line (cut
 * output), everything after the header. */
static int pem_at(struct scan *sc, size_t i)
{
	size_t hdr_end;

	if (i < sc->pem_done || !starts(sc->s, sc->len, i, "-----BEGIN ") ||
	    !pem_header(sc->s, sc->len, i, "-----BEGIN ", &hdr_end))
		return 0;
	sc->pem_done = pem_end_from(sc, hdr_end);
	return hit(sc, i, sc->pem_done, "private-key") ? -1 : 1;
}

/* ---------------------------------------------------------------- assignments */

/* Words that make a key name a secret's, compared with the key lowercased and
 * its separators dropped ("API-Key", "api_key", "apiKey" are all "apikey"). */
static const char *const key_words[] = {
	"password", "passwd", "secret", "token", "apikey", "privatekey", "accesskey", NULL
};

/* A key whose secret word is followed by one of these names something about
 * the secret, not the secret: password_len, token_type, secret_file, tokenCount. */
static const char *const key_tails[] = {
	"len", "length", "size", "count", "cnt", "num", "type", "kind", "file", "path", "dir",
	"name", "id", "url", "uri", "endpoint", "env", "var", "field", "label", "prompt", "hint",
	"policy", "pattern", "regex", "format", "fmt", "prefix", "suffix", "max", "min", "limit",
	"ttl", "expiry", "expires", "expiration", "timeout", "index", "idx", "pos", "offset",
	"header", "param", "reset", "mode", "source", "location", "helper", "store", "cache",
	"manager", "provider", "reader", "writer", "parser", "validator", "generator",
	"test", "tests", "spec",
	/* a file named after the secret: token.c:12:5: error: … */
	"c", "h", "cc", "cpp", "hpp", "py", "go", "rs", "js", "ts", "java", "rb", "sh", "txt",
	"json", "yaml", "yml", "toml", "md", "o", "log",
	NULL
};

static int in_list(const char *const *list, const char *s, size_t n)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == n && strncasecmp(list[i], s, n) == 0)
			return 1;
	return 0;
}

/* Whether a secret word ending at key[e] (exclusive) ends a name part, and
 * what follows it does not make the key about the secret rather than it. */
static int word_ends_well(const char *key, size_t n, size_t e)
{
	size_t t = e, tl = 0;
	unsigned char c;

	if (e == n)
		return 1;
	c = (unsigned char)key[e];
	if (is_alpha(c)) {
		/* only a camelCase hump ends the word: tokenCount, not tokens or TOKENS */
		if (!is_lower((unsigned char)key[e - 1]) || !is_upper(c))
			return 0;
	} else if (!is_digit(c)) {
		t++; /* one separator: '_', '-' or '.' */
	}
	while (t + tl < n && is_alpha((unsigned char)key[t + tl]) &&
	       !(tl > 0 && is_upper((unsigned char)key[t + tl]) &&
	         is_lower((unsigned char)key[t + tl - 1])))
		tl++;
	return !in_list(key_tails, key + t, tl);
}

/* Whether key[0..n) names a secret; *aws when it is AWS's secret access key. */
static int key_is_secret(const char *key, size_t n, int *aws)
{
	char norm[KEY_MAX + 1];
	size_t at[KEY_MAX], m = 0;

	*aws = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];

		if (!is_alnum(c))
			continue;
		norm[m] = (char)(is_upper(c) ? c - 'A' + 'a' : c);
		at[m++] = i;
	}
	norm[m] = '\0';
	if (m < 5)
		return 0; /* shorter than any word */
	*aws = strstr(norm, "secretaccesskey") != NULL;
	for (size_t w = 0; key_words[w]; w++) {
		size_t wl = strlen(key_words[w]);

		for (const char *p = strstr(norm, key_words[w]); p; p = strstr(p + 1, key_words[w]))
			if (word_ends_well(key, n, at[(size_t)(p - norm) + wl - 1] + 1))
				return 1;
	}
	return 0;
}

int wd_redact_key_is_secret(const char *key, size_t n)
{
	int aws;

	return n >= 5 && n <= KEY_MAX && key_is_secret(key, n, &aws);
}

/* Whether a key that names no secret word is still a key's name: its last
 * part is "key" (STRIPE_KEY, signing-key, hmacKey, cfg.master_key); such a
 * value counts only when it looks random (see looks_random). */
static int key_ends_in_key(const char *key, size_t n)
{
	if (n < 5 || strncasecmp(key + n - 3, "key", 3) != 0)
		return 0;
	if (key[n - 4] == '_' || key[n - 4] == '-' || key[n - 4] == '.')
		return 1;
	/* a camelCase hump: hmacKey, not monkey or turkey */
	return key[n - 3] == 'K' && is_lower((unsigned char)key[n - 4]);
}

/* Where the bare value starting at `from` ends; remembered, since values
 * that start inside one another end at the same byte. */
static size_t bare_end(struct scan *sc, size_t from)
{
	if (from > sc->bare_from && from < sc->bare_to)
		return sc->bare_to;
	sc->bare_from = from;
	sc->bare_to = from + span(sc->s, sc->len, from, is_bare);
	return sc->bare_to;
}

static const char *const code_words[] = {
	"NULL", "null", "nil", "None", "true", "false", "True", "False", "TRUE", "FALSE",
	"undefined", "void", "nullptr", NULL
};

/* Types after "name:" in Python, TypeScript, Rust, Go signatures. */
static const char *const type_words[] = {
	"str", "string", "String", "bytes", "int", "bool", "char", "number", "any", "object",
	"Option", "Optional", "Secret", "SecretStr", "SecretString", "usize", "u8", "Any",
	"unknown", NULL
};

/* An identifier path such as self.token or cfg.api_key: a reference, not a value. */
static int is_member_path(const char *v, size_t n)
{
	int dot = 0;

	if (!is_alpha((unsigned char)v[0]) && v[0] != '_')
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (v[i] == '.') {
			if (v[i - 1] == '.' || i + 1 == n)
				return 0;
			dot = 1;
		} else if (!is_word((unsigned char)v[i])) {
			return 0;
		}
	}
	return dot;
}

/* A single plain word, lowercase or Capitalised: after "token:" that is prose
 * ("unexpected token: expected identifier"), not a credential. */
static int is_plain_word(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_lower((unsigned char)v[i]) && !(i == 0 && is_upper((unsigned char)v[i])))
			return 0;
	return 1;
}

/* "12:" or "12:5:": a position in a file (token.c:12:5: error), not a value. */
static int is_position(const char *v, size_t n)
{
	size_t i = 0;

	while (i < n && is_digit((unsigned char)v[i]))
		i++;
	return i > 0 && i < n && v[i] == ':';
}

/* Whether the value is the key's own last name part (password = password,
 * self.token = token, {"api_key": api_key}): a variable passed on. */
static int repeats_key(const char *key, size_t kn, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_word((unsigned char)v[i]))
			return 0;
	return n <= kn && strncasecmp(key + kn - n, v, n) == 0 &&
	       (n == kn || !is_alnum((unsigned char)key[kn - n - 1]));
}

/* log2(x) for x >= 1 without libm (the sandbox's front end links without
 * it): the exponent by halving, the rest by ln(x) = 2 atanh((x-1)/(x+1)). */
static double log2_of(double x)
{
	double y, y2, term, sum = 0;
	int e = 0;

	while (x >= 2) {
		x /= 2;
		e++;
	}
	y = (x - 1) / (x + 1); /* in [0, 1/3) */
	y2 = y * y;
	term = y;
	for (int k = 1; k <= 17; k += 2) {
		sum += term / k;
		term *= y2;
	}
	return e + 2 * sum / 0.69314718055994531;
}

/* Whether v[0..n) looks like a random credential rather than a word, a
 * name, a path or a number: 16 to 512 bytes without blanks; 32 or more hex
 * digits, or upper and lower case letters with digits and at most one
 * separator in 8 bytes; and at least ENTROPY_BITS bits of Shannon entropy
 * per byte (identifiers and prose stay below; base64 and hex keys above). */
static int looks_random(const char *v, size_t n)
{
	unsigned counts[256] = { 0 };
	int lower = 0, upper = 0, digit = 0;
	size_t hex = 0, seps = 0;
	double h = 0;

	if (n < ENTROPY_MIN_LEN || n > ENTROPY_MAX_LEN || memmem(v, n, "://", 3))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= ' ' || c == 0x7f)
			return 0;
		lower |= is_lower(c);
		upper |= is_upper(c);
		digit |= is_digit(c);
		hex += is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		seps += c == '_' || c == '-' || c == '.' || c == ':' || c == '/';
		counts[c]++;
	}
	/* a hex key (32 or more hex digits), or base64/alphanumeric with all three
	 * of upper, lower and digits and few separators: identifiers joined by
	 * '_' or '.' ("v2_user_profile", "X-Api-Key-Header-2024") are names */
	if (!digit || is_member_path(v, n))
		return 0;
	if (!(hex == n && n >= 32) && !(upper && lower && seps * 8 <= n))
		return 0;
	for (size_t c = 0; c < 256; c++)
		if (counts[c]) {
			double p = (double)counts[c] / (double)n;

			h += p * log2_of((double)n / (double)counts[c]);
		}
	return h >= ENTROPY_BITS;
}

/* Whether the bare value s[v..e), after the key s[k..ke) and `op`, reads like
 * code or prose rather than a secret. */
static int bare_is_code(struct scan *sc, size_t k, size_t ke, size_t v, size_t e, char op,
                        int spaced)
{
	const char *s = sc->s;
	size_t len = sc->len, n = e - v, p = e;
	unsigned char c0 = (unsigned char)s[v], next = e < len ? (unsigned char)s[e] : 0;

	if (next == '(' || next == '[' || next == '<' || next == '{')
		return 1; /* a call, an index, a generic */
	if (next == '>' && s[e - 1] == '-')
		return 1; /* ctx->token */
	if (c0 == '&' || c0 == '*' || c0 == '%' || c0 == '!' ||
	    (c0 == '$' && n > 1 && (is_word((unsigned char)s[v + 1]) || s[v + 1] == '{')))
		return 1; /* an address, a dereference or a mask, a format, a variable */
	if (in_list(code_words, s + v, n) || repeats_key(s + k, ke - k, s + v, n))
		return 1;
	if (op == ':' && (in_list(type_words, s + v, n) || is_plain_word(s + v, n) ||
	                  is_position(s + v, n)))
		return 1;
	if (op == '=' && spaced) {
		/* "x = y;" "f(a = b, c)" are statements and arguments */
		while (p < len && p - e < BLANKS_MAX && is_blank((unsigned char)s[p]))
			p++;
		if (p < len && (s[p] == ';' || s[p] == ',' || s[p] == ')'))
			return 1;
		if (is_member_path(s + v, n))
			return 1;
	}
	return 0;
}

/* The value after a secret's key at k: "password=v", "token: v", "api_key = 'v'",
 * "\"secret\": \"v\"". The key stays, the value goes. */
static int assignment_at(struct scan *sc, size_t k)
{
	const char *s = sc->s;
	size_t len = sc->len, ke = k + span(s, len, k, is_keychar), p, v, e, blanks;
	int aws, spaced, quoted = 0, entropy_only = 0;
	char op;

	if (ke - k < 5 || ke - k > KEY_MAX)
		return 0;
	if (k > 0 && (s[k - 1] == '/' || s[k - 1] == '\\'))
		return 0; /* a path such as /etc/passwd */
	p = ke;
	if (p < len && (s[p] == '"' || s[p] == '\'') && k > 0 && s[k - 1] == s[p])
		p++; /* a quoted key: "password": */
	for (blanks = 0; p + blanks < len && blanks < BLANKS_MAX && is_blank((unsigned char)s[p + blanks]);)
		blanks++;
	spaced = blanks > 0;
	p += blanks;
	if (p >= len)
		return 0;
	op = s[p];
	if (op == '=') {
		if (p + 1 < len && (s[p + 1] == '=' || s[p + 1] == '~'))
			return 0; /* a comparison */
		p += (p + 1 < len && s[p + 1] == '>') ? 2 : 1; /* "=>" maps too */
	} else if (op == ':') {
		if (p + 1 < len && s[p + 1] == ':')
			return 0; /* a scope: token::Kind */
		p += (p + 1 < len && s[p + 1] == '=') ? 2 : 1; /* ":=" */
	} else {
		return 0;
	}
	/* most words are not followed by '=' or ':': the key is read only now */
	if (!key_is_secret(s + k, ke - k, &aws)) {
		if (!key_ends_in_key(s + k, ke - k))
			return 0;
		entropy_only = 1;
	}
	while (p < len && is_blank((unsigned char)s[p]) && p - ke < 2 * BLANKS_MAX)
		p++;
	if (p >= len)
		return 0;
	if (s[p] == '"' || s[p] == '\'' || s[p] == '`') {
		char q = s[p];

		quoted = 1;
		v = e = p + 1;
		while (e < len && s[e] != q && s[e] != '\n' && e - v < QUOTED_MAX)
			e += (s[e] == '\\' && e + 1 < len && s[e + 1] != '\n') ? 2 : 1;
		/* a value cut at QUOTED_MAX is cut between characters, not inside one */
		while (e < len && ((unsigned char)s[e] & 0xc0) == 0x80)
			e++;
	} else {
		v = p;
		e = bare_end(sc, v);
	}
	if (aws && e - v == 40 && span(s, e, v, is_aws_secret) == 40)
		return hit(sc, v, e, "aws-secret") ? -1 : 1;
	if (e - v < VALUE_MIN || wd_redact_is_marker(s + v, e - v))
		return 0;
	if (!quoted && bare_is_code(sc, k, ke, v, e, op, spaced))
		return 0;
	if (entropy_only && !looks_random(s + v, e - v))
		return 0;
	if (!quoted)
		sc->assign_done = e;
	return hit(sc, v, e, entropy_only ? "high-entropy" : "assignment") ? -1 : 1;
}

/* ---------------------------------------------------------------- the pass */

int wd_redact_find_shapes(wd_redact_hits *h, const char *s, size_t len)
{
	struct scan sc;

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.len = len;
	sc.hits = h;
	/* Every rule is tried wherever it may start, even inside an earlier
	 * match: overlapping hits are merged, so a credential that begins in
	 * another one's visible part ("https://ghp_…:x@host") is still found. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i], prev = i ? (unsigned char)s[i - 1] : 0;
		size_t m;
		int r = 0;

		/* a marker is opaque: its rule name ("api-key") is not a key */
		if (c == '[' && (m = marker_len(s, len, i)) > 0) {
			i += m - 1;
			continue;
		}
		if (c == '-')
			r = pem_at(&sc, i);
		else if (c == ':' && i + 2 < len && s[i + 1] == '/' && s[i + 2] == '/')
			r = url_password_at(&sc, i);
		if (r == 0 && !is_tok(prev) && is_alnum(c)) {
			if (c == 'e' && prev != '.')
				r = jwt_at(&sc, i);
			if (r == 0)
				r = token_at(&sc, i);
			if (r == 0 && (c == 'b' || c == 'B'))
				r = bearer_at(&sc, i);
		}
		if (r >= 0 && is_keychar(c) && !is_keychar(prev) && i >= sc.assign_done)
			r = assignment_at(&sc, i);
		if (r < 0)
			return WD_ENOMEM;
	}
	return 0;
}
