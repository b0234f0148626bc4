// SPDX-License-Identifier: GPL-2.0
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mappings.h"
#include "symbols.h"

struct module {
	const char *key; /* the mappings' interned name */
	char *name;
	Dwfl *dwfl; /* NULL if it could not be opened */
	Dwfl_Module *mod;
	Elf *elf;
	GElf_Addr bias;
	bool own_debug_frame; /* the file itself has .debug_frame */
	/* its PT_LOAD headers, read once: every call record's caller is
	 * located through them */
	GElf_Phdr *loads;
	size_t load_count;
};

struct description {
	struct description *next; /* hash chain */
	struct code_loc loc;
	bool return_address;
	struct frame_info info;
	char *short_name;
	int frameless; /* -1: not looked up yet */
	bool filled; /* info looked up */
};

#define DESCRIPTION_BUCKETS 4096

/*
 * An address located before, while the mappings have not changed since:
 * a traced program calls malloc from a few places, each call record is
 * located, and a search of the mappings and the module's loads was a
 * tenth of the loader's time on a malloc/free loop.
 */
struct located {
	const struct mappings *maps;
	uint64_t generation;
	uint64_t addr;
	struct code_loc loc;
};

#define LOCATED_SLOTS 256

struct symbols {
	pid_t pid;
	struct module *modules; /* module id = index + 1 */
	size_t count;
	size_t capacity;
	struct description *buckets[DESCRIPTION_BUCKETS];
	struct located located[LOCATED_SLOTS];
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

struct symbols *symbols__new(pid_t pid)
{
	struct symbols *sym = calloc(1, sizeof(*sym));

	if (!sym)
		return NULL;
	sym->pid = pid;
	/* debug information comes from the files: no network look-ups */
	unsetenv("DEBUGINFOD_URLS");
	elf_version(EV_CURRENT);
	return sym;
}

void symbols__free(struct symbols *sym)
{
	size_t i;

	if (!sym)
		return;
	for (i = 0; i < DESCRIPTION_BUCKETS; i++) {
		struct description *d, *next;

		for (d = sym->buckets[i]; d; d = next) {
			next = d->next;
			free(d->short_name);
			free(d);
		}
	}
	for (i = 0; i < sym->count; i++) {
		if (sym->modules[i].dwfl)
			dwfl_end(sym->modules[i].dwfl);
		free(sym->modules[i].name);
		free(sym->modules[i].loads);
	}
	free(sym->modules);
	free(sym);
}

/* Does the file have a section of that name? */
static bool has_section(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t names;
	GElf_Shdr shdr;

	if (elf_getshdrstrndx(elf, &names))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *section_name =
			gelf_getshdr(scn, &shdr) ?
				elf_strptr(elf, names, shdr.sh_name) :
				NULL;

		if (section_name && !strcmp(section_name, name))
			return true;
	}
	return false;
}

static void read_loads(struct module *m)
{
	size_t i, count;
	GElf_Phdr phdr;

	if (elf_getphdrnum(m->elf, &count) || !count)
		return;
	m->loads = calloc(count, sizeof(*m->loads));
	if (!m->loads)
		return;
	for (i = 0; i < count; i++)
		if (gelf_getphdr(m->elf, (int)i, &phdr) &&
		    phdr.p_type == PT_LOAD)
			m->loads[m->load_count++] = phdr;
}

/* Open the file behind a mapping, by the path that still reaches it if it
 * was deleted or lives in another mount namespace. */
static void open_module(struct symbols *sym, struct module *m,
			const struct mapping *map)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 sym->pid, map->start, map->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/root%s", sym->pid,
			 map->name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s", map->name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return;
	m->dwfl = dwfl_begin(&offline_callbacks);
	if (!m->dwfl) {
		close(fd);
		return;
	}
	/* at its link-time addresses: locations are ELF virtual addresses;
	 * the fd is libdw's once the report succeeds */
	m->mod = dwfl_report_elf(m->dwfl, map->name, path, fd, 0, false);
	if (!m->mod)
		close(fd);
	dwfl_report_end(m->dwfl, NULL, NULL);
	if (m->mod)
		m->elf = dwfl_module_getelf(m->mod, &m->bias);
	if (m->elf) {
		m->own_debug_frame = has_section(m->elf, ".debug_frame");
		read_loads(m);
	}
	if (!m->mod || !m->elf) {
		dwfl_end(m->dwfl);
		m->dwfl = NULL;
		m->mod = NULL;
	}
}

