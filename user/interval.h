/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An ordered index of disjoint address ranges [start, end), intrusive:
 * embed struct interval_node in the indexed object and get it back with
 * container_of. A treap: expected O(log n) for every operation.
 */
#ifndef PAGETRACE_INTERVAL_H
#define PAGETRACE_INTERVAL_H

#include <stddef.h>
#include <stdint.h>

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))
#endif

struct interval_node {
	uint64_t start;
	uint64_t end;
	struct interval_node *left;
	struct interval_node *right;
	/* the treap's priority is a hash of the node's address: nothing
	 * stored, so that nodes stay small (see ledger_internal.h) */
};

struct interval_index;

struct interval_index *interval_index__new(void);
/* Frees the index only; the nodes belong to their owners. */
void interval_index__free(struct interval_index *idx);

/* 0, or -EINVAL for an empty range, -EEXIST if it overlaps another. */
int interval_index__insert(struct interval_index *idx,
			   struct interval_node *node, uint64_t start,
			   uint64_t end);
void interval_index__remove(struct interval_index *idx,
			    struct interval_node *node);
/* The range containing addr, or NULL. */
struct interval_node *interval_index__find(const struct interval_index *idx,
					   uint64_t addr);
/* The lowest range that intersects [start, end), or NULL. */
struct interval_node *
interval_index__first_overlap(const struct interval_index *idx, uint64_t start,
			      uint64_t end);
/* The range after node in address order, or NULL. */
struct interval_node *interval_index__next(const struct interval_index *idx,
					   const struct interval_node *node);
struct interval_node *interval_index__first(const struct interval_index *idx);
size_t interval_index__count(const struct interval_index *idx);

#endif
