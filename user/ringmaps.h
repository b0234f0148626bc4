/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel side's rings laid out: how big each CPU's ring is, how many
 * elements of ring_data they take, the session's key of committed
 * records, and, once the BPF object is loaded, the maps mapped and each
 * CPU's control block (struct pt_ring_ctl) filled in for both sides.
 */
#ifndef PAGETRACE_RINGMAPS_H
#define PAGETRACE_RINGMAPS_H

#include <stdbool.h>
#include <stdint.h>

struct ring_maps;
struct rings;

/*
 * A ring for each of ncpus possible CPUs: asked bytes for those online
 * (0: PT_RINGS_BYTES shared among them, PT_RING_MIN_BYTES at least), a
 * small one for those that may come online later. NULL: out of memory.
 */
struct ring_maps *ring_maps__new(const bool *online, int ncpus, uint64_t asked);
void ring_maps__free(struct ring_maps *m);

/* ring_data's elements in all: its max_entries. */
uint32_t ring_maps__elems(const struct ring_maps *m);

/* The key of committed records, for the programs and for rings__new(). */
uint64_t ring_maps__key(const struct ring_maps *m);

/* After the load, before any program runs: map ring_ctl (ctl_fd) and
 * ring_data (data_fd), lay each CPU's ring out, and have r read them.
 * 0 or -errno. */
int ring_maps__open(struct ring_maps *m, int ctl_fd, int data_fd,
		    struct rings *r);

#endif
