/* The CI templates in examples/ci/, run locally: each step warden owns
 * ("warden: ..." steps on GitHub, the jobs' scripts on GitLab) is taken out
 * of the YAML as written and run with /bin/sh in a fixture checkout, with the
 * variables the CI service would set and a scripted HTTP server standing in
 * for the GitHub and GitLab APIs. Nothing here talks to a CI service. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "e2e.h"
#include "fixture.h"
#include "mockhttp.h"
#include "warden/buf.h"

static size_t indent_of(const char *l)
{
	return strspn(l, " ");
}

/* The `run: |` block of the GitHub step named `step`. */
static char *github_step(const char *yml, const char *step)
{
	char *text = NULL, *save = NULL, *l;
	wd_buf out = WD_BUF_INIT;
	char want[256];
	int state = 0;
	size_t run_indent = 0;

	snprintf(want, sizeof(want), "- name: \"%s\"", step);
	ck_assert_int_eq(fx_read_file(&text, yml), 0);
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (state == 0 && strstr(l, want))
			state = 1;
		else if (state == 1 && !strcmp(l + indent_of(l), "run: |")) {
			state = 2;
			run_indent = indent_of(l);
		} else if (state == 2) {
			if (indent_of(l) <= run_indent)
				break;
			wd_buf_printf(&out, "%s\n", l + run_indent + 2);
		}
	}
	free(text);
	ck_assert_msg(out.len > 0, "%s: no run block for step '%s'", yml, step);
	return wd_buf_detach(&out);
}

/* The items of `key` (script, before_script) of the GitLab job `job`, one
 * after the other: `- |` blocks and one-line `- CMD` items, leaving out the
 * one-line items starting with `skip` (NULL: none). */
static char *gitlab_items(const char *yml, const char *job, const char *key, const char *skip)
{
	char *text = NULL, *save = NULL, *l;
	wd_buf out = WD_BUF_INIT;
	char want[256], want_key[64];
	int state = 0;

	snprintf(want, sizeof(want), "%s:", job);
	snprintf(want_key, sizeof(want_key), "  %s:", key);
	ck_assert_int_eq(fx_read_file(&text, yml), 0);
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (state == 0 && !strcmp(l, want))
			state = 1;
		else if (state == 1 && indent_of(l) == 0)
			break;
		else if (state == 1 && !strcmp(l, want_key))
			state = 2;
		else if (state == 2) {
			if (indent_of(l) <= 2)
				break;
			if (!strcmp(l, "    - |"))
				continue;
			if (!strncmp(l, "    - ", 6)) {
				if (!skip || strncmp(l + 6, skip, strlen(skip)))
					wd_buf_printf(&out, "%s\n", l + 6);
				continue;
			}
			ck_assert_msg(indent_of(l) >= 6, "%s: unexpected script line '%s'", yml, l);
			wd_buf_printf(&out, "%s\n", l + 6);
		}
	}
	free(text);
	ck_assert_msg(out.len > 0, "%s: no %s for job '%s'", yml, key, job);
	return wd_buf_detach(&out);
}

static char *gitlab_script(const char *yml, const char *job)
{
	return gitlab_items(yml, job, "script", NULL);
}

static char *template_path(const char *rel)
{
	wd_buf p = WD_BUF_INIT;

	ck_assert_int_eq(wd_buf_printf(&p, "%s/examples/ci/%s", e2e_src_root(), rel), 0);
	return wd_buf_detach(&p);
}

struct ci {
	char *tmp;
	char repo[512], bin[512], path_env[4096];
	char *output;
	int status;
};

