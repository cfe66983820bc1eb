#ifndef WARDEN_PROGRESS_H
#define WARDEN_PROGRESS_H

/*
 * Live progress of `warden run` on stderr. On a terminal: the stage, the
 * check being run (name and command), the elapsed time updating in place
 * and the last lines of its output; one line per finished stage stays.
 * Without a terminal: plain lines, no control characters. Colour only on a
 * terminal and never with NO_COLOR. Everything shown is redacted.
 */
#include <stddef.h>
#include <stdint.h>

#include "warden/run.h"

enum wd_progress_level { WD_PROGRESS_QUIET = 0, WD_PROGRESS_NORMAL, WD_PROGRESS_VERBOSE };

typedef struct wd_progress wd_progress;

/* Start (a ticker thread redraws the live line on a terminal). */
wd_progress *wd_progress_new(int level);
/* Point opts' progress, on_check and on_output callbacks at p. */
void wd_progress_attach(wd_progress *p, wd_run_opts *opts);
/* A permanent line ("warden: " + text), above the live lines. */
void wd_progress_line(wd_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The run's one summary line: status, rounds, tokens, cost, time. */
void wd_progress_summary(wd_progress *p, const wd_run_result *res, uint64_t ms);
/* Stop the ticker, clear the live lines, free. */
void wd_progress_free(wd_progress *p);

#endif
