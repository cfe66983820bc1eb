#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <git2.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/repo.h"
#include "fixture.h"
#include "githttp.h"

#define BRANCH "warden/fix-add-1a2b3c4d"

static char *root;      /* per-test temp dir */
static char user[1024]; /* the user's repository (non-bare, branch main) */
static char cache[1024];

static const char *const base_files[] = {
	"README", "hello\n",
	"src/calc.c", "int add(int a, int b) { return a - b; }\n",
	".gitignore", "build/\n*.o\n",
	NULL
};

static void setup(void)
{
	git_libgit2_init();
	ck_assert_int_eq(fx_tmpdir(&root), 0);
	snprintf(user, sizeof(user), "%s/user", root);
	snprintf(cache, sizeof(cache), "%s/cache", root);
	ck_assert_int_eq(fx_repo_create(user, base_files, "initial"), 0);
}

static void teardown(void)
{
	fx_rm_rf(root);
	free(root);
	root = NULL;
	git_libgit2_shutdown();
}

static int prepare(wd_workspace **ws, const char *source, const char *base, const char *run_id)
{
	wd_repo_opts o = WD_REPO_OPTS_INIT;

	o.source = source;
	o.base = base;
	o.cache_dir = cache;
	o.run_id = run_id;
	o.branch = BRANCH;
	return wd_repo_prepare(ws, &o);
}

static wd_workspace *prepare_ok(const char *source, const char *base, const char *run_id)
{
	wd_workspace *ws = NULL;
	int rc = prepare(&ws, source, base, run_id);

	ck_assert_msg(rc == 0, "prepare failed (%d): %s", rc, wd_error_last());
	ck_assert_ptr_nonnull(ws);
	return ws;
}

static char *read_in(const char *dir, const char *rel)
{
	char path[8192], *s = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (fx_read_file(&s, path) < 0)
		return NULL;
	return s;
}

static void assert_file(const char *dir, const char *rel, const char *want)
{
	char *s = read_in(dir, rel);

	ck_assert_msg(s != NULL, "%s/%s missing", dir, rel);
	ck_assert_str_eq(s, want);
	free(s);
}

static void assert_oid_is(const git_oid *id, const char *dir, const char *spec)
{
	char want[41], got[41];

	ck_assert_int_eq(fx_repo_rev(want, dir, spec), 0);
	git_oid_tostr(got, sizeof(got), id);
	ck_assert_str_eq(got, want);
}

/* Does `repo_dir` have refs/heads/<name>? */
static int has_branch(const char *repo_dir, const char *name)
{
	git_repository *r = NULL;
	git_reference *ref = NULL;
	char full[512];
	int found;

	ck_assert_int_eq(git_repository_open(&r, repo_dir), 0);
	snprintf(full, sizeof(full), "refs/heads/%s", name);
	found = git_reference_lookup(&ref, r, full) == 0;
	git_reference_free(ref);
	git_repository_free(r);
	return found;
}

/* Commit `files` on top of HEAD in `dir` without moving any branch; point
 * `refname` (e.g. a tag or a remote-tracking ref) at it. */
static void side_commit(char out[41], const char *dir, const char *refname, const char *path,
                        const char *content)
{
	git_repository *r = NULL;
	git_object *head = NULL;
	git_tree *tree = NULL;
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_reference *ref = NULL;
	git_oid blob, tid, cid;

	ck_assert_int_eq(git_repository_open(&r, dir), 0);
	ck_assert_int_eq(git_revparse_single(&head, r, "HEAD^{commit}"), 0);
	ck_assert_int_eq(git_commit_tree(&tree, (git_commit *)head), 0);
	ck_assert_int_eq(git_blob_create_from_buffer(&blob, r, content, strlen(content)), 0);
	ck_assert_int_eq(git_treebuilder_new(&tb, r, tree), 0);
	ck_assert_int_eq(git_treebuilder_insert(NULL, tb, path, &blob, GIT_FILEMODE_BLOB), 0);
	ck_assert_int_eq(git_treebuilder_write(&tid, tb), 0);
	git_tree_free(tree);
	ck_assert_int_eq(git_tree_lookup(&tree, r, &tid), 0);
	ck_assert_int_eq(git_signature_new(&sig, "T", "t@example.com", 1700000100, 0), 0);
	ck_assert_int_eq(git_commit_create_v(&cid, r, NULL, sig, sig, NULL, "side", tree, 1,
	                                     (git_commit *)head), 0);
	ck_assert_int_eq(git_reference_create(&ref, r, refname, &cid, 0, "test"), 0);
	git_oid_tostr(out, 41, &cid);
	git_reference_free(ref);
	git_signature_free(sig);
	git_treebuilder_free(tb);
	git_tree_free(tree);
	git_object_free(head);
	git_repository_free(r);
}

/* A snapshot of the user's repository without what a publish may add. */
static char *snapshot_sans_publish(const char *dir)
{
	char *snap = NULL;

	ck_assert_int_eq(fx_snapshot_except(&snap, dir, fx_publish_paths), 0);
	return snap;
}

