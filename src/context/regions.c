/*
 * Re-parsing only what changed in a file (tags.h, "Regions"). A parsed file
 * keeps, beside its tags, where each top-level node's region starts, its
 * length, newlines and hash, and which of the file's definitions and
 * references it holds. Given the file's new text, the regions whose bytes are
 * unchanged at the start and at the end keep their tags; only the text
 * between is parsed (tree-sitter's included ranges keep its offsets and lines
 * those of the file), and the three are joined as a whole parse would have
 * produced them: the same definitions in the same order, the same references
 * in the order they first occur, the same regions.
 *
 * That holds only when the parse of the middle stands alone. It does when the
 * middle's parse has no ERROR or MISSING node, the middle starts and ends on
 * whole lines (never after a continuation backslash, never before an
 * indented line), and the CLEAN_MARGIN regions on either side of it parsed
 * without error too (tree-sitter's recovery from an error may weigh the text
 * that follows it): top-level nodes that end a line end whatever follows
 * them. JavaScript keeps no regions: its automatic semicolons let a line
 * that starts with `(` continue the statement above.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"

#include "tags.h"

/* --- the old regions, read back --- */

struct oldreg {
	uint32_t start, len, nl, ndefs, def0, use0, nuses, error;
	uint64_t hash;
};

struct old {
	struct oldreg *v;
	size_t n;
	wd_region_use *uses;
	size_t nuses, capuses;
	size_t total;            /* the old text's length */
};

/* Digits (at most 16 hex or 10 decimal) at *p. */
static int read_num(const char **p, const char *end, int base, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	int digits = 0;

	for (; s < end; s++, digits++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' :
		        base == 16 && *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;

		if (d < 0)
			break;
		if (digits >= (base == 16 ? 16 : 10))
			return -1;
		n = n * (uint64_t)base + (uint64_t)d;
	}
	if (!digits)
		return -1;
	*p = s;
	*v = n;
	return 0;
}

static int expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -1;
	(*p)++;
	return 0;
}

/* A number and the separator after it. */
static int field(const char **p, const char *end, int base, char sep, uint64_t *v)
{
	return read_num(p, end, base, v) < 0 ? -1 : expect(p, end, sep);
}

/* Read `ts`'s regions, checked against its tags; -1 when anything is off. */
static int old_read(struct old *o, const wd_tagset *ts)
{
	const char *p = ts->regions, *end = p ? p + ts->regions_len : NULL;
	uint64_t n, def0 = 0, start = 0;

	memset(o, 0, sizeof(*o));
	if (!p || ts->regions_len < 8 || memcmp(p, "regions ", 8) != 0)
		return -1;
	p += 8;
	if (field(&p, end, 10, '\n', &n) < 0 || n == 0 || n > ts->regions_len ||
	    !(o->v = calloc(n, sizeof(*o->v))))
		return -1;
	for (o->n = 0; o->n < n; o->n++) {
		uint64_t len, nl, hash, err, nd, nu;

		if (field(&p, end, 10, ' ', &len) < 0 || field(&p, end, 10, ' ', &nl) < 0 ||
		    field(&p, end, 16, ' ', &hash) < 0 || field(&p, end, 10, ' ', &err) < 0 ||
		    field(&p, end, 10, ' ', &nd) < 0 || read_num(&p, end, 10, &nu) < 0)
			return -1;
		if (len > UINT32_MAX || nl > len || err > 1 || def0 + nd > ts->ndefs || nu > ts->nrefs)
			return -1;
		o->v[o->n] = (struct oldreg){ (uint32_t)start, (uint32_t)len, (uint32_t)nl, (uint32_t)nd,
			                      (uint32_t)def0, (uint32_t)o->nuses, (uint32_t)nu,
			                      (uint32_t)err, hash };
		for (uint64_t u = 0; u < nu; u++) {
			uint64_t ref, count = 1;

			if (expect(&p, end, ' ') < 0 || read_num(&p, end, 10, &ref) < 0 ||
			    (expect(&p, end, ':') == 0 && read_num(&p, end, 10, &count) < 0) ||
			    ref >= ts->nrefs || !count || count > UINT32_MAX)
				return -1;
			if (WD_ARRAY_RESERVE(o->uses, o->capuses, o->nuses + 1, 64) != 0)
				return -1;
			o->uses[o->nuses++] = (wd_region_use){ (uint32_t)ref, (uint32_t)count };
		}
		if (expect(&p, end, '\n') < 0)
			return -1;
		start += len;
		def0 += nd;
		if (start > UINT32_MAX)
			return -1;
	}
	o->total = (size_t)start;
	return p == end && def0 == ts->ndefs ? 0 : -1;
}

