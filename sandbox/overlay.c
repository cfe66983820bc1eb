/*
 * The overlay work tree: read-only lower layers (the base checkout, the
 * baseline's build output) under a fresh upper layer per round, mounted in
 * the child's own mount namespace, so that rounds are incremental and
 * isolated at once.
 *
 * The layers' paths are never spliced into an option string: a cache
 * directory may hold ',' ':' or '\\', which overlayfs (and the old mount
 * data format) would take as separators or escapes. The child opens each
 * layer and names it as /proc/self/fd/N instead. In a user namespace
 * overlayfs needs "userxattr" (whiteouts and opaque directories are then
 * user.overlay.* attributes; without it, removing a lower directory fails
 * with EIO).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "sbx.h"

/* ------------------------------------------------------------- child side */

static char ovl_why[192];

static void fd_name(char *out, size_t size, int fd)
{
	char n[16];

	sbx_strlcpy(out, "/proc/self/fd/", size);
	sbx_utoa(n, sizeof(n), (unsigned long)fd);
	sbx_strlcat(out, n, size);
}

/* The kernel's own words for a failed overlay (read from the fs context's
 * log), else `what`. */
static const char *fs_why(int fs, const char *what)
{
	char msg[160];
	ssize_t n;

	sbx_strlcpy(ovl_why, what, sizeof(ovl_why));
	if (fs < 0)
		return ovl_why;
	/* one message per read; the last one is usually the cause */
	while ((n = read(fs, msg, sizeof(msg) - 1)) > 0) {
		msg[n] = '\0';
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
		sbx_strlcpy(ovl_why, what, sizeof(ovl_why));
		sbx_strlcat(ovl_why, ": ", sizeof(ovl_why));
		/* "e overlay: ..." */
		sbx_strlcat(ovl_why, n > 2 && msg[1] == ' ' ? msg + 2 : msg, sizeof(ovl_why));
	}
	return ovl_why;
}

static int set_string(int fs, const char *key, const char *value)
{
	return fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0);
}

int sbx_overlay_mount(const sbx_plan *p, const char **why)
{
	int fds[SBX_MAX_LAYERS + 2];
	size_t nfd = 0, nlower = p->novl_lower;
	char name[32], lower[SBX_MAX_LAYERS * 24];
	int fs = -1, mnt = -1, one_by_one = 1;

	if (nlower == 0 || nlower > SBX_MAX_LAYERS) {
		*why = "overlay: no lower layer, or too many";
		return -1;
	}
	for (size_t i = 0; i < SBX_MAX_LAYERS + 2; i++)
		fds[i] = -1;
	/* the lower layers, then the upper one, then overlayfs's work dir */
	for (size_t i = 0; i < nlower + 2; i++) {
		const char *path = i < nlower ? p->ovl_lower[i] : i == nlower ? p->ovl_upper : p->ovl_work;

		fds[nfd] = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fds[nfd] < 0) {
			sbx_strlcpy(ovl_why, "cannot open the overlay layer ", sizeof(ovl_why));
			sbx_strlcat(ovl_why, path, sizeof(ovl_why));
			*why = ovl_why;
			goto out;
		}
		nfd++;
	}
	fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0) {
		*why = fs_why(-1, errno == ENODEV ? "this kernel has no overlayfs" :
		                  "cannot create an overlay (fsopen)");
		goto out;
	}
	/* topmost first; "lowerdir+" (Linux 6.8+) takes one layer at a time,
	 * else one "lowerdir" value of at most 255 bytes holds them all */
	lower[0] = '\0';
	for (size_t i = 0; i < nlower; i++) {
		fd_name(name, sizeof(name), fds[i]);
		if (one_by_one && set_string(fs, "lowerdir+", name) < 0) {
			if (i > 0 || errno != EINVAL) {
				*why = fs_why(fs, "overlay: bad lower layer");
				goto out;
			}
			one_by_one = 0;
			(void)fs_why(fs, "");  /* drop the "unknown parameter" message */
		}
		if (i)
			sbx_strlcat(lower, ":", sizeof(lower));
		sbx_strlcat(lower, name, sizeof(lower));
	}
	if (!one_by_one && (strlen(lower) > 255 || set_string(fs, "lowerdir", lower) < 0)) {
		*why = fs_why(fs, strlen(lower) > 255 ? "overlay: too many lower layers for this kernel" :
		                                        "overlay: bad lower layers");
		goto out;
	}
	fd_name(name, sizeof(name), fds[nlower]);
	if (set_string(fs, "upperdir", name) < 0) {
		*why = fs_why(fs, "overlay: bad upper layer");
		goto out;
	}
	fd_name(name, sizeof(name), fds[nlower + 1]);
	if (set_string(fs, "workdir", name) < 0) {
		*why = fs_why(fs, "overlay: bad work directory");
		goto out;
	}
	if (fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) {
		*why = fs_why(fs, "overlay: no userxattr (needs Linux 5.11+)");
		goto out;
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		*why = fs_why(fs, "cannot mount the overlay");
		goto out;
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		*why = fs_why(fs, "cannot mount the overlay (fsmount)");
out:
	if (fs >= 0)
		close(fs);
	for (size_t i = 0; i < nfd; i++)
		close(fds[i]);
	return mnt;
}
