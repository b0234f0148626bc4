// SPDX-License-Identifier: GPL-2.0
/*
 * pagetrace kernel side: allocator uprobes, page-fault, syscall, mm and
 * sched tracepoints, and a perf software event that marks the end of each
 * fault (--light closes faults without it: see close_fault()). Only the
 * traced process's events leave the kernel: every program
 * compares the tgid with targ_tgid before any lookup (alloc_return finds
 * no call slot nor state for another process's thread).
 *
 * A fault has no exit tracepoint; the kernel accounts a finished fault by
 * firing the page-faults-min/maj software events at the end of
 * handle_mm_fault(). Between tp_btf/page_fault_* (entry) and that event,
 * the thread's rss_stat and mm_page_alloc events are the fault's effects.
 *
 * This file holds the state every program shares (maps, per-thread state,
 * stack helpers); the jobs are in the files it includes: rings.bpf.h
 * (records), calls.bpf.h (allocator uprobes), faults.bpf.h, light.bpf.h
 * (--light), syscalls.bpf.h with file_path.bpf.h, tasks.bpf.h (exec,
 * fork, exit), floor.bpf.h (--empty-probes) and bench.bpf.h (a
 * benchmark's producer).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "pagetrace.h"
#include "rules.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Knobs set by user space before load. */
const volatile __u64 targ_min_size = 0; /* smaller allocations are skipped */
const volatile __u32 targ_zero_page_on_read = 1; /* kernel behaviour */
const volatile __u32 targ_hold_signal = 23; /* SIGURG: ignored by default */
const volatile __u32 targ_stacks = 1; /* take user stacks (--no-stacks) */
/* what the event log alone shows (--events): frees' callers, and each
 * call's entry time (see call_began()) */
const volatile __u32 targ_event_details = 0;
const volatile __u32 targ_exact_stacks = 0; /* walk every stack */
const volatile __u32 targ_light = 0; /* --light: see "light mode" below */
/* faults alike join runs (see PT_RUN_* in pagetrace.h) */
const volatile __u32 targ_fault_runs = 0;
/*
 * The traced process (pagetrace follows one: a child it forks is not
 * traced), known before the programs load; 0 for none. Every program but
 * the allocator probes runs for every process on the machine: a compare
 * with a constant is what the others pay. With a hash of traced
 * processes looked up instead, sys_enter took 113-131 ns per syscall of
 * every process here, now 85-94 (empty: 62-69).
 */
const volatile __u32 targ_tgid = 0;
/* this session's key of committed records, see struct pt_ring_hdr */
const volatile __u64 targ_ring_key = 0;

/*
 * Set by user space once it holds the target's threads under ptrace
 * (--verify): a thread about to release a big mmapped block is then sent
 * targ_hold_signal, stops, and waits until its pages have been read.
 */
__u32 hold_enabled = 0;

/* How the preloaded sites' TSC readings become times, kept fresh by user
 * space (see struct pt_site_clock and site_time()). */
struct pt_site_clock site_clock = {};
/* free's probe is on a site that stamps (the others say so in their
 * cookie, free's would cost a helper call to read): set by user space
 * before it attaches free's probe */
__u32 free_site_clock = 0;

#define MIGRATE_MOVABLE_TYPE 1
/* bpf_get_stackid(): the stack's bucket holds another stack */
#define EEXIST 17

/* failed ring-buffer reservations, per CPU, indexed by record type; and
 * stacks that could not be taken (PT_LOST_STACK), walked, reused, with
 * no chain */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PT_LOST__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* user stacks, deduplicated by hash: the value size follows --stack-depth,
 * the entries --stack-storage; a stack whose slot another holds is lost */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, PT_STACK_MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* live blocks at least targ_min_size big, so frees of others stay here */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u8);
} tracked SEC(".maps");

/*
 * What fault runs share across threads, each word on a line of its own
 * (the array is mmapable: page-aligned): when the latest run opened, and
 * a generation every record that may change a page's owner bumps while a
 * run may still be open. A run joins no fault once the generation moved
 * (see PT_RUN_* in pagetrace.h).
 */
struct fault_runs_shared {
	__u64 opened_ns;
	__u64 pad[7];
	__u64 gen;
	__u64 pad2[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fault_runs_shared);
} fault_runs SEC(".maps");

