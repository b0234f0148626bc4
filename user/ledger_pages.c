// SPDX-License-Identifier: GPL-2.0
/*
 * The ledger's pages: what a fault or a populating syscall changed, and
 * to whom it is charged; pages going back to the kernel.
 */
#include <stdlib.h>
#include <string.h>
#include "kernel.h"
#include "ledger_internal.h"
#include "mappings.h"
#include "procfs.h"

void lg_walk(struct ledger *l, uint64_t first, uint64_t count,
	     lg_block_fn on_block, lg_gap_fn on_gap, void *ctx)
{
	uint64_t start = first << PAGE_SHIFT_4K;
	uint64_t end = (first + count) << PAGE_SHIFT_4K;
	uint64_t covered_until = first, last = first + count;
	struct interval_node *node, *next;

	for (node = interval_index__first_overlap(l->live, start, end);
	     node && node->start < end; node = next) {
		struct alloc *a = container_of(node, struct alloc, node);
		uint64_t a_first = first_page_of(alloc_addr(a));
		uint64_t a_end = a_first + page_count(alloc_addr(a), a->size);
		uint64_t lo = a_first > first ? a_first : first;
		uint64_t hi = a_end < last ? a_end : last;

		/* the callback may not end blocks, but take no chances */
		next = interval_index__next(l->live, node);
		if (on_gap && lo > covered_until)
			on_gap(l, covered_until, lo - covered_until, ctx);
		if (on_block && hi > lo)
			on_block(l, a, lo, hi - lo, ctx);
		if (hi > covered_until)
			covered_until = hi;
	}
	if (on_gap && last > covered_until)
		on_gap(l, covered_until, last - covered_until, ctx);
}

/* ---- faults ------------------------------------------------------- */

bool ledger__huge_zero_eligible(const struct kernel_facts *kernel,
				const struct mapping *map, uint64_t addr,
				bool block_empty, bool target_thp_allowed)
{
	uint64_t block = addr & ~(HUGE_PAGES * PAGE_SIZE_4K - 1);

	if (!kernel->zero_page_on_read || !kernel->thp_use_zero_page ||
	    !target_thp_allowed || !block_empty || !map)
		return false;
	if (map->kind != MAPPING_ANON && map->kind != MAPPING_HEAP)
		return false;
	if (!strcmp(kernel->thp_enabled, "always")) {
		if (map->flags & MAPPING_NOHUGEPAGE)
			return false;
	} else if (!strcmp(kernel->thp_enabled, "madvise")) {
		if (!(map->flags & MAPPING_HUGEPAGE))
			return false;
	} else {
		return false;
	}
	/* the whole aligned 2 MiB must lie inside the mapping */
	return block >= map->start &&
	       block + HUGE_PAGES * PAGE_SIZE_4K <= map->end;
}

/* prctl(PR_SET_THP_DISABLE) of the target, read again at most once a
 * second: only read faults that could map a huge zero page ask */
static bool target_thp_allowed(struct ledger *l)
{
	uint64_t now = procfs__now_ns();

	if (!l->thp_checked_ns || now - l->thp_checked_ns > 1000000000ULL) {
		l->thp_allowed = kernel__target_thp_allowed(l->pid);
		l->thp_checked_ns = now;
	}
	return l->thp_allowed;
}

/* How many pages a zero-page read fault mapped: 512 for a huge zero
 * page, which only an empty, THP-eligible 2 MiB block can get. */
static uint64_t zero_fault_pages(struct ledger *l, uint64_t addr,
				 uint64_t *first)
{
	uint64_t block = first_page_of(addr) & ~(HUGE_PAGES - 1);
	const struct mapping *map = mappings__find(l->maps, addr);
	struct page_counts counts = { { 0 } };

	*first = first_page_of(addr);
	if (!ledger__huge_zero_eligible(l->kernel, map, addr, true, true))
		return 1;
	pagestate__count(l->pages, block, HUGE_PAGES, &counts);
	if (counts.pages[PAGE_ABSENT] != HUGE_PAGES || !target_thp_allowed(l))
		return 1;
	*first = block;
	return HUGE_PAGES;
}

