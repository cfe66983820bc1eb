/* The repository map: tags per language, references, ranking, rendering
 * within a token budget, JSON, and the blob-id keyed tag cache. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "fixture.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/map.h"

#include "../../src/context/tags.h"

static char tree[64];
static char cache[64];

static void put(const char *root, const char *rel, const char *text)
{
	wd_buf p = WD_BUF_INIT;
	char *slash;

	ck_assert_int_eq(wd_path_join(&p, root, rel), 0);
	slash = strrchr(p.ptr, '/');
	*slash = '\0';
	ck_assert_int_eq(wd_mkdir_p(p.ptr, 0), 0);
	*slash = '/';
	ck_assert_int_eq(wd_file_write_atomic(p.ptr, text, strlen(text), 0644), 0);
	wd_buf_free(&p);
}

static const char UTIL_C[] =
	"#include \"util.h\"\n"                       /* 1 */
	"#define MAX_ITEMS 16\n"                      /* 2 */
	"typedef struct point { int x, y; } point_t;\n" /* 3 */
	"enum color { RED, GREEN };\n"                /* 4 */
	"static int counter;\n"                       /* 5 */
	"int util_add(int a,\n"                       /* 6 */
	"             int b)\n"                       /* 7 */
	"{\n"                                         /* 8 */
	"\treturn a + b;\n"                           /* 9 */
	"}\n"                                         /* 10 */
	"char *util_name(void) { return \"x\"; }\n"   /* 11 */
	"int (*handler)(int);\n"                      /* 12 */
	"#define SQUARE(x) ((x) * (x))\n";            /* 13 */

/* The fixture's files under root. */
static void fill(const char *root)
{
	put(root, "src/util.c", UTIL_C);
	put(root, "src/util.h", "#ifndef UTIL_H\n#define UTIL_H\nint util_add(int a, int b);\n#endif\n");
	put(root, "src/main.c", "#include \"util.h\"\nint main(void)\n{\n\treturn util_add(1, 2) + "
	                        "util_add(3, 4) + MAX_ITEMS;\n}\n");
	put(root, "src/other.c", "int other_thing(void) { return 0; }\n");
	put(root, "app.py", "class Parser:\n    def parse(self, text):\n        return helper(text)\n\n"
	                    "@decorator\ndef helper(x):\n    return x\n\nLIMIT = 10\n");
	put(root, "README.md", "# demo\n");
}

static void setup(void)
{
	git_libgit2_init();
	strcpy(tree, "/tmp/wd-map-XXXXXX");
	strcpy(cache, "/tmp/wd-mapc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree));
	ck_assert_ptr_nonnull(mkdtemp(cache));
	fill(tree);
}

static void teardown(void)
{
	wd_rm_rf(tree);
	wd_rm_rf(cache);
	git_libgit2_shutdown();
}

static wd_map *build_at(const char *root, const char *cache_dir)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	wd_map *m = NULL;

	o.cache_dir = cache_dir;
	ck_assert_int_eq(wd_map_build(&m, root, &o), 0);
	return m;
}

static wd_map *build(const char *cache_dir)
{
	return build_at(tree, cache_dir);
}

/* The one definition of `name` with kind `kind`, checked for its lines. */
static void expect_def(const wd_map *m, const char *name, wd_tag_kind kind, const char *path,
                       size_t start, size_t end)
{
	wd_map_def *d = NULL;
	size_t n = 0, found = 0;

	ck_assert_int_eq(wd_map_find_definitions(&d, &n, m, name), 0);
	for (size_t i = 0; i < n; i++) {
		if (d[i].kind != kind)
			continue;
		found++;
		ck_assert_str_eq(d[i].path, path);
		ck_assert_uint_eq(d[i].start_line, start);
		ck_assert_uint_eq(d[i].end_line, end);
	}
	ck_assert_msg(found == 1, "%s: %zu definitions of kind %s", name, found, wd_tag_kind_name(kind));
	free(d);
}

START_TEST(c_definitions_of_every_kind_with_line_ranges)
{
	wd_map *m = build(NULL);

	expect_def(m, "util_add", WD_TAG_FUNCTION, "src/util.c", 6, 10);
	expect_def(m, "util_add", WD_TAG_PROTOTYPE, "src/util.h", 3, 3);
	ck_assert(!wd_map_has_definition(m, "UTIL_H")); /* include guards are no definitions */
	expect_def(m, "util_name", WD_TAG_FUNCTION, "src/util.c", 11, 11);
	expect_def(m, "MAX_ITEMS", WD_TAG_MACRO, "src/util.c", 2, 2);
	expect_def(m, "SQUARE", WD_TAG_MACRO, "src/util.c", 13, 13);
	expect_def(m, "point", WD_TAG_STRUCT, "src/util.c", 3, 3);
	expect_def(m, "point_t", WD_TAG_TYPEDEF, "src/util.c", 3, 3);
	expect_def(m, "color", WD_TAG_ENUM, "src/util.c", 4, 4);
	expect_def(m, "GREEN", WD_TAG_CONSTANT, "src/util.c", 4, 4);
	expect_def(m, "counter", WD_TAG_VARIABLE, "src/util.c", 5, 5);
	/* a pointer to a function is a variable, not a function */
	expect_def(m, "handler", WD_TAG_VARIABLE, "src/util.c", 12, 12);
	expect_def(m, "main", WD_TAG_FUNCTION, "src/main.c", 2, 5);
	ck_assert(!wd_map_has_definition(m, "a"));
	wd_map_free(m);
}
END_TEST

START_TEST(signatures_are_the_declaration_collapsed_to_one_line)
{
	wd_map *m = build(NULL);
	wd_map_def *d = NULL;
	size_t n = 0;

	ck_assert_int_eq(wd_map_find_definitions(&d, &n, m, "util_add"), 0);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++)
		if (d[i].kind == WD_TAG_FUNCTION)
			ck_assert_str_eq(d[i].signature, "int util_add(int a, int b)");
	free(d);
	ck_assert_int_eq(wd_map_find_definitions(&d, &n, m, "parse"), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(d[0].signature, "def parse(self, text)");
	free(d);
	wd_map_free(m);
}
END_TEST

START_TEST(python_classes_methods_functions_and_module_variables)
{
	wd_map *m = build(NULL);

	expect_def(m, "Parser", WD_TAG_CLASS, "app.py", 1, 3);
	expect_def(m, "parse", WD_TAG_METHOD, "app.py", 2, 3);
	expect_def(m, "helper", WD_TAG_FUNCTION, "app.py", 6, 7);
	expect_def(m, "LIMIT", WD_TAG_VARIABLE, "app.py", 9, 9);
	wd_map_free(m);
}
END_TEST

