/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finds the glibc a process has mapped, resolves its allocator functions
 * and attaches the uprobes, for that process only: on the sites of
 * pagetrace-preload.so where the process has it (see user/preload/),
 * else in glibc itself. Also finds objects that define their own malloc
 * and would take the calls away.
 */
#ifndef PAGETRACE_ALLOCATOR_H
#define PAGETRACE_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mappings;
struct trace;
struct allocator;

/* NULL if the process has no glibc mapped (yet); errno tells why. */
struct allocator *allocator__find(pid_t pid, const struct mappings *maps);
void allocator__free(struct allocator *a);

/* Probes on every allocator function; 0 or -errno after an error line. */
/* Entry probes on the symbols, not past their first instructions (see
 * placement.h): the naive placement, for comparison. */
void allocator__probe_at_symbols(struct allocator *a);
/* An entry and a return probe for every call, also where a preloaded
 * site lets one probe after the call see it whole (see user/preload/):
 * --events times each call from its entry. */
void allocator__probe_entries(struct allocator *a);
/* The probes on sites that stamp the time (free's and the second nops,
 * see user/preload/) read it: the process runs with PAGETRACE_SITE_CLOCK=1
 * and the BPF side has the figures to read it (siteclock.h). */
void allocator__use_site_clock(struct allocator *a);
/* Do some probes read their time from the sites? */
bool allocator__site_clock(const struct allocator *a);
/* Are the calls of the functions that only allocate seen only after they
 * return (PT_CALL_SEEN_AFTER)? Then the faults inside them are not
 * flagged. */
bool allocator__sees_calls_after(const struct allocator *a);
int allocator__attach(struct allocator *a, struct trace *t);
/* Take a's probes away again: those attached after them too (the
 * allocator's are the trace's last uprobes). */
void allocator__detach(struct allocator *a, struct trace *t);
/* Do the probes go on pagetrace-preload.so's sites rather than in glibc?
 * Where the process has it, and no other malloc than glibc's. */
bool allocator__uses_sites(const struct allocator *a);
const char *allocator__path(const struct allocator *a);
/* Objects besides glibc that define malloc: calls may go there. */
size_t allocator__interposer_count(const struct allocator *a);
const char *allocator__interposer(const struct allocator *a, size_t i);
/* Does the mapped object at path name the same file as a's glibc? */
bool allocator__same_file(const struct allocator *a, pid_t pid,
			  const char *path);
/* Objects besides glibc that define malloc, for a process without glibc */
bool allocator__find_other(pid_t pid, const struct mappings *maps, char *name,
			   size_t size);

#endif