static enum by_kind by_of_outcome(uint32_t outcome)
{
	switch (outcome) {
	case PT_OUT_ZERO:
		return BY_ZERO;
	case PT_OUT_THP:
		return BY_THP;
	case PT_OUT_COW_ZERO:
	case PT_OUT_COW:
		return BY_COW;
	case PT_OUT_FILE:
		return BY_FILE;
	case PT_OUT_SWAP:
		return BY_SWAP;
	default:
		return BY_ANON;
	}
}

static bool in_special_mapping(struct ledger *l, uint64_t addr)
{
	const struct mapping *map = mappings__lookup(l->maps, addr);

	return map && map->kind == MAPPING_SPECIAL;
}

/*
 * Set the pages the fault populated; returns how many changed, and the
 * outcome as the ledger sees it: a read that changed nothing is the zero
 * page only for anonymous memory whose page was not there yet (else a
 * NUMA hint fault, a lost race, [vvar]).
 */
static uint32_t apply_fault(struct ledger *l, const struct pt_rec_fault *rec,
			    uint64_t *first, uint64_t *count)
{
	const struct mapping *map;
	uint64_t span = rec->pages ? rec->pages : 1, changed = 0;

	*first = first_page_of(rec->addr);
	*count = 0;
	switch (rec->outcome) {
	case PT_OUT_ZERO:
		map = mappings__find(l->maps, rec->addr);
		if (map && map->kind != MAPPING_ANON &&
		    map->kind != MAPPING_HEAP && map->kind != MAPPING_STACK)
			return PT_OUT_NONE;
		span = zero_fault_pages(l, rec->addr, first);
		pagestate__fill(l->pages, *first, span, PAGE_ZERO, &changed);
		if (!changed)
			return PT_OUT_NONE;
		*count = span;
		return PT_OUT_ZERO;
	case PT_OUT_ANON:
	case PT_OUT_THP:
	case PT_OUT_COW_ZERO:
	case PT_OUT_COW:
	case PT_OUT_SWAP:
		/* a folio of 2^order pages is naturally aligned */
		*first &= ~(span - 1);
		*count = span;
		pagestate__set(l->pages, *first, span, PAGE_RESIDENT, NULL);
		return rec->outcome;
	case PT_OUT_FILE:
		/* file pages are not followed page by page */
		*count = rec->pages;
		return rec->outcome;
	default:
		return rec->outcome;
	}
}

struct fault_charge {
	enum by_kind kind;
	uint64_t t;
	bool in_call;
	uint64_t outside; /* pages no block covers */
	struct touch by;
};

static void charge_block(struct ledger *l, struct alloc *a, uint64_t first,
			 uint64_t count, void *ctx)
{
	struct fault_charge *fc = ctx;

	(void)first;
	alloc_add_by(a, fc->kind, count);
	/* --light: a granule's faults have no time of their own */
	if (!fc->in_call && !a->first_touch && !l->light)
		a->first_touch = fc->t;
	lg_touch(l, a, &fc->by, count, false);
}

static void count_gap(struct ledger *l, uint64_t first, uint64_t count,
		      void *ctx)
{
	struct fault_charge *fc = ctx;

	(void)l;
	(void)first;
	fc->outside += count;
}

void ledger__on_fault(struct ledger *l, const struct pt_rec_fault *rec,
		      const struct code_origin *from,
		      struct ledger_charge *charge)
{
	struct fault_charge fc = {
		.t = rec->t_start,
		.in_call = rec->flags & PT_FAULT_IN_CALL,
		.by = { .touch_site = from->site,
			.touch_stack = from->stack,
			.t = rec->t_start },
	};
	/*
	 * Where the functions that only allocate (malloc, calloc, the
	 * aligned ones) are seen only after they return, a fault the
	 * allocator's own code takes at a page no block owns (glibc writing
	 * a new block's header, calloc zeroing it) may be inside one: held
	 * until its thread's next record, charged to the block a call that
	 * is next returns, else where it fell. Any other fault of the
	 * thread's own code, a data access, means such a call has returned.
	 */
	bool maybe_in_call =
		from->allocator_code &&
		!(rec->flags & (PT_FAULT_KERNEL | PT_FAULT_IN_CALL)) &&
		rec->outcome != PT_OUT_FILE; /* never a block's page */
	struct held_thread *held;
	uint64_t first, count;
	struct alloc *owner;
	struct deferred *d;
	uint32_t outcome;

