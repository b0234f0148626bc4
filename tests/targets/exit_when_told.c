// SPDX-License-Identifier: GPL-2.0
/*
 * For -p --light, a thread that exits while pagetrace leaves: says it is
 * ready (argv[1] is created) and waits for SIGUSR1; then a thread mallocs
 * 16 MiB, writes every page of it from one instruction, and spins (its
 * last fault open, the others in its tally) while the main thread waits
 * for SIGUSR2, at which the thread returns. argv[2], a file mapped shared
 * and written first (no fault, no syscall after), says 'D' once the
 * pages are written and 'E' once the thread is gone; then the process
 * spins until killed.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include "target.h"

static volatile int quit;
static volatile char *done;

static __attribute__((noinline)) void touch(volatile char *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += PAGE)
		p[i] = 1; /* TOUCH_SITE */
}

static void *worker(void *arg)
{
	char *p = malloc(16 * MiB);

	(void)arg;
	if (!p)
		exit(1);
	touch(p, 16 * MiB);
	done[0] = 'D';
	while (!quit)
		;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t thread;
	sigset_t set;
	int fd, sig;

	if (argc < 3)
		return 2;
	no_thp();
	fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, PAGE))
		return 2;
	done = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (done == MAP_FAILED)
		return 2;
	done[0] = '-';
	/* blocked in every thread: sigwait() below takes it */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ready_then_wait(argv[1]);
	if (pthread_create(&thread, NULL, worker, NULL))
		return 2;
	sigwait(&set, &sig);
	quit = 1;
	pthread_join(thread, NULL);
	done[0] = 'E';
	for (;;)
		;
}
