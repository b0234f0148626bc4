// SPDX-License-Identifier: GPL-2.0
/*
 * pagetrace kernel side: allocator uprobes, page-fault, syscall, mm and
 * sched tracepoints, and a perf software event that marks the end of each
 * fault. Only the traced processes' events leave the kernel: every program
 * checks the tgid set (or the thread's own state) before anything else.
 *
 * A fault has no exit tracepoint; the kernel accounts a finished fault by
 * firing the page-faults-min/maj software events at the end of
 * handle_mm_fault(). Between tp_btf/page_fault_* (entry) and that event,
 * the thread's rss_stat and mm_page_alloc events are the fault's effects.
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
const volatile __u64 targ_wakeup_bytes = 0; /* wake the reader past this */
const volatile __u32 targ_zero_page_on_read = 1; /* kernel behaviour */
const volatile __u32 targ_hold_signal = 23; /* SIGURG: ignored by default */
const volatile __u32 targ_stacks = 1; /* take user stacks (--no-stacks) */
const volatile __u32 targ_free_callers = 0; /* frees' callers (--events) */
const volatile __u32 targ_exact_stacks = 0; /* walk every stack */
const volatile __u32 targ_light = 0; /* --light: see "light mode" below */

/*
 * Set by user space once it holds the target's threads under ptrace
 * (--verify): a thread about to release a big mmapped block is then sent
 * targ_hold_signal, stops, and waits until its pages have been read.
 */
__u32 hold_enabled = 0;

#define MIGRATE_MOVABLE_TYPE 1

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space */
} events SEC(".maps");

/* tgid -> unused; the set of traced processes */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");

/* failed ring-buffer reservations, per CPU, indexed by record type; and
 * stacks that could not be taken (PT_LOST_STACK), walked, reused */
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

struct call_ctx {
	__u64 t_enter;
	__u64 args[3];
	__u64 caller;
	__u32 fn;
	__u32 depth; /* allocator calls nest: realloc(NULL) calls malloc */
	__u32 reported; /* its record will be sent (see --min-size) */
	__s32 stack_id;
};

/* Is the thread inside an allocator call whose record will be sent? */
#define IN_REPORTED_CALL(ts) ((ts)->call.depth > 0 && (ts)->call.reported)

