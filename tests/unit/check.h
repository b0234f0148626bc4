/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal unit-test harness: RUN(fn) runs one test function, CHECK*
 * record failures with the line; main() ends with check_summary(), which
 * prints "N passed, N failed" for this file and sets the exit status.
 */
#ifndef PAGETRACE_CHECK_H
#define PAGETRACE_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures_in_test;
static int check_passed, check_failed;

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			printf("    %s:%d: CHECK(%s) failed\n", __FILE__, \
			       __LINE__, #cond);                          \
			check_failures_in_test++;                         \
		}                                                         \
	} while (0)

#define CHECK_U64(actual, expected)                                          \
	do {                                                                 \
		uint64_t a_ = (uint64_t)(actual), e_ = (uint64_t)(expected); \
		if (a_ != e_) {                                              \
			printf("    %s:%d: %s is %" PRIu64                   \
			       ", expected %" PRIu64 "\n",                   \
			       __FILE__, __LINE__, #actual, a_, e_);         \
			check_failures_in_test++;                            \
		}                                                            \
	} while (0)

#define CHECK_STR(actual, expected)                                          \
	do {                                                                 \
		const char *a_ = (actual), *e_ = (expected);                 \
		if (!a_ || strcmp(a_, e_)) {                                 \
			printf("    %s:%d: %s is \"%s\", expected \"%s\"\n", \
			       __FILE__, __LINE__, #actual,                  \
			       a_ ? a_ : "(null)", e_);                      \
			check_failures_in_test++;                            \
		}                                                            \
	} while (0)

#define RUN(fn)                                   \
	do {                                      \
		check_failures_in_test = 0;       \
		fn();                             \
		if (check_failures_in_test) {     \
			check_failed++;           \
			printf("FAIL %s\n", #fn); \
		} else {                          \
			check_passed++;           \
			printf("ok   %s\n", #fn); \
		}                                 \
	} while (0)

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
