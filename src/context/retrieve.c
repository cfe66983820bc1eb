/*
 * Lexical retrieval for the context: which definitions of the work tree a
 * ticket's words point at, when it names no file or definition outright.
 *
 * Every definition the map knows is a document (a container such as a class
 * counts by its head, up to its first member); so is every file (its whole
 * text plus its path). Terms are the words of the text, identifiers split at
 * '_' and case changes (json_object_set -> json, object, set, and the whole
 * identifier as one more term), lower-cased and lightly stemmed, English
 * function words dropped; a long ticket word the code never writes counts as
 * the two or three words of the code it is made of ("bashautocompletion").
 * Definitions are scored by BM25 (k1 1.2, b 0.75)
 * against the ticket's terms (the title's count twice), a definition's own
 * name counting three times, plus a share of its file's BM25 score and of
 * its file's PageRank. Only the ticket's terms are counted while reading, so
 * a pass over the tree is one tokenisation of it.
 *
 * Test definitions that call the best-scored definitions are candidates too:
 * they score half of the best definition they call. So are the functions
 * the two best matches call (half of their caller), the helpers the best
 * test calls when its words match best (half of it), and the tests of the
 * three best files found by name (test_dump.c for dump.c: half of that
 * file's best). A function nested in another (a Python test's `def cli():`)
 * is sent with the outermost function around it. The tests are spread over
 * the test files: past the two best-matching ones, each further test of a
 * file scores a little less than the one above it.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"

#include "context_int.h"

#define BM25_K1 1.2
#define BM25_B 0.75
#define NAME_WEIGHT 3     /* a definition's name counts this many times */
#define PATH_WEIGHT 3     /* a file's path words count this many times in its file document */
#define TITLE_WEIGHT 2
#define FILE_SHARE 0.3    /* of the file's BM25 score added to each of its definitions */
#define RANK_SHARE 1.0    /* PageRank, normalised to [0, 1], added to every definition */
#define CALLEE_SHARE 0.5  /* a test calling a chosen definition scores this share of it */
#define TEST_SHARE 0.5    /* a test's own words count this share: the ticket is about the
                           * code, the tests that exercise it come with it (CALLEE_SHARE) */
#define CALLEES 8         /* how many of the best definitions their tests are looked up for */
#define CALLED_SHARE 0.5  /* a function one of the best matches calls scores this share of it */
#define PAIR_SHARE 0.5    /* the units of a test file named after one of the best files
                           * score this share of that file's best */
#define PAIR_FILES 3      /* how many of the best files their tests are looked up for */
#define CALLED_BY 2       /* how many of the best matches their callees are looked up for */
#define CALLED_MAX 4096   /* a larger callee is not worth its bytes */
#define CALLED_DEFS 2     /* a callee defined in more places than this is not followed */
#define NAMESET 1024      /* slots of the callees' name set (a power of two) */
#define NEST_WHOLE 4096   /* a nested function is sent within its outer one up to this size */
#define TAIL_DEFS 2       /* a test file's last top-level definitions marked as its tail */
#define TAIL_MAX 4096     /* ... together at most this size */
#define TEST_DECAY 0.95   /* each further definition of a test file scores this much
                           * less than the one above it (see spread_tests) ... */
#define TEST_DEEP 2       /* ... but for the best-matching test files, this many */
#define TERM_MAX 64
#define QTERMS_MAX 256
#define COMPOUND_MIN 12   /* a ticket word this long, in lower case only, may be a compound */
#define PIECE_MIN 4       /* ... of two or three of the code's words, each this long */
#define COMPOUNDS 8

struct qterm {
	char term[TERM_MAX];
	double w;        /* query weight (count in the ticket, the title's doubled) */
	size_t df_unit;  /* definitions containing it */
	size_t df_file;
	double idf_unit, idf_file;
};

struct query {
	struct qterm t[QTERMS_MAX];
	size_t n;
	int slot[QTERMS_MAX * 2]; /* open addressing: index + 1, 0 = empty */
	uint64_t pfx[1024];       /* the terms' first two characters (a bit per pair): a
	                           * word of the code starting otherwise is none of them */
	char comp[COMPOUNDS][TERM_MAX]; /* the ticket's long one-piece words (see compounds) */
	size_t ncomp;
};

static unsigned pfx_key(const char *w)
{
	return ((unsigned)(unsigned char)w[0] << 8) | (unsigned char)w[1];
}

static int pfx_has(const struct query *q, const char *w)
{
	unsigned k = pfx_key(w);

	return (q->pfx[k >> 6] >> (k & 63)) & 1;
}

struct hit {
	uint32_t doc;  /* unit, or file index for file hits */
	uint16_t term;
	uint16_t tf;
};

struct hits {
	struct hit *v;
	size_t n, cap;
};

struct fdoc {
	size_t len;   /* terms */
	double score; /* BM25 */
};

struct scan {
	struct query *q;
	wd_ctx_unit *u;
	size_t nu, cu;
	struct hits uh, fh;   /* hits of units, of files */
	struct fdoc *f;
	size_t nf;
	size_t unit_len_sum, file_len_sum;
};

static const char *const stop_words[] = {
	"a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are",
	"as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
	"by", "can", "cannot", "co", "com", "commit", "could", "did", "do", "does", "doing", "done",
	"down", "during", "each", "eg", "etc", "few", "fix", "fixed", "fixes", "fixing", "for",
	"from", "further", "github", "had", "has", "have", "having", "he", "her", "here", "him",
	"his", "how", "http", "https", "i", "ie", "if", "in", "into", "is", "issue", "it", "its",
	"just", "me", "might", "more", "most", "must", "my", "no", "nor", "not", "now", "of", "off",
	"on", "once", "only", "or", "org", "other", "our", "out", "over", "own", "per", "pr",
	"same", "she", "should", "signed", "so", "some", "such", "than", "that", "the", "their",
	"them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
	"until", "up", "us", "very", "via", "was", "we", "were", "what", "when", "where", "which",
	"while", "who", "whom", "why", "will", "with", "would", "www", "you", "your",
};