static uint32_t module_for(struct symbols *sym, const struct mapping *map)
{
	struct module *m;
	size_t i;

	/* mapping names are interned: the same pointer is the same name */
	for (i = 0; i < sym->count; i++)
		if (sym->modules[i].key == map->name)
			return (uint32_t)i + 1;
	for (i = 0; i < sym->count; i++)
		if (!strcmp(sym->modules[i].name, map->name))
			return (uint32_t)i + 1;
	if (sym->count == sym->capacity) {
		size_t capacity = sym->capacity ? sym->capacity * 2 : 32;
		struct module *modules =
			realloc(sym->modules, capacity * sizeof(*modules));

		if (!modules)
			return 0;
		sym->modules = modules;
		sym->capacity = capacity;
	}
	m = &sym->modules[sym->count];
	memset(m, 0, sizeof(*m));
	m->key = map->name;
	m->name = strdup(map->name);
	if (!m->name)
		return 0;
	open_module(sym, m, map);
	return (uint32_t)++sym->count;
}

void symbols__note_code(struct symbols *sym, const struct mappings *maps)
{
	size_t i;

	for (i = 0; i < mappings__count(maps); i++) {
		const struct mapping *m = mappings__at(maps, i);

		if (m->kind == MAPPING_FILE && (m->prot & PROT_EXEC))
			module_for(sym, m);
	}
}

/* File offset into ELF virtual address, through the PT_LOAD holding it. */
static bool vaddr_of_offset(const struct module *m, uint64_t offset,
			    uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < m->load_count; i++) {
		const GElf_Phdr *phdr = &m->loads[i];

		if (offset >= phdr->p_offset &&
		    offset < phdr->p_offset + phdr->p_filesz) {
			*vaddr = offset - phdr->p_offset + phdr->p_vaddr;
			return true;
		}
	}
	return false;
}

static struct code_loc locate(struct symbols *sym, const struct mappings *maps,
			      uint64_t addr)
{
	const struct mapping *map = mappings__find(maps, addr);
	struct code_loc loc = { .vaddr = addr };
	struct module *m;

	/* code outside files (JIT code in [anon], [vdso]): the raw address,
	 * which stays unique where a module-relative one would not */
	if (!map || map->kind != MAPPING_FILE)
		return loc;
	loc.module = module_for(sym, map);
	if (!loc.module)
		return loc;
	m = &sym->modules[loc.module - 1];
	/* the file offset, unless the ELF gives the virtual address */
	loc.vaddr = map->offset + (addr - map->start);
	vaddr_of_offset(m, map->offset + (addr - map->start), &loc.vaddr);
	return loc;
}

struct code_loc symbols__locate(struct symbols *sym,
				const struct mappings *maps, uint64_t addr)
{
	uint64_t generation = mappings__generation(maps);
	struct located *slot =
		&sym->located[((addr * 0x9e3779b97f4a7c15ULL) >> 32) %
			      LOCATED_SLOTS];

	if (slot->maps != maps || slot->generation != generation ||
	    slot->addr != addr) {
		slot->loc = locate(sym, maps, addr);
		slot->maps = maps;
		slot->generation = generation;
		slot->addr = addr;
	}
	return slot->loc;
}

static struct description **bucket_of(struct symbols *sym, struct code_loc loc,
				      bool return_address)
{
	uint64_t h = (loc.vaddr * 0x9e3779b97f4a7c15ULL) ^ loc.module ^
		     (uint64_t)return_address << 63;

	return &sym->buckets[(h >> 20) % DESCRIPTION_BUCKETS];
}

