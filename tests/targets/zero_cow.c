// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-on-write of the shared zero page, even on a kernel whose read
 * faults do not map it: userfaultfd's UFFDIO_ZEROPAGE maps the zero page
 * into the interior pages of a 64 MiB block, then every page is written.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "target.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static int map_zero_pages(char *start, size_t len)
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
		return -1;
	}
	close(uffd);
	return 0;
}

int main(void)
{
	size_t size = 64 * MiB;
	char *p;

	no_thp();
	p = malloc(size);
	if (!p || map_zero_pages(page_up(p), page_down(p + size) - page_up(p)))
		return 1;
	write_pages(p, size);
	free(p);
	return 0;
}
