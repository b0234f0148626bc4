/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ledger: every live allocation, indexed by address, and what each of
 * its pages went through. Faults and populating syscalls are charged to
 * the allocation that contains them, else to the mapping they fall in.
 * It knows nothing of output formats: finished allocations are handed to
 * a callback as struct alloc_view.
 */
#ifndef PAGETRACE_LEDGER_H
#define PAGETRACE_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "decode.h"
#include "pagetable.h"

struct mappings;
struct mapping;
struct kernel_facts;
struct pagetable;

/* How pages became populated: the "by" figures. */
enum by_kind {
	BY_ZERO,
	BY_ANON,
	BY_THP,
	BY_COW,
	BY_FILE,
	BY_SWAP,
	BY_SYSCALL,
	BY__COUNT,
};

const char *ledger__by_name(enum by_kind kind);

/* Why an allocation's record was written. */
enum alloc_end {
	ALLOC_LIVE, /* still allocated when tracing ended */
	ALLOC_FREED, /* free(), or realloc(p, 0) */
	ALLOC_REALLOCATED, /* replaced by realloc's new block */
	ALLOC_EXEC, /* the process replaced its image */
	ALLOC_OVERLAPPED, /* a new block took its place: its free was missed */
	ALLOC_FAILED, /* the call returned no memory */
};

const char *ledger__end_name(enum alloc_end end);

/* What --light follows as allocations, numbered after enum pt_alloc_fn */
enum light_alloc_fn {
	ALLOC_FN_MMAP = PT_FN__COUNT, /* an anonymous mapping a thread made */
	ALLOC_FN_HEAP, /* the heap grown by brk */
	ALLOC_FN_CHUNK, /* a mapping glibc's malloc made for one block */
};

/* "malloc", ..., and the names of enum light_alloc_fn */
const char *ledger__fn_name(uint32_t fn);

/* A run of pages whose state in the ledger and in the page tables differ
 * (enum page_state values: absent, zero, resident, swapped). */
struct page_mismatch {
	uint64_t first_page;
	uint64_t count;
	uint8_t ledger_state;
	uint8_t table_state;
};

#define PAGE_CHECK_RUNS 4 /* mismatching runs kept per allocation */

/* An allocation checked against the page tables (--verify). */
struct page_check {
	struct pagetable_counts table; /* what the page tables hold */
	bool match;
	bool late; /* read after its memory went back to the kernel */
	bool frames_known; /* zero and huge pages could be told apart */
	uint64_t mismatched_pages;
	struct page_mismatch runs[PAGE_CHECK_RUNS];
	unsigned int run_count; /* mismatching runs, at most PAGE_CHECK_RUNS */
	bool more_runs; /* more runs differ than are kept */
};

/* Pages populated in one allocation (or outside any: alloc_site 0) by one
 * fault or syscall: who allocated, who touched. Sites are packed code
 * locations (symbols.h), stacks handles of stacks.h. */
struct touch {
	uint64_t alloc_site;
	int32_t alloc_stack;
	uint64_t touch_site;
	int32_t touch_stack;
	uint32_t outcome; /* enum pt_outcome; PT_OUT__COUNT for a syscall */
	uint64_t pages;
	uint64_t faults; /* faults it counts (1 for one fault, with the
			    allocation it hit; --light: a site's total) */
	uint64_t t; /* ns */
};

/* One allocation's figures, as reports see them. */
/* Every field is set one by one in view_of() (ledger.c): a new one too. */
struct alloc_view {
	uint64_t id;
	pid_t pid;
	pid_t tid;
	pid_t free_tid; /* 0 unless freed */
	uint32_t fn; /* enum pt_alloc_fn */
	enum alloc_end end;
	uint64_t addr;
	uint64_t size;
	uint64_t arg; /* calloc's nmemb, realloc's old block, the alignment */
	uint64_t caller; /* return address of the allocating call */
	uint64_t site; /* the call site located (packed code_loc), 0 unknown */
	int32_t stack_id; /* its user stack (stacks.h handle), PT_NO_STACK if
			     none */
	uint64_t chunk_size; /* glibc chunk size, header included; 0 unknown */
	uint64_t t_alloc; /* ns, when the call returned */
	uint64_t t_free; /* ns when it ended, 0 while live */
	bool chunk_known;
	bool chunk_mmapped; /* glibc gave it its own mapping */
	bool released; /* its memory went back to the kernel at the end */
	uint64_t pages; /* 4 KiB pages overlapping [addr, addr + size) */
	uint64_t resident_pages;
	uint64_t zero_pages;
	uint64_t untouched_pages;
	uint64_t resident_at_alloc; /* already resident when returned */
	uint64_t faults;
	int64_t first_touch_ns; /* -1: no page populated after the return */
	uint64_t by[BY__COUNT];
	uint64_t realloc_from; /* id, 0 if none */
	uint64_t realloc_to;
	const struct page_check *check; /* NULL unless verified */
};

/* Faults and pages charged to a mapping, outside any allocation. */
struct outside_group {
	const char *name;
	uint64_t faults;
	uint64_t pages[BY__COUNT];
};

