/*
 * libFuzzer target for what reads a ledger back: a ledger is untrusted (a
 * repository's check cannot write it, but a file in the cache can be
 * planted or torn). The input is written as a run's ledger, then told as a
 * story, rendered as HTML, indexed into SQLite and judged for alerts.
 * Invariants: no crash, no leak, and the HTML never carries a raw '<'
 * from the input (every '<' in the page opens one of the renderer's tags).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "warden/alerts.h"
#include "warden/buf.h"
#include "warden/fs.h"
#include "warden/index.h"
#include "warden/ledger.h"
#include "warden/story.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char ledger[128];
static wd_index *ix;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	strcpy(dir, "/tmp/wd-fuzz-story-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(ledger, sizeof(ledger), "%s/ledger", dir);
	if (wd_mkdir_p(ledger, 1) != 0)
		abort();
	snprintf(ledger, sizeof(ledger), "%s/ledger/f0f0f0f0.jsonl", dir);
	if (wd_index_open(&ix, dir) != 0)
		abort();
	return 0;
}

/* Tags the renderer writes; anything else after '<' came from the input. */
static void check_html(const char *p)
{
	static const char *const ok[] = { "!DOCTYPE", "html", "/html", "head", "/head", "meta",
		"title", "/title", "style", "/style", "body", "/body", "h1", "/h1", "h2", "/h2", "p",
		"/p", "b>", "/b>", "br>", "span", "/span", "div", "/div", "pre", "/pre", "table",
		"/table", "tr>", "/tr>", "th>", "/th>", "td", "/td>", "code>", "/code>", NULL };

	while ((p = strchr(p, '<')) != NULL) {
		int known = 0;

		p++;
		for (size_t i = 0; ok[i] && !known; i++)
			known = !strncmp(p, ok[i], strlen(ok[i]));
		if (!known)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *st = NULL, *alerts = NULL;
	wd_buf html = WD_BUF_INIT;

	if (wd_file_write_atomic(ledger, data, size, 0600) != 0)
		abort();
	if (wd_story_build(&st, ledger, NULL) == 0) {
		if (wd_story_html(&html, st) == 0)
			check_html(wd_buf_cstr(&html));
		json_decref(st);
	}
	wd_index_ledger(ix, ledger);
	if (wd_alerts_for_run(&alerts, dir, ledger, 1.0, NULL) == 0)
		json_decref(alerts);
	wd_buf_free(&html);
	return 0;
}
