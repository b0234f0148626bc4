// SPDX-License-Identifier: GPL-2.0
/*
 * calloc 64 MiB and read every page ("read"), then also write every page
 * ("readwrite"). Reads map the shared zero page where the kernel uses it;
 * writes then copy it into private pages.
 */
#include <string.h>
#include "target.h"

int main(int argc, char **argv)
{
	size_t size = 64 * MiB;
	volatile unsigned sink;
	char *p;

	no_thp();
	p = calloc(1, size);
	if (!p)
		return 1;
	sink = read_pages(p, size);
	if (argc > 1 && !strcmp(argv[1], "readwrite"))
		write_pages(p, size);
	(void)sink;
	free(p);
	return 0;
}