START_TEST(prepare_local_checks_out_head_on_new_branch_and_leaves_user_repo_alone)
{
	char *before, *after;
	wd_workspace *ws;
	git_reference *head = NULL;

	ck_assert_int_eq(fx_snapshot(&before, user), 0);
	ws = prepare_ok(user, NULL, "run1");
	ck_assert_str_eq(wd_workspace_source_path(ws), user);
	ck_assert_str_eq(wd_workspace_source(ws), user);
	ck_assert_str_eq(wd_workspace_base_ref(ws), "main");
	ck_assert_str_eq(wd_workspace_branch(ws), BRANCH);
	assert_oid_is(wd_workspace_base(ws), user, "HEAD");
	ck_assert_ptr_nonnull(strstr(wd_workspace_checkout(ws), "/runs/run1/base"));
	ck_assert_ptr_nonnull(strstr(wd_workspace_mirror_path(ws), "/mirrors/"));
	ck_assert_int_eq(wd_workspace_checkout(ws)[0], '/');
	assert_file(wd_workspace_checkout(ws), "src/calc.c", base_files[3]);
	assert_file(wd_workspace_checkout(ws), "README", "hello\n");
	ck_assert_int_eq(git_repository_head(&head, wd_workspace_repo(ws)), 0);
	ck_assert_str_eq(git_reference_name(head), "refs/heads/" BRANCH);
	ck_assert(git_oid_equal(git_reference_target(head), wd_workspace_base(ws)));
	git_reference_free(head);
	ck_assert(wd_path_is_dir(wd_workspace_mirror_path(ws)));
	ck_assert(!has_branch(user, BRANCH));
	wd_workspace_free(ws);
	ck_assert_int_eq(fx_snapshot(&after, user), 0);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(prepare_resolves_branch_tag_commit_prefix_and_revisions)
{
	static const char *const second[] = { "README", "second\n", NULL };
	char first[41], side[41], prefix[9];
	git_repository *r = NULL;
	git_object *obj = NULL;
	git_oid tag;
	wd_workspace *ws;

	ck_assert_int_eq(fx_repo_rev(first, user, "HEAD"), 0);
	ck_assert_int_eq(fx_repo_commit_files(user, second, "second"), 0);
	/* an annotated tag on the first commit */
	ck_assert_int_eq(git_repository_open(&r, user), 0);
	ck_assert_int_eq(git_revparse_single(&obj, r, first), 0);
	{
		git_signature *sig = NULL;

		ck_assert_int_eq(git_signature_new(&sig, "T", "t@x", 1700000000, 0), 0);
		ck_assert_int_eq(git_tag_create(&tag, r, "v1.0", obj, sig, "release", 0), 0);
		git_signature_free(sig);
	}
	git_object_free(obj);
	git_repository_free(r);

	ws = prepare_ok(user, "v1.0", "tag");
	assert_oid_is(wd_workspace_base(ws), user, first);
	ck_assert_str_eq(wd_workspace_base_ref(ws), "v1.0");
	assert_file(wd_workspace_checkout(ws), "README", "hello\n");
	wd_workspace_free(ws);

	memcpy(prefix, first, 8);
	prefix[8] = '\0';
	ws = prepare_ok(user, prefix, "prefix");
	assert_oid_is(wd_workspace_base(ws), user, first);
	wd_workspace_free(ws);

	ws = prepare_ok(user, "main~1", "rev");
	assert_oid_is(wd_workspace_base(ws), user, first);
	wd_workspace_free(ws);

	ws = prepare_ok(user, "main", "branch");
	assert_oid_is(wd_workspace_base(ws), user, "main");
	assert_file(wd_workspace_checkout(ws), "README", "second\n");
	wd_workspace_free(ws);

	/* a remote-tracking ref of the user's, not reachable from any branch */
	side_commit(side, user, "refs/remotes/origin/topic", "topic.txt", "topic\n");
	ws = prepare_ok(user, "origin/topic", "remote");
	assert_oid_is(wd_workspace_base(ws), user, side);
	assert_file(wd_workspace_checkout(ws), "topic.txt", "topic\n");
	wd_workspace_free(ws);
}
END_TEST

START_TEST(prepare_refuses_a_directory_that_is_not_a_repository)
{
	char plain[4096], missing[4096], sub[4096];
	wd_workspace *ws = (wd_workspace *)1;

	snprintf(plain, sizeof(plain), "%s/plain", root);
	ck_assert_int_eq(wd_mkdir_p(plain, 0), 0);
	ck_assert_int_eq(prepare(&ws, plain, NULL, "r1"), WD_EINPUT);
	ck_assert_ptr_null(ws);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "not a git repository"));

	snprintf(missing, sizeof(missing), "%s/nope", root);
	ck_assert_int_eq(prepare(&ws, missing, NULL, "r2"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "no such repository"));

	/* no upward search: a subdirectory of a work tree is not the repository */
	snprintf(sub, sizeof(sub), "%s/src", user);
	ck_assert_int_eq(prepare(&ws, sub, NULL, "r3"), WD_EINPUT);
}
END_TEST

START_TEST(prepare_refuses_an_unknown_base)
{
	wd_workspace *ws = NULL;
	char *before, *after;

	ck_assert_int_eq(fx_snapshot(&before, user), 0);
	ck_assert_int_eq(prepare(&ws, user, "no-such-branch", "r1"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "no such base 'no-such-branch'"));
	ck_assert_int_eq(prepare(&ws, user, "deadbeefdeadbeef", "r2"), WD_EINPUT);
	ck_assert_int_eq(prepare(&ws, user, "main:README", "r3"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "does not name a commit"));
	ck_assert_int_eq(fx_snapshot(&after, user), 0);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(prepare_refuses_a_branch_that_exists_in_the_source)
{
	char id[41];
	wd_workspace *ws = NULL;

	side_commit(id, user, "refs/heads/" BRANCH, "x", "x\n");
	ck_assert_int_eq(prepare(&ws, user, NULL, "r1"), WD_EEXISTS);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "already exists"));
	ck_assert_ptr_null(ws);
}
END_TEST

START_TEST(prepare_checks_its_options)
{
	wd_workspace *ws = NULL;
	wd_repo_opts o = WD_REPO_OPTS_INIT;

	o.source = user;
	o.cache_dir = cache;
	o.run_id = "r1";
	o.branch = "bad..name";
	ck_assert_int_eq(wd_repo_prepare(&ws, &o), WD_EUSAGE);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "not a valid branch name"));
	o.branch = BRANCH;
	o.run_id = "../escape";
	ck_assert_int_eq(wd_repo_prepare(&ws, &o), WD_EUSAGE);
	o.run_id = "r1";
	o.source = NULL;
	ck_assert_int_eq(wd_repo_prepare(&ws, &o), WD_EUSAGE);
	ck_assert_ptr_null(ws);
}
END_TEST

START_TEST(prepare_refuses_a_reused_run_id)
{
	wd_workspace *ws = prepare_ok(user, NULL, "same"), *again = NULL;

	wd_workspace_free(ws);
	ck_assert_int_eq(prepare(&again, user, NULL, "same"), WD_EEXISTS);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "already exists"));
}
END_TEST

START_TEST(prepare_refuses_an_empty_repository)
{
	char empty[4096];
	git_repository *r = NULL;
	wd_workspace *ws = NULL;

	snprintf(empty, sizeof(empty), "%s/empty", root);
	ck_assert_int_eq(git_repository_init(&r, empty, 0), 0);
	git_repository_free(r);
	ck_assert_int_eq(prepare(&ws, empty, NULL, "r1"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "no commits"));
}
END_TEST

START_TEST(prepare_from_a_bare_repository_and_a_detached_head)
{
	char bare[4096], id[41];
	git_repository *r = NULL;
	git_clone_options co;
	wd_workspace *ws;

	snprintf(bare, sizeof(bare), "%s/bare.git", root);
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	co.bare = 1;
	ck_assert_int_eq(git_clone(&r, user, bare, &co), 0);
	git_repository_free(r);
	ws = prepare_ok(bare, NULL, "bare");
	ck_assert_str_eq(wd_workspace_base_ref(ws), "main");
	assert_file(wd_workspace_checkout(ws), "README", "hello\n");
	wd_workspace_free(ws);

	/* the user's HEAD detached at a commit no branch holds */
	side_commit(id, user, "refs/tags/side", "side.txt", "side\n");
	ck_assert_int_eq(git_repository_open(&r, user), 0);
	{
		git_oid oid;

		ck_assert_int_eq(git_oid_fromstr(&oid, id), 0);
		ck_assert_int_eq(git_repository_set_head_detached(r, &oid), 0);
	}
	git_repository_free(r);
	ws = prepare_ok(user, NULL, "detached");
	ck_assert_str_eq(wd_workspace_base_ref(ws), id);
	assert_file(wd_workspace_checkout(ws), "side.txt", "side\n");
	wd_workspace_free(ws);
}
END_TEST

