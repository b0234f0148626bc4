// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <x86intrin.h>
#include "pagetrace.h"
#include "procfs.h"
#include "rules.h"
#include "siteclock.h"

/* one reading of both clocks */
struct anchor {
	uint64_t tsc;
	uint64_t ns;
};

struct site_clock {
	struct pt_site_clock *shared;
	site_clock_read_fn read;
	void *ctx;
	/* the rate is measured from base, an anchor of a second or two ago
	 * once there is one (mid becomes it): it follows the kernel's own
	 * small corrections of its rate */
	struct anchor base, mid, last;
	uint64_t error_ns;
	bool withdrawn;
};

/* true if the line of cpuinfo's flags has flag, a whole word */
static bool has_flag(const char *flags, const char *flag)
{
	size_t len = strlen(flag);
	const char *at = flags;

	while ((at = strstr(at, flag))) {
		if ((at == flags || at[-1] == ' ' || at[-1] == '\t') &&
		    (at[len] == ' ' || at[len] == '\n' || !at[len]))
			return true;
		at += len;
	}
	return false;
}

const char *site_clock__unsuited(void)
{
	char source[32] = "", available[256] = "", line[4096];
	bool constant = false, nonstop = false;
	FILE *f;

	f = fopen("/sys/devices/system/clocksource/clocksource0/"
		  "current_clocksource",
		  "r");
	if (!f || !fgets(source, sizeof(source), f)) {
		if (f)
			fclose(f);
		return "the kernel's clock source cannot be read";
	}
	fclose(f);
	if (strcmp(source, "tsc\n") && strcmp(source, "kvm-clock\n"))
		return "the kernel keeps its time by a clock source other "
		       "than the TSC (tsc, kvm-clock)";
	/* kvm-clock scales each CPU's TSC: the kernel must have found them
	 * in step (it drops tsc from the clock sources otherwise) */
	f = fopen("/sys/devices/system/clocksource/clocksource0/"
		  "available_clocksource",
		  "r");
	if (f) {
		if (!fgets(available, sizeof(available), f))
			available[0] = 0;
		fclose(f);
	}
	if (!has_flag(available, "tsc"))
		return "the kernel found the CPUs' TSCs out of step (tsc is "
		       "not among its clock sources)";
	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return "/proc/cpuinfo cannot be read";
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			constant = has_flag(line, "constant_tsc");
			nonstop = has_flag(line, "nonstop_tsc");
			break;
		}
	fclose(f);
	if (!constant || !nonstop)
		return "the TSC's rate is not constant (no constant_tsc and "
		       "nonstop_tsc)";
	return NULL;
}

/*
 * The TSC read on both sides of clock_gettime(), several times: the
 * closest pair tells the TSC at the clock's reading to within half their
 * gap (~10 ns). The vDSO reads the same counter.
 */
static bool read_tsc_and_clock(void *ctx, uint64_t *tsc, uint64_t *ns)
{
	uint64_t best_gap = UINT64_MAX;
	int tries;

	(void)ctx;
	for (tries = 0; tries < 8; tries++) {
		uint64_t before, after, now;

		_mm_lfence();
		before = __rdtsc();
		_mm_lfence();
		now = procfs__now_ns();
		_mm_lfence();
		after = __rdtsc();
		if (after > before && after - before < best_gap &&
		    after - before <= SITE_CLOCK_MAX_GAP_TICKS) {
			best_gap = after - before;
			*tsc = before + best_gap / 2;
			*ns = now;
		}
	}
	return best_gap != UINT64_MAX;
}

uint64_t site_clock__mult(uint64_t ns_span, uint64_t tsc_span)
{
	unsigned __int128 mult;

	if (!tsc_span || !ns_span)
		return 0;
	mult = (((unsigned __int128)ns_span << 32) + tsc_span / 2) / tsc_span;
	/* a TSC under 1 GHz: the kernel side could not scale it */
	return mult < PT_SITE_CLOCK_SPAN ? (uint64_t)mult : 0;
}

