// SPDX-License-Identifier: GPL-2.0
/*
 * malloc 64 MiB, write every page, free: every page a new private page.
 * An argument delays the malloc by that many milliseconds: a tracer that
 * attaches late (after an exec) is there by then.
 */
#include <stdlib.h>
#include <time.h>
#include "target.h"

int main(int argc, char **argv)
{
	size_t size = 64 * MiB;
	char *p;

	if (argc > 1) {
		long ms = atol(argv[1]);
		struct timespec delay = { ms / 1000, ms % 1000 * 1000000 };

		nanosleep(&delay, NULL);
	}
	no_thp();
	p = malloc(size);
	if (!p)
		return 1;
	write_pages(p, size);
	free(p);
	return 0;
}
