#include "warden/json.h"

json_t *wd_json_usd(double usd)
{
	/* by hand: the sandbox front end links without libm */
	if (!(usd > -1e12 && usd < 1e12))
		usd = 0;  /* NaN, infinities and nonsense */
	return json_real((double)(long long)(usd * 1e6 + (usd < 0 ? -0.5 : 0.5)) / 1e6);
}

json_t *wd_json_strvec(const wd_strvec *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < sv->n; i++) {
		if (json_array_append_new(a, json_string(sv->v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
