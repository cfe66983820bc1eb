/*
 * wd_array_reserve: the one growable array. It must keep what it holds,
 * double from its minimum, and refuse (changing nothing) any size whose
 * multiplication would wrap, where a hand-written `cap * 2 * sizeof` would
 * have returned a short block. And wd_mem_prefault, which makes a range
 * resident without changing a byte of it.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/mem.h"

typedef struct pair {
	int a;
	long b;
} pair;

START_TEST(grows_from_empty_and_keeps_what_it_holds)
{
	pair *v = NULL;
	size_t cap = 0;

	for (size_t i = 0; i < 1000; i++) {
		ck_assert_int_eq(WD_ARRAY_RESERVE(v, cap, i + 1, 4), 0);
		ck_assert_uint_ge(cap, i + 1);
		v[i].a = (int)i;
		v[i].b = -(long)i;
	}
	for (size_t i = 0; i < 1000; i++) {
		ck_assert_int_eq(v[i].a, (int)i);
		ck_assert_int_eq(v[i].b, -(long)i);
	}
	ck_assert_uint_eq(cap, 1024);   /* 4, 8, ..., 1024: doubling from the minimum */
	free(v);
}
END_TEST

START_TEST(room_enough_changes_nothing)
{
	int *v = malloc(16 * sizeof(*v));
	int *was = v;
	size_t cap = 16;

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(WD_ARRAY_RESERVE(v, cap, 16, 4), 0);
	ck_assert_ptr_eq(v, was);
	ck_assert_uint_eq(cap, 16);
	free(v);
}
END_TEST

START_TEST(a_count_that_would_wrap_is_refused_and_nothing_changes)
{
	pair *v = NULL;
	size_t cap = 0;

	ck_assert_int_eq(WD_ARRAY_RESERVE(v, cap, 3, 4), 0);
	v[0].a = 7;
	/* need * sizeof(pair) wraps: a naive realloc(need * size) would get a
	 * tiny block and every later write would overrun it */
	ck_assert_int_eq(WD_ARRAY_RESERVE(v, cap, SIZE_MAX / sizeof(pair) + 2, 4), WD_ENOMEM);
	ck_assert_uint_eq(cap, 4);
	ck_assert_int_eq(v[0].a, 7);
	ck_assert_int_eq(WD_ARRAY_RESERVE(v, cap, SIZE_MAX, 4), WD_ENOMEM);
	ck_assert_uint_eq(cap, 4);
	free(v);
}
END_TEST

START_TEST(a_capacity_near_the_top_does_not_double_past_it)
{
	char *v = NULL;
	size_t cap = SIZE_MAX / 2 + 1;   /* as if that much were held */

	/* doubling would wrap to 0; the request is refused before any
	 * allocation is tried, never turned into a smaller block */
	ck_assert_int_eq(wd_array_reserve(&v, &cap, SIZE_MAX, 1, 4), WD_ENOMEM);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(cap, SIZE_MAX / 2 + 1);
}
END_TEST

START_TEST(strvec_grows_through_it)
{
	wd_strvec sv = { 0 };

	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(wd_strvec_push(&sv, "x"), 0);
	ck_assert_uint_eq(sv.n, 100);
	ck_assert_ptr_null(sv.v[100]);
	wd_strvec_free(&sv);
}
END_TEST

/* How many of the n pages at p are resident. */
static size_t resident(const char *p, size_t pages)
{
	unsigned char v[2048];
	size_t n = 0;

	ck_assert_uint_le(pages, sizeof(v));
	ck_assert_int_eq(mincore((void *)p, pages * 4096, v), 0);
	for (size_t i = 0; i < pages; i++)
		n += v[i] & 1;
	return n;
}

/* wd_mem_prefault makes a range resident and changes none of its bytes;
 * the pages around it stay as they were. */
START_TEST(prefault_makes_the_range_resident_and_keeps_its_bytes)
{
	size_t len = (size_t)6 << 20, pages = len / 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_uint_eq(resident(p, pages), 0);
	/* some bytes written first, at the start (its page is then resident) */
	memset(p + 100, 'x', 50);
	ck_assert_uint_eq(resident(p, pages), 1);
	/* nothing to do: an empty range, or one inside a page */
	wd_mem_prefault(p + 8192, 0);
	wd_mem_prefault(p + 8192 + 10, 100);
	ck_assert_uint_eq(resident(p, pages), 1);
	/* pages 1 .. 1023 (the range ends inside page 1024), unaligned at both ends */
	wd_mem_prefault(p + 4096 + 1, (size_t)4 << 20);
	ck_assert_uint_eq(resident(p, pages), 1 + 1023);
	{
		size_t wrong = 0;

		for (size_t i = 0; i < len; i++)
			wrong += p[i] != (i >= 100 && i < 150 ? 'x' : 0);
		ck_assert_uint_eq(wrong, 0);
	}
	ck_assert_int_eq(munmap(p, len), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("array");
	TCase *tc = tcase_create("reserve");

	tcase_add_test(tc, grows_from_empty_and_keeps_what_it_holds);
	tcase_add_test(tc, room_enough_changes_nothing);
	tcase_add_test(tc, a_count_that_would_wrap_is_refused_and_nothing_changes);
	tcase_add_test(tc, a_capacity_near_the_top_does_not_double_past_it);
	tcase_add_test(tc, strvec_grows_through_it);
	suite_add_tcase(s, tc);
	tc = tcase_create("prefault");
	tcase_add_test(tc, prefault_makes_the_range_resident_and_keeps_its_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
