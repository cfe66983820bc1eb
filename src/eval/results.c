/*
 * Results files: JSONL, one graded instance per line, appended as each
 * instance finishes (so an interrupted eval resumes from it). Read back for
 * --resume, merged across shards, summarised and compared. They come from
 * other machines (CI shards): every field is checked before it is used.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/eval.h"
#include "warden/fs.h"

#define RESULTS_MAX_BYTES ((size_t)1 << 30)

static int check_item(const json_t *o, const char *path, size_t line)
{
	const char *id = json_string_value(json_object_get(o, "instance_id"));
	const char *st = json_string_value(json_object_get(o, "status"));

	if (!json_is_object(o))
		return wd_error_set(WD_EINPUT, "%s:%zu: not a JSON object", path, line);
	if (!id || !*id)
		return wd_error_set(WD_EINPUT, "%s:%zu: no \"instance_id\"", path, line);
	if (wd_eval_status_parse(st) < 0)
		return wd_error_set(WD_EINPUT, "%s:%zu: \"status\" is not resolved, partial, "
		                    "unresolved or error", path, line);
	return 0;
}

int wd_eval_results_load(wd_eval_results *out, const char *path, int missing_ok)
{
	wd_buf text = WD_BUF_INIT;
	size_t pos = 0, line = 0;
	int rc;

	out->items = json_array();
	if (!out->items)
		return wd_error_set(WD_ENOMEM, "out of memory");
	rc = wd_file_read(&text, path, RESULTS_MAX_BYTES);
	if (rc == WD_ENOTFOUND && missing_ok) {
		wd_error_clear();
		rc = 0;
		goto out;
	}
	if (rc) {
		rc = wd_error_wrap(rc == WD_ENOTFOUND ? WD_EINPUT : rc, "results %s", path);
		goto out;
	}
	while (pos < text.len && !rc) {
		const char *p = text.ptr + pos;
		const char *nl = memchr(p, '\n', text.len - pos);
		size_t n = nl ? (size_t)(nl - p) : text.len - pos;
		json_error_t jerr;
		json_t *o;

		line++;
		pos += n + 1;
		if (strspn(p, " \t\r") >= n)
			continue;
		o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
		if (!o && !nl)
			break; /* a torn last line: the write an interrupt cut short */
		if (!o) {
			rc = wd_error_set(WD_EINPUT, "%s:%zu: not JSON: %s", path, line, jerr.text);
			break;
		}
		if ((rc = check_item(o, path, line)) == 0)
			rc = json_array_append_new(out->items, o) ? wd_error_set(WD_ENOMEM, "out of memory")
			                                          : 0;
		else
			json_decref(o);
	}
out:
	wd_buf_free(&text);
	if (rc)
		wd_eval_results_free(out);
	return rc;
}

void wd_eval_results_free(wd_eval_results *r)
{
	json_decref(r->items);
	r->items = NULL;
}

void wd_eval_wilson(double *lo, double *hi, size_t k, size_t n)
{
	const double z = 1.959963984540054;
	double p, denom, centre, half;

	*lo = *hi = 0.0;
	if (n == 0)
		return;
	p = (double)k / (double)n;
	denom = 1.0 + z * z / (double)n;
	centre = (p + z * z / (2.0 * (double)n)) / denom;
	half = z * sqrt(p * (1.0 - p) / (double)n + z * z / (4.0 * (double)n * (double)n)) / denom;
	*lo = centre - half < 0.0 ? 0.0 : centre - half;
	*hi = centre + half > 1.0 ? 1.0 : centre + half;
}

/* Exact binomial test of b against c with p = 1/2, two-sided. Summed in
 * log space so large counts neither overflow nor underflow. */
double wd_eval_mcnemar(size_t b, size_t c)
{
	size_t n = b + c, k = b < c ? b : c;
	double tail = 0.0;

	if (n == 0)
		return 1.0;
	for (size_t i = 0; i <= k; i++)
		tail += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) -
		            (double)n * log(2.0));
	tail *= 2.0;
	return tail > 1.0 ? 1.0 : tail;
}

static json_int_t int_field(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

static double num_field(const json_t *o, const char *key)
{
	double v = json_number_value(json_object_get(o, key));

	return isfinite(v) && v > 0 ? v : 0.0;
}

json_t *wd_eval_summary(const json_t *items)
{
	size_t counts[4] = { 0 }, graded, i;
	json_int_t in = 0, outt = 0, wall = 0;
	double cost = 0.0, lo, hi, wlo, whi;
	const json_t *o;

	json_array_foreach(items, i, o) {
		int st = wd_eval_status_parse(json_string_value(json_object_get(o, "status")));

		counts[st < 0 ? WD_EVAL_ERROR : st]++;
		in += int_field(o, "input_tokens");
		outt += int_field(o, "output_tokens");
		wall += int_field(o, "wall_ms");
		cost += num_field(o, "cost_usd");
	}
	graded = json_array_size(items);
	wd_eval_wilson(&lo, &hi, counts[WD_EVAL_RESOLVED], graded);
	wd_eval_wilson(&wlo, &whi, counts[WD_EVAL_RESOLVED], graded - counts[WD_EVAL_ERROR]);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:[f, f], s:f, s:[f, f], s:I, s:I, s:f, s:I}",
	                 "instances", (json_int_t)graded,
	                 "resolved", (json_int_t)counts[WD_EVAL_RESOLVED],
	                 "partial", (json_int_t)counts[WD_EVAL_PARTIAL],
	                 "unresolved", (json_int_t)counts[WD_EVAL_UNRESOLVED],
	                 "error", (json_int_t)counts[WD_EVAL_ERROR],
	                 "resolution_rate", graded ? (double)counts[WD_EVAL_RESOLVED] / (double)graded : 0.0,
	                 "ci95", lo, hi,
	                 /* well-formed: the instances that are not errors */
	                 "resolution_rate_well_formed", graded > counts[WD_EVAL_ERROR]
	                     ? (double)counts[WD_EVAL_RESOLVED] / (double)(graded - counts[WD_EVAL_ERROR])
	                     : 0.0,
	                 "ci95_well_formed", wlo, whi,
	                 "input_tokens", in, "output_tokens", outt, "cost_usd", cost,
	                 "wall_ms", wall);
}
