// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side's rings as pagetrace.h lays them out (struct
 * pt_ring_ctl): each CPU's control block, holding the producers' head
 * and our tail, and its elements in the ring_data array, mapped here.
 * A record is read at the ring's tail once its header's seq says it is
 * committed; the tail goes back to the kernel side every eighth of a
 * ring. The doorbell, a BPF ring buffer whose records are never read,
 * only wakes this side's epoll.
 */
#include <errno.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>
#include "pagetrace.h"
#include "rings.h"

struct ring {
	struct pt_ring_ctl *ctl; /* shared with the kernel side */
	const uint8_t *elems; /* the ring's first element */
	/* ctl's layout, copied: its line is the producers', read here
	 * once per drain only (the head) */
	uint64_t size;
	uint64_t offset_mask;
	uint32_t elem_mask;
	uint64_t cons; /* where its next record is */
	uint64_t prod; /* the producer position when this drain began */
	uint64_t prev_prod; /* and when the one before began */
	uint64_t released; /* the consumer position the kernel was told */
	/* time of the record at cons, once committed; never less than
	 * last_ts (see next_head()) */
	uint64_t head_ts;
	uint64_t last_ts; /* time of the last record handed over */
};

enum head {
	HEAD_NONE, /* nothing more in this drain */
	HEAD_READY, /* a committed record, at head_ts */
	HEAD_BUSY, /* a record its program has not committed yet */
};

struct rings {
	struct ring *ring;
	size_t count;
	size_t capacity;
	/* the rings whose next record is committed, a min-heap on head_ts */
	size_t *heap;
	size_t heap_len;
	rings_record_fn fn;
	void *ctx;
	uint64_t key; /* of committed records, see struct pt_ring_hdr */
	int epoll_fd;
	/* the doorbell's positions (see rings__add_doorbell()) */
	unsigned long *doorbell_consumer;
	const unsigned long *doorbell_producer;
	uint64_t prev_now; /* the time the last drain was given */
	bool draining;
	bool blocked; /* the last drain stopped at an uncommitted record */
};

struct rings *rings__new(rings_record_fn fn, void *ctx, uint64_t key)
{
	struct rings *r;

	if (key & 1) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->key = key;
	r->fn = fn;
	r->ctx = ctx;
	r->epoll_fd = -1;
	return r;
}

void rings__free(struct rings *r)
{
	if (!r)
		return;
	if (r->doorbell_consumer)
		munmap(r->doorbell_consumer, getpagesize());
	if (r->doorbell_producer)
		munmap((void *)r->doorbell_producer, getpagesize());
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	free(r->ring);
	free(r->heap);
	free(r);
}

/* NULL: out of memory */
static struct ring *new_ring(struct rings *r)
{
	struct ring *ring;

	if (r->count == r->capacity) {
		size_t capacity = r->capacity ? r->capacity * 2 : 8;
		struct ring *rings =
			realloc(r->ring, capacity * sizeof(*rings));
		size_t *heap;

		if (!rings)
			return NULL;
		r->ring = rings;
		heap = realloc(r->heap, capacity * sizeof(*heap));
		if (!heap)
			return NULL;
		r->heap = heap;
		r->capacity = capacity;
	}
	ring = &r->ring[r->count];
	*ring = (struct ring){ 0 };
	return ring;
}

static bool valid_ring(const struct pt_ring_ctl *ctl)
{
	uint64_t size = ctl->size;

	return size >= 8 && !(size & (size - 1)) &&
	       ctl->offset_mask + 1 == (size < PT_RING_ELEM_BYTES ?
						size :
						PT_RING_ELEM_BYTES) &&
	       (uint64_t)ctl->elem_mask + 1 ==
		       (size > PT_RING_ELEM_BYTES ? size / PT_RING_ELEM_BYTES :
						    1);
}

