/* The map's focus and what it leaves out: vendored and generated files are
 * not ranked unless focused, a focused file's own definitions come first,
 * and a focus that matches nothing is reported (a warning from `warden map`). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <git2.h>

#include "fixture.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/map.h"

static char tree[64];

static void put(const char *rel, const char *text)
{
	ck_assert_int_eq(fx_put_file_new(tree, rel, text), 0);
}

/* A git work tree maps the files of its index. */
static void add_all(void)
{
	git_repository *repo;
	git_index *idx;

	ck_assert_int_eq(git_repository_open(&repo, tree), 0);
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_read(idx, 1), 0);
	ck_assert_int_eq(git_index_add_all(idx, NULL, 0, NULL, NULL), 0);
	ck_assert_int_eq(git_index_write(idx), 0);
	git_index_free(idx);
	git_repository_free(repo);
}

static void setup(void)
{
	git_repository *repo;
	wd_buf big = WD_BUF_INIT;

	git_libgit2_init();
	strcpy(tree, "/tmp/wd-mapf-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree));
	ck_assert_int_eq(git_repository_init(&repo, tree, 0), 0);
	git_repository_free(repo);
	/* the vendored library is what everything calls */
	put("deps/lib/lib.c", "int lib_call(int x) { return x; }\nint lib_other(void) { return 1; }\n");
	put("third_party/z/z.c", "int z_inflate(void) { return 0; }\n");
	put("gen/parser.c", "int gen_parse(void) { return lib_call(1); }\n");
	put("tools/script.c", "int tool_main(void) { return lib_call(2); }\n");
	put(".gitattributes", "gen/*.c linguist-generated\n");
	put("src/main.c", "int main(void)\n{\n\treturn lib_call(1) + lib_call(2) + lib_call(3) + "
	                  "util_run(4) + util_run(5) + z_inflate();\n}\n");
	put("src/util.c", "int util_run(int x) { return lib_call(x) + lib_call(x + 1); }\n");
	/* a file whose many definitions nobody references */
	for (int i = 0; i < 40; i++)
		wd_buf_printf(&big, "static int string_op_%02d(int v)\n{\n\treturn v + %d;\n}\n\n", i, i);
	put("src/t_string.c", big.ptr);
	wd_buf_free(&big);
	add_all();
}

static void teardown(void)
{
	wd_rm_rf(tree);
	git_libgit2_shutdown();
}

static wd_map *build(const char *const *exclude)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	wd_map *m = NULL;

	o.exclude = exclude;
	ck_assert_int_eq(wd_map_build(&m, tree, &o), 0);
	return m;
}

/* wd_map_opts.await: how many calls, what they give, and a file each call
 * adds to the tree (and to its index, when `git`) to tell when it ran. */
struct awaited {
	int calls;
	int fail;
	int git;
};

static int await_cb(void *arg, const char *const **exclude)
{
	static const char *const ex[] = { "tools/**", NULL };
	struct awaited *a = arg;

	a->calls++;
	if (a->fail)
		return wd_error_set(WD_EINPUT, "the configuration is broken");
	put("src/late.c", "int late_one(void) { return 0; }\n");
	if (a->git)
		add_all();
	*exclude = ex;
	return 0;
}

/* The await hook runs once: before a git work tree is listed (listing it is
 * libgit2's), after a tree without .git is (its walk needs neither libgit2
 * nor the configuration), always before the exclude globs are read, which
 * it may give; its failure is the build's. */