START_TEST(prepare_and_publish_from_a_file_url)
{
	char url[4200], *before, *after;
	wd_buf where = WD_BUF_INIT;
	wd_workspace *ws;
	git_oid commit, tree;
	git_commit *c = NULL;

	snprintf(url, sizeof(url), "file://%s", user);
	ck_assert_int_eq(fx_snapshot(&before, user), 0);
	ws = prepare_ok(url, NULL, "url");
	ck_assert_ptr_null(wd_workspace_source_path(ws));
	ck_assert_str_eq(wd_workspace_base_ref(ws), "main");
	assert_oid_is(wd_workspace_base(ws), user, "main");
	assert_file(wd_workspace_checkout(ws), "README", "hello\n");

	ck_assert_int_eq(git_commit_lookup(&c, wd_workspace_repo(ws), wd_workspace_base(ws)), 0);
	git_oid_cpy(&tree, git_commit_tree_id(c));
	git_commit_free(c);
	ck_assert_int_eq(wd_repo_commit(&commit, ws, &tree, "same tree", NULL, NULL, NULL), 0);
	ck_assert_int_eq(wd_repo_publish(&where, ws), 0);
	ck_assert_str_eq(where.ptr, wd_workspace_mirror_path(ws));
	ck_assert(has_branch(wd_workspace_mirror_path(ws), BRANCH));
	ck_assert(!has_branch(user, BRANCH));
	wd_buf_free(&where);
	wd_workspace_free(ws);
	ck_assert_int_eq(fx_snapshot(&after, user), 0);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(prepare_from_a_file_url_with_a_base_and_a_bad_url)
{
	char url[4200];
	wd_workspace *ws = NULL;

	snprintf(url, sizeof(url), "file://%s", user);
	ws = prepare_ok(url, "main", "u1");
	assert_oid_is(wd_workspace_base(ws), user, "main");
	wd_workspace_free(ws);
	ws = NULL;
	ck_assert_int_eq(prepare(&ws, url, "nope", "u2"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "no such base 'nope'"));

	snprintf(url, sizeof(url), "file://%s/not-there", root);
	ck_assert_int_lt(prepare(&ws, url, NULL, "u3"), 0);
	ck_assert_ptr_null(ws);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "not-there"));
}
END_TEST

START_TEST(second_prepare_reuses_and_updates_the_mirror)
{
	static const char *const more[] = { "README", "updated\n", NULL };
	wd_workspace *a, *b;
	char marker[8200];
	char *mirror;

	a = prepare_ok(user, NULL, "first");
	mirror = strdup(wd_workspace_mirror_path(a));
	wd_workspace_free(a);
	/* a file only a re-clone would lose */
	snprintf(marker, sizeof(marker), "%s/warden-test-marker", mirror);
	ck_assert_int_eq(fx_write_file(marker, "x"), 0);
	ck_assert_int_eq(fx_repo_commit_files(user, more, "update"), 0);

	b = prepare_ok(user, NULL, "second");
	ck_assert_str_eq(wd_workspace_mirror_path(b), mirror);
	ck_assert(wd_path_exists(marker));
	assert_oid_is(wd_workspace_base(b), user, "main");
	assert_file(wd_workspace_checkout(b), "README", "updated\n");
	ck_assert(has_branch(mirror, "main"));
	{
		char want[41], got[41];

		ck_assert_int_eq(fx_repo_rev(want, user, "main"), 0);
		ck_assert_int_eq(fx_repo_rev(got, mirror, "refs/heads/main"), 0);
		ck_assert_str_eq(got, want);
	}
	wd_workspace_free(b);
	free(mirror);
}
END_TEST

START_TEST(mirror_path_is_stable_per_source)
{
	wd_buf a = WD_BUF_INIT, b = WD_BUF_INIT, c = WD_BUF_INIT;
	char dotted[8200];

	snprintf(dotted, sizeof(dotted), "%s/./src/..", user);
	ck_assert_int_eq(wd_repo_mirror_path(&a, cache, user), 0);
	ck_assert_int_eq(wd_repo_mirror_path(&b, cache, dotted), 0);
	ck_assert_str_eq(a.ptr, b.ptr);
	ck_assert_int_eq(wd_repo_mirror_path(&b, cache, "https://example.com/r.git/"), 0);
	ck_assert_int_eq(wd_repo_mirror_path(&c, cache, "https://example.com/r.git"), 0);
	ck_assert_str_eq(b.ptr, c.ptr);
	ck_assert_str_ne(a.ptr, b.ptr);
	ck_assert_int_eq(strncmp(b.ptr, cache, strlen(cache)), 0);
	wd_buf_free(&a);
	wd_buf_free(&b);
	wd_buf_free(&c);
}
END_TEST

/* A commit whose tree is hand-made raw bytes (entries as given, in order). */
static void commit_raw_tree(git_oid *out, const char *dir, const char *raw, size_t len)
{
	git_repository *r = NULL;
	git_odb *odb = NULL;
	git_oid tree, parent;
	char text[512], hex[41], phex[41];

	ck_assert_int_eq(git_repository_open(&r, dir), 0);
	ck_assert_int_eq(git_repository_odb(&odb, r), 0);
	ck_assert_int_eq(git_odb_write(&tree, odb, raw, len, GIT_OBJECT_TREE), 0);
	ck_assert_int_eq(git_reference_name_to_id(&parent, r, "HEAD"), 0);
	/* written raw: libgit2 would refuse to build a commit on such a tree */
	git_oid_tostr(hex, sizeof(hex), &tree);
	git_oid_tostr(phex, sizeof(phex), &parent);
	snprintf(text, sizeof(text), "tree %s\nparent %s\nauthor F <f@example.com> 1700000000 +0000\n"
	         "committer F <f@example.com> 1700000000 +0000\n\nhostile\n", hex, phex);
	ck_assert_int_eq(git_odb_write(out, odb, text, strlen(text), GIT_OBJECT_COMMIT), 0);
	git_odb_free(odb);
	git_repository_free(r);
}

static size_t raw_entry(char *buf, const char *mode, const char *name, const git_oid *id)
{
	size_t n = (size_t)sprintf(buf, "%s %s", mode, name) + 1;

	memcpy(buf + n, id->id, GIT_OID_RAWSZ);
	return n + GIT_OID_RAWSZ;
}

/* The base checkout writes only into its own new directory, whatever the
 * tree says: a link and a directory of one name, a ".git" entry. */
