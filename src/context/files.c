/*
 * Listing the files of a work tree and matching them against a ticket:
 * the walk (skipping .git, never following symlinks), scope globs, and
 * the paths a ticket's text mentions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "warden/error.h"
#include "warden/fs.h"

#include "context_int.h"

/* A walk stops here so that a mistaken --repo / cannot eat the machine. */
#define WALK_MAX_FILES 500000
#define WALK_MAX_DEPTH 64

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void wd_ctx_sort_paths(wd_strvec *sv)
{
	size_t i = 1;

	/* git's index comes sorted: one pass says so, where a sort compares n log n times */
	while (i < sv->n && strcmp(sv->v[i - 1], sv->v[i]) <= 0)
		i++;
	if (i < sv->n)
		qsort(sv->v, sv->n, sizeof(char *), cmp_str);
}

static int walk_dir(wd_strvec *out, wd_buf *abs, wd_buf *rel, int depth)
{
	DIR *d;
	struct dirent *e;
	size_t abs_len = abs->len, rel_len = rel->len;
	int rc = 0;

	if (depth > WALK_MAX_DEPTH)
		return 0;
	d = opendir(abs->ptr);
	if (!d)
		return 0; /* unreadable directories are simply not listed */
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".git"))
			continue;
		wd_buf_truncate(abs, abs_len);
		wd_buf_truncate(rel, rel_len);
		/* not wd_buf_printf: its vsnprintf was a third of listing a tree */
		if ((rc = wd_buf_putc(abs, '/')) != 0 || (rc = wd_buf_puts(abs, e->d_name)) != 0 ||
		    (rel_len && (rc = wd_buf_putc(rel, '/')) != 0) ||
		    (rc = wd_buf_puts(rel, e->d_name)) != 0)
			break;
		/* d_type spares a stat per entry; filesystems that do not fill it get one */
		if (e->d_type == DT_DIR || e->d_type == DT_REG) {
			st.st_mode = e->d_type == DT_DIR ? S_IFDIR : S_IFREG;
		} else if (e->d_type != DT_UNKNOWN || lstat(abs->ptr, &st) < 0) {
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if ((rc = walk_dir(out, abs, rel, depth + 1)) != 0)
				break;
		} else if (S_ISREG(st.st_mode)) {
			if (out->n >= WALK_MAX_FILES)
				break;
			if ((rc = wd_strvec_push(out, rel->ptr)) != 0)
				break;
		}
	}
	closedir(d);
	wd_buf_truncate(abs, abs_len);
	wd_buf_truncate(rel, rel_len);
	return rc;
}

int wd_ctx_has_git_entry(const char *workdir)
{
	wd_buf p = WD_BUF_INIT;
	struct stat st;
	int has;

	if (wd_path_join(&p, workdir, ".git") != 0) {
		wd_error_clear();
		return 1; /* as if it had one: libgit2 will tell */
	}
	has = lstat(p.ptr, &st) == 0 || errno != ENOENT;
	wd_buf_free(&p);
	return has;
}

/* The files git tracks, when `workdir` is the root of a work tree: 1 when
 * listed, 0 when it is not a git work tree (the caller walks instead). A
 * directory without a .git entry is none (it is at most a bare repository,
 * which has no work tree either): it is told without libgit2. */
