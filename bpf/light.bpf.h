/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --light: faults counted in the kernel, mappings and their headers.
 * Part of pagetrace.bpf.c, included there: it uses the maps, the
 * thread state and the helpers defined before it.
 */

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

/*
 * Threads that exited or exec'd once the faults had stopped (detaching),
 * their tails already gone to the maps by proc_exit()/proc_exec(): user
 * space, which read every live thread's tail meanwhile, leaves theirs out
 * (see light__read_tails()).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 14);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u8);
} late_exits SEC(".maps");

/* Before the thread's tail goes to the maps: a tail read before or after
 * it is left out either way. The set full: that thread's faults may be
 * counted twice, and the report says it is incomplete. */
static __always_inline void note_late_exit(__u32 tid)
{
	__u8 one = 1;

	if (bpf_map_update_elem(&late_exits, &tid, &one, BPF_ANY))
		count_lost(PT_COUNT_UNPLACED);
}

/* the advice (madvise) that releases or populates pages */
#define MADV_DONTNEED_ADVICE 4
#define MADV_REMOVE_ADVICE 9
#define MADV_FREE_ADVICE 8
#define MADV_DONTNEED_LOCKED_ADVICE 24
#define MADV_POPULATE_READ_ADVICE 22
#define MADV_POPULATE_WRITE_ADVICE 23

/* granules a release sends one by one; past that, all of them */
#define FLUSH_MAX_GRANULES (1 << 16)

static __always_inline void add_fault_site(const struct pt_fault_site_key *key,
					   __u64 faults, __u64 pages)
{
	struct pt_fault_site *site = bpf_map_lookup_elem(&fault_sites, key);
	__u32 type = PT_REC_FAULT;
	__u64 *lost_faults;

	if (!site) {
		struct pt_fault_site zero = {};

		bpf_map_update_elem(&fault_sites, key, &zero, BPF_NOEXIST);
		site = bpf_map_lookup_elem(&fault_sites, key);
		if (!site) {
			lost_faults = bpf_map_lookup_elem(&lost, &type);
			if (lost_faults)
				__sync_fetch_and_add(lost_faults, faults);
			return;
		}
	}
	__sync_fetch_and_add(&site->faults, faults);
	__sync_fetch_and_add(&site->pages, pages);
}

/* The thread's tally goes to the map: see struct pt_site_tally. */
static __always_inline void flush_tally(struct thread_state *ts)
{
	if (!ts->tally.counts.faults)
		return;
	add_fault_site(&ts->tally.key, ts->tally.counts.faults,
		       ts->tally.counts.pages);
	ts->tally.counts.faults = 0;
	ts->tally.counts.pages = 0;
}

/*
 * One fault more of the thread's instruction: a loop's faults are added
 * up in the thread's state, and go to the map (a hash lookup and two
 * atomic adds, ~50 ns here) once the thread faults elsewhere, exits or
 * execs.
 */
static __always_inline void tally_fault_site(struct thread_state *ts,
					     __u32 outcome, __u32 pages)
{
	struct pt_site_tally *tally = &ts->tally;

	if (tally->counts.faults && tally->key.ip == ts->fault.ip &&
	    tally->key.outcome == outcome &&
	    tally->counts.faults < PT_TALLY_MAX_FAULTS) {
		tally->counts.faults++;
		tally->counts.pages += pages;
		return;
	}
	flush_tally(ts);
	tally->key.ip = ts->fault.ip;
	tally->key.outcome = outcome;
	tally->key.pad = 0;
	tally->counts.faults = 1;
	tally->counts.pages = pages;
}

/*
 * Set outcome's bit in the bytes of pages [first, first + span) of a
 * granule, or with clear take it back, a 64-bit word (8 pages) at a
 * time: a folio is naturally aligned, so a span under 8 pages lies in one
 * word, a longer one fills whole words (at most 64 of them: a loop the
 * verifier walks quickly in each of the programs that close faults).
 */
