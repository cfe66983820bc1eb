#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "e2e.h"
#include "fixture.h"

const char *e2e_warden_bin(void)
{
	const char *b = getenv("WARDEN_BIN");

	return b && *b ? b : "./build/warden";
}

const char *e2e_src_root(void)
{
	const char *s = getenv("WARDEN_SRC");

	return s && *s ? s : ".";
}

const char *const e2e_fixture_files[] = {
	"value.txt", "answer = 41\n",
	"other.txt", "do not touch\n",
	"test.sh",
	"#!/bin/sh\n"
	"if grep -q '^answer = 42$' value.txt; then echo 'ok answer'; exit 0; fi\n"
	"echo \"FAIL answer: expected 42, got $(cat value.txt)\"\n"
	"exit 1\n",
	NULL
};

void e2e_world_init(struct e2e_world *w, const char *const *files, const char *ticket_header)
{
	char body[2048];

	memset(w, 0, sizeof(*w));
	ck_assert_int_eq(fx_tmpdir(&w->tmp), 0);
	snprintf(w->src, sizeof(w->src), "%s/src", w->tmp);
	snprintf(w->ticket, sizeof(w->ticket), "%s/ticket.md", w->tmp);
	snprintf(w->cache, sizeof(w->cache), "%s/cache", w->tmp);
	snprintf(w->replay, sizeof(w->replay), "%s/replay.jsonl", w->tmp);
	ck_assert_int_eq(fx_repo_create(w->src, files ? files : e2e_fixture_files, "initial"), 0);
	snprintf(body, sizeof(body),
	         "---\n%s---\n# Make the answer right\n\nvalue.txt must say 42.\n",
	         ticket_header ? ticket_header : "scope: value.txt\nchecks: sh test.sh\n");
	ck_assert_int_eq(fx_write_file(w->ticket, body), 0);
	ck_assert_int_eq(fx_snapshot(&w->before, w->src), 0);
	ck_assert_int_eq(fx_snapshot_except(&w->before_pub, w->src, fx_publish_paths), 0);
}

void e2e_world_free(struct e2e_world *w)
{
	fx_rm_rf(w->tmp);
	free(w->tmp);
	free(w->before);
	free(w->before_pub);
	free(w->output);
	json_decref(w->result);
	memset(w, 0, sizeof(*w));
}

void e2e_write_replay(struct e2e_world *w, ...)
{
	va_list ap;
	const char *content;
	FILE *f = fopen(w->replay, "w");

	ck_assert_ptr_nonnull(f);
	va_start(ap, w);
	while ((content = va_arg(ap, const char *)) != NULL) {
		json_t *line = json_pack("{s:{s:s, s:s, s:{s:i, s:i}}}", "reply", "content", content,
		                         "model", "replay-test", "usage", "input_tokens", 100,
		                         "output_tokens", 20);
		char *s = json_dumps(line, JSON_COMPACT);

		fprintf(f, "%s\n", s);
		free(s);
		json_decref(line);
	}
	va_end(ap);
	fclose(f);
}

void e2e_run(struct e2e_world *w, const char *const *env, ...)
{
	const char *argv[64];
	size_t n = 0;
	va_list ap;
	const char *a;
	char *line;

	argv[n++] = e2e_warden_bin();
	argv[n++] = "run";
	argv[n++] = "--repo";
	argv[n++] = w->src;
	argv[n++] = "--ticket";
	argv[n++] = w->ticket;
	argv[n++] = "--work-dir";
	argv[n++] = w->cache;
	argv[n++] = "--json";
	va_start(ap, env);
	while ((a = va_arg(ap, const char *)) != NULL && n < 62)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	free(w->output);
	w->output = NULL;
	json_decref(w->result);
	w->result = NULL;
	ck_assert_int_eq(fx_run(&w->output, &w->status, argv, env, w->tmp), 0);
	/* the JSON object is the one line of output that starts with '{' */
	line = strstr(w->output, "\n{");
	line = line ? line + 1 : (w->output[0] == '{' ? w->output : NULL);
	ck_assert_msg(line != NULL, "no JSON in output:\n%s", w->output);
	w->result = json_loadb(line, strcspn(line, "\n"), 0, NULL);
	ck_assert_msg(w->result != NULL, "bad JSON in output:\n%s", w->output);
}

const char *e2e_str(struct e2e_world *w, const char *key)
{
	const char *s = json_string_value(json_object_get(w->result, key));

	return s ? s : "";
}

void e2e_assert_user_repo_unchanged(struct e2e_world *w, int allow_publish)
{
	char *after = NULL;

	if (!allow_publish) {
		ck_assert_int_eq(fx_snapshot(&after, w->src), 0);
		ck_assert_msg(strcmp(w->before, after) == 0, "user's repository changed:\n%s", w->output);
	} else {
		ck_assert_int_eq(fx_snapshot_except(&after, w->src, fx_publish_paths), 0);
		ck_assert_msg(strcmp(w->before_pub, after) == 0,
		              "user's checkout changed beyond the new ref");
	}
	free(after);
}

int e2e_count_warden_refs(const char *repo_path)
{
	git_repository *repo = NULL;
	git_reference_iterator *it = NULL;
	const char *name;
	int n = 0;

	ck_assert_int_eq(git_repository_open(&repo, repo_path), 0);
	ck_assert_int_eq(git_reference_iterator_glob_new(&it, repo, "refs/heads/warden/*"), 0);
	while (git_reference_next_name(&name, it) == 0)
		n++;
	git_reference_iterator_free(it);
	git_repository_free(repo);
	return n;
}

char *e2e_blob_at(const char *repo_path, const char *hex, const char *path)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	git_oid id;
	char *out = NULL;

	ck_assert_int_eq(git_repository_open(&repo, repo_path), 0);
	ck_assert_int_eq(git_oid_fromstr(&id, hex), 0);
	ck_assert_int_eq(git_commit_lookup(&commit, repo, &id), 0);
	ck_assert_int_eq(git_commit_tree(&tree, commit), 0);
	if (git_tree_entry_bypath(&e, tree, path) == 0 &&
	    git_blob_lookup(&blob, repo, git_tree_entry_id(e)) == 0) {
		size_t n = (size_t)git_blob_rawsize(blob);

		out = malloc(n + 1);
		ck_assert_ptr_nonnull(out);
		memcpy(out, git_blob_rawcontent(blob), n);
		out[n] = '\0';
	}
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(repo);
	return out;
}

int e2e_main(Suite *s)
{
	int failed;

	git_libgit2_init();
	failed = fx_suite_main(s);
	git_libgit2_shutdown();
	return failed;
}