static int list_tracked(wd_strvec *out, const char *workdir)
{
	git_repository *repo = NULL;
	git_index *idx = NULL;
	int rc = 0;

	if (!wd_ctx_has_git_entry(workdir))
		return 0;
	if (git_repository_open_ext(&repo, workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		git_error_clear();
		return 0;
	}
	if (git_repository_is_bare(repo) || git_repository_index(&idx, repo) < 0) {
		git_error_clear();
		git_repository_free(repo);
		return 0;
	}
	for (size_t i = 0; i < git_index_entrycount(idx); i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		/* regular files only: no symlinks, no submodules, one entry per conflicted path */
		if ((e->mode & 0170000) != 0100000 || git_index_entry_stage(e) > 1)
			continue;
		if ((rc = wd_strvec_push(out, e->path)) != 0)
			break;
	}
	git_index_free(idx);
	git_repository_free(repo);
	return rc ? rc : 1;
}

int wd_ctx_list_files(wd_strvec *out, const char *workdir, const char *const *files,
                      int *from_index)
{
	wd_buf abs = WD_BUF_INIT, rel = WD_BUF_INIT;
	int rc;

	if (files) {
		for (size_t i = 0; files[i]; i++)
			if ((rc = wd_strvec_push(out, files[i])) != 0)
				return rc;
		wd_ctx_sort_paths(out);
		return 0;
	}
	if (!wd_path_is_dir(workdir))
		return wd_error_set(WD_ENOTFOUND, "%s: not a directory", workdir);
	if (from_index)
		*from_index = 0;
	if ((rc = list_tracked(out, workdir)) != 0) {
		if (rc == 1 && from_index)
			*from_index = 1;
		if (rc == 1)
			wd_ctx_sort_paths(out);
		return rc < 0 ? rc : 0;
	}
	if ((rc = wd_buf_puts(&abs, workdir)) != 0 || (rc = wd_buf_grow(&rel, 0)) != 0)
		goto out;
	while (abs.len > 1 && abs.ptr[abs.len - 1] == '/')
		wd_buf_truncate(&abs, abs.len - 1);
	rc = walk_dir(out, &abs, &rel, 0);
	if (!rc)
		wd_ctx_sort_paths(out);
out:
	wd_buf_free(&abs);
	wd_buf_free(&rel);
	return rc;
}

/* The path part of a scope entry: "src/x.c:sym" -> "src/x.c". */
static int scope_path(wd_buf *out, const char *entry)
{
	const char *colon = strrchr(entry, ':');

	wd_buf_clear(out);
	if (colon && colon != entry && !strchr(colon, '/') && !strchr(colon, '*'))
		return wd_buf_put(out, entry, (size_t)(colon - entry));
	return wd_buf_puts(out, entry);
}

/* One glob against one path: fnmatch with '*' not crossing '/', except that
 * "**" crosses directories and a pattern naming a directory covers its files. */
int wd_ctx_glob_match(const char *glob, const char *path)
{
	size_t gl = strlen(glob);

	while (glob[0] == '.' && glob[1] == '/') {
		glob += 2;
		gl -= 2;
	}
	if (gl == 0)
		return 0;
	if (glob[gl - 1] == '/')
		return !strncmp(path, glob, gl);
	if (!strncmp(path, glob, gl) && path[gl] == '/')
		return 1;
	if (strstr(glob, "**"))
		return fnmatch(glob, path, 0) == 0;
	return fnmatch(glob, path, FNM_PATHNAME) == 0;
}

int wd_ctx_scope_match(const wd_strvec *scope, const char *path, int *denied)
{
	wd_buf pat = WD_BUF_INIT;
	int allowed = 0;

	*denied = 0;
	for (size_t i = 0; i < scope->n; i++) {
		const char *e = scope->v[i];
		int neg = e[0] == '!';

		if (scope_path(&pat, neg ? e + 1 : e) != 0)
			break;
		if (!wd_ctx_glob_match(pat.ptr, path))
			continue;
		if (neg)
			*denied = 1;
		else
			allowed = 1;
	}
	wd_buf_free(&pat);
	return allowed && !*denied;
}

static int is_path_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '/' || c == '-' || c == '+';
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/*
 * Paths mentioned in `text`: every token made of path characters that names a
 * listed file exactly, or (when it has an extension) whose basename names
 * listed files, at most 3 of them, so "fix parse.c" finds src/parse.c.
 */
int wd_ctx_mentioned_paths(wd_strvec *out, const char *text, const wd_strvec *files)
{
	const unsigned char *p = (const unsigned char *)text;
	wd_buf tok = WD_BUF_INIT;
	int rc = 0;

	if (!text)
		return 0;
	while (*p) {
		const unsigned char *s;

		while (*p && !is_path_char(*p))
			p++;
		s = p;
		while (*p && is_path_char(*p))
			p++;
		if (p == s)
			continue;
		wd_buf_clear(&tok);
		if ((rc = wd_buf_put(&tok, s, (size_t)(p - s))) != 0)
			break;
		/* trailing sentence punctuation and leading ./ are not part of the path */
		while (tok.len && (tok.ptr[tok.len - 1] == '.' || tok.ptr[tok.len - 1] == '/' ||
		                   tok.ptr[tok.len - 1] == '-'))
			wd_buf_truncate(&tok, tok.len - 1);
		{
			const char *t = tok.ptr;
			size_t hits = 0;

			while (t[0] == '.' && t[1] == '/')
				t += 2;
			if (!*t || !strchr(t, '.'))
				continue;
			for (size_t i = 0; i < files->n; i++)
				if (!strcmp(files->v[i], t)) {
					hits++;
					if (!wd_strvec_contains(out, t) && (rc = wd_strvec_push(out, t)) != 0)
						goto out;
				}
			if (hits || strchr(t, '/'))
				continue;
			for (size_t i = 0; i < files->n && hits < 3; i++)
				if (!strcmp(base_name(files->v[i]), t)) {
					hits++;
					if (!wd_strvec_contains(out, files->v[i]) &&
					    (rc = wd_strvec_push(out, files->v[i])) != 0)
						goto out;
				}
		}
	}
out:
	wd_buf_free(&tok);
	return rc;
}

/* Read a regular file without following a symlink at its last component. */
int wd_ctx_read_regular(wd_buf *out, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return wd_error_set(WD_ENOTFOUND, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		return wd_error_set(WD_EINPUT, "%s: not a regular file of at most %zu bytes", path, max);
	}
	if (wd_buf_grow(out, (size_t)st.st_size) != 0) {
		close(fd);
		return WD_ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, out->ptr + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	out->len = got;
	out->ptr[got] = '\0';
	return 0;
}
