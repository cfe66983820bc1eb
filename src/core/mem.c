/* Prefaulting memory in huge pages (see warden/mem.h). */
#include <stdint.h>
#include <sys/mman.h>

#include "warden/mem.h"

#define SMALL_PAGE ((uintptr_t)4096)
#define HUGE_PAGE ((uintptr_t)2 << 20)

void wd_mem_prefault(void *p, size_t n)
{
	uintptr_t a = ((uintptr_t)p + SMALL_PAGE - 1) & ~(SMALL_PAGE - 1);
	uintptr_t e = ((uintptr_t)p + n) & ~(SMALL_PAGE - 1);
	uintptr_t ha = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uintptr_t he = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);

	if (e <= a)
		return;
#ifdef MADV_HUGEPAGE
	if (he > ha)
		madvise((void *)ha, he - ha, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
	madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#endif
}
