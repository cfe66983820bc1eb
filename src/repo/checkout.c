/*
 * The base checkout: a commit's files written into a directory warden has
 * just made, as `git checkout` would write them, without ever resolving a
 * path. Each directory is created by mkdirat and opened O_NOFOLLOW by its
 * parent's descriptor, each file created O_EXCL|O_NOFOLLOW, each link made by
 * symlinkat and never opened: whatever the tree holds (a link named like a
 * directory that comes later, ".git", duplicate names), nothing is written
 * outside `dir` and nothing is followed. A tree that tries is refused as
 * malformed.
 *
 * Content goes through the filters the commit's own .gitattributes select
 * (eol, ident), as git would apply them on checkout. Every entry's mtime is
 * the commit's time (at most now): a later run on the same commit writes the
 * same times, so a build made on an earlier checkout is still up to date.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "repo_int.h"

#define MAX_DEPTH 256

struct co {
	git_repository *repo;
	git_blob_filter_options fo;
	struct timespec times[2];
	wd_buf path;           /* the entry's path, for messages */
	wd_buf data;
};

static int malformed(const struct co *c, const char *why)
{
	return wd_error_set(WD_EINPUT, "checkout: %s: %s; the commit's tree is malformed",
	                    wd_buf_cstr(&c->path), why);
}

/* A name git itself would refuse to check out. */
static int bad_name(const char *name)
{
	return !*name || !strcmp(name, ".") || !strcmp(name, "..") || !strcasecmp(name, ".git") ||
	       strchr(name, '/') != NULL;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int put_blob(struct co *c, int dir, const char *name, const git_tree_entry *e)
{
	git_filemode_t mode = git_tree_entry_filemode(e);
	git_blob *blob = NULL;
	git_buf out = { 0 };
	int fd = -1, rc = 0;

	if (git_blob_lookup(&blob, c->repo, git_tree_entry_id(e)) < 0)
		return wd_error_git(WD_EINFRA, wd_buf_cstr(&c->path));
	if (mode == GIT_FILEMODE_LINK) {
		wd_buf_clear(&c->data);
		if ((rc = wd_buf_put(&c->data, git_blob_rawcontent(blob),
		                     (size_t)git_blob_rawsize(blob))) != 0)
			goto out;
		if (memchr(c->data.ptr, '\0', c->data.len) || !c->data.len) {
			rc = malformed(c, "a symbolic link with an empty or binary target");
			goto out;
		}
		if (symlinkat(c->data.ptr, dir, name) < 0) {
			rc = errno == EEXIST ? malformed(c, "the name appears twice")
			                     : wd_error_errno(WD_EINFRA, wd_buf_cstr(&c->path));
			goto out;
		}
		utimensat(dir, name, c->times, AT_SYMLINK_NOFOLLOW);
		goto out;
	}
	if (git_blob_filter(&out, blob, wd_buf_cstr(&c->path), &c->fo) < 0) {
		rc = wd_error_git(WD_EINFRA, wd_buf_cstr(&c->path));
		goto out;
	}
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = errno == EEXIST ? malformed(c, "the name appears twice")
		                     : wd_error_errno(WD_EINFRA, wd_buf_cstr(&c->path));
		goto out;
	}
	if (write_all(fd, out.ptr ? out.ptr : "", out.size) < 0 ||
	    fchmod(fd, mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644) < 0 ||
	    futimens(fd, c->times) < 0)
		rc = wd_error_errno(WD_EINFRA, wd_buf_cstr(&c->path));
out:
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = wd_error_errno(WD_EINFRA, wd_buf_cstr(&c->path));
	git_buf_dispose(&out);
	git_blob_free(blob);
	return rc;
}

static int put_tree(struct co *c, int dir, const git_tree *tree, int depth);

