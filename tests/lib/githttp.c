/* Loopback git smart-HTTP server: libmicrohttpd + `git http-backend` as a CGI. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <microhttpd.h>

#include "githttp.h"

extern char **environ;

struct githttp_server {
	struct MHD_Daemon *d;
	char url[64];
	char *root;
	char *backend;        /* path of git-http-backend */
	char *auth;           /* expected "Basic base64(user:pass)", NULL = open */
	pthread_mutex_t lock;
	size_t requests;
	size_t refusals;
};

/* One request's uploaded body, collected before the CGI runs. */
struct req {
	char *body;
	size_t len, cap;
};

static char *b64(const char *s)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static const char *find_backend(void)
{
	static const char *const candidates[] = { "/usr/lib/git-core/git-http-backend",
	                                          "/usr/libexec/git-core/git-http-backend", NULL };

	for (size_t i = 0; candidates[i]; i++)
		if (access(candidates[i], X_OK) == 0)
			return candidates[i];
	return NULL;
}

static struct MHD_Response *text_response(const char *msg)
{
	return MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	struct MHD_Response *r = text_response(msg);
	enum MHD_Result ret = MHD_queue_response(c, status, r);

	MHD_destroy_response(r);
	return ret;
}

static int add_env(char **env, size_t *n, const char *k, const char *v)
{
	size_t len;

	if (!v)
		return 0;
	len = strlen(k) + strlen(v) + 2;
	env[*n] = malloc(len);
	if (!env[*n])
		return -1;
	snprintf(env[*n], len, "%s=%s", k, v);
	(*n)++;
	return 0;
}

