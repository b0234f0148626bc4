// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "pagetable.h"

#define PAGE_SHIFT_4K 12

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

#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

/* /proc/PID/pagemap entry bits */
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_FILE (1ULL << 61)
#define PM_SWAPPED (1ULL << 62)
#define PM_PRESENT (1ULL << 63)

/* /proc/kpageflags bits */
#define KPF_HUGE 17
#define KPF_THP 22
#define KPF_ZERO_PAGE 24

#define SCAN_REGIONS 512
#define HUGE_PAGES 512 /* 4 KiB pages in a PMD huge page */
#define READ_BATCH (8 * HUGE_PAGES) /* pagemap entries per pread */
/* kpageflags bits 58-63 are unused: ours, "mapped as a whole huge page" */
#define FRAME_PMD_HUGE (1ULL << 63)

struct pagetable {
	int pagemap_fd;
	int kpageflags_fd; /* -1 if unreadable */
	int kpagecount_fd;
	enum pagetable_backend backend;
	bool frames_known;
	bool frames_checked;
	uint64_t *entries; /* read back end batch */
	uint64_t *frame_flags;
	uint64_t *frame_counts;
};

const char *pagetable__backend_name(enum pagetable_backend backend)
{
	switch (backend) {
	case PAGETABLE_SCAN:
		return "scan";
	case PAGETABLE_READ:
		return "read";
	default:
		return "auto";
	}
}

static bool scan_works(int fd)
{
	struct page_region region;
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = 0,
		.end = 1 << PAGE_SHIFT_4K,
		.vec = (uintptr_t)&region,
		.vec_len = 1,
	};

	/* page zero is never mapped: an empty answer, or ENOTTY */
	return ioctl(fd, PAGEMAP_SCAN, &arg) >= 0;
}

struct pagetable *pagetable__open(pid_t pid, enum pagetable_backend backend)
{
	struct pagetable *pt = calloc(1, sizeof(*pt));
	char path[64];

	if (!pt)
		return NULL;
	pt->kpageflags_fd = pt->kpagecount_fd = -1;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pt->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pt->pagemap_fd < 0) {
		free(pt);
		return NULL;
	}
	if (backend != PAGETABLE_READ && scan_works(pt->pagemap_fd)) {
		pt->backend = PAGETABLE_SCAN;
		pt->frames_known = true;
		return pt;
	}
	if (backend == PAGETABLE_SCAN) {
		pagetable__free(pt);
		errno = ENOTTY;
		return NULL;
	}
	pt->backend = PAGETABLE_READ;
	pt->kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	pt->kpagecount_fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	pt->entries = malloc(READ_BATCH * sizeof(*pt->entries));
	pt->frame_flags = malloc(READ_BATCH * sizeof(*pt->frame_flags));
	pt->frame_counts = malloc(READ_BATCH * sizeof(*pt->frame_counts));
	if (!pt->entries || !pt->frame_flags || !pt->frame_counts) {
		pagetable__free(pt);
		errno = ENOMEM;
		return NULL;
	}
	/* known for sure once a present page has been read */
	pt->frames_known = pt->kpageflags_fd >= 0;
	return pt;
}

void pagetable__free(struct pagetable *pt)
{
	if (!pt)
		return;
	close(pt->pagemap_fd);
	if (pt->kpageflags_fd >= 0)
		close(pt->kpageflags_fd);
	if (pt->kpagecount_fd >= 0)
		close(pt->kpagecount_fd);
	free(pt->entries);
	free(pt->frame_flags);
	free(pt->frame_counts);
	free(pt);
}

enum pagetable_backend pagetable__backend(const struct pagetable *pt)
{
	return pt->backend;
}

bool pagetable__frames_known(const struct pagetable *pt)
{
	return pt->frames_known;
}

/* ---- scan back end ------------------------------------------------ */

static unsigned int scan_categories(__u64 kernel)
{
	unsigned int cat = 0;

	if (kernel & PAGE_IS_PRESENT)
		cat |= PAGE_CAT_PRESENT;
	if (kernel & PAGE_IS_PFNZERO)
		cat |= PAGE_CAT_ZERO;
	if (kernel & PAGE_IS_SWAPPED)
		cat |= PAGE_CAT_SWAPPED;
	if (kernel & PAGE_IS_HUGE)
		cat |= PAGE_CAT_HUGE;
	if (kernel & PAGE_IS_FILE)
		cat |= PAGE_CAT_FILE;
	if (kernel & PAGE_IS_SOFT_DIRTY)
		cat |= PAGE_CAT_SOFT_DIRTY;
	return cat;
}

