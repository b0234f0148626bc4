// SPDX-License-Identifier: GPL-2.0
/*
 * Says it is ready (argv[1] is created), waits for SIGUSR1, then writes
 * every page of a 64 MiB mapping (16384 faults) and creates argv[2].
 */
#include <sys/mman.h>
#include "target.h"

int main(int argc, char **argv)
{
	size_t size = 64 * MiB;
	char *p;
	FILE *f;

	if (argc < 3)
		return 2;
	no_thp();
	ready_then_wait(argv[1]);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < size; i += PAGE)
		p[i] = 1;
	f = fopen(argv[2], "w");
	if (!f)
		return 1;
	fputs("done\n", f);
	fclose(f);
	return 0;
}
