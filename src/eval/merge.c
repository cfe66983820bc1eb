/*
 * Merging the shards of one eval and comparing two evals. A merge is only
 * as good as its inputs: shards of different datasets, an instance graded
 * twice or a shard that stopped early are refused, never silently combined.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/eval.h"

struct shard_info {
	unsigned index, count;
	size_t size, seen;
	const char *from;
};

/* The dataset, size and shard an item claims to belong to. */
static int item_origin(const json_t *o, const char **dataset, json_int_t *dsize, unsigned *si,
                       unsigned *sn, json_int_t *ssize, json_int_t *index, const char *name)
{
	const char *id = json_string_value(json_object_get(o, "instance_id"));

	*dataset = json_string_value(json_object_get(o, "dataset"));
	*dsize = json_integer_value(json_object_get(o, "dataset_size"));
	*ssize = json_integer_value(json_object_get(o, "shard_size"));
	*index = json_is_integer(json_object_get(o, "index"))
	         ? json_integer_value(json_object_get(o, "index")) : -1;
	if (!*dataset || *dsize < 1 || *ssize < 1 || *index < 0 || *index >= *dsize ||
	    wd_eval_shard_parse(si, sn, json_string_value(json_object_get(o, "shard"))) != 0)
		return wd_error_set(WD_EINPUT, "%s: result for '%s' lacks its dataset, index or shard "
		                    "(was it written by warden eval?)", name, id);
	return 0;
}

static int cmp_index(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "index"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "index"));

	return x < y ? -1 : x > y;
}

static int note_shard(struct shard_info **shards, size_t *ns, size_t *cap, unsigned si,
                      unsigned sn, json_int_t ssize, const char *name)
{
	struct shard_info *s = NULL;

	for (size_t i = 0; i < *ns; i++)
		if ((*shards)[i].index == si)
			s = &(*shards)[i];
	if (s && strcmp(s->from, name) != 0)
		return wd_error_set(WD_EINPUT, "shard %u/%u is in both %s and %s (overlap)", si, sn,
		                    s->from, name);
	if (s && s->size != (size_t)ssize)
		return wd_error_set(WD_EINPUT, "%s: its results disagree on the size of shard %u/%u",
		                    name, si, sn);
	if (!s) {
		if (WD_ARRAY_RESERVE(*shards, *cap, *ns + 1, 4) != 0)
			return WD_ENOMEM;
		s = &(*shards)[(*ns)++];
		s->index = si;
		s->count = sn;
		s->size = (size_t)ssize;
		s->seen = 0;
		s->from = name;
	}
	s->seen++;
	return 0;
}

static int check_complete(const struct shard_info *shards, size_t ns, unsigned count,
                          size_t total, size_t dsize)
{
	for (unsigned i = 1; i <= count; i++) {
		const struct shard_info *s = NULL;

		for (size_t k = 0; k < ns; k++)
			if (shards[k].index == i)
				s = &shards[k];
		if (!s)
			return wd_error_set(WD_EINPUT, "shard %u/%u is missing (gap)", i, count);
		if (s->seen < s->size)
			return wd_error_set(WD_EINPUT, "shard %u/%u (%s) has %zu of its %zu results (gap: "
			                    "resume it with --resume)", i, count, s->from, s->seen, s->size);
	}
	if (total != dsize)
		return wd_error_set(WD_EINPUT, "the shards hold %zu results for a dataset of %zu "
		                    "instances (gap)", total, dsize);
	return 0;
}

/* The merged results in the dataset's own order, whatever order the shards came in. */
static int sort_by_index(json_t **out, json_t *all, size_t total)
{
	json_t **v = calloc(total ? total : 1, sizeof(*v));
	json_t *sorted = json_array();
	int rc = 0;

	if (!v || !sorted) {
		free(v);
		json_decref(sorted);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < total; i++)
		v[i] = json_array_get(all, i);
	qsort(v, total, sizeof(*v), cmp_index);
	/* every position of the dataset exactly once (ids are checked apart:
	 * two results may name different ids at one position) */
	for (size_t i = 0; !rc && i < total; i++) {
		json_int_t at = json_integer_value(json_object_get(v[i], "index"));

		if (at != (json_int_t)i)
			rc = wd_error_set(WD_EINPUT, at < (json_int_t)i
			                  ? "two results for position %lld of the dataset (overlap)"
			                  : "no result for position %lld of the dataset (gap)",
			                  (long long)(at < (json_int_t)i ? at : (json_int_t)i));
		else if (json_array_append(sorted, v[i]))
			rc = wd_error_set(WD_ENOMEM, "out of memory");
	}
	free(v);
	if (rc) {
		json_decref(sorted);
		return rc;
	}
	*out = sorted;
	return 0;
}

