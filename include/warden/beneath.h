#ifndef WARDEN_BENEATH_H
#define WARDEN_BENEATH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "warden/buf.h"

/*
 * File-system primitives for trees that untrusted code may have changed: a
 * check's work tree, a layer a check wrote, a checkout of a hostile
 * repository. warden's own (unconfined) process touches such a tree only
 * through these calls (and wd_rm_rf), never with a plain path.
 *
 * The root directory (`root`, opened with wd_root_open) is trusted: warden
 * made it. Nothing below it is. No symbolic link below the root is ever
 * followed, to read or to write; no FIFO, socket or device below it is ever
 * opened, so nothing can block; what is read is capped. Paths are resolved
 * with openat2(2) (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS) where the kernel has it (Linux 5.6+), else by a
 * component-by-component O_NOFOLLOW walk with the same outcome.
 *
 * A relative path `rel` must be non-empty, relative, without "..", "." or
 * empty components (so no "//" and no trailing '/'), each component at most
 * 255 bytes, the whole at most 4095 bytes (4096 with its terminator). Such
 * paths usually come from untrusted input (a patch, a check's
 * configuration), so a malformed one is WD_EINPUT, never WD_EUSAGE.
 *
 * Errors, for every call that takes `rel`:
 *   WD_EINPUT     `rel` is malformed (above)
 *   WD_EREFUSED   a symbolic link on the way to `rel` (a component before the
 *                 last), or an attempt to leave the root
 *   WD_ENOTFOUND  a component on the way is missing or is not a directory
 *                 (the mutating calls create or replace those instead)
 *   WD_ENOMEM     out of memory
 *   WD_EINFRA     anything else the kernel said (permission, I/O, space)
 * and the message names `rel`. All calls are safe from several threads.
 */

/* Open the directory `path` as the root for the *_beneath calls
 * (O_PATH | O_DIRECTORY | O_CLOEXEC). `path` itself is trusted and may
 * contain symbolic links. *out_fd is set on success; close it with close(2).
 * WD_ENOTFOUND when `path` is missing, WD_EINFRA when it is not a
 * directory or cannot be opened. */
int wd_root_open(int *out_fd, const char *path);

/* Append the contents of the regular file `rel` beneath `root` to `out`.
 * The file is opened O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY only after
 * lstat says it is a regular file, and fstat must agree.
 * `max`: the most bytes accepted (0 = 64 MiB).
 * WD_EREFUSED when `rel` itself is a symbolic link, a FIFO, a socket, a
 * device or a directory (refused without opening it, so never blocking);
 * WD_EINPUT when the file is larger than `max`; WD_ENOTFOUND when it is
 * missing. On error `out` is left as it was. */
int wd_beneath_read(wd_buf *out, int root, const char *rel, size_t max);

/* lstat(2) of `rel` beneath `root` into *st: `rel` itself may be anything
 * (a symbolic link is described, not followed); the components before it
 * are resolved as above. WD_ENOTFOUND when it is missing. */
int wd_beneath_lstat(struct stat *st, int root, const char *rel);

/* Append the target of the symbolic link `rel` beneath `root` to `out`, as
 * stored (never followed); the components before it are resolved as above.
 * WD_EINPUT when `rel` is not a link, WD_ENOTFOUND when it is missing. */
int wd_beneath_readlink(wd_buf *out, int root, const char *rel);

/*
 * The mutating calls below share one rule set ("replacing"):
 *   - a missing parent directory is created with mode 0755 exactly;
 *   - a parent component that exists but is not a directory (a symbolic
 *     link, a file, a FIFO, anything) is removed and replaced by a new 0755
 *     directory; a symbolic link is unlinked, never followed;
 *   - whatever is at `rel` (file, symbolic link, FIFO, a whole directory
 *     tree) is replaced;
 *   - the new entry is made under a temporary name in the same directory
 *     and renamed into place (renameat), so a reader never sees it half made.
 * Nothing is fsync'd: these trees are disposable. Modes are set with fchmod,
 * so the umask does not apply. Errors as listed at the top; WD_ENOTFOUND
 * does not occur.
 */

/* Create or replace `rel` as a regular file holding data[0..len), its
 * permission bits exactly `mode & 07777`, mtime now. `mode` may carry file
 * type bits (a git mode such as 0100755), which are ignored; setuid, setgid
 * or sticky bits are WD_EREFUSED. */
int wd_beneath_write(int root, const char *rel, const void *data, size_t len, unsigned mode);

/* Create or replace `rel` as a symbolic link to `target`, stored verbatim and
 * never resolved. `target`: non-empty, at most 4095 bytes (else WD_EINPUT). */
