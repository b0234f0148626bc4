// SPDX-License-Identifier: GPL-2.0
/*
 * Fault-heavy: first touch of GIB GiB of anonymous memory (default 2),
 * THP off, one write per 4 KiB page. Prints "elapsed_ns N" for the touch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include "workload.h"

int main(int argc, char **argv)
{
	size_t size = (size_t)((argc > 1 ? atof(argv[1]) : 2) * (1UL << 30));
	long long start;
	size_t i;
	char *p;

	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		return 2;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	start = now_ns();
	for (i = 0; i < size; i += 4096)
		p[i] = 1;
	printf("elapsed_ns %lld\n", now_ns() - start);
	munmap(p, size);
	return 0;
}
