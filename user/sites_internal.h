/* SPDX-License-Identifier: GPL-2.0 */
/* The site tables shared by the accounting (sites.c) and the reports. */
#ifndef PAGETRACE_SITES_INTERNAL_H
#define PAGETRACE_SITES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pagetrace.h"

#define BUCKETS 4096
#define HIST_SLOTS 40 /* log2 buckets of microseconds */
#define DELAY_SAMPLES 1024 /* first-touch delays kept per site for p50 */
#define PAGE_BYTES 4096ULL

/* pages one site shares with another (touching site, allocation site) */
struct link {
	uint64_t site;
	uint64_t pages;
};

struct links {
	struct link *items;
	size_t count;
	size_t capacity;
};

struct alloc_site {
	struct alloc_site *next;
	uint64_t site;
	uint64_t allocs;
	uint64_t bytes;
	uint64_t resident_pages;
	uint64_t untouched_pages;
	uint64_t zero_pages;
	uint64_t touched; /* allocations touched at all */
	uint64_t delay_max; /* ns */
	uint64_t *delays; /* first-touch delays, ns: a sample (keep_delay) */
	size_t delay_count;
	size_t delay_capacity;
	uint64_t histogram[HIST_SLOTS];
	struct links touched_by;
};

struct touch_site {
	struct touch_site *next;
	uint64_t site;
	uint64_t faults;
	uint64_t pages;
	uint64_t faults_by_outcome[PT_OUT__COUNT];
	uint64_t syscall_pages; /* populated by its syscalls */
	uint64_t interval_faults;
	uint64_t interval_pages;
	struct links hits;
};

struct folded_key {
	int32_t alloc_stack;
	int32_t touch_stack;
	uint64_t alloc_site;
	uint64_t touch_site;
};

struct folded {
	struct folded *next;
	struct folded_key key;
	uint64_t pages;
};

/* a site described in JSON, as json_frame() writes it */
struct frame_json {
	struct frame_json *next;
	uint64_t site;
	bool return_address;
	size_t len;
	char text[];
};

struct sites {
	struct symbols *sym;
	struct stacks *stacks;
	uint64_t t_from;
	struct alloc_site *alloc_buckets[BUCKETS];
	struct touch_site *touch_buckets[BUCKETS];
	struct folded *folded_buckets[BUCKETS];
	struct frame_json *frame_json_buckets[BUCKETS];
	size_t alloc_count;
	size_t touch_count;
	uint64_t random; /* keep_delay()'s sampling */
	uint64_t interval_faults;
	uint64_t interval_pages;
};

#endif