/* A bin/ with `warden` in it, first on PATH, as the install step leaves it. */
static void ci_init(struct ci *c)
{
	char link[600];

	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(fx_tmpdir(&c->tmp), 0);
	snprintf(c->repo, sizeof(c->repo), "%s/checkout", c->tmp);
	snprintf(c->bin, sizeof(c->bin), "%s/bin", c->tmp);
	ck_assert_int_eq(mkdir(c->bin, 0755), 0);
	snprintf(link, sizeof(link), "%s/warden", c->bin);
	ck_assert_int_eq(symlink(e2e_warden_bin(), link), 0);
	snprintf(link, sizeof(link), "%s/user-config", c->tmp);
	ck_assert_int_eq(fx_write_file(link, "[user]\n\tname = CI\n"), 0);
	snprintf(c->path_env, sizeof(c->path_env), "PATH=%s:%s", c->bin,
	         getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
}

static void ci_free(struct ci *c)
{
	fx_rm_rf(c->tmp);
	free(c->tmp);
	free(c->output);
}

/* Run `script` with sh -e in the checkout, with `env` (NULL-terminated) added. */
static void ci_run(struct ci *c, const char *script, ...)
{
	const char *env[32];
	const char *argv[] = { "/bin/sh", "-ec", script, NULL };
	char cfg[600], cache[600];
	size_t n = 0;
	va_list ap;
	const char *e;

	snprintf(cfg, sizeof(cfg), "WARDEN_CONFIG=%s/user-config", c->tmp);
	snprintf(cache, sizeof(cache), "XDG_CACHE_HOME=%s/cache", c->tmp);
	env[n++] = c->path_env;
	env[n++] = cfg;
	env[n++] = cache;
	va_start(ap, script);
	while ((e = va_arg(ap, const char *)) != NULL && n < 31)
		env[n++] = e;
	va_end(ap);
	env[n] = NULL;
	free(c->output);
	c->output = NULL;
	ck_assert_int_eq(fx_run(&c->output, &c->status, argv, env, c->repo), 0);
}

/* ------------------------------------------------------------ eval matrix */

static const char *const calc_files[] = {
	"calc.sh", "add() { echo $(($1 - $2)); }\nmul() { echo $(($1 * $2)); }\n",
	"test.sh", "#!/bin/sh\n. ./calc.sh\nst=0\nfor t in tests/t_*.sh; do . \"./$t\" || st=1; done\n"
	           "exit $st\n",
	"tests/t_mul.sh",
	"if [ \"$(mul 3 4)\" = 12 ]; then echo 'ok mul'; else echo 'FAIL mul: no'; false; fi\n",
	NULL
};

#define TP_ADD \
	"diff --git a/tests/t_add.sh b/tests/t_add.sh\nnew file mode 100644\n--- /dev/null\n" \
	"+++ b/tests/t_add.sh\n@@ -0,0 +1 @@\n" \
	"+if [ \"$(add 2 3)\" = 5 ]; then echo 'ok add'; else echo 'FAIL add: no'; false; fi\n"
#define FIX_FMT \
	"--- a/calc.sh\n+++ b/calc.sh\n@@ -1,2 +1,2 @@\n-add() { echo $(($1 - $2)); }\n" \
	"+add() { echo $(($1 %s $2)); }\n mul() { echo $(($1 * $2)); }\n"

/* The checkout: calc at its base, then a commit adding eval/dataset.jsonl
 * (four instances on that base, the repo being the checkout itself). */
static void eval_checkout(struct ci *c)
{
	const char *ops[4] = { "+", "*", "+", "-" };
	const char *files[] = { "eval/dataset.jsonl", NULL, NULL };
	char base[41];
	wd_buf ds = WD_BUF_INIT;

	ck_assert_int_eq(fx_repo_create(c->repo, calc_files, "calc"), 0);
	ck_assert_int_eq(fx_repo_rev(base, c->repo, "HEAD"), 0);
	for (int i = 0; i < 4; i++) {
		char id[32], fix[512];
		json_t *o;
		char *s;

		snprintf(id, sizeof(id), "calc-%d", i);
		snprintf(fix, sizeof(fix), FIX_FMT, ops[i]);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:s, s:s}", "instance_id", id,
		              "repo", "..", "base_commit", base, "problem_statement", "add is wrong",
		              "test", "sh test.sh", "FAIL_TO_PASS", "add", "PASS_TO_PASS", "mul",
		              "test_patch", TP_ADD, "patch", fix);
		s = json_dumps(o, JSON_COMPACT);
		wd_buf_printf(&ds, "%s\n", s);
		free(s);
		json_decref(o);
	}
	files[1] = ds.ptr;
	ck_assert_int_eq(fx_repo_commit_files(c->repo, files, "eval dataset"), 0);
	wd_buf_free(&ds);
}

