// SPDX-License-Identifier: GPL-2.0
/*
 * One block passed back and forth between two threads on two CPUs, ROUNDS
 * times. The first thread (CPU 0) mallocs BLOCK bytes and hands the block
 * over; the second (CPU 1) frees it and mallocs the same size, which its
 * tcache answers with the very same chunk, and hands that back; the first
 * frees it, and its next malloc gets the chunk again. So one address is
 * allocated and freed 2 * ROUNDS times, and its records are made on two
 * CPUs, in two CPUs' ring buffers: the ledger comes out right only if they
 * are read in the order they happened.
 * With one CPU online both threads share it, and the figures are the same.
 */
#include <pthread.h>
#include <sched.h>
#include "target.h"

#define ROUNDS 200
#define BLOCK 200

static int to_second[2], to_first[2];

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "cross_cpu: CPU %d: not pinned\n", cpu);
}

static void *pass(int fd, void *p)
{
	if (write(fd, &p, sizeof(p)) != sizeof(p))
		exit(3);
	return p;
}

static void *take(int fd)
{
	void *p;

	if (read(fd, &p, sizeof(p)) != sizeof(p))
		exit(3);
	return p;
}

static void *second(void *arg)
{
	int i;

	(void)arg;
	pin(1);
	for (i = 0; i < ROUNDS; i++) {
		free(take(to_second[0]));
		pass(to_first[1], malloc(BLOCK));
	}
	return NULL;
}

int main(void)
{
	pthread_t thread;
	int i;

	if (pipe(to_second) || pipe(to_first))
		return 2;
	pin(0);
	if (pthread_create(&thread, NULL, second, NULL))
		return 2;
	for (i = 0; i < ROUNDS; i++) {
		pass(to_second[1], malloc(BLOCK));
		free(take(to_first[0]));
	}
	pthread_join(thread, NULL);
	return 0;
}
