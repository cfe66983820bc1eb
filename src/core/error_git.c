/* Kept apart from error.c so that code which never touches git (the sandbox
 * front end) links without libgit2. */
#include <git2.h>

#include "warden/error.h"

int wd_error_git(int code, const char *what)
{
	const git_error *e = git_error_last();

	return wd_error_set(code, "%s: %s", what,
	                    e && e->message ? e->message : "unknown git error");
}
