/*
 * The outbound gate (warden/outbound.h): the data policy and the secret
 * scan of everything about to be sent to a model.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "warden/beneath.h"
#include "warden/config.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/outbound.h"

/* At most this many findings of one text are ledgered one by one. */
#define LEDGER_HITS_MAX 200
#define IGNORE_LINE_MAX 1024
#define IGNORE_GLOBS_MAX 10000

const char *const wd_outbound_default_deny[] = {
	".env*", "*.pem", "*.key", "id_*", "*.p12", "*.pfx", "secrets/**", ".git/**", NULL
};

struct wd_outbound {
	wd_strvec deny;        /* globs as written, "/x" anchored */
	wd_strvec deny_from;   /* where each came from: "default", "data.deny", ".wardenignore" */
	wd_strvec *limits;     /* per chain element with allow globs: its globs */
	size_t nlimits, limits_cap;
	wd_strvec limit_names; /* the element each limit is for */
	char *root;            /* realpath of the checkout, or NULL */
	wd_ledger *ledger;
	size_t denied, redacted;
	wd_buf why;            /* the last deny reason */
};

/* ------------------------------------------------------------------ parsing */

int wd_outbound_parse_ignore(wd_strvec *out, const char *text, size_t len)
{
	size_t i = 0, globs = 0;
	int rc = 0;

	while (i < len && !rc && globs < IGNORE_GLOBS_MAX) {
		const char *s = text + i, *nl = memchr(s, '\n', len - i);
		size_t n = nl ? (size_t)(nl - s) : len - i;

		i += n + (nl ? 1 : 0);
		if (n > IGNORE_LINE_MAX || memchr(s, '\0', n))
			continue;
		while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		while (n && (s[0] == ' ' || s[0] == '\t')) {
			s++;
			n--;
		}
		if (n == 0 || s[0] == '#' || s[0] == '!')
			continue;
		if (n >= 2 && s[0] == '\\' && (s[1] == '#' || s[1] == '!')) {
			s++; /* "\#file": a name that starts with '#' */
			n--;
		}
		{
			wd_buf g = WD_BUF_INIT;

			rc = wd_buf_put(&g, s, n);
			while (!rc && g.len > 1 && g.ptr[g.len - 1] == '/' && g.ptr[g.len - 2] == '/')
				wd_buf_truncate(&g, g.len - 1);
			if (!rc && g.len && g.ptr[g.len - 1] == '/')
				rc = wd_buf_puts(&g, "**"); /* a directory: everything below it */
			if (!rc && g.len && strcmp(g.ptr, "/") != 0) {
				char *d = wd_buf_detach(&g);

				rc = d ? wd_strvec_push_owned(out, d) : WD_ENOMEM;
				globs++;
			}
			wd_buf_free(&g);
		}
	}
	return rc;
}

/* ------------------------------------------------------------------ matching */

/* `path` with "./", "//" and "." dropped and ".." applied; NULL when it
 * climbs above the root (the tools refuse those themselves). */
static char *normalise(const char *path)
{
	wd_buf b = WD_BUF_INIT;
	const char *p = path;

	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash;

			if (b.len == 0) {
				wd_buf_free(&b);
				return NULL;
			}
			slash = strrchr(b.ptr, '/');
			wd_buf_truncate(&b, slash ? (size_t)(slash - b.ptr) : 0);
		} else if ((b.len && wd_buf_putc(&b, '/')) || wd_buf_put(&b, p, n)) {
			wd_buf_free(&b);
			return NULL;
		}
		p += n + (e ? 1 : 0);
	}
	if (wd_buf_puts(&b, "") != 0) {
		wd_buf_free(&b);
		return NULL;
	}
	return wd_buf_detach(&b);
}

/* A deny glob: without '/', any component of the path; with one, from the
 * root ("/x" only there) or from any directory. */
static int deny_matches(const char *glob, const char *path)
{
	const char *slash = strchr(glob, '/');
	int m = 0;

	if (!slash) {
		const char *p = path;

		while (*p && !m) {
			const char *e = strchr(p, '/');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			char comp[4096];

			if (n < sizeof(comp)) {
				memcpy(comp, p, n);
				comp[n] = '\0';
				m = wd_glob_match(glob, comp);
			}
			p += n + (e ? 1 : 0);
		}
		return m;
	}
	if (glob[0] == '/')
		return wd_glob_match(glob + 1, path);
	if (wd_glob_match(glob, path))
		return 1;
	for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/'))
		if (wd_glob_match(glob, p + 1))
			return 1;
	return 0;
}

static int judge(const wd_outbound *ob, const char *path, const char **rule, wd_buf *why)
{
	for (size_t i = 0; i < ob->deny.n; i++)
		if (deny_matches(ob->deny.v[i], path)) {
			wd_buf_clear(why);
			wd_buf_printf(why, "%s (%s)", ob->deny.v[i], ob->deny_from.v[i]);
			*rule = wd_buf_cstr(why);
			return 0;
		}
	for (size_t l = 0; l < ob->nlimits; l++) {
		int ok = 0;

		for (size_t i = 0; i < ob->limits[l].n && !ok; i++)
			ok = wd_glob_match(ob->limits[l].v[i], path);
		if (!ok) {
			wd_buf_clear(why);
			wd_buf_printf(why, "not in data \"%s\" allow", ob->limit_names.v[l]);
			*rule = wd_buf_cstr(why);
			return 0;
		}
	}
	return 1;
}

