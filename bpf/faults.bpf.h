/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page faults, from their entry to the event that ends them, and what
 * the faulting thread did in between (rss, folios, reclaim).
 * Part of pagetrace.bpf.c, included there: it uses the maps, the
 * thread state and the helpers defined before it.
 */

/* ---- page faults -------------------------------------------------- */

__noinline int light_fault(struct thread_state *ts, __u32 outcome, __u32 pages);

/*
 * May this fault open a run, or join one (PT_RUN_* in pagetrace.h)? It
 * filled an absent page, in user mode, outside any allocator call.
 */
static __always_inline bool run_eligible(const struct thread_state *ts,
					 __u32 outcome, __u32 pages)
{
	return targ_fault_runs && !ts->fault.flags && pages == 1 &&
	       (outcome == PT_OUT_ANON || outcome == PT_OUT_ZERO);
}

static __always_inline bool same_rss_events(const __u16 *a, const __u16 *b)
{
	return a[PT_RSS_FILE] == b[PT_RSS_FILE] &&
	       a[PT_RSS_ANON] == b[PT_RSS_ANON] &&
	       a[PT_RSS_SWAPENTS] == b[PT_RSS_SWAPENTS] &&
	       a[PT_RSS_SHMEM] == b[PT_RSS_SHMEM];
}

/* The fault joins the thread's open run, if it can: its record then
 * counts one more, and no record is made. */
static __always_inline bool join_run(struct thread_state *ts, __u32 outcome)
{
	struct fault_run *run = &ts->run;
	struct fault_runs_shared *shared;
	struct pt_ring_hdr *rh;
	struct pt_rec_fault *rec;
	__u32 zero = 0, faults = run->faults, tag;

	/* ending now within the run's jiffies: no record that could end
	 * the run was made past PT_RUN_ENDS_NS */
	if (!faults || faults >= PT_RUN_MAX_FAULTS ||
	    ts->fault.addr != run->next_addr ||
	    bpf_jiffies64() - run->jiffy_open > PT_RUN_JIFFIES ||
	    outcome != run->outcome || ts->fault.ip != run->ip ||
	    ts->fault.stack_id != run->stack_id ||
	    ts->fault.stack_top != run->stack_top ||
	    ts->fault.error_code != run->error_code ||
	    ts->fault.order != run->order ||
	    ts->fault.alloc_pages != run->alloc_pages ||
	    !same_rss_events(ts->fault.rss_events, run->rss_events))
		return false;
	shared = bpf_map_lookup_elem(&fault_runs, &zero);
	if (!shared || READ_ONCE(shared->gen) != run->gen)
		return false;
	/* still the run's record, not yet taken by user space */
	rh = ring_record(run->cpu, run->pos);
	if (!rh || READ_ONCE(rh->seq) != PT_RING_DONE(run->pos, targ_ring_key))
		return false;
	rec = (void *)(rh + 1);
	tag = PT_RUN_TAG(run->pos);
	if (__sync_val_compare_and_swap(&rec->run, tag | faults,
					tag | (faults + 1)) != (tag | faults))
		return false;
	run->faults = faults + 1;
	run->next_addr += 4096;
	return true;
}

/*
 * Before the record of a fault that may open a run: the latest run's
 * opening time, raised to this one's, is what every record that may end
 * runs compares with (end_fault_runs()); then *gen, the generation
 * such records bump. False if the time could not be raised (other CPUs
 * raising it too): no run then.
 */
static __always_inline bool open_run_gen(__u64 t, __u64 *gen)
{
	struct fault_runs_shared *shared;
	__u32 zero = 0;
	__u64 seen, was;
	int tries;

	shared = bpf_map_lookup_elem(&fault_runs, &zero);
	if (!shared)
		return false;
	seen = READ_ONCE(shared->opened_ns);
	for (tries = 0; tries < 3; tries++) {
		if ((__s64)(seen - t) < 0) {
			was = __sync_val_compare_and_swap(&shared->opened_ns,
							  seen, t);
			if (was != seen) {
				seen = was;
				continue;
			}
		}
		*gen = READ_ONCE(shared->gen);
		return true;
	}
	return false;
}

/* The thread's run, opened on the fault whose record is rec. */
static __always_inline void open_run(struct thread_state *ts,
				     struct pt_rec_fault *rec, __u64 gen)
{
	struct fault_run *run = &ts->run;
	struct pt_ring_hdr *rh = (struct pt_ring_hdr *)rec - 1;

