// SPDX-License-Identifier: GPL-2.0
/*
 * Start-up then steady state: warm_up mallocs 32 MiB and writes every
 * page at once (within a second, two on a busy machine: the tests'
 * intervals and warm-up rely on it); from 2.5 s after start steady_state
 * writes the last byte of one page of a 64 MiB block every 2 ms for
 * 2.5 s: 1250 new pages (the block's first page holds glibc's header),
 * the kind of fault that hides in a hot loop.
 */
#include <time.h>
#include "target.h"

#define WARM_BYTES (32 * MiB)
#define STEADY_BYTES (64 * MiB)
#define STEADY_PAGES 1250

char *warm_up(void);
void steady_state(volatile char *p);

__attribute__((noinline)) char *warm_up(void)
{
	char *p = malloc(WARM_BYTES); /* WARM_ALLOC */

	if (!p)
		exit(1);
	write_pages(p, WARM_BYTES);
	return p;
}

__attribute__((noinline)) void steady_state(volatile char *p)
{
	struct timespec tick = { 0, 2 * 1000 * 1000 };
	size_t i;

	for (i = 0; i < STEADY_PAGES; i++) {
		p[i * PAGE + PAGE - 1] = 1; /* STEADY_TOUCH */
		nanosleep(&tick, NULL);
	}
}

int main(void)
{
	struct timespec start, now;
	char *warm, *steady;

	clock_gettime(CLOCK_MONOTONIC, &start);
	no_thp();
	warm = warm_up();
	steady = malloc(STEADY_BYTES); /* STEADY_ALLOC */
	if (!steady)
		return 1;
	do {
		struct timespec nap = { 0, 10 * 1000 * 1000 };

		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000000000L +
			 (now.tv_nsec - start.tv_nsec) <
		 2500000000L);
	steady_state(steady);
	free(steady);
	free(warm);
	return 0;
}
