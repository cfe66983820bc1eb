#ifndef WARDEN_ERROR_H
#define WARDEN_ERROR_H

/*
 * Error discipline (after libgit2): functions that can fail return int,
 * 0 on success and one of the negative codes below on failure, and leave a
 * human-readable message in a per-thread slot read with wd_error_last().
 * Library code never prints and never exits; only the cli talks to the user.
 */

enum wd_error_code {
	WD_OK = 0,
	WD_ERROR = -1,     /* generic failure */
	WD_EUSAGE = -2,    /* bad flags or arguments */
	WD_EINPUT = -3,    /* malformed input: ticket, patch, config, reply */
	WD_EINFRA = -4,    /* git, filesystem, network, model service */
	WD_EREFUSED = -5,  /* policy refused it: scope, traversal, size */
	WD_ETIMEOUT = -6,  /* a deadline passed */
	WD_ENOMEM = -7,    /* allocation failed */
	WD_EBUDGET = -8,   /* a run budget (cost, tokens, calls, time) is exhausted */
	WD_ENOTFOUND = -9, /* a named thing does not exist */
	WD_EEXISTS = -10,  /* a thing that must be new already exists */
	WD_ECONFLICT = -11, /* merge conflict or moved target */
	WD_EINTEGRITY = -12, /* what would be proposed is not what was checked (tampering) */
	WD_EINTERRUPTED = -13 /* SIGINT/SIGTERM stopped it (warden/interrupt.h) */
};

/* Set the thread's error message (printf-style) and return `code`, so that
 * callers can write `return wd_error_set(WD_EINPUT, "...", ...);`. */
int wd_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current message with more context ("cloning x: <old>"); returns `code`. */
int wd_error_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record the last libgit2 error under `what`; returns `code` (usually WD_EINFRA). */
int wd_error_git(int code, const char *what);

/* Record strerror(errno) under `what`; returns `code`. */
int wd_error_errno(int code, const char *what);

/* The last message set on this thread, never NULL ("" when none). */
const char *wd_error_last(void);

/* The code passed with the last wd_error_set on this thread (WD_OK when none). */
int wd_error_last_code(void);

void wd_error_clear(void);

/* A short name for a code ("input", "infra", ...), for JSON output. */
const char *wd_error_name(int code);

#endif
