/*
 * Copying objects between repositories with the odb API: how a proposal
 * reaches the user's repository (and a local base reaches the mirror) without
 * a transport, a remote in the user's config, or touching anything but the
 * object database and one new ref.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/error.h"
#include "repo_int.h"

struct copier {
	git_repository *src;
	git_odb *sodb, *dodb;
};

static int copy_raw(struct copier *c, const git_oid *id)
{
	git_odb_object *obj = NULL;
	git_oid written;
	int rc = 0;

	if (git_odb_exists(c->dodb, id))
		return 0;
	if (git_odb_read(&obj, c->sodb, id) < 0)
		return wd_error_git(WD_EINFRA, "reading object");
	if (git_odb_write(&written, c->dodb, git_odb_object_data(obj), git_odb_object_size(obj),
	                  git_odb_object_type(obj)) < 0)
		rc = wd_error_git(WD_EINFRA, "writing object");
	else if (!git_oid_equal(&written, id))
		rc = wd_error_set(WD_EINFRA, "object copy changed its id");
	git_odb_object_free(obj);
	return rc;
}

/* A tree that exists in the destination is complete there, with everything below. */
static int copy_tree(struct copier *c, const git_oid *id)
{
	git_tree *tree = NULL;
	int rc = 0;

	if (git_odb_exists(c->dodb, id))
		return 0;
	if (git_tree_lookup(&tree, c->src, id) < 0)
		return wd_error_git(WD_EINFRA, "reading tree");
	for (size_t i = 0; i < git_tree_entrycount(tree) && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);

		switch (git_tree_entry_type(e)) {
		case GIT_OBJECT_TREE:
			rc = copy_tree(c, git_tree_entry_id(e));
			break;
		case GIT_OBJECT_BLOB:
			rc = copy_raw(c, git_tree_entry_id(e));
			break;
		default: /* a submodule's commit lives in another repository */
			break;
		}
	}
	if (!rc)
		rc = copy_raw(c, id); /* the tree last: its presence means "complete" */
	git_tree_free(tree);
	return rc;
}

/* A growable list of oids with an open-addressing index, so membership is O(1)
 * even when a whole history is missing. */
struct oidlist {
	git_oid *v;
	size_t n, cap;
	size_t *slot; /* index+1 into v, 0 = empty; 2*cap slots */
};

static size_t oid_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

static int oidlist_has(const struct oidlist *l, const git_oid *id)
{
	size_t mask = 2 * l->cap - 1;

	if (!l->cap)
		return 0;
	for (size_t i = oid_hash(id) & mask; l->slot[i]; i = (i + 1) & mask)
		if (git_oid_equal(&l->v[l->slot[i] - 1], id))
			return 1;
	return 0;
}

static int oidlist_add(struct oidlist *l, const git_oid *id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap, *slot;

		/* l->cap grows only with the slot table: it is the table's size too */
		if (WD_ARRAY_RESERVE(l->v, cap, l->n + 1, 64) != 0)
			return WD_ENOMEM;
		if (!(slot = calloc(2 * cap, sizeof(*slot))))
			return wd_error_set(WD_ENOMEM, "out of memory");
		free(l->slot);
		l->slot = slot;
		l->cap = cap;
		for (size_t k = 0; k < l->n; k++) {
			size_t i = oid_hash(&l->v[k]) & (2 * cap - 1);

			while (slot[i])
				i = (i + 1) & (2 * cap - 1);
			slot[i] = k + 1;
		}
	}
	git_oid_cpy(&l->v[l->n], id);
	{
		size_t mask = 2 * l->cap - 1, i = oid_hash(id) & mask;

		while (l->slot[i])
			i = (i + 1) & mask;
		l->slot[i] = ++l->n;
	}
	return 0;
}

static void oidlist_free(struct oidlist *l)
{
	free(l->v);
	free(l->slot);
	memset(l, 0, sizeof(*l));
}

/* The commits reachable from `start` that the destination lacks, in discovery
 * order: a commit that exists there has its whole history there, so the
 * search stops at it. */
static int missing_commits(struct copier *c, const git_oid *start, struct oidlist *out)
{
	int rc = 0;

	if (git_odb_exists(c->dodb, start))
		return 0;
	if ((rc = oidlist_add(out, start)) != 0)
		return rc;
	for (size_t next = 0; next < out->n && !rc; next++) {
		git_commit *commit = NULL;
		git_oid id;

		git_oid_cpy(&id, &out->v[next]); /* out->v moves as it grows */
		if (git_commit_lookup(&commit, c->src, &id) < 0)
			return wd_error_git(WD_EINFRA, "reading commit");
		for (unsigned i = 0; i < git_commit_parentcount(commit) && !rc; i++) {
			const git_oid *p = git_commit_parent_id(commit, i);

			if (!oidlist_has(out, p) && !git_odb_exists(c->dodb, p))
				rc = oidlist_add(out, p);
		}
		git_commit_free(commit);
	}
	return rc;
}

static int copy_commits(struct copier *c, const git_oid *start)
{
	struct oidlist list = { 0 };
	int rc = missing_commits(c, start, &list);

	/* oldest first, so a commit is written after its history */
	for (size_t i = list.n; i-- > 0 && !rc;) {
		git_commit *commit = NULL;

		if (git_commit_lookup(&commit, c->src, &list.v[i]) < 0) {
			rc = wd_error_git(WD_EINFRA, "reading commit");
			break;
		}
		rc = copy_tree(c, git_commit_tree_id(commit));
		if (!rc)
			rc = copy_raw(c, &list.v[i]);
		git_commit_free(commit);
	}
	oidlist_free(&list);
	return rc;
}

int wd_repo__copy_commit(git_repository *dst, git_repository *src, const git_oid *commit)
{
	struct copier c = { src, NULL, NULL };
	int rc;

	if (git_repository_odb(&c.sodb, src) < 0 || git_repository_odb(&c.dodb, dst) < 0) {
		rc = wd_error_git(WD_EINFRA, "opening object database");
		goto out;
	}
	rc = copy_commits(&c, commit);
out:
	git_odb_free(c.sodb);
	git_odb_free(c.dodb);
	return rc;
}

int wd_repo__copy_object(git_repository *dst, git_repository *src, const git_oid *id)
{
	struct copier c = { src, NULL, NULL };
	git_object *obj = NULL;
	git_oid cur;
	int rc = 0;

	if (git_repository_odb(&c.sodb, src) < 0 || git_repository_odb(&c.dodb, dst) < 0) {
		rc = wd_error_git(WD_EINFRA, "opening object database");
		goto out;
	}
	git_oid_cpy(&cur, id);
	/* a tag is copied after what it points at (recursively, for tag chains) */
	if (!git_odb_exists(c.dodb, &cur)) {
		if (git_object_lookup(&obj, src, &cur, GIT_OBJECT_ANY) < 0) {
			rc = wd_error_git(WD_EINFRA, "reading object");
			goto out;
		}
		switch (git_object_type(obj)) {
		case GIT_OBJECT_TAG:
			rc = wd_repo__copy_object(dst, src, git_tag_target_id((git_tag *)obj));
			if (!rc)
				rc = copy_raw(&c, &cur);
			break;
		case GIT_OBJECT_COMMIT:
			rc = copy_commits(&c, &cur);
			break;
		case GIT_OBJECT_TREE:
			rc = copy_tree(&c, &cur);
			break;
		default:
			rc = copy_raw(&c, &cur);
			break;
		}
		git_object_free(obj);
	}
out:
	git_odb_free(c.sodb);
	git_odb_free(c.dodb);
	return rc;
}
