// SPDX-License-Identifier: GPL-2.0
/*
 * 200 malloc/free pairs, each call between two readings of
 * CLOCK_MONOTONIC, and each block of its own size (24 + 8 * i bytes):
 * prints, after the loop, "size t0 t1 t2 t3" per pair, malloc between t0
 * and t1, free between t2 and t3. The times pagetrace gives the calls
 * must fall within those.
 */
#include <inttypes.h>
#include <time.h>
#include "target.h"

#define PAIRS 200

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(void)
{
	static uint64_t t[PAIRS][4];
	int i;

	for (i = 0; i < PAIRS; i++) {
		volatile char *p;

		t[i][0] = now_ns();
		p = malloc(24 + 8 * (size_t)i);
		t[i][1] = now_ns();
		if (!p)
			return 1;
		p[0] = 1;
		t[i][2] = now_ns();
		free((void *)p);
		t[i][3] = now_ns();
	}
	for (i = 0; i < PAIRS; i++)
		printf("%d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		       24 + 8 * i, t[i][0], t[i][1], t[i][2], t[i][3]);
	return 0;
}
