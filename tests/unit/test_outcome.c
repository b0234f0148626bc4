// SPDX-License-Identifier: GPL-2.0
/* Fault outcomes from what a faulting thread did (bpf/rules.h). */
#include <linux/types.h>
#include "check.h"
#include "pagetrace.h"
#include "rules.h"

#define READ 0
#define WRITE PT_PF_WRITE
#define PROT PT_PF_PROT

struct sequence {
	__u32 error_code;
	int allocs[4]; /* orders of movable folios allocated, -1 ends */
	int rss[8]; /* rss_stat members updated, -1 ends */
};

/* Replay a sequence the way the BPF programs accumulate it. */
static __u32 classify(const struct sequence *seq, int zero_page, __u32 *pages)
{
	struct pt_fault_evidence ev = { .zero_page_on_read = zero_page,
					.error_code = seq->error_code };
	int i;

	for (i = 0; i < 4 && seq->allocs[i] >= 0; i++) {
		ev.order = seq->allocs[i];
		ev.alloc_pages += 1U << seq->allocs[i];
	}
	for (i = 0; i < 8 && seq->rss[i] >= 0; i++)
		ev.rss_events[seq->rss[i]]++;
	return pt_classify_fault(&ev, pages);
}

static void test_read_maps_zero_page(void)
{
	struct sequence seq = { READ, { -1 }, { -1 } };
	__u32 pages;

	CHECK_U64(classify(&seq, 1, &pages), PT_OUT_ZERO);
	CHECK_U64(pages, 1);
	/* a kernel without the zero page: nothing happened */
	CHECK_U64(classify(&seq, 0, &pages), PT_OUT_NONE);
}

static void test_write_allocates_anon(void)
{
	struct sequence seq = { WRITE, { 0, -1 }, { PT_RSS_ANON, -1 } };
	__u32 pages;

	CHECK_U64(classify(&seq, 1, &pages), PT_OUT_ANON);
	CHECK_U64(pages, 1);
}

static void test_read_allocating_kernel(void)
{
	/* read faults that allocate (no zero page) are new private pages */
	struct sequence seq = { READ, { 0, -1 }, { PT_RSS_ANON, -1 } };
	__u32 pages;

	CHECK_U64(classify(&seq, 0, &pages), PT_OUT_ANON);
}

static void test_huge_page(void)
{
	struct sequence seq = { WRITE, { 9, -1 }, { PT_RSS_ANON, -1 } };
	struct sequence mthp = { WRITE, { 4, -1 }, { PT_RSS_ANON, -1 } };
	/* a failed huge attempt then a small page: the last folio counts */
	struct sequence fallback = { WRITE, { 9, 0, -1 }, { PT_RSS_ANON, -1 } };
	__u32 pages;

	CHECK_U64(classify(&seq, 1, &pages), PT_OUT_THP);
	CHECK_U64(pages, 512);
	CHECK_U64(classify(&mthp, 1, &pages), PT_OUT_THP);
	CHECK_U64(pages, 16);
	CHECK_U64(classify(&fallback, 1, &pages), PT_OUT_ANON);
	CHECK_U64(pages, 1);
}

static void test_cow_of_zero_page(void)
{
	struct sequence seq = { PROT | WRITE, { 0, -1 }, { PT_RSS_ANON, -1 } };
	/* the huge zero page written: replaced by a THP */
	struct sequence huge = { PROT | WRITE, { 9, -1 }, { PT_RSS_ANON, -1 } };
	__u32 pages;

	CHECK_U64(classify(&seq, 1, &pages), PT_OUT_COW_ZERO);
	CHECK_U64(pages, 1);
	CHECK_U64(classify(&huge, 1, &pages), PT_OUT_COW_ZERO);
	CHECK_U64(pages, 512);
}

static void test_cow_of_shared_page(void)
{
	/* anon page shared after fork: copied, no counter moves */
	struct sequence fork = { PROT | WRITE, { 0, -1 }, { -1 } };
	/* private file page: file counter down, anon up */
	struct sequence file = { PROT | WRITE,
				 { 0, -1 },
				 { PT_RSS_FILE, PT_RSS_ANON, -1 } };
	__u32 pages;

	CHECK_U64(classify(&fork, 1, &pages), PT_OUT_COW);
	CHECK_U64(pages, 1);
	CHECK_U64(classify(&file, 1, &pages), PT_OUT_COW);
	CHECK_U64(pages, 1);
}

static void test_write_protect_reuse(void)
{
	/* the only mapper of the page: made writable in place */
	struct sequence seq = { PROT | WRITE, { -1 }, { -1 } };
	__u32 pages;

	CHECK_U64(classify(&seq, 1, &pages), PT_OUT_NONE);
	CHECK_U64(pages, 0);
}

static void test_file_fault_around(void)
{
	struct sequence seq = { READ,
				{ 0, -1 },
				{ PT_RSS_FILE, PT_RSS_FILE, PT_RSS_FILE, -1 } };
	struct sequence shmem = { WRITE, { 0, -1 }, { PT_RSS_SHMEM, -1 } };
	__u32 pages;

	CHECK_U64(classify(&seq, 1, &pages), PT_OUT_FILE);
	CHECK_U64(pages, 3);
	CHECK_U64(classify(&shmem, 1, &pages), PT_OUT_FILE);
	CHECK_U64(pages, 1);
}

static void test_swap_in(void)
{
	struct sequence seq = { READ,
				{ 0, -1 },
				{ PT_RSS_SWAPENTS, PT_RSS_ANON, -1 } };
	/* found in the swap cache: no new folio */
	struct sequence cached = { WRITE,
				   { -1 },
				   { PT_RSS_SWAPENTS, PT_RSS_ANON, -1 } };
	__u32 pages;

	CHECK_U64(classify(&seq, 1, &pages), PT_OUT_SWAP);
	CHECK_U64(pages, 1);
	CHECK_U64(classify(&cached, 1, &pages), PT_OUT_SWAP);
	CHECK_U64(pages, 1);
}

int main(void)
{
	RUN(test_read_maps_zero_page);
	RUN(test_write_allocates_anon);
	RUN(test_read_allocating_kernel);
	RUN(test_huge_page);
	RUN(test_cow_of_zero_page);
	RUN(test_cow_of_shared_page);
	RUN(test_write_protect_reuse);
	RUN(test_file_fault_around);
	RUN(test_swap_in);
	return check_summary();
}
