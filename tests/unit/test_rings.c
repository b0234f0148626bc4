// SPDX-License-Identifier: GPL-2.0
#include <linux/bpf.h>
#include <linux/types.h>
#include <string.h>
#include "check.h"
#include "pagetrace.h"
#include "rings.h"

#define RING_SIZE 256 /* bytes of data: 8 records of 32 */

/* A ring as the kernel maps it: data twice in a row. */
struct fake_ring {
	uint64_t consumer_pos;
	uint64_t producer_pos;
	uint8_t data[2 * RING_SIZE];
};

struct record {
	struct pt_rec_header hdr;
};

/* Write a record of time ts at the producer position; busy: not yet
 * committed, discarded: thrown away by its program. */
static uint64_t put(struct fake_ring *ring, uint64_t ts, uint32_t flags)
{
	uint8_t bytes[BPF_RINGBUF_HDR_SZ + sizeof(struct record)];
	uint32_t len = sizeof(struct record) | flags;
	struct record rec = { .hdr = { .type = PT_REC_FREE, .ts = ts } };
	uint64_t at = ring->producer_pos % RING_SIZE, i;

	memcpy(bytes, &len, sizeof(len));
	memset(bytes + 4, 0, 4);
	memcpy(bytes + BPF_RINGBUF_HDR_SZ, &rec, sizeof(rec));
	/* both copies, as the double mapping shows one page twice */
	for (i = 0; i < sizeof(bytes); i++) {
		ring->data[(at + i) % RING_SIZE] = bytes[i];
		ring->data[(at + i) % RING_SIZE + RING_SIZE] = bytes[i];
	}
	ring->producer_pos += sizeof(bytes);
	return at;
}

static void commit(struct fake_ring *ring, uint64_t at)
{
	uint32_t len = sizeof(struct record);

	memcpy(&ring->data[at], &len, sizeof(len));
	memcpy(&ring->data[at + RING_SIZE], &len, sizeof(len));
}

struct seen {
	uint64_t ts[64];
	size_t count;
};

static void on_record(void *ctx, const void *data, size_t size)
{
	struct seen *seen = ctx;
	const struct pt_rec_header *hdr = data;

	CHECK_U64(size, sizeof(struct record));
	if (seen->count < 64)
		seen->ts[seen->count++] = hdr->ts;
}

static struct rings *two_rings(struct fake_ring *a, struct fake_ring *b,
			       struct seen *seen)
{
	struct rings *r = rings__new(on_record, seen);

	CHECK(r != NULL);
	CHECK_U64(rings__add_memory(r, &a->consumer_pos, &a->producer_pos,
				    a->data, RING_SIZE),
		  0);
	CHECK_U64(rings__add_memory(r, &b->consumer_pos, &b->producer_pos,
				    b->data, RING_SIZE),
		  0);
	return r;
}

/* A thread that moved between CPUs: its records merge back in order. */
static void test_merged_by_time(void)
{
	struct fake_ring a = { 0 }, b = { 0 };
	struct seen seen = { 0 };
	struct rings *r = two_rings(&a, &b, &seen);

	put(&a, 10, 0);
	put(&b, 20, 0);
	put(&a, 30, 0);
	put(&b, 40, 0);
	put(&b, 50, 0);
	CHECK_U64(rings__drain(r, 100), 5);
	CHECK_U64(seen.ts[0], 10);
	CHECK_U64(seen.ts[1], 20);
	CHECK_U64(seen.ts[2], 30);
	CHECK_U64(seen.ts[3], 40);
	CHECK_U64(seen.ts[4], 50);
	/* all read: the kernel may reuse it all */
	CHECK_U64(a.consumer_pos, a.producer_pos);
	CHECK_U64(b.consumer_pos, b.producer_pos);
	CHECK_U64(rings__drain(r, 200), 0);
	rings__free(r);
}

/* Records after the drain began wait: another ring may still get one
 * from before them. */
