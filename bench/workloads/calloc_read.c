// SPDX-License-Identifier: GPL-2.0
/*
 * Calloc-then-read: calloc GIB GiB (default 1), THP off, read one byte of
 * every page: zero-page faults where the kernel maps the zero page.
 * Prints "elapsed_ns N" for the calloc and the reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include "workload.h"

int main(int argc, char **argv)
{
	size_t size = (size_t)((argc > 1 ? atof(argv[1]) : 1) * (1UL << 30));
	volatile unsigned long sum = 0;
	long long start;
	size_t i;
	char *p;

	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		return 2;
	start = now_ns();
	p = calloc(1, size);
	if (!p)
		return 1;
	for (i = 0; i < size; i += 4096)
		sum += ((volatile char *)p)[i];
	printf("elapsed_ns %lld\n", now_ns() - start);
	free(p);
	return sum != 0;
}
