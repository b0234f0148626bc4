// SPDX-License-Identifier: GPL-2.0
/*
 * Waits (argv[1], SIGUSR1), then mallocs 64 MiB, writes every page and
 * frees it; waits again (argv[2], SIGUSR1) before it exits, so that its
 * page tables can still be read after the free.
 */
#include "target.h"

int main(int argc, char **argv)
{
	char *p;

	if (argc < 3)
		return 2;
	no_thp();
	ready_then_wait(argv[1]);
	p = malloc(64 * MiB);
	if (!p)
		return 1;
	write_pages(p, 64 * MiB);
	free(p);
	ready_then_wait(argv[2]);
	return 0;
}
