// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "allocator.h"
#include "eventlog.h"
#include "exitcode.h"
#include "fault_runs.h"
#include "kernel.h"
#include "ledger.h"
#include "light.h"
#include "log.h"
#include "mappings.h"
#include "opts.h"
#include "preload.h"
#include "pagetable.h"
#include "procfs.h"
#include "report.h"
#include "session.h"
#include "session_internal.h"
#include "siteclock.h"
#include "sites.h"
#include "stacks.h"
#include "symbols.h"
#include "target.h"
#include "trace.h"
#include "verify.h"

#define POLL_MS 50
#define LOST_WARNING_NS 1000000000ULL
/* the counters are a map read per CPU and record type (tens of syscalls):
 * read at most this often, not at every wake-up */
#define LOST_CHECK_NS 50000000ULL
#define EXIT_GRACE_NS 300000000ULL

static volatile sig_atomic_t stop_requested;

void session__request_stop(void)
{
	stop_requested = 1;
}

static void read_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)size, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

/* ---- set-up ------------------------------------------------------- */

static void mark_present(void *ctx, uint64_t start, uint64_t end,
			 unsigned int categories)
{
	if (categories & PAGE_CAT_PRESENT)
		ledger__mark_present(ctx, start, end,
				     categories & PAGE_CAT_ZERO);
}

/* Attaching to a running process: its pages are not all untouched. */
static void load_present_pages(struct session *s)
{
	struct pagetable *pt =
		pagetable__open(target__pid(s->target), s->opts->backend);
	size_t i;

	if (!pt) {
		log__warn("cannot read the page tables of process %d (%s): "
			  "pages populated before tracing count as untouched",
			  target__pid(s->target), strerror(errno));
		return;
	}
	for (i = 0; i < mappings__count(s->maps); i++) {
		const struct mapping *m = mappings__at(s->maps, i);

		if (m->kind == MAPPING_ANON || m->kind == MAPPING_HEAP ||
		    m->kind == MAPPING_STACK)
			pagetable__walk(pt, m->start, m->end, mark_present,
					s->ledger);
	}
	pagetable__free(pt);
}

static int start_target(struct session *s)
{
	int err;

	if (target__spawned(s->target)) {
		err = target__start(s->target, sess_on_loader_mapped, s);
		if (err)
			return err;
		if (!s->allocator && !target__exited(s->target)) {
			/* the loader finished: last look, then say why not */
			if (sess_on_loader_mapped(s) <= 0)
				sess_warn_no_allocator(s);
		}
		return 0;
	}
	err = mappings__load(s->maps);
	if (err) {
		log__error("process %d vanished while pagetrace attached: %s",
			   target__pid(s->target), strerror(-err));
		return PT_EXIT_TARGET_GONE;
	}
	load_present_pages(s);
	symbols__note_code(s->symbols, s->maps);
	err = sess_attach_allocator(s);
	if (err < 0) {
		if (target__exited(s->target)) {
			log__error("process %d exited while pagetrace attached",
				   target__pid(s->target));
			return PT_EXIT_TARGET_GONE;
		}
		return PT_EXIT_KERNEL;
	}
	if (!err)
		sess_warn_no_allocator(s);
	return 0;
}

/* The ledger's callbacks: an allocation's record, pages touched. */
static void on_alloc_end(void *ctx, const struct alloc_view *view)
{
	struct session *s = ctx;

	sites__alloc(s->sites, view);
	report__alloc(s->report, view);
}

static void on_touch(void *ctx, const struct touch *touch)
{
	struct session *s = ctx;

	sites__touch(s->sites, touch);
}

/* Will the sites stamp their time? Not where asked not to, nor where the
 * TSC is not the kernel's clock (said why). */
static bool site_clock_wanted(const struct options *opts)
{
	const char *unsuited;

	if (opts->kernel_clock || opts->empty_probes)
		return false;
	unsuited = site_clock__unsuited();
	if (unsuited)
		log__info("allocator calls are timed in the kernel: %s",
			  unsuited);
	return !unsuited;
}

/*
 * Start the command held. Where the allocator calls will be probed, its
 * environment preloads pagetrace-preload.so: probes on its sites cost a
 * call instead of an exception (see user/preload/). Where this machine's
 * TSC can be made the kernel's time, the sites stamp it and the probes
 * take that (*site_clock, see siteclock.h).
 */
