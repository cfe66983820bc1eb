/*
 * Reading a dataset: SWE-bench's instance fields plus warden's build/test
 * commands, one JSON object per line. Everything in it is untrusted: every
 * field is type-checked, sizes are bounded, names are never used as paths.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/eval.h"
#include "warden/fs.h"

#define DATASET_MAX_BYTES ((size_t)512 << 20)
#define TEST_NAME_MAX 4096
#define ID_MAX 512

static int line_err(const char *name, size_t line, const char *fmt, const char *what)
{
	return wd_error_set(WD_EINPUT, "%s:%zu: %s%s", name, line, fmt, what ? what : "");
}

/* A string field: *out is NULL when absent (or null); WD_EINPUT when not a string. */
static int get_str(char **out, const json_t *o, const char *key, const char *name, size_t line)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return wd_error_set(WD_EINPUT, "%s:%zu: \"%s\" is not a string", name, line, key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return wd_error_set(WD_EINPUT, "%s:%zu: \"%s\" holds a NUL byte", name, line, key);
	if (!(*out = wd_strdup(json_string_value(v))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	return 0;
}

static int push_names(wd_strvec *out, const json_t *arr, const char *key, const char *name,
                      size_t line)
{
	size_t i;
	const json_t *v;

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (!s || !*s || strlen(s) != json_string_length(v) || strlen(s) > TEST_NAME_MAX)
			return wd_error_set(WD_EINPUT, "%s:%zu: \"%s\" item %zu is not a test name",
			                    name, line, key, i + 1);
		if (wd_strvec_contains(out, s))
			continue;
		if (wd_strvec_push(out, s))
			return wd_error_set(WD_ENOMEM, "out of memory");
	}
	return 0;
}

/* A list of test names: a JSON list, or a string holding one ("[]" too). */
static int get_names(wd_strvec *out, const json_t *o, const char *key, const char *name,
                     size_t line)
{
	const json_t *v = json_object_get(o, key);
	json_t *inner = NULL;
	json_error_t jerr;
	int rc;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		inner = json_loadb(json_string_value(v), json_string_length(v), JSON_REJECT_DUPLICATES,
		                   &jerr);
		if (!json_is_array(inner)) {
			json_decref(inner);
			return wd_error_set(WD_EINPUT, "%s:%zu: \"%s\" is a string but not a JSON list "
			                    "of test names", name, line, key);
		}
		v = inner;
	}
	if (!json_is_array(v))
		return wd_error_set(WD_EINPUT, "%s:%zu: \"%s\" is not a list of test names", name,
		                    line, key);
	rc = push_names(out, v, key, name, line);
	json_decref(inner);
	return rc;
}

static int get_scope(wd_strvec *out, const json_t *o, const char *name, size_t line)
{
	const json_t *v = json_object_get(o, "scope");

	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		while (*s) {
			size_t n = strcspn(s, ",");
			size_t a = 0, b = n;

			while (a < b && (s[a] == ' ' || s[a] == '\t'))
				a++;
			while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
				b--;
			if (b > a) {
				char *item = wd_strndup(s + a, b - a);

				if (!item || wd_strvec_push_owned(out, item))
					return wd_error_set(WD_ENOMEM, "out of memory");
			}
			s += n;
			if (*s)
				s++;
		}
		return 0;
	}
	if (!json_is_array(v))
		return line_err(name, line, "\"scope\" is not a list of globs", NULL);
	return push_names(out, v, "scope", name, line);
}

static void instance_free(wd_eval_instance *in)
{
	free(in->id);
	free(in->repo);
	free(in->base_commit);
	free(in->problem);
	free(in->patch);
	free(in->test_patch);
	free(in->build);
	free(in->test);
	wd_strvec_free(&in->f2p);
	wd_strvec_free(&in->p2p);
	wd_strvec_free(&in->scope);
}

static int check_required(const wd_eval_instance *in, const char *name, size_t line)
{
	static const char hex[] = "0123456789abcdefABCDEF";

	if (!in->id || !*in->id)
		return line_err(name, line, "no \"instance_id\"", NULL);
	if (strlen(in->id) > ID_MAX || strcspn(in->id, "\n\r\t") != strlen(in->id))
		return line_err(name, line, "\"instance_id\" is too long or holds control characters",
		                NULL);
	if (!in->repo || !*in->repo)
		return line_err(name, line, "no \"repo\" in ", in->id);
	if (!in->base_commit || strlen(in->base_commit) < 4 || strlen(in->base_commit) > 40 ||
	    strspn(in->base_commit, hex) != strlen(in->base_commit))
		return line_err(name, line, "\"base_commit\" is not a commit id in ", in->id);
	if (!in->problem || !*in->problem)
		return line_err(name, line, "no \"problem_statement\" in ", in->id);
	if (!in->test || !*in->test)
		return line_err(name, line, "no \"test\" command in ", in->id);
	return 0;
}

