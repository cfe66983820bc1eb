/*
 * A fault for tests: preloaded into warden (LD_PRELOAD), it kills the process
 * with SIGKILL the moment it renames a file into a path containing
 * $WD_TEST_KILL_AT_RENAME, before the rename happens. With "/proposals/" that
 * is `kill -9` between a proposal's branch and its record, deterministically.
 * libgit2 moves a <ref>.lock into place with link() (then unlink), falling
 * back to rename(): a link to such a path is killed the same way, which with
 * ".git/refs/heads/warden/" leaves the branch's lock file behind.
 * Every other rename and link goes to the C library's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int rename(const char *from, const char *to);
int link(const char *from, const char *to);

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	const char *at = getenv("WD_TEST_KILL_AT_RENAME");

	if (at && *at && to && strstr(to, at))
		raise(SIGKILL);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "rename");
	return real ? real(from, to) : -1;
}

int link(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	const char *at = getenv("WD_TEST_KILL_AT_RENAME");

	if (at && *at && strstr(to, at))
		raise(SIGKILL);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "link");
	return real ? real(from, to) : -1;
}
