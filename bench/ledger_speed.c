// SPDX-License-Identifier: GPL-2.0
/*
 * The loader's side of the cost, without the kernel: how many records the
 * ledger and the site tables take per second on one core, and how much
 * memory the ledger keeps per live allocation with 1 M of them live.
 * Records are made up as the kernel side would send them.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "bench.h"

#define HEAP 0x10000000ULL
#define HEAP_SIZE (1ULL << 32)
#define LIVE 1000000
#define ROUNDS 500000

struct bench {
	struct bench_loader loader;
	uint64_t now;
	uint64_t records;
};

static void setup(struct bench *b)
{
	memset(b, 0, sizeof(*b));
	bench_loader__init(&b->loader, HEAP, HEAP_SIZE);
}

static void teardown(struct bench *b)
{
	bench_loader__fini(&b->loader);
}

static void header(struct bench *b, struct pt_rec_header *h, uint32_t type)
{
	h->type = type;
	h->tid = 100;
	h->tgid = 100;
	h->ts = b->now += 1000;
	b->records++;
}

static void malloc_at(struct bench *b, uint64_t addr, uint64_t size,
		      uint64_t site)
{
	struct pt_rec_call r = { .fn = PT_FN_MALLOC,
				 .args = { size },
				 .addr = addr,
				 .flags = PT_CALL_CHUNK_KNOWN,
				 .chunk_size = (size + 31) & ~15ULL };
	struct code_origin from = { .site = site, .stack = PT_NO_STACK };

	header(b, &r.hdr, PT_REC_CALL);
	r.t_enter = r.hdr.ts - 100;
	ledger__on_call(b->loader.ledger, &r, &from);
}

static void free_at(struct bench *b, uint64_t addr)
{
	struct pt_rec_free r = { .addr = addr };

	header(b, &r.hdr, PT_REC_FREE);
	ledger__on_free(b->loader.ledger, &r);
}

static void fault_at(struct bench *b, uint64_t addr, uint64_t site)
{
	struct pt_rec_fault r = { .addr = addr,
				  .error_code = PT_PF_USER | PT_PF_WRITE,
				  .outcome = PT_OUT_ANON,
				  .pages = 1 };
	struct code_origin from = { .site = site, .stack = PT_NO_STACK };
	struct ledger_charge charge;

	header(b, &r.hdr, PT_REC_FAULT);
	r.t_start = r.hdr.ts - 100;
	ledger__on_fault(b->loader.ledger, &r, &from, &charge);
}

/* bytes the loader's heap holds for 1 M live malloc(64) */
static double bytes_per_live_allocation(void)
{
	struct bench b;
	size_t before, after;
	uint64_t i;

	setup(&b);
	before = mallinfo2().uordblks;
	for (i = 0; i < LIVE; i++)
		malloc_at(&b, HEAP + i * 80, 64, 0x1000 + (i & 63));
	after = mallinfo2().uordblks;
	teardown(&b);
	return (double)(after - before) / LIVE;
}

/* records per second: an allocation of 4 pages, 4 first-touch faults
 * from one of 64 sites, a free; addresses move on, as a heap grows */
static double records_per_second(uint64_t *records)
{
	struct bench b;
	uint64_t start, elapsed, i, k, addr;

	setup(&b);
	start = now_ns();
	for (i = 0; i < ROUNDS; i++) {
		addr = HEAP + (i % 100000) * 5 * 4096 + 16;
		malloc_at(&b, addr, 4 * 4096, 0x1000 + (i & 63));
		for (k = 0; k < 4; k++)
			fault_at(&b, ((addr + k * 4096) & ~4095ULL) + 4096,
				 0x2000 + (i & 63));
		free_at(&b, addr);
	}
	elapsed = now_ns() - start;
	*records = b.records;
	teardown(&b);
	return (double)b.records / (elapsed / 1e9);
}

int main(void)
{
	uint64_t records;
	double rate = records_per_second(&records);
	double per_alloc = bytes_per_live_allocation();

	printf("| loader measure | value |\n|---|---:|\n");
	printf("| records taken per second, one core (%llu records: malloc, "
	       "4 faults, free) | %.2f M/s |\n",
	       (unsigned long long)records, rate / 1e6);
	printf("| memory per live allocation, %d live malloc(64) | %.0f "
	       "bytes |\n",
	       LIVE, per_alloc);
	return 0;
}