static __always_inline void mark_granule(__u64 *words, __u32 first, __u32 span,
					 __u32 outcome, bool clear)
{
	__u64 pattern = (__u64)(1U << outcome) * 0x0101010101010101ULL, mask;
	__u32 i, w;

	if (span < 8) {
		mask = span == 1 ? 0xffULL : (1ULL << (span * 8)) - 1;
		pattern = (pattern & mask) << (first % 8 * 8);
		w = (first / 8) & (PT_GRANULE_PAGES / 8 - 1);
		if (clear)
			__sync_fetch_and_and(&words[w], ~pattern);
		else
			__sync_fetch_and_or(&words[w], pattern);
		return;
	}
	for (i = 0; i < PT_GRANULE_PAGES / 8; i++) {
		if (i >= span / 8)
			break;
		w = (first / 8 + i) & (PT_GRANULE_PAGES / 8 - 1);
		if (clear)
			__sync_fetch_and_and(&words[w], ~pattern);
		else
			__sync_fetch_and_or(&words[w], pattern);
	}
}

struct release_walk {
	__u64 since, lo, hi;
	bool met;
};

static long release_met(__u64 i, struct release_walk *walk)
{
	walk->met = pt_release_meets(&release_log, walk->since + i, walk->lo,
				     walk->hi);
	return walk->met;
}

/* pt_released_since(), its entries walked by bpf_loop(): the verifier
 * looks at one, not at every one the log holds */
static __always_inline bool released_since(__u64 since, __u64 lo, __u64 hi)
{
	struct release_walk walk = { .since = since, .lo = lo, .hi = hi };
	__u64 now = READ_ONCE(release_log.count);

	if (now == since)
		return false;
	if (now - since > PT_RELEASE_LOG_SLOTS)
		return true;
	bpf_loop(now - since, release_met, &walk, 0);
	return walk.met;
}

/*
 * A global function: the verifier walks it once, not once in each of the
 * programs that close faults (their loads took ~250 ms of CPU inlined).
 */
__noinline int light_fault(struct thread_state *ts, __u32 outcome, __u32 pages)
{
	struct pt_granule *g;
	__u64 key, lo, hi, logged;
	__u32 zero_key = 0, first, span;

	if (!ts)
		return 0;
	ts->fault.open = 0;
	key = ts->fault.addr >> PT_GRANULE_SHIFT;
	tally_fault_site(ts, outcome, pages);
	/* after the thread's exit was traced (the kernel clearing its
	 * clear_child_tid word): no exit is left to send the count */
	if (bpf_get_current_task_btf()->flags & PT_TASK_EXITING)
		flush_tally(ts);
	if (!pt_in_granules(outcome))
		return 0; /* file pages are counted only */
	g = bpf_map_lookup_elem(&granules, &key);
	if (!g) {
		struct pt_granule *zero =
			bpf_map_lookup_elem(&granule_zero, &zero_key);

		if (!zero)
			return 0;
		bpf_map_update_elem(&granules, &key, zero, BPF_NOEXIST);
		g = bpf_map_lookup_elem(&granules, &key);
		if (!g) {
			count_lost(PT_REC_PAGES); /* the map is full */
			return 0;
		}
		g->first_ns = bpf_ktime_get_ns(); /* the first fault's end */
		g->first_tid = (__u32)current_id();
	}
	pt_granule_span(ts->fault.addr, pages, &first, &span);
	lo = (key << PT_GRANULE_SHIFT) + ((__u64)first << 12);
	hi = lo + ((__u64)span << 12);
	/*
	 * Released since the fault began: not placed. Else placed, and
	 * looked at again for a release logged meanwhile, which may have
	 * taken the granule's words before the bits came (a release logged
	 * later sends them): taken back then. Only that window can take
	 * back a bit another fault of the same page set.
	 */
	logged = READ_ONCE(release_log.count);
	if (released_since(ts->fault.releases, lo, hi)) {
		count_lost(
			PT_COUNT_UNPLACED); /* decides completeness: atomic */
		return 0;
	}
	mark_granule((__u64 *)g->outcomes, first, span, outcome, false);
	if (released_since(logged, lo, hi)) {
		mark_granule((__u64 *)g->outcomes, first, span, outcome, true);
		count_lost(
			PT_COUNT_UNPLACED); /* decides completeness: atomic */
	}
	return 0;
}

