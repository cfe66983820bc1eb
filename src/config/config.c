/*
 * Settings in git-config syntax, read through libgit2's config API: the
 * user's file (trusted) and the repository's .warden/config (untrusted: it
 * arrives with the code under change, so it may not choose the model, hold
 * credentials, or loosen the sandbox or the review policy).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <strings.h>

#include <git2.h>

#include "warden/beneath.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "config_int.h"

struct wd_config {
	git_config *all;       /* user + repo levels, as files */
	git_config *user;      /* the user level alone */
	git_config *all_snap;  /* snapshots: what the getters read */
	git_config *user_snap;
	char *user_path;       /* NULL when there is no user file location */
	char *repo_path;
	char *repo_copy;       /* the repository's file without includes, when it had any */
	wd_strvec repo_dropped; /* the include sections left out of it */
};

/* Sections only the user's own file may set. */
static const char *const trusted_sections[] = {
	"model", "credential", "github", "push", "review", "policy", "sandbox", "budget",
	"redact", "data", NULL
};

static int section_is(const char *key, const char *section)
{
	size_t n = strlen(section);

	return strncasecmp(key, section, n) == 0 && (key[n] == '.' || key[n] == '\0');
}

int wd_config_key_is_trusted_only(const char *key)
{
	const char *last;

	for (size_t i = 0; trusted_sections[i]; i++)
		if (section_is(key, trusted_sections[i]))
			return 1;
	/* secrets by name, wherever they are */
	last = strrchr(key, '.');
	last = last ? last + 1 : key;
	return strcasestr(last, "token") || strcasestr(last, "password") ||
	       strcasestr(last, "secret") || !strcasecmp(last, "key") ||
	       strcasestr(last, "api-key") || strcasestr(last, "apikey");
}

int wd_config_user_path(wd_buf *out)
{
	const char *v;

	wd_buf_clear(out);
	if ((v = getenv("WARDEN_CONFIG")) && *v)
		return wd_buf_puts(out, v);
	if ((v = getenv("XDG_CONFIG_HOME")) && *v)
		return wd_buf_printf(out, "%s/warden/config", v);
	if ((v = getenv("HOME")) && *v)
		return wd_buf_printf(out, "%s/.config/warden/config", v);
	return WD_ENOTFOUND;
}

static int add_level(git_config *cfg, const char *path, git_config_level_t level)
{
	if (git_config_add_file_ondisk(cfg, path, level, NULL, 1) < 0)
		return wd_error_git(WD_EINPUT, path);
	return 0;
}

static int resnapshot(wd_config *cfg)
{
	git_config_free(cfg->all_snap);
	git_config_free(cfg->user_snap);
	cfg->all_snap = cfg->user_snap = NULL;
	if (git_config_snapshot(&cfg->all_snap, cfg->all) < 0 ||
	    git_config_snapshot(&cfg->user_snap, cfg->user) < 0)
		return wd_error_git(WD_EINFRA, "reading configuration");
	return 0;
}

