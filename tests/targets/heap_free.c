// SPDX-License-Identifier: GPL-2.0
/* 100 KiB comes from the heap (below the mmap threshold): write every
 * page, free it; its pages stay with the process. Prints the block. */
#include "target.h"

int main(void)
{
	size_t size = 100 * 1024;
	char *p;

	no_thp();
	p = malloc(size);
	if (!p)
		return 1;
	write_pages(p, size);
	printf("%p\n", (void *)p);
	free(p);
	return 0;
}