static struct module *module_of(struct symbols *sym, struct code_loc loc)
{
	return loc.module && loc.module <= sym->count ?
		       &sym->modules[loc.module - 1] :
		       NULL;
}

const char *symbols__module_name(struct symbols *sym, struct code_loc loc)
{
	struct module *m = module_of(sym, loc);

	return m ? m->name : NULL;
}

static void fill(struct symbols *sym, struct code_loc loc, bool return_address,
		 struct frame_info *info)
{
	struct module *m = module_of(sym, loc);
	GElf_Addr addr, query, sym_offset = 0;
	Dwfl_Line *line;
	GElf_Sym elf_sym;
	const char *name;

	memset(info, 0, sizeof(*info));
	info->addr = loc.vaddr;
	if (!m)
		return;
	info->module = m->name;
	if (!m->mod)
		return;
	addr = loc.vaddr + m->bias;
	/* a return address follows its call: look at the call itself */
	query = return_address && addr ? addr - 1 : addr;
	name = dwfl_module_addrinfo(m->mod, query, &sym_offset, &elf_sym, NULL,
				    NULL, NULL);
	if (name) {
		info->function = name;
		info->offset = sym_offset + (query != addr);
	}
	line = dwfl_module_getsrc(m->mod, query);
	if (line)
		info->file = dwfl_lineinfo(line, NULL, &info->line, NULL, NULL,
					   NULL);
}

/* The cached description of loc, info looked up or not (see describe()). */
static struct description *
description_of(struct symbols *sym, struct code_loc loc, bool return_address)
{
	struct description **bucket = bucket_of(sym, loc, return_address), *d;

	for (d = *bucket; d; d = d->next)
		if (d->loc.module == loc.module && d->loc.vaddr == loc.vaddr &&
		    d->return_address == return_address)
			return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->loc = loc;
	d->return_address = return_address;
	d->frameless = -1;
	d->next = *bucket;
	*bucket = d;
	return d;
}

/*
 * With its name, file and line: the first line looked up in a module
 * decompresses and parses its line tables, 100-250 ms for libc's with
 * libc6-dbg. The report needs them; tracing only asks whether code is
 * frameless, and a stall that long while records pour in overflowed the
 * ring buffers of two busy threads.
 */
static struct description *describe(struct symbols *sym, struct code_loc loc,
				    bool return_address)
{
	struct description *d = description_of(sym, loc, return_address);

	if (d && !d->filled) {
		fill(sym, loc, return_address, &d->info);
		d->filled = true;
	}
	return d;
}

void symbols__describe(struct symbols *sym, struct code_loc loc,
		       bool return_address, struct frame_info *out)
{
	struct description *d = describe(sym, loc, return_address);

	if (d)
		*out = d->info;
	else
		fill(sym, loc, return_address, out);
}

const char *symbols__short_name(struct symbols *sym, struct code_loc loc,
				bool return_address)
{
	struct description *d = describe(sym, loc, return_address);
	char buf[PATH_MAX + 32];

	if (!d)
		return "[unknown]";
	if (d->info.function)
		return d->info.function;
	if (!d->short_name) {
		if (d->info.module)
			snprintf(buf, sizeof(buf), "%s+0x%" PRIx64,
				 mappings__base_name(d->info.module),
				 d->info.addr);
		else
			snprintf(buf, sizeof(buf), "[unknown]");
		d->short_name = strdup(buf);
	}
	return d->short_name ? d->short_name : "[unknown]";
}

#define DWARF_REG_RA 16

/*
 * The call frame information at loc: a frame to free(), or NULL. From
 * .eh_frame, else .debug_frame where the file has one of its own (code
 * built without unwind tables, cgo's Go part) or no .eh_frame at all.
 * Where .eh_frame has no entry in a file without .debug_frame (the
 * outermost frame, ld.so's _start) a separate debug file would hold none
 * either, and looking there inflates all of its DWARF while the target
 * runs (~15 ms of CPU with Debian's libc6-dbg, at --light's first unwind).
 */
