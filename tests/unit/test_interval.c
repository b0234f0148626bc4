// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "interval.h"

struct item {
	struct interval_node node;
	int id;
};

static void test_insert_find(void)
{
	struct interval_index *idx = interval_index__new();
	struct item a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };

	CHECK_U64(interval_index__insert(idx, &a.node, 100, 200), 0);
	CHECK_U64(interval_index__insert(idx, &b.node, 300, 301), 0);
	CHECK_U64(interval_index__insert(idx, &c.node, 200, 300), 0);
	CHECK(interval_index__find(idx, 99) == NULL);
	CHECK(interval_index__find(idx, 100) == &a.node);
	CHECK(interval_index__find(idx, 199) == &a.node);
	CHECK(interval_index__find(idx, 200) == &c.node);
	CHECK(interval_index__find(idx, 300) == &b.node);
	CHECK(interval_index__find(idx, 301) == NULL);
	CHECK_U64(interval_index__count(idx), 3);
	interval_index__free(idx);
}

static void test_rejects_overlap_and_empty(void)
{
	struct interval_index *idx = interval_index__new();
	struct item a, b;

	CHECK_U64(interval_index__insert(idx, &a.node, 100, 200), 0);
	CHECK(interval_index__insert(idx, &b.node, 150, 250) == -EEXIST);
	CHECK(interval_index__insert(idx, &b.node, 50, 101) == -EEXIST);
	CHECK(interval_index__insert(idx, &b.node, 90, 90) == -EINVAL);
	CHECK_U64(interval_index__insert(idx, &b.node, 50, 100), 0);
	interval_index__free(idx);
}

static void test_overlap_walk(void)
{
	struct interval_index *idx = interval_index__new();
	struct item items[10];
	struct interval_node *n;
	int i, seen = 0;

	for (i = 0; i < 10; i++)
		interval_index__insert(idx, &items[i].node, i * 100,
				       i * 100 + 50);
	/* [120, 420) meets [100,150) [200,250) [300,350) [400,450) */
	for (n = interval_index__first_overlap(idx, 120, 420);
	     n && n->start < 420; n = interval_index__next(idx, n))
		seen++;
	CHECK_U64(seen, 4);
	n = interval_index__first_overlap(idx, 40, 60);
	CHECK(n == &items[0].node);
	CHECK(interval_index__first_overlap(idx, 50, 100) == NULL);
	interval_index__free(idx);
}

static void test_remove(void)
{
	struct interval_index *idx = interval_index__new();
	struct item a, b, c;

	interval_index__insert(idx, &a.node, 0, 10);
	interval_index__insert(idx, &b.node, 10, 20);
	interval_index__insert(idx, &c.node, 20, 30);
	interval_index__remove(idx, &b.node);
	CHECK(interval_index__find(idx, 15) == NULL);
	CHECK(interval_index__find(idx, 25) == &c.node);
	CHECK(interval_index__next(idx, &a.node) == &c.node);
	CHECK_U64(interval_index__count(idx), 2);
	interval_index__free(idx);
}

/* against a brute-force model, with random inserts and removals */
static void test_random_against_model(void)
{
	enum { SLOTS = 2000 };
	static struct item items[SLOTS];
	static char present[SLOTS];
	struct interval_index *idx = interval_index__new();
	unsigned int seed = 12345, i, round;

	for (round = 0; round < 20000; round++) {
		unsigned int slot = rand_r(&seed) % SLOTS;

		if (present[slot])
			interval_index__remove(idx, &items[slot].node);
		else
			CHECK_U64(interval_index__insert(idx, &items[slot].node,
							 slot * 16ULL,
							 slot * 16ULL + 8),
				  0);
		present[slot] ^= 1;
	}
	for (i = 0; i < SLOTS; i++) {
		struct interval_node *n = interval_index__find(idx, i * 16 + 4);

		CHECK(present[i] ? n == &items[i].node : n == NULL);
		CHECK(interval_index__find(idx, i * 16 + 12) == NULL);
	}
	interval_index__free(idx);
}

int main(void)
{
	RUN(test_insert_find);
	RUN(test_rejects_overlap_and_empty);
	RUN(test_overlap_walk);
	RUN(test_remove);
	RUN(test_random_against_model);
	return check_summary();
}
