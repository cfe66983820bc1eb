/*
 * Unified diff parsing, as models write them: git-style ("diff --git",
 * extended headers), plain "---"/"+++" with or without a/ b/ prefixes, hunk
 * headers whose numbers or counts are wrong or missing ("@@ @@"), inside
 * Markdown fences or mixed with prose. Hunk boundaries come from the header
 * counts when they are consistent, and from the line prefixes otherwise.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "patch_int.h"

#define DEV_NULL "/dev/null"

static int starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

static int is_header_line(const char *s, size_t len)
{
	/* never "--- "/"+++ ": those can be hunk lines ("-- x" removed) */
	return starts(s, len, "diff ") || starts(s, len, "index ") || starts(s, len, "@@") ||
	       starts(s, len, "<<<<<<<") || starts(s, len, "=======") ||
	       starts(s, len, ">>>>>>>") || starts(s, len, "```") || starts(s, len, "*** ");
}

/*
 * A '\r' before '\n' is content when the file being patched uses CRLF (git
 * shows it in the diff's lines), and transport noise when the whole reply
 * came with CRLF endings. The header lines tell which: they are strip-worthy
 * only when most of them carry a '\r' too. Header lines always lose theirs.
 */
int wd_patch__split_lines(wd_rline **out, size_t *n, const char *text, size_t len)
{
	size_t cap = 0, cnt = 0, pos = 0, hdr = 0, hdr_cr = 0;
	wd_rline *v = NULL;
	int strip_all;

	/* an empty reply still hands back an array the caller frees */
	if (WD_ARRAY_RESERVE(v, cap, 1, 64) != 0)
		return WD_ENOMEM;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t l = end - pos;

		if (WD_ARRAY_RESERVE(v, cap, cnt + 1, 64) != 0) {
			free(v);
			return WD_ENOMEM;
		}
		if (is_header_line(text + pos, l)) {
			hdr++;
			hdr_cr += l && text[pos + l - 1] == '\r';
		}
		v[cnt].off = pos;
		v[cnt].len = l;
		cnt++;
		pos = nl ? end + 1 : len;
	}
	strip_all = hdr && hdr_cr * 2 > hdr;
	for (size_t i = 0; i < cnt; i++) {
		const char *s = text + v[i].off;
		size_t l = v[i].len;

		if (l && s[l - 1] == '\r' && (strip_all || is_header_line(s, l)))
			v[i].len--;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* --- paths ------------------------------------------------------------ */

static int is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* Undo git's C-style quoting of a path ("a/sp\303\244ce"). */
static char *unquote(const char *s, size_t len, size_t *used)
{
	wd_buf b = WD_BUF_INIT;
	size_t i = 1;

	for (; i < len && s[i] != '"'; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < len) {
			c = s[++i];
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'a': c = '\a'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'r': c = '\r'; break;
			case 'v': c = '\v'; break;
			default:
				if (i + 2 < len && is_octal(s[i]) && is_octal(s[i + 1]) &&
				    is_octal(s[i + 2])) {
					unsigned v = ((unsigned)(s[i] - '0') << 6) |
					             ((unsigned)(s[i + 1] - '0') << 3) | (unsigned)(s[i + 2] - '0');

					c = (char)(unsigned char)v;
					i += 2;
				}
			}
		}
		if (wd_buf_putc(&b, c)) {
			wd_buf_free(&b);
			return NULL;
		}
	}
	if (used)
		*used = i < len ? i + 1 : len;
	return wd_buf_detach(&b);
}

/* The path of a "---"/"+++" line after the marker: quoted or up to a tab
 * (GNU diff appends "\t<timestamp>"); trailing blanks dropped. */
