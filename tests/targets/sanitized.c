// SPDX-License-Identifier: GPL-2.0
/* Built with AddressSanitizer, whose runtime replaces malloc and must come
 * first among the libraries: a 1 MiB block, every page written. */
#include "target.h"

int main(void)
{
	char *p = malloc(MiB);

	if (!p)
		return 1;
	write_pages(p, MiB);
	free(p);
	return 0;
}
