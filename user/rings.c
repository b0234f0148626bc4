// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF ring buffer's layout, as the kernel maps it: a page holding the
 * consumer position (ours to write), a page holding the producer position,
 * then the data pages, mapped twice in a row so that a record that wraps
 * around reads as one piece. Each record starts with an 8-byte header: its
 * length, with a busy bit while its program is still writing it and a
 * discard bit if it was thrown away, then the offset of its page.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>
#include "pagetrace.h"
#include "rings.h"

struct ring {
	unsigned long *consumer_pos; /* shared with the kernel */
	const unsigned long *producer_pos;
	const uint8_t *data;
	uint64_t size;
	uint64_t cons; /* where its next record is */
	uint64_t prod; /* the producer position when this drain began */
	uint64_t prev_prod; /* and when the one before began */
	uint64_t released; /* the consumer position the kernel was told */
	/* time of the record at cons, once committed; never less than
	 * last_ts (see next_head()) */
	uint64_t head_ts;
	uint64_t last_ts; /* time of the last record handed over */
	void *consumer_map; /* NULL for a ring in plain memory */
	void *producer_map;
	size_t producer_map_len;
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
	int epoll_fd;
	uint64_t prev_now; /* the time the last drain was given */
	bool draining;
	bool blocked; /* the last drain stopped at an uncommitted record */
};

struct rings *rings__new(rings_record_fn fn, void *ctx)
{
	struct rings *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fn = fn;
	r->ctx = ctx;
	r->epoll_fd = -1;
	return r;
}

void rings__free(struct rings *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->count; i++) {
		struct ring *ring = &r->ring[i];

		if (ring->consumer_map)
			munmap(ring->consumer_map, getpagesize());
		if (ring->producer_map)
			munmap(ring->producer_map, ring->producer_map_len);
	}
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	free(r->ring);
	free(r->heap);
	free(r);
}

static bool valid_size(uint64_t size)
{
	return size >= BPF_RINGBUF_HDR_SZ && !(size & (size - 1));
}

/* NULL: out of memory */
static struct ring *new_ring(struct rings *r, uint64_t size)
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
	*ring = (struct ring){ .size = size };
	return ring;
}

int rings__add_memory(struct rings *r, uint64_t *consumer_pos,
		      const uint64_t *producer_pos, const void *data,
		      uint64_t size)
{
	struct ring *ring = valid_size(size) ? new_ring(r, size) : NULL;

	if (!ring)
		return valid_size(size) ? -ENOMEM : -EINVAL;
	ring->consumer_pos = (unsigned long *)consumer_pos;
	ring->producer_pos = (const unsigned long *)producer_pos;
	ring->data = data;
	ring->cons = ring->released = *consumer_pos;
	r->count++;
	return 0;
}

int rings__add_map(struct rings *r, int map_fd, uint64_t size)
{
	/* edge-triggered: records a drain leaves for later (made after it
	 * began) wait for the next wake-up, as the kernel side batches
	 * them, instead of waking the reader again at once */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	size_t page = getpagesize();
	struct ring *ring = valid_size(size) ? new_ring(r, size) : NULL;
	int err;

	if (!ring)
		return valid_size(size) ? -ENOMEM : -EINVAL;
	if (r->epoll_fd < 0) {
		r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
		if (r->epoll_fd < 0)
			return -errno;
	}
	ring->consumer_map =
		mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (ring->consumer_map == MAP_FAILED) {
		ring->consumer_map = NULL;
		return -errno;
	}
	ring->producer_map_len = page + 2 * size;
	ring->producer_map = mmap(NULL, ring->producer_map_len, PROT_READ,
				  MAP_SHARED, map_fd, page);
	if (ring->producer_map == MAP_FAILED) {
		err = -errno;
		munmap(ring->consumer_map, page);
		return err;
	}
	ev.data.u32 = r->count;
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev)) {
		err = -errno;
		munmap(ring->consumer_map, page);
		munmap(ring->producer_map, ring->producer_map_len);
		return err;
	}
	ring->consumer_pos = ring->consumer_map;
	ring->producer_pos = ring->producer_map;
	ring->data = (const uint8_t *)ring->producer_map + page;
	ring->cons = ring->released =
		__atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	r->count++;
	return 0;
}

int rings__epoll_fd(const struct rings *r)
{
	return r->epoll_fd;
}

/* The bytes a record takes in its ring, header and padding included. */
static uint64_t record_span(uint32_t len)
{
	len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
	return ((uint64_t)len + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
}

static const uint8_t *record_at(const struct ring *ring, uint64_t pos)
{
	return ring->data + (pos & (ring->size - 1));
}

/* Let the kernel reuse what was read. Each store pulls the line the
 * producer reads at every reservation to this CPU: not once per record. */
static void release(struct ring *ring)
{
	if (ring->released == ring->cons)
		return;
	__atomic_store_n(ring->consumer_pos, ring->cons, __ATOMIC_RELEASE);
	ring->released = ring->cons;
}

/* The ring's next record in this drain; discarded ones are passed by. */
static enum head next_head(struct ring *ring)
{
	while (ring->cons < ring->prod) {
		const uint8_t *at = record_at(ring, ring->cons);
		uint32_t len =
			__atomic_load_n((const uint32_t *)at, __ATOMIC_ACQUIRE);
		const struct pt_rec_header *hdr;

		if (len & BPF_RINGBUF_BUSY_BIT)
			return HEAD_BUSY;
		if (len & BPF_RINGBUF_DISCARD_BIT) {
			ring->cons += record_span(len);
			continue;
		}
		hdr = (const void *)(at + BPF_RINGBUF_HDR_SZ);
		/* a program preempted between its reservation and its clock
		 * read (uprobe programs may be) stamps its record later than
		 * the next one's: the ring's order stands */
		ring->head_ts = len >= sizeof(*hdr) && hdr->ts > ring->last_ts ?
					hdr->ts :
					ring->last_ts;
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
 * reserved after that drain's time.
 */
static void place_head(struct rings *r, size_t i, uint64_t *limit)
{
	struct ring *ring = &r->ring[i];
	uint64_t before;

	switch (next_head(ring)) {
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

/* Take the rings' wake-ups (edge-triggered, see rings__add_map()): the
 * epoll they sit in stays readable to its own poller until they are. */
static void clear_wakeups(struct rings *r)
{
	struct epoll_event events[16];

	if (r->epoll_fd < 0)
		return;
	while (epoll_wait(r->epoll_fd, events, 16, 0) == 16)
		;
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
			__atomic_load_n(ring->producer_pos, __ATOMIC_ACQUIRE);
		place_head(r, i, &limit);
	}
	while (r->heap_len) {
		size_t index = r->heap[0];
		struct ring *ring = &r->ring[index];
		const uint8_t *at = record_at(ring, ring->cons);
		uint32_t len = *(const uint32_t *)at;

		if (ring->head_ts > limit)
			break;
		heap_pop(r);
		r->fn(r->ctx, at + BPF_RINGBUF_HDR_SZ, len);
		handed++;
		ring->last_ts = ring->head_ts;
		ring->cons += record_span(len);
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
