/*
 * Prices in USD per million tokens. The built-in table holds the list prices
 * of a few common models as published when this was written; providers change
 * them, so [model "NAME"] price-in / price-out / price-cached in the user's
 * config always win. Names match by longest prefix, so dated snapshots
 * ("gpt-4o-2024-08-06", "claude-3-5-haiku-20241022") find their family.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/config.h"
#include "warden/error.h"
#include "warden/model.h"
#include "provider.h"

/* USD per million tokens: far above any real price, and a bound that keeps
 * the cost arithmetic finite */
#define PRICE_MAX 1e5

struct price {
	const char *prefix;
	double in, out, cached;
};

static const struct price table[] = {
	{ "gpt-4o-mini", 0.15, 0.60, 0.075 },
	{ "gpt-4o", 2.50, 10.00, 1.25 },
	{ "gpt-4.1-nano", 0.10, 0.40, 0.025 },
	{ "gpt-4.1-mini", 0.40, 1.60, 0.10 },
	{ "gpt-4.1", 2.00, 8.00, 0.50 },
	{ "o4-mini", 1.10, 4.40, 0.275 },
	{ "o3-mini", 1.10, 4.40, 0.55 },
	{ "claude-3-5-haiku", 0.80, 4.00, 0.08 },
	{ "claude-3-5-sonnet", 3.00, 15.00, 0.30 },
	{ "claude-3-7-sonnet", 3.00, 15.00, 0.30 },
	{ "claude-sonnet-4", 3.00, 15.00, 0.30 },
	{ "claude-opus-4", 15.00, 75.00, 1.50 },
};

/* A price from config; 1 when set, 0 when not, negative when malformed. */
static int cfg_price(double *out, const wd_config *cfg, const char *model, const char *field)
{
	char key[512];
	char *v = NULL;
	double d;

	if ((size_t)snprintf(key, sizeof(key), "model.%s.%s", model, field) >= sizeof(key))
		return 0;
	if (wd_model_cfg_get(&v, cfg, key) != 0)
		return 0;
	if (wd_config_parse_real(&d, key, v, 0, PRICE_MAX) != 0) {
		int rc = wd_error_wrap(WD_EINPUT, "not a price (USD per million tokens)");

		free(v);
		return rc;
	}
	free(v);
	*out = d;
	return 1;
}

int wd_model_price(double *in_per_m, double *out_per_m, double *cached_per_m,
                   const wd_config *cfg, const char *model)
{
	const struct price *best = NULL;
	size_t best_len = 0;
	int a, b, c;

	*in_per_m = *out_per_m = *cached_per_m = 0;
	if (!model || !*model)
		return WD_ENOTFOUND;
	if (cfg) {
		/* stop at the first malformed value, while its message is still the last */
		if ((a = cfg_price(in_per_m, cfg, model, "price-in")) < 0)
			return a;
		if ((b = cfg_price(out_per_m, cfg, model, "price-out")) < 0)
			return b;
		if ((c = cfg_price(cached_per_m, cfg, model, "price-cached")) < 0)
			return c;
		if (a > 0 || b > 0) {
			if (c == 0)
				*cached_per_m = *in_per_m;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		size_t len = strlen(table[i].prefix);

		if (len > best_len && strncmp(model, table[i].prefix, len) == 0) {
			best = &table[i];
			best_len = len;
		}
	}
	if (!best)
		return WD_ENOTFOUND;
	*in_per_m = best->in;
	*out_per_m = best->out;
	*cached_per_m = best->cached;
	return 0;
}
