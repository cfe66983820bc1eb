/*
 * Running many instances: one at a time in this process, or `jobs` at once,
 * each in a process of its own (its own run, work tree and sandbox; a crash
 * in one cannot take the others down) pinned to its share of the CPUs. The
 * parent only starts workers, reads their result files and reports.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "warden/error.h"
#include "warden/eval.h"
#include "warden/fs.h"

#define RESULT_MAX ((size_t)16 << 20)

struct worker {
	pid_t pid;
	size_t pos;      /* the instance's position in the dataset */
	unsigned slot;   /* which share of the CPUs */
	uint64_t started_ms;
};

/* Pin this process to every jobs-th CPU it may use, starting at `slot`, so
 * that N workers (and the builds and tests they run) share the machine
 * instead of all of them contending for every core. */
static void pin_to_share(unsigned slot, unsigned jobs)
{
	cpu_set_t all, mine;
	unsigned seen = 0, kept = 0;

	if (jobs < 2 || sched_getaffinity(0, sizeof(all), &all) != 0)
		return;
	if ((unsigned)CPU_COUNT(&all) < jobs)
		return;
	CPU_ZERO(&mine);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &all))
			continue;
		if (seen++ % jobs == slot) {
			CPU_SET(c, &mine);
			kept++;
		}
	}
	if (kept)
		(void)sched_setaffinity(0, sizeof(mine), &mine);
}

static int result_path(wd_buf *out, const char *dir, size_t pos)
{
	wd_buf_clear(out);
	return wd_buf_printf(out, "%s/%zu.json", dir, pos);
}

/* In the child: run, write the result file, leave without running the
 * parent's exit handlers. */
static void worker_main(const wd_eval_dataset *ds, size_t pos, const wd_eval_opts *opts,
                        const char *dir, unsigned slot)
{
	wd_buf path = WD_BUF_INIT;
	json_t *res = NULL;
	char *s = NULL;
	int code = 1;

	pin_to_share(slot, opts->jobs);
	if (wd_eval_run_instance(&res, &ds->v[pos], ds, opts) == 0 &&
	    (s = json_dumps(res, JSON_COMPACT)) != NULL && result_path(&path, dir, pos) == 0 &&
	    wd_file_write_atomic(path.ptr, s, strlen(s), 0600) == 0)
		code = 0;
	free(s);
	json_decref(res);
	wd_buf_free(&path);
	_exit(code);
}

/* A worker that died or wrote nothing still leaves a result: an error of the
 * harness, not of the instance, so it is marked "retry" and --resume runs it
 * again. */
static json_t *lost_result(const wd_eval_dataset *ds, const struct worker *wk,
                           const wd_eval_opts *opts, int status)
{
	size_t pos = wk->pos;
	char why[160];

	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "the worker died of signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else
		snprintf(why, sizeof(why), "the worker exited %d without a result",
		         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:f, s:I, s:b, s:s, s:I, s:I, "
	                 "s:s, s:I}",
	                 "instance_id", ds->v[pos].id, "status", "error", "reason", why,
	                 "model", opts->model, "run_status", "error", "rounds", 0,
	                 "input_tokens", (json_int_t)0, "output_tokens", (json_int_t)0,
	                 "cost_usd", 0.0, "wall_ms", (json_int_t)(wd_now_ms() - wk->started_ms),
	                 "retry", 1, "dataset", ds->sha1,
	                 "dataset_size", (json_int_t)ds->n, "index", (json_int_t)pos,
	                 "shard", opts->shard ? opts->shard : "1/1",
	                 "shard_size", (json_int_t)(opts->shard_size ? opts->shard_size : ds->n));
}