static void old_free(struct old *o)
{
	free(o->v);
	free(o->uses);
}

/* --- the new tags, region by region --- */

struct build {
	wd_tagset *ts;
	wd_strtab refs;          /* the file's references, in the order they first occur */
	uint32_t *counts;
	size_t ncounts;
	wd_regions rg;
};

static int b_region(struct build *b, uint32_t start, uint32_t error)
{
	if (WD_ARRAY_RESERVE(b->rg.v, b->rg.cap, b->rg.n + 1, 16) != 0)
		return wd_error_set(WD_ENOMEM, "out of memory");
	b->rg.v[b->rg.n++] = (wd_region){ start, 0, (uint32_t)b->rg.nuses, 0, error };
	return 0;
}

/* A definition of the current region, `shift` lines further down. */
static int b_def(struct build *b, const wd_tag *t, int64_t shift)
{
	wd_tagset *ts = b->ts;
	wd_tag *d;

	if (WD_ARRAY_RESERVE(ts->defs, ts->capdefs, ts->ndefs + 1, 16) != 0)
		return wd_error_set(WD_ENOMEM, "out of memory");
	d = &ts->defs[ts->ndefs];
	*d = *t;
	d->start = (uint32_t)((int64_t)t->start + shift);
	d->end = (uint32_t)((int64_t)t->end + shift);
	d->name = wd_strdup(t->name);
	d->sig = wd_strdup(t->sig);
	if (!d->name || !d->sig) {
		free(d->name);
		free(d->sig);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	ts->ndefs++;
	b->rg.v[b->rg.n - 1].ndefs++;
	return 0;
}

/* `count` references to `name` in the current region (a name once per region). */
static int b_use(struct build *b, const char *name, uint32_t count)
{
	uint32_t id;
	int rc;

	if ((rc = wd_strtab_intern(&b->refs, name, strlen(name), &id)) != 0)
		return rc;
	if (id >= b->ncounts) {
		size_t old = b->ncounts;

		if (WD_ARRAY_RESERVE(b->counts, b->ncounts, (size_t)id + 1, 64) != 0)
			return wd_error_set(WD_ENOMEM, "out of memory");
		memset(b->counts + old, 0, (b->ncounts - old) * sizeof(*b->counts));
	}
	if (WD_ARRAY_RESERVE(b->rg.uses, b->rg.capuses, b->rg.nuses + 1, 64) != 0)
		return wd_error_set(WD_ENOMEM, "out of memory");
	b->counts[id] += count;
	b->rg.uses[b->rg.nuses++] = (wd_region_use){ id, count };
	b->rg.v[b->rg.n - 1].nuses++;
	return 0;
}

/* Old region r, its definitions `shift` lines further down, starting at `start`. */
static int b_old(struct build *b, const struct old *o, const wd_tagset *old, size_t r,
                 uint32_t start, int64_t shift)
{
	const struct oldreg *g = &o->v[r];
	int rc = b_region(b, start, g->error);

	for (uint32_t d = 0; d < g->ndefs && !rc; d++)
		rc = b_def(b, &old->defs[g->def0 + d], shift);
	for (uint32_t u = 0; u < g->nuses && !rc; u++)
		rc = b_use(b, old->refs[o->uses[g->use0 + u].ref].name, o->uses[g->use0 + u].count);
	return rc;
}

/* The regions the middle's parse found. */
static int b_span(struct build *b, const wd_tagset *span, const wd_regions *srg)
{
	size_t d = 0;
	int rc = 0;

	for (size_t r = 0; r < srg->n && !rc; r++) {
		const wd_region *g = &srg->v[r];

		rc = b_region(b, g->start, 0);
		for (uint32_t k = 0; k < g->ndefs && !rc; k++)
			rc = b_def(b, &span->defs[d++], 0);
		for (uint32_t u = 0; u < g->nuses && !rc; u++)
			rc = b_use(b, span->refs[srg->uses[g->use0 + u].ref].name,
			           srg->uses[g->use0 + u].count);
	}
	return rc;
}

/* The references and regions built become the tagset's. */
static int b_finish(struct build *b, const char *src, size_t len)
{
	wd_tagset *ts = b->ts;
	int rc = wd_tags__take_refs(ts, &b->refs, b->counts);

	if (rc)
		return rc;
	/* regions as a whole parse keeps them: not for a file now under the size */
	if (!b->rg.n || len < WD_REGIONS_MIN)
		return 0;
	b->rg.v[0].start = 0; /* the first region holds what comes before its node */
	return wd_regions_text(&ts->regions, &ts->regions_len, &b->rg, src, len);
}

/* Where the middle may start: at the start of a line that does not continue
 * the line before it (or of the text). */
static int line_start(const char *src, size_t at)
{
	return at == 0 || (src[at - 1] == '\n' && (at < 2 || src[at - 2] != '\\'));
}

/* Regions next to the middle that must have parsed without error. */
#define CLEAN_MARGIN 2

/* The CLEAN_MARGIN regions before region k (or as many as there are). */
static int clean_before(const struct old *o, size_t k)
{
	for (size_t i = 0; i < CLEAN_MARGIN && i < k; i++)
		if (o->v[k - 1 - i].error)
			return 0;
	return 1;
}

/* The CLEAN_MARGIN regions from the m-th last on. */
static int clean_after(const struct old *o, size_t m)
{
	for (size_t i = 0; i < CLEAN_MARGIN && i < m; i++)
		if (o->v[o->n - m + i].error)
			return 0;
	return 1;
}

/* The first character that is not blank at or after `at` (before `end`) is at
 * the start of its line: an indented line may belong to the node above it
 * (Python's blocks, and the comments tree-sitter puts in them). */
static int flush_left(const char *src, size_t at, size_t end)
{
	while (at < end && (src[at] == ' ' || src[at] == '\t' || src[at] == '\r' ||
	                    src[at] == '\f' || src[at] == '\n'))
		at++;
	return at == end || at == 0 || src[at - 1] == '\n';
}

int wd_tags_reparse(wd_tagset *out, wd_parsers *p, int lang, const wd_tagset *old,
                    const char *src, size_t len)
{
	struct old o;
	struct build b;
	wd_tagset span;
	wd_regions srg;
	size_t k = 0, m = 0, a, bnd, row = 0, mid_nl = 0;
	int64_t delta, shift;
	int rc = WD_ENOTFOUND;

	memset(&o, 0, sizeof(o));
	memset(&b, 0, sizeof(b));
	memset(&span, 0, sizeof(span));
	memset(&srg, 0, sizeof(srg));
	if (lang == WD_LANG_JS || len > UINT32_MAX || old_read(&o, old) != 0)
		goto out;
	/* the regions unchanged at the start, then at the end (moved by delta) */
	while (k < o.n && (size_t)o.v[k].start + o.v[k].len <= len &&
	       wd_region_hash(src + o.v[k].start, o.v[k].len) == o.v[k].hash)
		k++;
	delta = (int64_t)len - (int64_t)o.total;
	a = k ? (size_t)o.v[k - 1].start + o.v[k - 1].len : 0;
	while (m < o.n - k) {
		const struct oldreg *g = &o.v[o.n - 1 - m];
		int64_t at = (int64_t)g->start + delta;

		if (at < (int64_t)a || wd_region_hash(src + at, g->len) != g->hash)
			break;
		m++;
	}
	/* the middle: whole lines, with clean regions around it */
	while (k > 0 && (!line_start(src, a) || !clean_before(&o, k)))
		a = o.v[--k].start;
	bnd = m ? (size_t)((int64_t)o.v[o.n - m].start + delta) : len;
	while (m > 0 && (!line_start(src, bnd) || !flush_left(src, bnd, len) || !clean_after(&o, m))) {
		m--;
		bnd = m ? (size_t)((int64_t)o.v[o.n - m].start + delta) : len;
	}
	if (!line_start(src, a) || !flush_left(src, a, bnd) ||
	    (bnd < len && (!line_start(src, bnd) || !flush_left(src, bnd, len))))
		goto out;
	for (size_t r = 0; r < k; r++)
		row += o.v[r].nl;
	for (size_t r = k; r < o.n - m; r++)
		mid_nl += o.v[r].nl;
	if (a < bnd &&
	    (rc = wd_tags_extract_span(&span, &srg, p, lang, src, len, (uint32_t)a, (uint32_t)bnd,
	                               (uint32_t)row)) != 0)
		goto out;
	/* the lines of what follows the middle moved by what the middle gained */
	shift = (int64_t)wd_region_newlines(src + a, bnd - a) - (int64_t)mid_nl;
	b.ts = out;
	rc = 0;
	for (size_t r = 0; r < k && !rc; r++)
		rc = b_old(&b, &o, old, r, o.v[r].start, 0);
	if (!rc)
		rc = b_span(&b, &span, &srg);
	for (size_t r = o.n - m; r < o.n && !rc; r++)
		rc = b_old(&b, &o, old, r, (uint32_t)((int64_t)o.v[r].start + delta), shift);
	if (!rc)
		rc = b_finish(&b, src, len);
	if (rc)
		wd_tagset_free(out);
out:
	old_free(&o);
	wd_tagset_free(&span);
	wd_regions_free(&srg);
	wd_strtab_free(&b.refs);
	free(b.counts);
	wd_regions_free(&b.rg);
	return rc;
}