struct fault_ctx {
	__u64 t_start;
	__u64 addr;
	__u64 ip;
	__u32 error_code;
	__u32 flags;
	__u32 open;
	__u32 order;
	__u32 alloc_pages;
	__u16 rss_events[PT_RSS__COUNT];
	__s32 stack_id;
	__u64 stack_top;
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

struct thread_state {
	struct stack_memo call_stack;
	struct stack_memo fault_stack;
	struct call_ctx call;
	struct fault_ctx fault;
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
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} threads SEC(".maps");

static __always_inline bool is_target(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

static __always_inline struct thread_state *thread_state(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return bpf_task_storage_get(&threads, task, NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE :
					     0);
}

/* A record of this type will never reach user space: say so there.
 * Also counts the other PT_LOST_* / PT_COUNT_* indices. */
static __always_inline void count_lost(__u32 type)
{
	__u64 *count = bpf_map_lookup_elem(&lost, &type);

	if (count)
		(*count)++;
}

/* The word at user stack pointer sp (see struct pt_rec_syscall). */
static __always_inline __u64 stack_top(__u64 sp)
{
	__u64 word = 0;

	if (targ_stacks)
		bpf_probe_read_user(&word, sizeof(word), (void *)sp);
	return word;
}

/* The user stack of the current thread, through its frame pointers. */
static __always_inline __s32 take_stack(void *ctx)
{
	long id;

	if (!targ_stacks)
		return PT_NO_STACK;
	id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	count_lost(PT_COUNT_STACK_WALKED);
	if (id < 0) {
		count_lost(PT_LOST_STACK);
		return PT_NO_STACK;
	}
	return id;
}

/*
 * take_stack(), unless this thread took one from the very same spot last
 * time: the same instruction, stack pointer and frame pointer, and the same
 * frame record at the frame pointer. A loop that allocates or faults again
 * and again is there: its stack is walked once, not at every event (a walk
 * reads user memory frame by frame, a few microseconds in a VM). Two call
 * chains alike down to that frame record but different further out would
 * share a stack; --exact-stacks walks every time.
 */
static __always_inline __s32 take_stack_memo(void *ctx, struct stack_memo *memo,
					     __u64 ip, __u64 sp, __u64 bp)
{
	__u64 frame[2] = { 0, 0 };
	__s32 id;

	if (!targ_stacks)
		return PT_NO_STACK;
	if (targ_exact_stacks)
		return take_stack(ctx);
	/*
	 * A frame pointer points up the stack, not far from sp. Anything
	 * else is a register code built without frame pointers uses for its
	 * own ends: reading there may fault, which costs as much as the walk
	 * (which would read there too, and find no chain to follow).
	 */
	if (bp > sp && bp - sp < PT_STACK_SPAN)
		bpf_probe_read_user(frame, sizeof(frame), (void *)bp);
	if (memo->valid && memo->ip == ip && memo->sp == sp && memo->bp == bp &&
	    memo->frame[0] == frame[0] && memo->frame[1] == frame[1]) {
		count_lost(PT_COUNT_STACK_REUSED);
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

static __always_inline void *reserve(__u32 size, __u32 type)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);

	if (!rec) {
		count_lost(type);
		return NULL;
	}
	struct pt_rec_header *hdr = rec;
	__u64 id = bpf_get_current_pid_tgid();

	hdr->type = type;
	hdr->tid = (__u32)id;
	hdr->tgid = id >> 32;
	hdr->cpu = bpf_get_smp_processor_id();
	hdr->ts = bpf_ktime_get_ns();
	return rec;
}

/*
 * Waking the reader for every record costs more than the record itself;
 * wake it only once enough has piled up, the reader polls on a timer too.
 */
static __always_inline void submit(void *rec)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= targ_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(rec, flags);
}

/* ---- allocator calls ---------------------------------------------- */

/* glibc's chunk size field, flags masked out; 0 if it cannot be read */
static __always_inline __u64 chunk_header(__u64 addr, __u32 *flags)
{
	__u64 size_field = 0;

	if (!addr || bpf_probe_read_user(&size_field, sizeof(size_field),
					 (void *)(addr - PT_GLIBC_SIZE_OFFSET)))
		return 0;
	*flags |= PT_CALL_CHUNK_KNOWN;
	if (size_field & PT_GLIBC_IS_MMAPPED)
		*flags |= PT_CALL_CHUNK_MMAPPED;
	return size_field & ~7ULL;
}

/* --verify: hold the thread before it releases this block? Only a block
 * with its own mapping goes back to the kernel at once. */
static __always_inline bool should_hold(__u64 chunk_size, __u32 flags)
{
	return hold_enabled && (flags & PT_CALL_CHUNK_MMAPPED) &&
	       chunk_size >= targ_min_size + 2 * PT_GLIBC_SIZE_OFFSET;
}

/* realloc may move (mremap) or unmap the old block: hold it first */
static __always_inline void hold_before_realloc(__u64 old)
{
	struct pt_rec_hold *rec;
	__u32 flags = 0;

	if (!old || !should_hold(chunk_header(old, &flags), flags))
		return;
	rec = reserve(sizeof(*rec), PT_REC_HOLD);
	if (!rec)
		return;
	rec->addr = old;
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
	bpf_send_signal_thread(targ_hold_signal);
}

/* With --min-size, only calls that may concern a big block are reported:
 * one asking for enough, or a realloc of a block already followed. */
static __always_inline bool call_reported(__u32 fn, const __u64 *args)
{
	__u64 old = args[0];

	if (!targ_min_size || pt_requested_size(fn, args) >= targ_min_size)
		return true;
	return (fn == PT_FN_REALLOC || fn == PT_FN_REALLOCARRAY) && old &&
	       bpf_map_lookup_elem(&tracked, &old);
}

SEC("uprobe")
int alloc_entry(struct pt_regs *ctx)
{
	struct thread_state *ts;

	if (!is_target())
		return 0;
	ts = thread_state(true);
	if (!ts)
		return 0;
	if (ts->call.depth++ > 0)
		return 0; /* nested: the outermost call is the one reported */
	ts->call.fn = bpf_get_attach_cookie(ctx);
	ts->call.t_enter = bpf_ktime_get_ns();
	ts->call.args[0] = PT_REGS_PARM1(ctx);
	ts->call.args[1] = PT_REGS_PARM2(ctx);
	ts->call.args[2] = PT_REGS_PARM3(ctx);
	ts->call.reported = call_reported(ts->call.fn, ts->call.args);
	ts->call.stack_id =
		ts->call.reported ?
			take_stack_memo(ctx, &ts->call_stack, PT_REGS_IP(ctx),
					PT_REGS_SP(ctx), PT_REGS_FP(ctx)) :
			PT_NO_STACK;
	if (ts->call.reported &&
	    (ts->call.fn == PT_FN_REALLOC || ts->call.fn == PT_FN_REALLOCARRAY))
		hold_before_realloc(ts->call.args[0]);
	ts->call.caller = 0;
	bpf_probe_read_user(&ts->call.caller, sizeof(ts->call.caller),
			    (void *)PT_REGS_SP(ctx));
	return 0;
}

/* With --min-size, the set of followed blocks, so that the frees of the
 * others never leave the kernel. */
static __always_inline void follow_block(__u32 fn, const __u64 *args,
					 __u64 addr)
{
	__u64 old = args[0];
	__u8 one = 1;

	if (fn == PT_FN_REALLOC || fn == PT_FN_REALLOCARRAY)
		bpf_map_delete_elem(&tracked, &old);
	if (!addr || pt_requested_size(fn, args) < targ_min_size)
		return;
	/* the set is full: this block's free will be missed */
	if (bpf_map_update_elem(&tracked, &addr, &one, BPF_ANY))
		count_lost(PT_REC_FREE);
}

SEC("uretprobe")
int alloc_return(struct pt_regs *ctx)
{
	struct thread_state *ts = thread_state(false);
	struct pt_rec_call *rec;
	__u64 ret = PT_REGS_RC(ctx);
	__u64 addr = ret;

	if (!ts || ts->call.depth == 0)
		return 0;
	if (--ts->call.depth > 0 || !ts->call.reported)
		return 0;
	if (ts->call.fn == PT_FN_POSIX_MEMALIGN) {
		addr = 0;
		if ((int)ret == 0)
			bpf_probe_read_user(&addr, sizeof(addr),
					    (void *)ts->call.args[0]);
	}
	if (targ_min_size)
		follow_block(ts->call.fn, ts->call.args, addr);
	rec = reserve(sizeof(*rec), PT_REC_CALL);
	if (!rec)
		return 0;
	rec->fn = ts->call.fn;
	rec->flags = 0;
	rec->t_enter = ts->call.t_enter;
	rec->args[0] = ts->call.args[0];
	rec->args[1] = ts->call.args[1];
	rec->args[2] = ts->call.args[2];
	rec->ret = ret;
	rec->addr = addr;
	rec->caller = ts->call.caller;
	rec->chunk_size = chunk_header(addr, &rec->flags);
	rec->stack_id = ts->call.stack_id;
	rec->pad = 0;
	submit(rec);
	return 0;
}

SEC("uprobe")
int free_entry(struct pt_regs *ctx)
{
	struct thread_state *ts;
	struct pt_rec_free *rec;
	__u64 addr = PT_REGS_PARM1(ctx);

	if (!addr || !is_target())
		return 0;
	ts = thread_state(false);
	if (ts && ts->call.depth > 0)
		return 0; /* freed by realloc: its record tells */
	if (targ_min_size && bpf_map_delete_elem(&tracked, &addr) != 0)
		return 0;
	rec = reserve(sizeof(*rec), PT_REC_FREE);
	if (!rec)
		return 0;
	rec->addr = addr;
	rec->flags = 0;
	rec->pad = 0;
	rec->caller = 0;
	/* reading user memory is dear (a VM may make it a few us): only
	 * what is used. The block's header was read when it was allocated */
	if (targ_free_callers)
		bpf_probe_read_user(&rec->caller, sizeof(rec->caller),
				    (void *)PT_REGS_SP(ctx));
	if (hold_enabled &&
	    should_hold(chunk_header(addr, &rec->flags), rec->flags)) {
		rec->flags |= PT_CALL_HELD;
		/* the reader must see it now: the thread waits for it */
		bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
		bpf_send_signal_thread(targ_hold_signal);
		return 0;
	}
	submit(rec);
	return 0;
}

/* ---- page faults -------------------------------------------------- */

static __always_inline void light_fault(struct thread_state *ts, __u32 outcome,
					__u32 pages);

static __always_inline void emit_fault(struct thread_state *ts, __u32 outcome,
				       __u32 pages)
{
	struct pt_rec_fault *rec;

	if (targ_light) {
		light_fault(ts, outcome, pages);
		return;
	}
	rec = reserve(sizeof(*rec), PT_REC_FAULT);
	ts->fault.open = 0;
	if (!rec)
		return;
	rec->t_start = ts->fault.t_start;
	rec->addr = ts->fault.addr;
	rec->ip = ts->fault.ip;
	rec->error_code = ts->fault.error_code;
	rec->flags = ts->fault.flags;
	rec->outcome = outcome;
	rec->pages = pages;
	rec->order = ts->fault.order;
	rec->alloc_pages = ts->fault.alloc_pages;
	__builtin_memcpy(rec->rss_events, ts->fault.rss_events,
			 sizeof(rec->rss_events));
	rec->stack_id = ts->fault.stack_id;
	rec->pad = 0;
	rec->stack_top = ts->fault.stack_top;
	submit(rec);
}

static __always_inline void check_chunk(struct thread_state *ts);

static __always_inline void fault_enter(void *ctx, __u64 addr, __u64 ip,
					__u64 sp, __u64 bp, __u64 error_code,
					__u32 flags)
{
	struct thread_state *ts = thread_state(true);

	if (!ts)
		return;
	if (targ_light) {
		check_chunk(ts);
		sp = 0; /* no stacks: faults are counted per instruction */
	}
	/* the previous fault never reached accounting: it failed */
	if (ts->fault.open)
		emit_fault(ts, PT_OUT_ERROR, 0);
	if (IN_REPORTED_CALL(ts))
		flags |= PT_FAULT_IN_CALL;
	ts->fault.t_start = bpf_ktime_get_ns();
	ts->fault.addr = addr;
	ts->fault.ip = ip;
	ts->fault.error_code = error_code;
	ts->fault.flags = flags;
	ts->fault.order = 0;
	ts->fault.alloc_pages = 0;
	__builtin_memset(ts->fault.rss_events, 0, sizeof(ts->fault.rss_events));
	ts->fault.stack_id =
		sp ? take_stack_memo(ctx, &ts->fault_stack, ip, sp, bp) :
		     PT_NO_STACK;
	ts->fault.stack_top = sp ? stack_top(sp) : 0;
	ts->fault.open = 1;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	if (!is_target())
		return 0;
	fault_enter(ctx, address, regs->ip, regs->sp, regs->bp, error_code, 0);
	return 0;
}

SEC("tp_btf/page_fault_kernel")
int BPF_PROG(fault_kernel, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *user_regs;

	/*
	 * Kernel addresses live in the upper half. With page faults disabled
	 * the access is a nofault one (ours too: bpf_probe_read_user) that
	 * fails at once instead of populating anything.
	 */
	if (address >> 63 || task->pagefault_disabled || !is_target())
		return 0;
	user_regs = (struct pt_regs *)bpf_task_pt_regs(task);
	fault_enter(ctx, address, BPF_CORE_READ(user_regs, ip),
		    BPF_CORE_READ(user_regs, sp), BPF_CORE_READ(user_regs, bp),
		    error_code, PT_FAULT_KERNEL);
	return 0;
}

/*
 * page-faults-min / page-faults-maj software events: the fault is done.
 * The attach cookie tells which: non-zero for a major fault.
 */
SEC("perf_event")
int fault_done(struct bpf_perf_event_data *ctx)
{
	struct thread_state *ts = thread_state(false);
	struct pt_fault_evidence ev;
	__u32 outcome, pages;

	if (!ts || !ts->fault.open || ctx->addr != ts->fault.addr)
		return 0;
	if (bpf_get_attach_cookie(ctx))
		ts->fault.flags |= PT_FAULT_MAJOR;
	ev.zero_page_on_read = targ_zero_page_on_read;
	ev.error_code = ts->fault.error_code;
	ev.order = ts->fault.order;
	ev.alloc_pages = ts->fault.alloc_pages;
	__builtin_memcpy(ev.rss_events, ts->fault.rss_events,
			 sizeof(ev.rss_events));
	outcome = pt_classify_fault(&ev, &pages);
	emit_fault(ts, outcome, pages);
	return 0;
}

/* ---- what a fault or syscall did ---------------------------------- */

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(page_alloc, struct page *page, unsigned int order, gfp_t gfp,
	     int migratetype)
{
	struct thread_state *ts;

	/* page tables and kernel memory are not movable; user pages are */
	if (!page || migratetype != MIGRATE_MOVABLE_TYPE)
		return 0;
	ts = thread_state(false);
	if (!ts || ts->reclaim_depth)
		return 0;
	if (ts->fault.open) {
		ts->fault.order = order;
		ts->fault.alloc_pages += 1U << (order & 31);
	} else if (ts->sys.open) {
		ts->sys.alloc_pages += 1U << (order & 31);
	}
	return 0;
}

/* constant indexes: the verifier cannot bound a computed one here */
static __always_inline void count_rss(__u16 *events, int member)
{
	switch (member) {
	case PT_RSS_FILE:
		events[PT_RSS_FILE]++;
		break;
	case PT_RSS_ANON:
		events[PT_RSS_ANON]++;
		break;
	case PT_RSS_SWAPENTS:
		events[PT_RSS_SWAPENTS]++;
		break;
	case PT_RSS_SHMEM:
		events[PT_RSS_SHMEM]++;
		break;
	}
}

SEC("tp_btf/rss_stat")
int BPF_PROG(rss_stat, struct mm_struct *mm, int member)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct thread_state *ts;

