// SPDX-License-Identifier: GPL-2.0
/* Linked statically: no shared glibc to probe. Maps 4 MiB and writes
 * every page: 1024 faults pagetrace still sees. */
#include <sys/mman.h>
#include "target.h"

int main(void)
{
	size_t size = 4 * MiB;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	no_thp();
	for (size_t i = 0; i < size; i += PAGE)
		p[i] = 1;
	return 0;
}