/*
 * Instructions whose function keeps no return address at the user stack
 * pointer there (its frame is set up), as user space found them in the
 * call frame information of runs' faults (user/fault_runs.c): the word at
 * sp is no caller, never read there, and a fault of a run at one of them
 * leaves it unread (~90 ns, the fault's first user read). Forgotten when
 * code goes (exec, munmap).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} framed_ips SEC(".maps");

/* The thread's open fault run: where its record is, and what a fault
 * must match to join it. */
struct fault_run {
	__u64 pos; /* the record's position in ring cpu */
	__u64 next_addr; /* where the next fault of the run is */
	__u64 jiffy_open; /* the jiffy its record was made in */
	__u64 gen; /* fault_runs_shared.gen before its record was made */
	__u64 ip;
	__u64 sp, bp; /* the thread's stack and frame pointers there */
	__u64 stack_top;
	__s32 stack_id;
	__u32 cpu;
	__u32 faults; /* in its record; 0: no run open */
	__u32 framed; /* ip is in framed_ips: its faults read no stack_top */
	__u32 outcome;
	__u32 error_code;
	__u32 order;
	__u32 alloc_pages;
	__u16 rss_events[PT_RSS__COUNT];
};

struct call_ctx {
	__u64 t_enter;
	__u64 args[3];
	__u64 caller;
	__u32 fn;
	__u32 depth; /* allocator calls nest: realloc(NULL) calls malloc */
	__u32 reported; /* its record will be sent (see --min-size) */
	__s32 stack_id;
};

struct sys_ctx {
	__u64 t_start;
	__u64 args[6];
	__u32 nr;
	__u32 open;
	__u32 alloc_pages;
	__u16 rss_events[PT_RSS__COUNT];
};

/* How far above the stack pointer a frame pointer may be: the default
 * stack size limit. */
#define PT_STACK_SPAN (8ULL << 20)

/* The last stack a thread's calls (or faults) took, and where from. */
struct stack_memo {
	__u64 ip;
	__u64 sp;
	__u64 bp;
	__u64 frame[2]; /* at bp: the saved frame pointer, a return address */
	__s32 id;
	__u32 valid;
};

/*
 * What the allocator probes keep of a thread: the call it is in and the
 * last stack its calls took. They run three times per malloc/free pair,
 * and a task-storage lookup took 65-100 ns of their ~250 ns in this VM;
 * an array slot picked by the thread id is found in a few. A slot holds
 * one thread at a time (owner); a thread whose slot another holds keeps
 * its call in its task storage instead (see call_slot_of()).
 */
struct call_slot {
	__u64 owner; /* pid_tgid of the thread, 0 while free */
	struct call_ctx call;
	struct stack_memo stack;
};

/* slots - 1: user space sizes the table (--call-slots, a power of two) */
const volatile __u32 targ_call_slot_mask = PT_CALL_SLOTS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PT_CALL_SLOTS);
	__type(key, __u32);
	__type(value, struct call_slot);
} call_slots SEC(".maps");

struct thread_state {
	struct call_slot own_slot; /* when the thread's call slot is taken */
	struct stack_memo fault_stack;
	struct fault_run run;
	struct sys_ctx sys;
	/* inside memory reclaim: its rss changes and allocations are not
	 * what the fault or syscall did */
	__u32 reclaim_depth;
	/* --light: a mapping this thread made, whose header glibc may not
	 * have written yet (see check_chunk()) */
	__u32 chunk_tries;
	__u64 chunk_at;
	__u64 chunk_len;
	__u64 old_brk; /* the break when brk() was entered */
	/* the task's major faults when its open fault began: the default
	 * mode tells a major one by the count's change (fault_done()) */
	__u64 maj_flt;
	/* last: user space reads these two there (trace__thread_tails()) */
	struct pt_fault_ctx fault;
	struct pt_site_tally tally;
};

_Static_assert(sizeof(struct thread_state) ==
		       __builtin_offsetof(struct thread_state, fault) +
			       sizeof(struct pt_thread_tail),
	       "the thread state ends with a struct pt_thread_tail");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} threads SEC(".maps");

/* bpf_get_current_pid_tgid() of task, the current one, without the call */
static __always_inline __u64 id_of_task(struct task_struct *task)
{
	return (__u64)(__u32)task->tgid << 32 | (__u32)task->pid;
}

/*
 * bpf_get_current_pid_tgid(), read from the current task: the x86 JIT
 * reads the task in place (Linux 6.18), where the helper is a call,
 * which returns through the host's costly return sequence here; the
 * allocator probes run twice per malloc/free pair.
 */
