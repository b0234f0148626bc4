// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "pagetrace.h"
#include "rings.h"

enum { COMMITTED, BUSY, DISCARDED };

#define RING_SIZE 256 /* bytes: 6 records of 40, and 16 more */
#define KEY 0x5a5a5a5a5a5a5a5aULL /* of committed records: even */

/* A ring laid out as the kernel side lays its own (pagetrace.h): a
 * control block and one element, in plain memory. */
struct fake_ring {
	struct pt_ring_ctl ctl;
	struct pt_ring_elem elem;
};

struct record {
	struct pt_rec_header hdr;
};

static struct fake_ring *new_fake_ring(void)
{
	struct fake_ring *ring = calloc(1, sizeof(*ring));

	CHECK(ring != NULL);
	/* an older lap's bytes: a seq that reads as no record's */
	memset(ring->elem.bytes, 0xa5, sizeof(ring->elem.bytes));
	ring->ctl.size = RING_SIZE;
	ring->ctl.offset_mask = RING_SIZE - 1;
	return ring;
}

static struct pt_ring_hdr *header_at(struct fake_ring *ring, uint64_t pos)
{
	return (void *)&ring->elem.bytes[pos & ring->ctl.offset_mask];
}

/* Write a record of time ts at the head, as reserve() does; busy: not yet
 * committed, discarded: thrown away by its program. Its position. */
static uint64_t put(struct fake_ring *ring, uint64_t ts, int state)
{
	uint64_t pos = ring->ctl.head;
	struct pt_ring_hdr *rh = header_at(ring, pos);
	struct record rec = { .hdr = { .type = PT_REC_FREE, .ts = ts } };

	rh->len = sizeof(rec);
	rh->flags = state == DISCARDED ? PT_RING_DISCARDED : 0;
	memcpy(rh + 1, &rec, sizeof(rec));
	rh->seq = state == BUSY ? PT_RING_BUSY(pos) : PT_RING_DONE(pos, KEY);
	ring->ctl.head += PT_RING_SPAN(sizeof(rec));
	return pos;
}

static void commit(struct fake_ring *ring, uint64_t pos)
{
	header_at(ring, pos)->seq = PT_RING_DONE(pos, KEY);
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
	struct rings *r = rings__new(on_record, seen, KEY);

	CHECK(r != NULL);
	CHECK_U64(rings__add_ring(r, &a->ctl, &a->elem), 0);
	CHECK_U64(rings__add_ring(r, &b->ctl, &b->elem), 0);
	return r;
}

/* A thread that moved between CPUs: its records merge back in order. */
static void test_merged_by_time(void)
{
	struct fake_ring *a = new_fake_ring(), *b = new_fake_ring();
	struct seen seen = { 0 };
	struct rings *r = two_rings(a, b, &seen);

	put(a, 10, COMMITTED);
	put(b, 20, COMMITTED);
	put(a, 30, COMMITTED);
	put(b, 40, COMMITTED);
	put(b, 50, COMMITTED);
	CHECK_U64(rings__drain(r, 100), 5);
	CHECK_U64(seen.ts[0], 10);
	CHECK_U64(seen.ts[1], 20);
	CHECK_U64(seen.ts[2], 30);
	CHECK_U64(seen.ts[3], 40);
	CHECK_U64(seen.ts[4], 50);
	/* all read: the kernel may reuse it all */
	CHECK_U64(a->ctl.tail, a->ctl.head);
	CHECK_U64(b->ctl.tail, b->ctl.head);
	CHECK_U64(rings__drain(r, 200), 0);
	rings__free(r);
	free(a);
	free(b);
}

/* Records after the drain began wait: another ring may still get one
 * from before them. */
static void test_later_records_wait(void)
{
	struct fake_ring *a = new_fake_ring(), *b = new_fake_ring();
	struct seen seen = { 0 };
	struct rings *r = two_rings(a, b, &seen);

	put(a, 10, COMMITTED);
	put(a, 30, COMMITTED);
	CHECK_U64(rings__drain(r, 20), 1);
	CHECK_U64(a->ctl.tail, 40);
	put(b, 25, COMMITTED);
	CHECK_U64(rings__drain(r, 40), 2);
	CHECK_U64(seen.ts[1], 25);
	CHECK_U64(seen.ts[2], 30);
	rings__free(r);
	free(a);
	free(b);
}

