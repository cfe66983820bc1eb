#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "fixture.h"
#include "warden/buf.h"
#include "warden/context.h"
#include "warden/fs.h"

#define FX_TIME 1700000000 /* fixed commit time: fixtures are reproducible */

/*
 * libgit2 1.5.1 (Debian 12) leaks a pcre2 match block on every non-matching
 * git_regexp_search (fixed upstream by libgit2 PR #6382), which runs whenever
 * a remote is created (fetching from a URL). Not ours to fix: tell
 * LeakSanitizer, so that real leaks still fail the tests.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n";
}

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "fixture: %s: %s\n", what, detail ? detail : "");
	return -1;
}

static int fail_git(const char *what)
{
	const git_error *e = git_error_last();

	return fail(what, e && e->message ? e->message : "unknown git error");
}

int fx_tmpdir(char **out)
{
	const char *base = getenv("TMPDIR");
	char tmpl[PATH_MAX];

	*out = NULL;
	if (!base || !*base)
		base = "/tmp";
	if (snprintf(tmpl, sizeof(tmpl), "%s/warden-test-XXXXXX", base) >= (int)sizeof(tmpl))
		return fail("tmpdir", "TMPDIR too long");
	if (!mkdtemp(tmpl))
		return fail("mkdtemp", strerror(errno));
	*out = realpath(tmpl, NULL);
	return *out ? 0 : fail("realpath", strerror(errno));
}

static int mkparents(const char *path)
{
	char *dup = strdup(path), *slash;
	int rc = 0;

	if (!dup)
		return fail("mkparents", "out of memory");
	slash = strrchr(dup, '/');
	if (slash && slash != dup) {
		*slash = '\0';
		rc = wd_mkdir_p(dup, 0) ? fail("mkdir", dup) : 0;
	}
	free(dup);
	return rc;
}

int fx_write_file(const char *path, const char *content)
{
	size_t len = strlen(content);
	FILE *f;

	if (mkparents(path) < 0)
		return -1;
	f = fopen(path, "wb");
	if (!f)
		return fail(path, strerror(errno));
	if (fwrite(content, 1, len, f) != len) {
		fclose(f);
		return fail(path, "short write");
	}
	return fclose(f) == 0 ? 0 : fail(path, strerror(errno));
}

int fx_read_file(char **out, const char *path)
{
	wd_buf b = WD_BUF_INIT;

	*out = NULL;
	if (wd_file_read(&b, path, 0) != 0) {
		wd_buf_free(&b);
		return -1;
	}
	*out = wd_buf_detach(&b);
	return *out ? 0 : -1;
}

void fx_rm_rf(const char *dir)
{
	if (dir && wd_rm_rf(dir) != 0)
		fprintf(stderr, "fixture: could not remove %s\n", dir);
}

static int commit_index(git_repository *repo, git_index *idx, const char *message)
{
	git_signature *sig = NULL;
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_oid tree_id, commit_id;
	git_reference *head = NULL;
	int rc = -1;

	if (git_index_write(idx) < 0 || git_index_write_tree(&tree_id, idx) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0) {
		fail_git("writing tree");
		goto out;
	}
	if (git_signature_new(&sig, "Fixture", "fixture@example.com", FX_TIME, 0) < 0) {
		fail_git("signature");
		goto out;
	}
	if (git_repository_head(&head, repo) == 0) {
		if (git_commit_lookup(&parent, repo, git_reference_target(head)) < 0) {
			fail_git("parent");
			goto out;
		}
	}
	if (git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL,
	                        message ? message : "initial", tree, parent ? 1 : 0, parent) < 0) {
		fail_git("commit");
		goto out;
	}
	rc = 0;
out:
	git_reference_free(head);
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	return rc;
}

/* Write the files and stage them (content NULL = remove). */
static int stage_files(git_index *idx, const char *dir, const char *const *files)
{
	char path[PATH_MAX];

	for (size_t i = 0; files && files[i]; i += 2) {
		const char *content = files[i + 1];

		if (snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= (int)sizeof(path))
			return fail("path too long", files[i]);
		if (!content) {
			if (unlink(path) < 0 && errno != ENOENT)
				return fail(path, strerror(errno));
			if (git_index_remove_bypath(idx, files[i]) < 0)
				return fail_git(files[i]);
			continue;
		}
		if (fx_write_file(path, content) < 0)
			return -1;
		if (git_index_add_bypath(idx, files[i]) < 0)
			return fail_git(files[i]);
	}
	return 0;
}