static void test_later_records_wait(void)
{
	struct fake_ring a = { 0 }, b = { 0 };
	struct seen seen = { 0 };
	struct rings *r = two_rings(&a, &b, &seen);

	put(&a, 10, 0);
	put(&a, 30, 0);
	CHECK_U64(rings__drain(r, 20), 1);
	CHECK_U64(a.consumer_pos, 32);
	put(&b, 25, 0);
	CHECK_U64(rings__drain(r, 40), 2);
	CHECK_U64(seen.ts[1], 25);
	CHECK_U64(seen.ts[2], 30);
	rings__free(r);
}

/* A record still being written holds back what came after the ring's
 * last record, and nothing of its own ring passes it. */
static void test_busy_record_holds_back(void)
{
	struct fake_ring a = { 0 }, b = { 0 };
	struct seen seen = { 0 };
	struct rings *r = two_rings(&a, &b, &seen);
	uint64_t busy;

	put(&a, 10, 0);
	CHECK_U64(rings__drain(r, 15), 1);
	busy = put(&a, 40, BPF_RINGBUF_BUSY_BIT);
	put(&a, 50, 0);
	put(&b, 5, 0);
	put(&b, 45, 0);
	CHECK_U64(rings__drain(r, 100), 1);
	CHECK_U64(seen.ts[1], 5);
	CHECK(rings__blocked(r));
	commit(&a, busy);
	CHECK_U64(rings__drain(r, 100), 3);
	CHECK(!rings__blocked(r));
	CHECK_U64(seen.ts[2], 40);
	CHECK_U64(seen.ts[3], 45);
	CHECK_U64(seen.ts[4], 50);
	rings__free(r);
}

/* A record still being written past where the last drain read up to
 * was reserved after that drain's time: older records of other rings
 * need not wait for it. */
static void test_busy_after_last_drain(void)
{
	struct fake_ring a = { 0 }, b = { 0 };
	struct seen seen = { 0 };
	struct rings *r = two_rings(&a, &b, &seen);
	uint64_t x, y;

	x = put(&a, 45, BPF_RINGBUF_BUSY_BIT);
	put(&b, 30, 0);
	put(&b, 48, 0);
	put(&b, 60, 0);
	/* nothing is known of x's time yet */
	CHECK_U64(rings__drain(r, 50), 0);
	CHECK(rings__blocked(r));
	commit(&a, x);
	y = put(&a, 90, BPF_RINGBUF_BUSY_BIT);
	/* y came after the drain at 50: 48 goes, 60 waits for y */
	CHECK_U64(rings__drain(r, 100), 3);
	CHECK_U64(seen.ts[0], 30);
	CHECK_U64(seen.ts[1], 45);
	CHECK_U64(seen.ts[2], 48);
	CHECK(rings__blocked(r));
	commit(&a, y);
	CHECK_U64(rings__drain(r, 100), 2);
	CHECK_U64(seen.ts[3], 60);
	CHECK_U64(seen.ts[4], 90);
	rings__free(r);
}

/* Discarded records are passed by; records wrap around the ring's end. */
static void test_discarded_and_wrapped(void)
{
	struct fake_ring a = { 0 }, b = { 0 };
	struct seen seen = { 0 };
	struct rings *r = two_rings(&a, &b, &seen);
	uint64_t ts;

	/* 7 records of 32 bytes, then one more from 224: ends past 256 */
	for (ts = 1; ts <= 7; ts++)
		put(&a, ts, 0);
	CHECK_U64(rings__drain(r, 100), 7);
	a.producer_pos += 16; /* a gap of 16: the next starts at 240 */
	a.consumer_pos += 16;
	rings__free(r);
	r = two_rings(&a, &b, &seen);
	put(&a, 8, BPF_RINGBUF_DISCARD_BIT);
	put(&a, 9, 0);
	CHECK_U64(rings__drain(r, 100), 1);
	CHECK_U64(seen.ts[7], 9);
	CHECK_U64(a.consumer_pos, a.producer_pos);
	rings__free(r);
}

int main(void)
{
	RUN(test_merged_by_time);
	RUN(test_later_records_wait);
	RUN(test_busy_record_holds_back);
	RUN(test_busy_after_last_drain);
	RUN(test_discarded_and_wrapped);
	return check_summary();
}
