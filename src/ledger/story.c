/* One run's story from its ledger (see warden/story.h). */
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/json.h"
#include "warden/ledger.h"
#include "warden/story.h"

#define LEDGER_MAX ((size_t)256 << 20)
#define BLOB_MAX ((size_t)8 << 20)
#define EXCERPT_BYTES 4000

struct story {
	const char *ledger;
	const wd_story_opts *o;
	json_t *root;
	json_t *rounds;
	json_t *cur;           /* the current round object */
	const char *last_reply; /* the last model call's words (for its tool calls) */
	char *reply_text;
	json_t *proc;
};

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The content of a blob named by field k of ev, or NULL. */
static char *blob_text(struct story *s, const json_t *ev, const char *k)
{
	const char *hex = str(ev, k);
	wd_buf b = WD_BUF_INIT;

	if (!hex || !wd_ledger_blob_hex_ok(hex))
		return NULL;
	if (wd_ledger_blob_read(&b, s->ledger, hex, BLOB_MAX) != 0) {
		wd_error_clear();
		wd_buf_free(&b);
		return NULL;
	}
	if (!b.ptr && wd_buf_puts(&b, "") != 0)
		return NULL;
	/* stored redacted; redacted again in case the file was put there by hand */
	wd_redact_buf(&b);
	/* NUL bytes would cut the string short: shown as spaces */
	for (size_t i = 0; i < b.len; i++)
		if (b.ptr[i] == '\0')
			b.ptr[i] = ' ';
	return wd_buf_detach(&b);
}

/* The last `lines` lines of text, at most EXCERPT_BYTES. */
static json_t *excerpt(const char *text, unsigned lines)
{
	size_t n = strlen(text);
	const char *p;
	unsigned seen = 0;

	while (n && (text[n - 1] == '\n'))
		n--;
	p = text + n;
	while (p > text && (size_t)(text + n - p) < EXCERPT_BYTES) {
		if (p[-1] == '\n' && ++seen >= lines)
			break;
		p--;
	}
	return json_stringn(p, (size_t)(text + n - p));
}

/* What the model said in a reply, without the code it proposed: the words
 * before the first code fence (the patch is shown on its own), at most
 * SAID_LINES lines and EXCERPT_BYTES bytes; JSON null when there are none. */
