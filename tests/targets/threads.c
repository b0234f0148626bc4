// SPDX-License-Identifier: GPL-2.0
/* The main thread allocates 16 MiB, another thread writes every page. */
#include <pthread.h>
#include "target.h"

#define SIZE (16 * MiB)

static void *writer(void *block)
{
	write_pages(block, SIZE);
	return NULL;
}

int main(void)
{
	pthread_t thread;
	char *p;

	no_thp();
	p = malloc(SIZE);
	if (!p || pthread_create(&thread, NULL, writer, p))
		return 1;
	pthread_join(thread, NULL);
	free(p);
	return 0;
}
