/* The map's saved name index: a warm map reads it when no file changed,
 * updates it for a few changed, gone, new or renamed files, and gets exactly
 * the index (names in the same order, the same occurrences) and the same
 * rendering as a map built without a cache; a damaged or hostile saved index
 * is rebuilt, never trusted. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "fixture.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/map.h"

#include "../../src/context/map_int.h"

static char tree[64];
static char cache[64];

static void put(const char *rel, const char *text)
{
	ck_assert_int_eq(fx_put_file_new(tree, rel, text), 0);
}

static void rm(const char *rel)
{
	wd_buf p = WD_BUF_INIT;

	ck_assert_int_eq(wd_path_join(&p, tree, rel), 0);
	ck_assert_int_eq(unlink(p.ptr), 0);
	wd_buf_free(&p);
}

static void setup(void)
{
	git_libgit2_init();
	strcpy(tree, "/tmp/wd-mapi-XXXXXX");
	strcpy(cache, "/tmp/wd-mapic-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree));
	ck_assert_ptr_nonnull(mkdtemp(cache));
	put("a/first.c", "int shared(void) { return 0; }\nint alpha(void) { return shared() + beta(); }\n");
	put("b/second.c", "int beta(void) { return alpha() + shared(); }\nint shared;\n");
	put("c/third.c", "int gamma(void) { return beta() + beta() + alpha(); }\n");
	put("d/fourth.py", "def delta(x):\n    return gamma(x)\n\nclass Beta:\n    pass\n");
	put("README.md", "# demo\n");
}

static void teardown(void)
{
	wd_rm_rf(tree);
	wd_rm_rf(cache);
	git_libgit2_shutdown();
}

static wd_map *build(const char *cache_dir)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	wd_map *m = NULL;

	o.cache_dir = cache_dir;
	ck_assert_int_eq(wd_map_build(&m, tree, &o), 0);
	return m;
}

/* The same names in the same order, with the same occurrences. */
static void expect_same_index(const wd_map *a, const wd_map *b, const char *when)
{
	ck_assert_msg(a->names.n == b->names.n, "%s: %zu names, %zu built", when, a->names.n,
	              b->names.n);
	for (size_t id = 0; id < a->names.n; id++) {
		const struct nameinfo *x = &a->info[id], *y = &b->info[id];

		ck_assert_msg(!strcmp(a->names.strs[id], b->names.strs[id]), "%s: name %zu is %s, built %s",
		              when, id, a->names.strs[id], b->names.strs[id]);
		ck_assert_uint_eq(x->defs.n, y->defs.n);
		ck_assert_uint_eq(x->refs.n, y->refs.n);
		ck_assert_msg(!memcmp(x->defs.v, y->defs.v, x->defs.n * sizeof(struct occ)),
		              "%s: definitions of %s", when, a->names.strs[id]);
		ck_assert_msg(!memcmp(x->refs.v, y->refs.v, x->refs.n * sizeof(struct occ)),
		              "%s: references of %s", when, a->names.strs[id]);
		/* and each finds itself */
		ck_assert_ptr_eq(wd_map_name(a, a->names.strs[id]), x);
	}
	ck_assert_uint_eq(a->stats.definitions, b->stats.definitions);
	ck_assert_uint_eq(a->stats.references, b->stats.references);
}

static void render(wd_buf *out, wd_map *m)
{
	wd_buf_clear(out);
	ck_assert_int_eq(wd_map_rank(m, NULL), 0);
	ck_assert_int_eq(wd_map_render(out, m, 0, WD_MAP_RENDER_LINES), 0);
}

/* A map with the cache: its index came from `source`, and it is the index
 * and the rendering of a map built without one. */
/* A warm map equals a cold one, name by name and rendered; its index came
 * from `source` (-1: any). Returns where it came from. */
static int expect_warm(int source, const char *when)
{
	wd_map *warm = build(cache), *cold = build(NULL);
	wd_map_stats st;
	wd_buf a = WD_BUF_INIT, b = WD_BUF_INIT;

	wd_map_get_stats(&st, warm);
	ck_assert_msg(source < 0 || st.index_cache == source, "%s: index from %d, not %d",
	              when, st.index_cache, source);
	expect_same_index(warm, cold, when);
	render(&a, warm);
	render(&b, cold);
	ck_assert_str_eq(a.ptr, b.ptr);
	wd_map_free(warm);
	wd_map_free(cold);
	wd_buf_free(&a);
	wd_buf_free(&b);
	return st.index_cache;
}

START_TEST(a_warm_map_reads_the_saved_index)
{
	expect_warm(WD_MAP_INDEX_BUILT, "cold");
	expect_warm(WD_MAP_INDEX_READ, "warm");
	expect_warm(WD_MAP_INDEX_READ, "warm again");
	/* a file without tags changed: the index is still the same */
	put("README.md", "# demo, changed\n");
	expect_warm(WD_MAP_INDEX_READ, "README changed");
}
END_TEST

