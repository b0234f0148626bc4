/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where to put an allocator's entry uprobe.
 *
 * The kernel emulates some instructions under a uprobe (push of a
 * register) and must single-step the others out of line, ten times
 * dearer in a VM. glibc's free starts with "test %rdi,%rdi; je": probed
 * there, every free pays the single step; probed at the push that follows
 * only free(NULL), a no-op we do not report, goes by. aligned_alloc and
 * friends start with a flags-only compare of a global before their push.
 *
 * placement__entry() reads a function's first bytes and returns the offset
 * of the earliest instruction that every reported call passes through with
 * its arguments, stack pointer and return address untouched: the
 * instructions before it only set flags (or are endbr64), and a skipped
 * branch may only be free's NULL test. 0 (the symbol) when in doubt.
 */
#ifndef PAGETRACE_PLACEMENT_H
#define PAGETRACE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct placement {
	uint64_t offset; /* from the symbol */
	const char *why; /* what was stepped over, for -vv */
};

/* code: the function's first len bytes; null_is_noop: a call whose first
 * argument is NULL does nothing worth reporting (free). */
struct placement placement__entry(const uint8_t *code, size_t len,
				  bool null_is_noop);

#endif