struct ledger_stats {
	uint64_t allocs; /* blocks returned */
	uint64_t failed; /* calls that returned no memory */
	uint64_t frees;
	uint64_t unknown_frees; /* of blocks allocated before tracing */
	uint64_t overlapped; /* blocks ended because their free was missed */
	uint64_t bytes_requested;
	uint64_t faults; /* completed faults */
	uint64_t fault_errors; /* faults that never completed */
	uint64_t faults_in_allocs;
	uint64_t faults_outside;
	uint64_t faults_by_outcome[PT_OUT__COUNT];
	uint64_t pages_by_outcome[PT_OUT__COUNT];
	uint64_t kernel_mode_faults; /* taken by the kernel on user memory */
	uint64_t syscall_pages; /* pages populated by interpreted syscalls */
	uint64_t other_syscall_pages; /* by other syscalls (get_user_pages) */
	uint64_t execs;
	uint64_t forks; /* child processes (not traced) */
	bool exited;
	int32_t exit_code;
};

/* What one event was charged to, for the live event stream. */
struct ledger_charge {
	uint32_t outcome; /* the fault's outcome, refined by the mapping */
	uint64_t alloc_id; /* 0: no allocation */
	const char *mapping; /* the mapping's name otherwise */
	bool deferred; /* inside an allocator call: charged on its return */
	uint64_t pages; /* pages that changed state */
};

typedef void (*ledger_alloc_fn)(void *ctx, const struct alloc_view *view);
typedef void (*ledger_touch_fn)(void *ctx, const struct touch *touch);

struct ledger_config {
	pid_t pid;
	uint64_t min_size; /* --min-size: smaller blocks are not followed */
	struct mappings *maps;
	const struct kernel_facts *kernel;
	ledger_alloc_fn on_alloc_end;
	ledger_touch_fn on_touch; /* may be NULL */
	void *ctx;
	/* --light: allocations are the mappings threads make (see
	 * ledger_light.c), faults come aggregated */
	bool light;
};

struct ledger;

struct ledger *ledger__new(const struct ledger_config *cfg);
void ledger__free(struct ledger *l);

/* Pages already present when tracing starts (attach to a running
 * process): [start, end) maps the zero page or is resident. */
int ledger__mark_present(struct ledger *l, uint64_t start, uint64_t end,
			 bool zero);
/* The id of the live block that starts at addr, 0 if none. */
uint64_t ledger__block_id(const struct ledger *l, uint64_t addr);
/* Has the live block at addr a mapping of its own (glibc mmapped it)? */
bool ledger__block_mmapped(const struct ledger *l, uint64_t addr);

/*
 * Where a record's code was: the site, a packed code_loc (symbols.h), 0 if
 * unknown: the allocator's caller, the faulting instruction, the code that
 * made the syscall; and its stack, a handle (stacks.h), PT_NO_STACK if none.
 */
struct code_origin {
	uint64_t site;
	int32_t stack;
	/* the fault's instruction, or the syscall's, is the allocator's own
	 * code, where calls are seen only after they return
	 * (PT_CALL_SEEN_AFTER) */
	bool allocator_code;
};

void ledger__on_call(struct ledger *l, const struct pt_rec_call *rec,
		     const struct code_origin *from);
void ledger__on_free(struct ledger *l, const struct pt_rec_free *rec);
/* --light (ledger_light.c): the size field glibc wrote into a mapping;
 * the pages faulted in a granule; one instruction's fault counts (site: a
 * packed code_loc), when tracing ends. */
void ledger__on_chunk(struct ledger *l, const struct pt_rec_chunk *rec);
void ledger__on_pages(struct ledger *l, uint64_t granule,
		      const struct pt_granule *pages);
void ledger__on_fault_site(struct ledger *l, uint64_t site, uint32_t outcome,
			   uint64_t faults, uint64_t pages);
void ledger__on_fault(struct ledger *l, const struct pt_rec_fault *rec,
		      const struct code_origin *from,
		      struct ledger_charge *charge);
void ledger__on_syscall(struct ledger *l, const struct pt_rec_syscall *rec,
			const struct code_origin *from,
			struct ledger_charge *charge);
void ledger__on_task(struct ledger *l, const struct pt_rec_task *rec);

/* Tracing ended: hand over every live allocation. */
void ledger__finish(struct ledger *l);

const struct ledger_stats *ledger__stats(const struct ledger *l);
size_t ledger__group_count(const struct ledger *l);
const struct outside_group *ledger__group(const struct ledger *l, size_t i);
size_t ledger__live_count(const struct ledger *l);

/*
 * --verify: compare the live block starting at addr with the page tables
 * now and keep the result for its record. late: its memory may already be
 * gone. 0, -ENOENT if no such block, or -errno of the page-table read.
 */
int ledger__check_block(struct ledger *l, uint64_t addr, struct pagetable *pt,
			bool late);
/* The same for every live block of at least min_size bytes. */
void ledger__check_live(struct ledger *l, struct pagetable *pt,
			uint64_t min_size);

/* Would a read fault at addr map a whole huge zero page (2 MiB)? */
bool ledger__huge_zero_eligible(const struct kernel_facts *kernel,
				const struct mapping *map, uint64_t addr,
				bool block_empty, bool target_thp_allowed);

#endif
