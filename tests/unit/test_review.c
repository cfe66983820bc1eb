/* Proposals: the store, notes, show, approve (merge) and reject. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <git2.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/review.h"
#include "fixture.h"

static char *tmp;
static char cache[4096], src[4096];
static char base_hex[41], commit_hex[41];

#define BRANCH "warden/fix-add-1a2b3c4d"
#define RUN_ID "1a2b3c4d5e6f7a8b"

/* A commit on `branch` whose parent is `parent_spec`, writing root-level
 * `path` = `content`, without touching HEAD, index or work tree. */
static void branch_commit(char out[41], const char *dir, const char *branch, const char *parent_spec,
                          const char *path, const char *content)
{
	git_repository *repo = NULL;
	git_object *parent = NULL;
	git_tree *tree = NULL, *newtree = NULL;
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_reference *ref = NULL;
	git_oid blob, tid, cid;
	char refname[512];

	ck_assert_int_eq(git_repository_open(&repo, dir), 0);
	ck_assert_int_eq(git_revparse_single(&parent, repo, parent_spec), 0);
	ck_assert_int_eq(git_commit_tree(&tree, (git_commit *)parent), 0);
	ck_assert_int_eq(git_treebuilder_new(&tb, repo, tree), 0);
	ck_assert_int_eq(git_blob_create_from_buffer(&blob, repo, content, strlen(content)), 0);
	ck_assert_int_eq(git_treebuilder_insert(NULL, tb, path, &blob, GIT_FILEMODE_BLOB), 0);
	ck_assert_int_eq(git_treebuilder_write(&tid, tb), 0);
	ck_assert_int_eq(git_tree_lookup(&newtree, repo, &tid), 0);
	ck_assert_int_eq(git_signature_new(&sig, "warden", "warden@localhost", 1700000000, 0), 0);
	ck_assert_int_eq(git_commit_create_v(&cid, repo, NULL, sig, sig, NULL, "fix add\n", newtree, 1,
	                                     parent), 0);
	snprintf(refname, sizeof(refname), "refs/heads/%s", branch);
	ck_assert_int_eq(git_reference_create(&ref, repo, refname, &cid, 1, NULL), 0);
	git_oid_tostr(out, 41, &cid);
	git_reference_free(ref);
	git_signature_free(sig);
	git_tree_free(newtree);
	git_treebuilder_free(tb);
	git_tree_free(tree);
	git_object_free(parent);
	git_repository_free(repo);
}

static int ref_exists(const char *dir, const char *refname)
{
	git_repository *repo = NULL;
	git_oid id;
	int yes;

	ck_assert_int_eq(git_repository_open(&repo, dir), 0);
	yes = git_reference_name_to_id(&id, repo, refname) == 0;
	git_repository_free(repo);
	return yes;
}

static void rev(char out[41], const char *dir, const char *spec)
{
	ck_assert_int_eq(fx_repo_rev(out, dir, spec), 0);
}

static char *read_text(const char *dir, const char *name)
{
	char path[4200], *s = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(fx_read_file(&s, path), 0);
	return s;
}

static wd_proposal *make_proposal(const char *id, const char *repo)
{
	wd_proposal *p = NULL;

	ck_assert_int_eq(wd_proposal_new(&p), 0);
	p->id = strdup(id);
	p->ticket_title = strdup("Fix add()");
	p->ticket_id = strdup("ticket-abc");
	p->ticket_path = strdup("tickets/fix-add.md");
	p->source = strdup(repo);
	p->repo = strdup(repo);
	p->branch = strdup(BRANCH);
	p->target = strdup("main");
	memcpy(p->base, base_hex, 41);
	memcpy(p->commit, commit_hex, 41);
	p->model = strdup("replay:fix.txt");
	p->checks = strdup("test=pass 3/3");
	p->evidence = strdup("{\"checks\":[{\"command\":\"make test\",\"exit\":0}]}");
	free(p->user);
	p->user = strdup("alice");
	p->rounds = 2;
	p->input_tokens = 1200;
	p->output_tokens = 300;
	p->cost_usd = 0.0125;
	return p;
}

static void save_proposal(const char *id, const char *repo)
{
	wd_proposal *p = make_proposal(id, repo);

	ck_assert_msg(wd_proposal_save(p, cache) == 0, "%s", wd_error_last());
	wd_proposal_free(p);
}

static wd_proposal *load(const char *id)
{
	wd_proposal *p = NULL;

	ck_assert_msg(wd_proposal_load(&p, cache, id) == 0, "%s", wd_error_last());
	return p;
}

static void setup(void)
{
	static const char *const files[] = {
		"calc.c", "int add(int a, int b) { return a - b; }\n",
		"README", "calc\n",
		NULL
	};

	git_libgit2_init();
	ck_assert_int_eq(fx_tmpdir(&tmp), 0);
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	snprintf(src, sizeof(src), "%s/src", tmp);
	ck_assert_int_eq(fx_repo_create(src, files, "initial"), 0);
	rev(base_hex, src, "main");
	branch_commit(commit_hex, src, BRANCH, "main", "calc.c",
	              "int add(int a, int b) { return a + b; }\n");
	setenv("WARDEN_USER", "bob", 1);
}

