// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "placement.h"

/* "push %reg" and "push %r8-15": the kernel emulates them */
static size_t push_length(const uint8_t *p, size_t left)
{
	if (left >= 1 && p[0] >= 0x50 && p[0] <= 0x57)
		return 1;
	if (left >= 2 && p[0] == 0x41 && p[1] >= 0x50 && p[1] <= 0x57)
		return 2;
	return 0;
}

/* endbr64: a landing pad, nothing else */
static size_t endbr_length(const uint8_t *p, size_t left)
{
	static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };

	return left >= sizeof(endbr64) && !memcmp(p, endbr64, sizeof(endbr64)) ?
		       sizeof(endbr64) :
		       0;
}

/* "cmpb $imm8, disp32(%rip)": reads memory, sets flags only */
static size_t cmpb_rip_length(const uint8_t *p, size_t left)
{
	return left >= 7 && p[0] == 0x80 && p[1] == 0x3d ? 7 : 0;
}

/* "test %rdi,%rdi" then "je": the NULL test of the first argument */
static size_t null_test_length(const uint8_t *p, size_t left)
{
	if (left < 3 || p[0] != 0x48 || p[1] != 0x85 || p[2] != 0xff)
		return 0;
	if (left >= 5 && p[3] == 0x74)
		return 5; /* je rel8 */
	if (left >= 9 && p[3] == 0x0f && p[4] == 0x84)
		return 9; /* je rel32 */
	return 0;
}

struct placement placement__entry(const uint8_t *code, size_t len,
				  bool null_is_noop)
{
	struct placement at = { 0, "nothing" };
	size_t offset = 0, step;
	const char *why = NULL;

	/* a few instructions at most: past them the saving is not worth
	 * the risk of misreading */
	while (offset < len && offset < 32) {
		if (push_length(code + offset, len - offset)) {
			if (offset) {
				at.offset = offset;
				at.why = why;
			}
			return at;
		}
		if ((step = endbr_length(code + offset, len - offset))) {
			why = why ? why : "endbr64";
		} else if ((step = cmpb_rip_length(code + offset,
						   len - offset))) {
			why = "a flags-only compare";
		} else if (null_is_noop &&
			   (step = null_test_length(code + offset,
						    len - offset))) {
			why = "the NULL test";
		} else {
			break;
		}
		offset += step;
	}
	return at;
}