static Dwarf_Frame *frame_at(struct symbols *sym, struct code_loc loc)
{
	struct module *m = module_of(sym, loc);
	Dwarf_Frame *frame;
	Dwarf_CFI *cfi;
	Dwarf_Addr bias;

	if (!m || !m->mod)
		return NULL;
	cfi = dwfl_module_eh_cfi(m->mod, &bias);
	if (cfi &&
	    !dwarf_cfi_addrframe(cfi, loc.vaddr + m->bias - bias, &frame))
		return frame;
	if (cfi && !m->own_debug_frame)
		return NULL;
	cfi = dwfl_module_dwarf_cfi(m->mod, &bias);
	if (cfi &&
	    !dwarf_cfi_addrframe(cfi, loc.vaddr + m->bias - bias, &frame))
		return frame;
	return NULL;
}

/* The CFA rule: a register plus an offset, the only kind compilers emit
 * for functions (PLT stubs use expressions: not followed). */
static bool cfa_rule(Dwarf_Frame *frame, int *reg, int64_t *offset)
{
	Dwarf_Op *ops;
	size_t nops;

	if (dwarf_frame_cfa(frame, &ops, &nops) || nops != 1 ||
	    ops[0].atom != DW_OP_bregx)
		return false;
	*reg = (int)ops[0].number;
	*offset = (int64_t)ops[0].number2;
	return true;
}

/*
 * Where register regno of the caller was saved: 1 with *offset from the
 * CFA, 0 if this frame did not change it (or cannot tell), -1 if the rule
 * is of another kind.
 */
static int saved_at(Dwarf_Frame *frame, int regno, int64_t *offset)
{
	Dwarf_Op mem[3], *ops;
	uint64_t value = 0;
	size_t nops, i;

	if (dwarf_frame_register(frame, regno, mem, &ops, &nops))
		return -1;
	if (!nops)
		return 0; /* same value, or undefined */
	for (i = 0; i < nops; i++) {
		switch (ops[i].atom) {
		case DW_OP_call_frame_cfa:
			if (i)
				return -1;
			break;
		case DW_OP_plus_uconst:
			value += ops[i].number;
			break;
		default:
			return -1; /* a value rule, an expression */
		}
	}
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return -1;
	*offset = (int64_t)value;
	return 1;
}

int symbols__frame_rule(struct symbols *sym, struct code_loc loc,
			struct frame_rule *rule)
{
	Dwarf_Frame *frame = frame_at(sym, loc);
	int bp, ok;

	if (!frame)
		return -1;
	ok = cfa_rule(frame, &rule->cfa_reg, &rule->cfa_offset) &&
	     (rule->cfa_reg == UNWIND_REG_SP ||
	      rule->cfa_reg == UNWIND_REG_BP) &&
	     saved_at(frame, DWARF_REG_RA, &rule->ra_offset) == 1 &&
	     (bp = saved_at(frame, UNWIND_REG_BP, &rule->bp_offset)) >= 0;
	if (ok)
		rule->bp_saved = bp == 1;
	free(frame);
	return ok ? 0 : -1;
}

/* Does the call frame information say the CFA is rsp + 8 at loc? */
static bool return_address_on_top(struct symbols *sym, struct code_loc loc)
{
	Dwarf_Frame *frame = frame_at(sym, loc);
	int64_t offset;
	bool on_top;
	int reg;

	if (!frame)
		return false;
	on_top = cfa_rule(frame, &reg, &offset) && reg == UNWIND_REG_SP &&
		 offset == 8;
	free(frame);
	return on_top;
}

bool symbols__frameless(struct symbols *sym, struct code_loc loc)
{
	struct description *d = description_of(sym, loc, false);

	if (!d)
		return return_address_on_top(sym, loc);
	if (d->frameless < 0)
		d->frameless = return_address_on_top(sym, loc);
	return d->frameless;
}