START_TEST(checkout_refuses_trees_that_would_write_through_a_link)
{
	git_repository *r = NULL;
	git_oid blob, link, sub, commit;
	git_treebuilder *tb = NULL;
	char raw[512], host[2100], target[2200], hex[41];
	size_t n = 0;
	wd_workspace *ws = NULL;
	wd_repo_opts o = WD_REPO_OPTS_INIT;

	snprintf(host, sizeof(host), "%s/hostdir", root);
	ck_assert_int_eq(mkdir(host, 0755), 0);
	ck_assert_int_eq(git_repository_open(&r, user), 0);
	ck_assert_int_eq(git_blob_create_from_buffer(&blob, r, "owned\n", 6), 0);
	ck_assert_int_eq(git_blob_create_from_buffer(&link, r, host, strlen(host)), 0);
	ck_assert_int_eq(git_treebuilder_new(&tb, r, NULL), 0);
	ck_assert_int_eq(git_treebuilder_insert(NULL, tb, "authorized_keys", &blob,
	                                        GIT_FILEMODE_BLOB), 0);
	ck_assert_int_eq(git_treebuilder_write(&sub, tb), 0);
	git_treebuilder_free(tb);
	git_repository_free(r);
	/* "a" is a link to the host directory, then "a/" a directory under it */
	n += raw_entry(raw + n, "120000", "a", &link);
	n += raw_entry(raw + n, "40000", "a", &sub);
	commit_raw_tree(&commit, user, raw, n);
	git_oid_tostr(hex, sizeof(hex), &commit);
	o.source = user;
	o.base = hex;
	o.cache_dir = cache;
	o.run_id = "hostile1";
	o.branch = BRANCH;
	ck_assert_msg(wd_repo_prepare(&ws, &o) == WD_EINPUT, "%s", wd_error_last());
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "malformed"));
	snprintf(target, sizeof(target), "%s/authorized_keys", host);
	ck_assert_msg(access(target, F_OK) != 0, "the checkout wrote through a link");
	/* control: the same path resolved as a plain path would lead there */
	ck_assert(wd_path_is_dir(host));

	/* a ".git" entry is refused too */
	n = raw_entry(raw, "40000", ".git", &sub);
	commit_raw_tree(&commit, user, raw, n);
	git_oid_tostr(hex, sizeof(hex), &commit);
	o.run_id = "hostile2";
	ck_assert_int_eq(wd_repo_prepare(&ws, &o), WD_EINPUT);
	/* nothing of either run is left behind */
	snprintf(target, sizeof(target), "%s/runs/hostile1", cache);
	ck_assert(!wd_path_exists(target));
	snprintf(target, sizeof(target), "%s/runs/hostile2", cache);
	ck_assert(!wd_path_exists(target));
}
END_TEST

/* Files as `git checkout` writes them: the commit's eol attributes, modes,
 * links as links, the commit's time as every mtime; the run's git directory
 * beside the checkout, reached through a ".git" file. */
START_TEST(checkout_writes_files_as_git_would_with_the_commits_time)
{
	const char *files[] = { ".gitattributes", "*.txt text eol=crlf\n", "a.txt", "one\ntwo\n",
	                        NULL };
	wd_workspace *ws;
	char path[8200], *s = NULL;
	struct stat st;
	git_commit *c = NULL;

	ck_assert_int_eq(fx_repo_commit_files(user, files, "attributes"), 0);
	ws = prepare_ok(user, NULL, "attrs");
	snprintf(path, sizeof(path), "%s/a.txt", wd_workspace_checkout(ws));
	ck_assert_int_eq(fx_read_file(&s, path), 0);
	ck_assert_str_eq(s, "one\r\ntwo\r\n");
	free(s);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(git_commit_lookup(&c, wd_workspace_repo(ws), wd_workspace_base(ws)), 0);
	ck_assert_int_eq((long long)st.st_mtime, (long long)git_commit_time(c));
	git_commit_free(c);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s/.git", wd_workspace_checkout(ws));
	ck_assert_int_eq(fx_read_file(&s, path), 0);
	ck_assert_ptr_nonnull(strstr(s, wd_workspace_git_dir(ws)));
	free(s);
	ck_assert(git_repository_is_bare(wd_workspace_repo(ws)));
	wd_workspace_free(ws);
}
END_TEST

/* The base tree with `rel` set to `content` (what the patch engine hands to
 * wd_repo_commit). */
static void tree_with_change(git_oid *out, wd_workspace *ws, const char *rel, const char *content)
{
	git_repository *repo = wd_workspace_repo(ws);
	git_tree_update u;
	git_tree *base = NULL;
	git_oid id;

	ck_assert_int_eq(wd_repo_base_tree(&id, ws), 0);
	ck_assert_int_eq(git_tree_lookup(&base, repo, &id), 0);
	memset(&u, 0, sizeof(u));
	u.action = GIT_TREE_UPDATE_UPSERT;
	u.filemode = GIT_FILEMODE_BLOB;
	u.path = rel;
	ck_assert_int_eq(git_blob_create_from_buffer(&u.id, repo, content, strlen(content)), 0);
	ck_assert_int_eq(git_tree_create_updated(out, repo, base, 1, &u), 0);
	git_tree_free(base);
}

START_TEST(commit_has_the_base_as_parent_and_moves_the_work_branch)
{
	wd_workspace *ws = prepare_ok(user, NULL, "commit");
	git_oid tree, c1, c2, tip;
	git_commit *c = NULL;
	char path[8200];

	tree_with_change(&tree, ws, "src/calc.c", "int add(int a, int b) { return a + b; }\n");
	ck_assert_int_eq(wd_repo_commit(&c1, ws, &tree, "Fix add\n\nWarden-Run: x\n", NULL, NULL, NULL), 0);
	ck_assert_int_eq(git_commit_lookup(&c, wd_workspace_repo(ws), &c1), 0);
	ck_assert_uint_eq(git_commit_parentcount(c), 1);
	ck_assert(git_oid_equal(git_commit_parent_id(c, 0), wd_workspace_base(ws)));
	ck_assert(git_oid_equal(git_commit_tree_id(c), &tree));
	ck_assert_str_eq(git_commit_author(c)->name, "warden");
	ck_assert_str_eq(git_commit_committer(c)->email, "warden@localhost");
	ck_assert_str_eq(git_commit_message(c), "Fix add\n\nWarden-Run: x\n");
	git_commit_free(c);
	ck_assert_int_eq(git_reference_name_to_id(&tip, wd_workspace_repo(ws), "refs/heads/" BRANCH), 0);
	ck_assert(git_oid_equal(&tip, &c1));

	/* a second commit replaces the first: still one commit on top of base */
	ck_assert_int_eq(wd_repo_commit(&c2, ws, &tree, "Again", "Ada", "ada@example.com", NULL), 0);
	ck_assert_int_eq(git_commit_lookup(&c, wd_workspace_repo(ws), &c2), 0);
	ck_assert(git_oid_equal(git_commit_parent_id(c, 0), wd_workspace_base(ws)));
	ck_assert_str_eq(git_commit_author(c)->name, "Ada");
	git_commit_free(c);
	ck_assert_int_eq(git_reference_name_to_id(&tip, wd_workspace_repo(ws), "refs/heads/" BRANCH), 0);
	ck_assert(git_oid_equal(&tip, &c2));

	ck_assert_int_eq(wd_repo_commit(&c2, ws, &tree, "", NULL, NULL, NULL), WD_EUSAGE);
	ck_assert_int_eq(wd_repo_commit(&c2, ws, &tree, "m", "bad <name>", NULL, NULL), WD_EINPUT);
	ck_assert_int_eq(wd_repo_commit(&c2, ws, wd_workspace_base(ws), "not a tree", NULL, NULL, NULL), WD_EINPUT);
	snprintf(path, sizeof(path), "%s", wd_workspace_checkout(ws));
	wd_workspace_free(ws);
}
END_TEST