static int is_stop(const char *w)
{
	size_t lo = 0, hi = sizeof(stop_words) / sizeof(stop_words[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(w, stop_words[mid]);

		if (!c)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static int ends(const char *w, size_t len, const char *suf)
{
	size_t sl = strlen(suf);

	return len >= sl && !memcmp(w + len - sl, suf, sl);
}

/* A light stemmer, the same for the ticket and the code: plurals, -ed,
 * -ing and a final -e go (encode, encoded, encoding, encodes -> encod),
 * and the -ion of a noun in -tion or -sion, so the noun a ticket says meets
 * the verb the code is named after (completion, complete -> complet). */
static void stem(char *w)
{
	size_t len = strlen(w);

	/* no rule touches the first two characters (see struct query's pfx) */
	if (len > 4 && ends(w, len, "ies")) {
		w[len - 3] = 'y';
		len -= 2;
	} else if (len > 5 && ends(w, len, "ing")) {
		len -= 3;
	} else if (len > 4 && ends(w, len, "ed")) {
		len -= 2;
	} else if (len > 3 && (ends(w, len, "ses") || ends(w, len, "xes") || ends(w, len, "ches") ||
	                       ends(w, len, "shes"))) {
		len -= 2;
	} else if (len > 3 && w[len - 1] == 's' && !ends(w, len, "ss") && !ends(w, len, "us") &&
	           !ends(w, len, "is")) {
		len -= 1;
	}
	/* a noun of its verb: completion, complete -> complet */
	if (len > 6 && (ends(w, len, "tion") || ends(w, len, "sion")))
		len -= 3;
	else if (len > 4 && w[len - 1] == 'e')
		len--;
	w[len] = '\0';
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int q_find(const struct query *q, const char *term)
{
	size_t mask = sizeof(q->slot) / sizeof(q->slot[0]) - 1;

	for (size_t i = hash(term) & mask;; i = (i + 1) & mask) {
		int s = q->slot[i];

		if (!s)
			return -1;
		if (!strcmp(q->t[s - 1].term, term))
			return s - 1;
	}
}

static void q_add(struct query *q, const char *term, double w)
{
	size_t mask = sizeof(q->slot) / sizeof(q->slot[0]) - 1;
	int at = q_find(q, term);

	if (at >= 0) {
		q->t[at].w += w;
		return;
	}
	if (q->n >= QTERMS_MAX)
		return;
	for (size_t i = hash(term) & mask;; i = (i + 1) & mask) {
		if (!q->slot[i]) {
			q->slot[i] = (int)q->n + 1;
			break;
		}
	}
	memset(&q->t[q->n], 0, sizeof(q->t[q->n]));
	memcpy(q->t[q->n].term, term, strlen(term) + 1);
	q->t[q->n].w = w;
	q->n++;
}

typedef void (*term_fn)(void *arg, const char *term);

/* ASCII only, without the locale's tables: this runs on every byte of the tree */
#define A_LOWER(c) ((c) >= 'a' && (c) <= 'z')
#define A_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define A_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define A_TOLOWER(c) ((char)(A_UPPER(c) ? (c) + ('a' - 'A') : (c)))

/* `s` (2 <= len < TERM_MAX) lower-cased into w. For the code's words (`code`
 * set) a word whose first two letters start none of the query's terms is
 * passed on as NULL at once (it counts for the length only) and 0 returned. */
static int lower_term(char *w, const char *s, size_t len, const struct query *code, term_fn fn,
                      void *arg)
{
	w[0] = A_TOLOWER(s[0]);
	w[1] = A_TOLOWER(s[1]);
	if (code && !pfx_has(code, w)) {
		fn(arg, NULL);
		return 0;
	}
	for (size_t i = 2; i < len; i++)
		w[i] = A_TOLOWER(s[i]);
	w[len] = '\0';
	return 1;
}

/* Normalise one word part (lower-case, stop words out, stemmed) and pass
 * it on. `code` is NULL for the ticket's text; for the code's, the query:
 * a part that cannot be one of its terms is passed on as NULL (it counts
 * for the length only), without the work. */
static void emit_part(const char *s, size_t len, const struct query *code, term_fn fn, void *arg)
{
	char w[TERM_MAX];

	if (len < 2 || len >= TERM_MAX || A_DIGIT(s[0]) || !lower_term(w, s, len, code, fn, arg))
		return;
	/* the ticket loses its function words; the code needs no such check (only
	 * the ticket's terms are counted in it) */
	if (!code && is_stop(w))
		return;
	stem(w);
	fn(arg, w);
}

/* The terms of one identifier-like word: its parts at '_' and case
 * changes, and, when it has several, the whole word as one more term. */
static void word_terms(const char *s, size_t len, const struct query *code, term_fn fn,
                       void *arg)
{
	size_t start = 0, parts = 0;

	for (size_t i = 1; i <= len; i++) {
		int cut = i == len || s[i] == '_';

		if (!cut && A_UPPER(s[i])) {
			if (A_LOWER(s[i - 1]))
				cut = 2;
			else if (i + 1 < len && A_UPPER(s[i - 1]) && A_LOWER(s[i + 1]))
				cut = 2; /* HTTPServer -> HTTP, Server */
		}
		if (!cut)
			continue;
		while (start < i && s[start] == '_')
			start++;
		if (i > start) {
			emit_part(s + start, i - start, code, fn, arg);
			parts++;
		}
		start = cut == 2 ? i : i + 1;
	}
	if (parts > 1 && len < TERM_MAX) {
		char w[TERM_MAX];

		if (lower_term(w, s, len, code, fn, arg))
			fn(arg, w);
	}
}

static int word_char(char c)
{
	return A_LOWER(c) || A_UPPER(c) || A_DIGIT(c) || c == '_';
}

static void text_terms(const char *p, const char *end, const struct query *code, term_fn fn,
                       void *arg)
{
	while (p < end) {
		const char *s;

		while (p < end && !word_char(*p))
			p++;
		s = p;
		while (p < end && word_char(*p))
			p++;
		if (p > s)
			word_terms(s, (size_t)(p - s), code, fn, arg);
	}
}

struct qadd {
	struct query *q;
	double w;
};

static void qadd_term(void *arg, const char *term)
{
	struct qadd *a = arg;

	q_add(a->q, term, a->w);
}

/* The ticket's text without its trailers ("Signed-off-by: ...") and URLs. */
static void query_text(struct query *q, const char *text, double w)
{
	struct qadd a = { q, w };
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n'), *e = nl ? nl : p + strlen(p), *s = p;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if (!(e - s > 3 && memchr(s, ':', (size_t)(e - s)) &&
		      (!strncmp(s, "Signed-off-by", 13) || !strncmp(s, "Co-authored-by", 14) ||
		       !strncmp(s, "Reviewed-by", 11) || !strncmp(s, "Reported-by", 11) ||
		       !strncmp(s, "Acked-by", 8) || !strncmp(s, "Tested-by", 9)))) {
			const char *q0 = s;

			while (q0 < e) {
				const char *sp = q0;

				while (sp < e && *sp != ' ' && *sp != '\t')
					sp++;
				if (!(sp - q0 > 7 && (!strncmp(q0, "http://", 7) || !strncmp(q0, "https://", 8))))
					text_terms(q0, sp, NULL, qadd_term, &a);
				q0 = sp < e ? sp + 1 : e;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
}

/* The pieces of a candidate compound: p[0..len) stemmed into w. */
static void piece(char *w, const char *p, size_t len)
{
	memcpy(w, p, len);
	w[len] = '\0';
	stem(w);
}

/*
 * A ticket may write as one word what the code spells as two or three
 * ("bashautocompletion" for `bash`, `autocompletion`). Every long ticket word
 * in lower case only is remembered, and its possible pieces (PIECE_MIN letters
 * at least) join the query at weight 0: counted while reading, scoring
 * nothing. After the scan, compound_pieces() gives the weight of such a word
 * the code never writes to its split whose pieces the code all has.
 */
static void compound_words(struct query *q, const char *text)
{
	const char *p = text;

	while (p && *p) {
		const char *s;
		size_t len;
		int lower = 1;
		char w[TERM_MAX];

		while (*p && !word_char(*p))
			p++;
		for (s = p; *p && word_char(*p); p++)
			lower &= A_LOWER(*p);
		len = (size_t)(p - s);
		if (!lower || len < COMPOUND_MIN || len >= TERM_MAX || q->ncomp >= COMPOUNDS)
			continue;
		memcpy(q->comp[q->ncomp], s, len);
		q->comp[q->ncomp++][len] = '\0';
		for (size_t i = 0; i + PIECE_MIN <= len; i++) {
			for (size_t j = i + PIECE_MIN; j <= len; j++) {
				/* a prefix, a suffix, or a middle with room for both ends */
				if ((i == 0 && j == len) || (i && i < PIECE_MIN) ||
				    (j < len && len - j < PIECE_MIN))
					continue;
				piece(w, s + i, j - i);
				q_add(q, w, 0);
			}
		}
	}
}

/* Is p[0..len) a piece the code has (a query term some definition holds)? */
static int piece_known(const struct query *q, const char *p, size_t len, int *at)
{
	char w[TERM_MAX];

	piece(w, p, len);
	*at = q_find(q, w);
	return *at >= 0 && q->t[*at].df_unit > 0;
}

static void compound_pieces(struct query *q)
{
	for (size_t c = 0; c < q->ncomp; c++) {
		const char *s = q->comp[c];
		size_t len = strlen(s);
		char w[TERM_MAX];
		int whole, at[3], n = 0;

		piece(w, s, len);
		whole = q_find(q, w);
		if (whole < 0 || q->t[whole].w <= 0 || q->t[whole].df_file > 0)
			continue; /* not a ticket word, or one the code writes */
		for (size_t i = PIECE_MIN; !n && i + PIECE_MIN <= len; i++)
			if (piece_known(q, s, i, &at[0]) && piece_known(q, s + i, len - i, &at[1]))
				n = 2;
		for (size_t i = PIECE_MIN; !n && i + 2 * PIECE_MIN <= len; i++)
			for (size_t j = i + PIECE_MIN; !n && j + PIECE_MIN <= len; j++)
				if (piece_known(q, s, i, &at[0]) && piece_known(q, s + i, j - i, &at[1]) &&
				    piece_known(q, s + j, len - j, &at[2]))
					n = 3;
		for (int k = 0; k < n; k++)
			q->t[at[k]].w += q->t[whole].w;
	}
}

/* Counting one document's query terms. */
struct counter {
	const struct query *q;
	uint16_t tf[QTERMS_MAX];
	size_t len;
	unsigned mult;
	struct counter *also; /* counts the same terms too (the file, while in a definition) */
};

static void count_one(struct counter *c, int at)
{
	c->len += c->mult;
	if (at >= 0 && c->tf[at] < UINT16_MAX - 16)
		c->tf[at] = (uint16_t)(c->tf[at] + c->mult);
}

static void count_term(void *arg, const char *term)
{
	struct counter *c = arg;
	int at = term ? q_find(c->q, term) : -1;

	count_one(c, at);
	if (c->also)
		count_one(c->also, at);
}

int wd_ctx_path_is_test(const char *path)
{
	const char *p = path;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (len >= 4 && !strncasecmp(p, "test", 4))
			return 1;
		if (!slash) {
			const char *dot = memrchr(p, '.', len);
			size_t stem_len = dot ? (size_t)(dot - p) : len;

			return (stem_len > 5 && !strncmp(p + stem_len - 5, "_test", 5)) ||
			       (stem_len > 5 && !strncmp(p + stem_len - 5, "_spec", 5)) ||
			       (stem_len > 6 && !strncmp(p + stem_len - 6, "-tests", 6));
		}
		p = slash + 1;
	}
}

static int cmp_def_start(const void *a, const void *b)
{
	const wd_map_def *x = a, *y = b;

	if (x->start_line != y->start_line)
		return x->start_line < y->start_line ? -1 : 1;
	return x->end_line > y->end_line ? -1 : x->end_line < y->end_line;
}

/* Byte offsets of every line start of p[0..len), plus len at the end. */
static size_t *line_starts(const char *p, size_t len, size_t *nlines)
{
	size_t n = 1, k = 1, cap = 0;
	size_t *v = NULL;
	const char *q = p, *end = p + len, *nl;

	if (WD_ARRAY_RESERVE(v, cap, len / 32 + 16, 16) != 0)
		return NULL;
	v[0] = 0;
	while (q < end && (nl = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		if (WD_ARRAY_RESERVE(v, cap, k + 2, 16) != 0) {
			free(v);
			return NULL;
		}
		v[k++] = (size_t)(nl - p) + 1;
		q = nl + 1;
		n++;
	}
	v[k] = len;
	*nlines = n;
	return v;
}

static int hits_push(struct hits *h, uint32_t doc, const struct counter *c, size_t nq)
{
	for (size_t t = 0; t < nq; t++) {
		if (!c->tf[t])
			continue;
		int rc = WD_ARRAY_RESERVE(h->v, h->cap, h->n + 1, 1024);

		if (rc)
			return rc;
		h->v[h->n].doc = doc;
		h->v[h->n].term = (uint16_t)t;
		h->v[h->n].tf = c->tf[t];
		h->n++;
	}
	return 0;
}

static int is_function(int kind)
{
	return kind == WD_TAG_FUNCTION || kind == WD_TAG_METHOD;
}

/*
 * A function nested in another (a Python test's `def cli():`, a closure) is
 * sent with the lines of the outermost function around it, when that is not
 * large: two lines of a local callback say nothing without the code that
 * defines and calls it. A class stops the climb (a method stays a method).
 * `u` holds one file's units in file order (outer before inner).
 */
static int widen_nested(wd_ctx_unit *u, size_t n)
{
	size_t *stack = n ? malloc(n * sizeof(*stack)) : NULL, depth = 0;
	size_t *outer = n ? malloc(n * sizeof(*outer)) : NULL;

	if (n && (!stack || !outer)) {
		free(stack);
		free(outer);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;

		while (depth && (u[stack[depth - 1]].end_line < u[i].end_line ||
		                 u[stack[depth - 1]].start_line > u[i].start_line))
			depth--;
		outer[i] = i;
		for (k = depth; k > 0 && is_function(u[stack[k - 1]].kind); k--)
			outer[i] = stack[k - 1];
		stack[depth++] = i;
	}
	for (size_t i = 0; i < n; i++) {
		const wd_ctx_unit *o = &u[outer[i]];

		if (outer[i] == i || !is_function(u[i].kind) || o->bytes > NEST_WHOLE)
			continue;
		u[i].within = o->name;
		u[i].start_line = o->start_line;
		u[i].end_line = u[i].head_end = o->end_line;
		u[i].bytes = u[i].head_bytes = o->bytes;
	}
	free(stack);
	free(outer);
	return 0;
}

/* One file: each of its definitions is a unit, counted; the file as a
 * whole too, in the same pass over its text. */
static int scan_file(struct scan *s, const wd_map *m, const char *path, const char *p, size_t len)
{
	wd_map_def *d = NULL;
	size_t nd = 0, nlines = 0, *ls = NULL, next = 1; /* next line not yet counted */
	size_t first = s->nu;
	struct counter *c = NULL, *fc = NULL;
	int test = wd_ctx_path_is_test(path), rc;

	if ((rc = wd_map_file_definitions(&d, &nd, m, path)) != 0)
		return rc;
	if (!nd)
		goto out;
	qsort(d, nd, sizeof(*d), cmp_def_start);
	ls = line_starts(p, len, &nlines);
	c = calloc(1, sizeof(*c));
	fc = calloc(1, sizeof(*fc));
	if (!ls || !c || !fc) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = WD_ARRAY_RESERVE(s->u, s->cu, s->nu + nd, 64)) != 0)
		goto out;
	c->q = fc->q = s->q;
	fc->mult = PATH_WEIGHT;
	text_terms(path, path + strlen(path), s->q, count_term, fc);
	fc->mult = 1;
	for (size_t i = 0; i < nd; i++) {
		wd_ctx_unit *u = &s->u[s->nu];
		size_t start = d[i].start_line, end = d[i].end_line, cs;

		if (start < 1 || start > nlines)
			continue;
		if (end > nlines || end < start)
			end = nlines;
		memset(u, 0, sizeof(*u));
		u->path = d[i].path;
		u->name = d[i].name;
		u->signature = d[i].signature;
		u->kind = (int)d[i].kind;
		u->start_line = start;
		u->end_line = end;
		u->bytes = ls[end] - ls[start - 1];
		u->rank = d[i].rank;
		u->file = s->nf;
		u->test = test;
		/* a container (a class, a struct with members) counts by its head;
		 * lines another definition counted already count once */
		if (i + 1 < nd && d[i + 1].start_line > start && d[i + 1].start_line <= end)
			end = d[i + 1].start_line - 1;
		u->head_end = end;
		u->head_bytes = ls[end] - ls[start - 1];
		cs = start < next ? next : start;
		if (next < cs) /* lines outside any definition: the file's only */
			text_terms(p + ls[next - 1], p + ls[cs - 1], s->q, count_term, fc);
		memset(c->tf, 0, sizeof(c->tf));
		c->len = 0;
		c->also = NULL;
		c->mult = NAME_WEIGHT - 1;
		text_terms(d[i].name, d[i].name + strlen(d[i].name), s->q, count_term, c);
		c->mult = 1;
		c->also = fc;
		if (cs <= end) {
			text_terms(p + ls[cs - 1], p + ls[end], s->q, count_term, c);
			next = end + 1;
		}
		u->len = c->len;
		s->unit_len_sum += c->len;
		for (size_t t = 0; t < s->q->n; t++)
			s->q->t[t].df_unit += c->tf[t] != 0;
		if ((rc = hits_push(&s->uh, (uint32_t)s->nu, c, s->q->n)) != 0)
			goto out;
		s->nu++;
	}
	if ((rc = widen_nested(s->u + first, s->nu - first)) != 0)
		goto out;
	if (next <= nlines)
		text_terms(p + ls[next - 1], p + len, s->q, count_term, fc);
	for (size_t t = 0; t < s->q->n; t++)
		s->q->t[t].df_file += fc->tf[t] != 0;
	if ((rc = hits_push(&s->fh, (uint32_t)s->nf, fc, s->q->n)) != 0)
		goto out;
	s->f[s->nf].len = fc->len;
	s->file_len_sum += fc->len;
	s->nf++;
out:
	free(fc);
	free(c);
	free(ls);
	free(d);
	return rc;
}

static double bm25(double idf, double tf, double len, double avg)
{
	return idf * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * len / avg));
}

