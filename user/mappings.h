/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The target's address space as a sorted list of mappings, loaded from
 * /proc/PID/maps and kept current from the mmap, munmap, mremap, brk,
 * mprotect and madvise events. Names are interned: a name pointer stays
 * valid, and equal names are the same pointer, until mappings__free().
 */
#ifndef PAGETRACE_MAPPINGS_H
#define PAGETRACE_MAPPINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum mapping_kind {
	MAPPING_ANON, /* private anonymous */
	MAPPING_SHMEM, /* shared anonymous */
	MAPPING_HEAP, /* the brk area */
	MAPPING_STACK, /* the main thread's stack */
	MAPPING_FILE,
	MAPPING_SPECIAL, /* [vdso], [vvar], ... */
};

/* struct mapping.flags */
#define MAPPING_SHARED 0x1
#define MAPPING_HUGEPAGE 0x2 /* MADV_HUGEPAGE */
#define MAPPING_NOHUGEPAGE 0x4 /* MADV_NOHUGEPAGE */

struct mapping {
	uint64_t start;
	uint64_t end;
	uint32_t prot; /* PROT_READ | PROT_WRITE | PROT_EXEC */
	uint32_t flags;
	enum mapping_kind kind;
	const char *name; /* path, or [heap], [stack], [anon], ... */
	uint64_t offset; /* file offset of start (file mappings) */
};

struct mappings;

struct mappings *mappings__new(pid_t pid);
void mappings__free(struct mappings *m);

/* Replace everything with /proc/PID/maps. 0 or -errno. */
int mappings__load(struct mappings *m);
/* Parse one /proc/PID/maps line; false if it is not one. */
bool mappings__parse_line(struct mappings *m, const char *line,
			  struct mapping *out);

const struct mapping *mappings__find(const struct mappings *m, uint64_t addr);
/* Like find, but an address no mapping holds rereads /proc (at most every
 * 100 ms) for mappings made without a followed syscall ([uprobes], shmat);
 * only holes are filled. */
const struct mapping *mappings__lookup(struct mappings *m, uint64_t addr);
/* Mappings in address order, NULL past the end. */
const struct mapping *mappings__at(const struct mappings *m, size_t index);
size_t mappings__count(const struct mappings *m);
/* Changes at every change of the mappings: what was found in them before
 * still holds while it stays the same. */
uint64_t mappings__generation(const struct mappings *m);

/* mmap: the new mapping replaces whatever was there. */
int mappings__map(struct mappings *m, const struct mapping *map);
int mappings__unmap(struct mappings *m, uint64_t start, uint64_t end);
/* mremap: the pages keep their mapping's attributes at the new place. */
int mappings__remap(struct mappings *m, uint64_t old_start, uint64_t old_len,
		    uint64_t new_start, uint64_t new_len);
int mappings__protect(struct mappings *m, uint64_t start, uint64_t end,
		      uint32_t prot);
int mappings__set_flags(struct mappings *m, uint64_t start, uint64_t end,
			uint32_t set, uint32_t clear);
/* brk returned new_brk: the heap is [start_brk, page-aligned new_brk). */
int mappings__set_brk(struct mappings *m, uint64_t new_brk);

/* The path of the file mapped at addr, from /proc; NULL if unknown. */
const char *mappings__file_name(struct mappings *m, uint64_t addr);
const char *mappings__intern(struct mappings *m, const char *name);
/* The last component of a path. */
const char *mappings__base_name(const char *path);

#endif