#define SAID_LINES 12
static json_t *said(const char *reply)
{
	const char *p = reply, *end;
	unsigned lines = 0;

	if (!reply)
		return json_null();
	for (end = reply; *end; end++) {
		if ((end == reply || end[-1] == '\n') && !strncmp(end, "```", 3))
			break;
		if (*end == '\n' && ++lines >= SAID_LINES)
			break;
		if ((size_t)(end - reply) >= EXCERPT_BYTES)
			break;
	}
	while (p < end && (*p == '\n' || *p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	while (end > p && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	/* cut at a UTF-8 boundary */
	while (end > p && *end && ((unsigned char)*end & 0xC0) == 0x80)
		end--;
	return end > p ? json_stringn(p, (size_t)(end - p)) : json_null();
}

/* A copy of the event's field, or JSON null. */
static json_t *field(const json_t *ev, const char *k)
{
	json_t *v = json_object_get(ev, k);

	return v ? json_deep_copy(v) : json_null();
}

static json_t *round_obj(struct story *s, json_int_t round)
{
	size_t i;
	json_t *r;

	json_array_foreach(s->rounds, i, r) {
		if (json_integer_value(json_object_get(r, "round")) == round)
			return r;
	}
	r = json_pack("{s:I, s:[], s:[], s:n, s:[], s:n, s:n, s:n}", "round", round, "model_calls",
	              "tool_calls", "patch", "checks", "passed", "reason", "diff");
	if (!r || json_array_append_new(s->rounds, r) != 0)
		return NULL;
	return r;
}

static json_t *check_obj(struct story *s, const json_t *ev)
{
	json_t *c = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
	                      field(ev, "name"), "kind", field(ev, "kind"), "command",
	                      field(ev, "command"), "passed", field(ev, "passed"), "exit",
	                      field(ev, json_object_get(ev, "exit_code") ? "exit_code" : "exit"), "ms",
	                      field(ev, json_object_get(ev, "wall_ms") ? "wall_ms" : "ms"), "timed_out",
	                      field(ev, "timed_out"), "cached", field(ev, "cached"), "failing",
	                      json_is_array(json_object_get(ev, "failing"))
	                      ? field(ev, "failing") : json_array());
	char *out = blob_text(s, ev, "output_blob");

	if (c && out)
		json_object_set_new(c, "excerpt", excerpt(out, s->o->excerpt_lines));
	free(out);
	return c;
}

static int add(json_t *arr, json_t *v)
{
	return v && json_array_append_new(arr, v) == 0 ? 0 : -1;
}

static int on_event(struct story *s, const json_t *ev)
{
	const char *type = str(ev, "type");
	json_t *root = s->root;
	json_int_t round = json_integer_value(json_object_get(ev, "round"));

	if (!type)
		return 0;
	if (!strcmp(type, "run.start")) {
		json_object_set_new(root, "started", field(ev, "ts"));
		json_object_set_new(root, "repo", field(ev, "repo"));
		json_object_set_new(root, "model", field(ev, "model"));
		json_decref(s->proc);
		s->proc = json_incref(json_object_get(ev, "process"));
	} else if (!strcmp(type, "ticket")) {
		char *body = blob_text(s, ev, "body_blob");
		json_t *t = json_pack("{s:o, s:o, s:o, s:s?}", "id", field(ev, "id"), "title",
		                      field(ev, "title"), "path", field(ev, "path"), "body", body);

		free(body);
		json_object_set_new(root, "ticket", t ? t : json_null());
	} else if (!strcmp(type, "repo.prepare")) {
		json_object_set_new(root, "base", field(ev, "base"));
		json_object_set_new(root, "branch", field(ev, "branch"));
	} else if (!strcmp(type, "context")) {
		json_object_set_new(root, "context", json_pack("{s:o, s:o}", "bytes", field(ev, "bytes"),
		                                               "files", field(ev, "files")));
	} else if (!strcmp(type, "check")) {
		const char *phase = str(ev, "phase");

		if (phase && !strcmp(phase, "baseline"))
			return add(json_object_get(root, "baseline"), check_obj(s, ev));
		if (!s->cur)
			return 0;
		return add(json_object_get(s->cur, "checks"), check_obj(s, ev));
	} else if (!strcmp(type, "round")) {
		s->cur = round_obj(s, round);
		return s->cur ? 0 : -1;
	} else if (!strcmp(type, "model.call")) {
		json_t *r = round_obj(s, round), *m;

		if (!r)
			return -1;
		free(s->reply_text);
		s->reply_text = blob_text(s, ev, "reply_blob");
		if (!s->reply_text && str(ev, "reply"))  /* ledgers from before blobs */
			s->reply_text = wd_redact(str(ev, "reply"));
		m = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "ts", field(ev, "ts"),
		              "spec", field(ev, "spec"),
		              "model", field(ev, "model"), "input_tokens", field(ev, "input_tokens"),
		              "output_tokens", field(ev, "output_tokens"), "cached_tokens",
		              field(ev, "cached_tokens"), "cost_usd",
		              wd_json_usd(json_number_value(json_object_get(ev, "cost_usd"))), "ms",
		              field(ev, "ms"), "attempts", field(ev, "attempts"));
		if (m) {
			json_int_t att = json_integer_value(json_object_get(ev, "attempts"));

			json_object_set_new(m, "retries", json_integer(att > 1 ? att - 1 : 0));
			json_object_set_new(m, "said", said(s->reply_text));
			if (s->o->with_messages) {
				json_object_set_new(m, "reply", s->reply_text ? json_string(s->reply_text)
				                                              : json_null());
				json_object_set_new(m, "messages", field(ev, "messages"));
			}
		}
		return add(json_object_get(r, "model_calls"), m);
	} else if (!strcmp(type, "tool.call")) {
		json_t *r = round_obj(s, round);
		/* the model's words in the turn that made the call: its reason */
		json_t *why = s->reply_text && *s->reply_text ? excerpt(s->reply_text, 3) : json_null();

		if (!r)
			return -1;
		return add(json_object_get(r, "tool_calls"),
		           json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "ts", field(ev, "ts"),
		                     "name", field(ev, "name"),
		                     "arguments", field(ev, "arguments"), "refused",
		                     json_is_true(json_object_get(ev, "refused")) ? json_true()
		                                                                  : json_false(),
		                     "bytes", field(ev, "bytes"), "reason", why));
	} else if (!strcmp(type, "patch.apply")) {
		json_t *r = round_obj(s, round), *rep = json_object_get(ev, "report");
		json_t *files = json_array(), *refusals = json_array(), *f;
		size_t i;

		if (!r || !files || !refusals) {
			json_decref(files);
			json_decref(refusals);
			return -1;
		}
		json_array_foreach(json_object_get(rep, "files"), i, f) {
			if (str(f, "path"))
				json_array_append_new(files, json_string(str(f, "path")));
		}
		json_array_foreach(json_object_get(rep, "refusals"), i, f) {
			if (str(f, "message"))
				json_array_append_new(refusals, json_string(str(f, "message")));
		}
		json_object_set_new(r, "patch", json_pack("{s:o, s:o, s:o, s:n}", "applied",
		                                          field(ev, "applied"), "files", files,
		                                          "refusals", refusals, "gate"));
	} else if (!strcmp(type, "patch.gate")) {
		json_t *r = round_obj(s, round), *p = r ? json_object_get(r, "patch") : NULL;

		if (json_is_object(p))
			json_object_set_new(p, "gate", field(ev, "reasons"));
	} else if (!strcmp(type, "patch.none") || !strcmp(type, "patch.repeat")) {
		json_t *r = round_obj(s, round);

		if (r)
			json_object_set_new(r, "patch", json_pack("{s:b, s:[], s:[s], s:n}", "applied", 0,
			                    "files", "refusals", !strcmp(type, "patch.none")
			                    ? (str(ev, "reason") ? str(ev, "reason") : "no diff")
			                    : "the same patch as an earlier round", "gate"));
	} else if (!strcmp(type, "verdict")) {
		json_t *r = round ? round_obj(s, round) : s->cur;
		char *diff = blob_text(s, ev, "diff_blob");

		if (r && diff) {
			json_object_set_new(r, "diff", json_string(diff));
			json_object_set_new(root, "diff", json_string(diff));
		}
		free(diff);
	} else if (!strcmp(type, "round.end")) {
		json_t *r = round_obj(s, round);

		if (!r)
			return -1;
		json_object_set_new(r, "passed", field(ev, "passed"));
		json_object_set_new(r, "reason", field(ev, "reason"));
	} else if (!strcmp(type, "proposal")) {
		json_object_set_new(root, "proposal", json_pack("{s:o, s:o, s:o}", "repo",
		                    field(ev, "repo"), "branch", field(ev, "branch"), "commit",
		                    field(ev, "commit")));
		json_object_set_new(root, "commit", field(ev, "commit"));
	} else if (!strcmp(type, "review.approve") || !strcmp(type, "review.reject")) {
		return add(json_object_get(root, "decisions"),
		           json_pack("{s:s, s:o, s:o, s:o}", "decision",
		                     !strcmp(type, "review.approve") ? "approved" : "rejected", "by",
		                     field(ev, "by"), "reason", field(ev, "reason"), "ts",
		                     field(ev, "ts")));
	} else if (!strcmp(type, "alert")) {
		return add(json_object_get(root, "alerts"),
		           json_pack("{s:o, s:o}", "kind", field(ev, "kind"), "message",
		                     field(ev, "message")));
	} else if (!strcmp(type, "run.end")) {
		json_object_set_new(root, "status", field(ev, "status"));
		json_object_set_new(root, "reason", field(ev, "reason"));
		json_object_set_new(root, "ended", field(ev, "ts"));
		json_object_set_new(root, "ms", field(ev, "ms"));
		if (str(ev, "branch"))
			json_object_set_new(root, "branch", field(ev, "branch"));
		if (str(ev, "commit"))
			json_object_set_new(root, "commit", field(ev, "commit"));
		json_object_set_new(root, "usage", json_pack("{s:o, s:o, s:o}", "input_tokens",
		                    field(ev, "input_tokens"), "output_tokens",
		                    field(ev, "output_tokens"), "cost_usd",
		                    wd_json_usd(json_number_value(json_object_get(ev, "cost_usd")))));
		json_object_set_new(root, "rounds_used", field(ev, "rounds"));
	}
	return 0;
}

