#include <ctype.h>
#include <string.h>

#include "warden/error.h"
#include "warden/text.h"

#include "run_internal.h"

#define SUMMARY_MAX 600

/* The model's prose before its first fenced block or diff header: what it
 * says it changed. Trimmed to a few hundred bytes; may be empty. */
void wd_run_model_summary(wd_buf *out, const char *reply)
{
	const char *end = reply + strlen(reply);
	const char *p;

	wd_buf_clear(out);
	for (p = reply; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : end) {
		if (!strncmp(p, "```", 3) || !strncmp(p, "--- ", 4) || !strncmp(p, "diff --git", 10) ||
		    !strncmp(p, "<<<<<<<", 7)) {
			end = p;
			break;
		}
	}
	while (reply < end && isspace((unsigned char)*reply))
		reply++;
	if ((size_t)(end - reply) > SUMMARY_MAX)
		end = reply + SUMMARY_MAX;
	/* line by line: no control characters, and no line shaped like a trailer
	 * ("Warden-Checks: security-audit=pass", "Signed-off-by: ...") posing
	 * as warden's own above the real ones */
	for (p = reply; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p), start = out->len;

		/* judged as cleaned: "Si\036gned-off-by:" is a trailer once the
		 * control character is gone */
		if (wd_text_clean(out, p, len, 0) == 0) {
			if (out->len > start &&
			    wd_text_is_trailer_line(out->ptr + start, out->len - start)) {
				wd_buf_truncate(out, start);
			} else {
				wd_buf_putc(out, '\n');
			}
		}
		p += len + (nl ? 1 : 0);
	}
	wd_buf_rtrim(out);
}

int wd_run_commit_message(wd_buf *out, const wd_ticket *t, const char *summary,
                          const char *run_id, const char *model, const char *checks)
{
	size_t title_len = strcspn(t->title, "\n");

	wd_buf_clear(out);
	if (title_len > 72)
		title_len = 72;
	if (wd_buf_put(out, t->title, title_len) || wd_buf_puts(out, "\n\n"))
		return WD_ENOMEM;
	if (summary && *summary && wd_buf_printf(out, "%s\n\n", summary))
		return WD_ENOMEM;
	if (wd_buf_printf(out, "Warden-Run: %s\nWarden-Model: %s\n", run_id, model))
		return WD_ENOMEM;
	if (checks && *checks && wd_buf_printf(out, "Warden-Checks: %s\n", checks))
		return WD_ENOMEM;
	return 0;
}
