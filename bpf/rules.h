/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rules the kernel side and user space must apply the same way: a call's
 * requested size, a syscall's failure, the mappings --light follows, and
 * the fault outcome (decided by
 * the BPF programs when a fault finishes; the unit tests feed it event
 * sequences). Include pagetrace.h first. No other includes.
 *
 * The evidence is what the faulting thread did between the fault's entry
 * and its accounting: which rss counters it changed (kmem:rss_stat) and
 * which movable folios it allocated (kmem:mm_page_alloc):
 *
 *   new anonymous page     anon counter, folio of order 0 (or no folio
 *                          seen: a page reused from the swap cache path)
 *   huge page (THP/mTHP)   anon counter, folio of order > 0
 *   zero page              nothing at all on a read of a missing page,
 *                          where the kernel maps the zero page at all
 *   copy of the zero page  write-protect fault, anon counter only (the
 *                          zero page is not counted in rss)
 *   copy of a shared page  write-protect fault and a new folio without an
 *                          anon counter change (anon page shared after
 *                          fork), or the file counter going down with the
 *                          anon counter going up (private file page)
 *   file page              file or shmem counter only
 *   swap-in                swap-entry counter changed
 */
#ifndef PAGETRACE_RULES_H
#define PAGETRACE_RULES_H

struct pt_fault_evidence {
	__u32 zero_page_on_read; /* does this kernel map the zero page */
	__u32 error_code;
	__u32 order; /* order of the last movable folio allocated */
	__u32 alloc_pages; /* pages of all movable folios allocated */
	__u16 rss_events[PT_RSS__COUNT];
};

static inline __u32 pt_classify_fault(const struct pt_fault_evidence *ev,
				      __u32 *pages)
{
	int prot = ev->error_code & PT_PF_PROT;
	int write = ev->error_code & PT_PF_WRITE;
	int anon = ev->rss_events[PT_RSS_ANON] != 0;
	int file = ev->rss_events[PT_RSS_FILE] || ev->rss_events[PT_RSS_SHMEM];
	__u32 folio = ev->alloc_pages ? 1U << ev->order : 1;

	*pages = 0;
	if (ev->rss_events[PT_RSS_SWAPENTS]) {
		*pages = folio;
		return PT_OUT_SWAP;
	}
	if (prot && write) {
		if (anon && file) {
			/* private file page copied: always a single page */
			*pages = 1;
			return PT_OUT_COW;
		}
		if (anon) {
			/* order 9 here is the huge zero page replaced by a THP
			 */
			*pages = folio;
			return PT_OUT_COW_ZERO;
		}
		if (ev->alloc_pages) {
			*pages = folio;
			return PT_OUT_COW;
		}
		return PT_OUT_NONE;
	}
	if (anon) {
		*pages = folio;
		return ev->alloc_pages && ev->order > 0 ? PT_OUT_THP :
							  PT_OUT_ANON;
	}
	if (file) {
		/* one rss update per folio batch: a lower bound on the pages */
		*pages = (__u32)ev->rss_events[PT_RSS_FILE] +
			 ev->rss_events[PT_RSS_SHMEM];
		return PT_OUT_FILE;
	}
	if (!prot && !write && !ev->alloc_pages && ev->zero_page_on_read) {
		*pages = 1;
		return PT_OUT_ZERO;
	}
	return PT_OUT_NONE;
}

/*
 * --light closes a fault the kernel took inside a syscall at the first
 * rss change it makes, else at the syscall's end: a read there that
 * changed no rss mapped a page without allocating one, and folios
 * allocated meanwhile were the syscall's (the page cache's, say).
 */
static inline int pt_no_rss_change(const __u16 *rss_events)
{
	return !rss_events[PT_RSS_ANON] && !rss_events[PT_RSS_FILE] &&
	       !rss_events[PT_RSS_SHMEM] && !rss_events[PT_RSS_SWAPENTS];
}

static inline void pt_light_kernel_read(struct pt_fault_evidence *ev,
					__u32 flags)
{
	if ((flags & PT_FAULT_KERNEL) && !(ev->error_code & PT_PF_WRITE) &&
	    pt_no_rss_change(ev->rss_events))
		ev->alloc_pages = 0;
}

/* --light follows these outcomes page by page, in its granules; file
 * pages are counted only */
static inline int pt_in_granules(__u32 outcome)
{
	switch (outcome) {
	case PT_OUT_ZERO:
	case PT_OUT_ANON:
	case PT_OUT_THP:
	case PT_OUT_COW_ZERO:
	case PT_OUT_COW:
	case PT_OUT_SWAP:
		return 1;
	default:
		return 0;
	}
}

/*
 * --light: the pages of its granule (struct pt_granule) a fault at addr
 * populated, pages of them: *first and *span. A folio of 2^order pages
 * is naturally aligned.
 */
static inline void pt_granule_span(__u64 addr, __u32 pages, __u32 *first,
				   __u32 *span)
{
	*span = pages ? pages : 1;
	if (*span > PT_GRANULE_PAGES)
		*span = PT_GRANULE_PAGES;
	*first = (addr >> 12) & (PT_GRANULE_PAGES - 1);
	*first &= ~(*span - 1);
}

#define PT_READ_ONCE(x) (*(const volatile __u64 *)&(x))

/*
 * May release n of the log (struct pt_release_log) have met [lo, hi)?
 * Yes too if its entry was overwritten or is being written.
 */
