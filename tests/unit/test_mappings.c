// SPDX-License-Identifier: GPL-2.0
#include <sys/mman.h>
#include "check.h"
#include "mappings.h"

static void test_parse_lines(void)
{
	struct mappings *m = mappings__new(0);
	struct mapping map;

	CHECK(mappings__parse_line(
		m,
		"7f0000000000-7f0000021000 r-xp 00000000 08:01 1234   "
		"/usr/lib/x86_64-linux-gnu/lib with space.so\n",
		&map));
	CHECK_U64(map.start, 0x7f0000000000ULL);
	CHECK_U64(map.end, 0x7f0000021000ULL);
	CHECK_U64(map.prot, PROT_READ | PROT_EXEC);
	CHECK_U64(map.kind, MAPPING_FILE);
	CHECK_STR(map.name, "/usr/lib/x86_64-linux-gnu/lib with space.so");
	CHECK(mappings__parse_line(
		m, "55d0-55e0 rw-p 00000000 00:00 0 [heap]\n", &map));
	CHECK_U64(map.kind, MAPPING_HEAP);
	CHECK(mappings__parse_line(m, "1000-2000 rw-p 00000000 00:00 0\n",
				   &map));
	CHECK_U64(map.kind, MAPPING_ANON);
	CHECK_STR(map.name, "[anon]");
	CHECK(mappings__parse_line(
		m, "1000-2000 rw-s 00000000 00:01 7 /dev/zero (deleted)\n",
		&map));
	CHECK_U64(map.kind, MAPPING_SHMEM);
	CHECK(!mappings__parse_line(m, "garbage\n", &map));
	mappings__free(m);
}

static void test_names_are_interned(void)
{
	struct mappings *m = mappings__new(0);

	CHECK(mappings__intern(m, "/a") == mappings__intern(m, "/a"));
	CHECK(mappings__intern(m, "/a") != mappings__intern(m, "/b"));
	mappings__free(m);
}

static void test_map_unmap_split(void)
{
	struct mappings *m = mappings__new(0);
	struct mapping a = { .start = 0x1000,
			     .end = 0x9000,
			     .prot = PROT_READ | PROT_WRITE,
			     .kind = MAPPING_ANON };

	a.name = mappings__intern(m, "[anon]");
	mappings__map(m, &a);
	/* a hole in the middle splits it in two */
	mappings__unmap(m, 0x3000, 0x5000);
	CHECK_U64(mappings__count(m), 2);
	CHECK(mappings__find(m, 0x4000) == NULL);
	CHECK_U64(mappings__find(m, 0x2fff)->end, 0x3000);
	CHECK_U64(mappings__find(m, 0x5000)->start, 0x5000);
	/* madvise on part of a mapping changes only that part */
	mappings__set_flags(m, 0x6000, 0x7000, MAPPING_HUGEPAGE, 0);
	CHECK_U64(mappings__count(m), 4);
	CHECK(mappings__find(m, 0x6000)->flags & MAPPING_HUGEPAGE);
	CHECK(!(mappings__find(m, 0x7000)->flags & MAPPING_HUGEPAGE));
	mappings__free(m);
}

static void test_remap_and_brk(void)
{
	struct mappings *m = mappings__new(0);
	struct mapping a = { .start = 0x10000,
			     .end = 0x20000,
			     .prot = PROT_READ | PROT_WRITE,
			     .kind = MAPPING_ANON };

	a.name = mappings__intern(m, "[anon]");
	mappings__map(m, &a);
	mappings__remap(m, 0x10000, 0x10000, 0x80000, 0x20000);
	CHECK(mappings__find(m, 0x10000) == NULL);
	CHECK_U64(mappings__find(m, 0x9ffff)->kind, MAPPING_ANON);
	/* the first brk answer is the heap's start */
	mappings__set_brk(m, 0x400000);
	mappings__set_brk(m, 0x421000);
	CHECK_U64(mappings__find(m, 0x400000)->kind, MAPPING_HEAP);
	CHECK_U64(mappings__find(m, 0x420fff)->end, 0x421000);
	mappings__set_brk(m, 0x401000);
	CHECK(mappings__find(m, 0x402000) == NULL);
	mappings__free(m);
}

int main(void)
{
	RUN(test_parse_lines);
	RUN(test_names_are_interned);
	RUN(test_map_unmap_split);
	RUN(test_remap_and_brk);
	return check_summary();
}