static int repo_commit(const char *dir, const char *const *files, const char *message, int create)
{
	git_repository *repo = NULL;
	git_index *idx = NULL;
	int rc = -1;

	git_libgit2_init();
	if (create) {
		git_repository_init_options o;

		git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		o.flags = GIT_REPOSITORY_INIT_MKPATH;
		o.initial_head = "main";
		if (git_repository_init_ext(&repo, dir, &o) < 0) {
			fail_git(dir);
			goto out;
		}
	} else if (git_repository_open(&repo, dir) < 0) {
		fail_git(dir);
		goto out;
	}
	if (git_repository_index(&idx, repo) < 0) {
		fail_git("index");
		goto out;
	}
	if (stage_files(idx, dir, files) < 0)
		goto out;
	rc = commit_index(repo, idx, message);
out:
	git_index_free(idx);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

int fx_repo_create(const char *dir, const char *const *files, const char *message)
{
	return repo_commit(dir, files, message, 1);
}

int fx_repo_commit_files(const char *dir, const char *const *files, const char *message)
{
	return repo_commit(dir, files, message, 0);
}

int fx_repo_rev(char out[41], const char *dir, const char *spec)
{
	git_repository *repo = NULL;
	git_object *obj = NULL, *commit = NULL;
	int rc = -1;

	git_libgit2_init();
	if (git_repository_open(&repo, dir) < 0 || git_revparse_single(&obj, repo, spec) < 0 ||
	    git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		fail_git(spec);
		goto out;
	}
	git_oid_tostr(out, 41, git_object_id(commit));
	rc = 0;
out:
	git_object_free(commit);
	git_object_free(obj);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *const fx_publish_paths[] = {
	".git/objects", ".git/refs/heads/warden", ".git/logs/refs/heads/warden",
	".git/refs/notes/warden", ".git/logs/refs/notes/warden", NULL
};

static int skipped(const char *rel, const char *const *skip)
{
	for (size_t i = 0; skip && skip[i]; i++) {
		size_t n = strlen(skip[i]);

		if (!strncmp(rel, skip[i], n) && (rel[n] == '\0' || rel[n] == '/'))
			return 1;
	}
	return 0;
}

/* Is the directory `rel` a proper ancestor of a skipped prefix? Such a
 * directory may exist only to hold skipped entries (refs/notes for
 * refs/notes/warden): its own line is left out, its other entries are not. */
static int holds_skipped(const char *rel, const char *const *skip)
{
	size_t n = strlen(rel);

	for (size_t i = 0; skip && skip[i]; i++)
		if (!strncmp(skip[i], rel, n) && skip[i][n] == '/')
			return 1;
	return 0;
}

/* One line per entry under rel (relative to root), recursively, sorted. */
static int snap_dir(wd_buf *out, const char *root, const char *rel, const char *const *skip)
{
	wd_strvec names = WD_STRVEC_INIT;
	wd_buf path = WD_BUF_INIT, sub = WD_BUF_INIT, full = WD_BUF_INIT;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	wd_buf_printf(&path, "%s%s%s", root, *rel ? "/" : "", rel);
	d = opendir(wd_buf_cstr(&path));
	if (!d) {
		rc = fail(wd_buf_cstr(&path), strerror(errno));
		goto out;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    wd_strvec_push(&names, e->d_name) != 0)
			rc = -1;
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.n && rc == 0; i++) {
		struct stat st;

		wd_buf_clear(&sub);
		wd_buf_printf(&sub, "%s%s%s", rel, *rel ? "/" : "", names.v[i]);
		if (skipped(sub.ptr, skip))
			continue;
		wd_buf_clear(&full);
		wd_buf_printf(&full, "%s/%s", root, sub.ptr);
		if (lstat(full.ptr, &st) < 0) {
			rc = fail(full.ptr, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (!holds_skipped(sub.ptr, skip))
				wd_buf_printf(out, "%06o dir %s\n", (unsigned)st.st_mode, sub.ptr);
			rc = snap_dir(out, root, sub.ptr, skip);
		} else if (S_ISLNK(st.st_mode)) {
			char what[PATH_MAX];
			ssize_t n = readlink(full.ptr, what, sizeof(what) - 1);

			what[n < 0 ? 0 : n] = '\0';
			wd_buf_printf(out, "%06o ->%s %s\n", (unsigned)st.st_mode, what, sub.ptr);
		} else {
			wd_buf content = WD_BUF_INIT;
			char hex[41] = "unreadable";

			if (S_ISREG(st.st_mode) && wd_file_read(&content, full.ptr, 0) == 0)
				wd_hash_hex(hex, content.ptr, content.len);
			wd_buf_free(&content);
			wd_buf_printf(out, "%06o %s %s\n", (unsigned)st.st_mode, hex, sub.ptr);
		}
	}
out:
	wd_strvec_free(&names);
	wd_buf_free(&path);
	wd_buf_free(&sub);
	wd_buf_free(&full);
	return rc;
}

int fx_snapshot(char **out, const char *dir)
{
	return fx_snapshot_except(out, dir, NULL);
}

int fx_snapshot_except(char **out, const char *dir, const char *const *skip)
{
	wd_buf b = WD_BUF_INIT;

	*out = NULL;
	git_libgit2_init(); /* wd_hash_hex hashes through libgit2 */
	if (snap_dir(&b, dir, "", skip) < 0) {
		wd_buf_free(&b);
		git_libgit2_shutdown();
		return -1;
	}
	git_libgit2_shutdown();
	*out = wd_buf_detach(&b);
	return *out ? 0 : -1;
}

static void child(int fd, const char *const *argv, const char *const *env, const char *cwd)
{
	int devnull = open("/dev/null", O_RDONLY);

	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (cwd && chdir(cwd) < 0) {
		fprintf(stderr, "fixture: chdir %s: %s\n", cwd, strerror(errno));
		_exit(127);
	}
	for (size_t i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');

		if (!eq) {
			unsetenv(env[i]);
		} else {
			char key[256];
			size_t n = (size_t)(eq - env[i]);

			if (n >= sizeof(key))
				_exit(127);
			memcpy(key, env[i], n);
			key[n] = '\0';
			setenv(key, eq + 1, 1);
		}
	}
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "fixture: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int fx_run(char **out_output, int *out_status, const char *const *argv,
           const char *const *env, const char *cwd)
{
	wd_buf b = WD_BUF_INIT;
	int fds[2], status;
	char chunk[8192];
	pid_t pid;

	if (out_output)
		*out_output = NULL;
	*out_status = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return fail("pipe", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return fail("fork", strerror(errno));
	}
	if (pid == 0)
		child(fds[1], argv, env, cwd);
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		wd_buf_put(&b, chunk, (size_t)n);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail("waitpid", strerror(errno));
	*out_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (out_output)
		*out_output = wd_buf_detach(&b);
	else
		wd_buf_free(&b);
	return 0;
}

int fx_put_file(const char *root, const char *rel, const char *content)
{
	wd_buf p = WD_BUF_INIT;
	int rc = wd_path_join(&p, root, rel) ? fail("path", rel) : fx_write_file(p.ptr, content);

	wd_buf_free(&p);
	return rc;
}

int fx_put_file_new(const char *root, const char *rel, const char *content)
{
	wd_buf p = WD_BUF_INIT;
	int rc = wd_path_join(&p, root, rel) ? fail("path", rel) : mkparents(p.ptr);

	if (!rc && wd_file_write_atomic(p.ptr, content, strlen(content), 0644) != 0)
		rc = fail(p.ptr, "atomic write");
	wd_buf_free(&p);
	return rc;
}

int fx_one_entry(wd_buf *out, const char *dir, const char *suffix, int with)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t sl = strlen(suffix);
	int n = 0;

	if (!d)
		return fail(dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		int ends = l >= sl && !strcmp(e->d_name + l - sl, suffix);

		if (e->d_name[0] == '.' || ends != with)
			continue;
		wd_buf_clear(out);
		if (wd_path_join(out, dir, e->d_name) != 0)
			n = -2;
		else if (n >= 0)
			n++;
	}
	closedir(d);
	return n == 1 ? 0 : -1;
}

char *fx_get_file(const char *root, const char *rel)
{
	wd_buf p = WD_BUF_INIT, c = WD_BUF_INIT;
	int rc = wd_path_join(&p, root, rel);

	if (!rc)
		rc = wd_file_read(&c, p.ptr, 0);
	wd_buf_free(&p);
	if (rc) {
		wd_buf_free(&c);
		return NULL;
	}
	return wd_buf_detach(&c);
}

char *fx_dir;

void fx_dir_setup(void)
{
	git_libgit2_init();
	if (fx_tmpdir(&fx_dir) != 0)
		abort();
}

void fx_dir_teardown(void)
{
	fx_rm_rf(fx_dir);
	free(fx_dir);
	fx_dir = NULL;
	git_libgit2_shutdown();
}

json_t *fx_context_why(const wd_context *c, const char *path)
{
	size_t i;
	json_t *o;

	json_array_foreach(wd_context_why(c), i, o)
		if (!strcmp(json_string_value(json_object_get(o, "path")), path))
			return o;
	return NULL;
}

int fx_repo_commit_all(git_repository *repo, const char *message)
{
	git_index *idx = NULL;
	git_oid tree_id, commit_id;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_commit *parent = NULL;
	int rc = -1;

	/* on the commit HEAD names, when there is one (an unborn HEAD: none) */
	if (git_repository_head_unborn(repo) == 0 &&
	    git_revparse_single((git_object **)&parent, repo, "HEAD^{commit}") < 0) {
		fail_git("commit: HEAD");
		return -1;
	}
	if (git_repository_index(&idx, repo) < 0 || git_index_add_all(idx, NULL, 0, NULL, NULL) < 0 ||
	    git_index_write(idx) < 0 || git_index_write_tree(&tree_id, idx) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0 ||
	    git_signature_new(&sig, "t", "t@example.com", 1700000000, 0) < 0 ||
	    git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL, message, tree,
	                        parent ? 1 : 0, parent) < 0)
		fail_git("commit");
	else
		rc = 0;
	git_commit_free(parent);
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(idx);
	return rc;
}

int fx_append(char *dst, size_t cap, const char *s)
{
	size_t have = strnlen(dst, cap), add = strlen(s);

	if (have == cap || add >= cap - have)
		return -1;
	memcpy(dst + have, s, add + 1);
	return 0;
}