static inline int pt_release_meets(const struct pt_release_log *log, __u64 n,
				   __u64 lo, __u64 hi)
{
	const struct pt_release_entry *e =
		&log->at[n & (PT_RELEASE_LOG_SLOTS - 1)];
	__u64 start, end;

	if (PT_READ_ONCE(e->number) != n + 1)
		return 1;
	start = PT_READ_ONCE(e->start);
	end = PT_READ_ONCE(e->end);
	return PT_READ_ONCE(e->number) != n + 1 || (lo < end && start < hi);
}

/*
 * Did a release logged since the log counted since perhaps meet [lo, hi)?
 * The fault's pages are then not placed. (The kernel side walks the same
 * entries with bpf_loop(): see released_since().)
 */
static inline int pt_released_since(const struct pt_release_log *log,
				    __u64 since, __u64 lo, __u64 hi)
{
	__u64 now = PT_READ_ONCE(log->count), n;

	if (now - since > PT_RELEASE_LOG_SLOTS)
		return 1;
	for (n = since; n < now; n++)
		if (pt_release_meets(log, n, lo, hi))
			return 1;
	return 0;
}

/* a * b, saturated: an overflowing calloc is "big", never small */
static inline __u64 pt_saturating_mul(__u64 a, __u64 b)
{
	__u64 limit = ~0ULL;

	/* hide the division from clang, which turns it into a 128-bit
	 * multiply that BPF lacks */
	asm volatile("" : "+r"(limit));
	if (a && b > limit / a)
		return ~0ULL;
	return a * b;
}

/* The bytes an allocator call asked for, from its arguments. */
static inline __u64 pt_requested_size(__u32 fn, const __u64 *args)
{
	switch (fn) {
	case PT_FN_CALLOC:
		return pt_saturating_mul(args[0], args[1]);
	case PT_FN_REALLOC:
	case PT_FN_ALIGNED_ALLOC:
	case PT_FN_MEMALIGN:
		return args[1];
	case PT_FN_REALLOCARRAY:
		return pt_saturating_mul(args[1], args[2]);
	case PT_FN_POSIX_MEMALIGN:
		return args[2];
	default:
		return args[0];
	}
}

/* The arguments an allocator function takes. */
static inline int pt_arg_count(__u32 fn)
{
	switch (fn) {
	case PT_FN_CALLOC:
	case PT_FN_REALLOC:
	case PT_FN_ALIGNED_ALLOC:
	case PT_FN_MEMALIGN:
		return 2;
	case PT_FN_REALLOCARRAY:
	case PT_FN_POSIX_MEMALIGN:
		return 3;
	default:
		return 1;
	}
}

/* Is fn seen whole after its call, on a preloaded site's second nop? The
 * functions that only allocate: realloc's old block may go to another
 * thread before it returns, and its entry is timed for that. */
static inline int pt_seen_after_call(__u32 fn)
{
	return fn != PT_FN_REALLOC && fn != PT_FN_REALLOCARRAY &&
	       fn != PT_FN_FREE && fn < PT_FN__COUNT;
}

/* A syscall's return value that is an error (-4095..-1). */
static inline int pt_syscall_failed(__s64 ret)
{
	return ret < 0 && ret >= -4095;
}

/* mmap's flags and protection bits (uapi values: the BPF side has no
 * libc headers) */
#define PT_MAP_TYPE 0x0f
#define PT_MAP_PRIVATE 0x02
#define PT_MAP_FIXED 0x10
#define PT_MAP_ANONYMOUS 0x20
#define PT_MAP_NORESERVE 0x4000
#define PT_MAP_STACK 0x20000
#define PT_PROT_WRITE 0x2

/*
 * --light: does an mmap with these arguments make a mapping followed as an
 * allocation? Anonymous, private, writable, of at least min_size; not a
 * thread stack, a reservation, nor placed over another mapping.
 */
static inline int pt_followed_mapping(const __u64 *args, __u64 min_size)
{
	__u64 flags = args[3];

	return (flags & PT_MAP_ANONYMOUS) &&
	       (flags & PT_MAP_TYPE) == PT_MAP_PRIVATE &&
	       !(flags & (PT_MAP_FIXED | PT_MAP_NORESERVE | PT_MAP_STACK)) &&
	       (args[2] & PT_PROT_WRITE) && args[1] >= min_size;
}

/*
 * A site's TSC reading as CLOCK_MONOTONIC ns by clock's figures (struct
 * pt_site_clock), or 0 where they cannot tell it: none yet, or a reading
 * PT_SITE_CLOCK_SPAN ticks or more from the one they were measured at
 * (user space was not there to refresh them; nor can the product then
 * overflow, mult being under 2^32: a TSC of 1 GHz or more).
 */
#define PT_SITE_CLOCK_SPAN (1ULL << 32)

static inline __u64 pt_site_clock_ns(__u64 reading, __u64 tsc, __u64 ns,
				     __u64 mult)
{
	__u64 ticks;

	if (!mult || mult >= PT_SITE_CLOCK_SPAN || !ns)
		return 0;
	if (reading >= tsc) {
		ticks = reading - tsc;
		return ticks < PT_SITE_CLOCK_SPAN ?
			       ns + ((ticks * mult) >> 32) :
			       0;
	}
	ticks = tsc - reading;
	if (ticks >= PT_SITE_CLOCK_SPAN || ((ticks * mult) >> 32) >= ns)
		return 0;
	return ns - ((ticks * mult) >> 32);
}

#endif /* PAGETRACE_RULES_H */
