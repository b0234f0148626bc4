// SPDX-License-Identifier: GPL-2.0
/*
 * How many records per second the loader drains from the real ring
 * buffer with nothing lost, on one core. The producer is pagetrace's own
 * kernel side: bench_produce (bpf/bench.bpf.h), run with BPF_PROG_TEST_RUN
 * from a thread on the other CPU, reserves and submits records shaped as
 * the probes make them (a malloc, a first-touch fault per page, a free)
 * at an offered rate that doubles each step. The drain is the session's:
 * epoll on the ring buffer (woken at a quarter full, else every 50 ms),
 * then every record decoded and handed to a ledger and its site tables.
 * Needs root (BPF).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "decode.h"
#include "trace.h"

#define HEAP 0x10000000ULL
#define RING_BYTES (PT_RINGS_BYTES / 2)
#define HEAP_SIZE (1ULL << 32)
#define POLL_MS 50 /* the session's */
#define STEP_MS 1000 /* per offered rate, unless argv[1] says */
#define ROUNDS_PER_RUN 64 /* 384 records per BPF_PROG_TEST_RUN */

struct drain {
	struct bench_loader loader;
	struct trace *trace;
	int producer_cpu;
	uint64_t taken; /* records decoded and handed to the ledger */
	uint64_t bad; /* records that did not decode */
};

struct producer {
	struct trace *trace;
	int cpu;
	uint64_t step_ns;
	double rate; /* records per second offered, 0: as fast as it can */
	uint32_t first_round;
	uint64_t made; /* records committed */
	uint64_t refused; /* reservations refused: the ring buffer was full */
	uint64_t elapsed_ns;
	int err;
	atomic_bool done;
	int done_fd; /* an eventfd in the drain's epoll set */
};

static void on_record(void *ctx, const void *data, size_t size)
{
	struct drain *d = ctx;
	struct ledger_charge charge;
	struct code_origin from = { .stack = PT_NO_STACK };
	struct event ev;

	if (decode__record(data, size, &ev)) {
		d->bad++;
		return;
	}
	d->taken++;
	switch (ev.type) {
	case PT_REC_CALL:
		from.site = ev.call->caller;
		ledger__on_call(d->loader.ledger, ev.call, &from);
		break;
	case PT_REC_FAULT:
		from.site = ev.fault->ip;
		ledger__on_fault(d->loader.ledger, ev.fault, &from, &charge);
		break;
	case PT_REC_FREE:
		ledger__on_free(d->loader.ledger, ev.free);
		break;
	default:
		break;
	}
}

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* The first two CPUs this process may run on: the drain's, the producer's */
static int pick_cpus(int *drain_cpu, int *producer_cpu)
{
	int cpu, found = 0;
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (found++)
			*producer_cpu = cpu;
		else
			*drain_cpu = cpu;
	}
	return found == 2 ? 0 : -ENODEV;
}

