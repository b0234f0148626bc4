/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Code addresses into function + offset and file:line, with elfutils'
 * libdw, for the executable (PIE too) and every shared library.
 *
 * An address is first located, while the events are read, against the
 * mapping that held it then: a code_loc is its module and its address in
 * that module's ELF, meaningful after the library is unmapped or the
 * process is gone. Each module is opened on first use through
 * /proc/PID/map_files (deleted and namespaced files too) and stays open.
 */
#ifndef PAGETRACE_SYMBOLS_H
#define PAGETRACE_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "unwind.h"

struct mappings;
struct symbols;

struct code_loc {
	uint32_t module; /* 0: no known module; vaddr is the raw address */
	uint64_t vaddr;
};

/* A code_loc in one integer (module in the top 16 bits): user addresses
 * and ELF addresses fit in 48 bits. 0 means none. */
static inline uint64_t code_loc__pack(struct code_loc loc)
{
	return (uint64_t)loc.module << 48 | (loc.vaddr & ((1ULL << 48) - 1));
}

static inline struct code_loc code_loc__unpack(uint64_t packed)
{
	struct code_loc loc = { .module = (uint32_t)(packed >> 48),
				.vaddr = packed & ((1ULL << 48) - 1) };

	return loc;
}

struct frame_info {
	uint64_t addr; /* the address as located (module vaddr or raw) */
	const char *module; /* path or [kind]; NULL if unknown */
	const char *function; /* NULL if no symbol covers it */
	uint64_t offset; /* from the function's start */
	const char *file; /* NULL without line information */
	int line;
};

struct symbols *symbols__new(pid_t pid);
void symbols__free(struct symbols *sym);

/* Open every executable file the mappings hold, while the process is
 * there: a deleted or unmapped one stays readable for later. */
void symbols__note_code(struct symbols *sym, const struct mappings *maps);
/* Locate addr with the mappings as they are now (in event order). */
struct code_loc symbols__locate(struct symbols *sym,
				const struct mappings *maps, uint64_t addr);
/* Describe a location; return_address: it follows a call (a caller's
 * frame), so its source line is the call's. Strings stay valid until
 * symbols__free(). */
void symbols__describe(struct symbols *sym, struct code_loc loc,
		       bool return_address, struct frame_info *out);
/* The path of loc's module as the mappings name it; NULL if none. */
const char *symbols__module_name(struct symbols *sym, struct code_loc loc);
/* Has the function not set up its frame at loc, its return address still
 * on top of the stack (call frame information: CFA = rsp + 8)? Then
 * frame-pointer unwinding from there skips its caller. */
bool symbols__frameless(struct symbols *sym, struct code_loc loc);
/* The unwinding rule at loc from the module's call frame information:
 * 0, or -1 if there is none or it is not of the kinds unwind.c follows. */
int symbols__frame_rule(struct symbols *sym, struct code_loc loc,
			struct frame_rule *rule);
/* "function" or "module+0x1234" or "[unknown]", for folded stacks */
const char *symbols__short_name(struct symbols *sym, struct code_loc loc,
				bool return_address);

#endif
