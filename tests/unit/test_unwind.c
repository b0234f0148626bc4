// SPDX-License-Identifier: GPL-2.0
/* Unwinding a copied stack with call frame rules, and frame pointers. */
#include "check.h"
#include "unwind.h"

/*
 * A stack as a syscall leaves it, from the leaf down:
 *   0x1000 wrapper:    no frame          CFA = sp + 8
 *   0x2000 allocator:  pushed 3 regs     CFA = sp + 32, bp not saved
 *   0x3000 user code:  frame pointers    CFA = bp + 16, bp at CFA - 16
 *   0x4000 main:       no rule known: frame record at bp
 */
#define SP 0x7ff000
#define MAIN_BP (SP + 0x80)

static uint64_t words[32];

static int rules(void *ctx, uint64_t pc, struct frame_rule *r)
{
	(void)ctx;
	memset(r, 0, sizeof(*r));
	r->cfa_reg = UNWIND_REG_SP;
	r->ra_offset = -8;
	switch (pc & ~0xfffULL) {
	case 0x1000:
		r->cfa_offset = 8;
		return 0;
	case 0x2000:
		r->cfa_offset = 32;
		return 0;
	case 0x3000:
		r->cfa_reg = UNWIND_REG_BP;
		r->cfa_offset = 16;
		r->bp_saved = true;
		r->bp_offset = -16;
		return 0;
	default:
		return -1;
	}
}

static void build_stack(void)
{
	memset(words, 0, sizeof(words));
	words[0] = 0x2010; /* wrapper's return: into the allocator */
	/* allocator: 3 saved registers, then its return into user code */
	words[4] = 0x3020;
	/* user code's frame record at sp + 0x28: [caller's bp, return] */
	words[5] = MAIN_BP;
	words[6] = 0x4030;
	/* main's frame record at MAIN_BP: [0, 0] ends the chain */
}

static void test_rules_then_frame_pointers(void)
{
	struct unwind_regs regs = { .ip = 0x1005, .sp = SP, .bp = 0 };
	uint64_t frames[8];
	size_t n;

	build_stack();
	/* the user function's frame pointer at its record */
	regs.bp = 0xdead; /* the allocator clobbered bp: rules need none */
	words[5] = MAIN_BP;
	n = unwind__stack(&regs, (const uint8_t *)words, sizeof(words), rules,
			  NULL, frames, 8);
	/* user code's CFA is its bp + 16: bp was clobbered by the callee
	 * and never restored by a rule: the walk stops after it */
	CHECK_U64(n, 3);
	CHECK_U64(frames[0], 0x1005);
	CHECK_U64(frames[1], 0x2010);
	CHECK_U64(frames[2], 0x3020);
}

static int rules_bp_saved(void *ctx, uint64_t pc, struct frame_rule *r)
{
	int err = rules(ctx, pc, r);

	/* the allocator saved the user function's bp at CFA - 32 */
	if (!err && (pc & ~0xfffULL) == 0x2000) {
		r->bp_saved = true;
		r->bp_offset = -32;
	}
	return err;
}

static void test_saved_bp_restored_for_the_caller(void)
{
	struct unwind_regs regs = { .ip = 0x1005, .sp = SP, .bp = 0xdead };
	uint64_t frames[8];
	size_t n;

	build_stack();
	/* at CFA(allocator) - 32 = SP + 8 + 32 - 32: words[1] */
	words[1] = SP + 0x28;
	n = unwind__stack(&regs, (const uint8_t *)words, sizeof(words),
			  rules_bp_saved, NULL, frames, 8);
	CHECK_U64(n, 4);
	CHECK_U64(frames[2], 0x3020);
	CHECK_U64(frames[3], 0x4030); /* via the user function's bp rule */
}

static void test_frame_pointer_fallback_and_copy_bounds(void)
{
	struct unwind_regs regs = { .ip = 0x4000, .sp = SP, .bp = SP + 0x10 };
	uint64_t frames[8];
	size_t n;

	memset(words, 0, sizeof(words));
	/* no rule for 0x4000: frame record at bp */
	words[2] = SP + 0x40;
	words[3] = 0x4100;
	words[8] = SP + 0x400; /* the next record lies outside the copy */
	words[9] = 0x4200;
	n = unwind__stack(&regs, (const uint8_t *)words, sizeof(words), rules,
			  NULL, frames, 8);
	CHECK_U64(n, 3);
	CHECK_U64(frames[1], 0x4100);
	CHECK_U64(frames[2], 0x4200);
	/* and the depth asked for is the most returned */
	CHECK_U64(unwind__stack(&regs, (const uint8_t *)words, sizeof(words),
				rules, NULL, frames, 2),
		  2);
}

static void test_nothing_copied_gives_the_leaf(void)
{
	struct unwind_regs regs = { .ip = 0x1005, .sp = SP, .bp = 0 };
	uint64_t frames[8];

	CHECK_U64(unwind__stack(&regs, (const uint8_t *)words, 0, rules, NULL,
				frames, 8),
		  1);
	CHECK_U64(frames[0], 0x1005);
}

int main(void)
{
	RUN(test_rules_then_frame_pointers);
	RUN(test_saved_bp_restored_for_the_caller);
	RUN(test_frame_pointer_fallback_and_copy_bounds);
	RUN(test_nothing_copied_gives_the_leaf);
	return check_summary();
}