static void teardown(void)
{
	fx_rm_rf(tmp);
	free(tmp);
	tmp = NULL;
	git_libgit2_shutdown();
}

/* ---- the store ------------------------------------------------------- */

START_TEST(saved_proposal_loads_back_field_by_field)
{
	wd_proposal *p;
	char path[4200];
	struct stat st;

	save_proposal(RUN_ID, src);
	snprintf(path, sizeof(path), "%s/proposals/%s.json", cache, RUN_ID);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	p = load(RUN_ID);
	ck_assert_str_eq(p->id, RUN_ID);
	ck_assert_str_eq(p->ticket_title, "Fix add()");
	ck_assert_str_eq(p->ticket_id, "ticket-abc");
	ck_assert_str_eq(p->ticket_path, "tickets/fix-add.md");
	ck_assert_str_eq(p->repo, src);
	ck_assert_str_eq(p->branch, BRANCH);
	ck_assert_str_eq(p->target, "main");
	ck_assert_str_eq(p->base, base_hex);
	ck_assert_str_eq(p->commit, commit_hex);
	ck_assert_str_eq(p->model, "replay:fix.txt");
	ck_assert_str_eq(p->checks, "test=pass 3/3");
	ck_assert_str_eq(p->user, "alice");
	ck_assert_int_eq(p->rounds, 2);
	ck_assert_int_eq(p->input_tokens, 1200);
	ck_assert_int_eq(p->output_tokens, 300);
	ck_assert(p->cost_usd > 0.0124 && p->cost_usd < 0.0126);
	ck_assert_int_eq(p->status, WD_PROPOSAL_OPEN);
	ck_assert_uint_eq(strlen(p->created), 24);
	ck_assert_ptr_null(p->reason);
	ck_assert_str_eq(p->decided, "");
	wd_proposal_free(p);
}
END_TEST

START_TEST(relative_ticket_and_ledger_paths_are_stored_absolute)
{
	wd_proposal *p = make_proposal(RUN_ID, src);
	char cwd[4096], want[4300];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmp), 0);
	ck_assert_int_eq(fx_write_file("t.md", "# T\n"), 0);
	free(p->ticket_path);
	p->ticket_path = strdup("t.md");
	p->ledger_path = strdup("missing/ledger.jsonl"); /* not there: kept as given */
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	wd_proposal_free(p);
	p = load(RUN_ID);
	snprintf(want, sizeof(want), "%s/t.md", tmp);
	ck_assert_str_eq(p->ticket_path, want);
	ck_assert_str_eq(p->ledger_path, "missing/ledger.jsonl");
	wd_proposal_free(p);
}
END_TEST

START_TEST(new_proposal_records_the_current_user)
{
	wd_proposal *p = NULL;

	setenv("WARDEN_USER", "carol", 1);
	ck_assert_int_eq(wd_proposal_new(&p), 0);
	ck_assert_str_eq(p->user, "carol");
	ck_assert_int_eq(p->status, WD_PROPOSAL_OPEN);
	ck_assert_uint_eq(strlen(p->created), 24);
	wd_proposal_free(p);
}
END_TEST

START_TEST(save_refuses_unsafe_ids_and_missing_fields)
{
	wd_proposal *p = make_proposal("../escape", src);

	ck_assert_int_eq(wd_proposal_save(p, cache), WD_EINPUT);
	free(p->id);
	p->id = strdup(".hidden");
	ck_assert_int_eq(wd_proposal_save(p, cache), WD_EINPUT);
	free(p->id);
	p->id = strdup("ok-id");
	p->commit[0] = '\0';
	ck_assert_int_eq(wd_proposal_save(p, cache), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "commit"));
	ck_assert(!wd_path_exists(cache) || !wd_path_exists("ok-id.json"));
	wd_proposal_free(p);
}
END_TEST

