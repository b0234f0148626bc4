// SPDX-License-Identifier: GPL-2.0
/*
 * A private file page copied by the kernel inside a syscall. Writes a
 * 2-page file, maps it private and writable, reads its first page (a file
 * page mapped); then, with argv[1] "1", read(2) from /dev/zero into that
 * page: the kernel's write takes a write-protect fault that copies the
 * file page (file counter down, anon counter up). With "0", not.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include "target.h"

int main(int argc, char **argv)
{
	char path[] = "/tmp/pagetrace-kernel-cow.XXXXXX", buf[2 * PAGE];
	volatile char *p;
	int fd, zero;
	char sum;

	if (argc < 2)
		return 2;
	fd = mkstemp(path);
	if (fd < 0)
		return 2;
	unlink(path);
	memset(buf, 'x', sizeof(buf));
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return 2;
	zero = open("/dev/zero", O_RDONLY);
	if (zero < 0)
		return 2;
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	sum = p[0];
	if (argv[1][0] == '1' && read(zero, (char *)p, 16) != 16)
		return 3;
	return sum == 'x' ? 0 : 4;
}
