// SPDX-License-Identifier: GPL-2.0
/* 1000 small blocks (100 bytes), then 1 MiB and 64 MiB, all freed. */
#include "target.h"

int main(void)
{
	char *small[1000], *mid, *big;
	int i;

	no_thp();
	for (i = 0; i < 1000; i++) {
		small[i] = malloc(100);
		if (!small[i])
			return 1;
		small[i][0] = 1;
	}
	for (i = 0; i < 1000; i++)
		free(small[i]);
	mid = malloc(1 * MiB);
	big = malloc(64 * MiB);
	if (!mid || !big)
		return 1;
	write_pages(mid, 1 * MiB);
	free(mid);
	free(big);
	return 0;
}