START_TEST(the_await_hook_runs_once_before_libgit2_and_the_exclude_globs)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	struct awaited a = { 0, 0, 1 };
	wd_buf dotgit = WD_BUF_INIT, moved = WD_BUF_INIT;
	wd_map *m = NULL;

	o.await = await_cb;
	o.await_arg = &a;
	ck_assert_int_eq(wd_map_build(&m, tree, &o), 0);
	ck_assert_int_eq(a.calls, 1);
	ck_assert(wd_map_has_definition(m, "late_one")); /* listed after the hook */
	ck_assert(wd_map_is_vendored(m, "tools/script.c")); /* its globs were used */
	ck_assert(!wd_map_is_vendored(m, "src/main.c"));
	wd_map_free(m);
	/* the same tree without its .git: listed before the hook */
	ck_assert_int_eq(wd_path_join(&dotgit, tree, ".git"), 0);
	ck_assert_int_eq(wd_buf_printf(&moved, "%s-git", tree), 0);
	ck_assert_int_eq(rename(dotgit.ptr, moved.ptr), 0);
	{
		wd_buf late = WD_BUF_INIT;

		ck_assert_int_eq(wd_path_join(&late, tree, "src/late.c"), 0);
		ck_assert_int_eq(unlink(late.ptr), 0);
		wd_buf_free(&late);
	}
	a = (struct awaited){ 0, 0, 0 };
	ck_assert_int_eq(wd_map_build(&m, tree, &o), 0);
	ck_assert_int_eq(a.calls, 1);
	ck_assert(!wd_map_has_definition(m, "late_one"));
	ck_assert(wd_map_is_vendored(m, "tools/script.c"));
	wd_map_free(m);
	/* a hook that fails ends the build with its error */
	a = (struct awaited){ 0, 1, 0 };
	ck_assert_int_eq(wd_map_build(&m, tree, &o), WD_EINPUT);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "the configuration is broken"));
	wd_error_clear();
	ck_assert_int_eq(rename(moved.ptr, dotgit.ptr), 0);
	wd_buf_free(&dotgit);
	wd_buf_free(&moved);
}
END_TEST

/* A map of the tree with a cache; *cached says where its files came from. */
static wd_map *build_cached(const char *cache, int *cached)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	wd_map_stats st;
	wd_map *m = NULL;

	o.cache_dir = cache;
	ck_assert_int_eq(wd_map_build(&m, tree, &o), 0);
	wd_map_get_stats(&st, m);
	*cached = st.files_cached;
	return m;
}

/* The one "<pack>.files" of the cache. */
static void files_cache_path(wd_buf *out, const char *cache)
{
	wd_buf dir = WD_BUF_INIT;

	ck_assert_int_eq(wd_path_join(&dir, cache, "map"), 0);
	ck_assert_int_eq(fx_one_entry(out, dir.ptr, ".files", 1), 0);
	wd_buf_free(&dir);
}

/* A git work tree's files come from the cache while its index is the same
 * file, and from the index again once it is rewritten; a damaged or hostile
 * cache is no list. */
