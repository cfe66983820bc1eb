/*
 * What a patch may touch, decided before anything is read or written:
 * safe relative paths only, inside the ticket's scope, no binary content, no
 * mode changes unless allowed, and within size limits. The checks that need
 * the work tree (symlinks on the way to a file) live in apply.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "warden/beneath.h"
#include "warden/error.h"
#include "warden/text.h"
#include "patch_int.h"

#define DEFAULT_MAX_FILES 50
#define DEFAULT_MAX_LINES 5000
#define DEFAULT_MAX_WHOLE (64u * 1024u)
#define MAX_PATH_LEN 4096

/* The one glob matcher (warden/beneath.h): a set-of-states simulation,
 * linear in the path for a given pattern, so a hostile scope such as
 * "**a**a**a**a**a**a**a**a**b" cannot make a patch take minutes. */
int wd_patch__glob_match(const char *p, const char *s)
{
	return wd_glob_match(p, s);
}

static int has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* One scope entry (without its '!'): "path:symbol" counts as "path"; a
 * trailing '/' or a plain directory name covers everything below it. */
static int entry_matches(const char *entry, const char *path)
{
	wd_buf pat = WD_BUF_INIT;
	const char *colon;
	size_t len, plen = strlen(path);
	int m = 0;

	while (entry[0] == '.' && entry[1] == '/')
		entry += 2;
	colon = strchr(entry, ':');
	len = colon ? (size_t)(colon - entry) : strlen(entry);
	if (len == 0)
		return 0;
	if (wd_buf_put(&pat, entry, len))
		return 0;
	if (pat.ptr[pat.len - 1] == '/') {
		if (wd_buf_puts(&pat, "**"))
			goto out;
	}
	m = wd_patch__glob_match(pat.ptr, path);
	if (!m && !has_glob(pat.ptr) && plen > pat.len && !strncmp(path, pat.ptr, pat.len) &&
	    path[pat.len] == '/')
		m = 1;
out:
	wd_buf_free(&pat);
	return m;
}

int wd_patch_path_in_scope(const char *path, const char *const *scope)
{
	int allow_entries = 0, allowed = 0;

	if (!path)
		return 0;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (!scope)
		return 1;
	for (size_t i = 0; scope[i]; i++) {
		const char *e = scope[i];

		if (e[0] == '!') {
			if (entry_matches(e + 1, path))
				return 0;
			continue;
		}
		allow_entries++;
		if (!allowed && entry_matches(e, path))
			allowed = 1;
	}
	/* a scope of exclusions only ("!x") names nothing that may change */
	return allowed && allow_entries > 0;
}

const char *wd_patch__path_unsafe(const char *path)
{
	const char *c = path, *why;
	size_t len;

	if (!path || !*path)
		return "empty path";
	len = strlen(path);
	if (len > MAX_PATH_LEN)
		return "path is too long";
	if (path[0] == '/')
		return "absolute path";
	if (path[0] == '~')
		return "path starts with '~'";
	for (const unsigned char *u = (const unsigned char *)path; *u; u++) {
		if (*u < 0x20 || *u == 0x7f)
			return "control character in path";
		if (*u == '\\')
			return "backslash in path";
	}
	if ((why = wd_text_path_deceptive(path)) != NULL)
		return why;
	while (*c) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);

		if (n == 0)
			return "empty path component ('//')";
		if (n == 1 && c[0] == '.')
			return "'.' path component";
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return "path traversal ('..')";
		if (n == 4 && !strncasecmp(c, ".git", 4))
			return "inside .git/";
		if (!slash)
			break;
		c = slash + 1;
		if (!*c)
			return "path ends with '/'";
	}
	return NULL;
}

static size_t changed_lines(const struct wd_patch *p, const wd_pfile *f)
{
	size_t n = 0;

	for (size_t h = 0; h < f->nhunks; h++)
		for (size_t k = f->hunks[h].first; k < f->hunks[h].first + f->hunks[h].n; k++)
			n += p->lines[k].op != WD_PL_CTX;
	return n;
}

static int check_path(wd_patch_report *r, const char *path, const wd_patch_policy *pol)
{
	const char *why = wd_patch__path_unsafe(path);

	if (why)
		return wd_patch__refuse(r, path, 0, "unsafe_path", NULL,
		                        "%s: refused: %s; only relative paths inside the repository "
		                        "can be edited", path, why) ? -1 : 1;
	if (pol && !wd_patch_path_in_scope(path, pol->scope))
		return wd_patch__refuse(r, path, 0, "out_of_scope", NULL,
		                        "%s: refused: outside the ticket's scope; edit only files "
		                        "the scope allows", path) ? -1 : 1;
	return 0;
}

