/*
 * The apply report: refusals written twice, as sentences the repair prompt
 * can hand to the model and as JSON for tools and the ledger.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "patch_int.h"

/* A JSON string of arbitrary bytes: invalid UTF-8 becomes '?', NUL becomes
 * a space (file text and model output are not guaranteed to be UTF-8). */
json_t *wd_patch__jstr(const char *s, size_t len)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_string("");
	j = json_stringn(s, len);
	if (j)
		return j;
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		int ok = n > 0 && i + n <= len && c != 0;

		for (size_t k = 1; ok && k < n; k++)
			ok = ((unsigned char)s[i + k] >> 6) == 2;
		if (ok) {
			j = json_stringn(s + i, n); /* rejects overlongs and surrogates */
			ok = j != NULL;
			json_decref(j);
		}
		if (ok) {
			memcpy(copy + i, s + i, n);
			i += n;
		} else {
			copy[i] = c == 0 ? ' ' : '?';
			i++;
		}
	}
	j = json_stringn(copy, len);
	free(copy);
	return j;
}

static json_t *refusal_list(wd_patch_report *r)
{
	json_t *list;

	if (!r->json && !(r->json = json_object()))
		return NULL;
	list = json_object_get(r->json, "refusals");
	if (list)
		return list;
	list = json_array();
	if (!list || json_object_set_new(r->json, "refusals", list))
		return NULL;
	return list;
}

int wd_patch__refuse(wd_patch_report *r, const char *file, size_t hunk, const char *kind,
                     json_t *extra, const char *fmt, ...)
{
	wd_buf msg = WD_BUF_INIT;
	json_t *list, *obj = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = wd_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc)
		goto out;
	if (r->reasons.len && (rc = wd_buf_putc(&r->reasons, '\n')) != 0)
		goto out;
	if ((rc = wd_buf_put(&r->reasons, msg.ptr, msg.len)) != 0)
		goto out;
	if (msg.len && msg.ptr[msg.len - 1] != '\n' && (rc = wd_buf_putc(&r->reasons, '\n')) != 0)
		goto out;
	rc = WD_ENOMEM;
	if (!(list = refusal_list(r)))
		goto out;
	obj = extra ? extra : json_object();
	extra = NULL;
	if (!obj || json_object_set_new(obj, "file", wd_patch__jstr(file, file ? strlen(file) : 0)) ||
	    json_object_set_new(obj, "hunk", json_integer((json_int_t)hunk)) ||
	    json_object_set_new(obj, "kind", json_string(kind)) ||
	    json_object_set_new(obj, "message", wd_patch__jstr(msg.ptr, msg.len)))
		goto out;
	if (json_array_append_new(list, obj)) {
		obj = NULL;
		goto out;
	}
	obj = NULL;
	rc = 0;
out:
	json_decref(extra);
	json_decref(obj);
	wd_buf_free(&msg);
	if (rc == WD_ENOMEM)
		wd_error_set(WD_ENOMEM, "out of memory");
	return rc;
}

void wd_patch_report_free(wd_patch_report *r)
{
	if (!r)
		return;
	wd_strvec_free(&r->files);
	for (size_t i = 0; i < r->nout; i++) {
		free(r->out[i].path);
		wd_buf_free(&r->out[i].content);
	}
	free(r->out);
	r->out = NULL;
	r->nout = 0;
	wd_buf_free(&r->reasons);
	json_decref(r->json);
	r->json = NULL;
	r->applied = 0;
}
