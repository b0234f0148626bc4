// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "pagetrace.h"
#include "ringmaps.h"
#include "rings.h"
#include "trace.h"

/* The ring of a CPU offline when tracing begins, at most: machines (VMs
 * above all) may count many more possible CPUs than they run. */
#define PT_OFFLINE_RING_BYTES (256ULL << 10)

struct ring_maps {
	uint64_t *sizes; /* each possible CPU's ring, bytes */
	int ncpus;
	uint32_t elems;
	uint64_t key;
	struct pt_ring_ctl *ctls; /* ring_ctl, mapped */
	size_t ctls_len;
	void *data; /* ring_data, mapped */
	size_t data_len;
};

/* Each online CPU's ring: a power of two of pages. */
static uint64_t online_ring_bytes(uint64_t asked, int cpus)
{
	uint64_t size = PT_RING_MIN_BYTES;

	if (asked)
		return asked;
	while (size * 2 <= PT_RINGS_BYTES / (cpus > 0 ? cpus : 1))
		size *= 2;
	return size;
}

static uint32_t ring_elems(uint64_t size)
{
	return size > PT_RING_ELEM_BYTES ? size / PT_RING_ELEM_BYTES : 1;
}

/* Even, and another for each session, so that no bytes a traced program
 * wrote read as a committed record (pt_ring_hdr). */
static uint64_t new_key(void)
{
	uint64_t key = 0;
	struct timespec now;

	if (getrandom(&key, sizeof(key), GRND_NONBLOCK) != sizeof(key)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		key = (uint64_t)now.tv_nsec * 0x9e3779b97f4a7c15ULL ^
		      (uint64_t)getpid() << 32;
	}
	return key & ~1ULL;
}

struct ring_maps *ring_maps__new(const bool *online, int ncpus, uint64_t asked)
{
	struct ring_maps *m = calloc(1, sizeof(*m));
	int cpu, online_count = 0;
	uint64_t size;

	if (!m)
		return NULL;
	m->sizes = calloc(ncpus > 0 ? ncpus : 1, sizeof(*m->sizes));
	if (!m->sizes) {
		free(m);
		return NULL;
	}
	m->ncpus = ncpus;
	m->key = new_key();
	for (cpu = 0; cpu < ncpus; cpu++)
		online_count += online[cpu];
	size = online_ring_bytes(asked, online_count);
	for (cpu = 0; cpu < ncpus; cpu++) {
		m->sizes[cpu] = online[cpu] || size < PT_OFFLINE_RING_BYTES ?
					size :
					PT_OFFLINE_RING_BYTES;
		m->elems += ring_elems(m->sizes[cpu]);
	}
	return m;
}

void ring_maps__free(struct ring_maps *m)
{
	if (!m)
		return;
	if (m->ctls)
		munmap(m->ctls, m->ctls_len);
	if (m->data)
		munmap(m->data, m->data_len);
	free(m->sizes);
	free(m);
}

uint32_t ring_maps__elems(const struct ring_maps *m)
{
	return m->elems;
}

uint64_t ring_maps__key(const struct ring_maps *m)
{
	return m->key;
}

static size_t page_round(size_t bytes)
{
	size_t page = getpagesize();

	return (bytes + page - 1) / page * page;
}

int ring_maps__open(struct ring_maps *m, int ctl_fd, int data_fd,
		    struct rings *r)
{
	uint32_t first = 0;
	void *map;
	int cpu, err;

	m->ctls_len = page_round(m->ncpus * sizeof(struct pt_ring_ctl));
	map = mmap(NULL, m->ctls_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		   ctl_fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	m->ctls = map;
	m->data_len =
		page_round((size_t)m->elems * sizeof(struct pt_ring_elem));
	/* writable: a fault run's record is sealed where it lies (see
	 * PT_RUN_SEALED) */
	map = mmap(NULL, m->data_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		   data_fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	m->data = map;
	for (cpu = 0; cpu < m->ncpus; cpu++) {
		struct pt_ring_ctl *ctl = &m->ctls[cpu];
		uint64_t size = m->sizes[cpu];

		ctl->size = size;
		ctl->offset_mask =
			(size < PT_RING_ELEM_BYTES ? size :
						     PT_RING_ELEM_BYTES) -
			1;
		ctl->elem_mask = ring_elems(size) - 1;
		ctl->first_elem = first;
		ctl->wakeup_bytes = size / 4;
		first += ring_elems(size);
		err = rings__add_ring(r, ctl, m->data);
		if (err)
			return err;
	}
	return 0;
}