/* A record still being written holds back what came after the ring's
 * last record, and nothing of its own ring passes it. */
static void test_busy_record_holds_back(void)
{
	struct fake_ring *a = new_fake_ring(), *b = new_fake_ring();
	struct seen seen = { 0 };
	struct rings *r = two_rings(a, b, &seen);
	uint64_t busy;

	put(a, 10, COMMITTED);
	CHECK_U64(rings__drain(r, 15), 1);
	busy = put(a, 40, BUSY);
	put(a, 50, COMMITTED);
	put(b, 5, COMMITTED);
	put(b, 45, COMMITTED);
	CHECK_U64(rings__drain(r, 100), 1);
	CHECK_U64(seen.ts[1], 5);
	CHECK(rings__blocked(r));
	commit(a, busy);
	CHECK_U64(rings__drain(r, 100), 3);
	CHECK(!rings__blocked(r));
	CHECK_U64(seen.ts[2], 40);
	CHECK_U64(seen.ts[3], 45);
	CHECK_U64(seen.ts[4], 50);
	rings__free(r);
	free(a);
	free(b);
}

/* A record still being written past where the last drain read up to
 * was reserved after that drain's time: older records of other rings
 * need not wait for it. */
static void test_busy_after_last_drain(void)
{
	struct fake_ring *a = new_fake_ring(), *b = new_fake_ring();
	struct seen seen = { 0 };
	struct rings *r = two_rings(a, b, &seen);
	uint64_t x, y;

	x = put(a, 45, BUSY);
	put(b, 30, COMMITTED);
	put(b, 48, COMMITTED);
	put(b, 60, COMMITTED);
	/* nothing is known of x's time yet */
	CHECK_U64(rings__drain(r, 50), 0);
	CHECK(rings__blocked(r));
	commit(a, x);
	y = put(a, 90, BUSY);
	/* y came after the drain at 50: 48 goes, 60 waits for y */
	CHECK_U64(rings__drain(r, 100), 3);
	CHECK_U64(seen.ts[0], 30);
	CHECK_U64(seen.ts[1], 45);
	CHECK_U64(seen.ts[2], 48);
	CHECK(rings__blocked(r));
	commit(a, y);
	CHECK_U64(rings__drain(r, 100), 2);
	CHECK_U64(seen.ts[3], 60);
	CHECK_U64(seen.ts[4], 90);
	rings__free(r);
	free(a);
	free(b);
}

/* Discarded records are passed by; a record running past the ring's end
 * lies whole in the element's slack. */
static void test_discarded_and_past_the_end(void)
{
	struct fake_ring *a = new_fake_ring(), *b = new_fake_ring();
	struct seen seen = { 0 };
	struct rings *r = two_rings(a, b, &seen);
	uint64_t ts;

	for (ts = 1; ts <= 6; ts++)
		put(a, ts, COMMITTED);
	CHECK_U64(rings__drain(r, 100), 6);
	/* from 240 to 280: its time lies past byte 256 */
	CHECK_U64(put(a, 7, COMMITTED), 240);
	put(a, 8, DISCARDED);
	put(a, 9, COMMITTED);
	CHECK_U64(rings__drain(r, 100), 2);
	CHECK_U64(seen.ts[6], 7);
	CHECK_U64(seen.ts[7], 9);
	CHECK_U64(a->ctl.tail, a->ctl.head);
	rings__free(r);
	free(a);
	free(b);
}

/* A place reserved whose header is not written yet still holds an older
 * lap's committed record: it is not that record again, but one to wait
 * for. */
static void test_older_lap_is_not_read_again(void)
{
	struct fake_ring *a = new_fake_ring(), *b = new_fake_ring();
	struct seen seen = { 0 };
	struct rings *r;

	put(a, 1, COMMITTED);
	/* a lap later, the same place: the head past it, nothing written */
	a->ctl.tail = RING_SIZE;
	a->ctl.head = RING_SIZE + PT_RING_SPAN(sizeof(struct record));
	r = two_rings(a, b, &seen);
	CHECK_U64(rings__drain(r, 100), 0);
	CHECK(rings__blocked(r));
	a->ctl.head = RING_SIZE;
	put(a, 5, COMMITTED);
	CHECK_U64(rings__drain(r, 100), 1);
	CHECK_U64(seen.ts[0], 5);
	rings__free(r);
	free(a);
	free(b);
}

