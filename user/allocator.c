// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "allocator.h"
#include "elfsym.h"
#include "log.h"
#include "mappings.h"
#include "placement.h"
#include "decode.h"
#include "trace.h"

#define MAX_INTERPOSERS 8

/*
 * pagetrace-preload.so, where pagetrace preloaded it into the command it
 * started (see user/preload/): each allocator function there copies its
 * caller into rax, then has a 5-byte nop, a probe the kernel turns into a
 * call instead of an exception, then a jump on to glibc; the functions
 * that only allocate (all but realloc, reallocarray and free) call glibc
 * instead and come back to a second nop, where one probe sees the whole
 * call. Before free's nop and the second ones, a time stamp (STAMP there)
 * where the library has pagetrace_site_clock.
 */
struct preload_sites {
	bool present;
	char path[PATH_MAX]; /* as /proc/PID/maps names it */
	char open_path[PATH_MAX];
	uint64_t offsets[PT_FN__COUNT]; /* of the nops */
	bool found[PT_FN__COUNT];
	bool caller_in_ax[PT_FN__COUNT]; /* the copy is there */
	/* the second nop of the functions that only allocate, after their
	 * call: the result in rax, the arguments in rbx, r12 and r13, the
	 * caller in rcx */
	uint64_t back_offsets[PT_FN__COUNT];
	bool back[PT_FN__COUNT];
	/* the probe at fn's site (free's, or the second nop) finds the
	 * stamp's reading in r11: the library says its sites stamp
	 * (pagetrace_site_clock) and the stamp's first instruction is
	 * where it should be */
	bool stamped[PT_FN__COUNT];
};

/* mov (%rsp),%rax, then nopl 0(%rax,%rax,1) */
static const uint8_t SITE_CALLER_COPY[] = { 0x48, 0x8b, 0x04, 0x24 };
static const uint8_t SITE_NOP5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
/* mov XX(%rsp),%rcx: the caller, copied right before the second nop */
static const uint8_t SITE_BACK_CALLER[] = { 0x48, 0x8b, 0x4c, 0x24 };
/* xor %r11d,%r11d: the stamp's start, at free's site and right after the
 * call of the others */
static const uint8_t SITE_STAMP[] = { 0x45, 0x31, 0xdb };
/* a site's first nop lies in its first line, the second nop in its first
 * two */
#define SITE_LINE 64

struct allocator {
	pid_t pid;
	char path[PATH_MAX]; /* as /proc/PID/maps names it */
	char open_path[PATH_MAX]; /* what we open: /proc/PID/map_files/... */
	dev_t dev;
	ino_t ino;
	uint64_t offsets[PT_FN__COUNT]; /* of the symbols in the file */
	struct placement placed[PT_FN__COUNT]; /* entry probes, from there */
	bool at_symbols; /* entry probes on the symbols themselves */
	bool entries; /* entry and return probes, never one after a call */
	bool found[PT_FN__COUNT];
	char *interposers[MAX_INTERPOSERS];
	size_t interposer_count;
	struct preload_sites sites;
	bool attached;
	bool site_clock; /* probes that can read a stamp take it */
	struct trace_mark mark; /* the trace's uprobes before ours */
};

/* A path that reaches the mapped file even if it was deleted or lives in
 * another mount namespace. */
static void mapped_file_path(pid_t pid, const struct mapping *map, char *buf,
			     size_t size)
{
	snprintf(buf, size, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid,
		 map->start, map->end);
	if (access(buf, R_OK))
		snprintf(buf, size, "/proc/%d/root%s", pid, map->name);
}

static bool is_glibc(struct elf_file *ef)
{
	uint64_t vaddr;

	/* __libc_malloc is glibc's own export: other libcs lack it */
	return !elf_file__function(ef, "__libc_malloc", true, &vaddr);
}

static bool defines_malloc(struct elf_file *ef)
{
	uint64_t vaddr;

	return !elf_file__function(ef, "malloc", true, &vaddr);
}

