// SPDX-License-Identifier: GPL-2.0
/*
 * Malloc-heavy: PAIRS small malloc/free pairs (default 1 M) in each of
 * THREADS threads (default 1), sizes 16 to 1024 bytes, each block written
 * once; with a third argument "aligned", posix_memalign(64) instead of
 * malloc. Prints "elapsed_ns N" for the loops.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "workload.h"

static long pairs = 1000000;
static int aligned; /* posix_memalign instead of malloc */

static void *block_of(size_t size)
{
	void *p;

	if (!aligned)
		return malloc(size);
	return posix_memalign(&p, 64, size) ? NULL : p;
}

static void *loop(void *arg)
{
	unsigned int seed = (unsigned int)(long)arg;
	long i;

	for (i = 0; i < pairs; i++) {
		size_t size = 16 + (rand_r(&seed) & 1008);
		volatile char *p = block_of(size);

		if (!p)
			return (void *)1;
		p[0] = 1;
		free((void *)p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 1, t;
	pthread_t ids[64];
	long long start;

	if (argc > 1)
		pairs = atol(argv[1]);
	aligned = argc > 3 && !strcmp(argv[3], "aligned");
	if (threads < 1 || threads > 64)
		return 2;
	start = now_ns();
	for (t = 0; t < threads; t++)
		if (pthread_create(&ids[t], NULL, loop, (void *)(long)(t + 1)))
			return 1;
	for (t = 0; t < threads; t++)
		pthread_join(ids[t], NULL);
	printf("elapsed_ns %lld\n", now_ns() - start);
	return 0;
}