/* What is committed is the base plus the patch: a tree that changes a path
 * the patch did not name (or misses one it did) is refused, nothing moves. */
START_TEST(commit_refuses_a_tree_that_is_not_the_base_plus_the_patch)
{
	wd_workspace *ws = prepare_ok(user, NULL, "integrity");
	const char *only_readme[] = { "README", NULL };
	const char *both[] = { "src/calc.c", "README", NULL };
	const char *calc[] = { "src/calc.c", NULL };
	git_oid tree, c, tip;

	tree_with_change(&tree, ws, "src/calc.c", "int add(int a, int b) { return b + a; }\n");
	ck_assert_int_eq(wd_repo_commit(&c, ws, &tree, "m", NULL, NULL, only_readme), WD_EINTEGRITY);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "src/calc.c changed but is not in the patch"));
	ck_assert_int_eq(wd_repo_commit(&c, ws, &tree, "m", NULL, NULL, both), WD_EINTEGRITY);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "README is in the patch but unchanged"));
	ck_assert_int_eq(git_reference_name_to_id(&tip, wd_workspace_repo(ws), "refs/heads/" BRANCH), 0);
	ck_assert(git_oid_equal(&tip, wd_workspace_base(ws)));
	/* control: with the right list the same tree commits */
	ck_assert_int_eq(wd_repo_commit(&c, ws, &tree, "m", NULL, NULL, calc), 0);
	wd_workspace_free(ws);
}
END_TEST

START_TEST(diff_trees_is_a_unified_diff_against_the_base)
{
	wd_workspace *ws = prepare_ok(user, NULL, "diff");
	wd_buf d = WD_BUF_INIT;
	git_oid tree;
	git_commit *c = NULL;

	tree_with_change(&tree, ws, "src/calc.c", "int add(int a, int b) { return a + b; }\n");
	ck_assert_int_eq(wd_repo_diff_trees(&d, ws, &tree), 0);
	ck_assert_ptr_nonnull(strstr(d.ptr, "diff --git a/src/calc.c b/src/calc.c\n"));
	ck_assert_ptr_nonnull(strstr(d.ptr, "--- a/src/calc.c\n+++ b/src/calc.c\n"));
	ck_assert_ptr_nonnull(strstr(d.ptr, "-int add(int a, int b) { return a - b; }\n"
	                                    "+int add(int a, int b) { return a + b; }\n"));
	wd_buf_clear(&d);
	ck_assert_int_eq(git_commit_lookup(&c, wd_workspace_repo(ws), wd_workspace_base(ws)), 0);
	ck_assert_int_eq(wd_repo_diff_trees(&d, ws, git_commit_tree_id(c)), 0);
	ck_assert_uint_eq(d.len, 0);
	git_commit_free(c);
	wd_buf_free(&d);
	wd_workspace_free(ws);
}
END_TEST

START_TEST(list_files_is_sorted_and_complete)
{
	static const char *const more[] = { "a.c", "a\n", "a/b.c", "b\n", "z/y/x.txt", "x\n", NULL };
	wd_workspace *ws;
	wd_strvec files = WD_STRVEC_INIT;

	ck_assert_int_eq(fx_repo_commit_files(user, more, "more"), 0);
	ws = prepare_ok(user, NULL, "list");
	ck_assert_int_eq(wd_repo_list_files(&files, ws), 0);
	ck_assert_uint_eq(files.n, 6);
	ck_assert_str_eq(files.v[0], ".gitignore");
	ck_assert_str_eq(files.v[1], "README");
	ck_assert_str_eq(files.v[2], "a.c");
	ck_assert_str_eq(files.v[3], "a/b.c");
	ck_assert_str_eq(files.v[4], "src/calc.c");
	ck_assert_str_eq(files.v[5], "z/y/x.txt");
	wd_strvec_free(&files);
	wd_workspace_free(ws);
}
END_TEST

START_TEST(publish_creates_the_branch_in_the_source_and_nothing_else)
{
	wd_workspace *ws;
	wd_buf where = WD_BUF_INIT;
	char *before, *after, tip[41];
	git_oid tree, commit;
	git_repository *r = NULL;
	git_commit *c = NULL;
	git_reference *head = NULL;

	before = snapshot_sans_publish(user);
	ws = prepare_ok(user, NULL, "pub");
	tree_with_change(&tree, ws, "src/calc.c", "int add(int a, int b) { return a + b; }\n");
	ck_assert_int_eq(wd_repo_commit(&commit, ws, &tree, "Fix add", NULL, NULL, NULL), 0);
	ck_assert_int_eq(wd_repo_publish(&where, ws), 0);
	ck_assert_str_eq(where.ptr, user);
	ck_assert(has_branch(user, BRANCH));
	ck_assert(has_branch(wd_workspace_mirror_path(ws), BRANCH));
	ck_assert_int_eq(fx_repo_rev(tip, user, "refs/heads/" BRANCH), 0);
	{
		char want[41];

		git_oid_tostr(want, sizeof(want), &commit);
		ck_assert_str_eq(tip, want);
	}
	/* the objects arrived: the user's repository can read the commit and its tree */
	ck_assert_int_eq(git_repository_open(&r, user), 0);
	ck_assert_int_eq(git_commit_lookup(&c, r, &commit), 0);
	{
		git_tree *t = NULL;
		git_tree_entry *e = NULL;
		git_blob *b = NULL;

		ck_assert_int_eq(git_commit_tree(&t, c), 0);
		ck_assert_int_eq(git_tree_entry_bypath(&e, t, "src/calc.c"), 0);
		ck_assert_int_eq(git_blob_lookup(&b, r, git_tree_entry_id(e)), 0);
		ck_assert_ptr_nonnull(strstr(git_blob_rawcontent(b), "a + b"));
		git_blob_free(b);
		git_tree_entry_free(e);
		git_tree_free(t);
	}
	ck_assert_int_eq(git_repository_head(&head, r), 0);
	ck_assert_str_eq(git_reference_name(head), "refs/heads/main");
	git_reference_free(head);
	git_commit_free(c);
	git_repository_free(r);
	/* work tree, index, HEAD, config and the other refs: byte-for-byte the same */
	after = snapshot_sans_publish(user);
	ck_assert_str_eq(before, after);
	assert_file(user, "src/calc.c", base_files[3]);

	/* publishing twice is overwriting: refused */
	wd_buf_clear(&where);
	ck_assert_int_eq(wd_repo_publish(&where, ws), WD_EEXISTS);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "already exists"));
	wd_buf_free(&where);
	wd_workspace_free(ws);
	free(before);
	free(after);
}
END_TEST

