/*
 * What redaction costs on a check's output at the gate's cap (4 MiB): typical
 * compiler and test output, and hostile inputs built to make a naive matcher
 * quadratic. Prints the median of N runs of wd_redact_buf on each, in ms and
 * MB/s, and how many replacements were made.
 *
 *   make BUILD=build-bench build-bench/libwarden.a
 *   cc -D_GNU_SOURCE -Iinclude -O2 -o /tmp/bench-redact bench/redact/bench.c \
 *      build-bench/libwarden.a $(pkg-config --libs libgit2 libcurl jansson tree-sitter libseccomp) \
 *      -lm -pthread
 *   /tmp/bench-redact [N] [MiB]
 *
 * Run it at 1 and at 4 MiB: linear means four times the time, not sixteen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "warden/buf.h"
#include "warden/ledger.h"

/* input size: 4 MiB (the gate's output cap) unless the second argument says MiB */
static size_t SIZE = (size_t)4 << 20;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Repeat `unit` until the buffer holds SIZE bytes. */
static void fill(wd_buf *b, const char *unit)
{
	size_t n = strlen(unit);

	wd_buf_clear(b);
	while (b->len + n <= SIZE)
		wd_buf_put(b, unit, n);
}

/* A build and test log: compiler lines, warnings, Check and pytest results,
 * now and then a line that carries a credential. */
static void typical(wd_buf *b)
{
	wd_buf_clear(b);
	for (unsigned i = 0; b->len < SIZE - 512; i++) {
		wd_buf_printf(b, "cc -std=c11 -O2 -g -Wall -Wextra -Werror -Iinclude -c -o build/obj/src/m%u.o src/m%u.c\n", i, i);
		wd_buf_printf(b, "src/m%u.c:%u:%u: warning: unused variable 'token_len' [-Wunused-variable]\n", i, i % 900, i % 40);
		wd_buf_printf(b, "   %u |     size_t token_len = strlen(token);\n", i % 900);
		wd_buf_printf(b, "tests/t.c:%u:%c:core:test_%u:0: %s\n", i, i % 50 ? 'P' : 'F', i,
		              i % 50 ? "Passed" : "Assertion 'password_len == 8' failed");
		wd_buf_printf(b, "tests/test_auth.py::test_login_%u PASSED                     [ %u%%]\n", i, i % 100);
		if (i % 200 == 0)
			wd_buf_printf(b, "DEBUG connecting with password=Hunter2-%u to https://ci:tok%u@git.example.com\n", i, i);
		if (i % 500 == 0)
			wd_buf_printf(b, "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig%u\n", i);
	}
}

static void run(const char *what, const wd_buf *input, int n)
{
	double *t = calloc((size_t)n, sizeof(*t));
	size_t hits = 0;

	for (int i = 0; i < n; i++) {
		wd_buf b = WD_BUF_INIT;
		wd_redact_hit *h = NULL;
		double t0;

		wd_buf_put(&b, input->ptr, input->len);
		hits = 0;
		t0 = now_ms();
		if (wd_redact_buf_report(&b, &h, &hits) != 0) {
			fprintf(stderr, "%s: redaction failed\n", what);
			exit(1);
		}
		t[i] = now_ms() - t0;
		free(h);
		wd_buf_free(&b);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("%-46s %8.1f ms %8.1f MB/s %8zu replacements\n", what, t[n / 2],
	       (double)input->len / 1048576.0 / (t[n / 2] / 1000.0), hits);
	free(t);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	wd_buf in = WD_BUF_INIT;
	char unit[600];

	if (n < 1)
		n = 1;
	if (argc > 2 && atoi(argv[2]) > 0)
		SIZE = (size_t)atoi(argv[2]) << 20;
	/* as at run time: a few registered values (API key, tokens from the environment) */
	wd_redact_register("sk-proj-0123456789abcdefghij");
	wd_redact_register("deploy-token-value-42");
	wd_redact_register("e2e-dsn-postgres-hunter");
	printf("input: %zu bytes each, median of %d runs\n", (size_t)SIZE, n);
	typical(&in);
	run("typical compiler and test output", &in, n);
	fill(&in, "eyJ");
	run("adversarial: eyJ repeated", &in, n);
	fill(&in, "eyJhbGciOiJIUzI1NiJ9.");
	run("adversarial: JWT headers and dots", &in, n);
	fill(&in, "eyJ-");
	run("adversarial: eyJ- repeated", &in, n);
	fill(&in, "-----BEGIN ");
	run("adversarial: -----BEGIN without a label", &in, n);
	fill(&in, "-----BEGIN RSA PRIVATE KEY-----\n-----END CERTIFICATE-----\n");
	run("adversarial: key headers, no key END", &in, n);
	fill(&in, "-----BEGIN X PRIVATE KEY----- -----END X PRIVATE KEY-----");
	run("adversarial: empty key blocks back to back", &in, n);
	fill(&in, "password=");
	run("adversarial: password= repeated", &in, n);
	fill(&in, "password=\"");
	run("adversarial: password=\" repeated", &in, n);
	fill(&in, "password: ");
	run("adversarial: 'password: ' repeated", &in, n);
	fill(&in, "password=hunter2 ");
	run("adversarial: password=hunter2 (all hits)", &in, n);
	fill(&in, "sk-");
	run("adversarial: sk- repeated", &in, n);
	fill(&in, "xoxb-");
	run("adversarial: xoxb- repeated", &in, n);
	fill(&in, "ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz ");
	run("adversarial: GitHub tokens back to back", &in, n);
	memset(unit, 'u', sizeof(unit));
	memcpy(unit, "a://", 4);
	unit[510] = '\0';
	fill(&in, unit);
	run("adversarial: :// with 500-byte userinfo, no @", &in, n);
	fill(&in, "[REDACTED");
	run("adversarial: [REDACTED repeated", &in, n);
	fill(&in, "Bearer ");
	run("adversarial: Bearer repeated", &in, n);
	fill(&in, "deploy-token-value-4");
	run("adversarial: registered value, last byte wrong", &in, n);
	wd_buf_free(&in);
	return 0;
}
