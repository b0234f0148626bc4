// SPDX-License-Identifier: GPL-2.0
/* Map the file argv[1] read-only and read every page of it. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "target.h"

int main(int argc, char **argv)
{
	volatile unsigned sink;
	struct stat st;
	char *p;
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || st.st_size == 0)
		return 1;
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	sink = read_pages(p, st.st_size);
	(void)sink;
	return 0;
}