START_TEST(publish_refuses_to_overwrite_a_branch_created_meanwhile)
{
	wd_workspace *ws = prepare_ok(user, NULL, "race");
	wd_buf where = WD_BUF_INIT;
	char theirs[41], now[41];
	git_oid tree, commit;

	tree_with_change(&tree, ws, "README", "mine\n");
	ck_assert_int_eq(wd_repo_commit(&commit, ws, &tree, "Mine", NULL, NULL, NULL), 0);
	side_commit(theirs, user, "refs/heads/" BRANCH, "theirs.txt", "theirs\n");
	ck_assert_int_eq(wd_repo_publish(&where, ws), WD_EEXISTS);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), user));
	ck_assert_int_eq(fx_repo_rev(now, user, "refs/heads/" BRANCH), 0);
	ck_assert_str_eq(now, theirs);
	/* nothing was written anywhere: the mirror has no such branch either */
	ck_assert(!has_branch(wd_workspace_mirror_path(ws), BRANCH));
	ck_assert_uint_eq(where.len, 0);
	wd_buf_free(&where);
	wd_workspace_free(ws);
}
END_TEST

START_TEST(publish_refuses_the_branch_an_unborn_head_points_at)
{
	char bare[4096];
	git_repository *r = NULL;
	git_clone_options co;
	wd_workspace *ws;
	wd_buf where = WD_BUF_INIT;
	git_oid tree, commit;

	snprintf(bare, sizeof(bare), "%s/bare.git", root);
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	co.bare = 1;
	ck_assert_int_eq(git_clone(&r, user, bare, &co), 0);
	ws = prepare_ok(bare, "main", "unborn");
	ck_assert_int_eq(git_repository_set_head(r, "refs/heads/" BRANCH), 0);
	git_repository_free(r);
	tree_with_change(&tree, ws, "README", "x\n");
	ck_assert_int_eq(wd_repo_commit(&commit, ws, &tree, "x", NULL, NULL, NULL), 0);
	ck_assert_int_eq(wd_repo_publish(&where, ws), WD_EREFUSED);
	ck_assert(!has_branch(bare, BRANCH));
	wd_buf_free(&where);
	wd_workspace_free(ws);
}
END_TEST

struct racer {
	const char *run_id;
	int rc;
	char err[512];
};

static void *race_prepare(void *arg)
{
	struct racer *r = arg;
	wd_workspace *ws = NULL;

	r->rc = prepare(&ws, user, NULL, r->run_id);
	snprintf(r->err, sizeof(r->err), "%s", wd_error_last());
	wd_workspace_free(ws);
	return NULL;
}

START_TEST(concurrent_prepares_on_one_source_both_succeed)
{
	struct racer r[4] = { { "c0", -1, "" }, { "c1", -1, "" }, { "c2", -1, "" }, { "c3", -1, "" } };
	pthread_t t[4];
	wd_buf mirror = WD_BUF_INIT;
	git_repository *m = NULL;
	git_odb *odb = NULL;

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, race_prepare, &r[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(r[i].rc == 0, "run %d: %s", i, r[i].err);
	}
	/* the mirror is intact */
	ck_assert_int_eq(wd_repo_mirror_path(&mirror, cache, user), 0);
	ck_assert_int_eq(git_repository_open_bare(&m, mirror.ptr), 0);
	ck_assert_int_eq(git_repository_odb(&odb, m), 0);
	{
		char id[41];
		git_oid oid;

		ck_assert_int_eq(fx_repo_rev(id, user, "main"), 0);
		ck_assert_int_eq(git_oid_fromstr(&oid, id), 0);
		ck_assert(git_odb_exists(odb, &oid));
	}
	git_odb_free(odb);
	git_repository_free(m);
	wd_buf_free(&mirror);
}
END_TEST

START_TEST(a_held_lock_times_out_with_a_clear_message)
{
	wd_buf mirror = WD_BUF_INIT, lock = WD_BUF_INIT;
	wd_repo_opts o = WD_REPO_OPTS_INIT;
	wd_workspace *ws = NULL;
	int fd;

	ck_assert_int_eq(wd_repo_mirror_path(&mirror, cache, user), 0);
	ck_assert_int_eq(wd_mkdir_p(mirror.ptr, 0), 0);
	wd_buf_printf(&lock, "%s/warden.lock", mirror.ptr);
	fd = open(lock.ptr, O_RDWR | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	o.source = user;
	o.cache_dir = cache;
	o.run_id = "locked";
	o.branch = BRANCH;
	o.lock_timeout_ms = 200;
	ck_assert_int_eq(wd_repo_prepare(&ws, &o), WD_ETIMEOUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "another warden run holds the lock"));
	ck_assert_ptr_null(ws);
	close(fd); /* released: the next run goes through */
	ck_assert_int_eq(wd_repo_prepare(&ws, &o), 0);
	wd_workspace_free(ws);
	wd_buf_free(&mirror);
	wd_buf_free(&lock);
}
END_TEST

START_TEST(workspace_remove_deletes_the_run_and_keeps_the_mirror)
{
	wd_workspace *ws = prepare_ok(user, NULL, "rm");
	char *run_dir = strdup(wd_workspace_run_dir(ws));

	ck_assert_int_eq(wd_workspace_remove(ws), 0);
	ck_assert_ptr_null(wd_workspace_repo(ws));
	ck_assert(!wd_path_exists(run_dir));
	ck_assert(wd_path_is_dir(wd_workspace_mirror_path(ws)));
	ck_assert_int_eq(wd_workspace_remove(ws), 0); /* twice is fine */
	wd_workspace_free(ws);
	wd_workspace_free(NULL);
	free(run_dir);
}
END_TEST

/* A bare copy of the user's repository under root/srv, to serve over HTTP. */
static void make_served_copy(char *srv, size_t n)
{
	char bare[2200];
	git_repository *r = NULL;
	git_clone_options co;

	snprintf(srv, n, "%s/srv", root);
	snprintf(bare, sizeof(bare), "%s/r.git", srv);
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	co.bare = 1;
	ck_assert_int_eq(git_clone(&r, user, bare, &co), 0);
	git_repository_free(r);
}

START_TEST(prepare_from_an_http_url_uses_the_remote_default_branch)
{
	githttp_server *srv = NULL;
	char dir[2048], url[2200];
	wd_workspace *ws;

	make_served_copy(dir, sizeof(dir));
	ck_assert_int_eq(githttp_start(&srv, dir, NULL, NULL), 0);
	snprintf(url, sizeof(url), "%s/r.git", githttp_url(srv));
	ws = prepare_ok(url, NULL, "http1");
	ck_assert_str_eq(wd_workspace_base_ref(ws), "main");
	ck_assert_ptr_null(wd_workspace_source_path(ws));
	assert_oid_is(wd_workspace_base(ws), user, "main");
	assert_file(wd_workspace_checkout(ws), "src/calc.c", base_files[3]);
	wd_workspace_free(ws);
	/* the second run fetches into the same mirror */
	ws = prepare_ok(url, "main", "http2");
	assert_oid_is(wd_workspace_base(ws), user, "main");
	wd_workspace_free(ws);
	githttp_stop(srv);
}
END_TEST

