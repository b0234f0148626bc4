/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report's part on what the kernel side sent: the records received,
 * those it could not send (and the figures they leave uncertain), and the
 * counts it kept of stacks and call slots.
 */
#ifndef PAGETRACE_REPORT_EVENTS_H
#define PAGETRACE_REPORT_EVENTS_H

#include <stdio.h>

struct json_writer;
struct ledger_stats;
struct run_info;

/* "records", "lost_events", "lost", "incomplete", "complete" */
void report_events__json(struct json_writer *w, const struct ledger_stats *st,
			 const struct run_info *info);
/* "lost_stacks", "stacks_walked", "stacks_reused", "stacks_without_chain",
 * "threads_without_call_slot" */
void report_events__json_counts(struct json_writer *w,
				const struct run_info *info);
/* the "events:" line, and a line for each of the others that happened */
void report_events__text(FILE *out, const struct ledger_stats *st,
			 const struct run_info *info);

#endif
