/*
 * Vendored and generated code: third-party trees and generated files are
 * kept in the map (by path, with their tags, for the read-only tools and an
 * explicit focus) but left out of its ranking and of the context.
 *
 * A file is vendored when a directory on its path is one of the usual
 * homes of other projects' code (deps/, vendor/, third_party/, external/,
 * node_modules/), when a glob of the caller's exclude list (config
 * map.exclude) matches it, or when .gitattributes marks it
 * linguist-vendored or linguist-generated; an explicit
 * "linguist-vendored=false" (and not generated) takes a file back.
 */
#include <string.h>

#include <git2.h>

#include "warden/error.h"
#include "warden/fs.h"

#include "context_int.h"
#include "map_int.h"

static const char *const vendor_dirs[] = { "deps", "vendor", "third_party", "external",
	                                   "node_modules" };

/* Does a directory component of `path` name a vendor tree? */
static int in_vendor_dir(const char *path)
{
	const char *s = path;

	for (;;) {
		const char *slash = strchr(s, '/');
		size_t len;

		if (!slash)
			return 0; /* the last component is the file itself */
		len = (size_t)(slash - s);
		for (size_t i = 0; i < sizeof(vendor_dirs) / sizeof(vendor_dirs[0]); i++)
			if (strlen(vendor_dirs[i]) == len && !memcmp(s, vendor_dirs[i], len))
				return 1;
		s = slash + 1;
	}
}

int wd_ctx_path_vendored(const char *path, const char *const *exclude)
{
	for (size_t i = 0; exclude && exclude[i]; i++)
		if (wd_ctx_glob_match(exclude[i], path))
			return 1;
	return in_vendor_dir(path);
}

/* Does some .gitattributes of the tree mention linguist attributes? Only
 * then are the attributes looked up, file by file (that costs as much as
 * a warm map of git.git). */
static int has_linguist_attributes(const wd_map *m)
{
	wd_buf path = WD_BUF_INIT, text = WD_BUF_INIT;
	int found = 0;

	for (size_t i = 0; i < m->nfiles && !found; i++) {
		const char *base = strrchr(m->files[i].path, '/');

		if (strcmp(base ? base + 1 : m->files[i].path, ".gitattributes") != 0)
			continue;
		wd_buf_clear(&path);
		wd_buf_clear(&text);
		if (wd_path_join(&path, m->workdir, m->files[i].path) == 0 &&
		    wd_ctx_read_regular(&text, path.ptr, 1u << 20) == 0)
			found = text.len && memmem(text.ptr, text.len, "linguist-", 9) != NULL;
		wd_error_clear();
	}
	wd_buf_free(&path);
	wd_buf_free(&text);
	return found;
}

/* Apply the linguist attributes of the work tree's .gitattributes files. */
static void mark_by_attributes(wd_map *m)
{
	static const char *names[] = { "linguist-vendored", "linguist-generated" };
	git_repository *repo = NULL;

	if (!has_linguist_attributes(m))
		return;
	git_libgit2_init();
	/* no repository (a plain directory): no attributes to read */
	if (git_repository_open_ext(&repo, m->workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0 ||
	    git_repository_is_bare(repo))
		goto out;
	for (size_t i = 0; i < m->nfiles; i++) {
		const char *v[2] = { NULL, NULL };

		if (git_attr_get_many(v, repo, GIT_ATTR_CHECK_FILE_THEN_INDEX, m->files[i].path, 2,
		                      names) != 0)
			continue;
		if (GIT_ATTR_IS_TRUE(v[0]) || GIT_ATTR_IS_TRUE(v[1]))
			m->files[i].vendored = 1;
		else if (GIT_ATTR_IS_FALSE(v[0]))
			m->files[i].vendored = 0;
	}
out:
	git_repository_free(repo);
	git_error_clear();
	git_libgit2_shutdown();
}

void wd_map__mark_vendored(wd_map *m, const char *const *exclude)
{
	for (size_t i = 0; i < m->nfiles; i++)
		m->files[i].vendored = wd_ctx_path_vendored(m->files[i].path, exclude);
	mark_by_attributes(m);
	m->stats.vendored = 0;
	for (size_t i = 0; i < m->nfiles; i++)
		m->stats.vendored += m->files[i].vendored != 0;
}

int wd_map_is_vendored(const wd_map *m, const char *path)
{
	int i = wd_map_file_index(m, path);

	return i >= 0 && m->files[i].vendored;
}
