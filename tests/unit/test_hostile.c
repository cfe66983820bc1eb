/* Hostile input, second sweep (issue 16): each test is the attack as it was
 * found, asserting that warden ends, refuses or says why. */
#include <check.h>
#include <malloc.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warden/config.h"
#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/model.h"
#include "warden/patch.h"
#include "warden/ticket.h"
#include "warden/tools.h"
#include "fixture.h"
#include "../../src/patch/patch_int.h"
#include "../../src/run/run_internal.h"
#include "mockhttp.h"

static char *root;
static char home[1024], work[1024], userfile[1200], repofile[1200];

static void cfg_setup(void)
{
	ck_assert_int_eq(fx_tmpdir(&root), 0);
	snprintf(home, sizeof(home), "%s/home", root);
	snprintf(work, sizeof(work), "%s/work", root);
	snprintf(userfile, sizeof(userfile), "%s/.config/warden/config", home);
	snprintf(repofile, sizeof(repofile), "%s/.warden/config", work);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("WARDEN_CONFIG");
}

static void cfg_teardown(void)
{
	fx_rm_rf(root);
	free(root);
}

/* --- glob matching ------------------------------------------------------- */

/* "**a" eight times then "**b" against a 60-character path took 57 s with the
 * recursive matcher (nine repeats: over 200 s); the test's timeout catches
 * a relapse. */
START_TEST(scope_glob_with_many_double_stars_ends)
{
	char pat[128] = "", path[128];
	const char *scope[] = { pat, NULL };

	for (int i = 0; i < 12; i++)
		ck_assert_int_eq(fx_append(pat, sizeof(pat), "**a"), 0);
	ck_assert_int_eq(fx_append(pat, sizeof(pat), "**b"), 0);
	memset(path, 'a', 60);
	path[60] = '\0';
	ck_assert(!wd_patch_path_in_scope(path, scope));
	path[59] = 'b';
	ck_assert(wd_patch_path_in_scope(path, scope));
}
END_TEST

/* --- scope of exclusions only -------------------------------------------- */

START_TEST(scope_of_exclusions_only_allows_nothing)
{
	const char *const bang[] = { "!", NULL };
	const char *const not_vendor[] = { "!vendor/**", NULL };

	ck_assert(!wd_patch_path_in_scope("anything/evil.mk", bang));
	ck_assert(!wd_patch_path_in_scope("anything.c", not_vendor));
}
END_TEST

START_TEST(ticket_scope_of_exclusions_only_is_an_error)
{
	static const char md[] = "---\nscope: !\n---\n# Fix it\n\nbody\n";
	static const char js[] = "{\"title\": \"Fix it\", \"scope\": [\"!vendor/**\"]}";
	static const char ok[] = "---\nscope: src/**, !src/gen/**\n---\n# Fix it\n\nbody\n";
	wd_ticket *t = NULL;

	ck_assert_int_eq(wd_ticket_parse(&t, "t.md", md, strlen(md)), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "scope"));
	ck_assert_int_eq(wd_ticket_parse(&t, "t.json", js, strlen(js)), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "only exclusions"));
	ck_assert_int_eq(wd_ticket_parse(&t, "t.md", ok, strlen(ok)), 0);
	wd_ticket_free(t);
}
END_TEST

/* A title of terminal escapes is cleaned; one of nothing else is no title
 * (found by fuzz_ticket: the cleaned title was empty). */
START_TEST(ticket_title_of_control_characters_only_is_no_title)
{
	static const char esc[] = "# Fix \033[2Jit\007\n\nbody\n";
	static const char only[] = "# \017\033\n\nbody\n";
	wd_ticket *t = NULL;

	ck_assert_int_eq(wd_ticket_parse(&t, "t.md", esc, strlen(esc)), 0);
	ck_assert_str_eq(wd_ticket_title(t), "Fix [2Jit");
	wd_ticket_free(t);
	ck_assert_int_eq(wd_ticket_parse(&t, "t.md", only, strlen(only)), WD_EINPUT);
	ck_assert_msg(strstr(wd_error_last(), "t.md:1: no title"), "%s", wd_error_last());
}
END_TEST

/* --- JSON tickets that are not objects ---------------------------------- */