int rings__add_ring(struct rings *r, struct pt_ring_ctl *ctl, const void *elems)
{
	struct ring *ring = valid_ring(ctl) ? new_ring(r) : NULL;

	if (!ring)
		return valid_ring(ctl) ? -ENOMEM : -EINVAL;
	ring->ctl = ctl;
	ring->elems = (const uint8_t *)elems +
		      (size_t)ctl->first_elem * sizeof(struct pt_ring_elem);
	ring->size = ctl->size;
	ring->offset_mask = ctl->offset_mask;
	ring->elem_mask = ctl->elem_mask;
	ring->cons = ring->released =
		__atomic_load_n(&ctl->tail, __ATOMIC_ACQUIRE);
	r->count++;
	return 0;
}

int rings__add_doorbell(struct rings *r, int map_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	size_t page = getpagesize();
	void *consumer, *producer;

	if (r->doorbell_consumer)
		return -EEXIST;
	if (r->epoll_fd < 0) {
		r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
		if (r->epoll_fd < 0)
			return -errno;
	}
	consumer =
		mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (consumer == MAP_FAILED)
		return -errno;
	r->doorbell_consumer = consumer;
	/* the producer position's page alone: what it rang is not read */
	producer = mmap(NULL, page, PROT_READ, MAP_SHARED, map_fd, page);
	if (producer == MAP_FAILED)
		return -errno;
	r->doorbell_producer = producer;
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev))
		return -errno;
	return 0;
}

int rings__epoll_fd(const struct rings *r)
{
	return r->epoll_fd;
}

static const struct pt_ring_hdr *record_at(const struct ring *ring,
					   uint64_t pos)
{
	uint64_t elem = (pos >> PT_RING_ELEM_SHIFT) & ring->elem_mask;

	return (const void *)(ring->elems + elem * sizeof(struct pt_ring_elem) +
			      (pos & ring->offset_mask));
}

/* Let the kernel reuse what was read. Each store pulls the line the
 * producer reads at every reservation to this CPU: not once per record. */
static void release(struct ring *ring)
{
	if (ring->released == ring->cons)
		return;
	__atomic_store_n(&ring->ctl->tail, ring->cons, __ATOMIC_RELEASE);
	ring->released = ring->cons;
}

/*
 * Is the record at cons committed? Its seq says so, and for a record the
 * producers could have written: whole, before the head, and no bigger
 * than an element's slack (so no older lap's bytes pass, even made up).
 */
static bool committed(const struct rings *r, const struct ring *ring,
		      const struct pt_ring_hdr *rh)
{
	uint64_t span;

	if (__atomic_load_n(&rh->seq, __ATOMIC_ACQUIRE) !=
	    PT_RING_DONE(ring->cons, r->key))
		return false;
	span = PT_RING_SPAN(rh->len);
	return span <= PT_RING_SLACK && ring->cons + span <= ring->prod &&
	       (rh->len >= sizeof(struct pt_rec_header) ||
		(rh->flags & PT_RING_DISCARDED));
}

/* The ring's next record in this drain; discarded ones are passed by. */
static enum head next_head(const struct rings *r, struct ring *ring)
{
	while (ring->cons < ring->prod) {
		const struct pt_ring_hdr *rh = record_at(ring, ring->cons);
		const struct pt_rec_header *hdr = (const void *)(rh + 1);

		/* before its header, the bytes may still be an older
		 * record's */
		if (!committed(r, ring, rh))
			return HEAD_BUSY;
		if (rh->flags & PT_RING_DISCARDED) {
			ring->cons += PT_RING_SPAN(rh->len);
			continue;
		}
		/* a program preempted between its reservation and its clock
		 * read (uprobe programs may be) stamps its record later than
		 * the next one's: the ring's order stands */
		ring->head_ts =
			hdr->ts > ring->last_ts ? hdr->ts : ring->last_ts;
		return HEAD_READY;
	}
	return HEAD_NONE;
}

static bool heap_less(const struct rings *r, size_t a, size_t b)
{
	return r->ring[r->heap[a]].head_ts < r->ring[r->heap[b]].head_ts;
}

