// SPDX-License-Identifier: GPL-2.0
/*
 * Code built without frame pointers whose rbp holds data: the address of
 * a record laid out like a frame record, [next frame 0, a return address
 * into decoy()], which no call made. main -> malloc(8 MiB), then fill(), a
 * frameless loop, writes one byte in each of the block's 2048 pages; then
 * main -> malloc(4 MiB), whose pages madvise(MADV_POPULATE_WRITE) brings
 * in. A stack walked from rbp would name decoy as main's caller; the
 * allocation stacks must be the site alone, the touching stacks fill or
 * madvise then main. malloc writes each block's first page (the chunk
 * header): fill populates 2047 pages, madvise 1024 of 1025.
 * The tests find the lines by their markers.
 */

/* rbp is this file's variable: no function here saves or uses it as a
 * frame pointer (declared before any function, as GCC requires) */
register void *frame_register asm("rbp");

#include <sys/mman.h>
#include "target.h"

#define BLOCK_BYTES (8 * MiB)
#define POPULATED_BYTES (4 * MiB)

void decoy(void);
void fill(volatile char *p, size_t size);

static void *made_up_frame[2];

__attribute__((noinline)) void decoy(void)
{
	__asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop");
}

__attribute__((noinline)) void fill(volatile char *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += PAGE)
		p[i] = 1; /* TOUCH_SITE */
}

int main(void)
{
	char *p, *q;

	no_thp();
	made_up_frame[0] = NULL;
	made_up_frame[1] = (char *)decoy + 4;
	frame_register = made_up_frame;
	p = malloc(BLOCK_BYTES); /* ALLOC_SITE */
	if (!p)
		_exit(1);
	fill(p, BLOCK_BYTES);
	q = malloc(POPULATED_BYTES); /* POPULATE_ALLOC_SITE */
	if (!q)
		_exit(1);
	/* from the block's mapping start, the header's page, to its end */
	if (madvise((void *)((uintptr_t)q & ~(PAGE - 1)),
		    POPULATED_BYTES + PAGE, MADV_POPULATE_WRITE))
		_exit(3);
	/* main's caller expects its rbp back: leave without returning */
	_exit(0);
}
