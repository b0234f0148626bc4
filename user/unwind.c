// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "unwind.h"

/* The word at addr, if the copy holds it. */
static bool read_word(const uint8_t *stack, size_t size, uint64_t base,
		      uint64_t addr, uint64_t *word)
{
	if (addr < base || addr - base > size || size - (addr - base) < 8)
		return false;
	memcpy(word, stack + (addr - base), sizeof(*word));
	return true;
}

size_t unwind__stack(const struct unwind_regs *regs, const uint8_t *stack,
		     size_t size, unwind_rule_fn rule, void *ctx,
		     uint64_t *frames, size_t max)
{
	uint64_t ip = regs->ip, sp = regs->sp, bp = regs->bp;
	size_t n = 0;

	while (n < max && ip) {
		struct frame_rule r;
		uint64_t cfa, ra, caller_bp = bp;

		frames[n++] = ip;
		/* past the leaf, ip returns after a call: the call is the
		 * instruction before, maybe the last of its function */
		if (!rule(ctx, n == 1 ? ip : ip - 1, &r)) {
			cfa = (r.cfa_reg == UNWIND_REG_BP ? bp : sp) +
			      (uint64_t)r.cfa_offset;
			if (!read_word(stack, size, regs->sp,
				       cfa + (uint64_t)r.ra_offset, &ra))
				break;
			if (r.bp_saved &&
			    !read_word(stack, size, regs->sp,
				       cfa + (uint64_t)r.bp_offset, &caller_bp))
				break;
		} else {
			/* no rule: a frame record [saved bp, return address]
			 * at bp, as code built with frame pointers keeps */
			if (bp <= sp ||
			    !read_word(stack, size, regs->sp, bp, &caller_bp) ||
			    !read_word(stack, size, regs->sp, bp + 8, &ra))
				break;
			cfa = bp + 16;
		}
		/* the stack grows down: callers' frames are above */
		if (cfa <= sp)
			break;
		ip = ra;
		sp = cfa;
		bp = caller_bp;
	}
	return n;
}