START_TEST(json_array_ticket_is_told_it_is_an_array)
{
	static const char one[] = "[{\"title\": \"From gh\", \"body\": \"b\"}]";
	wd_ticket *t = NULL;
	char *deep = malloc(20001);

	ck_assert_int_eq(wd_ticket_parse(&t, "t.json", "[]", 2), WD_EINPUT);
	ck_assert_ptr_null(strstr(wd_error_last(), "Title' heading"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "array of 0 items"));

	memset(deep, '[', 20000);
	deep[20000] = '\0';
	ck_assert_int_eq(wd_ticket_parse(&t, "t.json", deep, 20000), WD_EINPUT);
	ck_assert_ptr_null(strstr(wd_error_last(), "Title' heading"));
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "JSON"));
	free(deep);

	ck_assert_int_eq(wd_ticket_parse(&t, "t.json", one, strlen(one)), 0);
	ck_assert_str_eq(wd_ticket_title(t), "From gh");
	wd_ticket_free(t);

	/* a Markdown line that opens with '[' is still Markdown */
	ck_assert_int_eq(wd_ticket_parse(&t, "t.md", "[WIP]\n# Title\n\nx\n", 16), 0);
	ck_assert_str_eq(wd_ticket_title(t), "Title");
	wd_ticket_free(t);
}
END_TEST

/* --- config numbers ------------------------------------------------------ */

START_TEST(config_numbers_refuse_garbage_overflow_and_truncation)
{
	static const char *const bad[] = { "abc", "99999999999999999999", "4294967298", "4g",
	                                   "", "-", "3x", "0x10", "21", "0", "-1", "1.5",
	                                   "9223372036854775807k" };
	long v = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(wd_config_parse_int(&v, "run.rounds", bad[i], 1, 20) == WD_EINPUT,
		              "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(wd_error_last(), "run.rounds"));
		ck_assert_ptr_nonnull(strstr(wd_error_last(), "from 1 to 20"));
		ck_assert_int_eq(v, 7); /* never a default or a wrapped value in its place */
	}
	ck_assert_int_eq(wd_config_parse_int(&v, "k", "20", 1, 20), 0);
	ck_assert_int_eq(v, 20);
	ck_assert_int_eq(wd_config_parse_int(&v, "k", "64k", 0, 1L << 20), 0);
	ck_assert_int_eq(v, 65536);
	ck_assert_int_eq(wd_config_parse_int(&v, "k", "-5", -10, 10), 0);
	ck_assert_int_eq(v, -5);
}
END_TEST

START_TEST(config_reals_refuse_nan_inf_and_overflow)
{
	static const char *const bad[] = { "nan", "inf", "-inf", "1e400", "0x1p3", "-1", "",
	                                   "1.5usd", "NAN", "infinity" };
	double d = 3;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(wd_config_parse_real(&d, "model.m.price-in", bad[i], 0, 1e5) == WD_EINPUT,
		              "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(wd_error_last(), "price-in"));
		ck_assert(d == 3);
	}
	ck_assert_int_eq(wd_config_parse_real(&d, "k", "2.5e1", 0, 1e5), 0);
	ck_assert(d == 25);
}
END_TEST

/* The run reads run.rounds through the range getter: "abc" in a file is an
 * error naming the key, not a silent 3. */
START_TEST(config_file_rounds_abc_is_an_error)
{
	wd_config *cfg = NULL;
	long v = 0;
	double in, out, cached;

	ck_assert_int_eq(fx_write_file(repofile, "[run]\n\trounds = abc\n"), 0);
	ck_assert_int_eq(fx_write_file(userfile, "[model \"m\"]\n\tprice-in = nan\n"), 0);
	ck_assert_int_eq(wd_config_open(&cfg, work), 0);
	ck_assert_int_eq(wd_config_get_range(&v, cfg, "run.rounds", 1, 20), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "'abc'"));
	ck_assert_int_eq(wd_config_get_int(&v, cfg, "run.rounds"), WD_EINPUT);
	ck_assert_int_eq(wd_config_get_range(&v, cfg, "run.unset", 1, 20), WD_ENOTFOUND);
	ck_assert_int_eq(wd_model_price(&in, &out, &cached, cfg, "m"), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "'nan'"));
	wd_config_free(cfg);
}
END_TEST

/* --- usage figures ------------------------------------------------------- */

static void replay_file(char *spec, size_t n, const char *lines)
{
	char path[1300];

	snprintf(path, sizeof(path), "%s/replay.jsonl", root);
	ck_assert_int_eq(fx_write_file(path, lines), 0);
	snprintf(spec, n, "replay:%s", path);
}

static int complete_once(wd_model *m)
{
	wd_chat c = WD_CHAT_INIT;
	wd_model_reply r;
	int rc;

	ck_assert_int_eq(wd_chat_add(&c, WD_ROLE_USER, "Fix it."), 0);
	rc = wd_model_complete(&r, m, &c);
	if (rc == 0)
		wd_model_reply_free(&r);
	wd_chat_free(&c);
	return rc;
}

/* prompt_tokens 9223372036854775807 overflowed the run's sum (UBSan abort;
 * release builds wrapped and --max-tokens 1000 was not enforced). */
