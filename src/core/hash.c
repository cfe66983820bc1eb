/* Content hashes: the git object id of raw bytes, through libgit2. Kept apart
 * from fs.c so that code which never touches git links without libgit2. */
#include <git2.h>

#include "warden/error.h"
#include "warden/fs.h"

int wd_hash_hex(char out[41], const void *data, size_t len)
{
	git_oid oid;

	if (git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0)
		return wd_error_git(WD_ERROR, "hashing");
	git_oid_tostr(out, 41, &oid);
	return 0;
}
