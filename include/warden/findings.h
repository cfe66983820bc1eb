#ifndef WARDEN_FINDINGS_H
#define WARDEN_FINDINGS_H

/*
 * Analyzer findings: SARIF 2.1 and compiler/linter lines (gcc, clang,
 * clang-tidy, cppcheck) read into one list.
 *
 * Owns the parsers and the list. The text is untrusted (bounded, fuzzed).
 * Never decides whether a finding blocks (verdict.h does).
 */
#include <stddef.h>

typedef struct wd_finding {
	char *file;            /* relative to the work tree when it was under it */
	unsigned line, col;    /* 1-based; 0 = unknown */
	char *severity;        /* "error", "warning", "style", "note"… */
	char *rule;            /* "-Wunused-variable", "nullPointer", "bugprone-…", or NULL */
	char *message;
	char *tool;            /* SARIF's driver name, or NULL */
	char *check;           /* the check that reported it (set by the gate), or NULL */
} wd_finding;

typedef struct wd_findings {
	wd_finding *v;
	size_t n, cap;
} wd_findings;

#define WD_FINDINGS_INIT { NULL, 0, 0 }

/* Parse analyzer output: SARIF 2.1 JSON when the text is a JSON object,
 * otherwise gcc/clang/clang-tidy/cppcheck lines ("file:line[:col]: severity:
 * message [rule]", cppcheck's "[file:line]: (severity) message"). Notes,
 * cppcheck's "information" lines and lines that are not findings are
 * skipped. Appends to `out`. */
int wd_findings_parse(wd_findings *out, const char *text, size_t len);
/* SARIF 2.1 only; WD_EINPUT when it is not SARIF. */
int wd_findings_parse_sarif(wd_findings *out, const char *text, size_t len);
/* Make paths relative to `workdir` (absolute ones under it, "./" prefixes). */
int wd_findings_normalize(wd_findings *f, const char *workdir);
int wd_findings_push(wd_findings *f, const char *file, unsigned line, unsigned col,
                     const char *severity, const char *rule, const char *message,
                     const char *tool);
void wd_findings_free(wd_findings *f);

#endif