int wd_outbound_path_allowed(const wd_outbound *ob, const char *path, const char **rule)
{
	wd_outbound *mob = (wd_outbound *)ob; /* only the reason buffer changes */
	const char *dummy;
	char *norm = normalise(path ? path : "");
	int ok;

	if (!rule)
		rule = &dummy;
	*rule = NULL;
	if (!norm) {
		*rule = "leads outside the repository";
		return 0;
	}
	ok = judge(ob, norm, rule, &mob->why);
	/* a link is judged by where it leads as well as by its name */
	if (ok && ob->root) {
		wd_buf abs = WD_BUF_INIT;
		char *real = NULL;
		size_t rl = strlen(ob->root);

		if (wd_path_join(&abs, ob->root, norm) == 0 && (real = wd_realpath(abs.ptr)) != NULL) {
			if (strncmp(real, ob->root, rl) == 0 && real[rl] == '/')
				ok = judge(ob, real + rl + 1, rule, &mob->why);
			else if (strcmp(real, ob->root) != 0) {
				*rule = "leads outside the repository";
				ok = 0;
			}
		}
		wd_error_clear();
		free(real);
		wd_buf_free(&abs);
	}
	free(norm);
	return ok;
}

/* ------------------------------------------------------------------ setup */

static int push_from(wd_outbound *ob, const char *glob, const char *from)
{
	int rc = wd_strvec_push(&ob->deny, glob);

	return rc ? rc : wd_strvec_push(&ob->deny_from, from);
}

/* The allow globs for one element of the model chain: [data "ELEMENT"], else
 * [data "PROVIDER"]. */
static int load_limit(wd_outbound *ob, const struct wd_config *cfg, const char *elem)
{
	wd_strvec globs = WD_STRVEC_INIT;
	wd_buf key = WD_BUF_INIT;
	const char *colon = strchr(elem, ':');
	int rc;

	if ((rc = wd_buf_printf(&key, "data.%s.allow", elem)) != 0 ||
	    (rc = wd_config_get_all(&globs, cfg, key.ptr)) != 0)
		goto out;
	if (globs.n == 0 && colon) {
		wd_buf_clear(&key);
		if ((rc = wd_buf_printf(&key, "data.%.*s.allow", (int)(colon - elem), elem)) != 0 ||
		    (rc = wd_config_get_all(&globs, cfg, key.ptr)) != 0)
			goto out;
	}
	if (globs.n == 0)
		goto out;
	if ((rc = WD_ARRAY_RESERVE(ob->limits, ob->limits_cap, ob->nlimits + 1, 4)) != 0)
		goto out;
	ob->limits[ob->nlimits++] = globs;
	memset(&globs, 0, sizeof(globs));
	rc = wd_strvec_push(&ob->limit_names, elem);
out:
	/* a key libgit2 cannot spell (a spec with odd bytes) is no allowance */
	if (rc == WD_EINPUT) {
		wd_error_clear();
		rc = 0;
	}
	wd_strvec_free(&globs);
	wd_buf_free(&key);
	return rc;
}

int wd_outbound_new(wd_outbound **out, const wd_outbound_opts *o)
{
	wd_outbound *ob = calloc(1, sizeof(*ob));
	wd_strvec user = WD_STRVEC_INIT, ignore = WD_STRVEC_INIT;
	int rc = 0;

	*out = NULL;
	if (!ob)
		return wd_error_set(WD_ENOMEM, "out of memory");
	ob->ledger = o->ledger;
	for (size_t i = 0; wd_outbound_default_deny[i] && !rc; i++)
		rc = push_from(ob, wd_outbound_default_deny[i], "default");
	if (!rc && o->cfg)
		rc = wd_config_get_all(&user, o->cfg, "data.deny");
	for (size_t i = 0; i < user.n && !rc; i++)
		rc = push_from(ob, user.v[i], "data.deny");
	if (!rc && o->ignore_text)
		rc = wd_outbound_parse_ignore(&ignore, o->ignore_text, o->ignore_len);
	for (size_t i = 0; i < ignore.n && !rc; i++)
		rc = push_from(ob, ignore.v[i], ".wardenignore");
	if (!rc && o->cfg && o->model_spec) {
		char *chain = wd_strdup(o->model_spec), *save = NULL;

		if (!chain)
			rc = WD_ENOMEM;
		for (char *e = chain ? strtok_r(chain, ",", &save) : NULL; e && !rc;
		     e = strtok_r(NULL, ",", &save))
			rc = load_limit(ob, o->cfg, e);
		free(chain);
	}
	if (!rc && o->root && !(ob->root = wd_realpath(o->root)))
		rc = wd_error_last_code() ? wd_error_last_code() : WD_EINFRA;
	wd_strvec_free(&user);
	wd_strvec_free(&ignore);
	if (rc) {
		wd_outbound_free(ob);
		return rc;
	}
	*out = ob;
	return 0;
}

