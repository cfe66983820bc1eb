/*
 * Glob matching without backtracking, and the listing of a hostile tree by
 * pattern (syntax in warden/beneath.h).
 *
 * A pattern compiles to a small automaton, one state per token; matching
 * keeps the set of states alive after each character of the path, so the
 * cost is O(tokens) per character whatever the pattern. The walk feeds the
 * characters of each directory name (and its '/') once and carries the set
 * down: a directory is entered only while some state is alive, and each
 * entry costs O(tokens x name length).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/beneath.h"
#include "warden/error.h"
#include "beneath_int.h"

#define GLOB_DEFAULT_MAX 1000
#define GLOB_DEPTH 64
#define GLOB_VISIT_MAX 100000

enum g_kind {
	G_LIT,     /* the character c */
	G_ANY,     /* '?': one character but '/' */
	G_CLASS,   /* '[...]' at pat[at]: one character but '/' */
	G_STAR,    /* '*': any characters but '/' */
	G_ANYSTR,  /* '**' not followed by '/': any characters */
	G_DIRS0,   /* '**' '/', first state: nothing, or anything ending in '/' ... */
	G_DIRS1    /* ... second state: inside that anything */
};

typedef struct g_tok {
	unsigned char kind;
	unsigned char c;
	size_t at;
} g_tok;

typedef struct g_prog {
	const char *pat;
	g_tok *t;
	size_t n; /* tokens; state n accepts */
} g_prog;

/* The length of the bracket expression at p (p[0] == '['), 0 when it is not
 * closed (then '[' is literal). */
static size_t class_len(const char *p)
{
	const char *q = p + 1;

	if (*q == '!' || *q == '^')
		q++;
	if (*q == ']')
		q++;
	while (*q && *q != ']')
		q++;
	return *q == ']' ? (size_t)(q - p) + 1 : 0;
}

static int class_has(const char *p, unsigned char c)
{
	const unsigned char *q = (const unsigned char *)p + 1;
	int neg = 0, hit = 0;

	if (*q == '!' || *q == '^') {
		neg = 1;
		q++;
	}
	if (*q == ']') { /* a leading ']' is literal */
		hit |= c == ']';
		q++;
	}
	for (; *q != ']'; q++) {
		if (q[1] == '-' && q[2] && q[2] != ']') {
			hit |= c >= q[0] && c <= q[2];
			q += 2;
		} else {
			hit |= c == *q;
		}
	}
	return hit ^ neg;
}

static int g_compile(g_prog *g, const char *pat)
{
	size_t len = strlen(pat), i = 0;

	g->pat = pat;
	g->n = 0;
	/* every token takes at least one character, the '**' '/' pair three */
	if (!(g->t = calloc(len + 1, sizeof(*g->t))))
		return -1;
	while (pat[i]) {
		g_tok *t = &g->t[g->n++];
		size_t j = i, cl;

		switch (pat[i]) {
		case '*':
			while (pat[j] == '*')
				j++;
			if (j - i == 1) {
				t->kind = G_STAR;
			} else if (pat[j] == '/') {
				t->kind = G_DIRS0;
				g->t[g->n++].kind = G_DIRS1;
				j++;
			} else {
				t->kind = G_ANYSTR;
			}
			i = j;
			break;
		case '?':
			t->kind = G_ANY;
			i++;
			break;
		case '[':
			if ((cl = class_len(pat + i)) != 0) {
				t->kind = G_CLASS;
				t->at = i;
				i += cl;
			} else {
				t->kind = G_LIT;
				t->c = '[';
				i++;
			}
			break;
		case '\\':
			if (pat[i + 1])
				i++;
			/* fall through */
		default:
			t->kind = G_LIT;
			t->c = (unsigned char)pat[i++];
			break;
		}
	}
	return 0;
}

/* Add the states reachable from `s` without reading a character. */
static void g_close(const g_prog *g, unsigned char *s)
{
	for (size_t i = 0; i < g->n; i++) {
		if (!s[i])
			continue;
		if (g->t[i].kind == G_STAR || g->t[i].kind == G_ANYSTR)
			s[i + 1] = 1;
		else if (g->t[i].kind == G_DIRS0)
			s[i + 2] = 1;
	}
}

static void g_start(const g_prog *g, unsigned char *s)
{
	memset(s, 0, g->n + 1);
	s[0] = 1;
	g_close(g, s);
}

/* next = the states after reading c from cur; whether any is alive. */
static int g_step(const g_prog *g, const unsigned char *cur, unsigned char *next, unsigned char c)
{
	int alive = 0;

	memset(next, 0, g->n + 1);
	for (size_t i = 0; i < g->n; i++) {
		const g_tok *t = &g->t[i];

		if (!cur[i])
			continue;
		switch (t->kind) {
		case G_LIT:
			next[i + 1] |= c == t->c;
			break;
		case G_ANY:
			next[i + 1] |= c != '/';
			break;
		case G_CLASS:
			next[i + 1] |= c != '/' && class_has(g->pat + t->at, c);
			break;
		case G_STAR:
			next[i] |= c != '/';
			break;
		case G_ANYSTR:
			next[i] = 1;
			break;
		case G_DIRS0:
			next[i + 1] = 1;
			next[i + 2] |= c == '/';
			break;
		default: /* G_DIRS1 */
			next[i] = 1;
			next[i + 1] |= c == '/';
			break;
		}
	}
	g_close(g, next);
	for (size_t i = 0; i <= g->n && !alive; i++)
		alive = next[i];
	return alive;
}

/* Feed s[0..len) to the set `from` (left unchanged), the result in `to`;
 * `tmp` is scratch of the same size. Whether any state is alive. */
