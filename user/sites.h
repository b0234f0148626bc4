/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who allocated, who touched: every populated page is charged to both the
 * allocation site (the allocating call) and the touching site (the code
 * whose fault or syscall populated it). Tables per site, two-axis folded
 * stacks, per-interval counts for hot loops, first-touch histograms.
 */
#ifndef PAGETRACE_SITES_H
#define PAGETRACE_SITES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "ledger.h"

struct alloc_view;
struct json_writer;
struct stacks;
struct symbols;
struct sites;

enum folded_axes {
	FOLDED_BOTH, /* allocation-stack;-- touched by --;touching-stack */
	FOLDED_ALLOC,
	FOLDED_TOUCH,
};

struct sites *sites__new(struct symbols *sym, struct stacks *stacks);
void sites__free(struct sites *s);

/* Nothing before t_from (ns) counts (--warmup). */
void sites__count_from(struct sites *s, uint64_t t_from);
void sites__touch(struct sites *s, const struct touch *t);
/* An allocation's record is final: its site's figures grow. */
void sites__alloc(struct sites *s, const struct alloc_view *v);

/* JSON "site" and "stack" of an allocation record. */
void sites__json_alloc(struct sites *s, struct json_writer *w,
		       const struct alloc_view *v);
/* {"type":"site"} records, allocation sites then touching sites. */
void sites__json(struct sites *s, struct json_writer *w);
void sites__text(struct sites *s, FILE *out, unsigned int top);
void sites__folded(struct sites *s, FILE *out, enum folded_axes axes);

/* Hot loops: counts since the last interval, then reset; elapsed_ns:
 * since tracing started. */
void sites__interval(struct sites *s, FILE *out, struct json_writer *w,
		     uint64_t elapsed_ns, uint64_t interval_ns,
		     unsigned int top);

#endif
