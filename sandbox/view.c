/*
 * What the command sees of the file system: an allow-list, planned in the
 * parent (it allocates and reads the host) as an ordered list of mount
 * operations that the child carries out on a fresh root (ns.c), and that
 * Landlock grants from (landlock.c).
 *
 * Visible: the system roots that exist, /sys, the private /tmp and /var/tmp,
 * allow_read and allow_write at their own paths, the work tree. Masked where
 * visible: the deny paths and the secrets in /etc. Order: by depth, so a
 * deeper path wins over its ancestor (mask or bind alike), a mask over a
 * bind of the same path; then the work tree; then the masks inside it.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "sbx.h"

/* Keep in step with the list in include/warden/sandbox.h. */
static const char *const sys_roots[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/nix",
	"/gnu", "/snap", NULL
};

/* Secrets in /etc, masked even though /etc is visible (the build needs
 * passwd, ld.so.cache, ssl/certs, alternatives, ...). */
static const char *const etc_secrets[] = {
	"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/ssl/private",
	"/etc/pki/tls/private", "/etc/sudoers", "/etc/sudoers.d", "/etc/security/opasswd",
	"/etc/krb5.keytab", "/etc/NetworkManager/system-connections", "/etc/wpa_supplicant",
	"/etc/ipsec.secrets", "/etc/ppp/chap-secrets", "/etc/ppp/pap-secrets", NULL
};

static int path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static size_t depth(const char *path)
{
	size_t d = 0;

	for (const char *s = path; *s; s++)
		d += *s == '/' && s[1] != '\0';
	return d;
}

static int add_deny(sbx_plan *p, wd_strvec *owned, const char *path)
{
	char *real = wd_realpath(path);

	wd_error_clear();
	if (!real)
		return 0;  /* not on this machine */
	if (wd_strvec_push_owned(owned, real) != 0)
		return WD_ENOMEM;
	for (size_t i = 0; i < p->ndeny; i++)
		if (!strcmp(p->deny[i], real))
			return 0;
	if (p->ndeny >= SBX_MAX_DENY)
		return wd_error_set(WD_EUSAGE, "sandbox: more than %d paths to deny", SBX_MAX_DENY);
	p->deny[p->ndeny++] = real;
	return 0;
}

static int add_etc_secrets(sbx_plan *p, wd_strvec *owned)
{
	DIR *d;
	struct dirent *e;
	wd_buf b = WD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; etc_secrets[i]; i++)
		if ((rc = add_deny(p, owned, etc_secrets[i])) != 0)
			return rc;
	/* the ssh host keys: /etc/ssh/ssh_host_*_key (not the .pub files) */
	d = opendir("/etc/ssh");
	while (d && !rc && (e = readdir(d)) != NULL) {
		if (fnmatch("ssh_host_*_key", e->d_name, 0) != 0)
			continue;
		wd_buf_clear(&b);
		rc = wd_buf_printf(&b, "/etc/ssh/%s", e->d_name);
		if (!rc)
			rc = add_deny(p, owned, b.ptr);
	}
	if (d)
		closedir(d);
	wd_buf_free(&b);
	return rc;
}