int wd_config_open(wd_config **out, const char *repo_workdir)
{
	wd_config *cfg;
	wd_buf path = WD_BUF_INIT;
	const char *env = getenv("WARDEN_CONFIG");
	int rc;

	*out = NULL;
	if (!(cfg = calloc(1, sizeof(*cfg))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	git_libgit2_init(); /* balanced in wd_config_free */
	if (git_config_new(&cfg->all) < 0 || git_config_new(&cfg->user) < 0) {
		rc = wd_error_git(WD_EINFRA, "configuration");
		goto out;
	}
	rc = wd_config_user_path(&path);
	if (rc == 0) {
		if (env && *env && !wd_path_exists(path.ptr)) {
			rc = wd_error_set(WD_EINPUT, "WARDEN_CONFIG=%s: no such file", path.ptr);
			goto out;
		}
		if (!(cfg->user_path = wd_strdup(path.ptr))) {
			rc = WD_ENOMEM;
			goto out;
		}
		/* a missing file is an empty level, as git treats ~/.gitconfig */
		if (wd_path_exists(path.ptr) &&
		    ((rc = add_level(cfg->all, path.ptr, GIT_CONFIG_LEVEL_GLOBAL)) != 0 ||
		     (rc = add_level(cfg->user, path.ptr, GIT_CONFIG_LEVEL_GLOBAL)) != 0))
			goto out;
	} else if (rc != WD_ENOTFOUND) {
		goto out;
	}
	rc = repo_workdir ? wd_config_add_repo(cfg, repo_workdir) : resnapshot(cfg);
out:
	wd_buf_free(&path);
	if (rc) {
		wd_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

/* 0 when .warden/config is missing or a regular file reached without a
 * symbolic link; WD_EINPUT otherwise. */
static int plain_repo_file(const char *repo_workdir)
{
	struct stat st;
	int root = -1, rc;

	if (!wd_path_is_dir(repo_workdir))
		return 0; /* no work tree, no file */
	if ((rc = wd_root_open(&root, repo_workdir)) != 0)
		return rc;
	rc = wd_beneath_lstat(&st, root, ".warden/config");
	close(root);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear();
		return 0;
	}
	if (rc == 0 && !S_ISREG(st.st_mode))
		rc = WD_EREFUSED;
	if (rc == WD_EREFUSED)
		return wd_error_set(WD_EINPUT, "%s/.warden/config: not a regular file (a symbolic "
		                    "link, or under one): the repository's configuration is read only "
		                    "from a plain file", repo_workdir);
	return rc;
}

static void drop_copy(wd_config *cfg)
{
	if (cfg->repo_copy) {
		unlink(cfg->repo_copy);
		free(cfg->repo_copy);
		cfg->repo_copy = NULL;
	}
}

int wd_config_add_repo(wd_config *cfg, const char *repo_workdir)
{
	wd_buf path = WD_BUF_INIT;
	char *copy = NULL;
	int rc;

	if ((rc = wd_buf_printf(&path, "%s/.warden/config", repo_workdir)) != 0)
		goto out;
	/* the repository's own file, never one a link in the repository names */
	if ((rc = plain_repo_file(repo_workdir)) != 0)
		goto out;
	if (wd_path_exists(path.ptr)) {
		/* includes are never followed: a copy without them is loaded instead */
		wd_strvec_free(&cfg->repo_dropped);
		if ((rc = wd_config__repo_copy(&copy, &cfg->repo_dropped, path.ptr)) != 0 ||
		    (rc = add_level(cfg->all, copy ? copy : path.ptr, GIT_CONFIG_LEVEL_LOCAL)) != 0)
			goto out;
	} else if (cfg->repo_path) {
		/* replacing a repository level by one without a file: drop the old */
		git_config *fresh = NULL;

		if (git_config_new(&fresh) < 0 ||
		    (cfg->user_path && wd_path_exists(cfg->user_path) &&
		     git_config_add_file_ondisk(fresh, cfg->user_path, GIT_CONFIG_LEVEL_GLOBAL,
		                                NULL, 1) < 0)) {
			git_config_free(fresh);
			rc = wd_error_git(WD_EINPUT, "configuration");
			goto out;
		}
		git_config_free(cfg->all);
		cfg->all = fresh;
	}
	free(cfg->repo_path);
	if (!(cfg->repo_path = wd_strdup(path.ptr))) {
		rc = WD_ENOMEM;
		goto out;
	}
	rc = resnapshot(cfg);
out:
	/* the copy lives as long as the level that reads it */
	if (!rc) {
		drop_copy(cfg);
		cfg->repo_copy = copy;
		copy = NULL;
	} else if (copy) {
		unlink(copy);
		free(copy);
	}
	wd_buf_free(&path);
	return rc;
}

/* The config to read `key` from: the user level alone for trusted-only keys. */
static git_config *view(const wd_config *cfg, const char *key, int trusted)
{
	return trusted || wd_config_key_is_trusted_only(key) ? cfg->user_snap : cfg->all_snap;
}

static int lookup_error(int err, const char *key)
{
	if (err == GIT_ENOTFOUND)
		return wd_error_set(WD_ENOTFOUND, "%s is not set", key);
	return wd_error_git(WD_EINPUT, key);
}

static int get_string(char **out, const wd_config *cfg, const char *key, int trusted)
{
	const char *v = NULL;
	int err;

	*out = NULL;
	err = git_config_get_string(&v, view(cfg, key, trusted), key);
	if (err < 0)
		return lookup_error(err, key);
	*out = wd_strdup(v);
	return *out ? 0 : WD_ENOMEM;
}

int wd_config_get_string(char **out, const wd_config *cfg, const char *key)
{
	return get_string(out, cfg, key, 0);
}

int wd_config_get_string_trusted(char **out, const wd_config *cfg, const char *key)
{
	return get_string(out, cfg, key, 1);
}

int wd_config_get_int(long *out, const wd_config *cfg, const char *key)
{
	return wd_config_get_range(out, cfg, key, -LONG_MAX, LONG_MAX);
}

int wd_config_get_bool(int *out, const wd_config *cfg, const char *key)
{
	int err = git_config_get_bool(out, view(cfg, key, 0), key);

	return err < 0 ? lookup_error(err, key) : 0;
}

struct collect {
	wd_strvec *out;
	int rc;
};

static int collect_cb(const git_config_entry *e, void *payload)
{
	struct collect *c = payload;

	c->rc = wd_strvec_push(c->out, e->value ? e->value : "");
	return c->rc ? -1 : 0;
}

int wd_config_get_all(wd_strvec *out, const wd_config *cfg, const char *key)
{
	struct collect c = { out, 0 };
	int err;

	/* no regexp argument: libgit2 1.5 leaks on regexp searches */
	err = git_config_get_multivar_foreach(view(cfg, key, 0), key, NULL, collect_cb, &c);
	if (c.rc)
		return c.rc;
	if (err == GIT_ENOTFOUND)
		return 0; /* no values is an empty list, not an error */
	return err < 0 ? wd_error_git(WD_EINPUT, key) : 0;
}

int wd_config_subsections(wd_strvec *out, const wd_config *cfg, const char *section)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	size_t slen = strlen(section);
	int rc = 0, err;

	if (git_config_iterator_new(&it, view(cfg, section, 0)) < 0)
		return wd_error_git(WD_EINFRA, "reading configuration");
	while ((err = git_config_next(&e, it)) == 0) {
		const char *last = strrchr(e->name, '.');
		char *sub;

		if (strncasecmp(e->name, section, slen) || e->name[slen] != '.' ||
		    last == e->name + slen)
			continue; /* another section, or "section.key" with no subsection */
		sub = wd_strndup(e->name + slen + 1, (size_t)(last - e->name - slen - 1));
		if (!sub) {
			rc = WD_ENOMEM;
			break;
		}
		if (wd_strvec_contains(out, sub))
			free(sub);
		else if ((rc = wd_strvec_push_owned(out, sub)) != 0)
			break;
	}
	if (!rc && err != GIT_ITEROVER)
		rc = wd_error_git(WD_EINFRA, "reading configuration");
	git_config_iterator_free(it);
	return rc;
}

int wd_config_ignored_repo_keys(wd_strvec *out, const wd_config *cfg)
{
	git_config *repo_level = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	int rc = 0, err;

	if (!cfg->repo_path)
		return 0;
	for (size_t i = 0; i < cfg->repo_dropped.n; i++) {
		char name[64];

		snprintf(name, sizeof(name), "[%s] (includes are not followed)", cfg->repo_dropped.v[i]);
		if (!wd_strvec_contains(out, name) && (rc = wd_strvec_push(out, name)) != 0)
			return rc;
	}
	if (git_config_open_level(&repo_level, cfg->all_snap, GIT_CONFIG_LEVEL_LOCAL) < 0) {
		git_error_clear();
		return 0; /* no repository file */
	}
	if (git_config_iterator_new(&it, repo_level) < 0) {
		rc = wd_error_git(WD_EINFRA, "reading configuration");
		goto out;
	}
	while ((err = git_config_next(&e, it)) == 0)
		if (wd_config_key_is_trusted_only(e->name) && !wd_strvec_contains(out, e->name) &&
		    (rc = wd_strvec_push(out, e->name)) != 0)
			break;
	if (!rc && err != GIT_ITEROVER)
		rc = wd_error_git(WD_EINFRA, "reading configuration");
out:
	git_config_iterator_free(it);
	git_config_free(repo_level);
	return rc;
}

const char *wd_config_repo_path(const wd_config *cfg)
{
	return cfg ? cfg->repo_path : NULL;
}

const char *wd_config_user_file(const wd_config *cfg)
{
	return cfg ? cfg->user_path : NULL;
}

void wd_config_free(wd_config *cfg)
{
	if (!cfg)
		return;
	git_config_free(cfg->all_snap);
	git_config_free(cfg->user_snap);
	git_config_free(cfg->all);
	git_config_free(cfg->user);
	free(cfg->user_path);
	free(cfg->repo_path);
	drop_copy(cfg);
	wd_strvec_free(&cfg->repo_dropped);
	free(cfg);
	git_libgit2_shutdown();
}
