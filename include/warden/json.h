#ifndef WARDEN_JSON_H
#define WARDEN_JSON_H

#include <jansson.h>

#include "warden/buf.h"

/* Small jansson helpers shared by every module. */

/* A new JSON array of the strings in `sv` (empty for none); NULL on ENOMEM. */
json_t *wd_json_strvec(const wd_strvec *sv);

#endif
