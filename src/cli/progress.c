/* Live progress on stderr (see progress.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/fs.h"
#include "warden/ledger.h"

#include "progress.h"

#define TAIL_LINES 3
#define LINE_MAX_SHOWN 100
#define TICK_MS 200

struct wd_progress {
	int level, tty, color;
	pthread_mutex_t lock;
	pthread_t ticker;
	int have_ticker, stop;
	char stage[32];
	char check[256];       /* "name: command", redacted */
	uint64_t stage_t0, check_t0;
	wd_buf partial;        /* the output's unfinished last line */
	char tail[TAIL_LINES][LINE_MAX_SHOWN + 1];
	int ntail;
	int drawn;             /* live lines on screen */
};

/* Control bytes out, cut to fit: s redacted into out. */
static void clean_into(char *out, size_t cap, const char *s, size_t n)
{
	wd_buf b = WD_BUF_INIT;
	size_t j = 0;

	if (wd_buf_put(&b, s, n) != 0 || wd_redact_buf(&b) != 0) {
		snprintf(out, cap, "(output hidden: out of memory)");
		wd_buf_free(&b);
		return;
	}
	for (size_t i = 0; i < b.len && j + 1 < cap; i++) {
		unsigned char c = (unsigned char)b.ptr[i];

		out[j++] = c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[j] = '\0';
	wd_buf_free(&b);
}

static const char *col(const wd_progress *p, const char *code)
{
	return p->color ? code : "";
}

/* Erase the live lines (lock held). */
static void erase(wd_progress *p)
{
	if (!p->tty || !p->drawn)
		return;
	for (int i = 0; i < p->drawn; i++)
		fputs(i ? "\033[1A\r\033[2K" : "\r\033[2K", stderr);
	p->drawn = 0;
}

/* Draw the live lines (lock held, terminal only). */
static void draw(wd_progress *p)
{
	uint64_t now = wd_now_ms();

	if (!p->tty || p->level == WD_PROGRESS_QUIET || !p->stage[0])
		return;
	erase(p);
	fprintf(stderr, "%swarden:%s %-9s %6.1fs", col(p, "\033[1m"), col(p, "\033[0m"), p->stage,
	        (double)(now - p->stage_t0) / 1000.0);
	p->drawn = 1;
	if (p->check[0]) {
		fprintf(stderr, "  %s%s%s (%.1fs)", col(p, "\033[36m"), p->check, col(p, "\033[0m"),
		        (double)(now - p->check_t0) / 1000.0);
		for (int i = 0; i < p->ntail; i++) {
			fprintf(stderr, "\n  %s| %s%s", col(p, "\033[2m"), p->tail[i], col(p, "\033[0m"));
			p->drawn++;
		}
	}
	fflush(stderr);
}

static void *tick(void *arg)
{
	wd_progress *p = arg;

	for (;;) {
		struct timespec ts = { 0, TICK_MS * 1000000L };

		nanosleep(&ts, NULL);
		pthread_mutex_lock(&p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		draw(p);
		pthread_mutex_unlock(&p->lock);
	}
}

wd_progress *wd_progress_new(int level)
{
	wd_progress *p = calloc(1, sizeof(*p));
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (!p)
		return NULL;
	p->level = level;
	p->tty = isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
	p->color = p->tty && !(nc && *nc);
	pthread_mutex_init(&p->lock, NULL);
	if (p->tty && level != WD_PROGRESS_QUIET &&
	    pthread_create(&p->ticker, NULL, tick, p) == 0)
		p->have_ticker = 1;
	return p;
}

static void vline(wd_progress *p, const char *fmt, va_list ap)
{
	wd_buf msg = WD_BUF_INIT;
	char *shown;

	if (wd_buf_vprintf(&msg, fmt, ap) != 0)
		return;
	shown = malloc(msg.len + 1);
	if (shown) {
		clean_into(shown, msg.len + 1, msg.ptr, msg.len);
		erase(p);
		fprintf(stderr, "warden: %s\n", shown);
		free(shown);
	}
	wd_buf_free(&msg);
	draw(p);
}

void wd_progress_line(wd_progress *p, const char *fmt, ...)
{
	va_list ap;

	if (!p || p->level == WD_PROGRESS_QUIET)
		return;
	pthread_mutex_lock(&p->lock);
	va_start(ap, fmt);
	vline(p, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&p->lock);
}

static void on_stage(void *payload, const char *stage, int done, uint64_t ms, const char *msg)
{
	wd_progress *p = payload;

	if (p->level == WD_PROGRESS_QUIET)
		return;
	pthread_mutex_lock(&p->lock);
	if (!done) {
		snprintf(p->stage, sizeof(p->stage), "%s", stage);
		p->stage_t0 = wd_now_ms();
		p->check[0] = '\0';
		p->ntail = 0;
		if (p->tty)
			draw(p);
		else if (p->level == WD_PROGRESS_VERBOSE)
			fprintf(stderr, "warden: %-9s ...\n", stage);
	} else {
		char text[512];

		clean_into(text, sizeof(text), msg ? msg : "", msg ? strlen(msg) : 0);
		erase(p);
		p->stage[0] = '\0';
		p->check[0] = '\0';
		fprintf(stderr, "warden: %-9s %6.2fs  %s\n", stage, (double)ms / 1000.0, text);
	}
	pthread_mutex_unlock(&p->lock);
}

static void on_check(void *payload, const char *name, const char *command, int done)
{
	wd_progress *p = payload;
	char text[256];

	if (p->level == WD_PROGRESS_QUIET)
		return;
	pthread_mutex_lock(&p->lock);
	if (!done) {
		wd_buf s = WD_BUF_INIT;

		wd_buf_printf(&s, "%s: %s", name ? name : "?", command ? command : "");
		clean_into(text, sizeof(text), wd_buf_cstr(&s), s.len);
		wd_buf_free(&s);
		snprintf(p->check, sizeof(p->check), "%s", text);
		p->check_t0 = wd_now_ms();
		p->ntail = 0;
		wd_buf_clear(&p->partial);
		if (p->tty)
			draw(p);
		else
			fprintf(stderr, "warden: check %s\n", text);
	} else {
		if (!p->tty && p->level == WD_PROGRESS_VERBOSE && p->partial.len) {
			clean_into(text, sizeof(text), p->partial.ptr, p->partial.len);
			fprintf(stderr, "  | %s\n", text);
		}
		wd_buf_clear(&p->partial);
	}
	pthread_mutex_unlock(&p->lock);
}

/* One complete line of output: into the tail (and printed in verbose mode
 * without a terminal). Lock held. */
static void output_line(wd_progress *p, const char *s, size_t n)
{
	char text[LINE_MAX_SHOWN + 1];

	if (n && s[n - 1] == '\r')
		n--;
	clean_into(text, sizeof(text), s, n);
	if (!p->tty) {
		if (p->level == WD_PROGRESS_VERBOSE)
			fprintf(stderr, "  | %s\n", text);
		return;
	}
	if (p->ntail == TAIL_LINES) {
		memmove(p->tail[0], p->tail[1], sizeof(p->tail[0]) * (TAIL_LINES - 1));
		p->ntail--;
	}
	memcpy(p->tail[p->ntail++], text, sizeof(text));
}

static void on_output(void *payload, const char *data, size_t len)
{
	wd_progress *p = payload;

	if (p->level == WD_PROGRESS_QUIET || (!p->tty && p->level != WD_PROGRESS_VERBOSE))
		return;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			output_line(p, wd_buf_cstr(&p->partial), p->partial.len);
			wd_buf_clear(&p->partial);
		} else if (p->partial.len < 4096) {
			wd_buf_putc(&p->partial, data[i]);
		}
	}
	pthread_mutex_unlock(&p->lock);
}

