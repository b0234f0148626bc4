// SPDX-License-Identifier: GPL-2.0
/*
 * Built without frame pointers and stripped of .symtab and debug info:
 * only .dynsym (-rdynamic) names allocate_buffer, the allocator's
 * immediate caller. It mallocs 8 MiB and writes every page.
 */
#include "target.h"

char *allocate_buffer(size_t size);

__attribute__((noinline)) char *allocate_buffer(size_t size)
{
	char *p = malloc(size);

	if (!p)
		exit(1);
	write_pages(p, size);
	return p;
}

int main(void)
{
	char *p;

	no_thp();
	p = allocate_buffer(8 * MiB);
	free(p);
	return 0;
}
