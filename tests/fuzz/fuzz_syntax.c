/*
 * libFuzzer target for the code the model writes as it meets tree-sitter:
 * tag extraction, the tag cache's text form, the syntax gate and the symbol
 * scope gate. The input is "base\0patched" (no NUL: base == patched).
 * Beyond "no crash, no leak" it checks their promises:
 *  - the cache text of any tagset loads back to the same text;
 *  - a file compared with itself never gets worse, nor leaves its scope;
 *  - every refusal says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/context.h"
#include "warden/error.h"

#include "../../src/context/tags.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wd_parsers *parsers;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	if (wd_parsers_new(&parsers) != 0)
		abort();
	return 0;
}

static void roundtrip(int lang, const char *src, size_t len)
{
	wd_tagset ts, back;
	wd_buf a = WD_BUF_INIT, b = WD_BUF_INIT;
	size_t n;

	memset(&ts, 0, sizeof(ts));
	if (wd_tags_extract(&ts, parsers, lang, src, len) != 0)
		abort();
	if (wd_tagset_dump(&a, &ts) != 0)
		abort();
	n = a.len;
	if (wd_buf_put(&b, a.ptr, a.len) != 0 || wd_tagset_load(&back, wd_buf_detach(&b), n) != 0)
		abort();
	wd_buf_clear(&b);
	if (wd_tagset_dump(&b, &back) != 0 || b.len != a.len || memcmp(a.ptr, b.ptr, a.len) != 0)
		abort();
	for (size_t i = 0; i < ts.ndefs; i++)
		if (ts.defs[i].start < 1 || ts.defs[i].end < ts.defs[i].start ||
		    ts.defs[i].kind >= WD_TAG_KIND_COUNT || !ts.defs[i].name[0])
			abort();
	wd_tagset_free(&ts);
	wd_tagset_free(&back);
	wd_buf_free(&a);
	wd_buf_free(&b);
}

static void gates(const char *path, const char *base, size_t blen, const char *patched, size_t plen)
{
	static const char *const scope[] = { "f.c:f", "f.py:f", NULL };
	wd_syntax_file f = { path, base, blen, patched, plen };
	wd_syntax_file self = { path, patched, plen, patched, plen };
	wd_buf out = WD_BUF_INIT;
	int rc;

	rc = wd_syntax_check(&out, &f, 1);
	if ((rc != 0 && rc != WD_EREFUSED) || (rc == WD_EREFUSED && !out.len))
		abort();
	wd_buf_clear(&out);
	if (wd_syntax_check(&out, &self, 1) != 0 || out.len)
		abort();
	rc = wd_symbol_scope_check(&out, path, base, blen, patched, plen, scope);
	if ((rc != 0 && rc != WD_EREFUSED) || (rc == WD_EREFUSED && !out.len))
		abort();
	wd_buf_clear(&out);
	rc = wd_symbol_scope_check(&out, path, patched, plen, patched, plen, scope);
	/* unchanged: nothing is outside, whatever the scope names */
	if (rc != 0 || out.len)
		abort();
	wd_buf_free(&out);
	wd_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	const char *base = text, *patched = nul ? nul + 1 : text;
	size_t blen = nul ? (size_t)(nul - text) : size;
	size_t plen = nul ? size - blen - 1 : size;

	if (size > 65536)
		return 0;
	for (int lang = 1; lang < WD_LANG_COUNT; lang++)
		roundtrip(lang, patched, plen);
	gates("f.c", base, blen, patched, plen);
	gates("f.py", base, blen, patched, plen);
	return 0;
}
