// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"
#include "stacks.h"
#include "trace.h"

#define KEY_BUCKETS 16384

struct located_stack {
	struct code_loc *frames;
	size_t count;
};

/* (kernel id, leaf caller) -> handle, for the current code layout; the
 * stacks unwound in user space have kernel id UNWOUND and their hash */
#define UNWOUND INT32_MIN

struct stack_key {
	struct stack_key *next;
	int32_t kernel_id;
	uint64_t leaf_caller;
	int32_t handle;
};

/* the addresses of a spilled stack (ids from PT_STACK_SPILLED_BASE) */
struct spilled_stack {
	uint64_t *ips;
	size_t count;
};

struct stacks {
	struct trace *trace;
	struct symbols *sym;
	const struct mappings *maps;
	struct stack_key *keys[KEY_BUCKETS];
	struct located_stack *handles;
	size_t count;
	size_t capacity;
	/* by id less PT_STACK_SPILLED_BASE: the kernel numbers them in
	 * turn */
	struct spilled_stack *spilled;
	size_t spilled_capacity;
};

struct stacks *stacks__new(struct trace *trace, struct symbols *sym,
			   const struct mappings *maps)
{
	struct stacks *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->trace = trace;
	st->sym = sym;
	st->maps = maps;
	return st;
}

void stacks__forget(struct stacks *st)
{
	size_t i;

	for (i = 0; i < KEY_BUCKETS; i++) {
		struct stack_key *k, *next;

		for (k = st->keys[i]; k; k = next) {
			next = k->next;
			free(k);
		}
		st->keys[i] = NULL;
	}
}

void stacks__free(struct stacks *st)
{
	size_t i;

	if (!st)
		return;
	stacks__forget(st);
	for (i = 0; i < st->count; i++)
		free(st->handles[i].frames);
	free(st->handles);
	for (i = 0; i < st->spilled_capacity; i++)
		free(st->spilled[i].ips);
	free(st->spilled);
	free(st);
}

/* Room for one more handle: 0, or -ENOMEM. */
static int grow(struct stacks *st)
{
	size_t capacity = st->capacity ? st->capacity * 2 : 256;
	struct located_stack *handles;

	if (st->count < st->capacity)
		return 0;
	handles = realloc(st->handles, capacity * sizeof(*handles));
	if (!handles)
		return -ENOMEM;
	st->handles = handles;
	st->capacity = capacity;
	return 0;
}

void stacks__spilled(struct stacks *st, int32_t id, const uint64_t *ips,
		     size_t count)
{
	size_t index = (size_t)(id - PT_STACK_SPILLED_BASE), capacity;
	struct spilled_stack *grown, *ss;

	count = count < trace__stack_depth(st->trace) ?
			count :
			trace__stack_depth(st->trace);
	if (id < PT_STACK_SPILLED_BASE || !count)
		return;
	if (index >= st->spilled_capacity) {
		capacity = st->spilled_capacity ? st->spilled_capacity : 64;
		while (capacity <= index)
			capacity *= 2;
		grown = realloc(st->spilled, capacity * sizeof(*grown));
		if (!grown)
			return; /* the records that refer to it: no stack */
		memset(grown + st->spilled_capacity, 0,
		       (capacity - st->spilled_capacity) * sizeof(*grown));
		st->spilled = grown;
		st->spilled_capacity = capacity;
	}
	ss = &st->spilled[index];
	free(ss->ips);
	ss->count = 0;
	ss->ips = malloc(count * sizeof(*ips));
	if (!ss->ips)
		return;
	memcpy(ss->ips, ips, count * sizeof(*ips));
	ss->count = count;
}

/* The addresses of kernel id (a stack map's or a spilled one's), up to
 * max of them. */
static size_t stack_ips(const struct stacks *st, int32_t kernel_id,
			uint64_t *ips, size_t max)
{
	size_t index = (size_t)(kernel_id - PT_STACK_SPILLED_BASE), n;

	if (kernel_id < PT_STACK_SPILLED_BASE)
		return trace__stack(st->trace, kernel_id, ips, max);
	if (index >= st->spilled_capacity || !st->spilled[index].count)
		return 0;
	n = st->spilled[index].count < max ? st->spilled[index].count : max;
	memcpy(ips, st->spilled[index].ips, n * sizeof(*ips));
	return n;
}