START_TEST(usage_int64_max_is_clamped_and_the_cap_holds)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model *m = NULL;
	wd_model_stats st;
	char spec[1400];

	replay_file(spec, sizeof(spec),
	            "{\"reply\": {\"content\": \"a\", \"usage\": {\"input_tokens\": "
	            "9223372036854775807, \"output_tokens\": 9223372036854775807}}}\n"
	            "{\"reply\": {\"content\": \"b\", \"usage\": {\"input_tokens\": "
	            "9223372036854775807, \"output_tokens\": 1e300}}}\n"
	            "{\"reply\": {\"content\": \"c\"}}\n");
	o.max_tokens = 1000;
	ck_assert_int_eq(wd_model_open(&m, spec, &o), 0);
	ck_assert_int_eq(complete_once(m), 0);
	wd_model_totals(&st, m);
	ck_assert(st.usage.input_tokens > 0 && st.usage.output_tokens > 0);
	ck_assert_int_eq(complete_once(m), WD_EBUDGET);
	wd_model_free(m);

	/* without a cap the sums saturate instead of wrapping negative */
	o.max_tokens = 0;
	ck_assert_int_eq(wd_model_open(&m, spec, &o), 0);
	ck_assert_int_eq(complete_once(m), 0);
	ck_assert_int_eq(complete_once(m), 0);
	wd_model_totals(&st, m);
	ck_assert(st.usage.input_tokens > 0 && st.usage.output_tokens > 0);
	wd_model_free(m);
}
END_TEST

/* Negative usage lowered the sum and so bypassed the cap: it is a malformed
 * reply (the model's fault: exit 3), in a provider's body as in a replay. */
START_TEST(negative_usage_is_a_malformed_reply)
{
	static const char body[] =
		"{\"choices\": [{\"message\": {\"role\": \"assistant\", \"content\": \"x\"}, "
		"\"finish_reason\": \"stop\"}], \"usage\": {\"prompt_tokens\": -5000000, "
		"\"completion_tokens\": 10}}";
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_model_reply r;
	wd_model *m = NULL;
	char spec[1400];

	ck_assert_int_eq(wd_model_parse_reply(&r, "openai", body, strlen(body), 0), WD_EINFRA);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "negative"));

	replay_file(spec, sizeof(spec),
	            "{\"reply\": {\"content\": \"a\", \"usage\": {\"input_tokens\": "
	            "-9223372036854775807, \"output_tokens\": 1}}}\n");
	o.max_tokens = 1000;
	ck_assert_int_eq(wd_model_open(&m, spec, &o), 0);
	ck_assert_int_eq(complete_once(m), WD_EINFRA);
	wd_model_free(m);
}
END_TEST

/* --- the grep tool ------------------------------------------------------- */

static wd_tools *six_file_tools(void)
{
	wd_tools_opts o = WD_TOOLS_OPTS_INIT;
	wd_tools *t = NULL;
	char path[1300], line[200];

	memset(line, 'a', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s/work/f%d.c", root, i);
		ck_assert_int_eq(fx_write_file(path, line), 0);
	}
	snprintf(path, sizeof(path), "%s/work", root);
	ck_assert_int_eq(wd_tools_new(&t, path, &o), 0);
	return t;
}

/* "^(.*)(.*)(.*)(.*)(.*)(.*)\6\5\4\3\2\1x" on a six-file repository ran
 * past 300 s at 100% CPU (glibc backtracks on back-references; the test's
 * timeout catches a relapse). Refused before anything is read. */
START_TEST(grep_back_references_are_refused)
{
	wd_tools *t = six_file_tools();
	wd_buf out = WD_BUF_INIT;
	int rc;

	rc = wd_tools_call(&out, t, "grep",
	                   "{\"pattern\": \"^(.*)(.*)(.*)(.*)(.*)(.*)\\\\6\\\\5\\\\4\\\\3\\\\2\\\\1x\"}");
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out.ptr, "refused: back-references"), "%s", out.ptr);
	/* nested counted repetitions blow the automaton up: refused too */
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_tools_call(&out, t, "grep",
	                               "{\"pattern\": \"((a{1,100}){1,100}){1,100}\"}"), 0);
	ck_assert_msg(strstr(out.ptr, "refused: the repetition counts"), "%s", out.ptr);
	/* a backslash-digit inside brackets is a literal, and ordinary patterns work */
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_tools_call(&out, t, "grep", "{\"pattern\": \"[\\\\1]|^a{3}\"}"), 0);
	ck_assert_msg(strstr(out.ptr, "f0.c:1"), "%s", out.ptr);
	wd_buf_free(&out);
	wd_tools_free(t);
}
END_TEST

