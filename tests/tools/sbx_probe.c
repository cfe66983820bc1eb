/*
 * sbx_probe: small attacks for the sandbox tests, one per sub-command. Each
 * prints one line saying what happened and exits 0 when the action
 * succeeded, 1 when it was refused (errno in the message).
 *
 *   sbx_probe connect HOST PORT        TCP connect
 *   sbx_probe dns HOST PORT NAME       one DNS query over UDP, 1 s for an answer
 *   sbx_probe ptrace                   PTRACE_ATTACH to a child of ours
 *   sbx_probe module                   init_module with a bogus image
 *   sbx_probe forks N                  fork N sleeping children, count successes
 *   sbx_probe alloc MB                 allocate and touch MB MiB
 *   sbx_probe write PATH               create PATH and write to it
 *   sbx_probe read PATH                print PATH
 *   sbx_probe unshare                  unshare a user namespace
 *   sbx_probe kill PID                 send signal 0 to PID
 *   sbx_probe selfconnect              listen on 127.0.0.1 and connect to it
 *   sbx_probe unixconnect PATH         connect to a unix socket
 *   sbx_probe pty                      open a pseudo-terminal pair
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int result(int ok, const char *what, int err)
{
	if (ok)
		printf("%s: ok\n", what);
	else
		printf("%s: refused: %s\n", what, strerror(err));
	return ok ? 0 : 1;
}

static int do_connect(const char *host, const char *port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return result(0, "connect", errno);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(port));
	inet_pton(AF_INET, host, &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return result(0, "connect", errno);
	return result(1, "connect", 0);
}

static int do_selfconnect(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || c < 0)
		return result(0, "selfconnect", errno);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0)
		return result(0, "selfconnect", errno);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		return result(0, "selfconnect", errno);
	return result(1, "selfconnect", 0);
}

static int do_unixconnect(const char *path)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return result(0, "unixconnect", errno);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return result(0, "unixconnect", errno);
	return result(1, "unixconnect", 0);
}

static int do_pty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), sl;
	const char *name;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m)))
		return result(0, "pty", errno);
	sl = open(name, O_RDWR | O_NOCTTY);
	if (sl < 0)
		return result(0, "pty", errno);
	if (write(sl, "x\n", 2) != 2)
		return result(0, "pty", errno);
	return result(1, "pty", 0);
}

static int do_dns(const char *host, const char *port, const char *name)
{
	unsigned char q[512], r[512];
	struct sockaddr_in a;
	struct pollfd pf;
	size_t n = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return result(0, "dns", errno);
	/* header: id 0x5744, recursion desired, one question */
	memcpy(q, "\x57\x44\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	n = 12;
	for (const char *s = name; *s;) {
		const char *dot = strchr(s, '.');
		size_t len = dot ? (size_t)(dot - s) : strlen(s);

		if (len == 0 || len > 63 || n + len + 6 > sizeof(q))
			return result(0, "dns", EINVAL);
		q[n++] = (unsigned char)len;
		memcpy(q + n, s, len);
		n += len;
		s += len + (dot ? 1 : 0);
	}
	memcpy(q + n, "\x00\x00\x01\x00\x01", 5);
	n += 5;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(port));
	inet_pton(AF_INET, host, &a.sin_addr);
	if (sendto(fd, q, n, 0, (struct sockaddr *)&a, sizeof(a)) < 0)
		return result(0, "dns", errno);
	pf.fd = fd;
	pf.events = POLLIN;
	if (poll(&pf, 1, 1000) != 1)
		return result(0, "dns", ETIMEDOUT);
	if (recv(fd, r, sizeof(r), 0) < 12)
		return result(0, "dns", errno ? errno : EPROTO);
	return result(r[0] == 0x57 && r[1] == 0x44 && (r[2] & 0x80), "dns", EPROTO);
}

static int do_ptrace(void)
{
	pid_t child = fork();
	int ok, err;

	if (child == 0) {
		pause();
		_exit(0);
	}
	ok = ptrace(PTRACE_ATTACH, child, NULL, NULL) == 0;
	err = errno;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return result(ok, "ptrace", err);
}

static int do_module(void)
{
	static const char image[] = "not an ELF module";
	long rc = syscall(SYS_init_module, image, sizeof(image), "");

	/* the kernel rejecting the bogus image (ENOEXEC...) means the call got
	 * through to it; EPERM means something refused us first */
	if (rc < 0 && errno == EPERM)
		return result(0, "module", errno);
	printf("module: reached the kernel (%s)\n", rc < 0 ? strerror(errno) : "loaded");
	return 0;
}

static int do_forks(int n)
{
	int made = 0, err = 0;
	pid_t *kids = calloc((size_t)n, sizeof(*kids));

	if (!kids)
		return 2;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0) {
			err = errno;
			break;
		}
		kids[made++] = p;
	}
	for (int i = 0; i < made; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < made; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	printf("forks: %d of %d\n", made, n);
	return made == n ? 0 : (result(0, "forks", err), 1);
}

static int do_alloc(long mb)
{
	void **chunks = calloc((size_t)(mb > 0 ? mb : 1), sizeof(*chunks));
	long got = 0;
	int rc;

	if (!chunks)
		return result(0, "alloc", ENOMEM);
	for (; got < mb; got++) {
		chunks[got] = malloc(1 << 20);
		if (!chunks[got])
			break;
		memset(chunks[got], 1, 1 << 20);
	}
	rc = result(got == mb, "alloc", ENOMEM);
	for (long i = 0; i < got; i++)
		free(chunks[i]);
	free(chunks);
	return rc;
}

static int do_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return result(0, "write", errno);
	if (write(fd, "escaped\n", 8) != 8) {
		close(fd);
		return result(0, "write", errno);
	}
	close(fd);
	return result(1, "write", 0);
}

static int do_read(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return result(0, "read", errno);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return result(0, "read", errno);
	fwrite(buf, 1, (size_t)n, stdout);
	return result(1, "read", 0);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(cmd, "connect") && argc == 4)
		return do_connect(argv[2], argv[3]);
	if (!strcmp(cmd, "dns") && argc == 5)
		return do_dns(argv[2], argv[3], argv[4]);
	if (!strcmp(cmd, "unixconnect") && argc == 3)
		return do_unixconnect(argv[2]);
	if (!strcmp(cmd, "pty"))
		return do_pty();
	if (!strcmp(cmd, "selfconnect"))
		return do_selfconnect();
	if (!strcmp(cmd, "ptrace"))
		return do_ptrace();
	if (!strcmp(cmd, "module"))
		return do_module();
	if (!strcmp(cmd, "forks") && argc == 3)
		return do_forks(atoi(argv[2]));
	if (!strcmp(cmd, "alloc") && argc == 3)
		return do_alloc(atol(argv[2]));
	if (!strcmp(cmd, "write") && argc == 3)
		return do_write(argv[2]);
	if (!strcmp(cmd, "read") && argc == 3)
		return do_read(argv[2]);
	if (!strcmp(cmd, "unshare"))
		return result(unshare(CLONE_NEWUSER) == 0, "unshare", errno);
	if (!strcmp(cmd, "kill") && argc == 3)
		return result(kill((pid_t)atoi(argv[2]), 0) == 0, "kill", errno);
	fprintf(stderr, "usage: sbx_probe connect|selfconnect|unixconnect|pty|dns|ptrace|module|forks|alloc|write|read|unshare|kill ...\n");
	return 2;
}
