// SPDX-License-Identifier: GPL-2.0
/*
 * The ledger where the functions that only allocate are seen only after
 * they return (PT_CALL_SEEN_AFTER): the faults the allocator's code takes
 * before.
 */
#include "check.h"
#include "ledger_fixture.h"

/*
 * malloc seen after it returned alone (PT_CALL_SEEN_AFTER): the header
 * fault glibc's code took at a page no block owned is held, and the call
 * takes it; a held fault the thread's own code follows is not the next
 * call's.
 */
static void test_calls_seen_after_take_their_faults(void)
{
	struct fixture f;
	const struct alloc_view *v;
	uint64_t base = ANON, size = 64ULL << 20, other = ANON + (256ULL << 20);

	setup(&f, true);
	sys(&f, PT_NR_MMAP, 0, size + P, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (__s64)base, 0);
	f.allocator_code = true;
	CHECK(fault(&f, base, PT_PF_WRITE, PT_OUT_ANON, 1, 0).deferred);
	f.allocator_code = false;
	call(&f, PT_FN_MALLOC, size, 0, base + 16,
	     MMAPPED | PT_CALL_SEEN_AFTER);
	fault(&f, base + 16 + P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	free_call(&f, base + 16, MMAPPED);
	sys(&f, PT_NR_MUNMAP, base, size + P, 0, 0, 0, 0);
	CHECK_U64(view_count, 1);
	v = &views[0];
	CHECK_U64(v->faults, 2);
	CHECK_U64(v->by[BY_ANON], 2);
	/* first touch: the program's, after the return, not the header */
	CHECK_U64(v->first_touch_ns, 900);
	CHECK_U64(ledger__stats(f.ledger)->faults_outside, 0);

	/* glibc's code faults where no block is, then the program's own: the
	 * call had returned, the held fault is charged where it fell */
	sys(&f, PT_NR_MMAP, 0, size + P, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (__s64)other, 0);
	f.allocator_code = true;
	fault(&f, other, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	f.allocator_code = false;
	fault(&f, other + 8 * P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	CHECK_U64(ledger__stats(f.ledger)->faults_outside, 2);
	call(&f, PT_FN_MALLOC, size, 0, other + 16,
	     MMAPPED | PT_CALL_SEEN_AFTER);
	ledger__finish(f.ledger);
	CHECK_U64(view_count, 2);
	CHECK_U64(views[1].faults, 0);
	teardown(&f);
}

/*
 * memalign seen after it returned: glibc writes the block's header, in
 * its first page (held), then trims the heap (brk down, its own code):
 * the held fault stays the block's; a held fault in what the trim (or a
 * madvise of the allocator's code) gives back falls where it was. Any
 * other syscall settles them all, the allocator's code's too (a program
 * calls munmap through glibc's wrapper).
 */
static void test_allocator_syscalls_keep_held_faults(void)
{
	struct fixture f;
	uint64_t block = HEAP + 4 * P + 64, size = 2 * P;

	setup(&f, true);
	sys(&f, PT_NR_BRK, 0, 0, 0, 0, (__s64)HEAP, 0);
	sys(&f, PT_NR_BRK, HEAP + 64 * P, 0, 0, 0, (__s64)(HEAP + 64 * P), 0);
	f.allocator_code = true;
	CHECK(fault(&f, block - 16, PT_PF_WRITE, PT_OUT_ANON, 1, 0).deferred);
	CHECK(fault(&f, HEAP + 20 * P, PT_PF_WRITE, PT_OUT_ANON, 1, 0)
		      .deferred);
	sys(&f, PT_NR_BRK, HEAP + 16 * P, 0, 0, 0, (__s64)(HEAP + 16 * P), 0);
	CHECK_U64(ledger__stats(f.ledger)->faults_outside, 1);
	f.allocator_code = false;
	call(&f, PT_FN_MEMALIGN, P, size, block,
	     PT_CALL_CHUNK_KNOWN | PT_CALL_SEEN_AFTER);
	free_call(&f, block, PT_CALL_CHUNK_KNOWN);
	CHECK_U64(view_count, 1);
	CHECK_U64(views[0].faults, 1);

	/* a madvise of the allocator's code: the held fault in its range
	 * falls where it was, the other stays */
	f.allocator_code = true;
	fault(&f, block + 8 * P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	fault(&f, block + 4 * P - 16, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	sys(&f, PT_NR_MADVISE, block + 8 * P, 2 * P, 4, 0, 0, 0);
	CHECK_U64(ledger__stats(f.ledger)->faults_outside, 2);
	f.allocator_code = false;
	call(&f, PT_FN_MEMALIGN, P, size, block + 4 * P,
	     PT_CALL_CHUNK_KNOWN | PT_CALL_SEEN_AFTER);
	free_call(&f, block + 4 * P, PT_CALL_CHUNK_KNOWN);
	CHECK_U64(view_count, 2);
	CHECK_U64(views[1].faults, 1);

	/* munmap through glibc's wrapper, its code the allocator's too:
	 * the call had returned */
	f.allocator_code = true;
	fault(&f, block + 12 * P, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	sys(&f, PT_NR_MUNMAP, ANON, P, 0, 0, 0, 0);
	CHECK_U64(ledger__stats(f.ledger)->faults_outside, 3);
	f.allocator_code = false;
	call(&f, PT_FN_MEMALIGN, P, size, block + 12 * P + 16,
	     PT_CALL_CHUNK_KNOWN | PT_CALL_SEEN_AFTER);
	ledger__finish(f.ledger);
	CHECK_U64(view_count, 3);
	CHECK_U64(views[2].faults, 0);
	teardown(&f);
}

/*
 * memalign(2 MiB) of a block with a mapping of its own: glibc
 * writes the chunk's first header at the mapping's start, then its
 * header at the aligned block. A mapping one page short of the alignment
 * has both in one page: its one fault is the block's, as the second
 * fault of a mapping that starts further down is; that mapping's first
 * page is not the block's.
 */
static void test_moved_header_page(void)
{
	uint64_t align = 2ULL << 20, size = 8ULL << 20;
	uint64_t near = ANON + align, far = ANON + 16 * align;
	struct fixture f;

	setup(&f, true);
	sys(&f, PT_NR_MMAP, 0, size + align, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (__s64)(near - P), 0);
	f.allocator_code = true;
	CHECK(fault(&f, near - P, PT_PF_WRITE, PT_OUT_ANON, 1, 0).deferred);
	f.allocator_code = false;
	call(&f, PT_FN_MEMALIGN, align, size, near,
	     MMAPPED | PT_CALL_SEEN_AFTER);
	sys(&f, PT_NR_MMAP, 0, size + align, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (__s64)(far - align / 2), 0);
	f.allocator_code = true;
	fault(&f, far - align / 2, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	fault(&f, far - 16, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	f.allocator_code = false;
	call(&f, PT_FN_MEMALIGN, align, size, far,
	     MMAPPED | PT_CALL_SEEN_AFTER);
	ledger__finish(f.ledger);
	CHECK_U64(view_count, 2);
	CHECK_U64(views[0].faults + views[1].faults, 2);
	CHECK_U64(ledger__stats(f.ledger)->faults_in_allocs, 2);
	CHECK_U64(ledger__stats(f.ledger)->faults_outside, 1);
	teardown(&f);
}

/*
 * Three threads hold a fault each, two of them in one slot of the table
 * of holding threads (ids 100 and 1124 hash alike): the first settling
 * leaves the others found, each held fault goes to its own thread's call.
 */
static void test_held_faults_per_thread(void)
{
	static const uint32_t tids[] = { 100, 1124, 2148 };
	struct fixture f;
	uint64_t size = 4 * P;
	size_t i;

	setup(&f, true);
	f.allocator_code = true;
	for (i = 0; i < 3; i++) {
		f.tid = tids[i];
		CHECK(fault(&f, HEAP + i * 8 * P, PT_PF_WRITE, PT_OUT_ANON, 1,
			    0)
			      .deferred);
	}
	f.allocator_code = false;
	/* the first thread's own code faults: its held fault falls outside */
	f.tid = tids[0];
	fault(&f, ANON, PT_PF_WRITE, PT_OUT_ANON, 1, 0);
	CHECK_U64(ledger__stats(f.ledger)->faults_outside, 2);
	for (i = 1; i < 3; i++) {
		f.tid = tids[i];
		call(&f, PT_FN_MALLOC, size, 0, HEAP + i * 8 * P + 16,
		     PT_CALL_CHUNK_KNOWN | PT_CALL_SEEN_AFTER);
	}
	ledger__finish(f.ledger);
	CHECK_U64(view_count, 2);
	CHECK_U64(views[0].faults + views[1].faults, 2);
	CHECK_U64(ledger__stats(f.ledger)->faults_in_allocs, 2);
	teardown(&f);
}

int main(void)
{
	RUN(test_calls_seen_after_take_their_faults);
	RUN(test_allocator_syscalls_keep_held_faults);
	RUN(test_moved_header_page);
	RUN(test_held_faults_per_thread);
	return check_summary();
}
