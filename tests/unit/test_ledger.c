// SPDX-License-Identifier: GPL-2.0
/* The ledger fed with record sequences the kernel side would send. */
#include "check.h"
#include "ledger_fixture.h"

static void test_mmapped_malloc_lifecycle(void)
{
	struct fixture f;
	const struct alloc_view *v;
	uint64_t base = ANON, size = 64ULL << 20;

	setup(&f, true);
	/* glibc maps the chunk and writes its header inside malloc() */
	enter(&f);
	sys(&f, PT_NR_MMAP, 0, size + P, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (__s64)base, PT_SYS_IN_CALL);
	fault(&f, base, PT_PF_WRITE, PT_OUT_ANON, 1, PT_FAULT_IN_CALL);
	call(&f, PT_FN_MALLOC, size, 0, base + 16, MMAPPED);
	fault(&f, base + 16 + P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	fault(&f, base + 16 + 2 * P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	free_call(&f, base + 16, MMAPPED);
	sys(&f, PT_NR_MUNMAP, base, size + P, 0, 0, 0, PT_SYS_IN_CALL);
	CHECK_U64(view_count, 1);
	v = &views[0];
	CHECK_U64(v->pages, 16385);
	CHECK_U64(v->resident_pages, 3);
	CHECK_U64(v->untouched_pages, 16382);
	CHECK_U64(v->faults, 3);
	CHECK_U64(v->by[BY_ANON], 3);
	CHECK_U64(v->end, ALLOC_FREED);
	CHECK(v->released);
	CHECK(v->chunk_mmapped);
	/* first touch: the first fault after the return, not the header */
	CHECK_U64(v->first_touch_ns, 900);
	CHECK_U64(ledger__stats(f.ledger)->faults_in_allocs, 3);
	CHECK_U64(ledger__stats(f.ledger)->faults_outside, 0);
	teardown(&f);
}

static void test_zero_then_cow(void)
{
	struct fixture f;
	const struct alloc_view *v;

	setup(&f, true);
	call(&f, PT_FN_CALLOC, 1, 3 * P, HEAP + 16, PT_CALL_CHUNK_KNOWN);
	fault(&f, HEAP + P, 0, PT_OUT_ZERO, 1, 0);
	fault(&f, HEAP + 2 * P, 0, PT_OUT_ZERO, 1, 0);
	fault(&f, HEAP + P, PT_PF_WRITE | PT_PF_PROT, PT_OUT_COW_ZERO, 1, 0);
	ledger__finish(f.ledger);
	v = &views[0];
	CHECK_U64(v->pages, 4);
	CHECK_U64(v->by[BY_ZERO], 2);
	CHECK_U64(v->by[BY_COW], 1);
	CHECK_U64(v->zero_pages, 1);
	CHECK_U64(v->resident_pages, 1);
	CHECK_U64(v->untouched_pages, 2);
	CHECK_U64(v->end, ALLOC_LIVE);
	CHECK_U64(v->t_free, 0);
	teardown(&f);
}

static void test_zero_outcome_outside_anonymous_memory(void)
{
	struct fixture f;
	struct ledger_charge c;

	setup(&f, true);
	/* nothing changed on a read of a file page: not the zero page */
	c = fault(&f, 0x500000, 0, PT_OUT_ZERO, 1, 0);
	CHECK_U64(c.outcome, PT_OUT_NONE);
	CHECK_U64(c.pages, 0);
	CHECK_STR(c.mapping, "/lib/libx.so");
	CHECK_U64(ledger__stats(f.ledger)->faults_by_outcome[PT_OUT_NONE], 1);
	teardown(&f);
}

static void test_realloc_moved_by_mremap(void)
{
	struct fixture f;
	const struct alloc_view *old, *new;
	uint64_t base = ANON, moved = ANON + (256ULL << 20);
	uint64_t size = 64ULL << 20;
	int i;

	setup(&f, true);
	enter(&f);
	sys(&f, PT_NR_MMAP, 0, size + P, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (__s64)base, PT_SYS_IN_CALL);
	fault(&f, base, PT_PF_WRITE, PT_OUT_ANON, 1, PT_FAULT_IN_CALL);
	call(&f, PT_FN_MALLOC, size, 0, base + 16, MMAPPED);
	for (i = 1; i < 3; i++)
		fault(&f, base + i * P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	/* realloc: the chunk moves, then realloc returns */
	sys(&f, PT_NR_MREMAP, base, size + P, 2 * size + P, MREMAP_MAYMOVE,
	    (__s64)moved, PT_SYS_IN_CALL);
	call(&f, PT_FN_REALLOC, base + 16, 2 * size, moved + 16, MMAPPED);
	ledger__finish(f.ledger);
	CHECK_U64(view_count, 2);
	old = view_of_id(1);
	new = view_of_id(2);
	CHECK(old && new);
	if (!old || !new)
		goto out;
	CHECK_U64(old->end, ALLOC_REALLOCATED);
	CHECK(old->released);
	CHECK_U64(old->resident_pages, 3);
	CHECK_U64(old->realloc_to, 2);
	CHECK_U64(new->realloc_from, 1);
	CHECK_U64(new->pages, 32769);
	CHECK_U64(new->resident_pages, 3);
	CHECK_U64(new->resident_at_alloc, 3);
	CHECK_U64(new->faults, 0);
out:
	teardown(&f);
}

static void test_populate_counts_transitions_once(void)
{
	struct fixture f;
	uint64_t base = ANON;

	setup(&f, true);
	enter(&f);
	sys(&f, PT_NR_MMAP, 0, 9 * P, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (__s64)base, PT_SYS_IN_CALL);
	fault(&f, base, PT_PF_WRITE, PT_OUT_ANON, 1, PT_FAULT_IN_CALL);
	call(&f, PT_FN_MALLOC, 8 * P, 0, base + 16, MMAPPED);
	sys(&f, PT_NR_MADVISE, base, 8 * P, 23 /* POPULATE_WRITE */, 0, 0, 0);
	sys(&f, PT_NR_MADVISE, base, 8 * P, 23, 0, 0, 0);
	ledger__finish(f.ledger);
	CHECK_U64(views[0].by[BY_SYSCALL], 7);
	CHECK_U64(views[0].resident_pages, 8);
	CHECK_U64(views[0].untouched_pages, 1);
	CHECK_U64(ledger__stats(f.ledger)->syscall_pages, 7);
	teardown(&f);
}

static void test_dontneed_returns_pages(void)
{
	struct fixture f;

	setup(&f, true);
	call(&f, PT_FN_MALLOC, 4 * P, 0, HEAP, PT_CALL_CHUNK_KNOWN);
	fault(&f, HEAP, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	fault(&f, HEAP + P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	sys(&f, PT_NR_MADVISE, HEAP, 2 * P, MADV_DONTNEED, 0, 0, 0);
	ledger__finish(f.ledger);
	CHECK_U64(views[0].resident_pages, 0);
	CHECK_U64(views[0].by[BY_ANON], 2);
	CHECK(!views[0].released);
	teardown(&f);
}

static void test_neighbours_share_a_page(void)
{
	struct fixture f;
	struct ledger_charge c;

	setup(&f, true);
	call(&f, PT_FN_MALLOC, 100, 0, HEAP + 16, PT_CALL_CHUNK_KNOWN);
	call(&f, PT_FN_MALLOC, 100, 0, HEAP + 128, PT_CALL_CHUNK_KNOWN);
	c = fault(&f, HEAP + 130, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	CHECK_U64(c.alloc_id, 2);
	free_call(&f, HEAP + 16, PT_CALL_CHUNK_KNOWN);
	free_call(&f, HEAP + 128, PT_CALL_CHUNK_KNOWN);
	/* both blocks met the page; the fault belongs to the one hit */
	CHECK_U64(views[0].by[BY_ANON], 1);
	CHECK_U64(views[0].faults, 0);
	CHECK_U64(views[1].faults, 1);
	/* heap memory stays with the process after free */
	CHECK(!views[1].released);
	CHECK_U64(views[1].resident_pages, 1);
	CHECK_U64(ledger__stats(f.ledger)->faults_outside, 0);
	teardown(&f);
}

static void test_faults_outside_go_to_the_mapping(void)
{
	struct fixture f;
	struct ledger_charge c;

	setup(&f, true);
	c = fault(&f, HEAP + 0x8000, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	CHECK_STR(c.mapping, "[heap]");
	/* the allocator writing its own bookkeeping, no block returned */
	c = fault(&f, HEAP + 0x9000, PT_PF_WRITE, PT_OUT_ANON, 1,
		  PT_FAULT_IN_CALL);
	CHECK(c.deferred);
	call(&f, PT_FN_MALLOC, 16, 0, HEAP + 0x100, PT_CALL_CHUNK_KNOWN);
	CHECK_U64(ledger__group_count(f.ledger), 1);
	CHECK_STR(ledger__group(f.ledger, 0)->name, "[heap]");
	CHECK_U64(ledger__group(f.ledger, 0)->faults, 2);
	CHECK_U64(ledger__group(f.ledger, 0)->pages[BY_ANON], 2);
	teardown(&f);
}

static void test_failed_unknown_and_exec(void)
{
	struct fixture f;
	struct pt_rec_task exec = { .kind = PT_TASK_EXEC };

	setup(&f, true);
	call(&f, PT_FN_MALLOC, 1ULL << 50, 0, 0, 0);
	CHECK_U64(views[0].end, ALLOC_FAILED);
	CHECK_U64(ledger__stats(f.ledger)->failed, 1);
	free_call(&f, HEAP + 4096, 0);
	CHECK_U64(ledger__stats(f.ledger)->unknown_frees, 1);
	call(&f, PT_FN_MALLOC, 64, 0, HEAP + 16, 0);
	hdr(&f, &exec.hdr, PT_REC_TASK);
	ledger__on_task(f.ledger, &exec);
	CHECK_U64(view_count, 2);
	CHECK_U64(views[1].end, ALLOC_EXEC);
	CHECK_U64(ledger__live_count(f.ledger), 0);
	teardown(&f);
}

static void test_missed_free_is_overlapped(void)
{
	struct fixture f;

	setup(&f, true);
	call(&f, PT_FN_MALLOC, 64, 0, HEAP + 16, 0);
	call(&f, PT_FN_MALLOC, 32, 0, HEAP + 16, 0);
	CHECK_U64(views[0].end, ALLOC_OVERLAPPED);
	CHECK_U64(ledger__stats(f.ledger)->overlapped, 1);
	teardown(&f);
}

static void test_huge_zero_eligibility(void)
{
	struct kernel_facts k = { .zero_page_known = true,
				  .zero_page_on_read = true,
				  .thp_use_zero_page = true };
	struct mapping m = { .start = 0x200000,
			     .end = 0x800000,
			     .kind = MAPPING_ANON,
			     .flags = MAPPING_HUGEPAGE };

	strcpy(k.thp_enabled, "madvise");
	CHECK(ledger__huge_zero_eligible(&k, &m, 0x400123, true, true));
	/* the block must be empty, inside the mapping, THP allowed */
	CHECK(!ledger__huge_zero_eligible(&k, &m, 0x400123, false, true));
	CHECK(!ledger__huge_zero_eligible(&k, &m, 0x400123, true, false));
	m.end = 0x500000;
	CHECK(!ledger__huge_zero_eligible(&k, &m, 0x400123, true, true));
	m.end = 0x800000;
	m.flags = 0;
	CHECK(!ledger__huge_zero_eligible(&k, &m, 0x400123, true, true));
	strcpy(k.thp_enabled, "always");
	CHECK(ledger__huge_zero_eligible(&k, &m, 0x400123, true, true));
	m.flags = MAPPING_NOHUGEPAGE;
	CHECK(!ledger__huge_zero_eligible(&k, &m, 0x400123, true, true));
	m.flags = 0;
	k.zero_page_on_read = false;
	CHECK(!ledger__huge_zero_eligible(&k, &m, 0x400123, true, true));
}

static void test_read_fault_changing_nothing_is_none(void)
{
	struct fixture f;
	struct ledger_charge c;

	setup(&f, true);
	call(&f, PT_FN_MALLOC, 4 * P, 0, HEAP + 16, 0);
	fault(&f, HEAP + P, 0, PT_OUT_ZERO, 1, 0);
	/* a NUMA hint fault, or a lost race: the page was there already */
	c = fault(&f, HEAP + P, 0, PT_OUT_ZERO, 1, 0);
	CHECK_U64(c.outcome, PT_OUT_NONE);
	ledger__finish(f.ledger);
	CHECK_U64(views[0].by[BY_ZERO], 1);
	CHECK_U64(views[0].faults, 2);
	CHECK_U64(ledger__stats(f.ledger)->faults_by_outcome[PT_OUT_ZERO], 1);
	CHECK_U64(ledger__stats(f.ledger)->faults_by_outcome[PT_OUT_NONE], 1);
	teardown(&f);
}

static void test_populate_outside_counted_once(void)
{
	struct fixture f;

	setup(&f, true);
	/* two blocks share the heap's first page, the second page is free */
	call(&f, PT_FN_MALLOC, 100, 0, HEAP + 16, 0);
	call(&f, PT_FN_MALLOC, 100, 0, HEAP + 128, 0);
	sys(&f, PT_NR_MADVISE, HEAP, 2 * P, PT_MADV_POPULATE_WRITE, 0, 0, 0);
	CHECK_U64(ledger__stats(f.ledger)->syscall_pages, 2);
	CHECK_U64(ledger__group(f.ledger, 0)->pages[BY_SYSCALL], 1);
	ledger__finish(f.ledger);
	CHECK_U64(views[0].by[BY_SYSCALL], 1);
	CHECK_U64(views[1].by[BY_SYSCALL], 1);
	teardown(&f);
}

static void test_mlock_rounds_and_skips_prot_none(void)
{
	struct fixture f;
	struct mapping guard = { .start = ANON,
				 .end = ANON + 16 * P,
				 .kind = MAPPING_ANON };

	setup(&f, true);
	guard.name = mappings__intern(f.maps, "[anon]");
	mappings__map(f.maps, &guard);
	/* 32 bytes inside one page lock that page only */
	sys(&f, PT_NR_MLOCK, HEAP + 0x1010, 32, 0, 0, 0, 0);
	CHECK_U64(ledger__stats(f.ledger)->syscall_pages, 1);
	/* PROT_NONE mappings are never populated */
	sys(&f, PT_NR_MLOCKALL, 1, 0, 0, 0, 0, 0);
	CHECK_U64(ledger__stats(f.ledger)->syscall_pages, 4096);
	teardown(&f);
}

static void test_faults_of_an_earlier_call_are_not_the_block(void)
{
	struct fixture f;

	setup(&f, true);
	/* a call that sent no record (--min-size) faulted on the page ... */
	fault(&f, HEAP + 0x2000, PT_PF_WRITE, PT_OUT_ANON, 1, PT_FAULT_IN_CALL);
	/* ... that a later, reported call returns */
	enter(&f);
	call(&f, PT_FN_MALLOC, 2 * P, 0, HEAP + 0x2000, 0);
	ledger__finish(f.ledger);
	/* no block held the page then: the heap's */
	CHECK_U64(views[0].faults, 0);
	CHECK_U64(views[0].by[BY_ANON], 0);
	CHECK_U64(views[0].resident_at_alloc, 1);
	CHECK_U64(ledger__group(f.ledger, 0)->faults, 1);
	teardown(&f);
}

static void test_realloc_race_keeps_the_other_threads_block(void)
{
	struct fixture f;
	struct pt_rec_call r = { .fn = PT_FN_REALLOC,
				 .args = { HEAP + 16, 8 * P },
				 .addr = ANON + 16 };

	setup(&f, true);
	call(&f, PT_FN_MALLOC, 64, 0, HEAP + 16, 0);
	/* realloc starts, frees the block inside; another thread reuses
	 * the address before realloc's record comes */
	r.t_enter = f.now + 10;
	f.now += 100;
	call(&f, PT_FN_MALLOC, 32, 0, HEAP + 16, 0);
	hdr(&f, &r.hdr, PT_REC_CALL);
	ledger__on_call(f.ledger, &r,
			&(struct code_origin){ .stack = PT_NO_STACK });
	CHECK_U64(ledger__live_count(f.ledger), 2);
	ledger__finish(f.ledger);
	CHECK_U64(views[0].end, ALLOC_OVERLAPPED);
	teardown(&f);
}

/* A realloc moves its mapped block away (mremap inside the call), and
 * another thread's mapping takes the old range before that realloc
 * returns: the old block ends as reallocated, not as a missed free. */
static void test_range_left_by_a_realloc_under_way(void)
{
	struct fixture f;
	uint64_t base = ANON, moved = ANON + (256ULL << 20), size = 4 * P;
	uint64_t t_enter;

	setup(&f, true);
	sys(&f, PT_NR_MMAP, 0, size + P, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (__s64)base, PT_SYS_IN_CALL);
	call(&f, PT_FN_MALLOC, size, 0, base + 16, MMAPPED);
	fault(&f, base + P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	t_enter = f.now + 1;
	f.realloc_block = base + 16;
	sys(&f, PT_NR_MREMAP, base, size + P, 2 * size + P, MREMAP_MAYMOVE,
	    (__s64)moved, PT_SYS_IN_CALL | PT_SYS_IN_REALLOC);
	/* another thread's block where the old one was */
	sys(&f, PT_NR_MMAP, 0, size + P, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (__s64)base, PT_SYS_IN_CALL);
	call(&f, PT_FN_MALLOC, size, 0, base + 16, MMAPPED);
	CHECK_U64(view_count, 1);
	CHECK_U64(views[0].end, ALLOC_REALLOCATED);
	CHECK_U64(views[0].resident_pages, 1);
	/* the realloc returns: its block is not the other thread's */
	f.t_enter = t_enter;
	call(&f, PT_FN_REALLOC, base + 16, 2 * size, moved + 16, MMAPPED);
	CHECK_U64(ledger__live_count(f.ledger), 2);
	CHECK_U64(ledger__stats(f.ledger)->overlapped, 0);
	/* unmapped inside another call than its own realloc (a heap
	 * trimmed, say), the same is a missed free */
	f.realloc_block = base + 16;
	sys(&f, PT_NR_MUNMAP, moved, 2 * size + P, 0, 0, 0,
	    PT_SYS_IN_CALL | PT_SYS_IN_REALLOC);
	call(&f, PT_FN_MALLOC, size, 0, moved + 16, MMAPPED);
	CHECK_U64(ledger__stats(f.ledger)->overlapped, 1);
	teardown(&f);
}

static void test_first_brk_shrink_after_attach(void)
{
	struct fixture f;

	setup(&f, true);
	ledger__mark_present(f.ledger, HEAP, HEAP + 0x1000000, false);
	/* the heap mapping's end stands for the break before attach */
	sys(&f, PT_NR_BRK, HEAP + 0x800000, 0, 0, 0, HEAP + 0x800000, 0);
	call(&f, PT_FN_MALLOC, 64, 0, HEAP + 0x900000, 0);
	ledger__finish(f.ledger);
	CHECK_U64(views[0].resident_pages, 0);
	teardown(&f);
}

/* Pages and faults charged to (allocation site, touching site). */
static void charged(uint64_t alloc_site, uint64_t touch_site, uint64_t *pages,
		    uint64_t *faults)
{
	int i;

	*pages = *faults = 0;
	for (i = 0; i < touch_count; i++) {
		if (touches[i].alloc_site != alloc_site ||
		    touches[i].touch_site != touch_site)
			continue;
		*pages += touches[i].pages;
		*faults += touches[i].faults;
	}
}

/* Every populated page is charged to the allocating call's site and to
 * the touching code's site; a fault outside allocations has no alloc
 * site. */
static void test_touches_charge_both_sites(void)
{
	uint64_t pages, faults;
	struct fixture f;

	setup(&f, true);
	f.site = 0xa11;
	call(&f, PT_FN_CALLOC, 1, 3 * P, HEAP + 16, PT_CALL_CHUNK_KNOWN);
	f.site = 0xb22;
	fault(&f, HEAP + P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	f.site = 0xc33;
	sys(&f, PT_NR_MADVISE, HEAP + 2 * P, 2 * P, 23 /* POPULATE_WRITE */, 0,
	    0, 0);
	f.site = 0xd44;
	fault(&f, HEAP + 0x8000, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	charged(0xa11, 0xb22, &pages, &faults);
	CHECK_U64(pages, 1);
	CHECK_U64(faults, 1);
	charged(0xa11, 0xc33, &pages, &faults);
	CHECK_U64(pages, 2);
	CHECK_U64(faults, 0);
	charged(0, 0xd44, &pages, &faults);
	CHECK_U64(pages, 1);
	CHECK_U64(faults, 1);
	charged(0xa11, 0xd44, &pages, &faults);
	CHECK_U64(pages + faults, 0);
	ledger__finish(f.ledger);
	CHECK_U64(views[0].site, 0xa11);
	teardown(&f);
}

int main(void)
{
	RUN(test_mmapped_malloc_lifecycle);
	RUN(test_zero_then_cow);
	RUN(test_zero_outcome_outside_anonymous_memory);
	RUN(test_realloc_moved_by_mremap);
	RUN(test_populate_counts_transitions_once);
	RUN(test_dontneed_returns_pages);
	RUN(test_neighbours_share_a_page);
	RUN(test_faults_outside_go_to_the_mapping);
	RUN(test_failed_unknown_and_exec);
	RUN(test_missed_free_is_overlapped);
	RUN(test_huge_zero_eligibility);
	RUN(test_read_fault_changing_nothing_is_none);
	RUN(test_populate_outside_counted_once);
	RUN(test_mlock_rounds_and_skips_prot_none);
	RUN(test_faults_of_an_earlier_call_are_not_the_block);
	RUN(test_realloc_race_keeps_the_other_threads_block);
	RUN(test_range_left_by_a_realloc_under_way);
	RUN(test_first_brk_shrink_after_attach);
	RUN(test_touches_charge_both_sites);
	return check_summary();
}
