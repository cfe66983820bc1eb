/*
 * The model's grep tool against what a person would run instead (GNU grep
 * over the same files), side by side on one work tree: each round runs the
 * tool's grep (a child process per call, killed at its time limit) and then
 * `grep -rEn PATTERN` over the tree, and prints both wall times.
 *
 *   bench/tools/grep_bench TREE ROUNDS PATTERN...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "warden/buf.h"
#include "warden/fs.h"
#include "warden/tools.h"

static double tool_ms(const char *tree, const char *pattern, size_t *bytes)
{
	wd_tools_opts o = WD_TOOLS_OPTS_INIT;
	wd_tools *t = NULL;
	wd_buf out = WD_BUF_INIT, args = WD_BUF_INIT;
	json_t *a = json_pack("{s:s, s:i}", "pattern", pattern, "max_results", 200);
	uint64_t t0;

	o.max_result_bytes = 1u << 20;
	if (!a || wd_tools_new(&t, tree, &o) != 0) {
		fprintf(stderr, "cannot open %s\n", tree);
		exit(1);
	}
	t0 = wd_now_ms();
	if (wd_tools_run(&out, t, "grep", a) != 0) {
		fprintf(stderr, "grep failed: %s\n", out.ptr ? out.ptr : "");
		exit(1);
	}
	t0 = wd_now_ms() - t0;
	*bytes = out.len;
	json_decref(a);
	wd_buf_free(&out);
	wd_buf_free(&args);
	wd_tools_free(t);
	return (double)t0;
}

static double grep_ms(const char *tree, const char *pattern)
{
	uint64_t t0 = wd_now_ms();
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execlp("grep", "grep", "-rEn", "-m", "200", "--exclude-dir=.git", "--", pattern, tree,
		       (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return (double)(wd_now_ms() - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds;

	if (argc < 4) {
		fprintf(stderr, "usage: %s TREE ROUNDS PATTERN...\n", argv[0]);
		return 2;
	}
	rounds = atoi(argv[2]);
	if (rounds < 1 || rounds > 100)
		rounds = 5;
	git_libgit2_init();
	if (!freopen("/dev/null", "w", stdout))
		return 1;
	for (int p = 3; p < argc; p++) {
		double tool[100], gnu[100];
		size_t bytes = 0;

		for (int i = 0; i < rounds; i++) {
			tool[i] = tool_ms(argv[1], argv[p], &bytes);
			gnu[i] = grep_ms(argv[1], argv[p]);
		}
		qsort(tool, (size_t)rounds, sizeof(double), cmp);
		qsort(gnu, (size_t)rounds, sizeof(double), cmp);
		fprintf(stderr, "%-28s tool %7.1f ms  grep -rE %7.1f ms  ratio %.2f  (%zu bytes of result)\n",
		        argv[p], tool[rounds / 2], gnu[rounds / 2], tool[rounds / 2] / gnu[rounds / 2],
		        bytes);
	}
	git_libgit2_shutdown();
	return 0;
}
