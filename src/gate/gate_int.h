#ifndef WARDEN_GATE_INT_H
#define WARDEN_GATE_INT_H

/* Helpers shared by the gate's parsers; not part of the public interface.
 * All of them work on (pointer, length) slices: check output may hold NUL
 * bytes and is never trusted to be terminated or well formed. */

#include <stddef.h>

#include "warden/buf.h"

typedef struct wd_slice {
	const char *p;
	size_t n;
} wd_slice;

/* Next line of [*pos, end): sets *line (without "\n" or "\r\n"), advances *pos.
 * Returns 0 at the end. */
int wd_gate_next_line(wd_slice *line, const char **pos, const char *end);

/* Copy of text with ANSI escape sequences (colours) removed. */
int wd_gate_strip_ansi(wd_buf *out, const char *text, size_t len);

/* Copy of text that is valid UTF-8 without NUL bytes (others become '?'),
 * for JSON. */
int wd_gate_utf8_clean(wd_buf *out, const char *text, size_t len);


int wd_slice_starts(wd_slice s, const char *prefix);
int wd_slice_eq(wd_slice s, const char *str);
/* Position of `needle` in s, or -1. */
long wd_slice_find(wd_slice s, const char *needle);
/* Same, ignoring ASCII case. */
long wd_slice_find_ci(wd_slice s, const char *needle);
wd_slice wd_slice_trim(wd_slice s);
/* Parse a decimal at s->p (advancing); 0 when there is none. Saturates. */
int wd_slice_uint(wd_slice *s, size_t *out);

/* Bounded copies for names and messages taken from untrusted output. */
#define WD_NAME_MAX 512
#define WD_DETAIL_MAX 512
#define WD_MAX_CASES 50000
#define WD_MAX_FINDINGS 50000

struct json_t;

/* check_json.c: a JSON string of text that may not be UTF-8 (cleaned as
 * wd_gate_utf8_clean does); wd_gate_json_str(NULL) is JSON null. */
struct json_t *wd_gate_json_strn(const char *s, size_t len);
struct json_t *wd_gate_json_str(const char *s);

struct wd_check_result;
struct wd_checklist;
struct wd_verdict;
struct wd_check;
struct wd_gate_opts;

/* gate.c: run one check (result zeroed first); parse a finished check's
 * output and the results files in `written` (the directory it wrote; may be
 * NULL), normalising finding paths against `workdir` (the path it ran at). */
int wd_gate_run_one(struct wd_check_result *cr, const char *workdir, const struct wd_check *c,
                    const struct wd_gate_opts *opts, int baseline);
int wd_gate_parse_output(struct wd_check_result *cr, const char *written, const char *workdir);
int wd_gate_trailer_item(wd_buf *out, const struct wd_check_result *cr, int pass);
/* checklist.c: add with every field. */
int wd_checklist_add_full(struct wd_checklist *l, const char *name, int kind,
                          const char *command, unsigned timeout_sec, const char *results_file);

/* summary.c: the relevant lines of a log within `budget` bytes; cut a
 * summary to max_bytes; one failing check's section. */
int wd_gate_excerpt(wd_buf *out, const char *text, size_t len, const wd_strvec *names,
                    size_t budget);
int wd_gate_bound(wd_buf *out, size_t max_bytes);
int wd_gate_check_header(wd_buf *out, const struct wd_check_result *cr);
int wd_gate_check_section(wd_buf *out, const struct wd_check_result *cr,
                          const struct wd_check_result *base, const struct wd_verdict *v,
                          size_t budget);

#endif
