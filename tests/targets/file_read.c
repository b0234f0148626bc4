// SPDX-License-Identifier: GPL-2.0
/*
 * Map the file argv[1] read-only and read every page of it. With argv[2]
 * "say-cache", first say on stderr whether its first page is in the page
 * cache ("cached" or "cold", mincore): the first read of a cold file
 * waits for the disk, a major fault.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "target.h"

int main(int argc, char **argv)
{
	volatile unsigned sink;
	unsigned char in_cache = 0;
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
	if (argc > 2 && !strcmp(argv[2], "say-cache")) {
		if (mincore(p, PAGE, &in_cache))
			return 1;
		fprintf(stderr, "%s\n", in_cache & 1 ? "cached" : "cold");
	}
	sink = read_pages(p, st.st_size);
	(void)sink;
	return 0;
}
