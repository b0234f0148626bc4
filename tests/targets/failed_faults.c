// SPDX-License-Identifier: GPL-2.0
/*
 * Two faults that fail, then succeed when taken again. A 2-page mapping
 * with no access: a read of its first page raises SIGSEGV, whose handler
 * makes the page readable and writable, and the read is taken again (the
 * zero page); read(2) from /dev/zero into the second page fails inside
 * the kernel with EFAULT, then, the page made writable, takes a new
 * anonymous page. A write(2) to a pipe from a page of an empty file's
 * mapping fails inside the kernel (past the file's end: EFAULT). 3
 * faults fail, 2 populate a page each. Last, a page
 * written (a fault that succeeds), then a read of a non-canonical
 * address: a general protection fault, no page fault, whose SIGSEGV
 * (si_code SI_KERNEL) the handler leaves by a jump.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include "target.h"

static sigjmp_buf after_gp;

static void make_accessible(int sig, siginfo_t *info, void *uctx)
{
	uintptr_t page = (uintptr_t)info->si_addr & ~(PAGE - 1);

	(void)sig;
	(void)uctx;
	if (info->si_code == SI_KERNEL)
		siglongjmp(after_gp, 1);
	if (mprotect((void *)page, PAGE, PROT_READ | PROT_WRITE))
		_exit(3);
}

/* 0 if write(2) from a page past an empty file's end fails with EFAULT */
static int past_end_of_file(void)
{
	char path[] = "/tmp/pagetrace-failed-faults.XXXXXX";
	int fd = mkstemp(path), pipe_fds[2];
	char *empty;

	if (fd < 0 || pipe(pipe_fds))
		return 1;
	unlink(path);
	empty = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (empty == MAP_FAILED)
		return 1;
	return write(pipe_fds[1], empty, 1) != -1 || errno != EFAULT;
}

int main(void)
{
	struct sigaction sa;
	volatile char *p, *q;
	char sum;
	int fd;

	no_thp();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = make_accessible;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSEGV, &sa, NULL))
		return 2;
	fd = open("/dev/zero", O_RDONLY);
	if (fd < 0)
		return 2;
	p = mmap(NULL, 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	sum = p[0];
	if (read(fd, (char *)p + PAGE, 1) != -1 || errno != EFAULT)
		return 4;
	if (mprotect((char *)p + PAGE, PAGE, PROT_READ | PROT_WRITE))
		return 1;
	if (read(fd, (char *)p + PAGE, 1) != 1)
		return 5;
	if (past_end_of_file())
		return 6;
	/* no syscall from here to the jump back (no mask saved): the
	 * write's fault is the thread's last when SIGSEGV comes */
	q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		return 1;
	if (!sigsetjmp(after_gp, 0)) {
		q[0] = 1;
		sum += *(volatile char *)0x8000000000000000UL;
	}
	return sum;
}
