// SPDX-License-Identifier: GPL-2.0
/* Leaves a zombie: its child exits at once and is never reaped. Prints
 * the child's pid, then sleeps until killed. */
#include <sys/wait.h>
#include "target.h"

int main(void)
{
	siginfo_t info;
	pid_t child = fork();

	if (child < 0)
		return 1;
	if (child == 0)
		_exit(0);
	/* wait until it has exited, but leave it unreaped */
	waitid(P_PID, child, &info, WEXITED | WNOWAIT);
	printf("%d\n", child);
	fflush(stdout);
	for (;;)
		pause();
}