static double qweight(const struct qterm *t)
{
	return 1 + log(t->w);
}

/* Score the units and say which ticket words each matched (the best five). */
static void score(struct scan *s)
{
	double avg_u = s->nu ? (double)s->unit_len_sum / (double)s->nu : 1;
	double avg_f = s->nf ? (double)s->file_len_sum / (double)s->nf : 1;
	double maxrank = 0;
	size_t i;

	if (avg_u <= 0)
		avg_u = 1;
	if (avg_f <= 0)
		avg_f = 1;
	for (size_t t = 0; t < s->q->n; t++) {
		struct qterm *q = &s->q->t[t];

		q->idf_unit = log(1 + ((double)s->nu - (double)q->df_unit + 0.5) / ((double)q->df_unit + 0.5));
		q->idf_file = log(1 + ((double)s->nf - (double)q->df_file + 0.5) / ((double)q->df_file + 0.5));
	}
	for (i = 0; i < s->fh.n; i++) {
		const struct hit *h = &s->fh.v[i];
		const struct qterm *q = &s->q->t[h->term];

		if (q->w <= 0)
			continue; /* a compound's piece the split did not take */
		s->f[h->doc].score += qweight(q) * bm25(q->idf_file, h->tf, (double)s->f[h->doc].len, avg_f);
	}
	for (i = 0; i < s->nu; i++)
		if (s->u[i].rank > maxrank)
			maxrank = s->u[i].rank;
	for (i = 0; i < s->nu; i++)
		s->u[i].score = (s->u[i].test ? TEST_SHARE : 1) * FILE_SHARE * s->f[s->u[i].file].score +
		                (maxrank > 0 ? RANK_SHARE * s->u[i].rank / maxrank : 0);
	for (i = 0; i < s->uh.n;) {
		size_t j = i, k;
		uint32_t unit = s->uh.v[i].doc;
		double part[5] = { 0 };
		int which[5] = { -1, -1, -1, -1, -1 };
		wd_ctx_unit *u = &s->u[unit];
		size_t w = 0;

		for (; j < s->uh.n && s->uh.v[j].doc == unit; j++) {
			const struct hit *h = &s->uh.v[j];
			const struct qterm *q = &s->q->t[h->term];
			double v;

			if (q->w <= 0)
				continue;
			v = qweight(q) * bm25(q->idf_unit, h->tf, (double)u->len, avg_u);

			u->lexical += v;
			for (k = 0; k < 5; k++) {
				if (which[k] < 0 || v > part[k]) {
					memmove(part + k + 1, part + k, (4 - k) * sizeof(part[0]));
					memmove(which + k + 1, which + k, (4 - k) * sizeof(which[0]));
					part[k] = v;
					which[k] = h->term;
					break;
				}
			}
		}
		u->score += u->test ? TEST_SHARE * u->lexical : u->lexical;
		for (k = 0; k < 5 && which[k] >= 0; k++) {
			const char *term = s->q->t[which[k]].term;
			size_t tl = strlen(term);

			if (w + tl + 3 >= sizeof(u->words))
				break;
			if (w)
				u->words[w++] = ',', u->words[w++] = ' ';
			memcpy(u->words + w, term, tl + 1);
			w += tl;
		}
		i = j;
	}
}

