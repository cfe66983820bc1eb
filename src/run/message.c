#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "warden/error.h"
#include "warden/text.h"

#include "run_internal.h"

#define SUMMARY_MAX 600

static int starts_ci(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && !strncasecmp(s, word, n) &&
	       (len == n || !isalpha((unsigned char)s[n]));
}

/* A sentence that talks to the reader instead of describing the change:
 * an opener, an apology, a pointer to the edit below. */
static int chatter(const char *s, size_t len)
{
	static const char *const openers[] = {
		"you're right", "you are right", "you’re right", "sure", "certainly", "of course",
		"great", "thanks", "thank you", "okay", "ok", "absolutely", "good catch", "i see",
		"i apologize", "apologies", "my apologies", "sorry", "let me", "here is", "here's",
		"here are", "below is", "the following", "i hope", "hope this", "let me know",
		"now,", "alright", "understood", "got it", "i understand"
	};
	static const char *const anywhere[] = { "apolog", "sorry", "my previous", "my mistake",
		                                "my earlier", "i missed", "didn't address",
		                                "did not address", "the diff below", "the patch below",
		                                "the edit below", "updated diff", "corrected diff" };
	char low[400];
	size_t n = len < sizeof(low) - 1 ? len : sizeof(low) - 1;

	for (size_t i = 0; i < sizeof(openers) / sizeof(openers[0]); i++)
		if (starts_ci(s, len, openers[i]))
			return 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[n] = '\0';
	for (size_t i = 0; i < sizeof(anywhere) / sizeof(anywhere[0]); i++)
		if (strstr(low, anywhere[i]))
			return 1;
	/* "Here is the fix:" and other lead-ins to the edit */
	return len && s[len - 1] == ':';
}

/* A line that only names files ("src/a.c", "- `src/a.c`", "Files changed: ..."). */
static int file_list_line(const char *s, size_t len)
{
	size_t i = 0, tokens = 0, paths = 0;

	if (starts_ci(s, len, "files changed") || starts_ci(s, len, "changed files") ||
	    starts_ci(s, len, "file:") || starts_ci(s, len, "files:"))
		return 1;
	while (i < len) {
		size_t st;
		int path = 0;

		while (i < len && (isspace((unsigned char)s[i]) || strchr("-*`,", s[i])))
			i++;
		st = i;
		while (i < len && !isspace((unsigned char)s[i]) && !strchr("`,", s[i])) {
			if (s[i] == '/' || (s[i] == '.' && i > st && i + 1 < len &&
			                    isalnum((unsigned char)s[i + 1])))
				path = 1;
			i++;
		}
		if (i > st) {
			tokens++;
			paths += path;
		}
	}
	return tokens && paths == tokens;
}

/* Does the line start an edit (where the prose ends)? */
static int edit_start(const char *p)
{
	return !strncmp(p, "```", 3) || !strncmp(p, "~~~", 3) || !strncmp(p, "--- ", 4) ||
	       !strncmp(p, "diff --git", 10) || !strncmp(p, "<<<<<<<", 7) ||
	       !strncmp(p, "*** Begin Patch", 15) || !strncmp(p, "*** Update File:", 16) ||
	       !strncmp(p, "@@", 2);
}

/* Append the sentences of one line that describe the change. */
static void keep_sentences(wd_buf *out, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t st, e;

		while (i < len && isspace((unsigned char)s[i]))
			i++;
		st = i;
		while (i < len && !((s[i] == '.' || s[i] == '!' || s[i] == '?') &&
		                    (i + 1 == len || isspace((unsigned char)s[i + 1]))))
			i++;
		e = i < len ? i + 1 : len;
		i = e;
		/* a sentence may start a line of the body once the chatter
		 * before it is dropped: one shaped like a trailer never goes in */
		if (e > st && !chatter(s + st, e - st) && !wd_text_is_trailer_line(s + st, e - st)) {
			if (out->len && out->ptr[out->len - 1] != '\n')
				wd_buf_putc(out, ' ');
			wd_buf_put(out, s + st, e - st);
		}
	}
}

