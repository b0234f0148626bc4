// SPDX-License-Identifier: GPL-2.0
/*
 * For -p: allocates 1 MiB, says it is ready (argv[1] is created), waits
 * for SIGUSR1; then frees that block, mallocs 64 MiB, writes every page,
 * frees it and exits.
 */
#include "target.h"

int main(int argc, char **argv)
{
	char *before, *p;

	if (argc < 2)
		return 2;
	no_thp();
	before = malloc(1 * MiB);
	if (!before)
		return 1;
	write_pages(before, 1 * MiB);
	ready_then_wait(argv[1]);
	free(before);
	p = malloc(64 * MiB);
	if (!p)
		return 1;
	write_pages(p, 64 * MiB);
	free(p);
	return 0;
}
