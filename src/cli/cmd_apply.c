/* warden apply: apply a model-style patch to a work tree with the engine the
 * gate uses, all or nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/patch.h"
#include "warden/repo.h"

#define MAX_PATCH_BYTES (64u << 20)

static void apply_usage(FILE *f)
{
	fprintf(f,
	        "usage: warden apply [--repo DIR] [--check] [--json] [options] PATCHFILE\n"
	        "\n"
	        "Apply a patch as a model writes it to the work tree of DIR: a unified diff (bare,\n"
	        "in ```diff fences, git-style or plain ---/+++, with wrong or missing hunk numbers),\n"
	        "SEARCH/REPLACE blocks, '*** Begin Patch' sections, new, deleted and renamed\n"
	        "files, mixed with prose, or (in a reply with none of those) whole-file blocks:\n"
	        "a fence naming the path in its info string or on the line above. Every\n"
	        "hunk of every file must apply, unambiguously, or nothing is written; a refusal\n"
	        "says which file and hunk, the closest text found, and whether the change is\n"
	        "already present. PATCHFILE '-' reads standard input.\n"
	        "\n"
	        "  --repo DIR           repository whose work tree is patched (default: .)\n"
	        "  --check              only report whether it applies; write nothing\n"
	        "  --json               print the structured report as one JSON object on stdout\n"
	        "  --scope GLOB         allowed paths (repeatable; '!GLOB' denies, '**' spans\n"
	        "                       directories); default: everything\n"
	        "  --max-files N        refuse patches touching more files (default 50)\n"
	        "  --max-lines N        refuse patches changing more lines (default 5000)\n"
	        "  --max-whole-file N   refuse whole-file blocks larger than N bytes (default 65536)\n"
	        "  --allow-mode-change  accept executable-bit changes\n"
	        "\n"
	        "Always refused: paths with '..', absolute paths, anything under .git/, writes\n"
	        "through symlinks, binary patches, symlink or submodule creation.\n"
	        "\n"
	        "exit codes: 0 applied (or would apply, with --check), 1 refused (nothing\n"
	        "            changed), 2 bad input (unreadable or malformed patch, no edit found,\n"
	        "            not a repository), 3 infrastructure error\n");
}

static int read_patch(wd_buf *out, const char *path)
{
	char chunk[65536];
	size_t n;

	if (strcmp(path, "-"))
		return wd_file_read(out, path, MAX_PATCH_BYTES);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (out->len + n > MAX_PATCH_BYTES)
			return wd_error_set(WD_EINPUT, "standard input: larger than %u bytes",
			                    MAX_PATCH_BYTES);
		if (wd_buf_put(out, chunk, n))
			return WD_ENOMEM;
	}
	if (ferror(stdin))
		return wd_error_errno(WD_EINPUT, "reading standard input");
	return wd_buf_grow(out, 0);
}

static int parse_count(size_t *out, const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno)
		return -1;
	*out = (size_t)v;
	return 0;
}

static void print_json_error(const char *status, const char *msg)
{
	json_t *o = json_pack("{s:s, s:s, s:b}", "status", status, "error", msg, "applied", 0);

	if (o) {
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	}
	json_decref(o);
}

static void print_human(const wd_patch_report *r, int check)
{
	json_t *files = json_object_get(r->json, "files");
	size_t i;
	json_t *f;

	printf("%s %zu file%s:\n", check ? "would apply to" : "applied to", json_array_size(files),
	       json_array_size(files) == 1 ? "" : "s");
	json_array_foreach(files, i, f) {
		const char *old = json_string_value(json_object_get(f, "old_path"));

		printf("  %-8s %s%s%s  (%s, %s match, %zu hunk%s)\n",
		       json_string_value(json_object_get(f, "status")), old ? old : "", old ? " -> " : "",
		       json_string_value(json_object_get(f, "path")),
		       json_string_value(json_object_get(f, "method")),
		       json_string_value(json_object_get(f, "match")),
		       json_array_size(json_object_get(f, "hunks")),
		       json_array_size(json_object_get(f, "hunks")) == 1 ? "" : "s");
	}
}

int cmd_apply(int argc, char **argv)
{
	const char *repo_dir = ".", *file = NULL;
	int check = 0, json = 0, rc, exit_code = WD_EXIT_OK;
	wd_strvec scope = WD_STRVEC_INIT;
	wd_patch_policy pol = WD_PATCH_POLICY_INIT;
	wd_patch_report report = { 0 };
	wd_buf text = WD_BUF_INIT;
	git_repository *repo = NULL;
	wd_patch *p = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			apply_usage(stdout);
			goto done;
		} else if (!strcmp(a, "--check")) {
			check = 1;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--allow-mode-change")) {
			pol.allow_mode_change = 1;
		} else if (!strcmp(a, "--repo") && i + 1 < argc) {
			repo_dir = argv[++i];
		} else if (!strcmp(a, "--scope") && i + 1 < argc) {
			if (wd_strvec_push(&scope, argv[++i])) {
				exit_code = WD_EXIT_INFRA;
				goto done;
			}
		} else if ((!strcmp(a, "--max-files") || !strcmp(a, "--max-lines")) && i + 1 < argc) {
			size_t *dst = a[6] == 'f' ? &pol.max_files : &pol.max_lines;

			if (parse_count(dst, argv[++i]) < 0 || *dst == 0) {
				wd_cli_error("%s wants a positive number, not '%s'", a, argv[i]);
				exit_code = WD_EXIT_USAGE;
				goto done;
			}
		} else if (!strcmp(a, "--max-whole-file") && i + 1 < argc) {
			if (parse_count(&pol.max_whole_bytes, argv[++i]) < 0 || pol.max_whole_bytes == 0) {
				wd_cli_error("%s wants a positive number of bytes, not '%s'", a, argv[i]);
				exit_code = WD_EXIT_USAGE;
				goto done;
			}
		} else if (a[0] == '-' && a[1] != '\0') {
			wd_cli_error("apply: unknown or incomplete option '%s' (see --help)", a);
			exit_code = WD_EXIT_USAGE;
			goto done;
		} else if (!file) {
			file = a;
		} else {
			wd_cli_error("apply: one PATCHFILE only (got '%s' and '%s')", file, a);
			exit_code = WD_EXIT_USAGE;
			goto done;
		}
	}
	if (!file) {
		apply_usage(stderr);
		exit_code = WD_EXIT_USAGE;
		goto done;
	}
	if (scope.n)
		pol.scope = (const char *const *)scope.v;
	if ((rc = read_patch(&text, file)) != 0) {
		wd_cli_error("%s", wd_error_last());
		exit_code = rc == WD_ENOMEM ? WD_EXIT_INFRA : WD_EXIT_USAGE;
		goto done;
	}
	wd_repo_global_init(); /* balanced below; main() holds the first reference */
	if ((rc = wd_patch_parse(&p, text.ptr, text.len)) != 0) {
		wd_cli_error("%s: %s", file, wd_error_last());
		exit_code = wd_exit_code_for(rc);
		if (json)
			print_json_error(rc == WD_ENOTFOUND ? "no_patch" : "error", wd_error_last());
		goto shutdown;
	}
	if (wd_repo_open_discover(&repo, repo_dir) != 0) {
		wd_cli_error("%s", wd_error_last());
		exit_code = WD_EXIT_USAGE;
		goto shutdown;
	}
	rc = wd_patch_apply(&report, repo, p, &pol, check ? WD_PATCH_CHECK_ONLY : 0);
	if (json && report.json) {
		json_object_set_new(report.json, "status", json_string(rc == 0 ? "applied" :
		                                                       rc == WD_EREFUSED ? "refused" : "error"));
		if (rc && rc != WD_EREFUSED)
			json_object_set_new(report.json, "error", json_string(wd_error_last()));
		json_dumpf(report.json, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	}
	if (rc == 0) {
		if (!json)
			print_human(&report, check);
	} else if (rc == WD_EREFUSED) {
		if (!json)
			fprintf(stderr, "warden: patch refused, nothing changed:\n\n%s",
			        wd_buf_cstr(&report.reasons));
		exit_code = WD_EXIT_NO;
	} else {
		wd_cli_error("apply: %s", wd_error_last());
		exit_code = wd_exit_code_for(rc);
	}
	wd_repo_close(repo);
shutdown:
	wd_repo_global_shutdown();
done:
	wd_patch_report_free(&report);
	wd_patch_free(p);
	wd_buf_free(&text);
	wd_strvec_free(&scope);
	return exit_code;
}
