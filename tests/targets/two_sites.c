// SPDX-License-Identifier: GPL-2.0
/*
 * Two call sites taking turns, 20000 times each: a() and b() allocate at
 * the same depth, so a thread's last stack is never the next one's and
 * every call's stack is walked. Built with frame pointers.
 */
#include "target.h"

#define ROUNDS 20000

void *a(void);
void *b(void);

__attribute__((noinline)) void *a(void)
{
	return malloc(64); /* A_SITE */
}

__attribute__((noinline)) void *b(void)
{
	return malloc(128); /* B_SITE */
}

int main(void)
{
	int i;

	for (i = 0; i < ROUNDS; i++) {
		void *p = a(), *q = b();

		if (!p || !q)
			return 1;
		free(p);
		free(q);
	}
	return 0;
}
