// SPDX-License-Identifier: GPL-2.0
/*
 * A mapping of the program's own beside malloc's: mmap 8 MiB and write
 * its first 100 pages, malloc 8 MiB and write its first 200 pages (glibc
 * maps it, header page included), then free and unmap both.
 */
#include <sys/mman.h>
#include "target.h"

int main(void)
{
	size_t size = 8 * MiB;
	char *own, *block;

	no_thp();
	own = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (own == MAP_FAILED)
		return 1;
	write_pages(own, 100 * PAGE);
	block = malloc(size);
	if (!block)
		return 1;
	write_pages(block, 200 * PAGE);
	free(block);
	munmap(own, size);
	return 0;
}
