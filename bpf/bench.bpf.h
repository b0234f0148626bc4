/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A synthetic producer for bench/drain_speed: records shaped as the
 * allocator probes and the fault path make them, reserved, filled and
 * submitted through the same reserve()/submit() into the same ring
 * buffer, so that the loader's drain can be driven at a chosen rate
 * without a traced program in the way. Loaded only when trace_config
 * asks for it (trace.c loads no "bench_" program otherwise); run from
 * user space with BPF_PROG_TEST_RUN.
 * Part of pagetrace.bpf.c, included there: it uses the maps and the
 * record helpers defined before it.
 */

/* ---- the benchmark's producer ---------------------------------------- */

static __always_inline bool bench_call(__u64 addr, __u32 round)
{
	struct pt_rec_call *rec = reserve(sizeof(*rec), PT_REC_CALL);

	if (!rec)
		return false;
	rec->fn = PT_FN_MALLOC;
	rec->flags = PT_CALL_CHUNK_KNOWN;
	rec->t_enter = rec->hdr.ts - 100;
	rec->args[0] = PT_BENCH_BLOCK;
	rec->args[1] = 0;
	rec->args[2] = 0;
	rec->ret = addr;
	rec->addr = addr;
	/* 64 call sites, as a program with a few hot loops has */
	rec->caller = 0x1000 + (round & 63);
	rec->chunk_size = PT_BENCH_BLOCK + 16;
	rec->stack_id = PT_NO_STACK;
	rec->pad = 0;
	submit(rec);
	return true;
}

static __always_inline bool bench_fault(__u64 page, __u32 round)
{
	struct pt_rec_fault *rec = reserve(sizeof(*rec), PT_REC_FAULT);

	if (!rec)
		return false;
	rec->t_start = rec->hdr.ts - 100;
	rec->addr = page;
	rec->ip = 0x2000 + (round & 63);
	rec->error_code = PT_PF_USER | PT_PF_WRITE;
	rec->flags = 0;
	rec->outcome = PT_OUT_ANON;
	rec->pages = 1;
	rec->order = 0;
	rec->alloc_pages = 1;
	__builtin_memset(rec->rss_events, 0, sizeof(rec->rss_events));
	rec->rss_events[PT_RSS_ANON] = 1;
	rec->stack_id = PT_NO_STACK;
	rec->run = 1;
	rec->stack_top = 0;
	submit(rec);
	return true;
}

static __always_inline bool bench_free(__u64 addr)
{
	struct pt_rec_free *rec = reserve(sizeof(*rec), PT_REC_FREE);

	if (!rec)
		return false;
	rec->addr = addr;
	rec->caller = 0;
	rec->flags = PT_CALL_CHUNK_KNOWN;
	rec->pad = 0;
	submit(rec);
	return true;
}

static long bench_round(__u32 i, struct pt_bench_produce *p)
{
	__u32 round = p->first + i;
	__u64 addr = p->base +
		     (__u64)(round % PT_BENCH_SLOTS) * (PT_BENCH_BLOCK + 4096) +
		     16;
	__u64 page;
	__u32 k;

	p->made += bench_call(addr, round);
	/* the block's pages past its header's page, as the touches land */
	for (k = 1; k <= PT_BENCH_BLOCK / 4096; k++) {
		page = (addr & ~4095ULL) + k * 4096ULL;
		p->made += bench_fault(page, round);
	}
	p->made += bench_free(addr);
	return 0;
}

SEC("syscall")
int bench_produce(struct pt_bench_produce *ctx)
{
	struct pt_bench_produce p = {
		.base = ctx->base,
		.first = ctx->first,
		.rounds = ctx->rounds,
	};

	/* too many rounds for bpf_loop: say so, not "all refused" */
	if (bpf_loop(p.rounds, bench_round, &p, 0) < 0)
		return 1;
	ctx->made = p.made;
	ctx->refused = p.rounds * PT_BENCH_RECORDS_PER_ROUND - p.made;
	return 0;
}