START_TEST(load_accepts_a_unique_prefix_and_refuses_an_ambiguous_one)
{
	wd_proposal *p = NULL;

	save_proposal("aaaa1111", src);
	save_proposal("aaaa2222", src);
	p = load("aaaa1");
	ck_assert_str_eq(p->id, "aaaa1111");
	wd_proposal_free(p);
	p = NULL;
	ck_assert_int_eq(wd_proposal_load(&p, cache, "aaaa"), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "ambiguous"));
	ck_assert_int_eq(wd_proposal_load(&p, cache, "bbbb"), WD_ENOTFOUND);
	ck_assert_int_eq(wd_proposal_load(&p, cache, "../x"), WD_EUSAGE);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(list_filters_by_status_and_names_corrupt_records)
{
	wd_proposal_list l = WD_PROPOSAL_LIST_INIT;
	wd_proposal *p = make_proposal("p1", src);
	char path[4200];

	strcpy(p->created, "2026-01-01T00:00:00.000Z");
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	free(p->id);
	p->id = strdup("p0");
	strcpy(p->created, "2026-01-02T00:00:00.000Z");
	p->status = WD_PROPOSAL_REJECTED;
	p->reason = strdup("wrong file");
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	wd_proposal_free(p);
	snprintf(path, sizeof(path), "%s/proposals/broken.json", cache);
	ck_assert_int_eq(fx_write_file(path, "{not json"), 0);

	ck_assert_int_eq(wd_proposal_list_load(&l, cache, -1), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0]->id, "p1"); /* oldest first, not by name */
	ck_assert_str_eq(l.v[1]->id, "p0");
	ck_assert_uint_eq(l.skipped.n, 1);
	ck_assert_ptr_nonnull(strstr(l.skipped.v[0], "broken.json"));
	wd_proposal_list_free(&l);

	ck_assert_int_eq(wd_proposal_list_load(&l, cache, WD_PROPOSAL_OPEN), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0]->id, "p1");
	wd_proposal_list_free(&l);
}
END_TEST

START_TEST(missing_store_is_an_empty_list)
{
	wd_proposal_list l = WD_PROPOSAL_LIST_INIT;

	ck_assert_int_eq(wd_proposal_list_load(&l, cache, -1), 0);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_uint_eq(l.skipped.n, 0);
	wd_proposal_list_free(&l);
}
END_TEST

START_TEST(feedback_collects_rejection_reasons_of_the_same_ticket_only)
{
	wd_strvec fb = WD_STRVEC_INIT;
	static const char *const ids[] = { "r1", "r2", "r3", "r4" };

	for (size_t i = 0; i < 4; i++) {
		wd_proposal *p = make_proposal(ids[i], src);
		char reason[64];

		snprintf(p->created, sizeof(p->created), "2026-01-0%zuT00:00:00.000Z", 4 - i);
		snprintf(reason, sizeof(reason), "reason %zu", i);
		p->reason = strdup(reason);
		p->status = i == 3 ? WD_PROPOSAL_APPROVED : WD_PROPOSAL_REJECTED;
		if (i == 2) {
			free(p->ticket_id);
			p->ticket_id = strdup("another-ticket");
		}
		ck_assert_int_eq(wd_proposal_save(p, cache), 0);
		wd_proposal_free(p);
	}
	ck_assert_int_eq(wd_review_feedback_for_ticket(&fb, cache, "ticket-abc"), 0);
	ck_assert_uint_eq(fb.n, 2);
	ck_assert_str_eq(fb.v[0], "reason 1"); /* r2 is older than r1 */
	ck_assert_str_eq(fb.v[1], "reason 0");
	wd_strvec_free(&fb);
	ck_assert_int_eq(wd_review_feedback_for_ticket(&fb, cache, "never-ran"), 0);
	ck_assert_uint_eq(fb.n, 0);
}
END_TEST

/* ---- notes and show -------------------------------------------------- */

START_TEST(note_holds_the_evidence_under_refs_notes_warden)
{
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(wd_review_read_note(&out, src, commit_hex), WD_ENOTFOUND);
	ck_assert_int_eq(wd_review_add_note(src, commit_hex, "{\"exit\":0}"), 0);
	ck_assert_int_eq(wd_review_add_note(src, commit_hex, "{\"exit\":0,\"ms\":12}"), 0); /* replaces */
	ck_assert_int_eq(wd_review_read_note(&out, src, commit_hex), 0);
	ck_assert_str_eq(out.ptr, "{\"exit\":0,\"ms\":12}");
	ck_assert(ref_exists(src, "refs/notes/warden"));
	ck_assert_int_eq(wd_review_add_note(src, commit_hex, "not json"), WD_EINPUT);
	wd_buf_free(&out);
}
END_TEST

/* What a writer killed between libgit2's creating refs/notes/warden.lock and
 * renaming it leaves behind: an empty lock file, `age_s` seconds old. */
