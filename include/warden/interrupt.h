#ifndef WARDEN_INTERRUPT_H
#define WARDEN_INTERRUPT_H

#include <sys/types.h>

/*
 * Clean interruption. `warden run` installs handlers for SIGINT and SIGTERM
 * that only record the signal and kill the process group of the check
 * being run (SIGKILL: a check gets no say in it), both async-signal-safe.
 * The run notices at its next step (the check's supervisor at once, the
 * model's HTTP transfer within a second), writes its final run.end with
 * status "interrupted", removes its work tree (unless --keep-worktree) and
 * exits 128+N. A second signal while it winds down is the default: it dies.
 */

/* Install the handlers (SIGINT, SIGTERM; without SA_RESTART). */
void wd_interrupt_install(void);
/* The signal that interrupted the run, or 0. */
int wd_interrupt_signal(void);
/* The process group of the running check (0: none); the handler kills it. */
void wd_interrupt_watch(pid_t pgid);
/* Raise the flag as the handler would (tests, and a budget of wall time). */
void wd_interrupt_raise(int sig);
/* Forget the flag (tests). */
void wd_interrupt_reset(void);

#endif
