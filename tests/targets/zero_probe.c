// SPDX-License-Identifier: GPL-2.0
/*
 * Does this kernel map the shared zero page on a read fault? Reads two
 * fresh anonymous pages and compares their frame numbers (root needed).
 * Prints "zero", "private" or "unknown".
 */
#include <fcntl.h>
#include <sys/mman.h>
#include "target.h"

static uint64_t frame(const volatile char *page)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 ||
	    pread(fd, &entry, sizeof(entry),
		  (uintptr_t)page / PAGE * sizeof(entry)) != sizeof(entry))
		entry = 0;
	if (fd >= 0)
		close(fd);
	return entry & ((1ULL << 55) - 1);
}

int main(void)
{
	volatile char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t a, b;

	if (p == MAP_FAILED)
		return 1;
	(void)(p[0] + p[PAGE]);
	a = frame(p);
	b = frame(p + PAGE);
	puts(!a || !b ? "unknown" : a == b ? "zero" : "private");
	return 0;
}
