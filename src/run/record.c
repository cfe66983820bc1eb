/* What the model saw, as ledger blobs: each message of a request is stored
 * once by content, so a request is a short list of ids however many rounds
 * repeat the same system prompt and task. */
#include <stdlib.h>

#include <jansson.h>

#include "warden/ledger.h"
#include "warden/model.h"

#include "run_internal.h"

json_t *wd_run_chat_blobs(wd_ledger *l, const wd_chat *chat)
{
	static const char *const roles[] = { "system", "user", "assistant", "tool" };
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < chat->n; i++) {
		const wd_message *m = &chat->msgs[i];
		json_t *calls = m->ntool_calls ? wd_tool_calls_json(m->tool_calls, m->ntool_calls) : NULL;
		/* the calls as JSON text, as the ledger has always had them */
		char *text = calls ? json_dumps(calls, JSON_COMPACT) : NULL;
		json_t *o = json_pack("{s:s, s:o, s:s?, s:s?}", "role",
		                      m->role <= WD_ROLE_TOOL ? roles[m->role] : "?", "blob",
		                      wd_ledger_blob_ref(l, m->content ? m->content : ""),
		                      "tool_call_id", m->tool_call_id, "tool_calls", text);

		json_decref(calls);
		free(text);
		if (!o || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