void wd_progress_attach(wd_progress *p, wd_run_opts *opts)
{
	if (!p)
		return;
	opts->progress = on_stage;
	opts->on_check = on_check;
	opts->on_output = on_output;
	opts->payload = p;
}

void wd_progress_summary(wd_progress *p, const wd_run_result *res, uint64_t ms)
{
	static const char *const names[] = { "proposed", "no patch", "error", "interrupted" };
	const char *status = (unsigned)res->status < 4 ? names[res->status] : "?";

	if (!p || p->level == WD_PROGRESS_QUIET)
		return;
	pthread_mutex_lock(&p->lock);
	erase(p);
	p->stage[0] = '\0';
	fprintf(stderr, "warden: %s%s%s: %d round%s, %lld in / %lld out tokens, $%.4f, %.1fs\n",
	        col(p, res->status == WD_RUN_PROPOSED ? "\033[32m" : "\033[31m"), status,
	        col(p, "\033[0m"), res->rounds, res->rounds == 1 ? "" : "s",
	        (long long)res->input_tokens, (long long)res->output_tokens, res->cost_usd,
	        (double)ms / 1000.0);
	pthread_mutex_unlock(&p->lock);
}

void wd_progress_free(wd_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	erase(p);
	pthread_mutex_unlock(&p->lock);
	if (p->have_ticker)
		pthread_join(p->ticker, NULL);
	pthread_mutex_destroy(&p->lock);
	wd_buf_free(&p->partial);
	free(p);
}
