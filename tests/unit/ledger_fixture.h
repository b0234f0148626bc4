/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A ledger and the records the kernel side would send it, for the unit
 * tests of the ledger: each test program includes it once.
 */
#ifndef PAGETRACE_LEDGER_FIXTURE_H
#define PAGETRACE_LEDGER_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "kernel.h"
#include "ledger.h"
#include "mappings.h"

#define TID 100
#define HEAP 0x1000000ULL
#define ANON 0x7f0000000000ULL
#define P 4096ULL

static struct alloc_view views[16];
static int view_count;

static inline void keep_view(void *ctx, const struct alloc_view *v)
{
	(void)ctx;
	if (view_count < 16)
		views[view_count++] = *v;
}

static struct touch touches[16];
static int touch_count;

static inline void keep_touch(void *ctx, const struct touch *t)
{
	(void)ctx;
	if (touch_count < 16)
		touches[touch_count++] = *t;
}

static inline const struct alloc_view *view_of_id(uint64_t id)
{
	int i;

	for (i = 0; i < view_count; i++)
		if (views[i].id == id)
			return &views[i];
	return NULL;
}

struct fixture {
	struct kernel_facts kernel;
	struct mappings *maps;
	struct ledger *ledger;
	uint64_t now;
	uint64_t t_enter; /* set by enter(): the next call began then */
	uint64_t site; /* the code of the next call, fault or syscall */
	uint64_t realloc_block; /* the next syscall's, if in a realloc */
	/* the next faults and syscalls are the allocator's code */
	bool allocator_code;
	uint32_t tid; /* the next records' thread; 0: TID */
};

/* An allocator call begins: what happens until call() is inside it. */
static inline void enter(struct fixture *f)
{
	f->t_enter = f->now;
}

static inline void setup(struct fixture *f, bool zero_page)
{
	struct ledger_config cfg = { 0 };
	struct mapping heap = { .start = HEAP,
				.end = HEAP + 0x1000000,
				.prot = PROT_READ | PROT_WRITE,
				.kind = MAPPING_HEAP };
	struct mapping lib = { .start = 0x500000,
			       .end = 0x600000,
			       .prot = PROT_READ,
			       .kind = MAPPING_FILE };

	view_count = 0;
	touch_count = 0;
	memset(f, 0, sizeof(*f));
	f->kernel.zero_page_known = true;
	f->kernel.zero_page_on_read = zero_page;
	f->kernel.thp_use_zero_page = true;
	strcpy(f->kernel.thp_enabled, "madvise");
	f->maps = mappings__new(0);
	heap.name = mappings__intern(f->maps, "[heap]");
	lib.name = mappings__intern(f->maps, "/lib/libx.so");
	mappings__map(f->maps, &heap);
	mappings__map(f->maps, &lib);
	cfg.maps = f->maps;
	cfg.kernel = &f->kernel;
	cfg.on_alloc_end = keep_view;
	cfg.on_touch = keep_touch;
	f->ledger = ledger__new(&cfg);
	f->now = 1000;
}

static inline void teardown(struct fixture *f)
{
	ledger__free(f->ledger);
	mappings__free(f->maps);
}

static inline void hdr(struct fixture *f, struct pt_rec_header *h, __u32 type)
{
	h->type = type;
	h->tid = f->tid ? f->tid : TID;
	h->tgid = TID;
	h->ts = f->now += 1000;
}

static inline void call(struct fixture *f, __u32 fn, __u64 a0, __u64 a1,
			__u64 addr, __u32 flags)
{
	struct pt_rec_call r = {
		.fn = fn, .args = { a0, a1 }, .addr = addr, .flags = flags
	};
	struct code_origin from = { .site = f->site, .stack = PT_NO_STACK };

	hdr(f, &r.hdr, PT_REC_CALL);
	r.t_enter = f->t_enter ? f->t_enter : r.hdr.ts - 500;
	f->t_enter = 0;
	ledger__on_call(f->ledger, &r, &from);
}

static inline void free_call(struct fixture *f, __u64 addr, __u32 flags)
{
	struct pt_rec_free r = { .addr = addr, .flags = flags };

	hdr(f, &r.hdr, PT_REC_FREE);
	ledger__on_free(f->ledger, &r);
}

static inline struct ledger_charge fault(struct fixture *f, __u64 addr,
					 __u32 err, __u32 outcome, __u32 pages,
					 __u32 flags)
{
	struct pt_rec_fault r = { .addr = addr,
				  .error_code = err | PT_PF_USER,
				  .outcome = outcome,
				  .pages = pages,
				  .flags = flags };
	struct code_origin from = { .site = f->site,
				    .stack = PT_NO_STACK,
				    .allocator_code = f->allocator_code };
	struct ledger_charge charge;

	hdr(f, &r.hdr, PT_REC_FAULT);
	r.t_start = r.hdr.ts - 100;
	ledger__on_fault(f->ledger, &r, &from, &charge);
	return charge;
}

static inline void sys(struct fixture *f, __u32 nr, __u64 a0, __u64 a1,
		       __u64 a2, __u64 a3, __s64 ret, __u32 flags)
{
	struct pt_rec_syscall r = { .nr = nr,
				    .args = { a0, a1, a2, a3, -1ULL },
				    .ret = ret,
				    .flags = flags,
				    .realloc_block = f->realloc_block };
	struct code_origin from = { .site = f->site,
				    .stack = PT_NO_STACK,
				    .allocator_code = f->allocator_code };
	struct ledger_charge charge;

	hdr(f, &r.hdr, PT_REC_SYSCALL);
	f->realloc_block = 0;
	ledger__on_syscall(f->ledger, &r, &from, &charge);
}

/* a block glibc gave a mapping of its own */
#define MMAPPED (PT_CALL_CHUNK_KNOWN | PT_CALL_CHUNK_MMAPPED)

#endif