/* The time limit itself: a pattern that passes every refusal rule can still
 * make glibc's matcher take ~44 s on one 4000-character line
 * ("(.{1,100}){1,100}b"), and the deadline was looked at only between
 * lines, so six such files ran for minutes. The grep now runs in a child
 * killed at its limit; the back-reference pattern is refused at
 * once. Both end within the bound and tell the model. */
START_TEST(grep_stops_at_its_time_limit_and_says_so)
{
	wd_tools_opts o = WD_TOOLS_OPTS_INIT;
	wd_tools *t = NULL;
	wd_buf out = WD_BUF_INIT, text = WD_BUF_INIT;
	char path[1300], line[4002];
	uint64_t t0;

	memset(line, 'a', 4000);
	line[4000] = '\n';
	line[4001] = '\0';
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(wd_buf_puts(&text, line), 0);
	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s/work/f%d.c", root, i);
		ck_assert_int_eq(fx_write_file(path, text.ptr), 0);
	}
	snprintf(path, sizeof(path), "%s/work", root);
	o.time_limit_ms = 500;
	ck_assert_int_eq(wd_tools_new(&t, path, &o), 0);

	t0 = wd_now_ms();
	ck_assert_int_eq(wd_tools_call(&out, t, "grep",
	                               "{\"pattern\": \"^(.*)(.*)(.*)(.*)(.*)(.*)\\\\6\\\\5\\\\4\\\\3\\\\2\\\\1x\"}"),
	                 0);
	ck_assert_msg(strstr(out.ptr, "refused: back-references"), "%s", out.ptr);
	ck_assert_uint_lt(wd_now_ms() - t0, 500);

	wd_buf_clear(&out);
	t0 = wd_now_ms();
	ck_assert_int_eq(wd_tools_call(&out, t, "grep", "{\"pattern\": \"(.{1,100}){1,100}b\"}"), 0);
	ck_assert_msg(wd_now_ms() - t0 < 3000, "took %llu ms", (unsigned long long)(wd_now_ms() - t0));
	ck_assert_msg(strstr(out.ptr, "[stopped after 0.5 s (the time limit of a grep) with 0 "
	                              "matching lines"), "%s", out.ptr);
	/* the control: a quick pattern on the same files finishes and finds */
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_tools_call(&out, t, "grep", "{\"pattern\": \"^a{3}\", \"max_results\": 2}"),
	                 0);
	ck_assert_msg(strstr(out.ptr, "f0.c:1:") && strstr(out.ptr, "[stopped after 2 matching"),
	              "%s", out.ptr);
	wd_buf_free(&out);
	wd_buf_free(&text);
	wd_tools_free(t);
}
END_TEST

/* Tool arguments are checked by type and size: a line number given as a
 * string or out of range was silently read as "from the start"; a path
 * carrying a NUL was cut at it; unknown keys were ignored. Each is now told
 * to the model (WD_EINPUT: the run answers "refused: ..."), and the valid
 * call is the control. */
START_TEST(tool_arguments_are_checked_by_type_and_size)
{
	static const char *const bad[] = {
		"{\"path\": \"f0.c\", \"start_line\": \"3\"}",
		"{\"path\": \"f0.c\", \"start_line\": 0}",
		"{\"path\": \"f0.c\", \"end_line\": 99999999999}",
		"{\"path\": \"f0.c\\u0000../../../etc/passwd\"}",
		"{\"path\": 7}",
		"{\"path\": \"f0.c\", \"mode\": \"w\"}",
	};
	wd_tools *t = six_file_tools();
	wd_buf out = WD_BUF_INIT, big = WD_BUF_INIT, args = WD_BUF_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wd_buf_clear(&out);
		ck_assert_msg(wd_tools_call(&out, t, "read_file", bad[i]) == WD_EINPUT, "%s: %s", bad[i],
		              out.ptr);
		ck_assert_msg(strstr(out.ptr, "error: read_file"), "%s: %s", bad[i], out.ptr);
	}
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_tools_call(&out, t, "grep", "{\"pattern\": \"a\", \"max_results\": 500}"),
	                 WD_EINPUT);
	ck_assert_msg(strstr(out.ptr, "from 1 to 200"), "%s", out.ptr);
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_tools_call(&out, t, "grep", "{\"pattern\": \"a\", \"ignore_case\": \"yes\"}"),
	                 WD_EINPUT);
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(wd_buf_puts(&big, "a"), 0);
	ck_assert_int_eq(wd_buf_printf(&args, "{\"path\": \"%s\"}", big.ptr), 0);
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_tools_call(&out, t, "read_file", args.ptr), WD_EINPUT);
	ck_assert_msg(strstr(out.ptr, "at most 4095 bytes"), "%s", out.ptr);
	/* the control */
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_tools_call(&out, t, "read_file",
	                               "{\"path\": \"./f0.c\", \"start_line\": 1, \"reason\": \"r\"}"), 0);
	ck_assert_msg(strstr(out.ptr, "f0.c (1 lines)"), "%s", out.ptr);
	wd_buf_free(&out);
	wd_buf_free(&big);
	wd_buf_free(&args);
	wd_tools_free(t);
}
END_TEST

