/*
 * The model's read-only tools: list, read, grep, find definition, find
 * references. Everything here reads untrusted input twice over (the model's
 * arguments, the repository's files), so every argument is checked by type
 * and size, every file is read beneath the tree's root without following a
 * link (warden/beneath.h), every loop is bounded, every result capped, and
 * the one call whose time the pattern decides (grep) runs in a child process
 * that is killed at its time limit.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "warden/beneath.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/tools.h"

#include "context_int.h"

#define DEFAULT_MAX_CALLS 40
#define DEFAULT_RESULT_CAP (16u * 1024u)
#define READ_MAX (8u * 1024u * 1024u)
#define GREP_FILE_MAX (2u * 1024u * 1024u)
#define GREP_SCAN_MAX (256u * 1024u * 1024u)
#define GREP_LINE_MAX 4096
#define PATTERN_MAX 256
#define GREP_TIME_MS 5000      /* one grep call's wall time, by default */
#define GREP_COLLECT_MAX (1u << 20) /* what the parent takes from the grep child */
#define ARG_PATH_MAX 4095      /* as a path beneath the root may be */
#define ARG_TEXT_MAX 4096      /* a glob, a pattern, a reason */
#define ARG_NAME_MAX 200       /* an identifier */
#define ARG_LINE_MAX 1000000000L
#define REPEAT_PRODUCT_MAX 10000 /* "{m,n}" bounds multiplied: the compiled size */
#define SHOW_LINE_MAX 240

struct wd_tools {
	char *workdir;
	char *root;            /* realpath of workdir */
	int rootfd;            /* root opened for the *_beneath reads */
	long time_ms;          /* one grep call's wall time */
	wd_strvec files;
	wd_map *map;
	int own_map;
	const char *cache_dir_borrowed;
	char *cache_dir;
	size_t max_calls, cap, calls;
	json_t *seen;          /* "name\nargs" of every call made -> its call number */
	json_t *log;
};

