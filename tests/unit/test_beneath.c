/*
 * warden/beneath.h and wd_rm_rf against a tree a hostile check left behind:
 * symbolic links to host files and directories, FIFOs, sockets, huge files,
 * directories chmod'ed 000, deep nesting. Each attack stands beside its
 * control, showing that plain open()/fopen()/unlink()/glob(3) on the same
 * tree would have followed the link or blocked.
 *
 * Layout of every test (a fresh temporary directory):
 *   tree/          the root (trusted itself; nothing below it is)
 *   host/secret    "SECRET\n", standing for ~/.ssh/authorized_keys
 *   host/dir/keep  a host directory with a file in it
 *
 * The read, write and remove tests run four times: with openat2, with the
 * component walk the code takes where openat2 is missing, and both again
 * as an unprivileged user (uid 65534) when the suite runs as root, because
 * root reads and searches any directory whatever its mode.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "warden/beneath.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "../../src/core/beneath_int.h"

#define NOBODY 65534

static char *tmp;
static char tree[PATH_MAX], host[PATH_MAX];
static int root = -1;

/* ------------------------------------------------------------ fixtures */

/* out = a "/" b, asserting it fits (checking the length also keeps
 * -Wformat-truncation quiet). */
static void join(char *out, const char *a, const char *b)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", a, b);

	ck_assert(n > 0 && n < PATH_MAX);
}

static void make_world(void)
{
	char p[PATH_MAX];

	ck_assert_int_eq(fx_tmpdir(&tmp), 0);
	join(tree, tmp, "tree");
	join(host, tmp, "host");
	ck_assert_int_eq(mkdir(tree, 0755), 0);
	join(p, host, "secret");
	ck_assert_int_eq(fx_write_file(p, "SECRET\n"), 0);
	join(p, host, "dir/keep");
	ck_assert_int_eq(fx_write_file(p, "keep\n"), 0);
	ck_assert_int_eq(wd_root_open(&root, tree), 0);
}