static int push_op(sbx_plan *p, int kind, int is_dir, const char *path, const char *target)
{
	sbx_op *o;

	if (p->nops >= SBX_MAX_OPS)
		return wd_error_set(WD_EUSAGE, "sandbox: too many paths to mount");
	o = &p->ops[p->nops++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->is_dir = is_dir;
	o->path = path;
	o->target = target;
	return 0;
}

static int add_roots(sbx_plan *p, wd_strvec *owned)
{
	struct stat st;
	int rc;

	for (size_t i = 0; sys_roots[i]; i++) {
		if (lstat(sys_roots[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(sys_roots[i], target, sizeof(target) - 1);
			char *t;

			if (n <= 0)
				continue;
			target[n] = '\0';
			if (wd_strvec_push_owned(owned, t = wd_strdup(target)) != 0)
				return WD_ENOMEM;
			rc = push_op(p, SBX_OP_LINK, 0, sys_roots[i], t);
		} else if (S_ISDIR(st.st_mode)) {
			rc = push_op(p, SBX_OP_BIND_RO, 1, sys_roots[i], NULL);
		} else {
			continue;
		}
		if (rc)
			return rc;
	}
	if (stat("/sys", &st) == 0 && S_ISDIR(st.st_mode) &&
	    (rc = push_op(p, SBX_OP_BIND_RO, 1, "/sys", NULL)) != 0)
		return rc;
	if ((rc = push_op(p, SBX_OP_TMPFS, 1, "/tmp", NULL)) != 0 ||
	    (rc = push_op(p, SBX_OP_TMPFS, 1, "/var/tmp", NULL)) != 0)
		return rc;
	return 0;
}

static int add_allowed(sbx_plan *p, const char *const *paths, size_t n, int kind)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int rc;

		/* the whole host, back in through the front door: not what an
		 * allow-list is for (and the new root cannot be covered anyway) */
		if (!strcmp(paths[i], "/"))
			return wd_error_set(WD_EUSAGE, "sandbox: '/' cannot be allowed as a whole; "
			                               "name the directories the command needs");
		if (path_under(paths[i], "/proc"))
			return wd_error_set(WD_EUSAGE, "sandbox: '%s': nothing under /proc can be allowed "
			                               "(the command gets a /proc of its own)", paths[i]);
		if (stat(paths[i], &st) < 0)
			continue;
		if ((rc = push_op(p, kind, S_ISDIR(st.st_mode), paths[i], NULL)) != 0)
			return rc;
	}
	return 0;
}

/* With the host's network, the resolver's file must resolve: on systemd
 * machines /etc/resolv.conf links into /run, which is not shown. That one
 * file is, read-only, at its own path. */
static int add_resolver(sbx_plan *p, wd_strvec *owned)
{
	struct stat st;
	char *real;

	if (p->net != WD_NET_HOST || lstat("/etc/resolv.conf", &st) < 0 || !S_ISLNK(st.st_mode))
		return 0;
	real = wd_realpath("/etc/resolv.conf");
	wd_error_clear();
	if (!real || stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		free(real);
		return 0;
	}
	if (wd_strvec_push_owned(owned, real) != 0)
		return WD_ENOMEM;
	if (sbx_view_visible(p, real))
		return 0;
	return push_op(p, SBX_OP_BIND_RO, 0, real, NULL);
}

static int kind_rank(int kind)
{
	/* at one path: the tmpfs first, then binds, the writable one over the
	 * read-only one, and a mask over everything */
	switch (kind) {
	case SBX_OP_TMPFS: return 0;
	case SBX_OP_LINK: return 1;
	case SBX_OP_BIND_RO: return 2;
	case SBX_OP_BIND_RW: return 3;
	default: return 4;
	}
}

static int op_cmp(const void *a, const void *b)
{
	const sbx_op *x = a, *y = b;
	size_t dx = depth(x->path), dy = depth(y->path);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	if (kind_rank(x->kind) != kind_rank(y->kind))
		return kind_rank(x->kind) - kind_rank(y->kind);
	/* a total order, so that the plan does not depend on qsort's whims */
	return strcmp(x->path, y->path);
}

/* A mask from `from` on with a later mount beneath it stays writable
 * until then (the mount point is made inside it). */
static void mark_open_below(sbx_plan *p, size_t from)
{
	for (size_t i = from; i < p->nops; i++) {
		if (p->ops[i].kind != SBX_OP_MASK)
			continue;
		for (size_t j = i + 1; j < p->nops && !p->ops[i].open_below; j++)
			p->ops[i].open_below = p->ops[j].kind != SBX_OP_MASK &&
			                       strcmp(p->ops[j].path, p->ops[i].path) != 0 &&
			                       path_under(p->ops[j].path, p->ops[i].path);
	}
}

int sbx_view_plan(sbx_plan *p, wd_strvec *owned)
{
	size_t wl, work;
	int rc;

	p->nops = 0;
	if ((rc = add_etc_secrets(p, owned)) != 0 || (rc = add_roots(p, owned)) != 0 ||
	    (rc = add_allowed(p, p->allow_read, p->nallow_read, SBX_OP_BIND_RO)) != 0 ||
	    (rc = add_allowed(p, p->allow_write, p->nallow_write, SBX_OP_BIND_RW)) != 0)
		return rc;
	if ((rc = add_resolver(p, owned)) != 0)
		return rc;
	for (size_t i = 0; i < p->ndeny; i++)
		if ((rc = push_op(p, SBX_OP_MASK, 0, p->deny[i], NULL)) != 0)
			return rc;
	qsort(p->ops, p->nops, sizeof(p->ops[0]), op_cmp);
	work = p->nops;
	if ((rc = push_op(p, SBX_OP_WORK, 1, p->cwd, NULL)) != 0)
		return rc;
	mark_open_below(p, 0);
	/* deny paths inside the work tree: masked again on top of it, where the
	 * command sees them */
	if (p->ovl_upper || !p->workdir)
		return 0;
	wl = strlen(p->workdir);
	for (size_t i = 0; i < p->ndeny; i++) {
		wd_buf b = WD_BUF_INIT;

		if (!path_under(p->deny[i], p->workdir) || !strcmp(p->deny[i], p->workdir))
			continue;
		if (wd_buf_printf(&b, "%s%s", strcmp(p->cwd, "/") ? p->cwd : "",
		                  p->deny[i] + (wl == 1 ? 0 : wl)) != 0) {
			wd_buf_free(&b);
			return WD_ENOMEM;
		}
		if (wd_strvec_push_owned(owned, wd_buf_detach(&b)) != 0)
			return WD_ENOMEM;
		if ((rc = push_op(p, SBX_OP_MASK, 0, owned->v[owned->n - 1], NULL)) != 0)
			return rc;
	}
	mark_open_below(p, work + 1);
	return 0;
}

int sbx_view_visible(const sbx_plan *p, const char *real)
{
	size_t best = 0;
	int vis = 0;

	if (path_under(real, "/proc") || path_under(real, "/dev"))
		return 1;
	for (size_t i = 0; i < p->nops; i++) {
		const sbx_op *o = &p->ops[i];
		size_t n = strlen(o->path);

		if (o->kind == SBX_OP_LINK || !path_under(real, o->path) || n < best)
			continue;
		best = n;
		/* a private tmpfs is empty: what the host keeps there is hidden */
		vis = o->kind == SBX_OP_BIND_RO || o->kind == SBX_OP_BIND_RW ||
		      (o->kind == SBX_OP_WORK && p->workdir && !p->ovl_upper &&
		       !strcmp(p->cwd, p->workdir));
	}
	return vis;
}

/* What to suggest allowing for a hidden directory: the top of it below
 * $HOME (~/.pyenv for ~/.pyenv/shims), else the directory above a bin/. */
static int suggest(wd_buf *out, const char *dir)
{
	const char *home = getenv("HOME");
	char *rhome = home && home[0] == '/' ? wd_realpath(home) : NULL;
	size_t n = rhome ? strlen(rhome) : 0;
	size_t len = strlen(dir);
	int rc;

	wd_error_clear();
	if (rhome && n > 1 && path_under(dir, rhome) && dir[n] == '/') {
		const char *end = strchr(dir + n + 1, '/');

		rc = wd_buf_put(out, dir, end ? (size_t)(end - dir) : len);
	} else if (len > 4 && (!strcmp(dir + len - 4, "/bin") || !strcmp(dir + len - 5, "/sbin"))) {
		rc = wd_buf_put(out, dir, (size_t)(strrchr(dir, '/') - dir));
	} else {
		rc = wd_buf_puts(out, dir);
	}
	free(rhome);
	return rc;
}

static int note_for(wd_buf *note, const char *name, const char *where, const char *dir)
{
	wd_buf s = WD_BUF_INIT;
	int rc = suggest(&s, dir);

	if (!rc)
		rc = wd_buf_printf(note, "warden-sandbox: '%s' is at %s, which the sandbox hides; "
		                         "allow it with --allow-read %s\n", name, where, s.ptr);
	wd_buf_free(&s);
	return rc;
}

#define HINT_DIRS 16
#define HINT_SCAN 8192

/* Is `word` an executable in one of the hidden directories? */
static int try_word(const char *const *dirs, size_t ndirs, const char *word, size_t wlen,
                    wd_buf *note, int *done)
{
	wd_buf b = WD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < ndirs && !*done; i++) {
		struct stat st;

		wd_buf_clear(&b);
		if ((rc = wd_buf_printf(&b, "%s/%.*s", dirs[i], (int)wlen, word)) != 0)
			break;
		if (stat(b.ptr, &st) == 0 && S_ISREG(st.st_mode) && access(b.ptr, X_OK) == 0) {
			char name[256];

			snprintf(name, sizeof(name), "%.*s", (int)wlen, word);
			rc = note_for(note, name, b.ptr, dirs[i]);
			*done = 1;
		}
	}
	wd_buf_free(&b);
	return rc;
}

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '-';
}