	memset(charge, 0, sizeof(*charge));
	/* (not an instruction fetch: the uprobe trampoline's page, entered
	 * on the way to the call's record, is one) */
	if (l->deferred && !maybe_in_call && !fc.in_call &&
	    !(rec->flags & PT_FAULT_KERNEL) && !(rec->error_code & PT_PF_INSTR))
		lg_settle_deferred(l, rec->hdr.tid, NULL, 0);
	if (rec->outcome >= PT_OUT__COUNT)
		return;
	if (rec->outcome == PT_OUT_ERROR) {
		l->stats.faults_by_outcome[PT_OUT_ERROR]++;
		l->stats.fault_errors++;
		charge->outcome = PT_OUT_ERROR;
		return;
	}
	outcome = apply_fault(l, rec, &first, &count);
	fc.kind = by_of_outcome(outcome);
	fc.by.outcome = outcome;
	charge->outcome = outcome;
	charge->pages = count;
	/* --light: faults are counted per site (ledger__on_fault_site()),
	 * this is one page of a granule */
	if (!l->light) {
		l->stats.faults++;
		l->stats.faults_by_outcome[outcome]++;
	}
	l->stats.pages_by_outcome[outcome] += count;
	if (rec->flags & PT_FAULT_KERNEL)
		l->stats.kernel_mode_faults++;
	if (outcome == PT_OUT_FILE) {
		/* counted against the page hit only: which others fault-around
		 * mapped is not known */
		fc.outside = count;
		count = 0;
	}
	if (count)
		lg_walk(l, first, count, charge_block, count_gap, &fc);
	owner = lg_alloc_at(l, rec->addr);
	if (owner) {
		if (!l->light) {
			owner->faults++;
			l->stats.faults_in_allocs++;
		}
		charge->alloc_id = owner->id;
		if (outcome == PT_OUT_FILE) {
			alloc_add_by(owner, BY_FILE, fc.outside);
			lg_touch(l, owner, &fc.by, fc.outside, false);
			fc.outside = 0;
		}
		lg_touch(l, owner, &fc.by, 0, true);
		if (fc.outside) {
			lg_charge_group(l, rec->addr, false, fc.kind,
					fc.outside, NULL);
			lg_touch(l, NULL, &fc.by, fc.outside, false);
		}
		return;
	}
	/* the allocator writing the header of a block it has not returned
	 * yet: charged when it returns. Not the uretprobe trampoline's
	 * page ([uprobes], special): that fault is the tracer's own. */
	if ((fc.in_call || maybe_in_call) &&
	    !in_special_mapping(l, rec->addr) &&
	    (held = lg_held(l, rec->hdr.tid, true)) &&
	    (d = calloc(1, sizeof(*d)))) {
		d->tid = rec->hdr.tid;
		d->t_start = rec->t_start;
		d->addr = rec->addr;
		d->first_page = first;
		d->npages = fc.outside;
		d->kind = fc.kind;
		d->outcome = outcome;
		d->touch_site = from->site;
		d->touch_stack = from->stack;
		d->next = l->deferred;
		l->deferred = d;
		held->count++;
		charge->deferred = true;
		/* more than a call's worth: the allocator's code faulting on
		 * and on where no block is (a memset of the program's own) */
		if (maybe_in_call && held->count > LEDGER_HELD_FAULTS)
			lg_settle_deferred(l, rec->hdr.tid, NULL, 0);
		return;
	}
	lg_charge_group(l, rec->addr, !l->light, fc.kind, fc.outside, charge);
	lg_touch(l, NULL, &fc.by, fc.outside, true);
}

/* ---- pages going back, pages populated by syscalls ---------------- */