int wd_eval_merge(json_t **out, const wd_eval_results *const *inputs, const char *const *names,
                  size_t n)
{
	struct shard_info *shards = NULL;
	const char *dataset = NULL;
	json_int_t dsize = 0;
	unsigned count = 0;
	size_t ns = 0, shards_cap = 0, total = 0;
	json_t *all = json_array(), *seen = json_object();
	int rc = 0;

	*out = NULL;
	if (!all || !seen) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t f = 0; f < n && !rc; f++) {
		size_t i;
		json_t *o;

		json_array_foreach(inputs[f]->items, i, o) {
			const char *ds, *id = json_string_value(json_object_get(o, "instance_id"));
			json_int_t sz = 0, ssize = 0, index = 0;
			unsigned si = 0, sn = 0;

			if ((rc = item_origin(o, &ds, &sz, &si, &sn, &ssize, &index, names[f])) != 0)
				break;
			if (!dataset) {
				dataset = ds;
				dsize = sz;
				count = sn;
			}
			if (strcmp(ds, dataset) != 0 || sz != dsize || sn != count) {
				rc = wd_error_set(WD_EINPUT, "%s: '%s' is from another dataset or shard count "
				                  "than %s", names[f], id, names[0]);
				break;
			}
			if (json_object_get(seen, id)) {
				rc = wd_error_set(WD_EINPUT, "instance '%s' is in %s and %s (overlap)", id,
				                  json_string_value(json_object_get(seen, id)), names[f]);
				break;
			}
			if (!wd_eval_in_shard((size_t)index, si, sn)) {
				rc = wd_error_set(WD_EINPUT, "%s: '%s' does not belong to shard %u/%u",
				                  names[f], id, si, sn);
				break;
			}
			if ((rc = note_shard(&shards, &ns, &shards_cap, si, sn, ssize, names[f])) != 0)
				break;
			if (json_object_set_new(seen, id, json_string(names[f])) ||
			    json_array_append(all, o)) {
				rc = wd_error_set(WD_ENOMEM, "out of memory");
				break;
			}
			total++;
		}
	}
	if (!rc && !dataset)
		rc = wd_error_set(WD_EINPUT, "nothing to merge: the inputs hold no results");
	if (!rc)
		rc = check_complete(shards, ns, count, total, (size_t)dsize);
	if (!rc) {
		rc = sort_by_index(out, all, total);
	}
out:
	free(shards);
	json_decref(all);
	json_decref(seen);
	return rc;
}

static json_t *find_id(const json_t *items, const char *id)
{
	size_t i;
	json_t *o;

	json_array_foreach(items, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "instance_id")), id))
			return o;
	return NULL;
}

static int resolved(const json_t *o)
{
	return wd_eval_status_parse(json_string_value(json_object_get(o, "status"))) ==
	       WD_EVAL_RESOLVED;
}

static double num(const json_t *o, const char *key)
{
	double v = json_number_value(json_object_get(o, key));

	return isfinite(v) ? v : 0.0;
}

json_t *wd_eval_compare(const json_t *a, const json_t *b)
{
	json_t *rows = json_array(), *out;
	size_t i, shared = 0, both = 0, only_a = 0, only_b = 0, neither = 0;
	double dcost = 0.0, dtime = 0.0;
	const json_t *x;

	if (!rows)
		return NULL;
	json_array_foreach(a, i, x) {
		const char *id = json_string_value(json_object_get(x, "instance_id"));
		const json_t *y = find_id(b, id);
		const char *change;
		double cd, td;

		if (!y)
			continue;
		shared++;
		if (resolved(x) && resolved(y)) {
			both++;
			change = "both resolved";
		} else if (resolved(y)) {
			only_b++;
			change = "newly resolved";
		} else if (resolved(x)) {
			only_a++;
			change = "newly failing";
		} else {
			neither++;
			change = "neither";
		}
		cd = num(y, "cost_usd") - num(x, "cost_usd");
		td = num(y, "wall_ms") - num(x, "wall_ms");
		dcost += cd;
		dtime += td;
		json_array_append_new(rows, json_pack("{s:s, s:s?, s:s?, s:s, s:f, s:f}",
		                      "instance_id", id,
		                      "a", json_string_value(json_object_get(x, "status")),
		                      "b", json_string_value(json_object_get(y, "status")),
		                      "change", change, "cost_delta_usd", cd, "wall_delta_ms", td));
	}
	out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:o}",
	                "shared", (json_int_t)shared, "both_resolved", (json_int_t)both,
	                "newly_resolved", (json_int_t)only_b, "newly_failing", (json_int_t)only_a,
	                "neither", (json_int_t)neither, "cost_delta_usd", dcost,
	                "wall_delta_ms", dtime, "mcnemar_p", wd_eval_mcnemar(only_a, only_b),
	                "instances", rows);
	return out;
}