	/* curr: only changes to the faulting process's own counters */
	if (task->mm != mm)
		return 0;
	ts = thread_state(false);
	if (!ts || ts->reclaim_depth)
		return 0;
	if (ts->fault.open)
		count_rss(ts->fault.rss_events, member);
	else if (ts->sys.open)
		count_rss(ts->sys.rss_events, member);
	return 0;
}

/*
 * Memory reclaim run by the faulting thread itself (direct, memcg) swaps
 * out and drops pages, its own process's among them: between begin and
 * end, rss and allocation changes are not the fault's doing.
 */
static __always_inline void reclaim_step(int step)
{
	struct thread_state *ts = thread_state(false);

	if (!ts)
		return;
	if (step > 0)
		ts->reclaim_depth++;
	else if (ts->reclaim_depth)
		ts->reclaim_depth--;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(direct_reclaim_begin)
{
	reclaim_step(1);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(direct_reclaim_end)
{
	reclaim_step(-1);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memcg_reclaim_begin)
{
	reclaim_step(1);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(memcg_reclaim_end)
{
	reclaim_step(-1);
	return 0;
}

/*
 * ---- light mode -----------------------------------------------------
 * --light traps no allocator call. Faults are not sent one by one: each
 * sets its outcome's bit in the byte of its page (struct pt_granule) and
 * adds to its instruction's count. A release sends the granules it
 * touches first, so that user space sees the pages populated before they
 * go; the end of the run reads the rest. The allocations followed are
 * the mappings threads make: the first fault or syscall after an mmap
 * reads the size field glibc wrote (check_chunk()), and the syscall's
 * record comes with a copy of the user stack, unwound in user space.
 */

/* 2 MiB granules with faulted pages: 8 GiB of them preallocate nothing */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct pt_granule);
} granules SEC(".maps");

/* a zeroed granule to insert from: too big for the BPF stack */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pt_granule);
} granule_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 14);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pt_fault_site_key);
	__type(value, struct pt_fault_site);
} fault_sites SEC(".maps");