static void sleep_until(uint64_t when_ns)
{
	struct timespec ts = { .tv_sec = when_ns / 1000000000ULL,
			       .tv_nsec = when_ns % 1000000000ULL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* One step: runs of ROUNDS_PER_RUN rounds for step_ns, each run started
 * when the offered rate says the records before it were due. */
static void *produce(void *arg)
{
	struct producer *p = arg;
	uint64_t start, now, offered = 0;

	p->err = pin_to(p->cpu);
	/* wake on time: the default 50 us slack is a run at 8 M/s */
	prctl(PR_SET_TIMERSLACK, 1UL);
	start = now_ns();
	for (now = start; !p->err && now - start < p->step_ns; now = now_ns()) {
		struct pt_bench_produce args = {
			.base = HEAP,
			.first = p->first_round,
			.rounds = ROUNDS_PER_RUN,
		};

		if (p->rate > 0)
			sleep_until(start +
				    (uint64_t)(offered / p->rate * 1e9));
		p->err = trace__bench_produce(p->trace, &args);
		if (p->err)
			break;
		p->first_round += ROUNDS_PER_RUN;
		offered += ROUNDS_PER_RUN * PT_BENCH_RECORDS_PER_ROUND;
		p->made += args.made;
		p->refused += args.refused;
	}
	p->elapsed_ns = now_ns() - start;
	atomic_store(&p->done, true);
	eventfd_write(p->done_fd, 1);
	return NULL;
}

static uint64_t thread_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

/* records the kernel side counted as lost, all types */
static uint64_t lost_so_far(struct trace *t)
{
	uint64_t lost[PT_LOST__COUNT], sum = 0;
	int i;

	trace__lost(t, lost, PT_LOST__COUNT);
	for (i = 0; i < PT_REC__COUNT; i++)
		sum += lost[i];
	return sum;
}

/* Offered rates, then one step with the drain paused until the producer
 * is done: the ring buffer fills, and what it refuses is counted lost. */
static const struct {
	double rate; /* records/s, 0: as fast as the producer can */
	bool paused;
} plan[] = {
	{ 0.5e6, false }, { 1e6, false }, { 2e6, false }, { 4e6, false },
	{ 8e6, false },	  { 0, false },	  { 0, true },
};

#define PLAN_STEPS (sizeof(plan) / sizeof(plan[0]))

struct step {
	double offered; /* M records/s, 0: unpaced */
	bool paused;
	double produced; /* M records/s the producer made */
	double drained; /* M records/s, the step's start to the last taken */
	uint64_t taken;
	uint64_t lost;
	double busy; /* the drain's CPU time over the step's */
	double capacity; /* M records per second of the drain's CPU time */
};

static int run_step(struct drain *d, uint64_t step_ns, double rate, bool paused,
		    uint32_t *round, int epoll_fd, int done_fd,
		    struct step *out)
{
	struct producer p = { .trace = d->trace,
			      .cpu = d->producer_cpu,
			      .done_fd = done_fd,
			      .step_ns = step_ns,
			      .rate = rate,
			      .first_round = *round };
	uint64_t taken = d->taken, lost = lost_so_far(d->trace);
	uint64_t start, last, cpu = thread_cpu_ns(), elapsed, cpu_used;
	struct epoll_event ev;
	pthread_t thread;
	int err;

	start = last = now_ns();
	err = pthread_create(&thread, NULL, produce, &p);
	if (err)
		return -err;
	/* the producer's end wakes the drain (done_fd) as a target's exit
	 * wakes the session */
	while (!paused && !atomic_load(&p.done)) {
		epoll_wait(epoll_fd, &ev, 1, POLL_MS);
		if (trace__drain(d->trace) > 0)
			last = now_ns();
	}
	pthread_join(thread, NULL);
	/* every run has returned: all it committed is in the buffer */
	if (trace__drain_through(d->trace) > 0)
		last = now_ns();
	/* the drain's rate runs to the last record taken, not to the poll
	 * that found the producer done */
	elapsed = last > start ? last - start : 1;
	*round = p.first_round;
	if (p.err)
		return p.err;
	out->offered = rate / 1e6;
	out->paused = paused;
	out->produced = p.made / (p.elapsed_ns / 1e9) / 1e6;
	out->taken = d->taken - taken;
	out->drained = out->taken / (elapsed / 1e9) / 1e6;
	out->lost = lost_so_far(d->trace) - lost;
	cpu_used = thread_cpu_ns() - cpu;
	out->busy = (double)cpu_used / elapsed;
	out->capacity = cpu_used ? out->taken / (cpu_used / 1e9) / 1e6 : 0;
	if (out->lost != p.refused || out->taken != p.made) {
		fprintf(stderr,
			"drain_speed: counts disagree: made %llu, taken %llu, "
			"refused %llu, counted lost %llu\n",
			(unsigned long long)p.made,
			(unsigned long long)out->taken,
			(unsigned long long)p.refused,
			(unsigned long long)out->lost);
		return -EPROTO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* each CPU's ring as the session's default makes it on two CPUs,
	 * whatever the CPUs here: the paused row's count depends on it */
	struct trace_config cfg = { .ringbuf_bytes = RING_BYTES,
				    .bench_producer = true,
				    .on_record = on_record };
	struct epoll_event ring = { .events = EPOLLIN };
	struct epoll_event done = { .events = EPOLLIN | EPOLLET };
	struct step steps[PLAN_STEPS];
	double best = 0;
	uint64_t step_ms = argc > 1 ? strtoull(argv[1], NULL, 10) : STEP_MS;
	struct drain d;
	uint32_t round = 0;
	int exit_code, epoll_fd, done_fd, drain_cpu = -1, err = 0;
	size_t i;

	if (argc > 2 || !step_ms) {
		fprintf(stderr, "usage: drain_speed [MS_PER_RATE]\n");
		return 64;
	}
	memset(&d, 0, sizeof(d));
	bench_loader__init(&d.loader, HEAP, HEAP_SIZE);
	cfg.ctx = &d;
	d.trace = trace__new(&cfg, &exit_code);
	if (!d.trace)
		return exit_code;
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (epoll_fd < 0 || done_fd < 0 ||
	    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, trace__epoll_fd(d.trace),
		      &ring) ||
	    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, done_fd, &done)) {
		perror("drain_speed: epoll");
		return 1;
	}
	if (pick_cpus(&drain_cpu, &d.producer_cpu) || pin_to(drain_cpu)) {
		fprintf(stderr,
			"drain_speed: needs two CPUs it may run on, one "
			"for the drain, one for the producer\n");
		return 1;
	}
	for (i = 0; i < PLAN_STEPS && !err; i++)
		err = run_step(&d, step_ms * 1000000ULL, plan[i].rate,
			       plan[i].paused, &round, epoll_fd, done_fd,
			       &steps[i]);
	if (err) {
		fprintf(stderr, "drain_speed: the producer failed: %s\n",
			strerror(-err));
		return 1;
	}
	printf("| offered | produced | drained | records | lost | drain CPU "
	       "| per drain CPU second |\n"
	       "|---|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < PLAN_STEPS; i++) {
		struct step *s = &steps[i];
		char offered[32];

		if (s->offered > 0)
			snprintf(offered, sizeof(offered), "%.1f M/s",
				 s->offered);
		else
			snprintf(offered, sizeof(offered), "unpaced%s",
				 s->paused ? ", drain paused" : "");
		printf("| %s | %.2f M/s | %.2f M/s | %llu | %llu | %.0f%% | "
		       "%.2f M |\n",
		       offered, s->produced, s->drained,
		       (unsigned long long)s->taken,
		       (unsigned long long)s->lost, s->busy * 100, s->capacity);
		if (!s->paused && !s->lost && s->drained > best)
			best = s->drained;
	}
	printf("\ndrained with nothing lost, one core: up to %.2f M records/s "
	       "(%s)\n",
	       best, d.bad ? "some records did not decode" : "all decoded");
	close(done_fd);
	close(epoll_fd);
	trace__free(d.trace);
	bench_loader__fini(&d.loader);
	return d.bad ? 1 : 0;
}