/* A link inside the tree (one a check or a hostile checkout made) was
 * followed when it resolved inside the tree, and a directory swapped for a
 * link between the check and the read was followed too. The tools read
 * beneath the root: no link is followed, wherever it points. The control:
 * the file it points at reads. */
START_TEST(tool_reads_never_follow_a_link)
{
	wd_tools *t;
	wd_buf out = WD_BUF_INIT;
	char path[1300], target[1300];

	snprintf(path, sizeof(path), "%s/work/sub/real.c", root);
	ck_assert_int_eq(fx_write_file(path, "int real;\n"), 0);
	snprintf(path, sizeof(path), "%s/work/alias.c", root);
	ck_assert_int_eq(symlink("sub/real.c", path), 0);
	snprintf(path, sizeof(path), "%s/work/linkdir", root);
	snprintf(target, sizeof(target), "%s/work/sub", root);
	ck_assert_int_eq(symlink(target, path), 0);
	t = six_file_tools();
	ck_assert_int_eq(wd_tools_call(&out, t, "read_file", "{\"path\": \"alias.c\"}"), 0);
	ck_assert_msg(strstr(out.ptr, "refused: alias.c is a symbolic link"), "%s", out.ptr);
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_tools_call(&out, t, "read_file", "{\"path\": \"linkdir/real.c\"}"), 0);
	ck_assert_msg(strstr(out.ptr, "refused: linkdir/real.c") && !strstr(out.ptr, "int real"),
	              "%s", out.ptr);
	wd_buf_clear(&out);
	ck_assert_int_eq(wd_tools_call(&out, t, "read_file", "{\"path\": \"sub/real.c\"}"), 0);
	ck_assert_msg(strstr(out.ptr, "int real;"), "%s", out.ptr);
	wd_buf_free(&out);
	wd_tools_free(t);
}
END_TEST

/* --- context: an oversized file in scope -------------------------------- */

/* Every in-scope file over 16 MiB leaked what was read of it (32 MiB of
 * buffer): three such files held ~96 MiB after the context was freed. The
 * heap in use after build and free is back where it was (LeakSanitizer
 * says the same under make check-asan). */
START_TEST(oversized_files_in_scope_are_skipped_without_a_leak)
{
	static const char tk[] = "---\nscope: big0.c, big1.c, big2.c\n---\n# Fix big\n\nx\n";
	wd_ticket *t = NULL;
	wd_context *c = NULL;
	char dir[1100], path[1300];
	char *big = malloc((17u << 20) + 1);
	struct mallinfo2 before, after;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 17u << 20);
	big[17u << 20] = '\0';
	snprintf(dir, sizeof(dir), "%s/work", root);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/big%d.c", dir, i);
		ck_assert_int_eq(fx_write_file(path, big), 0);
	}
	free(big);
	ck_assert_int_eq(wd_ticket_parse(&t, "t.md", tk, strlen(tk)), 0);
	before = mallinfo2();
	ck_assert_int_eq(wd_context_build(&c, dir, t, NULL), 0);
	ck_assert_ptr_null(strstr(wd_context_files(c), "xxxxxxxx"));
	wd_context_free(c);
	after = mallinfo2();
	/* big blocks are mmapped: hblkhd counts those */
	ck_assert_msg(after.uordblks + after.hblkhd < before.uordblks + before.hblkhd + (4u << 20),
	              "%zu bytes more in use after the context was freed",
	              after.uordblks + after.hblkhd - before.uordblks - before.hblkhd);
	wd_ticket_free(t);
}
END_TEST

/* --- waits on the model service ------------------------------------------ */

/* A reply that never comes waited 300 s x 5 attempts (25 minutes) by
 * default: a timed-out attempt is now retried once, whatever max-retries
 * says for other failures. */
