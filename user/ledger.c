// SPDX-License-Identifier: GPL-2.0
/*
 * The ledger's allocations: blocks come with allocator calls and go with
 * free, realloc or exec; their figures are handed out as alloc_view.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kernel.h"
#include "ledger_internal.h"
#include "log.h"
#include "mappings.h"

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
	l->light = cfg->light;
	l->maps = cfg->maps;
	l->kernel = cfg->kernel;
	l->on_alloc_end = cfg->on_alloc_end;
	l->on_touch = cfg->on_touch;
	l->ctx = cfg->ctx;
	l->next_id = 1;
	l->thp_allowed = true;
	l->live = interval_index__new();
	l->pages = pagestate__new();
	if (!l->live || !l->pages) {
		ledger__free(l);
		return NULL;
	}
	return l;
}

void ledger__free(struct ledger *l)
{
	struct interval_node *node;
	struct deferred *d;

	if (!l)
		return;
	if (l->live) {
		while ((node = interval_index__first(l->live))) {
			struct alloc *a =
				container_of(node, struct alloc, node);

			interval_index__remove(l->live, node);
			if (a->cold)
				free(a->cold->check);
			free(a->cold);
		}
		interval_index__free(l->live);
	}
	while (l->slab_count)
		free(l->slabs[--l->slab_count]);
	free(l->slabs);
	while ((d = l->deferred)) {
		l->deferred = d->next;
		free(d);
	}
	pagestate__free(l->pages);
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

/* ---- charging ----------------------------------------------------- */

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

