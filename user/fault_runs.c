// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "fault_runs.h"
#include "trace.h"

/* Instructions told to the kernel, so that each is told once: a direct
 * mapped table (a collision tells one again, which is harmless). */
#define TOLD_SLOTS 1024

struct fault_runs {
	struct trace *trace;
	uint64_t told[TOLD_SLOTS]; /* 0: free */
};

struct fault_runs *fault_runs__new(struct trace *trace)
{
	struct fault_runs *fr = calloc(1, sizeof(*fr));

	if (fr)
		fr->trace = trace;
	return fr;
}

void fault_runs__free(struct fault_runs *fr)
{
	free(fr);
}

uint32_t fault_runs__take(const struct pt_rec_fault *rec)
{
	/* the only word of a ring user space writes to, besides the tail */
	uint32_t *run = (uint32_t *)&rec->run;
	uint32_t faults =
		__atomic_fetch_or(run, PT_RUN_SEALED, __ATOMIC_ACQ_REL) &
		PT_RUN_COUNT_MASK;

	return faults >= 1 && faults <= PT_RUN_MAX_FAULTS ? faults : 0;
}

static size_t told_slot(uint64_t ip)
{
	return (size_t)((ip * 0x9e3779b97f4a7c15ULL) >> 32) & (TOLD_SLOTS - 1);
}

void fault_runs__framed(struct fault_runs *fr, uint64_t ip)
{
	size_t slot = told_slot(ip);

	if (!ip || fr->told[slot] == ip)
		return;
	/* a full map (LRU) drops the oldest: the kernel then reads the word
	 * at sp there again, as before it was told */
	if (!trace__note_framed_ip(fr->trace, ip))
		fr->told[slot] = ip;
}

void fault_runs__forget(struct fault_runs *fr)
{
	trace__forget_framed_ips(fr->trace);
	memset(fr->told, 0, sizeof(fr->told));
}
