/* An interning string table (FNV-1a, open addressing) for identifier names. */
#include <stdlib.h>
#include <string.h>

#include "warden/buf.h"
#include "warden/error.h"
#include "warden/fnv.h"

#include "tags.h"

static int same(const char *str, const char *s, size_t len)
{
	return !strncmp(str, s, len) && str[len] == '\0';
}

static int rehash(wd_strtab *t, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(uint32_t));
	uint32_t *hashes = calloc(nslots, sizeof(uint32_t));

	if (!slots || !hashes) {
		free(slots);
		free(hashes);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < t->nslots; i++) {
		size_t k;

		if (!t->slots[i])
			continue;
		k = t->hashes[i] & (nslots - 1);
		while (slots[k])
			k = (k + 1) & (nslots - 1);
		slots[k] = t->slots[i];
		hashes[k] = t->hashes[i];
	}
	free(t->slots);
	free(t->hashes);
	t->slots = slots;
	t->hashes = hashes;
	t->nslots = nslots;
	return 0;
}

uint32_t wd_strtab_hash(const char *s, size_t len)
{
	return (uint32_t)wd_fnv1a64(s, len);
}

int wd_strtab_reserve(wd_strtab *t, size_t n)
{
	size_t nslots = t->nslots ? t->nslots : 64;

	while ((n + 1) * 2 > nslots)
		nslots *= 2;
	if (nslots != t->nslots && rehash(t, nslots) != 0)
		return WD_ENOMEM;
	return WD_ARRAY_RESERVE(t->strs, t->cap, n, 64);
}

int wd_strtab_add_hashed(wd_strtab *t, const char *s, uint32_t h)
{
	size_t i;
	int rc;

	if (!t->borrow)
		return wd_error_set(WD_EUSAGE, "wd_strtab_add_hashed: the table must borrow its strings");
	if ((t->n + 1) * 2 > t->nslots && (rc = rehash(t, t->nslots ? t->nslots * 2 : 64)) != 0)
		return rc;
	if (WD_ARRAY_RESERVE(t->strs, t->cap, t->n + 1, 64) != 0)
		return WD_ENOMEM;
	i = h & (t->nslots - 1);
	while (t->slots[i])
		i = (i + 1) & (t->nslots - 1);
	t->strs[t->n] = (char *)s;
	t->slots[i] = (uint32_t)t->n + 1;
	t->hashes[i] = h;
	t->n++;
	return 0;
}

int64_t wd_strtab_find(const wd_strtab *t, const char *s, size_t len)
{
	uint32_t h;
	size_t i;

	if (!t->nslots)
		return -1;
	h = (uint32_t)wd_fnv1a64(s, len);
	i = h & (t->nslots - 1);
	while (t->slots[i]) {
		if (t->hashes[i] == h && same(t->strs[t->slots[i] - 1], s, len))
			return t->slots[i] - 1;
		i = (i + 1) & (t->nslots - 1);
	}
	return -1;
}

int wd_strtab_intern(wd_strtab *t, const char *s, size_t len, uint32_t *id)
{
	size_t i;
	uint32_t h = (uint32_t)wd_fnv1a64(s, len);
	int rc;
	char *copy;

	if ((t->n + 1) * 2 > t->nslots && (rc = rehash(t, t->nslots ? t->nslots * 2 : 64)) != 0)
		return rc;
	i = h & (t->nslots - 1);
	while (t->slots[i]) {
		if (t->hashes[i] == h && same(t->strs[t->slots[i] - 1], s, len)) {
			*id = t->slots[i] - 1;
			return 0;
		}
		i = (i + 1) & (t->nslots - 1);
	}
	if (WD_ARRAY_RESERVE(t->strs, t->cap, t->n + 1, 64) != 0)
		return WD_ENOMEM;
	if (t->borrow)
		copy = (char *)s;
	else if (!(copy = wd_strndup(s, len)))
		return WD_ENOMEM;
	t->strs[t->n] = copy;
	t->slots[i] = (uint32_t)t->n + 1;
	t->hashes[i] = h;
	*id = (uint32_t)t->n++;
	return 0;
}

void wd_strtab_free(wd_strtab *t)
{
	for (size_t i = 0; i < t->n && !t->borrow; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->slots);
	free(t->hashes);
	memset(t, 0, sizeof(*t));
}
