/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User stacks from a copy of their top: the registers at a syscall and
 * the bytes above the stack pointer, unwound with each function's call
 * frame information (.eh_frame), as perf --call-graph dwarf does. Code
 * built without frame pointers (glibc's malloc) unwinds too; where no
 * rule is known, the frame-pointer chain is followed instead.
 *
 * The unwinder itself knows no files: a callback gives the rule of each
 * code address (symbols__frame_rule() reads them from the modules).
 */
#ifndef PAGETRACE_UNWIND_H
#define PAGETRACE_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DWARF numbers of the x86-64 registers the rules use */
#define UNWIND_REG_BP 6
#define UNWIND_REG_SP 7

/* How to find the caller's registers at one code address. */
struct frame_rule {
	int cfa_reg; /* the CFA is cfa_reg + cfa_offset (BP or SP) */
	int64_t cfa_offset;
	int64_t ra_offset; /* the return address is at CFA + ra_offset */
	bool bp_saved; /* the caller's bp is at CFA + bp_offset, else it is
			  this frame's bp still */
	int64_t bp_offset;
};

struct unwind_regs {
	uint64_t ip;
	uint64_t sp;
	uint64_t bp;
};

/* The rule at pc, 0 if known; pc is a return address minus one past the
 * first frame (the call instruction's last byte). */
typedef int (*unwind_rule_fn)(void *ctx, uint64_t pc, struct frame_rule *rule);

/* The frames of the stack (stack: size bytes copied from regs->sp), leaf
 * first: the ip, then return addresses. Returns how many, at most max. */
size_t unwind__stack(const struct unwind_regs *regs, const uint8_t *stack,
		     size_t size, unwind_rule_fn rule, void *ctx,
		     uint64_t *frames, size_t max);

#endif
