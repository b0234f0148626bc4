// SPDX-License-Identifier: GPL-2.0
/*
 * --light: allocations without allocator probes. The blocks big enough to
 * matter get a mapping of their own from glibc's malloc (at least
 * M_MMAP_THRESHOLD, 128 KiB to 32 MiB) or grow the heap: the ledger
 * follows the anonymous mappings threads make and the heap's growth, and
 * turns a mapping into the malloc block it holds once the kernel side has
 * read glibc's chunk header (struct pt_rec_chunk). Faults come as
 * granules of page outcomes (struct pt_rec_pages), read in the kernel.
 */
#include <string.h>
#include "ledger_internal.h"

const char *ledger__fn_name(uint32_t fn)
{
	switch (fn) {
	case ALLOC_FN_MMAP:
		return "mmap";
	case ALLOC_FN_HEAP:
		return "brk";
	case ALLOC_FN_CHUNK:
		return "mmapped_chunk";
	default:
		return decode__fn_name(fn);
	}
}

/* glibc's mmapped chunk: [prev_size, size | IS_MMAPPED], then the block */
#define CHUNK_HEADER_BYTES 16
#define CHUNK_FLAG_BITS 7ULL

static bool is_light_block(const struct alloc *a)
{
	return a->fn == ALLOC_FN_MMAP || a->fn == ALLOC_FN_HEAP ||
	       a->fn == ALLOC_FN_CHUNK;
}

/* Where the block's mapping (or heap growth) starts. */
static uint64_t base_of(const struct alloc *a)
{
	return a->fn == ALLOC_FN_CHUNK ? alloc_addr(a) - CHUNK_HEADER_BYTES :
					 alloc_addr(a);
}

static struct alloc *new_block(struct ledger *l,
			       const struct pt_rec_syscall *rec, uint32_t fn,
			       uint64_t addr, uint64_t size,
			       const struct touch *by)
{
	struct pt_rec_call call = {
		.hdr = rec->hdr,
		.fn = fn,
		.t_enter = rec->t_start,
		.args = { size },
		.ret = addr,
		.addr = addr,
		.chunk_size = size,
		.flags = fn == ALLOC_FN_HEAP ? 0 : PT_CALL_CHUNK_MMAPPED,
	};
	struct code_origin from = { .site = by->touch_site,
				    .stack = by->touch_stack };

	if (size < l->min_size)
		return NULL;
	return lg_new_alloc(l, &call, size, &from);
}

/* End the blocks (of kind fn, 0: any) whose mappings start in [start,
 * end); realloc_to: the block a reallocated one became, 0 if none. */
static void end_blocks(struct ledger *l, uint64_t start, uint64_t end,
		       uint32_t fn, enum alloc_end how, uint64_t realloc_to,
		       const struct pt_rec_syscall *rec)
{
	struct interval_node *node;
	uint64_t lo = start;
	struct alloc *a;

	/* a chunk's block starts past its header: end + 16 finds it */
	while (lo < end && (node = interval_index__first_overlap(
				    l->live, lo,
				    end > UINT64_MAX - CHUNK_HEADER_BYTES ?
					    end :
					    end + CHUNK_HEADER_BYTES))) {
		a = container_of(node, struct alloc, node);
		lo = alloc_addr(a) + (a->size ? a->size : 1);
		if (!is_light_block(a) || (fn && a->fn != fn) ||
		    base_of(a) < start || base_of(a) >= end)
			continue;
		if (how == ALLOC_REALLOCATED) {
			l->moved_from_id = a->id;
			l->moved_fn = a->fn;
		} else {
			l->stats.frees++;
		}
		lg_end_alloc(l, a, how, rec->hdr.ts, rec->hdr.tid, realloc_to);
	}
}

/* The heap shrank to end: the growth that straddles it keeps its part. */
static void trim_heap(struct ledger *l, uint64_t end)
{
	struct alloc *a = end ? lg_alloc_at(l, end - 1) : NULL;

	if (!a || a->fn != ALLOC_FN_HEAP || alloc_addr(a) + a->size <= end)
		return;
	interval_index__remove(l->live, &a->node);
	a->size = end - alloc_addr(a);
	a->chunk_size = a->size;
	if (interval_index__insert(l->live, &a->node, alloc_addr(a), end))
		lg_end_alloc(l, a, ALLOC_OVERLAPPED, 0, 0, 0);
}

void lg_light_before_syscall(struct ledger *l, const struct pt_rec_syscall *rec,
			     uint64_t old_brk)
{
	uint64_t start = rec->args[0], len = page_align(rec->args[1]);
	uint64_t new_len = page_align(rec->args[2]);

	l->moved_from_id = 0;
	if (!l->light || pt_syscall_failed(rec->ret))
		return;
	switch (rec->nr) {
	case PT_NR_MUNMAP:
		end_blocks(l, start, start + len, 0, ALLOC_FREED, 0, rec);
		break;
	case PT_NR_MREMAP:
		/* glibc's realloc of a mmapped chunk: the block moves or
		 * changes size with its mapping, as the block about to be
		 * made (lg_light_after_syscall()) */
		end_blocks(l, start, start + 1, 0, ALLOC_REALLOCATED,
			   new_len < l->min_size ? 0 : l->next_id, rec);
		break;
	case PT_NR_MMAP:
		/* MAP_FIXED over a followed mapping */
		end_blocks(l, (uint64_t)rec->ret, (uint64_t)rec->ret + len, 0,
			   ALLOC_FREED, 0, rec);
		break;
	case PT_NR_BRK:
		/* the heap's growths past the new break go, the one across
		 * it is cut; mapped blocks are no business of brk */
		if (old_brk && (uint64_t)rec->ret < old_brk) {
			end_blocks(l, page_align(rec->ret), page_align(old_brk),
				   ALLOC_FN_HEAP, ALLOC_FREED, 0, rec);
			trim_heap(l, page_align(rec->ret));
		}
		break;
	default:
		break;
	}
}

