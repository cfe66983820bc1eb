#ifndef WARDEN_CHECK_H
#define WARDEN_CHECK_H

/*
 * A check: one command the gate runs (test, build or analyze), and the list
 * of a run's checks, from flags, a ticket or [check "NAME"] sections.
 *
 * Owns the definitions and their hash (the baseline cache key). Never runs
 * anything (gate.h does) and never reads a check's output (test_report.h,
 * findings.h).
 */
#include <stddef.h>

struct wd_config;

typedef enum wd_check_kind {
	WD_CHECK_TEST = 0,
	WD_CHECK_BUILD,
	WD_CHECK_ANALYZE
} wd_check_kind;

typedef struct wd_check {
	char *name;            /* "test", or the [check "NAME"] name */
	wd_check_kind kind;
	char *command;         /* run with /bin/sh -c in the work tree */
	unsigned timeout_sec;  /* 0 = the gate's default */
	char *results_file;    /* optional: JUnit XML / TAP / SARIF file(s) the command
	                        * writes, relative to the work tree, glob patterns
	                        * allowed ("build/test-results/TEST-*.xml"); NULL = output */
} wd_check;

typedef struct wd_checklist {
	wd_check *v;
	size_t n;
	size_t cap;
} wd_checklist;

#define WD_CHECKLIST_INIT { NULL, 0, 0 }

/* Add a check; `spec` is "command" or "kind: command" (kind = test|build|analyze;
 * a bare command is a test). The name is the kind, suffixed "-2", "-3"… when
 * taken. Duplicate commands are ignored. WD_EINPUT for an empty command. */
int wd_checklist_add_spec(wd_checklist *l, const char *spec, unsigned timeout_sec);
/* Add a check by its parts. WD_EEXISTS when the name is taken; a duplicate
 * command is ignored (returns 0). */
int wd_checklist_add(wd_checklist *l, const char *name, wd_check_kind kind,
                     const char *command, unsigned timeout_sec);
/* Add every [check "NAME"] of the configuration, in name order:
 *   command = …        (required)
 *   kind = test|build|analyze   (default test)
 *   timeout = N        (seconds, 1..86400)
 *   results = PATH     (optional results file or glob, relative, no "..")
 * WD_EINPUT naming the check and key when a value is invalid (the checks
 * before it stay added). */
int wd_checklist_from_config(wd_checklist *l, const struct wd_config *cfg);
/* The check named `name`, or NULL. */
const wd_check *wd_checklist_find(const wd_checklist *l, const char *name);
void wd_checklist_free(wd_checklist *l);
const char *wd_check_kind_name(wd_check_kind k);
/* "test"/"build"/"analyze" (also "tests", "lint") to a kind; WD_EINPUT otherwise. */
int wd_check_kind_parse(wd_check_kind *out, const char *s);
/* Hash of everything that defines a check (name, kind, command, timeout,
 * results file): the baseline cache key. out is 41 bytes. */
int wd_check_def_hash(char out[41], const wd_check *c);

#endif
