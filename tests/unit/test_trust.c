/*
 * The trust boundary, attacked end to end through `warden run`: a hostile
 * repository whose checks plant symbolic links, tamper with git, edit files
 * the patch never touched, read the host's secrets and turn a results file
 * into a FIFO. Each attack sits beside an unconfined control that shows it
 * would have worked against the mechanism warden used before (libgit2's
 * forced checkout over the tree the checks touched, a writable .git inside
 * it, plain open()), so a passing test means the boundary held, not that the
 * attack was inert.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "e2e.h"
#include "fixture.h"

static char *slurp(const char *path)
{
	char *s = NULL;

	return fx_read_file(&s, path) == 0 ? s : NULL;
}

static char *replay_spec(struct e2e_world *w)
{
	static char spec[600];

	snprintf(spec, sizeof(spec), "replay:%s", w->replay);
	return spec;
}

/* Run `sh -c script` unconfined in `dir`: the control. */
static int sh_in(const char *dir, const char *script, char **out)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	int status = -1;

	ck_assert_int_eq(fx_run(out, &status, argv, NULL, dir), 0);
	return status;
}

/* The checkout warden used to reset a round with: libgit2, forced, over the
 * tree the checks had touched. */
static void old_reset(const char *dir)
{
	git_repository *repo = NULL;
	git_checkout_options co;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
	ck_assert_int_eq(git_repository_open(&repo, dir), 0);
	ck_assert_int_eq(git_checkout_head(repo, &co), 0);
	git_repository_free(repo);
}

/* --- 1. planted symlinks: nothing warden writes goes through them ------- */

static const char attack_links[] =
	"#!/bin/sh\n"
	"# plant links where tracked files and directories were\n"
	"H=\"$1\"\n"
	"rm -f value.txt other.txt; rm -rf sub\n"
	"ln -s \"$H/authorized_keys\" value.txt\n"
	"ln -s \"$H/bashrc\" other.txt\n"
	"ln -s \"$H/dir\" sub\n"
	"exit 0\n";