static struct target *spawn_command(const struct options *opts,
				    bool *site_clock, int *exit_code)
{
	struct preload *preload = NULL;
	struct target *target;
	const char *unsuited;
	char **env = NULL;

	*site_clock = false;

	if (!opts->light && !opts->probes_at_symbols && !opts->no_preload) {
		unsuited = preload__unsuited(opts->command[0]);
		if (unsuited)
			log__info("%s is not given pagetrace-preload.so: %s",
				  opts->command[0], unsuited);
		else if (!(preload = preload__find()))
			log__info("no pagetrace-preload.so beside pagetrace: "
				  "allocator probes go in glibc");
		else {
			*site_clock = site_clock_wanted(opts);
			env = preload__environ(preload, environ, *site_clock);
			*site_clock = *site_clock && env;
		}
	}
	target = target__spawn(opts->command, env, exit_code);
	preload__free(preload);
	return target;
}

struct session *session__new(const struct options *opts, FILE *out,
			     int *exit_code)
{
	struct session *s = calloc(1, sizeof(*s));
	struct trace_config tcfg = {
		.ringbuf_bytes = opts->ringbuf_bytes,
		.min_size = opts->min_size,
		.stack_depth = opts->stack_depth,
		.stack_storage = opts->stack_storage,
		.call_slots = opts->call_slots,
		.empty_probes = opts->empty_probes,
		.event_details = opts->events,
		.exact_stacks = opts->exact_stacks,
		.light = opts->light,
		/* --events gives every fault its own time */
		.fault_runs =
			!opts->no_fault_runs && !opts->events && !opts->light,
		.on_record = sess_on_record,
	};
	struct report_config rcfg = {
		.out = out,
		.json = opts->json,
		.top = opts->top,
		.verify = opts->verify,
		.folded = opts->folded,
		.folded_axes = opts->folded_axes,
	};
	struct ledger_config lcfg = { 0 };

	*exit_code = PT_EXIT_INTERNAL;
	if (!s) {
		log__error("out of memory");
		return NULL;
	}
	s->opts = opts;
	s->epoll_fd = s->sigchld_fd = -1;
	kernel__probe_facts(&s->kernel);
	s->info.kernel = &s->kernel;
	s->info.stop_reason = "exit";
	if (opts->pid)
		s->target = target__open_pid(opts->pid, exit_code);
	else
		s->target = spawn_command(opts, &tcfg.site_clock, exit_code);
	if (!s->target)
		goto fail;
	s->info.pid = target__pid(s->target);
	tcfg.tgid = s->info.pid;
	tcfg.ctx = s;
	tcfg.zero_page_on_read =
		!s->kernel.zero_page_known || s->kernel.zero_page_on_read;
	s->trace = trace__new(&tcfg, exit_code);
	if (!s->trace)
		goto fail;
	*exit_code = PT_EXIT_INTERNAL;
	/* data flows trace -> ledger -> sites and report; built backwards */
	s->maps = mappings__new(s->info.pid);
	s->symbols = symbols__new(s->info.pid);
	s->stacks = s->symbols && s->maps ?
			    stacks__new(s->trace, s->symbols, s->maps) :
			    NULL;
	s->sites = s->stacks ? sites__new(s->symbols, s->stacks) : NULL;
	s->fault_runs = s->sites ? fault_runs__new(s->trace) : NULL;
	rcfg.sites = s->sites;
	s->report = s->fault_runs ? report__new(&rcfg) : NULL;
	lcfg.pid = s->info.pid;
	lcfg.min_size = opts->min_size;
	lcfg.maps = s->maps;
	lcfg.kernel = &s->kernel;
	lcfg.on_alloc_end = on_alloc_end;
	lcfg.on_touch = on_touch;
	lcfg.ctx = s;
	lcfg.light = opts->light;
	s->ledger = s->report ? ledger__new(&lcfg) : NULL;
	if (opts->light && s->ledger)
		s->light = light__new(s->symbols, s->maps, s->stacks);
	if (opts->events)
		s->events = eventlog__new(out, opts->json, procfs__now_ns());
	if (!s->ledger || (opts->events && !s->events) ||
	    (opts->light && !s->light)) {
		log__error("out of memory");
		goto fail;
	}
	*exit_code = PT_EXIT_OK;
	return s;
fail:
	session__free(s);
	return NULL;
}