static void plant_notes_lock(char *path, size_t n, int age_s)
{
	struct timespec t[2];
	int fd;

	snprintf(path, n, "%s/.git/refs/notes", src);
	mkdir(path, 0755);
	snprintf(path, n, "%s/.git/refs/notes/warden.lock", src);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age_s;
	t[1] = t[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

START_TEST(note_write_gets_past_a_dead_writers_lock)
{
	git_repository *repo = NULL;
	git_signature *sig = NULL;
	git_oid id, note;
	wd_buf out = WD_BUF_INIT;
	char lock[4200];

	plant_notes_lock(lock, sizeof(lock), 5);
	/* the control: a plain libgit2 note write fails on the leftover lock */
	ck_assert_int_eq(git_repository_open(&repo, src), 0);
	ck_assert_int_eq(git_oid_fromstr(&id, commit_hex), 0);
	ck_assert_int_eq(git_signature_now(&sig, "t", "t@localhost"), 0);
	ck_assert_int_lt(git_note_create(&note, repo, "refs/notes/warden", sig, sig, &id, "x", 1), 0);
	git_signature_free(sig);
	git_repository_free(repo);
	ck_assert_int_eq(access(lock, F_OK), 0);
	/* warden's write removes it (it holds the git directory's flock) */
	ck_assert_int_eq(wd_review_add_note(src, commit_hex, "{\"exit\":0}"), 0);
	ck_assert_int_ne(access(lock, F_OK), 0);
	ck_assert_int_eq(wd_review_read_note(&out, src, commit_hex), 0);
	ck_assert_str_eq(out.ptr, "{\"exit\":0}");
	wd_buf_free(&out);
}
END_TEST

START_TEST(note_write_waits_for_a_live_writers_lock)
{
	wd_buf out = WD_BUF_INIT;
	char lock[4200];
	uint64_t t0;
	pid_t pid;
	int st;

	/* a fresh lock whose writer finishes 300 ms later: waited for, not removed */
	plant_notes_lock(lock, sizeof(lock), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct timespec ts = { 0, 300 * 1000000L };

		nanosleep(&ts, NULL);
		_exit(unlink(lock) == 0 ? 0 : 1);
	}
	t0 = wd_now_ms();
	ck_assert_int_eq(wd_review_add_note(src, commit_hex, "{\"exit\":1}"), 0);
	ck_assert_uint_ge(wd_now_ms() - t0, 250);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* it was still there to remove */
	ck_assert_int_eq(wd_review_read_note(&out, src, commit_hex), 0);
	ck_assert_str_eq(out.ptr, "{\"exit\":1}");
	wd_buf_free(&out);
}
END_TEST

START_TEST(diff_shows_the_change_against_the_base)
{
	wd_proposal *p = make_proposal(RUN_ID, src);
	wd_buf out = WD_BUF_INIT;

	ck_assert_int_eq(wd_review_diff(&out, p), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "1 file changed"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "--- a/calc.c"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "-int add(int a, int b) { return a - b; }"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "+int add(int a, int b) { return a + b; }"));
	wd_buf_free(&out);
	wd_proposal_free(p);
}
END_TEST


/* ---- approve --------------------------------------------------------- */

START_TEST(approve_fast_forwards_a_clean_checked_out_target)
{
	wd_proposal *p;
	char tip[41], now[41], *text;

	save_proposal(RUN_ID, src);
	ck_assert_msg(wd_review_approve(tip, cache, RUN_ID, NULL) == 0, "%s", wd_error_last());
	ck_assert_str_eq(tip, commit_hex);
	rev(now, src, "main");
	ck_assert_str_eq(now, commit_hex);
	text = read_text(src, "calc.c"); /* the work tree followed */
	ck_assert_str_eq(text, "int add(int a, int b) { return a + b; }\n");
	free(text);
	p = load(RUN_ID);
	ck_assert_int_eq(p->status, WD_PROPOSAL_APPROVED);
	ck_assert_str_eq(p->decided_by, "bob");
	ck_assert_str_eq(p->merged, commit_hex);
	ck_assert_uint_eq(strlen(p->decided), 24);
	wd_proposal_free(p);
	/* the index follows too: nothing shows as changed */
	{
		char *out = NULL;
		int st;
		const char *const argv[] = { "git", "status", "--porcelain", NULL };

		ck_assert_int_eq(fx_run(&out, &st, argv, NULL, src), 0);
		ck_assert_int_eq(st, 0);
		ck_assert_str_eq(out, "");
		free(out);
	}
	/* a second approval is refused */
	ck_assert_int_eq(wd_review_approve(NULL, cache, RUN_ID, NULL), WD_EEXISTS);
}
END_TEST

START_TEST(approve_in_a_bare_repository_moves_the_ref)
{
	char bare[4200], now[41];
	const char *const argv[] = { "git", "clone", "-q", "--bare", src, bare, NULL };
	int st;

	snprintf(bare, sizeof(bare), "%s/bare.git", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, argv, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);
	save_proposal(RUN_ID, bare);
	ck_assert_msg(wd_review_approve(NULL, cache, RUN_ID, NULL) == 0, "%s", wd_error_last());
	rev(now, bare, "main");
	ck_assert_str_eq(now, commit_hex);
}
END_TEST

START_TEST(approve_refuses_a_dirty_checked_out_target_and_changes_nothing)
{
	char path[4200], now[41], *before = NULL, *after = NULL;
	wd_proposal *p;

	save_proposal(RUN_ID, src);
	snprintf(path, sizeof(path), "%s/README", src);
	ck_assert_int_eq(fx_write_file(path, "local edit\n"), 0);
	ck_assert_int_eq(fx_snapshot(&before, src), 0);
	ck_assert_int_eq(wd_review_approve(NULL, cache, RUN_ID, NULL), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "uncommitted changes"));
	ck_assert_int_eq(fx_snapshot(&after, src), 0);
	ck_assert_str_eq(before, after);
	rev(now, src, "main");
	ck_assert_str_eq(now, base_hex);
	p = load(RUN_ID);
	ck_assert_int_eq(p->status, WD_PROPOSAL_OPEN);
	wd_proposal_free(p);
	free(before);
	free(after);
}
END_TEST