/* the advice (madvise) that releases or populates pages */
#define MADV_DONTNEED_ADVICE 4
#define MADV_REMOVE_ADVICE 9
#define MADV_FREE_ADVICE 8
#define MADV_DONTNEED_LOCKED_ADVICE 24
#define MADV_POPULATE_READ_ADVICE 22
#define MADV_POPULATE_WRITE_ADVICE 23

/* granules a release sends one by one; past that, all of them */
#define FLUSH_MAX_GRANULES (1 << 16)

static __always_inline void count_fault_site(struct thread_state *ts,
					     __u32 outcome, __u32 pages)
{
	struct pt_fault_site_key key = { .ip = ts->fault.ip,
					 .outcome = outcome };
	struct pt_fault_site *site = bpf_map_lookup_elem(&fault_sites, &key);

	if (!site) {
		struct pt_fault_site zero = {};

		bpf_map_update_elem(&fault_sites, &key, &zero, BPF_NOEXIST);
		site = bpf_map_lookup_elem(&fault_sites, &key);
		if (!site) {
			count_lost(PT_REC_FAULT);
			return;
		}
	}
	__sync_fetch_and_add(&site->faults, 1);
	__sync_fetch_and_add(&site->pages, pages);
}

static __always_inline void light_fault(struct thread_state *ts, __u32 outcome,
					__u32 pages)
{
	__u64 key = ts->fault.addr >> PT_GRANULE_SHIFT;
	struct pt_granule *g;
	__u32 zero_key = 0, first, span, i;
	__u64 *words;
	__u8 bit;

	ts->fault.open = 0;
	count_fault_site(ts, outcome, pages);
	switch (outcome) {
	case PT_OUT_ZERO:
	case PT_OUT_ANON:
	case PT_OUT_THP:
	case PT_OUT_COW_ZERO:
	case PT_OUT_COW:
	case PT_OUT_SWAP:
		break;
	default:
		return; /* file pages are not followed page by page */
	}
	g = bpf_map_lookup_elem(&granules, &key);
	if (!g) {
		struct pt_granule *zero =
			bpf_map_lookup_elem(&granule_zero, &zero_key);

		if (!zero)
			return;
		bpf_map_update_elem(&granules, &key, zero, BPF_NOEXIST);
		g = bpf_map_lookup_elem(&granules, &key);
		if (!g) {
			count_lost(PT_REC_PAGES); /* the map is full */
			return;
		}
		g->first_ns = ts->fault.t_start;
		g->first_tid = (__u32)bpf_get_current_pid_tgid();
	}
	/* a folio of 2^order pages is naturally aligned */
	span = pages ? pages : 1;
	if (span > PT_GRANULE_PAGES)
		span = PT_GRANULE_PAGES;
	first = (ts->fault.addr >> 12) & (PT_GRANULE_PAGES - 1);
	first &= ~(span - 1);
	bit = 1 << outcome;
	words = (__u64 *)g->outcomes;
	for (i = 0; i < PT_GRANULE_PAGES; i++) {
		__u32 page = (first + i) & (PT_GRANULE_PAGES - 1);

		if (i >= span)
			break;
		__sync_fetch_and_or(&words[page / 8],
				    (__u64)bit << (page % 8 * 8));
	}
}