START_TEST(go_javascript_and_rust_definitions)
{
	wd_map *m;
	wd_strvec files = WD_STRVEC_INIT;

	put(tree, "svc/server.go",
	    "package svc\n\nconst Port = 8080\n\ntype Server struct {\n\taddr string\n}\n\n"
	    "type Handler interface {\n\tServe()\n}\n\nfunc NewServer(addr string) *Server {\n"
	    "\tx := 1\n\t_ = x\n\treturn &Server{addr: addr}\n}\n\nfunc (s *Server) Start() error {\n"
	    "\treturn nil\n}\n");
	put(tree, "web/app.js",
	    "const PAGE_SIZE = 3;\nconst double = (x) => x * 2;\nfunction render(items) {\n"
	    "  const local = 1;\n  return items.map(double);\n}\nclass View {\n  draw() {\n"
	    "    return render([]);\n  }\n}\n");
	put(tree, "core/lib.rs",
	    "pub const MAX: u32 = 10;\npub struct Point {\n    x: i32,\n}\npub trait Shape {\n"
	    "    fn area(&self) -> f64;\n}\nimpl Point {\n    pub fn norm(&self) -> i32 {\n"
	    "        self.x\n    }\n}\nfn helper_fn() -> Point {\n    Point { x: 1 }\n}\n"
	    "macro_rules! square {\n    ($x:expr) => { $x * $x };\n}\nmod inner {\n}\n");
	m = build(NULL);
	expect_def(m, "Port", WD_TAG_CONSTANT, "svc/server.go", 3, 3);
	expect_def(m, "Server", WD_TAG_STRUCT, "svc/server.go", 5, 7);
	expect_def(m, "Handler", WD_TAG_INTERFACE, "svc/server.go", 9, 11);
	expect_def(m, "NewServer", WD_TAG_FUNCTION, "svc/server.go", 13, 17);
	expect_def(m, "Start", WD_TAG_METHOD, "svc/server.go", 19, 21);
	ck_assert(!wd_map_has_definition(m, "x"));
	expect_def(m, "PAGE_SIZE", WD_TAG_VARIABLE, "web/app.js", 1, 1);
	expect_def(m, "double", WD_TAG_FUNCTION, "web/app.js", 2, 2);
	expect_def(m, "render", WD_TAG_FUNCTION, "web/app.js", 3, 6);
	expect_def(m, "View", WD_TAG_CLASS, "web/app.js", 7, 11);
	expect_def(m, "draw", WD_TAG_METHOD, "web/app.js", 8, 10);
	ck_assert(!wd_map_has_definition(m, "local"));
	expect_def(m, "MAX", WD_TAG_CONSTANT, "core/lib.rs", 1, 1);
	expect_def(m, "Point", WD_TAG_STRUCT, "core/lib.rs", 2, 4);
	expect_def(m, "Shape", WD_TAG_INTERFACE, "core/lib.rs", 5, 7);
	expect_def(m, "area", WD_TAG_PROTOTYPE, "core/lib.rs", 6, 6);
	expect_def(m, "norm", WD_TAG_METHOD, "core/lib.rs", 9, 11);
	expect_def(m, "helper_fn", WD_TAG_FUNCTION, "core/lib.rs", 13, 15);
	expect_def(m, "square", WD_TAG_MACRO, "core/lib.rs", 16, 18);
	expect_def(m, "inner", WD_TAG_MODULE, "core/lib.rs", 19, 20);
	/* references across files of one language */
	ck_assert_int_eq(wd_map_find_referencing_files(&files, NULL, m, "render"), 0);
	ck_assert_uint_eq(files.n, 1);
	ck_assert_str_eq(files.v[0], "web/app.js");
	wd_strvec_free(&files);
	{
		wd_map_def *d = NULL;
		size_t n = 0;

		ck_assert_int_eq(wd_map_find_definitions(&d, &n, m, "NewServer"), 0);
		ck_assert_str_eq(d[0].signature, "func NewServer(addr string) *Server");
		free(d);
	}
	ck_assert_str_eq(wd_lang_for_path("a.go"), "go");
	ck_assert_str_eq(wd_lang_for_path("a.mjs"), "javascript");
	ck_assert_str_eq(wd_lang_for_path("a.rs"), "rust");
	wd_map_free(m);
}
END_TEST

START_TEST(files_without_a_grammar_are_listed_by_path)
{
	wd_map *m = build(NULL);
	size_t n = 0;
	const char *const *files = wd_map_files(m, &n);
	int seen = 0;

	ck_assert_uint_eq(n, 6);
	for (size_t i = 0; i < n; i++)
		seen |= !strcmp(files[i], "README.md");
	ck_assert(seen);
	ck_assert_str_eq(wd_lang_for_path("a/b.c"), "c");
	ck_assert_str_eq(wd_lang_for_path("x.py"), "python");
	ck_assert_ptr_null(wd_lang_for_path("README.md"));
	ck_assert_ptr_null(wd_lang_for_path("Makefile"));
	wd_map_free(m);
}
END_TEST

/* A tree that is only its root: the walk ends at depth 0 without climbing above it. */
START_TEST(empty_and_one_token_sources_parse_to_no_definitions)
{
	static const char *const srcs[] = { "", "x", "\n\n" };
	wd_parsers *p = NULL;

	ck_assert_int_eq(wd_parsers_new(&p), 0);
	for (int lang = WD_LANG_NONE + 1; lang < WD_LANG_COUNT; lang++)
		for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
			wd_tagset ts;

			memset(&ts, 0, sizeof(ts));
			ck_assert_int_eq(wd_tags_extract(&ts, p, lang, srcs[i], strlen(srcs[i])), 0);
			ck_assert_uint_eq(ts.ndefs, 0);
			wd_tagset_free(&ts);
		}
	wd_parsers_free(p);
}
END_TEST

START_TEST(references_name_the_files_using_an_identifier_most_first)
{
	wd_map *m = build(NULL);
	wd_strvec files = WD_STRVEC_INIT;
	size_t *counts = NULL;

	ck_assert_int_eq(wd_map_find_referencing_files(&files, &counts, m, "util_add"), 0);
	/* the definition and the prototype are not references */
	ck_assert_uint_eq(files.n, 1);
	ck_assert_str_eq(files.v[0], "src/main.c");
	ck_assert_uint_eq(counts[0], 2);
	free(counts);
	wd_strvec_free(&files);
	ck_assert_int_eq(wd_map_find_referencing_files(&files, NULL, m, "no_such_name"), 0);
	ck_assert_uint_eq(files.n, 0);
	wd_map_free(m);
}
END_TEST