int wd_ctx_unit_cmp(const void *a, const void *b)
{
	const wd_ctx_unit *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	return strcmp(x->path, y->path) ? strcmp(x->path, y->path)
	                                 : (x->start_line < y->start_line ? -1 : 1);
}

static int callable(int kind)
{
	return kind == WD_TAG_FUNCTION || kind == WD_TAG_METHOD || kind == WD_TAG_CLASS ||
	       kind == WD_TAG_MACRO;
}

/* Does p[0..len) use `name` as a whole identifier? */
static int uses(const char *p, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *q = p, *end = p + len;

	while (q < end) {
		const char *hit = memmem(q, (size_t)(end - q), name, nl);

		if (!hit)
			return 0;
		if ((hit == p || !word_char(hit[-1])) && (hit + nl == end || !word_char(hit[nl])))
			return 1;
		q = hit + 1;
	}
	return 0;
}

struct callee {
	const char *name;
	double score;
};

/* Tests that exercise the best definitions: a test unit calling one of
 * them scores a share of it. `u` is in file order (as scanned). */
static int add_test_callers(wd_ctx_unit *u, size_t nu, wd_ctx_reader rd, void *arg)
{
	struct callee callee[CALLEES];
	size_t nc = 0, i, nlines = 0, *ls = NULL;
	const char *cur = NULL;
	wd_buf content = WD_BUF_INIT;
	int rc = 0;

	/* the best-scored definitions outside the tests (a small selection) */
	for (i = 0; i < nu; i++) {
		size_t k;

		if (u[i].test || u[i].lexical <= 0 || !callable(u[i].kind) || strlen(u[i].name) < 4 ||
		    !strncmp(u[i].name, "__", 2))
			continue;
		/* one entry per name: a C declaration and its definition, or two
		 * methods of that name, would take two of the few places */
		for (k = 0; k < nc && strcmp(callee[k].name, u[i].name); k++)
			;
		if (k < nc && callee[k].score >= u[i].score)
			continue;
		if (k < nc) {
			memmove(callee + k, callee + k + 1, (nc - k - 1) * sizeof(callee[0]));
			nc--;
		}
		for (k = nc; k > 0 && callee[k - 1].score < u[i].score; k--)
			if (k < CALLEES)
				callee[k] = callee[k - 1];
		if (k < CALLEES) {
			callee[k].name = u[i].name;
			callee[k].score = u[i].score;
			if (nc < CALLEES)
				nc++;
		}
	}
	for (i = 0; i < nu && nc && !rc; i++) {
		double best = 0;
		const char *by = NULL;

		if (!u[i].test)
			continue;
		if (!cur || strcmp(cur, u[i].path)) {
			cur = u[i].path;
			free(ls);
			ls = NULL;
			wd_buf_clear(&content);
			if (rd(arg, cur, &content) != 0) {
				wd_error_clear();
				continue;
			}
			if (!(ls = line_starts(content.ptr ? content.ptr : "", content.len, &nlines))) {
				rc = wd_error_set(WD_ENOMEM, "out of memory");
				break;
			}
		}
		if (!ls || u[i].end_line > nlines)
			continue;
		for (size_t k = 0; k < nc; k++) {
			const char *p = content.ptr + ls[u[i].start_line - 1];
			size_t len = ls[u[i].end_line] - ls[u[i].start_line - 1];

			if (callee[k].score > best && strcmp(callee[k].name, u[i].name) &&
			    uses(p, len, callee[k].name)) {
				best = callee[k].score;
				by = callee[k].name;
			}
		}
		if (by) {
			u[i].score += CALLEE_SHARE * best;
			u[i].calls = by;
		}
	}
	free(ls);
	wd_buf_free(&content);
	return rc;
}