/*
 * Send the pages faulted in granule key since it was last sent, taking
 * them word by word: a fault another CPU takes meanwhile lands either in
 * this record or in the granule for the next. The granule stays in the
 * map (a fault may hold it), unless the address space is gone (exec).
 */
static __always_inline void send_granule(__u64 key, bool forget)
{
	struct pt_granule *g = bpf_map_lookup_elem(&granules, &key);
	struct pt_rec_pages *rec;
	__u64 *from, *to, any = 0;
	int i;

	if (!g)
		return;
	rec = reserve(sizeof(*rec), PT_REC_PAGES);
	if (rec) {
		rec->granule = key;
		rec->pages.first_ns = g->first_ns;
		rec->pages.first_tid = g->first_tid;
		rec->pages.pad = 0;
		from = (__u64 *)g->outcomes;
		to = (__u64 *)rec->pages.outcomes;
		for (i = 0; i < PT_GRANULE_PAGES / 8; i++) {
			to[i] = __sync_lock_test_and_set(&from[i], 0);
			any |= to[i];
		}
		if (any)
			submit(rec);
		else
			bpf_ringbuf_discard(rec, 0);
	}
	if (forget)
		bpf_map_delete_elem(&granules, &key);
}

static long send_granule_at(__u64 index, __u64 *first)
{
	send_granule(*first + index, false);
	return 0;
}

static long send_any_granule(void *map, __u64 *key, void *value, void *ctx)
{
	send_granule(*key, false);
	return 0;
}

static long forget_granule(void *map, __u64 *key, void *value, void *ctx)
{
	send_granule(*key, true);
	return 0;
}

/* exec: the old image's instructions, sent while their code is known */
static long send_fault_site(void *map, struct pt_fault_site_key *key,
			    struct pt_fault_site *site, void *ctx)
{
	struct pt_rec_site *rec = reserve(sizeof(*rec), PT_REC_SITE);

	if (rec) {
		rec->key = *key;
		rec->counts = *site;
		submit(rec);
	}
	bpf_map_delete_elem(&fault_sites, key);
	return 0;
}

/* Send the granules [start, end) meets, before its pages go. */
static __always_inline void send_range(__u64 start, __u64 end)
{
	__u64 first = start >> PT_GRANULE_SHIFT, count;

	if (end <= start)
		return;
	count = ((end - 1) >> PT_GRANULE_SHIFT) - first + 1;
	if (count <= FLUSH_MAX_GRANULES)
		bpf_loop(count, send_granule_at, &first, 0);
	else
		bpf_for_each_map_elem(&granules, send_any_granule, NULL, 0);
}

/*
 * Granules of a syscall that releases or populates pages: the ledger must
 * see the pages faulted there before it (a populating syscall populates
 * only what is missing).
 */
