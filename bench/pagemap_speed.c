// SPDX-License-Identifier: GPL-2.0
/*
 * How fast each page-table back end reads a big, mostly empty address
 * space: 16 GiB mapped but never touched, and 1 GiB populated. Reads its
 * own page tables, RUNS times each, and prints the medians side by side.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "pagetable.h"
#include "workloads/workload.h"

#define GiB (1ULL << 30)
#define RUNS 5

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* median ns to count both regions; *present gets the pages found */
static uint64_t time_backend(enum pagetable_backend backend, char *empty,
			     char *full, uint64_t *present)
{
	uint64_t runs[RUNS];
	int i;

	for (i = 0; i < RUNS; i++) {
		struct pagetable *pt = pagetable__open(getpid(), backend);
		struct pagetable_counts a, b;
		uint64_t start;

		if (!pt) {
			perror("pagetable__open");
			exit(1);
		}
		start = now_ns();
		pagetable__count(pt, (uintptr_t)empty,
				 (uintptr_t)empty + 16 * GiB, &a);
		pagetable__count(pt, (uintptr_t)full, (uintptr_t)full + GiB,
				 &b);
		runs[i] = now_ns() - start;
		*present = a.present + b.present;
		pagetable__free(pt);
	}
	qsort(runs, RUNS, sizeof(runs[0]), cmp_u64);
	return runs[RUNS / 2];
}

int main(void)
{
	const uint64_t pages = 17 * GiB / 4096;
	uint64_t scan_ns, read_ns, scan_present, read_present;
	char *empty, *full;

	/* 4 KiB pages: what most processes have */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	empty = mmap(NULL, 16 * GiB, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	full = mmap(NULL, GiB, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (empty == MAP_FAILED || full == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(full, 1, GiB);
	scan_ns = time_backend(PAGETABLE_SCAN, empty, full, &scan_present);
	read_ns = time_backend(PAGETABLE_READ, empty, full, &read_present);
	printf("page-table read of 16 GiB untouched + 1 GiB populated "
	       "(%llu pages, median of %d runs)\n\n",
	       (unsigned long long)pages, RUNS);
	printf("| back end | present pages | time | pages/s | speed-up |\n");
	printf("|---|---:|---:|---:|---:|\n");
	printf("| scan (PAGEMAP_SCAN) | %llu | %.2f ms | %.0f M | %.0fx |\n",
	       (unsigned long long)scan_present, scan_ns / 1e6,
	       pages / (scan_ns / 1e9) / 1e6, (double)read_ns / scan_ns);
	printf("| read (pagemap + kpageflags) | %llu | %.2f ms | %.0f M | 1x |\n",
	       (unsigned long long)read_present, read_ns / 1e6,
	       pages / (read_ns / 1e9) / 1e6);
	return scan_present == read_present ? 0 : 1;
}
