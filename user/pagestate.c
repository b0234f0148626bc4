// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "pagestate.h"

#define BLOCK_SHIFT 9 /* 512 pages: 2 MiB */
#define BLOCK_PAGES (1U << BLOCK_SHIFT)
#define BLOCK_WORDS (BLOCK_PAGES * 2 / 64)
#define EMPTY_KEY UINT64_MAX

struct block {
	uint64_t key; /* page >> BLOCK_SHIFT, EMPTY_KEY when the slot is free */
	uint32_t populated; /* pages not absent */
	uint64_t bits[BLOCK_WORDS];
};

struct pagestate {
	struct block *slots;
	size_t capacity; /* power of two */
	size_t used;
	uint64_t populated;
};

struct pagestate *pagestate__new(void)
{
	struct pagestate *ps = calloc(1, sizeof(*ps));

	return ps;
}

void pagestate__free(struct pagestate *ps)
{
	if (!ps)
		return;
	free(ps->slots);
	free(ps);
}

static size_t slot_of(uint64_t key, size_t capacity)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & (capacity - 1);
}

static struct block *find_block(const struct pagestate *ps, uint64_t key)
{
	size_t i;

	if (!ps->capacity)
		return NULL;
	for (i = slot_of(key, ps->capacity);;
	     i = (i + 1) & (ps->capacity - 1)) {
		if (ps->slots[i].key == key)
			return &ps->slots[i];
		if (ps->slots[i].key == EMPTY_KEY)
			return NULL;
	}
}

static int grow(struct pagestate *ps)
{
	size_t capacity = ps->capacity ? ps->capacity * 2 : 64;
	struct block *slots = malloc(capacity * sizeof(*slots));
	size_t i, j, used = 0;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < capacity; i++)
		slots[i].key = EMPTY_KEY;
	for (i = 0; i < ps->capacity; i++) {
		struct block *b = &ps->slots[i];

		/* blocks that went back to all-absent are dropped here */
		if (b->key == EMPTY_KEY || !b->populated)
			continue;
		for (j = slot_of(b->key, capacity); slots[j].key != EMPTY_KEY;
		     j = (j + 1) & (capacity - 1))
			;
		slots[j] = *b;
		used++;
	}
	free(ps->slots);
	ps->slots = slots;
	ps->capacity = capacity;
	ps->used = used;
	return 0;
}

static struct block *get_block(struct pagestate *ps, uint64_t key)
{
	struct block *b = find_block(ps, key);
	size_t i;

	if (b)
		return b;
	if ((ps->used + 1) * 4 > ps->capacity * 3 && grow(ps))
		return NULL;
	for (i = slot_of(key, ps->capacity); ps->slots[i].key != EMPTY_KEY;
	     i = (i + 1) & (ps->capacity - 1))
		;
	b = &ps->slots[i];
	memset(b, 0, sizeof(*b));
	b->key = key;
	ps->used++;
	return b;
}

static enum page_state block_get(const struct block *b, unsigned int i)
{
	return (b->bits[i / 32] >> ((i % 32) * 2)) & 3;
}

static void block_put(struct block *b, unsigned int i, enum page_state st)
{
	unsigned int shift = (i % 32) * 2;

	b->bits[i / 32] =
		(b->bits[i / 32] & ~(3ULL << shift)) | ((uint64_t)st << shift);
}

enum page_state pagestate__get(const struct pagestate *ps, uint64_t page)
{
	const struct block *b = find_block(ps, page >> BLOCK_SHIFT);

	return b ? block_get(b, page & (BLOCK_PAGES - 1)) : PAGE_ABSENT;
}

/* count states of a block's pages [lo, hi) */
static void block_count(const struct block *b, unsigned int lo, unsigned int hi,
			struct page_counts *out)
{
	unsigned int i;

	if (!b || !b->populated) {
		out->pages[PAGE_ABSENT] += hi - lo;
		return;
	}
	for (i = lo; i < hi; i++)
		out->pages[block_get(b, i)]++;
}