static __always_inline void send_released(struct thread_state *ts, long ret)
{
	__u64 start = ts->sys.args[0], len = ts->sys.args[1];

	if (pt_syscall_failed(ret))
		return;
	switch (ts->sys.nr) {
	case PT_NR_MUNMAP:
		send_range(start, start + len);
		break;
	case PT_NR_MREMAP:
		send_range(start, start + len);
		if ((__u64)ret != start) /* moved over what was there */
			send_range(ret, ret + ts->sys.args[2]);
		break;
	case PT_NR_MADVISE:
		if (ts->sys.args[2] == MADV_DONTNEED_ADVICE ||
		    ts->sys.args[2] == MADV_FREE_ADVICE ||
		    ts->sys.args[2] == MADV_REMOVE_ADVICE ||
		    ts->sys.args[2] == MADV_DONTNEED_LOCKED_ADVICE ||
		    ts->sys.args[2] == MADV_POPULATE_READ_ADVICE ||
		    ts->sys.args[2] == MADV_POPULATE_WRITE_ADVICE)
			send_range(start, start + len);
		break;
	case PT_NR_MLOCK:
	case PT_NR_MLOCK2:
		send_range(start & ~0xfffULL, start + len);
		break;
	case PT_NR_MLOCKALL:
		bpf_for_each_map_elem(&granules, send_any_granule, NULL, 0);
		break;
	case PT_NR_MMAP:
		if (ts->sys.args[3] & PT_MAP_FIXED)
			send_range(ret, ret + len);
		break;
	case PT_NR_BRK:
		if ((__u64)ret < ts->old_brk)
			send_range(ret, ts->old_brk);
		break;
	}
}

/* Is the mapping mmap made one the ledger follows as an allocation? */
static __always_inline bool followed_mapping(struct thread_state *ts, long ret)
{
	return ts->sys.nr == PT_NR_MMAP && !pt_syscall_failed(ret) &&
	       pt_followed_mapping(ts->sys.args, targ_min_size);
}

/*
 * The thread's last followed mapping: has glibc written its chunk's size
 * field yet? It does so right after mmap returns, with a store that
 * faults the page in; the read here never faults (it fails instead), so
 * it is tried at the thread's next faults and syscalls, a few times.
 */
static __always_inline void check_chunk(struct thread_state *ts)
{
	struct pt_rec_chunk *rec;
	__u64 word = 0;

	if (!ts->chunk_at)
		return;
	if (bpf_probe_read_user(
		    &word, sizeof(word),
		    (void *)(ts->chunk_at + PT_GLIBC_SIZE_OFFSET)) ||
	    !word) {
		if (++ts->chunk_tries >= 8)
			ts->chunk_at = 0;
		return;
	}
	rec = reserve(sizeof(*rec), PT_REC_CHUNK);
	if (rec) {
		rec->mapping = ts->chunk_at;
		rec->length = ts->chunk_len;
		rec->size_field = word;
		submit(rec);
	}
	ts->chunk_at = 0;
}

struct stack_vma {
	__u64 end;
};

static long vma_end(struct task_struct *task, struct vm_area_struct *vma,
		    struct stack_vma *out)
{
	out->end = vma->vm_end;
	return 0;
}

/* A copy of the user stack from sp, as much as its mapping holds. */
static __always_inline void send_user_stack(struct pt_regs *regs, __u32 nr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct stack_vma vma = {};
	struct pt_rec_ustack *rec;
	__u64 sp = regs->sp, size = PT_USTACK_BYTES;
	int i;

	rec = reserve(sizeof(*rec), PT_REC_USTACK);
	if (!rec)
		return;
	rec->ip = regs->ip;
	rec->sp = sp;
	rec->bp = regs->bp;
	rec->nr = nr;
	if (!bpf_find_vma(task, sp, vma_end, &vma, 0) && vma.end > sp &&
	    vma.end - sp < size)
		size = vma.end - sp;
	/* without the mapping's end (its lock was busy), less until the
	 * copy stays inside */
	for (i = 0; i < 5; i++) {
		if (size > PT_USTACK_BYTES)
			size = PT_USTACK_BYTES;
		if (!bpf_probe_read_user(rec->stack, size, (void *)sp))
			break;
		size >>= 1;
	}
	if (i == 5)
		size = 0;
	rec->size = size;
	submit(rec);
}

/* ---- syscalls ----------------------------------------------------- */

static __always_inline bool is_mm_syscall(long nr)
{
	switch (nr) {
	case PT_NR_MMAP:
	case PT_NR_MPROTECT:
	case PT_NR_MUNMAP:
	case PT_NR_BRK:
	case PT_NR_MREMAP:
	case PT_NR_MADVISE:
	case PT_NR_MLOCK:
	case PT_NR_MLOCKALL:
	case PT_NR_MLOCK2:
		return true;
	default:
		return false;
	}
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct thread_state *ts;

	if (!is_target())
		return 0;
	ts = thread_state(true);
	if (!ts)
		return 0;
	/* a fault still open never completed (SIGSEGV, failed uaccess) */
	if (ts->fault.open)
		emit_fault(ts, PT_OUT_ERROR, 0);
	if (targ_light) {
		check_chunk(ts);
		if (id == PT_NR_BRK)
			ts->old_brk = BPF_CORE_READ(bpf_get_current_task_btf(),
						    mm, brk);
	}
	ts->sys.open = 1;
	ts->sys.nr = id;
	ts->sys.alloc_pages = 0;
	__builtin_memset(ts->sys.rss_events, 0, sizeof(ts->sys.rss_events));
	if (!is_mm_syscall(id))
		return 0;
	ts->sys.t_start = bpf_ktime_get_ns();
	ts->sys.args[0] = regs->di;
	ts->sys.args[1] = regs->si;
	ts->sys.args[2] = regs->dx;
	ts->sys.args[3] = regs->r10;
	ts->sys.args[4] = regs->r8;
	ts->sys.args[5] = regs->r9;
	return 0;
}