int wd_tools_new(wd_tools **out, const char *workdir, const wd_tools_opts *opts)
{
	wd_tools_opts defaults = WD_TOOLS_OPTS_INIT;
	wd_tools *t;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != WD_TOOLS_OPTS_VERSION)
		return wd_error_set(WD_EUSAGE, "wd_tools_opts version %u, expected %u", opts->version,
		                    WD_TOOLS_OPTS_VERSION);
	if (!(t = calloc(1, sizeof(*t))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	t->rootfd = -1;
	t->time_ms = opts->time_limit_ms > 0 ? opts->time_limit_ms : GREP_TIME_MS;
	t->max_calls = opts->max_calls ? opts->max_calls : DEFAULT_MAX_CALLS;
	t->cap = opts->max_result_bytes ? opts->max_result_bytes : DEFAULT_RESULT_CAP;
	if (t->cap < 512)
		t->cap = 512; /* room for a note and a few lines */
	t->map = opts->map;
	if (!(t->log = json_array()) || !(t->seen = json_object()) || !(t->workdir = wd_strdup(workdir)) ||
	    (opts->cache_dir && !(t->cache_dir = wd_strdup(opts->cache_dir)))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto fail;
	}
	if (!(t->root = wd_realpath(workdir))) {
		rc = wd_error_set(WD_ENOTFOUND, "%s: no such work tree", workdir);
		goto fail;
	}
	if ((rc = wd_root_open(&t->rootfd, t->root)) != 0 ||
	    (rc = wd_ctx_list_files(&t->files, t->root, opts->files, NULL)) != 0)
		goto fail;
	*out = t;
	return 0;
fail:
	wd_tools_free(t);
	return rc;
}

void wd_tools_free(wd_tools *t)
{
	if (!t)
		return;
	if (t->own_map)
		wd_map_free(t->map);
	wd_strvec_free(&t->files);
	if (t->rootfd >= 0)
		close(t->rootfd);
	json_decref(t->seen);
	json_decref(t->log);
	free(t->workdir);
	free(t->root);
	free(t->cache_dir);
	free(t);
}

const json_t *wd_tools_log(const wd_tools *t)
{
	return t->log;
}

size_t wd_tools_calls_left(const wd_tools *t)
{
	return t->calls >= t->max_calls ? 0 : t->max_calls - t->calls;
}

/* --- definitions --- */

static json_t *prop(const char *type, const char *desc)
{
	return json_pack("{s:s, s:s}", "type", type, "description", desc);
}

static json_t *tool(const char *name, const char *desc, json_t *props, const char *const *required)
{
	json_t *req = json_array(), *t;

	for (size_t i = 0; req && required[i]; i++)
		json_array_append_new(req, json_string(required[i]));
	json_object_set_new(props, "reason",
	                    prop("string", "Why you need this: what you expect to learn."));
	json_array_append_new(req, json_string("reason"));
	t = json_pack("{s:s, s:s, s:{s:s, s:o, s:o, s:b}}", "name", name, "description", desc,
	              "parameters", "type", "object", "properties", props, "required", req,
	              "additionalProperties", 0);
	return t;
}

json_t *wd_tools_definitions(void)
{
	static const char *const none[] = { NULL };
	static const char *const path[] = { "path", NULL };
	static const char *const pattern[] = { "pattern", NULL };
	static const char *const name[] = { "name", NULL };
	json_t *a = json_array(), *p;

	if (!a)
		return NULL;
	p = json_pack("{s:o, s:o}",
	              "path", prop("string", "Directory to list, relative to the repository root "
	                                     "(default: the whole tree)."),
	              "glob", prop("string", "Only paths matching this glob, e.g. 'src/*.c' or '**/*.py'."));
	json_array_append_new(a, tool("list_files", "List the files of the repository.", p, none));
	p = json_pack("{s:o, s:o, s:o}",
	              "path", prop("string", "File path relative to the repository root."),
	              "start_line", json_pack("{s:s, s:i, s:s}", "type", "integer", "minimum", 1,
	                                      "description", "First line to show (1-based; default 1)."),
	              "end_line", json_pack("{s:s, s:i, s:s}", "type", "integer", "minimum", 1,
	                                    "description", "Last line to show (default: as much as fits)."));
	json_array_append_new(a, tool("read_file", "Read a file of the repository, or a range of its "
	                                           "lines; lines are shown numbered.", p, path));
	p = json_pack("{s:o, s:o, s:o, s:o}",
	              "pattern", prop("string", "POSIX extended regular expression matched against "
	                                        "each line (at most 256 characters)."),
	              "path", prop("string", "Only files under this directory or matching this glob."),
	              "ignore_case", prop("boolean", "Match case-insensitively."),
	              "max_results", json_pack("{s:s, s:i, s:i, s:s}", "type", "integer", "minimum", 1,
	                                       "maximum", 200, "description",
	                                       "Stop after this many matching lines (default 50)."));
	json_array_append_new(a, tool("grep", "Search the repository's files for lines matching a "
	                                      "regular expression.", p, pattern));
	p = json_pack("{s:o}", "name", prop("string", "Identifier: function, type, macro, class..."));
	json_array_append_new(a, tool("find_definition", "Find where a symbol is defined: file, line "
	                                                 "range, kind and signature.", p, name));
	p = json_pack("{s:o}", "name", prop("string", "Identifier whose uses to find."));
	json_array_append_new(a, tool("find_references", "Find where a symbol is used: the files and "
	                                                 "lines that mention it.", p, name));
	if (json_array_size(a) != 5) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* --- helpers --- */

/* A relative path the model gave: no absolute paths, no "..", nothing in .git.
 * Returns NULL when fine, else why not. */
static const char *bad_path(const char *p)
{
	const char *s = p;

	if (p[0] == '/')
		return "absolute paths are not allowed; give a path relative to the repository root";
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 2 && !strncmp(s, "..", 2))
			return "'..' is not allowed: paths stay inside the repository";
		if (n == 4 && !strncmp(s, ".git", 4))
			return ".git is not part of the work tree";
		s += n;
		while (*s == '/')
			s++;
	}
	return NULL;
}

/* The model's path as the beneath reader wants it: "./a//b/" is "a/b"
 * ("." components and repeated or trailing slashes dropped). A refusal is
 * written to `note` (WD_EREFUSED). */
static int tool_path(wd_buf *rel, wd_buf *note, const char *given)
{
	const char *why = bad_path(given), *s = given;
	int rc = 0;

	if (why)
		return wd_buf_printf(note, "refused: %s: %s\n", given, why) ? WD_ENOMEM : WD_EREFUSED;
	wd_buf_clear(rel);
	while (*s && !rc) {
		size_t n = strcspn(s, "/");

		if (n && !(n == 1 && s[0] == '.'))
			rc = (rel->len && wd_buf_puts(rel, "/")) || wd_buf_put(rel, s, n) ? WD_ENOMEM : 0;
		s += n;
		while (*s == '/')
			s++;
	}
	if (!rc && !rel->len)
		return wd_buf_printf(note, "refused: '%s' names no file\n", given) ? WD_ENOMEM
		                                                                     : WD_EREFUSED;
	return rc ? wd_error_set(WD_ENOMEM, "out of memory") : 0;
}

/* A model-given glob against a listed file: the tools' rules (a leading "./"
 * ignored, "dir/" or "dir" covers the files below it, else a glob as
 * warden/beneath.h describes it), matched in linear time: a pattern of many
 * "**" cannot make it backtrack. */