static bool is_preload_sites(struct elf_file *ef)
{
	uint64_t vaddr;

	return !elf_file__function(ef, "pagetrace_preload_sites", true, &vaddr);
}

/* Where in ef each allocator function it exports starts (file offsets);
 * found[fn] says which it has. Both found: malloc and free. */
static bool find_functions(struct elf_file *ef, uint64_t *offsets, bool *found)
{
	int fn;

	for (fn = 0; fn < PT_FN__COUNT; fn++) {
		uint64_t vaddr;

		found[fn] = !elf_file__function(ef, decode__fn_name(fn), true,
						&vaddr) &&
			    !elf_file__offset(ef, vaddr, &offsets[fn]);
	}
	return found[PT_FN_MALLOC] && found[PT_FN_FREE];
}

/* Where a site's second nop is, after its call, searched for past its
 * first nop (at offset); false if it has none. *stamped: the stamp
 * follows the call. */
static bool find_back_nop(struct elf_file *ef, uint64_t offset, uint64_t *back,
			  bool *stamped)
{
	size_t copy = sizeof(SITE_BACK_CALLER) + 1, at, call = 0;
	uint8_t code[2 * SITE_LINE];

	if (elf_file__read(ef, offset, code, sizeof(code)))
		return false;
	for (at = sizeof(SITE_NOP5);
	     at + copy + sizeof(SITE_NOP5) <= sizeof(code); at++) {
		/* the site's call *rel32(%rip), ff 15, then (past the stamp,
		 * if any) the copy of the caller and the nop */
		if (!call && at >= 6 && code[at - 6] == 0xff &&
		    code[at - 5] == 0x15)
			call = at;
		if (call &&
		    !memcmp(code + at, SITE_BACK_CALLER,
			    sizeof(SITE_BACK_CALLER)) &&
		    !memcmp(code + at + copy, SITE_NOP5, sizeof(SITE_NOP5))) {
			*back = offset + at + copy;
			*stamped = call + sizeof(SITE_STAMP) <= at &&
				   !memcmp(code + call, SITE_STAMP,
					   sizeof(SITE_STAMP));
			return true;
		}
	}
	return false;
}

/* Where the copy of the caller and the nop after it are in a site's first
 * line, at its start or past its stamp; false if nowhere. */
static bool find_entry_nop(struct elf_file *ef, uint64_t offset, uint64_t *nop)
{
	size_t copy = sizeof(SITE_CALLER_COPY), at;
	uint8_t code[SITE_LINE];

	if (elf_file__read(ef, offset, code, sizeof(code)))
		return false;
	for (at = 0; at + copy + sizeof(SITE_NOP5) <= sizeof(code); at++)
		if (!memcmp(code + at, SITE_CALLER_COPY, copy) &&
		    !memcmp(code + at + copy, SITE_NOP5, sizeof(SITE_NOP5))) {
			*nop = offset + at + copy;
			return true;
		}
	return false;
}

/* The sites of pagetrace-preload.so, mapped from path. */
static void resolve_sites(struct preload_sites *sites, struct elf_file *ef,
			  const char *path, const char *open_path)
{
	uint8_t start[sizeof(SITE_STAMP)];
	uint64_t vaddr;
	bool stamps, stamp_first;
	int fn;

	sites->present = find_functions(ef, sites->offsets, sites->found);
	stamps = !elf_file__function(ef, "pagetrace_site_clock", true, &vaddr);
	/* the nop follows the copy; a site without the copy has the nop
	 * first, and its probe reads the caller from the stack */
	for (fn = 0; fn < PT_FN__COUNT; fn++) {
		stamp_first = sites->found[fn] &&
			      !elf_file__read(ef, sites->offsets[fn], start,
					      sizeof(start)) &&
			      !memcmp(start, SITE_STAMP, sizeof(start));
		sites->caller_in_ax[fn] = sites->found[fn] &&
					  find_entry_nop(ef, sites->offsets[fn],
							 &sites->offsets[fn]);
		sites->stamped[fn] = stamps && fn == PT_FN_FREE &&
				     sites->caller_in_ax[fn] && stamp_first;
		sites->back[fn] =
			sites->caller_in_ax[fn] && pt_seen_after_call(fn) &&
			find_back_nop(ef, sites->offsets[fn],
				      &sites->back_offsets[fn], &stamp_first);
		if (sites->back[fn])
			sites->stamped[fn] = stamps && stamp_first;
	}
	snprintf(sites->path, sizeof(sites->path), "%s", path);
	snprintf(sites->open_path, sizeof(sites->open_path), "%s", open_path);
}

