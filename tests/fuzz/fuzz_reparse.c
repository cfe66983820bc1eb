/*
 * libFuzzer target for the warm map's partial re-parse (src/context/regions.c):
 * an edit of a large file re-parses only what changed, and must give exactly
 * the tags and regions a whole parse of the new text gives.
 *
 * Regions are kept only for files of WD_REGIONS_MIN bytes or more, longer than
 * a fuzzer's inputs, so the input is an edit of a built-in large file (C or
 * Python, with the constructs whose parse can reach past a line: macros and
 * #if blocks, strings and comments holding braces, decorators, nested
 * functions, continuation lines):
 *
 *   byte 0      the language (even C, odd Python)
 *   bytes 1..4  where the edit starts (little endian, modulo the file's size)
 *   bytes 5..6  how many bytes it removes (modulo 4 KiB)
 *   the rest    the bytes it inserts
 *
 * The edited text's partial re-parse, when it is done (0, not WD_ENOTFOUND),
 * must dump byte for byte as the whole parse does; a second edit from there
 * (the same insert at the end) must as well, as a warm map sees edits one
 * after another.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/buf.h"
#include "warden/error.h"

#include "../../src/context/tags.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wd_parsers *parsers;
static wd_buf base[2];
static wd_tagset base_tags[2];

static void put(wd_buf *b, const char *s)
{
	if (wd_buf_puts(b, s) != 0)
		abort();
}

static void build_c(wd_buf *b)
{
	char line[512];

	put(b, "#include <stdio.h>\n#include \"util.h\"\n\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n"
	       "#define LONG_MACRO(x) \\\n\tdo { \\\n\t\tfoo(x); \\\n\t} while (0)\n\n");
	for (int i = 0; b->len < WD_REGIONS_MIN + 4096; i++) {
		switch (i % 6) {
		case 0:
			snprintf(line, sizeof(line), "struct s%d {\n\tint a;\n\tchar *name; /* { */\n};\n\n", i);
			break;
		case 1:
			snprintf(line, sizeof(line), "#ifdef HAVE_%d\nstatic int opt%d(int x)\n{\n\treturn x;\n}\n"
			         "#else\nstatic int opt%d(int x) { return -x; }\n#endif\n\n", i, i, i);
			break;
		case 2:
			snprintf(line, sizeof(line), "int fn%d(int x,\n\t  const char *s)\n{\n\tif (x > %d)\n"
			         "\t\treturn fn%d(x - 1, \"}\\\"{\");\n\treturn MAX(x, %d);\n}\n\n",
			         i, i, i / 2, i);
			break;
		case 3:
			snprintf(line, sizeof(line), "static const char *msg%d =\n\t\"line one \"\n\t\"line two\";\n\n", i);
			break;
		case 4:
			snprintf(line, sizeof(line), "typedef int (*cb%d)(void *ctx, int n);\n"
			         "enum e%d { E%d_A, E%d_B = 2 };\n\n", i, i, i, i);
			break;
		default:
			snprintf(line, sizeof(line), "void loop%d(void)\n{\n\tfor (int i = 0; i < %d; i++) {\n"
			         "\t\tLONG_MACRO(i);\n\t\t/* } not a brace */\n\t}\n}\n\n", i, i);
			break;
		}
		put(b, line);
	}
}

static void build_py(wd_buf *b)
{
	char line[512];

	put(b, "import os\nfrom typing import Any\n\n\n");
	for (int i = 0; b->len < WD_REGIONS_MIN + 4096; i++) {
		switch (i % 4) {
		case 0:
			snprintf(line, sizeof(line), "class C%d:\n    \"\"\"A class. def not_a_def():\"\"\"\n\n"
			         "    def m%d(self, x):\n        return f%d(x) + %d\n\n\n", i, i, i / 2, i);
			break;
		case 1:
			snprintf(line, sizeof(line), "@decorator(%d)\ndef f%d(x,\n       y=None):\n"
			         "    def inner(z):\n        return z\n    return inner(x)\n\n\n", i, i);
			break;
		case 2:
			snprintf(line, sizeof(line), "TABLE_%d = {\n    \"a\": %d,\n    \"b\": [\n        1,\n"
			         "    ],\n}\n\n\n", i, i);
			break;
		default:
			snprintf(line, sizeof(line), "def f%d(x):\n    s = '''\ndef fake():\n'''\n"
			         "    return x \\\n        + %d\n\n\n", i, i);
			break;
		}
		put(b, line);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	if (wd_parsers_new(&parsers) != 0)
		abort();
	build_c(&base[0]);
	build_py(&base[1]);
	for (int l = 0; l < 2; l++)
		if (wd_tags_extract(&base_tags[l], parsers, l ? WD_LANG_PYTHON : WD_LANG_C,
		                    base[l].ptr, base[l].len) != 0 || !base_tags[l].regions)
			abort();
	return 0;
}

/* `now`'s tags by a partial re-parse from `old` must be a whole parse's;
 * the whole parse's tags into *whole (for the next edit). */
static void check(int lang, const wd_tagset *old, const wd_buf *now, wd_tagset *whole)
{
	wd_tagset part;
	wd_buf a = WD_BUF_INIT, b = WD_BUF_INIT;
	int rc;

	memset(&part, 0, sizeof(part));
	memset(whole, 0, sizeof(*whole));
	if (wd_tags_extract(whole, parsers, lang, now->ptr, now->len) != 0)
		abort();
	rc = wd_tags_reparse(&part, parsers, lang, old, now->ptr, now->len);
	if (rc != 0 && rc != WD_ENOTFOUND)
		abort();
	if (rc == 0) {
		if (wd_tagset_dump(&a, whole) != 0 || wd_tagset_dump(&b, &part) != 0)
			abort();
		if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0) {
			fprintf(stderr, "partial re-parse differs from a whole parse\n");
			abort();
		}
	}
	wd_error_clear();
	wd_tagset_free(&part);
	wd_buf_free(&a);
	wd_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wd_buf now = WD_BUF_INIT;
	wd_tagset whole, again;
	size_t at, del;
	int l, lang;

	if (size < 7)
		return 0;
	l = data[0] & 1;
	lang = l ? WD_LANG_PYTHON : WD_LANG_C;
	at = ((size_t)data[1] | (size_t)data[2] << 8 | (size_t)data[3] << 16 |
	      (size_t)data[4] << 24) % base[l].len;
	del = ((size_t)data[5] | (size_t)data[6] << 8) % 4096;
	if (del > base[l].len - at)
		del = base[l].len - at;
	if (wd_buf_put(&now, base[l].ptr, at) != 0 || wd_buf_put(&now, data + 7, size - 7) != 0 ||
	    wd_buf_put(&now, base[l].ptr + at + del, base[l].len - at - del) != 0)
		abort();
	check(lang, &base_tags[l], &now, &whole);
	/* the next edit, from the new text's own tags */
	if (wd_buf_put(&now, data + 7, size - 7) != 0)
		abort();
	if (whole.regions)
		check(lang, &whole, &now, &again);
	else
		memset(&again, 0, sizeof(again));
	wd_tagset_free(&whole);
	wd_tagset_free(&again);
	wd_buf_free(&now);
	return 0;
}
