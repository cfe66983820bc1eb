#include "warden/json.h"

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