/* The words of the lines that say a command was not found. */
static int scan_output(const char *const *dirs, size_t ndirs, const char *out, size_t len,
                       wd_buf *note)
{
	const char *end = out + len, *line = len > HINT_SCAN ? end - HINT_SCAN : out;
	int done = 0, rc = 0;

	while (line < end && !done && !rc) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - line);

		if (memmem(line, ll, "not found", 9) || memmem(line, ll, "No such file", 12)) {
			for (const char *s = line; s < le && !done && !rc;) {
				const char *w = s;

				while (s < le && is_word_char(*s))
					s++;
				/* a word alone, not part of a path */
				if (s > w && (size_t)(s - w) < 256 && w[0] != '.' &&
				    (w == line || w[-1] != '/') && (s == le || *s != '/'))
					rc = try_word(dirs, ndirs, w, (size_t)(s - w), note, &done);
				while (s < le && !is_word_char(*s))
					s++;
			}
		}
		line = le + 1;
	}
	return rc;
}

int sbx_view_hint(const sbx_plan *p, const char *pathvar, const char *output, size_t len,
                  const char *hidden_hit, wd_buf *note)
{
	char *dirs[HINT_DIRS];
	size_t ndirs = 0;
	int rc = 0;

	if (hidden_hit) {
		const char *slash = strrchr(hidden_hit, '/');
		char *dir = slash ? wd_strndup(hidden_hit, (size_t)(slash - hidden_hit)) : NULL;
		char *real = dir ? wd_realpath(dir) : NULL;

		wd_error_clear();
		if (real) {
			wd_buf at = WD_BUF_INIT;

			rc = wd_buf_printf(&at, "%s/%s", real, slash + 1);
			if (!rc)
				rc = note_for(note, slash + 1, at.ptr, real);
			wd_buf_free(&at);
		}
		free(real);
		free(dir);
		return rc;
	}
	while (pathvar && *pathvar && ndirs < HINT_DIRS) {
		const char *colon = strchr(pathvar, ':');
		size_t n = colon ? (size_t)(colon - pathvar) : strlen(pathvar);

		if (n && pathvar[0] == '/') {
			char *d = wd_strndup(pathvar, n), *real = d ? wd_realpath(d) : NULL;

			wd_error_clear();
			if (real && !sbx_view_visible(p, real)) {
				dirs[ndirs++] = real;
				real = NULL;
			}
			free(real);
			free(d);
		}
		pathvar = colon ? colon + 1 : NULL;
	}
	if (ndirs)
		rc = scan_output((const char *const *)dirs, ndirs, output, len, note);
	for (size_t i = 0; i < ndirs; i++)
		free(dirs[i]);
	return rc;
}

int sbx_view_describe(wd_buf *out)
{
	struct stat st;
	size_t nsecrets = 0;
	int rc = wd_buf_puts(out, "allow-list:");

	for (size_t i = 0; !rc && sys_roots[i]; i++) {
		if (lstat(sys_roots[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = wd_buf_printf(out, " %s", sys_roots[i]);
		else if (S_ISLNK(st.st_mode))
			rc = wd_buf_printf(out, " %s(link)", sys_roots[i]);
	}
	for (size_t i = 0; etc_secrets[i]; i++)
		nsecrets += lstat(etc_secrets[i], &st) == 0;
	if (!rc)
		rc = wd_buf_printf(out, " /sys, fresh /proc, minimal /dev, private /tmp /var/tmp and "
		                        "$HOME, the work tree, --allow-read/--allow-write paths; "
		                        "%zu secret%s in /etc and the deny list masked", nsecrets,
		                   nsecrets == 1 ? "" : "s");
	return rc;
}