START_TEST(a_git_work_tree_s_files_come_from_the_cache_while_its_index_stays)
{
	char cache[] = "/tmp/wd-mapf-cache-XXXXXX";
	wd_buf fc = WD_BUF_INIT, text = WD_BUF_INIT;
	wd_map *m;
	int cached;
	size_t n;
	char *at;

	ck_assert_ptr_nonnull(mkdtemp(cache));
	m = build_cached(cache, &cached);
	ck_assert_int_eq(cached, 0);
	wd_map_files(m, &n);
	ck_assert_uint_eq(n, 8);
	wd_map_free(m);
	m = build_cached(cache, &cached);
	ck_assert_int_eq(cached, 1);
	ck_assert(wd_map_has_definition(m, "util_run"));
	wd_map_files(m, &n);
	ck_assert_uint_eq(n, 8);
	wd_map_free(m);
	/* an untracked file is not in either list */
	put("src/new.c", "int new_one(void) { return 0; }\n");
	m = build_cached(cache, &cached);
	ck_assert_int_eq(cached, 1);
	ck_assert(!wd_map_has_definition(m, "new_one"));
	wd_map_free(m);
	/* once added, the index is another file: listed from it */
	add_all();
	m = build_cached(cache, &cached);
	ck_assert_int_eq(cached, 0);
	ck_assert(wd_map_has_definition(m, "new_one"));
	wd_map_free(m);
	/* a path leaving the tree, the same length, in a cache otherwise sound */
	files_cache_path(&fc, cache);
	ck_assert_int_eq(wd_file_read(&text, fc.ptr, 0), 0);
	ck_assert_ptr_nonnull(at = memmem(text.ptr, text.len, "deps/lib/lib.c", 15));
	memcpy(at, "deps/../../x.c", 14); /* still in order */
	ck_assert_int_eq(wd_file_write_atomic(fc.ptr, text.ptr, text.len, 0644), 0);
	m = build_cached(cache, &cached);
	ck_assert_int_eq(cached, 0);
	ck_assert(wd_map_has_definition(m, "lib_call"));
	wd_map_free(m);
	/* control: the same cache as written is taken */
	m = build_cached(cache, &cached);
	ck_assert_int_eq(cached, 1);
	wd_map_free(m);
	/* cut short */
	wd_buf_clear(&text);
	ck_assert_int_eq(wd_file_read(&text, fc.ptr, 0), 0);
	ck_assert_int_eq(wd_file_write_atomic(fc.ptr, text.ptr, text.len - 3, 0644), 0);
	m = build_cached(cache, &cached);
	ck_assert_int_eq(cached, 0);
	wd_map_files(m, &n);
	ck_assert_uint_eq(n, 9);
	wd_map_free(m);
	ck_assert_int_eq(wd_rm_rf(cache), 0);
	wd_buf_free(&fc);
	wd_buf_free(&text);
}
END_TEST

static char *render(wd_map *m, const char *const *focus)
{
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(wd_map_rank(m, focus), 0);
	ck_assert_int_eq(wd_map_render(&out, m, 0, 0), 0);
	return wd_buf_detach(&out);
}

START_TEST(vendored_generated_and_excluded_files_are_not_ranked)
{
	const char *exclude[] = { "tools/**", NULL };
	wd_map *m = build(exclude);
	char *text = render(m, NULL);
	wd_map_stats st;

	ck_assert_ptr_null(strstr(text, "deps/lib/lib.c:"));
	ck_assert_ptr_null(strstr(text, "third_party/z/z.c:"));
	ck_assert_ptr_null(strstr(text, "gen/parser.c:"));
	ck_assert_ptr_null(strstr(text, "tools/script.c:"));
	ck_assert_ptr_nonnull(strstr(text, "src/util.c:"));
	ck_assert(wd_map_is_vendored(m, "deps/lib/lib.c"));
	ck_assert(wd_map_is_vendored(m, "gen/parser.c"));
	ck_assert(wd_map_is_vendored(m, "tools/script.c"));
	ck_assert(!wd_map_is_vendored(m, "src/main.c"));
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.vendored, 4);
	/* still in the map for the tools */
	ck_assert(wd_map_has_definition(m, "lib_call"));
	free(text);
	wd_map_free(m);
}
END_TEST

START_TEST(control_without_the_rules_the_vendored_library_ranks_first)
{
	/* the same tree, its vendored directory renamed to an ordinary one: the
	 * library everything calls is the map's top file, which is what the
	 * exclusion prevents */
	wd_buf from = WD_BUF_INIT, to = WD_BUF_INIT;
	wd_map *m;
	char *text;

	wd_path_join(&from, tree, "deps");
	wd_path_join(&to, tree, "libs");
	ck_assert_int_eq(rename(from.ptr, to.ptr), 0);
	add_all();
	m = build(NULL);
	text = render(m, NULL);
	ck_assert_ptr_eq(strstr(text, "\n") + 1, strstr(text, "libs/lib/lib.c:"));
	free(text);
	wd_map_free(m);
	wd_buf_free(&from);
	wd_buf_free(&to);
}
END_TEST

