// SPDX-License-Identifier: GPL-2.0
#include <linux/types.h>
#include <stdint.h>
#include "check.h"
#include "pagetrace.h"
#include "rules.h"
#include "siteclock.h"

/*
 * A made-up pair of clocks: each reading 1 ms on, the TSC at ghz ticks
 * per ns from tsc0; from jump_at_ns on, the clock runs ppm faster (a
 * clock source gone wrong).
 */
struct fake_clocks {
	uint64_t ns;
	uint64_t tsc0;
	double ghz;
	uint64_t jump_at_ns;
	double ppm;
	int reads;
};

static bool fake_read(void *ctx, uint64_t *tsc, uint64_t *ns)
{
	struct fake_clocks *c = ctx;
	uint64_t clock_ns = c->ns;

	if (c->jump_at_ns && c->ns > c->jump_at_ns)
		clock_ns += (uint64_t)((double)(c->ns - c->jump_at_ns) *
				       c->ppm / 1e6);
	*tsc = c->tsc0 + (uint64_t)((double)c->ns * c->ghz);
	*ns = clock_ns;
	c->ns += 1000000;
	c->reads++;
	return true;
}

/* A drain 1 ms on: the figures measured again if that is due. */
static void drain_tick(struct site_clock *sc, struct fake_clocks *c)
{
	c->ns += 1000000;
	site_clock__refresh(sc, c->ns);
}

/* the fake TSC at clock time ns (before any jump) */
static uint64_t tsc_at(const struct fake_clocks *c, uint64_t ns)
{
	return c->tsc0 + (uint64_t)((double)ns * c->ghz);
}

static uint64_t site_ns(const struct pt_site_clock *shared, uint64_t reading)
{
	return pt_site_clock_ns(reading, shared->tsc, shared->ns, shared->mult);
}

static uint64_t distance(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static void test_conversion(void)
{
	/* 2.5 GHz: 0.4 ns a tick */
	uint64_t mult = site_clock__mult(1000000000ULL, 2500000000ULL);

	CHECK_U64(mult, 1717986918); /* 0.4 * 2^32, rounded */
	CHECK_U64(pt_site_clock_ns(1000 + 2500, 1000, 5000000, mult),
		  5001000 - 1);
	CHECK_U64(pt_site_clock_ns(1000 + 25000000, 1000, 5000000, mult),
		  15000000 - 1);
	/* readings from before the figures' own */
	CHECK_U64(pt_site_clock_ns(1000, 1000 + 2500, 5000000, mult),
		  4999000 + 1);
	/* none: no figures, too far from them, or before time 0 */
	CHECK_U64(pt_site_clock_ns(5000, 1000, 5000000, 0), 0);
	CHECK_U64(pt_site_clock_ns(1000 + PT_SITE_CLOCK_SPAN, 1000, 5000000,
				   mult),
		  0);
	CHECK_U64(pt_site_clock_ns(1000, 1000 + PT_SITE_CLOCK_SPAN, 5000000,
				   mult),
		  0);
	CHECK_U64(pt_site_clock_ns(1000, 1000 + 25000000, 5000000, mult), 0);
	/* a TSC under 1 GHz cannot be scaled there */
	CHECK_U64(site_clock__mult(1000000000ULL, 900000000ULL), 0);
	CHECK_U64(site_clock__mult(1000000000ULL, 0), 0);
}

static void test_figures_follow_the_clock(void)
{
	struct fake_clocks c = { .ns = 1000000000ULL,
				 .tsc0 = 123456789,
				 .ghz = 2.6 };
	struct pt_site_clock shared = { 0 };
	struct site_clock *sc = site_clock__new(&shared, fake_read, &c);
	uint64_t t;
	int i;

	if (!sc) {
		CHECK(sc != NULL);
		return;
	}
	/* SITE_CLOCK_FIRST_NS measured: 1 ms a reading */
	CHECK(c.reads >= 5 && c.reads <= 7);
	CHECK(shared.mult && !(shared.seq & 1) && shared.seq);
	CHECK(distance((uint64_t)(site_clock__mhz(sc) + 0.5), 2600) == 0);
	/* a site's reading 3 ms after the figures' */
	t = shared.ns + 3000000;
	CHECK(distance(site_ns(&shared, tsc_at(&c, t)), t) <= 1);
	/* and refreshed: no sooner than SITE_CLOCK_REFRESH_NS on */
	drain_tick(sc, &c);
	CHECK_U64(shared.seq, 2);
	for (i = 0; i < 12; i++)
		drain_tick(sc, &c);
	CHECK_U64(shared.seq, 4);
	CHECK(site_clock__error_ns(sc) <= 1);
	CHECK(!site_clock__withdrawn(sc));
	t = shared.ns + 900000000ULL;
	CHECK(distance(site_ns(&shared, tsc_at(&c, t)), t) <= 1);
	site_clock__free(sc);
	/* gone: the probes read the kernel's clock */
	CHECK_U64(shared.mult, 0);
	CHECK_U64(site_ns(&shared, tsc_at(&c, t)), 0);
}

/*
 * A clock that runs ppm faster from 20 ms after the figures' first
 * reading, drained at most drains times, 1 ms apart (stopping once
 * withdrawn): withdrawn or not, and the largest drift found.
 */
static bool drifting(double ppm, int drains, uint64_t *error_ns)
{
	struct fake_clocks c = { .ns = 1000000000ULL,
				 .tsc0 = 5,
				 .ghz = 3.0,
				 .jump_at_ns = 1020000000ULL,
				 .ppm = ppm };
	struct pt_site_clock shared = { 0 };
	struct site_clock *sc = site_clock__new(&shared, fake_read, &c);
	bool withdrawn;
	int i;

	if (!sc) {
		CHECK(sc != NULL);
		return false;
	}
	for (i = 0; i < drains && !site_clock__withdrawn(sc); i++)
		drain_tick(sc, &c);
	withdrawn = site_clock__withdrawn(sc);
	/* the probes' figures gone with them */
	CHECK(withdrawn == !shared.mult);
	*error_ns = site_clock__error_ns(sc);
	site_clock__free(sc);
	return withdrawn;
}

static void test_small_drift_followed(void)
{
	uint64_t error_ns = 0;

	/* 1 ppm: 10 ns in 10 ms, the figures follow */
	CHECK(!drifting(1, 400, &error_ns));
	CHECK(error_ns <= 20);
}

static void test_drift_withdraws(void)
{
	uint64_t error_ns = 0;

	/* 500 ppm: 10 ms later the figures are 5 us out */
	CHECK(drifting(500, 40, &error_ns));
	CHECK(error_ns > SITE_CLOCK_MAX_ERROR_NS);
}

int main(void)
{
	RUN(test_conversion);
	RUN(test_figures_follow_the_clock);
	RUN(test_small_drift_followed);
	RUN(test_drift_withdraws);
	return check_summary();
}
