/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The time of the preloaded sites: pagetrace-preload.so's free and its
 * functions seen after their calls read the time stamp counter (TSC) in
 * user space, and the probes turn that reading into CLOCK_MONOTONIC ns
 * with the figures kept here (struct pt_site_clock, in the BPF programs'
 * .bss): a TSC reading and the clock at it, and the clock's nanoseconds
 * per tick. They are measured against clock_gettime(), which on the "tsc"
 * and "kvm-clock" clock sources is that very counter scaled, and measured
 * again at every drain (SITE_CLOCK_REFRESH_NS apart at least): how far
 * the last figures had drifted is kept, and figures that drift more than
 * SITE_CLOCK_MAX_ERROR_NS are withdrawn (the probes then read the
 * kernel's clock, as everywhere else).
 */
#ifndef PAGETRACE_SITECLOCK_H
#define PAGETRACE_SITECLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pt_site_clock;
struct site_clock;

/* A reading of the TSC and of CLOCK_MONOTONIC at the same moment: false
 * if none could be taken. */
typedef bool (*site_clock_read_fn)(void *ctx, uint64_t *tsc, uint64_t *ns);

/* How far apart the figures are measured again (the first time: how long
 * new() measures) */
#define SITE_CLOCK_REFRESH_NS 10000000ULL
#define SITE_CLOCK_FIRST_NS 5000000ULL
/* a call stamped at its site and a kernel time taken a probe later (a
 * realloc's entry) are ~0.3 us apart at least: the figures must be much
 * closer than that */
#define SITE_CLOCK_MAX_ERROR_NS 250ULL
/* a reading whose two TSC reads lie further apart was interrupted */
#define SITE_CLOCK_MAX_GAP_TICKS 500ULL

/* Can the sites' TSC readings be made CLOCK_MONOTONIC here? The kernel
 * keeps its time by the TSC (its own clock source, or a hypervisor's
 * scaling of it), which ticks at one rate on every CPU: NULL if so, else
 * why not. */
const char *site_clock__unsuited(void);

/* Measures the figures (SITE_CLOCK_FIRST_NS) and puts them in shared.
 * read: NULL for the TSC and clock_gettime(). NULL if they cannot be
 * measured. */
struct site_clock *site_clock__new(struct pt_site_clock *shared,
				   site_clock_read_fn read, void *ctx);
/* Withdraws the figures: the probes read the kernel's clock again. */
void site_clock__free(struct site_clock *sc);

/* Measure again if SITE_CLOCK_REFRESH_NS have passed since, by now_ns
 * (CLOCK_MONOTONIC, the caller's). */
void site_clock__refresh(struct site_clock *sc, uint64_t now_ns);
/* The largest drift of the figures found at a refresh, in ns */
uint64_t site_clock__error_ns(const struct site_clock *sc);
/* Withdrawn for drifting too far? */
bool site_clock__withdrawn(const struct site_clock *sc);
/* The TSC's rate as measured, in MHz */
double site_clock__mhz(const struct site_clock *sc);

/* ns per tick, times 2^32, from a span of ns_span ns over tsc_span
 * ticks; 0 if there is none to tell it */
uint64_t site_clock__mult(uint64_t ns_span, uint64_t tsc_span);

#endif
