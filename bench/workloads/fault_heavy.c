// SPDX-License-Identifier: GPL-2.0
/*
 * Fault-heavy: first touch of GIB GiB of anonymous memory (default 2),
 * THP off, one write per 4 KiB page, in rounds of 64 MiB: each round maps
 * a fresh 64 MiB, writes every page of it and unmaps it. Prints
 * "elapsed_ns N": the median round's time times the rounds.
 *
 * Why rounds, and their median: in a VM the first touch of guest memory
 * the host has not backed yet costs the host's fault too, several times
 * the guest's (one 8 GiB pass: 2.5 us a page, then 1.4 us). Unmapped
 * rounds give their pages back to the guest's allocator, which hands the
 * same, backed ones to the next round; the median leaves out the first
 * rounds and the host's hiccups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include "workload.h"

#define ROUND_BYTES (64UL << 20)
#define MAX_ROUNDS 4096

static int by_value(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double gib = argc > 1 ? atof(argv[1]) : 2;
	static long long round_ns[MAX_ROUNDS];
	size_t rounds, r, i;
	long long start;
	char *p;

	rounds = (size_t)(gib * (1UL << 30) / ROUND_BYTES);
	if (rounds < 1)
		rounds = 1;
	if (rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		return 2;
	for (r = 0; r < rounds; r++) {
		p = mmap(NULL, ROUND_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		start = now_ns();
		for (i = 0; i < ROUND_BYTES; i += 4096)
			p[i] = 1;
		round_ns[r] = now_ns() - start;
		munmap(p, ROUND_BYTES);
	}
	qsort(round_ns, rounds, sizeof(*round_ns), by_value);
	printf("elapsed_ns %lld\n", round_ns[rounds / 2] * (long long)rounds);
	printf("ns_per_fault %.0f\n",
	       (double)round_ns[rounds / 2] / (ROUND_BYTES / 4096));
	return 0;
}
