#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/repo.h"

#ifndef WARDEN_VERSION
#define WARDEN_VERSION "0.1.0"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	int needs_libs;   /* initialise libgit2 and libcurl first */
};

static const struct command commands[] = {
	{ "run", cmd_run, "take a ticket from clone to a gated commit on a review branch", 1 },
	{ "apply", cmd_apply, "apply a model-style patch to a work tree, all or nothing", 1 },
	/* no libraries: starting a confined command fast is the point (libgit2's
	 * init alone parses the system's CA certificates) */
	{ "sandbox", cmd_sandbox, "run one command confined, exactly as the gate runs checks", 0 },
	/* map initialises libgit2 itself: libcurl's init is a tenth of a warm map */
	{ "map", cmd_map, "print the ranked tree-sitter repository map", 0 },
	{ "review", cmd_review, "list, show, approve or reject proposals", 1 },
	{ "log", cmd_log, "one line per run: id, age, ticket, status, rounds, cost, time", 0 },
	{ "show", cmd_show, "tell one run from its ledger, failed or not", 0 },
	{ "stats", cmd_stats, "completion, corrections, cost, latency and alerts over runs", 0 },
	{ "report", cmd_report, "one self-contained HTML page of a run for a reviewer", 0 },
	{ "gc", cmd_gc, "prune work trees, blobs, tag caches and baselines nothing needs", 0 },
	{ "scan", cmd_scan, "show what the data policy and the redactor keep from the model", 1 },
	{ "eval", cmd_eval, "run and grade a dataset of tickets; merge and compare results", 1 },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: warden <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'warden <command> --help' describes a command's options.\n"
	           "\nexit codes: 0 success/proposed, 1 no passing patch or refused,\n"
	           "            2 usage or input error, 3 infrastructure error (git, network,\n"
	           "            model service), 4 a budget cap stopped the run,\n"
	           "            5 escalated: a person must decide (run)\n");
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		usage(stderr);
		return WD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return WD_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("warden %s\n", WARDEN_VERSION);
		return WD_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (!commands[i].needs_libs)
			return commands[i].fn(argc - 1, argv + 1);
		if (wd_repo_global_init() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			wd_cli_error("could not initialise libgit2/libcurl");
			return WD_EXIT_INFRA;
		}
		rc = commands[i].fn(argc - 1, argv + 1);
		curl_global_cleanup();
		wd_repo_global_shutdown();
		return rc;
	}
	wd_cli_error("'%s' is not a warden command; see 'warden --help'", argv[1]);
	return WD_EXIT_USAGE;
}
