// SPDX-License-Identifier: GPL-2.0
/*
 * A fault the kernel takes after a thread's exit was traced: the thread
 * points its clear_child_tid at a page of a malloc'd block that nothing
 * touched (set_tid_address), and exits; the kernel writes 0 there after
 * sched_process_exit, an anonymous page populated by the exiting thread.
 * main waits until the thread is gone, then frees the block and exits.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/syscall.h>
#include "target.h"

#define BLOCK (16 * MiB)

static void *worker(void *arg)
{
	/* glibc's own pthread_join() waits on this word: the thread is
	 * detached, and main watches /proc instead */
	syscall(SYS_set_tid_address, (int *)arg);
	return NULL;
}

static int threads(void)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *d;
	int n = 0;

	if (!dir)
		exit(2);
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

int main(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	char *p;
	int i;

	no_thp();
	p = malloc(BLOCK);
	if (!p)
		return 1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, worker, page_up(p + BLOCK / 2)))
		return 2;
	for (i = 0; i < 1000 && threads() > 1; i++)
		usleep(2000);
	if (threads() > 1)
		return 3;
	free(p);
	return 0;
}
