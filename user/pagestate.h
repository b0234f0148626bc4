/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the ledger believes each page of the target's address space holds,
 * two bits per page, stored in 2 MiB blocks that exist only where some
 * page is not absent. Pages are numbered by address / 4096.
 */
#ifndef PAGETRACE_PAGESTATE_H
#define PAGETRACE_PAGESTATE_H

#include <stdint.h>

enum page_state {
	PAGE_ABSENT, /* not present (never touched, or released) */
	PAGE_ZERO, /* maps the shared zero page */
	PAGE_RESIDENT, /* backed by its own memory */
	PAGE_SWAPPED,
	PAGE_STATE__COUNT,
};

struct page_counts {
	uint64_t pages[PAGE_STATE__COUNT];
};

struct pagestate;

struct pagestate *pagestate__new(void);
void pagestate__free(struct pagestate *ps);

enum page_state pagestate__get(const struct pagestate *ps, uint64_t page);
/* Set [first, first + count) to state; if before is not NULL, add the
 * states the pages had to it. 0 or -ENOMEM. */
int pagestate__set(struct pagestate *ps, uint64_t first, uint64_t count,
		   enum page_state state, struct page_counts *before);
/* Populate: RESIDENT replaces every other state, ZERO only ABSENT.
 * *changed (if not NULL) gets the number of pages that changed. */
int pagestate__fill(struct pagestate *ps, uint64_t first, uint64_t count,
		    enum page_state state, uint64_t *changed);
void pagestate__count(const struct pagestate *ps, uint64_t first,
		      uint64_t count, struct page_counts *out);
/* mremap: pages move from [from, +count) to [to, +count), the source
 * becomes absent. The ranges must not overlap. */
int pagestate__move(struct pagestate *ps, uint64_t from, uint64_t to,
		    uint64_t count);
/* Every page absent again (a new address space after exec). */
void pagestate__clear(struct pagestate *ps);
/* pages not absent, over the whole address space */
uint64_t pagestate__populated(const struct pagestate *ps);

#endif