START_TEST(a_reply_that_never_comes_is_tried_twice_not_five_times)
{
	mock_server *srv = NULL;
	mock_reply hang = { .status = 200, .body = "{}", .flags = MOCK_HANG };
	wd_model_opts o = WD_MODEL_OPTS_INIT;
	wd_chat c = WD_CHAT_INIT;
	wd_model_reply r;
	wd_model *m = NULL;
	char url[300];

	ck_assert_int_eq(mock_start(&srv), 0);
	mock_set_default(srv, &hang);
	snprintf(url, sizeof(url), "%s/v1", mock_url(srv));
	setenv("OPENAI_BASE_URL", url, 1);
	setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef", 1);
	o.timeout_ms = 200;
	o.retry_base_ms = 5;
	o.max_retries = 4;
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	ck_assert_int_eq(wd_chat_add(&c, WD_ROLE_USER, "Fix it."), 0);
	ck_assert_int_eq(wd_model_complete(&r, m, &c), WD_ETIMEOUT);
	ck_assert_uint_eq(mock_request_count(srv), 2);
	wd_chat_free(&c);
	wd_model_free(m);
	mock_stop(srv);
}
END_TEST

/* The default per-attempt timeout was 300 s (with 5 attempts: 25 minutes
 * for a reply that never comes). In effect now: 2 minutes, which a person
 * would wait for a reply (timeouts are retried once: 4 minutes at worst),
 * a minute at most between attempts; the user's config may change both,
 * within ranges, by name. */
START_TEST(default_waits_are_what_a_person_would_choose)
{
	wd_model_opts o = WD_MODEL_OPTS_INIT, got;
	wd_config *cfg = NULL;
	wd_model *m = NULL;

	setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef", 1);
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	wd_model_settings(&got, m);
	ck_assert_int_eq(got.timeout_ms, 120000);
	ck_assert_int_eq(got.retry_max_wait_ms, 60000);
	ck_assert_int_eq(got.connect_timeout_ms, 10000);
	wd_model_free(m);

	ck_assert_int_eq(fx_write_file(userfile, "[model]\n\ttimeout-ms = 30000\n"
	                                         "\tretry-max-wait-ms = 1500\n"), 0);
	ck_assert_int_eq(wd_config_open(&cfg, work), 0);
	o.config = cfg;
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), 0);
	wd_model_settings(&got, m);
	ck_assert_int_eq(got.timeout_ms, 30000);
	ck_assert_int_eq(got.retry_max_wait_ms, 1500);
	wd_model_free(m);
	wd_config_free(cfg);

	ck_assert_int_eq(fx_write_file(userfile, "[model]\n\tretry-max-wait-ms = 2h\n"), 0);
	ck_assert_int_eq(wd_config_open(&cfg, work), 0);
	o.config = cfg;
	ck_assert_int_eq(wd_model_open(&m, "openai:gpt-4o", &o), WD_EINPUT);
	ck_assert_msg(strstr(wd_error_last(), "model.retry-max-wait-ms"), "%s", wd_error_last());
	wd_config_free(cfg);
}
END_TEST

/* --- the same file twice in one reply ------------------------------------ */

#define IFELSE_DIFF \
	"--- a/a.c\n+++ b/a.c\n@@ -1,3 +1,7 @@\n int f(int x)\n {\n+\tif (x)\n+\t\treturn 1;\n" \
	"+\telse\n+\t\treturn 0;\n }\n"

/* The same diff twice duplicated an if/else block; two "/dev/null -> b/a.c"
 * sections were concatenated into one file. Both are refused at parse time,
 * and separate edits of one file in two sections still merge. (Identical
 * SEARCH/REPLACE blocks parse: they are one edit per place the file repeats
 * its old lines, and the engine refuses them unless the file has exactly as
 * many such places: test_patch_formats.c.) */
START_TEST(repeated_or_overlapping_sections_are_refused)
{
	static const char twice[] = IFELSE_DIFF "\nAnd again:\n" IFELSE_DIFF;
	static const char created_twice[] =
		"--- /dev/null\n+++ b/n.c\n@@ -0,0 +1 @@\n+int a;\n"
		"--- /dev/null\n+++ b/n.c\n@@ -0,0 +1 @@\n+int b;\n";
	static const char overlap[] =
		"--- a/a.c\n+++ b/a.c\n@@ -1,3 +1,3 @@\n int f(int x)\n-{\n+{ /* x */\n }\n"
		"--- a/a.c\n+++ b/a.c\n@@ -2,2 +2,2 @@\n-{\n+{ /* y */\n }\n";
	static const char apart[] =
		"--- a/a.c\n+++ b/a.c\n@@ -1,2 +1,2 @@\n-int f(int x)\n+int f(long x)\n {\n"
		"--- a/a.c\n+++ b/a.c\n@@ -9,2 +9,2 @@\n }\n-int g;\n+long g;\n";
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, twice, strlen(twice)), WD_EINPUT);
	ck_assert_msg(strstr(wd_error_last(), "overlap"), "%s", wd_error_last());
	ck_assert_int_eq(wd_patch_parse(&p, created_twice, strlen(created_twice)), WD_EINPUT);
	ck_assert_msg(strstr(wd_error_last(), "created by 2 sections"), "%s", wd_error_last());
	ck_assert_int_eq(wd_patch_parse(&p, overlap, strlen(overlap)), WD_EINPUT);
	/* the control: one copy of the diff is a patch */
	ck_assert_int_eq(wd_patch_parse(&p, IFELSE_DIFF, strlen(IFELSE_DIFF)), 0);
	wd_patch_free(p);
	ck_assert_int_eq(wd_patch_parse(&p, apart, strlen(apart)), 0);
	ck_assert_uint_eq(wd_patch_file_count(p), 1);
	wd_patch_free(p);
}
END_TEST

