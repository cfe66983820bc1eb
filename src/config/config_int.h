#ifndef WARDEN_CONFIG_INT_H
#define WARDEN_CONFIG_INT_H

#include "warden/buf.h"

/* repo_file.c: the repository's file without its [include] / [includeIf]
 * sections. Appends to `out` the text without them and to `dropped` the
 * names of the sections dropped ("include", "includeif"), each once. */
int wd_config__strip_includes(wd_buf *out, wd_strvec *dropped, const char *text, size_t len);
/* When the file at `path` has include sections: *tmp_path is a private copy
 * without them (the caller unlinks and frees it); else *tmp_path is NULL. */
int wd_config__repo_copy(char **tmp_path, wd_strvec *dropped, const char *path);

#endif