START_TEST(the_saved_index_follows_edits_deletions_and_renames)
{
	expect_warm(WD_MAP_INDEX_BUILT, "cold");
	/* a comment: the same names, the saved index patched (and written back) */
	put("b/second.c", "int beta(void) { return alpha() + shared(); }\nint shared;\n/* x */\n");
	expect_warm(WD_MAP_INDEX_PATCHED, "comment");
	expect_warm(WD_MAP_INDEX_READ, "after the patch");
	/* a name called once more, and lines moved: only counts change */
	put("b/second.c", "/* x */\n\nint beta(void) { return alpha() + shared() + alpha(); }\n"
	                  "int shared;\n");
	put("c/third.c", "int gamma(void) { return beta() + alpha(); }\n");
	expect_warm(WD_MAP_INDEX_PATCHED, "counts");
	expect_warm(WD_MAP_INDEX_READ, "after the counts");
	/* a name called that was not: an update */
	put("c/third.c", "int gamma(void) { return beta() + alpha() + shared(); }\n");
	expect_warm(WD_MAP_INDEX_UPDATED, "a new call");
	/* a name no longer called: an update */
	put("c/third.c", "int gamma(void) { return beta() + shared(); }\n");
	expect_warm(WD_MAP_INDEX_UPDATED, "a call gone");
	/* an earlier file now defines a name first defined later, and a later
	 * one's first definition goes: names change places */
	put("a/first.c", "int gamma;\nint shared(void) { return 0; }\nint alpha(void) { return 1; }\n");
	put("b/second.c", "int beta(void) { return alpha(); }\n");
	expect_warm(WD_MAP_INDEX_UPDATED, "names moved");
	/* a name's only definition gone, and back in another file */
	put("c/third.c", "int other(void) { return beta() + shared(); }\nint gamma(void) { return 2; }\n");
	expect_warm(WD_MAP_INDEX_BUILT, "a new name");
	put("c/third.c", "int other(void) { return beta(); }\n");
	expect_warm(WD_MAP_INDEX_UPDATED, "gamma only in first.c");
	/* a file gone */
	rm("d/fourth.py");
	expect_warm(WD_MAP_INDEX_UPDATED, "file gone");
	/* a file renamed: before every other, then after */
	put("0/first.c", "int gamma;\nint shared(void) { return 0; }\nint alpha(void) { return 1; }\n");
	rm("a/first.c");
	expect_warm(WD_MAP_INDEX_UPDATED, "renamed to the front");
	put("z/first.c", "int gamma;\nint shared(void) { return 0; }\nint alpha(void) { return 1; }\n");
	rm("0/first.c");
	expect_warm(WD_MAP_INDEX_UPDATED, "renamed to the back");
	/* every file gone but one without tags */
	rm("z/first.c");
	rm("b/second.c");
	rm("c/third.c");
	expect_warm(WD_MAP_INDEX_UPDATED, "no tags left");
	expect_warm(WD_MAP_INDEX_READ, "nothing");
}
END_TEST

static size_t rnd(unsigned *seed, size_t n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (size_t)((*seed >> 16) % n);
}

/* Random edits, deletions, new files and renames over a pool of names (some
 * defined nowhere yet, so both updates and rebuilds happen): every warm map
 * is the map built without a cache. */
