/*
 * In-process cost of one wd_sandbox_run("true") with every layer on: what
 * the gate pays per check, without warden's own start-up (loading libgit2,
 * libcurl and friends). Prints the median, min and max over N runs in ms.
 *
 *   cc -D_GNU_SOURCE -Iinclude -o inproc bench/sandbox/inproc.c BUILD/libwarden.a $(pkg-config --libs ...)
 *   ./inproc [N] [strict|best-effort|off]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "warden/error.h"
#include "warden/sandbox.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const char *const cmd[] = { "true", NULL };
	int n = argc > 1 ? atoi(argv[1]) : 200;
	const char *policy = argc > 2 ? argv[2] : "strict";
	double *t;

	if (n < 1)
		n = 1;
	t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 1;
	for (int i = 0; i < n; i++) {
		wd_sandbox_opts o = WD_SANDBOX_OPTS_INIT;
		wd_sandbox_result r;
		double t0 = now_ms();

		o.argv = cmd;
		o.net = WD_NET_LOOPBACK;
		o.policy = !strcmp(policy, "off") ? WD_POLICY_OFF :
		           !strcmp(policy, "best-effort") ? WD_POLICY_BEST_EFFORT : WD_POLICY_STRICT;
		if (wd_sandbox_run(&r, &o) != 0 || r.exit_code != 0) {
			fprintf(stderr, "run failed: %s\n", wd_error_last());
			return 1;
		}
		t[i] = now_ms() - t0;
		wd_sandbox_result_free(&r);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("wd_sandbox_run(true) policy=%s runs=%d median=%.2f ms min=%.2f ms max=%.2f ms\n",
	       policy, n, t[n / 2], t[0], t[n - 1]);
	free(t);
	return 0;
}
