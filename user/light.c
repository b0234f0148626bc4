// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "pagetrace.h"
#include "rules.h"
#include "light.h"
#include "mappings.h"
#include "procfs.h"
#include "stacks.h"
#include "symbols.h"
#include "trace.h"
#include "unwind.h"

/* threads whose stack came without its syscall record yet: records of
 * other threads may come in between */
#define PENDING_SLOTS 64
#define UNWIND_DEPTH 64

struct pending {
	uint32_t tid; /* 0: free */
	uint32_t nr; /* the syscall it was copied at */
	struct code_origin from;
};

/* a live thread's tail, read before the programs went */
struct kept_tail {
	uint32_t tid;
	struct pt_thread_tail tail;
};

struct light {
	struct symbols *sym;
	const struct mappings *maps;
	struct stacks *stacks;
	const char *allocator; /* mappings name of the allocator's library */
	struct pending pending[PENDING_SLOTS];
	struct ledger *ledger; /* during light__finish() */
	bool zero_page_on_read; /* the kernel's, for light__finish() */
	const struct pt_release_log *releases; /* during light__finish() */
	uint64_t unplaced; /* open faults whose page may have gone */
	struct kept_tail *tails; /* light__read_tails() */
	size_t tail_count;
	size_t tail_capacity;
	int tails_err;
};

struct light *light__new(struct symbols *sym, const struct mappings *maps,
			 struct stacks *stacks)
{
	struct light *lt = calloc(1, sizeof(*lt));

	if (!lt)
		return NULL;
	lt->sym = sym;
	lt->maps = maps;
	lt->stacks = stacks;
	return lt;
}

void light__free(struct light *lt)
{
	if (!lt)
		return;
	free(lt->tails);
	free(lt);
}

void light__set_allocator(struct light *lt, const char *path)
{
	lt->allocator = path;
}

static int rule_at(void *ctx, uint64_t pc, struct frame_rule *rule)
{
	struct light *lt = ctx;

	return symbols__frame_rule(
		lt->sym, symbols__locate(lt->sym, lt->maps, pc), rule);
}

static const char *mapping_name(struct light *lt, uint64_t addr)
{
	const struct mapping *m = mappings__find(lt->maps, addr);

	return m ? m->name : NULL;
}

/*
 * The frames past the allocator's: a big malloc reaches mmap through
 * malloc, _int_malloc, sysmalloc and the mmap wrapper, all in glibc; the
 * first frame outside is the allocating code, as the allocator's caller
 * is in the default mode. A stack that does not start in the allocator's
 * library (a raw syscall) starts at its leaf.
 */
static size_t allocator_frames(struct light *lt, const uint64_t *frames,
			       size_t count)
{
	const char *leaf = mapping_name(lt, frames[0]);
	size_t skip = 0;

	/* interned names: equal names are the same pointer */
	if (!lt->allocator || leaf != lt->allocator)
		return 0;
	while (skip < count - 1 && mapping_name(lt, frames[skip]) == leaf)
		skip++;
	return skip;
}

void light__on_user_stack(struct light *lt, const struct pt_rec_ustack *rec)
{
	struct unwind_regs regs = { .ip = rec->ip,
				    .sp = rec->sp,
				    .bp = rec->bp };
	uint64_t frames[UNWIND_DEPTH];
	struct code_loc locs[UNWIND_DEPTH];
	struct pending *p = &lt->pending[rec->hdr.tid % PENDING_SLOTS];
	size_t n, skip, first, i;

	n = unwind__stack(&regs, rec->stack, rec->size, rule_at, lt, frames,
			  UNWIND_DEPTH);
	if (!n)
		return;
	skip = allocator_frames(lt, frames, n);
	/* an allocation's stack keeps the allocator's outermost frame as
	 * frame 0, as the default mode's: reports show it from frame 1 */
	first = skip ? skip - 1 : 0;
	for (i = first; i < n; i++)
		locs[i - first] = symbols__locate(lt->sym, lt->maps, frames[i]);
	p->tid = rec->hdr.tid;
	p->nr = rec->nr;
	p->from.site = code_loc__pack(locs[skip - first]);
	p->from.stack = stacks__add(lt->stacks, locs, n - first);
}

bool light__take_origin(struct light *lt, uint32_t tid, uint32_t nr,
			struct code_origin *from)
{
	struct pending *p = &lt->pending[tid % PENDING_SLOTS];

	if (!tid || p->tid != tid)
		return false;
	p->tid = 0;
	/* the syscall's own record was lost: not this one's stack */
	if (p->nr != nr)
		return false;
	*from = p->from;
	p->tid = 0;
	return true;
}

static void on_granule(void *ctx, uint64_t granule,
		       const struct pt_granule *pages)
{
	struct light *lt = ctx;

	ledger__on_pages(lt->ledger, granule, pages);
}

