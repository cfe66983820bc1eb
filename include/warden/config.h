#ifndef WARDEN_CONFIG_H
#define WARDEN_CONFIG_H

#include "warden/buf.h"

/*
 * Settings in git-config syntax, read with libgit2's config API.
 * Levels, lowest priority first: the user's ~/.config/warden/config
 * ($WARDEN_CONFIG overrides the path), then the repository's .warden/config.
 * Flags and environment variables are applied by the caller on top.
 *
 * The repository level is untrusted (it comes with the code under change):
 * keys marked trusted-only (model.*, credentials, push/merge policy) are
 * read from the user level alone; see wd_config_get_string_trusted().
 */
typedef struct wd_config wd_config;

/* Open the user level and, when repo_workdir is non-NULL, its .warden/config. */
int wd_config_open(wd_config **out, const char *repo_workdir);

/* Add (or replace) the repository level after the work tree exists. */
int wd_config_add_repo(wd_config *cfg, const char *repo_workdir);

/* Value of `key` ("section.name" or "section.sub.name"); WD_ENOTFOUND when unset. */
int wd_config_get_string(char **out, const wd_config *cfg, const char *key);
/* Same, from the user level only. */
int wd_config_get_string_trusted(char **out, const wd_config *cfg, const char *key);
int wd_config_get_int(long *out, const wd_config *cfg, const char *key);
int wd_config_get_bool(int *out, const wd_config *cfg, const char *key);
/* Every value of a multivar, all levels, lowest priority first. */
int wd_config_get_all(wd_strvec *out, const wd_config *cfg, const char *key);
/* Names of subsections of `section` ("check" -> the N in [check "N"]). */
int wd_config_subsections(wd_strvec *out, const wd_config *cfg, const char *section);

void wd_config_free(wd_config *cfg);

#endif
