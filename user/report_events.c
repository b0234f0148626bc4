// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include "json.h"
#include "ledger.h"
#include "report.h"
#include "report_events.h"
#include "siteclock.h"

static uint64_t lost_total(const struct run_info *info)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < PT_REC__COUNT; i++)
		total += info->lost[i];
	return total;
}

static const char *record_name(int type)
{
	switch (type) {
	case PT_REC_CALL:
		return "call";
	case PT_REC_FREE:
		return "free";
	case PT_REC_FAULT:
		return "fault";
	case PT_REC_SYSCALL:
		return "syscall";
	case PT_REC_TASK:
		return "task";
	case PT_REC_HOLD:
		return "hold";
	case PT_REC_PAGES:
		return "pages";
	case PT_REC_CHUNK:
		return "chunk";
	case PT_REC_USTACK:
		return "user_stack";
	case PT_REC_SITE:
		return "site";
	case PT_REC_STACK:
		return "stack";
	default:
		return "?";
	}
}

/* The figures each kind of lost record makes uncertain. */
static const char *affected_figures(int type)
{
	switch (type) {
	case PT_REC_CALL:
		return "allocations";
	case PT_REC_FREE:
		return "frees";
	case PT_REC_FAULT:
		return "faults";
	case PT_REC_SYSCALL:
		return "page_states";
	case PT_REC_HOLD:
		return "verification";
	case PT_REC_PAGES:
		return "page_states";
	case PT_REC_CHUNK:
		return "allocations";
	case PT_REC_USTACK:
		return "sites";
	case PT_REC_SITE:
		return "faults";
	case PT_REC_STACK:
		return "sites";
	default:
		return "lifecycle";
	}
}

static bool complete(const struct ledger_stats *st, const struct run_info *info)
{
	return !lost_total(info) && info->allocator && !st->overlapped &&
	       !info->lost[PT_COUNT_UNPLACED];
}

void report_events__json(struct json_writer *w, const struct ledger_stats *st,
			 const struct run_info *info)
{
	int k;

	json__kv_u64(w, "records", info->records);
	json__kv_u64(w, "lost_events", lost_total(info));
	json__key(w, "lost");
	json__begin_object(w);
	for (k = 1; k < PT_REC__COUNT; k++)
		json__kv_u64(w, record_name(k), info->lost[k]);
	json__end_object(w);
	json__key(w, "incomplete");
	json__begin_array(w);
	for (k = 1; k < PT_REC__COUNT; k++)
		if (info->lost[k])
			json__string(w, affected_figures(k));
	if (!info->allocator)
		json__string(w, "allocations");
	if (st->overlapped)
		json__string(w, "frees");
	if (info->lost[PT_COUNT_UNPLACED])
		json__string(w, "page_states");
	json__end_array(w);
	json__kv_bool(w, "complete", complete(st, info));
}

void report_events__json_counts(struct json_writer *w,
				const struct run_info *info)
{
	json__kv_u64(w, "lost_stacks", info->lost[PT_LOST_STACK]);
	json__kv_u64(w, "stacks_walked", info->lost[PT_COUNT_STACK_WALKED]);
	json__kv_u64(w, "stacks_reused", info->lost[PT_COUNT_STACK_REUSED]);
	json__kv_u64(w, "stacks_spilled", info->lost[PT_COUNT_STACK_SPILLED]);
	json__kv_u64(w, "stacks_without_chain",
		     info->lost[PT_COUNT_STACK_NO_CHAIN]);
	json__kv_u64(w, "threads_without_call_slot",
		     info->lost[PT_COUNT_SLOT_TAKEN]);
	json__kv_u64(w, "stack_tops_unread", info->lost[PT_COUNT_TOP_UNREAD]);
	json__kv_u64(w, "faults_unplaced", info->lost[PT_COUNT_UNPLACED]);
	json__kv_u64(w, "call_records", info->call_records);
	json__kv_u64(w, "calls_timed_at_sites", info->site_timed);
	json__key(w, "site_clock_error_ns");
	if (info->site_clock)
		json__u64(w, site_clock__error_ns(info->site_clock));
	else
		json__null(w);
	json__kv_bool(w, "site_clock_withdrawn",
		      info->site_clock &&
			      site_clock__withdrawn(info->site_clock));
	json__kv_u64(w, "fault_records", info->fault_records);
	json__kv_u64(w, "faults_joined", info->faults_joined);
}

