// SPDX-License-Identifier: GPL-2.0
/* malloc 64 MiB and never touch it; still allocated at exit. */
#include "target.h"

int main(void)
{
	volatile char *keep;

	no_thp();
	keep = malloc(64 * MiB);
	return keep ? 0 : 1;
}
