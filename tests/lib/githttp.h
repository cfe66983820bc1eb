#ifndef WARDEN_TESTS_GITHTTP_H
#define WARDEN_TESTS_GITHTTP_H

#include <stddef.h>

/*
 * A real git smart-HTTP server on 127.0.0.1 for push and fetch tests:
 * libmicrohttpd (one thread per connection) runs Debian's `git http-backend`
 * as a CGI for each request, serving every repository under `root`
 * (GIT_PROJECT_ROOT, export-all, receive-pack enabled). The repositories are
 * addressed as http://127.0.0.1:PORT/<name>. Start it inside a test function
 * (Check forks per test), never in main().
 */
typedef struct githttp_server githttp_server;

/* Serve `root`. When `user` is non-NULL every request must carry HTTP Basic
 * credentials user:password, else it gets 401 with a WWW-Authenticate
 * challenge. Returns 0, or -1 with a reason on stderr (e.g. no git-http-backend:
 * apt-get install git). */
int githttp_start(githttp_server **out, const char *root, const char *user, const char *password);

/* "http://127.0.0.1:PORT" (no trailing slash). */
const char *githttp_url(const githttp_server *s);

/* Requests served so far, and how many of them were refused for bad or
 * missing credentials. */
size_t githttp_requests(githttp_server *s);
size_t githttp_auth_refusals(githttp_server *s);

/* Stop the daemon and free everything. NULL is a no-op. */
void githttp_stop(githttp_server *s);

#endif