static int tool_glob(const char *glob, const char *file)
{
	size_t gl;

	while (glob[0] == '.' && glob[1] == '/')
		glob += 2;
	gl = strlen(glob);
	if (gl == 0)
		return 0;
	if (glob[gl - 1] == '/')
		return !strncmp(file, glob, gl);
	if (!strncmp(file, glob, gl) && file[gl] == '/')
		return 1;
	return wd_glob_match(glob, file);
}

/* Does a listed file fall under a model-given directory or glob? */
static int under(const char *file, const char *filter)
{
	size_t n;

	if (!filter || !*filter || !strcmp(filter, "."))
		return 1;
	if (strpbrk(filter, "*?["))
		return tool_glob(filter, file);
	while (filter[0] == '.' && filter[1] == '/')
		filter += 2;
	if (!*filter)
		return 1;
	n = strlen(filter);
	while (n > 1 && filter[n - 1] == '/')
		n--;
	return !strncmp(file, filter, n) && (file[n] == '/' || file[n] == '\0');
}

/* Read a listed or model-given file (a normalised relative path) beneath
 * the root: no link followed, nothing but a regular file opened. */
static int read_beneath(wd_buf *text, const wd_tools *t, const char *rel, size_t max)
{
	wd_buf_clear(text);
	return wd_beneath_read(text, t->rootfd, rel, max);
}

static int put_line(wd_buf *out, const char *path, size_t lineno, const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (len > SHOW_LINE_MAX)
		return wd_buf_printf(out, "%s:%zu: %.*s...\n", path, lineno, SHOW_LINE_MAX, s);
	return wd_buf_printf(out, "%s:%zu: %.*s\n", path, lineno, (int)len, s);
}

/* The arguments of one call, checked by type and size (check_args). */
struct tool_args {
	const char *path, *glob, *pattern, *name, *reason; /* NULL when not given */
	long start_line, end_line, max_results;            /* 0 when not given */
	int ignore_case;
};

enum arg_kind { ARG_PATH, ARG_TEXT, ARG_NAME, ARG_LINE, ARG_COUNT, ARG_BOOL };

static const struct arg_rule {
	const char *key;
	enum arg_kind kind;
	size_t off;
} arg_rules[] = {
	{ "path", ARG_PATH, offsetof(struct tool_args, path) },
	{ "glob", ARG_TEXT, offsetof(struct tool_args, glob) },
	{ "pattern", ARG_TEXT, offsetof(struct tool_args, pattern) },
	{ "name", ARG_NAME, offsetof(struct tool_args, name) },
	{ "reason", ARG_TEXT, offsetof(struct tool_args, reason) },
	{ "start_line", ARG_LINE, offsetof(struct tool_args, start_line) },
	{ "end_line", ARG_LINE, offsetof(struct tool_args, end_line) },
	{ "max_results", ARG_COUNT, offsetof(struct tool_args, max_results) },
	{ "ignore_case", ARG_BOOL, offsetof(struct tool_args, ignore_case) },
};

static int ensure_map(wd_tools *t)
{
	wd_map_opts o = WD_MAP_OPTS_INIT;
	int rc;

	if (t->map)
		return 0;
	o.cache_dir = t->cache_dir;
	o.files = (const char *const *)t->files.v;
	if ((rc = wd_map_build(&t->map, t->root, &o)) != 0)
		return rc;
	t->own_map = 1;
	return 0;
}

/* --- the tools --- */

static int t_list(wd_buf *out, wd_tools *t, const struct tool_args *a)
{
	const char *path = a->path, *glob = a->glob, *why;
	size_t n = 0;
	int rc;

	if (path && *path && (why = bad_path(path)))
		return wd_buf_printf(out, "refused: %s: %s\n", path, why) ? WD_ENOMEM : WD_EREFUSED;
	for (size_t i = 0; i < t->files.n; i++) {
		const char *f = t->files.v[i];

		if (!under(f, path) || (glob && *glob && !tool_glob(glob, f)))
			continue;
		if ((rc = wd_buf_printf(out, "%s\n", f)) != 0)
			return rc;
		n++;
	}
	if (!n)
		return wd_buf_puts(out, "no files match\n");
	return wd_buf_printf(out, "(%zu files)\n", n);
}

