/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel side's per-CPU ring buffers, read as one stream in record
 * time order (struct pt_rec_header's ts).
 *
 * Each CPU writes its own ring, so records of one thread that moved
 * between CPUs, or of two threads that passed a block between them, sit
 * in different rings; the ledger needs them in the order they happened.
 * A drain hands over every record made before it began, merged by time,
 * and keeps the later ones for the next drain (see rings__drain()).
 */
#ifndef PAGETRACE_RINGS_H
#define PAGETRACE_RINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rings;

typedef void (*rings_record_fn)(void *ctx, const void *data, size_t size);

/* NULL with errno set. key: the kernel side's key of committed records
 * (struct pt_ring_hdr), even. */
struct rings *rings__new(rings_record_fn fn, void *ctx, uint64_t key);
void rings__free(struct rings *r);

struct pt_ring_ctl;

/*
 * Read the ring ctl controls too, whose elements (struct pt_ring_elem)
 * begin at elems: the kernel side's ring_ctl and ring_data mapped, or
 * plain memory laid out alike for tests. 0 or -errno (-EINVAL: ctl's
 * size and masks do not agree).
 */
int rings__add_ring(struct rings *r, struct pt_ring_ctl *ctl,
		    const void *elems);

/* Be woken by the BPF ring buffer map_fd: the kernel side writes to it
 * when the reader should come. 0 or -errno. */
int rings__add_doorbell(struct rings *r, int map_fd);

/* Readable (EPOLLIN) once the kernel side wakes the reader, until the
 * next drain; -1 without a doorbell. */
int rings__epoll_fd(const struct rings *r);

/*
 * Hand fn every record made up to time now that has been committed, in
 * time order; the rest stay for the next drain. now is CLOCK_MONOTONIC
 * read RINGS_SETTLE_NS or more before this call: a record stamped before
 * now is then in its ring, whatever the store buffers and the CPUs'
 * clocks did. A ring whose next record is still being written holds back
 * the others' later records until it is committed (rings__blocked()).
 * Returns how many records were handed over.
 */
#define RINGS_SETTLE_NS 20000
long rings__drain(struct rings *r, uint64_t now);

/* The last drain stopped at a record still being written: drain again
 * soon, its program is about to commit it. */
bool rings__blocked(const struct rings *r);

/* Inside a drain (in fn): a drain now would hand over nothing. */
bool rings__draining(const struct rings *r);

#endif
