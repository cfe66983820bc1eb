/*
 * `warden report RUN --html FILE`: one self-contained page. The page is
 * checked as text (no network asset, no script, everything escaped), then
 * rendered in headless Chromium (Debian's `chromium`, started here): its
 * rendered text is checked and a screenshot is kept as a test artefact
 * ($WARDEN_ARTIFACTS, else build/test-artifacts/report.png).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "e2e.h"
#include "fixture.h"

/* The ticket carries markup: it must come out as text. */
#define HOSTILE "<script>alert(1)</script><img src=http://evil.example/x.png>"

static void proposed_run(struct e2e_world *w)
{
	char spec[600];

	e2e_world_init(w, NULL, NULL);
	ck_assert_int_eq(fx_write_file(w->ticket, "---\nscope: value.txt\nchecks: sh test.sh\n---\n"
	                                          "# Make the answer right\n\nvalue.txt must say 42. "
	                                          HOSTILE "\n"), 0);
	e2e_write_replay(w, "Set it to 43.\n```diff\n" E2E_DIFF_TO(43) "```\n",
	                 "Oops, 42.\n```diff\n" E2E_DIFF_TO(42) "```\n", (char *)NULL);
	snprintf(spec, sizeof(spec), "replay:%s", w->replay);
	e2e_run(w, NULL, "--model", spec, (char *)NULL);
	ck_assert_msg(w->status == 0, "exit %d:\n%s", w->status, w->output);
}

static char *report(struct e2e_world *w, const char *html, int *status)
{
	const char *argv[] = { e2e_warden_bin(), "report", e2e_str(w, "run_id"), "--html", html,
	                       "--work-dir", w->cache, NULL };
	char *out = NULL;

	ck_assert_int_eq(fx_run(&out, status, argv, NULL, w->tmp), 0);
	return out;
}

START_TEST(the_page_is_self_contained_and_tells_the_run)
{
	struct e2e_world w;
	char html[700], *out, *page = NULL;
	int status;

	proposed_run(&w);
	snprintf(html, sizeof(html), "%s/report.html", w.tmp);
	out = report(&w, html, &status);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	free(out);
	ck_assert_int_eq(fx_read_file(&page, html), 0);
	/* no network asset, no script: the ticket's markup is text */
	ck_assert_ptr_null(strstr(page, "<script"));
	ck_assert_ptr_null(strstr(page, "<img"));
	ck_assert_ptr_null(strstr(page, "<link"));
	ck_assert_ptr_null(strstr(page, "<iframe"));
	ck_assert_ptr_null(strstr(page, "url("));
	ck_assert_ptr_null(strstr(page, "@import"));
	ck_assert_ptr_nonnull(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=http"));
	ck_assert_ptr_nonnull(strstr(page, "Content-Security-Policy"));
	/* what a reviewer needs */
	ck_assert_ptr_nonnull(strstr(page, "Make the answer right"));
	ck_assert_ptr_nonnull(strstr(page, "value.txt must say 42."));
	ck_assert_ptr_nonnull(strstr(page, "round 1: check &#39;test&#39; failed"));
	ck_assert_ptr_nonnull(strstr(page, "FAIL answer: expected 42, got answer = 43"));
	ck_assert_ptr_nonnull(strstr(page, "<span class=\"add\">+"));
	ck_assert_ptr_nonnull(strstr(page, "<span class=\"del\">-"));
	ck_assert_ptr_nonnull(strstr(page, "replay-test"));
	/* what the model said with each patch, beside its call */
	ck_assert_ptr_nonnull(strstr(page, "class=\"said\">Set it to 43."));
	ck_assert_ptr_nonnull(strstr(page, "proposed"));
	free(page);
	/* bad input: a clear message, nothing written */
	out = report(&w, w.tmp, &status);
	ck_assert_int_eq(status, 2);
	ck_assert_ptr_nonnull(strstr(out, "is a directory"));
	free(out);
	e2e_world_free(&w);
}
END_TEST

static int have_chromium(void)
{
	return access("/usr/bin/chromium", X_OK) == 0;
}

START_TEST(chromium_renders_it_and_a_screenshot_is_kept)
{
	struct e2e_world w;
	char html[700], url[800], shot[1100], dir[1000], *out, *dom = NULL;
	const char *art = getenv("WARDEN_ARTIFACTS");
	int status;
	struct stat sb;

	if (!have_chromium()) {
		/* reported, not hidden: the render needs Debian's chromium */
		fprintf(stderr, "test_report: SKIP chromium render: /usr/bin/chromium is not installed "
		                "(apt-get install chromium)\n");
		return;
	}
	proposed_run(&w);
	snprintf(html, sizeof(html), "%s/report.html", w.tmp);
	out = report(&w, html, &status);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	free(out);
	snprintf(url, sizeof(url), "file://%s", html);
	snprintf(dir, sizeof(dir), "%s", art && *art ? art : "build/test-artifacts");
	if (dir[0] != '/') {
		char rel[400];

		snprintf(rel, sizeof(rel), "%.399s", dir);
		snprintf(dir, sizeof(dir), "%.500s/%s", e2e_src_root(), rel);
	}
	mkdir(dir, 0755);
	snprintf(shot, sizeof(shot), "%s/report.png", dir);
	unlink(shot);
	{
		/* the rendered DOM: what the page shows once a browser has it */
		const char *argv[] = { "/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
		                       "--no-first-run", "--user-data-dir=chromium-profile",
		                       "--dump-dom", url, NULL };

		ck_assert_int_eq(fx_run(&dom, &status, argv, NULL, w.tmp), 0);
		ck_assert_msg(status == 0, "chromium exit %d:\n%s", status, dom);
		ck_assert_ptr_nonnull(strstr(dom, "Make the answer right"));
		ck_assert_ptr_nonnull(strstr(dom, "FAIL answer: expected 42"));
		/* the model's markup stayed text: no element was made of it */
		ck_assert_ptr_null(strstr(dom, "<script>alert(1)"));
		ck_assert_ptr_null(strstr(dom, "<img"));
		ck_assert_ptr_nonnull(strstr(dom, "&lt;script&gt;alert(1)&lt;/script&gt;"));
		free(dom);
	}
	{
		char arg[1200];
		const char *argv[] = { "/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
		                       "--no-first-run", "--user-data-dir=chromium-profile",
		                       "--hide-scrollbars", "--window-size=1200,1800", arg, url, NULL };

		snprintf(arg, sizeof(arg), "--screenshot=%s", shot);
		ck_assert_int_eq(fx_run(&out, &status, argv, NULL, w.tmp), 0);
		ck_assert_msg(status == 0, "chromium exit %d:\n%s", status, out);
		free(out);
	}
	ck_assert_int_eq(stat(shot, &sb), 0);
	ck_assert_int_gt(sb.st_size, 10000);
	fprintf(stderr, "test_report: screenshot kept at %s\n", shot);
	e2e_world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, the_page_is_self_contained_and_tells_the_run);
	tcase_add_test(tc, chromium_renders_it_and_a_screenshot_is_kept);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