void session__free(struct session *s)
{
	if (!s)
		return;
	/* held threads go first, then the probes, then the target may be
	 * let go or killed */
	verifier__free(s->verifier);
	trace__free(s->trace);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->sigchld_fd >= 0)
		close(s->sigchld_fd);
	target__free(s->target);
	allocator__free(s->allocator);
	eventlog__free(s->events);
	ledger__free(s->ledger);
	report__free(s->report);
	fault_runs__free(s->fault_runs);
	sites__free(s->sites);
	light__free(s->light);
	stacks__free(s->stacks);
	symbols__free(s->symbols);
	mappings__free(s->maps);
	free(s);
}

/* ---- the loop ----------------------------------------------------- */

/*
 * PAGETRACE_TEST_DETACH_PAUSE_MS: tests/light.sh makes a thread exit
 * between the tails' read and the detach, a window of microseconds
 * otherwise. Says when it starts (-v).
 */
static void pause_for_tests(void)
{
	const char *ms = getenv("PAGETRACE_TEST_DETACH_PAUSE_MS");
	struct timespec pause;
	long n;

	if (!ms || (n = strtol(ms, NULL, 10)) <= 0)
		return;
	log__info("--light: the threads' tails read; detaching in %ld ms", n);
	pause.tv_sec = n / 1000;
	pause.tv_nsec = n % 1000 * 1000000L;
	nanosleep(&pause, NULL);
}

static uint64_t lost_so_far(struct session *s)
{
	uint64_t total = 0;
	int i;

	trace__lost(s->trace, s->info.lost, PT_LOST__COUNT);
	for (i = 0; i < PT_REC__COUNT; i++)
		total += s->info.lost[i];
	return total;
}

/* Say so as soon as events are lost, then at most once a second. */
static void warn_if_losing(struct session *s, uint64_t now)
{
	uint64_t lost;

	if (now - s->last_lost_check < LOST_CHECK_NS)
		return;
	s->last_lost_check = now;
	lost = lost_so_far(s);
	if (lost <= s->lost_warned ||
	    (s->lost_warned && now - s->last_lost_warning < LOST_WARNING_NS))
		return;
	log__warn("%llu events lost so far (the ring buffer was full): the "
		  "report will be incomplete; raise --ringbuf-size",
		  (unsigned long long)lost);
	s->lost_warned = lost;
	s->last_lost_warning = now;
}

/*
 * One epoll for the ring buffer and SIGCHLD (blocked, read from a
 * signalfd): a stop or exit of the target wakes the loop at once.
 */
static int setup_wakeups(struct session *s)
{
	struct epoll_event ring = { .events = EPOLLIN, .data.u32 = 0 };
	struct epoll_event child = { .events = EPOLLIN, .data.u32 = 1 };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	s->sigchld_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sigchld_fd < 0 || s->epoll_fd < 0 ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, trace__epoll_fd(s->trace),
		      &ring) ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->sigchld_fd, &child))
		return -errno;
	return 0;
}

/* Wait up to timeout_ms for records or a child event, then handle both. */
static int wait_and_drain(struct session *s, int timeout_ms)
{
	struct signalfd_siginfo info;
	struct epoll_event events[2];
	int err;

	if (epoll_wait(s->epoll_fd, events, 2, timeout_ms) < 0 &&
	    errno != EINTR)
		return -errno;
	while (read(s->sigchld_fd, &info, sizeof(info)) == sizeof(info))
		;
	if (s->verifier)
		verifier__service(s->verifier);
	/* records written without a wake-up are only seen by consuming */
	err = trace__drain(s->trace);
	/* a check the drain put off (see on_target_exit()) */
	if (s->verifier)
		verifier__service(s->verifier);
	return err < 0 ? err : 0;
}

/* Keep draining while the target takes up to grace_ns to exit. */
static void wait_for_exit(struct session *s, uint64_t grace_ns)
{
	uint64_t until = procfs__now_ns() + grace_ns;

	while (!target__exited(s->target) && procfs__now_ns() < until)
		wait_and_drain(s, 10);
}

/* -i: the interval that just ended, and whether the count is reached */
static bool interval_due(struct session *s, uint64_t now, uint64_t *next,
			 uint64_t *done)
{
	uint64_t length = s->opts->interval_ns;

	if (!length || now < *next)
		return false;
	report__interval(s->report, now - s->info.t_start,
			 length + (now - *next));
	*next = now + length;
	return s->opts->interval_count && ++*done >= s->opts->interval_count;
}

/* What pagetrace itself has spent, user and system, for benchmarks. */
static uint64_t self_cpu_ns(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_SELF, &usage))
		return 0;
	return (uint64_t)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) *
		       1000000000ULL +
	       (uint64_t)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) *
		       1000ULL;
}

