/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The allocator's calls: entry and return uprobes, free.
 * Part of pagetrace.bpf.c, included there: it uses the maps, the
 * thread state and the helpers defined before it.
 */

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

/*
 * Is the new block's chunk header worth reading? It costs a user read,
 * ~55 ns of alloc_return's ~230 here, and what it tells of a small block
 * from malloc or calloc the address already does: such a block away from
 * a page's 16th byte cannot have a mapping of its own, so it is a heap
 * chunk (flags say so), its size left unread. Bigger blocks, realloc's
 * (an mmapped chunk shrunk in place stays where memalign put it) and the
 * aligned functions' are read.
 */
static __always_inline bool chunk_header_read(__u32 fn, const __u64 *args,
					      __u64 addr, __u32 *flags)
{
	if ((fn == PT_FN_MALLOC || fn == PT_FN_CALLOC) && addr &&
	    pt_requested_size(fn, args) < PT_CHUNK_READ_MIN_SIZE &&
	    (addr & 4095) != PT_GLIBC_MMAPPED_BLOCK_OFFSET) {
		*flags |= PT_CALL_CHUNK_KNOWN;
		return false;
	}
	return true;
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
	submit_now(rec);
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

/* The return address at a function's first instruction: its caller. */
static __always_inline __u64 call_site(struct pt_regs *ctx, __u64 cookie)
{
	__u64 ax = PT_REGS_RC(ctx), caller = 0;

	/* two loads from ctx, never one at a computed offset: the verifier
	 * refuses that */
	barrier_var(ax);
	if (cookie & PT_COOKIE_CALLER_IN_AX)
		return ax;
	bpf_probe_read_user(&caller, sizeof(caller), (void *)PT_REGS_SP(ctx));
	return caller;
}

/*
 * The time the preloaded site read before its nop (its TSC, in r11) as
 * CLOCK_MONOTONIC ns; 0 where there is none (a probe elsewhere, a site
 * not stamping, user space's figures stale or being rewritten): the
 * record then takes the kernel's clock. For a call seen after it, the
 * moment it returned; for free, the moment it was entered.
 */
static __always_inline __u64 site_time(struct pt_regs *ctx, bool stamped)
{
	__u64 reading = ctx->r11, ns;
	__u32 seq;

	if (!stamped || !reading)
		return 0;
	seq = READ_ONCE(site_clock.seq);
	if (seq & 1)
		return 0;
	barrier();
	ns = pt_site_clock_ns(reading, site_clock.tsc, site_clock.ns,
			      site_clock.mult);
	barrier();
	return READ_ONCE(site_clock.seq) == seq ? ns : 0;
}

SEC("uprobe")
int alloc_entry(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), id = current_id();
	struct call_slot *slot;

	/* the uprobes are attached for the traced process alone, but the
	 * kernel may tell it by its memory (perf uprobes, older
	 * uprobe_multi links), which a vfork child shares */
	if (!is_target_id(id))
		return 0;
	slot = call_slot_of(id, true);
	if (!slot)
		return 0;
	if (slot->call.depth++ > 0)
		return 0; /* nested: the outermost call is the one reported */
	slot->call.fn = cookie & PT_COOKIE_FN;
	slot->call.t_enter =
		entry_time_read(slot->call.fn) ? bpf_ktime_get_ns() : 0;
	slot->call.args[0] = PT_REGS_PARM1(ctx);
	slot->call.args[1] = PT_REGS_PARM2(ctx);
	slot->call.args[2] = PT_REGS_PARM3(ctx);
	slot->call.reported = call_reported(slot->call.fn, slot->call.args);
	slot->call.stack_id =
		slot->call.reported ?
			take_stack_memo(ctx, &slot->stack, PT_REGS_IP(ctx),
					PT_REGS_SP(ctx), PT_REGS_FP(ctx)) :
			PT_NO_STACK;
	if (slot->call.reported && (slot->call.fn == PT_FN_REALLOC ||
				    slot->call.fn == PT_FN_REALLOCARRAY))
		hold_before_realloc(slot->call.args[0]);
	slot->call.caller = call_site(ctx, cookie);
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

/* The record of the reported call in slot, which returned ret. */
static __always_inline void send_call(struct call_slot *slot, __u64 ret,
				      __u32 flags, __u64 ts, __u64 id)
{
	struct pt_rec_call *rec;
	__u64 addr = ret;

	if (slot->call.fn == PT_FN_POSIX_MEMALIGN) {
		addr = 0;
		if ((int)ret == 0)
			bpf_probe_read_user(&addr, sizeof(addr),
					    (void *)slot->call.args[0]);
	}
	if (targ_min_size)
		follow_block(slot->call.fn, slot->call.args, addr);
	rec = reserve_as(sizeof(*rec), PT_REC_CALL, ts, id);
	if (!rec)
		return;
	rec->fn = slot->call.fn;
	rec->flags = flags | (ts ? PT_CALL_SITE_TIMED : 0);
	rec->t_enter = slot->call.t_enter ?: rec->hdr.ts; /* call_began() */
	rec->args[0] = slot->call.args[0];
	rec->args[1] = slot->call.args[1];
	rec->args[2] = slot->call.args[2];
	rec->ret = ret;
	rec->addr = addr;
	rec->caller = slot->call.caller;
	rec->chunk_size = chunk_header_read(slot->call.fn, slot->call.args,
					    addr, &rec->flags) ?
				  chunk_header(addr, &rec->flags) :
				  0;
	rec->stack_id = slot->call.stack_id;
	rec->pad = 0;
	submit(rec);
}

SEC("uretprobe")
int alloc_return(struct pt_regs *ctx)
{
	__u64 id = current_id();
	struct call_slot *slot = call_slot_of(id, false);

	if (!slot || slot->call.depth == 0)
		return 0;
	if (--slot->call.depth > 0 || !slot->call.reported)
		return 0;
	send_call(slot, PT_REGS_RC(ctx), 0, 0, id);
	return 0;
}

/*
 * A whole call of a function that only allocates (pt_seen_after_call()),
 * seen after it returned, on the second nop of pagetrace-preload.so's
 * site (see user/preload/): the result in rax, the arguments in rbx, r12
 * and r13, as many as the function takes, where the site kept them
 * across the call, the caller in rcx. One entry into the kernel per call
 * instead of an entry probe's and a return probe's. The site keeps the caller's
 * frame pointer: the stack is the one an entry probe takes. Faults inside
 * the call are not flagged as such: user space tells them (see
 * PT_CALL_SEEN_AFTER).
 */
SEC("uprobe")
int alloc_back(struct pt_regs *ctx)
{
	__u64 id = current_id(), cookie;
	struct call_slot *slot;
	__u32 fn;
	int args;

	if (!is_target_id(id))
		return 0;
	slot = call_slot_of(id, true);
	/* inside a traced call: not its own. None is: the sites are used
	 * only where the next malloc is glibc's (no interposer, see
	 * allocator__uses_sites()), which never calls them */
	if (!slot || slot->call.depth > 0)
		return 0;
	cookie = bpf_get_attach_cookie(ctx);
	fn = cookie & PT_COOKIE_FN;
	args = pt_arg_count(fn);
	slot->call.fn = fn;
	slot->call.t_enter = 0;
	slot->call.args[0] = ctx->bx;
	slot->call.args[1] = args > 1 ? ctx->r12 : 0;
	slot->call.args[2] = args > 2 ? ctx->r13 : 0;
	if (!call_reported(fn, slot->call.args))
		return 0;
	slot->call.stack_id =
		take_stack_memo(ctx, &slot->stack, PT_REGS_IP(ctx),
				PT_REGS_SP(ctx), PT_REGS_FP(ctx));
	slot->call.caller = ctx->cx;
	send_call(slot, PT_REGS_RC(ctx), PT_CALL_SEEN_AFTER,
		  site_time(ctx, cookie & PT_COOKIE_SITE_CLOCK), id);
	return 0;
}

SEC("uprobe")
int free_entry(struct pt_regs *ctx)
{
	struct call_slot *slot;
	struct pt_rec_free *rec;
	__u64 addr = PT_REGS_PARM1(ctx), id, ts;

	if (!addr)
		return 0;
	id = current_id();
	if (!is_target_id(id))
		return 0;
	slot = call_slot_of(id, false);
	if (slot && slot->call.depth > 0)
		return 0; /* freed by realloc: its record tells */
	if (targ_min_size && bpf_map_delete_elem(&tracked, &addr) != 0)
		return 0;
	ts = site_time(ctx, free_site_clock);
	rec = reserve_as(sizeof(*rec), PT_REC_FREE, ts, id);
	if (!rec)
		return 0;
	rec->addr = addr;
	rec->flags = ts ? PT_CALL_SITE_TIMED : 0;
	rec->pad = 0;
	/* reading user memory is dear (a VM may make it a few us): only
	 * what is used. The block's header was read when it was allocated */
	rec->caller = targ_event_details ?
			      call_site(ctx, bpf_get_attach_cookie(ctx)) :
			      0;
	if (hold_enabled &&
	    should_hold(chunk_header(addr, &rec->flags), rec->flags)) {
		rec->flags |= PT_CALL_HELD;
		submit_now(rec);
		bpf_send_signal_thread(targ_hold_signal);
		return 0;
	}
	submit(rec);
	return 0;
}
