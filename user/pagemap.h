/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which pages of a process are present, read from its page tables through
 * /proc/PID/pagemap: the PAGEMAP_SCAN ioctl (Linux 6.7+), else 8-byte
 * entries. Opened once: the kernel binds the file to the process's mm.
 */
#ifndef PAGETRACE_PAGEMAP_H
#define PAGETRACE_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pagemap;

/* Called for each run of present pages: zero if they map the zero page. */
typedef void (*pagemap_range_fn)(void *ctx, uint64_t start, uint64_t end,
				 bool zero);

struct pagemap *pagemap__open(pid_t pid);
void pagemap__free(struct pagemap *pm);
int pagemap__present(struct pagemap *pm, uint64_t start, uint64_t end,
		     pagemap_range_fn fn, void *ctx);

#endif
