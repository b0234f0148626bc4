// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "pagemap.h"

#define PAGE_SHIFT_4K 12
#define PM_PRESENT (1ULL << 63)

/* Debian's uapi headers predate PAGEMAP_SCAN (Linux 6.7). */
#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

#define SCAN_REGIONS 512

struct pagemap {
	int fd;
	bool scan_works;
};

struct pagemap *pagemap__open(pid_t pid)
{
	struct pagemap *pm = calloc(1, sizeof(*pm));
	char path[64];

	if (!pm)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm->fd < 0) {
		free(pm);
		return NULL;
	}
	pm->scan_works = true;
	return pm;
}

void pagemap__free(struct pagemap *pm)
{
	if (!pm)
		return;
	close(pm->fd);
	free(pm);
}

static int scan_ioctl(struct pagemap *pm, uint64_t start, uint64_t end,
		      pagemap_range_fn fn, void *ctx)
{
	struct page_region regions[SCAN_REGIONS];
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.vec = (uintptr_t)regions,
		.vec_len = SCAN_REGIONS,
		.category_mask = PAGE_IS_PRESENT,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_PFNZERO,
	};
	long found, i;

	while (start < end) {
		arg.start = start;
		arg.end = end;
		found = ioctl(pm->fd, PAGEMAP_SCAN, &arg);
		if (found < 0)
			return -errno;
		for (i = 0; i < found; i++)
			fn(ctx, regions[i].start, regions[i].end,
			   regions[i].categories & PAGE_IS_PFNZERO);
		if (arg.walk_end <= start)
			break;
		start = arg.walk_end;
	}
	return 0;
}

static int scan_entries(struct pagemap *pm, uint64_t start, uint64_t end,
			pagemap_range_fn fn, void *ctx)
{
	uint64_t entries[512], page = start >> PAGE_SHIFT_4K;
	uint64_t last = end >> PAGE_SHIFT_4K, run_start = 0;
	bool in_run = false, run_zero = false;

	while (page < last) {
		size_t want = last - page < 512 ? last - page : 512, i;
		ssize_t got = pread(pm->fd, entries, want * sizeof(entries[0]),
				    (off_t)(page * sizeof(entries[0])));

		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		for (i = 0; i < (size_t)got / sizeof(entries[0]); i++) {
			bool present = entries[i] & PM_PRESENT;
			/* the zero page cannot be told from a shared page here
			 */
			bool zero = false;
			uint64_t addr = (page + i) << PAGE_SHIFT_4K;

			if (in_run && (!present || zero != run_zero)) {
				fn(ctx, run_start, addr, run_zero);
				in_run = false;
			}
			if (present && !in_run) {
				in_run = true;
				run_start = addr;
				run_zero = zero;
			}
		}
		page += got / sizeof(entries[0]);
	}
	if (in_run)
		fn(ctx, run_start, last << PAGE_SHIFT_4K, run_zero);
	return 0;
}

int pagemap__present(struct pagemap *pm, uint64_t start, uint64_t end,
		     pagemap_range_fn fn, void *ctx)
{
	int err;

	if (pm->scan_works) {
		err = scan_ioctl(pm, start, end, fn, ctx);
		if (err != -ENOTTY && err != -EINVAL)
			return err;
		pm->scan_works = false;
	}
	return scan_entries(pm, start, end, fn, ctx);
}