START_TEST(approve_never_overwrites_an_untracked_file)
{
	char c2[41], path[4200], now[41], *text;
	wd_proposal *p = make_proposal("adds-notes", src);

	branch_commit(c2, src, "warden/add-notes", "main", "NOTES", "from the model\n");
	free(p->branch);
	p->branch = strdup("warden/add-notes");
	memcpy(p->commit, c2, 41);
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	wd_proposal_free(p);
	snprintf(path, sizeof(path), "%s/NOTES", src);
	ck_assert_int_eq(fx_write_file(path, "my own notes\n"), 0);
	ck_assert_int_eq(wd_review_approve(NULL, cache, "adds-notes", NULL), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "updating the work tree"));
	text = read_text(src, "NOTES");
	ck_assert_str_eq(text, "my own notes\n");
	free(text);
	rev(now, src, "main");
	ck_assert_str_eq(now, base_hex);
	p = load("adds-notes");
	ck_assert_int_eq(p->status, WD_PROPOSAL_OPEN);
	wd_proposal_free(p);
}
END_TEST

/* A proposal adding conf/app.ini on branch `branch`, committed with git. */
static void propose_nested_file(char out[41], const char *id, const char *branch)
{
	static const char *const files[] = { "conf/app.ini", "debug = true\n", NULL };
	const char *const co[] = { "git", "-C", src, "checkout", "-q", "-b", branch, NULL };
	const char *const back[] = { "git", "-C", src, "checkout", "-q", "main", NULL };
	wd_proposal *p = make_proposal(id, src);
	int st;

	ck_assert_int_eq(fx_run(NULL, &st, co, NULL, NULL), 0);
	ck_assert_int_eq(fx_repo_commit_files(src, files, "add conf"), 0);
	rev(out, src, branch);
	ck_assert_int_eq(fx_run(NULL, &st, back, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);
	free(p->branch);
	p->branch = strdup(branch);
	memcpy(p->commit, out, 41);
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	wd_proposal_free(p);
}

START_TEST(approve_never_writes_through_an_untracked_symlink)
{
	char c2[41], link[4200], outside[4200], probe[4300], now[41], *before = NULL, *after = NULL;

	propose_nested_file(c2, "adds-conf", "warden/add-conf");
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	snprintf(link, sizeof(link), "%s/conf", src);
	ck_assert_int_eq(symlink(outside, link), 0);
	ck_assert_int_eq(fx_snapshot(&before, src), 0);
	ck_assert_int_eq(wd_review_approve(NULL, cache, "adds-conf", NULL), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "conf/app.ini"));
	ck_assert_int_eq(fx_snapshot(&after, src), 0);
	ck_assert_str_eq(before, after);
	snprintf(probe, sizeof(probe), "%s/app.ini", outside);
	ck_assert_int_ne(access(probe, F_OK), 0);
	rev(now, src, "main");
	ck_assert_str_eq(now, base_hex);
	free(before);
	free(after);
}
END_TEST

START_TEST(approve_never_replaces_an_untracked_directory)
{
	char c2[41], mine[4300], now[41], *text;

	propose_nested_file(c2, "adds-conf", "warden/add-conf");
	/* the user has an untracked directory where the proposal puts a file */
	snprintf(mine, sizeof(mine), "%s/conf/app.ini/mine.txt", src);
	ck_assert_int_eq(fx_write_file(mine, "keep me\n"), 0);
	ck_assert_int_eq(wd_review_approve(NULL, cache, "adds-conf", NULL), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "conf/app.ini"));
	ck_assert_int_eq(fx_read_file(&text, mine), 0);
	ck_assert_str_eq(text, "keep me\n");
	free(text);
	rev(now, src, "main");
	ck_assert_str_eq(now, base_hex);
}
END_TEST

