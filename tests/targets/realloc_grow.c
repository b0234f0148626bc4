// SPDX-License-Identifier: GPL-2.0
/* malloc 64 MiB, write every page, grow to 128 MiB: glibc moves the
 * chunk with mremap, the pages go with it, no fault. */
#include "target.h"

int main(void)
{
	char *p, *q;

	no_thp();
	p = malloc(64 * MiB);
	if (!p)
		return 1;
	write_pages(p, 64 * MiB);
	q = realloc(p, 128 * MiB);
	if (!q)
		return 1;
	printf("%s\n", q == p ? "in place" : "moved");
	free(q);
	return 0;
}
