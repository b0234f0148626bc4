// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "interval.h"
#include "kernel.h"
#include "ledger.h"
#include "log.h"
#include "mappings.h"
#include "pagestate.h"

#define PAGE_SHIFT_4K 12
#define PAGE_SIZE_4K (1ULL << PAGE_SHIFT_4K)
#define HUGE_PAGES 512ULL /* 4 KiB pages in a 2 MiB PMD huge page */
#define GLIBC_CHUNK_HEADER 16 /* prev_size and size precede the block */
#define SYSCALL_ERROR(ret) ((ret) < 0 && (ret) >= -4095)

#define MADV_POPULATE_READ_NR 22
#define MADV_POPULATE_WRITE_NR 23
#define MADV_DONTNEED_LOCKED_NR 24
#define MLOCK_ONFAULT_FLAG 0x01
#define MCL_CURRENT_FLAG 1
#define MCL_ONFAULT_FLAG 4

/* struct alloc.flags */
#define ALLOC_CHUNK_KNOWN 0x1
#define ALLOC_CHUNK_MMAPPED 0x2
#define ALLOC_RELEASED 0x4 /* its pages were unmapped or moved away */

struct alloc {
	struct interval_node node; /* [addr, addr + max(size, 1)) */
	uint64_t id;
	uint64_t addr;
	uint64_t size;
	uint64_t args[3];
	uint64_t caller;
	uint64_t t_alloc;
	uint64_t first_touch; /* ns of the first page populated after return */
	uint64_t realloc_from;
	uint64_t resident_at_alloc;
	uint32_t by[BY__COUNT];
	uint32_t faults;
	uint32_t tid;
	uint32_t released_resident; /* counts when ALLOC_RELEASED */
	uint32_t released_zero;
	uint8_t fn;
	uint8_t flags;
};

/* A fault inside an allocator call whose block is not known yet. */
struct deferred {
	struct deferred *next;
	uint32_t tid;
	uint64_t addr;
	uint64_t first_page;
	uint64_t npages; /* pages no allocation covered */
	enum by_kind kind;
};

struct ledger {
	pid_t pid;
	uint64_t min_size;
	struct mappings *maps;
	const struct kernel_facts *kernel;
	ledger_alloc_fn on_alloc_end;
	void *ctx;
	struct interval_index *live;
	struct pagestate *pages;
	struct deferred *deferred;
	struct outside_group *groups;
	size_t group_count;
	size_t group_capacity;
	uint64_t next_id;
	uint64_t brk; /* last break seen, 0 if none */
	struct ledger_stats stats;
};

const char *ledger__by_name(enum by_kind kind)
{
	static const char *const names[BY__COUNT] = {
		[BY_ZERO] = "zero",	  [BY_ANON] = "anon",
		[BY_THP] = "thp",	  [BY_COW] = "cow",
		[BY_FILE] = "file",	  [BY_SWAP] = "swap",
		[BY_SYSCALL] = "syscall",
	};

	return kind < BY__COUNT ? names[kind] : "?";
}

const char *ledger__end_name(enum alloc_end end)
{
	switch (end) {
	case ALLOC_LIVE:
		return "live";
	case ALLOC_FREED:
		return "free";
	case ALLOC_REALLOCATED:
		return "realloc";
	case ALLOC_EXEC:
		return "exec";
	case ALLOC_OVERLAPPED:
		return "overlapped";
	case ALLOC_FAILED:
		return "failed";
	}
	return "?";
}

struct ledger *ledger__new(const struct ledger_config *cfg)
{
	struct ledger *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->pid = cfg->pid;
	l->min_size = cfg->min_size;
	l->maps = cfg->maps;
	l->kernel = cfg->kernel;
	l->on_alloc_end = cfg->on_alloc_end;
	l->ctx = cfg->ctx;
	l->next_id = 1;
	l->live = interval_index__new();
	l->pages = pagestate__new();
	if (!l->live || !l->pages) {
		ledger__free(l);
		return NULL;
	}
	return l;
}

static void free_deferred(struct ledger *l)
{
	struct deferred *d, *next;

	for (d = l->deferred; d; d = next) {
		next = d->next;
		free(d);
	}
	l->deferred = NULL;
}

void ledger__free(struct ledger *l)
{
	struct interval_node *node;

	if (!l)
		return;
	if (l->live) {
		while ((node = interval_index__first(l->live))) {
			interval_index__remove(l->live, node);
			free(container_of(node, struct alloc, node));
		}
		interval_index__free(l->live);
	}
	pagestate__free(l->pages);
	free_deferred(l);
	free(l->groups);
	free(l);
}