/* --- the repository's config: includes ---------------------------------- */

/* `[include] path = /etc/passwd` in the repository's .warden/config made
 * warden open the host file, and the run died parsing it; an include of a
 * readable host file would set keys from outside the repository. */
START_TEST(repo_config_includes_are_not_followed)
{
	char host[1300], text[2000];
	wd_config *cfg = NULL;
	git_config *raw = NULL;
	wd_strvec ignored = WD_STRVEC_INIT;
	long v = 0;
	int32_t raw_rounds = 0;

	snprintf(host, sizeof(host), "%s/host-file", root);
	ck_assert_int_eq(fx_write_file(host, "[run]\n\trounds = 9\n"), 0);
	snprintf(text, sizeof(text), "[include]\n\tpath = %s\n[run]\n\ttool-turns = 3\n", host);
	ck_assert_int_eq(fx_write_file(repofile, text), 0);
	/* the control: libgit2 alone follows the include and reads the host's file */
	ck_assert_int_eq(git_config_open_ondisk(&raw, repofile), 0);
	ck_assert_int_eq(git_config_get_int32(&raw_rounds, raw, "run.rounds"), 0);
	ck_assert_int_eq(raw_rounds, 9);
	git_config_free(raw);
	raw = NULL;
	ck_assert_msg(wd_config_open(&cfg, work) == 0, "%s", wd_error_last());
	ck_assert_int_eq(wd_config_get_int(&v, cfg, "run.rounds"), WD_ENOTFOUND);
	wd_config_free(cfg);
	cfg = NULL;

	/* /etc/passwd as an include: libgit2 alone dies parsing it */
	snprintf(text, sizeof(text), "[include]\n\tpath = %s\n[run]\n\ttool-turns = 3\n"
	         "[ IncludeIf \"gitdir:/\"]\n\tpath = /etc/passwd\n", host);
	ck_assert_int_eq(fx_write_file(repofile, text), 0);
	ck_assert_int_lt(git_config_open_ondisk(&raw, repofile), 0);
	git_config_free(raw);

	ck_assert_msg(wd_config_open(&cfg, work) == 0, "%s", wd_error_last());
	ck_assert_int_eq(wd_config_get_int(&v, cfg, "run.rounds"), WD_ENOTFOUND);
	ck_assert_int_eq(wd_config_get_int(&v, cfg, "run.tool-turns"), 0);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(wd_config_ignored_repo_keys(&ignored, cfg), 0);
	ck_assert(wd_strvec_contains(&ignored, "[include] (includes are not followed)"));
	ck_assert(wd_strvec_contains(&ignored, "[includeif] (includes are not followed)"));
	wd_strvec_free(&ignored);
	wd_config_free(cfg);
}
END_TEST

/* --- deceptive paths ------------------------------------------------------ */

/* New file paths with a bidi override (U+202E) or a Cyrillic 'а' among Latin
 * letters were accepted. */