	run->pos = rh->seq; /* PT_RING_BUSY(pos) until committed */
	run->cpu = rec->hdr.cpu;
	run->gen = gen;
	run->faults = 1;
	run->next_addr = rec->addr + 4096;
	run->jiffy_open = bpf_jiffies64();
	run->outcome = rec->outcome;
	run->ip = rec->ip;
	run->sp = ts->fault.sp;
	run->bp = ts->fault.bp;
	run->framed = bpf_map_lookup_elem(&framed_ips, &run->ip) != NULL;
	run->stack_id = rec->stack_id;
	/* what the run's next faults will read: nothing, if framed */
	run->stack_top = run->framed ? 0 : rec->stack_top;
	run->error_code = rec->error_code;
	run->order = rec->order;
	run->alloc_pages = rec->alloc_pages;
	__builtin_memcpy(run->rss_events, rec->rss_events,
			 sizeof(run->rss_events));
}

static __always_inline void emit_fault(struct thread_state *ts, __u32 outcome,
				       __u32 pages)
{
	struct pt_rec_fault *rec;
	bool opens_run = false;
	__u64 run_gen = 0;

	if (targ_light) {
		light_fault(ts, outcome, pages);
		return;
	}
	if (run_eligible(ts, outcome, pages)) {
		if (join_run(ts, outcome)) {
			ts->fault.open = 0;
			return;
		}
		opens_run = open_run_gen(
			ts->fault.t_start ?: bpf_ktime_get_ns(), &run_gen);
	}
	ts->run.faults = 0;
	rec = reserve(sizeof(*rec), PT_REC_FAULT);
	ts->fault.open = 0;
	if (!rec)
		return;
	/* the clock left unread at its start (run_likely()): its end */
	rec->t_start = ts->fault.t_start ?: rec->hdr.ts;
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
	rec->run = 1 | PT_RUN_TAG(((struct pt_ring_hdr *)rec - 1)->seq);
	rec->stack_top = ts->fault.stack_top;
	if (opens_run)
		open_run(ts, rec, run_gen);
	submit(rec);
}

/*
 * --light, a write-protect fault the kernel took in a syscall that
 * changed no rss: was the first folio allocated its own copy (an anon
 * page it mapped, as a copy of a page shared after fork is) or the
 * syscall's, after the fault's end (the page cache's, say)?
 */
static __always_inline bool kernel_copy_is_its_own(struct thread_state *ts)
{
	struct page *folio = (struct page *)ts->fault.first_folio;

	return folio &&
	       ((__u64)BPF_CORE_READ(folio, mapping) & PT_PAGE_MAPPING_ANON);
}

/* What the thread's fault did, classified (see pt_classify_fault()). */
static __always_inline __u32 fault_outcome(struct thread_state *ts,
					   __u32 *pages)
{
	struct pt_fault_evidence ev;

	ev.zero_page_on_read = targ_zero_page_on_read;
	ev.error_code = ts->fault.error_code;
	ev.order = ts->fault.order;
	ev.alloc_pages = ts->fault.alloc_pages;
	__builtin_memcpy(ev.rss_events, ts->fault.rss_events,
			 sizeof(ev.rss_events));
	if (targ_light && (ts->fault.flags & PT_FAULT_KERNEL)) {
		pt_light_kernel_read(&ev, ts->fault.flags);
		if ((ev.error_code & PT_PF_WRITE) && ev.alloc_pages &&
		    pt_no_rss_change(ev.rss_events) &&
		    !kernel_copy_is_its_own(ts))
			ev.alloc_pages = 0;
	}
	return pt_classify_fault(&ev, pages);
}

struct vma_access {
	__u64 flags;
	__u64 file; /* the mapping's file, 0 if anonymous */
};

static long vma_access_of(struct task_struct *task, struct vm_area_struct *vma,
			  struct vma_access *out)
{
	out->flags = BPF_CORE_READ(vma, vm_flags);
	out->file = (__u64)BPF_CORE_READ(vma, vm_file);
	return 0;
}