static bool looks_like_libc(const char *path)
{
	const char *base = mappings__base_name(path);

	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5);
}

static bool is_loader(const char *path)
{
	const char *base = mappings__base_name(path);

	return !strncmp(base, "ld-", 3) || !strncmp(base, "ld.so", 5);
}

/* glibc's allocator functions, and where their entry probes go */
static int resolve(struct allocator *a, struct elf_file *ef)
{
	bool usable = find_functions(ef, a->offsets, a->found);
	int fn;

	for (fn = 0; fn < PT_FN__COUNT; fn++) {
		uint8_t code[32];

		if (!a->found[fn])
			continue;
		if (!elf_file__read(ef, a->offsets[fn], code, sizeof(code)))
			a->placed[fn] = placement__entry(code, sizeof(code),
							 fn == PT_FN_FREE);
		else
			a->placed[fn] = (struct placement){ 0, "nothing" };
	}
	return usable ? 0 : -ENOENT;
}

/* Executable file mappings, each file once, in address order. */
static bool first_exec_mapping(const struct mappings *maps, size_t index)
{
	const struct mapping *map = mappings__at(maps, index);
	size_t i;

	if (map->kind != MAPPING_FILE || !(map->prot & PROT_EXEC))
		return false;
	for (i = 0; i < index; i++) {
		const struct mapping *prev = mappings__at(maps, i);

		if (prev->name == map->name && (prev->prot & PROT_EXEC))
			return false;
	}
	return true;
}

static void find_interposers(struct allocator *a, const struct mappings *maps)
{
	size_t i, count = mappings__count(maps);

	for (i = 0; i < count && a->interposer_count < MAX_INTERPOSERS; i++) {
		const struct mapping *map = mappings__at(maps, i);
		char open_path[PATH_MAX];
		struct elf_file *ef;

		if (!first_exec_mapping(maps, i) ||
		    !strcmp(map->name, a->path) || is_loader(map->name))
			continue;
		mapped_file_path(a->pid, map, open_path, sizeof(open_path));
		ef = elf_file__open(open_path);
		if (!ef)
			continue;
		if (is_preload_sites(ef))
			resolve_sites(&a->sites, ef, map->name, open_path);
		else if (defines_malloc(ef))
			a->interposers[a->interposer_count++] =
				strdup(map->name);
		elf_file__free(ef);
	}
}

struct allocator *allocator__find(pid_t pid, const struct mappings *maps)
{
	size_t i, count = mappings__count(maps);
	struct allocator *a = calloc(1, sizeof(*a));
	int pass;

	if (!a)
		return NULL;
	a->pid = pid;
	/* by name first; then any object, for a renamed or bundled glibc */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < count; i++) {
			const struct mapping *map = mappings__at(maps, i);
			struct elf_file *ef;
			struct stat st;

			if (!first_exec_mapping(maps, i) ||
			    looks_like_libc(map->name) != (pass == 0) ||
			    is_loader(map->name))
				continue;
			mapped_file_path(pid, map, a->open_path,
					 sizeof(a->open_path));
			ef = elf_file__open(a->open_path);
			if (!ef)
				continue;
			if (is_glibc(ef) && !resolve(a, ef) &&
			    !stat(a->open_path, &st)) {
				elf_file__free(ef);
				snprintf(a->path, sizeof(a->path), "%s",
					 map->name);
				a->dev = st.st_dev;
				a->ino = st.st_ino;
				find_interposers(a, maps);
				return a;
			}
			elf_file__free(ef);
		}
	}
	free(a);
	errno = ENOENT;
	return NULL;
}