/* The names p[0..len) calls (at most NAMESET / 2), in an open-addressing
 * set of pointers into p, with their lengths. */
struct nameset {
	const char *s[NAMESET];
	size_t len[NAMESET];
	size_t defs[NAMESET];  /* how many functions of that name */
	size_t n;
};

/* 1 when w[0..len) is in the set, at *slot; else 0, *slot where it would go. */
static int nameset_find(const struct nameset *ns, const char *w, size_t len, size_t *slot)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	for (size_t i = h & (NAMESET - 1);; i = (i + 1) & (NAMESET - 1)) {
		if (!ns->s[i]) {
			*slot = i;
			return 0;
		}
		if (ns->len[i] == len && !memcmp(ns->s[i], w, len)) {
			*slot = i;
			return 1;
		}
	}
}

static void nameset_fill(struct nameset *ns, const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end && ns->n < NAMESET / 2) {
		const char *w, *e;
		size_t slot;

		while (p < end && !word_char(*p))
			p++;
		w = p;
		while (p < end && word_char(*p))
			p++;
		e = p;
		while (e < end && (*e == ' ' || *e == '\t'))
			e++;
		/* a call: `name(`, not an attribute or a variable of that name */
		if (p - w >= 3 && !A_DIGIT(*w) && e < end && *e == '(' &&
		    !nameset_find(ns, w, (size_t)(p - w), &slot)) {
			ns->s[slot] = w;
			ns->len[slot] = (size_t)(p - w);
			ns->n++;
		}
	}
}

