// SPDX-License-Identifier: GPL-2.0
/*
 * THREADS threads make their allocator calls at the same time: each
 * mallocs a block of its own size (1 + its number MiB, a mapping of its
 * own, whose header page faults inside malloc), writes every page,
 * reallocs it to twice the size (mremap inside realloc) and frees it,
 * then makes CALLS small calloc/free pairs. A barrier starts them
 * together, so their calls interleave. The mmap threshold is fixed: glibc
 * would raise it at the first free of a mapped block, and the threads
 * still to call would get their blocks from the heap.
 * One thread at a time has a big block: a realloc that moves its block
 * frees the old range before it returns, and another thread's mremap or
 * mmap could take that range in between. The ledger tells that from a
 * missed free by the realloc's own mremap, unless the other thread's
 * record comes even before that one: a race of the program's, and not
 * what this target is for (test_ledger's
 * test_range_left_by_a_realloc_under_way is).
 */
#include <malloc.h>
#include <pthread.h>
#include "target.h"

#define THREADS 4
#define CALLS 100

static pthread_barrier_t start;
static pthread_mutex_t big_block = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	size_t size = (1 + (size_t)arg) * MiB;
	char *p, *q;
	int i;

	pthread_barrier_wait(&start);
	pthread_mutex_lock(&big_block);
	p = malloc(size);
	if (p)
		write_pages(p, size);
	q = p ? realloc(p, 2 * size) : NULL;
	free(q ? q : p);
	pthread_mutex_unlock(&big_block);
	if (!q)
		return (void *)1;
	for (i = 0; i < CALLS; i++) {
		volatile char *small = calloc(1, 64 + (size_t)arg);

		if (!small)
			return (void *)1;
		small[0] = 1;
		free((void *)small);
	}
	return NULL;
}

int main(void)
{
	pthread_t threads[THREADS];
	void *failed;
	long t;

	no_thp();
	if (!mallopt(M_MMAP_THRESHOLD, 128 * 1024) ||
	    pthread_barrier_init(&start, NULL, THREADS))
		return 1;
	for (t = 0; t < THREADS; t++)
		if (pthread_create(&threads[t], NULL, worker, (void *)t))
			return 1;
	for (t = 0; t < THREADS; t++) {
		pthread_join(threads[t], &failed);
		if (failed)
			return 1;
	}
	return 0;
}
