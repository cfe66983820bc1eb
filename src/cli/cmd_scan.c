/* warden scan: what the outbound gate would keep back, without calling a model. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <jansson.h>

#include "warden/cli.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/ledger.h"
#include "warden/outbound.h"
#include "warden/repo.h"

static const char scan_usage[] =
	"usage: warden scan [--repo DIR] [--model SPEC] [--json]\n"
	"\n"
	"Show what `warden run` would keep from the model in the repository at DIR\n"
	"(default: the current directory), at its HEAD commit: the files the data\n"
	"policy denies (with the rule), and every secret the redactor would replace in\n"
	"the rest (file, line, rule; never the secret). Nothing is sent anywhere.\n"
	"\n"
	"  --repo DIR     the repository (default .)\n"
	"  --model SPEC   judge for this model's allowances ([data \"SPEC\"] allow in your\n"
	"                 config; default $WARDEN_MODEL, else model.default)\n"
	"  --json         one JSON object on stdout\n"
	"\n"
	"The policy: the default deny globs (.env*, *.pem, *.key, id_*, *.p12, *.pfx,\n"
	"secrets/**, .git/**), data.deny in your config, the repository's .wardenignore,\n"
	"and [data \"MODEL\"] allow. See docs/outbound.md.\n"
	"\n"
	"exit codes: 0 reported, 2 usage error or not a repository, 3 infrastructure error\n";

static int scan(json_t **out, const char *dir, const char *spec)
{
	git_repository *repo = NULL;
	git_oid head, tree;
	wd_config *cfg = NULL;
	wd_outbound *ob = NULL;
	wd_outbound_opts o = { 0 };
	wd_buf ignore = WD_BUF_INIT;
	char hex[41], *cfg_spec = NULL;
	int found = 0, rc;

	if ((rc = wd_repo_open_discover(&repo, dir)) != 0)
		return rc;
	if (git_reference_name_to_id(&head, repo, "HEAD") < 0) {
		rc = wd_error_git(WD_EINPUT, "scan: the repository has no HEAD commit");
		goto out;
	}
	if ((rc = wd_repo_commit_tree(&tree, repo, &head)) != 0 ||
	    (rc = wd_repo_tree_file(&ignore, &found, repo, &tree, ".wardenignore")) != 0 ||
	    (rc = wd_config_open(&cfg, NULL)) != 0)
		goto out;
	/* the same model a run would use; none is fine for a scan */
	if (wd_config_model_spec(&cfg_spec, cfg, spec) == 0)
		spec = cfg_spec;
	wd_error_clear();
	o.cfg = cfg;
	o.model_spec = spec;
	o.root = git_repository_workdir(repo);
	o.ignore_text = found ? wd_buf_cstr(&ignore) : NULL;
	o.ignore_len = ignore.len;
	if ((rc = wd_outbound_new(&ob, &o)) != 0 || (rc = wd_outbound_scan_tree(out, ob, repo, &tree)) != 0)
		goto out;
	wd_repo_oid_hex(hex, &head);
	json_object_set_new(*out, "commit", json_string(hex));
	if (spec)
		json_object_set_new(*out, "model", json_string(spec));
out:
	free(cfg_spec);
	wd_outbound_free(ob);
	wd_config_free(cfg);
	wd_buf_free(&ignore);
	wd_repo_close(repo);
	return rc;
}

/* A string member ("" when absent); `key` NULL: the value itself. */
static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(key ? json_object_get(o, key) : o);

	return s ? s : "";
}

static void print_text(json_t *r)
{
	json_t *denied = json_object_get(r, "denied"), *findings = json_object_get(r, "findings"), *e;
	size_t i;

	json_array_foreach(denied, i, e) {
		printf("denied  %s  (%s)\n", str(e, "path"),
		       str(e, "rule"));
	}
	json_array_foreach(findings, i, e) {
		printf("secret  %s:%lld  %s\n", str(e, "path"),
		       (long long)json_integer_value(json_object_get(e, "line")),
		       str(e, "rule"));
	}
	fprintf(stderr, "warden: %zu of %lld files denied by policy, %zu secret(s) would be "
	        "redacted, %lld file(s) not scanned (binary or larger than 4 MiB); nothing was "
	        "sent\n", json_array_size(denied), (long long)json_integer_value(json_object_get(r, "files")),
	        json_array_size(findings), (long long)json_integer_value(json_object_get(r, "skipped")));
}

int cmd_scan(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_MODEL };
	static const struct option longopts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = ".", *spec = NULL;
	json_t *r = NULL;
	int json = 0, c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': dir = optarg; break;
		case OPT_MODEL: spec = optarg; break;
		case OPT_JSON: json = 1; break;
		case 'h': fputs(scan_usage, stdout); return WD_EXIT_OK;
		default:
			wd_cli_error("scan: unknown or incomplete option '%s'", argv[optind - 1]);
			fputs(scan_usage, stderr);
			return WD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		wd_cli_error("scan: unexpected argument '%s'", argv[optind]);
		fputs(scan_usage, stderr);
		return WD_EXIT_USAGE;
	}
	if ((rc = scan(&r, dir, spec && *spec ? spec : NULL)) != 0) {
		wd_cli_error("scan: %s", wd_error_last());
		return wd_exit_code_for(rc);
	}
	/* paths and rule names only, but a path may itself look like a credential */
	wd_redact_json(r);
	if (json) {
		char *s = json_dumps(r, JSON_COMPACT);

		if (s)
			printf("%s\n", s);
		free(s);
	} else {
		print_text(r);
	}
	json_decref(r);
	return WD_EXIT_OK;
}