START_TEST(http_credentials_come_from_the_token_and_are_tried_once)
{
	githttp_server *srv = NULL;
	char dir[2048], url[2200];
	wd_workspace *ws = NULL;
	size_t refused;

	make_served_copy(dir, sizeof(dir));
	ck_assert_int_eq(githttp_start(&srv, dir, "x-access-token", "s3cret"), 0);
	snprintf(url, sizeof(url), "%s/r.git", githttp_url(srv));
	unsetenv("GITHUB_TOKEN");
	setenv("WARDEN_GIT_TOKEN", "wrong", 1);
	ck_assert_int_lt(prepare(&ws, url, NULL, "bad"), 0);
	ck_assert_ptr_null(ws);
	refused = githttp_auth_refusals(srv);
	ck_assert_uint_ge(refused, 1);
	ck_assert_uint_le(refused, 3); /* no retry loop with the same wrong token */
	ck_assert_ptr_null(strstr(wd_error_last(), "wrong"));
	setenv("WARDEN_GIT_TOKEN", "s3cret", 1);
	ws = prepare_ok(url, NULL, "good");
	assert_file(wd_workspace_checkout(ws), "README", "hello\n");
	wd_workspace_free(ws);
	unsetenv("WARDEN_GIT_TOKEN");
	githttp_stop(srv);
}
END_TEST

START_TEST(prepare_from_an_empty_remote_needs_a_base)
{
	char empty[2048], url[2200];
	git_repository *r = NULL;
	wd_workspace *ws = NULL;

	snprintf(empty, sizeof(empty), "%s/empty.git", root);
	ck_assert_int_eq(git_repository_init(&r, empty, 1), 0);
	git_repository_free(r);
	snprintf(url, sizeof(url), "file://%s", empty);
	ck_assert_int_eq(prepare(&ws, url, NULL, "e1"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "no default branch"));
	ck_assert_ptr_null(ws);
}
END_TEST

