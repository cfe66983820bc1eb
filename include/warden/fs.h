#ifndef WARDEN_FS_H
#define WARDEN_FS_H

#include <stddef.h>
#include <stdint.h>

#include "warden/buf.h"

/*
 * Files warden itself owns: its cache, records, ledgers, config. Owns whole
 * reads, atomic writes, appends, mkdir -p and the rm -rf that follows no
 * link. Never used on a tree a check or a model could have changed, except
 * wd_rm_rf: those go through beneath.h.
 */

/* Read a whole file into `out` (appending). Fails with WD_EINPUT when it is
 * larger than `max` bytes (0 = no limit), WD_ENOTFOUND when it is missing. */
int wd_file_read(wd_buf *out, const char *path, size_t max);

/* Write `len` bytes to `path` through a temporary file and rename(2), so a
 * reader never sees a half-written file. `mode` as for open(2). */
int wd_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* write(2) all of data[0..len) to `fd`, retrying on EINTR and short writes.
 * 0, or -1 with errno set. */
int wd_write_all(int fd, const void *data, size_t len);

/* Append one line (a '\n' is added) with O_APPEND, fsync'd when `sync`. */
int wd_file_append(const char *path, const void *data, size_t len, int sync);

/* mkdir -p with mode 0755 (0700 for `private`). */
int wd_mkdir_p(const char *path, int private_dir);

/* rm -rf for a tree that untrusted code may have changed. `path` up to its
 * last component is trusted; below it nothing is: no symbolic link is
 * followed (a link is removed itself), nothing but directories is opened
 * (a FIFO never blocks it), directories chmod'ed without u+rwx are given it
 * first (by descriptor), and any depth of nesting is removed with a bounded
 * number of open descriptors and bounded recursion. A missing path is
 * success; "/", "." and ".." as the last component are WD_EUSAGE; otherwise
 * WD_EINFRA naming the first entry it could not remove. */
int wd_rm_rf(const char *path);

int wd_path_exists(const char *path);
int wd_path_is_dir(const char *path);

/* Whether `rel` is a non-empty relative path that stays inside its root
 * lexically: not absolute, no ".." component. (Symlinks are the caller's
 * business: this looks at the text only.) */
int wd_path_rel_inside(const char *rel);

/* out = a + "/" + b (b may not be absolute). */
int wd_path_join(wd_buf *out, const char *a, const char *b);

/* Absolute, symlink-resolved path of an existing file; caller frees. */
char *wd_realpath(const char *path);

/* warden's cache root: $WARDEN_CACHE_DIR, else $XDG_CACHE_HOME/warden, else ~/.cache/warden. */
int wd_cache_dir(wd_buf *out);

/* Monotonic clock in milliseconds. */
uint64_t wd_now_ms(void);
/* Wall clock as ISO 8601 UTC with milliseconds ("2026-11-25T08:30:00.123Z"). */
void wd_now_iso(char out[32]);

/* Hex SHA-1 (the git object hash of raw bytes, via libgit2) of data: out is 41 bytes. */
int wd_hash_hex(char out[41], const void *data, size_t len);

/* `n` random bytes rendered as 2n lowercase hex characters into out (2n+1 bytes). */
int wd_random_hex(char *out, size_t n);

#endif
