// SPDX-License-Identifier: GPL-2.0
/*
 * Small aligned blocks from every aligned function, 48 of them, on a heap
 * grown for them: glibc carves each out of a bigger chunk and writes the
 * headers of the pieces it splits off around it, its own code faulting
 * on fresh heap pages inside the calls; then the program writes every
 * page of each block. Half are freed and asked for again, then all.
 */
#include <malloc.h>
#include "target.h"

#define BLOCKS 48

static void *aligned(int i)
{
	size_t align = (size_t)64 << (i % 4) * 2; /* 64 B to 4 KiB */
	size_t size = 3000 + (size_t)i * 200;
	void *p = NULL;

	switch (i % 5) {
	case 0:
		if (posix_memalign(&p, align, size))
			p = NULL;
		return p;
	case 1:
		return aligned_alloc(align, (size + align - 1) / align * align);
	case 2:
		return memalign(align, size);
	case 3:
		return valloc(size);
	default:
		return pvalloc(size);
	}
}

int main(void)
{
	void *blocks[BLOCKS];
	int i;

	no_thp();
	for (i = 0; i < BLOCKS; i++) {
		blocks[i] = aligned(i);
		if (!blocks[i])
			return 1;
		write_pages(blocks[i], 3000 + (size_t)i * 200);
	}
	for (i = 0; i < BLOCKS; i += 2) {
		free(blocks[i]);
		blocks[i] = aligned(i + 1);
		if (!blocks[i])
			return 1;
		write_pages(blocks[i], 3000 + (size_t)(i + 1) * 200);
	}
	for (i = 0; i < BLOCKS; i++)
		free(blocks[i]);
	return 0;
}