/* The functions the best matches call (a number parser's string-to-double
 * helper, in another file): each scores a share of its caller. A ticket
 * says what went wrong, not always where the code that does it lives. */
static int add_called(wd_ctx_unit *u, size_t nu, wd_ctx_reader rd, void *arg)
{
	size_t best[CALLED_BY + 1] = { 0 }, nb = 0, nlines = 0, *ls = NULL, test = nu;
	wd_buf content = WD_BUF_INIT;
	struct nameset *ns = NULL;
	int rc = 0;

	for (size_t i = 0; i < nu; i++) {
		size_t k;

		if (u[i].test && is_function(u[i].kind) && u[i].lexical > 0 &&
		    (test == nu || u[i].score > u[test].score))
			test = i;
		if (u[i].test || u[i].lexical <= 0 || !is_function(u[i].kind))
			continue;
		for (k = nb; k > 0 && u[best[k - 1]].score < u[i].score; k--)
			if (k < CALLED_BY)
				best[k] = best[k - 1];
		if (k < CALLED_BY) {
			best[k] = i;
			if (nb < CALLED_BY)
				nb++;
		}
	}
	/* and the best test, when its words match the ticket better than the
	 * code's: the ticket is about what the tests check, and the helpers it
	 * calls (a check macro of the tests' header) are where a new check goes */
	if (test < nu && (!nb || u[test].lexical > u[best[0]].lexical))
		best[nb++] = test;
	for (size_t b = 0; b < nb && !rc; b++) {
		const wd_ctx_unit *c = &u[best[b]];

		wd_buf_clear(&content);
		free(ls);
		ls = NULL;
		if (rd(arg, c->path, &content) != 0) {
			wd_error_clear();
			continue;
		}
		if (!(ls = line_starts(content.ptr ? content.ptr : "", content.len, &nlines)) ||
		    (!ns && !(ns = malloc(sizeof(*ns))))) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			break;
		}
		if (c->end_line > nlines)
			continue;
		memset(ns, 0, sizeof(*ns));
		nameset_fill(ns, content.ptr + ls[c->start_line - 1],
		             ls[c->end_line] - ls[c->start_line - 1]);
		/* twice: a name many files define (close, run) says little */
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < nu; i++) {
				size_t slot;

				/* a test's helper: a function or a macro, not a method (a
				 * `runner.invoke(`) nor a function nested in another test */
				if (u[i].test != c->test ||
				    (c->test ? u[i].within || (u[i].kind != WD_TAG_FUNCTION &&
				                               u[i].kind != WD_TAG_MACRO)
				             : !is_function(u[i].kind)) ||
				    u[i].bytes > CALLED_MAX ||
				    !strcmp(u[i].name, c->name) || u[i].called_by ||
				    !nameset_find(ns, u[i].name, strlen(u[i].name), &slot))
					continue;
				if (!pass) {
					ns->defs[slot]++;
				} else if (ns->defs[slot] <= CALLED_DEFS) {
					u[i].score += CALLED_SHARE * c->score;
					u[i].called_by = c->name;
				}
			}
		}
	}
	free(ns);
	free(ls);
	wd_buf_free(&content);
	return rc;
}

