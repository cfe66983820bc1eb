#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"

int wd_buf_grow(wd_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return wd_error_set(WD_ENOMEM, "buffer size overflow");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->ptr, cap);
	if (!p)
		return wd_error_set(WD_ENOMEM, "out of memory (%zu bytes)", cap);
	if (!b->ptr)
		p[0] = '\0';
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int wd_array_reserve(void *pptr, size_t *cap, size_t need, size_t size, size_t min)
{
	size_t n = *cap ? *cap : (min ? min : 1);
	void *p;

	if (need <= *cap)
		return 0;
	if (size == 0)
		return wd_error_set(WD_ENOMEM, "array of zero-size elements");
	while (n < need) {
		if (n > SIZE_MAX / 2) {
			n = need;
			break;
		}
		n *= 2;
	}
	/* no object may be larger than PTRDIFF_MAX: refuse before asking */
	if (n > (size_t)PTRDIFF_MAX / size)
		return wd_error_set(WD_ENOMEM, "array size overflow (%zu elements of %zu bytes)", need, size);
	memcpy(&p, pptr, sizeof(p));
	p = realloc(p, n * size);
	if (!p)
		return wd_error_set(WD_ENOMEM, "out of memory (%zu elements of %zu bytes)", n, size);
	memcpy(pptr, &p, sizeof(p));
	*cap = n;
	return 0;
}

int wd_buf_put(wd_buf *b, const void *data, size_t len)
{
	int rc = wd_buf_grow(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int wd_buf_puts(wd_buf *b, const char *s)
{
	return wd_buf_put(b, s, strlen(s));
}

int wd_buf_putc(wd_buf *b, char c)
{
	return wd_buf_put(b, &c, 1);
}

int wd_buf_vprintf(wd_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return wd_error_set(WD_ERROR, "bad format string");
	rc = wd_buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int wd_buf_printf(wd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = wd_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *wd_format(const char *fmt, ...)
{
	wd_buf b = WD_BUF_INIT;
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (wd_buf_vprintf(&b, fmt, ap) == 0)
		s = wd_buf_detach(&b);
	va_end(ap);
	wd_buf_free(&b);
	return s;
}

int wd_buf_sets(wd_buf *b, const char *s)
{
	wd_buf_clear(b);
	return wd_buf_puts(b, s);
}

void wd_buf_truncate(wd_buf *b, size_t len)
{
	if (!b->ptr || len >= b->len)
		return;
	b->len = len;
	b->ptr[len] = '\0';
}

void wd_buf_rtrim(wd_buf *b)
{
	while (b->len && isspace((unsigned char)b->ptr[b->len - 1]))
		b->len--;
	if (b->ptr)
		b->ptr[b->len] = '\0';
}

void wd_buf_clear(wd_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void wd_buf_free(wd_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

char *wd_buf_detach(wd_buf *b)
{
	char *p = b->ptr;

	if (!p) {
		p = calloc(1, 1);
		if (!p)
			wd_error_set(WD_ENOMEM, "out of memory");
		return p;
	}
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *wd_buf_cstr(const wd_buf *b)
{
	return b->ptr ? b->ptr : "";
}

int wd_strvec_push_owned(wd_strvec *sv, char *s)
{
	if (!s)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if (WD_ARRAY_RESERVE(sv->v, sv->cap, sv->n + 2, 8) != 0) {
		free(s);
		return WD_ENOMEM;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

int wd_strvec_push(wd_strvec *sv, const char *s)
{
	return wd_strvec_push_owned(sv, wd_strdup(s));
}

int wd_strvec_contains(const wd_strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

void wd_strvec_free(wd_strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

char *wd_strdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		wd_error_set(WD_ENOMEM, "out of memory");
	return p;
}

char *wd_strndup(const char *s, size_t n)
{
	char *p = strndup(s ? s : "", n);

	if (!p)
		wd_error_set(WD_ENOMEM, "out of memory");
	return p;
}

int wd_strvec_join(wd_buf *out, const wd_strvec *sv, const char *sep, size_t max)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (max && i == max)
			return wd_buf_printf(out, "%s...", sep);
		if (wd_buf_printf(out, "%s%s", i ? sep : "", sv->v[i]))
			return WD_ENOMEM;
	}
	return 0;
}
