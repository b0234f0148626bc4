// SPDX-License-Identifier: GPL-2.0
/*
 * Waits (see ready_then_wait()), then moves to CPU argv[1], which the test
 * has brought online meanwhile, and there makes 1000 malloc/free pairs of
 * BLOCK bytes: its records go to a ring made for a CPU that was offline
 * when tracing began. Exits 3 if it cannot run there.
 */
#include <sched.h>
#include "target.h"

#define BLOCK 3000
#define PAIRS 1000

int main(int argc, char **argv)
{
	cpu_set_t set;
	int i;

	if (argc < 3)
		return 2;
	ready_then_wait(argv[2]);
	CPU_ZERO(&set);
	CPU_SET(atoi(argv[1]), &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return 3;
	for (i = 0; i < PAIRS; i++)
		free(malloc(BLOCK));
	return 0;
}
