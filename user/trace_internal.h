/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The trace's parts, for its modules: trace.c loads, attaches and drains,
 * trace_maps.c reads and writes the kernel side's maps and globals while
 * it runs.
 */
#ifndef PAGETRACE_TRACE_INTERNAL_H
#define PAGETRACE_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include "trace.h"

struct bpf_link;
struct pagetrace_bpf;
struct ring_maps;
struct rings;
struct site_clock;

struct trace {
	struct pagetrace_bpf *skel;
	bool uprobe_multi; /* one link per program instead of per probe */
	bool empty; /* the floor programs, see trace_config */
	int *multi_fds;
	size_t multi_fd_count;
	size_t multi_fd_capacity;
	struct rings *rings;
	struct ring_maps *ring_maps;
	struct bpf_link **links; /* perf events and uprobes */
	size_t link_count;
	size_t link_capacity;
	int *perf_fds;
	size_t perf_fd_count;
	trace_record_fn on_record;
	void *ctx;
	int ncpus;
	unsigned int stack_depth;
	/* the figures that make the sites' TSC readings times, NULL if the
	 * probes read the kernel's clock alone */
	struct site_clock *site_clock;
	bool detached;
};

#endif
