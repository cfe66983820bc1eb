/* warden report RUN --html FILE: a run as one page for a reviewer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/story.h"

#include "runs_cli.h"

static const char report_usage[] =
	"usage: warden report RUN --html FILE [--work-dir DIR]\n"
	"\n"
	"Write one self-contained HTML page (no script, no network asset) about the run:\n"
	"the ticket, the final diff coloured, the checks and their results with the end\n"
	"of their output, the timeline of model and tool calls with tokens and cost, the\n"
	"rounds and why each failed. FILE is written whole or not at all (mode 0600).\n"
	"\n"
	"exit codes: 0 written, 2 usage error or no such run, 3 it could not be written\n";

int cmd_report(int argc, char **argv)
{
	static const struct option own[] = {
		{ "html", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	wd_runs_args a = { .cmd = "report", .usage = report_usage, .takes_run = 1 };
	wd_story_opts so = WD_STORY_OPTS_INIT;
	const char *html = NULL;
	wd_buf page = WD_BUF_INIT;
	json_t *st = NULL;
	int c, rc;

	while ((c = wd_runs_getopt(&a, argc, argv, own)) == 'o')
		html = optarg;
	if (c < 0)
		return a.exit;
	if (optind != argc - 1 || !html || !*html) {
		wd_cli_error("report: one RUN and --html FILE are required");
		fputs(report_usage, stderr);
		return WD_EXIT_USAGE;
	}
	if (wd_path_is_dir(html)) {
		wd_cli_error("report: %s is a directory; --html names the page to write", html);
		return WD_EXIT_USAGE;
	}
	so.excerpt_lines = 20;
	if ((rc = wd_runs_story(&st, a.work_dir, argv[optind], &so)) != 0 ||
	    (rc = wd_story_html(&page, st)) != 0)
		goto out;
	if ((rc = wd_file_write_atomic(html, page.ptr, page.len, 0600)) != 0)
		goto out;
	fprintf(stderr, "warden: wrote %s (%zu bytes)\n", html, page.len);
out:
	json_decref(st);
	wd_buf_free(&page);
	if (rc) {
		wd_cli_error("report: %s", wd_error_last());
		return wd_exit_code_for(rc);
	}
	return WD_EXIT_OK;
}
