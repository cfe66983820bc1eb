/*
 * mkrepo DIR SRC [MESSAGE]
 *
 * Make DIR a new git repository holding SRC's files in one commit on branch
 * main (libgit2 only). DIR must not exist or be empty; DIR may also be SRC
 * itself, to turn a plain directory into a repository in place. Files that
 * SRC's .gitignore ignores are left out, as `git add -A` would. The commit is
 * reproducible: a fixed author "warden example <example@localhost>" and time.
 *
 * Exit codes: 0 done, 2 bad input (usage, SRC not a directory or already a
 * repository, DIR not empty), 3 git or filesystem failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#define EXIT_INPUT 2
#define EXIT_INFRA 3
#define FIXED_TIME 1700000000

static int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("mkrepo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int git_die(const char *what)
{
	const git_error *e = git_error_last();

	return die(EXIT_INFRA, "%s: %s", what, e && e->message ? e->message : "unknown error");
}

static int is_empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in, out, rc = 0;
	ssize_t n;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	if (n < 0)
		rc = -1;
	close(in);
	if (close(out) < 0)
		rc = -1;
	return rc;
}

/* Copy the tree at `from` into the existing directory `to`. */
static int copy_tree(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -1;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char src[PATH_MAX], dst[PATH_MAX], link[PATH_MAX];
		struct stat st;
		ssize_t n;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(src, sizeof(src), "%s/%s", from, e->d_name) >= (int)sizeof(src) ||
		    snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name) >= (int)sizeof(dst)) {
			errno = ENAMETOOLONG;
			rc = -1;
		} else if (lstat(src, &st) < 0) {
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = mkdir(dst, 0755) < 0 ? -1 : copy_tree(src, dst);
		} else if (S_ISLNK(st.st_mode)) {
			n = readlink(src, link, sizeof(link) - 1);
			if (n < 0)
				rc = -1;
			else {
				link[n] = '\0';
				rc = symlink(link, dst);
			}
		} else if (S_ISREG(st.st_mode)) {
			rc = copy_file(src, dst, st.st_mode);
		} /* sockets, fifos, devices: nothing git could hold */
	}
	closedir(d);
	return rc;
}

static int commit_all(git_repository *repo, const char *message)
{
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_oid tree_id, commit_id;
	int rc = 0;

	if (git_repository_index(&idx, repo) < 0 ||
	    git_index_add_all(idx, NULL, GIT_INDEX_ADD_DEFAULT, NULL, NULL) < 0 ||
	    git_index_write(idx) < 0 || git_index_write_tree(&tree_id, idx) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0)
		rc = git_die("staging files");
	else if (git_index_entrycount(idx) == 0)
		rc = die(EXIT_INPUT, "no files to commit");
	else if (git_signature_new(&sig, "warden example", "example@localhost", FIXED_TIME, 0) < 0 ||
	         git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL, message, tree, 0) < 0)
		rc = git_die("committing");
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(idx);
	return rc;
}

static int make_repo(const char *dir, const char *message)
{
	git_repository_init_options o;
	git_repository *repo = NULL;
	int rc;

	git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	o.initial_head = "main";
	if (git_repository_init_ext(&repo, dir, &o) < 0)
		return git_die(dir);
	rc = commit_all(repo, message);
	git_repository_free(repo);
	return rc;
}

int main(int argc, char **argv)
{
	char *src, *dst = NULL, gitdir[PATH_MAX];
	const char *message = argc > 3 ? argv[3] : "Initial import";
	struct stat st;
	int rc;

	if (argc < 3 || argc > 4 || !strcmp(argv[1], "--help"))
		return die(EXIT_INPUT, "usage: mkrepo DIR SRC [MESSAGE]");
	if (!(src = realpath(argv[2], NULL)) || stat(src, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(src);
		return die(EXIT_INPUT, "%s: not a directory", argv[2]);
	}
	snprintf(gitdir, sizeof(gitdir), "%s/.git", src);
	if (lstat(gitdir, &st) == 0) {
		free(src);
		return die(EXIT_INPUT, "%s is already a git repository", argv[2]);
	}
	if (lstat(argv[1], &st) == 0) {
		dst = realpath(argv[1], NULL);
		if (!dst || (strcmp(dst, src) && !is_empty_dir(dst))) {
			free(src);
			free(dst);
			return die(EXIT_INPUT, "%s exists and is not empty (give a new directory, "
			           "or SRC itself)", argv[1]);
		}
	} else if (mkdir(argv[1], 0755) < 0) {
		free(src);
		return die(EXIT_INFRA, "%s: %s", argv[1], strerror(errno));
	}
	if (!dst || strcmp(dst, src)) {
		if (copy_tree(src, argv[1]) < 0) {
			rc = die(EXIT_INFRA, "copying %s: %s", argv[2], strerror(errno));
			goto out;
		}
	}
	git_libgit2_init();
	rc = make_repo(argv[1], message);
	git_libgit2_shutdown();
out:
	free(src);
	free(dst);
	return rc;
}