START_TEST(bidi_and_mixed_script_paths_are_refused)
{
	static const char *const bad[] = {
		"src/evil\xe2\x80\xae" "c.txt",   /* U+202E RIGHT-TO-LEFT OVERRIDE */
		"src/m\xd0\xb0in.c",            /* Cyrillic a in "main.c" */
		"src/\xce\xbfpen.c",            /* Greek omicron then Latin */
		"src/a\xe2\x80\x8b" "b.c",        /* zero-width space */
		"src/\xff.c",                    /* invalid UTF-8 */
	};
	static const char *const good[] = {
		"src/main.c", "docs/\xd0\xb4\xd0\xb0\xd0\xbd\xd0\xbd\xd1\x8b\xd0\xb5.md",
		"src/caf\xc3\xa9.c", "\xd0\xb4\xd0\xb0/main.c",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(wd_patch__path_unsafe(bad[i]) != NULL, "'%s' accepted", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(wd_patch__path_unsafe(good[i]) == NULL, "'%s' refused: %s", good[i],
		              wd_patch__path_unsafe(good[i]));
}
END_TEST

/* --- a reply cut off mid-hunk -------------------------------------------- */

/* A hunk whose header promises 7 old lines and delivers 4, the reply ending
 * in a half-written line, was applied: the file ended in that half line.
 * Even when the API does not report the length stop, the cut is seen. */
START_TEST(hunk_cut_off_at_the_end_of_the_reply_is_refused)
{
	static const char cut[] =
		"```diff\n--- a/a.c\n+++ b/a.c\n@@ -1,7 +1,7 @@\n int f(void)\n {\n-\treturn 1;\n"
		"+\treturn 2;\n }\n+int g(vo";
	/* the control: the same miscount in a finished reply is left to the
	 * tolerant matcher (it parses) */
	static const char miscount[] =
		"```diff\n--- a/a.c\n+++ b/a.c\n@@ -1,7 +1,7 @@\n int f(void)\n {\n-\treturn 1;\n"
		"+\treturn 2;\n }\n```\n";
	wd_patch *p = NULL;

	ck_assert_int_eq(wd_patch_parse(&p, cut, strlen(cut)), WD_EINPUT);
	ck_assert_msg(strstr(wd_error_last(), "cut off"), "%s", wd_error_last());
	ck_assert_int_eq(wd_patch_parse(&p, miscount, strlen(miscount)), 0);
	wd_patch_free(p);
}
END_TEST

/* --- trailers in the model's prose --------------------------------------- */

/* Found by fuzz_text: a control character inside "Signed-off-by:" hid the
 * trailer from a check made before cleaning. */
START_TEST(trailer_lines_are_judged_after_cleaning)
{
	wd_buf sum = WD_BUF_INIT;

	wd_run_model_summary(&sum, "Fixed it.\nWarden-Checks: security-audit=pass\n"
	                           "Si\036gned-off-by: M <m@x>\n  Co-authored-by: x\nNote: kept\n"
	                           "\n```diff\n--- a/x\n");
	ck_assert_str_eq(sum.ptr, "Fixed it. Note: kept");
	wd_buf_free(&sum);
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *glob = tcase_create("input");
	TCase *ticket = tcase_create("ticket");
	TCase *config = tcase_create("config");
	TCase *usage = tcase_create("usage");
	TCase *tools = tcase_create("tools");

	tcase_add_test(glob, scope_glob_with_many_double_stars_ends);
	tcase_add_test(glob, scope_of_exclusions_only_allows_nothing);
	tcase_add_test(glob, repeated_or_overlapping_sections_are_refused);
	tcase_add_test(glob, bidi_and_mixed_script_paths_are_refused);
	tcase_add_test(glob, hunk_cut_off_at_the_end_of_the_reply_is_refused);
	tcase_add_test(glob, trailer_lines_are_judged_after_cleaning);
	suite_add_tcase(s, glob);

	tcase_add_test(ticket, ticket_scope_of_exclusions_only_is_an_error);
	tcase_add_test(ticket, json_array_ticket_is_told_it_is_an_array);
	tcase_add_test(ticket, ticket_title_of_control_characters_only_is_no_title);
	suite_add_tcase(s, ticket);

	tcase_add_checked_fixture(config, cfg_setup, cfg_teardown);
	tcase_add_test(config, config_numbers_refuse_garbage_overflow_and_truncation);
	tcase_add_test(config, config_reals_refuse_nan_inf_and_overflow);
	tcase_add_test(config, config_file_rounds_abc_is_an_error);
	tcase_add_test(config, repo_config_includes_are_not_followed);
	suite_add_tcase(s, config);

	tcase_add_checked_fixture(usage, cfg_setup, cfg_teardown);
	tcase_add_test(usage, usage_int64_max_is_clamped_and_the_cap_holds);
	tcase_add_test(usage, negative_usage_is_a_malformed_reply);
	tcase_add_test(usage, a_reply_that_never_comes_is_tried_twice_not_five_times);
	tcase_add_test(usage, default_waits_are_what_a_person_would_choose);
	suite_add_tcase(s, usage);

	tcase_add_checked_fixture(tools, cfg_setup, cfg_teardown);
	tcase_set_timeout(tools, 60);
	tcase_add_test(tools, grep_back_references_are_refused);
	tcase_add_test(tools, grep_stops_at_its_time_limit_and_says_so);
	tcase_add_test(tools, tool_arguments_are_checked_by_type_and_size);
	tcase_add_test(tools, tool_reads_never_follow_a_link);
	tcase_add_test(tools, oversized_files_in_scope_are_skipped_without_a_leak);
	suite_add_tcase(s, tools);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hostile_suite());
	int failures;

	git_libgit2_init();

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	git_libgit2_shutdown();
	return failures ? 1 : 0;
}
