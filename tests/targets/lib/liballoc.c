// SPDX-License-Identifier: GPL-2.0
/* The library dlopen_alloc loads, allocates from and unloads. */
#include <stdlib.h>

#define PAGE 4096UL

char *lib_allocate(size_t size);
void lib_touch(char *p, size_t size);

char *lib_allocate(size_t size)
{
	char *p = malloc(size); /* ALLOC_SITE */

	if (!p)
		exit(1);
	return p;
}

void lib_touch(char *p, size_t size)
{
	volatile char *v = p;
	size_t i;

	for (i = 0; i < size; i += PAGE)
		v[i] = 1; /* TOUCH_SITE */
	v[size - 1] = 1;
}