/*
 * --light: what a fault the kernel took, of which nothing anonymous came,
 * did. It failed (a uaccess fixed up: EFAULT, a short count) where no
 * mapping gives it the access, or where a file's does and the syscall
 * failed with EFAULT (a page past the file's end: SIGBUS turned EFAULT);
 * where the mappings cannot be looked at (their lock busy), by that
 * EFAULT (failed). On a file's mapping it is a file page or nothing,
 * never the zero page.
 */
static __always_inline __u32 kernel_fault_outcome(struct thread_state *ts,
						  __u32 outcome, bool failed)
{
	struct vma_access vma = {};
	__u64 needed;
	long err;

	err = bpf_find_vma(bpf_get_current_task_btf(), ts->fault.addr,
			   vma_access_of, &vma, 0);
	if (err == -PT_ENOENT)
		return PT_OUT_ERROR;
	if (err)
		return failed ? PT_OUT_ERROR : outcome;
	needed = ts->fault.error_code & PT_PF_WRITE ? PT_VM_WRITE : PT_VM_READ;
	if (!(vma.flags & needed) || (vma.file && failed))
		return PT_OUT_ERROR;
	if (vma.file && outcome != PT_OUT_FILE)
		return PT_OUT_NONE;
	return outcome;
}

/*
 * The thread's fault, still open at its next fault, syscall, exec or
 * exit. With the page-faults events, it never completed (SIGSEGV, a
 * failed uaccess). --light attaches no such events (their cost, ~160 ns
 * of a ~1.5 us fault here, is most of what it adds to a fault): a fault
 * it traced is over by then, and what it did is all in its evidence. A
 * fault that fails raises the kernel's SIGSEGV or SIGBUS for its address
 * first (fault_signal()). One the kernel takes inside a syscall ends at
 * its anon page's rss change (rss_stat()), else at the syscall's end; if
 * nothing anonymous came of it, its mapping tells whether it failed
 * (kernel_fault_outcome(); failed_hint: the syscall's EFAULT).
 */
static __always_inline void close_fault_if(struct thread_state *ts,
					   bool failed_hint)
{
	__u32 outcome = PT_OUT_ERROR, pages = 0;

	if (!ts->fault.open)
		return;
	if (targ_light) {
		outcome = fault_outcome(ts, &pages);
		/* nothing anonymous came of it: did it fail? */
		if ((ts->fault.flags & PT_FAULT_KERNEL) &&
		    !ts->fault.alloc_pages &&
		    !ts->fault.rss_events[PT_RSS_ANON] &&
		    !ts->fault.rss_events[PT_RSS_SWAPENTS]) {
			outcome =
				kernel_fault_outcome(ts, outcome, failed_hint);
			if (outcome == PT_OUT_ERROR || outcome == PT_OUT_NONE)
				pages = 0;
		}
	}
	emit_fault(ts, outcome, pages);
}

static __always_inline void close_fault(struct thread_state *ts)
{
	close_fault_if(ts, false);
}

static __always_inline void check_chunk(struct thread_state *ts);

/* Will a fault at addr, at instruction ip, join the thread's open run?
 * Likely if it is the next there. */
static __always_inline bool run_likely(const struct thread_state *ts,
				       __u64 addr, __u64 ip, __u32 flags)
{
	const struct fault_run *run = &ts->run;

	return !flags && run->faults && addr == run->next_addr && ip == run->ip;
}

/*
 * Is ip the instruction of the thread's open run, and framed (the word
 * at sp is no caller there)? Asked at a fault's start, which reads that
 * word otherwise. Only while the run may take faults: no record that may
 * change what code is where (munmap, exec) came since it opened.
 */
static __always_inline bool run_framed_at(const struct thread_state *ts,
					  __u64 ip)
{
	const struct fault_run *run = &ts->run;
	struct fault_runs_shared *shared;
	__u32 zero = 0;

	if (!run->faults || !run->framed || ip != run->ip ||
	    bpf_jiffies64() - run->jiffy_open > PT_RUN_JIFFIES)
		return false;
	shared = bpf_map_lookup_elem(&fault_runs, &zero);
	return shared && READ_ONCE(shared->gen) == run->gen;
}

/*
 * Is this fault likely the next of the thread's open run, from the very
 * same frame: the same instruction, stack and frame pointers? Its stack
 * is then the run's, unread: reading it (the frame record at bp, the word
 * at sp: two reads of user memory, ~100 ns of a ~1.5 us fault here) would
 * only tell that the code returned and was called again, from elsewhere
 * at the same depth, between two faults of the run, the next page on.
 * Such a fault joins the run, its page charged to the first caller's
 * stack. Only while the run may take faults, as in run_framed_at(); never
 * with --exact-stacks, which walks every stack.
 */
