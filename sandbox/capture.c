/*
 * Output capture with a head+tail cap: the first half of the cap is kept as
 * it arrives, the last half in a ring, and whatever fell between is replaced
 * by one marker line saying how many bytes were cut. A check's useful
 * output is usually at its start (what ran) and its end (what failed).
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "sbx.h"

int sbx_capture_init(sbx_capture *c, size_t cap)
{
	memset(c, 0, sizeof(*c));
	if (cap == 0)
		cap = SBX_DEFAULT_OUTPUT_CAP;
	c->head_cap = cap / 2;
	c->tail_cap = cap - c->head_cap;
	c->last = '\n';
	return 0;
}

static int ring_add(sbx_capture *c, const char *p, size_t n)
{
	if (!c->ring) {
		c->ring = malloc(c->tail_cap ? c->tail_cap : 1);
		if (!c->ring)
			return wd_error_set(WD_ENOMEM, "out of memory capturing output");
	}
	if (c->tail_cap == 0)
		return 0;
	if (n >= c->tail_cap) {
		memcpy(c->ring, p + n - c->tail_cap, c->tail_cap);
		c->ring_pos = 0;
		c->ring_len = c->tail_cap;
		return 0;
	}
	while (n) {
		size_t room = c->tail_cap - c->ring_pos;
		size_t k = n < room ? n : room;

		memcpy(c->ring + c->ring_pos, p, k);
		c->ring_pos = (c->ring_pos + k) % c->tail_cap;
		if (c->ring_len < c->tail_cap)
			c->ring_len = c->ring_len + k > c->tail_cap ? c->tail_cap : c->ring_len + k;
		p += k;
		n -= k;
	}
	return 0;
}

int sbx_capture_add(sbx_capture *c, const char *p, size_t n)
{
	if (n)
		c->last = p[n - 1];
	c->total += n;
	if (c->head.len < c->head_cap) {
		size_t k = c->head_cap - c->head.len;

		if (k > n)
			k = n;
		if (wd_buf_put(&c->head, p, k) != 0)
			return WD_ENOMEM;
		p += k;
		n -= k;
	}
	if (n == 0)
		return 0;
	return ring_add(c, p, n);
}

int sbx_capture_finish(sbx_capture *c, wd_buf *out, int *truncated)
{
	size_t kept = c->head.len + c->ring_len;
	int rc;

	wd_buf_clear(out);
	*truncated = kept < c->total;
	if ((rc = wd_buf_put(out, c->head.ptr ? c->head.ptr : "", c->head.len)) != 0)
		return rc;
	if (*truncated &&
	    (rc = wd_buf_printf(out, "%s[warden: %zu bytes of output cut]\n",
	                        out->len && out->ptr[out->len - 1] != '\n' ? "\n" : "",
	                        c->total - kept)) != 0)
		return rc;
	if (c->ring_len) {
		/* the oldest byte of a full ring sits at ring_pos */
		size_t start = c->ring_len < c->tail_cap ? 0 : c->ring_pos;
		size_t first = c->ring_len - start;

		if (c->ring_len < c->tail_cap)
			first = c->ring_len;
		if ((rc = wd_buf_put(out, c->ring + start, first)) != 0)
			return rc;
		if (start && (rc = wd_buf_put(out, c->ring, start)) != 0)
			return rc;
	}
	return wd_buf_grow(out, 0);
}

void sbx_capture_free(sbx_capture *c)
{
	wd_buf_free(&c->head);
	free(c->ring);
	c->ring = NULL;
}