static __always_inline __u64 current_id(void)
{
	return id_of_task(bpf_get_current_task_btf());
}

/* Is the thread whose current_id() is id the traced process's? (The
 * probes on every call pass id on.) The idle tasks' tgid is 0: with no
 * process traced, none is. */
static __always_inline bool is_target_id(__u64 id)
{
	return targ_tgid && id >> 32 == targ_tgid;
}

static __always_inline bool is_target(void)
{
	return is_target_id(current_id());
}

static __always_inline struct thread_state *thread_state(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return bpf_task_storage_get(&threads, task, NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE :
					     0);
}

/*
 * The state of task (the current one) if its process is traced; with
 * create, made if it has none yet. The process is told by the task's own
 * tgid, not by bpf_get_current_pid_tgid(): a helper call less in the
 * programs every fault runs (see current_id()).
 */
static __always_inline struct thread_state *
state_of_task(struct task_struct *task, bool create)
{
	if (!targ_tgid || (__u32)task->tgid != targ_tgid)
		return NULL;
	return bpf_task_storage_get(&threads, task, NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE :
					     0);
}

/* The current thread's state if its process is traced, made if it has
 * none yet. */
static __always_inline struct thread_state *target_state(void)
{
	return state_of_task(bpf_get_current_task_btf(), true);
}

/* The same, never made: a thread of another process, or one the programs
 * that make state have not met yet, has none. */
static __always_inline struct thread_state *target_state_if_any(void)
{
	return state_of_task(bpf_get_current_task_btf(), false);
}

/* A record of this type will never reach user space: say so there.
 * Atomic: another program on this CPU may have preempted this one in
 * the middle of its own count. */
static __always_inline void count_lost(__u32 type)
{
	__u64 *count = bpf_map_lookup_elem(&lost, &type);

	if (count)
		__sync_fetch_and_add(count, 1);
}

/* The other PT_COUNT_* indices: how stacks were taken, at every call.
 * Plain: a preempted increment may miss one of these counts, a lock
 * prefix at each call is dearer than that. */
static __always_inline void count(__u32 what)
{
	__u64 *counter = bpf_map_lookup_elem(&lost, &what);

	if (counter)
		(*counter)++;
}

/* The array slot thread id would hold, whoever holds it. */
static __always_inline struct call_slot *slot_of(__u64 id)
{
	__u32 index = (__u32)id & targ_call_slot_mask;

	return bpf_map_lookup_elem(&call_slots, &index);
}

/* The array slot thread id holds, if it holds one. */
static __always_inline struct call_slot *held_slot(__u64 id)
{
	struct call_slot *slot = slot_of(id);

	return slot && slot->owner == id ? slot : NULL;
}

/*
 * The current thread's call slot; with claim, one is taken if it has
 * none. A slot is released when its thread exits (proc_exit()) or
 * execs from another thread than the first (proc_exec()), so a free slot
 * found by a thread in a call means that call began in its task
 * storage, where it stays until it returns.
 */
static __always_inline struct call_slot *call_slot_of(__u64 id, bool claim)
{
	struct call_slot *slot = slot_of(id);
	struct thread_state *ts;

	if (slot && slot->owner == id)
		return slot;
	ts = thread_state(claim);
	if (!claim || (ts && ts->own_slot.call.depth > 0))
		return ts ? &ts->own_slot : NULL;
	if (!slot || __sync_val_compare_and_swap(&slot->owner, 0, id) != 0) {
		/* another thread's: counted once per thread (own_slot's
		 * owner is otherwise unused) */
		if (ts && ts->own_slot.owner != id) {
			ts->own_slot.owner = id;
			count(PT_COUNT_SLOT_TAKEN);
		}
		return ts ? &ts->own_slot : NULL;
	}
	slot->call.depth = 0;
	slot->stack.valid = 0;
	return slot;
}

/* The allocator call whose record will be sent that the thread (whose
 * state is ts) is in, or NULL. */
static __always_inline struct call_slot *
reported_call_of(struct thread_state *ts, __u64 id)
{
	struct call_slot *slot;

	/* --light traps no call: no slot lookup at its syscalls */
	if (targ_light)
		return NULL;
	slot = held_slot(id);

	if (!slot)
		slot = &ts->own_slot;
	return slot->call.depth > 0 && slot->call.reported ? slot : NULL;
}

