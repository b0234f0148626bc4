// SPDX-License-Identifier: GPL-2.0
/*
 * memalign with alignments of 4 KiB to 128 KiB, 64 calls, each block
 * written and freed at once: glibc carves each block out of a chunk big
 * enough to align it, writes the headers around it, then gives the
 * trailing piece back to the top of the heap, which it trims (brk)
 * inside the call once the top is big enough. Run without address
 * randomization (setarch -R), the heap's place decides the alignments.
 */
#include <malloc.h>
#include "target.h"

#define CALLS 64

int main(void)
{
	int i;

	no_thp();
	for (i = 0; i < CALLS; i++) {
		size_t align = (size_t)4096 << (i % 6); /* 4 KiB to 128 KiB */
		size_t size = 5000 + (size_t)i * 300;
		char *p = memalign(align, size);

		if (!p)
			return 1;
		write_pages(p, size);
		if (i % 3)
			free(p);
	}
	return 0;
}