static int walk_scan(struct pagetable *pt, uint64_t start, uint64_t end,
		     pagetable_run_fn fn, void *ctx)
{
	struct page_region regions[SCAN_REGIONS];
	/* only populated pages come back, in runs of equal categories */
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.vec = (uintptr_t)regions,
		.vec_len = SCAN_REGIONS,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED |
			       PAGE_IS_PFNZERO | PAGE_IS_HUGE | PAGE_IS_FILE |
			       PAGE_IS_SOFT_DIRTY,
	};
	long found, i;

	while (start < end) {
		arg.start = start;
		arg.end = end;
		found = ioctl(pt->pagemap_fd, PAGEMAP_SCAN, &arg);
		if (found < 0)
			return -errno;
		for (i = 0; i < found; i++)
			fn(ctx, regions[i].start, regions[i].end,
			   scan_categories(regions[i].categories));
		if (arg.walk_end <= start)
			break;
		start = arg.walk_end;
	}
	return 0;
}

/* ---- read back end ------------------------------------------------ */

/* Flags and map counts of the frames of entries[0..count), read with one
 * pread per run of consecutive frame numbers (a THP is 512 of them). */
static void read_frames(struct pagetable *pt, size_t count)
{
	size_t i = 0, run;

	memset(pt->frame_flags, 0, count * sizeof(*pt->frame_flags));
	memset(pt->frame_counts, 0, count * sizeof(*pt->frame_counts));
	if (pt->kpageflags_fd < 0)
		return;
	while (i < count) {
		uint64_t pfn = pt->entries[i] & PM_PFN_MASK;

		if (!(pt->entries[i] & PM_PRESENT) || !pfn) {
			i++;
			continue;
		}
		for (run = 1; i + run < count; run++) {
			uint64_t next = pt->entries[i + run];

			if (!(next & PM_PRESENT) ||
			    (next & PM_PFN_MASK) != pfn + run)
				break;
		}
		if (pread(pt->kpageflags_fd, &pt->frame_flags[i], run * 8,
			  (off_t)(pfn * 8)) < 0)
			memset(&pt->frame_flags[i], 0, run * 8);
		if (pt->kpagecount_fd >= 0 &&
		    pread(pt->kpagecount_fd, &pt->frame_counts[i], run * 8,
			  (off_t)(pfn * 8)) < 0)
			memset(&pt->frame_counts[i], 0, run * 8);
		i += run;
	}
}

/*
 * A huge page as the scan back end sees one: 512 present pages of a
 * 2 MiB-aligned block on 512 consecutive, aligned frames of a THP or
 * hugetlb page. Large folios of a few pages (page cache, mTHP) are not.
 */
static void mark_huge_blocks(struct pagetable *pt, size_t count)
{
	size_t block, i;

	for (block = 0; block + HUGE_PAGES <= count; block += HUGE_PAGES) {
		uint64_t pfn = pt->entries[block] & PM_PFN_MASK;
		bool huge = (pt->entries[block] & PM_PRESENT) && pfn &&
			    !(pfn % HUGE_PAGES) &&
			    (pt->frame_flags[block] &
			     ((1ULL << KPF_THP) | (1ULL << KPF_HUGE)));

		for (i = 1; huge && i < HUGE_PAGES; i++)
			huge = (pt->entries[block + i] & PM_PRESENT) &&
			       (pt->entries[block + i] & PM_PFN_MASK) ==
				       pfn + i;
		for (i = 0; huge && i < HUGE_PAGES; i++)
			pt->frame_flags[block + i] |= FRAME_PMD_HUGE;
	}
}