/* The name of path's last part without its extension and leading '_'s
 * (`_compat` for click/_compat.py), and for a test file without its
 * test_/_test: [*s, *s + *len). */
static void file_stem(const char *path, int test, const char **s, size_t *len)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	*len = dot && dot > base ? (size_t)(dot - base) : strlen(base);
	*s = base;
	if (test && *len > 5 && !strncasecmp(*s, "test_", 5))
		*s += 5, *len -= 5;
	else if (test && *len > 5 && !strncmp(*s + *len - 5, "_test", 5))
		*len -= 5;
	while (*len > 1 && **s == '_')
		(*s)++, (*len)--;
}

/* Is w[0..wl) the whole of s[0..sl) or one of its '_'-separated parts (of
 * three characters or more)? */
static int stem_part(const char *s, size_t sl, const char *w, size_t wl)
{
	for (size_t i = 0; wl >= 3 && i + wl <= sl; i++)
		if ((i == 0 || s[i - 1] == '_') && (i + wl == sl || s[i + wl] == '_') &&
		    !strncasecmp(s + i, w, wl))
			return 1;
	return 0;
}

/* The tests of the best-matching files, found by name (test_dump.c for
 * dump.c, tests/test_termui.py for _termui_impl.py): every unit of such a
 * test file scores a share of the code file's best, so the test the fix
 * will touch or add is close at hand. `u` is in file order. */
static void add_paired_tests(wd_ctx_unit *u, size_t nu)
{
	const wd_ctx_unit *best[PAIR_FILES] = { NULL };
	const char *cs[PAIR_FILES];
	size_t cl[PAIR_FILES], nb = 0;

	/* the best unit of each of the best files (one per file) */
	for (size_t i = 0; i < nu; i++) {
		size_t k, at = nb;

		if (u[i].test || u[i].lexical <= 0)
			continue;
		for (k = 0; k < nb; k++)
			if (best[k]->file == u[i].file)
				at = k;
		if (at < nb && best[at]->score >= u[i].score)
			continue;
		if (at == nb && nb < PAIR_FILES)
			nb++;
		else if (at == nb && best[nb - 1]->score >= u[i].score)
			continue;
		else if (at == nb)
			at = nb - 1;
		for (k = at; k > 0 && best[k - 1]->score < u[i].score; k--)
			best[k] = best[k - 1];
		best[k] = &u[i];
	}
	for (size_t k = 0; k < nb; k++)
		file_stem(best[k]->path, 0, &cs[k], &cl[k]);
	for (size_t i = 0; i < nu; i++) {
		const char *ts;
		size_t tl;
		double add = 0;

		if (!u[i].test)
			continue;
		file_stem(u[i].path, 1, &ts, &tl);
		for (size_t k = 0; k < nb; k++) {
			if ((stem_part(cs[k], cl[k], ts, tl) || stem_part(ts, tl, cs[k], cl[k])) &&
			    PAIR_SHARE * best[k]->score > add) {
				add = PAIR_SHARE * best[k]->score;
				u[i].tests_file = best[k]->path;
			}
		}
		u[i].score += add;
	}
}

