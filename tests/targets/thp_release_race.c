// SPDX-License-Identifier: GPL-2.0
/*
 * A huge page half released by one thread while the thread that faulted
 * it has made no syscall since. In a 4 MiB mapping, a 2 MiB-aligned block
 * asks for huge pages (MADV_HUGEPAGE); a second thread writes its first
 * byte (one fault: a 2 MiB huge page, where the kernel has one) and
 * spins; main drops the block's second half (MADV_DONTNEED: 256 pages
 * stay) and lets the other thread end.
 */
#include <pthread.h>
#include <sys/mman.h>
#include "target.h"

#define HUGE (2 * MiB)

static char *block;
static volatile int written, stop;

static void *writer(void *arg)
{
	(void)arg;
	block[0] = 1;
	written = 1;
	while (!stop)
		; /* no syscall, no fault: its fault stays open */
	return NULL;
}

int main(void)
{
	pthread_t thread;
	char *map;

	map = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return 1;
	block = (char *)(((uintptr_t)map + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	if (madvise(block, HUGE, MADV_HUGEPAGE))
		return 2;
	if (pthread_create(&thread, NULL, writer, NULL))
		return 1;
	while (!written)
		;
	if (madvise(block + HUGE / 2, HUGE / 2, MADV_DONTNEED))
		return 1;
	stop = 1;
	pthread_join(thread, NULL);
	return 0;
}
