/*
 * Limits through a cgroup of its own, when warden may make one: a process
 * count that also holds for root (the kernel exempts uid 0 from
 * RLIMIT_NPROC, even inside a user namespace) and a memory limit on what
 * the whole tree really uses rather than on each process's address space.
 *
 * cgroup v2: a delegated directory whose cgroup.subtree_control already
 * enables pids (and memory); the child is cloned straight into the new
 * group (CLONE_INTO_CGROUP), and cgroup.kill ends it.
 * cgroup v1: the pids and memory hierarchies, when writable (root); the
 * child joins by writing "0" to each group's "tasks" before anything else:
 * it is single-threaded then, and moving one thread (unlike a whole process
 * through cgroup.procs) skips the global threadgroup lock, whose first
 * writer waits a whole RCU grace period (~15 ms here).
 * Otherwise: rlimits only, and the run says so.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/fs.h"
#include "sbx.h"

/* The mount point of the hierarchy: cgroup2 (controller NULL) or the v1
 * hierarchy holding `controller`; `root` gets the mount's root path. */
static int find_mount(wd_buf *mnt, wd_buf *root, const wd_buf *mountinfo, const char *controller)
{
	char *save = NULL;
	wd_buf copy = WD_BUF_INIT;
	int found = 0;

	if (wd_buf_put(&copy, mountinfo->ptr, mountinfo->len) != 0)
		return 0;
	for (char *line = strtok_r(copy.ptr, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char *dash = strstr(line, " - ");
		char *f[6] = { 0 }, *tail, *fs, *super, *s2 = NULL;
		int i = 0;

		if (!dash)
			continue;
		*dash = '\0';
		for (char *t = strtok_r(line, " ", &s2); t && i < 6; t = strtok_r(NULL, " ", &s2))
			f[i++] = t;
		if (i < 5)
			continue;
		tail = dash + 3;
		fs = strtok_r(tail, " ", &s2);
		strtok_r(NULL, " ", &s2); /* source */
		super = strtok_r(NULL, " ", &s2);
		if (!fs)
			continue;
		if (!controller) {
			found = !strcmp(fs, "cgroup2");
		} else if (!strcmp(fs, "cgroup") && super) {
			char *s3 = NULL;

			for (char *o = strtok_r(super, ",", &s3); o; o = strtok_r(NULL, ",", &s3))
				if (!strcmp(o, controller))
					found = 1;
		}
		if (found && (wd_buf_sets(mnt, f[4]) != 0 || wd_buf_sets(root, f[3]) != 0))
			found = 0;
	}
	wd_buf_free(&copy);
	return found;
}

/* Our own group in a hierarchy: "0::/x" for v2, "N:a,pids:/x" for v1. */
static int own_path(wd_buf *out, const wd_buf *selfcg, const char *controller)
{
	char *save = NULL;
	wd_buf copy = WD_BUF_INIT;
	int found = 0;

	if (wd_buf_put(&copy, selfcg->ptr, selfcg->len) != 0)
		return 0;
	for (char *line = strtok_r(copy.ptr, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		if (!controller) {
			found = !strcmp(line, "0") && c1[1] == '\0';
		} else {
			char *s3 = NULL;

			for (char *o = strtok_r(c1 + 1, ",", &s3); o; o = strtok_r(NULL, ",", &s3))
				if (!strcmp(o, controller))
					found = 1;
		}
		if (found && wd_buf_sets(out, c2 + 1) != 0)
			found = 0;
	}
	wd_buf_free(&copy);
	return found;
}

static int write_str(const char *dir, const char *file, const char *value)
{
	char path[4096];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		rc = -1;
	close(fd);
	return rc;
}

/* Remove groups left by a warden that was killed before it could clean up:
 * empty ones (rmdir refuses the others) older than ten minutes, so that a
 * group another run has just made and not yet joined is never touched. */
static void sweep_stale(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;

		if (strncmp(e->d_name, "warden-", 7) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && now - st.st_mtime > 600)
			rmdir(path);
	}
	closedir(d);
}

/* mkdir <hierarchy>/<own group>/<name>; the new directory is returned. */
static char *make_group(const wd_buf *mountinfo, const wd_buf *selfcg, const char *controller,
                        const char *name)
{
	wd_buf mnt = WD_BUF_INIT, root = WD_BUF_INIT, own = WD_BUF_INIT, dir = WD_BUF_INIT;
	char *out = NULL;
	const char *rel;

	if (!find_mount(&mnt, &root, mountinfo, controller) || !own_path(&own, selfcg, controller))
		goto done;
	rel = own.ptr;
	/* the mount may show a sub-tree (a cgroup namespace): strip its root */
	if (strcmp(root.ptr, "/") != 0 && !strncmp(rel, root.ptr, root.len))
		rel += root.len;
	if (wd_buf_printf(&dir, "%s%s%s", mnt.ptr, *rel == '/' ? "" : "/", rel) != 0)
		goto done;
	sweep_stale(dir.ptr);
	if (wd_buf_printf(&dir, "/%s", name) != 0)
		goto done;
	if (!controller) {
		/* v2: our group must already hand pids to its children */
		wd_buf ctl = WD_BUF_INIT, path = WD_BUF_INIT;
		int ok = wd_buf_printf(&path, "%s%s%s/cgroup.subtree_control", mnt.ptr,
		                       *rel == '/' ? "" : "/", rel) == 0 &&
		         wd_file_read(&ctl, path.ptr, 4096) == 0 && strstr(ctl.ptr, "pids");

		wd_buf_free(&ctl);
		wd_buf_free(&path);
		if (!ok)
			goto done;
	}
	if (mkdir(dir.ptr, 0755) == 0)
		out = wd_buf_detach(&dir);
done:
	wd_error_clear();
	wd_buf_free(&mnt);
	wd_buf_free(&root);
	wd_buf_free(&own);
	wd_buf_free(&dir);
	return out;
}

int sbx_cgroup_setup(sbx_cgroup *cg, uint64_t memory_bytes, unsigned long pids, wd_buf *why)
{
	wd_buf mountinfo = WD_BUF_INIT, selfcg = WD_BUF_INIT;
	char name[64], rnd[17], num[32];
	int rc = -1;

	memset(cg, 0, sizeof(*cg));
	cg->dir_fd = cg->procs_fd[0] = cg->procs_fd[1] = -1;
	if (wd_random_hex(rnd, 8) != 0 ||
	    wd_file_read(&mountinfo, "/proc/self/mountinfo", 0) != 0 ||
	    wd_file_read(&selfcg, "/proc/self/cgroup", 0) != 0) {
		wd_error_clear();
		wd_buf_puts(why, "cannot read /proc/self/cgroup");
		goto out;
	}
	snprintf(name, sizeof(name), "warden-%s", rnd);

	cg->dir[0] = make_group(&mountinfo, &selfcg, NULL, name);
	if (cg->dir[0]) {
		cg->version = 2;
		snprintf(num, sizeof(num), "%lu", pids);
		cg->has_pids = write_str(cg->dir[0], "pids.max", num) == 0;
		if (memory_bytes) {
			snprintf(num, sizeof(num), "%llu", (unsigned long long)memory_bytes);
			cg->has_memory = write_str(cg->dir[0], "memory.max", num) == 0;
			write_str(cg->dir[0], "memory.swap.max", "0");
		}
		/* the directory for CLONE_INTO_CGROUP; cgroup.procs for a child
		 * that had to be started another way */
		cg->dir_fd = open(cg->dir[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		{
			char path[4096];

			snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dir[0]);
			cg->procs_fd[0] = open(path, O_WRONLY | O_CLOEXEC);
		}
		rc = cg->has_pids && cg->dir_fd >= 0 && cg->procs_fd[0] >= 0 ? 0 : -1;
		if (rc)
			wd_buf_puts(why, "cannot configure the cgroup v2 group");
		goto out;
	}
	cg->dir[0] = make_group(&mountinfo, &selfcg, "pids", name);
	if (!cg->dir[0]) {
		wd_buf_puts(why, "no cgroup v2 group with delegated controllers and no writable "
		                 "cgroup v1 pids hierarchy");
		goto out;
	}
	cg->version = 1;
	snprintf(num, sizeof(num), "%lu", pids);
	cg->has_pids = write_str(cg->dir[0], "pids.max", num) == 0;
	if (memory_bytes) {
		cg->dir[1] = make_group(&mountinfo, &selfcg, "memory", name);
		if (cg->dir[1]) {
			snprintf(num, sizeof(num), "%llu", (unsigned long long)memory_bytes);
			cg->has_memory = write_str(cg->dir[1], "memory.limit_in_bytes", num) == 0;
			write_str(cg->dir[1], "memory.memsw.limit_in_bytes", num);
		}
	}
	for (int i = 0; i < 2; i++) {
		char path[4096];

		if (!cg->dir[i])
			continue;
		snprintf(path, sizeof(path), "%s/tasks", cg->dir[i]);
		cg->procs_fd[i] = open(path, O_WRONLY | O_CLOEXEC);
		if (cg->procs_fd[i] < 0)
			cg->has_memory = i == 1 ? 0 : cg->has_memory;
	}
	rc = cg->has_pids && cg->procs_fd[0] >= 0 ? 0 : -1;
	if (rc)
		wd_buf_puts(why, "cannot configure the cgroup v1 pids group");
out:
	wd_buf_free(&mountinfo);
	wd_buf_free(&selfcg);
	if (rc)
		sbx_cgroup_cleanup(cg);
	return rc;
}

/* The number after `key` in a "key value" file of the group, 0 if none. */
static unsigned long read_count(const char *dir, const char *file, const char *key)
{
	wd_buf b = WD_BUF_INIT, path = WD_BUF_INIT;
	unsigned long n = 0;
	size_t klen = strlen(key);

	if (dir && wd_buf_printf(&path, "%s/%s", dir, file) == 0 &&
	    wd_file_read(&b, path.ptr, 65536) == 0) {
		for (const char *l = b.ptr; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			if (!strncmp(l, key, klen) && l[klen] == ' ') {
				n = strtoul(l + klen + 1, NULL, 10);
				break;
			}
		}
	}
	wd_error_clear();
	wd_buf_free(&b);
	wd_buf_free(&path);
	return n;
}

void sbx_cgroup_events(const sbx_cgroup *cg, unsigned long *oom_kills, unsigned long *pids_max_hits)
{
	*oom_kills = 0;
	*pids_max_hits = 0;
	if (cg->version == 2) {
		*oom_kills = read_count(cg->dir[0], "memory.events", "oom_kill");
		*pids_max_hits = read_count(cg->dir[0], "pids.events", "max");
	} else if (cg->version == 1) {
		*oom_kills = read_count(cg->dir[1], "memory.oom_control", "oom_kill");
		*pids_max_hits = read_count(cg->dir[0], "pids.events", "max");
	}
}

/* Kill what is left in a group and remove it; the processes of a dying pid
 * namespace take a moment to leave, so rmdir is retried briefly. */
static void remove_group(const char *dir, int v2)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	if (v2)
		write_str(dir, "cgroup.kill", "1");
	for (int i = 0; i < 250; i++) {
		wd_buf procs = WD_BUF_INIT, path = WD_BUF_INIT;

		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		if (!v2 && wd_buf_printf(&path, "%s/cgroup.procs", dir) == 0 &&
		    wd_file_read(&procs, path.ptr, 0) == 0) {
			for (const char *q = wd_buf_cstr(&procs); *q;) {
				char *end;
				long pid = strtol(q, &end, 10);

				if (end == q) {
					q++;
					continue;
				}
				if (pid > 0)
					kill((pid_t)pid, SIGKILL);
				q = end;
			}
		}
		wd_error_clear();
		wd_buf_free(&procs);
		wd_buf_free(&path);
		nanosleep(&ts, NULL);
	}
}

void sbx_cgroup_cleanup(sbx_cgroup *cg)
{
	for (int i = 0; i < 2; i++) {
		if (cg->procs_fd[i] >= 0)
			close(cg->procs_fd[i]);
		cg->procs_fd[i] = -1;
		if (cg->dir[i])
			remove_group(cg->dir[i], cg->version == 2);
		free(cg->dir[i]);
		cg->dir[i] = NULL;
	}
	if (cg->dir_fd >= 0)
		close(cg->dir_fd);
	cg->dir_fd = -1;
	cg->version = 0;
}