static size_t line_of(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);
	size_t n = 1;

	ck_assert_msg(p != NULL, "'%s' not in:\n%s", needle, text);
	for (const char *q = text; q < p; q++)
		n += *q == '\n';
	return n;
}

START_TEST(ranking_puts_referenced_definitions_first)
{
	wd_map *m = build(NULL);
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert_int_eq(wd_map_render(&out, m, 0, WD_MAP_RENDER_LINES), 0);
	ck_assert_uint_lt(line_of(out.ptr, "int util_add(int a, int b)"),
	                  line_of(out.ptr, "int other_thing(void)"));
	wd_buf_free(&out);
	wd_map_free(m);
}
END_TEST

START_TEST(names_link_files_of_one_language_only)
{
	wd_map *m;
	wd_map_def *d = NULL;
	size_t n = 0;
	double c_rank = -1, py_rank = -1;

	put(tree, "scripts/gdb.py", "util_add = 1\n");
	m = build(NULL);
	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert_int_eq(wd_map_find_definitions(&d, &n, m, "util_add"), 0);
	for (size_t i = 0; i < n; i++) {
		if (d[i].kind == WD_TAG_FUNCTION)
			c_rank = d[i].rank;
		if (!strcmp(d[i].path, "scripts/gdb.py"))
			py_rank = d[i].rank;
	}
	/* main.c's calls rank the C function; the Python variable gets only its file's share */
	ck_assert(c_rank > 0 && py_rank >= 0);
	ck_assert(py_rank * 100 < c_rank);
	free(d);
	wd_map_free(m);
}
END_TEST

START_TEST(focus_moves_a_file_and_an_identifier_to_the_top)
{
	const char *focus_file[] = { "src/other.c", NULL };
	const char *focus_ident[] = { "helper", NULL };
	wd_map *m = build(NULL);
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(wd_map_rank(m, focus_file), 0);
	ck_assert_int_eq(wd_map_render(&out, m, 0, 0), 0);
	ck_assert_uint_eq(line_of(out.ptr, "src/other.c:"), 2);
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_map_rank(m, focus_ident), 0);
	ck_assert_int_eq(wd_map_render(&out, m, 0, 0), 0);
	ck_assert_uint_eq(line_of(out.ptr, "app.py:"), 2);
	ck_assert_uint_lt(line_of(out.ptr, "def helper(x)"), line_of(out.ptr, "src/util.c:"));
	wd_buf_free(&out);
	wd_map_free(m);
}
END_TEST

START_TEST(render_stays_within_the_token_budget_and_says_how_it_counts)
{
	wd_map *m = build(NULL);
	wd_buf all = WD_BUF_INIT, small = WD_BUF_INIT;

	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert_int_eq(wd_map_render(&all, m, 0, WD_MAP_RENDER_LINES), 0);
	ck_assert_int_eq(wd_map_render(&small, m, 60, WD_MAP_RENDER_LINES), 0);
	ck_assert_ptr_nonnull(strstr(all.ptr, "estimated as bytes/4"));
	ck_assert_ptr_nonnull(strstr(small.ptr, "of a 60-token budget"));
	ck_assert_uint_le(small.len, 60 * 4);
	ck_assert_uint_lt(small.len, all.len);
	/* the few that fit are the best ranked */
	ck_assert_ptr_nonnull(strstr(small.ptr, "util_add"));
	/* every definition appears once when there is no budget */
	ck_assert_ptr_nonnull(strstr(all.ptr, "13 #define SQUARE(x) ((x) * (x))"));
	ck_assert_ptr_nonnull(strstr(all.ptr, "6-10 int util_add(int a, int b)"));
	wd_buf_free(&all);
	wd_buf_free(&small);
	wd_map_free(m);
}
END_TEST

static size_t json_defs(json_t *j, double *ranks, size_t max)
{
	json_t *f, *d;
	size_t i, k, n = 0;

	json_array_foreach(json_object_get(j, "files"), i, f) {
		json_array_foreach(json_object_get(f, "definitions"), k, d) {
			if (n < max)
				ranks[n++] = json_real_value(json_object_get(d, "rank"));
		}
	}
	return n;
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

START_TEST(a_budget_keeps_exactly_the_best_ranked_definitions)
{
	wd_map *m;
	json_t *all = NULL, *some = NULL;
	double ra[512], rs[512];
	size_t na, ns;
	char name[64], body[160];

	for (int i = 0; i < 80; i++) {
		snprintf(name, sizeof(name), "gen/g%02d.c", i);
		snprintf(body, sizeof(body), "int gen_%02d(void) { return util_add(%d, 1) + gen_%02d(); }\n",
		         i, i, (i * 7) % 80);
		put(tree, name, body);
	}
	m = build(NULL);
	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert_int_eq(wd_map_to_json(&all, m, 0), 0);
	ck_assert_int_eq(wd_map_to_json(&some, m, 150), 0);
	na = json_defs(all, ra, 512);
	ns = json_defs(some, rs, 512);
	ck_assert_uint_gt(ns, 3);
	ck_assert_uint_lt(ns, na);
	qsort(ra, na, sizeof(double), cmp_desc);
	qsort(rs, ns, sizeof(double), cmp_desc);
	for (size_t i = 0; i < ns; i++)
		ck_assert(rs[i] == ra[i]);
	json_decref(all);
	json_decref(some);
	wd_map_free(m);
}
END_TEST

START_TEST(json_carries_definitions_ranks_and_references)
{
	wd_map *m = build(NULL);
	json_t *j = NULL, *files, *f, *defs, *d;
	size_t i, k;
	int found = 0;

	ck_assert_int_eq(wd_map_to_json(&j, m, 0), WD_EUSAGE);
	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert_int_eq(wd_map_to_json(&j, m, 0), 0);
	ck_assert_str_eq(json_string_value(json_object_get(j, "token_estimate")), "bytes/4");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "stats"), "files")), 6);
	files = json_object_get(j, "files");
	json_array_foreach(files, i, f) {
		defs = json_object_get(f, "definitions");
		json_array_foreach(defs, k, d) {
			if (strcmp(json_string_value(json_object_get(d, "name")), "util_add") ||
			    strcmp(json_string_value(json_object_get(d, "kind")), "function"))
				continue;
			found = 1;
			ck_assert_str_eq(json_string_value(json_object_get(f, "path")), "src/util.c");
			ck_assert_str_eq(json_string_value(json_object_get(f, "language")), "c");
			ck_assert_int_eq(json_integer_value(json_object_get(d, "line")), 6);
			ck_assert_int_eq(json_integer_value(json_object_get(d, "end_line")), 10);
			ck_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "referenced_by"), 0)),
			                 "src/main.c");
			ck_assert(json_real_value(json_object_get(d, "rank")) > 0);
		}
	}
	ck_assert(found);
	json_decref(j);
	wd_map_free(m);
}
END_TEST