static __always_inline bool run_frame_holds(const struct thread_state *ts,
					    __u64 addr, __u64 ip, __u64 sp,
					    __u64 bp, __u32 flags)
{
	const struct fault_run *run = &ts->run;
	struct fault_runs_shared *shared;
	__u32 zero = 0;

	/* a stack the run's first fault failed to take is tried again */
	if (targ_stacks && run->stack_id < 0 &&
	    run->stack_id != PT_STACK_NO_CHAIN)
		return false;
	if (!run_likely(ts, addr, ip, flags) || sp != run->sp ||
	    bp != run->bp || bpf_jiffies64() - run->jiffy_open > PT_RUN_JIFFIES)
		return false;
	shared = bpf_map_lookup_elem(&fault_runs, &zero);
	return shared && READ_ONCE(shared->gen) == run->gen;
}

/* The stack of the thread's run, taken again by one of its faults
 * (run_frame_holds()): counted as the reads would have counted it. */
static __always_inline void keep_run_stack(struct thread_state *ts)
{
	ts->fault.stack_id = ts->run.stack_id;
	ts->fault.stack_top = ts->run.stack_top;
	if (ts->run.stack_id >= 0)
		count(PT_COUNT_STACK_REUSED);
	else if (ts->run.stack_id == PT_STACK_NO_CHAIN)
		count(PT_COUNT_STACK_NO_CHAIN);
	if (targ_stacks)
		count(PT_COUNT_TOP_UNREAD);
}

static __always_inline void fault_enter(void *ctx, struct thread_state *ts,
					__u64 id, __u64 addr, __u64 ip,
					__u64 sp, __u64 bp, __u64 error_code,
					__u32 flags)
{
	struct call_slot *call;

	if (targ_light) {
		check_chunk(ts);
		sp = 0; /* no stacks: faults are counted per instruction */
	}
	close_fault(ts); /* the previous one */
	/*
	 * --light makes no call and keeps no fault's time but a granule's
	 * first (light_fault()): the clock, ~40 ns here, is left unread. So
	 * does a fault likely to join its thread's run, which keeps the
	 * run's time: should it not join, its record's time stands for its
	 * start.
	 */
	ts->fault.t_start = 0;
	call = NULL;
	if (!targ_light) {
		call = reported_call_of(ts, id);
		if (call || !run_likely(ts, addr, ip, flags))
			ts->fault.t_start = bpf_ktime_get_ns();
	}
	if (call) {
		flags |= PT_FAULT_IN_CALL;
		call_began(call, ts->fault.t_start);
	}
	ts->fault.addr = addr;
	ts->fault.releases = targ_light ? PT_READ_ONCE(release_log.count) : 0;
	ts->fault.ip = ip;
	ts->fault.error_code = error_code;
	ts->fault.flags = flags;
	ts->fault.order = 0;
	ts->fault.alloc_pages = 0;
	ts->fault.first_folio = 0;
	__builtin_memset(ts->fault.rss_events, 0, sizeof(ts->fault.rss_events));
	ts->fault.sp = sp;
	ts->fault.bp = bp;
	if (sp && !call && !targ_exact_stacks &&
	    run_frame_holds(ts, addr, ip, sp, bp, flags)) {
		keep_run_stack(ts);
		ts->fault.open = 1;
		return;
	}
	ts->fault.stack_id =
		sp ? take_stack_memo(ctx, &ts->fault_stack, ip, sp, bp) :
		     PT_NO_STACK;
	if (!sp) {
		ts->fault.stack_top = 0;
	} else if (run_framed_at(ts, ip)) {
		ts->fault.stack_top = 0;
		count(PT_COUNT_TOP_UNREAD);
	} else {
		ts->fault.stack_top = stack_top(sp);
	}
	ts->fault.open = 1;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct thread_state *ts = state_of_task(task, true);

	if (!ts || light_detaching())
		return 0;
	if (!targ_light)
		ts->maj_flt = task->maj_flt;
	fault_enter(ctx, ts, id_of_task(task), address, regs->ip, regs->sp,
		    regs->bp, error_code, 0);
	return 0;
}

