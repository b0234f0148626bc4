// SPDX-License-Identifier: GPL-2.0
/*
 * Deletes its own executable, then mallocs 8 MiB in after_unlink and
 * writes every page, and exits: the report is made after the process and
 * its file are gone. Run a copy of it.
 */
#include "target.h"

char *after_unlink(size_t size);

__attribute__((noinline)) char *after_unlink(size_t size)
{
	char *p = malloc(size); /* ALLOC_SITE */

	if (!p)
		exit(1);
	write_pages(p, size);
	return p;
}

int main(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *p;

	if (n <= 0)
		return 2;
	self[n] = '\0';
	if (unlink(self)) {
		perror("unlink");
		return 2;
	}
	no_thp();
	p = after_unlink(8 * MiB);
	free(p);
	return 0;
}
