// SPDX-License-Identifier: GPL-2.0
/* malloc 64 MiB, write every page, say so (argv[1] is created), then
 * sleep until killed. */
#include "target.h"

int main(int argc, char **argv)
{
	char *p;
	FILE *f;

	if (argc < 2)
		return 2;
	no_thp();
	p = malloc(64 * MiB);
	if (!p)
		return 1;
	write_pages(p, 64 * MiB);
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", getpid());
	fclose(f);
	for (;;)
		pause();
}