static __always_inline struct call_slot *reported_call(struct thread_state *ts)
{
	return reported_call_of(ts, current_id());
}

/*
 * A call's entry time is read at its entry only where it is read as
 * such: for realloc, whose block another thread may get before it
 * returns, and for the event log. Elsewhere user space uses it to tell
 * which of the thread's faults came during the call, and the clock costs
 * as much as the rest of the entry probe (~55 ns in this VM): the call
 * then takes the start of its first fault or syscall, else its return.
 */
static __always_inline bool entry_time_read(__u32 fn)
{
	return targ_event_details || fn == PT_FN_REALLOC ||
	       fn == PT_FN_REALLOCARRAY;
}

static __always_inline void call_began(struct call_slot *call, __u64 t)
{
	if (call && !call->call.t_enter)
		call->call.t_enter = t;
}

#include "rings.bpf.h"

/* The word at user stack pointer sp (see struct pt_rec_syscall). */
static __always_inline __u64 stack_top(__u64 sp)
{
	__u64 word = 0;

	if (targ_stacks)
		bpf_probe_read_user(&word, sizeof(word), (void *)sp);
	return word;
}

/*
 * Set by user space before it detaches (trace__detach()), which takes a
 * while, program by program: --light's faults stop opening and taking
 * evidence at once, so that a thread's open fault gathers none from
 * faults no longer traced.
 */
__u32 detaching = 0;

static __always_inline bool light_detaching(void)
{
	return targ_light && READ_ONCE(detaching);
}

/* --light: the last releases of pages (log_release()) */
struct pt_release_log release_log = {};

/* the next spilled stack's id, less PT_STACK_SPILLED_BASE */
__u32 spilled_stacks = 0;

/* Where a stack past the stack map is read first, before it is known to
 * be new; busy while a program uses it (it may be preempted there). */
struct spill_scratch {
	__u64 ips[PT_STACK_MAX_DEPTH];
	__u32 busy;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct spill_scratch);
} spill_scratch SEC(".maps");

/* The ids of the stacks already spilled, by a hash of their addresses:
 * a stack taken again is not sent again. One forgotten gets a new id,
 * its addresses sent again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __s32);
} spilled_ids SEC(".maps");

/* FNV-1a over the frames, and their count */
static __always_inline __u64 stack_hash(const __u64 *ips, __u32 count)
{
	__u64 hash = 0xcbf29ce484222325ULL ^ count;
	__u32 i;

	for (i = 0; i < PT_STACK_MAX_DEPTH; i++) {
		if (i >= count)
			break;
		hash = (hash ^ ips[i]) * 0x100000001b3ULL;
	}
	return hash;
}

/*
 * The user stack of the current thread in a record of its own, for a
 * stack whose bucket in the stack map another holds: that map keeps no
 * two in a bucket, and with a few dozen stacks in 16384 buckets, two
 * shared one in one run in eight. Sent once: its id is found again by
 * the hash of its addresses. Read into this CPU's scratch first, or,
 * while another program holds that (preempted in here), into a record
 * at once. Out of line: it is seldom taken, and every program that
 * walks stacks would carry it.
 */
static __noinline __s32 spill_stack(void *ctx)
{
	struct spill_scratch *scratch;
	struct pt_rec_stack *rec = NULL;
	__u32 zero = 0, frames;
	__s32 id, *known;
	__u64 *ips, hash;
	long bytes;

	scratch = bpf_map_lookup_elem(&spill_scratch, &zero);
	/* taken in one step: a program preempted between a test and a set
	 * would take it from one that came in between */
	if (scratch && __sync_val_compare_and_swap(&scratch->busy, 0, 1) == 0) {
		ips = scratch->ips;
	} else {
		scratch = NULL;
		rec = reserve(sizeof(*rec), PT_REC_STACK);
		if (!rec)
			goto lost;
		ips = rec->ips;
	}
	bytes = bpf_get_stack(ctx, ips, sizeof(rec->ips), BPF_F_USER_STACK);
	if (bytes <= 0)
		goto unread;
	frames = bytes / sizeof(rec->ips[0]);
	hash = stack_hash(ips, frames);
	known = bpf_map_lookup_elem(&spilled_ids, &hash);
	if (known) {
		id = *known;
		if (rec)
			discard(rec);
		else
			scratch->busy = 0;
		return id;
	}
	if (!rec) {
		rec = reserve(sizeof(*rec), PT_REC_STACK);
		if (!rec)
			goto unread;
		bpf_probe_read_kernel(rec->ips, sizeof(rec->ips), scratch->ips);
		scratch->busy = 0;
		scratch = NULL;
	}
	rec->count = frames;
	rec->id = PT_STACK_SPILLED_BASE +
		  (__sync_fetch_and_add(&spilled_stacks, 1) &
		   (PT_STACK_SPILLED_BASE - 1));
	id = rec->id;
	submit(rec);
	/* after its record: a program that finds it, here or on another
	 * CPU, makes its own record later */
	bpf_map_update_elem(&spilled_ids, &hash, &id, BPF_ANY);
	count(PT_COUNT_STACK_SPILLED);
	return id;
unread:
	if (rec)
		discard(rec);
	if (scratch)
		scratch->busy = 0;
lost:
	count_lost(PT_LOST_STACK);
	return PT_NO_STACK;
}