/*
 * --light: the fault a thread is in when its task is freed, which nothing
 * closed: one the kernel took after the exit was traced, reading a page
 * not there yet (the robust futex list's head, say) and changing no anon
 * rss. Counted at its instruction from its evidence; a page the granules
 * would follow is not placed, its address space perhaps gone, and is
 * counted unplaced (a failed read looks like a zero-page one here: its
 * mapping is out of reach). Loaded with --light alone: the default mode
 * ends every fault with the page-faults events.
 */
SEC("tp_btf/sched_process_free")
int BPF_PROG(fault_at_free, struct task_struct *task)
{
	struct pt_fault_site_key key = {};
	struct thread_state *ts;
	__u32 outcome, pages;

	if (!task)
		return 0;
	ts = state_of_task(task, false);
	if (!ts)
		return 0;
	/* its tail read meanwhile is left out: counted here, or not at all
	 * if the thread was done with it (see late_exits) */
	if (light_detaching())
		note_late_exit(task->pid);
	flush_tally(ts);
	if (!ts->fault.open)
		return 0;
	ts->fault.open = 0;
	outcome = fault_outcome(ts, &pages);
	key.ip = ts->fault.ip;
	key.outcome = outcome;
	add_fault_site(&key, 1, pages);
	if (pt_in_granules(outcome))
		count_lost(PT_COUNT_UNPLACED); /* decides completeness */
	return 0;
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
			discard(rec);
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

/* The release of [start, end), logged before its granules go (struct
 * pt_release_log). */
static __always_inline void log_release(__u64 start, __u64 end)
{
	__u64 n = __sync_fetch_and_add(&release_log.count, 1);
	struct pt_release_entry *e =
		&release_log.at[n & (PT_RELEASE_LOG_SLOTS - 1)];

	/* in this order: the compiler may not sink a plain store past it */
	WRITE_ONCE(e->number, 0);
	WRITE_ONCE(e->start, start);
	WRITE_ONCE(e->end, end);
	WRITE_ONCE(e->number, n + 1);
}

/* Send the granules [start, end) meets, before its pages go (released)
 * or others come (populated). */
static __always_inline void send_range(__u64 start, __u64 end, bool released)
{
	__u64 first = start >> PT_GRANULE_SHIFT, count;

	if (end <= start)
		return;
	if (released)
		log_release(start, end);
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
		send_range(start, start + len, true);
		break;
	case PT_NR_MREMAP:
		send_range(start, start + len, true);
		if ((__u64)ret != start) /* moved over what was there */
			send_range(ret, ret + ts->sys.args[2], true);
		break;
	case PT_NR_MADVISE:
		if (ts->sys.args[2] == MADV_DONTNEED_ADVICE ||
		    ts->sys.args[2] == MADV_FREE_ADVICE ||
		    ts->sys.args[2] == MADV_REMOVE_ADVICE ||
		    ts->sys.args[2] == MADV_DONTNEED_LOCKED_ADVICE)
			send_range(start, start + len, true);
		else if (ts->sys.args[2] == MADV_POPULATE_READ_ADVICE ||
			 ts->sys.args[2] == MADV_POPULATE_WRITE_ADVICE)
			send_range(start, start + len, false);
		break;
	case PT_NR_MLOCK:
	case PT_NR_MLOCK2:
		send_range(start & ~0xfffULL, start + len, false);
		break;
	case PT_NR_MLOCKALL:
		bpf_for_each_map_elem(&granules, send_any_granule, NULL, 0);
		break;
	case PT_NR_MMAP:
		if (ts->sys.args[3] & PT_MAP_FIXED)
			send_range(ret, ret + len, true);
		break;
	case PT_NR_BRK:
		if ((__u64)ret < ts->old_brk)
			send_range(ret, ts->old_brk, true);
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
