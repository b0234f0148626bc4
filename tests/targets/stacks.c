// SPDX-License-Identifier: GPL-2.0
/*
 * A known call chain: main -> make_matrix -> calloc(64 MiB), then
 * main -> solve, whose loop writes the last byte of every 4 KiB of the
 * matrix. The block starts 16 bytes into its mapping, after the header
 * calloc itself writes: the loop's one store populates the other 16384
 * pages.
 * Built with frame pointers everywhere, leaf functions included. The
 * tests find the lines by their markers. An argument keeps it alive that
 * many milliseconds more at the end.
 */
#include "target.h"

#define MATRIX_BYTES (64 * MiB)

char *make_matrix(void);
void solve(volatile char *m);

__attribute__((noinline)) char *make_matrix(void)
{
	char *m = calloc(1, MATRIX_BYTES); /* ALLOC_SITE */

	if (!m)
		exit(1);
	return m;
}

__attribute__((noinline)) void solve(volatile char *m)
{
	size_t i;

	for (i = 0; i < MATRIX_BYTES; i += PAGE)
		m[i + PAGE - 1] = 1; /* TOUCH_SITE */
}

int main(int argc, char **argv)
{
	char *m;

	no_thp();
	m = make_matrix();
	solve(m);
	free(m);
	if (argc > 1)
		usleep((useconds_t)atoi(argv[1]) * 1000);
	return 0;
}
