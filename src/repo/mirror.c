/*
 * The mirror cache: one bare repository per source under <cache>/mirrors,
 * fetched at the start of every run, guarded by a flock so that two runs on
 * one source never fetch into it at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/repo.h"
#include "repo_int.h"

int wd_repo__is_url(const char *source)
{
	const char *colon = strchr(source, ':');
	const char *slash = strchr(source, '/');

	if (strstr(source, "://"))
		return 1;
	/* scp-like "git@host:path", unless a local file of that name exists */
	return colon && colon != source && (!slash || colon < slash) && !wd_path_exists(source);
}

int wd_repo_mirror_path(wd_buf *out, const char *cache_dir, const char *source)
{
	char hex[41];
	char *abs = NULL;
	const char *key = source;
	size_t n;
	int rc;

	if (!wd_repo__is_url(source)) {
		if (!(abs = wd_realpath(source)))
			return wd_error_set(WD_EINPUT, "%s: no such repository (%s)", source,
			                    wd_error_last());
		key = abs;
	}
	n = strlen(key);
	while (n > 1 && key[n - 1] == '/')
		n--; /* "https://h/r/" and "https://h/r" are one source */
	rc = wd_hash_hex(hex, key, n);
	free(abs);
	if (rc)
		return rc;
	wd_buf_clear(out);
	return wd_buf_printf(out, "%s/mirrors/%s.git", cache_dir, hex);
}

int wd_repo__lock(int *out_fd, const char *mirror, int timeout_ms)
{
	wd_buf path = WD_BUF_INIT;
	uint64_t deadline;
	int fd = -1, rc;

	*out_fd = -1;
	if (timeout_ms <= 0)
		timeout_ms = WD_REPO_LOCK_TIMEOUT_MS;
	if ((rc = wd_mkdir_p(mirror, 0)) != 0 ||
	    (rc = wd_buf_printf(&path, "%s/warden.lock", mirror)) != 0)
		goto out;
	fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = wd_error_errno(WD_EINFRA, path.ptr);
		goto out;
	}
	deadline = wd_now_ms() + (uint64_t)timeout_ms;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = wd_error_errno(WD_EINFRA, path.ptr);
			goto out;
		}
		if (wd_now_ms() >= deadline) {
			rc = wd_error_set(WD_ETIMEOUT, "another warden run holds the lock %s "
			                  "(waited %d ms); try again when it has finished",
			                  path.ptr, timeout_ms);
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	*out_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	wd_buf_free(&path);
	return rc;
}

void wd_repo__unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

static int open_or_init(git_repository **out, const char *path)
{
	if (git_repository_open_bare(out, path) == 0)
		return 0;
	/* missing, or a directory a crashed first run left behind: (re)initialise */
	if (git_repository_init(out, path, 1) < 0)
		return wd_error_git(WD_EINFRA, "creating mirror");
	return 0;
}

static int fetch(git_repository *repo, const char *url, char **out_default)
{
	static char spec_heads[] = "+refs/heads/*:refs/heads/*";
	char *specs[] = { spec_heads };
	git_strarray refspecs = { specs, 1 };
	git_fetch_options fo;
	git_remote *remote = NULL;
	git_buf def = { 0 };
	unsigned tried = 0;
	int rc = 0;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks.credentials = wd_repo_cred_cb;
	fo.callbacks.payload = &tried;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
	fo.update_fetchhead = 0;
	/* no pruning: published proposal branches live in the mirror too */
	fo.prune = GIT_FETCH_NO_PRUNE;
	if (git_remote_create_anonymous(&remote, repo, url) < 0) {
		rc = wd_error_git(WD_EINFRA, "fetching");
		goto out;
	}
	if (git_remote_fetch(remote, &refspecs, &fo, "warden: mirror fetch") < 0) {
		const git_error *e = git_error_last();

		rc = e && e->klass == GIT_ERROR_REPOSITORY
			? wd_error_set(WD_EINPUT, "%s: not a git repository (%s)", url, e->message)
			: wd_error_git(WD_EINFRA, "fetch");
		goto out;
	}
	/* no default branch (an empty or HEAD-less remote) is the caller's call */
	if (out_default && git_remote_default_branch(&def, remote) == 0 &&
	    !(*out_default = wd_strdup(def.ptr)))
		rc = WD_ENOMEM;
	git_error_clear();
out:
	git_buf_dispose(&def);
	git_remote_free(remote);
	return rc;
}

int wd_repo__mirror_update(git_repository **out, const char *path, const char *url,
                           char **out_default)
{
	git_repository *repo = NULL;
	int rc;

	*out = NULL;
	if (out_default)
		*out_default = NULL;
	if ((rc = open_or_init(&repo, path)) != 0)
		return rc;
	if ((rc = fetch(repo, url, out_default)) != 0) {
		git_repository_free(repo);
		return wd_error_wrap(rc, "updating the mirror of %s", url);
	}
	/* so that a clone of the mirror checks out what the source calls HEAD */
	if (out_default && *out_default && git_repository_set_head(repo, *out_default) < 0) {
		rc = wd_error_git(WD_EINFRA, "setting the mirror's HEAD");
		free(*out_default);
		*out_default = NULL;
		git_repository_free(repo);
		return rc;
	}
	*out = repo;
	return 0;
}

/* refs/heads/ and refs/tags/ of the source, set in the mirror. */
static int copy_refs(git_repository *mirror, git_repository *source)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_odb *odb = NULL;
	int rc = 0, err;

	if (git_repository_odb(&odb, mirror) < 0 ||
	    git_reference_iterator_new(&it, source) < 0) {
		rc = wd_error_git(WD_EINFRA, "reading the source's refs");
		goto out;
	}
	while (!rc && (err = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);
		git_reference *resolved = NULL, *made = NULL;

		if ((!strncmp(name, "refs/heads/", 11) || !strncmp(name, "refs/tags/", 10)) &&
		    git_reference_resolve(&resolved, ref) == 0) {
			const git_oid *id = git_reference_target(resolved);

			/* objects behind alternates were not in the copied files */
			if (!git_odb_exists(odb, id))
				rc = wd_repo__copy_object(mirror, source, id);
			if (!rc && git_reference_create(&made, mirror, name, id, 1,
			                                "warden: mirror update") < 0)
				rc = wd_error_git(WD_EINFRA, name);
			git_reference_free(made);
			git_reference_free(resolved);
		}
		git_reference_free(ref);
		ref = NULL;
	}
	if (!rc && err != GIT_ITEROVER)
		rc = wd_error_git(WD_EINFRA, "reading the source's refs");
out:
	git_reference_iterator_free(it);
	git_odb_free(odb);
	return rc;
}

int wd_repo__mirror_update_local(git_repository **out, const char *path, git_repository *source)
{
	git_repository *repo = NULL;
	wd_buf from = WD_BUF_INIT, to = WD_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = open_or_init(&repo, path)) != 0)
		return rc;
	/* commondir: a linked worktree's objects live in the main repository */
	if ((rc = wd_buf_printf(&from, "%sobjects", git_repository_commondir(source))) != 0 ||
	    (rc = wd_buf_printf(&to, "%s/objects", path)) != 0 ||
	    (rc = wd_repo__copy_dir(from.ptr, to.ptr)) != 0 ||
	    (rc = copy_refs(repo, source)) != 0) {
		git_repository_free(repo);
		repo = NULL;
		rc = wd_error_wrap(rc, "updating the mirror of %s", git_repository_commondir(source));
	}
	wd_buf_free(&from);
	wd_buf_free(&to);
	*out = repo;
	return rc;
}