static int parse_instance(wd_eval_instance *in, const json_t *o, const char *name, size_t line)
{
	int rc;

	if (!json_is_object(o))
		return line_err(name, line, "not a JSON object", NULL);
	if ((rc = get_str(&in->id, o, "instance_id", name, line)) != 0 ||
	    (rc = get_str(&in->repo, o, "repo", name, line)) != 0 ||
	    (rc = get_str(&in->base_commit, o, "base_commit", name, line)) != 0 ||
	    (rc = get_str(&in->problem, o, "problem_statement", name, line)) != 0 ||
	    (rc = get_str(&in->patch, o, "patch", name, line)) != 0 ||
	    (rc = get_str(&in->test_patch, o, "test_patch", name, line)) != 0 ||
	    (rc = get_str(&in->build, o, "build", name, line)) != 0 ||
	    (rc = get_str(&in->test, o, "test", name, line)) != 0 ||
	    (rc = get_names(&in->f2p, o, "FAIL_TO_PASS", name, line)) != 0 ||
	    (rc = get_names(&in->p2p, o, "PASS_TO_PASS", name, line)) != 0 ||
	    (rc = get_scope(&in->scope, o, name, line)) != 0)
		return rc;
	if (in->build && !*in->build) {
		free(in->build);
		in->build = NULL;
	}
	return check_required(in, name, line);
}

static int add_line(wd_eval_dataset *d, const char *name, const char *p, size_t len, size_t line)
{
	wd_eval_instance in;
	json_error_t jerr;
	json_t *o;
	int rc;

	memset(&in, 0, sizeof(in));
	o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return wd_error_set(WD_EINPUT, "%s:%zu: not JSON: %s", name, line, jerr.text);
	rc = parse_instance(&in, o, name, line);
	json_decref(o);
	for (size_t i = 0; !rc && i < d->n; i++)
		if (!strcmp(d->v[i].id, in.id))
			rc = wd_error_set(WD_EINPUT, "%s:%zu: instance_id \"%s\" already on line %zu",
			                  name, line, in.id, d->v[i].line);
	if (!rc)
		rc = WD_ARRAY_RESERVE(d->v, d->cap, d->n + 1, 16);
	if (rc) {
		instance_free(&in);
		return rc;
	}
	in.line = line;
	in.index = d->n;
	d->v[d->n++] = in;
	return 0;
}

int wd_eval_dataset_parse(wd_eval_dataset *out, const char *name, const char *text, size_t len)
{
	size_t pos = 0, line = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = wd_hash_hex(out->sha1, text, len)) != 0)
		return rc;
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		size_t k = 0;

		line++;
		while (k < n && strchr(" \t\r", text[pos + k]))
			k++;
		if (k < n)
			rc = add_line(out, name, text + pos, n, line);
		pos += n + 1;
	}
	if (!rc && out->n == 0)
		rc = wd_error_set(WD_EINPUT, "%s: no instances", name);
	if (rc)
		wd_eval_dataset_free(out);
	return rc;
}

/* Local repositories named relative to the dataset are found beside it. */
static int resolve_repos(wd_eval_dataset *d, const char *path)
{
	const char *slash = strrchr(path, '/');
	wd_buf dir = WD_BUF_INIT, full = WD_BUF_INIT;
	int rc = 0;

	if (!slash)
		return 0;
	if ((rc = wd_buf_put(&dir, path, (size_t)(slash - path) + 1)) != 0)
		return rc;
	for (size_t i = 0; i < d->n && !rc; i++) {
		char *r = d->v[i].repo;

		if (r[0] == '/' || strstr(r, "://") || (strchr(r, ':') && strchr(r, '@')))
			continue;
		wd_buf_clear(&full);
		if ((rc = wd_buf_printf(&full, "%s%s", dir.ptr, r)) != 0)
			break;
		free(d->v[i].repo);
		if (!(d->v[i].repo = wd_buf_detach(&full)))
			rc = wd_error_set(WD_ENOMEM, "out of memory");
	}
	wd_buf_free(&dir);
	wd_buf_free(&full);
	return rc;
}

int wd_eval_dataset_load(wd_eval_dataset *out, const char *path)
{
	wd_buf text = WD_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = wd_file_read(&text, path, DATASET_MAX_BYTES)) != 0) {
		wd_buf_free(&text);
		return wd_error_wrap(rc == WD_ENOTFOUND ? WD_EINPUT : rc, "dataset %s", path);
	}
	rc = wd_eval_dataset_parse(out, path, text.ptr ? text.ptr : "", text.len);
	wd_buf_free(&text);
	if (!rc && (rc = resolve_repos(out, path)) != 0)
		wd_eval_dataset_free(out);
	return rc;
}

void wd_eval_dataset_free(wd_eval_dataset *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		instance_free(&d->v[i]);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int wd_eval_shard_parse(unsigned *index, unsigned *count, const char *s)
{
	char *end;
	unsigned long i, n;

	if (!s || !*s)
		return wd_error_set(WD_EUSAGE, "--shard wants I/N");
	i = strtoul(s, &end, 10);
	if (end == s || *end != '/' || s[0] == '-' || s[0] == '+')
		return wd_error_set(WD_EUSAGE, "--shard '%s' is not I/N (e.g. 2/4)", s);
	s = end + 1;
	if (*s == '-' || *s == '+' || *s == 0)
		return wd_error_set(WD_EUSAGE, "--shard wants I/N (e.g. 2/4)");
	n = strtoul(s, &end, 10);
	if (*end || n < 1 || n > 10000 || i < 1 || i > n)
		return wd_error_set(WD_EUSAGE, "--shard I/N needs 1 <= I <= N <= 10000");
	*index = (unsigned)i;
	*count = (unsigned)n;
	return 0;
}

int wd_eval_in_shard(size_t pos, unsigned index, unsigned count)
{
	return count > 0 && pos % count == (size_t)(index - 1);
}
