#ifndef WARDEN_TEXT_H
#define WARDEN_TEXT_H

/*
 * Text from tickets, models and repositories on its way to a terminal, a
 * commit or a path: what would deceive a reader is taken out or refused.
 */
#include <stddef.h>

#include "warden/buf.h"

/* Append s[0..len) to `out` without control characters: C0 (but '\n' when
 * keep_newlines, and '\t', which becomes a space), DEL, C1 (U+0080-U+009F),
 * and the bidirectional controls (U+200E, U+200F, U+061C, U+202A-U+202E,
 * U+2066-U+2069), so no escape sequence reaches a terminal and no text is
 * shown reordered. Invalid UTF-8 bytes become U+FFFD. 0 or WD_ENOMEM. */
int wd_text_clean(wd_buf *out, const char *s, size_t len, int keep_newlines);

/* A malloc'd cleaned copy of the one-line string s (NULL on ENOMEM; "" for NULL s). */
char *wd_text_clean_line(const char *s);

/* Why the path (UTF-8) could deceive a reviewer, or NULL: invalid UTF-8, a
 * bidirectional control or an invisible character (zero-width, BOM), or a
 * word (between '/', '.', '-', '_' and ' ') that mixes Latin, Greek and
 * Cyrillic letters (homoglyphs such as a Cyrillic 'а' in "mаin.c"). */
const char *wd_text_path_deceptive(const char *path);

/* Whether a line of model text looks like a git trailer ("Token-With-Dash:
 * value", or Fixes:, Closes:, Resolves:, Cc:, Link:): such lines are kept out
 * of commit messages, where they would pose as warden's own. */
int wd_text_is_trailer_line(const char *line, size_t len);

/* The one UTF-8 decoder: the length of the valid sequence at s (at most
 * `left` bytes), with its code point in *cp; 0 when invalid (overlong forms,
 * surrogates and code points past U+10FFFF are invalid). */
size_t wd_utf8_decode(const unsigned char *s, size_t left, unsigned *cp);

/* Levenshtein distance between a[0..la) and b (NUL-terminated), for "did you
 * mean": names of 64 bytes or more are "far" (99). */
size_t wd_edit_distance(const char *a, size_t la, const char *b);

#endif
