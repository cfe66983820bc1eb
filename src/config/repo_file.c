/*
 * The repository's .warden/config arrives with the code under change, so its
 * [include] and [includeIf] sections must not make warden open a file of the
 * host (`[include] path = /etc/passwd` made the run die parsing it). libgit2
 * 1.5 always follows includes and has no switch for it, so the file is read
 * here and, when it has include sections, loaded from a copy without them.
 *
 * A section header is recognised leniently (spaces inside the brackets,
 * any case, the old "[include.sub]" form): a line libgit2 would read as
 * part of a value but this reads as an include header only drops more,
 * never less.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "config_int.h"

#define REPO_FILE_MAX ((size_t)1 << 20)

/* 1 when the line is a section header, with the section's name lowercased
 * in name[] (up to '.', '"', ']' or a blank); 0 otherwise. */
static int header(const char *s, size_t len, char *name, size_t cap)
{
	size_t i = 0, n = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] != '[')
		return 0;
	i++;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '-') && n + 1 < cap)
		name[n++] = (char)tolower((unsigned char)s[i++]);
	name[n] = '\0';
	return 1;
}

static int is_include(const char *name)
{
	return !strcmp(name, "include") || !strcmp(name, "includeif");
}

int wd_config__strip_includes(wd_buf *out, wd_strvec *dropped, const char *text, size_t len)
{
	size_t pos = 0;
	int in_include = 0, rc = 0;

	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char name[32];

		if (header(text + pos, l, name, sizeof(name))) {
			in_include = is_include(name);
			if (in_include && !wd_strvec_contains(dropped, name))
				rc = wd_strvec_push(dropped, name);
		}
		if (!rc && !in_include)
			rc = wd_buf_put(out, text + pos, l + (nl ? 1 : 0));
		pos += l + (nl ? 1 : 0);
	}
	return rc;
}

int wd_config__repo_copy(char **tmp_path, wd_strvec *dropped, const char *path)
{
	wd_buf text = WD_BUF_INIT, clean = WD_BUF_INIT, tmp = WD_BUF_INIT;
	const char *dir = getenv("TMPDIR");
	int rc, fd = -1;

	*tmp_path = NULL;
	if ((rc = wd_file_read(&text, path, REPO_FILE_MAX)) != 0)
		goto out;
	if ((rc = wd_config__strip_includes(&clean, dropped, text.ptr ? text.ptr : "",
	                                    text.len)) != 0 || dropped->n == 0)
		goto out;
	if ((rc = wd_buf_printf(&tmp, "%s/warden-repo-config-XXXXXX",
	                        dir && *dir == '/' ? dir : "/tmp")) != 0)
		goto out;
	if ((fd = mkstemp(tmp.ptr)) < 0) {
		rc = wd_error_errno(WD_EINFRA, tmp.ptr);
		goto out;
	}
	if (clean.len && write(fd, clean.ptr, clean.len) != (ssize_t)clean.len) {
		rc = wd_error_errno(WD_EINFRA, tmp.ptr);
		unlink(tmp.ptr);
		goto out;
	}
	*tmp_path = wd_buf_detach(&tmp);
	if (!*tmp_path)
		rc = WD_ENOMEM;
out:
	if (fd >= 0)
		close(fd);
	wd_buf_free(&text);
	wd_buf_free(&clean);
	wd_buf_free(&tmp);
	return rc;
}