static unsigned int entry_categories(struct pagetable *pt, size_t i)
{
	uint64_t entry = pt->entries[i], flags = pt->frame_flags[i];
	unsigned int cat = 0;

	if (entry & PM_PRESENT) {
		cat |= PAGE_CAT_PRESENT;
		/* frame numbers hidden: zero, huge and shared are unknown */
		if (!pt->frames_checked) {
			pt->frames_checked = true;
			if (!(entry & PM_PFN_MASK))
				pt->frames_known = false;
		}
		if (flags & (1ULL << KPF_ZERO_PAGE))
			cat |= PAGE_CAT_ZERO;
		if (flags & FRAME_PMD_HUGE)
			cat |= PAGE_CAT_HUGE;
		if (pt->frame_counts[i] > 1)
			cat |= PAGE_CAT_SHARED;
	} else if (entry & PM_SWAPPED) {
		cat |= PAGE_CAT_SWAPPED;
	}
	if (cat && (entry & PM_FILE))
		cat |= PAGE_CAT_FILE;
	if (cat && (entry & PM_SOFT_DIRTY))
		cat |= PAGE_CAT_SOFT_DIRTY;
	return cat;
}

static int walk_read(struct pagetable *pt, uint64_t start, uint64_t end,
		     pagetable_run_fn fn, void *ctx)
{
	/* whole 2 MiB blocks are read, so that huge pages can be seen */
	uint64_t first = start >> PAGE_SHIFT_4K, last = end >> PAGE_SHIFT_4K;
	uint64_t page = first & ~(uint64_t)(HUGE_PAGES - 1);
	uint64_t stop = (last + HUGE_PAGES - 1) & ~(uint64_t)(HUGE_PAGES - 1);
	uint64_t run_start = 0;
	unsigned int run_cat = 0;

	while (page < stop) {
		size_t want =
			stop - page < READ_BATCH ? stop - page : READ_BATCH;
		ssize_t got = pread(pt->pagemap_fd, pt->entries,
				    want * sizeof(uint64_t),
				    (off_t)(page * sizeof(uint64_t)));
		size_t n, i;

		/* the kernel stops at the top of user space: a block there
		 * has no padding to read */
		if (got == 0 && page >= last)
			break;
		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		n = (size_t)got / sizeof(uint64_t);
		read_frames(pt, n);
		mark_huge_blocks(pt, n);
		for (i = 0; i < n; i++) {
			uint64_t at = page + i;
			unsigned int cat = at >= first && at < last ?
						   entry_categories(pt, i) :
						   0;

			if (run_cat && cat != run_cat) {
				fn(ctx, run_start, at << PAGE_SHIFT_4K,
				   run_cat);
				run_cat = 0;
			}
			if (cat && !run_cat) {
				run_start = at << PAGE_SHIFT_4K;
				run_cat = cat;
			}
		}
		page += n;
	}
	if (run_cat)
		fn(ctx, run_start, last << PAGE_SHIFT_4K, run_cat);
	return 0;
}

int pagetable__walk(struct pagetable *pt, uint64_t start, uint64_t end,
		    pagetable_run_fn fn, void *ctx)
{
	if (start >= end)
		return 0;
	if (pt->backend == PAGETABLE_SCAN)
		return walk_scan(pt, start, end, fn, ctx);
	return walk_read(pt, start, end, fn, ctx);
}

void pagetable__add_run(struct pagetable_counts *counts, uint64_t start,
			uint64_t end, unsigned int categories)
{
	uint64_t pages = (end - start) >> PAGE_SHIFT_4K;

	if (categories & PAGE_CAT_ZERO) {
		counts->zero += pages;
	} else if (categories & PAGE_CAT_PRESENT) {
		counts->present += pages;
		if (categories & PAGE_CAT_HUGE)
			counts->huge += pages;
		if (categories & PAGE_CAT_FILE)
			counts->file += pages;
		if (categories & PAGE_CAT_SHARED)
			counts->shared += pages;
	} else if (categories & PAGE_CAT_SWAPPED) {
		counts->swapped += pages;
	}
}

static void count_run(void *ctx, uint64_t start, uint64_t end,
		      unsigned int categories)
{
	pagetable__add_run(ctx, start, end, categories);
}

int pagetable__count(struct pagetable *pt, uint64_t start, uint64_t end,
		     struct pagetable_counts *counts)
{
	int err;

	memset(counts, 0, sizeof(*counts));
	err = pagetable__walk(pt, start, end, count_run, counts);
	if (!err && end > start)
		counts->not_present = ((end - start) >> PAGE_SHIFT_4K) -
				      counts->present - counts->zero -
				      counts->swapped;
	return err;
}
