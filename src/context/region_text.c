/*
 * The regions' own data (tags.h, "Regions"): freeing them, their hash and
 * newline counts, and their text form in the tag cache. Both the whole parse
 * (tags.c, which records regions) and the partial re-parse (regions.c, which
 * reads them back) use it, so it sits below both.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"

#include "tags.h"

void wd_regions_free(wd_regions *rg)
{
	free(rg->v);
	free(rg->uses);
	memset(rg, 0, sizeof(*rg));
}

/* FNV-1a, 64 bits: a region's bytes, to find it unchanged in a new text. */
uint64_t wd_region_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

uint32_t wd_region_newlines(const char *s, size_t n)
{
	uint32_t k = 0;

	for (const char *e = s + n; (s = memchr(s, '\n', (size_t)(e - s))) != NULL; s++)
		k++;
	return k;
}

/*
 * Text form: "regions N\n", then one line per region:
 *   "len newlines hash error ndefs nuses ref:count ref:count...\n"
 * (hash in 16 hex digits, error 0 or 1, ref an index into the file's
 * references; a count of 1, half of them, is left out with its colon).
 */
/* `sep` (unless 0), then n in decimal, or in 16 hex digits (printf was most
 * of the cost: a large file has thousands of uses). */
static int put_num(wd_buf *b, char sep, uint64_t n, int hex)
{
	char d[24];
	size_t i = sizeof(d);

	do
		d[--i] = "0123456789abcdef"[hex ? n % 16 : n % 10];
	while ((n /= (hex ? 16 : 10)) != 0);
	while (hex && i > sizeof(d) - 16)
		d[--i] = '0';
	if (sep)
		d[--i] = sep;
	return wd_buf_put(b, d + i, sizeof(d) - i);
}

int wd_regions_text(char **out, size_t *outlen, const wd_regions *rg, const char *src, size_t len)
{
	wd_buf b = WD_BUF_INIT;
	int rc = wd_buf_printf(&b, "regions %zu\n", rg->n);

	for (size_t i = 0; i < rg->n && !rc; i++) {
		const wd_region *r = &rg->v[i];
		size_t end = i + 1 < rg->n ? rg->v[i + 1].start : len;

		if (r->start > end || end > len) {
			rc = wd_error_set(WD_EINPUT, "regions out of order");
			break;
		}
		if ((rc = wd_buf_grow(&b, 64 + (size_t)r->nuses * 12)) != 0 ||
		    (rc = put_num(&b, 0, end - r->start, 0)) != 0 ||
		    (rc = put_num(&b, ' ', wd_region_newlines(src + r->start, end - r->start), 0)) != 0 ||
		    (rc = put_num(&b, ' ', wd_region_hash(src + r->start, end - r->start), 1)) != 0 ||
		    (rc = put_num(&b, ' ', r->error ? 1 : 0, 0)) != 0 ||
		    (rc = put_num(&b, ' ', r->ndefs, 0)) != 0 || (rc = put_num(&b, ' ', r->nuses, 0)) != 0)
			break;
		for (uint32_t u = 0; u < r->nuses && !rc; u++) {
			const wd_region_use *use = &rg->uses[r->use0 + u];

			rc = put_num(&b, ' ', use->ref, 0);
			if (!rc && use->count != 1)
				rc = put_num(&b, ':', use->count, 0);
		}
		if (!rc)
			rc = wd_buf_putc(&b, '\n');
	}
	if (rc) {
		wd_buf_free(&b);
		return rc;
	}
	*outlen = b.len;
	*out = wd_buf_detach(&b);
	return 0;
}