static int collect(const wd_eval_dataset *ds, const struct worker *wk, int status,
                   const char *dir, const wd_eval_opts *opts)
{
	wd_buf path = WD_BUF_INIT, text = WD_BUF_INIT;
	json_t *res = NULL;
	json_error_t jerr;
	int rc;

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    result_path(&path, dir, wk->pos) == 0 &&
	    wd_file_read(&text, path.ptr, RESULT_MAX) == 0)
		res = json_loadb(text.ptr ? text.ptr : "", text.len, 0, &jerr);
	if (path.ptr)
		(void)unlink(path.ptr);
	if (!json_is_object(res)) {
		json_decref(res);
		res = lost_result(ds, wk, opts, status);
		(void)wd_eval_instance_cleanup(&ds->v[wk->pos], ds, opts, wk->pid);
	}
	wd_buf_free(&path);
	wd_buf_free(&text);
	if (!res)
		return wd_error_set(WD_ENOMEM, "out of memory");
	rc = opts->on_result ? opts->on_result(opts->payload, res) : 0;
	json_decref(res);
	return rc;
}

static int run_serial(const wd_eval_dataset *ds, const size_t *todo, size_t n,
                      const wd_eval_opts *opts)
{
	for (size_t i = 0; i < n; i++) {
		json_t *res = NULL;
		int rc = wd_eval_run_instance(&res, &ds->v[todo[i]], ds, opts);

		if (!rc && opts->on_result)
			rc = opts->on_result(opts->payload, res);
		json_decref(res);
		if (rc)
			return rc;
	}
	return 0;
}

static int make_tmp(wd_buf *out, const wd_eval_opts *opts)
{
	int rc;

	if (opts->work_dir && *opts->work_dir)
		rc = wd_buf_sets(out, opts->work_dir);
	else
		rc = wd_cache_dir(out);
	if (rc || (rc = wd_buf_puts(out, "/eval")) != 0 || (rc = wd_mkdir_p(out->ptr, 1)) != 0 ||
	    (rc = wd_buf_puts(out, "/results-XXXXXX")) != 0)
		return rc;
	if (!mkdtemp(out->ptr))
		return wd_error_errno(WD_EINFRA, "making the workers' result directory");
	return 0;
}

/* Wait for one worker, report it and free its slot. */
static int reap(const wd_eval_dataset *ds, struct worker *wk, unsigned jobs, unsigned *running,
                const char *dir, const wd_eval_opts *opts)
{
	int status = 0;
	pid_t pid;

	do
		pid = waitpid(-1, &status, 0);
	while (pid < 0 && errno == EINTR);
	if (pid < 0)
		return wd_error_errno(WD_EINFRA, "waiting for a worker");
	for (unsigned s = 0; s < jobs; s++) {
		int rc;

		if (wk[s].pid != pid)
			continue;
		(*running)--;
		rc = collect(ds, &wk[s], status, dir, opts);
		wk[s].pid = 0;
		return rc;
	}
	return 0; /* not one of ours */
}

int wd_eval_run(const wd_eval_dataset *ds, const size_t *todo, size_t n, const wd_eval_opts *opts)
{
	unsigned jobs = opts->jobs ? opts->jobs : 1;
	struct worker *wk;
	wd_buf dir = WD_BUF_INIT;
	unsigned running = 0;
	size_t next = 0;
	int rc;

	if (jobs == 1 || n <= 1)
		return run_serial(ds, todo, n, opts);
	if (!(wk = calloc(jobs, sizeof(*wk))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	if ((rc = make_tmp(&dir, opts)) != 0)
		goto out;
	while (!rc && (next < n || running > 0)) {
		unsigned s = 0;

		if (next < n && running < jobs) {
			while (wk[s].pid)
				s++;
			wk[s].pos = todo[next];
			wk[s].slot = s;
			wk[s].started_ms = wd_now_ms();
			wk[s].pid = fork();
			if (wk[s].pid < 0) {
				wk[s].pid = 0;
				rc = wd_error_errno(WD_EINFRA, "starting a worker");
				break;
			}
			if (wk[s].pid == 0)
				worker_main(ds, todo[next], opts, dir.ptr, s);
			running++;
			next++;
			continue;
		}
		rc = reap(ds, wk, jobs, &running, dir.ptr, opts);
	}
	/* on an error, the workers already started still finish and are reported */
	while (running > 0 && reap(ds, wk, jobs, &running, dir.ptr, opts) == 0)
		;
	if (dir.ptr)
		(void)rmdir(dir.ptr);
out:
	free(wk);
	wd_buf_free(&dir);
	return rc;
}