void lg_charge_group(struct ledger *l, uint64_t addr, bool fault,
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

void lg_touch(struct ledger *l, const struct alloc *a, const struct touch *base,
	      uint64_t pages, bool fault)
{
	struct touch t = *base;

	if (!l->on_touch || (!pages && !fault))
		return;
	/* --light: a granule's pages have no touching site; the sites come
	 * with their counts (ledger__on_fault_site()) */
	if (l->light && !base->touch_site && base->outcome != PT_OUT__COUNT)
		return;
	t.alloc_site = a ? a->site : 0;
	t.alloc_stack = a ? a->stack_id : PT_NO_STACK;
	t.pages = pages;
	t.faults = fault;
	l->on_touch(l->ctx, &t);
}

struct alloc *lg_alloc_at(const struct ledger *l, uint64_t addr)
{
	struct interval_node *node = interval_index__find(l->live, addr);

	return node ? container_of(node, struct alloc, node) : NULL;
}

/* ---- allocations -------------------------------------------------- */

#define SLAB_ALLOCS 512 /* struct alloc slots per slab: 64 KiB */

/* A zeroed slot for a block: from the free slots, else a new slab. The
 * slots are not malloc()ed one by one: malloc's own header would add an
 * eighth to each. */
static struct alloc *alloc_new(struct ledger *l)
{
	struct alloc *a = l->free_allocs, *slab;
	void **slabs;
	size_t i;

	if (!a) {
		slabs = realloc(l->slabs, (l->slab_count + 1) * sizeof(*slabs));
		if (!slabs)
			return NULL;
		l->slabs = slabs;
		slab = malloc(SLAB_ALLOCS * sizeof(*slab));
		if (!slab)
			return NULL;
		l->slabs[l->slab_count++] = slab;
		for (i = 0; i < SLAB_ALLOCS; i++) {
			slab[i].cold = (struct alloc_cold *)l->free_allocs;
			l->free_allocs = &slab[i];
		}
		a = l->free_allocs;
	}
	l->free_allocs = (struct alloc *)a->cold;
	memset(a, 0, sizeof(*a));
	return a;
}

static void alloc_free(struct ledger *l, struct alloc *a)
{
	if (a->cold)
		free(a->cold->check);
	free(a->cold);
	a->cold = (struct alloc_cold *)l->free_allocs;
	l->free_allocs = a;
}

struct alloc_cold *lg_cold(struct alloc *a)
{
	if (!a->cold)
		a->cold = calloc(1, sizeof(*a->cold));
	return a->cold;
}

/* The argument a report shows beside the size: calloc's element count,
 * realloc's old block, the alignment; 0 for the others. */
static uint64_t alloc_arg(uint32_t fn, const __u64 *args)
{
	switch (fn) {
	case PT_FN_CALLOC:
	case PT_FN_REALLOC:
	case PT_FN_REALLOCARRAY:
	case PT_FN_ALIGNED_ALLOC:
	case PT_FN_MEMALIGN:
		return args[0];
	case PT_FN_POSIX_MEMALIGN:
		return args[1];
	default:
		return 0;
	}
}

static void view_of(const struct ledger *l, const struct alloc *a,
		    struct alloc_view *v)
{
	struct page_counts counts = { { 0 } };
	int k;

	/* every field set one by one: the view is built at every block's
	 * end, and clearing its ~250 bytes first was a tenth of it */
	v->id = a->id;
	v->pid = l->pid;
	v->tid = a->tid;
	v->fn = a->fn;
	v->addr = alloc_addr(a);
	v->size = a->size;
	v->arg = a->arg;
	v->caller = a->caller;
	v->site = a->site;
	v->stack_id = a->stack_id;
	v->chunk_size = a->chunk_size;
	v->t_alloc = a->t_alloc;
	v->chunk_known = a->flags & ALLOC_CHUNK_KNOWN;
	v->chunk_mmapped = a->flags & ALLOC_CHUNK_MMAPPED;
	v->released = false;
	v->end = ALLOC_LIVE;
	v->t_free = 0;
	v->free_tid = 0;
	v->realloc_to = 0;
	v->pages = page_count(alloc_addr(a), a->size);
	if (a->flags & ALLOC_RELEASED) {
		v->released = true;
		v->resident_pages = a->cold ? a->cold->released_resident : 0;
		v->zero_pages = a->cold ? a->cold->released_zero : 0;
	} else {
		pagestate__count(l->pages, first_page_of(alloc_addr(a)),
				 v->pages, &counts);
		/* swapped pages hold memory too, elsewhere */
		v->resident_pages = counts.pages[PAGE_RESIDENT] +
				    counts.pages[PAGE_SWAPPED];
		v->zero_pages = counts.pages[PAGE_ZERO];
	}
	v->untouched_pages = v->pages - v->resident_pages - v->zero_pages;
	v->resident_at_alloc = a->resident_at_alloc;
	v->faults = a->faults;
	v->first_touch_ns = -1;
	if (a->first_touch)
		v->first_touch_ns =
			a->first_touch > a->t_alloc ?
				(int64_t)(a->first_touch - a->t_alloc) :
				0;
	for (k = 0; k < BY__COUNT; k++)
		v->by[k] = alloc_by(a, k);
	v->realloc_from = a->cold ? a->cold->realloc_from : 0;
	v->check = a->cold ? a->cold->check : NULL;
}

void lg_end_alloc(struct ledger *l, struct alloc *a, enum alloc_end end,
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
	alloc_free(l, a);
}

static void report_failed(struct ledger *l, const struct pt_rec_call *rec,
			  uint64_t size, const struct code_origin *from)
{
	struct alloc_view v = {
		.id = l->next_id++,
		.pid = l->pid,
		.tid = rec->hdr.tid,
		.fn = rec->fn,
		.end = ALLOC_FAILED,
		.size = size,
		.caller = rec->caller,
		.site = from->site,
		.stack_id = from->stack,
		.t_alloc = rec->hdr.ts,
		.first_touch_ns = -1,
	};

	v.arg = alloc_arg(rec->fn, rec->args);
	l->stats.failed++;
	if (l->on_alloc_end)
		l->on_alloc_end(l->ctx, &v);
}

struct alloc *lg_find_block(const struct ledger *l, uint64_t addr)
{
	struct alloc *a = lg_alloc_at(l, addr);

	return a && alloc_addr(a) == addr ? a : NULL;
}

struct alloc *lg_new_alloc(struct ledger *l, const struct pt_rec_call *rec,
			   uint64_t size, const struct code_origin *from)
{
	uint64_t end = rec->addr + (size ? size : 1);
	struct page_counts counts = { { 0 } };
	struct interval_node *stale;
	struct alloc *a = alloc_new(l);

	if (!a)
		return NULL;
	/*
	 * A live block where the new one lies: its free was never seen; or
	 * its realloc, under way in another thread, had moved it away and
	 * this call took the range before that realloc returned (its record
	 * will not find the block, now another's).
	 */
	while ((stale = interval_index__first_overlap(l->live, rec->addr,
						      end))) {
		struct alloc *old = container_of(stale, struct alloc, node);

		if (old->flags & ALLOC_LEAVING) {
			lg_end_alloc(l, old, ALLOC_REALLOCATED, rec->hdr.ts, 0,
				     0);
			continue;
		}
		l->stats.overlapped++;
		lg_end_alloc(l, old, ALLOC_OVERLAPPED, rec->hdr.ts, 0, 0);
	}
	a->id = l->next_id++;
	a->size = size;
	a->arg = alloc_arg(rec->fn, rec->args);
	a->caller = rec->caller;
	a->site = from->site;
	a->stack_id = from->stack;
	a->chunk_size = rec->chunk_size;
	a->t_alloc = rec->hdr.ts;
	a->tid = rec->hdr.tid;
	a->fn = rec->fn;
	if (rec->flags & PT_CALL_CHUNK_KNOWN)
		a->flags |= ALLOC_CHUNK_KNOWN;
	if (rec->flags & PT_CALL_CHUNK_MMAPPED)
		a->flags |= ALLOC_CHUNK_MMAPPED;
	pagestate__count(l->pages, first_page_of(rec->addr),
			 page_count(rec->addr, size), &counts);
	a->resident_at_alloc = counts.pages[PAGE_RESIDENT];
	if (interval_index__insert(l->live, &a->node, rec->addr, end)) {
		alloc_free(l, a);
		return NULL;
	}
	l->stats.allocs++;
	l->stats.bytes_requested += size;
	return a;
}

void ledger__on_call(struct ledger *l, const struct pt_rec_call *rec,
		     const struct code_origin *from)
{
	bool is_realloc =
		rec->fn == PT_FN_REALLOC || rec->fn == PT_FN_REALLOCARRAY;
	uint64_t size = pt_requested_size(rec->fn, rec->args);
	uint64_t old_id = 0;
	struct alloc *old = NULL, *a;

	if (is_realloc && rec->args[0]) {
		old = lg_find_block(l, rec->args[0]);
		/* another thread got the address after realloc freed it */
		if (old && old->t_alloc > rec->t_enter)
			old = NULL;
	}
	if (!rec->addr && is_realloc && rec->args[0] && size == 0) {
		/* glibc's realloc(p, 0) frees p and returns NULL */
		l->stats.frees++;
		if (old)
			lg_end_alloc(l, old, ALLOC_FREED, rec->hdr.ts,
				     rec->hdr.tid, 0);
		lg_settle_deferred(l, rec->hdr.tid, NULL, 0);
		return;
	}
	if (!rec->addr) {
		lg_settle_deferred(l, rec->hdr.tid, NULL, 0);
		report_failed(l, rec, size, from);
		return;
	}
	if (old) {
		old_id = old->id;
		/* next_id: the id the new block is about to take */
		lg_end_alloc(l, old, ALLOC_REALLOCATED, rec->hdr.ts,
			     rec->hdr.tid, size < l->min_size ? 0 : l->next_id);
	}
	if (size < l->min_size) {
		/* shrunk below --min-size: its free will not be reported */
		lg_settle_deferred(l, rec->hdr.tid, NULL, 0);
		return;
	}
	a = lg_new_alloc(l, rec, size, from);
	if (!a) {
		log__warn("ledger: cannot index the block at 0x%llx",
			  (unsigned long long)rec->addr);
		lg_settle_deferred(l, rec->hdr.tid, NULL, 0);
		return;
	}
	if (old_id && lg_cold(a))
		a->cold->realloc_from = old_id;
	/* seen after it returned: the thread's faults held since its last
	 * record came inside it (see ledger__on_fault()) */
	lg_settle_deferred(l, rec->hdr.tid, a,
			   rec->flags & PT_CALL_SEEN_AFTER ? 0 : rec->t_enter);
}

void ledger__on_free(struct ledger *l, const struct pt_rec_free *rec)
{
	struct alloc *a = lg_find_block(l, rec->addr);

	l->stats.frees++;
	lg_settle_deferred(l, rec->hdr.tid, NULL, 0);
	if (!a) {
		l->stats.unknown_frees++;
		return;
	}
	if (rec->flags & PT_CALL_CHUNK_KNOWN) {
		a->flags |= ALLOC_CHUNK_KNOWN;
		if (rec->flags & PT_CALL_CHUNK_MMAPPED)
			a->flags |= ALLOC_CHUNK_MMAPPED;
	}
	lg_end_alloc(l, a, ALLOC_FREED, rec->hdr.ts, rec->hdr.tid, 0);
}

void ledger__on_syscall(struct ledger *l, const struct pt_rec_syscall *rec,
			const struct code_origin *from,
			struct ledger_charge *charge)
{
	struct touch by = {
		.touch_site = from->site,
		.touch_stack = from->stack,
		.outcome = PT_OUT__COUNT,
		.t = rec->hdr.ts,
	};
	uint64_t old_brk = rec->nr == PT_NR_BRK ? lg_heap_end(l) : 0;

	memset(charge, 0, sizeof(*charge));
	/* faults held in case a call seen after it returned made them: the
	 * thread made a syscall of its own since. Not when the allocator's
	 * code gives pages back (a memalign trims the heap after writing its
	 * block's header): then only those in what went back */
	if (l->deferred && !(rec->flags & PT_SYS_IN_CALL)) {
		if (!from->allocator_code || !lg_gives_back(l, rec, old_brk))
			lg_settle_deferred(l, rec->hdr.tid, NULL, 0);
	}
	lg_light_before_syscall(l, rec, old_brk);
	lg_on_syscall(l, rec, &by, charge);
	lg_light_after_syscall(l, rec, &by, old_brk);
}

/* ---- lifecycle ---------------------------------------------------- */

static void end_all(struct ledger *l, enum alloc_end end, uint64_t t)
{
	struct interval_node *node;

	while ((node = interval_index__first(l->live)))
		lg_end_alloc(l, container_of(node, struct alloc, node), end, t,
			     0, 0);
}

void ledger__on_task(struct ledger *l, const struct pt_rec_task *rec)
{
	switch (rec->kind) {
	case PT_TASK_EXEC:
		/* a new address space: nothing of the old one survives */
		lg_settle_all_deferred(l);
		end_all(l, ALLOC_EXEC, rec->hdr.ts);
		pagestate__clear(l->pages);
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
	return pagestate__set(l->pages, first_page_of(start),
			      range_pages(start, end),
			      zero ? PAGE_ZERO : PAGE_RESIDENT, NULL);
}

uint64_t ledger__block_id(const struct ledger *l, uint64_t addr)
{
	struct alloc *a = lg_find_block(l, addr);

	return a ? a->id : 0;
}

bool ledger__block_mmapped(const struct ledger *l, uint64_t addr)
{
	struct alloc *a = lg_find_block(l, addr);

	return a && (a->flags & ALLOC_CHUNK_MMAPPED);
}

void ledger__finish(struct ledger *l)
{
	lg_settle_all_deferred(l);
	end_all(l, ALLOC_LIVE, 0);
}
