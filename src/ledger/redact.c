/*
 * Redaction: nothing warden writes or sends on may carry a credential. Two
 * nets: the exact values warden knows (API keys, tokens, the values of secret
 * environment variables), and the shapes credentials have whether or not we
 * were told about them (redact_rules.c). Both only find where credentials
 * are; this file merges what they found and writes "[REDACTED:<rule>]" in
 * place of each, so a reader still learns what kind of thing was there.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "redact_int.h"
#include "warden/buf.h"
#include "warden/error.h"
#include "warden/ledger.h"

#define MIN_SECRET 6

extern char **environ;

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static wd_strvec secrets = WD_STRVEC_INIT;

void wd_redact_register(const char *secret)
{
	char *copy;

	if (!secret || strlen(secret) < MIN_SECRET)
		return;
	pthread_mutex_lock(&secrets_lock);
	/* out of memory leaves the value unregistered: the shapes still apply */
	if (!wd_strvec_contains(&secrets, secret) && (copy = wd_strdup(secret)) != NULL)
		(void)wd_strvec_push_owned(&secrets, copy);
	pthread_mutex_unlock(&secrets_lock);
}

void wd_redact_register_env_names(const char *names)
{
	char name[256];

	while (names && *names) {
		size_t n = strcspn(names, ", \t\n");

		if (n > 0 && n < sizeof(name)) {
			memcpy(name, names, n);
			name[n] = '\0';
			wd_redact_register(getenv(name));
		}
		names += n;
		names += strspn(names, ", \t\n");
	}
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

/* Every occurrence of every registered value. Caller holds secrets_lock.
 * Occurrences of one value are taken left to right without overlap: one
 * that overlaps a taken one is cut by its replacement anyway. */
static int find_secrets(wd_redact_hits *h, const char *s, size_t len)
{
	for (size_t k = 0; k < secrets.n; k++) {
		size_t sl = strlen(secrets.v[k]), p = 0;
		const char *q;

		while (p < len && (q = memmem(s + p, len - p, secrets.v[k], sl)) != NULL) {
			size_t past;

			p = (size_t)(q - s);
			if ((past = wd_redact_marker_around(s, len, p)) != 0) {
				p = past; /* a marker's rule name is not the secret */
				continue;
			}
			if (wd_redact_hits_push(h, p, sl, "known-secret") != 0)
				return WD_ENOMEM;
			p += sl;
		}
	}
	return 0;
}

static int cmp_hit(const void *a, const void *b)
{
	const wd_redact_hit *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (x->len < y->len) - (x->len > y->len); /* longer first */
}

/* Sort and merge overlapping hits into one replacement each, named after
 * the most specific rule among them; drop hits that are already markers. */
static void merge_hits(wd_redact_hits *h, const char *s)
{
	size_t out = 0;

	if (h->n > 1)
		qsort(h->v, h->n, sizeof(*h->v), cmp_hit);
	for (size_t i = 0; i < h->n; i++) {
		wd_redact_hit x = h->v[i];
		wd_redact_hit *last = out ? &h->v[out - 1] : NULL;

		if (!x.len || wd_redact_is_marker(s + x.offset, x.len))
			continue;
		if (last && x.offset < last->offset + last->len) {
			if (x.offset + x.len > last->offset + last->len)
				last->len = x.offset + x.len - last->offset;
			if (wd_redact_rule_rank(x.rule) < wd_redact_rule_rank(last->rule))
				last->rule = x.rule;
			continue;
		}
		h->v[out++] = x;
	}
	h->n = out;
}

/* s[0..len) with every hit replaced by its marker, appended to out; when
 * `at` is non-NULL, at[k] is where hit k's marker starts in out. */
static int apply_hits(wd_buf *out, const char *s, size_t len, const wd_redact_hits *h, size_t *at)
{
	size_t lit = 0, base = out->len;
	int rc;

	for (size_t i = 0; i < h->n; i++) {
		if ((rc = wd_buf_put(out, s + lit, h->v[i].offset - lit)) != 0)
			return rc;
		if (at)
			at[i] = out->len - base;
		if ((rc = wd_buf_printf(out, "[REDACTED:%s]", h->v[i].rule)) != 0)
			return rc;
		lit = h->v[i].offset + h->v[i].len;
	}
	return wd_buf_put(out, s + lit, len - lit);
}

/* Where position x of the redacted text lies in the original: at[k] is where
 * hit k's marker starts in the redacted text. A position inside a marker
 * stands for the whole replaced span (its start, or as an end its end). */
static size_t to_original(const wd_redact_hit *v, size_t n, const size_t *at, size_t x, int is_end)
{
	size_t lo = 0, hi = n, k, mlen;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (at[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return x;
	k = lo - 1;
	mlen = strlen("[REDACTED:]") + strlen(v[k].rule);
	if (x < at[k] + mlen)
		return is_end && x > at[k] ? v[k].offset + v[k].len : v[k].offset;
	return v[k].offset + v[k].len + (x - at[k] - mlen);
}

/* Look at the redacted text again: a replacement can turn what was inside a
 * token into the start of one ("-----END … KEY-----ghp_…": the '-' before
 * "ghp_" hid it, the marker's ']' does not). New finds are added to h in
 * original offsets. *added says whether there were any. */
static int find_again(wd_redact_hits *h, const char *s, size_t len, int *added)
{
	wd_redact_hits more = { NULL, 0, 0 }, before = { NULL, 0, 0 };
	wd_buf text = WD_BUF_INIT;
	size_t *at = calloc(h->n, sizeof(*at));
	int rc;

	*added = 0;
	/* the layout of this round's text: new finds are appended to h, not to it */
	before.n = h->n;
	if (!at || !(before.v = malloc(h->n * sizeof(*before.v)))) {
		free(at);
		return WD_ENOMEM;
	}
	memcpy(before.v, h->v, h->n * sizeof(*before.v));
	if ((rc = apply_hits(&text, s, len, &before, at)) != 0 ||
	    (rc = wd_redact_find_shapes(&more, text.ptr, text.len)) != 0)
		goto out;
	for (size_t i = 0; i < more.n && !rc; i++) {
		const wd_redact_hit *m = &more.v[i];
		size_t a, b;

		if (wd_redact_is_marker(text.ptr + m->offset, m->len))
			continue;
		a = to_original(before.v, before.n, at, m->offset, 0);
		b = to_original(before.v, before.n, at, m->offset + m->len, 1);
		if (b > a) {
			rc = wd_redact_hits_push(h, a, b - a, m->rule);
			*added = 1;
		}
	}
out:
	free(at);
	free(before.v);
	free(more.v);
	wd_buf_free(&text);
	return rc;
}

/* All replacements for s[0..len), sorted, without overlap: found in the
 * original, then again in the redacted text until that finds nothing new
 * (each round covers more or merges more, so it ends; the cap is a guard). */
static int find_all(wd_redact_hits *h, const char *s, size_t len)
{
	int rc, added = 1;

	pthread_mutex_lock(&secrets_lock);
	rc = find_secrets(h, s, len);
	pthread_mutex_unlock(&secrets_lock);
	if (!rc)
		rc = wd_redact_find_shapes(h, s, len);
	if (!rc)
		merge_hits(h, s);
	for (int round = 0; !rc && added && h->n && round < 8; round++)
		if ((rc = find_again(h, s, len, &added)) == 0 && added)
			merge_hits(h, s);
	if (rc)
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

int wd_redact_scan(wd_redact_hit **out, size_t *n, const char *s, size_t len)
{
	wd_redact_hits h = { NULL, 0, 0 };
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = find_all(&h, s ? s : "", s ? len : 0)) != 0) {
		free(h.v);
		return rc;
	}
	*out = h.v;
	*n = h.n;
	return 0;
}

int wd_redact_buf_report(wd_buf *b, wd_redact_hit **hits, size_t *nhits)
{
	wd_redact_hits h = { NULL, 0, 0 };
	wd_buf out = WD_BUF_INIT;
	size_t cap = hits ? *nhits : 0;
	int rc;

	if (!b->ptr)
		return 0;
	if ((rc = find_all(&h, b->ptr, b->len)) != 0 || !h.n)
		goto out;
	/* the caller's array has no capacity of its own: what it holds is all */
	if (hits && (rc = WD_ARRAY_RESERVE(*hits, cap, *nhits + h.n, 16)) != 0)
		goto out;
	if ((rc = apply_hits(&out, b->ptr, b->len, &h, NULL)) != 0)
		goto out;
	if (hits) {
		memcpy(*hits + *nhits, h.v, h.n * sizeof(*h.v));
		*nhits += h.n;
	}
	wd_buf_free(b);
	*b = out;
	memset(&out, 0, sizeof(out));
out:
	wd_buf_free(&out);
	free(h.v);
	return rc;
}

int wd_redact_buf(wd_buf *b)
{
	return wd_redact_buf_report(b, NULL, NULL);
}

char *wd_redact(const char *s)
{
	wd_buf b = WD_BUF_INIT;

	if (!s)
		return NULL;
	if (wd_buf_puts(&b, s) != 0 || wd_redact_buf(&b) != 0) {
		wd_buf_free(&b);
		return NULL;
	}
	return wd_buf_detach(&b);
}

static void redact_string(json_t *v)
{
	wd_buf b = WD_BUF_INIT;
	wd_redact_hit *hits = NULL;
	size_t n = 0;

	if (wd_buf_put(&b, json_string_value(v), json_string_length(v)) == 0 &&
	    wd_redact_buf_report(&b, &hits, &n) == 0 && n)
		json_string_setn_nocheck(v, b.ptr, b.len);
	free(hits);
	wd_buf_free(&b);
}

static void redact_object(json_t *obj)
{
	wd_strvec renamed = WD_STRVEC_INIT;

	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		const char *key = json_object_iter_key(it);
		json_t *val = json_object_iter_value(it);
		char *clean = wd_redact(key);

		/* {"password": "v"}: the key says what the value is */
		if (json_is_string(val) && json_string_length(val) >= 3 &&
		    wd_redact_key_is_secret(key, strlen(key)) &&
		    !wd_redact_is_marker(json_string_value(val), json_string_length(val)))
			json_string_set(val, "[REDACTED:assignment]");
		else
			wd_redact_json(val);
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
