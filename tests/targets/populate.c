// SPDX-License-Identifier: GPL-2.0
/*
 * Pages populated by syscalls, no fault:
 *  block A (64 MiB): MADV_POPULATE_WRITE over its whole pages;
 *  block B (48 MiB): an anonymous MAP_FIXED | MAP_POPULATE mapping laid
 *                    over its interior pages;
 *  block C (40 MiB): mlock on its interior pages;
 *  block D (32 MiB): MADV_POPULATE_READ on its interior pages;
 *  and 16 MiB mapped with MAP_POPULATE outside any allocation.
 */
#include <sys/mman.h>
#include "target.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int main(void)
{
	char *a, *b, *c, *d, *region;

	no_thp();
	a = malloc(64 * MiB);
	b = malloc(48 * MiB);
	c = malloc(40 * MiB);
	d = malloc(32 * MiB);
	if (!a || !b || !c || !d)
		return 1;
	/* from a's first page (the header's, already resident) to its
	 * last whole page */
	if (madvise(page_down(a), page_down(a + 64 * MiB) - page_down(a),
		    MADV_POPULATE_WRITE)) {
		perror("madvise(MADV_POPULATE_WRITE)");
		return 1;
	}
	if (mmap(page_up(b), page_down(b + 48 * MiB) - page_up(b),
		 PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, -1,
		 0) == MAP_FAILED) {
		perror("mmap(MAP_FIXED | MAP_POPULATE)");
		return 1;
	}
	if (mlock(page_up(c), page_down(c + 40 * MiB) - page_up(c))) {
		perror("mlock");
		return 1;
	}
	if (madvise(page_up(d), page_down(d + 32 * MiB) - page_up(d),
		    MADV_POPULATE_READ)) {
		perror("madvise(MADV_POPULATE_READ)");
		return 1;
	}
	region = mmap(NULL, 16 * MiB, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (region == MAP_FAILED)
		return 1;
	free(a);
	free(b);
	free(c);
	free(d);
	return 0;
}
