// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include "interval.h"

struct interval_index {
	struct interval_node *root;
	size_t count;
};

struct interval_index *interval_index__new(void)
{
	return calloc(1, sizeof(struct interval_index));
}

void interval_index__free(struct interval_index *idx)
{
	free(idx);
}

/* A treap priority, fixed for the node's life: its address mixed
 * (splitmix64's finalizer), as good as random for balance. */
static uint64_t priority(const struct interval_node *node)
{
	uint64_t x = (uint64_t)(uintptr_t)node;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* split t into ranges starting before key and the rest */
static void split(struct interval_node *t, uint64_t key,
		  struct interval_node **lower, struct interval_node **upper)
{
	if (!t) {
		*lower = *upper = NULL;
	} else if (t->start < key) {
		split(t->right, key, &t->right, upper);
		*lower = t;
	} else {
		split(t->left, key, lower, &t->left);
		*upper = t;
	}
}

/* every start in lower is below every start in upper */
static struct interval_node *merge(struct interval_node *lower,
				   struct interval_node *upper)
{
	if (!lower)
		return upper;
	if (!upper)
		return lower;
	if (priority(lower) > priority(upper)) {
		lower->right = merge(lower->right, upper);
		return lower;
	}
	upper->left = merge(lower, upper->left);
	return upper;
}

/* the range with the greatest start <= addr */
static struct interval_node *floor_node(struct interval_node *t, uint64_t addr)
{
	struct interval_node *best = NULL;

	while (t) {
		if (t->start <= addr) {
			best = t;
			t = t->right;
		} else {
			t = t->left;
		}
	}
	return best;
}

/* the range with the least start > addr */
static struct interval_node *above_node(struct interval_node *t, uint64_t addr)
{
	struct interval_node *best = NULL;

	while (t) {
		if (t->start > addr) {
			best = t;
			t = t->left;
		} else {
			t = t->right;
		}
	}
	return best;
}

int interval_index__insert(struct interval_index *idx,
			   struct interval_node *node, uint64_t start,
			   uint64_t end)
{
	struct interval_node *lower, *upper;

	if (start >= end)
		return -EINVAL;
	if (interval_index__first_overlap(idx, start, end))
		return -EEXIST;
	node->start = start;
	node->end = end;
	node->left = node->right = NULL;
	split(idx->root, start, &lower, &upper);
	idx->root = merge(merge(lower, node), upper);
	idx->count++;
	return 0;
}

void interval_index__remove(struct interval_index *idx,
			    struct interval_node *node)
{
	struct interval_node **link = &idx->root;

	while (*link && *link != node)
		link = node->start < (*link)->start ? &(*link)->left :
						      &(*link)->right;
	if (!*link)
		return;
	*link = merge(node->left, node->right);
	node->left = node->right = NULL;
	idx->count--;
}

struct interval_node *interval_index__find(const struct interval_index *idx,
					   uint64_t addr)
{
	struct interval_node *n = floor_node(idx->root, addr);

	return n && addr < n->end ? n : NULL;
}

struct interval_node *
interval_index__first_overlap(const struct interval_index *idx, uint64_t start,
			      uint64_t end)
{
	struct interval_node *n = floor_node(idx->root, start);

	if (n && n->end > start)
		return n;
	n = above_node(idx->root, start);
	return n && n->start < end ? n : NULL;
}

struct interval_node *interval_index__next(const struct interval_index *idx,
					   const struct interval_node *node)
{
	return above_node(idx->root, node->start);
}

struct interval_node *interval_index__first(const struct interval_index *idx)
{
	struct interval_node *t = idx->root;

	while (t && t->left)
		t = t->left;
	return t;
}

size_t interval_index__count(const struct interval_index *idx)
{
	return idx->count;
}