#define PATH_DEPTH 16 /* directories followed up from a mapped file */

/* room for a component read at any offset below PT_PATH_MAX */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[2 * PT_PATH_MAX]);
} path_scratch SEC(".maps");

static __always_inline struct mount *mount_of(struct vfsmount *vfs)
{
	return (struct mount *)((void *)vfs -
				bpf_core_field_offset(struct mount, mnt));
}

struct path_walk {
	struct dentry *dentry;
	struct mount *mnt;
	const unsigned char *names[PATH_DEPTH]; /* leaf first */
	__u32 depth;
	__u32 complete; /* the walk reached the root */
};

/* One step up from walk->dentry (a bpf_loop callback: verified once). */
static long path_step(__u32 index, struct path_walk *walk)
{
	/* locals: CO-RE reads go through kernel types only */
	struct dentry *dentry = walk->dentry, *parent;
	struct mount *mnt = walk->mnt, *up;

	if (dentry == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		/* the top of a mount: go on from where it is mounted */
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt) {
			walk->complete = 1;
			return 1;
		}
		walk->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		walk->mnt = up;
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent == dentry) {
		walk->complete = 1;
		return 1;
	}
	if (walk->depth >= PATH_DEPTH)
		return 1;
	walk->names[walk->depth & (PATH_DEPTH - 1)] =
		BPF_CORE_READ(dentry, d_name.name);
	walk->depth++;
	walk->dentry = parent;
	return 0;
}

/*
 * The path of a mapped file, from the root of the task's mount tree, so
 * that user space can open it after the mapping is gone (dlclose) and the
 * process too. The walk is bounded: a path deeper than PATH_DEPTH or
 * longer than PT_PATH_MAX leaves the file's own name alone.
 */
static __always_inline void file_path(struct file *file, char *out)
{
	struct path_walk walk = {
		.dentry = BPF_CORE_READ(file, f_path.dentry),
		.mnt = mount_of(BPF_CORE_READ(file, f_path.mnt)),
	};
	__u32 zero = 0, off = 0;
	bool complete;
	char *buf;
	int i;

	out[0] = '\0';
	bpf_loop(2 * PATH_DEPTH, path_step, &walk, 0);
	if (!walk.depth) {
		/* the file is a mount's root (a bind-mounted file) */
		bpf_probe_read_kernel_str(
			out, PT_PATH_MAX,
			BPF_CORE_READ(file, f_path.dentry, d_name.name));
		return;
	}
	buf = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!buf)
		return;
	complete = walk.complete;
	if (complete) {
#pragma unroll
		for (i = PATH_DEPTH - 1; i >= 0; i--) {
			long n;

			if ((__u32)i >= walk.depth)
				continue;
			if (off >= PT_PATH_MAX - 1) {
				complete = false;
				break;
			}
			/* the masks must stay for the verifier to see each
			 * access inside the scratch: hide off's range */
			barrier_var(off);
			buf[off & (PT_PATH_MAX - 1)] = '/';
			off++;
			barrier_var(off);
			n = bpf_probe_read_kernel_str(
				&buf[off & (PT_PATH_MAX - 1)], PT_PATH_MAX,
				walk.names[i]);
			if (n <= 0) {
				complete = false;
				break;
			}
			off += n - 1;
		}
	}
	if (!complete || off >= PT_PATH_MAX) {
		bpf_probe_read_kernel_str(out, PT_PATH_MAX, walk.names[0]);
		return;
	}
	bpf_probe_read_kernel(out, PT_PATH_MAX, buf);
	out[PT_PATH_MAX - 1] = '\0';
}