/* brk, mmap and mremap made memory: a block for it. old_brk: the break
 * before (lg_on_syscall has moved l->brk on). */
void lg_light_after_syscall(struct ledger *l, const struct pt_rec_syscall *rec,
			    const struct touch *by, uint64_t old_brk)
{
	uint64_t new_len = page_align(rec->args[2]);
	struct alloc *a;
	uint32_t fn;

	if (!l->light || pt_syscall_failed(rec->ret))
		return;
	switch (rec->nr) {
	case PT_NR_MMAP:
		if (pt_followed_mapping(rec->args, l->min_size))
			new_block(l, rec, ALLOC_FN_MMAP, (uint64_t)rec->ret,
				  page_align(rec->args[1]), by);
		break;
	case PT_NR_BRK:
		if (old_brk && (uint64_t)rec->ret > page_align(old_brk))
			new_block(l, rec, ALLOC_FN_HEAP, page_align(old_brk),
				  page_align(rec->ret) - page_align(old_brk),
				  by);
		break;
	case PT_NR_MREMAP:
		if (!l->moved_from_id)
			break;
		fn = l->moved_fn;
		a = fn == ALLOC_FN_CHUNK ?
			    new_block(l, rec, fn,
				      (uint64_t)rec->ret + CHUNK_HEADER_BYTES,
				      new_len - CHUNK_HEADER_BYTES, by) :
			    new_block(l, rec, fn, (uint64_t)rec->ret, new_len,
				      by);
		if (a) {
			if (lg_cold(a))
				a->cold->realloc_from = l->moved_from_id;
			if (fn == ALLOC_FN_CHUNK)
				a->flags |= ALLOC_CHUNK_KNOWN;
		}
		break;
	default:
		break;
	}
}

void ledger__on_chunk(struct ledger *l, const struct pt_rec_chunk *rec)
{
	struct alloc *a = lg_find_block(l, rec->mapping);
	uint64_t size = rec->size_field & ~CHUNK_FLAG_BITS;

	/* malloc's own mapping: the whole of it is the chunk */
	if (!a || a->fn != ALLOC_FN_MMAP ||
	    !(rec->size_field & PT_GLIBC_IS_MMAPPED) ||
	    size != page_align(rec->length) || size <= CHUNK_HEADER_BYTES)
		return;
	interval_index__remove(l->live, &a->node);
	a->size = size - CHUNK_HEADER_BYTES;
	a->chunk_size = size;
	a->fn = ALLOC_FN_CHUNK;
	a->flags |= ALLOC_CHUNK_KNOWN | ALLOC_CHUNK_MMAPPED;
	if (interval_index__insert(l->live, &a->node,
				   rec->mapping + CHUNK_HEADER_BYTES,
				   rec->mapping + size))
		lg_end_alloc(l, a, ALLOC_OVERLAPPED, rec->hdr.ts, 0, 0);
}

/* The order the kernel goes through a page's outcomes: mapped, copied. */
static const uint32_t outcome_order[] = {
	PT_OUT_ZERO, PT_OUT_ANON,     PT_OUT_THP,
	PT_OUT_SWAP, PT_OUT_COW_ZERO, PT_OUT_COW,
};

void ledger__on_pages(struct ledger *l, uint64_t granule,
		      const struct pt_granule *pages)
{
	struct code_origin nowhere = { .site = 0, .stack = PT_NO_STACK };
	struct pt_rec_fault fault = {
		.hdr = { .type = PT_REC_FAULT,
			 .tid = pages->first_tid,
			 .ts = pages->first_ns },
		.t_start = pages->first_ns, /* the end of that fault */
		.pages = 1,
		.stack_id = PT_NO_STACK,
	};
	struct ledger_charge charge;
	size_t i, k;

	for (i = 0; i < PT_GRANULE_PAGES; i++) {
		if (!pages->outcomes[i])
			continue;
		fault.addr = (granule << PT_GRANULE_SHIFT) + (i << 12);
		for (k = 0; k < sizeof(outcome_order) / sizeof(*outcome_order);
		     k++) {
			if (!(pages->outcomes[i] & (1U << outcome_order[k])))
				continue;
			fault.outcome = outcome_order[k];
			ledger__on_fault(l, &fault, &nowhere, &charge);
		}
	}
}

void ledger__on_fault_site(struct ledger *l, uint64_t site, uint32_t outcome,
			   uint64_t faults, uint64_t pages)
{
	struct touch by = {
		.touch_site = site,
		.touch_stack = PT_NO_STACK,
		.outcome = outcome,
		.pages = pages,
		.faults = faults,
	};

	if (outcome >= PT_OUT__COUNT)
		return;
	l->stats.faults += faults;
	l->stats.faults_by_outcome[outcome] += faults;
	if (outcome == PT_OUT_ERROR)
		l->stats.fault_errors += faults;
	/* file pages are not in the granules: counted here */
	if (outcome == PT_OUT_FILE)
		l->stats.pages_by_outcome[outcome] += pages;
	if (l->on_touch && site)
		l->on_touch(l->ctx, &by);
}
