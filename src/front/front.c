/*
 * The `warden` executable is a small front end (after git's dispatcher): it
 * runs `warden sandbox` itself and hands every other command to warden-core
 * with the same arguments.
 *
 * Why: `warden sandbox` is run once per check by CI scripts and wrappers, and
 * its cost should be the sandbox's, not the loader's. warden-core links
 * libgit2, libcurl and tree-sitter, some forty shared libraries whose loading
 * and constructors cost more than the whole confined run; the front end links
 * only libc, jansson and libseccomp.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "warden/cli.h"

#ifndef WD_LIBEXEC_DIR
#define WD_LIBEXEC_DIR "/usr/local/libexec/warden"
#endif

/* warden-core beside this executable (a build tree), else in ../libexec/warden
 * relative to it (an installed, relocatable tree), else the configured libexec. */
static int core_path(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *env = getenv("WARDEN_CORE");

	if (env && *env) {
		snprintf(out, size, "%s", env);
		return 0;
	}
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, size, "%s/warden-core", self) < size &&
			    access(out, X_OK) == 0)
				return 0;
			if ((size_t)snprintf(out, size, "%s/../libexec/warden/warden-core", self) < size &&
			    access(out, X_OK) == 0)
				return 0;
		}
	}
	if ((size_t)snprintf(out, size, "%s/warden-core", WD_LIBEXEC_DIR) >= size)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char core[PATH_MAX];

	if (argc >= 2 && strcmp(argv[1], "sandbox") == 0)
		return cmd_sandbox(argc - 1, argv + 1);
	if (core_path(core, sizeof(core)) < 0) {
		wd_cli_error("cannot locate warden-core: path too long");
		return WD_EXIT_INFRA;
	}
	execv(core, argv);
	wd_cli_error("cannot run %s: %s (set WARDEN_CORE, or reinstall)", core, strerror(errno));
	return WD_EXIT_INFRA;
}