/* Totals from the model calls, for a run that has no run.end. */
static void usage_from_calls(json_t *root)
{
	json_int_t in = 0, out = 0;
	double cost = 0;
	size_t i, j;
	json_t *r, *m;

	json_array_foreach(json_object_get(root, "rounds"), i, r) {
		json_array_foreach(json_object_get(r, "model_calls"), j, m) {
			in += json_integer_value(json_object_get(m, "input_tokens"));
			out += json_integer_value(json_object_get(m, "output_tokens"));
			cost += json_number_value(json_object_get(m, "cost_usd"));
		}
	}
	json_object_set_new(root, "usage", json_pack("{s:I, s:I, s:o}", "input_tokens", in,
	                                             "output_tokens", out, "cost_usd",
	                                             wd_json_usd(cost)));
}

int wd_story_build(json_t **out, const char *ledger_path, const wd_story_opts *opts)
{
	wd_story_opts defaults = WD_STORY_OPTS_INIT;
	struct story s;
	json_t *evs = NULL, *ev;
	size_t i;
	int rc;

	*out = NULL;
	memset(&s, 0, sizeof(s));
	s.ledger = ledger_path;
	s.o = opts ? opts : &defaults;
	if ((rc = wd_ledger_read(&evs, ledger_path, LEDGER_MAX)) != 0)
		return rc;
	s.root = json_pack("{s:o, s:s, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n,"
	                   " s:[], s:[], s:n, s:[], s:[], s:n, s:I}",
	                   "run", json_string(str(json_array_get(evs, 0), "run")
	                                      ? str(json_array_get(evs, 0), "run") : ""),
	                   "status", "running", "reason", "started", "ended", "ms", "repo", "base",
	                   "branch", "commit", "model", "usage", "ticket", "context", "baseline",
	                   "rounds", "proposal", "decisions", "alerts", "diff", "events",
	                   (json_int_t)json_array_size(evs));
	if (!s.root || !(s.rounds = json_object_get(s.root, "rounds"))) {
		rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(evs, i, ev) {
		if (on_event(&s, ev) != 0) {
			rc = wd_error_set(WD_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!strcmp(str(s.root, "status") ? str(s.root, "status") : "", "running")) {
		/* no run.end: still running, or stopped without a word (kill -9) */
		if (!wd_ledger_process_alive(s.proc))
			json_object_set_new(s.root, "status", json_string("interrupted"));
		usage_from_calls(s.root);
	}
	wd_redact_json(s.root);
	*out = s.root;
	s.root = NULL;
out:
	json_decref(s.root);
	json_decref(s.proc);
	json_decref(evs);
	free(s.reply_text);
	return rc;
}
