// SPDX-License-Identifier: GPL-2.0
/*
 * Every allocator function pagetrace probes, once each, on blocks big
 * enough for mappings of their own (sizes 1 to 9 MiB, each its own), every
 * page written, then all freed: the same ledger wherever the probes sit.
 */
#include <malloc.h>
#include "target.h"

#define BLOCKS 9

int main(void)
{
	void *blocks[BLOCKS] = { 0 };
	size_t sizes[BLOCKS], i;

	no_thp();
	for (i = 0; i < BLOCKS; i++)
		sizes[i] = (i + 1) * MiB;
	blocks[0] = malloc(sizes[0]);
	blocks[1] = calloc(1, sizes[1]);
	/* grown from 1 MiB: glibc moves the mapping (mremap) */
	blocks[2] = realloc(malloc(MiB / 2), sizes[2]);
	blocks[3] = reallocarray(NULL, 4, MiB);
	/* page alignment: glibc then puts the block one page into its
	 * mapping, its header in the page of the mapping's own, every run
	 * (a coarser one moves it with where the mapping lands) */
	if (posix_memalign(&blocks[4], 4096, sizes[4]))
		return 1;
	blocks[5] = aligned_alloc(4096, sizes[5]);
	blocks[6] = memalign(4096, sizes[6]);
	blocks[7] = valloc(sizes[7]);
	blocks[8] = pvalloc(sizes[8]);
	for (i = 0; i < BLOCKS; i++) {
		if (!blocks[i])
			return 1;
		write_pages(blocks[i], sizes[i]);
	}
	for (i = 0; i < BLOCKS; i++)
		free(blocks[i]);
	return 0;
}