static void heap_swap(struct rings *r, size_t a, size_t b)
{
	size_t index = r->heap[a];

	r->heap[a] = r->heap[b];
	r->heap[b] = index;
}

static void heap_push(struct rings *r, size_t ring_index)
{
	size_t at = r->heap_len++;

	r->heap[at] = ring_index;
	while (at && heap_less(r, at, (at - 1) / 2)) {
		heap_swap(r, at, (at - 1) / 2);
		at = (at - 1) / 2;
	}
}

static void heap_pop(struct rings *r)
{
	size_t at = 0;

	r->heap[0] = r->heap[--r->heap_len];
	for (;;) {
		size_t child = 2 * at + 1;

		if (child >= r->heap_len)
			break;
		if (child + 1 < r->heap_len && heap_less(r, child + 1, child))
			child++;
		if (!heap_less(r, child, at))
			break;
		heap_swap(r, at, child);
		at = child;
	}
}

/*
 * Where ring i's next record goes: into the heap, or, still being
 * written, it lowers the limit to what is known of its time. It was
 * reserved after the ring's last record, so it comes after that one's
 * time; and if it lies past where the last drain read up to, it was
 * reserved after that drain's time (a call timed at its site was stamped
 * a kernel entry before: see README, Limits).
 */
static void place_head(struct rings *r, size_t i, uint64_t *limit)
{
	struct ring *ring = &r->ring[i];
	uint64_t before;

	switch (next_head(r, ring)) {
	case HEAD_READY:
		heap_push(r, i);
		break;
	case HEAD_BUSY:
		before = ring->last_ts;
		if (ring->cons >= ring->prev_prod && r->prev_now > before)
			before = r->prev_now;
		if (before < *limit)
			*limit = before;
		r->blocked = true;
		break;
	case HEAD_NONE:
		break;
	}
}

/* The doorbell has been heard: it stops ringing (being readable) until
 * rung again. */
static void clear_wakeups(struct rings *r)
{
	if (r->doorbell_consumer)
		__atomic_store_n(
			r->doorbell_consumer,
			__atomic_load_n(r->doorbell_producer, __ATOMIC_ACQUIRE),
			__ATOMIC_RELEASE);
}

/*
 * A record's time is read after its place in the ring is taken, and the
 * producer positions are read here well after now was (rings.h): a ring
 * with nothing more in this drain can only get records later than now.
 * So every committed record up to now goes, in time order, and those
 * after now wait for the next drain.
 */
long rings__drain(struct rings *r, uint64_t now)
{
	uint64_t limit = now;
	long handed = 0;
	size_t i;

	/* a record's handler must not drain again: see rings__draining() */
	if (r->draining)
		return 0;
	r->draining = true;
	r->blocked = false;
	clear_wakeups(r);
	r->heap_len = 0;
	for (i = 0; i < r->count; i++) {
		struct ring *ring = &r->ring[i];

		ring->prev_prod = ring->prod;
		ring->prod =
			__atomic_load_n(&ring->ctl->head, __ATOMIC_ACQUIRE);
		place_head(r, i, &limit);
	}
	while (r->heap_len) {
		size_t index = r->heap[0];
		struct ring *ring = &r->ring[index];
		const struct pt_ring_hdr *rh = record_at(ring, ring->cons);
		uint32_t len = rh->len;

		if (ring->head_ts > limit)
			break;
		heap_pop(r);
		r->fn(r->ctx, rh + 1, len);
		handed++;
		ring->last_ts = ring->head_ts;
		ring->cons += PT_RING_SPAN(len);
		/* room for the producer well before the ring fills */
		if (ring->cons - ring->released >= ring->size / 8)
			release(ring);
		place_head(r, index, &limit);
	}
	for (i = 0; i < r->count; i++)
		release(&r->ring[i]);
	r->prev_now = now;
	r->draining = false;
	return handed;
}

bool rings__blocked(const struct rings *r)
{
	return r->blocked;
}

bool rings__draining(const struct rings *r)
{
	return r->draining;
}