int wd_beneath_symlink(int root, const char *rel, const char *target);

/* Create or replace `rel` as an overlayfs whiteout (a character device 0:0,
 * mode 0000; mknodat allows it unprivileged since Linux 5.8). */
int wd_beneath_whiteout(int root, const char *rel);

/* Make `rel` a directory (and its missing parents, 0755), its permission bits
 * exactly `mode & 07777` (setuid, setgid or sticky bits are WD_EREFUSED). A
 * directory already at `rel` is kept with its contents and given `mode`;
 * anything else there is replaced. */
int wd_beneath_mkdir(int root, const char *rel, unsigned mode);

/* Remove `rel`, whatever it is: a directory with everything in it (never
 * following a symbolic link inside; a directory without u+rwx is chmod'ed
 * u+rwx first; nesting of any depth, with a bounded number of open
 * descriptors), a symbolic link itself (never its target), a FIFO without
 * opening it. A missing `rel` (or a missing parent) is success; a symbolic
 * link on the way is WD_EREFUSED. It stops at the first entry it cannot
 * remove (WD_EINFRA, naming it). */
int wd_beneath_remove(int root, const char *rel);

/*
 * Glob patterns, for wd_glob_match and wd_beneath_glob:
 *   '*'      any characters but '/'
 *   '?'      one character but '/'
 *   '[...]'  one character but '/' from the set: ranges "a-z", negation with
 *            a leading '!' or '^', a leading ']' is literal; no escapes and no
 *            "[:class:]" names inside; an unclosed '[' is literal
 *   '**'     as a whole component (alone, or next to a '/' on each side it
 *            has): any number of components, zero included, so "src/" "**"
 *            "/x.c" (one pattern, split here only for the C comment) matches
 *            both "src/x.c" and "src/a/b/x.c"; elsewhere ("a**b") any
 *            characters, '/' included
 *   '\c'     the character c
 * Anchored at both ends. Unlike glob(3), a leading '.' needs no explicit
 * match ("*" matches ".hidden"), and there is no brace expansion. Matching
 * is a set-of-states simulation: O(pattern length x path length) time at
 * worst, never exponential backtracking. The patch engine's scope globs use
 * the same syntax.
 */

/* Whether `path` matches `pattern`: 1 yes, 0 no (also when out of memory). */
int wd_glob_match(const char *pattern, const char *path);

/* Append to `out` the relative paths ("a/b.xml") of the regular files beneath
 * `root` that match `pattern`: sorted with strcmp, at most `max` of them
 * (0 = 1000; the first ones in that order). Leading "./" in the pattern are
 * ignored. Symbolic links are never followed nor listed, nor are FIFOs,
 * sockets or devices; directories are entered only when the pattern can
 * match something below them. The walk is bounded: 64 levels, 100000
 * entries visited, paths of at most 4095 bytes; past a bound it stops
 * quietly with what it found. A directory it cannot open is skipped.
 * WD_EINPUT when the pattern is empty, absolute or has a ".." component. */
int wd_beneath_glob(wd_strvec *out, int root, const char *pattern, size_t max);

/* What wd_beneath_copy did. */
typedef struct wd_copy_stats {
	size_t files;     /* regular files and whiteouts copied */
	size_t dirs;      /* directories copied (not counting the root) */
	size_t links;     /* symbolic links recreated */
	size_t skipped;   /* FIFOs, sockets, devices, entries it could not read,
	                   * and whatever lies deeper than 256 levels */
	size_t reflinked; /* of `files`, those shared with FICLONE */
	uint64_t bytes;   /* the sizes of the regular files copied */
} wd_copy_stats;

/* Copy the contents of the tree under `src_root` (a hostile layer) into the
 * directory `dst_root` (which warden just created, empty; its own mode and
 * times are left alone). Directories are recreated; regular files are cloned
 * (FICLONE) where the file system can, else copied with copy_file_range,
 * else read and written; symbolic links are recreated as symbolic links with
 * the same target, never followed; overlayfs whiteouts (char 0:0) are
 * recreated as whiteouts, and a directory's overlayfs "opaque" mark
 * (user.overlay.opaque, trusted.overlay.opaque) is kept; FIFOs, sockets and
 * devices are skipped without being opened. Permission bits are kept but
 * setuid and setgid; atimes and mtimes are kept to the nanosecond (build
 * tools compare them). Hard links become separate files. A source directory
 * or file it may not read (EACCES) is skipped. 256 levels at most.
 * `st` may be NULL; it is filled (zeroed first) even on error.
 * WD_EINFRA when the destination cannot be written, WD_ENOMEM. */
int wd_beneath_copy(wd_copy_stats *st, int src_root, int dst_root);

#endif
