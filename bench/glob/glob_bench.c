/*
 * Scope glob matching, the attack of issue 16: "**a" repeated N times then
 * "**b", against a 60-character path of 'a's that never matches. Times
 * wd_glob_match (the one linear matcher the patch engine now uses) and the
 * patch engine's former recursive matcher (kept in tests/fuzz as the fuzz
 * oracle; run.sh pulls it in as old_glob.h), with the project's timer.
 * Prints one line per N: N, new ms, old ms, ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/beneath.h"
#include "warden/fs.h"

#include "old_glob.h"

int main(int argc, char **argv)
{
	int max = argc > 1 ? atoi(argv[1]) : 7;
	char path[61];

	memset(path, 'a', 60);
	path[60] = '\0';
	printf("repeats  new_ms   old_ms     old/new\n");
	for (int n = 3; n <= max; n++) {
		char pat[256] = "";
		uint64_t t0, t1, t2;
		int reps = 1000, a = 0, b;

		for (int i = 0; i < n; i++)
			strcat(pat, "**a");
		strcat(pat, "**b");
		t0 = wd_now_ms();
		for (int i = 0; i < reps; i++)
			a |= wd_glob_match(pat, path);
		t1 = wd_now_ms();
		b = ref_glob_match(pat, path);
		t2 = wd_now_ms();
		if (a || b)
			return 1; /* neither may match */
		{
			double new_ms = (double)(t1 - t0) / reps, old_ms = (double)(t2 - t1);

			printf("%7d  %7.4f  %8.0f  %10.0fx\n", n, new_ms, old_ms,
			       old_ms / (new_ms > 0 ? new_ms : 1e-4));
		}
		fflush(stdout);
	}
	return 0;
}