START_TEST(cache_reparses_only_the_changed_file)
{
	wd_map *m;
	wd_map_stats st;

	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 5);
	ck_assert_uint_eq(st.cached, 0);
	wd_map_free(m);

	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 0);
	ck_assert_uint_eq(st.cached, 5);
	wd_map_free(m);

	put(tree, "src/other.c", "int other_thing(void) { return 1; }\nint more(void) { return 2; }\n");
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 1);
	ck_assert_uint_eq(st.cached, 4);
	ck_assert(wd_map_has_definition(m, "more"));
	wd_map_free(m);

	/* rewritten with the same content: new stat data, same blob id, no parse */
	put(tree, "src/util.h", "#ifndef UTIL_H\n#define UTIL_H\nint util_add(int a, int b);\n#endif\n");
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 0);
	ck_assert_uint_eq(st.cached, 5);
	wd_map_free(m);
}
END_TEST

START_TEST(a_damaged_cache_entry_is_parsed_again)
{
	wd_map *m;
	wd_map_stats st;
	wd_buf p = WD_BUF_INIT;
	char oid[41];
	const char *text = "int other_thing(void) { return 0; }\n";

	wd_map_free(build(cache));
	ck_assert_int_eq(wd_hash_hex(oid, text, strlen(text)), 0);
	ck_assert_int_eq(wd_buf_printf(&p, "%s/tags/v%d/%.2s/%s", cache, WD_TAGS_VERSION, oid, oid + 2), 0);
	ck_assert(wd_path_exists(p.ptr));
	ck_assert_int_eq(wd_file_write_atomic(p.ptr, "wdt3\1\0\0\0garbage", 15, 0644), 0);
	/* the same content at a new path: the pack has no entry for it, the blob
	 * cache is asked and its damaged entry refused */
	put(tree, "src/copy.c", text);
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 1);
	ck_assert(wd_map_has_definition(m, "other_thing"));
	wd_map_free(m);
	wd_buf_free(&p);
}
END_TEST

/* The one pack file of the tree under the cache (beside it, its saved name
 * index, "<pack>.idx": test_map_index.c). */
static void pack_file(wd_buf *out)
{
	wd_buf dir = WD_BUF_INIT;

	ck_assert_int_eq(wd_path_join(&dir, cache, "map"), 0);
	ck_assert_int_eq(fx_one_entry(out, dir.ptr, ".idx", 0), 0);
	ck_assert_ptr_nonnull(strstr(out->ptr, "/pack-"));
	wd_buf_free(&dir);
}

/* m (freed here) took all n files' tags from the cache and renders as `want`. */
static void expect_all_cached(wd_map *m, size_t n, const wd_buf *want)
{
	wd_map_stats st;
	wd_buf got = WD_BUF_INIT;

	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 0);
	ck_assert_uint_eq(st.cached, n);
	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert_int_eq(wd_map_render(&got, m, 0, 0), 0);
	ck_assert_str_eq(want->ptr, got.ptr);
	wd_map_free(m);
	wd_buf_free(&got);
}

START_TEST(a_warm_map_reads_the_pack_alone)
{
	wd_map *m, *cold;
	wd_map_stats st;
	wd_buf pk = WD_BUF_INIT, tags = WD_BUF_INIT, a = WD_BUF_INIT;

	cold = build(cache);
	ck_assert_int_eq(wd_map_rank(cold, NULL), 0);
	ck_assert_int_eq(wd_map_render(&a, cold, 0, 0), 0);
	wd_map_free(cold);
	/* without the per-blob cache, every file's tags still come from the pack */
	ck_assert_int_eq(wd_path_join(&tags, cache, "tags"), 0);
	ck_assert_int_eq(wd_rm_rf(tags.ptr), 0);
	expect_all_cached(build(cache), 5, &a);
	/* control: without the pack either, every file is parsed again */
	pack_file(&pk);
	ck_assert_int_eq(unlink(pk.ptr), 0);
	ck_assert_int_eq(wd_rm_rf(tags.ptr), 0);
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 5);
	wd_map_free(m);
	wd_buf_free(&pk);
	wd_buf_free(&tags);
	wd_buf_free(&a);
}
END_TEST

/* The permissions of the mapping of `file` in this process ("" when none). */
static void mapping_perms(char perms[5], const char *file)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];

	ck_assert_ptr_nonnull(f);
	perms[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n'), *path = strchr(line, '/');

		if (nl)
			*nl = '\0';
		if (path && !strcmp(path, file) && sscanf(line, "%*s %4s", perms) == 1)
			break;
	}
	fclose(f);
}

/* A warm map's tags borrow from a read-only mapping of the pack: nothing
 * writes there (a write would copy the page; now it would fault). */
START_TEST(a_warm_map_maps_its_pack_read_only)
{
	wd_map *m;
	wd_buf pk = WD_BUF_INIT;
	char perms[5];

	wd_map_free(build(cache));
	pack_file(&pk);
	m = build(cache);
	mapping_perms(perms, pk.ptr);
	ck_assert_str_eq(perms, "r--p");
	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert(wd_map_has_definition(m, "util_add"));
	wd_map_free(m);
	/* control: no mapping of it once the map is gone */
	mapping_perms(perms, pk.ptr);
	ck_assert_str_eq(perms, "");
	wd_buf_free(&pk);
}
END_TEST

/* m's cache served some of its n files and not others (a damaged entry is
 * parsed again), and the map is whole. */
static void expect_partly_cached(const wd_map *m, size_t n)
{
	wd_map_stats st;

	wd_map_get_stats(&st, m);
	ck_assert_uint_gt(st.parsed, 0);
	ck_assert_uint_lt(st.parsed, n);
	ck_assert_uint_eq(st.parsed + st.cached, n);
	ck_assert(wd_map_has_definition(m, "util_add"));
}

