// SPDX-License-Identifier: GPL-2.0
/*
 * A process whose memory is known page by page, for --snapshot (run it
 * with address randomisation off: setarch -R). At fixed addresses:
 *   0x100000000  16 MiB anonymous, its first 1024 pages written
 *   0x200000000  the file argv[2] (4 pages) mapped and read
 *   0x300000000  4 MiB MADV_HUGEPAGE, its first 2 MiB written (a THP)
 *   0x400000000  4 MiB of zero pages (userfaultfd), one page written
 * then says it is ready (argv[1]) and sleeps until killed.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "target.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static char *map_at(uint64_t addr, size_t size, int fd)
{
	char *p = mmap((void *)addr, size,
		       fd < 0 ? PROT_READ | PROT_WRITE : PROT_READ,
		       MAP_PRIVATE | MAP_FIXED_NOREPLACE |
			       (fd < 0 ? MAP_ANONYMOUS : 0),
		       fd, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static void zero_pages(char *start, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { (uintptr_t)start, len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	struct uffdio_zeropage zero = { .range = { (uintptr_t)start, len } };
	struct uffdio_range range = { (uintptr_t)start, len };
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg) ||
	    ioctl(uffd, UFFDIO_ZEROPAGE, &zero) ||
	    ioctl(uffd, UFFDIO_UNREGISTER, &range)) {
		perror("userfaultfd");
		exit(1);
	}
	close(uffd);
}

int main(int argc, char **argv)
{
	volatile unsigned sink;
	char *anon, *file, *huge, *zero;
	int fd;
	FILE *f;

	if (argc < 3)
		return 2;
	anon = map_at(0x100000000ULL, 16 * MiB, -1);
	write_pages(anon, 1024 * PAGE);
	fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		return 1;
	file = map_at(0x200000000ULL, 4 * PAGE, fd);
	sink = read_pages(file, 4 * PAGE);
	huge = map_at(0x300000000ULL, 4 * MiB, -1);
	if (madvise(huge, 4 * MiB, MADV_HUGEPAGE))
		return 1;
	huge[0] = 1;
	zero = map_at(0x400000000ULL, 4 * MiB, -1);
	zero_pages(zero, 4 * MiB);
	zero[0] = 1;
	(void)sink;
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", getpid());
	fclose(f);
	for (;;)
		pause();
}
