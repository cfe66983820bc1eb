/*
 * sbx_asuser UID CMD [ARG...]: drop to UID (and the same GID, no
 * supplementary groups) and exec CMD, so the sandbox tests can check that
 * warden works for an ordinary user as well as for root.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long id;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: sbx_asuser UID CMD [ARG...]\n");
		return 2;
	}
	id = strtoul(argv[1], &end, 10);
	if (*end || id == 0) {
		fprintf(stderr, "sbx_asuser: bad uid '%s'\n", argv[1]);
		return 2;
	}
	if (setgroups(0, NULL) < 0 || setgid((gid_t)id) < 0 || setuid((uid_t)id) < 0) {
		perror("sbx_asuser: dropping privileges");
		return 2;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "sbx_asuser: could regain root\n");
		return 2;
	}
	execvp(argv[2], argv + 2);
	perror("sbx_asuser: exec");
	return 127;
}
