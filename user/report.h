/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report: one record per allocation as the ledger finishes it, then
 * the groups outside allocations and the summary. Text or JSON Lines.
 */
#ifndef PAGETRACE_REPORT_H
#define PAGETRACE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "decode.h"

struct alloc_view;
struct ledger;
struct kernel_facts;
struct sites;

/* What the run itself knew, beyond the ledger. */
struct site_clock;

struct run_info {
	pid_t pid;
	char comm[32];
	uint64_t t_start; /* ns, CLOCK_MONOTONIC */
	uint64_t t_end;
	uint64_t records; /* records received */
	uint64_t call_records; /* those of allocator calls and frees */
	uint64_t site_timed; /* and of those, timed at their sites */
	/* how, NULL if no site was asked to (siteclock.h) */
	const struct site_clock *site_clock;
	uint64_t fault_records; /* those of faults */
	/* faults that joined another's record (a run, see PT_RUN_*) */
	uint64_t faults_joined;
	uint64_t lost[PT_LOST__COUNT]; /* failed reservations, per type,
					  stacks not taken (PT_LOST_STACK),
					  walked and reused (PT_COUNT_*) */
	bool kernel_faults_known;
	uint64_t kernel_faults;
	bool exit_status_known;
	int exit_status;
	const char *allocator; /* glibc path, NULL if not traced */
	/* where its calls are probed: "preload" (pagetrace-preload.so's
	 * sites), "placed" (in glibc, see placement.h), "symbols"; NULL if
	 * not probed */
	const char *allocator_probes;
	const char *stop_reason; /* "exit", "duration", "signal", "count" */
	bool empty_probes; /* --empty-probes: nothing was recorded */
	bool light; /* --light: allocations are mappings, see light.h */
	uint64_t self_cpu_ns; /* pagetrace's own CPU time, user + system */
	const struct kernel_facts *kernel;
};

struct report_config {
	FILE *out;
	bool json;
	unsigned int top;
	bool verify; /* records carry page-table checks */
	struct sites *sites; /* where allocations were made and touched */
	bool folded; /* folded stacks only, no report */
	int folded_axes; /* enum folded_axes */
};

struct report;

struct report *report__new(const struct report_config *cfg);
void report__free(struct report *r);

/* Ledger callback: an allocation's record is final. */
void report__alloc(void *report, const struct alloc_view *view);
void report__finish(struct report *r, const struct ledger *l,
		    const struct run_info *info);
/* -i: the touching sites of the interval that just ended */
void report__interval(struct report *r, uint64_t elapsed_ns,
		      uint64_t interval_ns);

#endif
