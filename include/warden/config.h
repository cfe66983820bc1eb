#ifndef WARDEN_CONFIG_H
#define WARDEN_CONFIG_H

#include "warden/buf.h"

/*
 * Settings in git-config syntax, read with libgit2's config API.
 * Levels, lowest priority first: the user's file, then the repository's
 * <workdir>/.warden/config. The user's file is $WARDEN_CONFIG when set (it
 * must exist then), else $XDG_CONFIG_HOME/warden/config, else
 * ~/.config/warden/config; a missing default file is an empty level.
 * Flags and environment variables are applied by the caller on top.
 *
 * The repository level is untrusted (it comes with the code under change).
 * Trusted-only keys are read from the user level alone by EVERY getter, so
 * a caller cannot forget: the sections model, credential, github, push,
 * review, policy, sandbox, budget, redact and data, and any key whose last part names a
 * secret (…token…, …password…, …secret…, key, …api-key…, …apikey…). See
 * wd_config_key_is_trusted_only() and wd_config_ignored_repo_keys().
 *
 * Errors: WD_EINPUT for a malformed file (libgit2's message names the file
 * and line), a bad key name or a value of the wrong type; WD_ENOTFOUND when
 * a key is unset. A wd_config is read-only after open/add_repo: values are
 * a snapshot of the files at that moment.
 *
 * Owns reading settings, which level a key may come from, and the typed
 * getters (a number, a choice, the run's model). Never decides what a
 * setting means for a step: the module that acts on it does (review's
 * policy, the sandbox's policy names, the run's rounds).
 */
typedef struct wd_config wd_config;

/* Open the user level and, when repo_workdir is non-NULL, its .warden/config. */
int wd_config_open(wd_config **out, const char *repo_workdir);

/* Add (or replace) the repository level after the work tree exists. */
int wd_config_add_repo(wd_config *cfg, const char *repo_workdir);

/* Value of `key` ("section.name" or "section.sub.name"; section and name are
 * case-insensitive, the subsection is not); the repository level wins over
 * the user's. *out is malloc'd. WD_ENOTFOUND when unset. */
int wd_config_get_string(char **out, const wd_config *cfg, const char *key);
/* Same, from the user level only, whatever the key. */
int wd_config_get_string_trusted(char **out, const wd_config *cfg, const char *key);
/* git's integer syntax (a k, m or g suffix multiplies); WD_EINPUT when not a number. */
int wd_config_get_int(long *out, const wd_config *cfg, const char *key);
/* A whole number from min to max (git's syntax: optional sign, digits, an
 * optional k, m or g suffix). WD_ENOTFOUND when unset; WD_EINPUT naming
 * the key, the value and the range when it is not a number or out of range,
 * never a default in its place. */
int wd_config_get_range(long *out, const wd_config *cfg, const char *key, long min, long max);
/* A finite decimal number from min to max ("nan", "inf", "1e400" and hex
 * floats are refused). WD_ENOTFOUND when unset, WD_EINPUT as above. */
int wd_config_get_real(double *out, const wd_config *cfg, const char *key, double min,
                       double max);
/* The parsers behind them, for a value already in hand; `key` only names it
 * in the message. */
int wd_config_parse_int(long *out, const char *key, const char *text, long min, long max);
int wd_config_parse_real(double *out, const char *key, const char *text, double min, double max);
/* git's booleans: true/yes/on/1, false/no/off/0, and a bare "key" line = true. */
int wd_config_get_bool(int *out, const wd_config *cfg, const char *key);
/* Every value of a multivar, all levels, lowest priority first, appended to
 * `out`; none is an empty list (0), not WD_ENOTFOUND. */
int wd_config_get_all(wd_strvec *out, const wd_config *cfg, const char *key);
/* Names of subsections of `section` ("check" -> the N in [check "N"]), each
 * once, in file order, appended to `out`. */
int wd_config_subsections(wd_strvec *out, const wd_config *cfg, const char *section);

/* A value that must be one of `choices` (NULL-terminated): its index in *out.
 * WD_ENOTFOUND when unset; WD_EINPUT "KEY must be A, B or C, not 'V'". */
int wd_config_get_choice(int *out, const wd_config *cfg, const char *key,
                         const char *const *choices);
/* The model a run uses, malloc'd: `flag` (the caller's --model; NULL or ""
 * = none), else $WARDEN_MODEL, else model.default from the user's file
 * (cfg may be NULL). WD_EUSAGE saying how to name one when none is set. */
int wd_config_model_spec(char **out, const wd_config *cfg, const char *flag);

/* 1 when `key` may only come from the user's file (see above). */
int wd_config_key_is_trusted_only(const char *key);
/* The trusted-only keys the repository's file tried to set (and that were
 * ignored), appended to `out`, so the caller can say so; also its include
 * sections, which are never followed: "[include] (includes are not
 * followed)". The repository's file is loaded without them. */
int wd_config_ignored_repo_keys(wd_strvec *out, const wd_config *cfg);
/* Where the user's file is looked for (see above); WD_ENOTFOUND without HOME. */
int wd_config_user_path(wd_buf *out);
/* The files in use: the user's (NULL when there is no location) and the
 * repository's (NULL before a repository was added; it may not exist). */
const char *wd_config_user_file(const wd_config *cfg);
const char *wd_config_repo_path(const wd_config *cfg);

void wd_config_free(wd_config *cfg);

#endif
