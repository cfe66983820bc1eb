#ifndef WARDEN_JSON_H
#define WARDEN_JSON_H

#include <jansson.h>

#include "warden/buf.h"

/* Small jansson helpers shared by every module. Owns the JSON forms that
 * several modules write alike (a string list, a cost); never a module's own
 * schema (a check's result is gate.h's wd_check_result_json). */

/* A new JSON array of the strings in `sv` (empty for none); NULL on ENOMEM. */
json_t *wd_json_strvec(const wd_strvec *sv);

/* A cost in US dollars as a person expects it: a decimal rounded to a
 * micro-dollar. Dump with WD_JSON_REALS so 0.00641 is not 0.0064099999999999999. */
json_t *wd_json_usd(double usd);
#define WD_JSON_REALS JSON_REAL_PRECISION(15)

#endif