static void write_baseline(struct ci *c, const char *merged)
{
	json_t *arr = json_array();
	char *text = NULL, *save = NULL, *l;
	wd_buf out = WD_BUF_INIT;
	char path[600];

	/* the model in production: it resolved calc-1 and nothing else */
	ck_assert_int_eq(fx_read_file(&text, merged), 0);
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(l, 0, NULL);
		char *s;

		ck_assert_ptr_nonnull(o);
		json_object_set_new(o, "status", json_string(
			strcmp(json_string_value(json_object_get(o, "instance_id")), "calc-1")
			? "unresolved" : "resolved"));
		s = json_dumps(o, JSON_COMPACT);
		wd_buf_printf(&out, "%s\n", s);
		free(s);
		json_decref(o);
	}
	snprintf(path, sizeof(path), "%s/eval/baseline.jsonl", c->repo);
	ck_assert_int_eq(fx_write_file(path, out.ptr), 0);
	free(text);
	wd_buf_free(&out);
	json_decref(arr);
}

static size_t count_lines(const char *path)
{
	char *text = NULL;
	size_t n = 0;

	ck_assert_int_eq(fx_read_file(&text, path), 0);
	for (const char *p = text; *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

START_TEST(test_github_eval_matrix_runs_locally)
{
	struct ci c;
	mock_server *srv = NULL;
	char *yml = template_path("github/warden-eval.yml");
	char *shard = github_step(yml, "warden: run one shard");
	char *merge = github_step(yml, "warden: merge the shards and post the comparison");
	char api[300], path[700];
	const char *body;

	ci_init(&c);
	eval_checkout(&c);
	for (int i = 1; i <= 4; i++) {
		char s[32];

		snprintf(s, sizeof(s), "SHARD=%d", i);
		ci_run(&c, shard, s, "SHARDS=4", "WARDEN_MODEL=oracle", (char *)NULL);
		ck_assert_msg(c.status == 0, "shard %d: exit %d\n%s", i, c.status, c.output);
	}
	/* a first merge gives the production results the comparison is against */
	ci_run(&c, "warden eval merge results-*.jsonl --out first.jsonl >/dev/null", (char *)NULL);
	ck_assert_msg(c.status == 0, "%s", c.output);
	snprintf(path, sizeof(path), "%s/first.jsonl", c.repo);
	write_baseline(&c, path);
	ck_assert_int_eq(mock_start(&srv), 0);
	mock_push_json(srv, 201, "{\"id\": 1}");
	snprintf(api, sizeof(api), "GITHUB_API_URL=%s", mock_url(srv));
	ci_run(&c, merge, api, "GITHUB_TOKEN=ghs_test", "PR_NUMBER=7",
	       "GITHUB_REPOSITORY=octo/widgets", (char *)NULL);
	ck_assert_msg(c.status == 0, "merge: exit %d\n%s", c.status, c.output);
	snprintf(path, sizeof(path), "%s/merged.jsonl", c.repo);
	ck_assert_uint_eq(count_lines(path), 4);
	ck_assert_uint_eq(mock_request_count(srv), 1);
	ck_assert_str_eq(mock_request_path(srv, 0), "/repos/octo/widgets/issues/7/comments");
	body = mock_request_body(srv, 0);
	/* the oracle resolves calc-0 and calc-2; production had only calc-1 */
	ck_assert_msg(strstr(body, "2 newly resolved, 1 newly failing") && strstr(body, "McNemar"),
	              "%s", body);
	mock_stop(srv);
	free(yml);
	free(shard);
	free(merge);
	ci_free(&c);
}
END_TEST

START_TEST(test_gitlab_eval_matrix_runs_locally)
{
	struct ci c;
	mock_server *srv = NULL;
	char *yml = template_path("gitlab/warden-eval.gitlab-ci.yml");
	char *shard = gitlab_script(yml, "warden-eval-shard");
	char *report = gitlab_script(yml, "warden-eval-report");
	char api[300], path[700];

	ci_init(&c);
	eval_checkout(&c);
	for (int i = 1; i <= 4; i++) {
		char s[32];

		snprintf(s, sizeof(s), "CI_NODE_INDEX=%d", i);
		ci_run(&c, shard, s, "CI_NODE_TOTAL=4", "WARDEN_MODEL=oracle", (char *)NULL);
		ck_assert_msg(c.status == 0, "shard %d: exit %d\n%s", i, c.status, c.output);
	}
	ci_run(&c, "warden eval merge results-*.jsonl --out first.jsonl >/dev/null", (char *)NULL);
	snprintf(path, sizeof(path), "%s/first.jsonl", c.repo);
	write_baseline(&c, path);
	ck_assert_int_eq(mock_start(&srv), 0);
	mock_push_json(srv, 201, "{\"id\": 1}");
	snprintf(api, sizeof(api), "CI_API_V4_URL=%s", mock_url(srv));
	ci_run(&c, report, api, "CI_PROJECT_ID=42", "CI_MERGE_REQUEST_IID=3",
	       "WARDEN_GIT_TOKEN=glpat-test", (char *)NULL);
	ck_assert_msg(c.status == 0, "report: exit %d\n%s", c.status, c.output);
	ck_assert_uint_eq(mock_request_count(srv), 1);
	ck_assert_str_eq(mock_request_path(srv, 0), "/projects/42/merge_requests/3/notes");
	ck_assert_ptr_nonnull(strstr(mock_request_body(srv, 0), "2 newly resolved"));
	mock_stop(srv);
	free(yml);
	free(shard);
	free(report);
	ci_free(&c);
}
END_TEST

/* ---------------------------------------------------------------- CI bots */

static const char *const bot_files[] = {
	"value.txt", "answer = 41\n",
	"test.sh", "#!/bin/sh\nif grep -q '^answer = 42$' value.txt; then echo 'ok answer'; "
	           "exit 0; fi\necho 'FAIL answer: not 42'\nexit 1\n",
	".warden/config", "[check \"test\"]\n\tcommand = sh test.sh\n",
	NULL
};

/* A checkout whose origin is a bare repository, and a replayed model. */
static void bot_checkout(struct ci *c, char *model_env, size_t n)
{
	git_repository *repo = NULL, *bare = NULL;
	git_remote *remote = NULL;
	char origin[600], url[700], replay[600];
	json_t *line;
	char *s;

	ck_assert_int_eq(fx_repo_create(c->repo, bot_files, "initial"), 0);
	snprintf(origin, sizeof(origin), "%s/origin.git", c->tmp);
	snprintf(url, sizeof(url), "file://%s", origin);
	ck_assert_int_eq(git_repository_init(&bare, origin, 1), 0);
	ck_assert_int_eq(git_repository_open(&repo, c->repo), 0);
	ck_assert_int_eq(git_remote_create(&remote, repo, "origin", url), 0);
	git_remote_free(remote);
	git_repository_free(repo);
	git_repository_free(bare);
	snprintf(replay, sizeof(replay), "%s/replay.jsonl", c->tmp);
	line = json_pack("{s:{s:s}}", "reply", "content",
	                 "Now 42.\n```diff\n--- a/value.txt\n+++ b/value.txt\n@@ -1 +1 @@\n"
	                 "-answer = 41\n+answer = 42\n```\n");
	s = json_dumps(line, JSON_COMPACT);
	ck_assert_int_eq(fx_write_file(replay, s), 0);
	free(s);
	json_decref(line);
	snprintf(model_env, n, "WARDEN_MODEL=replay:%s", replay);
}

START_TEST(test_github_bot_runs_locally)
{
	struct ci c;
	mock_server *srv = NULL;
	char *yml = template_path("github/warden-bot.yml");
	char *step = github_step(yml, "warden: fix the issue and open a pull request");
	char model[700], api[300], event[600], event_env[700], res[700];
	json_t *r;

	ci_init(&c);
	bot_checkout(&c, model, sizeof(model));
	snprintf(event, sizeof(event), "%s/event.json", c.tmp);
	ck_assert_int_eq(fx_write_file(event, "{\"action\": \"labeled\", \"label\": {\"name\": "
	                 "\"warden\"}, \"issue\": {\"number\": 5, \"title\": \"Make the answer "
	                 "right\", \"body\": \"value.txt must say 42.\"}}"), 0);
	snprintf(event_env, sizeof(event_env), "GITHUB_EVENT_PATH=%s", event);
	ck_assert_int_eq(mock_start(&srv), 0);
	mock_push_json(srv, 201, "{\"number\": 8, \"html_url\": \"https://github.example/o/r/pull/8\"}");
	snprintf(api, sizeof(api), "GITHUB_API_URL=%s", mock_url(srv));
	ci_run(&c, step, model, api, event_env, "GITHUB_TOKEN=ghs_testtoken0123456789",
	       "GITHUB_REPOSITORY=octo/widgets", (char *)NULL);
	ck_assert_msg(c.status == 0, "exit %d\n%s", c.status, c.output);
	ck_assert_msg(strstr(c.output, "warden: proposed warden/") &&
	              strstr(c.output, "https://github.example/o/r/pull/8"), "%s", c.output);
	ck_assert_uint_eq(mock_request_count(srv), 1);
	ck_assert_str_eq(mock_request_path(srv, 0), "/repos/octo/widgets/pulls");
	snprintf(res, sizeof(res), "%s/warden-result.json", c.repo);
	r = json_load_file(res, 0, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "push"), "status")),
	                 "pushed");
	json_decref(r);
	mock_stop(srv);
	free(yml);
	free(step);
	ci_free(&c);
}
END_TEST

