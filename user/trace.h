/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF side's lifecycle: load the programs, attach tracepoints, the
 * fault-completion perf events and the allocator uprobes, poll the ring
 * buffers, read the lost-event counters, detach everything at the end.
 */
#ifndef PAGETRACE_TRACE_H
#define PAGETRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct trace;

typedef void (*trace_record_fn)(void *ctx, const void *data, size_t size);

/* The default rings: all together this much, each at least that. */
#define PT_RINGS_BYTES (16ULL << 20)
#define PT_RING_MIN_BYTES (1ULL << 20)

struct trace_config {
	/* the one process traced (its children are not), from the first
	 * program attached */
	pid_t tgid;
	/* each online CPU's ring buffer; 0: PT_RINGS_BYTES shared among
	 * them, PT_RING_MIN_BYTES at least */
	uint64_t ringbuf_bytes;
	uint64_t min_size;
	unsigned int stack_depth; /* frames kept per user stack, 0: none */
	unsigned int stack_storage; /* entries of the stack map */
	/* slots of the table of threads' allocator calls, a power of two;
	 * 0: the default */
	unsigned int call_slots;
	bool zero_page_on_read; /* the kernel maps the zero page on reads */
	/* what the event log alone shows: frees' return addresses, calls'
	 * entry times (--events) */
	bool event_details;
	bool exact_stacks; /* walk every stack, see take_stack_memo() */
	/* faults alike join one record (PT_RUN_* in pagetrace.h) */
	bool fault_runs;
	bool light; /* --light: faults aggregated in the kernel */
	/* --empty-probes: programs that only return, on the same attach
	 * points: what the mechanism costs, for benchmarks */
	bool empty_probes;
	/* the preloaded sites stamp the time of the calls they see after
	 * they return and of free (siteclock.h): keep the figures that make
	 * their readings times */
	bool site_clock;
	/* load bench_produce, see trace__bench_produce() */
	bool bench_producer;
	trace_record_fn on_record;
	void *ctx;
};

enum uprobe_kind {
	UPROBE_ALLOC_ENTRY,
	UPROBE_ALLOC_RETURN,
	UPROBE_FREE_ENTRY,
	UPROBE_ALLOC_BACK, /* after a preloaded site's call: the whole call */
};

/* NULL after one error line; *exit_code says what kind of failure. */
struct trace *trace__new(const struct trace_config *cfg, int *exit_code);
struct site_clock;
/* The sites' clock (siteclock.h), NULL if the probes read the kernel's */
const struct site_clock *trace__site_clock(const struct trace *t);
/* Detach every probe; records already made stay readable. */
void trace__detach(struct trace *t);
/* --light: no fault is followed from now on, but the programs stay
 * (trace__detach() does this first too). */
void trace__stop_faults(struct trace *t);
/* Detaches every probe and frees the BPF objects. */
void trace__free(struct trace *t);

struct uprobe_spec {
	uint64_t offset; /* in the file */
	uint32_t cookie; /* the program reads it back: enum pt_alloc_fn */
};

/* Uprobes of one kind on path at the given offsets, for process pid only.
 * 0 or -errno. */
int trace__attach_uprobes(struct trace *t, pid_t pid, const char *path,
			  enum uprobe_kind kind,
			  const struct uprobe_spec *specs, size_t count);
/* Uprobes attached after a mark can be taken back together. */
struct trace_mark {
	size_t links;
	size_t multi_fds;
};

void trace__uprobe_mark(const struct trace *t, struct trace_mark *mark);
void trace__uprobe_rollback(struct trace *t, const struct trace_mark *mark);

/* free's probe goes on a site that stamps its time (siteclock.h) */
void trace__set_free_site_clock(struct trace *t, bool stamped);
/* The target's threads are held under ptrace (--verify): the kernel side
 * may stop them before they release a block. */
void trace__set_hold(struct trace *t, bool enabled);

struct pt_granule;
struct pt_fault_site_key;
struct pt_fault_site;

/* --light, once detached: the granules of faulted pages the kernel still
 * holds, then the fault counts per instruction. 0 or -errno. */
typedef void (*trace_granule_fn)(void *ctx, uint64_t granule,
				 const struct pt_granule *pages);
int trace__granules(struct trace *t, trace_granule_fn fn, void *ctx);
typedef void (*trace_fault_site_fn)(void *ctx,
				    const struct pt_fault_site_key *key,
				    const struct pt_fault_site *site);
int trace__fault_sites(struct trace *t, trace_fault_site_fn fn, void *ctx);
/* --light, once the faults stopped: the end of each live thread's state
 * (struct pt_thread_tail), what it counted and the fault it was in. 0, or
 * -errno if a thread's could not be read (the others are). */
struct pt_thread_tail;
typedef void (*trace_thread_tail_fn)(void *ctx, uint32_t tid,
				     const struct pt_thread_tail *tail);
int trace__thread_tails(struct trace *t, trace_thread_tail_fn fn, void *ctx);
/* --light: did thread tid exit or exec once the faults had stopped? Its
 * tail then went to the maps (bpf/light.bpf.h, late_exits). */
bool trace__exited_late(struct trace *t, uint32_t tid);
/* --light: the kernel side's log of the last releases of pages */
struct pt_release_log;
const struct pt_release_log *trace__release_log(struct trace *t);

/* Readable (epoll) when the kernel side wakes the reader. */
int trace__epoll_fd(const struct trace *t);

/* Tell the kernel side that the function at ip keeps no return address
 * at the user stack pointer there (framed_ips in bpf/pagetrace.bpf.c).
 * 0 or -errno. */
int trace__note_framed_ip(struct trace *t, uint64_t ip);
/* Code went (exec, munmap): what was told of instructions is forgotten. */
void trace__forget_framed_ips(struct trace *t);
/* Hand over, in time order, every record made before this call and
 * committed (see rings.h): a few microseconds' wait. Returns how many. */
long trace__drain(struct trace *t);
/* The last drain stopped at a record still being written. */
bool trace__drain_blocked(const struct trace *t);
/* trace__drain(), then again while a record made before is still being
 * written, up to 100 ms. */
long trace__drain_through(struct trace *t);
/* Inside a drain, in a record's handler: a drain would do nothing. */
bool trace__draining(const struct trace *t);
/* The frames a user stack keeps (--stack-depth). */
size_t trace__stack_depth(const struct trace *t);
/* The frames of user stack id (return addresses after the first), 0 if
 * the id is unknown. At most trace__stack_depth() of them. */
size_t trace__stack(const struct trace *t, int32_t id, uint64_t *ips,
		    size_t max);
struct pt_bench_produce;
/* For benchmarks (trace_config.bench_producer): the kernel side makes
 * args->rounds rounds of synthetic records into the ring buffer, as if a
 * traced thread had, and says in args how many it made. 0 or -errno. */
int trace__bench_produce(struct trace *t, struct pt_bench_produce *args);
/* Failed ring-buffer reservations so far, per record type; index
 * PT_LOST_STACK: stacks that could not be taken. */
void trace__lost(const struct trace *t, uint64_t *lost, size_t count);

#endif
