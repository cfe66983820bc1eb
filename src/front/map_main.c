/*
 * `warden-map`: the `map` command alone, linked without libcurl.
 *
 * Why: a warm `warden map` after one file changed is a few tens of ms of
 * work, and warden-core's start (some forty shared libraries, twenty of them
 * libcurl's TLS, Kerberos and LDAP stack) was a quarter of it. The map never
 * talks to the network; this executable loads half the libraries. The front
 * end execs it for `warden map` (see front.c); `warden-core map` is the same
 * command and stays for anyone calling the core directly.
 */
#include <string.h>

#include "warden/cli.h"

int main(int argc, char **argv)
{
	/* `warden map ...` from the front end, or `warden-map ...` by hand: cmd_map
	 * takes its own name as argv[0] either way */
	if (argc >= 2 && strcmp(argv[1], "map") == 0)
		return cmd_map(argc - 1, argv + 1);
	return cmd_map(argc, argv);
}
