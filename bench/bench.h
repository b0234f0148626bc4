/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the loader benchmarks share: the workloads' clock, and a loader
 * without a target (a ledger and its site tables over one made-up heap
 * mapping) for records that were made up rather than traced.
 */
#ifndef PAGETRACE_BENCH_H
#define PAGETRACE_BENCH_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "kernel.h"
#include "ledger.h"
#include "mappings.h"
#include "sites.h"
#include "workloads/workload.h"

struct bench_loader {
	struct kernel_facts kernel;
	struct mappings *maps;
	struct sites *sites;
	struct ledger *ledger;
};

static inline void bench_loader_on_alloc_end(void *ctx,
					     const struct alloc_view *v)
{
	struct bench_loader *l = ctx;

	sites__alloc(l->sites, v);
}

static inline void bench_loader_on_touch(void *ctx, const struct touch *t)
{
	struct bench_loader *l = ctx;

	sites__touch(l->sites, t);
}

/* The loader as a session sets it up, on a heap of [heap, heap + size):
 * no THP, a known zero page. */
static inline void bench_loader__init(struct bench_loader *l, uint64_t heap,
				      uint64_t size)
{
	struct ledger_config cfg = { 0 };
	struct mapping m = { .start = heap,
			     .end = heap + size,
			     .prot = PROT_READ | PROT_WRITE,
			     .kind = MAPPING_HEAP };

	memset(l, 0, sizeof(*l));
	l->kernel.zero_page_known = true;
	strcpy(l->kernel.thp_enabled, "never");
	l->maps = mappings__new(0);
	m.name = mappings__intern(l->maps, "[heap]");
	mappings__map(l->maps, &m);
	l->sites = sites__new(NULL, NULL);
	cfg.maps = l->maps;
	cfg.kernel = &l->kernel;
	cfg.on_alloc_end = bench_loader_on_alloc_end;
	cfg.on_touch = bench_loader_on_touch;
	cfg.ctx = l;
	l->ledger = ledger__new(&cfg);
}

static inline void bench_loader__fini(struct bench_loader *l)
{
	ledger__free(l->ledger);
	sites__free(l->sites);
	mappings__free(l->maps);
}

#endif