START_TEST(explicit_focus_reaches_vendored_code)
{
	const char *by_path[] = { "deps/lib/lib.c", NULL };
	const char *by_dir[] = { "third_party/", NULL };
	const char *by_name[] = { "lib_other", NULL };
	wd_map *m = build(NULL);
	char *text;

	text = render(m, by_path);
	ck_assert_ptr_eq(strstr(text, "\n") + 1, strstr(text, "deps/lib/lib.c:"));
	free(text);
	text = render(m, by_dir);
	ck_assert_ptr_nonnull(strstr(text, "third_party/z/z.c:"));
	free(text);
	/* a name only vendored code defines */
	text = render(m, by_name);
	ck_assert_ptr_nonnull(strstr(text, "int lib_other(void)"));
	free(text);
	wd_map_free(m);
}
END_TEST

START_TEST(focus_file_lists_its_own_definitions_first)
{
	const char *focus[] = { "src/t_string.c", NULL };
	wd_map *m = build(NULL);
	char *text = render(m, focus);
	const char *other = strstr(text, "src/util.c:");
	json_t *j = NULL, *defs;

	/* the header, then the file, then its 40 definitions, before any other */
	ck_assert_ptr_eq(strstr(text, "\n") + 1, strstr(text, "src/t_string.c:"));
	ck_assert_ptr_nonnull(other);
	for (int i = 0; i < 40; i++) {
		char sig[64];

		snprintf(sig, sizeof(sig), "static int string_op_%02d(int v)", i);
		ck_assert_ptr_nonnull(strstr(text, sig));
		ck_assert(strstr(text, sig) < other);
	}
	/* JSON: the file first, every definition ranked above zero */
	ck_assert_int_eq(wd_map_to_json(&j, m, 0), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j, "files"),
	                                                                  0), "path")),
	                 "src/t_string.c");
	defs = json_object_get(json_array_get(json_object_get(j, "files"), 0), "definitions");
	ck_assert_uint_eq(json_array_size(defs), 40);
	for (size_t i = 0; i < json_array_size(defs); i++)
		ck_assert(json_real_value(json_object_get(json_array_get(defs, i), "rank")) > 0.5);
	json_decref(j);
	free(text);
	wd_map_free(m);
}
END_TEST