START_TEST(a_damaged_pack_costs_only_a_reparse)
{
	wd_map *m;
	wd_map_stats st;
	wd_buf pk = WD_BUF_INIT, text = WD_BUF_INIT, tags = WD_BUF_INIT;
	char *at;

	wd_map_free(build(cache));
	pack_file(&pk);
	ck_assert_int_eq(wd_file_read(&text, pk.ptr, 0), 0);
	/* one entry's tags damaged, then the pack cut short inside another entry */
	ck_assert_ptr_nonnull(at = memmem(text.ptr, text.len, "end\n", 4));
	memcpy(at, "END\n", 4);
	ck_assert_int_eq(wd_file_write_atomic(pk.ptr, text.ptr, text.len * 3 / 4, 0644), 0);
	ck_assert_int_eq(wd_path_join(&tags, cache, "tags"), 0);
	ck_assert_int_eq(wd_rm_rf(tags.ptr), 0);
	m = build(cache);
	/* the entries before the damage served; the rest were parsed, and the map is whole */
	expect_partly_cached(m, 5);
	ck_assert(wd_map_has_definition(m, "other_thing"));
	ck_assert(wd_map_has_definition(m, "helper"));
	wd_map_free(m);
	/* and the pack was rewritten whole */
	ck_assert_int_eq(wd_rm_rf(tags.ptr), 0);
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 0);
	wd_map_free(m);
	wd_buf_free(&pk);
	wd_buf_free(&text);
	wd_buf_free(&tags);
}
END_TEST

/* A changed file's entry is appended to the pack (the earlier bytes stay as
 * they were, and the later entry of the path wins); a file gone rewrites it. */
START_TEST(a_changed_file_is_appended_to_the_pack_and_a_gone_one_rewrites_it)
{
	wd_map *m;
	wd_map_stats st;
	wd_buf pk = WD_BUF_INIT, before = WD_BUF_INIT, after = WD_BUF_INIT, tags = WD_BUF_INIT;
	const char *at;

	wd_map_free(build(cache));
	pack_file(&pk);
	ck_assert_int_eq(wd_file_read(&before, pk.ptr, 0), 0);
	put(tree, "src/other.c", "int other_thing(void) { return 1; }\nint more(void) { return 2; }\n");
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 1);
	wd_map_free(m);
	ck_assert_int_eq(wd_file_read(&after, pk.ptr, 0), 0);
	ck_assert_uint_gt(after.len, before.len);
	ck_assert_mem_eq(after.ptr, before.ptr, before.len);
	/* (a path is stored with its NUL) */
	ck_assert_ptr_nonnull(memmem(after.ptr + before.len, after.len - before.len, "src/other.c", 12));
	/* from the pack alone (no blob cache): the appended entry is the one read */
	ck_assert_int_eq(wd_path_join(&tags, cache, "tags"), 0);
	ck_assert_int_eq(wd_rm_rf(tags.ptr), 0);
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 0);
	ck_assert_uint_eq(st.cached, 5);
	ck_assert(wd_map_has_definition(m, "more"));
	wd_map_free(m);
	/* a file gone: the pack is written again without it, and without the
	 * replaced entry */
	wd_buf_clear(&pk);
	ck_assert_int_eq(wd_path_join(&pk, tree, "app.py"), 0);
	ck_assert_int_eq(unlink(pk.ptr), 0);
	wd_map_free(build(cache));
	pack_file(&pk);
	wd_buf_clear(&after);
	ck_assert_int_eq(wd_file_read(&after, pk.ptr, 0), 0);
	ck_assert_ptr_null(memmem(after.ptr, after.len, "app.py", 7));
	ck_assert_ptr_nonnull(at = memmem(after.ptr, after.len, "src/other.c", 12));
	ck_assert_ptr_null(memmem(at + 1, after.len - (size_t)(at + 1 - after.ptr), "src/other.c", 12));
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 0);
	ck_assert_uint_eq(st.cached, 4);
	wd_map_free(m);
	wd_buf_free(&pk);
	wd_buf_free(&before);
	wd_buf_free(&after);
	wd_buf_free(&tags);
}
END_TEST

/* A C file of `n` functions (each calling another), over WD_REGIONS_MIN bytes
 * for n >= 1600, so that its tags keep regions. */