START_TEST(test_gitlab_bot_runs_locally)
{
	struct ci c;
	mock_server *srv = NULL;
	char *yml = template_path("gitlab/warden-bot.gitlab-ci.yml");
	char *script = gitlab_script(yml, "warden-bot");
	char model[700], api[300];
	json_t *mr;

	ci_init(&c);
	bot_checkout(&c, model, sizeof(model));
	ck_assert_int_eq(mock_start(&srv), 0);
	mock_push_json(srv, 200, "{\"iid\": 5, \"title\": \"Make the answer right\", "
	               "\"description\": \"value.txt must say 42.\"}");
	mock_push_json(srv, 201, "{\"iid\": 9, \"web_url\": \"https://gitlab.example/o/r/-/merge_requests/9\"}");
	snprintf(api, sizeof(api), "CI_API_V4_URL=%s", mock_url(srv));
	ci_run(&c, script, model, api, "CI_PROJECT_ID=42", "WARDEN_ISSUE_IID=5",
	       "WARDEN_GIT_TOKEN=glpat-testtoken0123456789", "CI_DEFAULT_BRANCH=main", (char *)NULL);
	ck_assert_msg(c.status == 0, "exit %d\n%s", c.status, c.output);
	ck_assert_uint_eq(mock_request_count(srv), 2);
	ck_assert_str_eq(mock_request_path(srv, 0), "/projects/42/issues/5");
	ck_assert_str_eq(mock_request_path(srv, 1), "/projects/42/merge_requests");
	mr = json_loads(mock_request_body(srv, 1), 0, NULL);
	ck_assert_ptr_nonnull(mr);
	ck_assert_str_eq(json_string_value(json_object_get(mr, "target_branch")), "main");
	ck_assert(!strncmp(json_string_value(json_object_get(mr, "source_branch")), "warden/", 7));
	json_decref(mr);
	mock_stop(srv);
	free(yml);
	free(script);
	ci_free(&c);
}
END_TEST