/* Run the CGI with `body` on stdin; its whole output lands in *out. */
static int run_cgi(githttp_server *s, struct MHD_Connection *c, const char *method,
                   const char *url, const struct req *rq, char **out, size_t *out_len)
{
	char *env[16] = { 0 };
	size_t n = 0, cap = 0, len = 0;
	char lenbuf[32], query[512] = "", tmpl[] = "/tmp/githttp-body-XXXXXX";
	const char *service = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "service");
	char *argv[] = { s->backend, NULL };
	posix_spawn_file_actions_t fa;
	int pipefd[2] = { -1, -1 }, bodyfd, status, rc = -1;
	char *buf = NULL;
	pid_t pid;

	if (service)
		snprintf(query, sizeof(query), "service=%s", service);
	snprintf(lenbuf, sizeof(lenbuf), "%zu", rq->len);
	if (add_env(env, &n, "GIT_PROJECT_ROOT", s->root) || add_env(env, &n, "GIT_HTTP_EXPORT_ALL", "1") ||
	    add_env(env, &n, "REQUEST_METHOD", method) || add_env(env, &n, "PATH_INFO", url) ||
	    add_env(env, &n, "QUERY_STRING", query) ||
	    add_env(env, &n, "CONTENT_TYPE",
	            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type")) ||
	    add_env(env, &n, "CONTENT_LENGTH", rq->len ? lenbuf : NULL) ||
	    add_env(env, &n, "HTTP_CONTENT_ENCODING",
	            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding")) ||
	    add_env(env, &n, "GIT_PROTOCOL", MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Git-Protocol")) ||
	    add_env(env, &n, "REMOTE_USER", "tester") || add_env(env, &n, "REMOTE_ADDR", "127.0.0.1") ||
	    add_env(env, &n, "PATH", getenv("PATH")) || add_env(env, &n, "HOME", s->root))
		goto out;
	bodyfd = mkstemp(tmpl);
	if (bodyfd < 0)
		goto out;
	unlink(tmpl);
	if (rq->len && write(bodyfd, rq->body, rq->len) != (ssize_t)rq->len) {
		close(bodyfd);
		goto out;
	}
	lseek(bodyfd, 0, SEEK_SET);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		close(bodyfd);
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, bodyfd, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	status = posix_spawn(&pid, s->backend, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	close(bodyfd);
	close(pipefd[1]);
	pipefd[1] = -1;
	if (status != 0)
		goto out;
	for (;;) {
		ssize_t got;

		if (len + 65536 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 131072);

			if (!nb)
				break;
			buf = nb;
		}
		got = read(pipefd[0], buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (buf) {
		*out = buf;
		*out_len = len;
		buf = NULL;
		rc = 0;
	}
out:
	free(buf);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	return rc;
}

/* Turn the CGI output (headers, blank line, body) into a response. */
static enum MHD_Result reply_cgi(struct MHD_Connection *c, char *out, size_t len)
{
	unsigned status = 200;
	size_t hend = 0, skip = 0;
	struct MHD_Response *r;
	char *line;
	enum MHD_Result ret;

	for (size_t i = 0; i + 1 < len; i++) {
		if (out[i] == '\n' && out[i + 1] == '\n') {
			hend = i;
			skip = 2;
			break;
		}
		if (i + 3 < len && !memcmp(out + i, "\r\n\r\n", 4)) {
			hend = i;
			skip = 4;
			break;
		}
	}
	if (!skip)
		return reply_text(c, 502, "bad CGI output\n");
	r = MHD_create_response_from_buffer(len - hend - skip, out + hend + skip, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	out[hend] = '\0';
	for (line = strtok(out, "\r\n"); line; line = strtok(NULL, "\r\n")) {
		char *colon = strchr(line, ':');
		char *v;

		if (!colon)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' '; v++)
			;
		if (!strcasecmp(line, "Status"))
			status = (unsigned)atoi(v);
		else
			MHD_add_response_header(r, line, v);
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	githttp_server *s = cls;
	struct req *rq = *con_cls;
	char *out = NULL;
	size_t out_len = 0;
	enum MHD_Result ret;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->len + *upload_size > rq->cap) {
			size_t cap = (rq->len + *upload_size) * 2;
			char *nb = realloc(rq->body, cap);

			if (!nb)
				return MHD_NO;
			rq->body = nb;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, upload, *upload_size);
		rq->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&s->lock);
	s->requests++;
	pthread_mutex_unlock(&s->lock);
	if (s->auth) {
		const char *got = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

		if (!got || strcmp(got, s->auth) != 0) {
			/* an empty body: libgit2 1.5 does not always drain a 401's body
			 * before reusing the connection */
			struct MHD_Response *r = text_response("");

			pthread_mutex_lock(&s->lock);
			s->refusals++;
			pthread_mutex_unlock(&s->lock);
			MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"git\"");
			ret = MHD_queue_response(c, 401, r);
			MHD_destroy_response(r);
			return ret;
		}
	}
	if (run_cgi(s, c, method, url, rq, &out, &out_len) < 0)
		return reply_text(c, 500, "could not run git http-backend\n");
	ret = reply_cgi(c, out, out_len);
	free(out);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

int githttp_start(githttp_server **out, const char *root, const char *user, const char *password)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	githttp_server *s;
	const char *backend = find_backend();

	*out = NULL;
	if (!backend) {
		fprintf(stderr, "githttp: git-http-backend not found (apt-get install git)\n");
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	pthread_mutex_init(&s->lock, NULL);
	s->root = strdup(root);
	s->backend = strdup(backend);
	if (!s->root || !s->backend)
		goto fail;
	if (user) {
		size_t n = strlen(user) + strlen(password ? password : "") + 2;
		char *pair = malloc(n), *enc;

		if (!pair)
			goto fail;
		snprintf(pair, n, "%s:%s", user, password ? password : "");
		enc = b64(pair);
		free(pair);
		if (!enc)
			goto fail;
		s->auth = malloc(strlen(enc) + 7);
		if (s->auth)
			sprintf(s->auth, "Basic %s", enc);
		free(enc);
		if (!s->auth)
			goto fail;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
	                        NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                        MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
	if (!s->d) {
		fprintf(stderr, "githttp: could not start the daemon\n");
		goto fail;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		goto fail;
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", (unsigned)info->port);
	*out = s;
	return 0;
fail:
	githttp_stop(s);
	return -1;
}

const char *githttp_url(const githttp_server *s)
{
	return s->url;
}

size_t githttp_requests(githttp_server *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t githttp_auth_refusals(githttp_server *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->refusals;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void githttp_stop(githttp_server *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->lock);
	free(s->root);
	free(s->backend);
	free(s->auth);
	free(s);
}
