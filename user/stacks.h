/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User stacks, located for good when their record arrives.
 *
 * The kernel's stack map gives addresses by id (a stack its map had no
 * room for comes in a record of its own, under an id past the map's); an
 * id keeps its addresses
 * but not their meaning: once code is unmapped (dlclose) the same address
 * may be another library's. So each stack is located against the mappings
 * of its moment (see symbols.h) and kept under a handle of its own; ids
 * are located afresh after code is unmapped.
 *
 * Frame-pointer unwinding skips the caller of a function that has not set
 * up its frame at that instruction (a leaf loop, a syscall wrapper): that
 * caller, read from the top of the stack, is put back as frame 1.
 */
#ifndef PAGETRACE_STACKS_H
#define PAGETRACE_STACKS_H

#include <stddef.h>
#include <stdint.h>
#include "symbols.h"

struct mappings;
struct trace;
struct stacks;

struct stacks *stacks__new(struct trace *trace, struct symbols *sym,
			   const struct mappings *maps);
void stacks__free(struct stacks *st);

/* The handle of kernel stack kernel_id, with frame 1 leaf_caller (a packed
 * code_loc) unless it is 0; PT_NO_STACK if kernel_id is no stack's
 * (PT_NO_STACK, PT_STACK_NO_CHAIN). */
int32_t stacks__intern(struct stacks *st, int32_t kernel_id,
		       uint64_t leaf_caller);
/* The handle of a stack unwound in user space (frames leaf first);
 * PT_NO_STACK if count is 0. The same frames get the same handle. */
int32_t stacks__add(struct stacks *st, const struct code_loc *frames,
		    size_t count);
/* The frames of a handle, leaf first; 0 frames if unknown. */
size_t stacks__frames(struct stacks *st, int32_t handle,
		      const struct code_loc **frames);
/* A stack the kernel sent whole (struct pt_rec_stack): its id is then
 * interned like a stack map's. */
void stacks__spilled(struct stacks *st, int32_t id, const uint64_t *ips,
		     size_t count);
/* Code was unmapped: locate kernel ids afresh from now on. */
void stacks__forget(struct stacks *st);

#endif