/* ---------------------------------------------------------- installing */

/* A stand-in for warden's repository at `dir` (branch main): what the install
 * step runs in it (.ci/setup, make, make install) leaves a trace, and the
 * installed "warden" says where it was built. Building the real warden here
 * would take minutes; the step's own logic is what is under test. */
static void fake_warden_repo(const char *dir)
{
	static const char *const files[] = {
		".ci/setup", "#!/bin/sh\necho setup > setup.ran\n",
		"Makefile", "all:\n\ttest -f setup.ran\n\tprintf '#!/bin/sh\\necho built-from-$(CURDIR)\\n' "
		            "> warden-built\n"
		            "install:\n\tmkdir -p $(PREFIX)/bin\n\tcp warden-built $(PREFIX)/bin/warden\n"
		            "\tchmod 755 $(PREFIX)/bin/warden\n",
		NULL
	};

	ck_assert_int_eq(fx_repo_create(dir, files, "warden"), 0);
}

/* Run an install step with and without WARDEN_GIT_URL (and with a ref that
 * does not exist), in a checkout of the user's project. */
static void check_install(const char *step, const char *tmpvar)
{
	struct ci c;
	char src[600], url[700], prefix[600], prefix_env[700], tmp_env[700], sudo[600], path[700];
	char *text = NULL;

	ci_init(&c);
	ck_assert_int_eq(fx_repo_create(c.repo, bot_files, "initial"), 0);
	snprintf(src, sizeof(src), "%s/warden-upstream", c.tmp);
	fake_warden_repo(src);
	snprintf(url, sizeof(url), "WARDEN_GIT_URL=file://%s", src);
	snprintf(prefix, sizeof(prefix), "%s/prefix", c.tmp);
	snprintf(prefix_env, sizeof(prefix_env), "PREFIX=%s", prefix);
	snprintf(tmp_env, sizeof(tmp_env), "%s=%s", tmpvar, c.tmp);
	/* CI runners have passwordless sudo; here it only runs the command */
	snprintf(sudo, sizeof(sudo), "%s/sudo", c.bin);
	ck_assert_int_eq(fx_write_file(sudo, "#!/bin/sh\nexec \"$@\"\n"), 0);
	ck_assert_int_eq(chmod(sudo, 0755), 0);

	/* no URL: the job stops at once and says which variable to set */
	ci_run(&c, step, prefix_env, tmp_env, "WARDEN_GIT_URL=", "WARDEN_GIT_REF=", (char *)NULL);
	ck_assert_msg(c.status != 0 && strstr(c.output, "WARDEN_GIT_URL"), "exit %d\n%s", c.status,
	              c.output);
	snprintf(path, sizeof(path), "%s/warden-src", c.tmp);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* a ref that is not there fails the clone */
	ci_run(&c, step, prefix_env, tmp_env, url, "WARDEN_GIT_REF=no-such-branch", (char *)NULL);
	ck_assert_msg(c.status != 0, "exit %d\n%s", c.status, c.output);
	snprintf(path, sizeof(path), "%s/bin/warden", prefix);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* with the URL (and a ref): cloned, set up, built and installed from it */
	ci_run(&c, step, prefix_env, tmp_env, url, "WARDEN_GIT_REF=main", (char *)NULL);
	ck_assert_msg(c.status == 0, "exit %d\n%s", c.status, c.output);
	ck_assert_int_eq(fx_read_file(&text, path), 0);
	ck_assert_msg(strstr(text, "built-from-") && strstr(text, "/warden-src"), "%s", text);
	free(text);
	ci_free(&c);
}

