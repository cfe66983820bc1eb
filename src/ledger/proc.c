/* Which process writes a ledger, so that a run with no end can be told
 * apart: still running (its process is there) or interrupted (gone, e.g.
 * kill -9). The process's start time guards against a reused pid. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/fs.h"
#include "warden/ledger.h"

/* Field 22 of /proc/PID/stat (clock ticks since boot); 0 when unknown. */
static unsigned long long start_ticks(long pid)
{
	char path[64];
	wd_buf b = WD_BUF_INIT;
	unsigned long long v = 0;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (wd_file_read(&b, path, 4096) != 0 || !b.ptr)
		goto out;
	/* the command name may hold spaces and parentheses: count from the last ')' */
	p = strrchr(b.ptr, ')');
	for (int field = 2; p && *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (p && *p)
		v = strtoull(p, NULL, 10);
out:
	wd_buf_free(&b);
	return v;
}

json_t *wd_ledger_process_json(void)
{
	char host[256] = "";
	long pid = (long)getpid();

	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	return json_pack("{s:I, s:I, s:s}", "pid", (json_int_t)pid, "start",
	                 (json_int_t)start_ticks(pid), "host", host);
}

int wd_ledger_process_alive(const json_t *proc)
{
	char host[256] = "";
	json_int_t pid = json_integer_value(json_object_get(proc, "pid"));
	json_int_t start = json_integer_value(json_object_get(proc, "start"));
	const char *h = json_string_value(json_object_get(proc, "host"));

	if (!json_is_object(proc) || pid <= 1 || pid > 0x3fffffff)
		return 0;
	if (gethostname(host, sizeof(host) - 1) == 0 && h && strcmp(h, host) != 0)
		return 1;  /* another machine's run: not ours to call dead */
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return 0;
	return start <= 0 || (unsigned long long)start == start_ticks((long)pid);
}
