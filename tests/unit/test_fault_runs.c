// SPDX-License-Identifier: GPL-2.0
#include <linux/types.h>
#include <stdint.h>
#include "check.h"
#include "fault_runs.h"
#include "pagetrace.h"

/* A fault record as the kernel side leaves it: count and tag in run. */
static struct pt_rec_fault record_of(uint32_t faults, uint64_t pos)
{
	struct pt_rec_fault rec = { .run = faults | PT_RUN_TAG(pos) };

	return rec;
}

/* The kernel side's join: one more fault, if the word is as it left it. */
static bool join(struct pt_rec_fault *rec, uint32_t faults, uint64_t pos)
{
	uint32_t tag = PT_RUN_TAG(pos);

	return __sync_val_compare_and_swap(&rec->run, tag | faults,
					   tag | (faults + 1)) ==
	       (tag | faults);
}

static void test_take_seals(void)
{
	uint64_t pos = 0x123458;
	struct pt_rec_fault rec = record_of(1, pos);

	CHECK(join(&rec, 1, pos));
	CHECK(join(&rec, 2, pos));
	CHECK_U64(fault_runs__take(&rec), 3);
	CHECK(rec.run & PT_RUN_SEALED);
	/* sealed: no fault joins it, and taking it again says the same */
	CHECK(!join(&rec, 3, pos));
	CHECK_U64(fault_runs__take(&rec), 3);
}

static void test_counts_out_of_range(void)
{
	struct pt_rec_fault none = record_of(0, 64);
	struct pt_rec_fault most = record_of(PT_RUN_MAX_FAULTS, 64);
	struct pt_rec_fault over = record_of(PT_RUN_MAX_FAULTS + 1, 64);

	CHECK_U64(fault_runs__take(&none), 0);
	CHECK_U64(fault_runs__take(&most), PT_RUN_MAX_FAULTS);
	CHECK_U64(fault_runs__take(&over), 0);
}

static void test_tag_tells_laps_apart(void)
{
	uint64_t pos = 0x7000, lap;

	/* a record at the same place of a ring a lap later (rings are 4 KiB
	 * to 1 GiB) carries another tag: a stale join fails there */
	for (lap = 4096; lap <= (1ULL << 26); lap <<= 1) {
		struct pt_rec_fault later = record_of(1, pos + lap);

		CHECK(PT_RUN_TAG(pos) != PT_RUN_TAG(pos + lap));
		CHECK(!join(&later, 1, pos));
		CHECK_U64(fault_runs__take(&later), 1);
	}
	/* the tag's bits go round every 128 MiB of records */
	CHECK(PT_RUN_TAG(pos) == PT_RUN_TAG(pos + (1ULL << 27)));
	/* and never reach the count or the seal */
	CHECK((PT_RUN_TAG(~0ULL) & (PT_RUN_COUNT_MASK | PT_RUN_SEALED)) == 0);
}

int main(void)
{
	RUN(test_take_seals);
	RUN(test_counts_out_of_range);
	RUN(test_tag_tells_laps_apart);
	return check_summary();
}