SEC("tp_btf/page_fault_kernel")
int BPF_PROG(fault_kernel, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct thread_state *ts;
	struct pt_regs *user_regs;

	/*
	 * Kernel addresses live in the upper half. With page faults disabled
	 * the access is a nofault one (ours too: bpf_probe_read_user) that
	 * fails at once instead of populating anything.
	 */
	if (address >> 63 || task->pagefault_disabled || light_detaching())
		return 0;
	ts = state_of_task(task, true);
	if (!ts)
		return 0;
	if (!targ_light)
		ts->maj_flt = task->maj_flt;
	user_regs = (struct pt_regs *)bpf_task_pt_regs(task);
	fault_enter(ctx, ts, id_of_task(task), address,
		    BPF_CORE_READ(user_regs, ip), BPF_CORE_READ(user_regs, sp),
		    BPF_CORE_READ(user_regs, bp), error_code, PT_FAULT_KERNEL);
	return 0;
}

/*
 * page-faults-min / page-faults-maj software events: the fault is done.
 * A major one counted itself in the task's maj_flt just before (read
 * in place: the attach cookie's helper call cost ~10 ns a fault here).
 * --light attaches none: see close_fault().
 */
SEC("perf_event")
int fault_done(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct thread_state *ts = state_of_task(task, false);
	__u32 outcome, pages;

	if (!ts || !ts->fault.open || ctx->addr != ts->fault.addr)
		return 0;
	if (task->maj_flt != ts->maj_flt)
		ts->fault.flags |= PT_FAULT_MAJOR;
	outcome = fault_outcome(ts, &pages);
	emit_fault(ts, outcome, pages);
	return 0;
}

/*
 * --light: a fault that raises SIGSEGV or SIGBUS failed (close_fault()):
 * the kernel's own signal (si_code > 0) for the fault's address. Others
 * (a general protection fault's, a split lock's, one the thread sent
 * itself) leave the fault as it is.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(fault_signal, int sig, struct kernel_siginfo *info,
	     struct task_struct *task)
{
	struct thread_state *ts;

	if ((sig != PT_SIGSEGV && sig != PT_SIGBUS) ||
	    task != bpf_get_current_task_btf() || light_detaching())
		return 0;
	ts = state_of_task(task, false);
	if (!ts || !ts->fault.open)
		return 0;
	/* info may be one of the kernel's made-up pointers: read safely */
	if (BPF_CORE_READ(info, si_code) <= 0 ||
	    (__u64)BPF_CORE_READ(info, _sifields._sigfault._addr) !=
		    ts->fault.addr)
		return 0;
	emit_fault(ts, PT_OUT_ERROR, 0);
	return 0;
}

/* ---- what a fault or syscall did ---------------------------------- */

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(page_alloc, struct page *page, unsigned int order, gfp_t gfp,
	     int migratetype)
{
	struct thread_state *ts;

	/* page tables and kernel memory are not movable; user pages are */
	if (!page || migratetype != MIGRATE_MOVABLE_TYPE || light_detaching())
		return 0;
	ts = target_state_if_any();
	if (!ts || ts->reclaim_depth)
		return 0;
	if (ts->fault.open) {
		/* --light: a fault the kernel took in a syscall may stay open
		 * past its end (close_fault()); its own folio came first */
		if (!targ_light || !(ts->fault.flags & PT_FAULT_KERNEL) ||
		    !ts->fault.alloc_pages) {
			ts->fault.order = order;
			ts->fault.first_folio = (__u64)page;
		}
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
	if (task->mm != mm || light_detaching())
		return 0;
	ts = state_of_task(task, false);
	if (!ts || ts->reclaim_depth)
		return 0;
	if (ts->fault.open) {
		count_rss(ts->fault.rss_events, member);
		/* --light: a fault the kernel took ends at its anon page's
		 * rss change, the last thing it does (a private file page
		 * copied: file down, then anon up); a file page's may come
		 * twice (fault-around counts even what it did not map): the
		 * syscall's end closes those (see close_fault()) */
		if (targ_light && (ts->fault.flags & PT_FAULT_KERNEL) &&
		    member == PT_RSS_ANON)
			close_fault(ts);
	} else if (ts->sys.open)
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
	struct thread_state *ts = target_state_if_any();

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
