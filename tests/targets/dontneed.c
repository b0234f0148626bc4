// SPDX-License-Identifier: GPL-2.0
/* malloc 64 MiB, write every page, MADV_DONTNEED 8192 pages after the
 * header page (glibc needs that one to free the block):
 * they go back to the kernel, the block stays allocated. */
#include <sys/mman.h>
#include "target.h"

int main(void)
{
	char *p;

	no_thp();
	p = malloc(64 * MiB);
	if (!p)
		return 1;
	write_pages(p, 64 * MiB);
	if (madvise(page_up(p), 8192 * PAGE, MADV_DONTNEED)) {
		perror("madvise(MADV_DONTNEED)");
		return 1;
	}
	free(p);
	return 0;
}
