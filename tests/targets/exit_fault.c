// SPDX-License-Identifier: GPL-2.0
/*
 * A fault the kernel takes after a thread's exit was traced. "write": the
 * thread points its clear_child_tid at a page of a malloc'd block nothing
 * touched (set_tid_address), and the kernel writes 0 there at its exit, an
 * anonymous page populated by the exiting thread. "read": the thread's
 * robust futex list is an empty one whose head lies in a page of a memfd
 * mapped private that the process never touched (written through the fd),
 * and the kernel reads the head at its exit: a file page mapped, no
 * anonymous one. main waits until the thread is gone and a while more,
 * frees the block and exits.
 */
#include <dirent.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "target.h"

#define BLOCK (16 * MiB)

static struct robust_list_head *head;

static void *clear_tid_at(void *word)
{
	/* glibc's pthread_join() waits on this word: the thread is
	 * detached, and main watches /proc instead */
	syscall(SYS_set_tid_address, (int *)word);
	return NULL;
}

static void *robust_list_at_head(void *arg)
{
	(void)arg;
	syscall(SYS_set_robust_list, head, sizeof(*head));
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

/* the head of an empty list, in a page this process has not touched */
static void map_head(void)
{
	struct robust_list_head empty;
	int fd = memfd_create("robust_head", 0);

	if (fd < 0 || ftruncate(fd, PAGE))
		exit(2);
	head = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (head == MAP_FAILED)
		exit(2);
	memset(&empty, 0, sizeof(empty));
	empty.list.next = &head->list;
	if (pwrite(fd, &empty, sizeof(empty), 0) != sizeof(empty))
		exit(2);
}

int main(int argc, char **argv)
{
	bool read_mode = argc > 1 && !strcmp(argv[1], "read");
	pthread_attr_t attr;
	pthread_t thread;
	char *p;
	int i;

	no_thp();
	p = malloc(BLOCK);
	if (!p)
		return 1;
	if (read_mode)
		map_head();
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr,
			   read_mode ? robust_list_at_head : clear_tid_at,
			   page_up(p + BLOCK / 2)))
		return 2;
	for (i = 0; i < 1000 && threads() > 1; i++)
		usleep(2000);
	if (threads() > 1)
		return 3;
	/* the thread's task is freed an RCU grace period after it is gone
	 * (sched_process_free): while tracing goes on */
	usleep(300000);
	free(p);
	return 0;
}
