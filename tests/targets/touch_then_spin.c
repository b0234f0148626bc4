// SPDX-License-Identifier: GPL-2.0
/*
 * For -p --light: says it is ready (argv[1] is created) and waits for
 * SIGUSR1; then mallocs 16 MiB, writes every page of it from one
 * instruction, writes 'D' into argv[2] (a file it mapped shared and wrote
 * before: no syscall, no fault) and spins until killed. Its last fault is
 * then still open in --light (closed at the thread's next event), and the
 * loop's others are in its tally, both read when pagetrace leaves.
 */
#include "target.h"

static __attribute__((noinline)) void touch(volatile char *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += PAGE)
		p[i] = 1; /* TOUCH_SITE */
}

int main(int argc, char **argv)
{
	volatile char *done;
	char *p;

	if (argc < 3)
		return 2;
	no_thp();
	done = map_progress_file(argv[2]);
	ready_then_wait(argv[1]);
	p = malloc(16 * MiB);
	if (!p)
		return 1;
	touch(p, 16 * MiB);
	done[0] = 'D';
	for (;;)
		;
}