const struct ledger_stats *ledger__stats(const struct ledger *l)
{
	return &l->stats;
}

size_t ledger__group_count(const struct ledger *l)
{
	return l->group_count;
}

const struct outside_group *ledger__group(const struct ledger *l, size_t i)
{
	return i < l->group_count ? &l->groups[i] : NULL;
}

size_t ledger__live_count(const struct ledger *l)
{
	return interval_index__count(l->live);
}

/* ---- pages and groups ------------------------------------------- */

static uint64_t first_page_of(uint64_t addr)
{
	return addr >> PAGE_SHIFT_4K;
}

/* pages overlapping [addr, addr + size); a zero-size block holds none */
static uint64_t page_count(uint64_t addr, uint64_t size)
{
	if (!size)
		return 0;
	return ((addr + size - 1) >> PAGE_SHIFT_4K) - first_page_of(addr) + 1;
}

static uint64_t overlap(uint64_t a_first, uint64_t a_count, uint64_t b_first,
			uint64_t b_count)
{
	uint64_t lo = a_first > b_first ? a_first : b_first;
	uint64_t a_end = a_first + a_count, b_end = b_first + b_count;
	uint64_t hi = a_end < b_end ? a_end : b_end;

	return hi > lo ? hi - lo : 0;
}

static struct outside_group *group_for(struct ledger *l, uint64_t addr)
{
	const struct mapping *map = mappings__lookup(l->maps, addr);
	const char *name = map ? map->name : "[unmapped]";
	size_t i;

	/* names are interned by the mappings: compare pointers */
	for (i = 0; i < l->group_count; i++)
		if (l->groups[i].name == name)
			return &l->groups[i];
	if (l->group_count == l->group_capacity) {
		size_t capacity =
			l->group_capacity ? l->group_capacity * 2 : 16;
		struct outside_group *groups =
			realloc(l->groups, capacity * sizeof(*groups));

		if (!groups)
			return NULL;
		l->groups = groups;
		l->group_capacity = capacity;
	}
	memset(&l->groups[l->group_count], 0, sizeof(*l->groups));
	l->groups[l->group_count].name = name;
	return &l->groups[l->group_count++];
}

static void charge_group(struct ledger *l, uint64_t addr, bool fault,
			 enum by_kind kind, uint64_t pages,
			 struct ledger_charge *charge)
{
	struct outside_group *g = group_for(l, addr);

	if (!g)
		return;
	if (fault) {
		g->faults++;
		l->stats.faults_outside++;
	}
	g->pages[kind] += pages;
	if (charge)
		charge->mapping = g->name;
}

static struct alloc *alloc_at(const struct ledger *l, uint64_t addr)
{
	struct interval_node *node = interval_index__find(l->live, addr);

	return node ? container_of(node, struct alloc, node) : NULL;
}

/*
 * Charge kind to every live allocation whose pages meet [first, +count).
 * Returns the pages no allocation covers.
 */
static uint64_t charge_allocs(struct ledger *l, uint64_t first_page,
			      uint64_t count, enum by_kind kind, uint64_t t,
			      bool in_call)
{
	uint64_t start = first_page << PAGE_SHIFT_4K;
	uint64_t end = (first_page + count) << PAGE_SHIFT_4K;
	uint64_t covered_until = first_page, covered = 0;
	struct interval_node *node;

	for (node = interval_index__first_overlap(l->live, start, end);
	     node && node->start < end;
	     node = interval_index__next(l->live, node)) {
		struct alloc *a = container_of(node, struct alloc, node);
		uint64_t a_first = first_page_of(a->addr);
		uint64_t a_pages = page_count(a->addr, a->size);
		uint64_t mine = overlap(a_first, a_pages, first_page, count);
		uint64_t new_from =
			a_first > covered_until ? a_first : covered_until;

		a->by[kind] += mine;
		if (mine && !in_call && !a->first_touch)
			a->first_touch = t;
		/* neighbours can share a page: count covered pages once */
		covered += overlap(new_from,
				   a_first + a_pages > new_from ?
					   a_first + a_pages - new_from :
					   0,
				   first_page, count);
		if (a_first + a_pages > covered_until)
			covered_until = a_first + a_pages;
	}
	return count - covered;
}

/* ---- allocations -------------------------------------------------- */

