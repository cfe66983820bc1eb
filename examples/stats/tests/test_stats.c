#include <math.h>
#include <stdio.h>

#include "stats.h"

static int passed, failed;

static void check(const char *name, double got, double want)
{
	if (fabs(got - want) < 1e-9) {
		passed++;
		printf("ok   %s\n", name);
	} else {
		failed++;
		printf("FAIL %s: got %g, want %g\n", name, got, want);
	}
}

int main(void)
{
	int odd[] = { 7, 1, 3 };
	int even[] = { 4, 1, 3, 2 };
	int pair[] = { 10, 11 };
	int mn = 0, mx = 0;

	check("mean", stats_mean(odd, 3), 11.0 / 3.0);
	check("mean_empty", stats_mean(odd, 0), 0);
	check("median_odd", stats_median(odd, 3), 3);
	check("median_even", stats_median(even, 4), 2.5);
	check("median_pair", stats_median(pair, 2), 10.5);
	check("median_empty", stats_median(odd, 0), 0);
	check("range_rc", stats_range(even, 4, &mn, &mx), 0);
	check("range_min", mn, 1);
	check("range_max", mx, 4);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
