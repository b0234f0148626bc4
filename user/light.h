/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What --light adds to a session: the user stacks the kernel copied at
 * the syscalls that made memory, unwound into the site and stack of the
 * syscall's record (which follows), and, once tracing is over, the fault
 * counts still in the kernel's maps handed to the ledger.
 */
#ifndef PAGETRACE_LIGHT_H
#define PAGETRACE_LIGHT_H

#include <stdbool.h>
#include <stdint.h>
#include "ledger.h"

struct light;
struct mappings;
struct stacks;
struct symbols;
struct trace;

struct light *light__new(struct symbols *sym, const struct mappings *maps,
			 struct stacks *stacks);
void light__free(struct light *lt);

/* The allocator's library (a mappings name), NULL if none: its frames
 * at the top of a stack are the allocator's, the site is past them. */
void light__set_allocator(struct light *lt, const char *path);
/* Unwind a stack copy; kept for its thread's next syscall record. */
void light__on_user_stack(struct light *lt, const struct pt_rec_ustack *rec);
/* Where thread tid's syscall nr came from, if its stack came before it. */
bool light__take_origin(struct light *lt, uint32_t tid, uint32_t nr,
			struct code_origin *from);
/*
 * Tracing ends, the faults stopped (trace__stop_faults()), the programs
 * still there: the end of each live thread's state is kept. A thread that
 * exits before the programs go sends its own to the maps: that copy is
 * left out then (trace__exited_late()); one that exits after is lost to
 * the maps, not to this copy. 0 or -errno (kept for light__finish()).
 */
int light__read_tails(struct light *lt, struct trace *t);
/* Tracing is over (detached, drained): the granules and fault counts the
 * kernel still holds, and the faults live threads were in (classified as
 * this kernel maps read faults), into the ledger. 0 or -errno. */
int light__finish(struct light *lt, struct trace *t, struct ledger *l,
		  bool zero_page_on_read);
/* Faults light__finish() found open and could not place: their pages
 * another thread may have released meanwhile, or taken by the kernel in
 * a syscall (the kernel side counts its own). */
uint64_t light__unplaced(const struct light *lt);

#endif