static int put_dir(struct co *c, int dir, const char *name, const git_tree_entry *e, int depth)
{
	git_tree *sub = NULL;
	int fd, rc = 0;

	if (mkdirat(dir, name, 0755) < 0)
		return errno == EEXIST ? malformed(c, "the name appears twice")
		                       : wd_error_errno(WD_EINFRA, wd_buf_cstr(&c->path));
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return wd_error_errno(WD_EINFRA, wd_buf_cstr(&c->path));
	/* a submodule is an empty directory, as git leaves it */
	if (git_tree_entry_filemode(e) == GIT_FILEMODE_TREE) {
		if (git_tree_lookup(&sub, c->repo, git_tree_entry_id(e)) < 0)
			rc = wd_error_git(WD_EINFRA, wd_buf_cstr(&c->path));
		else
			rc = put_tree(c, fd, sub, depth + 1);
	}
	if (!rc && (fchmod(fd, 0755) < 0 || futimens(fd, c->times) < 0))
		rc = wd_error_errno(WD_EINFRA, wd_buf_cstr(&c->path));
	close(fd);
	git_tree_free(sub);
	return rc;
}

static int put_tree(struct co *c, int dir, const git_tree *tree, int depth)
{
	size_t n = git_tree_entrycount(tree), keep = c->path.len;
	int rc = 0;

	if (depth > MAX_DEPTH)
		return malformed(c, "nested too deeply");
	for (size_t i = 0; i < n && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);

		wd_buf_truncate(&c->path, keep);
		if ((rc = wd_buf_printf(&c->path, "%s%s", keep ? "/" : "", name)) != 0)
			break;
		if (bad_name(name)) {
			rc = malformed(c, "a name git refuses to check out");
			break;
		}
		switch (git_tree_entry_filemode(e)) {
		case GIT_FILEMODE_TREE:
		case GIT_FILEMODE_COMMIT:
			rc = put_dir(c, dir, name, e, depth);
			break;
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE:
		case GIT_FILEMODE_LINK:
			rc = put_blob(c, dir, name, e);
			break;
		default:
			rc = malformed(c, "an entry of unknown type");
			break;
		}
	}
	wd_buf_truncate(&c->path, keep);
	return rc;
}

int wd_repo__checkout(git_repository *repo, const git_oid *commit_id, const char *dir)
{
	struct co c;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	time_t now = time(NULL), when;
	int fd = -1, rc = 0;

	memset(&c, 0, sizeof(c));
	c.repo = repo;
	if (git_blob_filter_options_init(&c.fo, GIT_BLOB_FILTER_OPTIONS_VERSION) < 0)
		return wd_error_git(WD_EINFRA, "checkout: filter options");
	/* attributes from the commit itself: there is no work tree to read them from */
	c.fo.flags = GIT_BLOB_FILTER_CHECK_FOR_BINARY | GIT_BLOB_FILTER_ATTRIBUTES_FROM_COMMIT;
	git_oid_cpy(&c.fo.attr_commit_id, commit_id);
	if (git_commit_lookup(&commit, repo, commit_id) < 0 || git_commit_tree(&tree, commit) < 0) {
		rc = wd_error_git(WD_EINFRA, "checkout: reading the commit");
		goto out;
	}
	when = (time_t)git_commit_time(commit);
	if (when <= 0 || when > now)
		when = now;
	c.times[0].tv_sec = c.times[1].tv_sec = when;
	if (mkdir(dir, 0755) < 0) {
		rc = errno == EEXIST ? wd_error_set(WD_EEXISTS, "%s already exists", dir)
		                     : wd_error_errno(WD_EINFRA, dir);
		goto out;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = wd_error_errno(WD_EINFRA, dir);
		goto out;
	}
	if ((rc = put_tree(&c, fd, tree, 0)) == 0 && futimens(fd, c.times) < 0)
		rc = wd_error_errno(WD_EINFRA, dir);
out:
	if (fd >= 0)
		close(fd);
	wd_buf_free(&c.path);
	wd_buf_free(&c.data);
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}