static int t_read(wd_buf *out, wd_tools *t, const struct tool_args *a)
{
	const char *path = a->path;
	wd_buf rel = WD_BUF_INIT, text = WD_BUF_INIT;
	size_t start = 1, end = SIZE_MAX, total = 0, line = 1, shown_to = 0;
	const char *p, *lim;
	int rc;

	if (a->start_line > 0)
		start = (size_t)a->start_line;
	if (a->end_line > 0)
		end = (size_t)a->end_line;
	if (end < start)
		return wd_buf_printf(out, "refused: end_line %zu is before start_line %zu\n", end, start)
		       ? WD_ENOMEM : WD_EREFUSED;
	if ((rc = tool_path(&rel, out, path)) != 0)
		goto out;
	rc = read_beneath(&text, t, rel.ptr, READ_MAX);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear();
		rc = wd_buf_printf(out, "%s: no such file in the repository\n", path) ? WD_ENOMEM
		                                                                       : WD_ENOTFOUND;
		goto out;
	}
	if (rc == WD_EREFUSED) {
		struct stat st;
		int link = wd_beneath_lstat(&st, t->rootfd, rel.ptr) == 0 && S_ISLNK(st.st_mode);

		wd_error_clear();
		rc = (link ? wd_buf_printf(out, "refused: %s is a symbolic link; links are not "
		                                "followed (one that leads outside the repository "
		                                "could show any file)\n", path)
		           : wd_buf_printf(out, "refused: %s is not a regular file (or a link lies on "
		                                "the way to it)\n", path)) ? WD_ENOMEM : WD_EREFUSED;
		goto out;
	}
	if (rc) {
		wd_error_clear();
		rc = wd_buf_printf(out, "%s: not a readable regular file of at most %u bytes\n", path,
		                   READ_MAX) ? WD_ENOMEM : WD_EREFUSED;
		goto out;
	}
	if (memchr(text.ptr, '\0', text.len)) {
		rc = wd_buf_printf(out, "%s: binary file (%zu bytes), not shown\n", path, text.len)
		     ? WD_ENOMEM : WD_EREFUSED;
		goto out;
	}
	for (size_t i = 0; i < text.len; i++)
		total += text.ptr[i] == '\n';
	total += text.len && text.ptr[text.len - 1] != '\n';
	if (start > total && total) {
		rc = wd_buf_printf(out, "%s has %zu lines; start_line %zu is past the end\n", path, total,
		                   start) ? WD_ENOMEM : WD_EREFUSED;
		goto out;
	}
	if ((rc = wd_buf_printf(out, "%s (%zu lines)\n", path, total)) != 0)
		goto out;
	/* leave room in the cap for the closing note */
	p = text.ptr;
	lim = text.ptr + text.len;
	while (p < lim && line <= end) {
		const char *nl = memchr(p, '\n', (size_t)(lim - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(lim - p);

		if (line >= start) {
			if (out->len + len + 16 > t->cap - 120 && shown_to >= start)
				break;
			if ((rc = wd_buf_printf(out, "%6zu| %.*s\n", line, (int)len, p)) != 0)
				goto out;
			shown_to = line;
		}
		p += len + (nl ? 1 : 0);
		line++;
	}
	if (shown_to && shown_to < (end < total ? end : total))
		rc = wd_buf_printf(out, "[shown lines %zu-%zu of %zu; ask for start_line %zu to read on]\n",
		                   start, shown_to, total, shown_to + 1);
out:
	wd_buf_free(&rel);
	wd_buf_free(&text);
	return rc;
}

/* Why a grep pattern from the model is refused, or NULL. Back-references
 * make POSIX matching exponential ("^(.*)(.*)(.*)(.*)(.*)(.*)\\6\\5\\4\\3\\2\\1x"
 * ran past 300 s on six files); without them glibc's matcher is polynomial.
 * Interval bounds multiply the compiled automaton, so their product is
 * bounded too. Inside a bracket expression a backslash is literal. */
static const char *grep_pattern_refused(const char *p)
{
	unsigned long product = 1;

	for (; *p; p++) {
		if (*p == '[') {
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					/* "[:alpha:]", "[.x.]", "[=e=]": up to the same mark and ']' */
					const char *q = p + 2;

					while (*q && !(q[0] == p[1] && q[1] == ']'))
						q++;
					if (!*q)
						return NULL; /* regcomp reports it */
					p = q + 2;
					continue;
				}
				p++;
			}
			if (!*p)
				return NULL;
			continue;
		}
		if (*p == '\\' && p[1] >= '1' && p[1] <= '9')
			return "back-references (\\1 to \\9) are not supported; match the text itself";
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '{') {
			unsigned long lo = 0, hi;
			char *end;

			lo = strtoul(p + 1, &end, 10);
			hi = lo;
			if (*end == ',')
				hi = end[1] == '}' ? 1 : strtoul(end + 1, &end, 10);
			if (hi < lo)
				hi = lo;
			if (hi > 1 && (hi > REPEAT_PRODUCT_MAX || (product *= hi) > REPEAT_PRODUCT_MAX))
				return "the repetition counts ({m,n}) are too large";
		}
	}
	return NULL;
}

/* Write all of buf to fd (the grep child's pipe). */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		buf += n;
		len -= (size_t)n;
	}
}

/* One grep scan, in a forked child: the matching lines of the listed files
 * under `path` go to `fd`, then one status line: "\001done", "\001more"
 * (the results or the scan bound are reached) or "\001late" (its deadline
 * passed, checked at every line). Never returns. */
