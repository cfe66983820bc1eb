#ifndef WARDEN_TEST_E2E_H
#define WARDEN_TEST_E2E_H

/*
 * End-to-end helpers for tests that run the real `warden` binary: a scratch
 * world (the user's repository made with libgit2, a ticket, a cache), replay
 * files, the run itself with its --json result parsed, and the assertions
 * every such test makes (the user's checkout unchanged, the proposal as
 * expected). Check assertions abort the test on failure.
 */
#include <check.h>
#include <jansson.h>

/* The binary under test ($WARDEN_BIN, else ./build/warden) and the source
 * tree ($WARDEN_SRC, else "."). */
const char *e2e_warden_bin(void);
const char *e2e_src_root(void);

struct e2e_world {
	char *tmp;
	char src[512];
	char ticket[512];
	char cache[512];
	char replay[512];
	char *before;       /* snapshot of the user's repository */
	char *before_pub;   /* the same without what publishing may add */
	char *output;       /* warden's stdout+stderr */
	int status;
	json_t *result;     /* the --json object */
};

/* The default fixture: value.txt says 41, test.sh wants 42, other.txt is
 * left alone. DIFF_TO(n) is a diff that sets it to n. */
extern const char *const e2e_fixture_files[];
#define E2E_DIFF_TO(n) \
	"--- a/value.txt\n+++ b/value.txt\n@@ -1 +1 @@\n-answer = 41\n+answer = " #n "\n"

/* A world whose repository holds `files` (NULL = the default fixture) and
 * whose ticket has `ticket_header` (NULL = "scope: value.txt\nchecks: sh test.sh\n"). */
void e2e_world_init(struct e2e_world *w, const char *const *files, const char *ticket_header);
void e2e_world_free(struct e2e_world *w);

/* Write w->replay with one reply per argument (NULL-terminated). */
void e2e_write_replay(struct e2e_world *w, ...);

/* Run `warden run --repo --ticket --work-dir --json` plus the NULL-terminated
 * extra arguments, with `env` added ("K=V", NULL-terminated, may be NULL);
 * sets w->status, w->output and w->result (the JSON line). */
void e2e_run(struct e2e_world *w, const char *const *env, ...);

/* A string field of the result, "" when absent. */
const char *e2e_str(struct e2e_world *w, const char *key);

/* The user's repository is as before the run (allow_publish: but for what
 * publishing adds: objects, the proposal ref and the evidence note). */
void e2e_assert_user_repo_unchanged(struct e2e_world *w, int allow_publish);
/* How many warden/ branches the repository at `path` has. */
int e2e_count_warden_refs(const char *path);

/* The content of `path` in the tree of the commit `hex` of the repository
 * at `repo_path` (malloc'd; NULL when absent). */
char *e2e_blob_at(const char *repo_path, const char *hex, const char *path);

/* The main of an end-to-end test binary: libgit2 initialised around running
 * suite `s` (taken over); 1 when a test failed, else 0. */
int e2e_main(Suite *s);

#endif
