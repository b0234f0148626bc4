// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "procfs.h"

bool procfs__stat_field(pid_t pid, int field, char *buf, size_t size)
{
	char path[64], line[4096], *p;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	/* the command name (field 2) may hold spaces and ')' */
	if (!p || !(p = strrchr(line, ')')))
		return false;
	p += 2;
	for (i = 3; i < field && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return false;
	snprintf(buf, size, "%.*s", (int)strcspn(p, " \n"), p);
	return true;
}

uint64_t procfs__stat_number(pid_t pid, int field)
{
	char value[32];

	if (!procfs__stat_field(pid, field, value, sizeof(value)))
		return 0;
	return strtoull(value, NULL, 10);
}

uint64_t procfs__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
