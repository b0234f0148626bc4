// SPDX-License-Identifier: GPL-2.0
#include "check.h"
#include "pagestate.h"

static void test_set_and_count(void)
{
	struct pagestate *ps = pagestate__new();
	struct page_counts c = { { 0 } }, before = { { 0 } };

	CHECK_U64(pagestate__get(ps, 12345), PAGE_ABSENT);
	pagestate__set(ps, 1000, 600, PAGE_RESIDENT, &before);
	CHECK_U64(before.pages[PAGE_ABSENT], 600);
	pagestate__set(ps, 1100, 10, PAGE_ZERO, NULL);
	pagestate__count(ps, 900, 800, &c);
	CHECK_U64(c.pages[PAGE_RESIDENT], 590);
	CHECK_U64(c.pages[PAGE_ZERO], 10);
	CHECK_U64(c.pages[PAGE_ABSENT], 200);
	CHECK_U64(pagestate__populated(ps), 600);
	pagestate__free(ps);
}

static void test_fill_does_not_downgrade(void)
{
	struct pagestate *ps = pagestate__new();
	uint64_t changed;

	pagestate__set(ps, 0, 4, PAGE_RESIDENT, NULL);
	pagestate__fill(ps, 0, 8, PAGE_ZERO, &changed);
	CHECK_U64(changed, 4); /* only the absent ones */
	CHECK_U64(pagestate__get(ps, 0), PAGE_RESIDENT);
	CHECK_U64(pagestate__get(ps, 5), PAGE_ZERO);
	pagestate__fill(ps, 0, 8, PAGE_RESIDENT, &changed);
	CHECK_U64(changed, 4); /* the zero pages become private */
	pagestate__free(ps);
}

static void test_clear_huge_sparse_range(void)
{
	struct pagestate *ps = pagestate__new();
	struct page_counts c = { { 0 } }, before = { { 0 } };

	pagestate__set(ps, 5, 3, PAGE_RESIDENT, NULL);
	pagestate__set(ps, 1ULL << 30, 2, PAGE_ZERO, NULL);
	/* 2^34 pages: must walk the table, not the range */
	pagestate__set(ps, 0, 1ULL << 34, PAGE_ABSENT, &before);
	CHECK_U64(before.pages[PAGE_RESIDENT], 3);
	CHECK_U64(before.pages[PAGE_ZERO], 2);
	CHECK_U64(before.pages[PAGE_ABSENT], (1ULL << 34) - 5);
	CHECK_U64(pagestate__populated(ps), 0);
	pagestate__count(ps, 0, 1ULL << 34, &c);
	CHECK_U64(c.pages[PAGE_ABSENT], 1ULL << 34);
	pagestate__free(ps);
}

static void test_move(void)
{
	struct pagestate *ps = pagestate__new();
	struct page_counts c = { { 0 } };

	pagestate__set(ps, 100, 1000, PAGE_RESIDENT, NULL);
	pagestate__set(ps, 150, 1, PAGE_ZERO, NULL);
	CHECK_U64(pagestate__move(ps, 100, 5000, 1000), 0);
	pagestate__count(ps, 100, 1000, &c);
	CHECK_U64(c.pages[PAGE_ABSENT], 1000);
	CHECK_U64(pagestate__get(ps, 5050), PAGE_ZERO);
	CHECK_U64(pagestate__get(ps, 5999), PAGE_RESIDENT);
	CHECK_U64(pagestate__get(ps, 6000), PAGE_ABSENT);
	CHECK(pagestate__move(ps, 5000, 5500, 1000) != 0); /* overlapping */
	pagestate__free(ps);
}

static void test_many_blocks(void)
{
	struct pagestate *ps = pagestate__new();
	uint64_t i;

	/* enough 2 MiB blocks to grow the table several times */
	for (i = 0; i < 5000; i++)
		pagestate__set(ps, i * 1024, 1, PAGE_RESIDENT, NULL);
	for (i = 0; i < 5000; i++)
		CHECK(pagestate__get(ps, i * 1024) == PAGE_RESIDENT);
	CHECK_U64(pagestate__populated(ps), 5000);
	pagestate__free(ps);
}

int main(void)
{
	RUN(test_set_and_count);
	RUN(test_fill_does_not_downgrade);
	RUN(test_clear_huge_sparse_range);
	RUN(test_move);
	RUN(test_many_blocks);
	return check_summary();
}
