#ifndef WARDEN_CLI_H
#define WARDEN_CLI_H

#include <stdio.h>

/*
 * Subcommands, one file each in src/cli/ (after git's builtin/). Each returns
 * the process exit code. Only the cli prints or exits.
 *
 * Exit codes shared by every subcommand:
 *   0 success (run: proposed)
 *   1 the job ran and said no (run: no passing patch; apply: refused)
 *   2 usage or input error (bad flags, malformed ticket/patch/config)
 *   3 infrastructure error (git, filesystem, network, model service)
 *   4 a budget cap stopped the run (cost, tokens, calls, time)
 *   5 escalated: a person must decide (run; the JSON result has "question")
 */
enum {
	WD_EXIT_OK = 0,
	WD_EXIT_NO = 1,
	WD_EXIT_USAGE = 2,
	WD_EXIT_INFRA = 3,
	WD_EXIT_BUDGET = 4,
	WD_EXIT_ESCALATED = 5  /* a person must decide: the run's question says what */
};

int cmd_run(int argc, char **argv);
int cmd_scan(int argc, char **argv);

/* `warden run --dry-run` without --json: the report (wd_run_result.dry_run) as text. */
struct json_t;
void wd_cli_print_dry_run(FILE *f, const struct json_t *report);
int cmd_sandbox(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_eval(int argc, char **argv);

/* Map a library error code to the exit code above. */
int wd_exit_code_for(int err);

/* 1 when a person can be asked: stdin and stderr are terminals. */
int wd_cli_interactive(void);

/* Ask `question` on the terminal ("[y/N]" is added): 1 yes, 0 no, -1 when
 * there is no terminal to ask (stdin or stderr is not a TTY). */
int wd_cli_confirm(const char *question);

/* Print "warden: <msg>" to stderr. */
void wd_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