START_TEST(focus_that_matches_nothing_is_reported)
{
	const char *focus[] = { "util_runn", "src/nope.c", "util_run", "src/", NULL };
	wd_map *m = build(NULL);
	char *text = render(m, focus), *s;
	const char *const *um;
	size_t n = 0;
	json_t *j = NULL;

	um = wd_map_unmatched_focus(m, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(um[0], "util_runn");
	ck_assert_str_eq(um[1], "src/nope.c");
	ck_assert_int_eq(wd_map_to_json(&j, m, 0), 0);
	s = json_dumps(json_object_get(j, "unmatched_focus"), JSON_COMPACT);
	ck_assert_str_eq(s, "[\"util_runn\",\"src/nope.c\"]");
	free(s);
	json_decref(j);
	free(text);
	/* a new rank forgets the old focus */
	text = render(m, NULL);
	wd_map_unmatched_focus(m, &n);
	ck_assert_uint_eq(n, 0);
	free(text);
	wd_map_free(m);
}
END_TEST

static char *near_of(const wd_map *m, const char *focus)
{
	static char buf[256];
	wd_buf near = WD_BUF_INIT;

	ck_assert_int_eq(wd_map_focus_near(&near, m, focus), 0);
	snprintf(buf, sizeof(buf), "%s", near.len ? near.ptr : "(none)");
	wd_buf_free(&near);
	return buf;
}

START_TEST(focus_that_matches_nothing_names_the_nearest)
{
	const char *focus[] = { "util_runn", "src/utl.c", "t_strng.c", "thrid_party/", "lib_cal",
	                        "zzzzzzzzzz", "src/nope.c", NULL };
	wd_map *m;
	char *text, *s;
	json_t *j = NULL;

	/* another util.c, sorted first but deeper */
	put("app/deep/util.c", "int deep_util(void) { return 0; }\n");
	add_all();
	m = build(NULL);
	text = render(m, focus);

	/* a misspelt definition name, file path, base name and directory */
	ck_assert_str_eq(near_of(m, "util_runn"), "util_run");
	ck_assert_str_eq(near_of(m, "lib_cal"), "lib_call");
	ck_assert_str_eq(near_of(m, "src/utl.c"), "src/util.c");
	ck_assert_str_eq(near_of(m, "t_strng.c"), "src/t_string.c");
	ck_assert_str_eq(near_of(m, "thrid_party/"), "third_party");
	ck_assert_str_eq(near_of(m, "string_op_7"), "string_op_07");
	/* of two files as near, the shorter path */
	ck_assert_str_eq(near_of(m, "utl.c"), "src/util.c");
	/* nothing plausibly meant: no guess (nor for a name that is no typo of any) */
	ck_assert_str_eq(near_of(m, "zzzzzzzzzz"), "(none)");
	ck_assert_str_eq(near_of(m, "src/nope.c"), "(none)");
	ck_assert_str_eq(near_of(m, "frobnicate"), "(none)");
	/* --json: the unmatched entries that have a near one */
	ck_assert_int_eq(wd_map_to_json(&j, m, 0), 0);
	s = json_dumps(json_object_get(j, "focus_near"), JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"lib_cal\":\"lib_call\",\"src/utl.c\":\"src/util.c\","
	                    "\"t_strng.c\":\"src/t_string.c\",\"thrid_party/\":\"third_party\","
	                    "\"util_runn\":\"util_run\"}");
	free(s);
	json_decref(j);
	free(text);
	/* without an unmatched focus there is no focus_near at all */
	text = render(m, NULL);
	ck_assert_int_eq(wd_map_to_json(&j, m, 0), 0);
	ck_assert_ptr_null(json_object_get(j, "focus_near"));
	json_decref(j);
	free(text);
	wd_map_free(m);
}
END_TEST

START_TEST(cli_warns_about_a_focus_that_matches_nothing)
{
	const char *bin = getenv("WARDEN_BIN");
	wd_buf cmd = WD_BUF_INIT, err = WD_BUF_INIT, errpath = WD_BUF_INIT;
	int st;

	if (!bin)
		bin = "build/warden";
	wd_path_join(&errpath, tree, "stderr.txt");
	wd_buf_printf(&cmd, "'%s' map --no-cache --repo '%s' --focus util_runn --focus util_run "
	              "--focus qqqqqqqq "
	              ">/dev/null 2>'%s'", bin, tree, errpath.ptr);
	st = system(cmd.ptr);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_eq(wd_file_read(&err, errpath.ptr, 0), 0);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&err), "--focus 'util_runn' matches no file, "
	                             "directory or definition of the map; did you mean 'util_run'?\n"));
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&err), "--focus 'qqqqqqqq' matches no file, "
	                             "directory or definition of the map\n"));
	ck_assert_ptr_null(strstr(wd_buf_cstr(&err), "'util_run' matches"));
	wd_buf_free(&cmd);
	wd_buf_free(&err);
	wd_buf_free(&errpath);
}
END_TEST

START_TEST(cli_reads_map_exclude_from_the_repository_config)
{
	const char *bin = getenv("WARDEN_BIN");
	wd_buf cmd = WD_BUF_INIT, out = WD_BUF_INIT, outpath = WD_BUF_INIT;
	int st;

	if (!bin)
		bin = "build/warden";
	put(".warden/config", "[map]\n\texclude = src/util.c\n");
	wd_path_join(&outpath, tree, "stdout.txt");
	wd_buf_printf(&cmd, "WARDEN_CONFIG=/dev/null '%s' map --no-cache --repo '%s' --budget 0 "
	              ">'%s' 2>&1", bin, tree, outpath.ptr);
	st = system(cmd.ptr);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_eq(wd_file_read(&out, outpath.ptr, 0), 0);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&out), "src/main.c:"));
	ck_assert_ptr_null(strstr(wd_buf_cstr(&out), "src/util.c:"));
	ck_assert_ptr_null(strstr(wd_buf_cstr(&out), "deps/lib/lib.c:"));
	wd_buf_free(&cmd);
	wd_buf_free(&out);
	wd_buf_free(&outpath);
}
END_TEST

