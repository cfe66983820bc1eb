/*
 * SARIF 2.1 (the OASIS static-analysis interchange format) read with
 * jansson: runs[].tool.driver.name, runs[].results[] with ruleId, level,
 * message.text and the first physicalLocation's uri and region. Only what
 * the gate needs; anything malformed inside a result skips that result.
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include <jansson.h>

#include "gate_int.h"
#include "warden/error.h"
#include "warden/findings.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "file:///w/src/a%20b.c" -> "/w/src/a b.c"; relative URIs stay relative. */
static int uri_to_path(wd_buf *out, const char *uri)
{
	const char *p = uri;
	int rc;

	wd_buf_clear(out);
	if (!strncmp(p, "file://", 7)) {
		p += 7;
		if (*p != '/') { /* file://host/path */
			const char *slash = strchr(p, '/');

			p = slash ? slash : p + strlen(p);
		}
	}
	for (; *p; p++) {
		char c = *p;

		if (c == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
			if (c == '\0')
				c = '?';
		}
		if ((rc = wd_buf_putc(out, c)) != 0)
			return rc;
	}
	return wd_buf_grow(out, 0);
}

static unsigned json_uint(json_t *v)
{
	json_int_t i = json_integer_value(v);

	return i <= 0 ? 0 : i > UINT_MAX ? UINT_MAX : (unsigned)i;
}

static const char *rule_of(json_t *res, json_t *rules)
{
	const char *id = json_string_value(json_object_get(res, "ruleId"));
	json_t *ri;

	if (id)
		return id;
	/* ruleIndex into tool.driver.rules[] */
	ri = json_object_get(res, "ruleIndex");
	if (json_is_integer(ri))
		return json_string_value(json_object_get(
			json_array_get(rules, (size_t)json_integer_value(ri)), "id"));
	return json_string_value(json_object_get(json_object_get(res, "rule"), "id"));
}

static int one_result(wd_findings *out, json_t *res, json_t *rules, const char *tool)
{
	json_t *loc, *phys, *region, *msg;
	const char *uri, *level, *text, *rule;
	wd_buf path = WD_BUF_INIT;
	int rc;

	if (!json_is_object(res))
		return 0;
	loc = json_array_get(json_object_get(res, "locations"), 0);
	phys = json_object_get(loc, "physicalLocation");
	uri = json_string_value(json_object_get(json_object_get(phys, "artifactLocation"), "uri"));
	if (!uri || !*uri)
		return 0;
	region = json_object_get(phys, "region");
	msg = json_object_get(res, "message");
	text = json_string_value(json_object_get(msg, "text"));
	if (!text)
		text = json_string_value(json_object_get(msg, "markdown"));
	level = json_string_value(json_object_get(res, "level"));
	if (!level)
		level = "warning";
	if (!strcmp(level, "none"))
		return 0;
	rule = rule_of(res, rules);
	if ((rc = uri_to_path(&path, uri)) == 0)
		rc = wd_findings_push(out, path.ptr, json_uint(json_object_get(region, "startLine")),
		                      json_uint(json_object_get(region, "startColumn")), level, rule,
		                      text ? text : "", tool);
	wd_buf_free(&path);
	return rc;
}

int wd_findings_parse_sarif(wd_findings *out, const char *text, size_t len)
{
	json_error_t err;
	json_t *root, *runs;
	size_t i, j;
	int rc = 0;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return wd_error_set(WD_EINPUT, "SARIF: line %d: %s", err.line, err.text);
	runs = json_object_get(root, "runs");
	if (!json_is_object(root) || !json_is_array(runs)) {
		json_decref(root);
		return wd_error_set(WD_EINPUT, "not a SARIF log (no \"runs\" array)");
	}
	for (i = 0; i < json_array_size(runs); i++) {
		json_t *run = json_array_get(runs, i);
		json_t *driver = json_object_get(json_object_get(run, "tool"), "driver");
		json_t *rules = json_object_get(driver, "rules");
		json_t *results = json_object_get(run, "results");
		const char *name = json_string_value(json_object_get(driver, "name"));

		for (j = 0; j < json_array_size(results); j++)
			if ((rc = one_result(out, json_array_get(results, j), rules, name)) != 0)
				goto out;
	}
out:
	json_decref(root);
	return rc;
}
