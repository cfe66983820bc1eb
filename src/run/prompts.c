#include <stdio.h>
#include <string.h>

#include "warden/prompt.h"

#include "warden/error.h"
#include "warden/fs.h"

#include "run_internal.h"

static int join_scope(wd_buf *out, const wd_ticket *t)
{
	const wd_strvec *scope = wd_ticket_scope(t);

	if (scope->n == 0)
		return wd_buf_puts(out, "  (the ticket names no scope: keep the change minimal)");
	for (size_t i = 0; i < scope->n; i++)
		if (wd_buf_printf(out, "%s  - %s", i ? "\n" : "", scope->v[i]))
			return WD_ENOMEM;
	return 0;
}

static int format_template_exists(const char *name)
{
	wd_buf p = WD_BUF_INIT;
	int e;

	if (!wd_prompt_dir() || wd_buf_printf(&p, "%s/%s.md", wd_prompt_dir(), name) != 0) {
		wd_buf_free(&p);
		return 1; /* let the render say what is wrong */
	}
	e = wd_path_exists(p.ptr);
	wd_buf_free(&p);
	return e;
}

int wd_run_render_system(wd_buf *out, const wd_ticket *t, const char *format, char *hash_out)
{
	wd_buf scope = WD_BUF_INIT, fmt = WD_BUF_INIT;
	char name[64];
	int rc = join_scope(&scope, t);

	snprintf(name, sizeof(name), "format_%s", format);
	for (char *c = name; *c; c++)
		if (*c == '-')
			*c = '_';
	if (!rc && format_template_exists(name))
		rc = wd_prompt_render(&fmt, name, NULL, NULL);
	else if (!rc) /* a prompts directory of the user's from before the formats */
		rc = wd_buf_printf(&fmt, "- Write the edit as %s.", wd_run_edit_format_phrase(format));
	if (!rc) {
		const char *vars[] = { "scope", scope.ptr, "format", fmt.ptr, NULL };

		rc = wd_prompt_render(out, "system", vars, hash_out);
	}
	wd_buf_free(&scope);
	wd_buf_free(&fmt);
	return rc;
}

static int feedback_text(wd_buf *out, wd_strvec *used, const wd_ticket *t, const char *cache_dir)
{
	wd_buf list = WD_BUF_INIT;
	int rc = wd_run_review_feedback(&list, used, cache_dir, wd_ticket_id(t));

	if (!rc && list.len) {
		const char *vars[] = { "reasons", list.ptr, NULL };

		rc = wd_prompt_render(out, "feedback", vars, NULL);
	}
	wd_buf_free(&list);
	return rc;
}

int wd_run_render_task(wd_buf *out, wd_strvec *used, const wd_ticket *t, const wd_context *ctx,
                       const wd_checklist *checks, const char *cache_dir, char *hash_out)
{
	wd_buf chk = WD_BUF_INIT, fb = WD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < checks->n && !rc; i++)
		rc = wd_buf_printf(&chk, "- %s: `%s`\n", wd_check_kind_name(checks->v[i].kind),
		                   checks->v[i].command);
	if (!rc)
		rc = feedback_text(&fb, used, t, cache_dir);
	if (!rc) {
		const char *agents = wd_context_agents(ctx), *map = wd_context_map(ctx);
		const char *files = wd_context_files(ctx);
		const char *vars[] = {
			"title", wd_ticket_title(t),
			"body", wd_ticket_body(t),
			"agents", *agents ? agents : "(none)",
			"listing", wd_context_listing(ctx),
			"map", *map ? map : "(not available)",
			"files", *files ? files : "(none selected)",
			"checks", wd_buf_cstr(&chk),
			"feedback", wd_buf_cstr(&fb),
			NULL
		};

		rc = wd_prompt_render(out, "task", vars, hash_out);
	}
	wd_buf_free(&chk);
	wd_buf_free(&fb);
	return rc;
}

/* A follow-up round's prompt: `template` with the round, `name` = `text`,
 * and the edit format's phrase. */
static int render_round(wd_buf *out, const char *template, int round, const char *name,
                        const char *text, const char *format)
{
	char r[16];
	const char *vars[] = { "round", r, name, text, "format", wd_run_edit_format_phrase(format),
		               NULL };

	snprintf(r, sizeof(r), "%d", round);
	wd_buf_clear(out);
	return wd_prompt_render(out, template, vars, NULL);
}

int wd_run_render_repair(wd_buf *out, int round, const char *failures, const char *format)
{
	return render_round(out, "repair", round, "failures", failures, format);
}

int wd_run_render_no_patch(wd_buf *out, int round, const char *reason, const char *format)
{
	return render_round(out, "no_patch", round, "reason", reason, format);
}
