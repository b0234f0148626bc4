// SPDX-License-Identifier: GPL-2.0
/*
 * malloc 64 MiB, write every page, then spin in user space without a
 * syscall until killed (or, at the latest, after a few billion turns):
 * under --light its last fault is still open when tracing ends.
 */
#include "target.h"

int main(void)
{
	volatile unsigned long turns = 0;
	char *p;

	no_thp();
	p = malloc(64 * MiB);
	if (!p)
		return 1;
	write_pages(p, 64 * MiB);
	while (turns < (1UL << 34))
		turns++;
	return 0;
}