/* Iterate the blocks met by [first, first + count) calling fn on each
 * piece; huge sparse ranges walk the table instead of the range. */
typedef int (*piece_fn)(struct pagestate *ps, uint64_t key, unsigned int lo,
			unsigned int hi, void *ctx);

static int for_each_piece(struct pagestate *ps, uint64_t first, uint64_t count,
			  bool existing_only, piece_fn fn, void *ctx)
{
	uint64_t end = first + count, key;
	uint64_t first_key = first >> BLOCK_SHIFT;
	uint64_t last_key = (end - 1) >> BLOCK_SHIFT;
	int err;

	if (!count)
		return 0;
	if (existing_only && last_key - first_key > ps->capacity) {
		for (size_t i = 0; i < ps->capacity; i++) {
			struct block *b = &ps->slots[i];
			uint64_t lo, hi;

			if (b->key == EMPTY_KEY || b->key < first_key ||
			    b->key > last_key)
				continue;
			lo = b->key == first_key ? first & (BLOCK_PAGES - 1) :
						   0;
			hi = b->key == last_key ?
				     ((end - 1) & (BLOCK_PAGES - 1)) + 1 :
				     BLOCK_PAGES;
			err = fn(ps, b->key, lo, hi, ctx);
			if (err)
				return err;
		}
		return 0;
	}
	for (key = first_key; key <= last_key; key++) {
		unsigned int lo =
			key == first_key ? first & (BLOCK_PAGES - 1) : 0;
		unsigned int hi = key == last_key ?
					  ((end - 1) & (BLOCK_PAGES - 1)) + 1 :
					  BLOCK_PAGES;

		err = fn(ps, key, lo, hi, ctx);
		if (err)
			return err;
	}
	return 0;
}

struct set_ctx {
	enum page_state state;
	struct page_counts *before;
	uint64_t visited; /* pages met in blocks that exist */
};

static int set_piece(struct pagestate *ps, uint64_t key, unsigned int lo,
		     unsigned int hi, void *ctx)
{
	struct set_ctx *sc = ctx;
	struct block *b;
	unsigned int i;

	/* clearing needs no block where there is none */
	b = sc->state == PAGE_ABSENT ? find_block(ps, key) : get_block(ps, key);
	if (!b)
		return sc->state == PAGE_ABSENT ? 0 : -ENOMEM;
	sc->visited += hi - lo;
	for (i = lo; i < hi; i++) {
		enum page_state old = block_get(b, i);

		if (sc->before)
			sc->before->pages[old]++;
		if (old == sc->state)
			continue;
		if (old == PAGE_ABSENT) {
			b->populated++;
			ps->populated++;
		} else if (sc->state == PAGE_ABSENT) {
			b->populated--;
			ps->populated--;
		}
		block_put(b, i, sc->state);
	}
	return 0;
}

int pagestate__set(struct pagestate *ps, uint64_t first, uint64_t count,
		   enum page_state state, struct page_counts *before)
{
	struct set_ctx sc = { .state = state, .before = before };
	int err;

	err = for_each_piece(ps, first, count, state == PAGE_ABSENT, set_piece,
			     &sc);
	/* pages of blocks that do not exist were absent */
	if (before && !err)
		before->pages[PAGE_ABSENT] += count - sc.visited;
	return err;
}

struct fill_ctx {
	enum page_state state;
	uint64_t changed;
};

static int fill_piece(struct pagestate *ps, uint64_t key, unsigned int lo,
		      unsigned int hi, void *ctx)
{
	struct fill_ctx *fc = ctx;
	struct block *b = get_block(ps, key);
	unsigned int i;

	if (!b)
		return -ENOMEM;
	for (i = lo; i < hi; i++) {
		enum page_state old = block_get(b, i);

		if (old == fc->state ||
		    (fc->state == PAGE_ZERO && old != PAGE_ABSENT))
			continue;
		if (old == PAGE_ABSENT) {
			b->populated++;
			ps->populated++;
		}
		block_put(b, i, fc->state);
		fc->changed++;
	}
	return 0;
}