static void big_c(wd_buf *out, int n)
{
	ck_assert_int_eq(wd_buf_puts(out, "#include <stdio.h>\n\n"), 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(wd_buf_printf(out, "int fn%d(int x)\n{\n\treturn fn%d(x) + %d;\n}\n\n",
		                               i, i / 2, i), 0);
}

static void big_py(wd_buf *out, int n)
{
	ck_assert_int_eq(wd_buf_puts(out, "import os\n\n"), 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(wd_buf_printf(out, "def py%d(x):\n    return py%d(x) + %d\n\n\n",
		                               i, i / 2, i), 0);
}

/* The first `from` of b replaced by `to`. */
static void replace(wd_buf *b, const char *from, const char *to)
{
	wd_buf r = WD_BUF_INIT;
	const char *at = strstr(b->ptr, from);

	ck_assert_msg(at != NULL, "no '%s' to replace", from);
	ck_assert_int_eq(wd_buf_put(&r, b->ptr, (size_t)(at - b->ptr)), 0);
	ck_assert_int_eq(wd_buf_puts(&r, to), 0);
	ck_assert_int_eq(wd_buf_puts(&r, at + strlen(from)), 0);
	wd_buf_clear(b);
	ck_assert_int_eq(wd_buf_put(b, r.ptr, r.len), 0);
	wd_buf_free(&r);
}

/* The tags of `now` from those of `before` by a partial re-parse (when
 * `partial`; else it must refuse), byte for byte a whole parse's: the same
 * definitions and lines, references, and regions. */
static void expect_reparse(wd_parsers *p, int lang, const wd_buf *before, const wd_buf *now,
                           int partial, const char *edit)
{
	wd_tagset old, whole, part;
	wd_buf a = WD_BUF_INIT, b = WD_BUF_INIT;
	int rc;

	memset(&old, 0, sizeof(old));
	memset(&whole, 0, sizeof(whole));
	memset(&part, 0, sizeof(part));
	ck_assert_int_eq(wd_tags_extract(&old, p, lang, before->ptr, before->len), 0);
	ck_assert_ptr_nonnull(old.regions);
	ck_assert_int_eq(wd_tags_extract(&whole, p, lang, now->ptr, now->len), 0);
	rc = wd_tags_reparse(&part, p, lang, &old, now->ptr, now->len);
	if (!partial) {
		ck_assert_msg(rc == WD_ENOTFOUND, "'%s': re-parsed in part (%d)", edit, rc);
	} else {
		ck_assert_msg(rc == 0, "'%s': not re-parsed in part (%d)", edit, rc);
		ck_assert_int_eq(wd_tagset_dump(&a, &whole), 0);
		ck_assert_int_eq(wd_tagset_dump(&b, &part), 0);
		ck_assert_str_eq(a.ptr, b.ptr);
	}
	wd_error_clear();
	wd_tagset_free(&old);
	wd_tagset_free(&whole);
	wd_tagset_free(&part);
	wd_buf_free(&a);
	wd_buf_free(&b);
}

/* Each edit from the text before it, as a warm map sees them one after another. */
START_TEST(a_partial_reparse_gives_a_whole_parse_s_tags_wherever_the_edit_is)
{
	static const struct {
		const char *from, *to;
		int partial;
	} c_edits[] = {
		/* the start */
		{ "#include <stdio.h>\n", "#include <stdio.h>\nint first(void) { return fn3(1); }\n", 1 },
		/* inside a function, in the middle */
		{ "\treturn fn400(x) + 800;", "\treturn fn400(x) + fn7(x)\n\t       + 800;", 1 },
		/* between two functions */
		{ "\n\nint fn900(int x)", "\n\nstatic int between;\n\nint fn900(int x)", 1 },
		/* a function gone */
		{ "int fn1000(int x)\n{\n\treturn fn500(x) + 1000;\n}\n\n", "", 1 },
		/* the end, as bench/map does */
		{ "+ 1799;\n}\n\n", "+ 1799;\n}\n\n/* touched by bench */\n", 1 },
		/* two lines on one: the edit is not on whole lines of its own */
		{ "}\n\nint fn600(int x)", "} int fn600(int x)", 1 },
		/* a broken function: parsed whole */
		{ "int fn1200(int x)\n{", "int fn1200(int x)\n", 0 },
		/* and next to it, still broken, again */
		{ "+ 1201;", "+ 1201 + 1;", 0 },
		/* but far from it, in part */
		{ "+ 1700;", "+ 1700 + 1;", 1 },
	};
	static const struct {
		const char *from, *to;
		int partial;
	} py_edits[] = {
		{ "import os\n", "import os\nimport sys\n", 1 },
		{ "    return py400(x) + 801\n", "    y = py3(x)\n    return py400(y) + 801\n", 1 },
		{ "\n\n\ndef py900(x):", "\n\n\nLIMIT = 3\n\n\ndef py900(x):", 1 },
		{ "+ 1799\n\n\n", "+ 1799\n\n\n# touched by bench\n", 1 },
		/* an indented line after a function: it joins that function */
		{ "+ 1500\n\n\n", "+ 1500\n    return 0\n\n\n", 1 },
		{ "def py1200(x):\n", "def py1200(x:\n", 0 },
	};
	wd_parsers *p = NULL;
	wd_buf before = WD_BUF_INIT, now = WD_BUF_INIT;

	ck_assert_int_eq(wd_parsers_new(&p), 0);
	big_c(&now, 1800);
	for (size_t i = 0; i < sizeof(c_edits) / sizeof(c_edits[0]); i++) {
		wd_buf_clear(&before);
		ck_assert_int_eq(wd_buf_put(&before, now.ptr, now.len), 0);
		replace(&now, c_edits[i].from, c_edits[i].to);
		expect_reparse(p, WD_LANG_C, &before, &now, c_edits[i].partial, c_edits[i].to);
	}
	/* most of the file gone: now under the size that keeps regions, as a
	 * whole parse of it keeps none, neither does the partial one */
	wd_buf_clear(&before);
	ck_assert_int_eq(wd_buf_put(&before, now.ptr, now.len), 0);
	{
		char *from = strstr(now.ptr, "int fn100(int x)"), *to = strstr(now.ptr, "int fn1500(int x)");

		ck_assert(from && to);
		memmove(from, to, strlen(to) + 1);
		now.len = strlen(now.ptr);
	}
	ck_assert_uint_lt(now.len, WD_REGIONS_MIN);
	expect_reparse(p, WD_LANG_C, &before, &now, 1, "fn100 to fn1499 gone");
	wd_buf_clear(&now);
	big_py(&now, 1800);
	for (size_t i = 0; i < sizeof(py_edits) / sizeof(py_edits[0]); i++) {
		wd_buf_clear(&before);
		ck_assert_int_eq(wd_buf_put(&before, now.ptr, now.len), 0);
		replace(&now, py_edits[i].from, py_edits[i].to);
		expect_reparse(p, WD_LANG_PYTHON, &before, &now, py_edits[i].partial,
		               py_edits[i].to);
	}
	wd_parsers_free(p);
	wd_buf_free(&before);
	wd_buf_free(&now);
}
END_TEST

/* In a map: a large file changed is parsed only where it changed, and the map
 * renders exactly as one built without a cache. */
START_TEST(a_warm_map_reparses_only_the_changed_part_of_a_large_file)
{
	wd_buf text = WD_BUF_INIT, warm = WD_BUF_INIT, cold = WD_BUF_INIT;
	wd_map *m;
	wd_map_stats st;

	big_c(&text, 1800);
	put(tree, "src/big.c", text.ptr);
	wd_map_free(build(cache));
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(wd_buf_puts(&text, "/* touched */\nint util_add(int a, int b);\n"), 0);
		put(tree, "src/big.c", text.ptr);
		m = build(cache);
		wd_map_get_stats(&st, m);
		ck_assert_uint_eq(st.parsed, 1);
		ck_assert_uint_eq(st.partial, 1);
		ck_assert_int_eq(wd_map_rank(m, NULL), 0);
		wd_buf_clear(&warm);
		ck_assert_int_eq(wd_map_render(&warm, m, 0, 0), 0);
		wd_map_free(m);
		m = build(NULL);
		ck_assert_int_eq(wd_map_rank(m, NULL), 0);
		wd_buf_clear(&cold);
		ck_assert_int_eq(wd_map_render(&cold, m, 0, 0), 0);
		wd_map_free(m);
		ck_assert_str_eq(warm.ptr, cold.ptr);
	}
	/* the same text again under new stat data: its pack entry serves, no parse */
	put(tree, "src/big.c", text.ptr);
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 0);
	wd_map_free(m);
	wd_buf_free(&text);
	wd_buf_free(&warm);
	wd_buf_free(&cold);
}
END_TEST

