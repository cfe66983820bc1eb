/*
 * libFuzzer target for the ticket parser (Markdown and JSON). Beyond "no
 * crash, no leak", it checks the promises of include/warden/ticket.h on
 * every input: a parsed ticket has a title, a well-formed slug and a 40-hex
 * id, rounds in range; a refused one has a WD_EINPUT "NAME:LINE: ..." message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/error.h"
#include "warden/ticket.h"

#include "../../src/ticket/ticket_int.h" /* the module's own test reads its fields */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init(); /* the id is a git hash */
	return 0;
}

static void check_ticket(const wd_ticket *t)
{
	size_t n = strlen(t->slug);

	if (!t->title[0] || !t->body || n == 0 || n > WD_TICKET_SLUG_MAX ||
	    strspn(t->slug, "abcdefghijklmnopqrstuvwxyz0123456789-") != n ||
	    t->slug[0] == '-' || t->slug[n - 1] == '-' || strstr(t->slug, "--") ||
	    strlen(t->id) != 40 || strspn(t->id, "0123456789abcdef") != 40 ||
	    (t->rounds && (t->rounds < WD_TICKET_ROUNDS_MIN || t->rounds > WD_TICKET_ROUNDS_MAX)))
		abort();
	for (size_t i = 0; i < t->scope.n; i++)
		if (!t->scope.v[i][0])
			abort(); /* empty items are dropped */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wd_ticket *t = NULL;
	int rc = wd_ticket_parse(&t, "fuzz.md", (const char *)data, size);

	if (rc == 0) {
		check_ticket(t);
		wd_ticket_free(t);
	} else if (t || rc != WD_EINPUT || strncmp(wd_error_last(), "fuzz.md:", 8) != 0) {
		abort();
	}
	return 0;
}
