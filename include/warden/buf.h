#ifndef WARDEN_BUF_H
#define WARDEN_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * wd_buf: the one growable byte/string buffer used everywhere (after git's
 * strbuf). Invariant: when ptr is non-NULL, ptr[len] == '\0', so a buffer
 * can always be read as a C string (it may also hold NUL bytes inside).
 * A zeroed buffer (WD_BUF_INIT) is valid and empty.
 */
typedef struct wd_buf {
	char *ptr;
	size_t len;
	size_t cap;
} wd_buf;

#define WD_BUF_INIT { NULL, 0, 0 }

/* Make room for `extra` more bytes plus the terminator. 0 or WD_ENOMEM. */
int wd_buf_grow(wd_buf *b, size_t extra);
int wd_buf_put(wd_buf *b, const void *data, size_t len);
int wd_buf_puts(wd_buf *b, const char *s);
int wd_buf_putc(wd_buf *b, char c);
int wd_buf_printf(wd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wd_buf_vprintf(wd_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Replace the contents with `s`. */
int wd_buf_sets(wd_buf *b, const char *s);
/* Drop the bytes past `len` (no-op when len >= b->len). */
void wd_buf_truncate(wd_buf *b, size_t len);
/* Remove trailing whitespace. */
void wd_buf_rtrim(wd_buf *b);
/* Empty the buffer, keeping its memory. */
void wd_buf_clear(wd_buf *b);
/* Release the memory; the buffer is empty and reusable afterwards. */
void wd_buf_free(wd_buf *b);
/* Hand the string to the caller (never NULL on success; "" for empty) and reset b. */
char *wd_buf_detach(wd_buf *b);
/* The contents as a C string, "" when the buffer never held anything. */
const char *wd_buf_cstr(const wd_buf *b);

/*
 * The one growable array: make `*pptr` (a pointer to an array of elements of
 * `size` bytes, `*cap` of them allocated) hold at least `need` elements. The
 * capacity starts at `min` and doubles; every multiplication is checked, so a
 * size that would wrap is WD_ENOMEM, never a short allocation (after git's
 * ALLOC_GROW and libgit2's git_array_t). On failure nothing changes.
 * 0 or WD_ENOMEM.
 */
int wd_array_reserve(void *pptr, size_t *cap, size_t need, size_t size, size_t min);
#define WD_ARRAY_RESERVE(arr, capacity, need, min) \
	wd_array_reserve(&(arr), &(capacity), (need), sizeof(*(arr)), (min))

/* wd_strvec: a growable, NULL-terminated array of owned strings. */
typedef struct wd_strvec {
	char **v;   /* v[n] == NULL when v != NULL */
	size_t n;
	size_t cap;
} wd_strvec;

#define WD_STRVEC_INIT { NULL, 0, 0 }

int wd_strvec_push(wd_strvec *sv, const char *s);
/* Push taking ownership of `s` (freed on failure). */
int wd_strvec_push_owned(wd_strvec *sv, char *s);
int wd_strvec_contains(const wd_strvec *sv, const char *s);
/* Append sv's strings to `out` separated by `sep`; after `max` of them (0 = all)
 * the rest is ", ..." (sep then "..."). */
int wd_strvec_join(wd_buf *out, const wd_strvec *sv, const char *sep, size_t max);
void wd_strvec_free(wd_strvec *sv);

/* A new string (malloc'd) printed from fmt; NULL with the error slot set
 * on failure (WD_ENOMEM, or WD_ERROR for a bad format). */
char *wd_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* strdup that sets the error slot on failure. */
char *wd_strdup(const char *s);
char *wd_strndup(const char *s, size_t n);

#endif
