/*
 * Live progress of `warden run` on stderr: plain lines without a terminal
 * (no control characters), --quiet and --verbose, and on a terminal (a
 * pty) the check's line updating in place, coloured unless NO_COLOR is set.
 * A run ends with one summary line.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"
#include "fixture.h"

static void world(struct e2e_world *w, const char *const *files)
{
	e2e_world_init(w, files, NULL);
	e2e_write_replay(w, "Set it to 43.\n```diff\n" E2E_DIFF_TO(43) "```\n",
	                 "Oops, 42.\n```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
}

START_TEST(without_a_terminal_plain_lines_and_a_summary)
{
	struct e2e_world w;
	char spec[600];

	world(&w, NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w.replay);
	e2e_run(&w, NULL, "--model", spec, (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_ptr_null(strchr(w.output, '\033'));
	ck_assert_ptr_null(strchr(w.output, '\r'));
	ck_assert_ptr_nonnull(strstr(w.output, "warden: check test: sh test.sh"));
	ck_assert_ptr_nonnull(strstr(w.output, "warden: baseline"));
	ck_assert_ptr_nonnull(strstr(w.output, "warden: proposed: 2 rounds, 200 in / 40 out tokens, $0.0000,"));
	/* --verbose: the checks' output as it comes */
	e2e_run(&w, NULL, "--model", spec, "--verbose", (char *)NULL);
	ck_assert_int_eq(w.status, 0);
	ck_assert_ptr_nonnull(strstr(w.output, "  | FAIL answer: expected 42, got answer = 43"));
	ck_assert_ptr_null(strchr(w.output, '\033'));
	/* --quiet: nothing but the JSON */
	e2e_run(&w, NULL, "--model", spec, "--quiet", (char *)NULL);
	ck_assert_int_eq(w.status, 0);
	ck_assert_ptr_null(strstr(w.output, "warden:"));
	e2e_world_free(&w);
}
END_TEST

/* Run warden with stderr (and stdout) on a pty; everything it wrote. */
static char *on_a_terminal(struct e2e_world *w, const char *no_color)
{
	char spec[600];
	int master;
	pid_t pid;
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	int st;

	ck_assert_ptr_nonnull(buf);
	snprintf(spec, sizeof(spec), "replay:%s", w->replay);
	pid = forkpty(&master, NULL, NULL, NULL);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (no_color)
			setenv("NO_COLOR", no_color, 1);
		else
			unsetenv("NO_COLOR");
		setenv("TERM", "xterm", 1);
		execl(e2e_warden_bin(), e2e_warden_bin(), "run", "--repo", w->src, "--ticket", w->ticket,
		      "--work-dir", w->cache, "--model", spec, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		struct pollfd pf = { master, POLLIN, 0 };
		ssize_t n;

		if (poll(&pf, 1, 60000) <= 0)
			break;
		if (len + 4096 > cap) {
			char *more = realloc(buf, cap * 2);

			ck_assert_ptr_nonnull(more);
			buf = more;
			cap *= 2;
		}
		n = read(master, buf + len, 4096);
		if (n <= 0)
			break;  /* EIO once the child has gone */
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(master);
	waitpid(pid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d:\n%s", st, buf);
	return buf;
}

/* The check sleeps long enough for the ticker to redraw its line. */
static const char *const slow_files[] = {
	"value.txt", "answer = 41\n",
	"other.txt", "do not touch\n",
	"test.sh",
	"#!/bin/sh\necho building; sleep 1\n"
	"if grep -q '^answer = 42$' value.txt; then echo 'ok answer'; exit 0; fi\n"
	"echo \"FAIL answer: expected 42, got $(cat value.txt)\"\nexit 1\n",
	NULL
};

START_TEST(on_a_terminal_the_check_updates_in_place_in_colour)
{
	struct e2e_world w;
	char *out;

	world(&w, slow_files);
	out = on_a_terminal(&w, NULL);
	/* the live line: erased and redrawn, the check and its elapsed time */
	ck_assert_ptr_nonnull(strstr(out, "\r\033[2K"));
	ck_assert_ptr_nonnull(strstr(out, "test: sh test.sh"));
	ck_assert_ptr_nonnull(strstr(out, "| building"));
	ck_assert_ptr_nonnull(strstr(out, "\033[1m"));      /* colour */
	ck_assert_ptr_nonnull(strstr(out, "proposed"));
	free(out);
	/* NO_COLOR: still in place, no colour */
	out = on_a_terminal(&w, "1");
	ck_assert_ptr_nonnull(strstr(out, "\r\033[2K"));
	ck_assert_ptr_null(strstr(out, "\033[1m"));
	ck_assert_ptr_null(strstr(out, "\033[32m"));
	ck_assert_ptr_null(strstr(out, "\033[36m"));
	free(out);
	e2e_world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("progress");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, without_a_terminal_plain_lines_and_a_summary);
	tcase_add_test(tc, on_a_terminal_the_check_updates_in_place_in_colour);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
