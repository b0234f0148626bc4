// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "ledger.h"
#include "sites.h"
#include "sites_internal.h"

static size_t bucket_of(uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 40) % BUCKETS;
}

struct sites *sites__new(struct symbols *sym, struct stacks *stacks)
{
	struct sites *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->sym = sym;
	s->stacks = stacks;
	s->random = 0x9e3779b97f4a7c15ULL;
	return s;
}

void sites__free(struct sites *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < BUCKETS; i++) {
		struct alloc_site *a, *a_next;
		struct touch_site *t, *t_next;
		struct folded *f, *f_next;
		struct frame_json *j, *j_next;

		for (a = s->alloc_buckets[i]; a; a = a_next) {
			a_next = a->next;
			free(a->delays);
			free(a->touched_by.items);
			free(a);
		}
		for (t = s->touch_buckets[i]; t; t = t_next) {
			t_next = t->next;
			free(t->hits.items);
			free(t);
		}
		for (f = s->folded_buckets[i]; f; f = f_next) {
			f_next = f->next;
			free(f);
		}
		for (j = s->frame_json_buckets[i]; j; j = j_next) {
			j_next = j->next;
			free(j);
		}
	}
	free(s);
}

void sites__count_from(struct sites *s, uint64_t t_from)
{
	s->t_from = t_from;
}

static struct alloc_site *alloc_site(struct sites *s, uint64_t site)
{
	struct alloc_site **head = &s->alloc_buckets[bucket_of(site)], *a;

	for (a = *head; a; a = a->next)
		if (a->site == site)
			return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->site = site;
	a->next = *head;
	*head = a;
	s->alloc_count++;
	return a;
}

static struct touch_site *touch_site(struct sites *s, uint64_t site)
{
	struct touch_site **head = &s->touch_buckets[bucket_of(site)], *t;

	for (t = *head; t; t = t->next)
		if (t->site == site)
			return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->site = site;
	t->next = *head;
	*head = t;
	s->touch_count++;
	return t;
}

static void add_link(struct links *links, uint64_t site, uint64_t pages)
{
	size_t i;

	for (i = 0; i < links->count; i++) {
		if (links->items[i].site == site) {
			links->items[i].pages += pages;
			return;
		}
	}
	if (links->count == links->capacity) {
		size_t capacity = links->capacity ? links->capacity * 2 : 4;
		struct link *items =
			realloc(links->items, capacity * sizeof(*items));

		if (!items)
			return;
		links->items = items;
		links->capacity = capacity;
	}
	links->items[links->count++] = (struct link){ site, pages };
}

static void add_folded(struct sites *s, const struct folded_key *key,
		       uint64_t pages)
{
	uint64_t hash = key->alloc_site ^ key->touch_site * 31 ^
			(uint64_t)(uint32_t)key->alloc_stack << 20 ^
			(uint64_t)(uint32_t)key->touch_stack;
	struct folded **head = &s->folded_buckets[bucket_of(hash)], *f;

	for (f = *head; f; f = f->next) {
		if (!memcmp(&f->key, key, sizeof(*key))) {
			f->pages += pages;
			return;
		}
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return;
	f->key = *key;
	f->pages = pages;
	f->next = *head;
	*head = f;
}

void sites__touch(struct sites *s, const struct touch *t)
{
	struct folded_key key = {
		.alloc_stack = t->alloc_stack,
		.touch_stack = t->touch_stack,
		.alloc_site = t->alloc_site,
		.touch_site = t->touch_site,
	};
	struct touch_site *ts;
	struct alloc_site *as;

	if (t->t < s->t_from)
		return;
	ts = touch_site(s, t->touch_site);
	if (!ts)
		return;
	ts->pages += t->pages;
	ts->interval_pages += t->pages;
	s->interval_pages += t->pages;
	if (t->faults) {
		ts->faults += t->faults;
		ts->interval_faults += t->faults;
		s->interval_faults += t->faults;
		if (t->outcome < PT_OUT__COUNT)
			ts->faults_by_outcome[t->outcome] += t->faults;
	} else if (t->outcome == PT_OUT__COUNT) {
		ts->syscall_pages += t->pages;
	}
	if (!t->pages)
		return;
	add_link(&ts->hits, t->alloc_site, t->pages);
	add_folded(s, &key, t->pages);
	if (t->alloc_site && (as = alloc_site(s, t->alloc_site)))
		add_link(&as->touched_by, t->touch_site, t->pages);
}

static unsigned int log2_slot(uint64_t value)
{
	unsigned int slot = 0;

	if (!value)
		return 0;
	while (value > 1 && slot < HIST_SLOTS - 2) {
		value >>= 1;
		slot++;
	}
	/* the last slot holds everything from its lower bound up */
	return slot + 1;
}

/* The delays kept for the median: all of them up to DELAY_SAMPLES, then a
 * uniform sample of them (reservoir sampling), so memory stays bounded. */
static void keep_delay(struct sites *s, struct alloc_site *a, uint64_t delay)
{
	uint64_t slot;

	if (a->delay_count < DELAY_SAMPLES) {
		if (a->delay_count == a->delay_capacity) {
			size_t capacity =
				a->delay_capacity ? a->delay_capacity * 2 : 8;
			uint64_t *delays =
				realloc(a->delays, capacity * sizeof(*delays));

			if (!delays)
				return;
			a->delays = delays;
			a->delay_capacity = capacity;
		}
		a->delays[a->delay_count++] = delay;
		return;
	}
	/* xorshift64: any fixed-seed generator will do */
	s->random ^= s->random << 13;
	s->random ^= s->random >> 7;
	s->random ^= s->random << 17;
	slot = s->random % a->touched;
	if (slot < DELAY_SAMPLES)
		a->delays[slot] = delay;
}

void sites__alloc(struct sites *s, const struct alloc_view *v)
{
	struct alloc_site *a;
	uint64_t delay;

	if (v->end == ALLOC_FAILED || v->t_alloc < s->t_from || !v->site)
		return;
	a = alloc_site(s, v->site);
	if (!a)
		return;
	a->allocs++;
	a->bytes += v->size;
	a->resident_pages += v->resident_pages;
	a->untouched_pages += v->untouched_pages;
	a->zero_pages += v->zero_pages;
	if (v->first_touch_ns < 0)
		return;
	delay = (uint64_t)v->first_touch_ns;
	a->histogram[log2_slot(delay / 1000)]++;
	if (delay > a->delay_max)
		a->delay_max = delay;
	a->touched++;
	keep_delay(s, a, delay);
}