/* The file behind descriptor fd of the current task. */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *file = NULL;

	if (fd < 0 || (unsigned int)fd >= max_fds ||
	    bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct thread_state *ts = thread_state(false);
	struct pt_rec_syscall *rec;
	struct file *file;
	bool populated;

	if (!ts || !ts->sys.open)
		return 0;
	ts->sys.open = 0;
	/* a fault the kernel took inside the syscall that never completed */
	if (ts->fault.open)
		emit_fault(ts, PT_OUT_ERROR, 0);
	/* the process's own rss grew: page-cache folios alone do not count */
	populated = ts->sys.rss_events[PT_RSS_ANON] ||
		    ts->sys.rss_events[PT_RSS_FILE] ||
		    ts->sys.rss_events[PT_RSS_SHMEM];
	if (!is_mm_syscall(ts->sys.nr)) {
		if (!populated)
			return 0;
		/* another syscall populated pages (get_user_pages) */
		ts->sys.t_start = 0;
		__builtin_memset(ts->sys.args, 0, sizeof(ts->sys.args));
	}
	if (targ_light) {
		bool followed = followed_mapping(ts, ret);

		send_released(ts, ret);
		/* before its syscall's record: user space unwinds it first */
		if (targ_stacks &&
		    (followed ||
		     (ts->sys.nr == PT_NR_BRK && (__u64)ret > ts->old_brk &&
		      ts->old_brk) ||
		     (ts->sys.nr == PT_NR_MREMAP && !pt_syscall_failed(ret))))
			send_user_stack(regs, ts->sys.nr);
		if (followed) {
			ts->chunk_at = ret;
			ts->chunk_len = ts->sys.args[1];
			ts->chunk_tries = 0;
		}
	}
	/* a file mmap carries the file's path: the longer record */
	file = NULL;
	if (ts->sys.nr == PT_NR_MMAP && !(ts->sys.args[3] & PT_MAP_ANONYMOUS) &&
	    !pt_syscall_failed(ret))
		file = fd_file((int)ts->sys.args[4]);
	if (file) {
		struct pt_rec_syscall_path *with_path =
			reserve(sizeof(*with_path), PT_REC_SYSCALL);

		if (!with_path)
			return 0;
		file_path(file, with_path->path);
		rec = &with_path->sys;
		rec->flags = PT_SYS_PATH;
	} else {
		rec = reserve(sizeof(*rec), PT_REC_SYSCALL);
		if (!rec)
			return 0;
		rec->flags = 0;
	}
	rec->t_start = ts->sys.t_start;
	__builtin_memcpy(rec->args, ts->sys.args, sizeof(rec->args));
	rec->ret = ret;
	rec->nr = ts->sys.nr;
	if (IN_REPORTED_CALL(ts))
		rec->flags |= PT_SYS_IN_CALL;
	rec->alloc_pages = ts->sys.alloc_pages;
	rec->pad = 0;
	__builtin_memcpy(rec->rss_events, ts->sys.rss_events,
			 sizeof(rec->rss_events));
	/* --light: the copy of the stack (if any) went before */
	rec->stack_id = targ_light ? PT_NO_STACK : take_stack(ctx);
	rec->pad2 = 0;
	rec->stack_top = targ_light ? 0 : stack_top(regs->sp);
	rec->ip = regs->ip;
	submit(rec);
	return 0;
}

/* ---- process lifecycle -------------------------------------------- */

static __always_inline void emit_task(struct task_struct *task, __u32 kind,
				      __u32 other_pid, __s32 exit_code)
{
	struct pt_rec_task *rec = reserve(sizeof(*rec), PT_REC_TASK);

	if (!rec)
		return;
	rec->kind = kind;
	rec->other_pid = other_pid;
	rec->exit_code = exit_code;
	rec->pad = 0;
	bpf_probe_read_kernel_str(rec->comm, sizeof(rec->comm), task->comm);
	submit(rec);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	if (!is_target())
		return 0;
	/* the pages faulted before belonged to the old address space */
	if (targ_light) {
		bpf_for_each_map_elem(&granules, forget_granule, NULL, 0);
		bpf_for_each_map_elem(&fault_sites, send_fault_site, NULL, 0);
	}
	emit_task(task, PT_TASK_EXEC, old_pid, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	/* new threads share the mm and the tgid: nothing to do */
	if (child->pid != child->tgid || !is_target())
		return 0;
	emit_task(child, PT_TASK_FORK, child->tgid, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *task, bool group_dead)
{
	struct thread_state *ts;

	if (!is_target())
		return 0;
	ts = thread_state(false);
	if (ts && ts->fault.open)
		emit_fault(ts, PT_OUT_ERROR, 0);
	if (group_dead)
		emit_task(task, PT_TASK_EXIT, 0,
			  BPF_CORE_READ(task, signal, group_exit_code) ?:
				  task->exit_code);
	return 0;
}

/*
 * ---- the floor ------------------------------------------------------
 * --empty-probes loads these instead of all the programs above: nothing
 * but a return, on the very same attach points, so that a benchmark can
 * tell what the mechanism costs from what pagetrace's work costs.
 */
#define FLOOR_TP(name, tp)         \
	SEC("tp_btf/" #tp)         \
	int BPF_PROG(floor_##name) \
	{                          \
		return 0;          \
	}

SEC("uprobe")
int floor_alloc_entry(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe")
int floor_alloc_return(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe")
int floor_free_entry(struct pt_regs *ctx)
{
	return 0;
}

SEC("perf_event")
int floor_fault_done(struct bpf_perf_event_data *ctx)
{
	return 0;
}

FLOOR_TP(fault_user, page_fault_user)
FLOOR_TP(fault_kernel, page_fault_kernel)
FLOOR_TP(page_alloc, mm_page_alloc)
FLOOR_TP(rss_stat, rss_stat)
FLOOR_TP(direct_reclaim_begin, mm_vmscan_direct_reclaim_begin)
FLOOR_TP(direct_reclaim_end, mm_vmscan_direct_reclaim_end)
FLOOR_TP(memcg_reclaim_begin, mm_vmscan_memcg_reclaim_begin)
FLOOR_TP(memcg_reclaim_end, mm_vmscan_memcg_reclaim_end)
FLOOR_TP(sys_enter, sys_enter)
FLOOR_TP(sys_exit, sys_exit)
FLOOR_TP(proc_exec, sched_process_exec)
FLOOR_TP(proc_fork, sched_process_fork)
FLOOR_TP(proc_exit, sched_process_exit)