START_TEST(random_edits_keep_the_saved_index_exact)
{
	static const char *const names[] = { "ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen",
	                                     "ibis", "jay", "kiwi", "lynx", "mole", "newt", "owl",
	                                     "pig", "quail", "rat", "seal", "tern" };
	const size_t nn = sizeof(names) / sizeof(names[0]);
	unsigned seed = 12345;
	int present[24] = { 0 };
	size_t updated = 0, built = 0, patched = 0;
	char rel[32], when[64];
	wd_buf text = WD_BUF_INIT, texts[24];

	for (int i = 0; i < 24; i++)
		texts[i] = (wd_buf)WD_BUF_INIT;

	for (int round = 0; round < 80; round++) {
		int ops = 1 + (int)rnd(&seed, 3);

		for (int op = 0; op < ops; op++) {
			int f = (int)rnd(&seed, 24);

			snprintf(rel, sizeof(rel), "d%d/f%02d.c", f % 4, f);
			if (present[f] && rnd(&seed, 4) == 0) {
				rm(rel);
				present[f] = 0;
				continue;
			}
			if (present[f] && rnd(&seed, 2) == 0) {
				/* the same names, new text: a patch */
				ck_assert_int_eq(wd_buf_printf(&texts[f], "/* %d */\n", round), 0);
				put(rel, texts[f].ptr);
				continue;
			}
			wd_buf_clear(&text);
			for (size_t d = 0, nd = rnd(&seed, 4); d < nd; d++) {
				const char *nm = names[rnd(&seed, round < 5 ? nn : nn - 2)];
				const char *r1 = names[rnd(&seed, nn)], *r2 = names[rnd(&seed, nn)];

				ck_assert_int_eq(wd_buf_printf(&text, "int %s(void)\n{\n\treturn %s() + %s();\n}\n",
				                               nm, r1, r2), 0);
			}
			if (rnd(&seed, 2))
				ck_assert_int_eq(wd_buf_printf(&text, "int %s;\n", names[rnd(&seed, nn)]), 0);
			ck_assert_int_eq(wd_buf_puts(&text, "\n"), 0);
			put(rel, text.ptr);
			wd_buf_clear(&texts[f]);
			ck_assert_int_eq(wd_buf_puts(&texts[f], text.ptr), 0);
			present[f] = 1;
		}
		{
			int from;

			snprintf(when, sizeof(when), "round %d", round);
			from = expect_warm(-1, when);
			updated += from == WD_MAP_INDEX_UPDATED;
			built += from == WD_MAP_INDEX_BUILT;
			patched += from == WD_MAP_INDEX_PATCHED;
		}
	}
	ck_assert_uint_gt(updated, 10);
	ck_assert_uint_gt(patched, 5);
	ck_assert_uint_gt(built, 1);
	wd_buf_free(&text);
	for (int i = 0; i < 24; i++)
		wd_buf_free(&texts[i]);
}
END_TEST

/* The saved index's file. */
static void index_file(wd_buf *out)
{
	wd_buf dir = WD_BUF_INIT;

	ck_assert_int_eq(wd_path_join(&dir, cache, "map"), 0);
	ck_assert_int_eq(fx_one_entry(out, dir.ptr, ".idx", 1), 0);
	wd_buf_free(&dir);
}

/* The saved index written as `bytes` (resealed: its checksum made right, so
 * that what follows the checksum is what is tried) is rebuilt, and the map is
 * whole. */
static void expect_refused(const wd_buf *file, const char *bytes, size_t len, int reseal,
                           const char *what)
{
	char *copy = malloc(len + 1);

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, bytes, len);
	if (reseal)
		wd_map__index_seal(copy, len);
	ck_assert_int_eq(wd_file_write_atomic(file->ptr, copy, len, 0644), 0);
	free(copy);
	{
		wd_map *m = build(cache), *cold = build(NULL);
		wd_map_stats st;

		wd_map_get_stats(&st, m);
		ck_assert_msg(st.index_cache == WD_MAP_INDEX_BUILT, "%s: taken (%d)", what, st.index_cache);
		expect_same_index(m, cold, what);
		wd_map_free(m);
		wd_map_free(cold);
	}
}

/* Where the sections of the saved index start (its header's counts). */
struct layout {
	uint64_t nfiles, nnames, ndefs, nrefs, strs_len;
	size_t files, names, defs, refs, strs;
};

static void layout_of(struct layout *l, const wd_buf *b)
{
	uint64_t h[8];

	ck_assert_uint_ge(b->len, sizeof(h));
	memcpy(h, b->ptr, sizeof(h));
	l->nfiles = h[1];
	l->nnames = h[2];
	l->ndefs = h[3];
	l->nrefs = h[4];
	l->strs_len = h[5];
	l->files = sizeof(h);
	l->names = l->files + l->nfiles * 32;
	l->defs = l->names + l->nnames * 16;
	l->refs = l->defs + l->ndefs * 8;
	l->strs = l->refs + l->nrefs * 8;
	ck_assert_uint_eq(l->strs + l->strs_len, b->len);
}

static void put_u32(wd_buf *b, size_t at, uint32_t v)
{
	memcpy(b->ptr + at, &v, sizeof(v));
}

static void put_u64(wd_buf *b, size_t at, uint64_t v)
{
	memcpy(b->ptr + at, &v, sizeof(v));
}

