// SPDX-License-Identifier: GPL-2.0
/* Writes every page of a 200 MiB mapping: 51200 faults, fast. */
#include <sys/mman.h>
#include "target.h"

int main(void)
{
	size_t size = 200 * MiB;
	char *p;

	no_thp();
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < size; i += PAGE)
		p[i] = 1;
	return 0;
}