int pagestate__fill(struct pagestate *ps, uint64_t first, uint64_t count,
		    enum page_state state, uint64_t *changed)
{
	struct fill_ctx fc = { .state = state };
	int err = 0;

	if (state != PAGE_ABSENT)
		err = for_each_piece(ps, first, count, false, fill_piece, &fc);
	if (changed)
		*changed = fc.changed;
	return err;
}

struct count_ctx {
	struct page_counts *out;
	uint64_t seen;
};

static int count_piece(struct pagestate *ps, uint64_t key, unsigned int lo,
		       unsigned int hi, void *ctx)
{
	struct count_ctx *cc = ctx;

	block_count(find_block(ps, key), lo, hi, cc->out);
	cc->seen += hi - lo;
	return 0;
}

void pagestate__count(const struct pagestate *ps, uint64_t first,
		      uint64_t count, struct page_counts *out)
{
	struct count_ctx cc = { .out = out };
	unsigned int lo = first & (BLOCK_PAGES - 1);

	/* a small block's pages, counted at its call and at its free, lie
	 * in one block of the table: no walk (the loader's hottest spot) */
	if (count && lo + count <= BLOCK_PAGES) {
		block_count(find_block(ps, first >> BLOCK_SHIFT), lo,
			    lo + (unsigned int)count, out);
		return;
	}
	/* the walk only reads; the cast lets it share the iterator */
	for_each_piece((struct pagestate *)ps, first, count, true, count_piece,
		       &cc);
	/* blocks that do not exist hold absent pages only */
	out->pages[PAGE_ABSENT] += count - cc.seen;
}

struct key_list {
	uint64_t *keys;
	size_t count;
	size_t capacity;
};

static int collect_key(struct pagestate *ps, uint64_t key, unsigned int lo,
		       unsigned int hi, void *ctx)
{
	struct key_list *list = ctx;
	const struct block *b = find_block(ps, key);

	(void)lo;
	(void)hi;
	if (!b || !b->populated)
		return 0;
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 16;
		uint64_t *keys = realloc(list->keys, capacity * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		list->keys = keys;
		list->capacity = capacity;
	}
	list->keys[list->count++] = key;
	return 0;
}

int pagestate__move(struct pagestate *ps, uint64_t from, uint64_t to,
		    uint64_t count)
{
	struct key_list list = { 0 };
	uint64_t end = from + count;
	size_t k;
	int err;

	if (from == to || !count)
		return 0;
	if (from < to + count && to < from + count)
		return -EINVAL; /* the kernel refuses overlapping moves too */
	err = pagestate__set(ps, to, count, PAGE_ABSENT, NULL);
	/* the blocks to copy are listed first: copying grows the table */
	if (!err)
		err = for_each_piece(ps, from, count, true, collect_key, &list);
	for (k = 0; !err && k < list.count; k++) {
		struct block copy = *find_block(ps, list.keys[k]);
		uint64_t page = list.keys[k] << BLOCK_SHIFT;
		uint64_t last = page + BLOCK_PAGES;

		for (page = page < from ? from : page;
		     !err && page < last && page < end; page++) {
			enum page_state st =
				block_get(&copy, page & (BLOCK_PAGES - 1));

			if (st != PAGE_ABSENT)
				err = pagestate__set(ps, page - from + to, 1,
						     st, NULL);
		}
	}
	free(list.keys);
	if (!err)
		err = pagestate__set(ps, from, count, PAGE_ABSENT, NULL);
	return err;
}

void pagestate__clear(struct pagestate *ps)
{
	free(ps->slots);
	ps->slots = NULL;
	ps->capacity = 0;
	ps->used = 0;
	ps->populated = 0;
}

uint64_t pagestate__populated(const struct pagestate *ps)
{
	return ps->populated;
}
