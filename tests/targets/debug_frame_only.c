// SPDX-License-Identifier: GPL-2.0
/*
 * Code with call frame information in .debug_frame only: built without
 * unwind tables and without frame pointers, its .eh_frame holds the C
 * runtime's entries and none of its own. main -> outer -> make_block ->
 * malloc(8 MiB), a block with its own mapping. --light unwinds the stack
 * at that mmap: through glibc by its .eh_frame, through this program's
 * functions by their .debug_frame, to make_block;outer;main.
 * The tests find the lines by their markers.
 */
#include "target.h"

#define BLOCK_BYTES (8 * MiB)

char *make_block(size_t size);
char *outer(void);

__attribute__((noinline)) char *make_block(size_t size)
{
	volatile char scratch[64];
	char *p;

	scratch[0] = 1;
	p = malloc(size); /* ALLOC_SITE */
	if (!p)
		exit(1);
	p[0] = scratch[0];
	return p;
}

__attribute__((noinline)) char *outer(void)
{
	char *p = make_block(BLOCK_BYTES);

	p[1] = 1;
	return p;
}

int main(void)
{
	char *p;

	no_thp();
	p = outer();
	free(p);
	return 0;
}
