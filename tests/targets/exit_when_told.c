// SPDX-License-Identifier: GPL-2.0
/*
 * For -p --light, a thread that exits (argv[3] "exit") or makes a
 * syscall ("syscall") while pagetrace leaves: says it is ready (argv[1]
 * is created) and waits for SIGUSR1; then a thread mallocs 16 MiB, writes
 * every page of it from one instruction (its tally), then one page
 * elsewhere from another (its open fault), and spins while the main
 * thread waits for SIGUSR2, at which the thread returns, or makes a
 * syscall and spins. argv[2], a file mapped shared and written first (no
 * fault, no syscall after), says 'D' once the pages are written, then 'E'
 * once the thread is gone or 'S' once its syscall is made; the process
 * spins until killed.
 */
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include "target.h"

static volatile int quit;
static volatile char *done;
static int syscall_mode;
static char other[2 * PAGE] __attribute__((aligned(4096)));

static __attribute__((noinline)) void touch(volatile char *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += PAGE)
		p[i] = 1; /* TOUCH_SITE */
}

static __attribute__((noinline)) void touch_other(volatile char *p)
{
	p[0] = 1; /* OTHER_SITE */
}

static void *worker(void *arg)
{
	char *p = malloc(16 * MiB);

	(void)arg;
	if (!p)
		exit(1);
	touch(p, 16 * MiB);
	touch_other(other + PAGE);
	done[0] = 'D';
	while (!quit)
		;
	if (syscall_mode) {
		syscall(SYS_getppid);
		done[0] = 'S';
		for (;;)
			;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t thread;
	sigset_t set;
	int sig;

	if (argc < 4)
		return 2;
	syscall_mode = !strcmp(argv[3], "syscall");
	no_thp();
	done = map_progress_file(argv[2]);
	/* blocked in every thread: sigwait() below takes it */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ready_then_wait(argv[1]);
	if (pthread_create(&thread, NULL, worker, NULL))
		return 2;
	sigwait(&set, &sig);
	quit = 1;
	if (syscall_mode)
		for (;;)
			;
	pthread_join(thread, NULL);
	done[0] = 'E';
	for (;;)
		;
}