/* Read and locate the kernel's stack, the leaf's caller put back. */
static int32_t locate(struct stacks *st, int32_t kernel_id,
		      uint64_t leaf_caller)
{
	uint64_t ips[PT_STACK_MAX_DEPTH];
	struct located_stack *ls;
	size_t n, i, out = 0;

	if (grow(st))
		return PT_NO_STACK;
	n = stack_ips(st, kernel_id, ips, PT_STACK_MAX_DEPTH);
	if (!n)
		return PT_NO_STACK;
	ls = &st->handles[st->count];
	ls->frames = calloc(n + 1, sizeof(*ls->frames));
	if (!ls->frames)
		return PT_NO_STACK;
	for (i = 0; i < n; i++) {
		struct code_loc loc =
			symbols__locate(st->sym, st->maps, ips[i]);

		/* the caller goes after the leaf, unless the unwinding
		 * found it after all */
		if (i == 1 && leaf_caller && code_loc__pack(loc) != leaf_caller)
			ls->frames[out++] = code_loc__unpack(leaf_caller);
		ls->frames[out++] = loc;
	}
	if (n == 1 && leaf_caller)
		ls->frames[out++] = code_loc__unpack(leaf_caller);
	ls->count = out;
	return (int32_t)st->count++;
}

int32_t stacks__intern(struct stacks *st, int32_t kernel_id,
		       uint64_t leaf_caller)
{
	uint64_t hash =
		((uint64_t)(uint32_t)kernel_id * 0x9e3779b97f4a7c15ULL) ^
		leaf_caller;
	struct stack_key **head = &st->keys[(hash >> 17) % KEY_BUCKETS], *k;
	int32_t handle;

	if (kernel_id < 0)
		return PT_NO_STACK;
	for (k = *head; k; k = k->next)
		if (k->kernel_id == kernel_id && k->leaf_caller == leaf_caller)
			return k->handle;
	handle = locate(st, kernel_id, leaf_caller);
	/* failures are not kept: the next record may do better */
	if (handle == PT_NO_STACK || !(k = calloc(1, sizeof(*k))))
		return handle;
	k->kernel_id = kernel_id;
	k->leaf_caller = leaf_caller;
	k->handle = handle;
	k->next = *head;
	*head = k;
	return k->handle;
}

static bool same_frames(const struct located_stack *ls,
			const struct code_loc *frames, size_t count)
{
	size_t i;

	if (ls->count != count)
		return false;
	for (i = 0; i < count; i++)
		if (ls->frames[i].module != frames[i].module ||
		    ls->frames[i].vaddr != frames[i].vaddr)
			return false;
	return true;
}

int32_t stacks__add(struct stacks *st, const struct code_loc *frames,
		    size_t count)
{
	uint64_t hash = 0x9e3779b97f4a7c15ULL;
	struct stack_key **head, *k;
	struct located_stack *ls;
	size_t i;

	if (!count)
		return PT_NO_STACK;
	for (i = 0; i < count; i++)
		hash = (hash ^ code_loc__pack(frames[i])) * 0x100000001b3ULL;
	head = &st->keys[(hash >> 17) % KEY_BUCKETS];
	for (k = *head; k; k = k->next)
		if (k->kernel_id == UNWOUND && k->leaf_caller == hash &&
		    same_frames(&st->handles[k->handle], frames, count))
			return k->handle;
	if (grow(st) || !(k = calloc(1, sizeof(*k))))
		return PT_NO_STACK;
	ls = &st->handles[st->count];
	ls->frames = malloc(count * sizeof(*frames));
	if (!ls->frames) {
		free(k);
		return PT_NO_STACK;
	}
	memcpy(ls->frames, frames, count * sizeof(*frames));
	ls->count = count;
	k->kernel_id = UNWOUND;
	k->leaf_caller = hash;
	k->handle = (int32_t)st->count++;
	k->next = *head;
	*head = k;
	return k->handle;
}

size_t stacks__frames(struct stacks *st, int32_t handle,
		      const struct code_loc **frames)
{
	*frames = NULL;
	if (handle < 0 || (size_t)handle >= st->count)
		return 0;
	*frames = st->handles[handle].frames;
	return st->handles[handle].count;
}
