#include <stdlib.h>
#include <string.h>

#include "stats.h"

double stats_mean(const int *v, size_t n)
{
	long long sum = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return (double)sum / (double)n;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

double stats_median(const int *v, size_t n)
{
	int *s;
	double m;

	if (n == 0)
		return 0;
	s = malloc(n * sizeof(*s));
	if (!s)
		return 0;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_int);
	m = s[n / 2];
	free(s);
	return m;
}

int stats_range(const int *v, size_t n, int *min, int *max)
{
	if (n == 0)
		return -1;
	*min = *max = v[0];
	for (size_t i = 1; i < n; i++) {
		if (v[i] < *min)
			*min = v[i];
		if (v[i] > *max)
			*max = v[i];
	}
	return 0;
}