static void view_of(const struct ledger *l, const struct alloc *a,
		    struct alloc_view *v)
{
	struct page_counts counts = { { 0 } };
	int k;

	memset(v, 0, sizeof(*v));
	v->id = a->id;
	v->pid = l->pid;
	v->tid = a->tid;
	v->fn = a->fn;
	v->addr = a->addr;
	v->size = a->size;
	memcpy(v->args, a->args, sizeof(v->args));
	v->caller = a->caller;
	v->t_alloc = a->t_alloc;
	v->chunk_known = a->flags & ALLOC_CHUNK_KNOWN;
	v->chunk_mmapped = a->flags & ALLOC_CHUNK_MMAPPED;
	v->pages = page_count(a->addr, a->size);
	if (a->flags & ALLOC_RELEASED) {
		v->released = true;
		v->resident_pages = a->released_resident;
		v->zero_pages = a->released_zero;
	} else {
		pagestate__count(l->pages, first_page_of(a->addr), v->pages,
				 &counts);
		/* swapped pages hold memory too, elsewhere */
		v->resident_pages = counts.pages[PAGE_RESIDENT] +
				    counts.pages[PAGE_SWAPPED];
		v->zero_pages = counts.pages[PAGE_ZERO];
	}
	v->untouched_pages = v->pages - v->resident_pages - v->zero_pages;
	v->resident_at_alloc = a->resident_at_alloc;
	v->faults = a->faults;
	v->first_touch_ns =
		a->first_touch ? (int64_t)(a->first_touch > a->t_alloc ?
						   a->first_touch - a->t_alloc :
						   0) :
				 -1;
	for (k = 0; k < BY__COUNT; k++)
		v->by[k] = a->by[k];
	v->realloc_from = a->realloc_from;
}

static void end_alloc(struct ledger *l, struct alloc *a, enum alloc_end end,
		      uint64_t t, pid_t tid, uint64_t realloc_to)
{
	struct alloc_view v;

	view_of(l, a, &v);
	v.end = end;
	v.t_free = end == ALLOC_LIVE ? 0 : t;
	v.free_tid = tid;
	v.realloc_to = realloc_to;
	/* glibc unmaps a mmapped chunk in free(); heap chunks stay resident */
	if (end == ALLOC_FREED && v.chunk_mmapped)
		v.released = true;
	interval_index__remove(l->live, &a->node);
	if (l->on_alloc_end)
		l->on_alloc_end(l->ctx, &v);
	free(a);
}

static void report_failed(struct ledger *l, const struct pt_rec_call *rec,
			  uint64_t size)
{
	struct alloc_view v = {
		.id = l->next_id++,
		.pid = l->pid,
		.tid = rec->hdr.tid,
		.fn = rec->fn,
		.end = ALLOC_FAILED,
		.size = size,
		.caller = rec->caller,
		.t_alloc = rec->hdr.ts,
		.first_touch_ns = -1,
	};

	memcpy(v.args, rec->args, sizeof(v.args));
	l->stats.failed++;
	if (l->on_alloc_end)
		l->on_alloc_end(l->ctx, &v);
}

/* Charge a thread's deferred faults: to block if they hit it (its chunk
 * header included), else where they fall now. block may be NULL. */
static void settle_deferred(struct ledger *l, uint32_t tid, struct alloc *block)
{
	struct deferred **link = &l->deferred, *d;

	while ((d = *link)) {
		if (d->tid != tid) {
			link = &d->next;
			continue;
		}
		*link = d->next;
		if (block && d->addr + GLIBC_CHUNK_HEADER >= block->addr &&
		    d->addr < block->addr + (block->size ? block->size : 1)) {
			uint64_t mine =
				overlap(first_page_of(block->addr),
					page_count(block->addr, block->size),
					d->first_page, d->npages);

			block->faults++;
			block->by[d->kind] += mine;
			l->stats.faults_in_allocs++;
			if (d->npages > mine)
				charge_group(l, d->addr, false, d->kind,
					     d->npages - mine, NULL);
		} else {
			struct alloc *owner = alloc_at(l, d->addr);

			if (owner) {
				owner->faults++;
				l->stats.faults_in_allocs++;
			} else {
				charge_group(l, d->addr, true, d->kind, 0,
					     NULL);
			}
			if (d->npages)
				charge_group(l, d->addr, false, d->kind,
					     d->npages, NULL);
		}
		free(d);
	}
}