static void drop_to_nobody(void)
{
	if (geteuid() != 0)
		return;
	ck_assert_int_eq(setgroups(0, NULL), 0);
	ck_assert_int_eq(setgid(NOBODY), 0);
	ck_assert_int_eq(setuid(NOBODY), 0);
	/* changing credentials made the process non-dumpable, which locks it out
	 * of its own /proc/self/fd and LeakSanitizer out of its threads */
	ck_assert_int_eq(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
}

static void setup(void)
{
	make_world();
}

static void setup_walk(void)
{
	wd_beneath__force_walk(1);
	make_world();
}

static void setup_user(void)
{
	drop_to_nobody();
	make_world();
}

static void setup_user_walk(void)
{
	drop_to_nobody();
	wd_beneath__force_walk(1);
	make_world();
}

static void teardown(void)
{
	if (root >= 0)
		close(root);
	root = -1;
	fx_rm_rf(tmp);
	free(tmp);
	tmp = NULL;
}

/* ------------------------------------------------------------- helpers */

/* tree/rel or host/rel as an absolute path (a few rotating buffers). */
static const char *in(const char *base, const char *rel)
{
	static char bufs[8][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 8];

	join(b, base, rel);
	return b;
}

#define T(rel) in(tree, rel)
#define H(rel) in(host, rel)

static void put(const char *abs, const char *content)
{
	ck_assert_int_eq(fx_write_file(abs, content), 0);
}

static char *slurp(const char *abs)
{
	char *s = NULL;

	return fx_read_file(&s, abs) == 0 ? s : NULL;
}

static void assert_content(const char *abs, const char *want)
{
	char *s = slurp(abs);

	ck_assert_msg(s != NULL, "%s unreadable", abs);
	ck_assert_str_eq(s, want);
	free(s);
}

static void assert_host_intact(void)
{
	struct stat st;

	assert_content(H("secret"), "SECRET\n");
	assert_content(H("dir/keep"), "keep\n");
	ck_assert_int_eq(lstat(H("dir"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
}

static int count_entries(const char *abs)
{
	DIR *d = opendir(abs);
	struct dirent *e;
	int n = 0;

	ck_assert_msg(d != NULL, "%s: %s", abs, strerror(errno));
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static mode_t lmode(const char *abs)
{
	struct stat st;

	ck_assert_msg(lstat(abs, &st) == 0, "%s: %s", abs, strerror(errno));
	return st.st_mode;
}

static int exists(const char *abs)
{
	struct stat st;

	return lstat(abs, &st) == 0;
}

/* Run fn in a child process with a `ms` alarm: fn's result (0..255), or -1
 * when the alarm killed it, that is when it blocked. */
static int run_with_alarm(int (*fn)(void), int ms)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct itimerval it;

		memset(&it, 0, sizeof(it));
		it.it_value.tv_sec = ms / 1000;
		it.it_value.tv_usec = (ms % 1000) * 1000;
		signal(SIGALRM, SIG_DFL);
		setitimer(ITIMER_REAL, &it, NULL);
		_exit(fn() & 0xff);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		return -1;
	ck_assert_msg(WIFEXITED(status), "child died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* A chain of `depth` directories named `name` under `dir`, with a file at
 * every tenth level, made by descriptor (the path is far past PATH_MAX). */
static void make_chain(const char *dir, const char *name, int depth)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < depth; i++) {
		int next;

		ck_assert_int_eq(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		ck_assert_int_ge(next, 0);
		if (i % 10 == 9) {
			int f = openat(next, "f.txt", O_WRONLY | O_CREAT, 0644);

			ck_assert_int_ge(f, 0);
			close(f);
		}
		close(fd);
		fd = next;
	}
	close(fd);
}

static void limit_fds(rlim_t n)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = n;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

static void make_socket(const char *abs)
{
	struct sockaddr_un a;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(s, 0);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	ck_assert(strlen(abs) < sizeof(a.sun_path));
	memcpy(a.sun_path, abs, strlen(abs) + 1);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	close(s);
}

/* =============================================================== read */

START_TEST(read_appends_a_regular_file_and_reports_missing_ones)
{
	wd_buf b = WD_BUF_INIT;

	put(T("reports/junit.xml"), "<ok/>");
	put(T("afile"), "x");
	ck_assert_int_eq(wd_buf_puts(&b, "was:"), 0);
	ck_assert_int_eq(wd_beneath_read(&b, root, "reports/junit.xml", 0), 0);
	ck_assert_str_eq(b.ptr, "was:<ok/>");
	ck_assert_int_eq(wd_beneath_read(&b, root, "reports/none.xml", 0), WD_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "reports/none.xml"));
	ck_assert_int_eq(wd_beneath_read(&b, root, "nodir/x", 0), WD_ENOTFOUND);
	/* a file where a directory should be: ENOTDIR on the way */
	ck_assert_int_eq(wd_beneath_read(&b, root, "afile/x", 0), WD_ENOTFOUND);
	ck_assert_str_eq(b.ptr, "was:<ok/>");
	wd_buf_free(&b);

	/* an empty file gives an empty, non-NULL string */
	put(T("empty"), "");
	ck_assert_int_eq(wd_beneath_read(&b, root, "empty", 0), 0);
	ck_assert_ptr_nonnull(b.ptr);
	ck_assert_uint_eq(b.len, 0);
	wd_buf_free(&b);
}
END_TEST

START_TEST(read_refuses_a_symlink_at_the_leaf_to_a_host_file)
{
	wd_buf b = WD_BUF_INIT;
	char *ctl;

	ck_assert_int_eq(symlink(H("secret"), T("junit.xml")), 0);
	ck_assert_int_eq(symlink("../host/secret", T("rel.xml")), 0);
	/* control: fopen follows the link and reads the host's file */
	ctl = slurp(T("junit.xml"));
	ck_assert_ptr_nonnull(ctl);
	ck_assert_str_eq(ctl, "SECRET\n");
	free(ctl);

	ck_assert_int_eq(wd_beneath_read(&b, root, "junit.xml", 0), WD_EREFUSED);
	ck_assert_int_eq(wd_beneath_read(&b, root, "rel.xml", 0), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "rel.xml"));
	ck_assert(b.ptr == NULL || strstr(b.ptr, "SECRET") == NULL);
	wd_buf_free(&b);
}
END_TEST

START_TEST(read_refuses_a_symlinked_directory_on_the_way)
{
	wd_buf b = WD_BUF_INIT;
	char *ctl;

	ck_assert_int_eq(mkdir(T("build"), 0755), 0);
	ck_assert_int_eq(symlink(host, T("build/reports")), 0);
	ck_assert_int_eq(symlink("../../host", T("build/up")), 0);
	ctl = slurp(T("build/reports/secret"));
	ck_assert_ptr_nonnull(ctl); /* control: open() walks through the link */
	free(ctl);

	ck_assert_int_eq(wd_beneath_read(&b, root, "build/reports/secret", 0), WD_EREFUSED);
	ck_assert_int_eq(wd_beneath_read(&b, root, "build/up/secret", 0), WD_EREFUSED);
	ck_assert_int_eq(wd_beneath_read(&b, root, "build/up/dir/keep", 0), WD_EREFUSED);
	ck_assert_ptr_null(b.ptr);
}
END_TEST

static int plain_open_fifo(void)
{
	int fd = open(T("results.xml"), O_RDONLY);

	return fd >= 0 ? 0 : 1;
}

static int beneath_read_fifo(void)
{
	wd_buf b = WD_BUF_INIT;
	int rc = wd_beneath_read(&b, root, "results.xml", 0);

	wd_buf_free(&b);
	return rc == WD_EREFUSED ? 0 : 1;
}

START_TEST(read_refuses_a_fifo_without_blocking)
{
	wd_buf b = WD_BUF_INIT;

	ck_assert_int_eq(mkfifo(T("results.xml"), 0644), 0);
	/* control: a plain open of a FIFO with no writer never returns */
	ck_assert_int_eq(run_with_alarm(plain_open_fifo, 300), -1);
	ck_assert_int_eq(run_with_alarm(beneath_read_fifo, 2000), 0);
	ck_assert_int_eq(wd_beneath_read(&b, root, "results.xml", 0), WD_EREFUSED);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "FIFO"));
	ck_assert_ptr_null(b.ptr);
}
END_TEST

START_TEST(read_refuses_directories_sockets_and_devices)
{
	wd_buf b = WD_BUF_INIT;

	ck_assert_int_eq(mkdir(T("adir"), 0755), 0);
	make_socket(T("sock"));
	ck_assert_int_eq(wd_beneath_read(&b, root, "adir", 0), WD_EREFUSED);
	ck_assert_int_eq(wd_beneath_read(&b, root, "sock", 0), WD_EREFUSED);
	if (geteuid() == 0) { /* only root makes devices: a /dev/zero that never ends */
		ck_assert_int_eq(mknod(T("zero"), S_IFCHR | 0666, makedev(1, 5)), 0);
		ck_assert_int_eq(wd_beneath_read(&b, root, "zero", 0), WD_EREFUSED);
	}
	ck_assert_ptr_null(b.ptr);
}
END_TEST

START_TEST(read_caps_the_size)
{
	wd_buf b = WD_BUF_INIT;
	char big[1001];
	int fd;

	memset(big, 'x', 1000);
	big[1000] = '\0';
	put(T("big"), big);
	ck_assert_int_eq(wd_buf_puts(&b, "keep"), 0);
	ck_assert_int_eq(wd_beneath_read(&b, root, "big", 999), WD_EINPUT);
	ck_assert_ptr_nonnull(strstr(wd_error_last(), "big"));
	ck_assert_str_eq(b.ptr, "keep"); /* left as it was */
	ck_assert_int_eq(wd_beneath_read(&b, root, "big", 1000), 0);
	ck_assert_uint_eq(b.len, 1004);
	wd_buf_free(&b);

	/* 30 GB (sparse): refused by its size at once, never read; the default cap is 64 MiB */
	fd = open(T("huge"), O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)30 << 30), 0);
	close(fd);
	ck_assert_int_eq(wd_beneath_read(&b, root, "huge", 0), WD_EINPUT);
	fd = open(T("huge"), O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, ((off_t)64 << 20) + 1), 0);
	close(fd);
	ck_assert_int_eq(wd_beneath_read(&b, root, "huge", 0), WD_EINPUT);
	ck_assert_ptr_null(b.ptr);
}
END_TEST

START_TEST(every_call_refuses_malformed_paths_as_input_errors)
{
	char longpath[PATH_MAX + 8], longname[NAME_MAX + 2];
	const char *bad[] = { "", "/etc/passwd", "../host/secret", "a/../../host/secret", "..", ".",
	                      "./a", "a/./b", "a//b", "a/", "/", longpath, longname, NULL };
	wd_buf b = WD_BUF_INIT;
	struct stat st;

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	for (size_t i = 1; i < sizeof(longpath) - 1; i += 100)
		longpath[i] = '/';
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	put(T("a/b"), "b");
	for (size_t i = 0; bad[i]; i++) {
		const char *r = bad[i];

		ck_assert_msg(wd_beneath_read(&b, root, r, 0) == WD_EINPUT, "read '%.40s'", r);
		ck_assert_msg(wd_beneath_lstat(&st, root, r) == WD_EINPUT, "lstat '%.40s'", r);
		ck_assert_msg(wd_beneath_write(root, r, "x", 1, 0644) == WD_EINPUT, "write '%.40s'", r);
		ck_assert_msg(wd_beneath_symlink(root, r, "t") == WD_EINPUT, "symlink '%.40s'", r);
		ck_assert_msg(wd_beneath_whiteout(root, r) == WD_EINPUT, "whiteout '%.40s'", r);
		ck_assert_msg(wd_beneath_mkdir(root, r, 0755) == WD_EINPUT, "mkdir '%.40s'", r);
		ck_assert_msg(wd_beneath_remove(root, r) == WD_EINPUT, "remove '%.40s'", r);
	}
	ck_assert_ptr_null(b.ptr);
	assert_content(T("a/b"), "b");
	assert_host_intact();
	ck_assert_int_eq(count_entries(tree), 1);
	ck_assert_int_eq(count_entries(tmp), 2);
}
END_TEST

