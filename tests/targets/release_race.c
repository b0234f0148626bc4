// SPDX-License-Identifier: GPL-2.0
/*
 * A page released by one thread while the thread that faulted it has
 * made no syscall since. A second thread writes every page of an 8 MiB
 * mapping (2048 faults) and spins; then main unmaps it, maps 8 MiB again
 * at the same address (its hint), writes the first page and the last
 * (where the other thread's last fault was), makes a syscall, and lets
 * the other thread end. The first mapping had 2048 pages resident, the
 * second 2. Exits 3 if the second mapping went elsewhere.
 */
#include <pthread.h>
#include <sys/mman.h>
#include "target.h"

#define SIZE (8 * MiB)

static char *block;
static volatile int written, stop;

static void *writer(void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < SIZE; i += PAGE)
		block[i] = 1;
	written = 1;
	while (!stop)
		; /* no syscall, no fault: its last fault stays open */
	return NULL;
}

int main(void)
{
	pthread_t thread;
	char *again;

	no_thp();
	block = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (block == MAP_FAILED)
		return 1;
	if (pthread_create(&thread, NULL, writer, NULL))
		return 1;
	while (!written)
		;
	munmap(block, SIZE);
	again = mmap(block, SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (again == MAP_FAILED)
		return 1;
	again[0] = 1;
	again[SIZE - PAGE] = 1;
	getppid(); /* a syscall: main's last fault is closed */
	stop = 1;
	pthread_join(thread, NULL);
	return again == block ? 0 : 3;
}