START_TEST(planted_symlinks_are_never_written_through)
{
	struct e2e_world w;
	char header[2048], host[600], path[1400], ctl[600], ctlhost[700], script[1400];
	const char *files[] = {
		"value.txt", "answer = 41\n", "other.txt", "do not touch\n",
		"sub/x.txt", "keep\n", "test.sh", e2e_fixture_files[5],
		"attack.sh", attack_links, NULL
	};
	char *s;

	/* the checks: the test, then the attack (so every round leaves links behind) */
	e2e_world_init(&w, files, "scope: value.txt\nchecks:\n- sh test.sh\n- sh attack.sh HOST\n");
	snprintf(host, sizeof(host), "%s/host", w.tmp);
	snprintf(header, sizeof(header),
	         "---\nscope: value.txt\nchecks:\n- test: sh test.sh\n- test: sh attack.sh %s\n---\n"
	         "# Make the answer right\n\nvalue.txt must say 42.\n", host);
	ck_assert_int_eq(fx_write_file(w.ticket, header), 0);
	snprintf(path, sizeof(path), "%s/bashrc", host);
	ck_assert_int_eq(fx_write_file(path, "original\n"), 0);
	snprintf(path, sizeof(path), "%s/dir/.keep", host);
	ck_assert_int_eq(fx_write_file(path, ""), 0);

	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(43) "```\n", "```diff\n" E2E_DIFF_TO(42) "```\n",
	                 (char *)NULL);
	e2e_run(&w, NULL, "--model", replay_spec(&w), "--rounds", "3", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_int_eq(json_integer_value(json_object_get(w.result, "rounds")), 2);

	/* nothing reached the host through the links */
	snprintf(path, sizeof(path), "%s/authorized_keys", host);
	ck_assert_msg(access(path, F_OK) != 0, "a file was written through a planted link");
	snprintf(path, sizeof(path), "%s/bashrc", host);
	s = slurp(path);
	ck_assert_str_eq(s, "original\n");
	free(s);
	snprintf(path, sizeof(path), "%s/dir/x.txt", host);
	ck_assert_msg(access(path, F_OK) != 0, "a file was written through a planted directory link");
	/* and the proposal is the base plus the patch */
	s = e2e_blob_at(w.src, e2e_str(&w, "commit"), "value.txt");
	ck_assert_str_eq(s, "answer = 42\n");
	free(s);
	s = e2e_blob_at(w.src, e2e_str(&w, "commit"), "other.txt");
	ck_assert_str_eq(s, "do not touch\n");
	free(s);
	s = e2e_blob_at(w.src, e2e_str(&w, "commit"), "sub/x.txt");
	ck_assert_str_eq(s, "keep\n");
	free(s);
	e2e_assert_user_repo_unchanged(&w, 1);

	/* control: the same attack on a clone, then the forced checkout warden
	 * used to reset a round with, writes through the links */
	snprintf(ctl, sizeof(ctl), "%s/control", w.tmp);
	snprintf(ctlhost, sizeof(ctlhost), "%s/control-host", w.tmp);
	ck_assert_int_eq(fx_repo_create(ctl, files, "initial"), 0);
	snprintf(path, sizeof(path), "%s/bashrc", ctlhost);
	ck_assert_int_eq(fx_write_file(path, "original\n"), 0);
	snprintf(path, sizeof(path), "%s/dir/.keep", ctlhost);
	ck_assert_int_eq(fx_write_file(path, ""), 0);
	snprintf(script, sizeof(script), "sh attack.sh %s", ctlhost);
	ck_assert_int_eq(sh_in(ctl, script, NULL), 0);
	old_reset(ctl);
	snprintf(path, sizeof(path), "%s/authorized_keys", ctlhost);
	s = slurp(path);
	ck_assert_msg(s && !strcmp(s, "answer = 41\n"), "control: the old reset did not follow the link");
	free(s);
	e2e_world_free(&w);
}
END_TEST

/* --- 2. the run's git directory is out of the checks' reach ----------- */

static const char attack_git[] =
	"#!/bin/sh\n"
	"H=\"$1\"\n"
	"g=$(sed -n 's/^gitdir: //p' .git 2>/dev/null)\n"
	"[ -n \"$g\" ] || g=.git\n"
	"ok=0\n"
	"printf '[user]\\n\\tname = x; echo PWNED #\\n' >> \"$g/config\" 2>/dev/null && { echo WROTE-CONFIG; ok=1; }\n"
	"rm -rf \"$g/logs\" 2>/dev/null; ln -s \"$H\" \"$g/logs\" 2>/dev/null && { echo LINKED-LOGS; ok=1; }\n"
	"echo 0000000000000000000000000000000000000000 > \"$g/HEAD\" 2>/dev/null && { echo MOVED-HEAD; ok=1; }\n"
	"exit $ok\n";

