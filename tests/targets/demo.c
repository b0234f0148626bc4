// SPDX-License-Identifier: GPL-2.0
/*
 * The story pagetrace tells, one allocation per chapter (sizes tell them
 * apart in the report):
 *  32 MiB  calloc, never touched       costs nothing (one header page)
 *  33 MiB  calloc, every page read     the shared zero page, still free
 *  34 MiB  calloc, read then written   each write copies the zero page
 *  35 MiB  malloc + memset(0xAB)       a non-zero sentinel forces every
 *                                      page in, up front
 *  36 MiB  malloc + memset(0)          the compiler turns this into
 *                                      calloc: as lazy as chapter one
 * Built with optimisation and builtins on, so the last chapter is real.
 */
#include <string.h>
#include "target.h"

/* noinline: each chapter stays a call of its own in the report */
static __attribute__((noinline)) char *zeroed_by_hand(size_t size)
{
	char *p = malloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

static __attribute__((noinline)) char *sentinel_filled(size_t size)
{
	char *p = malloc(size);

	if (p)
		memset(p, 0xAB, size);
	return p;
}

int main(void)
{
	volatile unsigned sink = 0;
	char *untouched, *read_only, *read_write, *sentinel, *by_hand;

	no_thp();
	untouched = calloc(1, 32 * MiB);
	read_only = calloc(1, 33 * MiB);
	read_write = calloc(1, 34 * MiB);
	if (!untouched || !read_only || !read_write)
		return 1;
	sink += read_pages(read_only, 33 * MiB);
	sink += read_pages(read_write, 34 * MiB);
	write_pages(read_write, 34 * MiB);
	sentinel = sentinel_filled(35 * MiB);
	by_hand = zeroed_by_hand(36 * MiB);
	if (!sentinel || !by_hand)
		return 1;
	/* everything stays allocated: the report shows it all as live */
	return sink == 0xffffffff;
}
