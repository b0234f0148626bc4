/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ledger's insides, shared by its three files: ledger.c (allocations:
 * calls, frees, records), ledger_pages.c (charging faults and populated
 * pages) and ledger_syscalls.c (what mm syscalls do to the address space).
 */
#ifndef PAGETRACE_LEDGER_INTERNAL_H
#define PAGETRACE_LEDGER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "interval.h"
#include "ledger.h"
#include "pagestate.h"

#define PAGE_SHIFT_4K 12
#define PAGE_SIZE_4K (1ULL << PAGE_SHIFT_4K)
#define HUGE_PAGES 512ULL /* 4 KiB pages in a 2 MiB PMD huge page */
#define GLIBC_CHUNK_HEADER 16 /* prev_size and size precede the block */

/* struct alloc.flags */
#define ALLOC_CHUNK_KNOWN 0x1
#define ALLOC_CHUNK_MMAPPED 0x2
#define ALLOC_RELEASED 0x4 /* its pages were unmapped or moved away */
/* its realloc, under way, unmapped or moved its mapping away: the
 * realloc's record comes only when it returns */
#define ALLOC_LEAVING 0x8

/*
 * What few allocations have: pages they populated (most small blocks share
 * a page another block's fault populated), a realloc's origin, pages
 * released with their mapping, a --verify check.
 */
struct alloc_cold {
	uint32_t by[BY__COUNT];
	uint32_t released_resident; /* counts when ALLOC_RELEASED */
	uint32_t released_zero;
	uint64_t realloc_from;
	struct page_check *check; /* --verify: kept until the record */
};

/*
 * A live block: 128 bytes, kept in slabs (lg_alloc_new()), its address the
 * node's start. A million live small blocks are a million of these.
 */
struct alloc {
	struct interval_node node; /* [addr, addr + max(size, 1)) */
	uint64_t id;
	uint64_t size;
	uint64_t arg; /* the argument reports show (alloc_arg()) */
	uint64_t caller;
	uint64_t site;
	uint64_t chunk_size;
	uint64_t t_alloc;
	uint64_t first_touch; /* ns of the first page populated after return */
	struct alloc_cold *cold; /* NULL until needed: lg_cold() */
	uint32_t resident_at_alloc;
	uint32_t faults;
	uint32_t tid;
	int32_t stack_id;
	uint8_t fn;
	uint8_t flags;
};

_Static_assert(sizeof(struct alloc) <= 128, "struct alloc grew past 128 bytes");

static inline uint64_t alloc_addr(const struct alloc *a)
{
	return a->node.start;
}

/* Faults a thread holds in case a call seen after it returned made them,
 * at most (64 MiB that calloc zeroes, in pages) */
#define LEDGER_HELD_FAULTS 16384
/* Threads holding deferred faults at once, at most: a power of two */
#define LEDGER_HELD_THREADS 1024

/* A thread with deferred faults, and how many: its records walk the list
 * only then. tid 0: a free slot. */
struct held_thread {
	uint32_t tid;
	uint32_t count;
};

/* A fault inside an allocator call whose block is not known yet, or, for
 * calls seen only after they return, one that may be (see
 * ledger__on_fault()). */
struct deferred {
	struct deferred *next;
	uint32_t tid;
	uint64_t t_start; /* when the fault began */
	uint64_t addr;
	uint64_t first_page;
	uint64_t npages; /* pages no allocation covered */
	enum by_kind kind;
	uint32_t outcome;
	uint64_t touch_site;
	int32_t touch_stack;
};

struct ledger {
	pid_t pid;
	uint64_t min_size;
	struct mappings *maps;
	const struct kernel_facts *kernel;
	ledger_alloc_fn on_alloc_end;
	ledger_touch_fn on_touch;
	void *ctx;
	struct interval_index *live;
	struct pagestate *pages;
	struct deferred *deferred;
	struct held_thread held[LEDGER_HELD_THREADS];
	struct outside_group *groups;
	size_t group_count;
	size_t group_capacity;
	uint64_t next_id;
	uint64_t brk; /* last break seen, 0 if none */
	struct alloc *free_allocs; /* struct alloc slots to reuse, chained by
				      their cold pointer */
	void **slabs; /* where the slots come from */
	size_t slab_count;
	bool light; /* --light */
	/* --light, mremap: the block the old mapping held, its fn */
	uint64_t moved_from_id;
	uint32_t moved_fn;
	/* THP allowed for the target (prctl), read at most once a second */
	bool thp_allowed;
	uint64_t thp_checked_ns;
	struct ledger_stats stats;
};

static inline uint64_t first_page_of(uint64_t addr)
{
	return addr >> PAGE_SHIFT_4K;
}

