// SPDX-License-Identifier: GPL-2.0
/*
 * A small block (200 bytes) and one over a page (5000), each written, then
 * freed; prints both addresses. With the argument "mmap", glibc is told
 * before its first allocation to give every block a mapping of its own
 * (M_MMAP_THRESHOLD 0: its heap never starts), small ones included.
 */
#include <malloc.h>
#include <string.h>
#include "target.h"

int main(int argc, char **argv)
{
	char *small, *big;

	no_thp();
	if (argc > 1 && !strcmp(argv[1], "mmap") &&
	    !mallopt(M_MMAP_THRESHOLD, 0))
		return 2;
	small = malloc(200);
	big = malloc(5000);
	if (!small || !big)
		return 1;
	write_pages(small, 200);
	write_pages(big, 5000);
	printf("%p %p\n", (void *)small, (void *)big);
	fflush(stdout);
	free(small);
	free(big);
	return 0;
}
