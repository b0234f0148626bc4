// SPDX-License-Identifier: GPL-2.0
/* Three calls that return no memory. */
#include <errno.h>
#include "target.h"

int main(void)
{
	void *p = NULL;
	volatile size_t huge = (size_t)1 << 62, many = (size_t)1 << 40;

	if (malloc(huge))
		return 1;
	/* nmemb * size overflows */
	if (calloc(many, many))
		return 1;
	/* an alignment that is not a power of two */
	if (posix_memalign(&p, 24, 4096) != EINVAL)
		return 1;
	return 0;
}