START_TEST(the_pack_s_size_is_known_before_a_build)
{
	wd_buf pk = WD_BUF_INIT, text = WD_BUF_INIT;

	ck_assert_uint_eq(wd_map_pack_bytes(tree, cache), 0);
	wd_map_free(build(cache));
	pack_file(&pk);
	ck_assert_int_eq(wd_file_read(&text, pk.ptr, 0), 0);
	ck_assert_uint_gt(text.len, 0);
	ck_assert_uint_eq(wd_map_pack_bytes(tree, cache), text.len);
	ck_assert_uint_eq(wd_map_pack_bytes("/nonexistent/wd-map", cache), 0);
	wd_buf_free(&pk);
	wd_buf_free(&text);
}
END_TEST

/* The tags of one file's text, from parser p. */
static void tags_of(wd_buf *out, wd_parsers *p, const char *src)
{
	wd_tagset ts;

	memset(&ts, 0, sizeof(ts));
	wd_buf_clear(out);
	ck_assert_int_eq(wd_tags_extract(&ts, p, WD_LANG_PYTHON, src, strlen(src)), 0);
	ck_assert_int_eq(wd_tagset_dump(out, &ts), 0);
	wd_tagset_free(&ts);
}

/* A thread's parser is reused from file to file: Python's external scanner
 * kept `inside_f_string` from a file that ends inside an f-string, and the
 * next file lost its definitions. */
START_TEST(python_tags_do_not_depend_on_the_file_parsed_before)
{
	static const char *const before[] = {
		"def f():\n    if x:\n            y = f\"abc {x\n",
		"    7(x):\n  mpackcag  rec\nfpn func F`rut\x10n x\n{\nn\x09i\n}\nt g;\n",
		"class A:\n    def f(self):\n        s = '''never closed\n",
	};
	static const char b[] = "def g(a):\n    return a\n\nclass K:\n    def m(self):\n        pass\n";
	wd_buf alone = WD_BUF_INIT, after = WD_BUF_INIT;
	wd_parsers *fresh, *reused;

	ck_assert_int_eq(wd_parsers_new(&fresh), 0);
	tags_of(&alone, fresh, b);
	ck_assert_ptr_nonnull(memmem(alone.ptr, alone.len, "def g(a)", 8));
	ck_assert_ptr_nonnull(memmem(alone.ptr, alone.len, "def m(self)", 11));
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		ck_assert_int_eq(wd_parsers_new(&reused), 0);
		tags_of(&after, reused, before[i]);
		tags_of(&after, reused, b);
		ck_assert_uint_eq(after.len, alone.len);
		ck_assert_mem_eq(after.ptr, alone.ptr, alone.len);
		wd_parsers_free(reused);
	}
	wd_parsers_free(fresh);
	wd_buf_free(&alone);
	wd_buf_free(&after);
}
END_TEST

/* n generated C files under root: enough of them make a build large. */
static void put_many(const char *root, int n)
{
	char name[64], body[128];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "gen/f%02d.c", i);
		snprintf(body, sizeof(body), "int gen_%02d(void) { return util_add(%d, 1); }\n", i, i);
		put(root, name, body);
	}
}

/* Entries under dir whose name starts with `prefix`, and the path of the
 * last one in *last; with depth 1, the entries of its subdirectories. */
static size_t count_entries(const char *dir, const char *prefix, int depth, wd_buf *last)
{
	wd_buf sub = WD_BUF_INIT;
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		wd_buf_clear(&sub);
		ck_assert_int_eq(wd_path_join(&sub, dir, e->d_name), 0);
		n += depth ? count_entries(sub.ptr, "", 0, last) : 1;
		ck_assert_int_eq(wd_buf_sets(last, sub.ptr), 0);
	}
	closedir(d);
	wd_buf_free(&sub);
	return n;
}

/* The blob packs (the last one's path in *pack) and the loose blob entries. */
static void blob_cache_count(size_t *packs, size_t *loose, wd_buf *pack)
{
	wd_buf dir = WD_BUF_INIT, prefix = WD_BUF_INIT, any = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_printf(&prefix, "pack-v%d-blobs-", WD_TAGS_VERSION), 0);
	ck_assert_int_eq(wd_path_join(&dir, cache, "map"), 0);
	*packs = count_entries(dir.ptr, prefix.ptr, 0, pack);
	wd_buf_clear(&dir);
	ck_assert_int_eq(wd_buf_printf(&dir, "%s/tags/v%d", cache, WD_TAGS_VERSION), 0);
	*loose = count_entries(dir.ptr, "", 1, &any);
	wd_buf_free(&dir);
	wd_buf_free(&prefix);
	wd_buf_free(&any);
}

/* The map of a new work tree `dir` (a mkdtemp template) holding the same
 * files as the large tree of the test below. */
static wd_map *map_of_a_copy(char *dir)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	fill(dir);
	put_many(dir, 80);
	return build_at(dir, cache);
}

/* A new work tree (a run's) finds the tags of a large cold map in its blob
 * pack: one file made instead of one per blob; a damaged pack costs a parse. */
START_TEST(a_large_map_leaves_one_blob_pack_that_a_new_work_tree_reads)
{
	char tree2[64] = "/tmp/wd-map2-XXXXXX", tree3[64] = "/tmp/wd-map3-XXXXXX";
	wd_map *m;
	wd_map_stats st;
	wd_buf a = WD_BUF_INIT, blob = WD_BUF_INIT;
	size_t packs, loose;
	struct stat sb;

	put_many(tree, 80);
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 85);
	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert_int_eq(wd_map_render(&a, m, 0, 0), 0);
	wd_map_free(m);
	/* no loose entries: every file's tags are in the one blob pack */
	blob_cache_count(&packs, &loose, &blob);
	ck_assert_uint_eq(packs, 1);
	ck_assert_uint_eq(loose, 0);

	expect_all_cached(map_of_a_copy(tree2), 85, &a);

	/* a few files parsed go to loose entries, as before, and make no blob pack */
	put(tree, "src/other.c", "int other_thing(void) { return 7; }\n");
	m = build(cache);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 1);
	wd_map_free(m);
	blob_cache_count(&packs, &loose, &blob);
	ck_assert_uint_eq(packs, 1);
	ck_assert_uint_eq(loose, 1);

	/* the blob pack cut short: what it still holds serves, the rest is parsed */
	ck_assert_int_eq(stat(blob.ptr, &sb), 0);
	ck_assert_int_eq(truncate(blob.ptr, sb.st_size / 2), 0);
	m = map_of_a_copy(tree3);
	expect_partly_cached(m, 85);
	ck_assert(wd_map_has_definition(m, "gen_79"));
	wd_map_free(m);
	wd_rm_rf(tree2);
	wd_rm_rf(tree3);
	wd_buf_free(&a);
	wd_buf_free(&blob);
}
END_TEST

