// SPDX-License-Identifier: GPL-2.0
/*
 * The heap shrinks while a mapped block lives: malloc 64 MiB (glibc maps
 * it), grow the heap by 64 blocks of 64 KiB (below the mmap threshold),
 * free them (glibc trims the heap with brk), then write every page of
 * the 64 MiB block and free it.
 */
#include "target.h"

#define SMALL 64
#define SMALL_BYTES (64 * 1024)

int main(void)
{
	size_t size = 64 * MiB;
	char *big, *small[SMALL];
	int i;

	no_thp();
	big = malloc(size);
	if (!big)
		return 1;
	for (i = 0; i < SMALL; i++) {
		small[i] = malloc(SMALL_BYTES);
		if (!small[i])
			return 1;
		small[i][0] = 1;
	}
	for (i = SMALL - 1; i >= 0; i--)
		free(small[i]);
	write_pages(big, size);
	free(big);
	return 0;
}