static int g_feed(const g_prog *g, const unsigned char *from, unsigned char *to,
                  unsigned char *tmp, const char *s, size_t len)
{
	unsigned char *a = to, *b = tmp;

	/* alternate so that the last step writes into `to` */
	if (len % 2) {
		a = tmp;
		b = to;
	}
	memcpy(a, from, g->n + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char *x;

		if (!g_step(g, a, b, (unsigned char)s[i])) {
			memset(to, 0, g->n + 1);
			return 0;
		}
		x = a;
		a = b;
		b = x;
	}
	return 1;
}

int wd_glob_match(const char *pattern, const char *path)
{
	g_prog g;
	unsigned char *s;
	int m = 0;

	if (!pattern || !path || g_compile(&g, pattern) < 0)
		return 0;
	if ((s = malloc(3 * (g.n + 1))) != NULL) {
		g_start(&g, s);
		m = g_feed(&g, s, s + g.n + 1, s + 2 * (g.n + 1), path, strlen(path)) &&
		    s[g.n + 1 + g.n];
		free(s);
	}
	free(g.t);
	return m;
}

/* ----------------------------------------------------------------- walk */

typedef struct g_walk {
	g_prog g;
	unsigned char *level; /* GLOB_DEPTH + 1 state sets: after "dir/" at each depth */
	unsigned char *name;  /* after the entry's name */
	unsigned char *tmp;
	wd_strvec found;
	size_t max, visited;
	char path[PATH_MAX]; /* the directory being listed, "" or "a/b/" */
} g_walk;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort `found` and keep its first `keep`. */
static void keep_first(wd_strvec *v, size_t keep)
{
	if (v->n > 1)
		qsort(v->v, v->n, sizeof(*v->v), cmp_str);
	while (v->n > keep) {
		free(v->v[--v->n]);
		v->v[v->n] = NULL;
	}
}

static unsigned char *level(g_walk *w, int depth)
{
	return w->level + (size_t)depth * (w->g.n + 1);
}

static int glob_dir(g_walk *w, int parent, const char *name, size_t plen, int depth)
{
	int fd = wd_beneath__open_dir(parent, name), rc = 0;
	struct dirent *e;
	DIR *d;

	if (fd < 0) /* unreadable, or no longer a directory: skipped */
		return 0;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	while (!rc && w->visited < GLOB_VISIT_MAX && (e = readdir(d)) != NULL) {
		unsigned char type = e->d_type;
		size_t nlen;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		w->visited++;
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_LNK;
		}
		nlen = strlen(e->d_name);
		if ((type != DT_REG && type != DT_DIR) || plen + nlen + 1 >= PATH_MAX)
			continue;
		if (!g_feed(&w->g, level(w, depth), w->name, w->tmp, e->d_name, nlen))
			continue;
		memcpy(w->path + plen, e->d_name, nlen + 1);
		if (type == DT_REG) {
			if (!w->name[w->g.n])
				continue;
			if (wd_strvec_push(&w->found, w->path) != 0)
				rc = WD_ENOMEM;
			else if (w->found.n >= 2 * w->max)
				keep_first(&w->found, w->max);
			continue;
		}
		if (depth + 1 > GLOB_DEPTH || plen + nlen + 2 >= PATH_MAX ||
		    !g_step(&w->g, w->name, level(w, depth + 1), '/'))
			continue;
		w->path[plen + nlen] = '/';
		w->path[plen + nlen + 1] = '\0';
		rc = glob_dir(w, dirfd(d), e->d_name, plen + nlen + 1, depth + 1);
	}
	closedir(d);
	return rc;
}

int wd_beneath_glob(wd_strvec *out, int root, const char *pattern, size_t max)
{
	g_walk *w;
	const char *c;
	int rc = 0;

	if (!pattern)
		return wd_error_set(WD_EINPUT, "empty glob pattern");
	while (pattern[0] == '.' && pattern[1] == '/')
		pattern += 2;
	if (!*pattern)
		return wd_error_set(WD_EINPUT, "empty glob pattern");
	if (*pattern == '/')
		return wd_error_set(WD_EINPUT, "glob '%s': absolute", pattern);
	for (c = pattern;;) {
		size_t n = strcspn(c, "/");

		if (n == 2 && c[0] == '.' && c[1] == '.')
			return wd_error_set(WD_EINPUT, "glob '%s': a '..' component", pattern);
		if (!c[n])
			break;
		c += n + 1;
	}
	if (!(w = calloc(1, sizeof(*w))))
		return wd_error_set(WD_ENOMEM, "glob: out of memory");
	w->max = max ? max : GLOB_DEFAULT_MAX;
	if (g_compile(&w->g, pattern) < 0 ||
	    !(w->level = malloc((GLOB_DEPTH + 3) * (w->g.n + 1)))) {
		rc = wd_error_set(WD_ENOMEM, "glob: out of memory");
		goto out;
	}
	w->name = level(w, GLOB_DEPTH + 1);
	w->tmp = level(w, GLOB_DEPTH + 2);
	g_start(&w->g, level(w, 0));
	if ((rc = glob_dir(w, root, ".", 0, 0)) != 0) {
		rc = wd_error_set(rc, "glob '%s': out of memory", pattern);
		goto out;
	}
	keep_first(&w->found, w->max);
	for (size_t i = 0; i < w->found.n && !rc; i++) {
		if ((rc = wd_strvec_push_owned(out, w->found.v[i])) != 0)
			rc = wd_error_set(WD_ENOMEM, "glob: out of memory");
		w->found.v[i] = NULL;
	}
out:
	wd_strvec_free(&w->found);
	free(w->level);
	free(w->g.t);
	free(w);
	return rc;
}