/*
 * The end of each test file: a fix's new test is most often appended there
 * (after the last test, or before the C runner that lists them), so the
 * file's last TAIL_DEFS top-level definitions, TAIL_MAX bytes together at
 * most, are marked; the fill sends them with any part of the file it sends
 * (not of a header: the tests' helpers are there, never a test). `u` is in
 * file order; a nested or member unit is not top-level.
 */
static int is_header(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot && (!strcmp(dot, ".h") || !strcmp(dot, ".hh") || !strcmp(dot, ".hpp"));
}

static void mark_tails(wd_ctx_unit *u, size_t nu)
{
	size_t i = 0;

	while (i < nu) {
		size_t j = i, top[TAIL_DEFS], nt = 0, end = 0, bytes = 0;

		for (; j < nu && u[j].file == u[i].file; j++) {
			/* a header of the tests holds their helpers, not a test */
			if (!u[j].test || u[j].start_line <= end || is_header(u[j].path))
				continue;
			end = u[j].end_line;
			memmove(top + 1, top, (TAIL_DEFS - 1) * sizeof(top[0]));
			top[0] = j;
			nt += nt < TAIL_DEFS;
		}
		for (size_t k = 0; k < nt && bytes + u[top[k]].bytes <= TAIL_MAX; k++) {
			bytes += u[top[k]].bytes;
			u[top[k]].tail = 1;
		}
		i = j;
	}
}

/*
 * The tests a ticket's words reach are spread over the test files: every
 * test there calls the best matches (`option`, `invoke`), so one large
 * test file would otherwise take the fill with its fortieth test while the
 * test file the fix touches (test_imports.py for an `echo` change) is not
 * reached. Each definition of a test file scores TEST_DECAY^j of its score,
 * j being how many of that file's definitions score above it; the
 * TEST_DEEP best-matching test files keep their depth (the fix's test is
 * most likely there, and beside the ones found). `u` is sorted by score;
 * it is sorted again.
 */
static int spread_tests(wd_ctx_unit *u, size_t nu, size_t nf)
{
	size_t *seen = calloc(nf + 1, sizeof(*seen)), deep[TEST_DEEP], nd = 0;

	if (!seen)
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < nu; i++) {
		size_t k, j = seen[u[i].file]++;

		if (!u[i].test)
			continue;
		for (k = 0; k < nd && deep[k] != u[i].file; k++)
			;
		if (k == nd && nd < TEST_DEEP)
			deep[nd++] = u[i].file;
		else if (k == nd && j)
			u[i].score *= pow(TEST_DECAY, (double)j);
	}
	free(seen);
	if (nu)
		qsort(u, nu, sizeof(*u), wd_ctx_unit_cmp);
	return 0;
}

/* Files are scanned in path order; each path string is the map's. */
int wd_ctx_retrieve(wd_ctx_unit **out, size_t *n, const wd_map *m, const char *title,
                    const char *body, wd_ctx_reader rd, void *arg)
{
	struct scan s;
	size_t nfiles = 0;
	const char *const *files = wd_map_files(m, &nfiles);
	wd_buf content = WD_BUF_INIT;
	int rc = 0;

	*out = NULL;
	*n = 0;
	memset(&s, 0, sizeof(s));
	if (!(s.q = calloc(1, sizeof(*s.q))) || !(s.f = calloc(nfiles + 1, sizeof(*s.f)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	query_text(s.q, title, TITLE_WEIGHT);
	query_text(s.q, body, 1);
	compound_words(s.q, title);
	compound_words(s.q, body);
	for (size_t t = 0; t < s.q->n; t++) {
		unsigned k = pfx_key(s.q->t[t].term);

		s.q->pfx[k >> 6] |= 1ull << (k & 63);
	}
	for (size_t i = 0; i < nfiles && !rc; i++) {
		if (wd_map_is_vendored(m, files[i]) || !wd_lang_for_path(files[i]))
			continue;
		wd_buf_clear(&content);
		if (rd(arg, files[i], &content) != 0) {
			wd_error_clear();
			continue;
		}
		rc = scan_file(&s, m, files[i], content.ptr ? content.ptr : "", content.len);
	}
	if (rc)
		goto out;
	compound_pieces(s.q);
	score(&s);
	if ((rc = add_test_callers(s.u, s.nu, rd, arg)) != 0)
		goto out;
	if ((rc = add_called(s.u, s.nu, rd, arg)) != 0)
		goto out;
	add_paired_tests(s.u, s.nu);
	mark_tails(s.u, s.nu);
	if (s.nu)
		qsort(s.u, s.nu, sizeof(*s.u), wd_ctx_unit_cmp);
	if ((rc = spread_tests(s.u, s.nu, s.nf)) != 0)
		goto out;
	*out = s.u;
	*n = s.nu;
	s.u = NULL;
out:
	wd_buf_free(&content);
	free(s.u);
	free(s.uh.v);
	free(s.fh.v);
	free(s.f);
	free(s.q);
	return rc;
}
