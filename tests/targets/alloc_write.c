// SPDX-License-Identifier: GPL-2.0
/* malloc 64 MiB, write every page, free: every page a new private page. */
#include "target.h"

int main(void)
{
	size_t size = 64 * MiB;
	char *p;

	no_thp();
	p = malloc(size);
	if (!p)
		return 1;
	write_pages(p, size);
	free(p);
	return 0;
}