int session__run(struct session *s)
{
	uint64_t deadline = 0, now, next_interval, intervals = 0;
	int err;

	s->info.t_start = procfs__now_ns();
	s->early_until = s->info.t_start + EARLY_NS;
	s->info.empty_probes = s->opts->empty_probes;
	s->info.light = s->opts->light;
	err = setup_wakeups(s);
	if (err) {
		log__error("cannot set up the event loop: %s", strerror(-err));
		return PT_EXIT_INTERNAL;
	}
	err = start_target(s);
	if (err)
		return err;
	if (s->opts->verify && !target__exited(s->target)) {
		s->verifier =
			verifier__new(s->info.pid, s->ledger, s->trace,
				      s->opts->min_size, s->opts->backend);
		if (!s->verifier)
			return errno == EACCES || errno == EPERM ?
				       PT_EXIT_PRIVILEGE :
				       PT_EXIT_KERNEL;
	}
	read_comm(s->info.pid, s->info.comm, sizeof(s->info.comm));
	log__info("tracing process %d (%s)", s->info.pid, s->info.comm);
	now = procfs__now_ns();
	if (s->opts->duration_ns)
		deadline = now + s->opts->duration_ns;
	if (s->opts->warmup_ns)
		sites__count_from(s->sites, now + s->opts->warmup_ns);
	/* intervals are counted once the warm-up is over */
	next_interval = now + s->opts->warmup_ns + s->opts->interval_ns;
	for (;;) {
		/* a record still being written: its program is about to
		 * commit it, and the later ones wait for it */
		err = wait_and_drain(s, trace__drain_blocked(s->trace) ? 1 :
					now < s->early_until ? EARLY_POLL_MS :
							       POLL_MS);
		if (err < 0) {
			log__error("reading the ring buffer failed: %s",
				   strerror(-err));
			break;
		}
		now = procfs__now_ns();
		warn_if_losing(s, now);
		if (interval_due(s, now, &next_interval, &intervals)) {
			s->info.stop_reason = "count";
			break;
		}
		if (target__exited(s->target)) {
			s->info.stop_reason = "exit";
			break;
		}
		if (deadline && now >= deadline) {
			s->info.stop_reason = "duration";
			break;
		}
		if (stop_requested) {
			s->info.stop_reason = "signal";
			/* Ctrl-C reaches the command too: give it a moment */
			if (target__spawned(s->target))
				wait_for_exit(s, EXIT_GRACE_NS);
			break;
		}
	}
	/* --light: every live thread's tail is read while the programs
	 * that send an exiting thread's are still there, its faults
	 * stopped first (light__read_tails()) */
	if (s->light) {
		trace__stop_faults(s->trace);
		light__read_tails(s->light, s->trace);
		pause_for_tests();
	}
	/* no new records once detached: what is in the buffer is all */
	trace__detach(s->trace);
	trace__drain_through(s->trace);
	if (s->light && light__finish(s->light, s->trace, s->ledger,
				      !s->kernel.zero_page_known ||
					      s->kernel.zero_page_on_read))
		log__warn("cannot read the fault counts the kernel kept: "
			  "page figures are INCOMPLETE");
	lost_so_far(s);
	if (s->light)
		s->info.lost[PT_COUNT_UNPLACED] += light__unplaced(s->light);
	s->info.t_end = procfs__now_ns();
	s->info.self_cpu_ns = self_cpu_ns();
	/* the last interval, cut short by the end of tracing */
	if (s->opts->interval_ns && strcmp(s->info.stop_reason, "count") &&
	    s->info.t_end > next_interval - s->opts->interval_ns)
		report__interval(
			s->report, s->info.t_end - s->info.t_start,
			s->info.t_end - (next_interval - s->opts->interval_ns));
	if (s->verifier)
		verifier__finish(s->verifier, !target__exited(s->target));
	ledger__finish(s->ledger);
	if (target__spawned(s->target) && target__exited(s->target)) {
		s->info.exit_status_known = true;
		s->info.exit_status = target__exit_status(s->target);
		s->info.kernel_faults_known = target__kernel_faults(
			s->target, &s->info.kernel_faults);
	}
	if (s->bad_records)
		log__warn("%llu malformed records ignored",
			  (unsigned long long)s->bad_records);
	report__finish(s->report, s->ledger, &s->info);
	return s->info.exit_status_known ? s->info.exit_status : PT_EXIT_OK;
}