START_TEST(approve_after_the_target_moved_asks_for_checks_to_rerun)
{
	static const char *const other[] = { "README", "calc, documented\n", NULL };
	char moved[41], now[41], *before = NULL, *after = NULL, *text;
	wd_review_plan plan;
	wd_approve_opts o = WD_APPROVE_OPTS_INIT;
	wd_proposal *p;
	git_repository *repo;
	git_commit *c;
	git_oid tip;
	char tip_hex[41];

	save_proposal(RUN_ID, src);
	ck_assert_int_eq(fx_repo_commit_files(src, other, "docs"), 0);
	rev(moved, src, "main");

	p = load(RUN_ID);
	ck_assert_int_eq(wd_review_plan_make(&plan, p), 0);
	ck_assert_int_eq(plan.kind, WD_MERGE_COMMIT);
	ck_assert_int_eq(plan.target_moved, 1);
	ck_assert_uint_eq(plan.conflicts.n, 0);
	ck_assert_str_eq(plan.workdir, src);
	ck_assert_int_eq(plan.workdir_dirty, 0);
	wd_review_plan_free(&plan);
	wd_proposal_free(p);

	ck_assert_int_eq(fx_snapshot(&before, src), 0);
	ck_assert_int_eq(wd_review_approve(NULL, cache, RUN_ID, NULL), WD_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "checks must re-run"));
	ck_assert_int_eq(fx_snapshot(&after, src), 0);
	ck_assert_str_eq(before, after);
	rev(now, src, "main");
	ck_assert_str_eq(now, moved);

	/* --force: a merge commit with both changes, parents (target, proposal) */
	o.force = 1;
	ck_assert_msg(wd_review_approve(tip_hex, cache, RUN_ID, &o) == 0, "%s", wd_error_last());
	ck_assert_int_eq(git_oid_fromstr(&tip, tip_hex), 0);
	ck_assert_int_eq(git_repository_open(&repo, src), 0);
	ck_assert_int_eq(git_commit_lookup(&c, repo, &tip), 0);
	ck_assert_uint_eq(git_commit_parentcount(c), 2);
	git_oid_tostr(now, 41, git_commit_parent_id(c, 0));
	ck_assert_str_eq(now, moved);
	git_oid_tostr(now, 41, git_commit_parent_id(c, 1));
	ck_assert_str_eq(now, commit_hex);
	ck_assert_ptr_nonnull(strstr(git_commit_message(c), "Merge warden proposal " RUN_ID));
	ck_assert_ptr_nonnull(strstr(git_commit_message(c), "Approved-by: bob"));
	git_commit_free(c);
	git_repository_free(repo);
	text = read_text(src, "calc.c");
	ck_assert_str_eq(text, "int add(int a, int b) { return a + b; }\n");
	free(text);
	text = read_text(src, "README");
	ck_assert_str_eq(text, "calc, documented\n");
	free(text);
	free(before);
	free(after);
}
END_TEST

START_TEST(approve_stops_on_conflict_and_changes_nothing)
{
	static const char *const clash[] = { "calc.c", "long add(long a, long b) { return a - b; }\n", NULL };
	wd_approve_opts o = WD_APPROVE_OPTS_INIT;
	char moved[41], now[41], *before = NULL, *after = NULL;
	wd_proposal *p;

	save_proposal(RUN_ID, src);
	ck_assert_int_eq(fx_repo_commit_files(src, clash, "widen"), 0);
	rev(moved, src, "main");
	ck_assert_int_eq(fx_snapshot(&before, src), 0);
	o.force = 1; /* even forced, a conflict stops it */
	ck_assert_int_eq(wd_review_approve(NULL, cache, RUN_ID, &o), WD_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "conflicts in 1 file(s): calc.c"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "nothing was changed"));
	ck_assert_int_eq(fx_snapshot(&after, src), 0);
	ck_assert_str_eq(before, after);
	rev(now, src, "main");
	ck_assert_str_eq(now, moved);
	p = load(RUN_ID);
	ck_assert_int_eq(p->status, WD_PROPOSAL_OPEN);
	wd_proposal_free(p);
	free(before);
	free(after);
}
END_TEST

START_TEST(separation_of_duties_forbids_approving_ones_own_run)
{
	wd_approve_opts o = WD_APPROVE_OPTS_INIT;
	char now[41];

	save_proposal(RUN_ID, src); /* made by alice */
	o.separate_duties = 1;
	o.user = "alice";
	ck_assert_int_eq(wd_review_approve(NULL, cache, RUN_ID, &o), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "separation of duties"));
	rev(now, src, "main");
	ck_assert_str_eq(now, base_hex);
	setenv("WARDEN_USER", "alice", 1); /* the default approver is the current user */
	o.user = NULL;
	ck_assert_int_eq(wd_review_approve(NULL, cache, RUN_ID, &o), WD_EREFUSED);
	setenv("WARDEN_USER", "bob", 1);
	ck_assert_msg(wd_review_approve(NULL, cache, RUN_ID, &o) == 0, "%s", wd_error_last());
	rev(now, src, "main");
	ck_assert_str_eq(now, commit_hex);
}
END_TEST

