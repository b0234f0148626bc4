// SPDX-License-Identifier: GPL-2.0
/* Entry-probe placement on the first bytes of real glibc functions. */
#include "check.h"
#include "placement.h"

/* glibc 2.36 free: test %rdi,%rdi; je +0xbf; push %rbp; ... */
static const uint8_t glibc_free[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf,
				      0x00, 0x00, 0x00, 0x55, 0x48, 0x8d };
/* malloc: push %r12; push %rbp */
static const uint8_t glibc_malloc[] = { 0x41, 0x54, 0x55, 0x53 };
/* posix_memalign: cmpb $0x0,0x140201(%rip); push %r12 */
static const uint8_t glibc_memalign[] = { 0x80, 0x3d, 0x01, 0x02, 0x14,
					  0x00, 0x00, 0x41, 0x54, 0x49 };

static void test_free_skips_the_null_test(void)
{
	struct placement at =
		placement__entry(glibc_free, sizeof(glibc_free), true);

	CHECK_U64(at.offset, 9);
	CHECK_STR(at.why, "the NULL test");
}

static void test_null_test_kept_where_null_matters(void)
{
	/* realloc(NULL, n) allocates: its NULL test must stay probed */
	CHECK_U64(
		placement__entry(glibc_free, sizeof(glibc_free), false).offset,
		0);
}

static void test_push_first_stays_at_the_symbol(void)
{
	struct placement at =
		placement__entry(glibc_malloc, sizeof(glibc_malloc), false);

	CHECK_U64(at.offset, 0);
	CHECK_STR(at.why, "nothing");
}

static void test_flags_only_compare_is_stepped_over(void)
{
	struct placement at =
		placement__entry(glibc_memalign, sizeof(glibc_memalign), false);

	CHECK_U64(at.offset, 7);
	CHECK_STR(at.why, "a flags-only compare");
}

static void test_endbr_then_null_test(void)
{
	static const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48,
					0x85, 0xff, 0x74, 0x10, 0x53 };

	CHECK_U64(placement__entry(code, sizeof(code), true).offset, 9);
}

static void test_unknown_or_short_code_falls_back(void)
{
	/* mov %rdi,%rax first: not known to be harmless to step over */
	static const uint8_t mov_first[] = { 0x48, 0x89, 0xf8, 0x55 };
	/* the NULL test cut short */
	static const uint8_t short_code[] = { 0x48, 0x85, 0xff, 0x0f };
	/* a NULL test without a push after it */
	static const uint8_t no_push[] = { 0x48, 0x85, 0xff, 0x74, 0x10, 0xc3 };

	CHECK_U64(placement__entry(mov_first, sizeof(mov_first), true).offset,
		  0);
	CHECK_U64(placement__entry(short_code, sizeof(short_code), true).offset,
		  0);
	CHECK_U64(placement__entry(no_push, sizeof(no_push), true).offset, 0);
	CHECK_U64(placement__entry(NULL, 0, true).offset, 0);
}

int main(void)
{
	RUN(test_free_skips_the_null_test);
	RUN(test_null_test_kept_where_null_matters);
	RUN(test_push_first_stays_at_the_symbol);
	RUN(test_flags_only_compare_is_stepped_over);
	RUN(test_endbr_then_null_test);
	RUN(test_unknown_or_short_code_falls_back);
	return check_summary();
}
