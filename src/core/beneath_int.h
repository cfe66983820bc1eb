#ifndef WARDEN_BENEATH_INT_H
#define WARDEN_BENEATH_INT_H

#include <sys/types.h>

/*
 * What beneath.c, beneath_rm.c, beneath_glob.c, beneath_copy.c and fs.c
 * (wd_rm_rf) share, and the switch the tests use to take the path that
 * kernels without openat2(2) take.
 */

/* Resolve paths with the component-by-component walk even where openat2
 * exists (1), or use openat2 again when the kernel has it (0). Tests only;
 * the process-wide setting is read once per call. */
void wd_beneath__force_walk(int on);

/* Whether `rel` is a well-formed relative path (see beneath.h);
 * 0 or WD_EINPUT with a message naming it. */
int wd_beneath__check_rel(const char *rel);

/* Remove the entry `name` of the directory `parent` (an fd), whatever it is,
 * as wd_beneath_remove does: recursively, never following a symbolic link,
 * chmod'ing directories u+rwx when they lack it. Missing is success.
 * 0 or -1 with errno set; `failed` (PATH_MAX bytes, or NULL) then holds the
 * name of the entry that could not be removed (its own name, not a path). */
int wd_beneath__remove_at(int parent, const char *name, char *failed);

/* chmod the entry `name` of `parent`, open as the O_PATH descriptor `pfd`,
 * to `mode`, by descriptor where the kernel allows. 0 or -1 with errno. */
int wd_beneath__set_mode(int pfd, int parent, const char *name, mode_t mode);

/* Open the directory `name` in `parent` for reading its entries
 * (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC); "." opens
 * `parent` itself (which may be an O_PATH descriptor). -1 with errno. */
int wd_beneath__open_dir(int parent, const char *name);

#endif
