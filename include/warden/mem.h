#ifndef WARDEN_MEM_H
#define WARDEN_MEM_H

#include <stddef.h>

/*
 * Make the pages of [p, p + n) resident now, in one call, and in
 * transparent huge pages where the range covers whole aligned 2 MiB blocks.
 *
 * Why: the first write to a page costs a fault, and on a virtual machine
 * far more than the work done in the page. On bench/map's VM, writing 16 MiB
 * a page at a time took ~65 ms; populated first in 4 KiB pages, 4 ms then
 * ~30 ms on first use (the hypervisor still fills its own tables page by
 * page); in huge pages, ~1.5 ms in all. A warm map writes about 9 MiB of
 * heap, so its heaps are taken this way before it starts. Best effort: a
 * kernel without MADV_POPULATE_WRITE or huge pages leaves the range as it was.
 */
void wd_mem_prefault(void *p, size_t n);

#endif