static char *header_path(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (len && *s == '"')
		return unquote(s, len, NULL);
	const char *tab = memchr(s, '\t', len);

	if (tab)
		len = (size_t)(tab - s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	/* "--- a/x.c 2024-01-01 10:00:00.000 +0000" from diff -u without a tab */
	for (size_t i = 0; i + 11 < len; i++) {
		if (s[i] == ' ' && isdigit((unsigned char)s[i + 1]) && isdigit((unsigned char)s[i + 4]) &&
		    s[i + 5] == '-' && s[i + 8] == '-') {
			len = i;
			break;
		}
	}
	return wd_strndup(s, len);
}

static int is_dev_null(const char *s)
{
	return s && strcmp(s, DEV_NULL) == 0;
}

/* Drop git's a/ b/ prefixes when the pair uses them. */
static void strip_prefixes(char **oldp, char **newp)
{
	char *o = *oldp, *n = *newp;
	int o_pre = o && !strncmp(o, "a/", 2);
	int n_pre = n && !strncmp(n, "b/", 2);

	if ((o_pre || is_dev_null(o)) && (n_pre || is_dev_null(n)) && (o_pre || n_pre)) {
		if (o_pre)
			memmove(o, o + 2, strlen(o + 2) + 1);
		if (n_pre)
			memmove(n, n + 2, strlen(n + 2) + 1);
	}
}

/* Leading "./" is noise; an empty result means no path. */
static void normalize_path(char **pp)
{
	char *s = *pp;

	if (!s)
		return;
	while (s[0] == '.' && s[1] == '/')
		memmove(s, s + 2, strlen(s + 2) + 1);
	if (!*s) {
		free(s);
		*pp = NULL;
	}
}

/* "diff --git a/x b/y": find the split so both sides name the same file when
 * they can (paths may contain spaces). */
static int git_header_paths(char **oldp, char **newp, const char *s, size_t len)
{
	size_t used = 0;

	*oldp = *newp = NULL;
	if (len && s[0] == '"') {
		*oldp = unquote(s, len, &used);
		s += used;
		len -= used;
		while (len && *s == ' ') {
			s++;
			len--;
		}
		*newp = len && *s == '"' ? unquote(s, len, NULL) : wd_strndup(s, len);
		return *oldp && *newp ? 0 : WD_ENOMEM;
	}
	/* even split: "a/name b/name" */
	if (len % 2 == 1) {
		size_t half = len / 2;

		if (s[half] == ' ' && len >= 5 && !memcmp(s + 2, s + half + 3, half - 2) &&
		    ((s[0] == 'a' && s[1] == '/' && s[half + 1] == 'b' && s[half + 2] == '/') ||
		     !memcmp(s, s + half + 1, half))) {
			*oldp = wd_strndup(s, half);
			*newp = wd_strndup(s + half + 1, half);
			return *oldp && *newp ? 0 : WD_ENOMEM;
		}
	}
	const char *sp = NULL;

	for (size_t i = 0; i + 3 < len; i++)
		if (s[i] == ' ' && s[i + 1] == 'b' && s[i + 2] == '/')
			sp = s + i;
	if (!sp)
		sp = memchr(s, ' ', len);
	if (!sp)
		return 0;
	*oldp = wd_strndup(s, (size_t)(sp - s));
	*newp = wd_strndup(sp + 1, len - (size_t)(sp - s) - 1);
	if (*newp && (*newp)[0] == '"') {
		char *q = unquote(*newp, strlen(*newp), NULL);

		free(*newp);
		*newp = q;
	}
	return *oldp && *newp ? 0 : WD_ENOMEM;
}

static unsigned parse_mode(const char *s, size_t len)
{
	unsigned m = 0;

	while (len && *s == ' ') {
		s++;
		len--;
	}
	for (size_t i = 0; i < len && s[i] >= '0' && s[i] <= '7' && i < 7; i++)
		m = m * 8 + (unsigned)(s[i] - '0');
	return m;
}

/* --- file headers ----------------------------------------------------- */

static int is_fence(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	return starts(s, len, "```") || starts(s, len, "~~~");
}

static int is_plain_header(const wd_patch *p, const wd_rline *rl, size_t n, size_t i)
{
	return i + 1 < n && starts(p->src + rl[i].off, rl[i].len, "--- ") &&
	       starts(p->src + rl[i + 1].off, rl[i + 1].len, "+++ ");
}

struct hdr {
	char *old_path, *new_path;
	char *rename_from, *rename_to;
	unsigned old_mode, new_mode;
	int added, deleted, binary, copy, git;
};

static void hdr_free(struct hdr *h)
{
	free(h->old_path);
	free(h->new_path);
	free(h->rename_from);
	free(h->rename_to);
}

static int hdr_commit(wd_pfile **out, struct wd_patch *p, struct hdr *h)
{
	char *o, *n;
	int kind = WD_PF_MODIFY;
	wd_pfile *f;
	int rc;

	if (h->rename_from && h->rename_to) {
		free(h->old_path);
		free(h->new_path);
		h->old_path = h->rename_from;
		h->new_path = h->rename_to;
		h->rename_from = h->rename_to = NULL;
		kind = WD_PF_RENAME;
	}
	normalize_path(&h->old_path);
	normalize_path(&h->new_path);
	o = h->old_path;
	n = h->new_path;
	if (is_dev_null(o) || h->added)
		kind = WD_PF_ADD;
	else if (is_dev_null(n) || h->deleted)
		kind = WD_PF_DELETE;
	if (kind == WD_PF_ADD) {
		o = NULL;
		if (!n || is_dev_null(n))
			n = h->old_path && !is_dev_null(h->old_path) ? h->old_path : NULL;
	} else if (kind == WD_PF_DELETE) {
		if (!o || is_dev_null(o))
			o = n && !is_dev_null(n) ? n : NULL;
		n = NULL;
	} else if (kind == WD_PF_MODIFY) {
		/* plain diffs name backups on one side ("x.c.orig"): the new name is the target */
		if (!n)
			n = o;
		o = n;
	}
	if ((kind != WD_PF_ADD && !o) || (kind != WD_PF_DELETE && !n))
		return wd_error_set(WD_EINPUT, "file header without a usable path");
	if (kind == WD_PF_RENAME && !strcmp(o, n))
		kind = WD_PF_MODIFY;
	rc = wd_patch__file_get(&f, p, o, kind == WD_PF_MODIFY ? o : n, kind);
	if (rc)
		return rc;
	f->git_header |= h->git;
	f->binary |= h->binary;
	f->copy |= h->copy;
	if (h->old_mode)
		f->old_mode = h->old_mode;
	if (h->new_mode)
		f->new_mode = h->new_mode;
	*out = f;
	return 0;
}

static int take_plain_paths(struct hdr *h, const struct wd_patch *p, const wd_rline *rl, size_t i)
{
	char *o = header_path(p->src + rl[i].off + 4, rl[i].len - 4);
	char *n = header_path(p->src + rl[i + 1].off + 4, rl[i + 1].len - 4);

	if (!o || !n) {
		free(o);
		free(n);
		return WD_ENOMEM;
	}
	strip_prefixes(&o, &n);
	free(h->old_path);
	free(h->new_path);
	h->old_path = o;
	h->new_path = n;
	return 0;
}

/* "diff --git" and its extended header lines; leaves *i on the first line
 * after them (a hunk, the next file, or prose). */
static int parse_git_header(wd_pfile **out, struct wd_patch *p, const wd_rline *rl, size_t n,
                            size_t *i)
{
	struct hdr h = { 0 };
	const char *s = p->src + rl[*i].off + strlen("diff --git ");
	size_t len = rl[*i].len - strlen("diff --git ");
	size_t j = *i + 1;
	int rc;

	h.git = 1;
	if ((rc = git_header_paths(&h.old_path, &h.new_path, s, len)) != 0)
		goto out;
	strip_prefixes(&h.old_path, &h.new_path);
	for (; j < n; j++) {
		const char *l = p->src + rl[j].off;
		size_t ll = rl[j].len;

		while (ll && l[ll - 1] == '\r')
			ll--;
		if (starts(l, ll, "old mode "))
			h.old_mode = parse_mode(l + 9, ll - 9);
		else if (starts(l, ll, "new mode "))
			h.new_mode = parse_mode(l + 9, ll - 9);
		else if (starts(l, ll, "deleted file mode ")) {
			h.deleted = 1;
			h.old_mode = parse_mode(l + 18, ll - 18);
		} else if (starts(l, ll, "new file mode ")) {
			h.added = 1;
			h.new_mode = parse_mode(l + 14, ll - 14);
		} else if (starts(l, ll, "rename from ") || starts(l, ll, "rename to ")) {
			int from = l[7] == 'f';
			size_t skip = from ? 12 : 10;
			char *v = ll > skip && l[skip] == '"' ? unquote(l + skip, ll - skip, NULL)
			                                      : wd_strndup(l + skip, ll - skip);

			if (!v) {
				rc = WD_ENOMEM;
				goto out;
			}
			free(from ? h.rename_from : h.rename_to);
			*(from ? &h.rename_from : &h.rename_to) = v;
		} else if (starts(l, ll, "copy from ") || starts(l, ll, "copy to ")) {
			h.copy = 1;
		} else if (starts(l, ll, "similarity index") || starts(l, ll, "dissimilarity index") ||
		           starts(l, ll, "index ")) {
			continue;
		} else if (starts(l, ll, "Binary files ") || starts(l, ll, "GIT binary patch")) {
			h.binary = 1;
			/* skip the payload up to the next file or the end of the block */
			for (j++; j < n; j++) {
				const char *b = p->src + rl[j].off;

				if (starts(b, rl[j].len, "diff --git ") || is_fence(b, rl[j].len))
					break;
			}
			j--;
		} else if (is_plain_header(p, rl, n, j)) {
			if ((rc = take_plain_paths(&h, p, rl, j)) != 0)
				goto out;
			j += 2;
			break;
		} else {
			break;
		}
	}
	rc = hdr_commit(out, p, &h);
out:
	hdr_free(&h);
	*i = j;
	return rc;
}

static int parse_plain_header(wd_pfile **out, struct wd_patch *p, const wd_rline *rl, size_t *i)
{
	struct hdr h = { 0 };
	int rc = take_plain_paths(&h, p, rl, *i);

	if (!rc)
		rc = hdr_commit(out, p, &h);
	hdr_free(&h);
	*i += 2;
	return rc;
}

/* --- hunks ------------------------------------------------------------ */

static int parse_num(const char **s, const char *end, long *out)
{
	long v = 0;
	int any = 0;

	while (*s < end && isdigit((unsigned char)**s)) {
		if (v < 100000000)
			v = v * 10 + (**s - '0');
		(*s)++;
		any = 1;
	}
	*out = v;
	return any;
}

/* One side's range of a hunk header at *q: blanks, `sign`, START[,COUNT]
 * (the count stays as it was when absent). */
static int parse_range(const char **q, const char *e, char sign, long *start, long *count)
{
	while (*q < e && **q == ' ')
		(*q)++;
	if (*q >= e || **q != sign)
		return 0;
	(*q)++;
	if (!parse_num(q, e, start))
		return 0;
	if (*q < e && **q == ',') {
		(*q)++;
		return parse_num(q, e, count);
	}
	return 1;
}

/* "@@ -a[,b] +c[,d] @@ ...": 1 with numbers, 0 for a bare or garbled header. */
static int parse_hunk_header(wd_hunk *h, const char *s, size_t len)
{
	const char *e = s + len, *q = s + 2;

	h->old_count = h->new_count = 1;
	return parse_range(&q, e, '-', &h->old_start, &h->old_count) &&
	       parse_range(&q, e, '+', &h->new_start, &h->new_count);
}

/* The text git puts after the closing "@@": the function around the hunk. */
static void hunk_section(wd_hunk *h, const char *base, const char *s, size_t len)
{
	const char *e = s + len, *q = s + 2;

	h->sec_off = h->sec_len = 0;
	while (q + 1 < e && !(q[0] == '@' && q[1] == '@'))
		q++;
	if (q + 1 >= e)
		return;
	q += 2;
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	while (e > q && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	h->sec_off = (size_t)(q - base);
	h->sec_len = (size_t)(e - q);
}

static int is_body_char(char c)
{
	return c == ' ' || c == '+' || c == '-' || c == '\\';
}

/* Does line j start another file's section? No hunk runs across one,
 * whatever its header's counts say: an over-counted hunk would otherwise
 * swallow the next file's "--- a/" and "+++ b/" lines as a '-' and a '+'. */
static int is_file_start(const struct wd_patch *p, const wd_rline *rl, size_t n, size_t j)
{
	const char *s = p->src + rl[j].off;
	size_t len = rl[j].len;

	return starts(s, len, "diff --git ") || is_plain_header(p, rl, n, j) ||
	       wd_patch__is_codex_header(s, len);
}

/* Does line j end a hunk (a header, a fence, prose)? */
static int is_hunk_boundary(const struct wd_patch *p, const wd_rline *rl, size_t n, size_t j)
{
	const char *s;
	size_t len;

	if (j >= n)
		return 1;
	s = p->src + rl[j].off;
	len = rl[j].len;
	if (len == 0)
		return 0;
	if (starts(s, len, "@@") || is_file_start(p, rl, n, j))
		return 1;
	return !is_body_char(s[0]);
}

static int add_body_line(struct wd_patch *p, const wd_rline *r)
{
	const char *s = p->src + r->off;

	if (r->len == 0)
		return wd_patch__line_add(p, WD_PL_CTX, r->off, 0);
	if (s[0] == '\\') {
		if (p->nlines)
			p->lines[p->nlines - 1].no_eol = 1;
		return 0;
	}
	return wd_patch__line_add(p, s[0], r->off + 1, r->len - 1);
}

/* Consume exactly the header's counts; 1 when they fit the text that follows. */
static int body_by_counts(struct wd_patch *p, const wd_hunk *h, const wd_rline *rl, size_t n,
                          size_t *j)
{
	long olds = 0, news = 0;
	size_t k = *j, mark = p->nlines;

	while (olds < h->old_count || news < h->new_count) {
		const char *s;
		char c;

		if (k >= n || is_file_start(p, rl, n, k))
			goto fail;
		s = p->src + rl[k].off;
		c = rl[k].len ? s[0] : ' ';
		if (c == ' ') {
			olds++;
			news++;
		} else if (c == '-') {
			olds++;
		} else if (c == '+') {
			news++;
		} else if (c != '\\') {
			goto fail;
		}
		if (add_body_line(p, &rl[k]))
			return WD_ENOMEM;
		k++;
	}
	if (olds != h->old_count || news != h->new_count)
		goto fail;
	if (k < n && rl[k].len && p->src[rl[k].off] == '\\') {
		add_body_line(p, &rl[k]);
		k++;
	}
	/* the next line (past blank ones) must not look like more of this hunk:
	 * counts that are too small would otherwise drop its tail silently */
	for (size_t m = k; m < n; m++) {
		if (rl[m].len == 0)
			continue;
		if (!is_hunk_boundary(p, rl, n, m))
			goto fail;
		break;
	}
	*j = k;
	return 1;
fail:
	p->nlines = mark;
	return 0;
}

/* Consume body lines by their prefixes. Blank lines are blank context when
 * more body follows them, separators otherwise. */
static int body_by_prefix(struct wd_patch *p, const wd_rline *rl, size_t n, size_t *j)
{
	size_t k = *j;

	while (k < n && !is_hunk_boundary(p, rl, n, k)) {
		if (rl[k].len == 0) {
			size_t m = k;

			while (m < n && rl[m].len == 0)
				m++;
			if (is_hunk_boundary(p, rl, n, m))
				break;
			for (; k < m; k++)
				if (add_body_line(p, &rl[k]))
					return WD_ENOMEM;
			continue;
		}
		if (add_body_line(p, &rl[k]))
			return WD_ENOMEM;
		k++;
	}
	*j = k;
	return 0;
}

/* A hunk short of its own counts that runs to the very end of a reply
 * ending mid-line is a reply cut off in the middle of it (a stream dropped,
 * a length stop the API did not report): its last line is half-written, and
 * no matcher can tell what the missing lines were. Refused, never applied.
 * Short counts elsewhere are a miscount the tolerant matcher deals with. */
static int cut_off_hunk(const struct wd_patch *p, const wd_hunk *h, size_t mark, size_t j,
                        size_t n)
{
	long olds = 0, news = 0;

	if (j < n || p->srclen == 0 || p->src[p->srclen - 1] == '\n')
		return 0;
	for (size_t k = mark; k < p->nlines; k++) {
		olds += p->lines[k].op != WD_PL_ADD;
		news += p->lines[k].op != WD_PL_DEL;
	}
	if (olds >= h->old_count && news >= h->new_count)
		return 0;
	return wd_error_set(WD_EINPUT, "reply line %zu: the hunk promises %ld old and %ld new lines, "
	                    "but the reply ends mid-line after %ld and %ld: it was cut off; send "
	                    "the whole edit again", h->src_line, h->old_count, h->new_count, olds,
	                    news);
}

static int parse_hunk(struct wd_patch *p, wd_pfile *f, const wd_rline *rl, size_t n, size_t *i)
{
	wd_hunk tmp = { 0 }, *h;
	size_t j = *i + 1, mark = p->nlines;
	int changes = 0, rc;

	tmp.src_line = *i + 1;
	tmp.has_numbers = parse_hunk_header(&tmp, p->src + rl[*i].off, rl[*i].len);
	hunk_section(&tmp, p->src, p->src + rl[*i].off, rl[*i].len);
	if (tmp.has_numbers) {
		rc = body_by_counts(p, &tmp, rl, n, &j);
		if (rc < 0)
			return rc;
		tmp.counts_ok = rc;
	}
	if (!tmp.counts_ok && (rc = body_by_prefix(p, rl, n, &j)) != 0)
		return rc;
	if (tmp.has_numbers && !tmp.counts_ok && (rc = cut_off_hunk(p, &tmp, mark, j, n)) != 0)
		return rc;
	*i = j;
	for (size_t k = mark; k < p->nlines; k++)
		if (p->lines[k].op != WD_PL_CTX)
			changes = 1;
	if (!changes) {
		p->nlines = mark; /* a hunk that changes nothing is noise */
		return 0;
	}
	if ((rc = wd_patch__hunk_add(&h, f)) != 0)
		return rc;
	tmp.section = h->section;
	*h = tmp;
	h->first = mark;
	h->n = p->nlines - mark;
	return 0;
}

/* --- the whole reply -------------------------------------------------- */

static int compute_hash(struct wd_patch *p)
{
	wd_buf b = WD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < p->nfiles && !rc; i++) {
		const wd_pfile *f = &p->files[i];

		rc = wd_buf_printf(&b, "F%d %s %s %o %o %d%s\n", f->kind, f->old_path ? f->old_path : "",
		                   f->new_path ? f->new_path : "", f->old_mode, f->new_mode, f->sr,
		                   f->whole ? " whole" : "");
		for (size_t h = 0; h < f->nhunks && !rc; h++) {
			const wd_hunk *hk = &f->hunks[h];

			rc = wd_buf_puts(&b, "H\n");
			for (size_t k = hk->first; k < hk->first + hk->n && !rc; k++) {
				rc = wd_buf_putc(&b, p->lines[k].op);
				if (!rc)
					rc = wd_buf_put(&b, wd_patch__ltext(p, k), p->lines[k].len);
				if (!rc)
					rc = wd_buf_puts(&b, p->lines[k].no_eol ? "\\\n" : "\n");
			}
		}
	}
	if (!rc)
		rc = wd_hash_hex(p->hash, b.ptr ? b.ptr : "", b.len);
	wd_buf_free(&b);
	return rc;
}

int wd_patch_parse(wd_patch **out, const char *text, size_t len)
{
	struct wd_patch *p;
	wd_rline *rl = NULL;
	wd_pfile *cur = NULL;
	size_t n = 0, i = 0, orphans = 0, orphan_line = 0;
	int rc;

	*out = NULL;
	if (!text)
		return wd_error_set(WD_ENOTFOUND, "empty reply");
	p = calloc(1, sizeof(*p));
	if (!p)
		return wd_patch__oom();
	p->src = malloc(len + 1);
	if (!p->src) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(p->src, text, len);
	p->src[len] = '\0';
	p->srclen = len;
	if ((rc = wd_patch__split_lines(&rl, &n, p->src, len)) != 0)
		goto out;
	while (i < n) {
		const char *s = p->src + rl[i].off;
		size_t l = rl[i].len;

		if (starts(s, l, "diff --git ")) {
			rc = parse_git_header(&cur, p, rl, n, &i);
		} else if (is_plain_header(p, rl, n, i)) {
			rc = parse_plain_header(&cur, p, rl, &i);
		} else if (starts(s, l, "@@")) {
			if (cur) {
				rc = parse_hunk(p, cur, rl, n, &i);
			} else {
				if (!orphans++)
					orphan_line = i + 1;
				i++;
			}
		} else if (wd_patch__is_codex_header(s, l)) {
			rc = wd_patch__parse_codex(p, rl, n, &i);
			cur = NULL;
		} else if (wd_patch__is_sr_start(s, l)) {
			rc = wd_patch__parse_sr(p, rl, n, &i);
			cur = NULL;
		} else {
			i++;
		}
		if (rc)
			goto out;
	}
	if (orphans && p->nfiles == 0) {
		rc = wd_error_set(WD_EINPUT,
		                  "line %zu: hunk without a file header: start the diff with "
		                  "'--- a/PATH' and '+++ b/PATH' lines", orphan_line);
		goto out;
	}
	for (size_t f = 0; f < p->nfiles; f++) {
		const wd_pfile *pf = &p->files[f];

		if (pf->nhunks == 0 && pf->kind == WD_PF_MODIFY && !pf->binary &&
		    !(pf->old_mode && pf->new_mode && pf->old_mode != pf->new_mode) && !pf->copy) {
			rc = wd_error_set(WD_EINPUT, "'%s': file header without any hunk", pf->new_path);
			goto out;
		}
	}
	if (p->nfiles == 0 && !orphans) {
		rc = wd_patch__parse_whole(p, rl, n);
		if (rc && rc != WD_ENOTFOUND)
			goto out;
	}
	if (p->nfiles == 0) {
		rc = wd_error_set(WD_ENOTFOUND, "the reply contains no diff, no SEARCH/REPLACE block, "
		                  "no '*** Begin Patch' and no whole-file block");
		goto out;
	}
	if ((rc = wd_patch__check_sections(p)) != 0 || (rc = compute_hash(p)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	free(rl);
	wd_patch_free(p);
	return rc;
}

size_t wd_patch_file_count(const wd_patch *p)
{
	return p ? p->nfiles : 0;
}

const char *wd_patch_file_path(const wd_patch *p, size_t i)
{
	if (!p || i >= p->nfiles)
		return NULL;
	return p->files[i].new_path ? p->files[i].new_path : p->files[i].old_path;
}

const char *wd_patch_hash(const wd_patch *p)
{
	return p ? p->hash : "";
}

void wd_patch_free(wd_patch *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].old_path);
		free(p->files[i].new_path);
		free(p->files[i].hunks);
	}
	free(p->files);
	free(p->lines);
	free(p->src);
	free(p);
}