void allocator__free(struct allocator *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->interposer_count; i++)
		free(a->interposers[i]);
	free(a);
}

void allocator__probe_at_symbols(struct allocator *a)
{
	a->at_symbols = true;
}

void allocator__probe_entries(struct allocator *a)
{
	a->entries = true;
}

void allocator__use_site_clock(struct allocator *a)
{
	a->site_clock = true;
}

bool allocator__site_clock(const struct allocator *a)
{
	int fn;

	if (!a->site_clock || !allocator__uses_sites(a))
		return false;
	for (fn = 0; fn < PT_FN__COUNT; fn++)
		if (a->sites.stamped[fn])
			return true;
	return false;
}

bool allocator__sees_calls_after(const struct allocator *a)
{
	int fn;

	if (!allocator__uses_sites(a) || a->entries)
		return false;
	for (fn = 0; fn < PT_FN__COUNT; fn++)
		if (a->sites.back[fn])
			return true;
	return false;
}

bool allocator__uses_sites(const struct allocator *a)
{
	/* another malloc in the process may take the calls before the
	 * sites do: then probe glibc itself, as without them */
	return a->sites.present && !a->at_symbols && !a->interposer_count;
}

/* Where the entry probe of fn goes in glibc; false if nowhere. */
static bool glibc_entry(const struct allocator *a, int fn, uint64_t *entry)
{
	int other;

	if (!a->found[fn])
		return false;
	/* aligned_alloc and memalign are one function in glibc: a second
	 * probe at the same place would report each call twice */
	for (other = 0; other < fn; other++)
		if (a->found[other] && a->offsets[other] == a->offsets[fn])
			return false;
	*entry = a->offsets[fn] + (a->at_symbols ? 0 : a->placed[fn].offset);
	if (*entry == a->offsets[fn])
		log__debug("uprobe on %s at %s+0x%" PRIx64 " (the symbol)",
			   decode__fn_name(fn), a->path, *entry);
	else
		log__debug("uprobe on %s at %s+0x%" PRIx64
			   " (the symbol +%" PRIu64 ", past %s)",
			   decode__fn_name(fn), a->path, *entry,
			   *entry - a->offsets[fn], a->placed[fn].why);
	return true;
}

/* ... or on its preloaded site */
static bool site_entry(const struct allocator *a, int fn, uint64_t *entry,
		       uint64_t *cookie)
{
	if (!a->sites.found[fn])
		return false;
	*entry = a->sites.offsets[fn];
	if (a->sites.caller_in_ax[fn])
		*cookie |= PT_COOKIE_CALLER_IN_AX;
	log__debug("uprobe on %s at %s+0x%" PRIx64
		   " (pagetrace's preloaded site: a 5-byte nop the kernel "
		   "turns into a call)",
		   decode__fn_name(fn), a->sites.path, *entry);
	return true;
}

/* ... or, for the functions that only allocate, after the site's call
 * alone */
static bool site_back(const struct allocator *a, int fn, uint64_t *place)
{
	if (a->entries || !a->sites.back[fn])
		return false;
	*place = a->sites.back_offsets[fn];
	log__debug("uprobe on %s at %s+0x%" PRIx64
		   " (pagetrace's preloaded site, after its call: one probe "
		   "for the whole call)",
		   decode__fn_name(fn), a->sites.path, *place);
	return true;
}

