/*
 * The `warden` executable is a small front end (after git's dispatcher): it
 * runs `warden sandbox` itself and hands every other command to warden-core
 * with the same arguments.
 *
 * Why: `warden sandbox` is run once per check by CI scripts and wrappers, and
 * its cost should be the sandbox's, not the loader's. warden-core links
 * libgit2, libcurl and tree-sitter, some forty shared libraries whose loading
 * and constructors cost more than the whole confined run; the front end links
 * only libc, jansson and libseccomp. For the same reason `warden map` runs
 * warden-map, the map command linked without libcurl (map_main.c).
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

/* The executable `name` (warden-core, warden-map) beside this one (a build
 * tree), else in ../libexec/warden relative to it (an installed, relocatable
 * tree), else in the configured libexec. 1 found, 0 only the configured path
 * (which may not exist), -1 too long. */
static int helper_path(char *out, size_t size, const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, size, "%s/%s", self, name) < size &&
			    access(out, X_OK) == 0)
				return 1;
			if ((size_t)snprintf(out, size, "%s/../libexec/warden/%s", self, name) < size &&
			    access(out, X_OK) == 0)
				return 1;
		}
	}
	if ((size_t)snprintf(out, size, "%s/%s", WD_LIBEXEC_DIR, name) >= size)
		return -1;
	return access(out, X_OK) == 0;
}

/* The executable for this command line: $WARDEN_CORE when set (for every
 * command: a test or a debugger pointing at one core gets that core), else
 * warden-map for `map` when it is installed, else warden-core. */
static int core_path(char *out, size_t size, int argc, char **argv)
{
	const char *env = getenv("WARDEN_CORE");

	if (env && *env) {
		snprintf(out, size, "%s", env);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "map") == 0 && helper_path(out, size, "warden-map") == 1)
		return 0;
	return helper_path(out, size, "warden-core") < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	char core[PATH_MAX];

	if (argc >= 2 && strcmp(argv[1], "sandbox") == 0)
		return cmd_sandbox(argc - 1, argv + 1);
	if (core_path(core, sizeof(core), argc, argv) < 0) {
		wd_cli_error("cannot locate warden-core: path too long");
		return WD_EXIT_INFRA;
	}
	execv(core, argv);
	wd_cli_error("cannot run %s: %s (set WARDEN_CORE, or reinstall)", core, strerror(errno));
	return WD_EXIT_INFRA;
}
