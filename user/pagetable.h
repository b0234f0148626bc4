/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A process's page tables as the kernel reports them through
 * /proc/PID/pagemap, by one of two back ends:
 *  - scan: the PAGEMAP_SCAN ioctl (Linux 6.7+), runs of pages with their
 *    categories in a few calls, no privilege needed;
 *  - read: 8-byte pagemap entries read in batches, with /proc/kpageflags
 *    (zero page, THP, huge) and /proc/kpagecount (sharing) for each page
 *    frame; frame numbers read as 0 without CAP_SYS_ADMIN.
 * The file is opened once: the kernel binds it to the process's mm, so a
 * recycled pid can never be read by mistake.
 */
#ifndef PAGETRACE_PAGETABLE_H
#define PAGETRACE_PAGETABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum pagetable_backend {
	PAGETABLE_AUTO, /* scan where the kernel has it, else read */
	PAGETABLE_SCAN,
	PAGETABLE_READ,
};

/* Categories of a run of pages (a page is not present if it has none of
 * PRESENT and SWAPPED). */
#define PAGE_CAT_PRESENT 0x01 /* mapped: its own memory or the zero page */
#define PAGE_CAT_ZERO 0x02 /* the shared zero page (or huge zero page) */
#define PAGE_CAT_SWAPPED 0x04
#define PAGE_CAT_HUGE 0x08 /* part of a huge page (THP or hugetlb) */
#define PAGE_CAT_FILE 0x10 /* file page, or shared anonymous memory */
#define PAGE_CAT_SOFT_DIRTY 0x20
#define PAGE_CAT_SHARED 0x40 /* mapped more than once (read back end) */

/* Page counts of a range; present, zero, swapped and not_present are
 * disjoint and add up to the range's pages. */
struct pagetable_counts {
	uint64_t present; /* backed by the page's own memory */
	uint64_t zero;
	uint64_t swapped;
	uint64_t not_present;
	uint64_t huge; /* of the present ones */
	uint64_t file; /* of the present ones */
	uint64_t shared; /* of the present ones; read back end only */
};

struct pagetable;

/* NULL with errno set: no such process, no permission, or (for a forced
 * scan back end) a kernel without PAGEMAP_SCAN (ENOTTY). */
struct pagetable *pagetable__open(pid_t pid, enum pagetable_backend backend);
void pagetable__free(struct pagetable *pt);

enum pagetable_backend pagetable__backend(const struct pagetable *pt);
const char *pagetable__backend_name(enum pagetable_backend backend);
/* Can zero, huge and shared pages be told apart? Not by the read back
 * end without CAP_SYS_ADMIN (frame numbers read as 0). */
bool pagetable__frames_known(const struct pagetable *pt);

/* Called for each run of present or swapped pages, in address order. */
typedef void (*pagetable_run_fn)(void *ctx, uint64_t start, uint64_t end,
				 unsigned int categories);

/* Walk [start, end) (page aligned). 0 or -errno. */
int pagetable__walk(struct pagetable *pt, uint64_t start, uint64_t end,
		    pagetable_run_fn fn, void *ctx);
int pagetable__count(struct pagetable *pt, uint64_t start, uint64_t end,
		     struct pagetable_counts *counts);
/* Add the pages of [start, end) that have categories cat to counts. */
void pagetable__add_run(struct pagetable_counts *counts, uint64_t start,
			uint64_t end, unsigned int categories);

#endif