static void on_fault_site(void *ctx, const struct pt_fault_site_key *key,
			  const struct pt_fault_site *site)
{
	struct light *lt = ctx;

	ledger__on_fault_site(
		lt->ledger,
		code_loc__pack(symbols__locate(lt->sym, lt->maps, key->ip)),
		key->outcome, site->faults, site->pages);
}

/*
 * The fault a live thread was in when tracing ended, which its next
 * event would have closed (close_fault() in bpf/faults.bpf.h): classified
 * by its evidence here, its page put in the ledger as a granule's.
 */
static void on_open_fault(struct light *lt, uint32_t tid,
			  const struct pt_fault_ctx *fault)
{
	struct pt_fault_evidence ev = {
		.zero_page_on_read = lt->zero_page_on_read,
		.error_code = fault->error_code,
		.order = fault->order,
		.alloc_pages = fault->alloc_pages,
	};
	struct pt_fault_site_key key = { .ip = fault->ip };
	struct pt_fault_site site = { .faults = 1 };
	struct pt_granule granule = { .first_ns = fault->t_start,
				      .first_tid = tid };
	uint32_t pages, first, span, i;
	uint64_t lo;

	memcpy(ev.rss_events, fault->rss_events, sizeof(ev.rss_events));
	pt_light_kernel_read(&ev, fault->flags);
	key.outcome = pt_classify_fault(&ev, &pages);
	site.pages = pages;
	on_fault_site(lt, &key, &site);
	if (!pt_in_granules(key.outcome))
		return; /* file pages are counted only */
	pt_granule_span(fault->addr, pages, &first, &span);
	lo = (fault->addr & ~((1ULL << PT_GRANULE_SHIFT) - 1)) +
	     ((uint64_t)first << 12);
	/*
	 * Not placed: pages another thread released meanwhile, as the
	 * kernel side checks; and a fault the kernel took inside a syscall,
	 * whose evidence the kernel side checks against the folio and the
	 * mapping (close_fault_if()), which are out of reach here.
	 */
	if ((fault->flags & PT_FAULT_KERNEL) ||
	    pt_released_since(lt->releases, fault->releases, lo,
			      lo + ((uint64_t)span << 12))) {
		lt->unplaced++;
		return;
	}
	if (!granule.first_ns)
		granule.first_ns = procfs__now_ns();
	for (i = 0; i < span; i++)
		granule.outcomes[(first + i) % PT_GRANULE_PAGES] |=
			(uint8_t)(1U << key.outcome);
	ledger__on_pages(lt->ledger, fault->addr >> PT_GRANULE_SHIFT, &granule);
}

static void on_thread_tail(struct light *lt, uint32_t tid,
			   const struct pt_thread_tail *tail)
{
	if (tail->tally.counts.faults)
		on_fault_site(lt, &tail->tally.key, &tail->tally.counts);
	if (tail->fault.open)
		on_open_fault(lt, tid, &tail->fault);
}

static void keep_tail(void *ctx, uint32_t tid,
		      const struct pt_thread_tail *tail)
{
	struct light *lt = ctx;
	struct kept_tail *kept;

	/* nothing to keep: no count, no open fault */
	if (!tail->tally.counts.faults && !tail->fault.open)
		return;
	if (lt->tail_count == lt->tail_capacity) {
		size_t capacity =
			lt->tail_capacity ? lt->tail_capacity * 2 : 16;

		kept = realloc(lt->tails, capacity * sizeof(*kept));
		if (!kept) {
			lt->tails_err = -ENOMEM;
			return;
		}
		lt->tails = kept;
		lt->tail_capacity = capacity;
	}
	kept = &lt->tails[lt->tail_count++];
	kept->tid = tid;
	kept->tail = *tail;
}

int light__read_tails(struct light *lt, struct trace *t)
{
	int err = trace__thread_tails(t, keep_tail, lt);

	if (err && !lt->tails_err)
		lt->tails_err = err;
	return lt->tails_err;
}

int light__finish(struct light *lt, struct trace *t, struct ledger *l,
		  bool zero_page_on_read)
{
	size_t i;
	int err;

	lt->ledger = l;
	lt->zero_page_on_read = zero_page_on_read;
	lt->releases = trace__release_log(t);
	err = trace__granules(t, on_granule, lt);
	if (!err)
		err = trace__fault_sites(t, on_fault_site, lt);
	for (i = 0; !err && i < lt->tail_count; i++)
		if (!trace__exited_late(t, lt->tails[i].tid))
			on_thread_tail(lt, lt->tails[i].tid,
				       &lt->tails[i].tail);
	if (!err)
		err = lt->tails_err;
	lt->ledger = NULL;
	lt->releases = NULL;
	return err;
}

uint64_t light__unplaced(const struct light *lt)
{
	return lt->unplaced;
}
