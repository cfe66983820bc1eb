/* warden show RUN: any run, failed or not, told from its ledger. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/json.h"
#include "warden/story.h"

#include "runs_cli.h"

static const char show_usage[] =
	"usage: warden show RUN [--json] [--messages] [--work-dir DIR]\n"
	"\n"
	"Tell one run from its ledger, failed or not: the ticket, the context chosen and\n"
	"why, each round's model calls (tokens, cost, latency, retries), tool calls with\n"
	"the model's words, the patch and its refusal or its checks with the failing\n"
	"tests and the end of their output, why each round failed, the proposal and\n"
	"the decision. RUN is a run id or a unique prefix of one (see 'warden log').\n"
	"\n"
	"  --json         one JSON object on stdout (docs/ledger.md describes it)\n"
	"  --messages     with every model request's messages and reply (JSON only)\n"
	"  --lines N      lines of each check's output to show (default 12)\n"
	"  --work-dir DIR warden's cache (default $XDG_CACHE_HOME/warden)\n"
	"\n"
	"exit codes: 0 shown, 2 usage error or no such run, 3 the ledger could not be read\n";

int cmd_show(int argc, char **argv)
{
	static const struct option own[] = {
		{ "messages", no_argument, NULL, 'm' },
		{ "lines", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	wd_runs_args a = { .cmd = "show", .usage = show_usage, .shared = WD_RUNS_JSON,
		           .takes_run = 1 };
	wd_story_opts so = WD_STORY_OPTS_INIT;
	int c, rc;
	json_t *st = NULL;

	while ((c = wd_runs_getopt(&a, argc, argv, own)) > 0) {
		if (c == 'm') {
			so.with_messages = 1;
		} else {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v > 10000) {
				wd_cli_error("show: --lines wants a number up to 10000, not '%s'", optarg);
				return WD_EXIT_USAGE;
			}
			so.excerpt_lines = (unsigned)v;
		}
	}
	if (c < 0)
		return a.exit;
	if (optind != argc - 1) {
		wd_cli_error("show: exactly one RUN is required");
		fputs(show_usage, stderr);
		return WD_EXIT_USAGE;
	}
	if ((rc = wd_runs_story(&st, a.work_dir, argv[optind], &so)) != 0)
		goto out;
	if (a.json)
		rc = wd_runs_print_json(st);
	else
		wd_runs_print_story(stdout, st);
out:
	json_decref(st);
	if (rc) {
		wd_cli_error("show: %s", wd_error_last());
		return wd_exit_code_for(rc);
	}
	return WD_EXIT_OK;
}