void wd_outbound_free(wd_outbound *ob)
{
	if (!ob)
		return;
	wd_strvec_free(&ob->deny);
	wd_strvec_free(&ob->deny_from);
	for (size_t i = 0; i < ob->nlimits; i++)
		wd_strvec_free(&ob->limits[i]);
	free(ob->limits);
	wd_strvec_free(&ob->limit_names);
	wd_buf_free(&ob->why);
	free(ob->root);
	free(ob);
}

/* ------------------------------------------------------------------ the gate */

static void ledger_denied(wd_outbound *ob, const char *where, const char *path, const char *rule)
{
	ob->denied++;
	wd_ledger_add(ob->ledger, "outbound.denied",
	              json_pack("{s:s, s:s, s:s}", "where", where, "path", path, "rule",
	                        rule ? rule : ""));
}

int wd_outbound_filter(wd_outbound *ob, wd_strvec *files, const char *where, size_t *denied)
{
	size_t keep = 0, n = 0;

	for (size_t i = 0; i < files->n; i++) {
		const char *rule = NULL;

		if (wd_outbound_path_allowed(ob, files->v[i], &rule)) {
			files->v[keep++] = files->v[i];
			continue;
		}
		ledger_denied(ob, where, files->v[i], rule);
		free(files->v[i]);
		n++;
	}
	files->n = keep;
	if (files->v)
		files->v[keep] = NULL;
	if (denied)
		*denied = n;
	return 0;
}

int wd_outbound_tool_call(wd_outbound *ob, wd_buf *answer, const char *name, const char *args)
{
	json_t *a = json_loads(args ? args : "{}", 0, NULL);
	const char *path = json_string_value(json_object_get(a, "path"));
	const char *rule = NULL;
	int rc = 0;

	if (path && *path && !wd_outbound_path_allowed(ob, path, &rule)) {
		wd_buf_clear(answer);
		if (wd_buf_printf(answer, "denied by policy: %s may not be sent to the model\n",
		                  path) != 0)
			rc = WD_ENOMEM;
		else {
			ledger_denied(ob, name ? name : "tool", path, rule);
			rc = WD_EREFUSED;
		}
	}
	json_decref(a);
	return rc;
}

int wd_outbound_text(wd_outbound *ob, wd_buf *text, const char *where, size_t *found)
{
	wd_redact_hit *hits = NULL;
	size_t n = 0, line = 1, at = 0;
	int rc;

	if (found)
		*found = 0;
	if (!text->len)
		return 0;
	if ((rc = wd_redact_scan(&hits, &n, text->ptr, text->len)) != 0)
		return rc;
	for (size_t i = 0; i < n && i < LEDGER_HITS_MAX; i++) {
		for (; at < hits[i].offset && at < text->len; at++)
			line += text->ptr[at] == '\n';
		wd_ledger_add(ob->ledger, "outbound.redacted",
		              json_pack("{s:s, s:s, s:I}", "where", where, "rule", hits[i].rule,
		                        "line", (json_int_t)line));
	}
	if (n > LEDGER_HITS_MAX)
		wd_ledger_add(ob->ledger, "outbound.redacted",
		              json_pack("{s:s, s:I}", "where", where, "more",
		                        (json_int_t)(n - LEDGER_HITS_MAX)));
	free(hits);
	if (n && (rc = wd_redact_buf(text)) != 0)
		return rc;
	ob->redacted += n;
	if (found)
		*found = n;
	return 0;
}

int wd_outbound_chat_add(wd_outbound *ob, wd_chat *chat, wd_role role, const char *text,
                         const char *where)
{
	wd_buf b = WD_BUF_INIT;
	int rc;

	if ((rc = wd_buf_puts(&b, text ? text : "")) == 0 &&
	    (rc = wd_outbound_text(ob, &b, where, NULL)) == 0)
		rc = wd_chat_add(chat, role, wd_buf_cstr(&b));
	wd_buf_free(&b);
	return rc;
}

int wd_outbound_tool_result(wd_outbound *ob, wd_chat *chat, const char *call_id,
                            const char *text)
{
	wd_buf b = WD_BUF_INIT;
	int rc;

	if ((rc = wd_buf_puts(&b, text ? text : "")) == 0 &&
	    (rc = wd_outbound_text(ob, &b, "tool", NULL)) == 0)
		rc = wd_chat_add_tool_result(chat, call_id, wd_buf_cstr(&b));
	wd_buf_free(&b);
	return rc;
}

size_t wd_outbound_denied_count(const wd_outbound *ob)
{
	return ob ? ob->denied : 0;
}

size_t wd_outbound_redacted_count(const wd_outbound *ob)
{
	return ob ? ob->redacted : 0;
}
