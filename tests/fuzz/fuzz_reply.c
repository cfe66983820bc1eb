/*
 * Fuzz the parsing of model replies: the body a provider sends back is
 * untrusted input. The first byte picks the API and whether the body is a
 * whole JSON reply or an SSE stream; the rest is the body. Invariants of a
 * parsed reply: text set; every tool call typed and checked once (an id of
 * 1 to 256 bytes, a name of at most 256, the arguments' text set and, when
 * it parses, an object); usage figures between 0 and WD_USAGE_REPLY_MAX
 * (negative, absurd or overflowing ones refused or clamped); a finish reason
 * of "length", "max_tokens" or "max_output_tokens", and only those, marks it
 * truncated.
 *
 * A reply's tool calls then go where a run sends them: back into the chat
 * and out again as the next request of every API (the request hash stays
 * the same however they came), and into the read-only tools, whose
 * argument checks see the model's arguments as they are. grep is left out
 * here: it forks a child per call, which would only slow the fuzzer down
 * (its pattern rules are plain C in the same file).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fs.h"
#include "warden/model.h"
#include "warden/tools.h"
#include "../../src/model/provider.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The tools list a tree through libgit2 (is it a work tree?), which wants
 * its global state set up first, as main() does in warden. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	return 0;
}

static char tree[] = "/tmp/wd-fuzz-reply-XXXXXX";

/* A two-file work tree for the tools, made once per process. */
static const char *tools_tree(void)
{
	static int made;
	wd_buf p = WD_BUF_INIT;

	if (made)
		return tree;
	if (!mkdtemp(tree))
		__builtin_trap();
	wd_path_join(&p, tree, "a.c");
	wd_file_write_atomic(p.ptr, "int a;\nint main(void) { return a; }\n", 35, 0644);
	wd_buf_clear(&p);
	wd_path_join(&p, tree, "b.txt");
	wd_file_write_atomic(p.ptr, "notes\n", 6, 0644);
	wd_buf_free(&p);
	made = 1;
	return tree;
}

static void check_calls(const wd_model_reply *r)
{
	for (size_t i = 0; i < r->ntool_calls; i++) {
		const wd_tool_call *c = &r->tool_calls[i];

		if (!c->id || !*c->id || strlen(c->id) > 256 || !c->name || strlen(c->name) > 256 ||
		    !c->args_text || (c->args && !json_is_object(c->args)))
			__builtin_trap();
	}
}

/* The calls back into a chat, out as each API's next request. */
static void round_trip(const wd_model_reply *r)
{
	static const wd_api *const apis[] = { &wd_api_openai_chat, &wd_api_openai_responses,
	                                      &wd_api_anthropic };
	wd_backend b;
	wd_model_call call = WD_MODEL_CALL_INIT;
	wd_chat chat = WD_CHAT_INIT;
	char h1[41], h2[41];

	memset(&b, 0, sizeof(b));
	b.model = "m";
	if (wd_chat_add(&chat, WD_ROLE_USER, "Fix it.") ||
	    wd_chat_add_tool_calls(&chat, r->text, r->tool_calls, r->ntool_calls))
		__builtin_trap(); /* checked calls are always accepted */
	for (size_t i = 0; i < r->ntool_calls; i++)
		if (wd_chat_add_tool_result(&chat, r->tool_calls[i].id, "result"))
			__builtin_trap();
	for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++) {
		json_t *body = NULL;

		if (apis[i]->build(&body, &b, &chat, &call, (int)i & 1) == 0 && !body)
			__builtin_trap();
		json_decref(body);
	}
	/* the hash of a chat is a function of its calls, not of how they were read */
	if (wd_chat_hash(h1, &chat, NULL) == 0 && (wd_chat_hash(h2, &chat, NULL) || strcmp(h1, h2)))
		__builtin_trap();
	wd_chat_free(&chat);
}

static void into_tools(const wd_model_reply *r)
{
	wd_tools_opts o = WD_TOOLS_OPTS_INIT;
	wd_tools *t = NULL;

	o.time_limit_ms = 200;
	if (wd_tools_new(&t, tools_tree(), &o) != 0)
		return;
	for (size_t i = 0; i < r->ntool_calls; i++) {
		wd_buf out = WD_BUF_INIT;
		int rc;

		if (!strcmp(r->tool_calls[i].name, "grep"))
			continue;
		rc = wd_tools_run(&out, t, r->tool_calls[i].name, r->tool_calls[i].args);
		/* whatever the arguments, the model is told something */
		if ((rc == 0 || rc == WD_EINPUT || rc == WD_EBUDGET) && !out.len)
			__builtin_trap();
		wd_buf_free(&out);
	}
	wd_tools_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const apis[] = { "openai", "openai-responses", "anthropic" };
	wd_model_reply r;
	unsigned sel;

	if (size < 1)
		return 0;
	sel = data[0] % 6;
	if (wd_model_parse_reply(&r, apis[sel / 2], (const char *)data + 1, size - 1, sel % 2) == 0) {
		/* a parsed reply is always usable: text set, tool calls typed and checked */
		if (!r.text)
			__builtin_trap();
		check_calls(&r);
		if (r.ntool_calls) {
			round_trip(&r);
			into_tools(&r);
		}
		if (r.usage.input_tokens < 0 || r.usage.output_tokens < 0 || r.usage.cached_tokens < 0 ||
		    r.usage.input_tokens > WD_USAGE_REPLY_MAX || r.usage.output_tokens > WD_USAGE_REPLY_MAX ||
		    r.usage.cached_tokens > r.usage.input_tokens)
			__builtin_trap();
		if (wd_model_reply_truncated(&r) !=
		    (r.finish_reason && (!strcmp(r.finish_reason, "length") ||
		                         !strcmp(r.finish_reason, "max_tokens") ||
		                         !strcmp(r.finish_reason, "max_output_tokens") ||
		                         !strcmp(r.finish_reason, "model_context_window_exceeded"))))
			__builtin_trap();
		/* a reply cut off is incomplete; one that is incomplete names no
		 * finish that ends a whole reply */
		if (wd_model_reply_truncated(&r) && !wd_model_reply_incomplete(&r))
			__builtin_trap();
		if (wd_model_reply_incomplete(&r) &&
		    (!r.finish_reason || !strcasecmp(r.finish_reason, "stop") ||
		     !strcasecmp(r.finish_reason, "end_turn") || !strcasecmp(r.finish_reason, "completed")))
			__builtin_trap();
	}
	wd_model_reply_free(&r);
	return 0;
}
