// SPDX-License-Identifier: GPL-2.0
#include <sys/mman.h>
#include "check.h"
#include "mappings.h"
#include "symbols.h"

static void map_file(struct mappings *m, uint64_t start, uint64_t end,
		     const char *path, uint64_t offset)
{
	struct mapping map = { .start = start,
			       .end = end,
			       .prot = PROT_READ | PROT_EXEC,
			       .kind = MAPPING_FILE,
			       .offset = offset };

	map.name = mappings__intern(m, path);
	CHECK(mappings__map(m, &map) == 0);
}

/* every change of the mappings is told by their generation */
static void test_generation_changes(void)
{
	struct mappings *m = mappings__new(0);
	uint64_t g = mappings__generation(m);

	map_file(m, 0x10000, 0x20000, "/nonexistent/a.so", 0);
	CHECK(mappings__generation(m) != g);
	g = mappings__generation(m);
	CHECK(mappings__find(m, 0x10000) != NULL);
	CHECK_U64(mappings__generation(m), g);
	mappings__protect(m, 0x10000, 0x11000, PROT_READ);
	CHECK(mappings__generation(m) != g);
	g = mappings__generation(m);
	mappings__set_flags(m, 0x12000, 0x13000, MAPPING_HUGEPAGE, 0);
	CHECK(mappings__generation(m) != g);
	g = mappings__generation(m);
	mappings__unmap(m, 0x10000, 0x20000);
	CHECK(mappings__generation(m) != g);
	mappings__free(m);
}

/* an address located again after its mapping was replaced is located in
 * the new one, not in what was remembered of the old */
static void test_locate_follows_the_mappings(void)
{
	struct mappings *m = mappings__new(0);
	struct symbols *sym = symbols__new(0);
	struct code_loc a, b, none;

	map_file(m, 0x10000, 0x20000, "/nonexistent/a.so", 0);
	a = symbols__locate(sym, m, 0x10010);
	CHECK(a.module != 0);
	CHECK_U64(a.vaddr, 0x10); /* the file offset: no ELF to read */
	a = symbols__locate(sym, m, 0x10010);
	CHECK_U64(a.vaddr, 0x10);
	map_file(m, 0x10000, 0x20000, "/nonexistent/b.so", 0x2000);
	b = symbols__locate(sym, m, 0x10010);
	CHECK(b.module != 0 && b.module != a.module);
	CHECK_U64(b.vaddr, 0x2010);
	mappings__unmap(m, 0x10000, 0x20000);
	none = symbols__locate(sym, m, 0x10010);
	CHECK_U64(none.module, 0);
	CHECK_U64(none.vaddr, 0x10010);
	symbols__free(sym);
	mappings__free(m);
}

int main(void)
{
	RUN(test_generation_changes);
	RUN(test_locate_follows_the_mappings);
	return check_summary();
}
