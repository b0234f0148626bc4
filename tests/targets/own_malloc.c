// SPDX-License-Identifier: GPL-2.0
/*
 * Brings its own allocator (a bump allocator on mmap) and exports it
 * (linked with -rdynamic): glibc's malloc is mapped but never called.
 * With arguments it then executes them.
 */
#include <string.h>
#include <sys/mman.h>
#include "target.h"

static char *arena, *arena_end, *next;

void *malloc(size_t size)
{
	char *p;

	if (!arena) {
		arena = mmap(NULL, 256 * MiB, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (arena == MAP_FAILED)
			return NULL;
		next = arena;
		arena_end = arena + 256 * MiB;
	}
	size = (size + 15) & ~15UL;
	if (size > (size_t)(arena_end - next))
		return NULL;
	p = next;
	next += size;
	return p;
}

void free(void *p)
{
	(void)p;
}

void *calloc(size_t n, size_t size)
{
	/* fresh mmap memory is zero */
	return malloc(n * size);
}

void *realloc(void *old, size_t size)
{
	char *p = malloc(size);

	if (p && old)
		memmove(p, old, size);
	return p;
}

/* With arguments, then runs them: a program that uses glibc's malloc. */
int main(int argc, char **argv)
{
	char *p;

	no_thp();
	p = malloc(4 * MiB);
	if (!p)
		return 1;
	write_pages(p, 4 * MiB);
	free(p);
	if (argc > 1) {
		execv(argv[1], argv + 1);
		return 127;
	}
	return 0;
}