static int mode_refusal(wd_patch_report *r, const wd_pfile *f, const wd_patch_policy *pol)
{
	const char *path = f->new_path ? f->new_path : f->old_path;
	unsigned m = f->new_mode;

	if (m == 0120000 || m == 0160000 || f->old_mode == 0160000)
		return wd_patch__refuse(r, path, 0, "mode", NULL,
		                        "%s: refused: symlinks and submodules cannot be created or "
		                        "changed by a patch", path) ? -1 : 1;
	if (pol->allow_mode_change)
		return 0;
	if ((f->kind == WD_PF_ADD && m && m != 0100644) ||
	    (f->kind != WD_PF_ADD && f->old_mode && m && f->old_mode != m))
		return wd_patch__refuse(r, path, 0, "mode", NULL,
		                        "%s: refused: file mode change (%o) is not allowed; send the "
		                        "content change only", path, m) ? -1 : 1;
	return 0;
}

/* The size of a whole-file replacement's content. */
static size_t whole_bytes(const struct wd_patch *p, const wd_pfile *f)
{
	size_t n = 0;

	for (size_t h = 0; h < f->nhunks; h++)
		for (size_t k = f->hunks[h].first; k < f->hunks[h].first + f->hunks[h].n; k++)
			n += p->lines[k].len + 1;
	return n;
}

int wd_patch__policy_check(wd_patch_report *r, const struct wd_patch *p,
                           const wd_patch_policy *policy)
{
	static const wd_patch_policy defaults = WD_PATCH_POLICY_INIT;
	const wd_patch_policy *pol = policy ? policy : &defaults;
	size_t max_files = pol->max_files ? pol->max_files : DEFAULT_MAX_FILES;
	size_t max_lines = pol->max_lines ? pol->max_lines : DEFAULT_MAX_LINES;
	size_t max_whole = pol->max_whole_bytes ? pol->max_whole_bytes : DEFAULT_MAX_WHOLE;
	size_t total = 0;
	int count = 0, rc;

	for (size_t i = 0; i < p->nfiles; i++) {
		const wd_pfile *f = &p->files[i];
		const char *path = f->new_path ? f->new_path : f->old_path;

		if (f->old_path && (rc = check_path(r, f->old_path, pol)) != 0) {
			if (rc < 0)
				return WD_ENOMEM;
			count++;
		}
		if (f->new_path && (!f->old_path || strcmp(f->old_path, f->new_path)) &&
		    (rc = check_path(r, f->new_path, pol)) != 0) {
			if (rc < 0)
				return WD_ENOMEM;
			count++;
		}
		if (f->binary && !pol->allow_binary) {
			if (wd_patch__refuse(r, path, 0, "binary", NULL,
			                     "%s: refused: binary patches are not accepted; edit text "
			                     "files only", path))
				return WD_ENOMEM;
			count++;
		}
		if (f->copy) {
			if (wd_patch__refuse(r, path, 0, "copy", NULL,
			                     "%s: refused: file copies are not supported; add the new "
			                     "file with its full content", path))
				return WD_ENOMEM;
			count++;
		}
		if (f->whole && whole_bytes(p, f) > max_whole) {
			if (wd_patch__refuse(r, path, 0, "too_large", NULL,
			                     "%s: refused: a whole-file replacement of %zu bytes, more "
			                     "than the limit of %zu; send a diff of the lines that change",
			                     path, whole_bytes(p, f), max_whole))
				return WD_ENOMEM;
			count++;
		}
		if ((rc = mode_refusal(r, f, pol)) != 0) {
			if (rc < 0)
				return WD_ENOMEM;
			count++;
		}
		total += changed_lines(p, f);
	}
	if (p->nfiles > max_files) {
		if (wd_patch__refuse(r, "", 0, "too_many_files", NULL,
		                     "refused: the patch touches %zu files, more than the limit of %zu",
		                     p->nfiles, max_files))
			return WD_ENOMEM;
		count++;
	}
	if (total > max_lines) {
		if (wd_patch__refuse(r, "", 0, "too_many_lines", NULL,
		                     "refused: the patch changes %zu lines, more than the limit of %zu",
		                     total, max_lines))
			return WD_ENOMEM;
		count++;
	}
	return count;
}
