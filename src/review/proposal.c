/* The proposal store: one JSON record per proposal under <cache>/proposals. */
#include <dirent.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "warden/proposal.h"

#define RECORD_MAX (4u << 20) /* a record is small; anything bigger is not ours */

int wd_proposal_new(wd_proposal **out)
{
	wd_proposal *p;
	wd_buf user = WD_BUF_INIT;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return wd_error_set(WD_ENOMEM, "out of memory");
	p->status = WD_PROPOSAL_OPEN;
	wd_now_iso(p->created);
	if (wd_review_current_user(&user) == 0)
		p->user = wd_buf_detach(&user);
	wd_buf_free(&user);
	*out = p;
	return 0;
}

void wd_proposal_free(wd_proposal *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->ticket_title);
	free(p->ticket_id);
	free(p->ticket_path);
	free(p->source);
	free(p->repo);
	free(p->branch);
	free(p->target);
	free(p->model);
	free(p->checks);
	free(p->evidence);
	free(p->ledger_path);
	free(p->user);
	free(p->reason);
	free(p->decided_by);
	free(p->pushed_to);
	free(p->pr_url);
	free(p);
}

const char *wd_proposal_status_name(wd_proposal_status s)
{
	switch (s) {
	case WD_PROPOSAL_OPEN: return "open";
	case WD_PROPOSAL_APPROVED: return "approved";
	case WD_PROPOSAL_REJECTED: return "rejected";
	}
	return "unknown";
}

static int status_from_name(wd_proposal_status *out, const char *s)
{
	if (!strcmp(s, "open"))
		*out = WD_PROPOSAL_OPEN;
	else if (!strcmp(s, "approved"))
		*out = WD_PROPOSAL_APPROVED;
	else if (!strcmp(s, "rejected"))
		*out = WD_PROPOSAL_REJECTED;
	else
		return -1;
	return 0;
}

int wd_review_current_user(wd_buf *out)
{
	const char *v = getenv("WARDEN_USER");
	struct passwd pw, *res = NULL;
	char scratch[4096];

	wd_buf_clear(out);
	if (v && *v)
		return wd_buf_puts(out, v);
	if (getpwuid_r(geteuid(), &pw, scratch, sizeof(scratch), &res) == 0 && res && res->pw_name)
		return wd_buf_puts(out, res->pw_name);
	return wd_buf_printf(out, "uid-%u", (unsigned)geteuid());
}

/* An id becomes a file name: keep it to a safe alphabet, no leading dot. */
static int id_is_safe(const char *id)
{
	if (!id || !*id || id[0] == '.' || strlen(id) > 128)
		return 0;
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-'))
			return 0;
	return 1;
}