/* pages overlapping [addr, addr + size); a zero-size block holds none */
static inline uint64_t page_count(uint64_t addr, uint64_t size)
{
	if (!size)
		return 0;
	return ((addr + size - 1) >> PAGE_SHIFT_4K) - first_page_of(addr) + 1;
}

/* pages of [start, end) rounded out to whole pages */
static inline uint64_t range_pages(uint64_t start, uint64_t end)
{
	return start < end ? page_count(start, end - start) : 0;
}

static inline uint64_t page_align(uint64_t len)
{
	return (len + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
}

static inline uint64_t overlap(uint64_t a_first, uint64_t a_count,
			       uint64_t b_first, uint64_t b_count)
{
	uint64_t lo = a_first > b_first ? a_first : b_first;
	uint64_t a_end = a_first + a_count, b_end = b_first + b_count;
	uint64_t hi = a_end < b_end ? a_end : b_end;

	return hi > lo ? hi - lo : 0;
}

/*
 * Walk the pages [first, first + count): on_block for each live block that
 * meets them (with the pages of it met; neighbours may share a page), and
 * on_gap for each run of pages no block meets. Either may be NULL.
 */
typedef void (*lg_block_fn)(struct ledger *l, struct alloc *a, uint64_t first,
			    uint64_t count, void *ctx);
typedef void (*lg_gap_fn)(struct ledger *l, uint64_t first, uint64_t count,
			  void *ctx);
void lg_walk(struct ledger *l, uint64_t first, uint64_t count,
	     lg_block_fn on_block, lg_gap_fn on_gap, void *ctx);

struct alloc *lg_alloc_at(const struct ledger *l, uint64_t addr);
void lg_settle_deferred(struct ledger *l, uint32_t tid, struct alloc *block,
			uint64_t t_enter);
struct held_thread *lg_held(struct ledger *l, uint32_t tid, bool add);
void lg_settle_all_deferred(struct ledger *l);
/* tid's held faults at addresses in [lo, hi), whose pages went back:
 * where they fell */
void lg_settle_range(struct ledger *l, uint32_t tid, uint64_t lo, uint64_t hi);
bool lg_gives_back(struct ledger *l, const struct pt_rec_syscall *rec,
		   uint64_t old_brk);
/* The live block that starts at addr. */
struct alloc *lg_find_block(const struct ledger *l, uint64_t addr);
void lg_charge_group(struct ledger *l, uint64_t addr, bool fault,
		     enum by_kind kind, uint64_t pages,
		     struct ledger_charge *charge);
/* Tell on_touch: pages of block a (NULL: outside allocations) populated
 * by the touching code described in *base. */
void lg_touch(struct ledger *l, const struct alloc *a, const struct touch *base,
	      uint64_t pages, bool fault);

/* The cold part of a, made on first use; NULL if out of memory. */
struct alloc_cold *lg_cold(struct alloc *a);
/* Pages a populated by kind k. */
static inline uint32_t alloc_by(const struct alloc *a, enum by_kind k)
{
	return a->cold ? a->cold->by[k] : 0;
}

/* Count pages populated in a by kind k. */
static inline void alloc_add_by(struct alloc *a, enum by_kind k, uint64_t pages)
{
	struct alloc_cold *cold = pages ? lg_cold(a) : NULL;

	if (cold)
		cold->by[k] += (uint32_t)pages;
}

/* A new live block from an allocator call (its block, its size); NULL
 * if it cannot be indexed. Blocks it overlaps end as overlapped. */
struct alloc *lg_new_alloc(struct ledger *l, const struct pt_rec_call *rec,
			   uint64_t size, const struct code_origin *from);
/* End block a: report it (on_alloc_end) and forget it. */
void lg_end_alloc(struct ledger *l, struct alloc *a, enum alloc_end end,
		  uint64_t t, pid_t tid, uint64_t realloc_to);

/* ledger_light.c */
/* old_brk: the break before the syscall (lg_heap_end()) */
void lg_light_before_syscall(struct ledger *l, const struct pt_rec_syscall *rec,
			     uint64_t old_brk);
void lg_light_after_syscall(struct ledger *l, const struct pt_rec_syscall *rec,
			    const struct touch *by, uint64_t old_brk);

/* ledger_pages.c */
void lg_snapshot_range(struct ledger *l, uint64_t start, uint64_t end);
void lg_release_range(struct ledger *l, uint64_t start, uint64_t end,
		      bool snapshot);
void lg_populate(struct ledger *l, uint64_t start, uint64_t end, bool write,
		 const struct touch *by, struct ledger_charge *charge);

/* ledger_syscalls.c */
/* The break: the last seen, else (attached to a running process) the end
 * of the [heap] mapping; 0 if neither. */
uint64_t lg_heap_end(const struct ledger *l);
void lg_on_syscall(struct ledger *l, const struct pt_rec_syscall *rec,
		   const struct touch *by, struct ledger_charge *charge);

#endif
