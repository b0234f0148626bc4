// SPDX-License-Identifier: GPL-2.0
/*
 * Malloc-heavy: PAIRS small malloc/free pairs (default 1 M) in each of
 * THREADS threads (default 1), sizes 16 to 1024 bytes, each block written
 * once. Prints "elapsed_ns N" for the loops.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "workload.h"

static long pairs = 1000000;

static void *loop(void *arg)
{
	unsigned int seed = (unsigned int)(long)arg;
	long i;

	for (i = 0; i < pairs; i++) {
		size_t size = 16 + (rand_r(&seed) & 1008);
		volatile char *p = malloc(size);

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