START_TEST(a_damaged_or_hostile_saved_index_is_rebuilt)
{
	wd_buf file = WD_BUF_INIT, good = WD_BUF_INIT, bad = WD_BUF_INIT;
	struct layout l;
	static const size_t cuts[] = { 0, 1, 8, 63, 64, 65 };

	expect_warm(WD_MAP_INDEX_BUILT, "cold");
	index_file(&file);
	ck_assert_int_eq(wd_file_read(&good, file.ptr, 0), 0);
	layout_of(&l, &good);
	ck_assert_uint_gt(l.nnames, 3);
	ck_assert_uint_gt(l.nrefs, 3);
	/* cut short anywhere */
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		expect_refused(&file, good.ptr, cuts[i], 0, "cut");
	expect_refused(&file, good.ptr, good.len / 2, 0, "cut in half");
	expect_refused(&file, good.ptr, good.len - 1, 1, "one byte short");
	/* a bit flipped in each section, the checksum left as it was */
	for (size_t at = 8; at < good.len; at += good.len / 7) {
		wd_buf_clear(&bad);
		ck_assert_int_eq(wd_buf_put(&bad, good.ptr, good.len), 0);
		bad.ptr[at] ^= 0x10;
		expect_refused(&file, bad.ptr, bad.len, 0, "a bit flipped");
	}
	/* hostile, with a right checksum: each out of bounds */
#define HOSTILE(what, edit)                                                  \
	do {                                                                 \
		wd_buf_clear(&bad);                                          \
		ck_assert_int_eq(wd_buf_put(&bad, good.ptr, good.len), 0);   \
		edit;                                                        \
		expect_refused(&file, bad.ptr, bad.len, 1, what);            \
	} while (0)
	HOSTILE("magic", bad.ptr[0] = 'x');
	HOSTILE("file count", put_u64(&bad, 8, l.nfiles + 1));
	HOSTILE("name count", put_u64(&bad, 16, l.nnames - 1));
	HOSTILE("huge counts", put_u64(&bad, 24, UINT64_MAX / 4));
	HOSTILE("strings not 8s", put_u64(&bad, 40, l.strs_len - 1));
	HOSTILE("a path past the strings", put_u32(&bad, l.files + 32, (uint32_t)l.strs_len));
	HOSTILE("a name past the strings", put_u32(&bad, l.names + 16, (uint32_t)l.strs_len + 8));
	HOSTILE("a name without definitions", put_u32(&bad, l.names + 8, 0));
	HOSTILE("slices longer than the occurrences", put_u32(&bad, l.names + 12, 1000));
	HOSTILE("a definition in no file", put_u32(&bad, l.defs, (uint32_t)l.nfiles));
	HOSTILE("a definition past its file's", put_u32(&bad, l.defs + 4, 1000));
	HOSTILE("a definition twice", memcpy(bad.ptr + l.defs + 8, bad.ptr + l.defs, 8));
	HOSTILE("a file's definitions miscounted", put_u32(&bad, l.files + 32 + 4, 3));
	HOSTILE("a reference in no file", put_u32(&bad, l.refs + 8, 0xffffffffu));
	HOSTILE("strings not ended", bad.ptr[bad.len - 1] = 'x');
#undef HOSTILE
	/* and the index saved again serves */
	expect_warm(WD_MAP_INDEX_READ, "after the damage");
	wd_buf_free(&file);
	wd_buf_free(&good);
	wd_buf_free(&bad);
}
END_TEST

/* Parse threads that populate their heaps first build the same map. */
START_TEST(parse_threads_with_populated_heaps_build_the_same_map)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	wd_map *m = NULL, *cold;
	wd_buf a = WD_BUF_INIT, b = WD_BUF_INIT;

	wd_map_free(build(cache));
	o.cache_dir = cache;
	o.threads = 2;
	o.thread_heap = 1 << 20;
	put("b/second.c", "int beta(void) { return alpha(); }\n/* y */\n");
	ck_assert_int_eq(wd_map_build(&m, tree, &o), 0);
	cold = build(NULL);
	expect_same_index(m, cold, "populated heaps");
	render(&a, m);
	render(&b, cold);
	ck_assert_str_eq(a.ptr, b.ptr);
	wd_map_free(m);
	wd_map_free(cold);
	wd_buf_free(&a);
	wd_buf_free(&b);
}
END_TEST

START_TEST(a_map_without_a_cache_saves_no_index)
{
	wd_map *m = build(NULL);
	wd_map_stats st;
	wd_buf dir = WD_BUF_INIT;

	wd_map_get_stats(&st, m);
	ck_assert_int_eq(st.index_cache, WD_MAP_INDEX_BUILT);
	wd_map_free(m);
	ck_assert_int_eq(wd_path_join(&dir, cache, "map"), 0);
	ck_assert(!wd_path_exists(dir.ptr));
	wd_buf_free(&dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("map_index");
	TCase *tc = tcase_create("map_index");
	SRunner *sr;
	int failures;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_warm_map_reads_the_saved_index);
	tcase_add_test(tc, the_saved_index_follows_edits_deletions_and_renames);
	tcase_add_test(tc, random_edits_keep_the_saved_index_exact);
	tcase_add_test(tc, a_damaged_or_hostile_saved_index_is_rebuilt);
	tcase_add_test(tc, parse_threads_with_populated_heaps_build_the_same_map);
	tcase_add_test(tc, a_map_without_a_cache_saves_no_index);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