/* build/tools/mkrepo next to this build/tests/test_repo, or $WARDEN_TOOLS. */
static void mkrepo_path(char *out, size_t n)
{
	const char *tools = getenv("WARDEN_TOOLS");
	char exe[2048];
	ssize_t len;

	if (tools && *tools) {
		snprintf(out, n, "%s/mkrepo", tools);
		return;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(len, 0);
	exe[len] = '\0';
	*strrchr(exe, '/') = '\0'; /* .../tests */
	*strrchr(exe, '/') = '\0'; /* build dir */
	snprintf(out, n, "%s/tools/mkrepo", exe);
}

START_TEST(mkrepo_makes_a_one_commit_repository_on_main)
{
	char tool[2200], src[2048], dst[2048], script[2100], *out = NULL, id1[41], id2[41];
	const char *argv[] = { tool, dst, src, NULL };
	int status;
	struct stat st;
	wd_strvec files = WD_STRVEC_INIT;
	wd_workspace *ws;

	mkrepo_path(tool, sizeof(tool));
	snprintf(src, sizeof(src), "%s/plain", root);
	snprintf(dst, sizeof(dst), "%s/made", root);
	snprintf(script, sizeof(script), "%s/run.sh", src);
	ck_assert_int_eq(fx_write_file(script, "#!/bin/sh\necho ok\n"), 0);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(script, sizeof(script), "%s/lib/x.c", src);
	ck_assert_int_eq(fx_write_file(script, "int x;\n"), 0);
	snprintf(script, sizeof(script), "%s/.gitignore", src);
	ck_assert_int_eq(fx_write_file(script, "*.o\n"), 0);
	snprintf(script, sizeof(script), "%s/x.o", src);
	ck_assert_int_eq(fx_write_file(script, "obj"), 0);

	ck_assert_int_eq(fx_run(&out, &status, argv, NULL, NULL), 0);
	ck_assert_msg(status == 0, "mkrepo: %s", out);
	free(out);
	ck_assert_int_eq(fx_repo_rev(id1, dst, "refs/heads/main"), 0);
	ck_assert_int_eq(fx_repo_rev(id2, dst, "HEAD"), 0);
	ck_assert_str_eq(id1, id2);
	snprintf(script, sizeof(script), "%s/run.sh", dst);
	ck_assert_int_eq(stat(script, &st), 0);
	ck_assert(st.st_mode & 0100);
	/* what the repository holds: everything but the ignored file */
	ws = prepare_ok(dst, NULL, "mk");
	ck_assert_int_eq(wd_repo_list_files(&files, ws), 0);
	ck_assert_uint_eq(files.n, 3);
	ck_assert_str_eq(files.v[0], ".gitignore");
	ck_assert_str_eq(files.v[1], "lib/x.c");
	ck_assert_str_eq(files.v[2], "run.sh");
	wd_strvec_free(&files);
	wd_workspace_free(ws);

	/* a reproducible commit: the same tree gives the same id */
	snprintf(dst, sizeof(dst), "%s/made2", root);
	ck_assert_int_eq(fx_run(NULL, &status, argv, NULL, NULL), 0);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(fx_repo_rev(id2, dst, "main"), 0);
	ck_assert_str_eq(id1, id2);
}
END_TEST

START_TEST(mkrepo_refuses_bad_input_with_exit_2)
{
	char tool[2200], src[2048], dst[2048], *out = NULL;
	const char *argv[] = { tool, dst, src, NULL };
	const char *usage[] = { tool, NULL };
	int status;

	mkrepo_path(tool, sizeof(tool));
	ck_assert_int_eq(fx_run(&out, &status, usage, NULL, NULL), 0);
	ck_assert_int_eq(status, 2);
	ck_assert_ptr_nonnull(strstr(out, "usage: mkrepo DIR SRC"));
	free(out);

	snprintf(src, sizeof(src), "%s/missing", root);
	snprintf(dst, sizeof(dst), "%s/d1", root);
	ck_assert_int_eq(fx_run(&out, &status, argv, NULL, NULL), 0);
	ck_assert_int_eq(status, 2);
	ck_assert_ptr_nonnull(strstr(out, "not a directory"));
	free(out);

	snprintf(src, sizeof(src), "%s", user); /* already a repository */
	ck_assert_int_eq(fx_run(&out, &status, argv, NULL, NULL), 0);
	ck_assert_int_eq(status, 2);
	ck_assert_ptr_nonnull(strstr(out, "already a git repository"));
	free(out);

	snprintf(src, sizeof(src), "%s/plain", root);
	ck_assert_int_eq(fx_write_file(src, "x"), 0);
	snprintf(src, sizeof(src), "%s/src2", root);
	ck_assert_int_eq(wd_mkdir_p(src, 0), 0);
	snprintf(dst, sizeof(dst), "%s", user); /* not empty */
	ck_assert_int_eq(fx_run(&out, &status, argv, NULL, NULL), 0);
	ck_assert_int_eq(status, 2);
	ck_assert_ptr_nonnull(strstr(out, "not empty"));
	free(out);
}
END_TEST

/* The fixtures other suites rely on are tested here too. */
START_TEST(snapshot_sees_every_change_including_the_git_dir)
{
	char *a, *b, path[2200];

	ck_assert_int_eq(fx_snapshot(&a, user), 0);
	ck_assert_ptr_nonnull(strstr(a, " .git/HEAD\n"));
	ck_assert_ptr_nonnull(strstr(a, " src/calc.c\n"));
	snprintf(path, sizeof(path), "%s/README", user);
	ck_assert_int_eq(fx_write_file(path, "hellO\n"), 0);
	ck_assert_int_eq(fx_snapshot(&b, user), 0);
	ck_assert_str_ne(a, b);
	free(b);
	ck_assert_int_eq(fx_write_file(path, "hello\n"), 0);
	ck_assert_int_eq(fx_snapshot(&b, user), 0);
	ck_assert_str_eq(a, b); /* content back: equal again */
	free(b);
	ck_assert_int_eq(chmod(path, 0755), 0);
	ck_assert_int_eq(fx_snapshot(&b, user), 0);
	ck_assert_str_ne(a, b);
	free(b);
	ck_assert_int_eq(chmod(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/.git/refs/heads/warden/x", user);
	ck_assert_int_eq(fx_write_file(path, "0000000000000000000000000000000000000000\n"), 0);
	ck_assert_int_eq(fx_snapshot(&b, user), 0);
	ck_assert_str_ne(a, b);
	free(b);
	free(a);
	ck_assert_int_eq(fx_snapshot_except(&a, user, fx_publish_paths), 0);
	ck_assert_ptr_null(strstr(a, "warden"));
	ck_assert_ptr_null(strstr(a, ".git/objects"));
	ck_assert_ptr_nonnull(strstr(a, " .git/index\n"));
	free(a);
}
END_TEST

START_TEST(fx_run_captures_output_status_env_and_cwd)
{
	const char *sh[] = { "sh", "-c", "echo out; echo err >&2; pwd; echo \"$FX_A/${FX_B-unset}\"; exit 7",
	                     NULL };
	const char *env[] = { "FX_A=1", "FX_B", NULL };
	const char *kill_self[] = { "sh", "-c", "kill -9 $$", NULL };
	const char *missing[] = { "/nonexistent/program", NULL };
	char *out = NULL, want[2200];
	int status;

	setenv("FX_B", "set", 1);
	ck_assert_int_eq(fx_run(&out, &status, sh, env, root), 0);
	ck_assert_int_eq(status, 7);
	snprintf(want, sizeof(want), "out\nerr\n%s\n1/unset\n", root);
	ck_assert_str_eq(out, want);
	free(out);
	ck_assert_int_eq(fx_run(NULL, &status, kill_self, NULL, NULL), 0);
	ck_assert_int_eq(status, 128 + 9);
	ck_assert_int_eq(fx_run(&out, &status, missing, NULL, NULL), 0);
	ck_assert_int_eq(status, 127);
	free(out);
}
END_TEST

static Suite *repo_suite(void)
{
	Suite *s = suite_create("repo");
	TCase *p = tcase_create("prepare");
	TCase *w = tcase_create("workspace");
	TCase *c = tcase_create("concurrency");
	TCase *u = tcase_create("url");
	TCase *t = tcase_create("mkrepo");
	TCase *f = tcase_create("fixture");

	tcase_add_checked_fixture(p, setup, teardown);
	tcase_add_checked_fixture(w, setup, teardown);
	tcase_add_checked_fixture(c, setup, teardown);
	tcase_set_timeout(p, 120);
	tcase_set_timeout(w, 120);
	tcase_set_timeout(c, 120);
	tcase_add_checked_fixture(u, setup, teardown);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(u, 120);
	tcase_set_timeout(t, 120);
	tcase_add_test(u, prepare_from_an_http_url_uses_the_remote_default_branch);
	tcase_add_test(u, http_credentials_come_from_the_token_and_are_tried_once);
	tcase_add_test(u, prepare_from_an_empty_remote_needs_a_base);
	tcase_add_test(t, mkrepo_makes_a_one_commit_repository_on_main);
	tcase_add_test(t, mkrepo_refuses_bad_input_with_exit_2);
	tcase_add_checked_fixture(f, setup, teardown);
	tcase_add_test(f, snapshot_sees_every_change_including_the_git_dir);
	tcase_add_test(f, fx_run_captures_output_status_env_and_cwd);
	tcase_add_test(p, prepare_local_checks_out_head_on_new_branch_and_leaves_user_repo_alone);
	tcase_add_test(p, prepare_resolves_branch_tag_commit_prefix_and_revisions);
	tcase_add_test(p, prepare_refuses_a_directory_that_is_not_a_repository);
	tcase_add_test(p, prepare_refuses_an_unknown_base);
	tcase_add_test(p, prepare_refuses_a_branch_that_exists_in_the_source);
	tcase_add_test(p, prepare_checks_its_options);
	tcase_add_test(p, prepare_refuses_a_reused_run_id);
	tcase_add_test(p, prepare_refuses_an_empty_repository);
	tcase_add_test(p, prepare_from_a_bare_repository_and_a_detached_head);
	tcase_add_test(p, prepare_and_publish_from_a_file_url);
	tcase_add_test(p, prepare_from_a_file_url_with_a_base_and_a_bad_url);
	tcase_add_test(p, second_prepare_reuses_and_updates_the_mirror);
	tcase_add_test(p, mirror_path_is_stable_per_source);
	tcase_add_test(w, checkout_refuses_trees_that_would_write_through_a_link);
	tcase_add_test(w, checkout_writes_files_as_git_would_with_the_commits_time);
	tcase_add_test(w, commit_has_the_base_as_parent_and_moves_the_work_branch);
	tcase_add_test(w, commit_refuses_a_tree_that_is_not_the_base_plus_the_patch);
	tcase_add_test(w, diff_trees_is_a_unified_diff_against_the_base);
	tcase_add_test(w, list_files_is_sorted_and_complete);
	tcase_add_test(w, publish_creates_the_branch_in_the_source_and_nothing_else);
	tcase_add_test(w, publish_refuses_to_overwrite_a_branch_created_meanwhile);
	tcase_add_test(w, publish_refuses_the_branch_an_unborn_head_points_at);
	tcase_add_test(w, workspace_remove_deletes_the_run_and_keeps_the_mirror);
	tcase_add_test(c, concurrent_prepares_on_one_source_both_succeed);
	tcase_add_test(c, a_held_lock_times_out_with_a_clear_message);
	suite_add_tcase(s, p);
	suite_add_tcase(s, w);
	suite_add_tcase(s, c);
	suite_add_tcase(s, u);
	suite_add_tcase(s, t);
	suite_add_tcase(s, f);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(repo_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