START_TEST(approve_updates_a_linked_worktree_that_has_the_target)
{
	char wt[4200], *text, *out = NULL;
	const char *const side[] = { "git", "-C", src, "checkout", "-q", "-b", "side", NULL };
	const char *const add[] = { "git", "-C", src, "worktree", "add", "-q", wt, "main", NULL };
	const char *const status[] = { "git", "status", "--porcelain", NULL };
	int st;

	snprintf(wt, sizeof(wt), "%s/wt", tmp);
	ck_assert_int_eq(fx_run(NULL, &st, side, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(fx_run(&out, &st, add, NULL, NULL), 0);
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	save_proposal(RUN_ID, src);
	ck_assert_msg(wd_review_approve(NULL, cache, RUN_ID, NULL) == 0, "%s", wd_error_last());
	text = read_text(wt, "calc.c");
	ck_assert_str_eq(text, "int add(int a, int b) { return a + b; }\n");
	free(text);
	text = read_text(src, "calc.c"); /* 'side' stays as it was */
	ck_assert_str_eq(text, "int add(int a, int b) { return a - b; }\n");
	free(text);
	ck_assert_int_eq(fx_run(&out, &st, status, NULL, wt), 0);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

START_TEST(approve_reports_a_missing_target)
{
	wd_proposal *p = make_proposal(RUN_ID, src);

	free(p->target);
	p->target = strdup("release");
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	wd_proposal_free(p);
	ck_assert_int_eq(wd_review_approve(NULL, cache, RUN_ID, NULL), WD_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "'release' does not exist"));
}
END_TEST

/* ---- reject ---------------------------------------------------------- */

START_TEST(reject_deletes_the_branch_and_keeps_the_record)
{
	wd_proposal *p;

	save_proposal(RUN_ID, src);
	ck_assert(ref_exists(src, "refs/heads/" BRANCH));
	ck_assert_int_eq(wd_review_reject(cache, RUN_ID, "", NULL), WD_EUSAGE);
	ck_assert_msg(wd_review_reject(cache, RUN_ID, "touches the wrong function", NULL) == 0, "%s",
	              wd_error_last());
	ck_assert(!ref_exists(src, "refs/heads/" BRANCH));
	p = load(RUN_ID);
	ck_assert_int_eq(p->status, WD_PROPOSAL_REJECTED);
	ck_assert_str_eq(p->reason, "touches the wrong function");
	ck_assert_str_eq(p->decided_by, "bob");
	ck_assert_str_eq(p->commit, commit_hex); /* the record is whole */
	wd_proposal_free(p);
	ck_assert_int_eq(wd_review_reject(cache, RUN_ID, "again", NULL), WD_EEXISTS);
	ck_assert_int_eq(wd_review_approve(NULL, cache, RUN_ID, NULL), WD_EEXISTS);
	{
		wd_strvec fb = WD_STRVEC_INIT;

		ck_assert_int_eq(wd_review_feedback_for_ticket(&fb, cache, "ticket-abc"), 0);
		ck_assert_uint_eq(fb.n, 1);
		ck_assert_str_eq(fb.v[0], "touches the wrong function");
		wd_strvec_free(&fb);
	}
}
END_TEST

START_TEST(decisions_join_the_runs_ledger_and_the_stats)
{
	wd_proposal *p = make_proposal("r-approved", src);
	wd_review_stats st;
	char ledger[4200], *text = NULL;

	snprintf(ledger, sizeof(ledger), "%s/run-ledger.jsonl", tmp);
	ck_assert_int_eq(fx_write_file(ledger, "{\"seq\":0,\"run\":\"r\",\"type\":\"run.start\"}\n"), 0);
	p->ledger_path = strdup(ledger);
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	free(p->id);
	p->id = strdup("r-rejected");
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	free(p->id);
	p->id = strdup("r-open");
	ck_assert_int_eq(wd_proposal_save(p, cache), 0);
	wd_proposal_free(p);

	ck_assert_int_eq(wd_review_reject(cache, "r-rejected", "tests the wrong thing", NULL), 0);
	ck_assert_int_eq(wd_review_approve(NULL, cache, "r-approved", NULL), 0);
	ck_assert_int_eq(wd_review_mark_pushed(cache, "r-approved", "origin"), 0);
	ck_assert_int_eq(fx_read_file(&text, ledger), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"type\":\"review.reject\""));
	ck_assert_ptr_nonnull(strstr(text, "\"correction\":true"));
	ck_assert_ptr_nonnull(strstr(text, "\"reason\":\"tests the wrong thing\""));
	ck_assert_ptr_nonnull(strstr(text, "\"type\":\"review.approve\""));
	ck_assert_ptr_nonnull(strstr(text, "\"type\":\"review.push\""));
	ck_assert_ptr_nonnull(strstr(text, "\"seq\":3")); /* continues the run's sequence */
	free(text);

	ck_assert_int_eq(wd_review_stats_load(&st, cache), 0);
	ck_assert_uint_eq(st.open, 1);
	ck_assert_uint_eq(st.approved, 1);
	ck_assert_uint_eq(st.rejected, 1);
	ck_assert(st.cost_usd > 0.0374 && st.cost_usd < 0.0376);
}
END_TEST

START_TEST(reject_keeps_a_branch_someone_moved)
{
	char moved[41];
	wd_proposal *p;

	save_proposal(RUN_ID, src);
	branch_commit(moved, src, BRANCH, BRANCH, "NOTES", "more work\n");
	ck_assert_int_eq(wd_review_reject(cache, RUN_ID, "no", NULL), WD_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "moved"));
	ck_assert(ref_exists(src, "refs/heads/" BRANCH));
	p = load(RUN_ID);
	ck_assert_int_eq(p->status, WD_PROPOSAL_OPEN);
	wd_proposal_free(p);
}
END_TEST