void report_events__text(FILE *out, const struct ledger_stats *st,
			 const struct run_info *info)
{
	if (!lost_total(info)) {
		fprintf(out, "events: %" PRIu64 " received, none lost%s\n",
			info->records,
			complete(st, info) ? "" : " (but see above)");
	} else {
		size_t n;
		int k;

		fprintf(out, "events: %" PRIu64 " received, %" PRIu64 " LOST (",
			info->records, lost_total(info));
		for (k = 1, n = 0; k < PT_REC__COUNT; k++)
			if (info->lost[k])
				fprintf(out, "%s%s %" PRIu64, n++ ? ", " : "",
					record_name(k), info->lost[k]);
		fprintf(out, "): INCOMPLETE, figures are lower bounds; raise "
			     "--ringbuf-size\n");
	}
	if (st->overlapped)
		fprintf(out,
			"%" PRIu64 " blocks were replaced without a free being "
			"seen: INCOMPLETE\n",
			st->overlapped);
	if (info->lost[PT_COUNT_UNPLACED])
		fprintf(out,
			"%" PRIu64
			" faults closed after another thread released "
			"pages that may be theirs: their pages not placed, "
			"INCOMPLETE\n",
			info->lost[PT_COUNT_UNPLACED]);
	if (info->lost[PT_LOST_STACK])
		fprintf(out,
			"%" PRIu64
			" stacks not taken (unreadable, or their record "
			"lost): those records have their site alone\n",
			info->lost[PT_LOST_STACK]);
	if (info->lost[PT_COUNT_STACK_WALKED] ||
	    info->lost[PT_COUNT_STACK_REUSED] ||
	    info->lost[PT_COUNT_STACK_NO_CHAIN])
		fprintf(out,
			"user stacks: %" PRIu64 " walked, %" PRIu64
			" reused (the thread's last, from the same frame), %" PRIu64
			" without a frame-pointer chain (rbp held none: code "
			"built without frame pointers, an outermost frame; "
			"those keep their site, and a frameless function's "
			"caller)\n",
			info->lost[PT_COUNT_STACK_WALKED],
			info->lost[PT_COUNT_STACK_REUSED],
			info->lost[PT_COUNT_STACK_NO_CHAIN]);
	if (info->lost[PT_COUNT_STACK_SPILLED])
		fprintf(out,
			"%" PRIu64 " user stacks sent whole, in records of "
			"their own (their bucket in the kernel's stack map held "
			"by another stack; raising --stack-storage saves "
			"those records)\n",
			info->lost[PT_COUNT_STACK_SPILLED]);
	if (info->site_clock)
		fprintf(out,
			"call times: %" PRIu64 " of %" PRIu64
			" calls and frees read at the preloaded sites (TSC at "
			"%.0f MHz, made CLOCK_MONOTONIC by figures found off "
			"by %" PRIu64 " ns at most%s)\n",
			info->site_timed, info->call_records,
			site_clock__mhz(info->site_clock),
			site_clock__error_ns(info->site_clock),
			site_clock__withdrawn(info->site_clock) ?
				"; WITHDRAWN for drifting, the later calls "
				"timed in the kernel" :
				"");
	if (info->lost[PT_COUNT_SLOT_TAKEN])
		fprintf(out,
			"%" PRIu64 " threads followed in task storage (their "
			"call slot held by another thread): slower, figures "
			"the same; raise --call-slots\n",
			info->lost[PT_COUNT_SLOT_TAKEN]);
}