static void grep_child(int fd, const wd_tools *t, const regex_t *re, const char *path, size_t max,
                       uint64_t deadline)
{
	wd_buf out = WD_BUF_INIT, text = WD_BUF_INIT;
	char *line = malloc(GREP_LINE_MAX + 1);
	size_t hits = 0, scanned = 0;
	const char *status = "done";

	if (!line)
		_exit(1);
	for (size_t i = 0; i < t->files.n && status[0] == 'd'; i++) {
		const char *f = t->files.v[i], *p, *lim;
		size_t lineno = 1;

		if (!under(f, path) || bad_path(f))
			continue;
		if (read_beneath(&text, t, f, GREP_FILE_MAX) != 0 ||
		    memchr(text.ptr, '\0', text.len < 8000 ? text.len : 8000))
			continue;
		scanned += text.len;
		p = text.ptr;
		lim = text.ptr + text.len;
		while (p < lim) {
			const char *nl = memchr(p, '\n', (size_t)(lim - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(lim - p);
			size_t mlen = len > GREP_LINE_MAX ? GREP_LINE_MAX : len;

			if (wd_now_ms() > deadline) {
				status = "late";
				break;
			}
			memcpy(line, p, mlen);
			line[mlen] = '\0';
			if (regexec(re, line, 0, NULL, 0) == 0) {
				if (hits == max) {
					status = "more";
					break;
				}
				if (put_line(&out, f, lineno, p, len) != 0)
					_exit(1);
				hits++;
			}
			if (out.len >= 8192) {
				write_all(fd, out.ptr, out.len);
				wd_buf_clear(&out);
			}
			p += len + (nl ? 1 : 0);
			lineno++;
		}
		if (status[0] == 'd' && scanned > GREP_SCAN_MAX)
			status = "more";
	}
	if (wd_buf_printf(&out, "\001%s\n", status) != 0)
		_exit(1);
	write_all(fd, out.ptr, out.len);
	_exit(0);
}

/* Run grep_child and collect what it writes until it ends or its time is up
 * (plus a grace for it to say so itself); then it is killed, whatever a
 * pattern makes regexec do. *late is set when it was killed. */
static int grep_run(wd_buf *got, const wd_tools *t, const regex_t *re, const char *path,
                    size_t max, int *late)
{
	uint64_t deadline = wd_now_ms() + (uint64_t)t->time_ms, end = deadline + 250;
	char chunk[8192];
	int fds[2];
	pid_t pid;

	*late = 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return wd_error_set(WD_EINFRA, "grep: pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return wd_error_set(WD_EINFRA, "grep: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		grep_child(fds[1], t, re, path, max, deadline);
	}
	close(fds[1]);
	for (;;) {
		uint64_t now = wd_now_ms();
		struct pollfd pf = { fds[0], POLLIN, 0 };
		ssize_t n;

		if (now >= end) {
			*late = 1;
			break;
		}
		if (poll(&pf, 1, (int)(end - now)) <= 0)
			continue; /* interrupted or timed out: the clock decides */
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got->len < GREP_COLLECT_MAX && wd_buf_put(got, chunk, (size_t)n) != 0) {
			*late = 1; /* out of memory: stop it and say what came */
			break;
		}
	}
	close(fds[0]);
	kill(pid, SIGKILL); /* a child that has ended is a zombie until reaped: still ours */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}

static int t_grep(wd_buf *out, wd_tools *t, const struct tool_args *a)
{
	const char *pattern = a->pattern, *path = a->path, *why, *st;
	size_t max = a->max_results > 0 ? (size_t)a->max_results : 50, hits = 0;
	int late = 0, more = 0, rc, err;
	regex_t re;
	char msg[160];
	wd_buf got = WD_BUF_INIT;

	if (strlen(pattern) > PATTERN_MAX)
		return wd_buf_printf(out, "refused: the pattern is longer than %d characters\n", PATTERN_MAX)
		       ? WD_ENOMEM : WD_EREFUSED;
	if (path && *path && !strpbrk(path, "*?[") && (why = bad_path(path)))
		return wd_buf_printf(out, "refused: %s: %s\n", path, why) ? WD_ENOMEM : WD_EREFUSED;
	if ((why = grep_pattern_refused(pattern)) != NULL)
		return wd_buf_printf(out, "refused: %s\n", why) ? WD_ENOMEM : WD_EREFUSED;
	if ((err = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | (a->ignore_case ? REG_ICASE : 0))) != 0) {
		regerror(err, &re, msg, sizeof(msg));
		return wd_buf_printf(out, "refused: bad regular expression: %s\n", msg) ? WD_ENOMEM
		                                                                        : WD_EREFUSED;
	}
	rc = grep_run(&got, t, &re, path, max, &late);
	regfree(&re);
	if (rc)
		goto out;
	/* the child's last line says how it ended; killed, it said nothing */
	st = NULL;
	if (got.len >= 2 && got.ptr[got.len - 1] == '\n') {
		const char *nl = memrchr(got.ptr, '\n', got.len - 1);

		st = nl ? nl + 1 : got.ptr;
		if (*st != '\001')
			st = NULL;
	}
	if (st && !late) {
		more = !strncmp(st + 1, "more", 4);
		late = !strncmp(st + 1, "late", 4);
		wd_buf_truncate(&got, (size_t)(st - got.ptr));
	} else {
		const char *nl = got.len ? memrchr(got.ptr, '\n', got.len) : NULL;

		late = 1;
		wd_buf_truncate(&got, nl ? (size_t)(nl - got.ptr) + 1 : 0);
	}
	for (size_t i = 0; i < got.len; i++)
		hits += got.ptr[i] == '\n';
	if ((rc = wd_buf_put(out, got.ptr ? got.ptr : "", got.len)) != 0)
		goto out;
	if (late)
		rc = wd_buf_printf(out, "[stopped after %.1f s (the time limit of a grep) with %zu "
		                   "matching lines; narrow the pattern or the path]\n",
		                   (double)t->time_ms / 1000.0, hits);
	else if (!hits)
		rc = wd_buf_puts(out, "no matches\n");
	else if (more)
		rc = wd_buf_printf(out, "[stopped after %zu matching lines; narrow the pattern or the path]\n",
		                   hits);
out:
	wd_buf_free(&got);
	return rc;
}

