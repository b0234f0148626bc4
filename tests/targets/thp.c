// SPDX-License-Identifier: GPL-2.0
/* 8 MiB aligned on 2 MiB, MADV_HUGEPAGE, one write per 2 MiB: four huge
 * pages, 512 pages each, in four faults.
 *
 * glibc maps 10 MiB and more, writes a chunk header at the mapping's start,
 * and the aligned block's header just below the block. The test needs to
 * know whether both headers share a page (the block starts one page into
 * the mapping), so the offset is printed: "lead BYTES". */
#include <inttypes.h>
#include <sys/mman.h>
#include "target.h"

/* The start of the mapping that holds addr, from /proc/self/maps. */
static uintptr_t mapping_start(uintptr_t addr)
{
	uintptr_t start, end, found = 0;
	char line[512];
	FILE *maps = fopen("/proc/self/maps", "r");

	if (!maps) {
		perror("/proc/self/maps");
		exit(2);
	}
	while (!found && fgets(line, sizeof(line), maps))
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &start, &end) == 2 &&
		    addr >= start && addr < end)
			found = start;
	fclose(maps);
	if (!found) {
		fprintf(stderr, "no mapping holds %#" PRIxPTR "\n", addr);
		exit(2);
	}
	return found;
}

int main(void)
{
	size_t size = 8 * MiB, huge = 2 * MiB, i;
	volatile char *p;
	void *block;

	if (posix_memalign(&block, huge, size))
		return 1;
	p = block;
	printf("lead %" PRIuPTR "\n",
	       (uintptr_t)block - mapping_start((uintptr_t)block));
	fflush(stdout);
	if (madvise(block, size, MADV_HUGEPAGE)) {
		perror("madvise(MADV_HUGEPAGE)");
		return 1;
	}
	for (i = 0; i < size; i += huge)
		p[i] = 1;
	free(block);
	return 0;
}
