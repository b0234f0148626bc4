// SPDX-License-Identifier: GPL-2.0
/*
 * malloc 4 MiB and write every page (1025 pages), fork a child that only
 * waits, write every page again: each write copies a page the child
 * shares. Then let the child go.
 */
#include <sys/wait.h>
#include "target.h"

int main(void)
{
	int pipefd[2];
	pid_t child;
	char *p, c;

	no_thp();
	p = malloc(4 * MiB);
	if (!p || pipe(pipefd))
		return 1;
	write_pages(p, 4 * MiB);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		close(pipefd[1]);
		/* holds its copy of the pages until the parent is done */
		_exit(read(pipefd[0], &c, 1) < 0);
	}
	close(pipefd[0]);
	write_pages(p, 4 * MiB);
	close(pipefd[1]);
	waitpid(child, NULL, 0);
	free(p);
	return 0;
}
