/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the test targets: programs whose memory behaviour is known
 * page by page, so the tests can assert exact figures.
 */
#ifndef PAGETRACE_TEST_TARGET_H
#define PAGETRACE_TEST_TARGET_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MiB (1024UL * 1024)
#define PAGE 4096UL

/* The figures must not depend on the machine's THP setting. */
static inline void no_thp(void)
{
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)) {
		perror("prctl(PR_SET_THP_DISABLE)");
		exit(2);
	}
}

/* Write one byte in every page of [p, p + size), the last one included. */
static inline void write_pages(volatile char *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += PAGE)
		p[i] = 1;
	p[size - 1] = 1;
}

/* Read one byte of every page of [p, p + size), the last one included. */
static inline unsigned read_pages(const volatile char *p, size_t size)
{
	unsigned sum = 0;
	size_t i;

	for (i = 0; i < size; i += PAGE)
		sum += p[i];
	return sum + p[size - 1];
}

/* The block's first page-aligned byte and the page-aligned end. */
static inline char *page_up(void *p)
{
	return (char *)(((uintptr_t)p + PAGE - 1) & ~(PAGE - 1));
}

static inline char *page_down(void *p)
{
	return (char *)((uintptr_t)p & ~(PAGE - 1));
}

/*
 * The file path, one page of it mapped shared and '-' written there: the
 * target tells the test how far it got by writing one byte, which makes
 * no syscall and, the page in place, no fault.
 */
static inline volatile char *map_progress_file(const char *path)
{
	volatile char *progress;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, PAGE)) {
		perror(path);
		exit(2);
	}
	progress = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (progress == MAP_FAILED) {
		perror(path);
		exit(2);
	}
	progress[0] = '-';
	return progress;
}

/* Tell the test we are ready by creating a file, then wait for SIGUSR1. */
static inline void ready_then_wait(const char *ready_file)
{
	sigset_t set;
	int sig;
	FILE *f;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	f = fopen(ready_file, "w");
	if (!f) {
		perror(ready_file);
		exit(2);
	}
	fprintf(f, "%d\n", getpid());
	fclose(f);
	sigwait(&set, &sig);
}

#endif
