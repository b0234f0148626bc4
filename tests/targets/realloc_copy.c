// SPDX-License-Identifier: GPL-2.0
/*
 * A 100 KiB heap block, written, a guard block after it so it cannot grow
 * in place, then realloc to 64 MiB: glibc maps a new chunk and copies,
 * faulting the new pages inside realloc. Prints the old and new blocks.
 */
#include "target.h"

int main(void)
{
	size_t old_size = 100 * 1024;
	char *p, *guard, *q;

	no_thp();
	p = malloc(old_size);
	guard = malloc(64);
	if (!p || !guard)
		return 1;
	write_pages(p, old_size);
	q = realloc(p, 64 * MiB);
	if (!q)
		return 1;
	printf("%p %p\n", (void *)p, (void *)q);
	free(q);
	free(guard);
	return 0;
}