static int is_hex_oid(const char *s)
{
	if (strlen(s) != 40)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* Set key to a string, or to null when the value is NULL or empty. */
static int put_str(json_t *o, const char *key, const char *v)
{
	return json_object_set_new(o, key, v && *v ? json_string(v) : json_null());
}

json_t *wd_proposal_to_json(const wd_proposal *p)
{
	json_t *o = json_object();
	int bad = 0;

	if (!o)
		return NULL;
	bad |= json_object_set_new(o, "version", json_integer(1));
	bad |= put_str(o, "id", p->id);
	bad |= put_str(o, "status", wd_proposal_status_name(p->status));
	bad |= put_str(o, "ticket_title", p->ticket_title);
	bad |= put_str(o, "ticket_id", p->ticket_id);
	bad |= put_str(o, "ticket_path", p->ticket_path);
	bad |= put_str(o, "source", p->source);
	bad |= put_str(o, "repo", p->repo);
	bad |= put_str(o, "branch", p->branch);
	bad |= put_str(o, "target", p->target);
	bad |= put_str(o, "base", p->base);
	bad |= put_str(o, "commit", p->commit);
	bad |= put_str(o, "model", p->model);
	bad |= put_str(o, "checks", p->checks);
	bad |= put_str(o, "evidence", p->evidence);
	bad |= put_str(o, "ledger", p->ledger_path);
	bad |= put_str(o, "user", p->user);
	bad |= json_object_set_new(o, "rounds", json_integer(p->rounds));
	bad |= json_object_set_new(o, "input_tokens", json_integer(p->input_tokens));
	bad |= json_object_set_new(o, "output_tokens", json_integer(p->output_tokens));
	bad |= json_object_set_new(o, "cost_usd", json_real(p->cost_usd));
	bad |= put_str(o, "created", p->created);
	bad |= put_str(o, "reason", p->reason);
	bad |= put_str(o, "decided_by", p->decided_by);
	bad |= put_str(o, "decided", p->decided);
	bad |= put_str(o, "merged", p->merged);
	bad |= put_str(o, "pushed_to", p->pushed_to);
	bad |= put_str(o, "pr_url", p->pr_url);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Copy an optional string field; a present field of another type is an error. */
static int get_str(char **out, const json_t *obj, const char *key, const char *name)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return wd_error_set(WD_EINPUT, "%s: \"%s\" is not a string", name, key);
	*out = wd_strdup(json_string_value(v));
	return *out ? 0 : WD_ENOMEM;
}

static int get_fixed(char *out, size_t size, const json_t *obj, const char *key, const char *name)
{
	const json_t *v = json_object_get(obj, key);

	out[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size)
		return wd_error_set(WD_EINPUT, "%s: \"%s\" is not a string of at most %zu chars",
		                    name, key, size - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_int(int64_t *out, const json_t *obj, const char *key, const char *name)
{
	const json_t *v = json_object_get(obj, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return wd_error_set(WD_EINPUT, "%s: \"%s\" is not an integer", name, key);
	*out = json_integer_value(v);
	return 0;
}

int wd_proposal_from_json(wd_proposal **out, const json_t *o, const char *name)
{
	wd_proposal *p;
	const json_t *v;
	int64_t rounds = 0;
	int rc;

	*out = NULL;
	if (!json_is_object(o))
		return wd_error_set(WD_EINPUT, "%s: not a JSON object", name);
	p = calloc(1, sizeof(*p));
	if (!p)
		return wd_error_set(WD_ENOMEM, "out of memory");
	if ((rc = get_str(&p->id, o, "id", name)) || (rc = get_str(&p->ticket_title, o, "ticket_title", name)) ||
	    (rc = get_str(&p->ticket_id, o, "ticket_id", name)) ||
	    (rc = get_str(&p->ticket_path, o, "ticket_path", name)) ||
	    (rc = get_str(&p->source, o, "source", name)) || (rc = get_str(&p->repo, o, "repo", name)) ||
	    (rc = get_str(&p->branch, o, "branch", name)) || (rc = get_str(&p->target, o, "target", name)) ||
	    (rc = get_fixed(p->base, sizeof(p->base), o, "base", name)) ||
	    (rc = get_fixed(p->commit, sizeof(p->commit), o, "commit", name)) ||
	    (rc = get_str(&p->model, o, "model", name)) || (rc = get_str(&p->checks, o, "checks", name)) ||
	    (rc = get_str(&p->evidence, o, "evidence", name)) ||
	    (rc = get_str(&p->ledger_path, o, "ledger", name)) || (rc = get_str(&p->user, o, "user", name)) ||
	    (rc = get_int(&rounds, o, "rounds", name)) ||
	    (rc = get_int(&p->input_tokens, o, "input_tokens", name)) ||
	    (rc = get_int(&p->output_tokens, o, "output_tokens", name)) ||
	    (rc = get_fixed(p->created, sizeof(p->created), o, "created", name)) ||
	    (rc = get_str(&p->reason, o, "reason", name)) ||
	    (rc = get_str(&p->decided_by, o, "decided_by", name)) ||
	    (rc = get_fixed(p->decided, sizeof(p->decided), o, "decided", name)) ||
	    (rc = get_fixed(p->merged, sizeof(p->merged), o, "merged", name)) ||
	    (rc = get_str(&p->pushed_to, o, "pushed_to", name)) ||
	    (rc = get_str(&p->pr_url, o, "pr_url", name)))
		goto out;
	p->rounds = (int)rounds;
	v = json_object_get(o, "cost_usd");
	if (v && !json_is_null(v)) {
		if (!json_is_number(v)) {
			rc = wd_error_set(WD_EINPUT, "%s: \"cost_usd\" is not a number", name);
			goto out;
		}
		p->cost_usd = json_number_value(v);
	}
	v = json_object_get(o, "status");
	if (!json_is_string(v) || status_from_name(&p->status, json_string_value(v)) < 0) {
		rc = wd_error_set(WD_EINPUT, "%s: \"status\" must be open, approved or rejected", name);
		goto out;
	}
	if (!p->id || !id_is_safe(p->id) || !p->repo || !p->branch || !p->target ||
	    !is_hex_oid(p->base) || !is_hex_oid(p->commit)) {
		rc = wd_error_set(WD_EINPUT, "%s: a proposal needs id, repo, branch, target, base and commit",
		                  name);
		goto out;
	}
out:
	if (rc)
		wd_proposal_free(p);
	else
		*out = p;
	return rc;
}

static int store_dir(wd_buf *out, const char *cache_dir)
{
	if (!cache_dir || !*cache_dir)
		return wd_error_set(WD_EUSAGE, "no cache directory given");
	return wd_path_join(out, cache_dir, "proposals");
}

static int record_path(wd_buf *out, const char *cache_dir, const char *id)
{
	int rc = store_dir(out, cache_dir);

	if (!rc)
		rc = wd_buf_printf(out, "/%s.json", id);
	return rc;
}

/* `review` runs from anywhere: a relative path to an existing file is
 * stored absolute, so the record still finds it from another directory. */
static int absolutize(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	char *abs;
	int rc;

	if (!v || v[0] == '/' || !wd_path_exists(v))
		return 0;
	abs = realpath(v, NULL);
	if (!abs)
		return 0; /* keep it as given */
	rc = json_object_set_new(o, key, json_string(abs)) ? wd_error_set(WD_ENOMEM, "out of memory") : 0;
	free(abs);
	return rc;
}

int wd_proposal_save(const wd_proposal *p, const char *cache_dir)
{
	wd_buf dir = WD_BUF_INIT, path = WD_BUF_INIT;
	json_t *o = NULL;
	char *text = NULL;
	int rc;

	if (!id_is_safe(p->id))
		return wd_error_set(WD_EINPUT, "proposal id '%s' is not [A-Za-z0-9._-]+",
		                    p->id ? p->id : "");
	if (!p->repo || !p->branch || !p->target || !is_hex_oid(p->base) || !is_hex_oid(p->commit))
		return wd_error_set(WD_EINPUT, "proposal %s: repo, branch, target, base and commit are required",
		                    p->id);
	if ((rc = store_dir(&dir, cache_dir)) || (rc = wd_mkdir_p(dir.ptr, 1)) ||
	    (rc = record_path(&path, cache_dir, p->id)))
		goto out;
	o = wd_proposal_to_json(p);
	if (o && ((rc = absolutize(o, "ticket_path")) != 0 || (rc = absolutize(o, "ledger")) != 0))
		goto out;
	text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (!text) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	rc = wd_file_write_atomic(path.ptr, text, strlen(text), 0600);
	if (rc)
		wd_error_wrap(rc, "saving proposal %s", p->id);
out:
	free(text);
	json_decref(o);
	wd_buf_free(&dir);
	wd_buf_free(&path);
	return rc;
}

static int load_file(wd_proposal **out, const char *path)
{
	wd_buf text = WD_BUF_INIT;
	json_error_t jerr;
	json_t *o = NULL;
	int rc;

	*out = NULL;
	if ((rc = wd_file_read(&text, path, RECORD_MAX)) != 0)
		goto out;
	o = json_loadb(text.ptr, text.len, 0, &jerr);
	if (!o) {
		rc = wd_error_set(WD_EINPUT, "%s:%d: %s", path, jerr.line, jerr.text);
		goto out;
	}
	rc = wd_proposal_from_json(out, o, path);
out:
	json_decref(o);
	wd_buf_free(&text);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the records in the store (without ".json"), sorted. */
static int list_ids(wd_strvec *out, const char *cache_dir)
{
	wd_buf dir = WD_BUF_INIT;
	struct dirent *e;
	DIR *d;
	int rc;

	if ((rc = store_dir(&dir, cache_dir)) != 0)
		goto out;
	d = opendir(wd_buf_cstr(&dir));
	if (!d) {
		if (!wd_path_exists(dir.ptr))
			goto out;
		rc = wd_error_errno(WD_EINFRA, dir.ptr);
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		if ((rc = wd_strvec_push_owned(out, wd_strndup(e->d_name, len - 5))) != 0)
			break;
	}
	closedir(d);
	if (!rc && out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
out:
	wd_buf_free(&dir);
	return rc;
}

int wd_proposal_load(wd_proposal **out, const char *cache_dir, const char *id)
{
	wd_buf path = WD_BUF_INIT;
	wd_strvec ids = WD_STRVEC_INIT;
	const char *match = NULL;
	size_t idlen;
	int rc;

	*out = NULL;
	if (!id_is_safe(id))
		return wd_error_set(WD_EUSAGE, "'%s' is not a proposal id", id ? id : "");
	if ((rc = record_path(&path, cache_dir, id)) != 0)
		goto out;
	if (wd_path_exists(path.ptr)) {
		rc = load_file(out, path.ptr);
		goto out;
	}
	/* Not an exact id: an unambiguous prefix names it, as git's short hashes do. */
	if ((rc = list_ids(&ids, cache_dir)) != 0)
		goto out;
	idlen = strlen(id);
	for (size_t i = 0; i < ids.n; i++) {
		if (strncmp(ids.v[i], id, idlen) != 0)
			continue;
		if (match) {
			rc = wd_error_set(WD_EUSAGE, "proposal id '%s' is ambiguous (%s, %s, ...)", id,
			                  match, ids.v[i]);
			goto out;
		}
		match = ids.v[i];
	}
	if (!match) {
		rc = wd_error_set(WD_ENOTFOUND, "no proposal '%s' (see 'warden review list')", id);
		goto out;
	}
	if ((rc = record_path(&path, cache_dir, match)) == 0)
		rc = load_file(out, path.ptr);
out:
	wd_strvec_free(&ids);
	wd_buf_free(&path);
	return rc;
}

static int cmp_proposal(const void *a, const void *b)
{
	const wd_proposal *x = *(wd_proposal *const *)a, *y = *(wd_proposal *const *)b;
	int c = strcmp(x->created, y->created);

	return c ? c : strcmp(x->id, y->id);
}

int wd_proposal_list_load(wd_proposal_list *out, const char *cache_dir, int status)
{
	wd_strvec ids = WD_STRVEC_INIT;
	wd_buf path = WD_BUF_INIT;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = list_ids(&ids, cache_dir)) != 0)
		goto out;
	for (size_t i = 0; i < ids.n; i++) {
		wd_proposal *p = NULL;

		if ((rc = record_path(&path, cache_dir, ids.v[i])) != 0)
			goto out;
		if (load_file(&p, path.ptr) != 0) {
			if (wd_error_last_code() == WD_ENOMEM) {
				rc = WD_ENOMEM;
				goto out;
			}
			if ((rc = wd_strvec_push(&out->skipped, wd_error_last())) != 0)
				goto out;
			continue;
		}
		if (status >= 0 && (int)p->status != status) {
			wd_proposal_free(p);
			continue;
		}
		if ((rc = WD_ARRAY_RESERVE(out->v, cap, out->n + 1, 8)) != 0) {
			wd_proposal_free(p);
			goto out;
		}
		out->v[out->n++] = p;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_proposal);
out:
	if (rc)
		wd_proposal_list_free(out);
	wd_strvec_free(&ids);
	wd_buf_free(&path);
	return rc;
}

void wd_proposal_list_free(wd_proposal_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		wd_proposal_free(l->v[i]);
	free(l->v);
	wd_strvec_free(&l->skipped);
	memset(l, 0, sizeof(*l));
}

int wd_review_feedback_for_ticket(wd_strvec *out, const char *cache_dir, const char *ticket_id)
{
	wd_proposal_list l = WD_PROPOSAL_LIST_INIT;
	int rc;

	if (!ticket_id || !*ticket_id)
		return 0;
	if ((rc = wd_proposal_list_load(&l, cache_dir, WD_PROPOSAL_REJECTED)) != 0)
		return rc;
	for (size_t i = 0; i < l.n && !rc; i++) {
		const wd_proposal *p = l.v[i];

		if (p->ticket_id && !strcmp(p->ticket_id, ticket_id) && p->reason && *p->reason)
			rc = wd_strvec_push(out, p->reason);
	}
	wd_proposal_list_free(&l);
	return rc;
}