START_TEST(one_thread_and_many_threads_agree)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	wd_map *a = NULL, *b = NULL;
	wd_map_stats sa, sb;
	wd_buf ra = WD_BUF_INIT, rb = WD_BUF_INIT;

	put_many(tree, 60);
	o.threads = 1;
	ck_assert_int_eq(wd_map_build(&a, tree, &o), 0);
	o.threads = 4;
	ck_assert_int_eq(wd_map_build(&b, tree, &o), 0);
	wd_map_get_stats(&sa, a);
	wd_map_get_stats(&sb, b);
	ck_assert_uint_eq(sa.definitions, sb.definitions);
	ck_assert_uint_eq(sa.references, sb.references);
	ck_assert_int_eq(wd_map_rank(a, NULL), 0);
	ck_assert_int_eq(wd_map_rank(b, NULL), 0);
	ck_assert_int_eq(wd_map_render(&ra, a, 500, 0), 0);
	ck_assert_int_eq(wd_map_render(&rb, b, 500, 0), 0);
	ck_assert_str_eq(ra.ptr, rb.ptr);
	wd_buf_free(&ra);
	wd_buf_free(&rb);
	wd_map_free(a);
	wd_map_free(b);
}
END_TEST

START_TEST(ranges_of_named_definitions_are_sorted_and_merged)
{
	const char *names[] = { "util_name", "util_add", "point", "point_t", NULL };
	wd_map *m = build(NULL);
	wd_map_range *r = NULL;
	size_t n = 0;

	ck_assert_int_eq(wd_map_ranges_for(&r, &n, m, "src/util.c", names), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(r[0].start_line, 3);
	ck_assert_uint_eq(r[0].end_line, 3);
	ck_assert_uint_eq(r[1].start_line, 6);
	ck_assert_uint_eq(r[1].end_line, 11);
	free(r);
	ck_assert_int_eq(wd_map_ranges_for(&r, &n, m, "src/none.c", names), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(r);
	wd_map_free(m);
}
END_TEST

START_TEST(interned_names_keep_their_ids_across_growth)
{
	wd_strtab t = WD_STRTAB_INIT;
	char name[32];
	uint32_t id;

	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "name_%d", i);
		ck_assert_int_eq(wd_strtab_intern(&t, name, strlen(name), &id), 0);
		ck_assert_uint_eq(id, (uint32_t)i);
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof(name), "name_%d", i);
		ck_assert_int_eq(wd_strtab_find(&t, name, strlen(name)), i);
		ck_assert_int_eq(wd_strtab_intern(&t, name, strlen(name), &id), 0);
		ck_assert_uint_eq(id, (uint32_t)i);
	}
	/* a prefix is another name */
	ck_assert_int_eq(wd_strtab_find(&t, "name_1", 5), -1);
	ck_assert_int_eq(wd_strtab_find(&t, "absent", 6), -1);
	ck_assert_uint_eq(t.n, 5000);
	wd_strtab_free(&t);
}
END_TEST

START_TEST(errors_missing_tree_bad_version_and_unranked_render)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	wd_map *m = (wd_map *)1;
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(wd_map_build(&m, "/nonexistent/wd-map", NULL), WD_ENOTFOUND);
	ck_assert_ptr_null(m);
	o.version = 7;
	ck_assert_int_eq(wd_map_build(&m, tree, &o), WD_EUSAGE);
	m = build(NULL);
	ck_assert_int_eq(wd_map_render(&out, m, 100, 0), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "ranked"));
	wd_map_free(m);
	wd_map_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("map");
	TCase *tc = tcase_create("map");
	SRunner *sr;
	int failures;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, c_definitions_of_every_kind_with_line_ranges);
	tcase_add_test(tc, signatures_are_the_declaration_collapsed_to_one_line);
	tcase_add_test(tc, python_classes_methods_functions_and_module_variables);
	tcase_add_test(tc, go_javascript_and_rust_definitions);
	tcase_add_test(tc, files_without_a_grammar_are_listed_by_path);
	tcase_add_test(tc, empty_and_one_token_sources_parse_to_no_definitions);
	tcase_add_test(tc, references_name_the_files_using_an_identifier_most_first);
	tcase_add_test(tc, ranking_puts_referenced_definitions_first);
	tcase_add_test(tc, names_link_files_of_one_language_only);
	tcase_add_test(tc, focus_moves_a_file_and_an_identifier_to_the_top);
	tcase_add_test(tc, render_stays_within_the_token_budget_and_says_how_it_counts);
	tcase_add_test(tc, json_carries_definitions_ranks_and_references);
	tcase_add_test(tc, a_budget_keeps_exactly_the_best_ranked_definitions);
	tcase_add_test(tc, cache_reparses_only_the_changed_file);
	tcase_add_test(tc, a_damaged_cache_entry_is_parsed_again);
	tcase_add_test(tc, a_warm_map_reads_the_pack_alone);
	tcase_add_test(tc, a_warm_map_maps_its_pack_read_only);
	tcase_add_test(tc, a_damaged_pack_costs_only_a_reparse);
	tcase_add_test(tc, a_changed_file_is_appended_to_the_pack_and_a_gone_one_rewrites_it);
	tcase_add_test(tc, a_partial_reparse_gives_a_whole_parse_s_tags_wherever_the_edit_is);
	tcase_add_test(tc, a_warm_map_reparses_only_the_changed_part_of_a_large_file);
	tcase_add_test(tc, the_pack_s_size_is_known_before_a_build);
	tcase_add_test(tc, a_large_map_leaves_one_blob_pack_that_a_new_work_tree_reads);
	tcase_add_test(tc, one_thread_and_many_threads_agree);
	tcase_add_test(tc, python_tags_do_not_depend_on_the_file_parsed_before);
	tcase_add_test(tc, ranges_of_named_definitions_are_sorted_and_merged);
	tcase_add_test(tc, interned_names_keep_their_ids_across_growth);
	tcase_add_test(tc, errors_missing_tree_bad_version_and_unranked_render);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