START_TEST(test_github_install_needs_and_uses_warden_git_url)
{
	const char *ymls[] = { "github/warden-bot.yml", "github/warden-eval.yml" };

	for (size_t i = 0; i < 2; i++) {
		char *yml = template_path(ymls[i]);
		char *step = github_step(yml, "warden: install");

		ck_assert_ptr_null(strstr(step, "warden-dev"));
		check_install(step, "RUNNER_TEMP");
		free(step);
		free(yml);
	}
}
END_TEST

START_TEST(test_gitlab_install_needs_and_uses_warden_git_url)
{
	const char *ymls[] = { "gitlab/warden-bot.gitlab-ci.yml", "gitlab/warden-eval.gitlab-ci.yml" };
	const char *jobs[] = { "warden-bot", ".warden" };

	for (size_t i = 0; i < 2; i++) {
		char *yml = template_path(ymls[i]);
		/* apt-get is the image's plumbing: the runner here has the tools */
		char *step = gitlab_items(yml, jobs[i], "before_script", "apt-get ");

		ck_assert_ptr_null(strstr(step, "warden-dev"));
		check_install(step, "TMPDIR");
		free(step);
		free(yml);
	}
}
END_TEST

static Suite *ci_suite(void)
{
	Suite *s = suite_create("ci_templates");
	TCase *tc = tcase_create("ci");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_github_eval_matrix_runs_locally);
	tcase_add_test(tc, test_gitlab_eval_matrix_runs_locally);
	tcase_add_test(tc, test_github_bot_runs_locally);
	tcase_add_test(tc, test_gitlab_bot_runs_locally);
	tcase_add_test(tc, test_github_install_needs_and_uses_warden_git_url);
	tcase_add_test(tc, test_gitlab_install_needs_and_uses_warden_git_url);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return e2e_main(ci_suite());
}