START_TEST(the_runs_git_directory_is_read_only_to_checks)
{
	struct e2e_world w;
	char header[1024], host[600], path[700], ctl[600], script[800];
	const char *files[] = {
		"value.txt", "answer = 41\n", "other.txt", "do not touch\n",
		"test.sh", e2e_fixture_files[5], "attack.sh", attack_git, NULL
	};
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_oid id;
	char *s = NULL, *out = NULL;
	DIR *d;
	struct dirent *e;
	int entries = 0;

	e2e_world_init(&w, files, NULL);
	snprintf(host, sizeof(host), "%s/host-logs", w.tmp);
	ck_assert_int_eq(mkdir(host, 0755), 0);
	snprintf(path, sizeof(path), "%s/bashrc", w.tmp);
	ck_assert_int_eq(fx_write_file(path, "original\n"), 0);
	/* the attack runs as its own check: it fails when any write got through */
	snprintf(header, sizeof(header),
	         "---\nscope: value.txt\nchecks:\n- test: sh attack.sh %s\n- test: sh test.sh\n---\n"
	         "# Make the answer right\n\nvalue.txt must say 42.\n", host);
	ck_assert_int_eq(fx_write_file(w.ticket, header), 0);
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(&w, NULL, "--model", replay_spec(&w), "--rounds", "1", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_str_eq(e2e_str(&w, "status"), "proposed");
	/* warden's commit and its reflog went where warden meant */
	ck_assert_ptr_nonnull(d = opendir(host));
	while ((e = readdir(d)) != NULL)
		entries += e->d_name[0] != '.';
	closedir(d);
	ck_assert_int_eq(entries, 0);
	ck_assert_int_eq(git_repository_open(&repo, w.src), 0);
	ck_assert_int_eq(git_oid_fromstr(&id, e2e_str(&w, "commit")), 0);
	ck_assert_int_eq(git_commit_lookup(&commit, repo, &id), 0);
	ck_assert_ptr_null(strstr(git_commit_author(commit)->name, "PWNED"));
	ck_assert_ptr_null(strstr(git_commit_committer(commit)->name, "PWNED"));
	git_commit_free(commit);
	git_repository_free(repo);
	e2e_assert_user_repo_unchanged(&w, 1);

	/* control: with .git inside a writable tree (the old layout) every write lands */
	snprintf(ctl, sizeof(ctl), "%s/control", w.tmp);
	ck_assert_int_eq(fx_repo_create(ctl, files, "initial"), 0);
	snprintf(script, sizeof(script), "sh attack.sh %s/control-logs", w.tmp);
	ck_assert_int_eq(sh_in(ctl, script, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, "WROTE-CONFIG"));
	ck_assert_ptr_nonnull(strstr(out, "LINKED-LOGS"));
	free(out);
	free(s);
	e2e_world_free(&w);
}
END_TEST

/* --- 3. the proposal is the base plus the patch ------------------------ */

static const char attack_tamper[] =
	"#!/bin/sh\n"
	"if grep -q 'answer = 41' value.txt; then\n"
	"  # on the base: a same-size edit to a file no patch will touch, and git plumbing\n"
	"  printf 'DO NOT TOUCH\\n' > other.txt\n"
	"  touch -r value.txt other.txt\n"
	"  git update-ref HEAD \"$(git hash-object -w other.txt 2>/dev/null)\" 2>/dev/null\n"
	"  exit 0\n"
	"fi\n"
	"# in a round: the tampered file is still there for the checks to see\n"
	"grep -q 'DO NOT TOUCH' other.txt || { echo 'tampering did not persist'; exit 1; }\n"
	"exit 0\n";

START_TEST(the_proposal_holds_only_the_patch)
{
	struct e2e_world w;
	const char *files[] = {
		"value.txt", "answer = 41\n", "other.txt", "do not touch\n",
		"test.sh", e2e_fixture_files[5], "attack.sh", attack_tamper, NULL
	};
	char *s;

	e2e_world_init(&w, files, "scope: value.txt\nchecks:\n- test: sh attack.sh\n- test: sh test.sh\n");
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(&w, NULL, "--model", replay_spec(&w), "--rounds", "1", (char *)NULL);
	/* the attack check passing in the round is the control: the tampered
	 * other.txt was in the checks' world when they passed */
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	s = e2e_blob_at(w.src, e2e_str(&w, "commit"), "other.txt");
	ck_assert_str_eq(s, "do not touch\n");
	free(s);
	s = e2e_blob_at(w.src, e2e_str(&w, "commit"), "value.txt");
	ck_assert_str_eq(s, "answer = 42\n");
	free(s);
	e2e_assert_user_repo_unchanged(&w, 1);
	e2e_world_free(&w);
}
END_TEST

/* --- 4. checks read an allow-list -------------------------------------- */

START_TEST(checks_cannot_read_the_users_secrets)
{
	struct e2e_world w;
	char home[600], base[64] = "/opt/warden-e2e-XXXXXX", cfg[700], other[700], env_home[700],
	     env_cfg[800], header[8192], path[900], *out = NULL, script[6000];
	const char *env[] = { env_home, env_cfg, NULL };
	const char *secret = "s3cr3t-d0-n0t-l3ak";

	if (!mkdtemp(base)) {
		/* not root: a directory the sandbox would show otherwise is not ours to make */
		snprintf(base, sizeof(base), "%s", "/var/tmp/warden-e2eXXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(base));
	}
	e2e_world_init(&w, NULL, NULL);
	snprintf(w.cache, sizeof(w.cache), "%s/cache", base);
	snprintf(home, sizeof(home), "%s/home", w.tmp);
	snprintf(path, sizeof(path), "%s/.git-credentials", home);
	ck_assert_int_eq(fx_write_file(path, "https://user:s3cr3t-d0-n0t-l3ak@github.com\n"), 0);
	snprintf(path, sizeof(path), "%s/.config/gh/hosts.yml", home);
	ck_assert_int_eq(fx_write_file(path, "github.com:\n  oauth_token: s3cr3t-d0-n0t-l3ak\n"), 0);
	snprintf(path, sizeof(path), "%s/.npmrc", home);
	ck_assert_int_eq(fx_write_file(path, "//registry.npmjs.org/:_authToken=s3cr3t-d0-n0t-l3ak\n"), 0);
	snprintf(cfg, sizeof(cfg), "%s/warden.conf", base);
	ck_assert_int_eq(fx_write_file(cfg, "# token: s3cr3t-d0-n0t-l3ak\n[run]\n\trounds = 1\n"), 0);
	snprintf(other, sizeof(other), "%s/src/other/.git/config", home);
	ck_assert_int_eq(fx_write_file(other, "[remote \"o\"]\n\turl = https://s3cr3t-d0-n0t-l3ak@x\n"), 0);
	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	snprintf(env_cfg, sizeof(env_cfg), "WARDEN_CONFIG=%s", cfg);
	/* a first run leaves a mirror and a run (kept) behind for the second to try */
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(&w, env, "--model", replay_spec(&w), "--rounds", "1", "--keep-worktree", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	/* the second run's check fails when it could read any of the secrets */
	snprintf(script, sizeof(script),
	         "for f in %s/.git-credentials %s/.config/gh/hosts.yml %s/.npmrc %s %s "
	         "%s/mirrors/*/HEAD %s/runs/%s/git/HEAD %s/runs/%s/base/value.txt "
	         "%s/ledger/%s.jsonl; do "
	         "if cat \"$f\" 2>/dev/null | grep -q .; then echo \"READ $f\"; exit 1; fi; done; "
	         "sh test.sh", home, home, home, cfg, other, w.cache, w.cache, e2e_str(&w, "run_id"),
	         w.cache, e2e_str(&w, "run_id"), w.cache, e2e_str(&w, "run_id"));
	snprintf(header, sizeof(header),
	         "---\nscope: value.txt\nchecks: %s\n---\n# Make the answer right\n\n"
	         "value.txt must say 42.\n", script);
	ck_assert_int_eq(fx_write_file(w.ticket, header), 0);
	e2e_run(&w, env, "--model", replay_spec(&w), "--rounds", "1", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_ptr_null(strstr(w.output, secret));
	ck_assert_ptr_null(strstr(w.output, "READ "));

	/* control: the same reads succeed outside the sandbox */
	ck_assert_int_eq(sh_in(w.tmp, script, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, "READ "));
	free(out);
	fx_rm_rf(base);
	e2e_world_free(&w);
}
END_TEST

/* --- 5. a results file that is a FIFO ---------------------------------- */

START_TEST(a_fifo_results_file_never_blocks_warden)
{
	struct e2e_world w;
	const char *files[] = {
		"value.txt", "answer = 41\n", "test.sh", e2e_fixture_files[5],
		".warden/config",
		"[check \"t\"]\n"
		"\tcommand = rm -f results.xml && mkfifo results.xml && sh test.sh\n"
		"\tresults = results.xml\n",
		NULL
	};
	char ctl[600], fifo[700];
	pid_t pid;
	int st;

	e2e_world_init(&w, files, "scope: value.txt\n");
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(&w, NULL, "--model", replay_spec(&w), "--rounds", "1", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_str_eq(e2e_str(&w, "status"), "proposed");

	/* control: a plain open() of that file blocks (the child is stopped by its alarm) */
	snprintf(ctl, sizeof(ctl), "%s/control", w.tmp);
	ck_assert_int_eq(mkdir(ctl, 0755), 0);
	snprintf(fifo, sizeof(fifo), "%s/results.xml", ctl);
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL); /* not Check's timeout handler, which kills the group */
		alarm(1);
		open(fifo, O_RDONLY);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM);
	e2e_world_free(&w);
}
END_TEST

/* --- every round starts from the baseline's built tree, nothing else --- */

START_TEST(rounds_start_from_the_baseline_build_and_nothing_else)
{
	struct e2e_world w;
	const char *files[] = {
		"value.txt", "answer = 41\n", "test.sh", e2e_fixture_files[5],
		"build.sh",
		"#!/bin/sh\n"
		"if grep -q 'answer = 41' value.txt; then date > built.stamp; exit 0; fi\n"
		"test -f built.stamp || { echo 'rebuilt from scratch'; exit 1; }\n"
		"test ! -f leftover || { echo 'a file of an earlier round is still here'; exit 1; }\n"
		"touch leftover\n",
		NULL
	};

	e2e_world_init(&w, files, "scope: value.txt\nchecks:\n- build: sh build.sh\n- test: sh test.sh\n");
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(43) "```\n", "```diff\n" E2E_DIFF_TO(44) "```\n",
	                 "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(&w, NULL, "--model", replay_spec(&w), "--rounds", "3", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_int_eq(json_integer_value(json_object_get(w.result, "rounds")), 3);
	/* a second run on the same base: the cached baseline brings its built tree */
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(&w, NULL, "--model", replay_spec(&w), "--rounds", "1", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_ptr_nonnull(strstr(w.output, "(cached)"));
	e2e_world_free(&w);
}
END_TEST

/* Reads are widened by the user only: --allow-read or their own
 * sandbox.allow-read; the repository's .warden/config cannot. */
START_TEST(only_the_user_widens_what_checks_read)
{
	struct e2e_world w;
	char base[600], secret[700], header[2048], repo_cfg[1200], user_cfg[700], env_cfg[800];
	const char *env[] = { env_cfg, NULL };

	/* under /tmp, which the sandbox replaces by a private one */
	e2e_world_init(&w, NULL, NULL);
	snprintf(base, sizeof(base), "%s/outside", w.tmp);
	snprintf(secret, sizeof(secret), "%s/home/tool/version", base);
	ck_assert_int_eq(fx_write_file(secret, "1.2.3\n"), 0);
	snprintf(header, sizeof(header),
	         "---\nscope: value.txt\nchecks: grep -q 1.2.3 %s && sh test.sh\n---\n"
	         "# Make the answer right\n\nvalue.txt must say 42.\n", secret);
	ck_assert_int_eq(fx_write_file(w.ticket, header), 0);
	/* the repository asks for the read itself: ignored */
	snprintf(repo_cfg, sizeof(repo_cfg), "[sandbox]\n\tallow-read = %s/home\n", base);
	{
		const char *files[] = { ".warden/config", repo_cfg, NULL };

		ck_assert_int_eq(fx_repo_commit_files(w.src, files, "ask for reads"), 0);
	}
	snprintf(user_cfg, sizeof(user_cfg), "%s/user.conf", w.tmp);
	ck_assert_int_eq(fx_write_file(user_cfg, ""), 0);
	snprintf(env_cfg, sizeof(env_cfg), "WARDEN_CONFIG=%s", user_cfg);
	e2e_write_replay(&w, "```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	e2e_run(&w, env, "--model", replay_spec(&w), "--rounds", "1", (char *)NULL);
	ck_assert_msg(w.status == 1, "exit %d:\n%s", w.status, w.output);
	/* the flag widens it */
	snprintf(header, sizeof(header), "%s/home/tool", base);
	e2e_run(&w, env, "--model", replay_spec(&w), "--rounds", "1", "--allow-read", header, (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	/* and so does the user's own config */
	snprintf(repo_cfg, sizeof(repo_cfg), "[sandbox]\n\tallow-read = %s/home\n", base);
	ck_assert_int_eq(fx_write_file(user_cfg, repo_cfg), 0);
	e2e_run(&w, env, "--model", replay_spec(&w), "--rounds", "1", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	e2e_world_free(&w);
}
END_TEST

/* --- 8. the repair round's context never reads through a link ---------- */

/* Does any regular file below `dir` hold `needle`? (The ledger and its
 * blobs: everything the run sent or kept.) */
static int tree_holds(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		char path[2048];
		struct stat st;
		char *s;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			found = tree_holds(path, needle);
		} else if (S_ISREG(st.st_mode) && (s = slurp(path)) != NULL) {
			found = strstr(s, needle) != NULL;
			free(s);
		}
	}
	closedir(d);
	return found;
}

static const char repair_test[] =
	"#!/bin/sh\n"
	"if grep -q 'return 42' answer.c; then echo ok; exit 0; fi\n"
	"echo 'FAIL answer.c: answer() returned 41; see notes.c and helper.c'\n"
	"exit 1\n";

/* plants links to the host's secret where the failure output points */
static const char attack_repair[] =
	"#!/bin/sh\n"
	"H=\"$1\"\n"
	"rm -f answer.c helper.c\n"
	"ln -s \"$H/secret.c\" answer.c\n"
	"ln -s \"$H/secret.c\" helper.c\n"
	"exit 0\n";

START_TEST(the_repair_context_never_reads_through_links)
{
	struct e2e_world w;
	char header[2048], host[600], path[1400], link[1400], ledger_dir[700], ctl[600], script[1400];
	const char *secret = "int leaked_token = 0x5ec7e7; /* s3cr3t-r3pa1r */\n";
	const char *files[] = {
		"answer.c", "int answer(void)\n{\n\treturn 41;\n}\n",
		"test.sh", repair_test, "attack.sh", attack_repair, NULL
	};
	char *s, *out = NULL;

	e2e_world_init(&w, files, "scope: answer.c\nchecks: sh test.sh\n");
	snprintf(host, sizeof(host), "%s/host", w.tmp);
	snprintf(path, sizeof(path), "%s/secret.c", host);
	ck_assert_int_eq(fx_write_file(path, secret), 0);
	/* the repository itself commits notes.c as a link to the host's file */
	snprintf(link, sizeof(link), "%s/notes.c", w.src);
	ck_assert_int_eq(symlink(path, link), 0);
	{
		git_repository *repo = NULL;

		ck_assert_int_eq(git_repository_open(&repo, w.src), 0);
		ck_assert_int_eq(fx_repo_commit_all(repo, "notes: a link to the host"), 0);
		git_repository_free(repo);
	}
	free(w.before);
	free(w.before_pub);
	ck_assert_int_eq(fx_snapshot(&w.before, w.src), 0);
	ck_assert_int_eq(fx_snapshot_except(&w.before_pub, w.src, fx_publish_paths), 0);
	snprintf(header, sizeof(header),
	         "---\nscope: answer.c\nchecks:\n- test: sh test.sh\n- test: sh attack.sh %s\n---\n"
	         "# Make the answer right\n\nanswer() in answer.c must return 42.\n", host);
	ck_assert_int_eq(fx_write_file(w.ticket, header), 0);
	e2e_write_replay(&w,
	                 "```diff\n--- a/answer.c\n+++ b/answer.c\n@@ -3 +3 @@\n-\treturn 41;\n"
	                 "+\treturn 43;\n```\n",
	                 "```diff\n--- a/answer.c\n+++ b/answer.c\n@@ -3 +3 @@\n-\treturn 41;\n"
	                 "+\treturn 42;\n```\n",
	                 (char *)NULL);
	e2e_run(&w, NULL, "--model", replay_spec(&w), "--rounds", "3", (char *)NULL);
	ck_assert_msg(w.status == 0, "exit %d:\n%s", w.status, w.output);
	ck_assert_int_eq(json_integer_value(json_object_get(w.result, "rounds")), 2);

	/* the repair round did read code for the model: the base's answer.c */
	s = slurp(e2e_str(&w, "ledger"));
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s, "\"context.repair\"") != NULL, "no repair context:\n%s", s);
	/* the committed link was stopped at the outbound policy, and said so */
	ck_assert_msg(strstr(s, "\"path\":\"notes.c\",\"rule\":\"leads outside the repository\"") != NULL,
	              "the link was not denied by the outbound policy:\n%s", s);
	free(s);
	snprintf(ledger_dir, sizeof(ledger_dir), "%s/ledger", w.cache);
	ck_assert_msg(tree_holds(ledger_dir, "The code the failing output points at"),
	              "the repair round sent no code");
	/* and nothing of the host's file: not through the committed link, nor
	 * the links the check planted over answer.c and as helper.c */
	ck_assert_msg(!tree_holds(ledger_dir, "s3cr3t-r3pa1r"), "the secret reached the ledger");
	ck_assert_msg(!tree_holds(w.cache, "s3cr3t-r3pa1r"), "the secret reached warden's cache");
	ck_assert_ptr_null(strstr(w.output, "s3cr3t-r3pa1r"));
	s = e2e_blob_at(w.src, e2e_str(&w, "commit"), "answer.c");
	ck_assert_str_eq(s, "int answer(void)\n{\n\treturn 42;\n}\n");
	free(s);
	e2e_assert_user_repo_unchanged(&w, 1);

	/* control: read unconfined, the committed link and the planted ones
	 * hand over the secret */
	ck_assert_int_eq(sh_in(w.src, "cat notes.c", &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "s3cr3t-r3pa1r"));
	free(out);
	snprintf(ctl, sizeof(ctl), "%s/control", w.tmp);
	ck_assert_int_eq(fx_repo_create(ctl, files, "initial"), 0);
	snprintf(script, sizeof(script), "sh attack.sh %s && cat answer.c helper.c", host);
	ck_assert_int_eq(sh_in(ctl, script, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "s3cr3t-r3pa1r"));
	free(out);
	e2e_world_free(&w);
}
END_TEST

static Suite *trust_suite(void)
{
	Suite *s = suite_create("trust");
	TCase *tc = tcase_create("attacks");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, planted_symlinks_are_never_written_through);
	tcase_add_test(tc, the_runs_git_directory_is_read_only_to_checks);
	tcase_add_test(tc, the_proposal_holds_only_the_patch);
	tcase_add_test(tc, checks_cannot_read_the_users_secrets);
	tcase_add_test(tc, a_fifo_results_file_never_blocks_warden);
	tcase_add_test(tc, rounds_start_from_the_baseline_build_and_nothing_else);
	tcase_add_test(tc, only_the_user_widens_what_checks_read);
	tcase_add_test(tc, the_repair_context_never_reads_through_links);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return e2e_main(trust_suite());
}