/* Whether a line of prose may go into the commit body, cleaned into `clean`.
 * It is judged as cleaned (no control characters: "Si\036gned-off-by:" is a
 * trailer once the control character is gone); a line shaped like a trailer
 * ("Warden-Checks: security-audit=pass", "Signed-off-by: ...") would pose as
 * warden's own above the real ones, and one that only names files says
 * nothing the diff does not. */
static int describes(wd_buf *clean, const char *p, size_t len)
{
	wd_buf_clear(clean);
	return wd_text_clean(clean, p, len, 0) == 0 && clean->len &&
	       !wd_text_is_trailer_line(clean->ptr, clean->len) &&
	       !file_list_line(clean->ptr, clean->len);
}

/* Lines of one paragraph are joined with a space, so "cc" and ": x" on two
 * lines make "cc : x", which git reads as a trailer: a paragraph that starts
 * like one is left out as a whole. */
static void drop_trailer_paragraphs(wd_buf *out)
{
	size_t r = 0, w = 0;

	while (r < out->len) {
		const char *nl = memchr(out->ptr + r, '\n', out->len - r);
		size_t end = nl ? (size_t)(nl - out->ptr) + 1 : out->len;

		if (!wd_text_is_trailer_line(out->ptr + r, end - r - (nl ? 1 : 0))) {
			memmove(out->ptr + w, out->ptr + r, end - r);
			w += end - r;
		} else if (end < out->len && out->ptr[end] == '\n') {
			end++; /* and the blank line after it */
		}
		r = end;
	}
	wd_buf_truncate(out, w);
	/* a dropped last paragraph leaves the blank line before it */
	wd_buf_rtrim(out);
}

/*
 * The model's prose before its first edit, cleaned into a commit body: no
 * conversational openers or apologies, no lead-ins to the edit, no lines
 * that only name files; paragraphs kept. Trimmed to a few hundred bytes;
 * may be empty.
 */
void wd_run_model_summary(wd_buf *out, const char *reply)
{
	const char *p = reply;
	wd_buf line = WD_BUF_INIT, clean = WD_BUF_INIT;
	int blank = 0;

	wd_buf_clear(out);
	while (*p && !edit_start(p)) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (!len) {
			blank = out->len > 0;
		} else if (describes(&clean, p, len)) {
			wd_buf_clear(&line);
			keep_sentences(&line, clean.ptr, clean.len);
			if (line.len) {
				if (out->len)
					wd_buf_puts(out, blank ? "\n\n" : " ");
				wd_buf_put(out, line.ptr, line.len);
				blank = 0;
			}
		}
		p = nl ? nl + 1 : p + strlen(p);
	}
	wd_buf_free(&line);
	wd_buf_free(&clean);
	drop_trailer_paragraphs(out);
	wd_buf_rtrim(out);
	if (out->len > SUMMARY_MAX) {
		size_t keep = SUMMARY_MAX;

		while (keep > 0 && out->ptr[keep - 1] != ' ' && out->ptr[keep - 1] != '\n')
			keep--;
		wd_buf_truncate(out, keep ? keep : SUMMARY_MAX);
		wd_buf_rtrim(out);
	}
}

int wd_run_commit_message(wd_buf *out, const wd_ticket *t, const char *summary,
                          const char *run_id, const char *model, const char *checks)
{
	const char *title = wd_ticket_title(t), *source = wd_ticket_source(t), *id = wd_ticket_id(t);
	size_t title_len = strcspn(title, "\n");

	wd_buf_clear(out);
	if (title_len > 72)
		title_len = 72;
	if (wd_buf_put(out, title, title_len) || wd_buf_puts(out, "\n\n"))
		return WD_ENOMEM;
	if (summary && *summary && wd_buf_printf(out, "%s\n\n", summary))
		return WD_ENOMEM;
	/* the ticket reference: the file it came from and its id */
	if (*source && wd_buf_printf(out, "Ticket: %s (%.12s)\n\n", source, id))
		return WD_ENOMEM;
	if (!*source && *id && wd_buf_printf(out, "Ticket: %.12s\n\n", id))
		return WD_ENOMEM;
	if (wd_buf_printf(out, "Warden-Run: %s\nWarden-Model: %s\n", run_id, model))
		return WD_ENOMEM;
	if (checks && *checks && wd_buf_printf(out, "Warden-Checks: %s\n", checks))
		return WD_ENOMEM;
	return 0;
}