/* The user stack of the current thread, through its frame pointers.
 * Never while a record is reserved: a spilled stack's record must come
 * before the records that refer to it. */
static __always_inline __s32 take_stack(void *ctx)
{
	long id;

	if (!targ_stacks)
		return PT_NO_STACK;
	id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	count(PT_COUNT_STACK_WALKED);
	if (id == -EEXIST)
		return spill_stack(ctx);
	if (id < 0) {
		count_lost(PT_LOST_STACK);
		return PT_NO_STACK;
	}
	return id;
}

/*
 * Is bp a frame pointer, a chain to walk from? It points up the stack, not
 * far from sp (at sp in a function that has just set up its frame and
 * keeps no locals), at a frame record's 8-byte alignment. Anything else is
 * rbp = 0 at an outermost frame, or a register that code built without
 * frame pointers uses for its own ends: no chain starts there, and a walk
 * would read there all the same, which may fault (sqlite3's 0.8 M
 * allocations took 4 s more in a VM) and reads made-up frames where it
 * does not. Such a record keeps its site; user space adds the caller
 * where it can tell it (see touch_origin()).
 */
static __always_inline bool frame_chain_at(__u64 sp, __u64 bp)
{
	if (bp >= sp && bp - sp < PT_STACK_SPAN && !(bp & 7))
		return true;
	count(PT_COUNT_STACK_NO_CHAIN);
	return false;
}

/* take_stack() where there is a chain to walk */
static __always_inline __s32 take_chained_stack(void *ctx, __u64 sp, __u64 bp)
{
	if (!targ_stacks)
		return PT_NO_STACK;
	return frame_chain_at(sp, bp) ? take_stack(ctx) : PT_STACK_NO_CHAIN;
}

/*
 * take_chained_stack(), unless this thread took one from the very same
 * spot last time: the same instruction, stack pointer and frame pointer,
 * and the same frame record at the frame pointer. A loop that allocates or
 * faults again and again is there: its stack is walked once, not at every
 * event (a walk reads user memory frame by frame, a few microseconds in a
 * VM). Two call chains alike down to that frame record but different
 * further out would share a stack; --exact-stacks walks every time.
 */
static __always_inline __s32 take_stack_memo(void *ctx, struct stack_memo *memo,
					     __u64 ip, __u64 sp, __u64 bp)
{
	__u64 frame[2] = { 0, 0 };
	__s32 id;

	if (!targ_stacks)
		return PT_NO_STACK;
	if (!frame_chain_at(sp, bp))
		return PT_STACK_NO_CHAIN;
	if (targ_exact_stacks)
		return take_stack(ctx);
	bpf_probe_read_user(frame, sizeof(frame), (void *)bp);
	if (memo->valid && memo->ip == ip && memo->sp == sp && memo->bp == bp &&
	    memo->frame[0] == frame[0] && memo->frame[1] == frame[1]) {
		count(PT_COUNT_STACK_REUSED);
		return memo->id;
	}
	id = take_stack(ctx);
	memo->valid = id >= 0;
	memo->ip = ip;
	memo->sp = sp;
	memo->bp = bp;
	memo->frame[0] = frame[0];
	memo->frame[1] = frame[1];
	memo->id = id;
	return id;
}

#include "calls.bpf.h"
#include "faults.bpf.h"
#include "light.bpf.h"

#include "syscalls.bpf.h"

#include "tasks.bpf.h"

#include "floor.bpf.h"
#include "bench.bpf.h"
