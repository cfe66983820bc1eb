#ifndef STATS_H
#define STATS_H

#include <stddef.h>

/* Arithmetic mean of n values; 0 for an empty sample. */
double stats_mean(const int *v, size_t n);

/* Median of n values (the input is not modified); 0 for an empty sample. */
double stats_median(const int *v, size_t n);

/* Smallest and largest value; returns -1 for an empty sample, 0 otherwise. */
int stats_range(const int *v, size_t n, int *min, int *max);

#endif
