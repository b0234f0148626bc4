// SPDX-License-Identifier: GPL-2.0
/*
 * --verify: the ledger's pages, inferred from events, against the page
 * tables the kernel reports. A difference is a pagetrace bug or a lost
 * event; each allocation's result goes into its record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ledger_internal.h"

/* What the page tables hold for each page of a block. */
struct table_pages {
	uint64_t first; /* page number */
	uint64_t count;
	uint8_t *state; /* enum page_state per page */
	struct pagetable_counts counts;
};

static void note_run(void *ctx, uint64_t start, uint64_t end,
		     unsigned int categories)
{
	struct table_pages *tp = ctx;
	uint64_t page = start >> PAGE_SHIFT_4K, last = end >> PAGE_SHIFT_4K;
	enum page_state state = PAGE_ABSENT;

	if (categories & PAGE_CAT_ZERO)
		state = PAGE_ZERO;
	else if (categories & PAGE_CAT_PRESENT)
		state = PAGE_RESIDENT;
	else if (categories & PAGE_CAT_SWAPPED)
		state = PAGE_SWAPPED;
	pagetable__add_run(&tp->counts, start, end, categories);
	for (; page < last; page++)
		if (page >= tp->first && page < tp->first + tp->count)
			tp->state[page - tp->first] = state;
}

/* Do the ledger's and the page tables' states of a page agree? The
 * ledger does not see swap-outs: resident pages may have gone to swap. A
 * zero page cannot be told from a private one without frame numbers. */
static bool states_agree(enum page_state ledger, enum page_state table,
			 bool frames_known)
{
	if (ledger == table)
		return true;
	if (ledger == PAGE_RESIDENT && table == PAGE_SWAPPED)
		return true;
	return !frames_known && ledger == PAGE_ZERO && table == PAGE_RESIDENT;
}

static void compare(const struct ledger *l, const struct table_pages *tp,
		    struct page_check *check)
{
	struct page_mismatch *run = NULL;
	uint64_t i;

	for (i = 0; i < tp->count; i++) {
		enum page_state ledger =
			pagestate__get(l->pages, tp->first + i);
		enum page_state table = tp->state[i];

		if (states_agree(ledger, table, check->frames_known)) {
			run = NULL;
			continue;
		}
		check->mismatched_pages++;
		if (run && run->ledger_state == ledger &&
		    run->table_state == table &&
		    run->first_page + run->count == tp->first + i) {
			run->count++;
			continue;
		}
		run = NULL;
		if (check->run_count == PAGE_CHECK_RUNS)
			check->more_runs = true;
		if (check->run_count < PAGE_CHECK_RUNS) {
			run = &check->runs[check->run_count++];
			run->first_page = tp->first + i;
			run->count = 1;
			run->ledger_state = ledger;
			run->table_state = table;
		}
	}
	check->match = !check->mismatched_pages;
}

static int check_alloc(struct ledger *l, struct alloc *a, struct pagetable *pt,
		       bool late)
{
	struct table_pages tp = {
		.first = first_page_of(alloc_addr(a)),
		.count = page_count(alloc_addr(a), a->size),
	};
	struct page_check *check;
	int err;

	/* the first check stands: the block is already released after it */
	if ((a->cold && a->cold->check) || !tp.count)
		return 0;
	if (!lg_cold(a))
		return -ENOMEM;
	check = calloc(1, sizeof(*check));
	tp.state = calloc(tp.count, 1); /* PAGE_ABSENT is 0 */
	if (!check || !tp.state) {
		free(check);
		free(tp.state);
		return -ENOMEM;
	}
	err = pagetable__walk(pt, tp.first << PAGE_SHIFT_4K,
			      (tp.first + tp.count) << PAGE_SHIFT_4K, note_run,
			      &tp);
	if (err) {
		free(check);
		free(tp.state);
		return err;
	}
	tp.counts.not_present = tp.count - tp.counts.present - tp.counts.zero -
				tp.counts.swapped;
	check->table = tp.counts;
	check->late = late;
	check->frames_known = pagetable__frames_known(pt);
	compare(l, &tp, check);
	free(tp.state);
	a->cold->check = check;
	return 0;
}

int ledger__check_block(struct ledger *l, uint64_t addr, struct pagetable *pt,
			bool late)
{
	struct alloc *a = lg_find_block(l, addr);

	return a ? check_alloc(l, a, pt, late) : -ENOENT;
}

void ledger__check_live(struct ledger *l, struct pagetable *pt,
			uint64_t min_size)
{
	struct interval_node *node;

	for (node = interval_index__first(l->live); node;
	     node = interval_index__next(l->live, node)) {
		struct alloc *a = container_of(node, struct alloc, node);

		if (a->size >= min_size)
			check_alloc(l, a, pt, false);
	}
}