static uint64_t saturating_mul(uint64_t a, uint64_t b)
{
	uint64_t product;

	return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
}

static uint64_t requested_size(const struct pt_rec_call *rec)
{
	switch (rec->fn) {
	case PT_FN_CALLOC:
		return saturating_mul(rec->args[0], rec->args[1]);
	case PT_FN_REALLOC:
	case PT_FN_ALIGNED_ALLOC:
	case PT_FN_MEMALIGN:
		return rec->args[1];
	case PT_FN_REALLOCARRAY:
		return saturating_mul(rec->args[1], rec->args[2]);
	case PT_FN_POSIX_MEMALIGN:
		return rec->args[2];
	default:
		return rec->args[0];
	}
}

static struct alloc *find_block(const struct ledger *l, uint64_t addr)
{
	struct alloc *a = alloc_at(l, addr);

	return a && a->addr == addr ? a : NULL;
}

static struct alloc *new_alloc(struct ledger *l, const struct pt_rec_call *rec,
			       uint64_t size)
{
	uint64_t end = rec->addr + (size ? size : 1);
	struct interval_node *stale;
	struct page_counts counts = { { 0 } };
	struct alloc *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	/* a live block where the new one lies: its free was never seen */
	while ((stale = interval_index__first_overlap(l->live, rec->addr,
						      end))) {
		l->stats.overlapped++;
		end_alloc(l, container_of(stale, struct alloc, node),
			  ALLOC_OVERLAPPED, rec->hdr.ts, 0, 0);
	}
	a->id = l->next_id++;
	a->addr = rec->addr;
	a->size = size;
	memcpy(a->args, rec->args, sizeof(a->args));
	a->caller = rec->caller;
	a->t_alloc = rec->hdr.ts;
	a->tid = rec->hdr.tid;
	a->fn = rec->fn;
	if (rec->flags & PT_CALL_CHUNK_KNOWN)
		a->flags |= ALLOC_CHUNK_KNOWN;
	if (rec->flags & PT_CALL_CHUNK_MMAPPED)
		a->flags |= ALLOC_CHUNK_MMAPPED;
	pagestate__count(l->pages, first_page_of(a->addr),
			 page_count(a->addr, size), &counts);
	a->resident_at_alloc = counts.pages[PAGE_RESIDENT];
	if (interval_index__insert(l->live, &a->node, a->addr, end)) {
		free(a);
		return NULL;
	}
	l->stats.allocs++;
	l->stats.bytes_requested += size;
	return a;
}

void ledger__on_call(struct ledger *l, const struct pt_rec_call *rec)
{
	bool is_realloc =
		rec->fn == PT_FN_REALLOC || rec->fn == PT_FN_REALLOCARRAY;
	uint64_t size = requested_size(rec);
	uint64_t old_id = 0;
	struct alloc *old = NULL, *a;

	l->stats.calls++;
	if (is_realloc && rec->args[0])
		old = find_block(l, rec->args[0]);
	if (!rec->addr) {
		/* glibc's realloc(p, 0) frees p and returns NULL */
		if (is_realloc && rec->args[0] && size == 0) {
			l->stats.frees++;
			if (old)
				end_alloc(l, old, ALLOC_FREED, rec->hdr.ts,
					  rec->hdr.tid, 0);
			settle_deferred(l, rec->hdr.tid, NULL);
			return;
		}
		settle_deferred(l, rec->hdr.tid, NULL);
		report_failed(l, rec, size);
		return;
	}
	if (old) {
		/* the id the new block will take */
		old_id = old->id;
		end_alloc(l, old, ALLOC_REALLOCATED, rec->hdr.ts, rec->hdr.tid,
			  size < l->min_size ? 0 : l->next_id);
	}
	if (size < l->min_size) {
		/* shrunk below --min-size: the kernel will not report its free
		 */
		settle_deferred(l, rec->hdr.tid, NULL);
		return;
	}
	a = new_alloc(l, rec, size);
	if (!a) {
		log__warn("ledger: cannot index the block at 0x%llx",
			  (unsigned long long)rec->addr);
		settle_deferred(l, rec->hdr.tid, NULL);
		return;
	}
	a->realloc_from = old_id;
	settle_deferred(l, rec->hdr.tid, a);
}

