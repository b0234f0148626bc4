// SPDX-License-Identifier: GPL-2.0
/* 8 MiB aligned on 2 MiB, MADV_HUGEPAGE, one write per 2 MiB: four huge
 * pages, 512 pages each, in four faults. */
#include <sys/mman.h>
#include "target.h"

int main(void)
{
	size_t size = 8 * MiB, huge = 2 * MiB, i;
	char *p;

	if (posix_memalign((void **)&p, huge, size))
		return 1;
	if (madvise(p, size, MADV_HUGEPAGE)) {
		perror("madvise(MADV_HUGEPAGE)");
		return 1;
	}
	for (i = 0; i < size; i += huge)
		p[i] = 1;
	free(p);
	return 0;
}