/* The figures the probes read, rewritten under seq (odd meanwhile). */
static void publish(struct site_clock *sc, const struct anchor *at,
		    uint64_t mult)
{
	struct pt_site_clock *shared = sc->shared;
	uint32_t seq = shared->seq;

	__atomic_store_n(&shared->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	shared->tsc = at->tsc;
	shared->ns = at->ns;
	shared->mult = mult;
	__atomic_store_n(&shared->seq, seq + 2, __ATOMIC_RELEASE);
}

struct site_clock *site_clock__new(struct pt_site_clock *shared,
				   site_clock_read_fn read, void *ctx)
{
	struct site_clock *sc = calloc(1, sizeof(*sc));
	uint64_t mult;

	if (!sc)
		return NULL;
	sc->shared = shared;
	sc->read = read ? read : read_tsc_and_clock;
	sc->ctx = ctx;
	if (!sc->read(sc->ctx, &sc->base.tsc, &sc->base.ns))
		goto fail;
	do {
		if (!sc->read(sc->ctx, &sc->last.tsc, &sc->last.ns))
			goto fail;
	} while (sc->last.ns - sc->base.ns < SITE_CLOCK_FIRST_NS);
	mult = site_clock__mult(sc->last.ns - sc->base.ns,
				sc->last.tsc - sc->base.tsc);
	if (!mult || sc->last.tsc <= sc->base.tsc)
		goto fail;
	sc->mid = sc->base;
	publish(sc, &sc->last, mult);
	return sc;
fail:
	free(sc);
	return NULL;
}

void site_clock__free(struct site_clock *sc)
{
	if (!sc)
		return;
	publish(sc, &sc->last, 0);
	free(sc);
}

static void withdraw(struct site_clock *sc)
{
	sc->withdrawn = true;
	publish(sc, &sc->last, 0);
}

void site_clock__refresh(struct site_clock *sc, uint64_t now_ns)
{
	const struct pt_site_clock *shared = sc->shared;
	struct anchor now;
	uint64_t predicted, error, mult;

	/* the drain's own time: no reading unless one is due */
	if (sc->withdrawn || now_ns - sc->last.ns < SITE_CLOCK_REFRESH_NS ||
	    !sc->read(sc->ctx, &now.tsc, &now.ns))
		return;
	if (now.tsc <= sc->base.tsc) {
		withdraw(sc); /* the counter went back */
		return;
	}
	/* what the probes would have made of this reading; none if it is
	 * too far on (no drain for a second or more: they read the kernel's
	 * clock meanwhile) */
	predicted = pt_site_clock_ns(now.tsc, shared->tsc, shared->ns,
				     shared->mult);
	if (predicted) {
		error = predicted > now.ns ? predicted - now.ns :
					     now.ns - predicted;
		if (error > sc->error_ns)
			sc->error_ns = error;
		if (error > SITE_CLOCK_MAX_ERROR_NS) {
			withdraw(sc);
			return;
		}
	}
	if (now.ns - sc->mid.ns >= 1000000000ULL) {
		sc->base = sc->mid;
		sc->mid = now;
	}
	mult = site_clock__mult(now.ns - sc->base.ns, now.tsc - sc->base.tsc);
	if (!mult) {
		withdraw(sc);
		return;
	}
	sc->last = now;
	publish(sc, &now, mult);
}

uint64_t site_clock__error_ns(const struct site_clock *sc)
{
	return sc->error_ns;
}

bool site_clock__withdrawn(const struct site_clock *sc)
{
	return sc->withdrawn;
}

double site_clock__mhz(const struct site_clock *sc)
{
	/* ticks per ns = 2^32 / mult, as last published (or measured) */
	uint64_t mult = site_clock__mult(sc->last.ns - sc->base.ns,
					 sc->last.tsc - sc->base.tsc);

	return mult ? 4294967296.0 / (double)mult * 1000.0 : 0;
}