START_TEST(read_does_not_follow_proc_magic_links)
{
	wd_buf b = WD_BUF_INIT;
	char rel[PATH_MAX], *ctl;
	int proc, fd;

	ck_assert_int_eq(wd_root_open(&proc, "/proc/self"), 0);
	/* /proc/self/root is a magic link to "/": through it, any host file */
	ck_assert(snprintf(rel, sizeof(rel), "root%s/secret", host) < (int)sizeof(rel));
	ctl = slurp(in("/proc/self", rel));
	ck_assert_ptr_nonnull(ctl); /* control */
	free(ctl);
	ck_assert_int_eq(wd_beneath_read(&b, proc, rel, 0), WD_EREFUSED);
	/* /proc/self/fd/N names an open file whatever its path */
	fd = open(H("secret"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	snprintf(rel, sizeof(rel), "fd/%d", fd);
	ck_assert_int_eq(wd_beneath_read(&b, proc, rel, 0), WD_EREFUSED);
	snprintf(rel, sizeof(rel), "cwd/%s", "x");
	ck_assert_int_eq(wd_beneath_read(&b, proc, rel, 0), WD_EREFUSED);
	ck_assert_ptr_null(b.ptr);
	close(fd);
	close(proc);
}
END_TEST

START_TEST(lstat_describes_a_link_and_refuses_links_on_the_way)
{
	struct stat st;

	ck_assert_int_eq(symlink(H("secret"), T("link")), 0);
	ck_assert_int_eq(symlink(host, T("hostdir")), 0);
	ck_assert_int_eq(wd_beneath_lstat(&st, root, "link"), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(wd_beneath_lstat(&st, root, "hostdir/secret"), WD_EREFUSED);
	ck_assert_int_eq(wd_beneath_lstat(&st, root, "missing"), WD_ENOTFOUND);
}
END_TEST

START_TEST(readlink_reads_the_target_and_follows_nothing)
{
	wd_buf b = WD_BUF_INIT;

	put(T("file"), "x");
	ck_assert_int_eq(symlink(H("secret"), T("link")), 0);
	ck_assert_int_eq(symlink(host, T("hostdir")), 0);
	ck_assert_int_eq(wd_beneath_readlink(&b, root, "link"), 0);
	ck_assert_str_eq(b.ptr, H("secret"));
	wd_buf_clear(&b);
	ck_assert_int_eq(wd_beneath_readlink(&b, root, "file"), WD_EINPUT);
	ck_assert_int_eq(wd_beneath_readlink(&b, root, "missing"), WD_ENOTFOUND);
	/* a link on the way is not gone through to read one beyond it */
	ck_assert_int_eq(wd_beneath_readlink(&b, root, "hostdir/secret"), WD_EREFUSED);
	ck_assert_uint_eq(b.len, 0);
	wd_buf_free(&b);
}
END_TEST

START_TEST(root_open_follows_the_trusted_path_and_needs_a_directory)
{
	int fd;
	wd_buf b = WD_BUF_INIT;

	put(T("x"), "x");
	ck_assert_int_eq(symlink(tree, in(tmp, "alias")), 0);
	ck_assert_int_eq(wd_root_open(&fd, in(tmp, "alias")), 0);
	ck_assert_int_eq(wd_beneath_read(&b, fd, "x", 0), 0);
	ck_assert_str_eq(b.ptr, "x");
	close(fd);
	wd_buf_free(&b);
	ck_assert_int_eq(wd_root_open(&fd, in(tmp, "missing")), WD_ENOTFOUND);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(wd_root_open(&fd, T("x")), WD_EINFRA);
}
END_TEST

/* ============================================================== write */

START_TEST(write_replaces_a_symlink_at_the_leaf_and_leaves_the_host_file_alone)
{
	FILE *f;

	/* control: fopen("w") on a planted link writes into the host's file */
	put(H("victim"), "orig\n");
	ck_assert_int_eq(symlink(H("victim"), T("ctl")), 0);
	f = fopen(T("ctl"), "w");
	ck_assert_ptr_nonnull(f);
	fputs("pwned\n", f);
	fclose(f);
	assert_content(H("victim"), "pwned\n");

	ck_assert_int_eq(symlink(H("secret"), T("out.txt")), 0);
	ck_assert_int_eq(wd_beneath_write(root, "out.txt", "new\n", 4, 0644), 0);
	assert_host_intact();
	ck_assert(S_ISREG(lmode(T("out.txt"))));
	assert_content(T("out.txt"), "new\n");
}
END_TEST

START_TEST(write_replaces_a_symlinked_parent_with_a_real_directory)
{
	/* control: writing "build/ctl.txt" through the link lands in the host directory */
	ck_assert_int_eq(symlink(H("dir"), T("build")), 0);
	ck_assert_int_eq(symlink("../host/dir", T("rel")), 0);
	put(T("build/ctl.txt"), "ctl");
	ck_assert(exists(H("dir/ctl.txt")));
	ck_assert_int_eq(unlink(H("dir/ctl.txt")), 0);

	ck_assert_int_eq(wd_beneath_write(root, "build/out.txt", "o", 1, 0644), 0);
	ck_assert_int_eq(wd_beneath_write(root, "rel/deeper/out.txt", "r", 1, 0644), 0);
	ck_assert(!exists(H("dir/out.txt")));
	ck_assert(!exists(H("dir/deeper")));
	ck_assert_int_eq(count_entries(H("dir")), 1);
	assert_host_intact();
	ck_assert_uint_eq(lmode(T("build")), S_IFDIR | 0755);
	ck_assert_uint_eq(lmode(T("rel")), S_IFDIR | 0755);
	ck_assert_uint_eq(lmode(T("rel/deeper")), S_IFDIR | 0755);
	assert_content(T("build/out.txt"), "o");
	assert_content(T("rel/deeper/out.txt"), "r");
}
END_TEST

START_TEST(write_replaces_file_and_fifo_parents)
{
	put(T("a"), "a file");
	ck_assert_int_eq(mkfifo(T("p"), 0644), 0);
	ck_assert_int_eq(wd_beneath_write(root, "a/x", "x", 1, 0644), 0);
	ck_assert_int_eq(wd_beneath_write(root, "p/q/y", "y", 1, 0644), 0);
	ck_assert_uint_eq(lmode(T("a")), S_IFDIR | 0755);
	ck_assert_uint_eq(lmode(T("p")), S_IFDIR | 0755);
	assert_content(T("a/x"), "x");
	assert_content(T("p/q/y"), "y");
}
END_TEST

START_TEST(write_replaces_a_directory_tree_at_the_leaf)
{
	put(T("out/sub/deep/f"), "f");
	put(T("out/g"), "g");
	ck_assert_int_eq(mkfifo(T("out/sub/fifo"), 0644), 0);
	ck_assert_int_eq(symlink(host, T("out/sub/hostlink")), 0);
	ck_assert_int_eq(chmod(T("out/sub/deep"), 0), 0);
	ck_assert_int_eq(chmod(T("out/sub"), 0), 0);
	ck_assert_int_eq(wd_beneath_write(root, "out", "file now", 8, 0600), 0);
	ck_assert_uint_eq(lmode(T("out")), S_IFREG | 0600);
	assert_content(T("out"), "file now");
	assert_host_intact();
}
END_TEST

START_TEST(write_and_mkdir_set_exact_modes_despite_the_umask)
{
	static const unsigned modes[] = { 0755, 0644, 0600, 0700, 0444, 0 };

	umask(077);
	for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
		char rel[32];

		snprintf(rel, sizeof(rel), "m/f%04o", modes[i]);
		ck_assert_int_eq(wd_beneath_write(root, rel, "x", 1, modes[i]), 0);
		ck_assert_uint_eq(lmode(T(rel)), S_IFREG | modes[i]);
	}
	ck_assert_uint_eq(lmode(T("m")), S_IFDIR | 0755); /* a new parent */
	/* a git mode: the type bits are ignored */
	ck_assert_int_eq(wd_beneath_write(root, "git", "x", 1, 0100755), 0);
	ck_assert_uint_eq(lmode(T("git")), S_IFREG | 0755);
	/* replacing keeps nothing of the old mode */
	ck_assert_int_eq(wd_beneath_write(root, "git", "y", 1, 0640), 0);
	ck_assert_uint_eq(lmode(T("git")), S_IFREG | 0640);
	ck_assert_int_eq(wd_beneath_mkdir(root, "d/e", 0750), 0);
	ck_assert_uint_eq(lmode(T("d")), S_IFDIR | 0755);
	ck_assert_uint_eq(lmode(T("d/e")), S_IFDIR | 0750);

	/* setuid, setgid, sticky: refused, nothing made */
	ck_assert_int_eq(wd_beneath_write(root, "suid", "x", 1, 04755), WD_EREFUSED);
	ck_assert_int_eq(wd_beneath_write(root, "sgid", "x", 1, 02755), WD_EREFUSED);
	ck_assert_int_eq(wd_beneath_mkdir(root, "sticky", 01777), WD_EREFUSED);
	ck_assert(!exists(T("suid")) && !exists(T("sgid")) && !exists(T("sticky")));
}
END_TEST

static int plain_open_fifo_for_writing(void)
{
	int fd = open(T("out"), O_WRONLY);

	return fd >= 0 ? 0 : 1;
}

static int beneath_write_over_fifo(void)
{
	return wd_beneath_write(root, "out", "data", 4, 0644) == 0 ? 0 : 1;
}

START_TEST(write_replaces_a_fifo_at_the_leaf_without_blocking)
{
	ck_assert_int_eq(mkfifo(T("out"), 0644), 0);
	/* control: open(O_WRONLY) of a FIFO with no reader never returns */
	ck_assert_int_eq(run_with_alarm(plain_open_fifo_for_writing, 300), -1);
	ck_assert_int_eq(run_with_alarm(beneath_write_over_fifo, 2000), 0);
	ck_assert_uint_eq(lmode(T("out")), S_IFREG | 0644);
	assert_content(T("out"), "data");
}
END_TEST

START_TEST(write_is_whole_and_leaves_no_temporary_names)
{
	size_t len = 1 << 20;
	char *data = malloc(len + 1);
	struct stat st;
	time_t now = time(NULL);
	wd_buf b = WD_BUF_INIT;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	data[len] = '\0';
	put(T("dir/old"), "old");
	ck_assert_int_eq(wd_beneath_write(root, "dir/old", data, len, 0644), 0);
	ck_assert_int_eq(wd_beneath_write(root, "dir/empty", "", 0, 0644), 0);
	ck_assert_int_eq(wd_beneath_read(&b, root, "dir/old", 0), 0);
	ck_assert_uint_eq(b.len, len);
	ck_assert(memcmp(b.ptr, data, len) == 0);
	ck_assert_int_eq(count_entries(T("dir")), 2);
	ck_assert_int_eq(lstat(T("dir/old"), &st), 0);
	ck_assert(st.st_mtime >= now - 5 && st.st_mtime <= now + 5);
	ck_assert_int_eq(lstat(T("dir/empty"), &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	wd_buf_free(&b);
	free(data);
}
END_TEST

START_TEST(symlink_stores_its_target_verbatim_and_replaces_what_is_there)
{
	char target[PATH_MAX];
	ssize_t n;

	put(T("l/sub/f"), "f");
	ck_assert_int_eq(symlink(host, T("p")), 0);
	ck_assert_int_eq(wd_beneath_symlink(root, "l", "../../etc/shadow"), 0);
	n = readlink(T("l"), target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, "../../etc/shadow");
	/* through a symlinked parent: the parent becomes a directory */
	ck_assert_int_eq(wd_beneath_symlink(root, "p/secret", "x"), 0);
	ck_assert(S_ISLNK(lmode(T("p/secret"))));
	ck_assert(S_ISDIR(lmode(T("p"))));
	/* over an existing link: replaced, the old target untouched */
	ck_assert_int_eq(symlink(H("secret"), T("over")), 0);
	ck_assert_int_eq(wd_beneath_symlink(root, "over", "elsewhere"), 0);
	n = readlink(T("over"), target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	ck_assert_str_eq(target, "elsewhere");
	assert_host_intact();
	ck_assert_int_eq(wd_beneath_symlink(root, "e", ""), WD_EINPUT);
	ck_assert(!exists(T("e")));
}
END_TEST

START_TEST(whiteout_is_a_character_device_0_0)
{
	static const char *const names[] = { "gone", "hd/keep", "tree" };
	struct stat st;

	ck_assert_int_eq(symlink(H("secret"), T("gone")), 0);
	ck_assert_int_eq(symlink(H("dir"), T("hd")), 0);
	put(T("tree/x"), "x");
	ck_assert_int_eq(wd_beneath_whiteout(root, "gone"), 0);
	ck_assert_int_eq(wd_beneath_whiteout(root, "hd/keep"), 0);
	ck_assert_int_eq(wd_beneath_whiteout(root, "tree"), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(lstat(T(names[i]), &st), 0);
		ck_assert(S_ISCHR(st.st_mode));
		ck_assert_uint_eq(st.st_rdev, makedev(0, 0));
	}
	ck_assert(S_ISDIR(lmode(T("hd"))));
	assert_host_intact();
}
END_TEST

START_TEST(mkdir_makes_parents_keeps_a_directory_and_replaces_the_rest)
{
	ck_assert_int_eq(symlink(H("dir"), T("d")), 0);
	ck_assert_int_eq(wd_beneath_mkdir(root, "d/e/f", 0700), 0);
	ck_assert_uint_eq(lmode(T("d")), S_IFDIR | 0755);
	ck_assert_uint_eq(lmode(T("d/e")), S_IFDIR | 0755);
	ck_assert_uint_eq(lmode(T("d/e/f")), S_IFDIR | 0700);
	ck_assert_int_eq(count_entries(H("dir")), 1);
	/* an existing directory keeps its contents and takes the mode */
	put(T("keep/inside"), "in");
	ck_assert_int_eq(wd_beneath_mkdir(root, "keep", 0711), 0);
	ck_assert_uint_eq(lmode(T("keep")), S_IFDIR | 0711);
	assert_content(T("keep/inside"), "in");
	/* a link to a host directory at the leaf is replaced, not followed */
	ck_assert_int_eq(symlink(H("dir"), T("leaf")), 0);
	ck_assert_int_eq(wd_beneath_mkdir(root, "leaf", 0755), 0);
	ck_assert_uint_eq(lmode(T("leaf")), S_IFDIR | 0755);
	ck_assert_int_eq(count_entries(T("leaf")), 0);
	ck_assert_int_eq(mkfifo(T("fifo"), 0644), 0);
	ck_assert_int_eq(wd_beneath_mkdir(root, "fifo", 0755), 0);
	ck_assert_uint_eq(lmode(T("fifo")), S_IFDIR | 0755);
	assert_host_intact();
}
END_TEST

/* ============================================================= remove */

START_TEST(remove_unlinks_a_symlink_to_a_host_directory_and_leaves_it_alone)
{
	put(H("dir/decoy"), "decoy");
	ck_assert_int_eq(symlink(H("dir"), T("link")), 0);
	/* control: unlink() through the planted link deletes the host's file */
	ck_assert_int_eq(unlink(T("link/decoy")), 0);
	ck_assert(!exists(H("dir/decoy")));

	ck_assert_int_eq(wd_beneath_remove(root, "link/keep"), WD_EREFUSED);
	ck_assert_int_eq(wd_beneath_remove(root, "link"), 0);
	ck_assert(!exists(T("link")));
	assert_host_intact();
	ck_assert_int_eq(wd_beneath_remove(root, "link"), 0); /* missing: success */
	ck_assert_int_eq(wd_beneath_remove(root, "no/such/thing"), 0);
}
END_TEST

START_TEST(remove_deletes_trees_chmod_000_fifos_and_sockets)
{
	put(T("t/a/b/c/f"), "f");
	put(T("t/a/g"), "g");
	ck_assert_int_eq(mkfifo(T("t/a/b/fifo"), 0644), 0);
	make_socket(T("t/a/sock"));
	ck_assert_int_eq(symlink(host, T("t/a/b/hostlink")), 0);
	ck_assert_int_eq(chmod(T("t/a/b/c"), 0), 0);
	ck_assert_int_eq(chmod(T("t/a/b"), 0), 0);
	ck_assert_int_eq(chmod(T("t/a"), 0), 0);
	if (geteuid() != 0) /* control: a plain walk cannot even list it */
		ck_assert_ptr_null(opendir(T("t/a")));
	ck_assert_int_eq(wd_beneath_remove(root, "t"), 0);
	ck_assert(!exists(T("t")));
	ck_assert_int_eq(count_entries(tree), 0);
	assert_host_intact();
	put(T("f"), "f");
	ck_assert_int_eq(wd_beneath_remove(root, "f"), 0);
	ck_assert(!exists(T("f")));
}
END_TEST

START_TEST(remove_takes_nesting_deeper_than_its_descriptors)
{
	/* 64 descriptors: a remover holding one per level would run out */
	make_chain(tree, "d", 1000);
	limit_fds(64);
	ck_assert_msg(wd_beneath_remove(root, "d") == 0, "%s", wd_error_last());
	ck_assert_int_eq(count_entries(tree), 0);
}
END_TEST

/* ============================================================= rm -rf */

START_TEST(rm_rf_leaves_a_host_directory_behind_a_symlink_untouched)
{
	ck_assert_int_eq(symlink(H("dir"), T("link")), 0);
	put(T("sub/deeper/f"), "f");
	ck_assert_int_eq(symlink(host, T("sub/deeper/hostroot")), 0);
	ck_assert_int_eq(symlink(H("secret"), T("sub/secret")), 0);
	ck_assert_int_eq(wd_rm_rf(tree), 0);
	ck_assert(!exists(tree));
	assert_host_intact();
	ck_assert_int_eq(wd_rm_rf(tree), 0); /* missing: success */
}
END_TEST

START_TEST(rm_rf_removes_chmod_000_subtrees_and_fifos_without_blocking)
{
	put(T("a/b/c/f"), "f");
	ck_assert_int_eq(mkfifo(T("a/b/fifo"), 0644), 0);
	ck_assert_int_eq(chmod(T("a/b/c"), 0), 0);
	ck_assert_int_eq(chmod(T("a/b"), 0), 0);
	ck_assert_int_eq(chmod(T("a"), 0111), 0);
	ck_assert_int_eq(wd_rm_rf(T("a")), 0);
	ck_assert(!exists(T("a")));
	/* a symlink as the path itself: the link goes, never its target */
	ck_assert_int_eq(symlink(H("dir"), T("l")), 0);
	ck_assert_int_eq(wd_rm_rf(T("l")), 0);
	ck_assert(!exists(T("l")));
	assert_host_intact();
}
END_TEST

START_TEST(rm_rf_takes_nesting_deeper_than_its_descriptors)
{
	make_chain(tree, "n", 1500);
	limit_fds(64);
	ck_assert_msg(wd_rm_rf(T("n")) == 0, "%s", wd_error_last());
	ck_assert(!exists(T("n")));
}
END_TEST

START_TEST(rm_rf_refuses_the_root_and_dot_paths)
{
	ck_assert_int_eq(wd_rm_rf("/"), WD_EUSAGE);
	ck_assert_int_eq(wd_rm_rf("//"), WD_EUSAGE);
	ck_assert_int_eq(wd_rm_rf(""), WD_EUSAGE);
	ck_assert_int_eq(wd_rm_rf(in(tree, ".")), WD_EUSAGE);
	ck_assert_int_eq(wd_rm_rf(in(tree, "..")), WD_EUSAGE);
	ck_assert(exists(tree));
	put(T("x/y"), "y");
	ck_assert_int_eq(wd_rm_rf(in(tree, "x/")), 0); /* a trailing slash is fine */
	ck_assert(!exists(T("x")));
	ck_assert_int_eq(wd_rm_rf(in(tmp, "nodir/sub")), 0);
}
END_TEST

/* =============================================================== glob */

static void assert_glob(const char *pattern, size_t max, const char *const *want)
{
	wd_strvec v = WD_STRVEC_INIT;
	size_t n = 0;

	ck_assert_msg(wd_beneath_glob(&v, root, pattern, max) == 0, "%s: %s", pattern,
	              wd_error_last());
	while (want[n])
		n++;
	for (size_t i = 0; i < v.n; i++)
		ck_assert_msg(i < n && !strcmp(v.v[i], want[i]), "%s: got '%s' at %zu", pattern,
		              v.v[i], i);
	ck_assert_msg(v.n == n, "%s: %zu matches, want %zu", pattern, v.n, n);
	wd_strvec_free(&v);
}

START_TEST(glob_matches_plain_star_globstar_and_classes)
{
	static const char *const files[] = {
		"junit.xml", "build/a.xml", "build/b.txt", "build/sub/c.xml", "x/y/TEST-one.xml",
		"TEST-top.xml", "reports/a.xml", "reports/b.xml", "reports/c.xml", ".hidden/TEST-h.xml",
		NULL
	};
	wd_strvec v = WD_STRVEC_INIT;

	for (size_t i = 0; files[i]; i++)
		put(T(files[i]), "x");
	assert_glob("junit.xml", 0, (const char *[]){ "junit.xml", NULL });
	assert_glob("./junit.xml", 0, (const char *[]){ "junit.xml", NULL });
	assert_glob("build/*.xml", 0, (const char *[]){ "build/a.xml", NULL });
	assert_glob("**/TEST-*.xml", 0,
	            (const char *[]){ ".hidden/TEST-h.xml", "TEST-top.xml", "x/y/TEST-one.xml", NULL });
	assert_glob("reports/[ab].xml", 0, (const char *[]){ "reports/a.xml", "reports/b.xml", NULL });
	assert_glob("reports/[!ab].xml", 0, (const char *[]){ "reports/c.xml", NULL });
	assert_glob("build/**", 0,
	            (const char *[]){ "build/a.xml", "build/b.txt", "build/sub/c.xml", NULL });
	assert_glob("b?ild/**/*.xml", 0, (const char *[]){ "build/a.xml", "build/sub/c.xml", NULL });
	assert_glob("nothing*", 0, (const char *[]){ NULL });
	assert_glob("build", 0, (const char *[]){ NULL }); /* a directory is never listed */
	/* appends */
	ck_assert_int_eq(wd_strvec_push(&v, "before"), 0);
	ck_assert_int_eq(wd_beneath_glob(&v, root, "junit.xml", 0), 0);
	ck_assert_uint_eq(v.n, 2);
	ck_assert_str_eq(v.v[0], "before");
	ck_assert_str_eq(v.v[1], "junit.xml");
	wd_strvec_free(&v);
}
END_TEST

START_TEST(glob_does_not_descend_a_symlinked_directory)
{
	char pat[PATH_MAX];
	glob_t g;

	put(H("dir/junit.xml"), "<host/>");
	ck_assert_int_eq(symlink(H("dir"), T("reports")), 0);
	put(T("real/junit.xml"), "<ok/>");
	/* control: glob(3) walks into the link */
	join(pat, tree, "*/junit.xml");
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	ck_assert_uint_eq(g.gl_pathc, 2);
	globfree(&g);

	assert_glob("*/junit.xml", 0, (const char *[]){ "real/junit.xml", NULL });
	assert_glob("**/junit.xml", 0, (const char *[]){ "real/junit.xml", NULL });
	assert_glob("reports/*", 0, (const char *[]){ NULL });
}
END_TEST

START_TEST(glob_lists_no_symlinks_fifos_or_sockets)
{
	char pat[PATH_MAX];
	glob_t g;

	ck_assert_int_eq(symlink(H("secret"), T("a.xml")), 0);
	ck_assert_int_eq(mkfifo(T("b.xml"), 0644), 0);
	put(T("c.xml"), "c");
	make_socket(T("d.xml"));
	join(pat, tree, "*.xml");
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	ck_assert_uint_eq(g.gl_pathc, 4); /* control: glob(3) lists them all */
	globfree(&g);
	assert_glob("*.xml", 0, (const char *[]){ "c.xml", NULL });
}
END_TEST

START_TEST(glob_refuses_absolute_and_dotdot_patterns)
{
	static const char *const bad[] = { "", "/etc/*", "../host/*", "a/../../host/*", "..",
	                                   "**/..", "./", NULL };
	wd_strvec v = WD_STRVEC_INIT;

	for (size_t i = 0; bad[i]; i++)
		ck_assert_msg(wd_beneath_glob(&v, root, bad[i], 0) == WD_EINPUT, "'%s'", bad[i]);
	ck_assert_uint_eq(v.n, 0);
	put(T("..a"), "x");
	assert_glob("..*", 0, (const char *[]){ "..a", NULL });
}
END_TEST

START_TEST(glob_keeps_the_first_max_in_order)
{
	char name[32];
	wd_strvec v = WD_STRVEC_INIT;

	for (int i = 29; i >= 0; i--) {
		snprintf(name, sizeof(name), "r/f%02d.xml", i);
		put(T(name), "x");
	}
	ck_assert_int_eq(wd_beneath_glob(&v, root, "r/*.xml", 10), 0);
	ck_assert_uint_eq(v.n, 10);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "r/f%02d.xml", i);
		ck_assert_str_eq(v.v[i], name);
	}
	wd_strvec_free(&v);
	ck_assert_int_eq(wd_beneath_glob(&v, root, "r/*.xml", 0), 0);
	ck_assert_uint_eq(v.n, 30);
	wd_strvec_free(&v);
}
END_TEST

START_TEST(glob_skips_what_it_cannot_open_and_stops_at_64_levels)
{
	char rel[PATH_MAX] = "";

	put(T("ok/r.xml"), "x");
	put(T("locked/r.xml"), "x");
	ck_assert_int_eq(chmod(T("locked"), 0), 0);
	if (geteuid() == 0)
		assert_glob("*/r.xml", 0, (const char *[]){ "locked/r.xml", "ok/r.xml", NULL });
	else
		assert_glob("*/r.xml", 0, (const char *[]){ "ok/r.xml", NULL });
	ck_assert_int_eq(chmod(T("locked"), 0755), 0);

	/* 64 levels below the root are entered; the 65th is not */
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(fx_append(rel, sizeof(rel), "d/"), 0);
	ck_assert_int_eq(fx_append(rel, sizeof(rel), "deep.xml"), 0);
	put(T(rel), "x");
	memcpy(rel + 64 * 2, "e/deeper.xml", sizeof("e/deeper.xml"));
	put(T(rel), "x");
	rel[64 * 2] = '\0';
	ck_assert_int_eq(fx_append(rel, sizeof(rel), "deep.xml"), 0);
	assert_glob("**/deep*.xml", 0, (const char *[]){ rel, NULL });
}
END_TEST

START_TEST(glob_pathological_pattern_returns_at_once)
{
	char pat[128] = "", path[64];
	wd_strvec v = WD_STRVEC_INIT;

	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(fx_append(pat, sizeof(pat), "**a"), 0);
	ck_assert_int_eq(fx_append(pat, sizeof(pat), "**b"), 0);
	memset(path, 'a', 60);
	path[60] = '\0';
	/* a backtracking matcher takes ~C(60,20) steps here; this one 60 x 62 */
	ck_assert_int_eq(wd_glob_match(pat, path), 0);
	path[59] = 'b';
	ck_assert_int_eq(wd_glob_match(pat, path), 1);
	path[59] = 'a';
	put(T(path), "x");
	ck_assert_int_eq(wd_beneath_glob(&v, root, pat, 0), 0);
	ck_assert_uint_eq(v.n, 0);
	/* and as directories: a/a/a/... with '*' patterns */
	memset(pat, 0, sizeof(pat));
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(fx_append(pat, sizeof(pat), "*a*/"), 0);
	ck_assert_int_eq(fx_append(pat, sizeof(pat), "b"), 0);
	ck_assert_int_eq(wd_glob_match(pat, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/x"), 0);
	ck_assert_int_eq(wd_beneath_glob(&v, root, pat, 0), 0);
	wd_strvec_free(&v);
}
END_TEST

START_TEST(glob_match_follows_the_documented_syntax)
{
	static const struct {
		const char *pat, *path;
		int want;
	} cases[] = {
		{ "*.c", "a.c", 1 },          { "*.c", "d/a.c", 0 },       { "*", ".hidden", 1 },
		{ "?", "a", 1 },              { "?", "/", 0 },             { "a?c", "a/c", 0 },
		{ "**", "", 1 },              { "**", "a/b/c", 1 },        { "a/**", "a/b/c", 1 },
		{ "a/**", "a", 0 },           { "**/b", "b", 1 },          { "**/b", "a/b", 1 },
		{ "**/b", "xb", 0 },          { "a/**/b", "a/b", 1 },      { "a/**/b", "a/x/y/b", 1 },
		{ "a/**/b", "a/xb", 0 },      { "a**b", "a/x/b", 1 },      { "src/**.c", "src/a/b.c", 1 },
		{ "***/x", "a/x", 1 },        { "[abc]", "b", 1 },         { "[!abc]", "b", 0 },
		{ "[^abc]", "d", 1 },         { "[a-c]x", "bx", 1 },       { "[a-c]x", "dx", 0 },
		{ "[]]", "]", 1 },            { "[!]]", "a", 1 },          { "[a-]", "-", 1 },
		{ "[/]", "/", 0 },            { "[abc", "[abc", 1 },       { "[", "[", 1 },
		{ "\\*", "*", 1 },            { "\\*", "a", 0 },           { "a\\", "a\\", 1 },
		{ "", "", 1 },                { "", "a", 0 },              { "a", "", 0 },
		{ "a*b*c", "abc", 1 },        { "a*b*c", "a/b/c", 0 },     { "*/*", "a/b", 1 },
		{ "TEST-*.xml", "TEST-.xml", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		ck_assert_msg(wd_glob_match(cases[i].pat, cases[i].path) == cases[i].want,
		              "'%s' vs '%s': want %d", cases[i].pat, cases[i].path, cases[i].want);
	ck_assert_int_eq(wd_glob_match(NULL, "a"), 0);
}
END_TEST

/* =============================================================== copy */

static void set_times(const char *abs, long sec, long nsec)
{
	struct timespec t[2];

	t[0].tv_sec = sec - 100;
	t[0].tv_nsec = nsec + 1;
	t[1].tv_sec = sec;
	t[1].tv_nsec = nsec;
	ck_assert_int_eq(utimensat(AT_FDCWD, abs, t, AT_SYMLINK_NOFOLLOW), 0);
}

/* `dst` has the metadata `a` (the source's, taken before the copy read it
 * and moved its atime), setuid and setgid aside. */
static void assert_same_meta(const struct stat *a, const char *dst)
{
	struct stat b;

	ck_assert_msg(lstat(dst, &b) == 0, "%s missing", dst);
	ck_assert_msg((a->st_mode & ~(mode_t)06000) == b.st_mode, "%s: mode %o, want %o", dst,
	              b.st_mode, a->st_mode & ~(mode_t)06000);
	ck_assert_msg(a->st_mtim.tv_sec == b.st_mtim.tv_sec && a->st_mtim.tv_nsec == b.st_mtim.tv_nsec,
	              "%s: mtime", dst);
	ck_assert_msg(a->st_atim.tv_sec == b.st_atim.tv_sec && a->st_atim.tv_nsec == b.st_atim.tv_nsec,
	              "%s: atime", dst);
}

/* dst (tmp/dst) made fresh, opened as a root; the copy of tree into it. */
static int copy_tree(wd_copy_stats *st, char *dst)
{
	int d, rc;

	join(dst, tmp, "dst");
	ck_assert_int_eq(mkdir(dst, 0755), 0);
	ck_assert_int_eq(wd_root_open(&d, dst), 0);
	rc = wd_beneath_copy(st, root, d);
	close(d);
	return rc;
}

START_TEST(copy_keeps_dirs_files_links_whiteouts_modes_and_nanosecond_times)
{
	static const char *const entries[] = { "d", "d/f", "d/exe", "d/empty", "d/ro", "d/ro/x",
	                                       "lnk", "wh", "top", NULL };
	char dst[PATH_MAX], target[64], v[8];
	struct stat before[16];
	wd_copy_stats st;
	ssize_t n;
	int opaque;

	put(T("d/f"), "content of f\n");
	put(T("d/exe"), "#!/bin/sh\n");
	put(T("d/empty"), "");
	put(T("d/ro/x"), "x");
	put(T("top"), "top");
	ck_assert_int_eq(symlink("target/that/dangles", T("lnk")), 0);
	ck_assert_int_eq(wd_beneath_whiteout(root, "wh"), 0);
	ck_assert_int_eq(chmod(T("d/f"), 0640), 0);
	ck_assert_int_eq(chmod(T("d/exe"), 0755), 0);
	ck_assert_int_eq(chmod(T("d/ro"), 0555), 0);
	ck_assert_int_eq(chmod(T("d"), 0750), 0);
	opaque = setxattr(T("d"), "user.overlay.opaque", "y", 1, 0) == 0;
	for (int i = 0; entries[i]; i++) {
		set_times(T(entries[i]), 1600000000 + i, 123456789 + i);
		ck_assert_int_eq(lstat(T(entries[i]), &before[i]), 0);
	}

	ck_assert_msg(copy_tree(&st, dst) == 0, "%s", wd_error_last());
	for (int i = 0; entries[i]; i++)
		assert_same_meta(&before[i], in(dst, entries[i]));
	assert_content(in(dst, "d/f"), "content of f\n");
	assert_content(in(dst, "d/exe"), "#!/bin/sh\n");
	assert_content(in(dst, "d/empty"), "");
	assert_content(in(dst, "d/ro/x"), "x");
	n = readlink(in(dst, "lnk"), target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, "target/that/dangles");
	if (opaque) {
		n = getxattr(in(dst, "d"), "user.overlay.opaque", v, sizeof(v));
		ck_assert_int_eq(n, 1);
		ck_assert_int_eq(v[0], 'y');
	}
	ck_assert_uint_eq(st.files, 6); /* f exe empty x top + the whiteout */
	ck_assert_uint_eq(st.dirs, 2);
	ck_assert_uint_eq(st.links, 1);
	ck_assert_uint_eq(st.skipped, 0);
	ck_assert_uint_le(st.reflinked, 5);
	ck_assert_uint_eq(st.bytes, strlen("content of f\n") + strlen("#!/bin/sh\n") + 1 + 3);
}
END_TEST

START_TEST(copy_keeps_a_symlink_to_a_host_directory_as_a_link)
{
	char dst[PATH_MAX], target[PATH_MAX];
	wd_copy_stats st;
	ssize_t n;

	ck_assert_int_eq(symlink(H("dir"), T("hostdir")), 0);
	ck_assert_int_eq(symlink(H("secret"), T("hostfile")), 0);
	ck_assert_int_eq(copy_tree(&st, dst), 0);
	ck_assert(S_ISLNK(lmode(in(dst, "hostdir"))));
	ck_assert(S_ISLNK(lmode(in(dst, "hostfile"))));
	n = readlink(in(dst, "hostdir"), target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, H("dir"));
	ck_assert_uint_eq(st.links, 2);
	ck_assert_uint_eq(st.files + st.dirs + st.bytes, 0); /* nothing of the host's was read */
	assert_host_intact();
}
END_TEST

static int beneath_copy_with_fifo(void)
{
	char dst[PATH_MAX];
	wd_copy_stats st;

	return copy_tree(&st, dst) == 0 && st.skipped == 2 && st.files == 1 ? 0 : 1;
}

START_TEST(copy_skips_fifos_and_sockets_without_blocking)
{
	ck_assert_int_eq(mkfifo(T("results.xml"), 0644), 0);
	make_socket(T("sock"));
	put(T("real"), "r");
	ck_assert_int_eq(run_with_alarm(plain_open_fifo, 300), -1); /* control */
	ck_assert_int_eq(run_with_alarm(beneath_copy_with_fifo, 5000), 0);
}
END_TEST

START_TEST(copy_drops_setuid_and_setgid)
{
	char dst[PATH_MAX];
	wd_copy_stats st;

	put(T("suid"), "s");
	put(T("sdir/x"), "x");
	ck_assert_int_eq(chmod(T("suid"), 06755), 0);
	ck_assert_int_eq(chmod(T("sdir"), 02755), 0);
	ck_assert_int_eq(copy_tree(&st, dst), 0);
	ck_assert_uint_eq(lmode(in(dst, "suid")), S_IFREG | 0755);
	ck_assert_uint_eq(lmode(in(dst, "sdir")), S_IFDIR | 0755);
}
END_TEST

START_TEST(copy_stops_at_256_levels)
{
	char dst[PATH_MAX];
	wd_copy_stats st;

	make_chain(tree, "c", 260);
	ck_assert_msg(copy_tree(&st, dst) == 0, "%s", wd_error_last());
	ck_assert_uint_eq(st.dirs, 256);
	ck_assert_uint_eq(st.skipped, 1);
	ck_assert_uint_eq(st.files, 25); /* one every tenth level of the 256 */
	ck_assert_int_eq(wd_rm_rf(dst), 0);
}
END_TEST

START_TEST(copy_skips_what_it_may_not_read)
{
	char dst[PATH_MAX];
	wd_copy_stats st;

	if (geteuid() == 0)
		return; /* root reads everything */
	put(T("locked/x"), "x");
	put(T("secret.txt"), "s");
	put(T("fine"), "f");
	ck_assert_int_eq(chmod(T("locked"), 0), 0);
	ck_assert_int_eq(chmod(T("secret.txt"), 0), 0);
	ck_assert_int_eq(copy_tree(&st, dst), 0);
	ck_assert_uint_eq(st.skipped, 2);
	ck_assert_uint_eq(st.files, 1);
	ck_assert(!exists(in(dst, "locked")));
	ck_assert_int_eq(chmod(T("locked"), 0755), 0);
}
END_TEST

/* ============================================================== suite */

static void add_read_write_remove(TCase *tc)
{
	tcase_add_test(tc, read_appends_a_regular_file_and_reports_missing_ones);
	tcase_add_test(tc, read_refuses_a_symlink_at_the_leaf_to_a_host_file);
	tcase_add_test(tc, read_refuses_a_symlinked_directory_on_the_way);
	tcase_add_test(tc, read_refuses_a_fifo_without_blocking);
	tcase_add_test(tc, read_refuses_directories_sockets_and_devices);
	tcase_add_test(tc, read_caps_the_size);
	tcase_add_test(tc, every_call_refuses_malformed_paths_as_input_errors);
	tcase_add_test(tc, read_does_not_follow_proc_magic_links);
	tcase_add_test(tc, lstat_describes_a_link_and_refuses_links_on_the_way);
	tcase_add_test(tc, readlink_reads_the_target_and_follows_nothing);
	tcase_add_test(tc, root_open_follows_the_trusted_path_and_needs_a_directory);
	tcase_add_test(tc, write_replaces_a_symlink_at_the_leaf_and_leaves_the_host_file_alone);
	tcase_add_test(tc, write_replaces_a_symlinked_parent_with_a_real_directory);
	tcase_add_test(tc, write_replaces_file_and_fifo_parents);
	tcase_add_test(tc, write_replaces_a_directory_tree_at_the_leaf);
	tcase_add_test(tc, write_and_mkdir_set_exact_modes_despite_the_umask);
	tcase_add_test(tc, write_replaces_a_fifo_at_the_leaf_without_blocking);
	tcase_add_test(tc, write_is_whole_and_leaves_no_temporary_names);
	tcase_add_test(tc, symlink_stores_its_target_verbatim_and_replaces_what_is_there);
	tcase_add_test(tc, whiteout_is_a_character_device_0_0);
	tcase_add_test(tc, mkdir_makes_parents_keeps_a_directory_and_replaces_the_rest);
	tcase_add_test(tc, remove_unlinks_a_symlink_to_a_host_directory_and_leaves_it_alone);
	tcase_add_test(tc, remove_deletes_trees_chmod_000_fifos_and_sockets);
	tcase_add_test(tc, remove_takes_nesting_deeper_than_its_descriptors);
}

static void add_walks(TCase *tc)
{
	tcase_add_test(tc, rm_rf_leaves_a_host_directory_behind_a_symlink_untouched);
	tcase_add_test(tc, rm_rf_removes_chmod_000_subtrees_and_fifos_without_blocking);
	tcase_add_test(tc, rm_rf_takes_nesting_deeper_than_its_descriptors);
	tcase_add_test(tc, rm_rf_refuses_the_root_and_dot_paths);
	tcase_add_test(tc, glob_matches_plain_star_globstar_and_classes);
	tcase_add_test(tc, glob_does_not_descend_a_symlinked_directory);
	tcase_add_test(tc, glob_lists_no_symlinks_fifos_or_sockets);
	tcase_add_test(tc, glob_refuses_absolute_and_dotdot_patterns);
	tcase_add_test(tc, glob_keeps_the_first_max_in_order);
	tcase_add_test(tc, glob_skips_what_it_cannot_open_and_stops_at_64_levels);
	tcase_add_test(tc, copy_keeps_dirs_files_links_whiteouts_modes_and_nanosecond_times);
	tcase_add_test(tc, copy_keeps_a_symlink_to_a_host_directory_as_a_link);
	tcase_add_test(tc, copy_skips_fifos_and_sockets_without_blocking);
	tcase_add_test(tc, copy_drops_setuid_and_setgid);
	tcase_add_test(tc, copy_stops_at_256_levels);
	tcase_add_test(tc, copy_skips_what_it_may_not_read);
}

static TCase *tcase(Suite *s, const char *name, void (*up)(void), int timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, up, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *beneath_suite(void)
{
	Suite *s = suite_create("beneath");
	TCase *fast;

	add_read_write_remove(tcase(s, "openat2", setup, 30));
	add_read_write_remove(tcase(s, "walk", setup_walk, 30));
	add_read_write_remove(tcase(s, "unprivileged", setup_user, 30));
	add_read_write_remove(tcase(s, "unprivileged-walk", setup_user_walk, 30));
	add_walks(tcase(s, "trees", setup, 60));
	add_walks(tcase(s, "trees-unprivileged", setup_user, 60));
	fast = tcase(s, "matching", setup, 10);
	tcase_add_test(fast, glob_pathological_pattern_returns_at_once);
	tcase_add_test(fast, glob_match_follows_the_documented_syntax);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(beneath_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