/* Run `cmd` through the shell with its output in tree/NAME; its exit status
 * (-1 when it did not exit), the output in *out. */
static int run_to(wd_buf *out, const char *name, const char *cmd)
{
	wd_buf full = WD_BUF_INIT, path = WD_BUF_INIT;
	int st;

	wd_path_join(&path, tree, name);
	ck_assert_int_eq(wd_buf_printf(&full, "%s >'%s' 2>&1", cmd, path.ptr), 0);
	st = system(full.ptr);
	wd_buf_clear(out);
	ck_assert_int_eq(wd_file_read(out, path.ptr, 0), 0);
	wd_buf_free(&full);
	wd_buf_free(&path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(cli_map_runs_warden_map_which_loads_no_libcurl)
{
	const char *bin = getenv("WARDEN_BIN");
	wd_buf cmd = WD_BUF_INIT, out = WD_BUF_INIT, dir = WD_BUF_INIT;
	char *slash;

	if (!bin)
		bin = "build/warden";
	/* the front end and warden-map alone, in a directory with no warden-core */
	ck_assert_int_eq(wd_buf_puts(&dir, bin), 0);
	slash = strrchr(dir.ptr, '/');
	ck_assert_ptr_nonnull(slash);
	wd_buf_truncate(&dir, (size_t)(slash - dir.ptr));
	ck_assert_int_eq(wd_buf_printf(&cmd, "mkdir -p '%s/bin' && cp '%s/warden' '%s/warden-map' "
	                               "'%s/bin/'", tree, dir.ptr, dir.ptr, tree), 0);
	ck_assert_int_eq(run_to(&out, "cp.txt", cmd.ptr), 0);
	wd_buf_clear(&cmd);
	ck_assert_int_eq(wd_buf_printf(&cmd, "env -u WARDEN_CORE '%s/bin/warden' map --no-cache "
	                               "--repo '%s' --budget 0", tree, tree), 0);
	ck_assert_int_eq(run_to(&out, "map.txt", cmd.ptr), 0);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&out), "src/main.c:"));
	/* control: any other command needs the core, which is not there */
	wd_buf_clear(&cmd);
	ck_assert_int_eq(wd_buf_printf(&cmd, "env -u WARDEN_CORE '%s/bin/warden' version", tree), 0);
	ck_assert_int_ne(run_to(&out, "version.txt", cmd.ptr), 0);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&out), "cannot run"));
	/* warden-map does not link libcurl; warden-core does */
	wd_buf_clear(&cmd);
	ck_assert_int_eq(wd_buf_printf(&cmd, "ldd '%s/bin/warden-map'", tree), 0);
	ck_assert_int_eq(run_to(&out, "ldd-map.txt", cmd.ptr), 0);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&out), "libgit2"));
	ck_assert_ptr_null(strstr(wd_buf_cstr(&out), "libcurl"));
	wd_buf_clear(&cmd);
	ck_assert_int_eq(wd_buf_printf(&cmd, "ldd '%s/warden-core'", dir.ptr), 0);
	ck_assert_int_eq(run_to(&out, "ldd-core.txt", cmd.ptr), 0);
	ck_assert_ptr_nonnull(strstr(wd_buf_cstr(&out), "libcurl"));
	wd_buf_free(&cmd);
	wd_buf_free(&out);
	wd_buf_free(&dir);
}
END_TEST