START_TEST(reject_refuses_a_checked_out_branch)
{
	const char *const co[] = { "git", "-C", src, "checkout", "-q", BRANCH, NULL };
	int st;

	save_proposal(RUN_ID, src);
	ck_assert_int_eq(fx_run(NULL, &st, co, NULL, NULL), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(wd_review_reject(cache, RUN_ID, "no", NULL), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "checked out"));
	ck_assert(ref_exists(src, "refs/heads/" BRANCH));
}
END_TEST

START_TEST(reject_of_an_already_deleted_branch_still_records)
{
	git_repository *repo;
	git_reference *ref;
	wd_proposal *p;

	save_proposal(RUN_ID, src);
	ck_assert_int_eq(git_repository_open(&repo, src), 0);
	ck_assert_int_eq(git_branch_lookup(&ref, repo, BRANCH, GIT_BRANCH_LOCAL), 0);
	ck_assert_int_eq(git_branch_delete(ref), 0);
	git_reference_free(ref);
	git_repository_free(repo);
	ck_assert_int_eq(wd_review_reject(cache, RUN_ID, "gone anyway", "dave"), 0);
	p = load(RUN_ID);
	ck_assert_int_eq(p->status, WD_PROPOSAL_REJECTED);
	ck_assert_str_eq(p->decided_by, "dave");
	wd_proposal_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("review");
	TCase *store = tcase_create("store"), *show = tcase_create("show");
	TCase *approve = tcase_create("approve"), *reject = tcase_create("reject");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(store, setup, teardown);
	tcase_add_test(store, saved_proposal_loads_back_field_by_field);
	tcase_add_test(store, new_proposal_records_the_current_user);
	tcase_add_test(store, relative_ticket_and_ledger_paths_are_stored_absolute);
	tcase_add_test(store, save_refuses_unsafe_ids_and_missing_fields);
	tcase_add_test(store, load_accepts_a_unique_prefix_and_refuses_an_ambiguous_one);
	tcase_add_test(store, list_filters_by_status_and_names_corrupt_records);
	tcase_add_test(store, missing_store_is_an_empty_list);
	tcase_add_test(store, feedback_collects_rejection_reasons_of_the_same_ticket_only);
	suite_add_tcase(s, store);

	tcase_add_checked_fixture(show, setup, teardown);
	tcase_add_test(show, note_holds_the_evidence_under_refs_notes_warden);
	tcase_add_test(show, note_write_gets_past_a_dead_writers_lock);
	tcase_add_test(show, note_write_waits_for_a_live_writers_lock);
	tcase_add_test(show, diff_shows_the_change_against_the_base);
	suite_add_tcase(s, show);

	tcase_add_checked_fixture(approve, setup, teardown);
	tcase_add_test(approve, approve_fast_forwards_a_clean_checked_out_target);
	tcase_add_test(approve, approve_in_a_bare_repository_moves_the_ref);
	tcase_add_test(approve, approve_refuses_a_dirty_checked_out_target_and_changes_nothing);
	tcase_add_test(approve, approve_never_overwrites_an_untracked_file);
	tcase_add_test(approve, approve_never_writes_through_an_untracked_symlink);
	tcase_add_test(approve, approve_never_replaces_an_untracked_directory);
	tcase_add_test(approve, approve_after_the_target_moved_asks_for_checks_to_rerun);
	tcase_add_test(approve, approve_stops_on_conflict_and_changes_nothing);
	tcase_add_test(approve, separation_of_duties_forbids_approving_ones_own_run);
	tcase_add_test(approve, approve_updates_a_linked_worktree_that_has_the_target);
	tcase_add_test(approve, approve_reports_a_missing_target);
	suite_add_tcase(s, approve);

	tcase_add_checked_fixture(reject, setup, teardown);
	tcase_add_test(reject, reject_deletes_the_branch_and_keeps_the_record);
	tcase_add_test(reject, reject_keeps_a_branch_someone_moved);
	tcase_add_test(reject, decisions_join_the_runs_ledger_and_the_stats);
	tcase_add_test(reject, reject_of_an_already_deleted_branch_still_records);
	tcase_add_test(reject, reject_refuses_a_checked_out_branch);
	suite_add_tcase(s, reject);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