static void snapshot_block(struct ledger *l, struct alloc *a, uint64_t first,
			   uint64_t count, void *ctx)
{
	const uint64_t *range = ctx;
	struct page_counts counts = { { 0 } };

	(void)first;
	(void)count;
	/* only blocks wholly inside, and only the first time */
	if (alloc_addr(a) < range[0] || a->node.end > range[1] ||
	    (a->flags & ALLOC_RELEASED))
		return;
	pagestate__count(l->pages, first_page_of(alloc_addr(a)),
			 page_count(alloc_addr(a), a->size), &counts);
	a->flags |= ALLOC_RELEASED;
	if (!counts.pages[PAGE_RESIDENT] && !counts.pages[PAGE_SWAPPED] &&
	    !counts.pages[PAGE_ZERO])
		return; /* nothing to keep: no cold part needed */
	if (!lg_cold(a)) {
		a->flags &= ~ALLOC_RELEASED; /* counted from the pages */
		return;
	}
	a->cold->released_resident =
		counts.pages[PAGE_RESIDENT] + counts.pages[PAGE_SWAPPED];
	a->cold->released_zero = counts.pages[PAGE_ZERO];
}

void lg_snapshot_range(struct ledger *l, uint64_t start, uint64_t end)
{
	uint64_t range[2] = { start, end };

	lg_walk(l, first_page_of(start), range_pages(start, end),
		snapshot_block, NULL, range);
}

void lg_release_range(struct ledger *l, uint64_t start, uint64_t end,
		      bool snapshot)
{
	if (start >= end)
		return;
	if (snapshot)
		lg_snapshot_range(l, start, end);
	pagestate__set(l->pages, first_page_of(start), range_pages(start, end),
		       PAGE_ABSENT, NULL);
}

struct populate_charge {
	enum page_state state;
	const struct touch *by;
	uint64_t changed_outside;
	struct ledger_charge *charge;
};

/* pages of [first, +count) that populating with pc->state will change */
static uint64_t will_change(const struct ledger *l, uint64_t first,
			    uint64_t count, enum page_state state)
{
	struct page_counts before = { { 0 } };

	pagestate__count(l->pages, first, count, &before);
	return count - before.pages[PAGE_RESIDENT] -
	       (state == PAGE_ZERO ? before.pages[PAGE_ZERO] : 0);
}

static void populate_block(struct ledger *l, struct alloc *a, uint64_t first,
			   uint64_t count, void *ctx)
{
	struct populate_charge *pc = ctx;
	uint64_t changed = will_change(l, first, count, pc->state);

	alloc_add_by(a, BY_SYSCALL, changed);
	if (changed && !a->first_touch)
		a->first_touch = pc->by->t;
	if (!pc->charge->alloc_id)
		pc->charge->alloc_id = a->id;
	lg_touch(l, a, pc->by, changed, false);
}

static void populate_gap(struct ledger *l, uint64_t first, uint64_t count,
			 void *ctx)
{
	struct populate_charge *pc = ctx;

	pc->changed_outside += will_change(l, first, count, pc->state);
}

void lg_populate(struct ledger *l, uint64_t start, uint64_t end, bool write,
		 const struct touch *by, struct ledger_charge *charge)
{
	struct populate_charge pc = {
		.state = write || !l->kernel->zero_page_on_read ?
				 PAGE_RESIDENT :
				 PAGE_ZERO,
		.by = by,
		.charge = charge,
	};
	uint64_t first = first_page_of(start), count = range_pages(start, end);
	uint64_t changed = 0;

	if (!count)
		return;
	/* charge before changing: each block the pages of it that change */
	lg_walk(l, first, count, populate_block, populate_gap, &pc);
	pagestate__fill(l->pages, first, count, pc.state, &changed);
	l->stats.syscall_pages += changed;
	charge->pages += changed;
	if (pc.changed_outside) {
		lg_charge_group(l, start, false, BY_SYSCALL, pc.changed_outside,
				charge);
		lg_touch(l, NULL, by, pc.changed_outside, false);
	}
}