static const char *sig_of(const wd_map *m, const char *name)
{
	static char buf[256];
	wd_map_def *d = NULL;
	size_t n = 0;

	ck_assert_int_eq(wd_map_find_definitions(&d, &n, m, name), 0);
	ck_assert_uint_eq(n, 1);
	snprintf(buf, sizeof(buf), "%s", d[0].signature);
	free(d);
	return buf;
}

START_TEST(signatures_keep_escapes_and_preprocessor_lines)
{
	wd_map *m;
	wd_buf out = WD_BUF_INIT;

	put("src/sig.c", "#define NL() be_writebuffer(\"\\n\", 1)\n"
	                 "static void sep(void) { be_writebuffer(\"\\t|  x\", 5); }\n"
	                 "int open_file(const char *path,\n"
	                 "#ifdef _WIN32\n"
	                 "              int wide,\n"
	                 "#endif\n"
	                 "              int mode)\n"
	                 "{\n\treturn 0;\n}\n");
	add_all();
	m = build(NULL);
	ck_assert_str_eq(sig_of(m, "NL"), "#define NL() be_writebuffer(\"\\n\", 1)");
	ck_assert_str_eq(sig_of(m, "open_file"),
	                 "int open_file(const char *path,\n#ifdef _WIN32\nint wide,\n#endif\nint mode)");
	/* rendered with the preprocessor lines on lines of their own */
	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert_int_eq(wd_map_render(&out, m, 0, 0), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "  int open_file(const char *path,\n    #ifdef _WIN32\n"
	                                      "    int wide,\n    #endif\n    int mode)\n"));
	wd_buf_free(&out);
	wd_map_free(m);
}
END_TEST

START_TEST(signatures_survive_the_tag_cache)
{
	char cache[64];
	wd_map_opts o = WD_MAP_OPTS_INIT;
	wd_map *m = NULL;
	wd_map_stats st;

	strcpy(cache, "/tmp/wd-mapfc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(cache));
	put("src/sig.c", "int f(int a,\n#if X\nint b,\n#endif\nint c)\n{\n\treturn \"\\n\"[0];\n}\n");
	add_all();
	o.cache_dir = cache;
	ck_assert_int_eq(wd_map_build(&m, tree, &o), 0);
	wd_map_free(m);
	ck_assert_int_eq(wd_map_build(&m, tree, &o), 0);
	wd_map_get_stats(&st, m);
	ck_assert_uint_eq(st.parsed, 0);
	ck_assert_str_eq(sig_of(m, "f"), "int f(int a,\n#if X\nint b,\n#endif\nint c)");
	wd_map_free(m);
	wd_rm_rf(cache);
}
END_TEST

static Suite *map_focus_suite(void)
{
	Suite *s = suite_create("map_focus");
	TCase *tc = tcase_create("focus");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, vendored_generated_and_excluded_files_are_not_ranked);
	tcase_add_test(tc, the_await_hook_runs_once_before_libgit2_and_the_exclude_globs);
	tcase_add_test(tc, a_git_work_tree_s_files_come_from_the_cache_while_its_index_stays);
	tcase_add_test(tc, control_without_the_rules_the_vendored_library_ranks_first);
	tcase_add_test(tc, explicit_focus_reaches_vendored_code);
	tcase_add_test(tc, focus_file_lists_its_own_definitions_first);
	tcase_add_test(tc, focus_that_matches_nothing_is_reported);
	tcase_add_test(tc, focus_that_matches_nothing_names_the_nearest);
	tcase_add_test(tc, cli_warns_about_a_focus_that_matches_nothing);
	tcase_add_test(tc, cli_reads_map_exclude_from_the_repository_config);
	tcase_add_test(tc, cli_map_runs_warden_map_which_loads_no_libcurl);
	tcase_add_test(tc, signatures_keep_escapes_and_preprocessor_lines);
	tcase_add_test(tc, signatures_survive_the_tag_cache);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(map_focus_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
