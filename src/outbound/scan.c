/* `warden scan`: the outbound gate's verdict on a tree, without sending anything. */
#include <git2.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "warden/ledger.h"
#include "warden/outbound.h"

#define SCAN_FILE_MAX (4u * 1024u * 1024u)

struct scan {
	const wd_outbound *ob;
	git_repository *repo;
	json_t *denied, *findings;
	size_t files, skipped;
	int rc;
};

static int add_findings(struct scan *sc, const char *path, const char *text, size_t len)
{
	wd_redact_hit *hits = NULL;
	size_t n = 0, line = 1, at = 0;
	int rc = wd_redact_scan(&hits, &n, text, len);

	for (size_t i = 0; !rc && i < n; i++) {
		for (; at < hits[i].offset && at < len; at++)
			line += text[at] == '\n';
		if (json_array_append_new(sc->findings,
		                          json_pack("{s:s, s:I, s:s}", "path", path, "line",
		                                    (json_int_t)line, "rule", hits[i].rule)) != 0)
			rc = wd_error_set(WD_ENOMEM, "out of memory");
	}
	free(hits);
	return rc;
}

static int visit(const char *root, const git_tree_entry *e, void *payload)
{
	struct scan *sc = payload;
	git_filemode_t mode = git_tree_entry_filemode(e);
	git_blob *blob = NULL;
	char path[4096];
	const char *rule = NULL;
	int n;

	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE &&
	    mode != GIT_FILEMODE_LINK)
		return 0;
	n = snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(e));
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	sc->files++;
	if (!wd_outbound_path_allowed(sc->ob, path, &rule)) {
		if (json_array_append_new(sc->denied, json_pack("{s:s, s:s}", "path", path, "rule",
		                                                rule ? rule : "")) != 0)
			goto nomem;
		return 0;
	}
	if (mode == GIT_FILEMODE_LINK)
		return 0;
	if (git_blob_lookup(&blob, sc->repo, git_tree_entry_id(e)) < 0) {
		sc->rc = wd_error_git(WD_EINFRA, "scan: reading a file");
		return -1;
	}
	if (git_blob_rawsize(blob) > SCAN_FILE_MAX ||
	    memchr(git_blob_rawcontent(blob), '\0', (size_t)git_blob_rawsize(blob)))
		sc->skipped++;
	else if ((sc->rc = add_findings(sc, path, git_blob_rawcontent(blob),
	                                (size_t)git_blob_rawsize(blob))) != 0) {
		git_blob_free(blob);
		return -1;
	}
	git_blob_free(blob);
	return 0;
nomem:
	sc->rc = wd_error_set(WD_ENOMEM, "out of memory");
	return -1;
}

int wd_outbound_scan_tree(json_t **out, const wd_outbound *ob, git_repository *repo,
                          const git_oid *tree_id)
{
	struct scan sc = { ob, repo, json_array(), json_array(), 0, 0, 0 };
	git_tree *tree = NULL;

	*out = NULL;
	if (!sc.denied || !sc.findings) {
		sc.rc = wd_error_set(WD_ENOMEM, "out of memory");
		goto out;
	}
	if (git_tree_lookup(&tree, repo, tree_id) < 0) {
		sc.rc = wd_error_git(WD_EINFRA, "scan: reading the tree");
		goto out;
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, visit, &sc) < 0 && !sc.rc)
		sc.rc = wd_error_git(WD_EINFRA, "scan: walking the tree");
	if (sc.rc)
		goto out;
	*out = json_pack("{s:I, s:I, s:O, s:O}", "files", (json_int_t)sc.files, "skipped",
	                 (json_int_t)sc.skipped, "denied", sc.denied, "findings", sc.findings);
	if (!*out)
		sc.rc = wd_error_set(WD_ENOMEM, "out of memory");
out:
	git_tree_free(tree);
	json_decref(sc.denied);
	json_decref(sc.findings);
	return sc.rc;
}