int allocator__attach(struct allocator *a, struct trace *t)
{
	struct uprobe_spec allocs[PT_FN__COUNT], backs[PT_FN__COUNT], frees[1];
	bool sites = allocator__uses_sites(a);
	const char *open_path = sites ? a->sites.open_path : a->open_path;
	size_t alloc_count = 0, back_count = 0, free_count = 0;
	uint64_t entry, cookie;
	int fn, err;

	for (fn = 0; fn < PT_FN__COUNT; fn++) {
		cookie = fn;
		if (sites && site_back(a, fn, &entry)) {
			if (a->site_clock && a->sites.stamped[fn])
				cookie |= PT_COOKIE_SITE_CLOCK;
			backs[back_count++] =
				(struct uprobe_spec){ .offset = entry,
						      .cookie = cookie };
			continue;
		}
		if (!(sites ? site_entry(a, fn, &entry, &cookie) :
			      glibc_entry(a, fn, &entry)))
			continue;
		if (fn == PT_FN_FREE) {
			frees[free_count++] =
				(struct uprobe_spec){ .offset = entry,
						      .cookie = cookie };
		} else {
			/* the return probe too: the return address is on
			 * top of the stack until the first push */
			allocs[alloc_count++] =
				(struct uprobe_spec){ .offset = entry,
						      .cookie = cookie };
		}
	}
	/* free's probe reads the stamp by a flag, not its cookie */
	trace__set_free_site_clock(t, sites && a->site_clock &&
					      a->sites.stamped[PT_FN_FREE]);
	/*
	 * Returns before entries: the kernel arms a return probe when the
	 * function is entered, only if one is registered by then. An entry
	 * seen without its return would leave the thread "inside a call".
	 */
	trace__uprobe_mark(t, &a->mark);
	/* first the probes that see whole calls: a program running on while
	 * they are attached (after an exec) makes its first calls soon */
	err = trace__attach_uprobes(t, a->pid, open_path, UPROBE_ALLOC_BACK,
				    backs, back_count);
	if (!err)
		err = trace__attach_uprobes(t, a->pid, open_path,
					    UPROBE_ALLOC_RETURN, allocs,
					    alloc_count);
	if (!err)
		err = trace__attach_uprobes(t, a->pid, open_path,
					    UPROBE_ALLOC_ENTRY, allocs,
					    alloc_count);
	if (!err)
		err = trace__attach_uprobes(t, a->pid, open_path,
					    UPROBE_FREE_ENTRY, frees,
					    free_count);
	if (err) {
		trace__uprobe_rollback(t, &a->mark);
		log__error("cannot attach uprobes to the allocator in %s (%s)",
			   sites ? a->sites.path : a->path, strerror(-err));
	}
	a->attached = !err;
	return err;
}

void allocator__detach(struct allocator *a, struct trace *t)
{
	if (!a->attached)
		return;
	trace__uprobe_rollback(t, &a->mark);
	a->attached = false;
}

const char *allocator__path(const struct allocator *a)
{
	return a->path;
}

size_t allocator__interposer_count(const struct allocator *a)
{
	return a->interposer_count;
}

const char *allocator__interposer(const struct allocator *a, size_t i)
{
	return i < a->interposer_count ? a->interposers[i] : NULL;
}

bool allocator__same_file(const struct allocator *a, pid_t pid,
			  const char *path)
{
	char proc_path[PATH_MAX];
	struct stat st;

	snprintf(proc_path, sizeof(proc_path), "/proc/%d/root%s", pid, path);
	if (stat(proc_path, &st))
		return !strcmp(path, a->path);
	return st.st_dev == a->dev && st.st_ino == a->ino;
}

bool allocator__find_other(pid_t pid, const struct mappings *maps, char *name,
			   size_t size)
{
	size_t i, count = mappings__count(maps);

	for (i = 0; i < count; i++) {
		const struct mapping *map = mappings__at(maps, i);
		char open_path[PATH_MAX];
		struct elf_file *ef;
		bool found;

		if (!first_exec_mapping(maps, i) || is_loader(map->name))
			continue;
		mapped_file_path(pid, map, open_path, sizeof(open_path));
		ef = elf_file__open(open_path);
		if (!ef)
			continue;
		found = defines_malloc(ef);
		elf_file__free(ef);
		if (found) {
			snprintf(name, size, "%s", map->name);
			return true;
		}
	}
	return false;
}
