// SPDX-License-Identifier: GPL-2.0
/*
 * The ledger's held faults: faults the allocator's code took at pages no
 * block owned, kept by thread until it is known whether a call seen
 * after it returned made them (see ledger__on_fault()), then charged to
 * that call's block or where they fell.
 */
#include <stdlib.h>
#include <string.h>
#include "ledger_internal.h"

/* A fault at addr, begun at t_start, charged to the block that held addr
 * then, else to the mapping. */
static void charge_fault_where_it_fell(struct ledger *l, uint64_t addr,
				       uint64_t t_start, const struct touch *by)
{
	struct alloc *owner = lg_alloc_at(l, addr);

	if (owner && owner->t_alloc <= t_start) {
		owner->faults++;
		l->stats.faults_in_allocs++;
		lg_touch(l, owner, by, 0, true);
	} else {
		lg_charge_group(l, addr, true, BY_ANON, 0, NULL);
		lg_touch(l, NULL, by, 0, true);
	}
}

static size_t held_home(uint32_t tid)
{
	return (size_t)(tid * 2654435761U) & (LEDGER_HELD_THREADS - 1);
}

/* tid's slot among the threads holding deferred faults; with add, made
 * if it has none. NULL if it has none, or the table is full. */
struct held_thread *lg_held(struct ledger *l, uint32_t tid, bool add)
{
	size_t at = held_home(tid), n;

	for (n = 0; n < LEDGER_HELD_THREADS;
	     n++, at = (at + 1) & (LEDGER_HELD_THREADS - 1)) {
		if (l->held[at].tid == tid)
			return &l->held[at];
		if (!l->held[at].tid) {
			if (!add)
				return NULL;
			l->held[at] = (struct held_thread){ .tid = tid };
			return &l->held[at];
		}
	}
	return NULL;
}

/* The slot at hole is freed: the slots after it that belong nearer their
 * home move back, so that every lookup still finds its thread. */
static void held_remove(struct ledger *l, size_t hole)
{
	size_t at = hole, home;

	l->held[hole].tid = 0;
	for (;;) {
		at = (at + 1) & (LEDGER_HELD_THREADS - 1);
		if (!l->held[at].tid)
			return;
		home = held_home(l->held[at].tid);
		/* its home lies cyclically in (hole, at]: it stays */
		if (hole <= at ? hole < home && home <= at :
				 hole < home || home <= at)
			continue;
		l->held[hole] = l->held[at];
		l->held[at].tid = 0;
		hole = at;
	}
}

/*
 * Did the allocator write at addr for block? Its bytes and its chunk
 * header; and for a block with a mapping of its own, its header's page:
 * glibc writes a chunk's first header at the mapping's start, and
 * memalign moves it up to the alignment, maybe within that same page (a
 * mapping that happened to start a page short of an aligned address:
 * one fault, at the first header's place).
 */
static bool made_for(const struct alloc *block, uint64_t addr)
{
	uint64_t start = alloc_addr(block);

	if (addr + GLIBC_CHUNK_HEADER >= start &&
	    addr < start + (block->size ? block->size : 1))
		return true;
	return (block->flags & ALLOC_CHUNK_MMAPPED) &&
	       first_page_of(addr) == first_page_of(start - GLIBC_CHUNK_HEADER);
}

/*
 * Charge a thread's deferred faults at addresses in [lo, hi): to block if
 * they came during the call that returned it (t_enter on) and the
 * allocator made them for it (made_for()); else where they fall now.
 * block may be NULL. How many were charged.
 */
static uint32_t settle(struct ledger *l, uint32_t tid, struct alloc *block,
		       uint64_t t_enter, uint64_t lo, uint64_t hi)
{
	struct deferred **link = &l->deferred, *d;
	uint32_t settled = 0;

	while ((d = *link)) {
		struct touch by = {
			.touch_site = d->touch_site,
			.touch_stack = d->touch_stack,
			.outcome = d->outcome,
			.t = d->t_start,
		};
		uint64_t mine = 0;

		if (d->tid != tid || d->addr < lo || d->addr >= hi) {
			link = &d->next;
			continue;
		}
		*link = d->next;
		settled++;
		if (block && d->t_start >= t_enter &&
		    made_for(block, d->addr)) {
			mine = overlap(
				first_page_of(alloc_addr(block)),
				page_count(alloc_addr(block), block->size),
				d->first_page, d->npages);
			block->faults++;
			alloc_add_by(block, d->kind, mine);
			l->stats.faults_in_allocs++;
			lg_touch(l, block, &by, mine, true);
		} else {
			charge_fault_where_it_fell(l, d->addr, d->t_start, &by);
		}
		if (d->npages > mine) {
			lg_charge_group(l, d->addr, false, d->kind,
					d->npages - mine, NULL);
			lg_touch(l, NULL, &by, d->npages - mine, false);
		}
		free(d);
	}
	return settled;
}

/* settle(), for a thread that holds deferred faults: no walk for others */
void lg_settle_deferred(struct ledger *l, uint32_t tid, struct alloc *block,
			uint64_t t_enter)
{
	struct held_thread *held = lg_held(l, tid, false);

	if (!held)
		return;
	settle(l, tid, block, t_enter, 0, UINT64_MAX);
	held_remove(l, (size_t)(held - l->held));
}

void lg_settle_range(struct ledger *l, uint32_t tid, uint64_t lo, uint64_t hi)
{
	struct held_thread *held = lg_held(l, tid, false);
	uint32_t settled;

	if (!held || lo >= hi)
		return;
	settled = settle(l, tid, NULL, 0, lo, hi);
	if (settled >= held->count)
		held_remove(l, (size_t)(held - l->held));
	else
		held->count -= settled;
}

/*
 * Does this syscall of the allocator's code give pages back (a heap
 * trim: the break lowered, or madvise over the top of a thread's heap,
 * as memalign may do inside its call after writing its block's header)?
 * Then the thread's held faults in what went back are settled where they
 * fell, the others stay held. False for any other syscall: it settles
 * them all.
 */
bool lg_gives_back(struct ledger *l, const struct pt_rec_syscall *rec,
		   uint64_t old_brk)
{
	uint64_t lo, hi;

	if (pt_syscall_failed(rec->ret))
		return false;
	if (rec->nr == PT_NR_BRK && (uint64_t)rec->ret < old_brk) {
		lo = (uint64_t)rec->ret;
		hi = old_brk;
	} else if (rec->nr == PT_NR_MADVISE) {
		lo = rec->args[0];
		hi = rec->args[0] + rec->args[1];
	} else {
		return false;
	}
	lg_settle_range(l, rec->hdr.tid, lo, hi);
	return true;
}

/* Every thread's held faults, where they fell: tracing ends, or an exec. */
void lg_settle_all_deferred(struct ledger *l)
{
	while (l->deferred)
		settle(l, l->deferred->tid, NULL, 0, 0, UINT64_MAX);
	memset(l->held, 0, sizeof(l->held));
}
