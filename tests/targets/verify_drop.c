// SPDX-License-Identifier: GPL-2.0
/*
 * For --verify with events lost on purpose: malloc 64 MiB, wait (argv[1],
 * SIGUSR1), write every page, wait again (argv[2], SIGUSR1), free.
 */
#include "target.h"

int main(int argc, char **argv)
{
	char *p;

	if (argc < 3)
		return 2;
	no_thp();
	p = malloc(64 * MiB);
	if (!p)
		return 1;
	ready_then_wait(argv[1]);
	write_pages(p, 64 * MiB);
	ready_then_wait(argv[2]);
	free(p);
	return 0;
}
