// SPDX-License-Identifier: GPL-2.0
/*
 * For -p --light: says it is ready (argv[1] is created) and waits for
 * SIGUSR1; then mallocs 16 MiB and writes every page of it from one
 * instruction, says so (argv[2]) and waits for SIGUSR1 again. The code
 * that says so ran once before: it faults no page, and the thread's last
 * faults are the loop's while it lives on.
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
	char *p;

	if (argc < 3)
		return 2;
	no_thp();
	ready_then_wait(argv[1]);
	p = malloc(16 * MiB);
	if (!p)
		return 1;
	touch(p, 16 * MiB);
	ready_then_wait(argv[2]);
	free(p);
	return 0;
}
