/*
 * The model's way to hand the ticket back to a person: a line
 *
 *     ESCALATE: <the question, in plain words>
 *
 * (the system prompt defines it) in a reply that carries no edit. The reply
 * is untrusted: the question is bounded, control characters are dropped, and
 * a reply that also carries a diff is taken as an edit, not a question.
 */
#include <string.h>

#include "warden/error.h"

#include "run_internal.h"

#define QUESTION_MAX 2000

/* Whether the reply carries something that reads as an edit. */
static int has_edit(const char *s)
{
	for (const char *p = s; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, "```diff", 7) || !strncmp(p, "--- a/", 6) || !strncmp(p, "+++ b/", 6) ||
		    !strncmp(p, "diff --git", 10) || !strncmp(p, "<<<<<<< SEARCH", 14))
			return 1;
	}
	return 0;
}

int wd_run_reply_escalation(wd_buf *question, const char *reply)
{
	const char *p, *tag = "ESCALATE:";
	size_t tl = strlen(tag);

	wd_buf_clear(question);
	if (!reply || has_edit(reply))
		return 0;
	for (p = reply; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *s = p;

		while (*s == ' ' || *s == '\t' || *s == '*' || *s == '>')
			s++; /* "**ESCALATE:**", "> ESCALATE:" */
		if (strncmp(s, tag, tl) != 0)
			continue;
		s += tl;
		while (*s == '*' || *s == ' ' || *s == '\t')
			s++;
		/* the question runs to the end of the reply, bounded, one paragraph per line */
		for (; *s && question->len < QUESTION_MAX; s++) {
			unsigned char c = (unsigned char)*s;

			if (c == '\n' || c == '\t')
				c = ' ';
			else if (c < 0x20 || c == 0x7f)
				continue;
			if (c == ' ' && (question->len == 0 || question->ptr[question->len - 1] == ' '))
				continue;
			if (wd_buf_putc(question, (char)c) != 0)
				return WD_ENOMEM;
		}
		if (*s) {
			/* cut: never in the middle of a UTF-8 sequence */
			while (question->len &&
			       ((unsigned char)question->ptr[question->len - 1] & 0xc0) == 0x80)
				question->len--;
			if (question->len && (unsigned char)question->ptr[question->len - 1] >= 0xc0)
				question->len--;
			if (question->ptr)
				question->ptr[question->len] = '\0';
		}
		wd_buf_rtrim(question);
		if (question->len == 0)
			return wd_buf_puts(question, "(the model gave no question)") ? WD_ENOMEM : 1;
		return 1;
	}
	return 0;
}

/* One line of the hand-off: why round `round` failed, from the feedback the
 * model was sent (its first line of substance after the template's header). */
int wd_run_note_round(wd_buf *tried, int round, const char *feedback)
{
	const char *p = feedback ? strchr(feedback, '\n') : NULL;
	size_t n;

	while (p && (*p == '\n' || *p == ' ' || *p == '\t'))
		p++;
	if (!p || !*p)
		p = "(no reason recorded)";
	n = strcspn(p, "\n");
	if (n > 200)
		n = 200;
	while (n && ((unsigned char)p[n] & 0xc0) == 0x80)
		n--; /* not in the middle of a UTF-8 sequence */
	return wd_buf_printf(tried, "round %d: %.*s%s\n", round, (int)n, p,
	                     p[n] && p[n] != '\n' ? "…" : "") ? WD_ENOMEM : 0;
}
