/* Where a source's proposals live: the user's own repository for a local
 * source, warden's mirror for a URL. */
#include <sys/stat.h>

#include "warden/repo.h"
#include "repo_int.h"

int wd_repo_source_is_url(const char *source)
{
	return source && wd_repo__is_url(source);
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int wd_repo_is_mirror(const char *cache_dir, const char *source, const char *repo_path)
{
	wd_buf mirror = WD_BUF_INIT;
	int yes;

	if (!source || !repo_path)
		return 0;
	if (wd_repo_source_is_url(source))
		return 1;
	yes = cache_dir && wd_repo_mirror_path(&mirror, cache_dir, source) == 0 &&
	      same_file(mirror.ptr, repo_path);
	wd_buf_free(&mirror);
	return yes;
}