/* A control block whose size and masks disagree is refused, and so is
 * an odd key. */
static void test_bad_layout_refused(void)
{
	struct fake_ring *a = new_fake_ring();
	struct rings *r = rings__new(on_record, NULL, KEY);

	a->ctl.offset_mask = RING_SIZE / 2 - 1;
	CHECK_U64(rings__add_ring(r, &a->ctl, &a->elem), (uint64_t)-EINVAL);
	rings__free(r);
	CHECK(rings__new(on_record, NULL, KEY | 1) == NULL);
	free(a);
}

/* A header that says committed but could not be a producer's (longer
 * than what was reserved) is waited for, not read. */
static void test_impossible_header_waits(void)
{
	struct fake_ring *a = new_fake_ring(), *b = new_fake_ring();
	struct seen seen = { 0 };
	struct rings *r = two_rings(a, b, &seen);
	uint64_t pos = put(a, 1, COMMITTED);

	header_at(a, pos)->len = 4096;
	CHECK_U64(rings__drain(r, 100), 0);
	CHECK(rings__blocked(r));
	header_at(a, pos)->len = sizeof(struct record);
	CHECK_U64(rings__drain(r, 100), 1);
	rings__free(r);
	free(a);
	free(b);
}

/* Two elements: records pass from the first (the last one lying in its
 * slack) to the second, and the ring goes round. */
struct counted {
	uint64_t next_ts;
	uint64_t count;
	bool in_order;
};

static void on_counted(void *ctx, const void *data, size_t size)
{
	struct counted *c = ctx;
	const struct pt_rec_header *hdr = data;

	c->in_order &= size == sizeof(struct record) && hdr->ts == c->next_ts;
	c->next_ts++;
	c->count++;
}

static void test_across_elements(void)
{
	struct {
		struct pt_ring_ctl ctl;
		struct pt_ring_elem elem[2];
	} *ring = calloc(1, sizeof(*ring));
	struct counted c = { .next_ts = 1, .in_order = true };
	struct rings *r = rings__new(on_counted, &c, KEY);
	uint64_t span = PT_RING_SPAN(sizeof(struct record)), ts, lap;

	CHECK(ring != NULL && r != NULL);
	ring->ctl.size = 2 * PT_RING_ELEM_BYTES;
	ring->ctl.offset_mask = PT_RING_ELEM_BYTES - 1;
	ring->ctl.elem_mask = 1;
	CHECK_U64(rings__add_ring(r, &ring->ctl, ring->elem), 0);
	/* an element's worth at a time, drained each time: round once and
	 * a half */
	for (ts = 1, lap = 0; lap < 3; lap++) {
		while (ring->ctl.head < (lap + 1) * PT_RING_ELEM_BYTES) {
			uint64_t pos = ring->ctl.head;
			uint8_t *at =
				&ring->elem[(pos / PT_RING_ELEM_BYTES) % 2]
					 .bytes[pos % PT_RING_ELEM_BYTES];
			struct pt_ring_hdr rh = { PT_RING_DONE(pos, KEY),
						  sizeof(struct record), 0 };
			struct record rec = { .hdr = { .ts = ts++ } };

			memcpy(at, &rh, sizeof(rh));
			memcpy(at + sizeof(rh), &rec, sizeof(rec));
			ring->ctl.head += span;
		}
		rings__drain(r, ts);
		CHECK_U64(c.count, ts - 1);
	}
	CHECK(c.in_order);
	CHECK_U64(ring->ctl.tail, ring->ctl.head);
	/* the first element's last record went past its end */
	CHECK(PT_RING_ELEM_BYTES % span != 0);
	rings__free(r);
	free(ring);
}

int main(void)
{
	RUN(test_merged_by_time);
	RUN(test_later_records_wait);
	RUN(test_busy_record_holds_back);
	RUN(test_busy_after_last_drain);
	RUN(test_discarded_and_past_the_end);
	RUN(test_older_lap_is_not_read_again);
	RUN(test_bad_layout_refused);
	RUN(test_impossible_header_waits);
	RUN(test_across_elements);
	return check_summary();
}