static int t_definition(wd_buf *out, wd_tools *t, const struct tool_args *a)
{
	const char *name = a->name;
	wd_map_def *d = NULL;
	size_t n = 0;
	int rc;

	if ((rc = ensure_map(t)) != 0 || (rc = wd_map_find_definitions(&d, &n, t->map, name)) != 0)
		return rc;
	if (!n)
		rc = wd_buf_printf(out, "no definition of '%s' found (grep may find it in files warden "
		                        "cannot parse)\n", name);
	for (size_t i = 0; !rc && i < n; i++)
		rc = wd_buf_printf(out, "%s:%zu-%zu: %s: %s\n", d[i].path, d[i].start_line, d[i].end_line,
		                   wd_tag_kind_name(d[i].kind), d[i].signature);
	free(d);
	return rc;
}

static int is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Lines of `path` where `name` occurs as a whole word. */
static int word_lines(wd_buf *out, wd_tools *t, const char *path, const char *name,
                      wd_buf *text, size_t *scanned, size_t *hits)
{
	size_t nl_ = strlen(name), lineno = 1;
	const char *p, *lim;
	int rc;

	if (bad_path(path) || read_beneath(text, t, path, GREP_FILE_MAX) != 0 ||
	    memchr(text->ptr, '\0', text->len < 8000 ? text->len : 8000)) {
		wd_error_clear();
		return 0;
	}
	*scanned += text->len;
	p = text->ptr;
	lim = text->ptr + text->len;
	while (p < lim && out->len < t->cap) {
		const char *nl = memchr(p, '\n', (size_t)(lim - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(lim - p);
		const char *q = p, *e = p + len;

		while ((q = memmem(q, (size_t)(e - q), name, nl_)) != NULL) {
			int left = q == p || !is_ident_char(q[-1]);
			int right = q + nl_ == e || !is_ident_char(q[nl_]);

			if (left && right) {
				if ((rc = put_line(out, path, lineno, p, len)) != 0)
					return rc;
				(*hits)++;
				break;
			}
			q += nl_;
		}
		p += len + (nl ? 1 : 0);
		lineno++;
	}
	return 0;
}

static int t_references(wd_buf *out, wd_tools *t, const struct tool_args *a)
{
	const char *name = a->name;
	wd_strvec files = WD_STRVEC_INIT;
	wd_buf text = WD_BUF_INIT;
	size_t *counts = NULL, scanned = 0, hits = 0;
	int rc;

	if (!*name || strlen(name) > 200)
		return wd_buf_puts(out, "refused: give one identifier\n") ? WD_ENOMEM : WD_EREFUSED;
	if ((rc = ensure_map(t)) != 0 ||
	    (rc = wd_map_find_referencing_files(&files, &counts, t->map, name)) != 0)
		goto out;
	if (files.n) {
		if ((rc = wd_buf_printf(out, "%zu file%s reference '%s'\n", files.n,
		                        files.n == 1 ? "" : "s", name)) != 0)
			goto out;
		for (size_t i = 0; !rc && i < files.n && out->len < t->cap; i++)
			rc = word_lines(out, t, files.v[i], name, &text, &scanned, &hits);
		goto out;
	}
	/* the map indexes only names the tree defines: for the others, scan */
	for (size_t i = 0; !rc && i < t->files.n && out->len < t->cap && scanned < GREP_SCAN_MAX; i++)
		rc = word_lines(out, t, t->files.v[i], name, &text, &scanned, &hits);
	if (!rc && !hits)
		rc = wd_buf_printf(out, "no references to '%s' found\n", name);
out:
	free(counts);
	wd_strvec_free(&files);
	wd_buf_free(&text);
	return rc;
}

/* --- dispatch --- */

struct spec {
	const char *name;
	int (*fn)(wd_buf *, wd_tools *, const struct tool_args *);
	const char *required;          /* a string argument that must be present, or NULL */
	const char *const args[6];     /* the arguments it takes, NULL-terminated */
};

static const struct spec tools[] = {
	{ "list_files", t_list, NULL, { "path", "glob", "reason", NULL } },
	{ "read_file", t_read, "path", { "path", "start_line", "end_line", "reason", NULL } },
	{ "grep", t_grep, "pattern", { "pattern", "path", "ignore_case", "max_results", "reason",
	                               NULL } },
	{ "find_definition", t_definition, "name", { "name", "reason", NULL } },
	{ "find_references", t_references, "name", { "name", "reason", NULL } },
};

/* One argument's value into its field of `a`, or why not (written to out). */
static int check_arg(wd_buf *out, const char *tool, const struct arg_rule *r, const json_t *v,
                     struct tool_args *a)
{
	char *field = (char *)a + r->off;
	size_t max = r->kind == ARG_PATH ? ARG_PATH_MAX : r->kind == ARG_NAME ? ARG_NAME_MAX
	                                                                    : ARG_TEXT_MAX;
	long lo = 1, hi = r->kind == ARG_COUNT ? 200 : ARG_LINE_MAX;

	switch (r->kind) {
	case ARG_PATH:
	case ARG_TEXT:
	case ARG_NAME:
		/* a string, whole (no NUL inside, which C would cut it at), under its cap */
		if (!json_is_string(v) || json_string_length(v) != strlen(json_string_value(v)) ||
		    json_string_length(v) > max)
			break;
		*(const char **)(void *)field = json_string_value(v);
		return 0;
	case ARG_LINE:
	case ARG_COUNT:
		if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
			return wd_buf_printf(out, "error: %s: \"%s\" must be an integer from %ld to %ld\n",
			                     tool, r->key, lo, hi) ? WD_ENOMEM : WD_EINPUT;
		*(long *)(void *)field = (long)json_integer_value(v);
		return 0;
	case ARG_BOOL:
		if (!json_is_boolean(v))
			return wd_buf_printf(out, "error: %s: \"%s\" must be true or false\n", tool, r->key)
			       ? WD_ENOMEM : WD_EINPUT;
		*(int *)(void *)field = json_is_true(v);
		return 0;
	}
	return wd_buf_printf(out, "error: %s: \"%s\" must be a string of at most %zu bytes "
	                          "without NUL\n", tool, r->key, max) ? WD_ENOMEM : WD_EINPUT;
}

/* The arguments object checked against the tool: every key one it takes,
 * every value of its type and size, the required one present. */
static int check_args(wd_buf *out, const struct spec *sp, const json_t *args, struct tool_args *a)
{
	const char *key;
	json_t *v;
	int rc;

	memset(a, 0, sizeof(*a));
	json_object_foreach((json_t *)args, key, v) {
		const struct arg_rule *r = NULL;
		int takes = 0;

		for (size_t i = 0; sp->args[i]; i++)
			takes |= !strcmp(sp->args[i], key);
		for (size_t i = 0; takes && i < sizeof(arg_rules) / sizeof(arg_rules[0]); i++)
			if (!strcmp(arg_rules[i].key, key))
				r = &arg_rules[i];
		if (!r)
			return wd_buf_printf(out, "error: %s takes no argument \"%.64s\"; see its "
			                          "parameters\n", sp->name, key) ? WD_ENOMEM : WD_EINPUT;
		if ((rc = check_arg(out, sp->name, r, v, a)) != 0)
			return rc;
	}
	if (sp->required && !json_is_string(json_object_get(args, sp->required)))
		return wd_buf_printf(out, "error: %s wants a JSON object with a string \"%s\"\n",
		                     sp->name, sp->required) ? WD_ENOMEM : WD_EINPUT;
	return 0;
}

static int log_call(wd_tools *t, const char *name, json_t *args, const char *reason,
                    const char *status, size_t bytes)
{
	json_t *e = json_pack("{s:I, s:s, s:O, s:s, s:s, s:I}", "n", (json_int_t)t->calls, "name",
	                      name, "arguments", args ? args : json_null(), "reason",
	                      reason ? reason : "", "status", status, "bytes", (json_int_t)bytes);

	if (!e || json_array_append_new(t->log, e) < 0)
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

/* Cut a result at a line boundary to the cap, saying so. */
static int cap_result(wd_buf *out, size_t start, size_t cap)
{
	size_t keep;

	if (out->len - start <= cap)
		return 0;
	keep = start + cap - 80;
	while (keep > start && out->ptr[keep - 1] != '\n')
		keep--;
	wd_buf_truncate(out, keep);
	return wd_buf_printf(out, "[result cut at %zu bytes; ask for less]\n", cap);
}

/* "name\n<arguments but the reason, sorted>": the same call made twice. */
static int call_key(char **out, const char *name, const json_t *key_args)
{
	char *dump = json_dumps(key_args, JSON_SORT_KEYS | JSON_COMPACT);
	wd_buf k = WD_BUF_INIT;

	*out = NULL;
	if (!dump || wd_buf_printf(&k, "%s\n%s", name, dump) != 0) {
		free(dump);
		wd_buf_free(&k);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	free(dump);
	*out = wd_buf_detach(&k);
	return *out ? 0 : wd_error_set(WD_ENOMEM, "out of memory");
}

int wd_tools_run(wd_buf *out, wd_tools *t, const char *name, const json_t *args)
{
	const struct spec *sp = NULL;
	struct tool_args a;
	json_t *key_args = NULL;
	char *key = NULL, *reason = NULL;
	size_t start = out->len;
	const char *status = "ok";
	int rc = 0;

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (name && !strcmp(name, tools[i].name))
			sp = &tools[i];
	t->calls++;
	if (t->calls > t->max_calls) {
		status = "budget";
		rc = wd_buf_printf(out, "refused: the %zu tool calls of this run are spent; write the "
		                        "patch with what you know\n", t->max_calls) ? WD_ENOMEM : WD_EBUDGET;
		goto out;
	}
	if (!sp) {
		status = "invalid";
		rc = wd_buf_printf(out, "error: there is no tool '%.64s'; the tools are list_files, "
		                        "read_file, grep, find_definition, find_references\n",
		                   name ? name : "") ? WD_ENOMEM : WD_EINPUT;
		goto out;
	}
	if (!json_is_object(args)) {
		status = "invalid";
		rc = wd_buf_printf(out, "error: %s wants a JSON object of arguments\n", name)
		     ? WD_ENOMEM : WD_EINPUT;
		goto out;
	}
	if ((rc = check_args(out, sp, args, &a)) != 0) {
		status = "invalid";
		goto out;
	}
	if (a.reason && !(reason = wd_strdup(a.reason))) {
		rc = WD_ENOMEM;
		goto out;
	}
	/* the same call twice is a loop: the reason may change, the arguments may not */
	if (!(key_args = json_deep_copy(args))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	json_object_del(key_args, "reason");
	if ((rc = call_key(&key, name, key_args)) != 0)
		goto out;
	if (json_object_get(t->seen, key)) {
		status = "repeated";
		rc = wd_buf_printf(out, "refused: you already made this exact call (call %lld) and its "
		                        "result has not changed; use that result or ask for something "
		                        "else\n",
		                   (long long)json_integer_value(json_object_get(t->seen, key)))
		     ? WD_ENOMEM : 0;
		goto out;
	}
	if (json_object_set_new(t->seen, key, json_integer((json_int_t)t->calls)) < 0) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	rc = sp->fn(out, t, &a);
	/* a refusal is a result the model reads (the tool wrote it to out), not an error */
	if (rc == WD_EREFUSED || rc == WD_ENOTFOUND) {
		status = "refused";
	} else if (rc) {
		status = "error";
		goto out;
	}
	rc = cap_result(out, start, t->cap);
out:
	if (!rc || rc == WD_EBUDGET || rc == WD_EINPUT) {
		int lrc = log_call(t, name ? name : "", key_args, reason, status, out->len - start);

		if (lrc)
			rc = lrc;
	}
	json_decref(key_args);
	free(key);
	free(reason);
	return rc;
}

int wd_tools_call(wd_buf *out, wd_tools *t, const char *name, const char *arguments_json)
{
	json_error_t jerr;
	json_t *args = json_loads(arguments_json ? arguments_json : "{}", JSON_REJECT_DUPLICATES,
	                          &jerr);
	size_t start = out->len;
	int rc = wd_tools_run(out, t, name, args);

	/* text that is not JSON at all: the parser's reason helps the model */
	if (rc == WD_EINPUT && !args && out->len > start && out->ptr[out->len - 1] == '\n') {
		wd_buf_truncate(out, out->len - 1);
		if (wd_buf_printf(out, ": %s\n", jerr.text) != 0)
			rc = WD_ENOMEM;
	}
	json_decref(args);
	return rc;
}