void ledger__on_free(struct ledger *l, const struct pt_rec_free *rec)
{
	struct alloc *a = find_block(l, rec->addr);

	l->stats.frees++;
	settle_deferred(l, rec->hdr.tid, NULL);
	if (!a) {
		l->stats.unknown_frees++;
		return;
	}
	if (rec->flags & PT_CALL_CHUNK_KNOWN) {
		a->flags |= ALLOC_CHUNK_KNOWN;
		if (rec->flags & PT_CALL_CHUNK_MMAPPED)
			a->flags |= ALLOC_CHUNK_MMAPPED;
	}
	end_alloc(l, a, ALLOC_FREED, rec->hdr.ts, rec->hdr.tid, 0);
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

/* The pages a fault populated and the state they are in now. */
static bool fault_pages(struct ledger *l, const struct pt_rec_fault *rec,
			uint64_t *first, uint64_t *count,
			enum page_state *state)
{
	uint64_t page = first_page_of(rec->addr);
	uint64_t span = rec->pages ? rec->pages : 1;

	switch (rec->outcome) {
	case PT_OUT_ZERO: {
		uint64_t block = page & ~(HUGE_PAGES - 1);
		struct page_counts counts = { { 0 } };

		pagestate__count(l->pages, block, HUGE_PAGES, &counts);
		*state = PAGE_ZERO;
		*first = page;
		*count = 1;
		if (ledger__huge_zero_eligible(
			    l->kernel, mappings__find(l->maps, rec->addr),
			    rec->addr, counts.pages[PAGE_ABSENT] == HUGE_PAGES,
			    kernel__target_thp_allowed(l->pid))) {
			*first = block;
			*count = HUGE_PAGES;
		}
		return true;
	}
	case PT_OUT_ANON:
	case PT_OUT_THP:
	case PT_OUT_COW_ZERO:
	case PT_OUT_COW:
	case PT_OUT_SWAP:
		/* a folio of 2^order pages is naturally aligned */
		*first = page & ~(span - 1);
		*count = span;
		*state = PAGE_RESIDENT;
		return true;
	default:
		/* file pages are not tracked per page; none/error change none
		 */
		return false;
	}
}

static bool in_special_mapping(struct ledger *l, uint64_t addr)
{
	const struct mapping *map = mappings__lookup(l->maps, addr);

	return map && map->kind == MAPPING_SPECIAL;
}

/* Nothing changed on a read: the zero page only if anonymous memory. */
static uint32_t refine_outcome(const struct ledger *l,
			       const struct pt_rec_fault *rec)
{
	const struct mapping *map;

	if (rec->outcome != PT_OUT_ZERO)
		return rec->outcome;
	map = mappings__find(l->maps, rec->addr);
	if (map && map->kind != MAPPING_ANON && map->kind != MAPPING_HEAP &&
	    map->kind != MAPPING_STACK)
		return PT_OUT_NONE; /* [vvar], a file page mapped meanwhile */
	return PT_OUT_ZERO;
}

void ledger__on_fault(struct ledger *l, const struct pt_rec_fault *in,
		      struct ledger_charge *charge)
{
	struct pt_rec_fault refined = *in, *rec = &refined;
	bool in_call = rec->flags & PT_FAULT_IN_CALL;
	uint64_t first = first_page_of(rec->addr), count = 0, outside;
	enum page_state state;
	enum by_kind kind;
	struct alloc *owner;
	struct deferred *d;

	memset(charge, 0, sizeof(*charge));
	if (rec->outcome >= PT_OUT__COUNT)
		return;
	rec->outcome = refine_outcome(l, rec);
	if (rec->outcome == PT_OUT_NONE)
		rec->pages = 0;
	charge->outcome = rec->outcome;
	kind = by_of_outcome(rec->outcome);
	l->stats.faults_by_outcome[rec->outcome]++;
	if (rec->outcome == PT_OUT_ERROR) {
		l->stats.fault_errors++;
		return;
	}
	l->stats.faults++;
	l->stats.pages_by_outcome[rec->outcome] += rec->pages;
	if (rec->flags & PT_FAULT_KERNEL)
		l->stats.kernel_mode_faults++;
	if (fault_pages(l, rec, &first, &count, &state)) {
		if (state == PAGE_ZERO)
			pagestate__fill(l->pages, first, count, state, NULL);
		else
			pagestate__set(l->pages, first, count, state, NULL);
	} else if (rec->outcome == PT_OUT_FILE) {
		count = rec->pages;
	}
	charge->pages = count;
	outside = count;
	if (rec->outcome != PT_OUT_FILE && count)
		outside = charge_allocs(l, first, count, kind, rec->t_start,
					in_call);
	owner = alloc_at(l, rec->addr);
	if (owner) {
		owner->faults++;
		l->stats.faults_in_allocs++;
		charge->alloc_id = owner->id;
		if (rec->outcome == PT_OUT_FILE) {
			owner->by[BY_FILE] += count;
			outside = 0;
		}
		if (outside)
			charge_group(l, rec->addr, false, kind, outside, NULL);
		return;
	}
	/* the allocator writing the header of a block it has not returned
	 * yet: charged when it returns. Not the uretprobe trampoline's
	 * page ([uprobes], special): that fault is the tracer's own. */
	if (in_call && !in_special_mapping(l, rec->addr) &&
	    (d = calloc(1, sizeof(*d)))) {
		d->tid = rec->hdr.tid;
		d->addr = rec->addr;
		d->first_page = first;
		d->npages = outside;
		d->kind = kind;
		d->next = l->deferred;
		l->deferred = d;
		charge->deferred = true;
		return;
	}
	charge_group(l, rec->addr, true, kind, outside, charge);
}

/* ---- syscalls ----------------------------------------------------- */

static uint64_t page_align(uint64_t len)
{
	return (len + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
}

/* Blocks wholly inside [start, end) keep the figures they have now: their
 * memory is about to be unmapped or moved away. */
static void snapshot_range(struct ledger *l, uint64_t start, uint64_t end)
{
	struct interval_node *node;

	for (node = interval_index__first_overlap(l->live, start, end);
	     node && node->start < end;
	     node = interval_index__next(l->live, node)) {
		struct alloc *a = container_of(node, struct alloc, node);
		struct page_counts counts = { { 0 } };

		if (a->addr < start || node->end > end ||
		    (a->flags & ALLOC_RELEASED))
			continue;
		pagestate__count(l->pages, first_page_of(a->addr),
				 page_count(a->addr, a->size), &counts);
		a->released_resident = counts.pages[PAGE_RESIDENT] +
				       counts.pages[PAGE_SWAPPED];
		a->released_zero = counts.pages[PAGE_ZERO];
		a->flags |= ALLOC_RELEASED;
	}
}

/* Memory in [start, end) goes back to the kernel. */
static void release_range(struct ledger *l, uint64_t start, uint64_t end,
			  bool snapshot)
{
	if (start >= end)
		return;
	if (snapshot)
		snapshot_range(l, start, end);
	pagestate__set(l->pages, first_page_of(start),
		       first_page_of(end - 1) - first_page_of(start) + 1,
		       PAGE_ABSENT, NULL);
}

/* A syscall populated [start, end): charge the pages that changed. */
static void populate(struct ledger *l, uint64_t start, uint64_t end, bool write,
		     uint64_t t, struct ledger_charge *charge)
{
	enum page_state state = write || !l->kernel->zero_page_on_read ?
					PAGE_RESIDENT :
					PAGE_ZERO;
	uint64_t first = first_page_of(start), count, changed = 0;
	uint64_t changed_in_blocks = 0;
	struct interval_node *node;

	if (start >= end)
		return;
	count = first_page_of(end - 1) - first + 1;
	/* charge each block the pages of it that will change */
	for (node = interval_index__first_overlap(l->live, start, end);
	     node && node->start < end;
	     node = interval_index__next(l->live, node)) {
		struct alloc *a = container_of(node, struct alloc, node);
		uint64_t a_first = first_page_of(a->addr);
		uint64_t lo = a_first > first ? a_first : first;
		uint64_t n = overlap(a_first, page_count(a->addr, a->size),
				     first, count);
		struct page_counts before = { { 0 } };
		uint64_t stay;

		if (!n)
			continue;
		pagestate__count(l->pages, lo, n, &before);
		stay = before.pages[PAGE_RESIDENT] +
		       (state == PAGE_ZERO ? before.pages[PAGE_ZERO] : 0);
		a->by[BY_SYSCALL] += n - stay;
		changed_in_blocks += n - stay;
		if (n > stay && !a->first_touch)
			a->first_touch = t;
		if (!charge->alloc_id)
			charge->alloc_id = a->id;
	}
	pagestate__fill(l->pages, first, count, state, &changed);
	l->stats.syscall_pages += changed;
	charge->pages += changed;
	/* neighbouring blocks can share a page: clamp, never negative */
	if (changed > changed_in_blocks)
		charge_group(l, start, false, BY_SYSCALL,
			     changed - changed_in_blocks, charge);
}

enum populate_mode {
	POPULATE_READ,
	POPULATE_WRITE,
	POPULATE_BY_PROT, /* mlock: writable memory is written, the rest read */
};

/* Populate every private anonymous part of [start, end). */
static void populate_mapped(struct ledger *l, uint64_t start, uint64_t end,
			    enum populate_mode mode, uint64_t t,
			    struct ledger_charge *charge)
{
	size_t i, count = mappings__count(l->maps);

	for (i = 0; i < count; i++) {
		const struct mapping *m = mappings__at(l->maps, i);
		uint64_t lo = m->start > start ? m->start : start;
		uint64_t hi = m->end < end ? m->end : end;

		if (lo >= hi ||
		    (m->kind != MAPPING_ANON && m->kind != MAPPING_HEAP &&
		     m->kind != MAPPING_STACK))
			continue;
		populate(l, lo, hi,
			 mode == POPULATE_WRITE || (mode == POPULATE_BY_PROT &&
						    (m->prot & PROT_WRITE)),
			 t, charge);
	}
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void on_mmap(struct ledger *l, const struct pt_rec_syscall *rec,
		    struct ledger_charge *charge)
{
	uint64_t start = (uint64_t)rec->ret, len = page_align(rec->args[1]);
	uint32_t prot = rec->args[2], flags = rec->args[3];
	bool anonymous = flags & MAP_ANONYMOUS;
	bool shared = (flags & MAP_TYPE) != MAP_PRIVATE;
	struct mapping map = {
		.start = start,
		.end = start + len,
		.prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
		.flags = shared ? MAPPING_SHARED : 0,
	};
	const struct mapping *before = mappings__find(l->maps, start);
	const char *known =
		before && before->kind == MAPPING_FILE ? before->name : NULL;

	release_range(l, map.start, map.end, true);
	if (anonymous) {
		map.kind = shared ? MAPPING_SHMEM : MAPPING_ANON;
		map.name = mappings__intern(l->maps,
					    shared ? "[shmem]" : "[anon]");
	} else {
		map.kind = MAPPING_FILE;
		map.name = mappings__file_name(l->maps, start);
		/* gone before we looked: the full path known for this place
		 * (/proc read ahead of the events), else the kernel's name */
		if (!map.name && known && rec->file[0] &&
		    !strcmp(base_name(known), rec->file))
			map.name = known;
		if (!map.name)
			map.name = mappings__intern(
				l->maps, rec->file[0] ? rec->file : "[file]");
	}
	mappings__map(l->maps, &map);
	if (!(flags & MAP_POPULATE) || (flags & MAP_NONBLOCK))
		return;
	if (anonymous && !shared)
		populate(l, map.start, map.end, prot & PROT_WRITE, rec->hdr.ts,
			 charge);
	else
		charge_group(l, start, false, BY_SYSCALL, rec->alloc_pages,
			     charge);
}

static void on_mremap(struct ledger *l, const struct pt_rec_syscall *rec)
{
	uint64_t old = rec->args[0], new = (uint64_t)rec->ret;
	uint64_t old_len = page_align(rec->args[1]);
	uint64_t new_len = page_align(rec->args[2]);
	uint64_t kept = old_len < new_len ? old_len : new_len;

	if (new == old) {
		release_range(l, old + new_len, old + old_len, true);
	} else if (old_len) {
		/* the pages travel with the mapping: no fault at the new place
		 */
		snapshot_range(l, old, old + old_len);
		release_range(l, new, new + new_len, true);
		pagestate__move(l->pages, first_page_of(old),
				first_page_of(new), kept >> PAGE_SHIFT_4K);
		release_range(l, old + kept, old + old_len, false);
	}
	mappings__remap(l->maps, old, old_len, new, new_len);
}

static void on_madvise(struct ledger *l, const struct pt_rec_syscall *rec,
		       struct ledger_charge *charge)
{
	uint64_t start = rec->args[0], end = start + page_align(rec->args[1]);

	switch ((int64_t)rec->args[2]) {
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_REMOVE:
	case MADV_DONTNEED_LOCKED_NR:
		release_range(l, start, end, false);
		break;
	case MADV_HUGEPAGE:
		mappings__set_flags(l->maps, start, end, MAPPING_HUGEPAGE,
				    MAPPING_NOHUGEPAGE);
		break;
	case MADV_NOHUGEPAGE:
		mappings__set_flags(l->maps, start, end, MAPPING_NOHUGEPAGE,
				    MAPPING_HUGEPAGE);
		break;
	case MADV_POPULATE_READ_NR:
		populate_mapped(l, start, end, POPULATE_READ, rec->hdr.ts,
				charge);
		break;
	case MADV_POPULATE_WRITE_NR:
		populate_mapped(l, start, end, POPULATE_WRITE, rec->hdr.ts,
				charge);
		break;
	default:
		break;
	}
}

void ledger__on_syscall(struct ledger *l, const struct pt_rec_syscall *rec,
			struct ledger_charge *charge)
{
	uint64_t start = rec->args[0], len = page_align(rec->args[1]);

	memset(charge, 0, sizeof(*charge));
	if (SYSCALL_ERROR(rec->ret))
		return;
	switch (rec->nr) {
	case SYS_NR_MMAP:
		on_mmap(l, rec, charge);
		break;
	case SYS_NR_MUNMAP:
		release_range(l, start, start + len, true);
		mappings__unmap(l->maps, start, start + len);
		break;
	case SYS_NR_MREMAP:
		on_mremap(l, rec);
		break;
	case SYS_NR_BRK: {
		uint64_t new_brk = (uint64_t)rec->ret;

		if (l->brk && new_brk < l->brk)
			release_range(l, page_align(new_brk),
				      page_align(l->brk), true);
		l->brk = new_brk;
		mappings__set_brk(l->maps, new_brk);
		break;
	}
	case SYS_NR_MADVISE:
		on_madvise(l, rec, charge);
		break;
	case SYS_NR_MPROTECT:
		mappings__protect(l->maps, start, start + len,
				  rec->args[2] &
					  (PROT_READ | PROT_WRITE | PROT_EXEC));
		break;
	case SYS_NR_MLOCK2:
		if (rec->args[2] & MLOCK_ONFAULT_FLAG)
			break;
		/* fall through */
	case SYS_NR_MLOCK:
		populate_mapped(l, start, start + len, POPULATE_BY_PROT,
				rec->hdr.ts, charge);
		break;
	case SYS_NR_MLOCKALL:
		if ((rec->args[0] & MCL_CURRENT_FLAG) &&
		    !(rec->args[0] & MCL_ONFAULT_FLAG))
			populate_mapped(l, 0, UINT64_MAX, POPULATE_BY_PROT,
					rec->hdr.ts, charge);
		break;
	default:
		/* another syscall populated pages (get_user_pages) */
		l->stats.other_syscall_pages += rec->alloc_pages;
		charge->pages = rec->alloc_pages;
		break;
	}
}

/* ---- lifecycle ---------------------------------------------------- */

static void end_all(struct ledger *l, enum alloc_end end, uint64_t t)
{
	struct interval_node *node;

	while ((node = interval_index__first(l->live)))
		end_alloc(l, container_of(node, struct alloc, node), end, t, 0,
			  0);
}

static void settle_all_deferred(struct ledger *l)
{
	while (l->deferred)
		settle_deferred(l, l->deferred->tid, NULL);
}

void ledger__on_task(struct ledger *l, const struct pt_rec_task *rec)
{
	switch (rec->kind) {
	case PT_TASK_EXEC:
		/* a new address space: nothing of the old one survives */
		settle_all_deferred(l);
		end_all(l, ALLOC_EXEC, rec->hdr.ts);
		pagestate__free(l->pages);
		l->pages = pagestate__new();
		l->brk = 0;
		l->stats.execs++;
		if (mappings__load(l->maps))
			log__debug("cannot reload the mappings after exec");
		break;
	case PT_TASK_FORK:
		l->stats.forks++;
		break;
	case PT_TASK_EXIT:
		l->stats.exited = true;
		l->stats.exit_code = rec->exit_code;
		break;
	default:
		break;
	}
}

int ledger__mark_present(struct ledger *l, uint64_t start, uint64_t end,
			 bool zero)
{
	if (start >= end)
		return 0;
	return pagestate__set(l->pages, first_page_of(start),
			      first_page_of(end - 1) - first_page_of(start) + 1,
			      zero ? PAGE_ZERO : PAGE_RESIDENT, NULL);
}

uint64_t ledger__block_id(const struct ledger *l, uint64_t addr)
{
	struct alloc *a = find_block(l, addr);

	return a ? a->id : 0;
}

void ledger__finish(struct ledger *l)
{
	settle_all_deferred(l);
	end_all(l, ALLOC_LIVE, 0);
}
